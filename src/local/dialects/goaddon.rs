//! The goaddon dialect: goaddon.com's project API (`/api/v1`) under `/goaddon`, over the same
//! store, lifecycle, request log and faults as the native API.
//!
//! Clients point their goaddon endpoint at `http://<host>/goaddon` and authenticate as the seed
//! says: `Authorization: Basic <base64 of the bare API token>` (no `user:` colon). A token is a
//! project's: it reaches that project's one MongoDB database, its registered collections (with
//! their indexes) and its database users.
//!
//! Paths (the seed shows only `PATCH /api/v1/collections/{_id}`; the rest follow Rails resource
//! routing, which the seed's `BSON::ObjectId` fields point at): `GET /api/v1/projects`,
//! `GET /api/v1/projects/{_id}`, `GET|POST /api/v1/collections`,
//! `GET|PATCH|PUT|DELETE /api/v1/collections/{_id}`, `GET|POST /api/v1/database_users`,
//! `GET|PATCH|PUT|DELETE /api/v1/database_users/{_id}`.
//!
//! Choices where the facts are silent (vendor-apis.md §4 marks them open), following Rails:
//! - Creates answer 201 with the object, updates 200 with the object, deletes 204 without a body.
//! - Errors: a refused value is 422 `{"errors": {"<field>": ["<message>"]}}` (`base` when no
//!   field is at fault), a taken `klass` or `username` included; anything else is
//!   `{"error": "<message>"}` with its status: 401 (with `WWW-Authenticate`), 404 (unknown id,
//!   unknown path), 405, 409, 429, 500, 503. A 409 that waiting resolves (the database or an
//!   object of the same name is still changing) carries `Retry-After: 1`; one that waiting does
//!   not resolve (a locked database) carries none. Malformed JSON is a 400.
//! - Bodies are bare JSON objects (no `{"collection": …}` wrapper); like Rails strong
//!   parameters, fields that are not attributes (`_id`, `foo`) are ignored.
//! - The project's database is the store database named [`PROJECT_DATABASE`] (engine
//!   `mongodb`, catalog defaults). goaddon makes it at sign-up and its API knows no provisioning
//!   state, so the first request that needs it finds or makes it `READY` at once, with no
//!   provision delay: the first change after a start succeeds. It is not made at start, where a
//!   service that also speaks other dialects would list a database nobody asked for. The project `_id` is the first 24 hex digits of
//!   that database's UUID; `db_hosts` has one host per node (`node_count`), and the hash
//!   `database_configuration` is `{"nodes": <node_count>, "plan": <plan>}` (the seed names the
//!   hash but not its keys). The replica set is not changeable here (the seed's node endpoint has
//!   no documented path or body).
//! - Collections: `klass` is the store collection's name (store rules for names), unique per
//!   project. `_id` is derived from the database id and the name (FNV-1a, 96 bits), so it is
//!   stable and needs no extra storage. `indexes` in a create or update is the whole set: indexes
//!   left out are deleted, new ones built; an index keeps its name (`options.name`, by default
//!   MongoDB's `field_1_other_-1`), and changing the keys or options of an existing name is a
//!   422 (remove it in one request, add it in the next). Goaddon shows no index status, so
//!   replies list indexes that are building or ready, not those being deleted (re-adding one of
//!   those is a 409 with `Retry-After` until it is gone). `options` always carries `name`,
//!   `unique` and `sparse`. The implicit `_id_` index is not listed and cannot be registered.
//!   `_fields` are kept in memory only (they describe the data; the store has no place for
//!   them), so they are empty again after a restart. A destroyed collection loses all its
//!   indexes; the service keeps collections until their database goes, so it is listed again
//!   with no indexes. "Replace all collections" (path not documented) is not emulated.
//! - Database users: roles are bare MongoDB role names (`readWrite`), granted on the project's
//!   database (`readWrite@<db_name>` in the store). `password` is optional: without it one is
//!   generated and shown in the create reply only; every other reply has `"password": null`
//!   (a chosen password is kept hashed). An update may set `roles` and/or `password` (a new
//!   chosen password); `username` cannot change. Users being deleted are not listed.
//! - Goaddon shows no statuses, so indexes and users whose creation is stuck or failed (lifecycle
//!   faults) are listed like the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};

use crate::local::AppState;
use crate::local::auth::Presented;
use crate::local::credentials::CreateCredential;
use crate::local::databases::{CreateDatabase, Databases, Operation, parent_for_change};
use crate::local::dialects::DialectFront;
use crate::local::error::LocalError;
use crate::local::indexes::{CreateIndex, default_name};
use crate::local::lifecycle::{self, Wake};
use crate::local::model::{Collection, Credential, Database, Index, Status, whole_seconds};
use crate::local::secrets::constant_time_eq;
use crate::local::validation::{ID_INDEX, RequestedKey, validate_collection, validate_keys};

/// Where the dialect is served; clients use `http://<host>/goaddon` as their endpoint.
pub(crate) const BASE: &str = "/goaddon";

/// The API root under [`BASE`].
const API: &str = "/goaddon/api/v1";

/// Name of the store database that is the project's database.
pub(crate) const PROJECT_DATABASE: &str = "goaddon-project";

/// Engine of the project's database (goaddon runs MongoDB replica sets).
const ENGINE: &str = "mongodb";

/// The goaddon dialect's token. With it in [`crate::local::Config`], the service speaks
/// goaddon's project API under `/goaddon`; requests must carry it as goaddon wants.
#[derive(Debug, Clone)]
pub struct GoaddonDialect {
    /// The project API token (`p-…`) clients must send, base64-encoded, as `Basic`; never logged.
    pub token: SecretString,
}

/// Shared handle on the dialect's state.
pub(crate) type Shared = Arc<GoaddonState>;

/// The dialect's state: its token, the project's database and the collections' `_fields`.
#[derive(Debug)]
pub(crate) struct GoaddonState {
    /// The token requests must carry.
    pub(crate) dialect: GoaddonDialect,
    /// Store id of the project's database once found or created; the lock makes the first
    /// parallel requests agree on one database.
    project: tokio::sync::Mutex<Option<String>>,
    /// `(database id, klass)` → `_fields`, which the store has no place for.
    fields: Mutex<HashMap<(String, String), Value>>,
}

impl GoaddonState {
    /// State for `dialect`.
    pub(crate) fn new(dialect: GoaddonDialect) -> Self {
        Self {
            dialect,
            project: tokio::sync::Mutex::new(None),
            fields: Mutex::default(),
        }
    }

    fn fields_of(&self, database_id: &str, klass: &str) -> Value {
        self.fields
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(database_id.to_owned(), klass.to_owned()))
            .cloned()
            .unwrap_or_else(|| json!([]))
    }

    fn set_fields(&self, database_id: &str, klass: &str, fields: Value) {
        self.fields
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((database_id.to_owned(), klass.to_owned()), fields);
    }
}

// -- errors -----------------------------------------------------------------------------------

/// An error reply in goaddon's (Rails) shape.
#[derive(Debug)]
pub(crate) struct GoaddonError {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

impl GoaddonError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"error": message.into()}),
            retry_after: None,
        }
    }

    /// A 422 naming the attribute at fault.
    fn unprocessable(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({"errors": {field: [message.into()]}}),
            retry_after: None,
        }
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found")
    }
}

impl IntoResponse for GoaddonError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"goaddon\""),
            );
        }
        response
    }
}

/// Maps a shared-rule error to goaddon's shape; `renamed` translates the store's field names
/// to goaddon's (`name` of a collection is `klass`).
fn from_local(error: LocalError, renamed: &[(&str, &str)]) -> GoaddonError {
    match error {
        LocalError::Invalid { field, message } => {
            let field = field.unwrap_or_else(|| "base".to_owned());
            let field = renamed
                .iter()
                .find(|(from, _)| *from == field)
                .map_or(field.as_str(), |(_, to)| to);
            GoaddonError::unprocessable(field, message)
        }
        LocalError::Duplicate(message) => {
            let field = renamed.first().map_or("base", |(_, to)| to);
            GoaddonError::unprocessable(field, format!("has already been taken ({message})"))
        }
        LocalError::Busy(message) => GoaddonError {
            retry_after: Some(1),
            ..GoaddonError::new(StatusCode::CONFLICT, message)
        },
        LocalError::RateLimited {
            message,
            retry_after_secs,
        } => GoaddonError {
            retry_after: Some(retry_after_secs),
            ..GoaddonError::new(StatusCode::TOO_MANY_REQUESTS, message)
        },
        LocalError::Unavailable {
            message,
            retry_after_secs,
        } => GoaddonError {
            retry_after: retry_after_secs,
            ..GoaddonError::new(StatusCode::SERVICE_UNAVAILABLE, message)
        },
        LocalError::Unauthorized => GoaddonError::new(StatusCode::UNAUTHORIZED, "Unauthorized"),
        LocalError::NotFound(_) => GoaddonError::not_found(),
        other @ (LocalError::Store(_)
        | LocalError::Io { .. }
        | LocalError::SchemaTooNew { .. }
        | LocalError::Corrupt(_)
        | LocalError::Task(_)) => {
            tracing::error!(error = %other, "internal error while handling a goaddon request");
            GoaddonError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; see the dbaas-local log",
            )
        }
        other => GoaddonError::new(other.status(), other.to_string()),
    }
}

/// Answer to any `/goaddon/…` request when the dialect is not configured.
pub(crate) fn not_configured() -> Response {
    GoaddonError::new(
        StatusCode::NOT_FOUND,
        "the goaddon dialect is not configured: start dbaas-local with --goaddon-token",
    )
    .into_response()
}

/// goaddon's front: the project token as Basic, and its Rails-shaped errors.
pub(crate) struct Front;

impl DialectFront for Front {
    fn refusal(&self, state: &AppState, request: &mut Parts, _body: &Bytes) -> Option<Response> {
        let Some(goaddon) = configured(state) else {
            return Some(not_configured());
        };
        if token_matches(&Presented::of(&request.headers), &goaddon.dialect.token) {
            return None;
        }
        tracing::info!(method = %request.method, path = %request.uri.path(), "goaddon request refused");
        Some(GoaddonError::new(StatusCode::UNAUTHORIZED, "Unauthorized").into_response())
    }

    fn error_response(&self, error: LocalError) -> Response {
        from_local(error, &[]).into_response()
    }

    fn unknown_route(&self, method: &Method, path: &str) -> Response {
        GoaddonError::new(
            StatusCode::NOT_FOUND,
            format!("No route matches [{method}] \"{path}\""),
        )
        .into_response()
    }
}

// -- authentication ---------------------------------------------------------------------------

/// Whether the credentials are `Basic <base64 of token>` (the bare token, no `user:`).
pub(crate) fn token_matches(presented: &Presented, token: &SecretString) -> bool {
    match presented {
        Presented::Basic(Some(decoded)) => {
            constant_time_eq(decoded, token.expose_secret().as_bytes())
        }
        _ => false,
    }
}

/// The dialect's state when it is configured.
fn configured(state: &AppState) -> Option<Shared> {
    state.dialects.goaddon.clone()
}

fn shared(state: &AppState) -> Result<Shared, GoaddonError> {
    configured(state).ok_or_else(|| {
        GoaddonError::new(
            StatusCode::NOT_FOUND,
            "the goaddon dialect is not configured: start dbaas-local with --goaddon-token",
        )
    })
}

// -- ids --------------------------------------------------------------------------------------

/// A 24-hex-digit ObjectId-shaped id from a UUID (its first 96 bits).
pub(crate) fn object_id_of_uuid(uuid: &str) -> String {
    uuid.chars()
        .filter(char::is_ascii_hexdigit)
        .take(24)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The stable ObjectId-shaped id of a collection: FNV-1a over the database id and the name,
/// with two offsets, giving 96 bits.
pub(crate) fn collection_id(database_id: &str, klass: &str) -> String {
    fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
        bytes.iter().fold(seed, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }
    let text = format!("{database_id}/{klass}");
    let high = fnv1a(0xcbf2_9ce4_8422_2325, text.as_bytes());
    let low = fnv1a(0x8422_2325_cbf2_9ce4, text.as_bytes());
    format!("{high:016x}{:08x}", low as u32)
}

fn is_object_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

// -- the project's database -------------------------------------------------------------------

/// The project's database, found, or made `READY` at once when it is missing.
async fn project(state: &AppState, goaddon: &GoaddonState) -> Result<Database, GoaddonError> {
    project_or_error(state, goaddon)
        .await
        .map_err(|error| from_local(error, &[]))
}

async fn project_or_error(
    state: &AppState,
    goaddon: &GoaddonState,
) -> Result<Database, LocalError> {
    let mut known = goaddon.project.lock().await;
    if let Some(id) = known.as_deref() {
        match state.databases.get(id).await {
            Ok(database) if !database.is_gone() => return Ok(database),
            Ok(_) | Err(LocalError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    let existing = state
        .databases
        .list(Some(PROJECT_DATABASE.to_owned()))
        .await?
        .into_iter()
        .find(|database| database.name == PROJECT_DATABASE);
    let database = match existing {
        Some(database) => database,
        None => {
            // goaddon's API has no provisioning state: created with no delay, settled now.
            let databases = &state.databases;
            let instant = Databases::new(
                databases.store().clone(),
                databases.clock().clone(),
                Wake::default(),
                Duration::ZERO,
            );
            let created = instant
                .create(
                    CreateDatabase {
                        name: PROJECT_DATABASE.to_owned(),
                        engine: Some(ENGINE.to_owned()),
                        description: Some("the goaddon dialect's project database".to_owned()),
                        ..CreateDatabase::default()
                    },
                    None,
                )
                .await?;
            lifecycle::settle_due(databases.store(), databases.clock().now()).await?;
            databases.get(&created.id).await?
        }
    };
    *known = Some(database.id.clone());
    Ok(database)
}

fn project_json(database: &Database) -> Value {
    let id = object_id_of_uuid(&database.uuid);
    let hosts: Vec<String> = (0..database.node_count)
        .map(|node| format!("{id}-{node}.mongodb.goaddon.local"))
        .collect();
    json!({
        "_id": id,
        "name": database.name,
        "db_name": database.name,
        "db_hosts": hosts,
        "database_configuration": {"nodes": database.node_count, "plan": database.plan},
        "zone": database.region,
    })
}

async fn list_projects(State(state): State<AppState>) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let database = project(&state, &goaddon).await?;
    Ok(axum::Json(json!([project_json(&database)])).into_response())
}

async fn read_project(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let database = project(&state, &goaddon).await?;
    if object_id_of_uuid(&database.uuid) != id {
        return Err(GoaddonError::not_found());
    }
    Ok(axum::Json(project_json(&database)).into_response())
}

// -- replica set maintenance --------------------------------------------------------------------
//
// goaddon documents "initiate a failover", "reboot a node" and "poll for the raw output from
// replSetGetStatus" for dedicated plans without giving their paths; these paths are inferred
// from its REST layout (`/projects/{id}/…`), and the status answers at once instead of after
// a first polling request.

/// The project the token reaches, if `id` names it.
async fn addressed_project(state: &AppState, id: &str) -> Result<Database, GoaddonError> {
    let goaddon = shared(state)?;
    let database = project(state, &goaddon).await?;
    if object_id_of_uuid(&database.uuid) != id {
        return Err(GoaddonError::not_found());
    }
    Ok(database)
}

async fn maintain(
    state: &AppState,
    id: &str,
    operation: Operation,
) -> Result<Response, GoaddonError> {
    let database = addressed_project(state, id).await?;
    state
        .databases
        .operate(&database.id, operation)
        .await
        .map_err(|error| from_local(error, &[("node", "node")]))?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"status": "initiated"})),
    )
        .into_response())
}

async fn initiate_failover(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, GoaddonError> {
    maintain(&state, &id, Operation::Failover).await
}

/// `node` is the 0-based index of the host in `db_hosts`.
async fn reboot_node(
    State(state): State<AppState>,
    Path((id, node)): Path<(String, String)>,
) -> Result<Response, GoaddonError> {
    let Some(node) = node.parse::<u32>().ok().and_then(|n| n.checked_add(1)) else {
        return Err(GoaddonError::unprocessable(
            "node",
            format!("{node:?} is not a node index (0, 1, …)"),
        ));
    };
    maintain(&state, &id, Operation::Restart { node: Some(node) }).await
}

/// replSetGetStatus in short: one member per node, node 0 the primary, and while a failover or
/// a reboot runs, node 0 recovering and no primary.
async fn replica_set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, GoaddonError> {
    let database = addressed_project(&state, &id).await?;
    let settled = database.status == Status::Ready;
    let members: Vec<Value> = (0..database.node_count)
        .map(|node| {
            let (state_str, health) = match (node, settled) {
                (0, true) => ("PRIMARY", 1),
                (0, false) => ("RECOVERING", 0),
                _ => ("SECONDARY", 1),
            };
            json!({
                "_id": node,
                "name": format!("{id}-{node}.mongodb.goaddon.local:27017"),
                "health": health,
                "stateStr": state_str,
            })
        })
        .collect();
    Ok(axum::Json(json!({"ok": 1, "members": members})).into_response())
}

// -- bodies -----------------------------------------------------------------------------------

fn body_object(bytes: &Bytes) -> Result<Map<String, Value>, GoaddonError> {
    let text = if bytes.is_empty() { &b"{}"[..] } else { bytes };
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(GoaddonError::new(
            StatusCode::BAD_REQUEST,
            "the request body must be a JSON object",
        )),
        Err(error) => Err(GoaddonError::new(
            StatusCode::BAD_REQUEST,
            format!("the request body is not valid JSON: {error}"),
        )),
    }
}

/// One registered index after decoding.
#[derive(Debug, Clone)]
pub(crate) struct WantedIndex {
    /// `options.name`, or the MongoDB-style default.
    pub(crate) name: String,
    /// `key`, in order.
    pub(crate) keys: Vec<RequestedKey>,
    /// `options.unique`.
    pub(crate) unique: bool,
    /// `options.sparse`.
    pub(crate) sparse: bool,
}

/// Decodes and checks an `indexes` array: keys valid, names and key lists unique.
pub(crate) fn decode_indexes(value: &Value) -> Result<Vec<WantedIndex>, GoaddonError> {
    let invalid = |message: String| GoaddonError::unprocessable("indexes", message);
    let Value::Array(items) = value else {
        return Err(invalid("must be an array".to_owned()));
    };
    let mut wanted: Vec<WantedIndex> = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let Some(item) = item.as_object() else {
            return Err(invalid(format!("entry {position} must be an object")));
        };
        let Some(Value::Object(key)) = item.get("key") else {
            return Err(invalid(format!(
                "entry {position} needs a `key` object of field: 1 or -1"
            )));
        };
        let mut keys = Vec::with_capacity(key.len());
        for (field, direction) in key {
            let Some(direction) = direction.as_i64() else {
                return Err(invalid(format!(
                    "entry {position}: the direction of {field:?} must be 1 or -1"
                )));
            };
            keys.push(RequestedKey {
                field: field.clone(),
                direction,
            });
        }
        let checked =
            validate_keys(&keys).map_err(|error| invalid(format!("entry {position}: {error}")))?;
        let (mut name, mut unique, mut sparse) = (None, false, false);
        match item.get("options") {
            None | Some(Value::Null) => {}
            Some(Value::Object(options)) => {
                for (option, value) in options {
                    match (option.as_str(), value) {
                        ("name", Value::String(text)) => name = Some(text.clone()),
                        ("unique", Value::Bool(flag)) => unique = *flag,
                        ("sparse", Value::Bool(flag)) => sparse = *flag,
                        ("name" | "unique" | "sparse", _) => {
                            return Err(invalid(format!(
                                "entry {position}: option {option:?} has the wrong type"
                            )));
                        }
                        _ => {
                            return Err(invalid(format!(
                                "entry {position}: option {option:?} is not supported \
                                 (name, unique, sparse)"
                            )));
                        }
                    }
                }
            }
            Some(_) => {
                return Err(invalid(format!(
                    "entry {position}: options must be an object"
                )));
            }
        }
        let name = name.unwrap_or_else(|| default_name(&checked));
        if name == ID_INDEX {
            return Err(invalid(format!(
                "entry {position}: the _id_ index is implicit and cannot be registered"
            )));
        }
        if wanted.iter().any(|other| other.name == name) {
            return Err(invalid(format!("index name {name:?} is listed twice")));
        }
        if wanted.iter().any(|other| same_keys(&other.keys, &keys)) {
            return Err(invalid(format!(
                "entry {position}: its keys are listed twice"
            )));
        }
        wanted.push(WantedIndex {
            name,
            keys,
            unique,
            sparse,
        });
    }
    Ok(wanted)
}

fn same_keys(a: &[RequestedKey], b: &[RequestedKey]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.field == y.field && x.direction == y.direction)
}

fn matches_stored(wanted: &WantedIndex, stored: &Index) -> bool {
    wanted.unique == stored.unique
        && wanted.sparse == stored.sparse
        && wanted.keys.len() == stored.keys.len()
        && wanted
            .keys
            .iter()
            .zip(&stored.keys)
            .all(|(w, s)| w.field == s.field && w.direction == i64::from(s.direction))
}

fn index_json(index: &Index) -> Value {
    let mut key = Map::new();
    for part in &index.keys {
        key.insert(part.field.clone(), json!(part.direction));
    }
    json!({
        "key": key,
        "options": {"name": index.name, "unique": index.unique, "sparse": index.sparse},
    })
}

// -- collections ------------------------------------------------------------------------------

/// The registered indexes of a collection: its stored indexes that are not being deleted.
async fn visible_indexes(
    state: &AppState,
    database_id: &str,
    klass: &str,
) -> Result<Vec<Index>, GoaddonError> {
    let indexes = state
        .indexes
        .list(database_id, klass)
        .await
        .map_err(|error| from_local(error, &[]))?;
    Ok(indexes
        .into_iter()
        .filter(|index| index.name != ID_INDEX && index.status != Status::Deleting)
        .collect())
}

async fn collection_json(
    state: &AppState,
    goaddon: &GoaddonState,
    database_id: &str,
    klass: &str,
) -> Result<Value, GoaddonError> {
    let indexes = visible_indexes(state, database_id, klass).await?;
    Ok(json!({
        "_id": collection_id(database_id, klass),
        "klass": klass,
        "_fields": goaddon.fields_of(database_id, klass),
        "indexes": indexes.iter().map(index_json).collect::<Vec<_>>(),
    }))
}

/// The klass of the collection with this `_id`, or 404.
async fn klass_of(state: &AppState, database_id: &str, id: &str) -> Result<String, GoaddonError> {
    if !is_object_id(id) {
        return Err(GoaddonError::not_found());
    }
    let id = id.to_ascii_lowercase();
    state
        .indexes
        .collections(database_id)
        .await
        .map_err(|error| from_local(error, &[]))?
        .into_iter()
        .map(|summary| summary.name)
        .find(|name| collection_id(database_id, name) == id)
        .ok_or_else(GoaddonError::not_found)
}

async fn list_collections(State(state): State<AppState>) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let database = project(&state, &goaddon).await?;
    let summaries = state
        .indexes
        .collections(&database.id)
        .await
        .map_err(|error| from_local(error, &[]))?;
    let mut collections = Vec::with_capacity(summaries.len());
    for summary in summaries {
        collections.push(collection_json(&state, &goaddon, &database.id, &summary.name).await?);
    }
    Ok(axum::Json(Value::Array(collections)).into_response())
}

async fn read_collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let database = project(&state, &goaddon).await?;
    let klass = klass_of(&state, &database.id, &id).await?;
    let body = collection_json(&state, &goaddon, &database.id, &klass).await?;
    Ok(axum::Json(body).into_response())
}

fn decode_fields(body: &Map<String, Value>) -> Result<Option<Value>, GoaddonError> {
    match body.get("_fields") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(json!([]))),
        Some(value @ Value::Array(_)) => Ok(Some(value.clone())),
        Some(_) => Err(GoaddonError::unprocessable("_fields", "must be an array")),
    }
}

fn decode_wanted(body: &Map<String, Value>) -> Result<Option<Vec<WantedIndex>>, GoaddonError> {
    match body.get("indexes") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Vec::new())),
        Some(value) => decode_indexes(value).map(Some),
    }
}

async fn create_collection(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let body = body_object(&body)?;
    let klass = match body.get("klass") {
        Some(Value::String(klass)) => klass.clone(),
        _ => return Err(GoaddonError::unprocessable("klass", "can't be blank")),
    };
    validate_collection(&klass).map_err(|error| from_local(error, &[("name", "klass")]))?;
    let fields = decode_fields(&body)?;
    let wanted = decode_wanted(&body)?.unwrap_or_default();
    let database = project(&state, &goaddon).await?;
    let now = state.databases.clock().now();
    let (database_id, name) = (database.id.clone(), klass.clone());
    state
        .databases
        .store()
        .transact(move |tx| {
            parent_for_change(tx, &database_id)?;
            if tx.collection(&database_id, &name)?.is_some() {
                return Err(LocalError::Duplicate(format!("collection {name:?} exists")));
            }
            tx.insert_collection(&Collection {
                database_id,
                name,
                created_at: whole_seconds(now),
            })
        })
        .await
        .map_err(|error| from_local(error, &[("name", "klass")]))?;
    if let Some(fields) = fields {
        goaddon.set_fields(&database.id, &klass, fields);
    }
    apply_indexes(&state, &database.id, &klass, &wanted).await?;
    let body = collection_json(&state, &goaddon, &database.id, &klass).await?;
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// Makes the collection's registered indexes `wanted`: checks every change first, then deletes
/// the indexes left out and builds the new ones.
async fn apply_indexes(
    state: &AppState,
    database_id: &str,
    klass: &str,
    wanted: &[WantedIndex],
) -> Result<(), GoaddonError> {
    let current = visible_indexes(state, database_id, klass).await?;
    for index in wanted {
        if let Some(stored) = current.iter().find(|stored| stored.name == index.name)
            && !matches_stored(index, stored)
        {
            return Err(GoaddonError::unprocessable(
                "indexes",
                format!(
                    "index {:?} exists with other keys or options: remove it first, then add \
                     it again",
                    index.name
                ),
            ));
        }
    }
    for stored in &current {
        if !wanted.iter().any(|index| index.name == stored.name) {
            state
                .indexes
                .delete(database_id, klass, &stored.name)
                .await
                .map_err(|error| from_local(error, &[]))?;
        }
    }
    for index in wanted {
        if current.iter().any(|stored| stored.name == index.name) {
            continue;
        }
        state
            .indexes
            .create(
                database_id,
                klass,
                CreateIndex {
                    name: Some(index.name.clone()),
                    keys: index.keys.clone(),
                    unique: index.unique,
                    sparse: index.sparse,
                },
                None,
            )
            .await
            .map_err(|error| from_local(error, &[("name", "indexes"), ("keys", "indexes")]))?;
    }
    Ok(())
}

async fn update_collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let body = body_object(&body)?;
    let database = project(&state, &goaddon).await?;
    let klass = klass_of(&state, &database.id, &id).await?;
    if let Some(Value::String(new_klass)) = body.get("klass")
        && *new_klass != klass
    {
        return Err(GoaddonError::unprocessable("klass", "cannot be changed"));
    }
    let fields = decode_fields(&body)?;
    if let Some(wanted) = decode_wanted(&body)? {
        apply_indexes(&state, &database.id, &klass, &wanted).await?;
    }
    if let Some(fields) = fields {
        goaddon.set_fields(&database.id, &klass, fields);
    }
    let body = collection_json(&state, &goaddon, &database.id, &klass).await?;
    Ok(axum::Json(body).into_response())
}

async fn delete_collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let database = project(&state, &goaddon).await?;
    let klass = klass_of(&state, &database.id, &id).await?;
    apply_indexes(&state, &database.id, &klass, &[]).await?;
    goaddon.set_fields(&database.id, &klass, json!([]));
    Ok(StatusCode::NO_CONTENT.into_response())
}

// -- database users ---------------------------------------------------------------------------

/// The store grant of a bare role name on the project's database.
fn grant(role: &str, database: &Database) -> Result<String, GoaddonError> {
    if role.contains('@') {
        return Err(GoaddonError::unprocessable(
            "roles",
            format!("role {role:?}: give the bare role name (e.g. readWrite)"),
        ));
    }
    Ok(format!("{role}@{}", database.name))
}

fn decode_roles(value: &Value, database: &Database) -> Result<Vec<String>, GoaddonError> {
    let Value::Array(items) = value else {
        return Err(GoaddonError::unprocessable(
            "roles",
            "must be an array of strings",
        ));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(role) => grant(role, database),
            _ => Err(GoaddonError::unprocessable(
                "roles",
                "must be an array of strings",
            )),
        })
        .collect()
}

fn user_json(credential: &Credential, password: Option<&SecretString>) -> Value {
    let roles: Vec<&str> = credential
        .roles
        .iter()
        .map(|role| role.split_once('@').map_or(role.as_str(), |(name, _)| name))
        .collect();
    json!({
        "_id": object_id_of_uuid(&credential.uuid),
        "username": credential.username,
        "password": password.map(|password| password.expose_secret().to_owned()),
        "roles": roles,
    })
}

async fn visible_users(
    state: &AppState,
    database_id: &str,
) -> Result<Vec<Credential>, GoaddonError> {
    Ok(state
        .credentials
        .list(database_id)
        .await
        .map_err(|error| from_local(error, &[]))?
        .into_iter()
        .filter(|credential| credential.status != Status::Deleting)
        .collect())
}

async fn user_by_id(
    state: &AppState,
    database_id: &str,
    id: &str,
) -> Result<Credential, GoaddonError> {
    if !is_object_id(id) {
        return Err(GoaddonError::not_found());
    }
    let id = id.to_ascii_lowercase();
    visible_users(state, database_id)
        .await?
        .into_iter()
        .find(|credential| object_id_of_uuid(&credential.uuid) == id)
        .ok_or_else(GoaddonError::not_found)
}

async fn list_users(State(state): State<AppState>) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let database = project(&state, &goaddon).await?;
    let users: Vec<Value> = visible_users(&state, &database.id)
        .await?
        .iter()
        .map(|credential| user_json(credential, None))
        .collect();
    Ok(axum::Json(Value::Array(users)).into_response())
}

async fn read_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let database = project(&state, &goaddon).await?;
    let credential = user_by_id(&state, &database.id, &id).await?;
    Ok(axum::Json(user_json(&credential, None)).into_response())
}

fn decode_password(value: Option<&Value>) -> Result<Option<SecretString>, GoaddonError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.is_empty() => Ok(Some(SecretString::from(text.clone()))),
        Some(Value::String(_)) => Err(GoaddonError::unprocessable("password", "can't be blank")),
        Some(_) => Err(GoaddonError::unprocessable("password", "must be a string")),
    }
}

async fn create_user(State(state): State<AppState>, body: Bytes) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let body = body_object(&body)?;
    let username = match body.get("username") {
        Some(Value::String(username)) => username.clone(),
        _ => return Err(GoaddonError::unprocessable("username", "can't be blank")),
    };
    let password = decode_password(body.get("password"))?;
    let database = project(&state, &goaddon).await?;
    let roles = match body.get("roles") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => decode_roles(value, &database)?,
    };
    let created = state
        .credentials
        .create(
            &database.id,
            CreateCredential {
                username,
                roles,
                password,
            },
            None,
        )
        .await
        .map_err(|error| from_local(error, &[("username", "username")]))?;
    let body = user_json(&created.credential, created.password.as_ref());
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

async fn update_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let body = body_object(&body)?;
    let database = project(&state, &goaddon).await?;
    let mut credential = user_by_id(&state, &database.id, &id).await?;
    if let Some(Value::String(username)) = body.get("username")
        && *username != credential.username
    {
        return Err(GoaddonError::unprocessable("username", "cannot be changed"));
    }
    let roles = match body.get("roles") {
        None => None,
        Some(Value::Null) => Some(Vec::new()),
        Some(value) => Some(decode_roles(value, &database)?),
    };
    let password = match body.get("password") {
        None => None,
        Some(value) => Some(
            decode_password(Some(value))?
                .ok_or_else(|| GoaddonError::unprocessable("password", "can't be blank"))?,
        ),
    };
    if let Some(roles) = roles {
        credential = state
            .credentials
            .update_roles(&database.id, &credential.username, roles)
            .await
            .map_err(|error| from_local(error, &[]))?
            .credential;
    }
    if let Some(password) = password {
        credential = state
            .credentials
            .reset_password(&database.id, &credential.username, Some(password))
            .await
            .map_err(|error| from_local(error, &[]))?
            .credential;
    }
    Ok(axum::Json(user_json(&credential, None)).into_response())
}

async fn delete_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, GoaddonError> {
    let goaddon = shared(&state)?;
    let database = project(&state, &goaddon).await?;
    let credential = user_by_id(&state, &database.id, &id).await?;
    state
        .credentials
        .delete(&database.id, &credential.username)
        .await
        .map_err(|error| from_local(error, &[]))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The dialect's routes, all under [`BASE`].
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{API}/projects"), get(list_projects))
        .route(&format!("{API}/projects/{{id}}"), get(read_project))
        .route(
            &format!("{API}/projects/{{id}}/failover"),
            post(initiate_failover),
        )
        .route(
            &format!("{API}/projects/{{id}}/nodes/{{node}}/reboot"),
            post(reboot_node),
        )
        .route(
            &format!("{API}/projects/{{id}}/replica_set_status"),
            get(replica_set_status),
        )
        .route(
            &format!("{API}/collections"),
            get(list_collections).post(create_collection),
        )
        .route(
            &format!("{API}/collections/{{id}}"),
            get(read_collection)
                .patch(update_collection)
                .put(update_collection)
                .delete(delete_collection),
        )
        .route(
            &format!("{API}/database_users"),
            get(list_users).post(create_user),
        )
        .route(
            &format!("{API}/database_users/{{id}}"),
            get(read_user)
                .patch(update_user)
                .put(update_user)
                .delete(delete_user),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn token_matches_base64_of_the_bare_token_as_in_the_seed() {
        let token = SecretString::from("p-e1f92c77-5bb0-4fb8-9bd8-9b61d014ab5f");
        let matches = |authorization: Option<&str>| {
            let mut headers = axum::http::HeaderMap::new();
            if let Some(value) = authorization {
                headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            }
            token_matches(&Presented::of(&headers), &token)
        };
        assert!(matches(Some(
            "Basic cC1lMWY5MmM3Ny01YmIwLTRmYjgtOWJkOC05YjYxZDAxNGFiNWY="
        )));
        let with_colon = base64::engine::general_purpose::STANDARD
            .encode("p-e1f92c77-5bb0-4fb8-9bd8-9b61d014ab5f:");
        assert!(!matches(Some(&format!("Basic {with_colon}"))));
        assert!(!matches(Some("Bearer p-e1f92c77")));
        assert!(!matches(Some("Basic !!!")));
        assert!(!matches(None));
    }

    #[test]
    fn collection_id_is_stable_object_id_shaped_and_distinct() {
        let a = collection_id("db-000000000001", "companies");
        assert_eq!(a, collection_id("db-000000000001", "companies"));
        assert!(is_object_id(&a));
        assert_ne!(a, collection_id("db-000000000001", "company"));
        assert_ne!(a, collection_id("db-000000000002", "companies"));
    }

    #[test]
    fn object_id_of_uuid_takes_24_hex_digits() {
        assert_eq!(
            object_id_of_uuid("5bf935bc-3ab4-2fc4-f428-0d04aabbccdd"),
            "5bf935bc3ab42fc4f4280d04"
        );
    }

    #[test]
    fn decode_indexes_reads_the_seed_example_with_default_names() {
        let wanted = decode_indexes(&json!([
            { "key": { "foo": 1 } },
            { "key": { "company_id": 1, "foo": -1 },
              "options": { "unique": true, "sparse": true, "name": "company_foo" } }
        ]))
        .unwrap();
        assert_eq!(wanted.len(), 2);
        assert_eq!(wanted[0].name, "foo_1");
        assert!(!wanted[0].unique);
        assert_eq!(wanted[1].name, "company_foo");
        assert_eq!(wanted[1].keys[0].field, "company_id");
        assert_eq!(wanted[1].keys[1].direction, -1);
        assert!(wanted[1].unique && wanted[1].sparse);
    }

    #[test]
    fn decode_indexes_refuses_duplicates_bad_directions_and_unknown_options() {
        for bad in [
            json!([{ "key": { "a": 1 } }, { "key": { "a": 1 }, "options": { "name": "x" } }]),
            json!([{ "key": { "a": 1 } }, { "key": { "b": 1 }, "options": { "name": "a_1" } }]),
            json!([{ "key": { "a": 2 } }]),
            json!([{ "key": { "a": "asc" } }]),
            json!([{ "key": {} }]),
            json!([{ "key": { "a": 1 }, "options": { "background": true } }]),
            json!([{ "key": { "_id": 1 }, "options": { "name": "_id_" } }]),
            json!({ "key": { "a": 1 } }),
        ] {
            let error = decode_indexes(&bad).unwrap_err();
            assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(error.body["errors"]["indexes"][0].is_string(), "{bad}");
        }
    }

    #[test]
    fn from_local_maps_busy_to_409_with_retry_after_and_lock_without() {
        let busy = from_local(LocalError::Busy("database is UPDATING".into()), &[]);
        assert_eq!(busy.status, StatusCode::CONFLICT);
        assert_eq!(busy.retry_after, Some(1));
        let locked = from_local(LocalError::Locked("locked".into()), &[]);
        assert_eq!(locked.status, StatusCode::CONFLICT);
        assert_eq!(locked.retry_after, None);
        let taken = from_local(LocalError::Duplicate("taken".into()), &[("name", "klass")]);
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(taken.body["errors"]["klass"][0].is_string());
        let invalid = from_local(LocalError::invalid("name", "bad"), &[("name", "klass")]);
        assert_eq!(invalid.body, json!({"errors": {"klass": ["bad"]}}));
    }
}
