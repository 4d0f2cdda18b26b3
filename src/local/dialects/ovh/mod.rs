//! The OVHcloud dialect: Public Cloud Databases (MongoDB) under `/ovh/1.0`, over the same store,
//! lifecycle, request log and faults as the native API.
//!
//! Clients point their OVH endpoint at `http://<host>/ovh/1.0` and sign requests as OVH wants
//! (see [`auth`]); the project they name must be the configured `service_name`. Paths, models,
//! status enums and error classes follow OVH's published schema (2024-06-07; the deprecated
//! `/ipRestriction` endpoints as in 2021-10-08), so `P = /cloud/project/{serviceName}/database`:
//! `GET P/capabilities`, `GET P/availability`, `GET|POST P/mongodb`,
//! `GET|PUT|DELETE P/mongodb/{clusterId}`, `GET|POST P/mongodb/{clusterId}/ipRestriction`,
//! `GET|PUT|DELETE …/ipRestriction/{ipBlock}`, `GET …/node[/{nodeId}]`, `GET|POST …/user`,
//! `GET|PUT|DELETE …/user/{userId}`, `POST …/user/{userId}/credentials/reset`, `GET …/roles`,
//! and `GET /auth/time` (no signature).
//!
//! Choices where OVH's facts are silent (see also [`wire`] and [`errors`]):
//! - Not configured (any of the four keys missing): every `/ovh/…` path answers 404
//!   `Client::NotFound` saying so. Another project name: 404 `Client::NotFound::ServiceNotFound`.
//! - Successful creates answer 200; `DELETE`s answer 200 with the body `null`.
//! - A cluster is a database of engine `mongodb`; databases of other engines are not visible.
//!   Its id is the database's UUID; a user's id is the credential's UUID.
//! - New clusters come with the user `admin` (`admin@admin`, role `root@admin`, password
//!   unknown until reset), as OVH's do; it is created and settles with the cluster.
//! - Any change while the cluster is not `READY` is a 409 `Client::Conflict::ServiceNotReady`
//!   (with `Retry-After: 1`); while an administrator locked it, 409
//!   `Client::Conflict::ServiceLocked`.
//! - Bodies: fields OVH marks read-only, fields OVH defines that are not emulated (backup and
//!   maintenance times, disk, storage) and unknown fields are ignored, so a client may PUT back
//!   what it read. A PUT that changes nothing answers 200 with the service. A `password` in a
//!   user PUT is refused (passwords are generated: use `credentials/reset`).
//! - `ipRestrictions` in a create or PUT is the whole set: missing networks are removed, new
//!   ones added, like the per-restriction rule (the cluster is `UPDATING` meanwhile); a change
//!   of descriptions alone does not make it busy.
//! - `GET P/availability` lists every catalog combination (public network); `clusterId`
//!   narrows it to that cluster's engine. `action`/`target` are validated, not used.
//! - A path id that is not a UUID is a 400 `Client::BadRequest`.

pub(crate) mod auth;
mod decode;
pub(crate) mod errors;
pub(crate) mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::local::AppState;
use crate::local::allow_list::CreateIpRestriction;
use crate::local::credentials::CreateCredential;
use crate::local::databases::{BuiltInUser, CreateDatabase, NewChildren, UpdateDatabase};
use crate::local::dialects::DialectFront;
use crate::local::error::LocalError;
use crate::local::model::{Credential, Database};
use crate::local::validation::validate_name;

use decode::{
    changed_string, check_ip_set, check_node_count, ip_restriction_list, long, nodes_of, object,
    optional_object, path, region, string, strings, uuid_param,
};
use errors::{OvhError, Subject, from_local};

/// Where the dialect is served; clients use `http://<host>/ovh/1.0` as their endpoint.
pub(crate) const BASE: &str = "/ovh/1.0";

/// The only engine the dialect serves.
const ENGINE: &str = "mongodb";

/// Header OVH puts on every reply, naming the query for support requests.
pub(crate) const QUERY_ID: &str = "x-ovh-queryid";

/// The OVH dialect's keys and project. With it in [`crate::local::Config`], the service speaks
/// OVHcloud's API under `/ovh/1.0`; requests must be signed with these keys.
#[derive(Debug, Clone)]
pub struct OvhDialect {
    /// Application key (`X-Ovh-Application`) clients must send.
    pub application_key: String,
    /// Application secret clients sign with; never logged.
    pub application_secret: SecretString,
    /// Consumer key (`X-Ovh-Consumer`) clients must send; never logged.
    pub consumer_key: SecretString,
    /// The Public Cloud project (`{serviceName}`) the dialect serves; other names get OVH's 404.
    pub service_name: String,
}

/// Shared handle on the dialect's state, kept in [`AppState`].
pub(crate) type Shared = Arc<OvhState>;

/// The dialect's state: its keys and the counter of query ids.
#[derive(Debug)]
pub(crate) struct OvhState {
    /// Keys and project.
    pub(crate) dialect: OvhDialect,
    /// Numbers the `X-Ovh-QueryID` of each reply.
    queries: AtomicU64,
}

impl OvhState {
    /// State for `dialect`.
    pub(crate) fn new(dialect: OvhDialect) -> Self {
        Self {
            dialect,
            queries: AtomicU64::new(0),
        }
    }

    /// A fresh `X-Ovh-QueryID`, shaped like OVH's (`EU.ext-…`): region, host, time, counter
    /// and random part.
    fn next_query_id(&self, now_secs: i64) -> String {
        let count = self.queries.fetch_add(1, Ordering::Relaxed);
        format!(
            "EU.ext-dbaas-local.{now_secs:x}.{count}.{:016x}",
            rand::random::<u64>()
        )
    }
}

/// Answer to any `/ovh/…` request when the dialect is not configured.
pub(crate) fn not_configured() -> Response {
    OvhError::new(
        "Client::NotFound",
        "the OVH dialect is not configured: start dbaas-local with --ovh-application-key, \
         --ovh-application-secret, --ovh-consumer-key and --ovh-service-name",
    )
    .into_response()
}

/// OVH's front: its request signature and its `{"class", "message"}` errors.
pub(crate) struct Front;

impl DialectFront for Front {
    /// Checks OVH's signature on all paths but `/auth/time`.
    fn refusal(&self, state: &AppState, request: &mut Parts, body: &Bytes) -> Option<Response> {
        let Some(ovh) = state.dialects.ovh.as_ref() else {
            return Some(not_configured());
        };
        if request.uri.path() == format!("{BASE}/auth/time") {
            return None;
        }
        let now = state.databases.clock().now().timestamp();
        auth::verify(
            &ovh.dialect,
            &request.headers,
            request.method.as_str(),
            &full_url(request),
            body,
            now,
        )
        .err().map(|error| {
            tracing::info!(method = %request.method, path = %request.uri.path(), ?error, "OVH request refused");
            error.into_response()
        })
    }

    fn error_response(&self, error: LocalError) -> Response {
        from_local(error, Subject::Service).into_response()
    }

    fn unknown_route(&self, method: &Method, path: &str) -> Response {
        OvhError::new(
            "Client::NotFound",
            format!("Got an invalid (or empty) URL: no OVH operation {method} {path}"),
        )
        .into_response()
    }
}

/// Adds `X-Ovh-QueryID` to a reply.
pub(crate) fn stamp(state: &AppState, response: &mut Response) {
    let id = match &state.dialects.ovh {
        Some(ovh) => ovh.next_query_id(state.databases.clock().now().timestamp()),
        None => format!("EU.ext-dbaas-local.0.0.{:016x}", rand::random::<u64>()),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(QUERY_ID, value);
    }
}

/// The URL the client signed: `http://` + `Host` + the raw request URI.
fn full_url(parts: &Parts) -> String {
    if parts.uri.scheme().is_some() {
        return parts.uri.to_string();
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| parts.uri.authority().map(|authority| authority.as_str()))
        .unwrap_or_default();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |pq| pq.as_str());
    format!("http://{host}{target}")
}

/// Routes of the dialect (always mounted; [`Front`] answers for an unconfigured one).
pub(crate) fn routes() -> Router<AppState> {
    let p = format!("{BASE}/cloud/project/{{service_name}}/database");
    let cluster = format!("{p}/mongodb/{{cluster_id}}");
    Router::new()
        .route(&format!("{BASE}/auth/time"), get(auth_time))
        .route(&format!("{p}/capabilities"), get(capabilities))
        .route(&format!("{p}/availability"), get(availability))
        .route(
            &format!("{p}/mongodb"),
            get(list_services).post(create_service),
        )
        .route(
            &cluster,
            get(read_service).put(update_service).delete(delete_service),
        )
        .route(
            &format!("{cluster}/ipRestriction"),
            get(list_ip_restrictions).post(create_ip_restriction),
        )
        .route(
            &format!("{cluster}/ipRestriction/{{ip_block}}"),
            get(read_ip_restriction)
                .put(update_ip_restriction)
                .delete(delete_ip_restriction),
        )
        .route(&format!("{cluster}/node"), get(list_nodes))
        .route(&format!("{cluster}/node/{{node_id}}"), get(read_node))
        .route(&format!("{cluster}/roles"), get(list_roles))
        .route(
            &format!("{cluster}/user"),
            get(list_users).post(create_user),
        )
        .route(
            &format!("{cluster}/user/{{user_id}}"),
            get(read_user).put(update_user).delete(delete_user),
        )
        .route(
            &format!("{cluster}/user/{{user_id}}/credentials/reset"),
            post(reset_user_password),
        )
}

type Reply = Result<Response, OvhError>;

fn ok(body: Value) -> Reply {
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// The `void` answer of a delete: 200 with `null`.
fn void() -> Reply {
    ok(Value::Null)
}

async fn auth_time(State(state): State<AppState>) -> Json<i64> {
    Json(state.databases.clock().now().timestamp())
}

/// 404 `ServiceNotFound` unless `name` is the configured project.
fn check_project(state: &AppState, name: &str) -> Result<(), OvhError> {
    match &state.dialects.ovh {
        Some(ovh) if ovh.dialect.service_name == name => Ok(()),
        _ => Err(OvhError::new(
            "Client::NotFound::ServiceNotFound",
            format!("This service does not exist: project {name:?} is not served here"),
        )),
    }
}

/// The mongodb cluster `cluster_id` of project `service_name`.
async fn cluster(
    state: &AppState,
    service_name: &str,
    cluster_id: &str,
) -> Result<Database, OvhError> {
    check_project(state, service_name)?;
    let uuid = uuid_param("clusterId", cluster_id)?;
    let not_found = || {
        OvhError::new(
            "Client::NotFound::ServiceNotFound",
            format!("cluster {uuid} not found"),
        )
    };
    match state.databases.get_by_uuid(&uuid).await {
        Ok(database) if database.engine == ENGINE => Ok(database),
        Ok(_) | Err(LocalError::NotFound(_)) => Err(not_found()),
        Err(error) => Err(from_local(error, Subject::Service)),
    }
}

// ---- catalog ----

async fn capabilities(
    State(state): State<AppState>,
    service_name: Result<Path<String>, PathRejection>,
) -> Reply {
    check_project(&state, &path(service_name)?)?;
    ok(wire::capabilities())
}

/// Query of `GET P/availability` (2024).
#[derive(Debug, Deserialize)]
struct AvailabilityQuery {
    /// `fork`, `read` or `update`.
    action: Option<String>,
    /// A cluster whose engine narrows the list.
    #[serde(rename = "clusterId")]
    cluster_id: Option<String>,
    /// `flavor`, `plan`, `self` or `version`.
    target: Option<String>,
}

async fn availability(
    State(state): State<AppState>,
    service_name: Result<Path<String>, PathRejection>,
    query: Result<Query<AvailabilityQuery>, QueryRejection>,
) -> Reply {
    let service_name = path(service_name)?;
    check_project(&state, &service_name)?;
    let Query(query) =
        query.map_err(|rejection| OvhError::bad_request(format!("invalid query: {rejection}")))?;
    if let Some(action) = &query.action
        && !["fork", "read", "update"].contains(&action.as_str())
    {
        return Err(OvhError::bad_request(format!(
            "[action] Invalid value {action:?}"
        )));
    }
    if let Some(target) = &query.target
        && !["flavor", "plan", "self", "version"].contains(&target.as_str())
    {
        return Err(OvhError::bad_request(format!(
            "[target] Invalid value {target:?}"
        )));
    }
    let engine = match &query.cluster_id {
        Some(id) => Some(cluster(&state, &service_name, id).await?.engine),
        None => None,
    };
    ok(Value::Array(wire::availability(engine.as_deref())))
}

// ---- services ----

async fn render_service(state: &AppState, database: &Database) -> Reply {
    let restrictions = state
        .ip_restrictions
        .list(&database.id)
        .await
        .map_err(|error| from_local(error, Subject::Service))?;
    ok(wire::service(database, &restrictions))
}

async fn list_services(
    State(state): State<AppState>,
    service_name: Result<Path<String>, PathRejection>,
) -> Reply {
    check_project(&state, &path(service_name)?)?;
    let databases = state
        .databases
        .list(None)
        .await
        .map_err(|error| from_local(error, Subject::Service))?;
    let ids: Vec<&str> = databases
        .iter()
        .filter(|database| database.engine == ENGINE)
        .map(|database| database.uuid.as_str())
        .collect();
    ok(json!(ids))
}

/// The name a new cluster gets in the store: its description when that is a valid database
/// name, else `ovh-` and 12 random hex digits.
fn store_name(description: Option<&str>) -> String {
    match description {
        Some(text) if validate_name(text).is_ok() => text.to_owned(),
        _ => generated_name(),
    }
}

fn generated_name() -> String {
    format!("ovh-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

async fn create_service(
    State(state): State<AppState>,
    service_name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    check_project(&state, &path(service_name)?)?;
    let body = object(body)?;
    let description = string(&body, "description")?.filter(|text| !text.is_empty());
    let plan = string(&body, "plan")?
        .ok_or_else(|| OvhError::new("Client::NotFound::PlanNotFound", "plan is mandatory"))?;
    let version = string(&body, "version")?.ok_or_else(|| {
        OvhError::new("Client::NotFound::VersionNotFound", "version is mandatory")
    })?;
    let (flavor, number, ovh_region) = nodes_of(&body)?;
    let region = region(&ovh_region)?;
    let node_count = check_node_count(&plan, number)?;
    for field in ["networkId", "subnetId"] {
        if body.get(field).is_some_and(|value| !value.is_null()) {
            return Err(OvhError::new(
                "Client::NotFound::NoMatchingAvailability",
                "private networks are not offered here (see the availability endpoint)",
            ));
        }
    }
    for field in ["backup", "forkFrom"] {
        if body.get(field).is_some_and(|value| !value.is_null()) {
            return Err(OvhError::new(
                "Client::NotFound::BackupNotFound",
                "there are no backups to fork from",
            ));
        }
    }
    let restrictions = ip_restriction_list(&body)?;
    check_ip_set(&restrictions)?;
    let request = |name: String| CreateDatabase {
        name,
        engine: Some(ENGINE.to_owned()),
        version: Some(version.clone()),
        plan: Some(plan.clone()),
        region: Some(region.to_owned()),
        flavor: Some(flavor.clone()),
        node_count: Some(node_count),
        description: description.clone(),
    };
    let children = NewChildren {
        ip_restrictions: restrictions.unwrap_or_default(),
        built_in_users: vec![BuiltInUser {
            username: "admin".to_owned(),
            roles: vec!["root@admin".to_owned()],
        }],
    };
    let first = state
        .databases
        .create_with(
            request(store_name(description.as_deref())),
            None,
            children.clone(),
        )
        .await;
    // The set was checked above, so a duplicate can only be the name: take a generated one.
    let created = match first {
        Err(LocalError::Duplicate(_)) => {
            state
                .databases
                .create_with(request(generated_name()), None, children)
                .await
        }
        other => other,
    }
    .map_err(|error| from_local(error, Subject::Service))?;
    render_service(&state, &created).await
}

async fn read_service(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    render_service(&state, &database).await
}

async fn update_service(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let body = object(body)?;
    let plan = changed_string(&body, "plan", &database.plan)?;
    if let Some(region) = string(&body, "region")?
        && wire::store_region(&region) != Some(database.region.as_str())
    {
        return Err(OvhError::new(
            "Client::BadRequest::NodesRegionMismatch",
            format!(
                "a cluster cannot move: it is in {}",
                wire::ovh_region(&database.region)
            ),
        ));
    }
    let node_count = match long(&body, "nodeNumber")? {
        Some(count) => {
            let plan = plan.as_deref().unwrap_or(&database.plan);
            Some(check_node_count(plan, count)?)
        }
        None => None,
    };
    let restrictions = ip_restriction_list(&body)?;
    check_ip_set(&restrictions)?;
    let description = match string(&body, "description")? {
        Some(text) if text == wire::service_description(&database) => None,
        Some(text) if text.is_empty() => Some(None),
        Some(text) => Some(Some(text)),
        None => None,
    };
    let request = UpdateDatabase {
        version: changed_string(&body, "version", &database.version)?,
        flavor: changed_string(&body, "flavor", &database.flavor)?,
        plan,
        node_count: node_count.filter(|count| *count != database.node_count),
        description,
        ip_restrictions: restrictions,
    };
    let updated = state
        .databases
        .update(&database.id, request)
        .await
        .map_err(|error| from_local(error, Subject::Service))?;
    render_service(&state, &updated.database).await
}

async fn delete_service(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    state
        .databases
        .delete(&database.id)
        .await
        .map_err(|error| from_local(error, Subject::Service))?;
    void()
}

// ---- IP restrictions (deprecated endpoints) ----

async fn list_ip_restrictions(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let restrictions = state
        .ip_restrictions
        .list(&database.id)
        .await
        .map_err(|error| from_local(error, Subject::IpRestriction))?;
    let blocks: Vec<&str> = restrictions.iter().map(|r| r.cidr.as_str()).collect();
    ok(json!(blocks))
}

async fn create_ip_restriction(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let body = object(body)?;
    let ip = string(&body, "ip")?.ok_or_else(|| {
        OvhError::new(
            "Client::NotFound::IpRestrictionInvalidFormat",
            "ip is mandatory",
        )
    })?;
    let request = CreateIpRestriction {
        cidr: ip,
        description: string(&body, "description")?.filter(|text| !text.is_empty()),
    };
    let restriction = state
        .ip_restrictions
        .create(&database.id, request, None)
        .await
        .map_err(|error| from_local(error, Subject::IpRestriction))?;
    ok(wire::ip_restriction(&restriction))
}

type IpBlockPath = Result<Path<(String, String, String)>, PathRejection>;

async fn read_ip_restriction(State(state): State<AppState>, params: IpBlockPath) -> Reply {
    let (service_name, cluster_id, ip_block) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let restriction = state
        .ip_restrictions
        .get(&database.id, &ip_block)
        .await
        .map_err(|error| from_local(error, Subject::IpRestriction))?;
    ok(wire::ip_restriction(&restriction))
}

async fn update_ip_restriction(
    State(state): State<AppState>,
    params: IpBlockPath,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (service_name, cluster_id, ip_block) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let body = object(body)?;
    let current = state
        .ip_restrictions
        .get(&database.id, &ip_block)
        .await
        .map_err(|error| from_local(error, Subject::IpRestriction))?;
    let description = match body.get("description") {
        None => return ok(wire::ip_restriction(&current)),
        Some(_) => string(&body, "description")?.filter(|text| !text.is_empty()),
    };
    let restriction = state
        .ip_restrictions
        .update_description(&database.id, &ip_block, description)
        .await
        .map_err(|error| from_local(error, Subject::IpRestriction))?;
    ok(wire::ip_restriction(&restriction))
}

async fn delete_ip_restriction(State(state): State<AppState>, params: IpBlockPath) -> Reply {
    let (service_name, cluster_id, ip_block) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    state
        .ip_restrictions
        .delete(&database.id, &ip_block)
        .await
        .map_err(|error| from_local(error, Subject::IpRestriction))?;
    void()
}

// ---- nodes ----

async fn list_nodes(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let ids: Vec<String> = (1..=database.node_count)
        .map(|index| wire::node_id(&database, index))
        .collect();
    ok(json!(ids))
}

async fn read_node(
    State(state): State<AppState>,
    params: Result<Path<(String, String, String)>, PathRejection>,
) -> Reply {
    let (service_name, cluster_id, node_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let node_id = uuid_param("nodeId", &node_id)?;
    (1..=database.node_count)
        .find(|index| wire::node_id(&database, *index) == node_id)
        .map(|index| wire::node(&database, index))
        .map_or_else(
            || {
                Err(OvhError::new(
                    "Client::NotFound::NodeNotFound",
                    format!("node {node_id} not found"),
                ))
            },
            ok,
        )
}

// ---- users ----

async fn list_roles(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<RolesQuery>, QueryRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    cluster(&state, &service_name, &cluster_id).await?;
    query.map_err(|rejection| OvhError::bad_request(format!("[advanced] {rejection}")))?;
    ok(json!(wire::roles()))
}

/// Query of `GET …/roles` (2024): `advanced` must be a boolean, and changes nothing here
/// (every role this service grants is listed either way).
#[derive(Debug, Deserialize)]
struct RolesQuery {
    /// Whether to list advanced roles too; decoded to validate it, not used.
    #[serde(rename = "advanced")]
    _advanced: Option<bool>,
}

async fn list_users(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let users = state
        .credentials
        .list(&database.id)
        .await
        .map_err(|error| from_local(error, Subject::User))?;
    let ids: Vec<&str> = users.iter().map(|user| user.uuid.as_str()).collect();
    ok(json!(ids))
}

async fn create_user(
    State(state): State<AppState>,
    params: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (service_name, cluster_id) = path(params)?;
    let database = cluster(&state, &service_name, &cluster_id).await?;
    let body = object(body)?;
    let name = string(&body, "name")?.ok_or_else(|| {
        OvhError::new(
            "Client::BadRequest::UserInvalidNameFormat",
            "name is mandatory",
        )
    })?;
    let request = CreateCredential {
        username: name,
        roles: strings(&body, "roles")?.unwrap_or_default(),
        password: None,
    };
    let created = state
        .credentials
        .create(&database.id, request, None)
        .await
        .map_err(|error| from_local(error, Subject::User))?;
    ok(wire::user(&created.credential, created.password.as_ref()))
}

type UserPath = Result<Path<(String, String, String)>, PathRejection>;

/// The cluster and the username of user `user_id`.
async fn user_of(state: &AppState, params: UserPath) -> Result<(Database, Credential), OvhError> {
    let (service_name, cluster_id, user_id) = path(params)?;
    let database = cluster(state, &service_name, &cluster_id).await?;
    let user_id = uuid_param("userId", &user_id)?;
    let credential = state
        .credentials
        .get_by_uuid(&database.id, &user_id)
        .await
        .map_err(|error| from_local(error, Subject::User))?;
    Ok((database, credential))
}

async fn read_user(State(state): State<AppState>, params: UserPath) -> Reply {
    let (_, credential) = user_of(&state, params).await?;
    ok(wire::user(&credential, None))
}

async fn update_user(
    State(state): State<AppState>,
    params: UserPath,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (database, credential) = user_of(&state, params).await?;
    let body = object(body)?;
    if body.get("password").is_some_and(|value| !value.is_null()) {
        return Err(OvhError::bad_request(
            "passwords are generated and cannot be chosen; use POST …/credentials/reset",
        ));
    }
    let Some(roles) = strings(&body, "roles")? else {
        return ok(wire::user(&credential, None));
    };
    let updated = state
        .credentials
        .update_roles(&database.id, &credential.username, roles)
        .await
        .map_err(|error| from_local(error, Subject::User))?;
    ok(wire::user(&updated.credential, None))
}

async fn delete_user(State(state): State<AppState>, params: UserPath) -> Reply {
    let (database, credential) = user_of(&state, params).await?;
    state
        .credentials
        .delete(&database.id, &credential.username)
        .await
        .map_err(|error| from_local(error, Subject::User))?;
    void()
}

async fn reset_user_password(
    State(state): State<AppState>,
    params: UserPath,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (database, credential) = user_of(&state, params).await?;
    optional_object(body)?;
    let reset = state
        .credentials
        .reset_password(&database.id, &credential.username, None)
        .await
        .map_err(|error| from_local(error, Subject::User))?;
    ok(wire::user(&reset.credential, reset.password.as_ref()))
}
