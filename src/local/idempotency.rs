//! Idempotency keys: one mechanism for every create that accepts them (a database, and a
//! database's credentials, indexes and IP restrictions).
//!
//! A key belongs to a scope: the API, the operation and, for a child, its parent (`native POST
//! /v1/databases/db-…/credentials`), so keys of different operations or databases never meet.
//! It is bound to the canonical text of the decoded request, so a replay compares requests, not
//! bytes: key order and whitespace do not matter, but an omitted field differs from one given
//! with its default value. Inside the create's own transaction, before any other check,
//! [`Binding::replayed`] looks the key up:
//!
//! - never seen (or recorded more than [`IDEMPOTENCY_TTL`] ago): the create goes on, and
//!   [`Binding::remember`] records the key with the id of what it made;
//! - seen with the same request: the object that request made, as it is now, for the caller
//!   to reply with as the first time;
//! - seen with another request: 409 (`state`);
//! - seen, but its object has since been deleted: 409 (`state`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::LocalError;
use super::store::{IdempotencyRecord, StoreTx};

/// How long an idempotency key is remembered.
pub(crate) const IDEMPOTENCY_TTL: chrono::Duration = chrono::Duration::hours(24);

/// Longest idempotency key accepted, in characters.
pub(crate) const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// An idempotency key and the operation it is scoped to.
#[derive(Debug, Clone)]
pub(crate) struct Idempotency {
    /// Operation (and parent) the key belongs to, e.g. `native POST /v1/databases`.
    pub(crate) scope: String,
    /// The client's key.
    pub(crate) key: String,
}

impl Idempotency {
    /// Validates the key (1–255 visible ASCII characters, else 400 naming no field) and binds
    /// it to the canonical text of `request`.
    pub(crate) fn bind(
        self,
        request: &impl Serialize,
        now: DateTime<Utc>,
    ) -> Result<Binding, LocalError> {
        let valid = !self.key.is_empty()
            && self.key.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS
            && self.key.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err(LocalError::invalid_body(format!(
                "the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible \
                 ASCII characters"
            )));
        }
        let request = serde_json::to_string(request)
            .map_err(|error| LocalError::Internal(format!("cannot encode request: {error}")))?;
        Ok(Binding {
            idempotency: self,
            request,
            now,
        })
    }
}

/// A key bound to its request, checked and remembered inside the create's transaction.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// The key and its scope.
    idempotency: Idempotency,
    /// Canonical text of the request.
    request: String,
    /// When the create runs: keys older than a TTL before it are forgotten, and a new key is
    /// recorded at it.
    now: DateTime<Utc>,
}

impl Binding {
    /// The object an earlier create with this key and request made, loaded by `find` from the
    /// id it was remembered with; `None` when the key is new. A 409 when the key came with
    /// another request, or when `find` finds nothing (the object was deleted since). `what`
    /// names the kind of object in that message.
    pub(crate) fn replayed<T>(
        &self,
        tx: &StoreTx<'_>,
        what: &str,
        find: impl FnOnce(&StoreTx<'_>, &str) -> Result<Option<T>, LocalError>,
    ) -> Result<Option<T>, LocalError> {
        let Idempotency { scope, key } = &self.idempotency;
        let Some(record) = tx.idempotency_record(scope, key, self.now - IDEMPOTENCY_TTL)? else {
            return Ok(None);
        };
        if record.request != self.request {
            return Err(LocalError::Conflict(format!(
                "Idempotency-Key {key:?} was already used with a different request body"
            )));
        }
        match find(tx, &record.resource_id)? {
            Some(earlier) => Ok(Some(earlier)),
            None => Err(LocalError::Conflict(format!(
                "Idempotency-Key {key:?} created {what} {} which has since been deleted",
                record.resource_id
            ))),
        }
    }

    /// Records the key as having created the object with this id.
    pub(crate) fn remember(&self, tx: &StoreTx<'_>, resource_id: &str) -> Result<(), LocalError> {
        let record = IdempotencyRecord {
            request: self.request.clone(),
            resource_id: resource_id.to_owned(),
        };
        tx.record_idempotency_key(
            &self.idempotency.scope,
            &self.idempotency.key,
            &record,
            self.now,
        )
    }
}

/// What a create did: made a new object, or replayed the one an idempotency key made.
#[derive(Debug)]
pub(crate) enum Created<T> {
    /// A new object, just written.
    New(T),
    /// The object an earlier create with the same key and request made.
    Replayed(T),
}

impl<T> Created<T> {
    /// The object, new or replayed.
    pub(crate) fn into_inner(self) -> T {
        match self {
            Self::New(object) | Self::Replayed(object) => object,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::store::Store;
    use chrono::TimeZone;

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap() + chrono::Duration::hours(hours)
    }

    fn key(key: &str) -> Idempotency {
        Idempotency {
            scope: "test POST /things".into(),
            key: key.into(),
        }
    }

    /// Runs one "create" of `request` under `binding`: replays what the store has, or records
    /// `made` as new.
    async fn create(
        store: &Store,
        binding: Binding,
        made: &'static str,
    ) -> Result<Created<String>, LocalError> {
        store
            .transact(move |tx| {
                let found = |_: &StoreTx<'_>, id: &str| Ok((id != "gone").then(|| id.to_owned()));
                if let Some(earlier) = binding.replayed(tx, "thing", found)? {
                    return Ok(Created::Replayed(earlier));
                }
                binding.remember(tx, made)?;
                Ok(Created::New(made.to_owned()))
            })
            .await
    }

    #[tokio::test]
    async fn binding_replays_the_same_request_and_refuses_another() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        // Requests are compared as decoded: the same values are the same request.
        #[derive(Serialize)]
        struct Thing {
            a: u8,
            b: Option<u8>,
        }
        let request = Thing { a: 1, b: Some(2) };
        let same = Thing { a: 1, b: Some(2) };
        let first = create(&store, key("k1").bind(&request, at(0)).unwrap(), "t-1").await;
        assert!(matches!(first.unwrap(), Created::New(_)));
        let again = create(&store, key("k1").bind(&same, at(1)).unwrap(), "t-2").await;
        assert!(
            matches!(&again, Ok(Created::Replayed(id)) if id == "t-1"),
            "{again:?}"
        );
        let other = Thing { a: 1, b: None };
        let refused = create(&store, key("k1").bind(&other, at(2)).unwrap(), "t-3").await;
        assert!(
            matches!(&refused, Err(LocalError::Conflict(m)) if m.contains("different request")),
            "{refused:?}"
        );
        // Another scope is another key.
        let scoped = Idempotency {
            scope: "test POST /others".into(),
            key: "k1".into(),
        };
        let elsewhere = create(&store, scoped.bind(&other, at(2)).unwrap(), "o-1").await;
        assert!(matches!(elsewhere.unwrap(), Created::New(_)));
        // A day later the key is forgotten: the same request creates again.
        let later = create(&store, key("k1").bind(&other, at(25)).unwrap(), "t-4").await;
        assert!(matches!(later.unwrap(), Created::New(_)));
    }

    #[tokio::test]
    async fn binding_of_a_deleted_object_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let request = serde_json::json!({});
        let first = create(&store, key("k").bind(&request, at(0)).unwrap(), "gone").await;
        assert!(matches!(first.unwrap(), Created::New(_)));
        let replay = create(&store, key("k").bind(&request, at(0)).unwrap(), "x").await;
        assert!(
            matches!(&replay, Err(LocalError::Conflict(m)) if m.contains("thing gone which has since been deleted")),
            "{replay:?}"
        );
    }

    #[test]
    fn bind_refuses_bad_keys() {
        for bad in [
            String::new(),
            "with space".into(),
            "é".into(),
            "k".repeat(256),
        ] {
            assert!(matches!(
                key(&bad).bind(&(), at(0)).unwrap_err(),
                LocalError::Invalid { field: None, .. }
            ));
        }
        assert!(key(&"k".repeat(255)).bind(&(), at(0)).is_ok());
    }
}
