//! Database operations: the rules every API of the service shares.
//!
//! Validation against the catalog, duplicate names, idempotency keys, "busy" checks and the
//! scheduling of lifecycle transitions live here, once. The native HTTP layer (and later the
//! vendor dialects) only translate their wire format to these calls and back. Validation errors
//! name native field names; a dialect with other names maps them.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

use super::catalog::CATALOG;
use super::error::LocalError;
use super::lifecycle::{Clock, Wake};
use super::model::{Database, Status, new_id, whole_seconds};
use super::store::{IdempotencyClaim, InsertOutcome, Modified, Store, StoreTx};

/// How long an idempotency key is remembered.
pub(crate) const IDEMPOTENCY_TTL: chrono::Duration = chrono::Duration::hours(24);

/// Longest description accepted, in characters.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 255;

/// Longest idempotency key accepted, in characters.
pub(crate) const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// A create request after wire decoding; `None` fields take the catalog defaults.
///
/// Serialized (in this field order) as the canonical text an idempotency key is bound to, so a
/// replay must carry the same fields with the same values; key order on the wire does not matter.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct CreateDatabase {
    /// Requested name.
    pub(crate) name: String,
    /// Requested engine, or the default.
    pub(crate) engine: Option<String>,
    /// Requested version, or the engine's default.
    pub(crate) version: Option<String>,
    /// Requested plan, or the default.
    pub(crate) plan: Option<String>,
    /// Requested region, or the default.
    pub(crate) region: Option<String>,
    /// Free text.
    pub(crate) description: Option<String>,
}

/// A change request after wire decoding; `None` fields are left alone.
#[derive(Debug, Clone, Default)]
pub(crate) struct UpdateDatabase {
    /// New plan.
    pub(crate) plan: Option<String>,
    /// New version (of the same engine).
    pub(crate) version: Option<String>,
    /// New description: `Some(None)` clears it.
    pub(crate) description: Option<Option<String>>,
}

/// An idempotency key and the operation it is scoped to.
#[derive(Debug, Clone)]
pub(crate) struct Idempotency {
    /// Operation the key belongs to, e.g. `native POST /v1/databases`.
    pub(crate) scope: &'static str,
    /// The client's key.
    pub(crate) key: String,
}

/// Result of an update: the database and whether anything changed.
#[derive(Debug)]
pub(crate) struct Updated {
    /// The database after the request.
    pub(crate) database: Database,
    /// False when the request asked for the values the database already had.
    pub(crate) changed: bool,
}

/// The database operations, over the shared store.
#[derive(Debug, Clone)]
pub(crate) struct Databases {
    store: Store,
    clock: Clock,
    wake: Wake,
    provision_delay: Duration,
}

impl Databases {
    /// Operations on `store`; scheduled transitions are announced through `wake`.
    pub(crate) fn new(store: Store, clock: Clock, wake: Wake, provision_delay: Duration) -> Self {
        Self {
            store,
            clock,
            wake,
            provision_delay,
        }
    }

    /// The clock the operations use (the request log shares it).
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The shared store (the child rule modules run their transactions on it).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Tells the lifecycle worker that a transition was scheduled.
    pub(crate) fn wake(&self) {
        self.wake.poke();
    }

    /// When a transition started `now` settles, in whole milliseconds (the stored precision).
    pub(crate) fn settles_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        chrono::Duration::from_std(self.provision_delay)
            .ok()
            .and_then(|delay| now.checked_add_signed(delay))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .trunc_subsecs(3)
    }

    /// Validates and creates a database (status `CREATING`), or replays an earlier create with
    /// the same idempotency key.
    pub(crate) async fn create(
        &self,
        request: CreateDatabase,
        idempotency: Option<Idempotency>,
    ) -> Result<Database, LocalError> {
        validate_name(&request.name)?;
        let engine_name = request.engine.as_deref().unwrap_or(CATALOG.defaults.engine);
        let engine = CATALOG.engine(engine_name).ok_or_else(|| {
            LocalError::invalid(
                "engine",
                format!(
                    "engine {engine_name:?} is not offered; allowed: {}",
                    CATALOG.engine_names()
                ),
            )
        })?;
        let version = request.version.as_deref().unwrap_or(engine.default_version);
        if !engine.offers_version(version) {
            return Err(LocalError::invalid(
                "version",
                format!(
                    "version {version:?} is not offered for {}; allowed: {}",
                    engine.name,
                    engine.version_names()
                ),
            ));
        }
        let plan = request.plan.as_deref().unwrap_or(CATALOG.defaults.plan);
        validate_plan(plan)?;
        let region = request.region.as_deref().unwrap_or(CATALOG.defaults.region);
        if CATALOG.region(region).is_none() {
            return Err(LocalError::invalid(
                "region",
                format!(
                    "region {region:?} is not offered; allowed: {}",
                    CATALOG.region_names()
                ),
            ));
        }
        if let Some(description) = &request.description {
            validate_description(description)?;
        }
        let now = self.clock.now();
        let claim = match &idempotency {
            Some(idempotency) => {
                validate_idempotency_key(&idempotency.key)?;
                Some(IdempotencyClaim {
                    scope: idempotency.scope.to_owned(),
                    key: idempotency.key.clone(),
                    request: serde_json::to_string(&request).map_err(|error| {
                        LocalError::Internal(format!("cannot encode request: {error}"))
                    })?,
                    expired_before: now - IDEMPOTENCY_TTL,
                })
            }
            None => None,
        };
        let stamp = whole_seconds(now);
        // A 48-bit random id practically never collides; retry a few times just in case.
        for _ in 0..4 {
            let database = Database {
                id: new_id("db"),
                name: request.name.clone(),
                engine: engine.name.to_owned(),
                version: version.to_owned(),
                plan: plan.to_owned(),
                region: region.to_owned(),
                description: request.description.clone(),
                status: Status::Creating,
                status_message: Some("provisioning".to_owned()),
                created_at: stamp,
                updated_at: stamp,
                transition_at: Some(self.settles_at(now)),
                gone_at: None,
            };
            match self
                .store
                .insert_database(database, claim.clone(), now)
                .await?
            {
                InsertOutcome::Inserted(database) => {
                    self.wake.poke();
                    tracing::info!(id = %database.id, name = %database.name, "database created");
                    return Ok(database);
                }
                InsertOutcome::Replayed(database) if database.is_gone() => {
                    return Err(LocalError::Conflict(format!(
                        "Idempotency-Key {:?} created database {} which has since been deleted",
                        idempotency.map(|i| i.key).unwrap_or_default(),
                        database.id
                    )));
                }
                InsertOutcome::Replayed(database) => return Ok(database),
                InsertOutcome::KeyReused => {
                    return Err(LocalError::Conflict(format!(
                        "Idempotency-Key {:?} was already used with a different request body",
                        idempotency.map(|i| i.key).unwrap_or_default()
                    )));
                }
                InsertOutcome::NameTaken { existing_id } => {
                    return Err(LocalError::Duplicate(format!(
                        "a database named {:?} already exists ({existing_id})",
                        request.name
                    )));
                }
                InsertOutcome::IdTaken => continue,
            }
        }
        Err(LocalError::Internal(
            "could not allocate a database id".to_owned(),
        ))
    }

    /// The database, or 404.
    pub(crate) async fn get(&self, id: &str) -> Result<Database, LocalError> {
        self.store.database(id).await?.ok_or_else(|| not_found(id))
    }

    /// Databases that are not gone, sorted by name.
    pub(crate) async fn list(
        &self,
        name_prefix: Option<String>,
    ) -> Result<Vec<Database>, LocalError> {
        self.store.databases(name_prefix).await
    }

    /// Applies a change to a `READY` database (status `UPDATING`); a change to nothing leaves it
    /// alone.
    pub(crate) async fn update(
        &self,
        id: &str,
        request: UpdateDatabase,
    ) -> Result<Updated, LocalError> {
        if let Some(plan) = &request.plan {
            validate_plan(plan)?;
        }
        if let Some(Some(description)) = &request.description {
            validate_description(description)?;
        }
        let now = self.clock.now();
        let settles_at = self.settles_at(now);
        let outcome = self
            .store
            .modify_database(id, move |current| {
                if let Some(version) = &request.version {
                    let engine = CATALOG.engine(&current.engine).ok_or_else(|| {
                        LocalError::Corrupt(format!("unknown engine {:?}", current.engine))
                    })?;
                    if !engine.offers_version(version) {
                        return Err(LocalError::invalid(
                            "version",
                            format!(
                                "version {version:?} is not offered for {}; allowed: {}",
                                engine.name,
                                engine.version_names()
                            ),
                        ));
                    }
                }
                if current.status == Status::Deleting {
                    // Waiting never helps: a state conflict, not a busy one.
                    return Err(LocalError::Conflict(format!(
                        "database {} is being deleted; it cannot be changed",
                        current.id
                    )));
                }
                if current.status != Status::Ready {
                    return Err(busy(current));
                }
                let mut next = current.clone();
                if let Some(plan) = request.plan {
                    next.plan = plan;
                }
                if let Some(version) = request.version {
                    next.version = version;
                }
                if let Some(description) = request.description {
                    next.description = description;
                }
                if next == *current {
                    return Ok(None);
                }
                next.status = Status::Updating;
                next.status_message = Some("applying changes".to_owned());
                next.transition_at = Some(settles_at);
                next.updated_at = whole_seconds(now);
                Ok(Some(next))
            })
            .await?;
        match outcome {
            Modified::Missing => Err(not_found(id)),
            Modified::Unchanged(database) => Ok(Updated {
                database,
                changed: false,
            }),
            Modified::Written(database) => {
                self.wake.poke();
                tracing::info!(id = %database.id, name = %database.name, "database updating");
                Ok(Updated {
                    database,
                    changed: true,
                })
            }
        }
    }

    /// Starts deleting the database (status `DELETING`), whatever it is doing; deleting a
    /// database that is already `DELETING` changes nothing.
    ///
    /// Its credentials, indexes and IP restrictions go `DELETING` with it, in the same
    /// transaction, and disappear when it is gone.
    pub(crate) async fn delete(&self, id: &str) -> Result<Database, LocalError> {
        let now = self.clock.now();
        let settles_at = self.settles_at(now);
        let owned_id = id.to_owned();
        let outcome = self
            .store
            .transact(move |tx| {
                let Some(current) = tx.database(&owned_id)? else {
                    return Ok(Modified::Missing);
                };
                if current.status == Status::Deleting {
                    return Ok(Modified::Unchanged(current));
                }
                let mut next = current;
                next.status = Status::Deleting;
                next.status_message = Some("deleting".to_owned());
                next.transition_at = Some(settles_at);
                next.updated_at = whole_seconds(now);
                tx.update_database(&next)?;
                tx.mark_children_deleting(&next.id, whole_seconds(now), settles_at)?;
                Ok(Modified::Written(next))
            })
            .await?;
        match outcome {
            Modified::Missing => Err(not_found(id)),
            Modified::Unchanged(database) => Ok(database),
            Modified::Written(database) => {
                self.wake.poke();
                tracing::info!(id = %database.id, name = %database.name, "database deleting");
                Ok(database)
            }
        }
    }
}

/// The database a child *change* (create, update, delete) applies to: 404 when it is unknown,
/// gone or `DELETING`, 409 busy unless it is `READY`.
pub(crate) fn parent_for_change(tx: &StoreTx<'_>, id: &str) -> Result<Database, LocalError> {
    let database = parent_for_read(tx, id)?;
    match database.status {
        Status::Ready => Ok(database),
        Status::Deleting => Err(LocalError::NotFound(format!(
            "database {id} is being deleted"
        ))),
        _ => Err(busy(&database)),
    }
}

/// The database a child *read* applies to, whatever its status: 404 when unknown or gone.
pub(crate) fn parent_for_read(tx: &StoreTx<'_>, id: &str) -> Result<Database, LocalError> {
    tx.database(id)?.ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> LocalError {
    LocalError::NotFound(format!("database {id} not found"))
}

/// The 409 busy answer for a database in a transitional status.
pub(crate) fn busy(database: &Database) -> LocalError {
    LocalError::Busy(format!(
        "database {} is busy ({}); retry when it is READY",
        database.id,
        database.status.as_str()
    ))
}

/// 3–63 characters of `[a-z0-9-]`, starting with a letter, not ending with `-`.
pub(crate) fn validate_name(name: &str) -> Result<(), LocalError> {
    let valid = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(LocalError::invalid(
            "name",
            format!(
                "name {name:?} is invalid: use 3 to 63 characters among a-z, 0-9 and '-', \
                 starting with a letter and not ending with '-'"
            ),
        ))
    }
}

fn validate_plan(plan: &str) -> Result<(), LocalError> {
    if CATALOG.plan(plan).is_some() {
        Ok(())
    } else {
        Err(LocalError::invalid(
            "plan",
            format!(
                "plan {plan:?} is not offered; allowed: {}",
                CATALOG.plan_names()
            ),
        ))
    }
}

/// At most [`MAX_DESCRIPTION_CHARS`] characters (databases and IP restrictions alike).
pub(crate) fn validate_description(description: &str) -> Result<(), LocalError> {
    let chars = description.chars().count();
    if chars <= MAX_DESCRIPTION_CHARS {
        Ok(())
    } else {
        Err(LocalError::invalid(
            "description",
            format!(
                "description is {chars} characters long; at most {MAX_DESCRIPTION_CHARS} are allowed"
            ),
        ))
    }
}

fn validate_idempotency_key(key: &str) -> Result<(), LocalError> {
    let valid = !key.is_empty()
        && key.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(LocalError::invalid_body(format!(
            "the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn databases(delay: Duration) -> (tempfile::TempDir, Databases) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let ops = Databases::new(store, Clock::tokio(), Wake::default(), delay);
        (dir, ops)
    }

    fn create(name: &str) -> CreateDatabase {
        CreateDatabase {
            name: name.into(),
            ..CreateDatabase::default()
        }
    }

    fn field_of(error: LocalError) -> Option<String> {
        match error {
            LocalError::Invalid { field, .. } => field,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn validate_name_follows_contract() {
        for good in ["abc", "a-1", "db-prod-01", &"a".repeat(63)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "1abc",
            "-abc",
            "abc-",
            "Abc",
            "a_bc",
            "ab c",
            "é-ab",
            &"a".repeat(64),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn create_applies_defaults() {
        let (_dir, ops) = databases(Duration::from_secs(5)).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        assert_eq!(
            (
                db.engine.as_str(),
                db.version.as_str(),
                db.plan.as_str(),
                db.region.as_str()
            ),
            ("mongodb", "8.0", "essential", "eu-west-1")
        );
        assert_eq!(db.status, Status::Creating);
        assert!(db.transition_at.is_some());
        let pg = ops
            .create(
                CreateDatabase {
                    engine: Some("postgresql".into()),
                    ..create("beta")
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(pg.version, "17");
    }

    #[tokio::test]
    async fn create_rejects_each_bad_field() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let cases = [
            (create("x"), "name"),
            (
                CreateDatabase {
                    engine: Some("oracle".into()),
                    ..create("alpha")
                },
                "engine",
            ),
            (
                CreateDatabase {
                    engine: Some("mysql".into()),
                    version: Some("8.0.1".into()),
                    ..create("alpha")
                },
                "version",
            ),
            (
                CreateDatabase {
                    version: Some("17".into()),
                    ..create("alpha")
                },
                "version",
            ),
            (
                CreateDatabase {
                    plan: Some("free".into()),
                    ..create("alpha")
                },
                "plan",
            ),
            (
                CreateDatabase {
                    region: Some("mars-1".into()),
                    ..create("alpha")
                },
                "region",
            ),
            (
                CreateDatabase {
                    description: Some("d".repeat(256)),
                    ..create("alpha")
                },
                "description",
            ),
        ];
        for (request, field) in cases {
            let error = ops.create(request, None).await.unwrap_err();
            assert_eq!(field_of(error).as_deref(), Some(field));
        }
        assert!(ops.list(None).await.unwrap().is_empty());
        let ok = CreateDatabase {
            description: Some("é".repeat(255)),
            ..create("alpha")
        };
        assert!(ops.create(ok, None).await.is_ok());
    }

    #[tokio::test]
    async fn create_idempotency_key_replays_same_request() {
        let (_dir, ops) = databases(Duration::from_secs(5)).await;
        let key = || {
            Some(Idempotency {
                scope: "test",
                key: "key-1".into(),
            })
        };
        let first = ops.create(create("alpha"), key()).await.unwrap();
        let again = ops.create(create("alpha"), key()).await.unwrap();
        assert_eq!(first.id, again.id);
        let different = CreateDatabase {
            plan: Some("business".into()),
            ..create("alpha")
        };
        assert!(matches!(
            ops.create(different, key()).await.unwrap_err(),
            LocalError::Conflict(_)
        ));
        // Without a key the duplicate name is a conflict.
        let error = ops.create(create("alpha"), None).await.unwrap_err();
        assert!(
            matches!(&error, LocalError::Duplicate(m) if m.contains(&first.id)),
            "{error:?}"
        );
        let bad_key = Idempotency {
            scope: "test",
            key: "with space".into(),
        };
        assert!(matches!(
            ops.create(create("beta"), Some(bad_key)).await.unwrap_err(),
            LocalError::Invalid { field: None, .. }
        ));
    }

    #[tokio::test]
    async fn update_requires_ready_and_detects_no_change() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        let change = UpdateDatabase {
            plan: Some("business".into()),
            ..UpdateDatabase::default()
        };
        let error = ops.update(&db.id, change.clone()).await.unwrap_err();
        assert!(
            matches!(&error, LocalError::Busy(m) if m.contains("busy (CREATING)")),
            "{error:?}"
        );

        crate::local::lifecycle::settle_due(&ops.store, ops.clock.now())
            .await
            .unwrap();
        let updated = ops.update(&db.id, change.clone()).await.unwrap();
        assert!(updated.changed);
        assert_eq!(updated.database.status, Status::Updating);
        assert_eq!(updated.database.plan, "business");

        crate::local::lifecycle::settle_due(&ops.store, ops.clock.now())
            .await
            .unwrap();
        let same = ops.update(&db.id, change).await.unwrap();
        assert!(!same.changed);
        assert_eq!(same.database.status, Status::Ready);

        let bad_version = UpdateDatabase {
            version: Some("17".into()),
            ..UpdateDatabase::default()
        };
        assert_eq!(
            field_of(ops.update(&db.id, bad_version).await.unwrap_err()).as_deref(),
            Some("version")
        );
        let cleared = ops
            .update(
                &db.id,
                UpdateDatabase {
                    description: Some(None),
                    ..UpdateDatabase::default()
                },
            )
            .await
            .unwrap();
        assert!(!cleared.changed, "description was already empty");
        assert!(matches!(
            ops.update("db-000000000000", UpdateDatabase::default())
                .await
                .unwrap_err(),
            LocalError::NotFound(_)
        ));
    }

    #[tokio::test]
    async fn delete_is_idempotent_and_allowed_while_busy() {
        let (_dir, ops) = databases(Duration::from_secs(60)).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        let deleting = ops.delete(&db.id).await.unwrap();
        assert_eq!(deleting.status, Status::Deleting);
        let again = ops.delete(&db.id).await.unwrap();
        assert_eq!(
            again.transition_at, deleting.transition_at,
            "timer not reset"
        );
        let due = deleting.transition_at.unwrap();
        crate::local::lifecycle::settle_due(&ops.store, due)
            .await
            .unwrap();
        assert!(matches!(
            ops.delete(&db.id).await.unwrap_err(),
            LocalError::NotFound(_)
        ));
        assert!(matches!(
            ops.get(&db.id).await.unwrap_err(),
            LocalError::NotFound(_)
        ));
        // The name is free again.
        assert!(ops.create(create("alpha"), None).await.is_ok());
    }

    #[tokio::test]
    async fn create_replay_of_deleted_database_conflicts() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let key = || {
            Some(Idempotency {
                scope: "test",
                key: "k".into(),
            })
        };
        let db = ops.create(create("alpha"), key()).await.unwrap();
        ops.delete(&db.id).await.unwrap();
        crate::local::lifecycle::settle_due(&ops.store, ops.clock.now())
            .await
            .unwrap();
        let error = ops.create(create("alpha"), key()).await.unwrap_err();
        assert!(
            matches!(&error, LocalError::Conflict(m) if m.contains("deleted")),
            "{error:?}"
        );
    }
}
