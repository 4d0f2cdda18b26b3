//! The Compose dialect: Compose's (ex-MongoHQ) *classic* API, `Accept-Version: 2014-06`, under
//! `/compose`, over the same store, lifecycle, request log and faults as the native API.
//!
//! Clients point their Compose endpoint at `http://<host>/compose` and send
//! `Authorization: Bearer <personal access token>` and `Accept-Version: 2014-06` on every call.
//! One account (`--compose-account`, its slug) holding one MongoDB deployment
//! (`--compose-deployment`, its name) is served; `:account` may be the slug or the id,
//! `:deployment` the name or the id, as at Compose. Routes:
//! `GET /accounts`, `GET /accounts/:account`, `GET /accounts/:account/deployments`,
//! `GET /deployments/:account/:deployment`, `GET …/databases`, `GET|DELETE …/databases/:db`,
//! `GET …/mongodb/databases`, `GET|POST …/mongodb/:db/collections`,
//! `GET|POST …/mongodb/:db/users`, `PUT|DELETE …/mongodb/:db/users/:user`.
//!
//! How the store maps onto Compose: every store database of engine `mongodb` is a MongoDB
//! database of the deployment (so one created through `/v1` or `/ovh` shows here too). As seed
//! 000 shows, there is no "create database" call: `POST …/mongodb/:db/collections` with
//! `{"name": "<collection>"}` in a new `:db` creates the database (status `CREATING` in the
//! store) with that collection, and answers 201. Users are the database's credentials; Compose's
//! `readOnly` is the role `read@<db>`, `readOnly: false` the role `readWrite@<db>`.
//!
//! Choices where the facts are silent (vendor-apis.md §5.5), following the classic API's
//! siblings (its users endpoints, MongoDB's own replies) and the rest of this service:
//! - Without `Accept-Version: 2014-06` every path answers 404 with the plain-text body
//!   `NOT FOUND` (seed 000; the classic API's plain 404s); this is checked before the token.
//!   A missing or wrong token answers 401 `{"error": …}`.
//! - Every other error is `{"error": "<message>"}` with the service's status (400, 404, 405,
//!   409, 429, 503…). A 409 that waiting resolves (the database or user is busy, the deployment
//!   is still `new`) carries `Retry-After: 1`; a 409 without it (duplicate) will not resolve.
//! - The deployment's `status` is `new` for one provision delay after the service starts, then
//!   `running` (CIOT waits for `running`); creating a collection while it is `new` is a busy 409.
//! - Database `status`: `CREATING`/`BUILDING` → `new`, `READY`/`UPDATING` → `running`,
//!   `DELETING` → `pending_deprovision`, `ERROR` → `failed`.
//! - `POST …/collections` answers 201 `{"ok": 1}` (MongoDB's command reply, like the users
//!   endpoints); an existing collection is a 409 `{"error": "collection … already exists"}`.
//!   Collections are never deleted (the store keeps them until their database goes).
//!   Database names follow this service's rule (3–63 of `[a-z0-9-]`); `admin`, `local` and
//!   `config` are MongoDB's own and refused.
//! - `GET …/mongodb/databases` lists names (strings), the internal `admin` and `local` first,
//!   as the seed shows "your databases + few internal ones".
//! - `DELETE …/databases/:db` starts deleting the database and answers 200 `{"ok": 1}`.
//! - Users: `POST` needs `username` and `password` (Compose never generates one) and answers
//!   200 `{"ok": 1}`; a user listed shows `pwd` as the stored salted hash. `PUT …/users/:user`
//!   takes `password` and/or `readOnly` and answers `{"ok": 1}`. A user whose roles are not
//!   all `read@…` shows `readOnly: false`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use crate::local::AppState;
use crate::local::auth::is_authorized;
use crate::local::catalog::CATALOG;
use crate::local::credentials::CreateCredential;
use crate::local::databases::{CreateDatabase, parent_for_change};
use crate::local::dialects::DialectFront;
use crate::local::error::LocalError;
use crate::local::model::{Collection, Credential, Database, Status, StoredPassword};
use crate::local::model::{format_timestamp, whole_seconds};
use crate::local::validation::{validate_collection, validate_name};

/// Where the dialect is served; clients use `http://<host>/compose` as their endpoint.
pub(crate) const BASE: &str = "/compose";

/// The only `Accept-Version` the classic API answers.
pub(crate) const ACCEPT_VERSION: &str = "2014-06";

/// The engine of the deployment.
const ENGINE: &str = "mongodb";

/// MongoDB's own databases: listed, never created or deleted by clients.
const INTERNAL_DATABASES: &[&str] = &["admin", "local", "config"];

/// The Compose dialect's token, account and deployment. With it in [`crate::local::Config`],
/// the service speaks Compose's classic API under `/compose`.
#[derive(Debug, Clone)]
pub struct ComposeDialect {
    /// The personal access token clients must send as `Authorization: Bearer`; never logged.
    pub token: SecretString,
    /// The account slug served (`:account`); other accounts are 404.
    pub account: String,
    /// The deployment name served (`:deployment`); other deployments are 404.
    pub deployment: String,
}

/// Shared handle on the dialect's state, kept in [`AppState`].
pub(crate) type Shared = Arc<ComposeState>;

/// The dialect's state: its settings and when the deployment becomes `running`.
#[derive(Debug)]
pub(crate) struct ComposeState {
    /// Token, account and deployment.
    pub(crate) dialect: ComposeDialect,
    /// When the deployment was "provisioned" (the service start).
    created_at: DateTime<Utc>,
    /// When its status turns from `new` to `running`.
    running_at: DateTime<Utc>,
}

impl ComposeState {
    /// State for `dialect`, whose deployment is `new` from `now` until `running_at`.
    pub(crate) fn new(
        dialect: ComposeDialect,
        now: DateTime<Utc>,
        running_at: DateTime<Utc>,
    ) -> Self {
        Self {
            dialect,
            created_at: whole_seconds(now),
            running_at,
        }
    }

    fn account_id(&self) -> String {
        stable_id("account", &self.dialect.account)
    }

    fn deployment_id(&self) -> String {
        stable_id("deployment", &self.dialect.deployment)
    }

    fn deployment_status(&self, now: DateTime<Utc>) -> &'static str {
        if now >= self.running_at {
            "running"
        } else {
            "new"
        }
    }
}

/// A 24-hex-digit id (a MongoDB ObjectId's shape) that stays the same across restarts.
fn stable_id(kind: &str, name: &str) -> String {
    let fnv = |seed: u64| {
        format!("{kind}:{name}").bytes().fold(seed, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let high = fnv(0xcbf2_9ce4_8422_2325);
    let low = fnv(0x84222325_cbf29ce4);
    format!("{high:016x}{:08x}", low >> 32)
}

/// An error the Compose way: the status and `{"error": "<message>"}` (and `Retry-After: 1`
/// when waiting resolves it).
#[derive(Debug)]
pub(crate) struct ComposeError {
    /// HTTP status.
    status: StatusCode,
    /// Human message.
    message: String,
    /// Whether the same request will succeed later.
    busy: bool,
}

impl ComposeError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            busy: false,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn busy(message: impl Into<String>) -> Self {
        Self {
            busy: true,
            ..Self::new(StatusCode::CONFLICT, message)
        }
    }
}

impl From<LocalError> for ComposeError {
    fn from(error: LocalError) -> Self {
        let status = error.status();
        if status.is_server_error() {
            tracing::error!(%error, "Compose dialect request failed");
        }
        Self {
            status,
            busy: matches!(error, LocalError::Busy(_)),
            message: error.to_string(),
        }
    }
}

impl IntoResponse for ComposeError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({"error": self.message}))).into_response();
        if self.busy {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// Answer to any `/compose/…` request when the dialect is not configured.
pub(crate) fn not_configured() -> Response {
    ComposeError::not_found(
        "the Compose dialect is not configured: start dbaas-local with --compose-token, \
         --compose-account and --compose-deployment",
    )
    .into_response()
}

/// Compose's front: `Accept-Version`, the personal access token, `{"error": …}` errors.
pub(crate) struct Front;

impl DialectFront for Front {
    /// Checks `Accept-Version` (404 `NOT FOUND` without it) and the bearer token (401).
    fn refusal(&self, state: &AppState, request: &mut Parts, _body: &Bytes) -> Option<Response> {
        let Some(compose) = state.dialects.compose.as_ref() else {
            return Some(not_configured());
        };
        let version = request
            .headers
            .get("accept-version")
            .and_then(|value| value.to_str().ok())
            .map(str::trim);
        if version != Some(ACCEPT_VERSION) {
            return Some(
                (
                    StatusCode::NOT_FOUND,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "NOT FOUND",
                )
                    .into_response(),
            );
        }
        if !is_authorized(&request.headers, &compose.dialect.token) {
            return Some(ComposeError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: a valid personal access token is required (Authorization: Bearer …)",
            )
            .into_response());
        }
        None
    }

    fn error_response(&self, error: LocalError) -> Response {
        // Compose's busy answers carry no Retry-After; its rate limits and outages do.
        let retry_after = match &error {
            LocalError::Busy(_) => None,
            other => other.retry_after_secs(),
        };
        let mut response = ComposeError::from(error).into_response();
        if let Some(wait) = retry_after
            && let Ok(value) = HeaderValue::from_str(&wait.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }

    fn unknown_route(&self, method: &Method, path: &str) -> Response {
        ComposeError::not_found(format!("no Compose operation {method} {path}")).into_response()
    }
}

/// Routes of the dialect (always mounted; [`Front`] answers for an unconfigured one).
pub(crate) fn routes() -> Router<AppState> {
    let deployment = format!("{BASE}/deployments/{{account}}/{{deployment}}");
    let mongo = format!("{deployment}/mongodb/{{database}}");
    Router::new()
        .route(&format!("{BASE}/accounts"), get(list_accounts))
        .route(&format!("{BASE}/accounts/{{account}}"), get(read_account))
        .route(
            &format!("{BASE}/accounts/{{account}}/deployments"),
            get(list_deployments),
        )
        .route(&deployment, get(read_deployment))
        .route(&format!("{deployment}/databases"), get(list_databases))
        .route(
            &format!("{deployment}/databases/{{database}}"),
            get(read_database).delete(delete_database),
        )
        .route(
            &format!("{deployment}/mongodb/databases"),
            get(list_mongodb_databases),
        )
        .route(
            &format!("{mongo}/collections"),
            get(list_collections).post(create_collection),
        )
        .route(&format!("{mongo}/users"), get(list_users).post(create_user))
        .route(
            &format!("{mongo}/users/{{user}}"),
            put(update_user).delete(delete_user),
        )
}

type Reply = Result<Response, ComposeError>;

fn ok(body: Value) -> Reply {
    Ok((StatusCode::OK, Json(body)).into_response())
}

fn ok_one() -> Reply {
    ok(json!({"ok": 1}))
}

fn path<T>(params: Result<Path<T>, PathRejection>) -> Result<T, ComposeError> {
    params
        .map(|Path(value)| value)
        .map_err(|rejection| ComposeError::bad_request(format!("invalid path: {rejection}")))
}

/// The request body as a JSON object.
fn object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, ComposeError> {
    let bytes = body.map_err(|rejection| {
        ComposeError::bad_request(format!("cannot read the request body: {rejection}"))
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ComposeError::bad_request("the body must be a JSON object")),
        Err(error) => Err(ComposeError::bad_request(format!(
            "the body is not valid JSON: {error}"
        ))),
    }
}

fn string_field(body: &Map<String, Value>, field: &str) -> Result<Option<String>, ComposeError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ComposeError::bad_request(format!(
            "{field} must be a string"
        ))),
    }
}

fn bool_field(body: &Map<String, Value>, field: &str) -> Result<Option<bool>, ComposeError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(_) => Err(ComposeError::bad_request(format!(
            "{field} must be true or false"
        ))),
    }
}

fn compose_state(state: &AppState) -> Result<Shared, ComposeError> {
    state
        .dialects
        .compose
        .clone()
        .ok_or_else(|| ComposeError::not_found("the Compose dialect is not configured"))
}

/// 404 unless `account` is the served account's slug or id.
fn check_account(compose: &ComposeState, account: &str) -> Result<(), ComposeError> {
    if account == compose.dialect.account || account == compose.account_id() {
        Ok(())
    } else {
        Err(ComposeError::not_found(format!(
            "account {account:?} not found"
        )))
    }
}

/// 404 unless the path names the served account and deployment.
fn check_deployment(
    compose: &ComposeState,
    account: &str,
    deployment: &str,
) -> Result<(), ComposeError> {
    check_account(compose, account)?;
    if deployment == compose.dialect.deployment || deployment == compose.deployment_id() {
        Ok(())
    } else {
        Err(ComposeError::not_found(format!(
            "deployment {deployment:?} not found"
        )))
    }
}

/// Compose's word for a store status.
fn database_status(status: Status) -> &'static str {
    match status {
        Status::Creating | Status::Building => "new",
        Status::Ready | Status::Updating => "running",
        Status::Deleting => "pending_deprovision",
        Status::Error => "failed",
    }
}

/// The databases of the deployment: the store's MongoDB databases, by name.
async fn mongodb_databases(state: &AppState) -> Result<Vec<Database>, ComposeError> {
    Ok(state
        .databases
        .list(None)
        .await?
        .into_iter()
        .filter(|database| database.engine == ENGINE)
        .collect())
}

/// The deployment's database named `name`, or `None`.
async fn find_database(state: &AppState, name: &str) -> Result<Option<Database>, ComposeError> {
    Ok(state
        .databases
        .list(Some(name.to_owned()))
        .await?
        .into_iter()
        .find(|database| database.name == name && database.engine == ENGINE))
}

/// The deployment's database named `name`, or 404.
async fn database_named(state: &AppState, name: &str) -> Result<Database, ComposeError> {
    find_database(state, name)
        .await?
        .ok_or_else(|| ComposeError::not_found(format!("database {name:?} not found")))
}

fn members(compose: &ComposeState) -> Vec<String> {
    let host = format!("{}.dbaas-local.invalid", compose.dialect.deployment);
    vec![format!("{host}:10000"), format!("{host}:10001")]
}

fn database_json(compose: &ComposeState, database: &Database) -> Value {
    json!({
        "id": database.id,
        "name": database.name,
        "status": database_status(database.status),
        "plan": database.plan,
        "deployment_id": compose.deployment_id(),
        "created_at": format_timestamp(database.created_at),
    })
}

fn account_json(compose: &ComposeState) -> Value {
    json!({
        "id": compose.account_id(),
        "name": compose.dialect.account,
        "slug": compose.dialect.account,
        "active": true,
        "created_at": format_timestamp(compose.created_at),
        "owner_id": stable_id("owner", &compose.dialect.account),
        "owner": compose.dialect.account,
    })
}

fn deployment_json(compose: &ComposeState, now: DateTime<Utc>, databases: &[Database]) -> Value {
    let members = members(compose);
    let version = CATALOG
        .engine(ENGINE)
        .map_or("", |engine| engine.default_version);
    json!({
        "id": compose.deployment_id(),
        "name": compose.dialect.deployment,
        "location": "local:dbaas-local",
        "type": ENGINE,
        "plan": "mongohq:elastic",
        "version": version,
        "status": compose.deployment_status(now),
        "current_primary": members[0],
        "members": members,
        "created_at": format_timestamp(compose.created_at),
        "databases": databases
            .iter()
            .map(|database| database_json(compose, database))
            .collect::<Vec<_>>(),
    })
}

// ---- accounts and deployments ----

async fn list_accounts(State(state): State<AppState>) -> Reply {
    let compose = compose_state(&state)?;
    ok(json!([account_json(&compose)]))
}

async fn read_account(
    State(state): State<AppState>,
    account: Result<Path<String>, PathRejection>,
) -> Reply {
    let compose = compose_state(&state)?;
    check_account(&compose, &path(account)?)?;
    ok(account_json(&compose))
}

async fn list_deployments(
    State(state): State<AppState>,
    account: Result<Path<String>, PathRejection>,
) -> Reply {
    let compose = compose_state(&state)?;
    check_account(&compose, &path(account)?)?;
    let databases = mongodb_databases(&state).await?;
    let now = state.databases.clock().now();
    ok(json!([deployment_json(&compose, now, &databases)]))
}

type DeploymentPath = Result<Path<(String, String)>, PathRejection>;

async fn read_deployment(State(state): State<AppState>, params: DeploymentPath) -> Reply {
    let compose = compose_state(&state)?;
    let (account, deployment) = path(params)?;
    check_deployment(&compose, &account, &deployment)?;
    let databases = mongodb_databases(&state).await?;
    let now = state.databases.clock().now();
    ok(deployment_json(&compose, now, &databases))
}

// ---- databases ----

async fn list_databases(State(state): State<AppState>, params: DeploymentPath) -> Reply {
    let compose = compose_state(&state)?;
    let (account, deployment) = path(params)?;
    check_deployment(&compose, &account, &deployment)?;
    let databases = mongodb_databases(&state).await?;
    ok(Value::Array(
        databases
            .iter()
            .map(|database| database_json(&compose, database))
            .collect(),
    ))
}

type DatabasePath = Result<Path<(String, String, String)>, PathRejection>;

/// The dialect state and the database the path names (404 when it has none).
async fn database_of(
    state: &AppState,
    params: DatabasePath,
) -> Result<(Shared, Database), ComposeError> {
    let compose = compose_state(state)?;
    let (account, deployment, name) = path(params)?;
    check_deployment(&compose, &account, &deployment)?;
    let database = database_named(state, &name).await?;
    Ok((compose, database))
}

async fn read_database(State(state): State<AppState>, params: DatabasePath) -> Reply {
    let (compose, database) = database_of(&state, params).await?;
    ok(database_json(&compose, &database))
}

async fn delete_database(State(state): State<AppState>, params: DatabasePath) -> Reply {
    let (_, database) = database_of(&state, params).await?;
    state.databases.delete(&database.id).await?;
    ok_one()
}

async fn list_mongodb_databases(State(state): State<AppState>, params: DeploymentPath) -> Reply {
    let compose = compose_state(&state)?;
    let (account, deployment) = path(params)?;
    check_deployment(&compose, &account, &deployment)?;
    let mut names: Vec<String> = ["admin", "local"].map(str::to_owned).to_vec();
    names.extend(
        mongodb_databases(&state)
            .await?
            .into_iter()
            .map(|database| database.name),
    );
    ok(json!(names))
}

// ---- collections ----

async fn list_collections(State(state): State<AppState>, params: DatabasePath) -> Reply {
    let (_, database) = database_of(&state, params).await?;
    let names: Vec<String> = state
        .indexes
        .collections(&database.id)
        .await?
        .into_iter()
        .map(|collection| collection.name)
        .collect();
    ok(json!(names))
}

/// Adds `collection` to the existing database `database_id` (which must be `READY`).
async fn add_collection(
    state: &AppState,
    database_id: &str,
    collection: &str,
    require_ready: bool,
) -> Result<(), ComposeError> {
    let now = state.databases.clock().now();
    let (database_id, collection) = (database_id.to_owned(), collection.to_owned());
    state
        .databases
        .store()
        .transact(move |tx| {
            if require_ready {
                parent_for_change(tx, &database_id)?;
            }
            if tx.collection(&database_id, &collection)?.is_some() {
                return Err(LocalError::Duplicate(format!(
                    "collection {collection:?} already exists"
                )));
            }
            tx.insert_collection(&Collection {
                database_id,
                name: collection,
                created_at: whole_seconds(now),
            })
        })
        .await?;
    Ok(())
}

/// Seed 000's way to create a database: a first collection in a new database name.
async fn create_collection(
    State(state): State<AppState>,
    params: DatabasePath,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let compose = compose_state(&state)?;
    let (account, deployment, name) = path(params)?;
    check_deployment(&compose, &account, &deployment)?;
    let body = object(body)?;
    let collection = string_field(&body, "name")?
        .ok_or_else(|| ComposeError::bad_request("name is required (the collection's name)"))?;
    validate_collection(&collection)?;
    if let Some(existing) = find_database(&state, &name).await? {
        add_collection(&state, &existing.id, &collection, true).await?;
        return Ok((StatusCode::CREATED, Json(json!({"ok": 1}))).into_response());
    }
    if INTERNAL_DATABASES.contains(&name.as_str()) {
        return Err(ComposeError::bad_request(format!(
            "database {name:?} is MongoDB's own and cannot be used"
        )));
    }
    validate_name(&name)?;
    let now = state.databases.clock().now();
    let status = compose.deployment_status(now);
    if status != "running" {
        return Err(ComposeError::busy(format!(
            "deployment {:?} is not running yet (status {status}); retry when it is running",
            compose.dialect.deployment
        )));
    }
    let request = CreateDatabase {
        name: name.clone(),
        engine: Some(ENGINE.to_owned()),
        ..CreateDatabase::default()
    };
    let database = match state.databases.create(request, None).await {
        Ok(database) => database,
        // Created meanwhile by another request: add the collection to it instead.
        Err(LocalError::Duplicate(_)) => {
            let existing = database_named(&state, &name).await?;
            add_collection(&state, &existing.id, &collection, true).await?;
            return Ok((StatusCode::CREATED, Json(json!({"ok": 1}))).into_response());
        }
        Err(error) => return Err(error.into()),
    };
    add_collection(&state, &database.id, &collection, false).await?;
    Ok((StatusCode::CREATED, Json(json!({"ok": 1}))).into_response())
}

// ---- users ----

/// Whether a user is read-only: every role is `read@…` (and there is one).
fn is_read_only(credential: &Credential) -> bool {
    !credential.roles.is_empty()
        && credential
            .roles
            .iter()
            .all(|role| role.starts_with("read@"))
}

/// The roles `readOnly` stands for on database `name`.
fn roles_for(read_only: bool, name: &str) -> Vec<String> {
    let role = if read_only { "read" } else { "readWrite" };
    vec![format!("{role}@{name}")]
}

fn user_json(credential: &Credential) -> Value {
    let pwd = match &credential.password {
        StoredPassword::Chosen(hash) => Value::String(hash.0.clone()),
        StoredPassword::Generated(_) => Value::Null,
    };
    json!({
        "user": credential.username,
        "pwd": pwd,
        "readOnly": is_read_only(credential),
    })
}

async fn list_users(State(state): State<AppState>, params: DatabasePath) -> Reply {
    let (_, database) = database_of(&state, params).await?;
    let users = state.credentials.list(&database.id).await?;
    ok(Value::Array(users.iter().map(user_json).collect()))
}

async fn create_user(
    State(state): State<AppState>,
    params: DatabasePath,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (_, database) = database_of(&state, params).await?;
    let body = object(body)?;
    let username = string_field(&body, "username")?
        .ok_or_else(|| ComposeError::bad_request("username is required"))?;
    let password = string_field(&body, "password")?
        .ok_or_else(|| ComposeError::bad_request("password is required"))?;
    let read_only = bool_field(&body, "readOnly")?.unwrap_or(false);
    let request = CreateCredential {
        username,
        roles: roles_for(read_only, &database.name),
        password: Some(SecretString::from(password)),
    };
    state
        .credentials
        .create(&database.id, request, None)
        .await?;
    ok_one()
}

type UserPath = Result<Path<(String, String, String, String)>, PathRejection>;

/// The database and username the path names (the database must exist).
async fn user_of(state: &AppState, params: UserPath) -> Result<(Database, String), ComposeError> {
    let compose = compose_state(state)?;
    let (account, deployment, name, user) = path(params)?;
    check_deployment(&compose, &account, &deployment)?;
    let database = database_named(state, &name).await?;
    Ok((database, user))
}

async fn update_user(
    State(state): State<AppState>,
    params: UserPath,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (database, username) = user_of(&state, params).await?;
    let body = object(body)?;
    let password = string_field(&body, "password")?;
    let read_only = bool_field(&body, "readOnly")?;
    if password.is_none() && read_only.is_none() {
        return Err(ComposeError::bad_request(
            "give password and/or readOnly to change",
        ));
    }
    // Reading first makes an unknown user a 404 before anything changes.
    state.credentials.get(&database.id, &username).await?;
    if let Some(read_only) = read_only {
        state
            .credentials
            .update_roles(
                &database.id,
                &username,
                roles_for(read_only, &database.name),
            )
            .await?;
    }
    if let Some(password) = password {
        state
            .credentials
            .reset_password(&database.id, &username, Some(SecretString::from(password)))
            .await?;
    }
    ok_one()
}

async fn delete_user(State(state): State<AppState>, params: UserPath) -> Reply {
    let (database, username) = user_of(&state, params).await?;
    state.credentials.delete(&database.id, &username).await?;
    ok_one()
}
