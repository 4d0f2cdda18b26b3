//! The engines behind the databases: `postgresql` is real when PostgreSQL's server programs
//! are found (a cluster the service runs, [`Postgres`]), every other engine is simulated (the
//! store alone). `/v1/capabilities` and the startup log say which.
//!
//! The store stays the truth: before the lifecycle settles a due transition of an object of a
//! real database, [`Engines::realize_database`] or [`Engines::realize_child`] makes PostgreSQL
//! match it (each step idempotent, so a crash in between is repaired by the next pass). Until
//! that succeeds the object keeps its transitional status; what PostgreSQL refuses for good
//! ends the object in `ERROR`, with PostgreSQL's reason. A server that dies while the service
//! runs is started again by the lifecycle worker ([`Engines::revive`]).

use std::sync::Arc;

use serde::Serialize;

use super::error::LocalError;
use super::model::{Database, Status, StoredPassword};
use super::passwords;
use super::postgres::{Access, HbaRule, IndexKey, Postgres, PostgresError};
use super::store::{DueChild, Store};

/// The engine that can be real.
pub(crate) const POSTGRESQL: &str = "postgresql";

/// Whether an engine's databases are real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Backing {
    /// A real server holds the database: it accepts connections.
    Real,
    /// Only the store holds it: its endpoint answers nothing.
    Simulated,
}

/// What a realization could not do.
#[derive(Debug)]
pub(crate) enum Unrealized {
    /// PostgreSQL is not reachable now: the transition waits and is tried again.
    Later(String),
    /// PostgreSQL refused: the object ends in `ERROR` with this reason.
    Refused(String),
}

impl From<PostgresError> for Unrealized {
    fn from(error: PostgresError) -> Self {
        match error {
            PostgresError::Unavailable(why) => Self::Later(why),
            PostgresError::Refused(why) | PostgresError::RoleTaken(why) => Self::Refused(why),
        }
    }
}

impl From<LocalError> for Unrealized {
    fn from(error: LocalError) -> Self {
        Self::Later(error.to_string())
    }
}

/// The engines of one service.
#[derive(Debug, Clone, Default)]
pub(crate) struct Engines {
    postgres: Option<Arc<Postgres>>,
}

impl Engines {
    /// Every engine simulated.
    pub(crate) fn simulated() -> Self {
        Self::default()
    }

    /// `postgresql` real, served by `postgres`.
    pub(crate) fn with_postgres(postgres: Postgres) -> Self {
        Self {
            postgres: Some(Arc::new(postgres)),
        }
    }

    /// Whether any engine is real here.
    pub(crate) fn any_real(&self) -> bool {
        self.postgres.is_some()
    }

    /// Whether `engine`'s databases are real here.
    pub(crate) fn backing(&self, engine: &str) -> Backing {
        if engine == POSTGRESQL && self.postgres.is_some() {
            Backing::Real
        } else {
            Backing::Simulated
        }
    }

    fn real(&self, database: &Database) -> Option<&Postgres> {
        self.postgres
            .as_deref()
            .filter(|_| database.engine == POSTGRESQL)
    }

    /// Makes PostgreSQL hold `database` as its due transition will leave it: created (and
    /// accepting connections) before it is READY, dropped with its roles before it is gone.
    /// Returns where it is served, for a database PostgreSQL now holds.
    pub(crate) async fn realize_database(
        &self,
        store: &Store,
        database: &Database,
    ) -> Result<Option<String>, Unrealized> {
        let Some(postgres) = self.real(database) else {
            return Ok(None);
        };
        match database.status {
            Status::Deleting => {
                let id = database.id.clone();
                let usernames = store
                    .transact(move |tx| {
                        Ok(tx
                            .credentials(&id)?
                            .into_iter()
                            .map(|c| c.username)
                            .collect::<Vec<_>>())
                    })
                    .await?;
                postgres.drop_database(&database.name).await?;
                for username in usernames {
                    postgres.drop_role(&username, &database.id).await?;
                }
                self.apply_rules(store, Some(&database.id)).await?;
                Ok(None)
            }
            Status::Creating | Status::Building | Status::Updating => {
                postgres.ensure_database(&database.name).await?;
                // Grants reach only databases that exist: the roles of credentials made
                // before it (its vendor's built-in users, roles naming it) get theirs now.
                let name = format!("@{}", database.name);
                let id = database.id.clone();
                let holders = store
                    .transact(move |tx| {
                        let mut holders = Vec::new();
                        for owner in tx.live_databases()? {
                            if owner.engine != POSTGRESQL {
                                continue;
                            }
                            for credential in tx.credentials(&owner.id)? {
                                let concerned = owner.id == id
                                    || credential.roles.iter().any(|role| role.ends_with(&name));
                                if concerned && credential.status != Status::Deleting {
                                    holders.push((owner.clone(), credential));
                                }
                            }
                        }
                        Ok(holders)
                    })
                    .await?;
                for (owner, credential) in &holders {
                    // A credential PostgreSQL refuses fails alone (when it settles), not this.
                    match realize_credential(postgres, owner, credential).await {
                        Err(Unrealized::Refused(why)) => {
                            tracing::warn!(username = %credential.username, reason = %why, "role not granted");
                        }
                        other => other?,
                    }
                }
                self.apply_rules(store, None).await?;
                Ok(Some(self.endpoint_of(database).await?))
            }
            Status::Ready | Status::Error => Ok(None),
        }
    }

    /// `postgresql://127.0.0.1:<port>/<name>`, starting the server if needed.
    async fn endpoint_of(&self, database: &Database) -> Result<String, Unrealized> {
        let Some(postgres) = self.real(database) else {
            return Err(Unrealized::Later("not a real database".to_owned()));
        };
        let port = postgres.port().await?;
        Ok(format!("postgresql://127.0.0.1:{port}/{}", database.name))
    }

    /// Makes PostgreSQL hold a due child as its transition will leave it: a credential's role
    /// with its password and grants, an index on its collection's table, the network rules.
    pub(crate) async fn realize_child(
        &self,
        store: &Store,
        child: &DueChild,
    ) -> Result<(), Unrealized> {
        if self.postgres.is_none() {
            return Ok(());
        }
        let wanted = child.clone();
        let found = store
            .transact(move |tx| {
                let database_id = match &wanted {
                    DueChild::Credential { database_id, .. }
                    | DueChild::Index { database_id, .. }
                    | DueChild::IpRestriction { database_id, .. } => database_id.clone(),
                };
                let Some(database) = tx.database(&database_id)? else {
                    return Ok(None);
                };
                let child = match &wanted {
                    DueChild::Credential { username, .. } => tx
                        .credential(&database_id, username)?
                        .map(RealChild::Credential),
                    DueChild::Index {
                        collection, name, ..
                    } => tx
                        .index(&database_id, collection, name)?
                        .map(RealChild::Index),
                    DueChild::IpRestriction { .. } => Some(RealChild::Rules),
                };
                Ok(child.map(|child| (database, child)))
            })
            .await?;
        let Some((database, child)) = found else {
            return Ok(());
        };
        let Some(postgres) = self.real(&database) else {
            return Ok(());
        };
        match child {
            RealChild::Credential(credential) if credential.status == Status::Deleting => {
                postgres
                    .drop_role(&credential.username, &database.id)
                    .await?;
            }
            RealChild::Credential(credential) => {
                realize_credential(postgres, &database, &credential).await?;
            }
            RealChild::Index(index) if index.status == Status::Deleting => {
                postgres
                    .drop_index(&database.name, &index.collection, &index.name)
                    .await?;
            }
            RealChild::Index(index) => {
                let keys: Vec<IndexKey> = index
                    .keys
                    .iter()
                    .map(|key| IndexKey {
                        field: key.field.clone(),
                        descending: key.direction < 0,
                    })
                    .collect();
                postgres
                    .ensure_index(
                        &database.name,
                        &index.collection,
                        &index.name,
                        &keys,
                        index.unique,
                        index.sparse,
                    )
                    .await?;
            }
            RealChild::Rules => self.apply_rules(store, None).await?,
        }
        Ok(())
    }

    /// Writes the network rules of every real database that is not gone (`leaving`, being
    /// dropped, left out): its IP restrictions but those being deleted, loopback alone when
    /// it has none.
    async fn apply_rules(&self, store: &Store, leaving: Option<&str>) -> Result<(), Unrealized> {
        let Some(postgres) = self.postgres.as_deref() else {
            return Ok(());
        };
        let leaving = leaving.map(str::to_owned);
        let (databases, rules) = store
            .transact(move |tx| {
                let mut names = Vec::new();
                let mut rules = Vec::new();
                for database in tx.live_databases()? {
                    if database.engine != POSTGRESQL || leaving.as_deref() == Some(&database.id) {
                        continue;
                    }
                    for restriction in tx.ip_restrictions(&database.id)? {
                        if restriction.status != Status::Deleting {
                            rules.push(HbaRule {
                                database: database.name.clone(),
                                cidr: restriction.cidr,
                            });
                        }
                    }
                    names.push(database.name);
                }
                Ok((names, rules))
            })
            .await?;
        postgres.apply_rules(&databases, &rules).await?;
        Ok(())
    }

    /// Starts PostgreSQL again when the server this run started stopped without being asked,
    /// and records where each real database is served now (the port it had, unless taken).
    pub(crate) async fn revive(&self, store: &Store) -> Result<(), Unrealized> {
        let Some(postgres) = self.postgres.as_deref() else {
            return Ok(());
        };
        if !postgres.stopped_unexpectedly().await {
            return Ok(());
        }
        tracing::warn!(
            cluster = %postgres.dir().display(),
            "PostgreSQL is not running any more; starting it again"
        );
        postgres.port().await?;
        self.resume(store).await
    }

    /// At start, when the store has real databases: starts PostgreSQL (stopping a postmaster a
    /// killed run left), rewrites the network rules, and records where each is served now.
    pub(crate) async fn resume(&self, store: &Store) -> Result<(), Unrealized> {
        if self.postgres.is_none() {
            return Ok(());
        }
        let live = store.transact(|tx| tx.live_databases()).await?;
        let real: Vec<Database> = live
            .into_iter()
            .filter(|database| database.engine == POSTGRESQL && database.status != Status::Creating)
            .collect();
        if real.is_empty() {
            return Ok(());
        }
        self.apply_rules(store, None).await?;
        for database in real {
            let endpoint = self.endpoint_of(&database).await?;
            let id = database.id.clone();
            store
                .transact(move |tx| {
                    if let Some(mut current) = tx.database(&id)?
                        && current.served_at.as_deref() != Some(endpoint.as_str())
                    {
                        current.served_at = Some(endpoint);
                        tx.update_database(&current)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(())
    }
}

/// Makes the role of `credential` (of `database`) hold its password and grants.
async fn realize_credential(
    postgres: &Postgres,
    database: &Database,
    credential: &super::model::Credential,
) -> Result<(), Unrealized> {
    let hash = match &credential.password {
        StoredPassword::Chosen(hash) => hash.clone(),
        StoredPassword::Generated(password) => passwords::hash_blocking(password.clone()).await?,
    };
    let verifier = passwords::scram_verifier(&hash)?;
    let mut grants: Vec<(Access, String)> = credential
        .roles
        .iter()
        .filter_map(|role| {
            let (name, on) = role.split_once('@')?;
            Some(match name {
                // A vendor's superuser (`root@admin`): its own database is its.
                "root" => (Access::Owner, database.name.clone()),
                "read" | "readAnyDatabase" | "clusterMonitor" => (Access::Read, on.to_owned()),
                "dbOwner" | "dbAdmin" => (Access::Owner, on.to_owned()),
                _ => (Access::ReadWrite, on.to_owned()),
            })
        })
        .collect();
    // Its own database it can always log in to.
    grants.push((Access::Connect, database.name.clone()));
    let made = postgres
        .ensure_role(&credential.username, &database.id, &verifier, &grants)
        .await;
    match made {
        // A vendor's built-in user (`root@…`, made with its database, such as
        // databaselabs' `postgres`) of a second database: the first one's role
        // keeps the name, and this database goes on without it.
        Err(PostgresError::RoleTaken(why)) if is_built_in(credential) => {
            tracing::warn!(
                database_id = %database.id,
                username = %credential.username,
                reason = %why,
                "built-in user left out of PostgreSQL"
            );
        }
        other => other?,
    }
    Ok(())
}

/// Whether a vendor dialect made the credential with its database (its `root@…` role is one
/// no client may ask for).
fn is_built_in(credential: &super::model::Credential) -> bool {
    credential
        .roles
        .iter()
        .any(|role| role.starts_with("root@"))
}

/// A child as realization needs it.
enum RealChild {
    Credential(super::model::Credential),
    Index(super::model::Index),
    Rules,
}
