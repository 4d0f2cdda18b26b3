//! The refresh every resource shares: a read of the object becomes its new state, or no state
//! when the API no longer has it (or is deleting it), so Terraform plans it again. Reads are
//! batched ([`Batch`]) where the API can list whole objects.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use super::Client;
use super::creation::refresh_awaiting;
use super::errors::api_error;
use crate::api;
use crate::cidr::Cidr;
use crate::tfplugin::resource::{Context, ReadResult};
use crate::tfplugin::value::Value;

/// The refresh result for `read`: `state_of` the object, `None` when it is gone or being
/// deleted, else the API's error naming `object` under `summary` ("Error Reading Index").
pub(super) fn refreshed<T>(
    ctx: &Context<'_, Client>,
    read: Result<T, api::Error>,
    status_of: fn(&T) -> &api::Status,
    summary: &str,
    object: &str,
    attributes: &[&str],
    state_of: impl FnOnce(&T) -> Value,
) -> ReadResult {
    let client = ctx.client;
    if let Ok(found) = &read {
        refresh_awaiting(ctx, status_of(found).phase);
    }
    match read {
        Ok(found) if status_of(&found).phase == api::Phase::Deleting => {
            tracing::info!(object, "being deleted outside Terraform");
            Ok(None)
        }
        Ok(found) => Ok(Some(state_of(&found))),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(api_error(
            summary,
            object,
            client.api.api_name(),
            &err,
            attributes,
        )),
    }
}

/// How long one listing serves reads: a plan's refresh of thousands of objects takes seconds;
/// anything older is listed again.
const LISTING_LIFETIME: Duration = Duration::from_secs(30);

/// A batched refresh: the reads Terraform sends during one plan are served from one listing of
/// the API ([`api::DbaasApi::inventory`]) instead of one request each.
///
/// Nothing is lost to a stale or partial listing: an object missing from it is read on its own
/// (a single GET) before it is declared gone. A listing serves each object once: a second read
/// of the same object (a later command of a long-lived provider, a read after a change) makes
/// a new listing, so no read ever returns what an earlier read already saw.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The latest listing; its lock makes concurrent reads wait for the one list call.
    current: tokio::sync::Mutex<Option<Listing>>,
}

/// One listing, and what it already served.
#[derive(Debug)]
struct Listing {
    taken: Instant,
    /// Whole objects not yet served; `None` when the listing failed or the API cannot list
    /// (every read then asks for its object until the listing is due again).
    objects: Option<HashMap<Key, Listed>>,
    served: HashSet<Key>,
}

/// Which object a read is for.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) enum Key {
    /// A database, by id.
    Database(String),
    /// A credential: database id, username.
    Credential(String, String),
    /// An index: database id, collection, name.
    Index(String, String, String),
    /// An IP restriction: database id, network (canonical).
    IpRestriction(String, String),
}

impl Key {
    /// The key of an IP restriction, whichever spelling of its network is given.
    pub(crate) fn ip_restriction(database_id: &str, cidr: &str) -> Self {
        let network =
            Cidr::parse(cidr).map_or_else(|_| cidr.to_owned(), |c| c.network().to_string());
        Self::IpRestriction(database_id.to_owned(), network)
    }
}

/// An object as a listing showed it.
#[derive(Debug)]
pub(crate) enum Listed {
    Database(api::Database),
    Credential(api::Credential),
    Index(api::Index),
    IpRestriction(api::IpRestriction),
}

impl Listing {
    fn of(inventory: Option<api::Inventory>) -> Self {
        let objects = inventory.map(|inventory| {
            let mut objects = HashMap::new();
            for database in inventory.databases {
                objects.insert(
                    Key::Database(database.id.clone()),
                    Listed::Database(database),
                );
            }
            for (id, children) in inventory.children.into_iter().flatten() {
                for credential in children.credentials {
                    let key = Key::Credential(id.clone(), credential.username.clone());
                    objects.insert(key, Listed::Credential(credential));
                }
                for index in children.indexes {
                    let key = Key::Index(id.clone(), index.collection.clone(), index.name.clone());
                    objects.insert(key, Listed::Index(index));
                }
                for restriction in children.ip_restrictions {
                    let key = Key::ip_restriction(&id, &restriction.cidr);
                    objects.insert(key, Listed::IpRestriction(restriction));
                }
            }
            objects
        });
        Self {
            taken: Instant::now(),
            objects,
            served: HashSet::new(),
        }
    }

    /// Whether this listing may serve the read of `key`.
    fn serves(&self, key: &Key) -> bool {
        self.taken.elapsed() < LISTING_LIFETIME && !self.served.contains(key)
    }
}

impl Batch {
    /// The object `key` names as a listing shows it, or `None` when the read must ask the API
    /// for it alone (not listed, listing failed, or the API cannot list whole objects).
    pub(crate) async fn take(&self, api: &dyn api::DbaasApi, key: Key) -> Option<Listed> {
        // An API that cannot list whole objects reads one by one, without taking turns here.
        if !api.supports(api::Feature::BatchedRefresh) {
            return None;
        }
        let mut current = self.current.lock().await;
        if !current.as_ref().is_some_and(|listing| listing.serves(&key)) {
            let inventory = match api.inventory().await {
                Ok(inventory) => inventory,
                Err(error) => {
                    tracing::warn!(%error, "cannot list for a batched refresh; reading one by one");
                    None
                }
            };
            *current = Some(Listing::of(inventory));
        }
        let listing = current.as_mut()?;
        listing.served.insert(key.clone());
        listing.objects.as_mut()?.remove(&key)
    }

    /// The database `id`: from the listing, else read alone.
    pub(crate) async fn database(
        &self,
        api: &dyn api::DbaasApi,
        id: &str,
    ) -> Result<api::Database, api::Error> {
        match self.take(api, Key::Database(id.to_owned())).await {
            Some(Listed::Database(database)) => Ok(database),
            _ => api.get_database(id).await,
        }
    }

    /// The credential `username` of database `database_id`: from the listing, else read alone.
    pub(crate) async fn credential(
        &self,
        api: &dyn api::DbaasApi,
        database_id: &str,
        username: &str,
    ) -> Result<api::Credential, api::Error> {
        let key = Key::Credential(database_id.to_owned(), username.to_owned());
        match self.take(api, key).await {
            Some(Listed::Credential(credential)) => Ok(credential),
            _ => api.get_credential(database_id, username).await,
        }
    }

    /// The index `name` on `collection` of database `database_id`: from the listing, else read
    /// alone.
    pub(crate) async fn index(
        &self,
        api: &dyn api::DbaasApi,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<api::Index, api::Error> {
        let key = Key::Index(
            database_id.to_owned(),
            collection.to_owned(),
            name.to_owned(),
        );
        match self.take(api, key).await {
            Some(Listed::Index(index)) => Ok(index),
            _ => api.get_index(database_id, collection, name).await,
        }
    }

    /// The IP restriction `cidr` of database `database_id`: from the listing, else read alone.
    pub(crate) async fn ip_restriction(
        &self,
        api: &dyn api::DbaasApi,
        database_id: &str,
        cidr: &str,
    ) -> Result<api::IpRestriction, api::Error> {
        match self.take(api, Key::ip_restriction(database_id, cidr)).await {
            Some(Listed::IpRestriction(restriction)) => Ok(restriction),
            _ => api.get_ip_restriction(database_id, cidr).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::api::{Capabilities, Database, DatabaseChanges, DatabaseSpec, Error, Feature};

    fn database(id: &str, description: &str) -> Database {
        Database {
            id: id.to_owned(),
            name: id.to_owned(),
            engine: "mongodb".to_owned(),
            version: "8.0".to_owned(),
            plan: "essential".to_owned(),
            region: "eu-west-1".to_owned(),
            flavor: None,
            node_count: None,
            description: Some(description.to_owned()),
            status: api::Status {
                phase: api::Phase::Ready,
                raw: "READY".to_owned(),
                message: None,
            },
            endpoint: None,
            created_at: String::new(),
        }
    }

    /// An API whose list is stale: it misses `db-new`, which a read of one finds.
    #[derive(Debug, Default)]
    struct StaleList {
        calls: Mutex<Vec<String>>,
    }

    impl StaleList {
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl api::DbaasApi for StaleList {
        fn api_name(&self) -> &'static str {
            "local"
        }

        fn features(&self) -> &'static [Feature] {
            &[Feature::Database, Feature::BatchedRefresh]
        }

        async fn capabilities(&self) -> Result<Capabilities, Error> {
            Ok(Capabilities::default())
        }

        async fn create_database(&self, _spec: &DatabaseSpec) -> Result<Database, Error> {
            Err(self.unsupported("creating databases"))
        }

        async fn get_database(&self, id: &str) -> Result<Database, Error> {
            self.calls.lock().unwrap().push(format!("get {id}"));
            match id {
                "db-new" => Ok(database(id, "read alone")),
                _ => Err(Error::NotFound {
                    message: format!("no database {id}"),
                }),
            }
        }

        async fn list_databases(&self, _prefix: Option<&str>) -> Result<Vec<Database>, Error> {
            self.calls.lock().unwrap().push("list".to_owned());
            Ok(vec![database("db-a", "listed"), database("db-b", "listed")])
        }

        async fn update_database(
            &self,
            _id: &str,
            _changes: &DatabaseChanges,
        ) -> Result<Database, Error> {
            Err(self.unsupported("updating databases"))
        }

        async fn delete_database(&self, _id: &str) -> Result<(), Error> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_listing_serves_each_read_once_and_never_drops_what_it_misses() {
        let api = StaleList::default();
        let batch = Batch::default();
        let a = batch.database(&api, "db-a").await.unwrap();
        let b = batch.database(&api, "db-b").await.unwrap();
        assert_eq!(
            (a.description, b.description),
            (Some("listed".into()), Some("listed".into()))
        );
        // Missing from the listing: read alone, found, so its state stays.
        let new = batch.database(&api, "db-new").await.unwrap();
        assert_eq!(new.description.as_deref(), Some("read alone"));
        // Missing and not found alone either: gone.
        assert!(
            batch
                .database(&api, "db-old")
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert_eq!(api.calls(), ["list", "get db-new", "get db-old"]);
        // A second read of db-a is a new listing, never the answer the first one got.
        batch.database(&api, "db-a").await.unwrap();
        assert_eq!(api.calls().last().map(String::as_str), Some("list"));
    }

    #[tokio::test]
    async fn concurrent_reads_share_one_list_call() {
        let api = StaleList::default();
        let batch = Batch::default();
        let (a, b) = tokio::join!(batch.database(&api, "db-a"), batch.database(&api, "db-b"));
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(api.calls(), ["list"]);
    }

    #[test]
    fn an_ip_restriction_key_ignores_the_spelling_of_its_network() {
        assert_eq!(
            Key::ip_restriction("db-a", "10.0.0.7/24"),
            Key::ip_restriction("db-a", "10.0.0.0/24")
        );
        assert_eq!(
            Key::ip_restriction("db-a", "10.0.0.1"),
            Key::IpRestriction("db-a".into(), "10.0.0.1/32".into())
        );
    }
}
