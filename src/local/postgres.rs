//! The real PostgreSQL behind `engine = "postgresql"`: one cluster under the data dir
//! (`<data dir>/postgresql/`), made with `initdb` on first use and run with `pg_ctl` on a
//! loopback port, and the idempotent operations the domain asks of it (a database, a login
//! role with its grants, a collection's table and its indexes, the `pg_hba.conf` rules).
//!
//! Like the store, it holds no rule of the service: it does what it is told, and every
//! operation can be repeated (after a crash, the next start asks again).
//!
//! - The cluster is reached by its administrator over a Unix socket in the cluster dir, mode
//!   0700, with `trust`; every TCP connection needs a role's password (SCRAM-SHA-256), from an
//!   address a database's rules allow. Nothing else listens.
//! - PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` system user
//!   (else `nobody`), which [`Postgres::run_as`] names.
//! - Passwords never go to PostgreSQL in clear: a role gets the SCRAM verifier derived from
//!   the service's own salted PBKDF2-HMAC-SHA256 hash (the same function SCRAM uses), so even
//!   a chosen password the service never kept works. Statements are not logged on error
//!   (`log_min_error_statement = panic`), so no verifier reaches the server log either.
//! - A `dbaas-local` killed with `-9` leaves its postmaster running; the next start stops it
//!   (`pg_ctl stop`) before starting its own, so one postmaster serves the data dir.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::NoTls;

/// The cluster's administrator role; credentials may not take this name.
pub(crate) const ADMIN_ROLE: &str = "dbaas_local_admin";

/// How long `pg_ctl` may take to start or stop the server.
const PG_CTL_WAIT_SECONDS: &str = "60";

/// Where PostgreSQL's server programs are, by the order the issue of engines asks: the
/// directory given, else `pg_config --bindir`, else Debian's newest `/usr/lib/postgresql/*/bin`.
/// `None` when none of them has `initdb`, `pg_ctl` and `postgres`.
pub(crate) fn locate_binaries(given: Option<&Path>) -> Option<PathBuf> {
    let usable = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|program| dir.join(program).is_file())
    };
    if let Some(dir) = given {
        return usable(dir).then(|| dir.to_path_buf());
    }
    // Looked for once per process: the answer does not change, and every start would
    // otherwise run pg_config.
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND.get_or_init(|| search_binaries(usable)).clone()
}

fn search_binaries(usable: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    if let Some(dir) = from_pg_config.filter(|dir| usable(dir)) {
        return Some(dir);
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| usable(dir))
        .collect();
    debian.sort();
    debian.pop().map(|(_, dir)| dir)
}

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PostgresError {
    /// The server could not be reached or started: worth trying again later.
    #[error("PostgreSQL is not available: {0}")]
    Unavailable(String),
    /// PostgreSQL refused the operation: trying again changes nothing.
    #[error("PostgreSQL refused it: {0}")]
    Refused(String),
    /// The role name belongs to another database's credential: role names are the cluster's.
    #[error("{0}")]
    RoleTaken(String),
}

impl From<tokio_postgres::Error> for PostgresError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.as_db_error() {
            Some(db) => Self::Refused(db.message().to_owned()),
            None => Self::Unavailable(error.to_string()),
        }
    }
}

/// The system user an unprivileged cluster runs as.
#[derive(Debug, Clone)]
pub(crate) struct SystemUser {
    /// Its name, for the log.
    pub(crate) name: String,
    uid: u32,
    gid: u32,
}

impl SystemUser {
    /// The `postgres` user, else `nobody`, from `/etc/passwd`.
    fn unprivileged() -> Option<Self> {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        ["postgres", "nobody"].iter().find_map(|wanted| {
            passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                if fields.len() < 4 || fields[0] != *wanted {
                    return None;
                }
                Some(Self {
                    name: fields[0].to_owned(),
                    uid: fields[2].parse().ok()?,
                    gid: fields[3].parse().ok()?,
                })
            })
        })
    }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|meta| std::os::unix::fs::MetadataExt::uid(&meta) == 0)
        .unwrap_or(false)
}

/// A database's network rule: connections to `database` from `cidr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HbaRule {
    /// The database name.
    pub(crate) database: String,
    /// The CIDR, canonical.
    pub(crate) cidr: String,
}

/// One key of an index: a document field and its direction.
#[derive(Debug, Clone)]
pub(crate) struct IndexKey {
    /// The field, dotted for nested ones (`address.city`).
    pub(crate) field: String,
    /// Descending order.
    pub(crate) descending: bool,
}

/// The privileges a credential's role gets on one database, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    /// Logging in, and nothing more (a user of the database without roles on it).
    Connect,
    /// SELECT.
    Read,
    /// SELECT, INSERT, UPDATE, DELETE.
    ReadWrite,
    /// Every privilege on the tables, and making tables.
    Owner,
}

/// The cluster of one data dir. Started on first use; stopped when dropped.
#[derive(Debug)]
pub(crate) struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    run_as: Option<SystemUser>,
    /// The port once the server runs.
    port: Mutex<Option<u16>>,
    /// Whether this run started the server: from then on it is meant to be running.
    started: AtomicBool,
}

impl Postgres {
    /// The cluster under `data_dir`, with the server programs in `bin`. Nothing runs yet.
    pub(crate) fn new(bin: PathBuf, data_dir: &Path) -> Self {
        let run_as = running_as_root().then(SystemUser::unprivileged).flatten();
        if run_as.is_some() {
            for removed in prune_relocated(Path::new(RELOCATED)) {
                tracing::info!(
                    cluster = %removed.display(),
                    "removed a relocated PostgreSQL cluster whose data dir is gone"
                );
            }
        }
        Self {
            bin,
            dir: cluster_home(data_dir, run_as.as_ref(), Path::new(RELOCATED)),
            run_as,
            port: Mutex::new(None),
            started: AtomicBool::new(false),
        }
    }

    /// The directory of the cluster (its data, socket, port and log).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server programs' directory.
    pub(crate) fn bin(&self) -> &Path {
        &self.bin
    }

    /// The system user the cluster runs as, when dbaas-local runs as root.
    pub(crate) fn run_as(&self) -> Option<&SystemUser> {
        self.run_as.as_ref()
    }

    fn cluster(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.join("socket")
    }

    /// The port the server listens on (127.0.0.1), starting it first if needed.
    pub(crate) async fn port(&self) -> Result<u16, PostgresError> {
        let mut port = self.port.lock().await;
        if let Some(port) = *port {
            return Ok(port);
        }
        let started = {
            let this = (self.bin.clone(), self.dir.clone(), self.run_as.clone());
            tokio::task::spawn_blocking(move || start_cluster(&this.0, &this.1, this.2.as_ref()))
                .await
                .map_err(|e| PostgresError::Unavailable(e.to_string()))??
        };
        *port = Some(started);
        self.started.store(true, Ordering::Relaxed);
        Ok(started)
    }

    /// Whether the server this run started is not running any more without having been asked
    /// to stop (its postmaster killed or crashed). Its port is then forgotten, so that
    /// [`Postgres::port`] starts it again. Decided by the postmaster alone: a port forgotten
    /// after a failed connection to a server that still runs is no reason to restart it.
    pub(crate) async fn stopped_unexpectedly(&self) -> bool {
        if !self.started.load(Ordering::Relaxed) {
            return false;
        }
        let mut port = self.port.lock().await;
        if postmaster_running(&self.cluster()) {
            return false;
        }
        *port = None;
        true
    }

    /// Marks the server as not running (it stopped, or a connection found it gone), so the
    /// next operation starts it again.
    async fn forget_port(&self) {
        *self.port.lock().await = None;
    }

    /// A connection as the administrator to `database`.
    async fn admin(&self, database: &str) -> Result<tokio_postgres::Client, PostgresError> {
        let port = self.port().await?;
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(self.socket_dir())
            .port(port)
            .user(ADMIN_ROLE)
            .dbname(database)
            .connect_timeout(Duration::from_secs(10));
        match config.connect(NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                Ok(client)
            }
            Err(error) if error.as_db_error().is_none() => {
                // The server may have died: the next attempt starts it again.
                self.forget_port().await;
                Err(error.into())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Creates the database `name` unless it exists, closed to every role but the ones
    /// granted, and checks that it accepts connections.
    pub(crate) async fn ensure_database(&self, name: &str) -> Result<(), PostgresError> {
        let admin = self.admin("postgres").await?;
        let exists = admin
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .await?
            .is_some();
        if !exists {
            // CREATE DATABASE runs alone: not inside the implicit transaction of a batch.
            admin
                .batch_execute(&format!("CREATE DATABASE {}", identifier(name)))
                .await?;
        }
        admin
            .batch_execute(&format!(
                "REVOKE ALL ON DATABASE {} FROM PUBLIC",
                identifier(name)
            ))
            .await?;
        self.admin(name).await?.batch_execute("SELECT 1").await?;
        Ok(())
    }

    /// Drops the database `name` (its connections cut), if it exists.
    pub(crate) async fn drop_database(&self, name: &str) -> Result<(), PostgresError> {
        self.admin("postgres")
            .await?
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                identifier(name)
            ))
            .await?;
        Ok(())
    }

    /// Makes `role` a login role with the SCRAM `verifier`, owned by `owner` (a label kept as
    /// the role's comment: a role another owner has is refused, since role names are shared by
    /// the whole cluster), with exactly the `grants` given on the databases that exist.
    pub(crate) async fn ensure_role(
        &self,
        role: &str,
        owner: &str,
        verifier: &str,
        grants: &[(Access, String)],
    ) -> Result<(), PostgresError> {
        let admin = self.admin("postgres").await?;
        let existing = admin
            .query_opt(
                "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1",
                &[&role],
            )
            .await?;
        let quoted = identifier(role);
        match existing {
            Some(row) => {
                let comment: Option<String> = row.get(0);
                if comment.as_deref() != Some(owner) {
                    return Err(PostgresError::RoleTaken(format!(
                        "the role {role} belongs to {}; a username names one role across the \
                         PostgreSQL databases of dbaas-local",
                        comment.as_deref().unwrap_or("PostgreSQL itself")
                    )));
                }
                admin
                    .batch_execute(&format!(
                        "ALTER ROLE {quoted} LOGIN PASSWORD {}",
                        literal(verifier)
                    ))
                    .await?;
            }
            None => {
                admin
                    .batch_execute(&format!(
                        "CREATE ROLE {quoted} LOGIN PASSWORD {}; COMMENT ON ROLE {quoted} IS {}",
                        literal(verifier),
                        literal(owner)
                    ))
                    .await?;
            }
        }
        for database in &user_databases(&admin).await? {
            let access = grants
                .iter()
                .filter(|(_, name)| name == database)
                .map(|(access, _)| *access)
                .max();
            let db = identifier(database);
            let mut sql = format!(
                "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted};
                 ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {quoted};
                 REVOKE ALL ON SCHEMA public FROM {quoted};"
            );
            if let Some(access) = access.filter(|access| *access > Access::Connect) {
                let (schema, privileges) = match access {
                    Access::Connect | Access::Read => ("USAGE", "SELECT"),
                    Access::ReadWrite => ("USAGE", "SELECT, INSERT, UPDATE, DELETE"),
                    Access::Owner => ("ALL", "ALL PRIVILEGES"),
                };
                let _ = write!(
                    sql,
                    "GRANT {schema} ON SCHEMA public TO {quoted};
                     GRANT {privileges} ON ALL TABLES IN SCHEMA public TO {quoted};
                     GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted};
                     ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {privileges} ON TABLES TO {quoted};
                     ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {quoted};"
                );
            }
            self.admin(database).await?.batch_execute(&sql).await?;
            let connect = if access.is_some() { "GRANT" } else { "REVOKE" };
            let direction = if access.is_some() { "TO" } else { "FROM" };
            admin
                .batch_execute(&format!(
                    "{connect} CONNECT ON DATABASE {db} {direction} {quoted}"
                ))
                .await?;
        }
        Ok(())
    }

    /// Drops `role` if `owner` has it: first what it owns or was granted, in every database.
    pub(crate) async fn drop_role(&self, role: &str, owner: &str) -> Result<(), PostgresError> {
        let admin = self.admin("postgres").await?;
        let comment: Option<Option<String>> = admin
            .query_opt(
                "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1",
                &[&role],
            )
            .await?
            .map(|row| row.get(0));
        if comment.flatten().as_deref() != Some(owner) {
            return Ok(());
        }
        let quoted = identifier(role);
        for database in &user_databases(&admin).await? {
            self.admin(database)
                .await?
                .batch_execute(&format!(
                    "REASSIGN OWNED BY {quoted} TO {ADMIN_ROLE}; DROP OWNED BY {quoted}"
                ))
                .await?;
        }
        admin
            .batch_execute(&format!("DROP ROLE IF EXISTS {quoted}"))
            .await?;
        Ok(())
    }

    /// Creates the table of `collection` in `database` (one JSONB document per row) and the
    /// index `name` on it, unless they exist.
    pub(crate) async fn ensure_index(
        &self,
        database: &str,
        collection: &str,
        name: &str,
        keys: &[IndexKey],
        unique: bool,
        sparse: bool,
    ) -> Result<(), PostgresError> {
        let table = identifier(collection);
        let expressions: Vec<String> = keys
            .iter()
            .map(|key| {
                format!(
                    "({}){}",
                    field(&key.field),
                    if key.descending { " DESC" } else { "" }
                )
            })
            .collect();
        let partial = if sparse {
            let present: Vec<String> = keys
                .iter()
                .map(|key| format!("{} IS NOT NULL", field(&key.field)))
                .collect();
            format!(" WHERE {}", present.join(" AND "))
        } else {
            String::new()
        };
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {table} (id bigserial PRIMARY KEY, document jsonb NOT NULL);
             CREATE {unique}INDEX IF NOT EXISTS {index} ON {table} ({}){partial}",
            expressions.join(", "),
            unique = if unique { "UNIQUE " } else { "" },
            index = identifier(&index_name(collection, name)),
        );
        self.admin(database).await?.batch_execute(&sql).await?;
        Ok(())
    }

    /// Drops the index `name` of `collection` in `database`, if both exist.
    pub(crate) async fn drop_index(
        &self,
        database: &str,
        collection: &str,
        name: &str,
    ) -> Result<(), PostgresError> {
        let admin = match self.admin(database).await {
            // The database is gone already, and its indexes with it.
            Err(PostgresError::Refused(_)) => return Ok(()),
            other => other?,
        };
        admin
            .batch_execute(&format!(
                "DROP INDEX IF EXISTS {}",
                identifier(&index_name(collection, name))
            ))
            .await?;
        Ok(())
    }

    /// Replaces the network rules (`pg_hba.conf`) and has the server reload them: each
    /// database accepts password logins from its rules' networks only, and a database without
    /// rules from 127.0.0.1 only.
    pub(crate) async fn apply_rules(
        &self,
        databases: &[String],
        rules: &[HbaRule],
    ) -> Result<(), PostgresError> {
        let admin = self.admin("postgres").await?;
        let text = hba_text(databases, rules);
        let path = self.cluster().join("pg_hba.conf");
        let owner = self.run_as.clone();
        tokio::task::spawn_blocking(move || write_owned(&path, &text, owner.as_ref()))
            .await
            .map_err(|e| PostgresError::Unavailable(e.to_string()))?
            .map_err(|e| PostgresError::Unavailable(format!("cannot write pg_hba.conf: {e}")))?;
        admin.batch_execute("SELECT pg_reload_conf()").await?;
        Ok(())
    }

    /// Stops the server if it runs (fast shutdown: connections are cut).
    pub(crate) fn stop(&self) {
        if self.cluster().join("postmaster.pid").exists() {
            stop_cluster(&self.bin, &self.cluster(), self.run_as.as_ref());
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The databases roles can be granted: every one but the templates and `postgres`.
async fn user_databases(admin: &tokio_postgres::Client) -> Result<Vec<String>, PostgresError> {
    Ok(admin
        .query(
            "SELECT datname FROM pg_database \
             WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres'",
            &[],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// The text of `pg_hba.conf`: the administrator over the socket, then each database's rules.
fn hba_text(databases: &[String], rules: &[HbaRule]) -> String {
    let mut text = String::from(
        "# Written by dbaas-local; replaced whenever a database or an IP restriction changes.\n\
         local all all trust\n",
    );
    for database in databases {
        let quoted = format!("\"{}\"", database.replace('"', "\"\""));
        let mut allowed: Vec<&str> = rules
            .iter()
            .filter(|rule| &rule.database == database)
            .map(|rule| rule.cidr.as_str())
            .collect();
        if allowed.is_empty() {
            allowed.push("127.0.0.1/32");
        }
        for cidr in allowed {
            let _ = writeln!(text, "host {quoted} all {cidr} scram-sha-256");
        }
    }
    text
}

/// A name as a quoted SQL identifier.
fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string as an SQL literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The text of a document field, `document #>> '{a,b}'` for `a.b`.
fn field(path: &str) -> String {
    let parts: Vec<String> = path
        .split('.')
        .map(|part| format!("\"{}\"", part.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!(
        "document #>> {}",
        literal(&format!("{{{}}}", parts.join(",")))
    )
}

/// Index names are per schema in PostgreSQL, per collection here: `<collection>_<name>`, cut
/// to PostgreSQL's 63 bytes with a hash that keeps cut names apart.
fn index_name(collection: &str, name: &str) -> String {
    let full = format!("{collection}_{name}");
    if full.len() <= 63 {
        return full;
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, full.as_bytes());
    let hash: String = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut cut = 54;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &full[..cut])
}

fn command(bin: &Path, program: &str, run_as: Option<&SystemUser>) -> Command {
    let mut command = Command::new(bin.join(program));
    if let Some(user) = run_as {
        command.uid(user.uid).gid(user.gid);
    }
    // Never the caller's PG* settings: the cluster is configured here alone.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            command.env_remove(key);
        }
    }
    command.env("LC_ALL", "C");
    command
}

fn run(mut command: Command, what: &str) -> Result<(), PostgresError> {
    let output = command
        .output()
        .map_err(|e| PostgresError::Unavailable(format!("cannot run {what}: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(PostgresError::Unavailable(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

fn io(what: &str) -> impl Fn(std::io::Error) -> PostgresError + '_ {
    move |e| PostgresError::Unavailable(format!("{what}: {e}"))
}

/// Writes `path` (mode 0600) owned by `owner`.
fn write_owned(path: &Path, text: &str, owner: Option<&SystemUser>) -> std::io::Result<()> {
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    if let Some(user) = owner {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))?;
    }
    Ok(())
}

/// Where relocated clusters live (see [`cluster_home`]).
const RELOCATED: &str = "/var/tmp/dbaas-local-postgresql";

/// The file of a relocated cluster that names the data dir it belongs to.
const OWNER_FILE: &str = "data-dir";

/// Where the cluster of `data_dir` lives: `<data dir>/postgresql`, unless the cluster's user
/// cannot reach the data dir (a parent closed to it, as `mktemp -d` makes them). Then it is
/// `<relocated root>/<id>` (the root is [`RELOCATED`]), linked from `<data dir>/postgresql`, with
/// the id kept in the data dir (`postgresql.id`) so that another data dir never gets this one's
/// cluster, and the data dir named in the cluster's [`OWNER_FILE`], so that a cluster outliving
/// its data dir is removed ([`prune_relocated`]).
fn cluster_home(data_dir: &Path, run_as: Option<&SystemUser>, relocated_root: &Path) -> PathBuf {
    let home = data_dir.join("postgresql");
    if let Ok(target) = std::fs::read_link(&home) {
        return target;
    }
    let Some(user) = run_as else {
        return home;
    };
    if home.is_dir() || reachable(data_dir, user) {
        return home;
    }
    let id_file = data_dir.join("postgresql.id");
    let id = std::fs::read_to_string(&id_file)
        .ok()
        .map(|text| text.trim().to_owned())
        .filter(|id| id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| {
            let id = format!("{:016x}", rand::random::<u64>());
            let _ = std::fs::write(&id_file, &id);
            id
        });
    let relocated = relocated_root.join(id);
    // A link where the cluster would be, so the data dir still shows where it is. Made before
    // the cluster's directory, so that no prune finds that directory without its link.
    let _ = std::os::unix::fs::symlink(&relocated, &home);
    if let Ok(owner) = data_dir.canonicalize()
        && std::fs::create_dir_all(&relocated).is_ok()
    {
        let _ = std::fs::write(relocated.join(OWNER_FILE), owner.as_os_str().as_bytes());
    }
    relocated
}

/// Removes the relocated clusters under `relocated_root` whose data dir is gone (or no longer
/// links to them) and where no postmaster runs; returns them. A cluster without an
/// [`OWNER_FILE`] is kept: nothing says whose it is.
fn prune_relocated(relocated_root: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(relocated_root)
        .into_iter()
        .flatten()
        .flatten()
    {
        let home = entry.path();
        let Ok(owner) = std::fs::read(home.join(OWNER_FILE)) else {
            continue;
        };
        let link = PathBuf::from(std::ffi::OsString::from_vec(owner)).join("postgresql");
        let linked = std::fs::read_link(link).is_ok_and(|target| target == home);
        if linked || postmaster_running(&home.join("data")) {
            continue;
        }
        if std::fs::remove_dir_all(&home).is_ok() {
            removed.push(home);
        }
    }
    removed
}

/// Whether `user` may pass through every parent of `data_dir` (the data dir itself is opened
/// to it when the cluster starts).
fn reachable(data_dir: &Path, user: &SystemUser) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(full) = data_dir.canonicalize() else {
        return false;
    };
    full.ancestors().skip(1).all(|dir| {
        std::fs::metadata(dir).is_ok_and(|meta| {
            let mode = meta.mode();
            if meta.uid() == user.uid {
                mode & 0o100 != 0
            } else if meta.gid() == user.gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        })
    })
}

/// Makes the cluster on first use, stops a postmaster a killed dbaas-local left running, and
/// starts the server on the port it had before when that is free. Returns the port.
fn start_cluster(
    bin: &Path,
    dir: &Path,
    run_as: Option<&SystemUser>,
) -> Result<u16, PostgresError> {
    let cluster = dir.join("data");
    let socket = dir.join("socket");
    if dir.starts_with(RELOCATED) {
        std::fs::create_dir_all(RELOCATED).map_err(io("cannot make the cluster directory"))?;
        std::fs::set_permissions(RELOCATED, std::fs::Permissions::from_mode(0o711))
            .map_err(io("cannot open the cluster directory's parent"))?;
    }
    std::fs::create_dir_all(&socket).map_err(io("cannot make the cluster directory"))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io("cannot restrict the cluster directory"))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o700))
        .map_err(io("cannot restrict the socket directory"))?;
    if let Some(user) = run_as {
        // The data dir stays closed to everyone else; its owner-only mode must let the
        // cluster's user through to its own directory.
        if let Some(data_dir) = dir.parent() {
            let mode = std::fs::metadata(data_dir)
                .map_err(io("cannot read the data dir"))?
                .permissions()
                .mode();
            std::fs::set_permissions(
                data_dir,
                std::fs::Permissions::from_mode(mode | 0o100 | 0o010 | 0o001),
            )
            .map_err(io("cannot open the data dir to the cluster's user"))?;
        }
        for path in [dir, socket.as_path()] {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
                .map_err(io("cannot give the cluster directory to its user"))?;
        }
    }
    if !cluster.join("PG_VERSION").exists() {
        let _ = std::fs::remove_dir_all(&cluster);
        let mut initdb = command(bin, "initdb", run_as);
        initdb
            .arg("--pgdata")
            .arg(&cluster)
            .args([
                "--username",
                ADMIN_ROLE,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .args(["--encoding=UTF8", "--no-instructions"]);
        // A cluster initdb cannot make will not be made by trying again: the database that
        // needed it ends in ERROR with initdb's reason rather than waiting out its timeout.
        run(initdb, "initdb").map_err(|error| match error {
            PostgresError::Unavailable(why) => PostgresError::Refused(why),
            other => other,
        })?;
    }
    // A postmaster of an earlier run (dbaas-local killed): stop it, so only this run's serves.
    if cluster.join("postmaster.pid").exists() {
        stop_cluster(bin, &cluster, run_as);
    }
    let port_file = dir.join("port");
    let previous: Option<u16> = std::fs::read_to_string(&port_file)
        .ok()
        .and_then(|text| text.trim().parse().ok());
    let port = previous
        .filter(|port| TcpListener::bind((Ipv4Addr::LOCALHOST, *port)).is_ok())
        .map_or_else(free_port, Ok)?;
    let settings = format!(
        "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
         unix_socket_permissions = 0700\npassword_encryption = 'scram-sha-256'\n\
         log_min_error_statement = panic\nlog_connections = off\nfsync = on\n\
         max_connections = 100\nshared_buffers = 16MB\n",
        socket.display().to_string().replace('\'', "''")
    );
    write_owned(&cluster.join("dbaas-local.conf"), &settings, run_as)
        .map_err(io("cannot write the server settings"))?;
    let main_conf = cluster.join("postgresql.conf");
    let conf = std::fs::read_to_string(&main_conf).map_err(io("cannot read postgresql.conf"))?;
    if !conf.contains("include = 'dbaas-local.conf'") {
        std::fs::write(
            &main_conf,
            format!("{conf}\ninclude = 'dbaas-local.conf'\n"),
        )
        .map_err(io("cannot write postgresql.conf"))?;
    }
    let mut start = command(bin, "pg_ctl", run_as);
    start
        .arg("start")
        .arg("--pgdata")
        .arg(&cluster)
        .arg("--log")
        .arg(dir.join("server.log"))
        .args(["--wait", "--timeout", PG_CTL_WAIT_SECONDS, "--silent"])
        .stdout(std::process::Stdio::null());
    if let Some(user) = run_as {
        // The log is the cluster user's to write.
        let log = dir.join("server.log");
        if !log.exists() {
            write_owned(&log, "", Some(user)).map_err(io("cannot make the server log"))?;
        }
    }
    run(start, "pg_ctl start")?;
    std::fs::write(&port_file, port.to_string()).map_err(io("cannot save the port"))?;
    tracing::info!(port, cluster = %cluster.display(), "PostgreSQL started");
    Ok(port)
}

/// Whether the postmaster named by `cluster`'s pid file runs: a `postgres` process that has
/// not exited (a zombie no one reaped has). Where `/proc` cannot tell, it is taken as running.
fn postmaster_running(cluster: &Path) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        return true;
    }
    let Some(pid) = std::fs::read_to_string(cluster.join("postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok())
    else {
        return false;
    };
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let Some((head, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let command = head.split_once('(').map_or("", |(_, command)| command);
        let state = rest.split_whitespace().next().unwrap_or("X");
        command.starts_with("postgres") && state != "Z" && state != "X"
    })
}

fn stop_cluster(bin: &Path, cluster: &Path, run_as: Option<&SystemUser>) {
    let mut stop = command(bin, "pg_ctl", run_as);
    stop.arg("stop")
        .arg("--pgdata")
        .arg(cluster)
        .args([
            "--mode",
            "fast",
            "--wait",
            "--timeout",
            PG_CTL_WAIT_SECONDS,
            "--silent",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match stop.status() {
        Ok(status) if status.success() => {
            tracing::info!(cluster = %cluster.display(), "PostgreSQL stopped")
        }
        // Not running (a stale pid file): nothing to stop.
        _ => {}
    }
}

fn free_port() -> Result<u16, PostgresError> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(io("cannot find a free port"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hba_allows_each_database_its_networks_or_loopback_only() {
        let text = hba_text(
            &["a".to_owned(), "b\"x".to_owned()],
            &[HbaRule {
                database: "a".to_owned(),
                cidr: "10.0.0.0/24".to_owned(),
            }],
        );
        assert!(text.contains("local all all trust\n"), "{text}");
        assert!(
            text.contains("host \"a\" all 10.0.0.0/24 scram-sha-256\n"),
            "{text}"
        );
        assert!(!text.contains("host \"a\" all 127.0.0.1/32"), "{text}");
        assert!(
            text.contains("host \"b\"\"x\" all 127.0.0.1/32 scram-sha-256\n"),
            "{text}"
        );
        assert_eq!(text.matches("host ").count(), 2, "{text}");
    }

    /// A cluster user no directory of the tests belongs to.
    fn stranger() -> SystemUser {
        SystemUser {
            name: "stranger".to_owned(),
            uid: 65_000,
            gid: 65_000,
        }
    }

    #[test]
    fn a_cluster_its_user_cannot_reach_moves_out_of_the_data_dir() {
        let stranger = stranger();
        let open = tempfile::tempdir().unwrap();
        std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = open.path().join("data");
        std::fs::create_dir(&data).unwrap();
        assert!(reachable(&data, &stranger));
        let relocated = tempfile::tempdir().unwrap();
        let root = relocated.path();
        assert_eq!(
            cluster_home(&data, Some(&stranger), root),
            data.join("postgresql")
        );

        let closed = tempfile::tempdir().unwrap();
        std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let data = closed.path().join("data");
        std::fs::create_dir(&data).unwrap();
        assert!(!reachable(&data, &stranger));
        let home = cluster_home(&data, Some(&stranger), root);
        assert!(home.starts_with(root), "{home:?}");
        // The same data dir keeps its cluster; the link in it says where.
        assert_eq!(cluster_home(&data, Some(&stranger), root), home);
        assert_eq!(std::fs::read_link(data.join("postgresql")).unwrap(), home);
        // Without a user of its own (not root) the cluster stays in the data dir.
        let other = closed.path().join("other");
        std::fs::create_dir(&other).unwrap();
        assert_eq!(cluster_home(&other, None, root), other.join("postgresql"));
    }

    #[test]
    fn a_relocated_cluster_is_removed_once_its_data_dir_is_gone() {
        let stranger = stranger();
        let relocated = tempfile::tempdir().unwrap();
        let root = relocated.path();
        let relocate = |parent: &Path| {
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700)).unwrap();
            let data = parent.join("data");
            std::fs::create_dir(&data).unwrap();
            let home = cluster_home(&data, Some(&stranger), root);
            std::fs::create_dir_all(home.join("data")).unwrap();
            home
        };
        let kept = tempfile::tempdir().unwrap();
        let kept_home = relocate(kept.path());
        let deleted = tempfile::tempdir().unwrap();
        let deleted_home = relocate(deleted.path());
        // A cluster whose postmaster.pid names no running postgres has stopped.
        std::fs::write(deleted_home.join("data/postmaster.pid"), "999999999\n").unwrap();
        drop(deleted);
        let unowned = root.join("0123456789abcdef");
        std::fs::create_dir(&unowned).unwrap();

        assert_eq!(prune_relocated(root), std::slice::from_ref(&deleted_home));
        assert!(!deleted_home.exists());
        assert!(
            kept_home.join("data").is_dir(),
            "its data dir still links to it"
        );
        assert!(unowned.is_dir(), "nothing says whose it is");
        assert!(prune_relocated(root).is_empty());
    }

    #[test]
    fn names_and_fields_are_quoted() {
        assert_eq!(identifier("client-\"a\""), "\"client-\"\"a\"\"\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(
            field("address.city"),
            "document #>> '{\"address\",\"city\"}'"
        );
        assert_eq!(field("o'k"), "document #>> '{\"o''k\"}'");
        let long = index_name(&"c".repeat(40), &"n".repeat(40));
        assert!(long.len() <= 63, "{long}");
        assert_ne!(long, index_name(&"c".repeat(40), &"m".repeat(40)));
        assert_eq!(index_name("orders", "by_customer"), "orders_by_customer");
    }
}
