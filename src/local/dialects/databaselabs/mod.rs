//! The databaselabs dialect: databaselabs.io's API (seed 002) under `/databaselabs`, over the
//! same store, lifecycle, request log and faults as the native API.
//!
//! Clients point their databaselabs endpoint at `http://<host>/databaselabs` and authenticate
//! with HTTP Basic, API key as user and API secret as password. Paths: `POST|GET /api/databases`,
//! `GET|DELETE /api/databases/{hostname}`, `GET /api/plans` (also as `/api/clouds`, the path the
//! seed's plans example calls) and `GET /api/ping` (`Pong`, as text).
//!
//! Choices where the facts are silent (vendor-apis.md §3 lists them as open):
//! - Not configured: every `/databaselabs/…` path answers 404 saying so. Every call, `ping`
//!   included, needs the key and secret ("All API calls … must be HTTP Basic authenticated");
//!   a wrong or missing pair is 401 with `WWW-Authenticate: Basic`.
//! - Error bodies are `{"error": "<message>"}` (JSON) for every error status, faults included.
//! - A database is a store database of engine `postgresql` (databaselabs sells hosted
//!   PostgreSQL); databases of other engines are not visible here. Its `hostname` is
//!   `<name>.db.databaselabs.local`, the name generated like the seed's (`vivid-answer-395`);
//!   its `id` is the store database's UUID. The store keeps the size and region under its own
//!   names (see [`catalog`]) and databaselabs' names in the description
//!   (`databaselabs:512mb@nyc2`).
//! - Each database comes with the superuser `postgres` (generated password, created and
//!   settling with the database, visible through `/v1`); the create reply shows its password.
//! - Create bodies must be a JSON map; `size` is required, `region` defaults to `nyc3`
//!   (`null` means absent); both must be offered by `/api/plans` (400 listing what is). Other
//!   keys are ignored. The reply is 202 with `status` `building`, as the seed's create reply.
//! - Statuses: `CREATING` is `ordered` in the first half of the provision delay and `building`
//!   in the second (the seed's create reply says `building` while its read example says
//!   `ordered`); `READY` and `UPDATING` are `ready`; `DELETING` is `destroying`; `ERROR` is
//!   `failed`. Deleted databases disappear (404, left out of the list); the API lists "active"
//!   databases only. The list is in creation order (by the second; then by hostname).
//! - Payment: with a credit limit configured ([`DatabaselabsDialect::credit_limit_dollars`]),
//!   a create that would take the monthly price of the account's databases (those not being
//!   destroyed) over it is refused with 402, as a declined card is.
//! - `DELETE` answers 204 with an empty `text/plain` body, also for a database already being
//!   destroyed; `updated-at` has milliseconds, as in the seed.

mod catalog;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use crate::local::AppState;
use crate::local::auth::Presented;
use crate::local::databases::{BuiltInUser, CreateDatabase, NewChildren};
use crate::local::dialects::DialectFront;
use crate::local::error::LocalError;
use crate::local::model::{Database, Status};
use crate::local::secrets::constant_time_eq;

use catalog::{Region, Size};

/// Where the dialect is served; clients use `http://<host>/databaselabs` as their endpoint.
pub(crate) const BASE: &str = "/databaselabs";

/// The only engine the dialect serves.
const ENGINE: &str = "postgresql";

/// Every hostname ends with this; the part before it is the store name.
const HOST_SUFFIX: &str = ".db.databaselabs.local";

/// The superuser every database comes with.
const SUPERUSER: &str = "postgres";

/// The role of the superuser (set by the service, like OVH's `root@admin`).
const SUPERUSER_ROLE: &str = "root@admin";

/// The databaselabs dialect's credentials. With it in [`crate::local::Config`], the service
/// speaks databaselabs' API under `/databaselabs`.
#[derive(Debug, Clone)]
pub struct DatabaselabsDialect {
    /// API key clients send as the Basic user name.
    pub api_key: String,
    /// API secret clients send as the Basic password; never logged.
    pub api_secret: SecretString,
    /// Monthly spending the emulated credit card covers, in dollars; a create beyond it is a
    /// 402 (payment required). `None`: no limit.
    pub credit_limit_dollars: Option<u32>,
}

/// Shared handle on the dialect's settings, kept in the service state.
pub(crate) type Shared = Arc<DatabaselabsDialect>;

type Reply = Result<Response, Refusal>;

/// An error answer: status, message and (for faults and busy objects) `Retry-After`. Kept
/// small so results carrying it stay cheap to move.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    message: String,
    retry_after_secs: Option<u64>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({"error": self.message}))).into_response();
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The dialect's error body: `{"error": message}`.
fn error(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
        retry_after_secs: None,
    }
}

/// A service error (a rule's refusal, an injected fault) the dialect's way, keeping
/// `Retry-After` where the service sets one; infrastructure details are logged, not sent.
fn refusal(local: LocalError) -> Refusal {
    let status = local.status();
    let message = match &local {
        LocalError::Store(_)
        | LocalError::Io { .. }
        | LocalError::SchemaTooNew { .. }
        | LocalError::Corrupt(_)
        | LocalError::Task(_) => {
            tracing::error!(error = %local, "internal error while handling a databaselabs request");
            "internal server error".to_owned()
        }
        other => other.to_string(),
    };
    Refusal {
        status,
        message,
        retry_after_secs: local.retry_after_secs(),
    }
}

/// Answer to any `/databaselabs/…` request when the dialect is not configured.
pub(crate) fn not_configured() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "the databaselabs dialect is not configured: start dbaas-local with \
         --databaselabs-api-key and --databaselabs-api-secret",
    )
    .into_response()
}

/// databaselabs' front: API key and secret as Basic, `{"error": …}` errors.
pub(crate) struct Front;

impl DialectFront for Front {
    /// Checks the API key and secret, then hands the settings to the handlers as a request
    /// extension.
    fn refusal(&self, state: &AppState, request: &mut Parts, _body: &Bytes) -> Option<Response> {
        let Some(dialect) = state.dialects.databaselabs.clone() else {
            return Some(not_configured());
        };
        if !basic_matches(&Presented::of(&request.headers), &dialect) {
            tracing::info!(path = %request.uri.path(), "databaselabs request refused: bad credentials");
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                "Your API key or API secret were invalid. Check your credentials and try again. \
                 Case matters!",
            )
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"databaselabs\""),
            );
            return Some(response);
        }
        request.extensions.insert(dialect);
        None
    }

    fn error_response(&self, error: LocalError) -> Response {
        refusal(error).into_response()
    }

    fn unknown_route(&self, method: &Method, path: &str) -> Response {
        self::error(
            StatusCode::NOT_FOUND,
            format!("no databaselabs API call {method} {path}"),
        )
        .into_response()
    }
}

/// Whether Basic credentials carry the configured API key and secret.
fn basic_matches(presented: &Presented, dialect: &DatabaselabsDialect) -> bool {
    let Some((key, secret)) = presented.basic_pair() else {
        return false;
    };
    let key_ok = constant_time_eq(key, dialect.api_key.as_bytes());
    let secret_ok = constant_time_eq(secret, dialect.api_secret.expose_secret().as_bytes());
    key_ok & secret_ok
}

/// Routes of the dialect (always mounted; [`Front`] answers for an unconfigured one).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/api/ping"), get(ping))
        .route(&format!("{BASE}/api/plans"), get(plans))
        .route(&format!("{BASE}/api/clouds"), get(plans))
        .route(
            &format!("{BASE}/api/databases"),
            get(list_databases).post(create_database),
        )
        .route(
            &format!("{BASE}/api/databases/{{hostname}}"),
            get(read_database).delete(delete_database),
        )
}

async fn ping() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
        "Pong",
    )
        .into_response()
}

async fn plans() -> Response {
    (StatusCode::OK, Json(catalog::plans())).into_response()
}

/// The hostname of a store database.
fn hostname(database: &Database) -> String {
    format!("{}{HOST_SUFFIX}", database.name)
}

/// The databaselabs status of a database at `now`.
fn status_of(database: &Database, now: DateTime<Utc>) -> &'static str {
    match database.status {
        Status::Creating => match database.transition_at {
            Some(settles) if now < database.created_at + (settles - database.created_at) / 2 => {
                "ordered"
            }
            _ => "building",
        },
        Status::Building => "building",
        Status::Ready | Status::Updating => "ready",
        Status::Deleting => "destroying",
        Status::Error => "failed",
    }
}

/// A database as databaselabs shows it, keys in the seed's order.
fn render(database: &Database, now: DateTime<Utc>) -> Value {
    let (size, region) = catalog::size_and_region(database);
    json!({
        "hostname": hostname(database),
        "hostsize": size.name,
        "id": database.uuid,
        "region": region.name,
        "status": status_of(database, now),
        "updated-at": database.updated_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "cloud": catalog::CLOUD,
    })
}

/// Databases this dialect shows: PostgreSQL ones that are not gone, in creation order.
async fn visible_databases(state: &AppState) -> Result<Vec<Database>, Refusal> {
    let mut databases: Vec<Database> = state
        .databases
        .list(None)
        .await
        .map_err(refusal)?
        .into_iter()
        .filter(|database| database.engine == ENGINE && !database.is_gone())
        .collect();
    databases.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.name.cmp(&b.name)));
    Ok(databases)
}

async fn list_databases(State(state): State<AppState>) -> Reply {
    let now = state.databases.clock().now();
    let databases = visible_databases(&state).await?;
    let body: Vec<Value> = databases.iter().map(|db| render(db, now)).collect();
    Ok((StatusCode::OK, Json(Value::Array(body))).into_response())
}

/// The database with `hostname`, or the dialect's 404.
async fn find(state: &AppState, hostname: &str) -> Result<Database, Refusal> {
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            format!("The requested hostname {hostname:?} doesn't exist."),
        )
    };
    let Some(name) = hostname.strip_suffix(HOST_SUFFIX) else {
        return Err(not_found());
    };
    state
        .databases
        .list(Some(name.to_owned()))
        .await
        .map_err(refusal)?
        .into_iter()
        .find(|database| database.name == name && database.engine == ENGINE && !database.is_gone())
        .ok_or_else(not_found)
}

async fn read_database(State(state): State<AppState>, Path(hostname): Path<String>) -> Reply {
    let database = find(&state, &hostname).await?;
    let now = state.databases.clock().now();
    Ok((StatusCode::OK, Json(render(&database, now))).into_response())
}

async fn delete_database(State(state): State<AppState>, Path(hostname): Path<String>) -> Reply {
    let database = find(&state, &hostname).await?;
    state
        .databases
        .delete(&database.id)
        .await
        .map_err(refusal)?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::CONTENT_TYPE, "text/plain")],
    )
        .into_response())
}

/// Reads the create body: a JSON map with a known `size` and an optional known `region`.
fn decode_create(
    body: Result<Bytes, BytesRejection>,
) -> Result<(&'static Size, &'static Region), Refusal> {
    let bad = |message: String| error(StatusCode::BAD_REQUEST, message);
    let bytes =
        body.map_err(|rejection| bad(format!("cannot read the request body: {rejection}")))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|problem| {
        bad(format!(
            "the POST body is not a map in JSON format: {problem}"
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(bad("the POST body is not a map in JSON format".to_owned()));
    };
    let size = match map.get("size") {
        None | Some(Value::Null) => {
            return Err(bad(
                "the POST body is missing the required key \"size\"".to_owned()
            ));
        }
        Some(Value::String(size)) => catalog::size_named(size).ok_or_else(|| {
            bad(format!(
                "size {size:?} is not available; available sizes (see /api/plans): {}",
                catalog::size_names()
            ))
        })?,
        Some(other) => return Err(bad(format!("size must be a string, not {other}"))),
    };
    let region = match map.get("region") {
        None | Some(Value::Null) => catalog::region_named(catalog::DEFAULT_REGION)
            .ok_or_else(|| refusal(LocalError::Internal("no default region".to_owned())))?,
        Some(Value::String(region)) => catalog::region_named(region).ok_or_else(|| {
            bad(format!(
                "region {region:?} is not available; available regions (see /api/plans): {}",
                catalog::region_names()
            ))
        })?,
        Some(other) => return Err(bad(format!("region must be a string, not {other}"))),
    };
    Ok((size, region))
}

/// 402 when the new database would take the monthly bill over the configured credit limit.
async fn check_credit(
    state: &AppState,
    dialect: &DatabaselabsDialect,
    size: &Size,
) -> Result<(), Refusal> {
    let Some(limit) = dialect.credit_limit_dollars else {
        return Ok(());
    };
    let billed: u64 = visible_databases(state)
        .await?
        .iter()
        .filter(|database| database.status != Status::Deleting)
        .map(|database| u64::from(catalog::size_and_region(database).0.monthly_price_dollars))
        .sum();
    let total = billed + u64::from(size.monthly_price_dollars);
    if total > u64::from(limit) {
        return Err(error(
            StatusCode::PAYMENT_REQUIRED,
            format!(
                "Your default credit card could not be billed: a {} database (${}/month) would \
                 bring your databases to ${total}/month, over the card's ${limit}/month. Check \
                 your credit card in the web console and try again.",
                size.name, size.monthly_price_dollars
            ),
        ));
    }
    Ok(())
}

const ADJECTIVES: &[&str] = &[
    "vivid", "adept", "classic", "bold", "calm", "brave", "quiet", "swift", "bright", "gentle",
    "lucky", "noble", "proud", "witty", "merry", "eager",
];

const NOUNS: &[&str] = &[
    "answer",
    "star",
    "rhinoceros",
    "river",
    "falcon",
    "meadow",
    "harbor",
    "comet",
    "maple",
    "otter",
    "summit",
    "lantern",
    "willow",
    "ember",
    "canyon",
    "pebble",
];

/// A name like the seed's hostnames: adjective, noun and a three-digit number.
fn generated_name() -> String {
    let adjective = ADJECTIVES[rand::random_range(0..ADJECTIVES.len())];
    let noun = NOUNS[rand::random_range(0..NOUNS.len())];
    let number: u16 = rand::random_range(100..1000);
    format!("{adjective}-{noun}-{number}")
}

/// Names tried before giving up (4096 × 900 names: collisions are rare).
const NAME_ATTEMPTS: usize = 16;

async fn create_database(
    State(state): State<AppState>,
    Extension(dialect): Extension<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (size, region) = decode_create(body)?;
    check_credit(&state, &dialect, size).await?;
    let children = NewChildren {
        ip_restrictions: Vec::new(),
        built_in_users: vec![BuiltInUser {
            username: SUPERUSER.to_owned(),
            roles: vec![SUPERUSER_ROLE.to_owned()],
        }],
    };
    let mut created = None;
    for _ in 0..NAME_ATTEMPTS {
        let request = CreateDatabase {
            name: generated_name(),
            engine: Some(ENGINE.to_owned()),
            version: None,
            plan: None,
            region: Some(region.store_region.to_owned()),
            flavor: Some(size.flavor.to_owned()),
            node_count: None,
            description: Some(catalog::description_tag(size, region)),
        };
        match state
            .databases
            .create_with(request, None, children.clone())
            .await
        {
            Ok(database) => {
                created = Some(database);
                break;
            }
            Err(LocalError::Duplicate(_)) => continue,
            Err(other) => return Err(refusal(other)),
        }
    }
    let database = created.ok_or_else(|| {
        refusal(LocalError::Internal(
            "could not find a free hostname".to_owned(),
        ))
    })?;
    let password = state
        .credentials
        .reveal_password(&database.id, SUPERUSER)
        .await
        .map_err(refusal)?;
    let body = json!({
        "hostname": hostname(&database),
        "id": database.uuid,
        "password": password.expose_secret(),
        "status": "building",
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[cfg(test)]
mod tests;
