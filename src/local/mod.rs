//! `dbaas-local`: the project's own DBaaS service.
//!
//! It is the default backend of the provider (demos, users' CI) and will host vendor-API
//! "dialects" over the same store. Databases go through `CREATING → READY`,
//! `READY → UPDATING → READY` and `DELETING → gone`, driven by the service itself after a
//! configurable provision delay, persisted in SQLite so nothing acknowledged is lost and pending
//! transitions resume after a restart. Their children (credentials, collections and indexes,
//! IP restrictions) have lifecycles of their own, driven the same way.
//!
//! # Layout
//!
//! The core is independent of any wire format; HTTP layers are thin adapters over it. Three
//! layers, importing downwards only (`tests/module_layers.rs` checks it, and that no module
//! cycle exists):
//!
//! - The stores: `postgres`, the PostgreSQL cluster behind real `postgresql` databases and its
//!   idempotent operations (it holds no rule either); and `store`, SQLite (WAL,
//!   `synchronous=FULL`, versioned migrations, writes in
//!   `BEGIN IMMEDIATE`), the only SQLite statements, over `model` (the stored objects: `Database`,
//!   `Credential`, `Collection`, `Index`, `IpRestriction`, `Status`, ids and timestamps) and
//!   `error` ([`LocalError`] and its single mapping to the wire format). Rules run inside its
//!   transactions through typed row operations (`Store::transact`); it imports no rule.
//! - The domain, one tree over the store: `databases` (validation against the catalog,
//!   duplicate names, busy checks, scheduling transitions, and the parent rule of the
//!   children), and beside it the children `credentials`, `indexes` and `ip_restrictions`, which
//!   import `databases`, never the other way round. Below both sit what they share: `validation`
//!   (every field rule and limit), `engines` (which engine is real: before the lifecycle
//!   settles an object of a real database, it has PostgreSQL hold it), `allow_list` (a database's IP restrictions as one set, for
//!   creates and PUTs carrying it), `idempotency` (the one mechanism behind the idempotency keys
//!   of every create), `lifecycle` (the rules that settle transitional statuses and the worker
//!   that applies them at the earliest persisted `transition_at`), `catalog` (engines/versions,
//!   plans, regions, flavors, defaults), `passwords` (generation, salted PBKDF2 hashing) and
//!   `secrets` (the one constant-time comparison of secrets, for the domain and the adapters).
//!   CIDRs are parsed by the crate's one parser, [`crate::cidr`].
//! - The adapters: `native` (the native REST API v1, children in `native/`) with `json_body`
//!   (field-by-field body decoding, shared with the admin endpoints) and `openapi` (its OpenAPI
//!   3.1 document); `dialects` (vendor APIs over the same rules and store, each when
//!   configured, each a thin adapter like `native` behind one `dialects::DialectFront`:
//!   OVHcloud under `/ovh/1.0`, goaddon under `/goaddon`, Compose classic under `/compose`,
//!   globo.com under `/globo`, databaselabs under `/databaselabs`); `auth` (the service's token,
//!   given or made and saved in the data dir, its check, and the parsing of `Authorization`
//!   headers every scheme shares; it imports no dialect); `faults` (request log, fault
//!   injection and the admin endpoints). This module wires them into one router.
//!
//! Middleware order, outermost first: request log + access log (`faults::observe`), dialect
//! reply headers (`dialects::stamp_replies`), the door (`admit` here: the body read up to
//! [`MAX_BODY_BYTES`], then the token or the dialect's own check), fault injection
//! (`faults::inject_faults`), routes. So 401s and 413s are logged, and faults only hit
//! authenticated requests.
//!
//! # Safe by default
//!
//! - There is no open mode. Every request outside the dialects' prefixes, except
//!   `GET /healthz`, needs `Authorization: Bearer <token>`: `/v1` and the admin endpoints under
//!   `/v1/_admin/` alike, whatever dialects are served (they authenticate their own prefixes
//!   only). [`Config::token`] is the token given (`--token`), or by default
//!   ([`TokenSource::DataDir`]) the one in the data dir's [`TOKEN_FILE`]: made (random, 24
//!   letters and digits) and saved `0600` on the first start, reused by later starts so clients
//!   keep working; delete the file for a new one. [`RunningService::token_origin`] says which,
//!   so the binary prints a new token once; nothing logs it.
//! - A data-dir token only protects a loopback address: [`start`] refuses any other `listen`
//!   without a given token ([`LocalError::TokenNeeded`], naming `--token`), before it makes
//!   anything.
//! - Request bodies are capped at [`MAX_BODY_BYTES`] (1 MiB), before authentication: a longer
//!   one (by `Content-Length`, or once read past the cap) is a 413 in the format of the API its
//!   path belongs to (`payload_too_large` on `/v1`, `Client::PayloadTooLarge` for OVH, each
//!   dialect's own error body otherwise).
//! - Transactions that write begin `IMMEDIATE` (`store`), so a second writer on the file waits
//!   (`busy_timeout`) instead of failing with SQLITE_BUSY half-way; reads stay deferred.
//!
//! # Choices where the contract is silent
//!
//! - A method the path does not support answers 405 with code `method_not_allowed`; an unknown
//!   path answers 404 `not_found`. Both use the usual error body.
//! - Create and update bodies refuse unknown fields (400 naming the field); in a create, `null`
//!   optional fields mean "absent". A PATCH body may not set `plan` or `version` to `null`.
//! - An invalid PATCH value answers 400 even when the database is busy; the busy 409 comes after
//!   validation. A PATCH that changes nothing on a busy database is still a 409.
//! - Idempotency keys (database, credential, index and IP restriction creates of `/v1`): the
//!   body comparison is semantic (key order and whitespace do not matter, but an omitted field
//!   differs from one given explicitly with its default value; a chosen password is compared
//!   through a fingerprint salted with the key, never kept). Replaying a key whose object has
//!   since been deleted answers 409. A key must be 1–255 visible ASCII characters (else 400
//!   with `field` null). Keys are scoped to the operation and its parent database. A replay is
//!   checked before the parent rule, so it answers 202 even while the database is busy.
//! - An injected 429 without `retry_after` sends `Retry-After: 1` (a 429 always carries it).
//!   Paths under `/v1/_admin/` are never faulted, so a test can always clear its faults.
//!   `GET`/`POST`/`DELETE /v1/_admin/faults` answer 200 with `{"faults": [...]}` (the pending
//!   faults); `DELETE /v1/_admin/requests` answers 200 with `{"requests": []}`. A `drop` fault
//!   cuts the connection, so no status line reaches the client (see `faults`).
//! - Lifecycle faults (`GET`/`POST`/`DELETE /v1/_admin/lifecycle-faults`, answering
//!   `{"lifecycle_faults": [...]}`) make the next created objects of a kind stay transitional
//!   or end `ERROR`, whichever API creates them (see `lifecycle`). `ERROR` is shown in each
//!   API's words: native and OVH `ERROR`, Compose and databaselabs `failed`; globo, whose
//!   creates are synchronous, answers them 500; goaddon shows no statuses. An `ERROR` object
//!   can only be deleted: a change is a 409 reason `state`, since waiting never helps.
//! - Request log entries carry `at` with millisecond precision, and the path without its query.
//! - Gone databases stay in the store (invisible to the API) so idempotency keys can refer to
//!   them. Gone children are removed for good (no idempotency keys refer to them).
//! - A PATCH of a database that is `DELETING` is a 409 with reason `state` (waiting never
//!   helps), not `busy`.
//! - Every database has a node `flavor` (default: the catalog's first) and a `node_count`
//!   (default: its plan's), within its plan's limits (essential 1, business and enterprise 3
//!   to 8; a 400 names the field). A plan change without `node_count` keeps a count the new
//!   plan allows and otherwise takes the new plan's default. Every database also has a random
//!   UUID, its id in dialects whose ids are UUIDs (OVH); the native API does not show it.
//! - An administrator may lock a database (`POST`/`DELETE /v1/_admin/databases/{id}/lock`,
//!   never faulted): every change to it or its children, its deletion included, is then a 409
//!   with reason `state` (OVH's `ServiceLocked`), until it is unlocked. The Database object
//!   shows `locked`.
//!
//! Children (credentials, indexes, IP restrictions):
//!
//! - Order of checks: the body is validated first (400), then the database (404 when unknown,
//!   gone or `DELETING`; 409 busy unless `READY`), then the object itself (404, 409).
//! - Reads (`GET`s, and `POST .../verify`, which changes nothing) work whatever the statuses.
//! - Deleting a database puts all its children in `DELETING` at once (same transaction, same
//!   instant), so lists show them going; when it is gone they are removed with it.
//! - An object whose name (username, index name or keys, CIDR) is taken by one still
//!   `DELETING` answers 409 `busy` (retrying works once it is gone), otherwise `duplicate`.
//! - A `DELETE` of a child already `DELETING` answers 202 again without resetting its timer;
//!   a child may be deleted in any status (as databases may), subject to the parent rule.
//! - Every child reply has all its members; `"password"` of a credential is `null` except in
//!   the create and reset replies of a generated password.
//! - Credentials: roles keep the client's order; a role listed twice is a 400. A roles PATCH
//!   needs `roles` (400 otherwise), answers 200 when they are unchanged, and refuses
//!   `username` and `password` (400 naming them). `reset-password` accepts an empty body, and
//!   does not change the status. A generated password has at least one lowercase letter, one
//!   uppercase letter and one digit; it is kept in the store as is (it must be revealable);
//!   a chosen one is kept only as a salted PBKDF2-HMAC-SHA256 hash (`passwords` says why the
//!   iteration count is low). Passwords count in characters, any characters.
//! - Indexes: allowed on databases of every engine (the service does not model engines'
//!   data). Key problems name the field `keys` (the message says which entry). Duplicate key
//!   lists compare fields and directions, not options. `index_count` counts `_id_` and
//!   transitional indexes. Collections are never deleted, except with their database.
//! - IP restrictions: lists are in network order (IPv4 first, then by address, then by prefix
//!   length), not string order. A path CIDR in any accepted spelling (a bare address, upper
//!   case, uncompressed IPv6) finds the restriction; one that is no network is a 404. A PATCH
//!   needs `description` (`null` clears it), refuses `cidr`, needs the database `READY` like
//!   any change, and answers 200.

mod allow_list;
mod auth;
mod catalog;
mod credentials;
mod databases;
pub(crate) mod dialects;
mod engines;
mod error;
mod faults;
mod idempotency;
mod indexes;
mod ip_restrictions;
mod json_body;
mod lifecycle;
mod model;
mod native;
mod openapi;
mod passwords;
mod postgres;
mod secrets;
mod store;
mod validation;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures::StreamExt as _;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use auth::{TOKEN_FILE, TokenOrigin, TokenSource};
pub use dialects::compose::ComposeDialect;
pub use dialects::databaselabs::DatabaselabsDialect;
pub use dialects::globo::GloboDialect;
pub use dialects::goaddon::GoaddonDialect;
pub use dialects::ovh::OvhDialect;
pub use error::LocalError;
pub use faults::{FaultPlan, FaultPlanError};

/// The OpenAPI 3.1 document of the native API, as `GET /v1/openapi.json` serves it.
pub fn openapi_document() -> serde_json::Value {
    openapi::document().clone()
}

use credentials::Credentials;
use databases::Databases;
use dialects::Dialects;
use engines::Engines;
use faults::{Faults, RequestLog};
use indexes::Indexes;
use ip_restrictions::IpRestrictions;
use lifecycle::{Clock, Wake};
use store::Store;

/// Default listen address of the service.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8780";

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".dbaas-local";

/// Default delay before transitional statuses settle.
pub const DEFAULT_PROVISION_DELAY: Duration = Duration::from_secs(5);

/// Largest request body accepted (1 MiB); a longer one is answered 413 in the format of the
/// API its path belongs to, before authentication (OVH's signature covers the body).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// How to run the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (see [`RunningService::addr`]).
    pub listen: SocketAddr,
    /// Directory holding the SQLite store; created if missing.
    pub data_dir: PathBuf,
    /// The bearer token every request outside the dialects' prefixes, except `GET /healthz`,
    /// must present (the admin endpoints too); by default the one saved in the data dir.
    pub token: TokenSource,
    /// How long `CREATING`, `UPDATING` and `DELETING` last.
    pub provision_delay: Duration,
    /// The OVH dialect (OVHcloud's API under `/ovh/1.0`, requests signed with these keys);
    /// `None` leaves it off, and its paths answer OVH's 404 saying so.
    pub ovh: Option<OvhDialect>,
    /// The goaddon dialect (goaddon's project API under `/goaddon`, Basic auth with the base64
    /// of this token); `None` leaves it off, and its paths answer 404 saying so.
    pub goaddon: Option<GoaddonDialect>,
    /// The Compose dialect (Compose's classic API under `/compose`, bearer token, one account
    /// and deployment); `None` leaves it off, and its paths answer 404 saying so.
    pub compose: Option<ComposeDialect>,
    /// The globo.com dialect (globo's DBaaS API under `/globo`, Basic auth with these
    /// credentials); `None` leaves it off, and its paths answer 404 saying so.
    pub globo: Option<GloboDialect>,
    /// The databaselabs dialect (databaselabs.io's API under `/databaselabs`, Basic auth with
    /// this API key and secret); `None` leaves it off, and its paths answer 404 saying so.
    pub databaselabs: Option<DatabaselabsDialect>,
    /// What holds `postgresql` databases: a real PostgreSQL when its server programs are found.
    pub postgres: PostgresBacking,
}

/// Where `engine = "postgresql"` databases live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PostgresBacking {
    /// A real PostgreSQL, with the server programs of `pg_config --bindir` or Debian's
    /// `/usr/lib/postgresql/<version>/bin`; simulated, with a warning, when there are none.
    #[default]
    Found,
    /// A real PostgreSQL with the server programs of this directory (`--postgres-bin`);
    /// simulated, with a warning, when they are not there.
    Programs(PathBuf),
    /// Simulated (`--postgres-bin none`): the store alone, as for every other engine.
    Simulated,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8780)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            token: TokenSource::DataDir,
            provision_delay: DEFAULT_PROVISION_DELAY,
            ovh: None,
            goaddon: None,
            compose: None,
            globo: None,
            databaselabs: None,
            postgres: PostgresBacking::default(),
        }
    }
}

/// The engines a service runs with, saying in the log what backs each.
fn engines_for(backing: &PostgresBacking, data_dir: &Path) -> Engines {
    let located = match backing {
        PostgresBacking::Simulated => {
            tracing::info!(
                engine = "postgresql",
                backing = "simulated",
                "as asked (--postgres-bin none)"
            );
            return Engines::simulated();
        }
        PostgresBacking::Found => postgres::locate_binaries(None),
        PostgresBacking::Programs(dir) => postgres::locate_binaries(Some(dir)),
    };
    let Some(bin) = located else {
        tracing::warn!(
            engine = "postgresql",
            backing = "simulated",
            "no PostgreSQL server programs found (initdb, pg_ctl, postgres; give their \
             directory with --postgres-bin): postgresql databases accept no connections"
        );
        return Engines::simulated();
    };
    let cluster = postgres::Postgres::new(bin, data_dir);
    tracing::info!(
        engine = "postgresql",
        backing = "real",
        programs = %cluster.bin().display(),
        cluster = %cluster.dir().display(),
        runs_as = cluster.run_as().map_or("this process's user", |user| user.name.as_str()),
        "postgresql databases are real databases of dbaas-local's own PostgreSQL cluster, \
         started on first use"
    );
    Engines::with_postgres(cluster)
}

/// State shared by every handler and middleware.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    /// The database operations (store, clock, lifecycle wake-up).
    pub(crate) databases: Databases,
    /// Credential operations over the same store.
    pub(crate) credentials: Credentials,
    /// Collection and index operations over the same store.
    pub(crate) indexes: Indexes,
    /// IP restriction operations over the same store.
    pub(crate) ip_restrictions: IpRestrictions,
    /// Token required on every request outside the dialects (but `GET /healthz`).
    pub(crate) token: SecretString,
    /// Pending injected faults.
    pub(crate) faults: Arc<Faults>,
    /// Requests received since start.
    pub(crate) requests: Arc<RequestLog>,
    /// The vendor dialects that are configured.
    pub(crate) dialects: Dialects,
}

impl AppState {
    /// State whose child operations all share `databases`' store, clock and lifecycle.
    pub(crate) fn new(databases: Databases, token: SecretString) -> Self {
        Self {
            credentials: Credentials::new(databases.clone()),
            indexes: Indexes::new(databases.clone()),
            ip_restrictions: IpRestrictions::new(databases.clone()),
            databases,
            token,
            faults: Arc::default(),
            requests: Arc::default(),
            dialects: Dialects::default(),
        }
    }

    /// The same state, speaking the Compose dialect; its deployment is `new` for one
    /// provision delay, then `running`.
    pub(crate) fn with_compose(mut self, compose: ComposeDialect) -> Self {
        let now = self.databases.clock().now();
        let running_at = self.databases.settles_at(now);
        self.dialects.compose = Some(Arc::new(dialects::compose::ComposeState::new(
            compose, now, running_at,
        )));
        self
    }

    /// The same state, speaking the OVH dialect with these keys.
    pub(crate) fn with_ovh(mut self, ovh: OvhDialect) -> Self {
        self.dialects.ovh = Some(Arc::new(dialects::ovh::OvhState::new(ovh)));
        self
    }

    /// The same state, speaking the goaddon dialect with this token.
    pub(crate) fn with_goaddon(mut self, goaddon: GoaddonDialect) -> Self {
        self.dialects.goaddon = Some(Arc::new(dialects::goaddon::GoaddonState::new(goaddon)));
        self
    }

    /// The same state, speaking the databaselabs dialect with this API key and secret.
    pub(crate) fn with_databaselabs(mut self, databaselabs: DatabaselabsDialect) -> Self {
        self.dialects.databaselabs = Some(Arc::new(databaselabs));
        self
    }

    /// The same state, speaking the globo dialect with these credentials.
    pub(crate) fn with_globo(mut self, globo: GloboDialect) -> Self {
        self.dialects.globo = Some(Arc::new(globo));
        self
    }
}

/// The whole HTTP application: routes, fallbacks and middleware.
pub(crate) fn app(state: AppState) -> Router {
    Router::new()
        .merge(native::routes())
        .merge(faults::admin_routes())
        .merge(dialects::routes())
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            faults::inject_faults,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), admit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            dialects::stamp_replies,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            faults::observe,
        ))
        .with_state(state)
}

/// The service's door: reads the body (at most [`MAX_BODY_BYTES`]), then checks the dialect's
/// own authentication under a dialect's prefix, the bearer token elsewhere.
async fn admit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let dialect = dialects::dialect_of(request.uri().path());
    let (mut parts, body) = request.into_parts();
    let declared_length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let body = match declared_length {
        // Refused before reading a byte when the client says how long it is.
        Some(length) if length > MAX_BODY_BYTES as u64 => Err(LocalError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }),
        _ => read_capped(body).await,
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => return dialects::error_reply(parts.uri.path(), error),
    };
    let refusal = match dialect {
        Some(dialect) => dialect.front().refusal(&state, &mut parts, &body),
        None => auth::refusal(&state.token, &parts),
    };
    match refusal {
        Some(refusal) => refusal,
        None => next.run(Request::from_parts(parts, Body::from(body))).await,
    }
}

/// The whole body, or a 413 as soon as it goes past [`MAX_BODY_BYTES`].
async fn read_capped(body: Body) -> Result<Bytes, LocalError> {
    let mut chunks = body.into_data_stream();
    let mut read = BytesMut::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|error| {
            LocalError::invalid_body(format!("cannot read the request body: {error}"))
        })?;
        if read.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(LocalError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        read.extend_from_slice(&chunk);
    }
    Ok(read.freeze())
}

async fn unknown_route(method: Method, request: Request) -> Response {
    let path = request.uri().path();
    if let Some(dialect) = dialects::dialect_of(path) {
        return dialect.front().unknown_route(&method, path);
    }
    LocalError::NotFound(format!("no route for {method} {path}")).into_response()
}

async fn method_not_allowed(method: Method, request: Request) -> Response {
    let path = request.uri().path();
    if let Some(dialect) = dialects::dialect_of(path) {
        return dialect.front().method_not_allowed(&method, path);
    }
    LocalError::MethodNotAllowed {
        method: method.to_string(),
        path: path.to_owned(),
    }
    .into_response()
}

/// A service running in background tasks; dropping it stops them too (without waiting).
#[derive(Debug)]
pub struct RunningService {
    /// The bound address, known only after binding when port 0 was asked for.
    addr: SocketAddr,
    /// Sending `true` (or dropping it) stops the server and the worker.
    stop: watch::Sender<bool>,
    /// The HTTP server task, awaited on shutdown so in-flight requests finish.
    server: JoinHandle<std::io::Result<()>>,
    /// The lifecycle worker task.
    worker: JoinHandle<()>,
    /// The token clients must present, and where it came from (the binary prints a new one).
    token: (SecretString, TokenOrigin),
}

impl RunningService {
    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the base URL clients use.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token requests must present.
    pub fn token(&self) -> &SecretString {
        &self.token.0
    }

    /// Where [`RunningService::token`] came from: the configuration, or the data dir's file.
    pub fn token_origin(&self) -> &TokenOrigin {
        &self.token.1
    }

    /// Stops accepting, lets in-flight requests finish, stops the lifecycle worker.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "server stopped with an error"),
            Err(error) => tracing::error!(%error, "server task failed"),
        }
        if let Err(error) = self.worker.await {
            tracing::error!(%error, "lifecycle worker failed");
        }
        tracing::info!("dbaas-local stopped");
    }

    /// Runs until SIGINT/SIGTERM (or until the server fails), then shuts down gracefully.
    pub async fn run_until_signal(mut self) -> Result<(), LocalError> {
        tokio::select! {
            signal = shutdown_signal() => {
                signal?;
                tracing::info!("shutdown signal received");
            }
            result = &mut self.server => {
                let _ = self.stop.send(true);
                let _ = (&mut self.worker).await;
                return match result {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(source)) => Err(LocalError::Io {
                        context: "the HTTP server stopped".to_owned(),
                        source,
                    }),
                    Err(error) => Err(LocalError::Task(error)),
                };
            }
        }
        self.shutdown().await;
        Ok(())
    }
}

/// Binds, opens the store, starts the lifecycle worker and serves in the background.
pub async fn start(config: Config) -> Result<RunningService, LocalError> {
    start_with_faults(config, FaultPlan::default()).await
}

/// [`start`] with faults installed before the first request is served (`--faults FILE`).
pub async fn start_with_faults(
    config: Config,
    faults: FaultPlan,
) -> Result<RunningService, LocalError> {
    start_with_clock(config, Clock::System, faults).await
}

/// [`start_with_faults`] with a chosen clock (tests use one that follows paused tokio time).
pub(crate) async fn start_with_clock(
    config: Config,
    clock: Clock,
    faults: FaultPlan,
) -> Result<RunningService, LocalError> {
    if matches!(config.token, TokenSource::DataDir) && !config.listen.ip().is_loopback() {
        return Err(LocalError::TokenNeeded {
            listen: config.listen,
        });
    }
    let store = Store::open(&config.data_dir).await?;
    // After `Store::open`, which creates the data dir and locks it for this process.
    let token = auth::resolve_token(config.token, &config.data_dir)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| LocalError::Io {
            context: format!("cannot listen on {}", config.listen),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| LocalError::Io {
        context: "cannot read the bound address".to_owned(),
        source,
    })?;
    let wake = Wake::default();
    let (stop, stopped) = watch::channel(false);
    let engines = engines_for(&config.postgres, &config.data_dir);
    for engine in catalog::CATALOG.engines {
        if engine.name != engines::POSTGRESQL {
            tracing::info!(
                engine = engine.name,
                backing = "simulated",
                "engine backing"
            );
        }
    }
    let worker = tokio::spawn(lifecycle::run_worker(
        store.clone(),
        engines.clone(),
        clock.clone(),
        wake.clone(),
        stopped.clone(),
    ));
    let mut state = AppState::new(
        Databases::new(store, clock, wake, config.provision_delay).with_engines(engines),
        token.0.clone(),
    );
    let ovh_served = config.ovh.as_ref().map(|ovh| ovh.service_name.clone());
    if let Some(ovh) = config.ovh {
        state = state.with_ovh(ovh);
    }
    if let Some(goaddon) = config.goaddon {
        state = state.with_goaddon(goaddon);
    }
    if let Some(compose) = config.compose {
        state = state.with_compose(compose);
    }
    if let Some(globo) = config.globo {
        state = state.with_globo(globo);
    }
    if let Some(databaselabs) = config.databaselabs {
        state = state.with_databaselabs(databaselabs);
    }
    let (request_faults, lifecycle_faults) = faults.counts();
    for fault in faults.faults {
        state.faults.add(fault);
    }
    for rule in faults.lifecycle_faults {
        state.databases.lifecycle_faults().add(rule);
    }
    // Through a listener whose connections a `drop` fault can cut, each request knowing its own.
    let server = tokio::spawn(
        axum::serve(
            faults::CuttableListener::new(listener),
            app(state).into_make_service_with_connect_info::<faults::Connection>(),
        )
        .with_graceful_shutdown(stop_requested(stopped))
        .into_future(),
    );
    tracing::info!(
        %addr,
        data_dir = %config.data_dir.display(),
        provision_delay_ms = config.provision_delay.as_millis() as u64,
        ovh_dialect_project = ovh_served.as_deref().unwrap_or("(off)"),
        request_faults,
        lifecycle_faults,
        "dbaas-local started"
    );
    Ok(RunningService {
        addr,
        stop,
        server,
        worker,
        token,
    })
}

/// Runs the service in the foreground until SIGINT/SIGTERM.
pub async fn serve(config: Config) -> Result<(), LocalError> {
    start(config).await?.run_until_signal().await
}

/// Resolves when `true` is sent or the sender is dropped.
async fn stop_requested(mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow_and_update() {
        if stopped.changed().await.is_err() {
            return;
        }
    }
}

async fn shutdown_signal() -> Result<(), LocalError> {
    let io = |source| LocalError::Io {
        context: "cannot listen for shutdown signals".to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).map_err(io)?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map_err(io),
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(io)
    }
}

/// Why a duration such as `--provision-delay` could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason}; use a number and a unit ({units}), e.g. 0s, 250ms, 5s, 2m",
    units = crate::duration::UNITS
)]
pub struct DurationParseError {
    /// The text as given, quoted back so the user sees what was read.
    input: String,
    /// What is wrong with it.
    reason: String,
}

/// Reads a Go-style duration: `0s`, `250ms`, `5s`, `1.5m`, `1h` (see [`crate::duration`]).
pub fn parse_duration(text: &str) -> Result<Duration, DurationParseError> {
    crate::duration::parse(text).map_err(|reason| DurationParseError {
        input: text.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    #[test]
    fn parse_duration_accepts_units() {
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration(" 2m ").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
    }

    #[test]
    fn parse_duration_explains_errors() {
        for (input, reason) in [
            ("5", "no unit"),
            ("s", "expected a number"),
            ("", "empty"),
            ("5 s", "unknown unit"),
            ("-1s", "negative"),
            ("5d", "unknown unit"),
            ("99999999999999999999s", "longer than"),
            ("18446744073709551615h", "longer than"),
        ] {
            let message = parse_duration(input).unwrap_err().to_string();
            assert!(message.contains(reason), "{input}: {message}");
            assert!(message.contains("250ms"), "{message}");
        }
    }

    const TOKEN: &str = "tok";

    async fn state(dir: &std::path::Path) -> AppState {
        let store = Store::open(dir).await.unwrap();
        AppState::new(
            Databases::new(store, Clock::tokio(), Wake::default(), Duration::ZERO),
            SecretString::from(TOKEN),
        )
    }

    /// A call with the token.
    async fn call(app: &Router, method: &str, path: &str) -> (StatusCode, serde_json::Value) {
        call_as(app, Some(TOKEN), method, path, "{}").await
    }

    async fn call_as(
        app: &Router,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: &str,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(Body::from(body.to_owned())).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    #[tokio::test]
    async fn app_routes_every_documented_operation() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(state(dir.path()).await);
        for (path, item) in openapi::document()["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if method == "parameters" {
                    continue;
                }
                let concrete = path
                    .replace("{id}", "db-000000000000")
                    .replace("{username}", "app")
                    .replace("{collection}", "orders")
                    .replace("{name}", "by_customer")
                    .replace("{cidr}", "10.0.0.0%2F24");
                let (status, body) = call(&app, &method.to_uppercase(), &concrete).await;
                let routed = status != StatusCode::METHOD_NOT_ALLOWED
                    && !(status == StatusCode::NOT_FOUND
                        && body["error"]["message"]
                            .as_str()
                            .is_some_and(|m| m.starts_with("no route")));
                assert!(
                    routed,
                    "{method} {path} is documented but not routed: {status} {body}"
                );
            }
        }
    }

    #[tokio::test]
    async fn app_answers_unknown_routes_in_error_format() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(state(dir.path()).await);
        let (status, body) = call(&app, "GET", "/v2/nothing").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");
        let (status, body) = call(&app, "PUT", "/v1/databases").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }

    #[tokio::test]
    async fn app_answers_an_oversized_body_413_in_each_apis_format() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(state(dir.path()).await);
        let two_mib = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
        for (path, format) in [
            ("/v1/databases", "native"),
            ("/ovh/1.0/cloud/project/p/database/mongodb", "ovh"),
            ("/goaddon/api/v1/collections", "error"),
            ("/compose/deployments/a/d/mongodb", "error"),
            ("/globo/api/database/", "globo"),
            ("/databaselabs/api/databases", "error"),
        ] {
            let (status, body) = call_as(&app, Some(TOKEN), "POST", path, &two_mib).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
            let message = match format {
                "native" => {
                    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
                    &body["error"]["message"]
                }
                "ovh" => {
                    assert_eq!(body["class"], "Client::PayloadTooLarge", "{body}");
                    &body["message"]
                }
                "globo" => &body["detail"],
                _ => &body["error"],
            };
            assert!(
                message
                    .as_str()
                    .is_some_and(|m| m.contains("1048576 bytes")),
                "{path}: {body}"
            );
        }
        let (status, _) = call_as(&app, Some(TOKEN), "POST", "/v1/databases", "{}").await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a small body is read as usual"
        );
    }

    #[tokio::test]
    async fn app_checks_token_before_faults() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path()).await;
        state.faults.add(faults::Fault {
            path_prefix: "/v1".into(),
            method: None,
            when: faults::When::Before,
            action: faults::Action::Status(503),
            retry_after: None,
            skip: 0,
            count: 1,
            body: None,
        });
        let app = app(state.clone());
        let (status, _) = call_as(&app, None, "GET", "/v1/databases", "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            state.faults.list().len(),
            1,
            "an unauthenticated request uses no fault"
        );
        let (status, _) = call_as(&app, None, "GET", "/healthz", "").await;
        assert_eq!(status, StatusCode::OK);
        let logged = state.requests.snapshot();
        assert_eq!(logged.len(), 2);
        assert_eq!(
            (logged[0].path.as_str(), logged[0].status),
            ("/v1/databases", 401)
        );
    }
}
