//! The SQLite store: the only module with SQL in it.
//!
//! One file, `data_dir/dbaas-local.sqlite3`, in WAL mode with `synchronous=FULL`: every
//! transaction is fsynced before it returns, so a `kill -9` right after a 2xx answer loses nothing
//! that was acknowledged. The schema is versioned (`schema_version` table) and grown by ordered
//! migrations; a data dir written by a newer build is refused rather than guessed at.
//!
//! There is one connection behind a `std::sync::Mutex`. Every call runs on `spawn_blocking` and
//! takes the lock there, so the lock is never held across an `.await`, and read-modify-write
//! operations are serialized (no lost updates between a request and the lifecycle worker).
//!
//! The store knows rows, not rules: decisions (validation, busy checks, transitions) are made by
//! closures and outcomes handed in by [`super::databases`] and [`super::lifecycle`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::error::LocalError;
use super::model::{Database, Status, format_timestamp};

/// File name of the store inside the data dir.
pub(crate) const STORE_FILE: &str = "dbaas-local.sqlite3";

/// Ordered migrations; entry `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: databases and idempotency keys.
    "CREATE TABLE databases (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        engine TEXT NOT NULL,
        version TEXT NOT NULL,
        plan TEXT NOT NULL,
        region TEXT NOT NULL,
        description TEXT,
        status TEXT NOT NULL,
        status_message TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        transition_at_ms INTEGER,
        gone_at TEXT
    ) STRICT;
    CREATE UNIQUE INDEX databases_live_name ON databases(name) WHERE gone_at IS NULL;
    CREATE INDEX databases_due ON databases(transition_at_ms) WHERE transition_at_ms IS NOT NULL;
    CREATE TABLE idempotency_keys (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        request TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
    ) STRICT;",
];

/// Newest schema version this build knows.
pub(crate) fn supported_schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

const DATABASE_COLUMNS: &str = "id, name, engine, version, plan, region, description, status, \
     status_message, created_at, updated_at, transition_at_ms, gone_at";

/// An idempotency key to check and remember together with an insert.
#[derive(Debug, Clone)]
pub(crate) struct IdempotencyClaim {
    /// Which operation the key belongs to (`POST /v1/databases`), so keys of different
    /// operations or APIs never collide.
    pub(crate) scope: String,
    /// The client's key.
    pub(crate) key: String,
    /// Canonical text of the request, compared on replay.
    pub(crate) request: String,
    /// Keys recorded before this instant are expired and forgotten.
    pub(crate) expired_before: DateTime<Utc>,
}

/// What happened to an insert.
#[derive(Debug)]
pub(crate) enum InsertOutcome {
    /// The row was written.
    Inserted(Database),
    /// The idempotency key was seen with the same request: the earlier database (maybe gone).
    Replayed(Database),
    /// The idempotency key was seen with a different request.
    KeyReused,
    /// A database that is not gone already has this name.
    NameTaken {
        /// Id of the existing database.
        existing_id: String,
    },
    /// The generated id is already used; the caller retries with another.
    IdTaken,
}

/// What happened to a read-modify-write.
#[derive(Debug)]
pub(crate) enum Modified {
    /// No such database (or it is gone).
    Missing,
    /// The closure decided nothing changes.
    Unchanged(Database),
    /// The closure's new version was written.
    Written(Database),
}

/// Handle on the store; cheap to clone, all clones share the one connection.
#[derive(Clone)]
pub(crate) struct Store {
    connection: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and brings its schema up to date.
    pub(crate) async fn open(data_dir: &Path) -> Result<Self, LocalError> {
        let data_dir = data_dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(&data_dir)).await?
    }

    fn open_blocking(data_dir: &Path) -> Result<Self, LocalError> {
        std::fs::create_dir_all(data_dir).map_err(|source| LocalError::Io {
            context: format!("cannot create data dir {}", data_dir.display()),
            source,
        })?;
        let path = data_dir.join(STORE_FILE);
        let mut connection = Connection::open(&path)?;
        let journal_mode: String =
            connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(LocalError::Corrupt(format!(
                "cannot switch {} to WAL mode (got {journal_mode})",
                path.display()
            )));
        }
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut connection)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            path,
        })
    }

    /// Runs `work` on the blocking pool with the connection locked.
    async fn call<T, F>(&self, work: F) -> Result<T, LocalError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, LocalError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no half transaction behind (dropping a
            // rusqlite Transaction rolls back), so a poisoned lock is safe to keep using.
            let mut guard = connection
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&mut guard)
        })
        .await?
    }

    /// The schema version of the open store.
    #[cfg(test)]
    pub(crate) async fn schema_version(&self) -> Result<i64, LocalError> {
        self.call(|connection| read_schema_version(connection))
            .await
    }

    /// Inserts `database` unless its name is taken, honouring an idempotency key, all in one
    /// transaction.
    pub(crate) async fn insert_database(
        &self,
        database: Database,
        claim: Option<IdempotencyClaim>,
        now: DateTime<Utc>,
    ) -> Result<InsertOutcome, LocalError> {
        self.call(move |connection| {
            let tx = connection.transaction()?;
            if let Some(claim) = &claim {
                tx.execute(
                    "DELETE FROM idempotency_keys WHERE created_at_ms < ?1",
                    params![claim.expired_before.timestamp_millis()],
                )?;
                let seen: Option<(String, String)> = tx
                    .query_row(
                        "SELECT request, resource_id FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
                        params![claim.scope, claim.key],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?;
                if let Some((request, resource_id)) = seen {
                    if request != claim.request {
                        return Ok(InsertOutcome::KeyReused);
                    }
                    let earlier = select_database(&tx, &resource_id, true)?.ok_or_else(|| {
                        LocalError::Corrupt(format!(
                            "idempotency key refers to missing database {resource_id}"
                        ))
                    })?;
                    return Ok(InsertOutcome::Replayed(earlier));
                }
            }
            let existing_id: Option<String> = tx
                .query_row(
                    "SELECT id FROM databases WHERE name = ?1 AND gone_at IS NULL",
                    params![database.name],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(existing_id) = existing_id {
                return Ok(InsertOutcome::NameTaken { existing_id });
            }
            let id_taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM databases WHERE id = ?1)",
                params![database.id],
                |row| row.get(0),
            )?;
            if id_taken {
                return Ok(InsertOutcome::IdTaken);
            }
            tx.execute(
                &format!(
                    "INSERT INTO databases ({DATABASE_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ),
                database_params(&database),
            )?;
            if let Some(claim) = &claim {
                tx.execute(
                    "INSERT INTO idempotency_keys (scope, key, request, resource_id, created_at_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        claim.scope,
                        claim.key,
                        claim.request,
                        database.id,
                        now.timestamp_millis()
                    ],
                )?;
            }
            tx.commit()?;
            Ok(InsertOutcome::Inserted(database))
        })
        .await
    }

    /// The database with this id, unless unknown or gone.
    pub(crate) async fn database(&self, id: &str) -> Result<Option<Database>, LocalError> {
        let id = id.to_owned();
        self.call(move |connection| {
            let tx = connection.transaction()?;
            select_database(&tx, &id, false)
        })
        .await
    }

    /// Databases that are not gone, sorted by name, optionally only names starting with
    /// `name_prefix` (compared literally, no wildcards).
    pub(crate) async fn databases(
        &self,
        name_prefix: Option<String>,
    ) -> Result<Vec<Database>, LocalError> {
        self.call(move |connection| {
            let prefix = name_prefix.unwrap_or_default();
            let mut statement = connection.prepare(&format!(
                "SELECT {DATABASE_COLUMNS} FROM databases \
                 WHERE gone_at IS NULL AND substr(name, 1, length(?1)) = ?1 ORDER BY name"
            ))?;
            let rows = statement.query_map(params![prefix], read_database_row)?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    /// Reads the database, lets `decide` return its new version (`Ok(None)`: nothing changes)
    /// and writes it, all in one transaction. Errors from `decide` abort without writing.
    pub(crate) async fn modify_database<F>(
        &self,
        id: &str,
        decide: F,
    ) -> Result<Modified, LocalError>
    where
        F: FnOnce(&Database) -> Result<Option<Database>, LocalError> + Send + 'static,
    {
        let id = id.to_owned();
        self.call(move |connection| {
            let tx = connection.transaction()?;
            let Some(current) = select_database(&tx, &id, false)? else {
                return Ok(Modified::Missing);
            };
            let Some(next) = decide(&current)? else {
                return Ok(Modified::Unchanged(current));
            };
            if next.id != current.id {
                return Err(LocalError::Corrupt(format!(
                    "refusing to change database id {} to {}",
                    current.id, next.id
                )));
            }
            tx.execute(
                &format!(
                    "UPDATE databases SET ({DATABASE_COLUMNS}) = \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) WHERE id = ?1"
                ),
                database_params(&next),
            )?;
            tx.commit()?;
            Ok(Modified::Written(next))
        })
        .await
    }

    /// The earliest pending transition of any object, so the lifecycle worker knows when to
    /// wake.
    pub(crate) async fn next_transition_at(&self) -> Result<Option<DateTime<Utc>>, LocalError> {
        self.call(|connection| {
            let millis: Option<i64> = connection.query_row(
                "SELECT min(transition_at_ms) FROM databases WHERE gone_at IS NULL",
                [],
                |row| row.get(0),
            )?;
            millis.map(millis_to_time).transpose()
        })
        .await
    }

    /// Ids of databases whose transition is due at `now`, earliest first.
    pub(crate) async fn due_database_ids(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, LocalError> {
        self.call(move |connection| {
            let mut statement = connection.prepare(
                "SELECT id FROM databases WHERE gone_at IS NULL AND transition_at_ms <= ?1 \
                 ORDER BY transition_at_ms, id",
            )?;
            let rows = statement.query_map(params![now.timestamp_millis()], |row| row.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }
}

fn read_schema_version(connection: &Connection) -> Result<i64, LocalError> {
    Ok(connection
        .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Applies the migrations the store has not seen yet, each in its own transaction together with
/// the version bump.
fn migrate(connection: &mut Connection) -> Result<(), LocalError> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT;",
    )?;
    let found = read_schema_version(connection)?;
    let supported = supported_schema_version();
    if found > supported {
        return Err(LocalError::SchemaTooNew { found, supported });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let tx = connection.transaction()?;
        tx.execute_batch(migration)?;
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            params![version],
        )?;
        tx.commit()?;
        tracing::info!(version, "store schema migrated");
    }
    Ok(())
}

fn select_database(
    tx: &Transaction<'_>,
    id: &str,
    include_gone: bool,
) -> Result<Option<Database>, LocalError> {
    let gone_filter = if include_gone {
        ""
    } else {
        " AND gone_at IS NULL"
    };
    let row = tx
        .query_row(
            &format!("SELECT {DATABASE_COLUMNS} FROM databases WHERE id = ?1{gone_filter}"),
            params![id],
            read_database_row,
        )
        .optional()?;
    row.transpose()
}

/// Reads one row; the outer `Result` is SQLite's, the inner one our own decoding.
fn read_database_row(row: &Row<'_>) -> rusqlite::Result<Result<Database, LocalError>> {
    let status: String = row.get(7)?;
    let created_at: String = row.get(9)?;
    let updated_at: String = row.get(10)?;
    let transition_at_ms: Option<i64> = row.get(11)?;
    let gone_at: Option<String> = row.get(12)?;
    let id: String = row.get(0)?;
    let name: String = row.get(1)?;
    let engine: String = row.get(2)?;
    let version: String = row.get(3)?;
    let plan: String = row.get(4)?;
    let region: String = row.get(5)?;
    let description: Option<String> = row.get(6)?;
    let status_message: Option<String> = row.get(8)?;
    Ok((|| {
        Ok(Database {
            id,
            name,
            engine,
            version,
            plan,
            region,
            description,
            status: Status::parse(&status)?,
            status_message,
            created_at: parse_time(&created_at)?,
            updated_at: parse_time(&updated_at)?,
            transition_at: transition_at_ms.map(millis_to_time).transpose()?,
            gone_at: gone_at.as_deref().map(parse_time).transpose()?,
        })
    })())
}

/// The 13 column values of a row, in `DATABASE_COLUMNS` order.
fn database_params(database: &Database) -> impl rusqlite::Params {
    use rusqlite::types::Value as Sql;
    let values: [Sql; 13] = [
        Sql::from(database.id.clone()),
        Sql::from(database.name.clone()),
        Sql::from(database.engine.clone()),
        Sql::from(database.version.clone()),
        Sql::from(database.plan.clone()),
        Sql::from(database.region.clone()),
        Sql::from(database.description.clone()),
        Sql::from(database.status.as_str().to_owned()),
        Sql::from(database.status_message.clone()),
        Sql::from(format_timestamp(database.created_at)),
        Sql::from(format_timestamp(database.updated_at)),
        Sql::from(database.transition_at.map(|at| at.timestamp_millis())),
        Sql::from(database.gone_at.map(format_timestamp)),
    ];
    rusqlite::params_from_iter(values)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, LocalError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| LocalError::Corrupt(format!("bad timestamp {text:?}: {error}")))
}

fn millis_to_time(millis: i64) -> Result<DateTime<Utc>, LocalError> {
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| LocalError::Corrupt(format!("bad timestamp {millis} ms")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::model::whole_seconds;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
    }

    fn database(id: &str, name: &str) -> Database {
        Database {
            id: id.into(),
            name: name.into(),
            engine: "mongodb".into(),
            version: "8.0".into(),
            plan: "essential".into(),
            region: "eu-west-1".into(),
            description: None,
            status: Status::Creating,
            status_message: Some("provisioning".into()),
            created_at: at(0),
            updated_at: at(0),
            transition_at: Some(at(5) + chrono::Duration::milliseconds(250)),
            gone_at: None,
        }
    }

    fn claim(key: &str, request: &str) -> IdempotencyClaim {
        IdempotencyClaim {
            scope: "POST /v1/databases".into(),
            key: key.into(),
            request: request.into(),
            expired_before: at(-86_400),
        }
    }

    async fn insert(store: &Store, db: Database) -> InsertOutcome {
        store
            .insert_database(db, None, at(0))
            .await
            .expect("insert")
    }

    #[tokio::test]
    async fn store_round_trips_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let mut db = database("db-000000000001", "alpha");
        db.description = Some("first".into());
        assert!(matches!(
            insert(&store, db.clone()).await,
            InsertOutcome::Inserted(_)
        ));
        drop(store);

        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(
            store.schema_version().await.unwrap(),
            supported_schema_version()
        );
        let read = store.database("db-000000000001").await.unwrap().unwrap();
        assert_eq!(read, db);
        assert!(store.database("db-ffffffffffff").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn store_rejects_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).await.unwrap());
        let connection = Connection::open(dir.path().join(STORE_FILE)).unwrap();
        connection
            .execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        drop(connection);
        let error = Store::open(dir.path()).await.unwrap_err();
        assert!(
            matches!(error, LocalError::SchemaTooNew { found: 99, .. }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn store_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let (mode, sync) = store
            .call(|connection| {
                let mode: String = connection.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let sync: i64 = connection.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
                Ok((mode, sync))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL is 2");
    }

    #[tokio::test]
    async fn store_names_are_unique_among_live_databases() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        insert(&store, database("db-000000000001", "alpha")).await;
        match insert(&store, database("db-000000000002", "alpha")).await {
            InsertOutcome::NameTaken { existing_id } => assert_eq!(existing_id, "db-000000000001"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            insert(&store, database("db-000000000001", "beta")).await,
            InsertOutcome::IdTaken
        ));
        // Once gone, the name is free again and the old row is invisible.
        let modified = store
            .modify_database("db-000000000001", |db| {
                let mut next = db.clone();
                next.gone_at = Some(at(9));
                next.transition_at = None;
                Ok(Some(next))
            })
            .await
            .unwrap();
        assert!(matches!(modified, Modified::Written(_)));
        assert!(store.database("db-000000000001").await.unwrap().is_none());
        assert!(matches!(
            insert(&store, database("db-000000000002", "alpha")).await,
            InsertOutcome::Inserted(_)
        ));
        let listed = store.databases(None).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "db-000000000002");
        assert!(matches!(
            store
                .modify_database("db-000000000001", |_| Ok(None))
                .await
                .unwrap(),
            Modified::Missing
        ));
    }

    #[tokio::test]
    async fn store_lists_by_name_with_literal_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        for (id, name) in [
            ("db-000000000003", "web-b"),
            ("db-000000000001", "web-a"),
            ("db-000000000002", "api"),
            ("db-000000000004", "webx"),
        ] {
            insert(&store, database(id, name)).await;
        }
        let names = |list: Vec<Database>| list.into_iter().map(|db| db.name).collect::<Vec<_>>();
        assert_eq!(
            names(store.databases(None).await.unwrap()),
            ["api", "web-a", "web-b", "webx"]
        );
        assert_eq!(
            names(store.databases(Some("web-".into())).await.unwrap()),
            ["web-a", "web-b"]
        );
        assert!(store.databases(Some("%".into())).await.unwrap().is_empty());
        assert!(
            store
                .databases(Some("w_b".into()))
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn store_idempotency_replays_or_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let first = store
            .insert_database(
                database("db-000000000001", "alpha"),
                Some(claim("k1", "{a}")),
                at(0),
            )
            .await
            .unwrap();
        assert!(matches!(first, InsertOutcome::Inserted(_)));
        match store
            .insert_database(
                database("db-000000000002", "alpha"),
                Some(claim("k1", "{a}")),
                at(1),
            )
            .await
            .unwrap()
        {
            InsertOutcome::Replayed(db) => assert_eq!(db.id, "db-000000000001"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            store
                .insert_database(
                    database("db-000000000003", "beta"),
                    Some(claim("k1", "{b}")),
                    at(2)
                )
                .await
                .unwrap(),
            InsertOutcome::KeyReused
        ));
        // A day later the key is forgotten: the same request is a new create (here: name taken).
        let mut late = claim("k1", "{a}");
        late.expired_before = at(10);
        assert!(matches!(
            store
                .insert_database(database("db-000000000004", "alpha"), Some(late), at(86_410))
                .await
                .unwrap(),
            InsertOutcome::NameTaken { .. }
        ));
    }

    #[tokio::test]
    async fn store_tracks_due_transitions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.next_transition_at().await.unwrap(), None);
        let mut early = database("db-000000000001", "early");
        early.transition_at = Some(at(3));
        let late = database("db-000000000002", "late");
        let late_due = late.transition_at;
        insert(&store, late).await;
        insert(&store, early).await;
        assert_eq!(store.next_transition_at().await.unwrap(), Some(at(3)));
        assert!(store.due_database_ids(at(2)).await.unwrap().is_empty());
        assert_eq!(
            store.due_database_ids(at(4)).await.unwrap(),
            ["db-000000000001"]
        );
        assert_eq!(
            store.due_database_ids(at(60)).await.unwrap(),
            ["db-000000000001", "db-000000000002"]
        );
        // Millisecond precision survives the round trip.
        let read = store.database("db-000000000002").await.unwrap().unwrap();
        assert_eq!(read.transition_at, late_due);
        assert_eq!(whole_seconds(read.created_at), read.created_at);
    }

    #[tokio::test]
    async fn store_modify_errors_do_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        insert(&store, database("db-000000000001", "alpha")).await;
        let error = store
            .modify_database("db-000000000001", |_| {
                Err(LocalError::Conflict("busy".into()))
            })
            .await
            .unwrap_err();
        assert!(matches!(error, LocalError::Conflict(_)));
        let unchanged = store
            .modify_database("db-000000000001", |_| Ok(None))
            .await
            .unwrap();
        assert!(matches!(unchanged, Modified::Unchanged(db) if db.name == "alpha"));
    }
}
