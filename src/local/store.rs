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
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use tokio::sync::watch;

use super::error::LocalError;
use secrecy::{ExposeSecret, SecretString};

use super::model::{
    Collection, Credential, Database, Index, IndexKey, IpRestriction, PasswordHash, Status,
    StoredPassword, format_timestamp,
};

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
    // 2: children of a database: credentials, collections and indexes, IP restrictions.
    // Exactly one of password_secret (generated, revealable) and password_hash (client-chosen,
    // salted KDF hash) is set.
    "CREATE TABLE credentials (
        database_id TEXT NOT NULL REFERENCES databases(id),
        username TEXT NOT NULL,
        roles TEXT NOT NULL,
        status TEXT NOT NULL,
        password_secret TEXT,
        password_hash TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        transition_at_ms INTEGER,
        PRIMARY KEY (database_id, username),
        CHECK ((password_secret IS NULL) <> (password_hash IS NULL))
    ) STRICT;
    CREATE INDEX credentials_due ON credentials(transition_at_ms)
        WHERE transition_at_ms IS NOT NULL;
    CREATE TABLE collections (
        database_id TEXT NOT NULL REFERENCES databases(id),
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (database_id, name)
    ) STRICT;
    CREATE TABLE indexes (
        database_id TEXT NOT NULL,
        collection TEXT NOT NULL,
        name TEXT NOT NULL,
        keys TEXT NOT NULL,
        is_unique INTEGER NOT NULL,
        is_sparse INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        transition_at_ms INTEGER,
        PRIMARY KEY (database_id, collection, name),
        FOREIGN KEY (database_id, collection) REFERENCES collections(database_id, name)
    ) STRICT;
    CREATE INDEX indexes_due ON indexes(transition_at_ms) WHERE transition_at_ms IS NOT NULL;
    CREATE TABLE ip_restrictions (
        database_id TEXT NOT NULL REFERENCES databases(id),
        cidr TEXT NOT NULL,
        description TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        transition_at_ms INTEGER,
        PRIMARY KEY (database_id, cidr)
    ) STRICT;
    CREATE INDEX ip_restrictions_due ON ip_restrictions(transition_at_ms)
        WHERE transition_at_ms IS NOT NULL;",
    // 3: node flavor and count, a UUID (the id in dialects whose ids are UUIDs, such as OVH)
    // and the administrator's lock on databases; a UUID on credentials. Existing rows get the
    // first flavor of the catalog, their plan's node count at the time (essential 1, others 3)
    // and fresh random v4 UUIDs.
    "ALTER TABLE databases ADD COLUMN uuid TEXT NOT NULL DEFAULT '';
    ALTER TABLE databases ADD COLUMN flavor TEXT NOT NULL DEFAULT 'db1-4';
    ALTER TABLE databases ADD COLUMN node_count INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE databases ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
    UPDATE databases SET node_count = CASE plan WHEN 'essential' THEN 1 ELSE 3 END;
    UPDATE databases SET uuid = lower(
        hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
        || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2)
        || '-' || hex(randomblob(6)));
    CREATE UNIQUE INDEX databases_uuid ON databases(uuid);
    ALTER TABLE credentials ADD COLUMN uuid TEXT NOT NULL DEFAULT '';
    UPDATE credentials SET uuid = lower(
        hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
        || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2)
        || '-' || hex(randomblob(6)));
    CREATE UNIQUE INDEX credentials_uuid ON credentials(database_id, uuid);",
    // 4: a UUID on indexes and IP restrictions, as credentials have: idempotency keys of child
    // creates refer to it, so a key never replays a later object that took the same name.
    "ALTER TABLE indexes ADD COLUMN uuid TEXT NOT NULL DEFAULT '';
    UPDATE indexes SET uuid = lower(
        hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
        || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2)
        || '-' || hex(randomblob(6)));
    CREATE UNIQUE INDEX indexes_uuid ON indexes(database_id, uuid);
    ALTER TABLE ip_restrictions ADD COLUMN uuid TEXT NOT NULL DEFAULT '';
    UPDATE ip_restrictions SET uuid = lower(
        hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
        || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2)
        || '-' || hex(randomblob(6)));
    CREATE UNIQUE INDEX ip_restrictions_uuid ON ip_restrictions(database_id, uuid);",
    // 5: the failure a lifecycle fault planned for an object's current transition, so it still
    // ends in ERROR after a restart.
    "ALTER TABLE databases ADD COLUMN fails_with TEXT;
    ALTER TABLE credentials ADD COLUMN fails_with TEXT;
    ALTER TABLE indexes ADD COLUMN fails_with TEXT;
    ALTER TABLE ip_restrictions ADD COLUMN fails_with TEXT;",
    // 6: where a real engine (PostgreSQL) serves a database.
    "ALTER TABLE databases ADD COLUMN served_at TEXT;",
];

/// Newest schema version this build knows.
pub(crate) fn supported_schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

const DATABASE_COLUMNS: &str = "id, name, engine, version, plan, region, description, status, \
     status_message, created_at, updated_at, transition_at_ms, gone_at, uuid, flavor, node_count, \
     locked, fails_with, served_at";

/// One placeholder per column of `DATABASE_COLUMNS`.
const DATABASE_VALUES: &str =
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19";

const CREDENTIAL_COLUMNS: &str = "database_id, username, roles, status, password_secret, \
     password_hash, created_at, updated_at, transition_at_ms, uuid, fails_with";

/// One placeholder per column of `CREDENTIAL_COLUMNS`.
const CREDENTIAL_VALUES: &str = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11";

const INDEX_COLUMNS: &str = "database_id, collection, name, keys, is_unique, is_sparse, status, \
     created_at, transition_at_ms, uuid, fails_with";

/// One placeholder per column of `INDEX_COLUMNS`.
const INDEX_VALUES: &str = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11";

const IP_RESTRICTION_COLUMNS: &str =
    "database_id, cidr, description, status, created_at, transition_at_ms, uuid, fails_with";

/// One placeholder per column of `IP_RESTRICTION_COLUMNS`.
const IP_RESTRICTION_VALUES: &str = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8";

/// A child object whose transition is due, as returned to the lifecycle worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DueChild {
    /// A credential, by database and username.
    Credential {
        /// Its database.
        database_id: String,
        /// Its username.
        username: String,
    },
    /// An index, by database, collection and name.
    Index {
        /// Its database.
        database_id: String,
        /// Its collection.
        collection: String,
        /// Its name.
        name: String,
    },
    /// An IP restriction, by database and CIDR.
    IpRestriction {
        /// Its database.
        database_id: String,
        /// Its canonical CIDR.
        cidr: String,
    },
}

/// What an idempotency key was recorded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdempotencyRecord {
    /// Canonical text of the request that first used the key, compared on replay.
    pub(crate) request: String,
    /// Id of the object that request created (a database id, a child's UUID).
    pub(crate) resource_id: String,
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
    /// Counts committed writes, so a blocking read wakes when something may have changed.
    writes: Arc<watch::Sender<u64>>,
    /// The data dir's lock, held while any clone lives: a second process on the same data dir
    /// would run a second lifecycle worker and meet SQLITE_BUSY, so it is refused at start.
    _data_dir_lock: Arc<std::fs::File>,
}

/// The lock file in the data dir.
const LOCK_FILE: &str = "dbaas-local.lock";

/// Takes the data dir's lock (an OS file lock, released when the process ends, even by
/// `kill -9`), or says which directory another process holds.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, LocalError> {
    let path = data_dir.join(LOCK_FILE);
    let file = private_file(&path).map_err(|source| LocalError::Io {
        context: format!("cannot create {}", path.display()),
        source,
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(LocalError::Io {
            context: format!(
                "another dbaas-local is using the data dir {}: stop it, or give this one \
                 another --data-dir",
                data_dir.display()
            ),
            source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(LocalError::Io {
            context: format!("cannot lock {}", path.display()),
            source,
        }),
    }
}

/// Creates `dir` (and its parents) readable by its owner only, if it does not exist.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens `path` for writing, creating it readable by its owner only; an existing file is made
/// so too. SQLite gives its `-wal` and `-shm` files the database file's mode.
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
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
        let io = |context: String| move |source| LocalError::Io { context, source };
        // The store holds revealable generated passwords: only its owner may read it.
        private_dir(data_dir)
            .map_err(io(format!("cannot create data dir {}", data_dir.display())))?;
        let data_dir_lock = lock_data_dir(data_dir)?;
        let path = data_dir.join(STORE_FILE);
        private_file(&path).map_err(io(format!("cannot create {}", path.display())))?;
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
            writes: Arc::new(watch::channel(0).0),
            _data_dir_lock: Arc::new(data_dir_lock),
        })
    }

    /// A receiver that sees a new value after every committed write.
    pub(crate) fn watch_writes(&self) -> watch::Receiver<u64> {
        self.writes.subscribe()
    }

    fn announce_write(&self) {
        self.writes
            .send_modify(|count| *count = count.wrapping_add(1));
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

    /// The database with this id, unless unknown or gone.
    pub(crate) async fn database(&self, id: &str) -> Result<Option<Database>, LocalError> {
        let id = id.to_owned();
        self.call(move |connection| {
            let tx = connection.transaction()?;
            select_database(&tx, &id, false)
        })
        .await
    }

    /// The database with this UUID, unless unknown or gone.
    pub(crate) async fn database_by_uuid(
        &self,
        uuid: &str,
    ) -> Result<Option<Database>, LocalError> {
        let uuid = uuid.to_owned();
        self.call(move |connection| {
            let tx = connection.transaction()?;
            select_database_by_uuid(&tx, &uuid)
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
        let modified = self
            .call(move |connection| {
                let tx = begin_write(connection)?;
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
                    "UPDATE databases SET ({DATABASE_COLUMNS}) = ({DATABASE_VALUES}) WHERE id = ?1"
                ),
                database_params(&next),
            )?;
                tx.commit()?;
                Ok(Modified::Written(next))
            })
            .await;
        if let Ok(Modified::Written(_)) = &modified {
            self.announce_write();
        }
        modified
    }

    /// Runs `work` in one transaction, committed when it returns `Ok` and rolled back when it
    /// returns `Err`: the rule modules decide, [`StoreTx`] reads and writes rows.
    pub(crate) async fn transact<T, F>(&self, work: F) -> Result<T, LocalError>
    where
        T: Send + 'static,
        F: FnOnce(&StoreTx<'_>) -> Result<T, LocalError> + Send + 'static,
    {
        let (result, wrote) = self
            .call(move |connection| {
                let before = connection.total_changes();
                let result = {
                    let tx = StoreTx(begin_write(connection)?);
                    let result = work(&tx)?;
                    tx.0.commit()?;
                    result
                };
                // Reads run in write transactions too (they check the parent's status): only
                // a transaction that changed rows wakes blocking reads.
                Ok((result, connection.total_changes() != before))
            })
            .await?;
        if wrote {
            self.announce_write();
        }
        Ok(result)
    }

    /// The earliest pending transition of any object, so the lifecycle worker knows when to
    /// wake.
    pub(crate) async fn next_transition_at(&self) -> Result<Option<DateTime<Utc>>, LocalError> {
        self.call(|connection| {
            let millis: Option<i64> = connection.query_row(
                "SELECT min(at) FROM ( \
                   SELECT min(transition_at_ms) AS at FROM databases WHERE gone_at IS NULL \
                   UNION ALL SELECT min(transition_at_ms) FROM credentials \
                   UNION ALL SELECT min(transition_at_ms) FROM indexes \
                   UNION ALL SELECT min(transition_at_ms) FROM ip_restrictions)",
                [],
                |row| row.get(0),
            )?;
            millis.map(millis_to_time).transpose()
        })
        .await
    }

    /// Children whose transition is due at `now`, earliest first.
    pub(crate) async fn due_children(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<DueChild>, LocalError> {
        self.call(move |connection| {
            let now = now.timestamp_millis();
            let mut due: Vec<(i64, DueChild)> = Vec::new();
            let mut statement = connection.prepare(
                "SELECT transition_at_ms, database_id, username FROM credentials \
                 WHERE transition_at_ms <= ?1",
            )?;
            for row in statement.query_map(params![now], |row| {
                Ok((
                    row.get(0)?,
                    DueChild::Credential {
                        database_id: row.get(1)?,
                        username: row.get(2)?,
                    },
                ))
            })? {
                due.push(row?);
            }
            let mut statement = connection.prepare(
                "SELECT transition_at_ms, database_id, collection, name FROM indexes \
                 WHERE transition_at_ms <= ?1",
            )?;
            for row in statement.query_map(params![now], |row| {
                Ok((
                    row.get(0)?,
                    DueChild::Index {
                        database_id: row.get(1)?,
                        collection: row.get(2)?,
                        name: row.get(3)?,
                    },
                ))
            })? {
                due.push(row?);
            }
            let mut statement = connection.prepare(
                "SELECT transition_at_ms, database_id, cidr FROM ip_restrictions \
                 WHERE transition_at_ms <= ?1",
            )?;
            for row in statement.query_map(params![now], |row| {
                Ok((
                    row.get(0)?,
                    DueChild::IpRestriction {
                        database_id: row.get(1)?,
                        cidr: row.get(2)?,
                    },
                ))
            })? {
                due.push(row?);
            }
            due.sort_by_key(|(at, _)| *at);
            Ok(due.into_iter().map(|(_, child)| child).collect())
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

/// A transaction that may write, begun `IMMEDIATE`: it takes SQLite's write lock at once
/// (waiting out `busy_timeout` for another writer), instead of at its first write, where a
/// deferred one that has read meanwhile fails with SQLITE_BUSY. Read-only ones stay deferred.
fn begin_write(connection: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    connection.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// An open transaction: typed reads and writes of every object kind. Handed to the closures of
/// [`Store::transact`], so a rule can read, decide and write atomically.
pub(crate) struct StoreTx<'c>(Transaction<'c>);

impl StoreTx<'_> {
    /// The database with this id, unless unknown or gone.
    pub(crate) fn database(&self, id: &str) -> Result<Option<Database>, LocalError> {
        select_database(&self.0, id, false)
    }

    /// Overwrites the row of `database` (which must exist).
    pub(crate) fn update_database(&self, database: &Database) -> Result<(), LocalError> {
        self.0.execute(
            &format!(
                "UPDATE databases SET ({DATABASE_COLUMNS}) = ({DATABASE_VALUES}) WHERE id = ?1"
            ),
            database_params(database),
        )?;
        Ok(())
    }

    /// Inserts a database (the caller checked that its id and its name are free).
    pub(crate) fn insert_database(&self, database: &Database) -> Result<(), LocalError> {
        self.0.execute(
            &format!("INSERT INTO databases ({DATABASE_COLUMNS}) VALUES ({DATABASE_VALUES})"),
            database_params(database),
        )?;
        Ok(())
    }

    /// Every database that is not gone, by name.
    pub(crate) fn live_databases(&self) -> Result<Vec<Database>, LocalError> {
        let mut statement = self.0.prepare(&format!(
            "SELECT {DATABASE_COLUMNS} FROM databases WHERE gone_at IS NULL ORDER BY name"
        ))?;
        let rows = statement.query_map([], read_database_row)?;
        rows.map(|row| row?).collect()
    }

    /// The id of the database with this name that is not gone.
    pub(crate) fn live_database_id_named(&self, name: &str) -> Result<Option<String>, LocalError> {
        Ok(self
            .0
            .query_row(
                "SELECT id FROM databases WHERE name = ?1 AND gone_at IS NULL",
                params![name],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Whether a database, gone ones included, has this id.
    pub(crate) fn database_id_taken(&self, id: &str) -> Result<bool, LocalError> {
        Ok(self.0.query_row(
            "SELECT EXISTS (SELECT 1 FROM databases WHERE id = ?1)",
            params![id],
            |row| row.get(0),
        )?)
    }

    /// What the idempotency key was recorded with, if anything; every key recorded before
    /// `expired_before` is forgotten first.
    pub(crate) fn idempotency_record(
        &self,
        scope: &str,
        key: &str,
        expired_before: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, LocalError> {
        self.0.execute(
            "DELETE FROM idempotency_keys WHERE created_at_ms < ?1",
            params![expired_before.timestamp_millis()],
        )?;
        Ok(self
            .0
            .query_row(
                "SELECT request, resource_id FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
                params![scope, key],
                |row| {
                    Ok(IdempotencyRecord {
                        request: row.get(0)?,
                        resource_id: row.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records an idempotency key with the request it came with and what that created.
    pub(crate) fn record_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        record: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> Result<(), LocalError> {
        self.0.execute(
            "INSERT INTO idempotency_keys (scope, key, request, resource_id, created_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                scope,
                key,
                record.request,
                record.resource_id,
                now.timestamp_millis()
            ],
        )?;
        Ok(())
    }

    /// Puts every child of the database that is not already `DELETING` into `DELETING`,
    /// settling at `transition_at` (children go with their database).
    pub(crate) fn mark_children_deleting(
        &self,
        database_id: &str,
        now: DateTime<Utc>,
        transition_at: DateTime<Utc>,
    ) -> Result<(), LocalError> {
        let deleting = Status::Deleting.as_str();
        let at = transition_at.timestamp_millis();
        self.0.execute(
            "UPDATE credentials SET status = ?2, transition_at_ms = ?3, updated_at = ?4 \
             WHERE database_id = ?1 AND status <> ?2",
            params![database_id, deleting, at, format_timestamp(now)],
        )?;
        for table in ["indexes", "ip_restrictions"] {
            self.0.execute(
                &format!(
                    "UPDATE {table} SET status = ?2, transition_at_ms = ?3 \
                     WHERE database_id = ?1 AND status <> ?2"
                ),
                params![database_id, deleting, at],
            )?;
        }
        Ok(())
    }

    /// Removes every child of the database (when the database is gone).
    pub(crate) fn remove_children(&self, database_id: &str) -> Result<(), LocalError> {
        for table in ["credentials", "indexes", "collections", "ip_restrictions"] {
            self.0.execute(
                &format!("DELETE FROM {table} WHERE database_id = ?1"),
                params![database_id],
            )?;
        }
        Ok(())
    }

    /// One credential.
    pub(crate) fn credential(
        &self,
        database_id: &str,
        username: &str,
    ) -> Result<Option<Credential>, LocalError> {
        self.0
            .query_row(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials \
                     WHERE database_id = ?1 AND username = ?2"
                ),
                params![database_id, username],
                read_credential_row,
            )
            .optional()?
            .transpose()
    }

    /// One credential, by its UUID.
    pub(crate) fn credential_by_uuid(
        &self,
        database_id: &str,
        uuid: &str,
    ) -> Result<Option<Credential>, LocalError> {
        self.0
            .query_row(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials \
                     WHERE database_id = ?1 AND uuid = ?2"
                ),
                params![database_id, uuid],
                read_credential_row,
            )
            .optional()?
            .transpose()
    }

    /// The credentials of a database, sorted by username.
    pub(crate) fn credentials(&self, database_id: &str) -> Result<Vec<Credential>, LocalError> {
        let mut statement = self.0.prepare(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE database_id = ?1 \
             ORDER BY username"
        ))?;
        let rows = statement.query_map(params![database_id], read_credential_row)?;
        rows.map(|row| row?).collect()
    }

    /// Inserts a credential (the caller checked that the username is free).
    pub(crate) fn insert_credential(&self, credential: &Credential) -> Result<(), LocalError> {
        insert_credential_row(&self.0, credential)
    }

    /// Overwrites a credential's row.
    pub(crate) fn update_credential(&self, credential: &Credential) -> Result<(), LocalError> {
        self.0.execute(
            &format!(
                "UPDATE credentials SET ({CREDENTIAL_COLUMNS}) = \
                 ({CREDENTIAL_VALUES}) WHERE database_id = ?1 AND username = ?2"
            ),
            credential_params(credential)?,
        )?;
        Ok(())
    }

    /// Removes a credential for good.
    pub(crate) fn remove_credential(
        &self,
        database_id: &str,
        username: &str,
    ) -> Result<(), LocalError> {
        self.0.execute(
            "DELETE FROM credentials WHERE database_id = ?1 AND username = ?2",
            params![database_id, username],
        )?;
        Ok(())
    }

    /// One collection.
    pub(crate) fn collection(
        &self,
        database_id: &str,
        name: &str,
    ) -> Result<Option<Collection>, LocalError> {
        self.0
            .query_row(
                "SELECT database_id, name, created_at FROM collections \
                 WHERE database_id = ?1 AND name = ?2",
                params![database_id, name],
                read_collection_row,
            )
            .optional()?
            .transpose()
    }

    /// The collections of a database, sorted by name, each with its number of stored
    /// (non-implicit) indexes.
    pub(crate) fn collections(
        &self,
        database_id: &str,
    ) -> Result<Vec<(Collection, usize)>, LocalError> {
        let mut statement = self.0.prepare(
            "SELECT c.database_id, c.name, c.created_at, \
               (SELECT count(*) FROM indexes i \
                WHERE i.database_id = c.database_id AND i.collection = c.name) \
             FROM collections c WHERE c.database_id = ?1 ORDER BY c.name",
        )?;
        let rows = statement.query_map(params![database_id], |row| {
            let count: i64 = row.get(3)?;
            let collection = read_collection_row(row)?;
            Ok(collection.map(|collection| (collection, count.max(0) as usize)))
        })?;
        rows.map(|row| row?).collect()
    }

    /// Inserts a collection (the caller checked that it does not exist).
    pub(crate) fn insert_collection(&self, collection: &Collection) -> Result<(), LocalError> {
        self.0.execute(
            "INSERT INTO collections (database_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![
                collection.database_id,
                collection.name,
                format_timestamp(collection.created_at)
            ],
        )?;
        Ok(())
    }

    /// One stored index.
    pub(crate) fn index(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<Option<Index>, LocalError> {
        self.0
            .query_row(
                &format!(
                    "SELECT {INDEX_COLUMNS} FROM indexes \
                     WHERE database_id = ?1 AND collection = ?2 AND name = ?3"
                ),
                params![database_id, collection, name],
                read_index_row,
            )
            .optional()?
            .transpose()
    }

    /// One stored index, by its UUID.
    pub(crate) fn index_by_uuid(
        &self,
        database_id: &str,
        uuid: &str,
    ) -> Result<Option<Index>, LocalError> {
        self.0
            .query_row(
                &format!(
                    "SELECT {INDEX_COLUMNS} FROM indexes WHERE database_id = ?1 AND uuid = ?2"
                ),
                params![database_id, uuid],
                read_index_row,
            )
            .optional()?
            .transpose()
    }

    /// The stored indexes of a collection, sorted by name.
    pub(crate) fn indexes(
        &self,
        database_id: &str,
        collection: &str,
    ) -> Result<Vec<Index>, LocalError> {
        let mut statement = self.0.prepare(&format!(
            "SELECT {INDEX_COLUMNS} FROM indexes WHERE database_id = ?1 AND collection = ?2 \
             ORDER BY name"
        ))?;
        let rows = statement.query_map(params![database_id, collection], read_index_row)?;
        rows.map(|row| row?).collect()
    }

    /// Inserts an index (its collection must exist).
    pub(crate) fn insert_index(&self, index: &Index) -> Result<(), LocalError> {
        self.0.execute(
            &format!("INSERT INTO indexes ({INDEX_COLUMNS}) VALUES ({INDEX_VALUES})"),
            index_params(index)?,
        )?;
        Ok(())
    }

    /// Overwrites an index's row.
    pub(crate) fn update_index(&self, index: &Index) -> Result<(), LocalError> {
        self.0.execute(
            &format!(
                "UPDATE indexes SET ({INDEX_COLUMNS}) = ({INDEX_VALUES}) \
                 WHERE database_id = ?1 AND collection = ?2 AND name = ?3"
            ),
            index_params(index)?,
        )?;
        Ok(())
    }

    /// Removes an index for good (its collection stays).
    pub(crate) fn remove_index(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<(), LocalError> {
        self.0.execute(
            "DELETE FROM indexes WHERE database_id = ?1 AND collection = ?2 AND name = ?3",
            params![database_id, collection, name],
        )?;
        Ok(())
    }

    /// One IP restriction, by canonical CIDR.
    pub(crate) fn ip_restriction(
        &self,
        database_id: &str,
        cidr: &str,
    ) -> Result<Option<IpRestriction>, LocalError> {
        self.0
            .query_row(
                &format!(
                    "SELECT {IP_RESTRICTION_COLUMNS} FROM ip_restrictions \
                     WHERE database_id = ?1 AND cidr = ?2"
                ),
                params![database_id, cidr],
                read_ip_restriction_row,
            )
            .optional()?
            .transpose()
    }

    /// One IP restriction, by its UUID.
    pub(crate) fn ip_restriction_by_uuid(
        &self,
        database_id: &str,
        uuid: &str,
    ) -> Result<Option<IpRestriction>, LocalError> {
        self.0
            .query_row(
                &format!(
                    "SELECT {IP_RESTRICTION_COLUMNS} FROM ip_restrictions \
                     WHERE database_id = ?1 AND uuid = ?2"
                ),
                params![database_id, uuid],
                read_ip_restriction_row,
            )
            .optional()?
            .transpose()
    }

    /// The IP restrictions of a database, in storage order (the rules sort them).
    pub(crate) fn ip_restrictions(
        &self,
        database_id: &str,
    ) -> Result<Vec<IpRestriction>, LocalError> {
        let mut statement = self.0.prepare(&format!(
            "SELECT {IP_RESTRICTION_COLUMNS} FROM ip_restrictions WHERE database_id = ?1 \
             ORDER BY cidr"
        ))?;
        let rows = statement.query_map(params![database_id], read_ip_restriction_row)?;
        rows.map(|row| row?).collect()
    }

    /// Inserts an IP restriction (the caller checked that the CIDR is free).
    pub(crate) fn insert_ip_restriction(
        &self,
        restriction: &IpRestriction,
    ) -> Result<(), LocalError> {
        insert_ip_restriction_row(&self.0, restriction)
    }

    /// Overwrites an IP restriction's row.
    pub(crate) fn update_ip_restriction(
        &self,
        restriction: &IpRestriction,
    ) -> Result<(), LocalError> {
        self.0.execute(
            &format!(
                "UPDATE ip_restrictions SET ({IP_RESTRICTION_COLUMNS}) = \
                 ({IP_RESTRICTION_VALUES}) WHERE database_id = ?1 AND cidr = ?2"
            ),
            ip_restriction_params(restriction),
        )?;
        Ok(())
    }

    /// Removes an IP restriction for good.
    pub(crate) fn remove_ip_restriction(
        &self,
        database_id: &str,
        cidr: &str,
    ) -> Result<(), LocalError> {
        self.0.execute(
            "DELETE FROM ip_restrictions WHERE database_id = ?1 AND cidr = ?2",
            params![database_id, cidr],
        )?;
        Ok(())
    }
}

fn insert_credential_row(tx: &Transaction<'_>, credential: &Credential) -> Result<(), LocalError> {
    tx.execute(
        &format!(
            "INSERT INTO credentials ({CREDENTIAL_COLUMNS}) \
             VALUES ({CREDENTIAL_VALUES})"
        ),
        credential_params(credential)?,
    )?;
    Ok(())
}

fn insert_ip_restriction_row(
    tx: &Transaction<'_>,
    restriction: &IpRestriction,
) -> Result<(), LocalError> {
    tx.execute(
        &format!(
            "INSERT INTO ip_restrictions ({IP_RESTRICTION_COLUMNS}) VALUES ({IP_RESTRICTION_VALUES})"
        ),
        ip_restriction_params(restriction),
    )?;
    Ok(())
}

fn read_credential_row(row: &Row<'_>) -> rusqlite::Result<Result<Credential, LocalError>> {
    let database_id: String = row.get(0)?;
    let username: String = row.get(1)?;
    let roles: String = row.get(2)?;
    let status: String = row.get(3)?;
    let secret: Option<String> = row.get(4)?;
    let hash: Option<String> = row.get(5)?;
    let created_at: String = row.get(6)?;
    let updated_at: String = row.get(7)?;
    let transition_at_ms: Option<i64> = row.get(8)?;
    let uuid: String = row.get(9)?;
    let fails_with: Option<String> = row.get(10)?;
    Ok((|| {
        let password = match (secret, hash) {
            (Some(secret), None) => StoredPassword::Generated(SecretString::from(secret)),
            (None, Some(hash)) => StoredPassword::Chosen(PasswordHash(hash)),
            _ => {
                return Err(LocalError::Corrupt(format!(
                    "credential {username} of {database_id} has no single password"
                )));
            }
        };
        Ok(Credential {
            roles: serde_json::from_str(&roles)
                .map_err(|error| LocalError::Corrupt(format!("bad roles {roles:?}: {error}")))?,
            status: Status::parse(&status)?,
            password,
            created_at: parse_time(&created_at)?,
            updated_at: parse_time(&updated_at)?,
            transition_at: transition_at_ms.map(millis_to_time).transpose()?,
            database_id,
            uuid,
            username,
            fails_with,
        })
    })())
}

fn credential_params(credential: &Credential) -> Result<impl rusqlite::Params, LocalError> {
    use rusqlite::types::Value as Sql;
    let (secret, hash) = match &credential.password {
        StoredPassword::Generated(secret) => (Some(secret.expose_secret().to_owned()), None),
        StoredPassword::Chosen(hash) => (None, Some(hash.0.clone())),
    };
    let roles = serde_json::to_string(&credential.roles)
        .map_err(|error| LocalError::Internal(format!("cannot encode roles: {error}")))?;
    let values: [Sql; 11] = [
        Sql::from(credential.database_id.clone()),
        Sql::from(credential.username.clone()),
        Sql::from(roles),
        Sql::from(credential.status.as_str().to_owned()),
        Sql::from(secret),
        Sql::from(hash),
        Sql::from(format_timestamp(credential.created_at)),
        Sql::from(format_timestamp(credential.updated_at)),
        Sql::from(credential.transition_at.map(|at| at.timestamp_millis())),
        Sql::from(credential.uuid.clone()),
        Sql::from(credential.fails_with.clone()),
    ];
    Ok(rusqlite::params_from_iter(values))
}

fn read_collection_row(row: &Row<'_>) -> rusqlite::Result<Result<Collection, LocalError>> {
    let database_id: String = row.get(0)?;
    let name: String = row.get(1)?;
    let created_at: String = row.get(2)?;
    Ok(parse_time(&created_at).map(|created_at| Collection {
        database_id,
        name,
        created_at,
    }))
}

fn read_index_row(row: &Row<'_>) -> rusqlite::Result<Result<Index, LocalError>> {
    let database_id: String = row.get(0)?;
    let collection: String = row.get(1)?;
    let name: String = row.get(2)?;
    let keys: String = row.get(3)?;
    let unique: bool = row.get(4)?;
    let sparse: bool = row.get(5)?;
    let status: String = row.get(6)?;
    let created_at: String = row.get(7)?;
    let transition_at_ms: Option<i64> = row.get(8)?;
    let uuid: String = row.get(9)?;
    let fails_with: Option<String> = row.get(10)?;
    Ok((|| {
        let keys: Vec<IndexKey> = serde_json::from_str(&keys)
            .map_err(|error| LocalError::Corrupt(format!("bad index keys {keys:?}: {error}")))?;
        Ok(Index {
            database_id,
            uuid,
            collection,
            name,
            keys,
            unique,
            sparse,
            status: Status::parse(&status)?,
            created_at: parse_time(&created_at)?,
            transition_at: transition_at_ms.map(millis_to_time).transpose()?,
            fails_with,
        })
    })())
}

fn index_params(index: &Index) -> Result<impl rusqlite::Params, LocalError> {
    use rusqlite::types::Value as Sql;
    let keys = serde_json::to_string(&index.keys)
        .map_err(|error| LocalError::Internal(format!("cannot encode index keys: {error}")))?;
    let values: [Sql; 11] = [
        Sql::from(index.database_id.clone()),
        Sql::from(index.collection.clone()),
        Sql::from(index.name.clone()),
        Sql::from(keys),
        Sql::from(index.unique),
        Sql::from(index.sparse),
        Sql::from(index.status.as_str().to_owned()),
        Sql::from(format_timestamp(index.created_at)),
        Sql::from(index.transition_at.map(|at| at.timestamp_millis())),
        Sql::from(index.uuid.clone()),
        Sql::from(index.fails_with.clone()),
    ];
    Ok(rusqlite::params_from_iter(values))
}

fn read_ip_restriction_row(row: &Row<'_>) -> rusqlite::Result<Result<IpRestriction, LocalError>> {
    let database_id: String = row.get(0)?;
    let cidr: String = row.get(1)?;
    let description: Option<String> = row.get(2)?;
    let status: String = row.get(3)?;
    let created_at: String = row.get(4)?;
    let transition_at_ms: Option<i64> = row.get(5)?;
    let uuid: String = row.get(6)?;
    let fails_with: Option<String> = row.get(7)?;
    Ok((|| {
        Ok(IpRestriction {
            database_id,
            uuid,
            cidr,
            description,
            status: Status::parse(&status)?,
            created_at: parse_time(&created_at)?,
            transition_at: transition_at_ms.map(millis_to_time).transpose()?,
            fails_with,
        })
    })())
}

fn ip_restriction_params(restriction: &IpRestriction) -> impl rusqlite::Params {
    use rusqlite::types::Value as Sql;
    let values: [Sql; 8] = [
        Sql::from(restriction.database_id.clone()),
        Sql::from(restriction.cidr.clone()),
        Sql::from(restriction.description.clone()),
        Sql::from(restriction.status.as_str().to_owned()),
        Sql::from(format_timestamp(restriction.created_at)),
        Sql::from(restriction.transition_at.map(|at| at.timestamp_millis())),
        Sql::from(restriction.uuid.clone()),
        Sql::from(restriction.fails_with.clone()),
    ];
    rusqlite::params_from_iter(values)
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
        let tx = begin_write(connection)?;
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

fn select_database_by_uuid(
    tx: &Transaction<'_>,
    uuid: &str,
) -> Result<Option<Database>, LocalError> {
    tx.query_row(
        &format!("SELECT {DATABASE_COLUMNS} FROM databases WHERE uuid = ?1 AND gone_at IS NULL"),
        params![uuid],
        read_database_row,
    )
    .optional()?
    .transpose()
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
    let uuid: String = row.get(13)?;
    let flavor: String = row.get(14)?;
    let node_count: i64 = row.get(15)?;
    let locked: bool = row.get(16)?;
    let fails_with: Option<String> = row.get(17)?;
    let served_at: Option<String> = row.get(18)?;
    Ok((|| {
        Ok(Database {
            id,
            uuid,
            name,
            engine,
            version,
            plan,
            region,
            flavor,
            node_count: u32::try_from(node_count)
                .map_err(|_| LocalError::Corrupt(format!("bad node count {node_count}")))?,
            description,
            locked,
            status: Status::parse(&status)?,
            status_message,
            created_at: parse_time(&created_at)?,
            updated_at: parse_time(&updated_at)?,
            transition_at: transition_at_ms.map(millis_to_time).transpose()?,
            gone_at: gone_at.as_deref().map(parse_time).transpose()?,
            fails_with,
            served_at,
        })
    })())
}

/// The 19 column values of a row, in `DATABASE_COLUMNS` order.
fn database_params(database: &Database) -> impl rusqlite::Params {
    use rusqlite::types::Value as Sql;
    let values: [Sql; 19] = [
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
        Sql::from(database.uuid.clone()),
        Sql::from(database.flavor.clone()),
        Sql::from(i64::from(database.node_count)),
        Sql::from(database.locked),
        Sql::from(database.fails_with.clone()),
        Sql::from(database.served_at.clone()),
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
            uuid: format!("00000000-0000-4000-8000-{}", &id[3..]),
            name: name.into(),
            engine: "mongodb".into(),
            version: "8.0".into(),
            plan: "essential".into(),
            region: "eu-west-1".into(),
            flavor: "db1-4".into(),
            node_count: 1,
            description: None,
            locked: false,
            status: Status::Creating,
            status_message: Some("provisioning".into()),
            created_at: at(0),
            updated_at: at(0),
            transition_at: Some(at(5) + chrono::Duration::milliseconds(250)),
            gone_at: None,
            fails_with: None,
            served_at: None,
        }
    }

    async fn insert(store: &Store, db: Database) {
        store
            .transact(move |tx| tx.insert_database(&db))
            .await
            .expect("insert");
    }

    #[tokio::test]
    async fn store_round_trips_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let mut db = database("db-000000000001", "alpha");
        db.description = Some("first".into());
        insert(&store, db.clone()).await;
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
    async fn store_tells_live_names_and_every_id_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        insert(&store, database("db-000000000001", "alpha")).await;
        let (named, taken, free) = store
            .transact(|tx| {
                Ok((
                    tx.live_database_id_named("alpha")?,
                    tx.database_id_taken("db-000000000001")?,
                    tx.database_id_taken("db-000000000002")?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(named.as_deref(), Some("db-000000000001"));
        assert!(taken);
        assert!(!free);
        // Once gone, the name is free again and the old row is invisible, its id still taken.
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
        let (named, taken) = store
            .transact(|tx| {
                Ok((
                    tx.live_database_id_named("alpha")?,
                    tx.database_id_taken("db-000000000001")?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(named, None);
        assert!(taken, "gone databases keep their ids");
        insert(&store, database("db-000000000002", "alpha")).await;
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
    async fn store_idempotency_records_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let record = IdempotencyRecord {
            request: "{a}".into(),
            resource_id: "db-000000000001".into(),
        };
        let recorded = record.clone();
        store
            .transact(move |tx| tx.record_idempotency_key("scope", "k1", &recorded, at(0)))
            .await
            .unwrap();
        let (found, other_scope) = store
            .transact(|tx| {
                Ok((
                    tx.idempotency_record("scope", "k1", at(-86_400))?,
                    tx.idempotency_record("other", "k1", at(-86_400))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(found, Some(record));
        assert_eq!(other_scope, None);
        // Looked up a day later, the key is forgotten for good.
        let (expired, after) = store
            .transact(|tx| {
                Ok((
                    tx.idempotency_record("scope", "k1", at(1))?,
                    tx.idempotency_record("scope", "k1", at(-86_400))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!((expired, after), (None, None));
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

    fn is_v4_uuid(text: &str) -> bool {
        uuid::Uuid::parse_str(text)
            .is_ok_and(|parsed| parsed.get_version_num() == 4 && parsed.to_string() == text)
    }

    #[tokio::test]
    async fn store_migrates_a_version_1_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        {
            let connection = Connection::open(dir.path().join(STORE_FILE)).unwrap();
            connection
                .execute_batch(
                    "CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;
                     INSERT INTO schema_version (version) VALUES (1);",
                )
                .unwrap();
            connection.execute_batch(MIGRATIONS[0]).unwrap();
            for (id, name, plan) in [
                ("db-000000000001", "old", "essential"),
                ("db-000000000002", "older", "business"),
                ("db-000000000003", "oldest", "enterprise"),
            ] {
                connection
                    .execute(
                        "INSERT INTO databases (id, name, engine, version, plan, region, \
                         description, status, status_message, created_at, updated_at, \
                         transition_at_ms, gone_at) VALUES (?1, ?2, 'mongodb', '8.0', ?3, \
                         'eu-west-1', NULL, 'READY', NULL, '2026-11-22T08:00:00Z', \
                         '2026-11-22T08:00:00Z', NULL, NULL)",
                        params![id, name, plan],
                    )
                    .unwrap();
            }
        }
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), 6);
        let old = store.database("db-000000000001").await.unwrap().unwrap();
        assert_eq!(old.name, "old");
        assert_eq!((old.flavor.as_str(), old.node_count), ("db1-4", 1));
        assert!(!old.locked);
        let mut uuids = vec![old.uuid.clone()];
        for id in ["db-000000000002", "db-000000000003"] {
            let migrated = store.database(id).await.unwrap().unwrap();
            assert_eq!(migrated.node_count, 3, "{id}");
            uuids.push(migrated.uuid);
        }
        for uuid in &uuids {
            assert!(is_v4_uuid(uuid), "{uuid}");
        }
        uuids.sort();
        uuids.dedup();
        assert_eq!(uuids.len(), 3, "every row gets its own UUID");
        let found = store.database_by_uuid(&old.uuid).await.unwrap().unwrap();
        assert_eq!(found.id, old.id);
        let children = store
            .transact(|tx| tx.credentials("db-000000000001"))
            .await
            .unwrap();
        assert!(children.is_empty());
    }

    #[tokio::test]
    async fn store_migration_3_gives_credentials_uuids() {
        let dir = tempfile::tempdir().unwrap();
        {
            let connection = Connection::open(dir.path().join(STORE_FILE)).unwrap();
            connection
                .execute_batch(
                    "CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;
                     INSERT INTO schema_version (version) VALUES (2);",
                )
                .unwrap();
            connection.execute_batch(MIGRATIONS[0]).unwrap();
            connection.execute_batch(MIGRATIONS[1]).unwrap();
            connection
                .execute_batch(
                    "INSERT INTO databases (id, name, engine, version, plan, region, status, \
                     created_at, updated_at) VALUES ('db-000000000001', 'alpha', 'mongodb', \
                     '8.0', 'essential', 'eu-west-1', 'READY', '2026-11-22T08:00:00Z', \
                     '2026-11-22T08:00:00Z');
                     INSERT INTO credentials (database_id, username, roles, status, \
                     password_secret, created_at, updated_at) VALUES ('db-000000000001', \
                     'app', '[]', 'READY', 'Secret123', '2026-11-22T08:00:00Z', \
                     '2026-11-22T08:00:00Z');",
                )
                .unwrap();
        }
        let store = Store::open(dir.path()).await.unwrap();
        let (credentials, by_uuid) = store
            .transact(|tx| {
                let credentials = tx.credentials("db-000000000001")?;
                let by_uuid = tx.credential_by_uuid("db-000000000001", &credentials[0].uuid)?;
                Ok((credentials, by_uuid))
            })
            .await
            .unwrap();
        assert!(is_v4_uuid(&credentials[0].uuid), "{}", credentials[0].uuid);
        assert_eq!(by_uuid.unwrap().username, "app");
    }

    #[tokio::test]
    async fn store_migration_4_gives_indexes_and_ip_restrictions_uuids() {
        let dir = tempfile::tempdir().unwrap();
        {
            let connection = Connection::open(dir.path().join(STORE_FILE)).unwrap();
            connection
                .execute_batch(
                    "CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;
                     INSERT INTO schema_version (version) VALUES (3);",
                )
                .unwrap();
            for migration in &MIGRATIONS[..3] {
                connection.execute_batch(migration).unwrap();
            }
            connection
                .execute_batch(
                    "INSERT INTO databases (id, name, engine, version, plan, region, status, \
                     created_at, updated_at, uuid) VALUES ('db-000000000001', 'alpha', \
                     'mongodb', '8.0', 'essential', 'eu-west-1', 'READY', \
                     '2026-11-22T08:00:00Z', '2026-11-22T08:00:00Z', 'u-1');
                     INSERT INTO collections (database_id, name, created_at) VALUES \
                     ('db-000000000001', 'orders', '2026-11-22T08:00:00Z');
                     INSERT INTO indexes (database_id, collection, name, keys, is_unique, \
                     is_sparse, status, created_at) VALUES ('db-000000000001', 'orders', 'a_1', \
                     '[{\"field\":\"a\",\"direction\":1}]', 0, 0, 'READY', \
                     '2026-11-22T08:00:00Z');
                     INSERT INTO ip_restrictions (database_id, cidr, status, created_at) VALUES \
                     ('db-000000000001', '10.0.0.0/8', 'READY', '2026-11-22T08:00:00Z'),
                     ('db-000000000001', '10.1.0.0/16', 'READY', '2026-11-22T08:00:00Z');",
                )
                .unwrap();
        }
        let store = Store::open(dir.path()).await.unwrap();
        let (indexes, restrictions) = store
            .transact(|tx| {
                Ok((
                    tx.indexes("db-000000000001", "orders")?,
                    tx.ip_restrictions("db-000000000001")?,
                ))
            })
            .await
            .unwrap();
        assert!(is_v4_uuid(&indexes[0].uuid), "{}", indexes[0].uuid);
        assert!(restrictions.iter().all(|r| is_v4_uuid(&r.uuid)));
        assert_ne!(restrictions[0].uuid, restrictions[1].uuid);
        let found = store
            .transact({
                let uuid = restrictions[1].uuid.clone();
                move |tx| tx.ip_restriction_by_uuid("db-000000000001", &uuid)
            })
            .await
            .unwrap();
        assert_eq!(found.unwrap().cidr, "10.1.0.0/16");
    }

    fn credential(database_id: &str, username: &str, password: StoredPassword) -> Credential {
        Credential {
            database_id: database_id.into(),
            uuid: crate::local::model::new_uuid(),
            username: username.into(),
            roles: vec!["read@app".into(), "dbOwner@app".into()],
            status: Status::Creating,
            password,
            created_at: at(0),
            updated_at: at(0),
            transition_at: Some(at(7)),
            fails_with: None,
        }
    }

    fn index(database_id: &str, name: &str, due: Option<DateTime<Utc>>) -> Index {
        Index {
            database_id: database_id.into(),
            uuid: format!("00000000-0000-4000-8000-{name:0>12}"),
            collection: "orders".into(),
            name: name.into(),
            keys: vec![IndexKey {
                field: name.into(),
                direction: -1,
            }],
            unique: true,
            sparse: false,
            status: Status::Building,
            created_at: at(0),
            transition_at: due,
            fails_with: None,
        }
    }

    #[tokio::test]
    async fn store_round_trips_children_and_tracks_their_transitions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let mut db = database("db-000000000001", "alpha");
        db.transition_at = Some(at(50));
        insert(&store, db).await;
        store
            .transact(|tx| {
                tx.insert_credential(&credential(
                    "db-000000000001",
                    "zed",
                    StoredPassword::Generated(SecretString::from("Generated123")),
                ))?;
                tx.insert_credential(&credential(
                    "db-000000000001",
                    "amy",
                    StoredPassword::Chosen(PasswordHash("pbkdf2-sha256$1$AA$AA".into())),
                ))?;
                tx.insert_collection(&Collection {
                    database_id: "db-000000000001".into(),
                    name: "orders".into(),
                    created_at: at(0),
                })?;
                tx.insert_index(&index("db-000000000001", "b", Some(at(3))))?;
                tx.insert_index(&index("db-000000000001", "a", None))?;
                tx.insert_ip_restriction(&IpRestriction {
                    database_id: "db-000000000001".into(),
                    uuid: crate::local::model::new_uuid(),
                    cidr: "10.0.0.0/8".into(),
                    description: Some("office".into()),
                    status: Status::Creating,
                    created_at: at(0),
                    transition_at: Some(at(5)),
                    fails_with: None,
                })?;
                Ok(())
            })
            .await
            .unwrap();

        let (credentials, collections, indexes, restriction) = store
            .transact(|tx| {
                Ok((
                    tx.credentials("db-000000000001")?,
                    tx.collections("db-000000000001")?,
                    tx.indexes("db-000000000001", "orders")?,
                    tx.ip_restriction("db-000000000001", "10.0.0.0/8")?,
                ))
            })
            .await
            .unwrap();
        let names: Vec<&str> = credentials.iter().map(|c| c.username.as_str()).collect();
        assert_eq!(names, ["amy", "zed"]);
        assert!(credentials[0].password.is_chosen());
        assert!(matches!(
            &credentials[1].password,
            StoredPassword::Generated(secret) if secret.expose_secret() == "Generated123"
        ));
        assert_eq!(credentials[1].roles, ["read@app", "dbOwner@app"]);
        assert_eq!(credentials[1].transition_at, Some(at(7)));
        assert_eq!(collections.len(), 1);
        assert_eq!(collections[0].1, 2, "two stored indexes");
        assert_eq!(indexes[0], index("db-000000000001", "a", None));
        assert_eq!(indexes[1].name, "b");
        assert_eq!(restriction.unwrap().description.as_deref(), Some("office"));

        assert_eq!(store.next_transition_at().await.unwrap(), Some(at(3)));
        assert_eq!(
            store.due_children(at(6)).await.unwrap(),
            [
                DueChild::Index {
                    database_id: "db-000000000001".into(),
                    collection: "orders".into(),
                    name: "b".into()
                },
                DueChild::IpRestriction {
                    database_id: "db-000000000001".into(),
                    cidr: "10.0.0.0/8".into()
                }
            ]
        );
        assert_eq!(store.due_children(at(7)).await.unwrap().len(), 4);

        // Children go DELETING with their database, then disappear with it.
        store
            .transact(|tx| tx.mark_children_deleting("db-000000000001", at(9), at(20)))
            .await
            .unwrap();
        let (credentials, indexes) = store
            .transact(|tx| {
                Ok((
                    tx.credentials("db-000000000001")?,
                    tx.indexes("db-000000000001", "orders")?,
                ))
            })
            .await
            .unwrap();
        assert!(credentials.iter().all(|c| c.status == Status::Deleting
            && c.transition_at == Some(at(20))
            && c.updated_at == at(9)));
        assert!(indexes.iter().all(|i| i.status == Status::Deleting));
        store
            .transact(|tx| tx.remove_children("db-000000000001"))
            .await
            .unwrap();
        let left = store
            .call(|connection| {
                let mut total = 0;
                for table in ["credentials", "collections", "indexes", "ip_restrictions"] {
                    let count: i64 = connection.query_row(
                        &format!("SELECT count(*) FROM {table}"),
                        [],
                        |row| row.get(0),
                    )?;
                    total += count;
                }
                Ok(total)
            })
            .await
            .unwrap();
        assert_eq!(left, 0);
        assert_eq!(store.next_transition_at().await.unwrap(), Some(at(50)));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn store_transact_waits_for_another_writer_instead_of_failing_busy() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        insert(&store, database("db-000000000001", "shared")).await;
        // Another connection (a second process, say) holds the write lock for a moment.
        let other = Connection::open(dir.path().join(STORE_FILE)).unwrap();
        other
            .execute_batch(
                "BEGIN IMMEDIATE; \
                 UPDATE databases SET description = 'other' WHERE id = 'db-000000000001';",
            )
            .unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        // Reads, then writes: begun deferred, its read would predate the other commit and its
        // write would fail with SQLITE_BUSY instead of waiting.
        let written = store
            .transact(|tx| {
                let current = tx.database("db-000000000001")?.unwrap();
                let description = format!("{} then store", current.description.unwrap_or_default());
                tx.update_database(&Database {
                    description: Some(description),
                    ..current
                })
            })
            .await;
        release.join().unwrap();
        written.expect("the write waits for the other writer");
        let stored = store.database("db-000000000001").await.unwrap().unwrap();
        assert_eq!(stored.description.as_deref(), Some("other then store"));
    }

    #[tokio::test]
    async fn store_transact_rolls_back_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        insert(&store, database("db-000000000001", "alpha")).await;
        let error = store
            .transact(|tx| {
                tx.insert_collection(&Collection {
                    database_id: "db-000000000001".into(),
                    name: "orders".into(),
                    created_at: at(0),
                })?;
                Err::<(), _>(LocalError::Duplicate("no".into()))
            })
            .await
            .unwrap_err();
        assert!(matches!(error, LocalError::Duplicate(_)));
        let collections = store
            .transact(|tx| tx.collections("db-000000000001"))
            .await
            .unwrap();
        assert!(collections.is_empty());
    }

    #[tokio::test]
    async fn store_modify_errors_do_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        insert(&store, database("db-000000000001", "alpha")).await;
        let error = store
            .modify_database("db-000000000001", |_| Err(LocalError::Busy("busy".into())))
            .await
            .unwrap_err();
        assert!(matches!(error, LocalError::Busy(_)));
        let unchanged = store
            .modify_database("db-000000000001", |_| Ok(None))
            .await
            .unwrap();
        assert!(matches!(unchanged, Modified::Unchanged(db) if db.name == "alpha"));
    }
}
