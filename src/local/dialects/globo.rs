//! The globo.com DBaaS dialect (`globocom/database-as-a-service`, the 2013 API of seed 001)
//! under `/globo`, over the same store, lifecycle, request log and faults as the native API.
//!
//! Clients point their base URL at `http://<host>/globo` and use HTTP Basic authentication with
//! the configured user and password. Paths (trailing slash required, as DRF's router wants):
//! `GET|POST /api/database/`, `GET|DELETE /api/database/{id}/`, `GET|POST /api/credential/`,
//! `GET|DELETE /api/credential/{id}/`, `POST /api/credential/{id}/reset_password/`, and the
//! read-only catalog `GET /api/{plan,environment,project}/[{id}/]`.
//!
//! Format (DRF 2.3 with globo's HAL renderer): objects are `{"_links": {"self": url}, …}`,
//! lists `{"_links": {"self", "next", "previous", "count"}, "<model>": [...]}` with 10 per page,
//! `?page=` and `?page_size=` (at most 100). Related objects are absolute URLs built from the
//! request's `Host` (`http://<host>/globo/api/plan/1/`); as input a path (`/api/plan/1/`, with or
//! without `/globo`) or an absolute URL is accepted. Errors: 401/403/404/405 `{"detail": …}`
//! (401 with `WWW-Authenticate: Basic realm="api"`), 400 `{field: ["msg"]}`.
//!
//! Choices where the facts are silent:
//! - Catalog mapping: plan `n` is the store catalog's n-th plan (1 essential, 2 business,
//!   3 enterprise), environment `n` its n-th region (1 eu-west-1, 2 eu-central-1,
//!   3 us-east-1); there is one project, 1 `default`. They are read-only (as at globo's HEAD);
//!   writes answer 405. A plan's `engine_type` is the engine name, `mongodb`.
//! - Only `mongodb` databases are visible (globo 2013 ran MongoDB only); new ones take the
//!   engine's default version, the default flavor and the plan's node count.
//! - Ids: a database's id is the number in its store id (`db-` + 12 hex digits, read as hex);
//!   a credential's id is the number in the first 12 hex digits of its UUID.
//! - Names: the globo name is slugified with `_` (`"test database2"` → `test_database2`); the
//!   store keeps it with `-` for `_` (store names allow no `_`), so it must still start with a
//!   letter and be 3–63 characters; `admin`, `config` and `local` are refused (400 `name`).
//!   A taken name is a 400 `name`.
//! - Creation is synchronous, as in 2013: `POST` answers 201 once the database and its
//!   `u_<name>` credential have settled (the request waits out the provision delay). The later
//!   asynchronous create is not emulated. Credential creates and resets wait the same way.
//! - `project` and quarantine are kept in the store's `description` (globo 2013 has no
//!   description), as `globo:project=<id>;quarantine_dt=<YYYY-MM-DD>`; a description set
//!   through `/v1` is replaced when the database is quarantined.
//! - Quarantine: the first `DELETE` resets every credential's password and sets
//!   `quarantine_dt` (today, UTC); the database stays listed. A `DELETE` of a quarantined
//!   database deletes it and, as in 2013, answers only once the store has removed it, so its
//!   name is free again (the request waits out the provision delay). Both answer 204.
//! - Credentials: a `password` in a create body is ignored; roles are never set. A taken
//!   `(user, database)` is a 400 `non_field_errors`. Credentials show only while their database
//!   is visible here.
//! - `total_size_in_bytes` is 0 and `used_size_in_bytes` a fixed 16384 (no data is stored).
//! - A store conflict (busy, locked) answers 409 `{"detail": …}`; anything else 500.
//! - A create whose database or credential settles in `ERROR` (a lifecycle fault) answers 500
//!   `{"detail": "… could not be created: <why>"}`; what was made stays, failed, so it can be
//!   deleted. A stuck one makes the create wait (up to ten minutes), as a hung 2013 create did.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};

use crate::local::AppState;
use crate::local::auth::Presented;
use crate::local::catalog::CATALOG;
use crate::local::credentials::CreateCredential;
use crate::local::databases::{BuiltInUser, CreateDatabase, NewChildren, UpdateDatabase};
use crate::local::dialects::DialectFront;
use crate::local::error::LocalError;
use crate::local::model::{Credential, Database, Status};
use crate::local::secrets::constant_time_eq;

/// Where the dialect is served; clients use `http://<host>/globo` as their base URL.
pub(crate) const PREFIX: &str = "/globo";

/// The only engine the dialect serves.
const ENGINE: &str = "mongodb";

/// Names the engine refuses (globo's `database_pre_save`).
const RESERVED_NAMES: [&str; 3] = ["admin", "config", "local"];

/// Default and largest page sizes (globo's `PAGINATE_BY` and `MAX_PAGINATE_BY`).
const PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 100;

/// The one project the catalog offers.
const PROJECTS: [&str; 1] = ["default"];

/// Marker of the dialect's attributes in the store's description.
const META_PREFIX: &str = "globo:";

/// Stand-in for the used size (nothing is stored in these databases).
const USED_SIZE_IN_BYTES: u64 = 16384;

/// The globo dialect's Basic credentials. With it in [`crate::local::Config`], the service
/// speaks globo.com's DBaaS API under `/globo`.
#[derive(Debug, Clone)]
pub struct GloboDialect {
    /// The user clients authenticate as.
    pub username: String,
    /// Its password; never logged.
    pub password: SecretString,
}

/// Shared handle on the dialect's configuration, kept in [`AppState`].
pub(crate) type Shared = Arc<GloboDialect>;

// ---- errors ----

/// A reply in DRF's error format.
#[derive(Debug)]
pub(crate) struct GloboError {
    status: StatusCode,
    body: Value,
}

impl GloboError {
    fn detail(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "detail": message.into() }),
        }
    }

    fn field(field: &str, message: impl Into<String>) -> Self {
        let mut body = Map::new();
        body.insert(field.to_owned(), json!([message.into()]));
        Self {
            status: StatusCode::BAD_REQUEST,
            body: Value::Object(body),
        }
    }

    fn not_found() -> Self {
        Self::detail(StatusCode::NOT_FOUND, "Not found")
    }

    fn required(field: &str) -> Self {
        Self::field(field, "This field is required.")
    }
}

impl IntoResponse for GloboError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"api\""),
            );
        }
        response
    }
}

/// Maps a store error to DRF's shapes.
fn from_local(error: LocalError) -> GloboError {
    match error {
        LocalError::Invalid { field, message } => {
            GloboError::field(field.as_deref().unwrap_or("non_field_errors"), message)
        }
        LocalError::NotFound(_) => GloboError::not_found(),
        LocalError::Unauthorized => GloboError::detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        ),
        LocalError::MethodNotAllowed { method, .. } => GloboError::detail(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method '{method}' not allowed."),
        ),
        LocalError::Duplicate(message) => GloboError::field("non_field_errors", message),
        LocalError::Conflict(message) | LocalError::Busy(message) | LocalError::Locked(message) => {
            GloboError::detail(StatusCode::CONFLICT, message)
        }
        too_large @ LocalError::PayloadTooLarge { .. } => {
            GloboError::detail(StatusCode::PAYLOAD_TOO_LARGE, too_large.to_string())
        }
        LocalError::RateLimited { message, .. } => {
            GloboError::detail(StatusCode::TOO_MANY_REQUESTS, message)
        }
        LocalError::Unavailable { message, .. } => {
            GloboError::detail(StatusCode::SERVICE_UNAVAILABLE, message)
        }
        LocalError::BadGateway(message) => GloboError::detail(StatusCode::BAD_GATEWAY, message),
        LocalError::GatewayTimeout(message) => {
            GloboError::detail(StatusCode::GATEWAY_TIMEOUT, message)
        }
        other => GloboError::detail(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

/// globo's front: HTTP Basic with DRF's refusals, and DRF's error shapes.
pub(crate) struct Front;

impl DialectFront for Front {
    fn refusal(&self, state: &AppState, request: &mut Parts, _body: &Bytes) -> Option<Response> {
        let Some(config) = state.dialects.globo.as_deref() else {
            return Some(not_configured());
        };
        check_basic(config, &Presented::of(&request.headers)).err().map(|error| {
            tracing::info!(method = %request.method, path = %request.uri.path(), "globo request refused");
            error.into_response()
        })
    }

    fn error_response(&self, error: LocalError) -> Response {
        from_local(error).into_response()
    }

    fn unknown_route(&self, _method: &Method, _path: &str) -> Response {
        GloboError::not_found().into_response()
    }
}

/// Answer to any `/globo` request when the dialect is not configured.
fn not_configured() -> Response {
    GloboError::detail(
        StatusCode::NOT_FOUND,
        "the globo dialect is not configured: start dbaas-local with --globo-username and \
         --globo-password",
    )
    .into_response()
}

// ---- authentication ----

/// Why Basic credentials were refused, in DRF's words.
fn check_basic(config: &GloboDialect, presented: &Presented) -> Result<(), GloboError> {
    let unauthorized = |message: &str| GloboError::detail(StatusCode::UNAUTHORIZED, message);
    let not_base64 =
        || unauthorized("Invalid basic header. Credentials not correctly base64 encoded");
    let decoded = match presented {
        Presented::Nothing | Presented::Bearer(_) | Presented::OtherScheme => {
            return Err(unauthorized(
                "Authentication credentials were not provided.",
            ));
        }
        Presented::Malformed => {
            return Err(unauthorized(
                "Invalid basic header. No credentials provided.",
            ));
        }
        Presented::Basic(None) => return Err(not_base64()),
        Presented::Basic(Some(decoded)) => decoded,
    };
    if std::str::from_utf8(decoded).is_err() {
        return Err(not_base64());
    }
    let (user, password) = presented.basic_pair().ok_or_else(not_base64)?;
    let user_ok = constant_time_eq(user, config.username.as_bytes());
    let password_ok = constant_time_eq(password, config.password.expose_secret().as_bytes());
    if user_ok && password_ok {
        Ok(())
    } else {
        Err(unauthorized("Invalid username/password"))
    }
}

// ---- routes ----

/// Routes of the dialect (always mounted; authentication answers for an unconfigured one).
pub(crate) fn routes() -> Router<AppState> {
    let api = format!("{PREFIX}/api");
    Router::new()
        .route(
            &format!("{api}/database/"),
            get(list_databases).post(create_database),
        )
        .route(
            &format!("{api}/database/{{id}}/"),
            get(read_database).delete(delete_database),
        )
        .route(
            &format!("{api}/credential/"),
            get(list_credentials).post(create_credential),
        )
        .route(
            &format!("{api}/credential/{{id}}/"),
            get(read_credential).delete(delete_credential),
        )
        .route(
            &format!("{api}/credential/{{id}}/reset_password/"),
            post(reset_password),
        )
        .route(&format!("{api}/plan/"), get(list_plans))
        .route(&format!("{api}/plan/{{id}}/"), get(read_plan))
        .route(&format!("{api}/environment/"), get(list_environments))
        .route(&format!("{api}/environment/{{id}}/"), get(read_environment))
        .route(&format!("{api}/project/"), get(list_projects))
        .route(&format!("{api}/project/{{id}}/"), get(read_project))
}

type Reply = Result<Response, GloboError>;

/// `http://<host>/globo`, the root of every absolute link.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{PREFIX}")
}

fn ok(body: Value) -> Reply {
    Ok((StatusCode::OK, Json(body)).into_response())
}

fn created(body: Value) -> Reply {
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A path id: a decimal number, else 404 (DRF's router would not match it).
fn numeric_id(text: &str) -> Result<u64, GloboError> {
    text.parse().map_err(|_| GloboError::not_found())
}

/// Renders one page of `items` as globo's HAL list.
fn page(
    base: &str,
    resource: &str,
    query: &std::collections::HashMap<String, String>,
    items: Vec<Value>,
) -> Reply {
    let page_size = match query.get("page_size") {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|size| *size > 0)
            .map_or(PAGE_SIZE, |size| size.min(MAX_PAGE_SIZE)),
        None => PAGE_SIZE,
    };
    let count = items.len();
    let pages = count.div_ceil(page_size).max(1);
    let number = match query.get("page") {
        None => 1,
        Some(text) if text == "last" => pages,
        Some(text) => match text.parse::<usize>() {
            Ok(number) if (1..=pages).contains(&number) => number,
            _ => return Err(GloboError::detail(StatusCode::NOT_FOUND, "Invalid page")),
        },
    };
    let link = |number: usize| {
        let mut url = format!("{base}/api/{resource}/?page={number}");
        if query.contains_key("page_size") {
            url.push_str(&format!("&page_size={page_size}"));
        }
        Value::String(url)
    };
    let shown: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * page_size)
        .take(page_size)
        .collect();
    let mut self_url = format!("{base}/api/{resource}/");
    if number > 1 {
        self_url = link(number).as_str().unwrap_or_default().to_owned();
    }
    let mut body = Map::new();
    body.insert(
        "_links".to_owned(),
        json!({
            "count": count,
            "self": self_url,
            "previous": if number > 1 { link(number - 1) } else { Value::Null },
            "next": if number < pages { link(number + 1) } else { Value::Null },
        }),
    );
    body.insert(resource.to_owned(), Value::Array(shown));
    ok(Value::Object(body))
}

type ListQuery = Query<std::collections::HashMap<String, String>>;

/// Decodes a body that must be a JSON object; an empty body is an empty object.
fn object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, GloboError> {
    let body = body.map_err(|rejection| {
        GloboError::detail(
            StatusCode::BAD_REQUEST,
            format!("cannot read the body: {rejection}"),
        )
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(GloboError::detail(
            StatusCode::BAD_REQUEST,
            "JSON parse error - expected an object",
        )),
        Err(error) => Err(GloboError::detail(
            StatusCode::BAD_REQUEST,
            format!("JSON parse error - {error}"),
        )),
    }
}

/// A string field of a body, `None` when absent, null or empty.
fn text_field(body: &Map<String, Value>, field: &str) -> Result<Option<String>, GloboError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(GloboError::field(field, "Enter a valid value.")),
    }
}

/// The id of a hyperlink to `/api/<resource>/<id>/`: a path (with or without `/globo`) or an
/// absolute URL.
pub(crate) fn hyperlink_id(resource: &str, link: &str) -> Option<u64> {
    let path = match link.find("://") {
        Some(scheme_end) => {
            let rest = &link[scheme_end + 3..];
            &rest[rest.find('/')?..]
        }
        None => link,
    };
    let path = path.strip_prefix(PREFIX).unwrap_or(path);
    let id = path
        .strip_prefix("/api/")?
        .strip_prefix(resource)?
        .strip_prefix('/')?
        .strip_suffix('/')?;
    id.parse().ok()
}

/// A required hyperlinked field, resolved with `exists`.
fn hyperlink(
    body: &Map<String, Value>,
    field: &str,
    resource: &str,
    exists: impl Fn(u64) -> bool,
) -> Result<Option<u64>, GloboError> {
    let Some(link) = text_field(body, field)? else {
        return Ok(None);
    };
    let id = hyperlink_id(resource, &link)
        .ok_or_else(|| GloboError::field(field, "Invalid hyperlink - No URL match"))?;
    if exists(id) {
        Ok(Some(id))
    } else {
        Err(GloboError::field(
            field,
            "Invalid hyperlink - object does not exist.",
        ))
    }
}

// ---- catalog ----

fn plan_body(base: &str, id: u64) -> Option<Value> {
    let plan = CATALOG
        .plans
        .get(usize::try_from(id).ok()?.checked_sub(1)?)?;
    let environments: Vec<Value> = (1..=CATALOG.regions.len())
        .map(|n| json!(format!("{base}/api/environment/{n}/")))
        .collect();
    Some(json!({
        "_links": { "self": format!("{base}/api/plan/{id}/") },
        "id": id,
        "name": plan.name,
        "description": plan.description,
        "is_active": true,
        "is_default": plan.name == CATALOG.defaults.plan,
        "engine_type": ENGINE,
        "environments": environments,
    }))
}

fn environment_body(base: &str, id: u64) -> Option<Value> {
    let region = CATALOG
        .regions
        .get(usize::try_from(id).ok()?.checked_sub(1)?)?;
    Some(json!({
        "_links": { "self": format!("{base}/api/environment/{id}/") },
        "id": id,
        "name": region.name,
    }))
}

fn project_body(base: &str, id: u64) -> Option<Value> {
    let name = PROJECTS.get(usize::try_from(id).ok()?.checked_sub(1)?)?;
    Some(json!({
        "_links": { "self": format!("{base}/api/project/{id}/") },
        "id": id,
        "name": name,
    }))
}

fn catalog_list(
    headers: &HeaderMap,
    query: &ListQuery,
    resource: &str,
    len: usize,
    render: fn(&str, u64) -> Option<Value>,
) -> Reply {
    let base = base_url(headers);
    let items = (1..=len as u64)
        .filter_map(|id| render(&base, id))
        .collect();
    page(&base, resource, query, items)
}

fn catalog_read(headers: &HeaderMap, id: &str, render: fn(&str, u64) -> Option<Value>) -> Reply {
    let base = base_url(headers);
    render(&base, numeric_id(id)?).map_or_else(|| Err(GloboError::not_found()), ok)
}

async fn list_plans(headers: HeaderMap, query: ListQuery) -> Reply {
    catalog_list(&headers, &query, "plan", CATALOG.plans.len(), plan_body)
}

async fn read_plan(headers: HeaderMap, Path(id): Path<String>) -> Reply {
    catalog_read(&headers, &id, plan_body)
}

async fn list_environments(headers: HeaderMap, query: ListQuery) -> Reply {
    catalog_list(
        &headers,
        &query,
        "environment",
        CATALOG.regions.len(),
        environment_body,
    )
}

async fn read_environment(headers: HeaderMap, Path(id): Path<String>) -> Reply {
    catalog_read(&headers, &id, environment_body)
}

async fn list_projects(headers: HeaderMap, query: ListQuery) -> Reply {
    catalog_list(&headers, &query, "project", PROJECTS.len(), project_body)
}

async fn read_project(headers: HeaderMap, Path(id): Path<String>) -> Reply {
    catalog_read(&headers, &id, project_body)
}

fn plan_id(name: &str) -> Option<u64> {
    CATALOG
        .plans
        .iter()
        .position(|plan| plan.name == name)
        .map(|index| index as u64 + 1)
}

fn environment_id(region: &str) -> Option<u64> {
    CATALOG
        .regions
        .iter()
        .position(|candidate| candidate.name == region)
        .map(|index| index as u64 + 1)
}

// ---- names, ids and metadata ----

/// globo's `slugify(name, separator="_")`: lower case, runs of anything but ASCII letters and
/// digits become one `_`, no `_` at either end.
pub(crate) fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    let mut pending_separator = false;
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            if pending_separator && !slug.is_empty() {
                slug.push('_');
            }
            pending_separator = false;
            slug.push(character.to_ascii_lowercase());
        } else if character.is_whitespace() || matches!(character, '-' | '_') {
            pending_separator = true;
        }
    }
    slug
}

/// The globo name of a store name (`-` shows as `_`).
fn globo_name(store_name: &str) -> String {
    store_name.replace('-', "_")
}

/// The globo id of a database: the hex digits of its store id, as a number.
pub(crate) fn database_number(database: &Database) -> Option<u64> {
    u64::from_str_radix(database.id.strip_prefix("db-")?, 16).ok()
}

/// The store id of a globo database id.
fn store_id(number: u64) -> String {
    format!("db-{number:012x}")
}

/// The globo id of a credential: the first 12 hex digits of its UUID, as a number.
pub(crate) fn credential_number(credential: &Credential) -> u64 {
    let hex: String = credential
        .uuid
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    u64::from_str_radix(&hex, 16).unwrap_or_default()
}

/// The dialect's attributes kept in the store's description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// The project id, when one was given.
    pub(crate) project: Option<u64>,
    /// When the database entered quarantine (`YYYY-MM-DD`).
    pub(crate) quarantine_dt: Option<String>,
}

impl Meta {
    /// Reads the attributes back; a description the dialect did not write means none.
    pub(crate) fn parse(description: Option<&str>) -> Self {
        let mut meta = Self::default();
        let Some(rest) = description.and_then(|text| text.strip_prefix(META_PREFIX)) else {
            return meta;
        };
        for pair in rest.split(';') {
            match pair.split_once('=') {
                Some(("project", id)) => meta.project = id.parse().ok(),
                Some(("quarantine_dt", date)) if !date.is_empty() => {
                    meta.quarantine_dt = Some(date.to_owned());
                }
                _ => {}
            }
        }
        meta
    }

    /// The description text; `None` when there is nothing to keep.
    pub(crate) fn render(&self) -> Option<String> {
        if *self == Self::default() {
            return None;
        }
        let mut parts = Vec::new();
        if let Some(project) = self.project {
            parts.push(format!("project={project}"));
        }
        if let Some(date) = &self.quarantine_dt {
            parts.push(format!("quarantine_dt={date}"));
        }
        Some(format!("{META_PREFIX}{}", parts.join(";")))
    }
}

/// Whether the dialect shows the database at all.
fn visible(database: &Database) -> bool {
    database.engine == ENGINE && database.status != Status::Deleting && !database.is_gone()
}

fn database_url(base: &str, number: u64) -> String {
    format!("{base}/api/database/{number}/")
}

fn credential_url(base: &str, number: u64) -> String {
    format!("{base}/api/credential/{number}/")
}

/// The engine's endpoint with globo's literal `<user>:<password>` placeholders.
fn endpoint(database: &Database) -> String {
    let native = crate::local::databases::endpoint(database);
    let with_placeholders = native.replacen("://", "://<user>:<password>@", 1);
    match with_placeholders.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{}", globo_name(&database.name)),
        None => with_placeholders,
    }
}

fn database_body(base: &str, database: &Database, credentials: &[Credential]) -> Value {
    let number = database_number(database).unwrap_or_default();
    let meta = Meta::parse(database.description.as_deref());
    let link = |resource: &str, id: Option<u64>| match id {
        Some(id) => json!(format!("{base}/api/{resource}/{id}/")),
        None => Value::Null,
    };
    let credential_urls: Vec<Value> = credentials
        .iter()
        .filter(|credential| credential.status != Status::Deleting)
        .map(|credential| json!(credential_url(base, credential_number(credential))))
        .collect();
    json!({
        "_links": { "self": database_url(base, number) },
        "id": number,
        "name": globo_name(&database.name),
        "endpoint": endpoint(database),
        "plan": link("plan", plan_id(&database.plan)),
        "environment": link("environment", environment_id(&database.region)),
        "project": link("project", meta.project),
        "quarantine_dt": meta.quarantine_dt,
        "total_size_in_bytes": 0,
        "used_size_in_bytes": USED_SIZE_IN_BYTES,
        "credentials": credential_urls,
    })
}

fn credential_body(
    base: &str,
    credential: &Credential,
    password: Option<&SecretString>,
) -> Result<Value, GloboError> {
    let number = credential_number(credential);
    let database_number = credential
        .database_id
        .strip_prefix("db-")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .unwrap_or_default();
    let mut body = json!({
        "_links": { "self": credential_url(base, number) },
        "id": number,
        "user": credential.username,
        "database": database_url(base, database_number),
    });
    if let Some(password) = password {
        body["password"] = json!(password.expose_secret());
    }
    Ok(body)
}

// ---- waiting (the 2013 API is synchronous) ----

/// Longest wait for a transition to settle before answering anyway.
const MAX_SETTLE_WAIT: Duration = Duration::from_secs(600);

/// Waits until the database (and, when named, its credential) is no longer transitional.
async fn settle(
    state: &AppState,
    database_id: &str,
    username: Option<&str>,
) -> Result<(), GloboError> {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while waited < MAX_SETTLE_WAIT {
        let database = state.databases.get(database_id).await.map_err(from_local)?;
        let mut transitional = matches!(database.status, Status::Creating | Status::Updating);
        if let Some(username) = username {
            let credential = state
                .credentials
                .get(database_id, username)
                .await
                .map_err(from_local)?;
            transitional |= matches!(credential.status, Status::Creating | Status::Updating);
        }
        if !transitional {
            return Ok(());
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    Ok(())
}

/// The 500 a synchronous 2013 create answers when what it made failed to provision (a
/// lifecycle fault): the database, or its credential `username`, settled in `ERROR`. What was
/// made stays, as globo kept failed databases for its operators.
async fn refuse_failed(
    state: &AppState,
    database: &Database,
    username: Option<&str>,
) -> Result<(), GloboError> {
    let failed = |what: String, reason: Option<&str>| {
        let reason = reason.unwrap_or("provisioning failed");
        Err(GloboError::detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{what} could not be created: {reason}"),
        ))
    };
    let database = state
        .databases
        .get(&database.id)
        .await
        .map_err(from_local)?;
    if database.status == Status::Error {
        let what = format!("database {}", database.name.replace('-', "_"));
        return failed(what, database.status_message.as_deref());
    }
    if let Some(username) = username {
        let credential = state
            .credentials
            .get(&database.id, username)
            .await
            .map_err(from_local)?;
        if credential.status == Status::Error {
            return failed(format!("credential {username}"), None);
        }
    }
    Ok(())
}

/// Waits until the store has removed the database: 2013's second `DELETE` drops it before it
/// answers, so its name is free for a new database as soon as the 204 arrives.
async fn settle_gone(state: &AppState, database_id: &str) -> Result<(), GloboError> {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while waited < MAX_SETTLE_WAIT {
        match state.databases.get(database_id).await {
            Ok(database) if !database.is_gone() => {}
            Ok(_) | Err(LocalError::NotFound(_)) => return Ok(()),
            Err(error) => return Err(from_local(error)),
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    Ok(())
}

// ---- databases ----

/// The visible database with globo id `id`, or 404.
async fn database(state: &AppState, id: &str) -> Result<Database, GloboError> {
    let number = numeric_id(id)?;
    match state.databases.get(&store_id(number)).await {
        Ok(database) if visible(&database) => Ok(database),
        Ok(_) | Err(LocalError::NotFound(_)) => Err(GloboError::not_found()),
        Err(error) => Err(from_local(error)),
    }
}

async fn render_database(
    state: &AppState,
    base: &str,
    database: &Database,
) -> Result<Value, GloboError> {
    let credentials = state
        .credentials
        .list(&database.id)
        .await
        .map_err(from_local)?;
    Ok(database_body(base, database, &credentials))
}

async fn visible_databases(state: &AppState) -> Result<Vec<Database>, GloboError> {
    let mut databases: Vec<Database> = state
        .databases
        .list(None)
        .await
        .map_err(from_local)?
        .into_iter()
        .filter(visible)
        .collect();
    databases.sort_by_key(|database| database_number(database).unwrap_or_default());
    Ok(databases)
}

async fn list_databases(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: ListQuery,
) -> Reply {
    let base = base_url(&headers);
    let mut databases = visible_databases(&state).await?;
    if let Some(name) = query.get("name") {
        databases.retain(|database| globo_name(&database.name) == *name);
    }
    let mut items = Vec::with_capacity(databases.len());
    for database in &databases {
        items.push(render_database(&state, &base, database).await?);
    }
    page(&base, "database", &query, items)
}

async fn read_database(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let database = database(&state, &id).await?;
    ok(render_database(&state, &base_url(&headers), &database).await?)
}

async fn create_database(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body = object(body)?;
    let mut errors = Map::new();
    let mut note = |error: GloboError| {
        if let Value::Object(fields) = error.body {
            errors.extend(fields);
        }
    };
    let name = match text_field(&body, "name") {
        Ok(Some(name)) => Some(slugify(&name)),
        Ok(None) => {
            note(GloboError::required("name"));
            None
        }
        Err(error) => {
            note(error);
            None
        }
    };
    let plan = match hyperlink(&body, "plan", "plan", |id| plan_body("", id).is_some()) {
        Ok(Some(id)) => Some(id),
        Ok(None) => {
            note(GloboError::required("plan"));
            None
        }
        Err(error) => {
            note(error);
            None
        }
    };
    let environment = match hyperlink(&body, "environment", "environment", |id| {
        environment_body("", id).is_some()
    }) {
        Ok(Some(id)) => Some(id),
        Ok(None) => {
            note(GloboError::required("environment"));
            None
        }
        Err(error) => {
            note(error);
            None
        }
    };
    let project = hyperlink(&body, "project", "project", |id| {
        project_body("", id).is_some()
    })
    .unwrap_or_else(|error| {
        note(error);
        None
    });
    let (Some(name), Some(plan), Some(environment)) = (name, plan, environment) else {
        return Err(GloboError {
            status: StatusCode::BAD_REQUEST,
            body: Value::Object(errors),
        });
    };
    if !errors.is_empty() {
        return Err(GloboError {
            status: StatusCode::BAD_REQUEST,
            body: Value::Object(errors),
        });
    }
    if RESERVED_NAMES.contains(&name.as_str()) {
        return Err(GloboError::field(
            "name",
            format!("{name} is a reserved database name"),
        ));
    }
    let store_name = name.replace('_', "-");
    crate::local::validation::validate_name(&store_name).map_err(|_| {
        GloboError::field(
            "name",
            format!(
                "{name:?} is not a valid name here: use 3 to 63 letters, digits and '_', \
                 starting with a letter"
            ),
        )
    })?;
    let plan_name = CATALOG.plans[(plan - 1) as usize].name;
    let region = CATALOG.regions[(environment - 1) as usize].name;
    let meta = Meta {
        project,
        quarantine_dt: None,
    };
    let request = CreateDatabase {
        name: store_name,
        engine: Some(ENGINE.to_owned()),
        plan: Some(plan_name.to_owned()),
        region: Some(region.to_owned()),
        description: meta.render(),
        ..CreateDatabase::default()
    };
    let username = format!("u_{name}");
    let children = NewChildren {
        built_in_users: vec![BuiltInUser {
            username: username.clone(),
            roles: Vec::new(),
        }],
        ..NewChildren::default()
    };
    let database = match state.databases.create_with(request, None, children).await {
        Ok(database) => database,
        Err(LocalError::Duplicate(_)) => {
            return Err(GloboError::field(
                "name",
                format!("a database named {name} already exists"),
            ));
        }
        Err(error) => return Err(from_local(error)),
    };
    settle(&state, &database.id, Some(&username)).await?;
    let database = state
        .databases
        .get(&database.id)
        .await
        .map_err(from_local)?;
    refuse_failed(&state, &database, Some(&username)).await?;
    created(render_database(&state, &base_url(&headers), &database).await?)
}

async fn delete_database(State(state): State<AppState>, Path(id): Path<String>) -> Reply {
    let database = database(&state, &id).await?;
    let mut meta = Meta::parse(database.description.as_deref());
    if meta.quarantine_dt.is_some() {
        state
            .databases
            .delete(&database.id)
            .await
            .map_err(from_local)?;
        settle_gone(&state, &database.id).await?;
        return no_content();
    }
    settle(&state, &database.id, None).await?;
    let credentials = state
        .credentials
        .list(&database.id)
        .await
        .map_err(from_local)?;
    for credential in credentials
        .iter()
        .filter(|credential| credential.status != Status::Deleting)
    {
        settle(&state, &database.id, Some(&credential.username)).await?;
        state
            .credentials
            .reset_password(&database.id, &credential.username, None)
            .await
            .map_err(from_local)?;
    }
    meta.quarantine_dt = Some(state.databases.clock().now().format("%Y-%m-%d").to_string());
    let request = UpdateDatabase {
        description: Some(meta.render()),
        ..UpdateDatabase::default()
    };
    state
        .databases
        .update(&database.id, request)
        .await
        .map_err(from_local)?;
    settle(&state, &database.id, None).await?;
    tracing::info!(id = %database.id, "globo database quarantined");
    no_content()
}

// ---- credentials ----

/// Every visible credential with its database, in id order.
async fn all_credentials(state: &AppState) -> Result<Vec<Credential>, GloboError> {
    let mut all = Vec::new();
    for database in visible_databases(state).await? {
        let credentials = state
            .credentials
            .list(&database.id)
            .await
            .map_err(from_local)?;
        all.extend(
            credentials
                .into_iter()
                .filter(|credential| credential.status != Status::Deleting),
        );
    }
    all.sort_by_key(credential_number);
    Ok(all)
}

/// The visible credential with globo id `id`, or 404.
async fn credential(state: &AppState, id: &str) -> Result<Credential, GloboError> {
    let number = numeric_id(id)?;
    all_credentials(state)
        .await?
        .into_iter()
        .find(|credential| credential_number(credential) == number)
        .ok_or_else(GloboError::not_found)
}

async fn list_credentials(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: ListQuery,
) -> Reply {
    let base = base_url(&headers);
    let items = all_credentials(&state)
        .await?
        .iter()
        .map(|credential| credential_body(&base, credential, None))
        .collect::<Result<Vec<_>, _>>()?;
    page(&base, "credential", &query, items)
}

async fn read_credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let credential = credential(&state, &id).await?;
    let password = state
        .credentials
        .reveal_password(&credential.database_id, &credential.username)
        .await
        .ok();
    ok(credential_body(
        &base_url(&headers),
        &credential,
        password.as_ref(),
    )?)
}

async fn create_credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body = object(body)?;
    let user = text_field(&body, "user")?.map(|user| slugify(&user));
    let Some(link) = text_field(&body, "database")? else {
        return Err(GloboError::required("database"));
    };
    let number = hyperlink_id("database", &link)
        .ok_or_else(|| GloboError::field("database", "Invalid hyperlink - No URL match"))?;
    let database = database(&state, &number.to_string())
        .await
        .map_err(|_| GloboError::field("database", "Invalid hyperlink - object does not exist."))?;
    let Some(user) = user.filter(|user| !user.is_empty()) else {
        return Err(GloboError::required("user"));
    };
    settle(&state, &database.id, None).await?;
    let request = CreateCredential {
        username: user.clone(),
        roles: Vec::new(),
        password: None,
    };
    let created_credential = match state.credentials.create(&database.id, request, None).await {
        Ok(created_credential) => created_credential,
        Err(LocalError::Duplicate(_) | LocalError::Busy(_))
            if state.credentials.get(&database.id, &user).await.is_ok() =>
        {
            return Err(GloboError::field(
                "non_field_errors",
                "The fields user, database must make a unique set.",
            ));
        }
        Err(error) => return Err(from_local(error)),
    };
    settle(&state, &database.id, Some(&user)).await?;
    refuse_failed(&state, &database, Some(&user)).await?;
    created(credential_body(
        &base_url(&headers),
        &created_credential.credential,
        created_credential.password.as_ref(),
    )?)
}

async fn reset_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let credential = credential(&state, &id).await?;
    settle(&state, &credential.database_id, Some(&credential.username)).await?;
    let reset = state
        .credentials
        .reset_password(&credential.database_id, &credential.username, None)
        .await
        .map_err(from_local)?;
    ok(credential_body(
        &base_url(&headers),
        &reset.credential,
        reset.password.as_ref(),
    )?)
}

async fn delete_credential(State(state): State<AppState>, Path(id): Path<String>) -> Reply {
    let credential = credential(&state, &id).await?;
    settle(&state, &credential.database_id, None).await?;
    state
        .credentials
        .delete(&credential.database_id, &credential.username)
        .await
        .map_err(from_local)?;
    no_content()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn slugify_joins_words_with_underscores() {
        assert_eq!(slugify("test database2"), "test_database2");
        assert_eq!(slugify("  My--DB  name! "), "my_db_name");
        assert_eq!(slugify("u_myusr1"), "u_myusr1");
        assert_eq!(slugify("!!"), "");
    }

    #[test]
    fn hyperlink_id_accepts_paths_and_absolute_urls() {
        assert_eq!(hyperlink_id("plan", "/api/plan/1/"), Some(1));
        assert_eq!(hyperlink_id("plan", "/globo/api/plan/2/"), Some(2));
        assert_eq!(
            hyperlink_id("plan", "http://localhost:8000/api/plan/3/"),
            Some(3)
        );
        assert_eq!(
            hyperlink_id("environment", "http://h:1/globo/api/environment/1/"),
            Some(1)
        );
        assert_eq!(hyperlink_id("plan", "/api/environment/1/"), None);
        assert_eq!(hyperlink_id("plan", "/api/plan/x/"), None);
        assert_eq!(hyperlink_id("plan", "/api/plan/1"), None);
    }

    #[test]
    fn meta_round_trips_through_description() {
        let meta = Meta {
            project: Some(1),
            quarantine_dt: Some("2026-11-22".into()),
        };
        let text = meta.render().unwrap();
        assert_eq!(text, "globo:project=1;quarantine_dt=2026-11-22");
        assert_eq!(Meta::parse(Some(&text)), meta);
        assert_eq!(Meta::default().render(), None);
        assert_eq!(Meta::parse(Some("a user's text")), Meta::default());
    }

    #[test]
    fn basic_auth_checks_user_and_password() {
        let config = GloboDialect {
            username: "admin".into(),
            password: SecretString::from("123456"),
        };
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            Presented::of(&headers)
        };
        let encode = |pair: &str| base64::engine::general_purpose::STANDARD.encode(pair);
        assert!(
            check_basic(
                &config,
                &headers(&format!("Basic {}", encode("admin:123456")))
            )
            .is_ok()
        );
        let wrong = check_basic(
            &config,
            &headers(&format!("Basic {}", encode("admin:1234567"))),
        )
        .unwrap_err();
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.body["detail"], "Invalid username/password");
        let missing = check_basic(&config, &Presented::of(&HeaderMap::new())).unwrap_err();
        assert_eq!(
            missing.body["detail"],
            "Authentication credentials were not provided."
        );
        let garbled = check_basic(&config, &headers("Basic !!!")).unwrap_err();
        assert!(
            garbled.body["detail"]
                .as_str()
                .unwrap()
                .starts_with("Invalid basic header"),
        );
    }

    #[test]
    fn page_links_follow_drf() {
        let query = [("page".to_owned(), "2".to_owned())].into_iter().collect();
        let items = (0..25).map(|n| json!(n)).collect();
        let response = page("http://h/globo", "plan", &query, items).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
