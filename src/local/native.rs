//! The native REST API, v1: a thin adapter between JSON and [`super::databases`].
//!
//! Bodies are decoded by hand from a JSON object ([`super::json_body`]) rather than through serde
//! derive so that every problem names the JSON field at fault (`{"error": {..., "field":
//! "plan"}}`), unknown fields are refused by name, and `"description": null` (clear) can be told
//! apart from an absent field.
//!
//! The children of a database have their own adapters: [`credentials`], [`indexes`] and
//! [`ip_restrictions`].

mod credentials;
mod indexes;
mod ip_restrictions;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::catalog::CATALOG;
use super::databases::{CreateDatabase, Operation, UpdateDatabase, endpoint};
use super::error::LocalError;
use super::idempotency::Idempotency;
use super::json_body::{
    not_a_string, optional_string, parse_object, reject_unknown, required_if_present, whole_number,
};
use super::lifecycle;
use super::model::{Database, Status, format_timestamp};
use super::openapi;

/// Scope of idempotency keys sent to `POST /v1/databases` of this API (a child create's scope
/// names its own path, parent included).
const CREATE_SCOPE: &str = "native POST /v1/databases";

/// Header carrying the client's idempotency key.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Routes of the native API (and `/healthz`).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/openapi.json", get(openapi_document))
        .route("/v1/capabilities", get(capabilities))
        .route("/v1/databases", get(list_databases).post(create_database))
        .route(
            "/v1/databases/{id}",
            get(read_database)
                .patch(update_database)
                .delete(delete_database),
        )
        .route("/v1/databases/{id}/failover", post(failover_database))
        .route("/v1/databases/{id}/restart", post(restart_database))
        .route(
            "/v1/_admin/databases/{id}/lock",
            post(lock_database).delete(unlock_database),
        )
        .merge(credentials::routes())
        .merge(indexes::routes())
        .merge(ip_restrictions::routes())
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn openapi_document() -> Json<Value> {
    Json(openapi::document().clone())
}

/// The catalog, each engine saying whether its databases are real here.
async fn capabilities(State(state): State<AppState>) -> Response {
    let mut body = serde_json::to_value(&CATALOG).unwrap_or_default();
    if let Some(engines) = body["engines"].as_array_mut() {
        for engine in engines {
            let name = engine["name"].as_str().unwrap_or_default().to_owned();
            engine["backing"] = serde_json::json!(state.databases.engines().backing(&name));
        }
    }
    Json(body).into_response()
}

/// Query of `GET /v1/databases`.
#[derive(Debug, Deserialize)]
struct ListQuery {
    /// Only names starting with this.
    name_prefix: Option<String>,
    /// At most this many databases per page (1 to [`MAX_PAGE`]); all of them when absent.
    limit: Option<String>,
    /// Where the page starts: the `next_page_token` of the page before.
    page_token: Option<String>,
    /// `children`: each database also lists its credentials, indexes and IP restrictions.
    include: Option<String>,
}

/// The largest page of `GET /v1/databases`.
const MAX_PAGE: usize = 1000;

async fn list_databases(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, LocalError> {
    let Query(query) = query.map_err(|rejection| {
        LocalError::invalid("name_prefix", format!("bad query string: {rejection}"))
    })?;
    let limit = match query.limit.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<usize>()
                .ok()
                .filter(|limit| (1..=MAX_PAGE).contains(limit))
                .ok_or_else(|| {
                    LocalError::invalid(
                        "limit",
                        format!("limit {text:?} is not a page size; allowed: 1 to {MAX_PAGE}"),
                    )
                })?,
        ),
    };
    let with_children = match query.include.as_deref() {
        None => false,
        Some("children") => true,
        Some(other) => {
            return Err(LocalError::invalid(
                "include",
                format!("include {other:?} is not something a list can include; allowed: children"),
            ));
        }
    };
    let prefix = query.name_prefix.filter(|prefix| !prefix.is_empty());
    let mut databases = state.databases.list(prefix).await?;
    // Names of live databases are unique and the list is sorted by name: the last name of a
    // page is where the next one starts, and stays valid whatever is created meanwhile.
    if let Some(after) = query.page_token.filter(|token| !token.is_empty()) {
        databases.retain(|database| database.name > after);
    }
    let next_page_token = match limit {
        Some(limit) if databases.len() > limit => {
            databases.truncate(limit);
            databases.last().map(|database| database.name.clone())
        }
        _ => None,
    };
    let mut rendered = Vec::with_capacity(databases.len());
    for database in &databases {
        let mut body = render(database);
        if with_children {
            children_of(&state, &database.id, &mut body).await?;
        }
        rendered.push(body);
    }
    let mut reply = json!({"databases": rendered});
    if let Some(token) = next_page_token {
        reply["next_page_token"] = Value::String(token);
    }
    Ok(Json(reply))
}

/// Adds the children of database `id` to its `body`; a database deleted meanwhile has none.
async fn children_of(state: &AppState, id: &str, body: &mut Value) -> Result<(), LocalError> {
    let listed = async {
        Ok::<_, LocalError>((
            credentials::listed(state, id).await?,
            indexes::listed(state, id).await?,
            ip_restrictions::listed(state, id).await?,
        ))
    };
    let (credentials, indexes, restrictions) = match listed.await {
        Ok(listed) => listed,
        Err(LocalError::NotFound(_)) => (Vec::new(), Vec::new(), Vec::new()),
        Err(error) => return Err(error),
    };
    body["credentials"] = Value::Array(credentials);
    body["indexes"] = Value::Array(indexes);
    body["ip_restrictions"] = Value::Array(restrictions);
    Ok(())
}

async fn create_database(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let mut object = parse_object(body)?;
    reject_unknown(
        &object,
        &[
            "name",
            "engine",
            "version",
            "plan",
            "region",
            "flavor",
            "node_count",
            "description",
        ],
        &[],
    )?;
    let request = CreateDatabase {
        name: optional_string(&mut object, "name")?
            .ok_or_else(|| LocalError::invalid("name", "name is required"))?,
        engine: optional_string(&mut object, "engine")?,
        version: optional_string(&mut object, "version")?,
        plan: optional_string(&mut object, "plan")?,
        region: optional_string(&mut object, "region")?,
        flavor: optional_string(&mut object, "flavor")?,
        node_count: match object.remove("node_count") {
            None | Some(Value::Null) => None,
            Some(value) => Some(node_count(&value)?),
        },
        description: optional_string(&mut object, "description")?,
    };
    let idempotency = idempotency_key(&headers, CREATE_SCOPE.to_owned())?;
    let database = state.databases.create(request, idempotency).await?;
    Ok(accepted(&state, &database))
}

async fn read_database(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    hold: Result<Query<HoldQuery>, QueryRejection>,
) -> Result<Json<Value>, LocalError> {
    let id = path_id(id)?;
    let database = read_held(
        &state,
        hold,
        |database: &Database| database.status,
        || state.databases.get(&id),
    )
    .await?;
    Ok(Json(render(&database)))
}

/// One object read with `read`, held as the query asks (see [`HoldQuery`]).
pub(crate) async fn read_held<T, F, Fut>(
    state: &AppState,
    hold: Result<Query<HoldQuery>, QueryRejection>,
    status_of: impl Fn(&T) -> Status,
    mut read: F,
) -> Result<T, LocalError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, LocalError>>,
{
    match hold_of(hold)? {
        None => read().await,
        Some(within) => {
            state
                .databases
                .read_when_settled(within, status_of, read)
                .await
        }
    }
}

/// The query of a blocking read (`GET` of one object): `wait_for=READY` holds the reply until
/// the object leaves `CREATING`, `BUILDING` and `UPDATING` (or is gone), at most `timeout`.
#[derive(Debug, Deserialize)]
pub(crate) struct HoldQuery {
    /// The status waited for; only `READY`.
    wait_for: Option<String>,
    /// The longest hold, `30s` or `500ms` (default 30 s, cut to 60 s).
    timeout: Option<String>,
}

/// The default hold of a blocking read without `timeout`.
const DEFAULT_HOLD: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a read may hold its reply; `None` answers at once. A `timeout` without
/// `wait_for` holds nothing; one beyond the longest hold is cut to it.
fn hold_of(
    query: Result<Query<HoldQuery>, QueryRejection>,
) -> Result<Option<std::time::Duration>, LocalError> {
    let Query(query) = query.map_err(|rejection| {
        LocalError::invalid("wait_for", format!("bad query string: {rejection}"))
    })?;
    let timeout = match query.timeout.as_deref() {
        None => DEFAULT_HOLD,
        Some(text) => hold_timeout(text).ok_or_else(|| {
            LocalError::invalid(
                "timeout",
                format!(
                    "timeout {text:?} is not a hold: use whole seconds or milliseconds, e.g. \
                     \"30s\" or \"500ms\" (at most 6 digits)"
                ),
            )
        })?,
    };
    match query.wait_for.as_deref() {
        None => Ok(None),
        Some("READY") => Ok(Some(timeout.min(lifecycle::MAX_HOLD))),
        Some(other) => Err(LocalError::invalid(
            "wait_for",
            format!("wait_for {other:?} is not a status a read can wait for; allowed: READY"),
        )),
    }
}

/// A hold as the OpenAPI document writes it (`^[0-9]{1,6}(ms|s)$`): `30s`, `500ms`.
fn hold_timeout(text: &str) -> Option<std::time::Duration> {
    let (digits, per_unit) = match text.strip_suffix("ms") {
        Some(digits) => (digits, 1),
        None => (text.strip_suffix('s')?, 1000),
    };
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count: u64 = digits.parse().ok()?;
    Some(std::time::Duration::from_millis(count * per_unit))
}

async fn update_database(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let id = path_id(id)?;
    let mut object = parse_object(body)?;
    reject_unknown(
        &object,
        &["plan", "version", "flavor", "node_count", "description"],
        &["name", "engine", "region"],
    )?;
    let request = UpdateDatabase {
        plan: required_if_present(&mut object, "plan")?,
        version: required_if_present(&mut object, "version")?,
        flavor: required_if_present(&mut object, "flavor")?,
        node_count: object
            .remove("node_count")
            .map(|value| node_count(&value))
            .transpose()?,
        description: match object.remove("description") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Some(Some(text)),
            Some(_) => return Err(not_a_string("description", true)),
        },
        ip_restrictions: None,
    };
    let updated = state.databases.update(&id, request).await?;
    if updated.changed {
        Ok(accepted(&state, &updated.database))
    } else {
        Ok((StatusCode::OK, Json(render(&updated.database))).into_response())
    }
}

async fn delete_database(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, LocalError> {
    let id = path_id(id)?;
    let database = state.databases.delete(&id).await?;
    Ok(accepted(&state, &database))
}

/// `POST /v1/databases/{id}/failover`: the primary steps down; 202 while the database is
/// `UPDATING`, READY again once a secondary has taken over.
async fn failover_database(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, LocalError> {
    let id = path_id(id)?;
    let database = state.databases.operate(&id, Operation::Failover).await?;
    Ok(accepted(&state, &database))
}

/// `POST /v1/databases/{id}/restart`, with `{"node": n}` for one node (1-based) or no body for
/// every node in turn.
async fn restart_database(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let id = path_id(id)?;
    let node = match body {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => None,
        body => {
            let mut object = parse_object(body)?;
            reject_unknown(&object, &["node"], &[])?;
            object
                .remove("node")
                .filter(|value| !value.is_null())
                .map(|value| {
                    whole_number(&value)
                        .and_then(|node| u32::try_from(node).ok())
                        .ok_or_else(|| {
                            LocalError::invalid("node", "node must be a node number, from 1")
                        })
                })
                .transpose()?
        }
    };
    let database = state
        .databases
        .operate(&id, Operation::Restart { node })
        .await?;
    Ok(accepted(&state, &database))
}

fn accepted(state: &AppState, database: &Database) -> Response {
    (
        StatusCode::ACCEPTED,
        settles_hint(state, database.transition_at),
        Json(render(database)),
    )
        .into_response()
}

/// `Retry-After` of an accepted change: whole seconds (rounded up) until its transition is due,
/// so a client that can only poll checks once, when it should be done. Empty when nothing is
/// due (a stuck object, or a settled one).
pub(crate) fn settles_hint(state: &AppState, transition_at: Option<DateTime<Utc>>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(due) = transition_at {
        let millis = (due - state.databases.clock().now())
            .num_milliseconds()
            .max(0);
        let secs = u64::try_from(millis).unwrap_or(0).div_ceil(1000);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    headers
}

/// A `node_count` value: a whole number (its range is the plan's rule, checked later).
fn node_count(value: &Value) -> Result<u32, LocalError> {
    whole_number(value)
        .and_then(|count| u32::try_from(count).ok())
        .ok_or_else(|| {
            LocalError::invalid("node_count", "node_count must be a whole number of nodes")
        })
}

async fn lock_database(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, LocalError> {
    let id = path_id(id)?;
    let database = state.databases.set_locked(&id, true).await?;
    Ok(Json(render(&database)))
}

async fn unlock_database(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, LocalError> {
    let id = path_id(id)?;
    let database = state.databases.set_locked(&id, false).await?;
    Ok(Json(render(&database)))
}

fn path_id(id: Result<Path<String>, PathRejection>) -> Result<String, LocalError> {
    path_params(id)
}

/// The decoded path parameters; a path that cannot be decoded names nothing (404).
pub(crate) fn path_params<T>(params: Result<Path<T>, PathRejection>) -> Result<T, LocalError> {
    params
        .map(|Path(params)| params)
        .map_err(|rejection| LocalError::NotFound(format!("bad path: {rejection}")))
}

/// The wire form of a database.
#[derive(Debug, Serialize)]
struct DatabaseBody<'a> {
    id: &'a str,
    name: &'a str,
    engine: &'a str,
    version: &'a str,
    plan: &'a str,
    region: &'a str,
    flavor: &'a str,
    node_count: u32,
    description: Option<&'a str>,
    locked: bool,
    status: &'static str,
    status_message: Option<&'a str>,
    endpoint: String,
    created_at: String,
    updated_at: String,
}

impl<'a> From<&'a Database> for DatabaseBody<'a> {
    fn from(database: &'a Database) -> Self {
        Self {
            id: &database.id,
            name: &database.name,
            engine: &database.engine,
            version: &database.version,
            plan: &database.plan,
            region: &database.region,
            flavor: &database.flavor,
            node_count: database.node_count,
            description: database.description.as_deref(),
            locked: database.locked,
            status: database.status.as_str(),
            status_message: database.status_message.as_deref(),
            endpoint: endpoint(database),
            created_at: format_timestamp(database.created_at),
            updated_at: format_timestamp(database.updated_at),
        }
    }
}

fn render(database: &Database) -> Value {
    serde_json::to_value(DatabaseBody::from(database)).unwrap_or(Value::Null)
}

/// The `Idempotency-Key` header of a create, if sent, scoped to `scope` (the operation, and the
/// parent of a child).
pub(crate) fn idempotency_key(
    headers: &HeaderMap,
    scope: String,
) -> Result<Option<Idempotency>, LocalError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| LocalError::invalid_body("the Idempotency-Key header must be visible ASCII"))?
        .to_owned();
    Ok(Some(Idempotency { scope, key }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::model::Status;
    use chrono::TimeZone;

    #[test]
    fn endpoint_uses_engine_scheme_and_port() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap();
        let mut database = Database {
            id: "db-0123456789ab".into(),
            uuid: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9".into(),
            name: "shop".into(),
            engine: "postgresql".into(),
            version: "17".into(),
            plan: "essential".into(),
            region: "eu-central-1".into(),
            flavor: "db1-4".into(),
            node_count: 1,
            description: None,
            locked: false,
            status: Status::Ready,
            status_message: None,
            created_at: at,
            updated_at: at,
            transition_at: None,
            gone_at: None,
            fails_with: None,
            served_at: None,
        };
        assert_eq!(
            endpoint(&database),
            "postgresql://shop.eu-central-1.dbaas.local:5432/shop"
        );
        database.engine = "mongodb".into();
        assert_eq!(
            endpoint(&database),
            "mongodb://shop.eu-central-1.dbaas.local:27017/shop"
        );
        let body = render(&database);
        assert_eq!(body["created_at"], "2026-11-22T08:00:00Z");
        assert_eq!(body["description"], Value::Null);
        assert_eq!(body["status"], "READY");
        assert_eq!(
            body.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "id",
                "name",
                "engine",
                "version",
                "plan",
                "region",
                "flavor",
                "node_count",
                "description",
                "locked",
                "status",
                "status_message",
                "endpoint",
                "created_at",
                "updated_at"
            ]
        );
    }
}
