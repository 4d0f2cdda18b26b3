//! `OvhApi`, the OVHcloud client: its request bodies against OVH's own API schema, its
//! signatures as a server checks them, its wire mappings and error mapping against a scripted
//! OVH on 127.0.0.1:0; and the schema validator shared with the OVH dialect's tests.

mod support;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use dbaas::api::http::HttpTuning;
use dbaas::api::ovh::{IpRestrictionMode, OvhApi, OvhConfig, signature};
use dbaas::api::{
    CredentialSpec, DatabaseChanges, DatabaseSpec, DbaasApi, Error, IpRestrictionSpec, Phase,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use support::ovh_schema::OvhSchema;

// ---------------------------------------------------------------------------------------------
// The schema validator.

#[test]
fn ovh_schema_accepts_a_complete_service() {
    let schema = OvhSchema::load_2024();
    schema
        .validate_model(
            "cloud.project.database.Service",
            &service_2024("a", "READY"),
        )
        .unwrap();
    schema
        .validate_response(
            "GET",
            "/cloud/project/{serviceName}/database/mongodb/{clusterId}",
            &service_2024("a", "READY"),
        )
        .unwrap();
}

#[test]
fn ovh_schema_rejects_a_wrong_type() {
    let schema = OvhSchema::load_2024();
    let mut service = service_2024("a", "READY");
    service["nodeNumber"] = json!("3");
    service["createdAt"] = json!("yesterday");
    service["id"] = json!("not-a-uuid");
    let problems = schema
        .validate_model("cloud.project.database.Service", &service)
        .unwrap_err();
    let text = problems.join("\n");
    assert!(text.contains("$.nodeNumber: expected an integer"), "{text}");
    assert!(text.contains("$.createdAt: expected an RFC 3339"), "{text}");
    assert!(text.contains("$.id: expected a UUID"), "{text}");
    assert_eq!(problems.len(), 3, "{text}");
}

#[test]
fn ovh_schema_rejects_a_missing_required_field() {
    let schema = OvhSchema::load_2024();
    let problems = schema
        .validate_model(
            "cloud.project.database.service.creation.ForkFrom",
            &json!({"backupId": "3b5c1c4e-8b5f-4c1e-9d55-0a5f0e3c9a11"}),
        )
        .unwrap_err();
    assert_eq!(
        problems,
        [
            "$.serviceId: required property of cloud.project.database.service.creation.ForkFrom is missing"
        ]
    );
}

#[test]
fn ovh_schema_rejects_a_bad_enum_value_and_unknown_properties() {
    let schema = OvhSchema::load_2024();
    let mut service = service_2024("a", "RUNNING");
    service["colour"] = json!("blue");
    service["endpoints"][0]["component"] = json!("mongodbAtlas");
    let problems = schema
        .validate_model("cloud.project.database.Service", &service)
        .unwrap_err();
    let text = problems.join("\n");
    assert!(
        text.contains("$.status: `RUNNING` is not a value of cloud.project.database.StatusEnum"),
        "{text}"
    );
    assert!(text.contains("$.colour: unknown property"), "{text}");
    assert!(
        text.contains("$.endpoints[0].component: `mongodbAtlas` is not a value"),
        "{text}"
    );
}

#[test]
fn ovh_schema_checks_nulls_arrays_maps_and_unit_values() {
    let schema = OvhSchema::load_2024();
    let mut service = service_2024("a", "READY");
    service["networkId"] = Value::Null; // canBeNull
    service["plan"] = Value::Null; // not nullable
    service["capabilities"] = json!({"users": {"create": "enabled"}, "teleport": {}});
    service["storage"] = json!({"size": {"unit": "GB", "value": "big"}});
    service["ipRestrictions"] = json!([{"ip": "10.0.0.0/33"}]);
    let problems = schema
        .validate_model("cloud.project.database.Service", &service)
        .unwrap_err();
    let text = problems.join("\n");
    assert!(!text.contains("networkId"), "{text}");
    assert!(text.contains("$.plan: must not be null"), "{text}");
    assert!(text.contains("<key teleport>"), "{text}");
    assert!(
        text.contains("$.storage.size.value: expected an integer"),
        "{text}"
    );
    assert!(
        text.contains("$.ipRestrictions[0].ip: expected an IP block"),
        "{text}"
    );
    assert_eq!(problems.len(), 4, "{text}");
}

#[test]
fn ovh_schema_validates_responses_by_operation() {
    let schema = OvhSchema::load_2024();
    let list = "/cloud/project/{serviceName}/database/mongodb";
    schema
        .validate_response(
            "GET",
            list,
            &json!(["3b5c1c4e-8b5f-4c1e-9d55-0a5f0e3c9a11"]),
        )
        .unwrap();
    assert!(schema.validate_response("GET", list, &json!([42])).is_err());
    assert!(schema.validate_response("GET", list, &json!({})).is_err());
    let one = "/cloud/project/{serviceName}/database/mongodb/{clusterId}";
    schema
        .validate_response("DELETE", one, &Value::Null)
        .unwrap();
    assert!(schema.validate_response("DELETE", one, &json!({})).is_err());
    let missing = schema
        .validate_response("PATCH", one, &Value::Null)
        .unwrap_err();
    assert!(missing[0].contains("no operation PATCH"), "{missing:?}");
    assert_eq!(
        schema
            .template_for(
                "DELETE",
                "/cloud/project/p/database/mongodb/c/ipRestriction/10.0.0.0%2F24"
            )
            .as_deref(),
        Some("/cloud/project/{serviceName}/database/mongodb/{clusterId}/ipRestriction/{ipBlock}")
    );
    assert_eq!(
        schema
            .template_for("GET", "/cloud/project/p/database/capabilities")
            .as_deref(),
        Some("/cloud/project/{serviceName}/database/capabilities")
    );
    assert!(
        schema
            .error_classes("GET", one)
            .contains(&"Client::Conflict::ServiceNotReady".to_owned())
    );
}

#[test]
fn ovh_schema_refuses_read_only_fields_in_request_bodies() {
    let schema = OvhSchema::load_2024();
    let put = "/cloud/project/{serviceName}/database/mongodb/{clusterId}";
    schema
        .validate_request_body("PUT", put, &json!({"plan": "business", "nodeNumber": 3}))
        .unwrap();
    let problems = schema
        .validate_request_body("PUT", put, &json!({"status": "READY", "plan": 1}))
        .unwrap_err();
    let text = problems.join("\n");
    assert!(text.contains("$.status: read-only property"), "{text}");
    assert!(text.contains("$.plan: expected a string"), "{text}");
    let reset =
        "/cloud/project/{serviceName}/database/mongodb/{clusterId}/user/{userId}/credentials/reset";
    schema
        .validate_request_body("POST", reset, &Value::Null)
        .unwrap();
    assert!(
        schema
            .validate_request_body("POST", reset, &json!({}))
            .is_err()
    );
    // The 2021 schema has the (then current) ipRestriction endpoints, and no `ipRestrictions`.
    let legacy = OvhSchema::load_2021();
    legacy
        .validate_request_body(
            "POST",
            "/cloud/project/{serviceName}/database/mongodb/{clusterId}/ipRestriction",
            &json!({"ip": "10.0.0.0/24", "description": "office"}),
        )
        .unwrap();
    assert!(
        legacy
            .validate_request_body("PUT", put, &json!({"ipRestrictions": []}))
            .is_err()
    );
}

// ---------------------------------------------------------------------------------------------
// A scripted OVH: checks every signature like OVH, records requests, answers from a script.

const APPLICATION_KEY: &str = "test-application-key";
const APPLICATION_SECRET: &str = "test-application-secret";
const CONSUMER_KEY: &str = "test-consumer-key";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
/// The scripted server's clock runs this far ahead: only a client that corrects its timestamps
/// with `GET /auth/time` passes the time check.
const CLOCK_SKEW: i64 = 3600;
/// How far a timestamp may be from the server's clock (generous: this is about the offset
/// being applied, not about speed).
const ALLOWED_DRIFT: i64 = 300;

const P: &str = "/cloud/project/{serviceName}/database";

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[derive(Clone, Debug)]
struct Reply {
    status: u16,
    body: String,
    query_id: Option<&'static str>,
}

fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        body: body.to_string(),
        query_id: None,
    }
}

fn fail(status: u16, class: &str, message: &str) -> Reply {
    Reply {
        status,
        body: json!({"class": class, "message": message}).to_string(),
        query_id: Some("EU.ext-1.test.42"),
    }
}

/// One request the scripted OVH received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// Path below the API root, as sent (percent-encoding kept).
    path: String,
    /// `null` when there was no body.
    body: Value,
    content_type: Option<String>,
}

#[derive(Default)]
struct FakeState {
    /// `(method, path)` → replies; the last one is repeated.
    script: Mutex<HashMap<(String, String), VecDeque<Reply>>>,
    seen: Mutex<Vec<Seen>>,
    time_calls: AtomicUsize,
    /// Signature or timestamp problems (a correct client causes none).
    auth_failures: Mutex<Vec<String>>,
    /// When set, `GET`/`PUT` of this service path are stateful: `PUT {ipRestrictions}`
    /// replaces the list, as OVH does.
    stateful_service: Mutex<Option<(String, Value)>>,
}

struct FakeOvh {
    state: Arc<FakeState>,
    /// `http://127.0.0.1:PORT/1.0`.
    base_url: String,
}

impl FakeOvh {
    async fn start() -> Self {
        let state = Arc::new(FakeState::default());
        let app = axum::Router::new()
            .fallback(fake_handler)
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            state,
            base_url: format!("http://{address}/1.0"),
        }
    }

    /// Scripts the reply to `method path` (path with `P` for the project prefix), checking
    /// that the reply itself is what OVH's schema says the operation returns (the 2021 schema
    /// for the legacy `/ipRestriction` endpoints, else the 2024 one).
    fn on(&self, method: &str, template: &str, concrete: &str, reply: Reply) {
        let schema = if template.contains("/ipRestriction") {
            OvhSchema::load_2021()
        } else {
            OvhSchema::load_2024()
        };
        self.on_checked(Some(&schema), method, template, concrete, reply);
    }

    /// [`FakeOvh::on`] with the schema the reply must follow, or none for a deliberately
    /// off-schema reply (robustness tests).
    fn on_checked(
        &self,
        schema: Option<&OvhSchema>,
        method: &str,
        template: &str,
        concrete: &str,
        reply: Reply,
    ) {
        if let Some(schema) = schema.filter(|_| (200..300).contains(&reply.status)) {
            let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
            if let Err(problems) = schema.validate_response(method, &expand(template, P), &body) {
                panic!("fixture for {method} {template} is not OVH's shape: {problems:#?}");
            }
        }
        let path = expand(concrete, &project_prefix());
        self.state
            .script
            .lock()
            .unwrap()
            .entry((method.to_owned(), path))
            .or_default()
            .push_back(reply);
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    fn writes(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|seen| seen.method != "GET")
            .collect()
    }

    fn clear_seen(&self) {
        self.state.seen.lock().unwrap().clear();
    }

    fn assert_signed_correctly(&self) {
        let failures = self.state.auth_failures.lock().unwrap().clone();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    fn api(&self, mode: IpRestrictionMode) -> OvhApi {
        api_for(&self.base_url, mode, APPLICATION_SECRET)
    }
}

/// `P/…` → `{prefix}/…`.
fn expand(path: &str, prefix: &str) -> String {
    match path.strip_prefix('P') {
        Some(rest) => format!("{prefix}{rest}"),
        None => path.to_owned(),
    }
}

fn project_prefix() -> String {
    format!("/cloud/project/{PROJECT}/database")
}

fn api_for(base_url: &str, mode: IpRestrictionMode, secret: &str) -> OvhApi {
    OvhApi::new(
        OvhConfig {
            endpoint: base_url.to_owned(),
            application_key: APPLICATION_KEY.to_owned(),
            application_secret: SecretString::from(secret),
            consumer_key: SecretString::from(CONSUMER_KEY),
            service_name: PROJECT.to_owned(),
            ip_restriction_mode: mode,
        },
        fast_tuning(),
    )
    .unwrap()
}

fn fast_tuning() -> HttpTuning {
    HttpTuning {
        request_timeout: Duration::from_secs(10),
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        ..HttpTuning::default()
    }
}

async fn fake_handler(
    axum::extract::State(state): axum::extract::State<Arc<FakeState>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let uri = parts.uri.to_string();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let respond = |status: u16, body: String, query_id: Option<&str>| {
        let mut builder = axum::response::Response::builder()
            .status(status)
            .header("content-type", "application/json; charset=utf-8");
        if let Some(id) = query_id {
            builder = builder.header("x-ovh-queryid", id);
        }
        builder.body(axum::body::Body::from(body)).unwrap()
    };
    let server_now = unix_now() + CLOCK_SKEW;
    if uri == "/1.0/auth/time" {
        state.time_calls.fetch_add(1, Ordering::SeqCst);
        if header("x-ovh-signature").is_some() || header("x-ovh-consumer").is_some() {
            state
                .auth_failures
                .lock()
                .unwrap()
                .push("GET /auth/time was signed".into());
        }
        return respond(200, server_now.to_string(), None);
    }
    // Verify like OVH: the URL the client saw, the exact body, a fresh timestamp.
    let full_url = format!("http://{}{uri}", header("host").unwrap_or_default());
    let timestamp: i64 = header("x-ovh-timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or_default();
    let expected = signature(
        APPLICATION_SECRET,
        CONSUMER_KEY,
        parts.method.as_str(),
        &full_url,
        &body,
        timestamp,
    );
    let mut problems = Vec::new();
    if header("x-ovh-application").as_deref() != Some(APPLICATION_KEY) {
        problems.push("X-Ovh-Application");
    }
    if header("x-ovh-consumer").as_deref() != Some(CONSUMER_KEY) {
        problems.push("X-Ovh-Consumer");
    }
    if (timestamp - server_now).abs() > ALLOWED_DRIFT {
        problems.push("X-Ovh-Timestamp");
    }
    if header("x-ovh-signature").as_deref() != Some(expected.as_str()) {
        problems.push("X-Ovh-Signature");
    }
    if !problems.is_empty() {
        state
            .auth_failures
            .lock()
            .unwrap()
            .push(format!("{} {uri}: {problems:?}", parts.method));
        return respond(
            400,
            json!({"errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request",
                   "message": "Invalid signature"})
            .to_string(),
            Some("EU.ext-1.auth.1"),
        );
    }
    let path = uri.strip_prefix("/1.0").unwrap_or(&uri).to_owned();
    let body_json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::String("<not json>".into()))
    };
    state.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: path.clone(),
        body: body_json.clone(),
        content_type: header("content-type"),
    });
    {
        let mut stateful = state.stateful_service.lock().unwrap();
        if let Some((service_path, service)) = stateful.as_mut()
            && *service_path == path
        {
            match parts.method.as_str() {
                "GET" => return respond(200, service.to_string(), None),
                "PUT" => {
                    if let Some(list) = body_json.get("ipRestrictions") {
                        let mut list = list.clone();
                        for entry in list.as_array_mut().into_iter().flatten() {
                            entry["status"] = json!("READY");
                            if entry.get("description").is_none() {
                                entry["description"] = json!("");
                            }
                        }
                        service["ipRestrictions"] = list;
                    }
                    return respond(200, service.to_string(), None);
                }
                _ => {}
            }
        }
    }
    let key = (parts.method.to_string(), path.clone());
    let reply = {
        let mut script = state.script.lock().unwrap();
        script.get_mut(&key).and_then(|queue| {
            if queue.len() > 1 {
                queue.pop_front()
            } else {
                queue.front().cloned()
            }
        })
    };
    match reply {
        Some(reply) => respond(reply.status, reply.body, reply.query_id),
        None => respond(
            404,
            json!({"class": "Client::NotFound", "message": format!("unscripted {key:?}")})
                .to_string(),
            None,
        ),
    }
}

const CLUSTER: &str = "3b5c1c4e-8b5f-4c1e-9d55-0a5f0e3c9a11";
const USER: &str = "9e0f6a3c-1d2b-4c5e-8f70-112233445566";

/// A `Service` as the 2024 schema describes it.
fn service_2024(id: &str, status: &str) -> Value {
    let id = if id == "a" { CLUSTER } else { id };
    json!({
        "id": id,
        "createdAt": "2024-06-07T10:00:00+02:00",
        "description": "orders",
        "engine": "mongodb",
        "plan": "business",
        "version": "6.0",
        "flavor": "db1-4",
        "status": status,
        "nodeNumber": 3,
        "networkType": "public",
        "networkId": null,
        "subnetId": null,
        "region": "GRA",
        "category": "operational",
        "maintenanceTime": "04:00:00",
        "backupTime": "02:00:00",
        "disk": {"size": 40, "type": "high-speed"},
        "nodes": [{
            "id": "8a8a8a8a-0000-4000-8000-000000000001", "createdAt": "2024-06-07T10:00:00+02:00",
            "flavor": "db1-4", "name": "node-1", "port": 27017, "region": "GRA",
            "status": status, "role": null
        }],
        "endpoints": [
            {"component": "mongodbSrv", "domain": "orders.database.cloud.ovh.net", "ssl": true,
             "sslMode": "required", "uri": "mongodb+srv://orders.database.cloud.ovh.net/admin"},
            {"component": "mongodb", "domain": "orders.database.cloud.ovh.net", "ssl": true,
             "port": 27017, "path": "/admin", "scheme": "mongodb",
             "uri": "mongodb://node-1.orders.database.cloud.ovh.net:27017/admin?tls=true"}
        ],
        "ipRestrictions": [],
        "capabilities": {"users": {"create": "enabled", "read": "enabled", "update": "enabled", "delete": "enabled"}}
    })
}

fn user_reply(id: &str, name: &str, roles: &[&str], status: &str, password: Option<&str>) -> Value {
    let mut user = json!({
        "id": id,
        "username": format!("{name}@admin"),
        "roles": roles,
        "status": status,
        "createdAt": "2024-06-07T10:05:00+02:00",
    });
    if let Some(password) = password {
        user["password"] = json!(password);
    }
    user
}

/// Checks a recorded request body against the operation's body type in the schema.
fn assert_body_conforms(schema: &OvhSchema, seen: &Seen, template: &str) {
    let template = expand(template, P);
    if let Err(problems) = schema.validate_request_body(&seen.method, &template, &seen.body) {
        panic!(
            "{} {} body {} does not conform to OVH's schema: {problems:#?}",
            seen.method, seen.path, seen.body
        );
    }
}

fn database_spec() -> DatabaseSpec {
    DatabaseSpec {
        name: "orders".into(),
        plan: Some("business".into()),
        flavor: Some("db1-4".into()),
        region: Some("GRA".into()),
        node_count: Some(3),
        version: Some("6.0".into()),
        ..DatabaseSpec::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Databases.

#[tokio::test]
async fn ovh_create_database_sends_service_creation_signed() -> Result<()> {
    let fake = FakeOvh::start().await;
    let schema = OvhSchema::load_2024();
    fake.on(
        "POST",
        "P/mongodb",
        "P/mongodb",
        ok(service_2024("a", "CREATING")),
    );
    let api = fake.api(IpRestrictionMode::default());
    let created = api.create_database(&database_spec()).await?;
    assert_eq!(created.id, CLUSTER);
    assert_eq!(created.name, "orders");
    assert_eq!(created.status.raw, "CREATING");
    assert_eq!(created.status.phase, Phase::Pending);
    assert_eq!(created.region, "GRA");
    assert_eq!(created.node_count, Some(3));
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, format!("{}/mongodb", project_prefix()));
    assert_eq!(
        seen[0].body,
        json!({"description": "orders", "plan": "business", "version": "6.0",
               "nodesPattern": {"flavor": "db1-4", "number": 3, "region": "GRA"}})
    );
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    assert_body_conforms(&schema, &seen[0], "P/mongodb");
    fake.assert_signed_correctly();
    assert_eq!(fake.state.time_calls.load(Ordering::SeqCst), 1);
    assert_eq!(api.server_time_offset().await?, CLOCK_SKEW);
    Ok(())
}

#[tokio::test]
async fn ovh_server_time_is_fetched_once_per_client() -> Result<()> {
    let fake = FakeOvh::start().await;
    fake.on("GET", "P/mongodb", "P/mongodb", ok(json!([])));
    let api = fake.api(IpRestrictionMode::default());
    let clone = api.clone();
    for client in [&api, &clone, &api] {
        assert!(client.list_databases(None).await?.is_empty());
    }
    assert_eq!(fake.state.time_calls.load(Ordering::SeqCst), 1);
    assert_eq!(fake.seen().len(), 3);
    fake.assert_signed_correctly();
    Ok(())
}

#[tokio::test]
async fn ovh_create_database_without_version_uses_the_default() -> Result<()> {
    let fake = FakeOvh::start().await;
    let schema = OvhSchema::load_2024();
    fake.on(
        "GET",
        "P/capabilities",
        "P/capabilities",
        ok(capabilities_2024()),
    );
    fake.on(
        "POST",
        "P/mongodb",
        "P/mongodb",
        ok(service_2024("a", "CREATING")),
    );
    let api = fake.api(IpRestrictionMode::default());
    api.create_database(&DatabaseSpec {
        version: None,
        ..database_spec()
    })
    .await?;
    let post = fake.writes().remove(0);
    assert_eq!(post.body["version"], "7.0");
    assert_body_conforms(&schema, &post, "P/mongodb");
    Ok(())
}

#[tokio::test]
async fn ovh_get_database_reads_region_from_nodes_for_older_services() -> Result<()> {
    let fake = FakeOvh::start().await;
    let old = json!({
        "id": CLUSTER, "createdAt": "2021-10-08T10:00:00+02:00", "description": "legacy",
        "engine": "mongodb", "plan": "essential", "version": "4.4", "flavor": "db1-2",
        "status": "READY", "nodeNumber": 1, "networkType": "public", "networkId": null,
        "subnetId": null, "domain": "legacy.database.cloud.ovh.net", "port": 27017,
        "sslMode": "required", "uri": "mongodb://legacy.database.cloud.ovh.net:27017/admin",
        "maintenanceWindow": {"start": "04:00:00", "end": "05:00:00"}
    });
    OvhSchema::load_2021()
        .validate_model("cloud.project.database.Service", &old)
        .unwrap();
    let node = "8a8a8a8a-0000-4000-8000-000000000001";
    let schema_2021 = OvhSchema::load_2021();
    fake.on_checked(
        Some(&schema_2021),
        "GET",
        "P/mongodb/{clusterId}",
        &format!("P/mongodb/{CLUSTER}"),
        ok(old),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/node",
        &format!("P/mongodb/{CLUSTER}/node"),
        ok(json!([node])),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/node/{nodeId}",
        &format!("P/mongodb/{CLUSTER}/node/{node}"),
        ok(
            json!({"id": node, "createdAt": "2021-10-08T10:00:00+02:00", "flavor": "db1-2",
                  "name": "node-1", "port": 27017, "region": "BHS", "status": "READY",
                  "role": null}),
        ),
    );
    let database = fake
        .api(IpRestrictionMode::default())
        .get_database(CLUSTER)
        .await?;
    assert_eq!(database.region, "BHS");
    assert_eq!(database.name, "legacy");
    assert_eq!(
        database.endpoint.as_deref(),
        Some("mongodb://legacy.database.cloud.ovh.net:27017/admin")
    );
    assert_eq!(database.node_count, Some(1));
    assert_eq!(database.status.phase, Phase::Ready);
    Ok(())
}

#[tokio::test]
async fn ovh_list_databases_reads_each_service_and_filters_by_name() -> Result<()> {
    let fake = FakeOvh::start().await;
    let ids = [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003",
    ];
    fake.on("GET", "P/mongodb", "P/mongodb", ok(json!(ids)));
    for (id, name) in ids.iter().zip(["orders-eu", "billing", "orders-us"]) {
        let mut service = service_2024(id, "READY");
        service["description"] = json!(name);
        fake.on(
            "GET",
            "P/mongodb/{clusterId}",
            &format!("P/mongodb/{id}"),
            ok(service),
        );
    }
    let api = fake.api(IpRestrictionMode::default());
    let all = api.list_databases(None).await?;
    let names: Vec<_> = all.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["orders-eu", "billing", "orders-us"]);
    let orders = api.list_databases(Some("orders")).await?;
    assert_eq!(orders.len(), 2);
    let found = api.find_database_by_name("billing").await?.unwrap();
    assert_eq!(found.id, ids[1]);
    assert!(api.find_database_by_name("bill").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn ovh_update_database_sends_only_changed_fields() -> Result<()> {
    let fake = FakeOvh::start().await;
    let schema = OvhSchema::load_2024();
    let path = format!("P/mongodb/{CLUSTER}");
    let mut updated = service_2024("a", "UPDATING");
    updated["plan"] = json!("enterprise");
    updated["nodeNumber"] = json!(5);
    fake.on("PUT", "P/mongodb/{clusterId}", &path, ok(updated));
    let api = fake.api(IpRestrictionMode::default());
    let database = api
        .update_database(
            CLUSTER,
            &DatabaseChanges {
                plan: Some("enterprise".into()),
                node_count: Some(5),
                ..DatabaseChanges::default()
            },
        )
        .await?;
    assert_eq!(database.plan, "enterprise");
    assert_eq!(database.node_count, Some(5));
    assert_eq!(database.status.phase, Phase::Pending);
    let put = fake.writes().remove(0);
    assert_eq!(put.body, json!({"plan": "enterprise", "nodeNumber": 5}));
    assert_body_conforms(&schema, &put, "P/mongodb/{clusterId}");
    // Nothing to change: a read, no write.
    fake.clear_seen();
    fake.on(
        "GET",
        "P/mongodb/{clusterId}",
        &path,
        ok(service_2024("a", "READY")),
    );
    api.update_database(CLUSTER, &DatabaseChanges::default())
        .await?;
    assert!(fake.writes().is_empty());
    let error = api
        .update_database(
            CLUSTER,
            &DatabaseChanges {
                description: Some(Some("x".into())),
                ..DatabaseChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(&error, Error::Invalid { field: Some(f), .. } if f == "description"));
    fake.assert_signed_correctly();
    Ok(())
}

#[tokio::test]
async fn ovh_update_database_reads_back_when_the_reply_is_empty() -> Result<()> {
    let fake = FakeOvh::start().await;
    let path = format!("P/mongodb/{CLUSTER}");
    let empty = Reply {
        status: 200,
        body: "null".into(),
        query_id: None,
    };
    fake.on_checked(None, "PUT", "P/mongodb/{clusterId}", &path, empty);
    fake.on(
        "GET",
        "P/mongodb/{clusterId}",
        &path,
        ok(service_2024("a", "UPDATING")),
    );
    let database = fake
        .api(IpRestrictionMode::default())
        .update_database(
            CLUSTER,
            &DatabaseChanges {
                version: Some("7.0".into()),
                ..DatabaseChanges::default()
            },
        )
        .await?;
    assert_eq!(database.status.raw, "UPDATING");
    Ok(())
}

#[tokio::test]
async fn ovh_delete_database_treats_not_found_as_done() -> Result<()> {
    let fake = FakeOvh::start().await;
    let path = format!("P/mongodb/{CLUSTER}");
    fake.on("DELETE", "P/mongodb/{clusterId}", &path, ok(Value::Null));
    let api = fake.api(IpRestrictionMode::default());
    api.delete_database(CLUSTER).await?;
    let other = "00000000-0000-4000-8000-00000000dead";
    fake.on(
        "DELETE",
        "P/mongodb/{clusterId}",
        &format!("P/mongodb/{other}"),
        fail(
            404,
            "Client::NotFound::ServiceNotFound",
            "This service does not exist",
        ),
    );
    api.delete_database(other).await?;
    let deletes: Vec<_> = fake
        .writes()
        .into_iter()
        .map(|s| (s.method, s.body))
        .collect();
    assert_eq!(
        deletes,
        [
            ("DELETE".to_owned(), Value::Null),
            ("DELETE".to_owned(), Value::Null)
        ]
    );
    fake.assert_signed_correctly();
    Ok(())
}

#[tokio::test]
async fn ovh_capabilities_and_availability_map_mongodb() -> Result<()> {
    let fake = FakeOvh::start().await;
    fake.on(
        "GET",
        "P/capabilities",
        "P/capabilities",
        ok(capabilities_2024()),
    );
    fake.on(
        "GET",
        "P/availability",
        "P/availability",
        ok(availability_2024()),
    );
    let api = fake.api(IpRestrictionMode::default());
    let capabilities = api.capabilities().await?;
    assert_eq!(capabilities.engines.len(), 1);
    assert_eq!(capabilities.engines[0].versions, ["6.0", "7.0"]);
    assert_eq!(capabilities.defaults.plan, "business");
    assert_eq!(capabilities.defaults.region, "GRA");
    let plans: Vec<_> = capabilities
        .plans
        .iter()
        .map(|p| (p.name.as_str(), p.node_count))
        .collect();
    assert_eq!(plans, [("essential", 1), ("business", 3)]);
    let regions: Vec<_> = capabilities
        .regions
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(regions, ["GRA", "SBG"]);
    assert_eq!(capabilities.flavors[0].name, "db1-4");
    let availability = api.availability().await?;
    assert_eq!(availability.len(), 2, "{availability:?}");
    assert!(availability.iter().all(|a| a.engine == "mongodb"));
    assert_eq!(
        (availability[1].min_nodes, availability[1].max_nodes),
        (3, 8)
    );
    Ok(())
}

fn capabilities_2024() -> Value {
    let lifecycle = json!({"startDate": "2024-01-01", "status": "STABLE", "endOfLife": null, "endOfSale": null});
    json!({
        "disks": ["high-speed"],
        "engines": [
            {"name": "postgresql", "defaultVersion": "16", "versions": ["16"], "description": "PostgreSQL",
             "sslModes": ["require"], "category": "operational", "storage": "replicated"},
            {"name": "mongodb", "defaultVersion": "7.0", "versions": ["6.0", "7.0"], "description": "MongoDB",
             "sslModes": ["required"], "category": "operational", "storage": "replicated"}
        ],
        "flavors": [{"name": "db1-4", "core": 1, "memory": 4, "storage": 20, "order": 1,
                     "lifecycle": lifecycle, "tags": [],
                     "specifications": {"core": 1, "memory": {"unit": "GB", "value": 4},
                                        "storage": {"unit": "GB", "value": 20}}}],
        "options": [],
        "plans": [
            {"name": "essential", "description": "1 node", "backupRetention": "P1D", "order": 1,
             "lifecycle": lifecycle, "tags": []},
            {"name": "business", "description": "3 nodes", "backupRetention": "P7D", "order": 2,
             "lifecycle": lifecycle, "tags": []}
        ],
        "regions": ["GRA", "SBG"]
    })
}

fn availability_2024() -> Value {
    let entry = |engine: &str, plan: &str, min: u32, max: u32, default: bool| {
        json!({
            "engine": engine, "version": "7.0", "plan": plan, "flavor": "db1-4", "region": "GRA",
            "network": "public", "minNodeNumber": min, "maxNodeNumber": max, "default": default,
            "backup": "automatic", "backupRetentionDays": 2, "category": "operational",
            "startDate": "2024-01-01", "endOfLife": null, "upstreamEndOfLife": null,
            "status": "STABLE", "minDiskSize": 20, "maxDiskSize": 20, "stepDiskSize": 0,
            "backups": {"available": true, "retentionDays": 2},
            "lifecycle": {"startDate": "2024-01-01", "status": "STABLE", "endOfLife": null, "endOfSale": null},
            "specifications": {"flavor": "db1-4", "network": "public",
                               "nodes": {"minimum": min, "maximum": max}, "storage": null}
        })
    };
    json!([
        entry("mongodb", "essential", 1, 1, false),
        entry("postgresql", "business", 2, 3, false),
        entry("mongodb", "business", 3, 8, true),
    ])
}

// ---------------------------------------------------------------------------------------------
// Users.

#[tokio::test]
async fn ovh_credential_lifecycle_uses_user_ids_and_valid_bodies() -> Result<()> {
    let fake = FakeOvh::start().await;
    let schema = OvhSchema::load_2024();
    let users = format!("P/mongodb/{CLUSTER}/user");
    let user = format!("{users}/{USER}");
    let roles = ["readWrite@orders", "read@reports"];
    fake.on(
        "POST",
        "P/mongodb/{clusterId}/user",
        &users,
        ok(user_reply(
            USER,
            "app",
            &roles,
            "CREATING",
            Some("Gener4tedPassw0rd"),
        )),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/user/{userId}",
        &user,
        ok(user_reply(USER, "app", &roles, "READY", None)),
    );
    fake.on(
        "PUT",
        "P/mongodb/{clusterId}/user/{userId}",
        &user,
        ok(user_reply(USER, "app", &["read@orders"], "UPDATING", None)),
    );
    fake.on(
        "POST",
        "P/mongodb/{clusterId}/user/{userId}/credentials/reset",
        &format!("{user}/credentials/reset"),
        ok(user_reply(
            USER,
            "app",
            &["read@orders"],
            "READY",
            Some("N3wGener4ted"),
        )),
    );
    fake.on(
        "DELETE",
        "P/mongodb/{clusterId}/user/{userId}",
        &user,
        ok(Value::Null),
    );
    let api = fake.api(IpRestrictionMode::default());

    let spec = CredentialSpec {
        username: "app".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        password: None,
    };
    let created = api.create_credential(CLUSTER, &spec).await?;
    assert_eq!(created.username, "app");
    assert_eq!(created.status.phase, Phase::Pending);
    assert_eq!(
        created.password.as_ref().map(|p| p.expose_secret()),
        Some("Gener4tedPassw0rd")
    );
    let read = api.get_credential(CLUSTER, "app").await?;
    assert_eq!(read.roles, roles);
    assert!(read.password.is_none());
    let changed = api
        .update_credential_roles(CLUSTER, "app", &["read@orders".into()])
        .await?;
    assert_eq!(changed.roles, ["read@orders"]);
    let reset = api.reset_credential_password(CLUSTER, "app", None).await?;
    assert_eq!(
        reset.password.as_ref().map(|p| p.expose_secret()),
        Some("N3wGener4ted")
    );
    api.delete_credential(CLUSTER, "app").await?;

    // The id came from the create reply: no user listing was ever needed.
    let seen = fake.seen();
    let calls: Vec<_> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path.replace(&project_prefix(), "P")))
        .collect();
    assert_eq!(
        calls,
        [
            format!("POST P/mongodb/{CLUSTER}/user"),
            format!("GET P/mongodb/{CLUSTER}/user/{USER}"),
            format!("PUT P/mongodb/{CLUSTER}/user/{USER}"),
            format!("POST P/mongodb/{CLUSTER}/user/{USER}/credentials/reset"),
            format!("DELETE P/mongodb/{CLUSTER}/user/{USER}"),
        ]
    );
    assert_eq!(seen[0].body, json!({"name": "app", "roles": roles}));
    assert_body_conforms(&schema, &seen[0], "P/mongodb/{clusterId}/user");
    assert_eq!(seen[2].body, json!({"roles": ["read@orders"]}));
    assert_body_conforms(&schema, &seen[2], "P/mongodb/{clusterId}/user/{userId}");
    assert_eq!(seen[3].body, Value::Null);
    assert_eq!(seen[3].content_type, None);
    assert_body_conforms(
        &schema,
        &seen[3],
        "P/mongodb/{clusterId}/user/{userId}/credentials/reset",
    );
    fake.assert_signed_correctly();
    Ok(())
}

#[tokio::test]
async fn ovh_credential_ids_are_found_by_listing_users() -> Result<()> {
    let fake = FakeOvh::start().await;
    let users = format!("P/mongodb/{CLUSTER}/user");
    let admin = "11111111-2222-4333-8444-555555555555";
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/user",
        &users,
        ok(json!([admin, USER])),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/user/{userId}",
        &format!("{users}/{admin}"),
        ok(user_reply(admin, "admin", &["root@admin"], "READY", None)),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/user/{userId}",
        &format!("{users}/{USER}"),
        ok(user_reply(USER, "app", &["read@orders"], "READY", None)),
    );
    fake.on(
        "POST",
        "P/mongodb/{clusterId}/user/{userId}/credentials/reset",
        &format!("{users}/{USER}/credentials/reset"),
        ok(user_reply(
            USER,
            "app",
            &["read@orders"],
            "READY",
            Some("Fr3sh"),
        )),
    );
    let api = fake.api(IpRestrictionMode::default());
    let listed = api.list_credentials(CLUSTER).await?;
    let names: Vec<_> = listed.iter().map(|c| c.username.as_str()).collect();
    assert_eq!(names, ["admin", "app"]);
    fake.clear_seen();
    // The listing filled the cache: the reset goes straight to the id.
    api.reset_credential_password(CLUSTER, "app", None).await?;
    assert_eq!(fake.seen().len(), 1);
    // A fresh client finds the id by listing.
    let fresh = fake.api(IpRestrictionMode::default());
    fake.clear_seen();
    let credential = fresh.get_credential(CLUSTER, "app").await?;
    assert_eq!(credential.roles, ["read@orders"]);
    assert_eq!(
        fake.seen()[0].path,
        format!("{}/mongodb/{CLUSTER}/user", project_prefix())
    );
    let error = fresh.get_credential(CLUSTER, "nobody").await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    // Deleting someone who is not there is done.
    fresh.delete_credential(CLUSTER, "nobody").await?;
    Ok(())
}

#[tokio::test]
async fn ovh_stale_user_id_is_looked_up_again() -> Result<()> {
    let fake = FakeOvh::start().await;
    let users = format!("P/mongodb/{CLUSTER}/user");
    let old_id = "00000000-0000-4000-8000-0000000000aa";
    fake.on(
        "POST",
        "P/mongodb/{clusterId}/user",
        &users,
        ok(user_reply(old_id, "app", &[], "CREATING", Some("x"))),
    );
    let api = fake.api(IpRestrictionMode::default());
    api.create_credential(
        CLUSTER,
        &CredentialSpec {
            username: "app".into(),
            ..CredentialSpec::default()
        },
    )
    .await?;
    // The user was re-created elsewhere with a new id; the old one is gone (unscripted → 404).
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/user",
        &users,
        ok(json!([USER])),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/user/{userId}",
        &format!("{users}/{USER}"),
        ok(user_reply(USER, "app", &["read@orders"], "READY", None)),
    );
    fake.on(
        "PUT",
        "P/mongodb/{clusterId}/user/{userId}",
        &format!("{users}/{USER}"),
        ok(user_reply(USER, "app", &["read@x"], "UPDATING", None)),
    );
    let changed = api
        .update_credential_roles(CLUSTER, "app", &["read@x".into()])
        .await?;
    assert_eq!(changed.roles, ["read@x"]);
    let puts: Vec<_> = fake
        .writes()
        .into_iter()
        .filter(|s| s.method == "PUT")
        .map(|s| s.path)
        .collect();
    assert_eq!(
        puts.len(),
        2,
        "first to the stale id, then to the new one: {puts:?}"
    );
    assert!(
        puts[0].ends_with(old_id) && puts[1].ends_with(USER),
        "{puts:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// IP restrictions.

#[tokio::test]
async fn ovh_ip_restrictions_in_service_list_mode_rewrite_the_list() -> Result<()> {
    let fake = FakeOvh::start().await;
    let schema = OvhSchema::load_2024();
    let mut service = service_2024("a", "READY");
    service["ipRestrictions"] =
        json!([{"ip": "198.51.100.0/24", "description": "office", "status": "READY"}]);
    *fake.state.stateful_service.lock().unwrap() =
        Some((format!("{}/mongodb/{CLUSTER}", project_prefix()), service));
    let api = fake.api(IpRestrictionMode::ServiceList);

    let created = api
        .create_ip_restriction(
            CLUSTER,
            &IpRestrictionSpec {
                cidr: "203.0.113.7".into(),
                description: Some("ci".into()),
            },
        )
        .await?;
    assert_eq!(created.cidr, "203.0.113.7/32");
    assert_eq!(created.description.as_deref(), Some("ci"));
    let put = fake.writes().remove(0);
    assert_eq!(
        put.body,
        json!({"ipRestrictions": [
            {"ip": "198.51.100.0/24", "description": "office"},
            {"ip": "203.0.113.7/32", "description": "ci"}
        ]})
    );
    assert_body_conforms(&schema, &put, "P/mongodb/{clusterId}");

    let duplicate = api
        .create_ip_restriction(
            CLUSTER,
            &IpRestrictionSpec {
                cidr: "203.0.113.7/32".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    assert!(duplicate.is_conflict(), "{duplicate:?}");

    let read = api.get_ip_restriction(CLUSTER, "203.0.113.7").await?;
    assert_eq!(read.status.phase, Phase::Ready);
    let updated = api
        .update_ip_restriction(CLUSTER, "203.0.113.7/32", None)
        .await?;
    assert_eq!(updated.description, None);
    assert_eq!(api.list_ip_restrictions(CLUSTER).await?.len(), 2);

    fake.clear_seen();
    api.delete_ip_restriction(CLUSTER, "198.51.100.0/24")
        .await?;
    let put = fake.writes().remove(0);
    assert_eq!(
        put.body,
        json!({"ipRestrictions": [{"ip": "203.0.113.7/32"}]})
    );
    assert_body_conforms(&schema, &put, "P/mongodb/{clusterId}");
    fake.clear_seen();
    api.delete_ip_restriction(CLUSTER, "198.51.100.0/24")
        .await?;
    assert!(fake.writes().is_empty(), "nothing to remove: no write");
    let gone = api
        .get_ip_restriction(CLUSTER, "198.51.100.0/24")
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone:?}");
    fake.assert_signed_correctly();
    Ok(())
}

#[tokio::test]
async fn ovh_parallel_ip_restriction_creates_do_not_lose_entries() -> Result<()> {
    let fake = FakeOvh::start().await;
    *fake.state.stateful_service.lock().unwrap() = Some((
        format!("{}/mongodb/{CLUSTER}", project_prefix()),
        service_2024("a", "READY"),
    ));
    let api = fake.api(IpRestrictionMode::ServiceList);
    let creates = (0..12).map(|n| {
        let api = api.clone();
        tokio::spawn(async move {
            api.create_ip_restriction(
                CLUSTER,
                &IpRestrictionSpec {
                    cidr: format!("10.0.{n}.0/24"),
                    description: None,
                },
            )
            .await
        })
    });
    for create in futures::future::join_all(creates).await {
        create??;
    }
    let listed = api.list_ip_restrictions(CLUSTER).await?;
    assert_eq!(listed.len(), 12, "{listed:?}");
    Ok(())
}

#[tokio::test]
async fn ovh_ip_restrictions_in_legacy_mode_use_the_ip_block_endpoints() -> Result<()> {
    let fake = FakeOvh::start().await;
    let schema = OvhSchema::load_2021();
    let list = format!("P/mongodb/{CLUSTER}/ipRestriction");
    let one = format!("{list}/10.0.0.0%2F24");
    let entry = |description: &str, status: &str| {
        ok(json!({"ip": "10.0.0.0/24", "description": description, "status": status}))
    };
    fake.on(
        "POST",
        "P/mongodb/{clusterId}/ipRestriction",
        &list,
        entry("office", "PENDING"),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/ipRestriction",
        &list,
        ok(json!(["10.0.0.0/24"])),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}/ipRestriction/{ipBlock}",
        &one,
        entry("office", "READY"),
    );
    fake.on(
        "PUT",
        "P/mongodb/{clusterId}/ipRestriction/{ipBlock}",
        &one,
        entry("", "UPDATING"),
    );
    fake.on(
        "DELETE",
        "P/mongodb/{clusterId}/ipRestriction/{ipBlock}",
        &one,
        ok(Value::Null),
    );
    let api = fake.api(IpRestrictionMode::Legacy);
    let created = api
        .create_ip_restriction(
            CLUSTER,
            &IpRestrictionSpec {
                cidr: "10.0.0.0/24".into(),
                description: Some("office".into()),
            },
        )
        .await?;
    assert_eq!(created.status.raw, "PENDING");
    let read = api.get_ip_restriction(CLUSTER, "10.0.0.0/24").await?;
    assert_eq!(read.description.as_deref(), Some("office"));
    assert_eq!(api.list_ip_restrictions(CLUSTER).await?.len(), 1);
    let cleared = api
        .update_ip_restriction(CLUSTER, "10.0.0.0/24", None)
        .await?;
    assert_eq!(cleared.description, None);
    api.delete_ip_restriction(CLUSTER, "10.0.0.0/24").await?;
    // Already gone (unscripted block → 404): still done.
    api.delete_ip_restriction(CLUSTER, "10.9.0.0/16").await?;

    let writes = fake.writes();
    assert_eq!(
        writes[0].body,
        json!({"ip": "10.0.0.0/24", "description": "office"})
    );
    assert_body_conforms(&schema, &writes[0], "P/mongodb/{clusterId}/ipRestriction");
    assert_eq!(writes[1].method, "PUT");
    assert!(
        writes[1].path.ends_with("/ipRestriction/10.0.0.0%2F24"),
        "{writes:?}"
    );
    assert_eq!(writes[1].body, json!({"description": ""}));
    assert_body_conforms(
        &schema,
        &writes[1],
        "P/mongodb/{clusterId}/ipRestriction/{ipBlock}",
    );
    fake.assert_signed_correctly();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Errors.

#[tokio::test]
async fn ovh_errors_map_to_domain_errors_with_class_and_query_id() -> Result<()> {
    let fake = FakeOvh::start().await;
    let path = format!("P/mongodb/{CLUSTER}");
    fake.on(
        "PUT",
        "P/mongodb/{clusterId}",
        &path,
        fail(
            409,
            "Client::Conflict::ServiceNotReady",
            "The service is not ready",
        ),
    );
    fake.on(
        "GET",
        "P/mongodb/{clusterId}",
        &path,
        fail(
            404,
            "Client::NotFound::ServiceNotFound",
            "This service does not exist",
        ),
    );
    fake.on(
        "POST",
        "P/mongodb",
        "P/mongodb",
        fail(
            404,
            "Client::NotFound::FlavorNameNotFound",
            "Flavor not found",
        ),
    );
    let api = fake.api(IpRestrictionMode::default());
    let busy = api
        .update_database(
            CLUSTER,
            &DatabaseChanges {
                plan: Some("business".into()),
                ..DatabaseChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(busy.is_busy(), "{busy:?}");
    assert_eq!(
        busy.api_message(),
        "The service is not ready (Client::Conflict::ServiceNotReady; X-Ovh-QueryID EU.ext-1.test.42)"
    );
    let missing = api.get_database(CLUSTER).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let missing_ip = api
        .create_ip_restriction(
            CLUSTER,
            &IpRestrictionSpec {
                cidr: "10.0.0.0/8".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        missing_ip.is_not_found(),
        "the service read fails first: {missing_ip:?}"
    );
    let bad_flavor = api.create_database(&database_spec()).await.unwrap_err();
    assert!(
        matches!(&bad_flavor, Error::Invalid { field: Some(f), .. } if f == "flavor"),
        "{bad_flavor:?}"
    );
    Ok(())
}

#[tokio::test]
async fn ovh_wrong_secret_gets_the_auth_error() -> Result<()> {
    let fake = FakeOvh::start().await;
    fake.on("GET", "P/mongodb", "P/mongodb", ok(json!([])));
    let api = api_for(
        &fake.base_url,
        IpRestrictionMode::default(),
        "not-the-secret",
    );
    let error = api.list_databases(None).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert_eq!(
        error.api_message(),
        "Invalid signature (INVALID_SIGNATURE; X-Ovh-QueryID EU.ext-1.auth.1)"
    );
    assert!(!error.to_string().contains("not-the-secret"));
    Ok(())
}

#[tokio::test]
async fn ovh_busy_ip_restriction_write_is_busy() -> Result<()> {
    let fake = FakeOvh::start().await;
    let path = format!("P/mongodb/{CLUSTER}");
    fake.on(
        "GET",
        "P/mongodb/{clusterId}",
        &path,
        ok(service_2024("a", "UPDATING")),
    );
    fake.on(
        "PUT",
        "P/mongodb/{clusterId}",
        &path,
        fail(
            409,
            "Client::Conflict::ServiceNotReady",
            "The service is not ready",
        ),
    );
    let error = fake
        .api(IpRestrictionMode::ServiceList)
        .create_ip_restriction(
            CLUSTER,
            &IpRestrictionSpec {
                cidr: "10.0.0.0/8".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    assert!(error.is_busy(), "{error:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// End to end against dbaas-local's OVH dialect (`/ovh/1.0`), with the provider's waiter.

mod dialect {
    use std::future::Future;

    use dbaas::api::{Availability, Credential, Database, IpRestriction, PollGuidance, Status};
    use dbaas::local::{Config, OvhDialect, RunningService, TokenSource};
    use dbaas::provider::wait::{
        DeleteEnd, WaitError, WaitPolicy, retry_while_busy, until_gone, until_ready,
    };
    use tokio_util::sync::CancellationToken;

    use super::*;

    const TOKEN: &str = "native-token-0123";

    /// dbaas-local with the OVH dialect configured, and its data directory.
    pub(super) struct Harness {
        service: RunningService,
        _data_dir: tempfile::TempDir,
    }

    impl Harness {
        /// A service whose transitions take 1 s: long enough that a test acting right after a
        /// change still finds the service busy on a slow machine.
        pub(super) async fn start() -> Result<Self> {
            Self::start_with_delay(Duration::from_secs(1)).await
        }

        pub(super) async fn start_with_delay(provision_delay: Duration) -> Result<Self> {
            let data_dir = tempfile::tempdir()?;
            let service = dbaas::local::start(Config {
                listen: "127.0.0.1:0".parse()?,
                data_dir: data_dir.path().to_path_buf(),
                token: TokenSource::Given(SecretString::from(TOKEN)),
                provision_delay,
                compose: None,
                ovh: Some(OvhDialect {
                    application_key: APPLICATION_KEY.to_owned(),
                    application_secret: SecretString::from(APPLICATION_SECRET),
                    consumer_key: SecretString::from(CONSUMER_KEY),
                    service_name: PROJECT.to_owned(),
                }),
                globo: None,
                goaddon: None,
                databaselabs: None,
                postgres: Default::default(),
            })
            .await?;
            Ok(Self {
                service,
                _data_dir: data_dir,
            })
        }

        pub(super) fn endpoint(&self) -> String {
            format!("{}/ovh/1.0", self.service.base_url())
        }

        pub(super) fn api(&self, mode: IpRestrictionMode) -> OvhApi {
            api_for(&self.endpoint(), mode, APPLICATION_SECRET).with_poll_guidance(PollGuidance {
                min_interval: Duration::from_millis(50),
                max_interval: Duration::from_millis(200),
            })
        }

        /// A native admin call (bearer token), outside the client under test.
        pub(super) async fn native(&self, method: reqwest::Method, path: &str) -> Result<Value> {
            let response = reqwest::Client::new()
                .request(method, format!("{}{path}", self.service.base_url()))
                .bearer_auth(TOKEN)
                .send()
                .await?;
            anyhow::ensure!(response.status().is_success(), "{path}: {response:?}");
            Ok(response.json().await?)
        }

        /// The native id of the database the OVH dialect calls `name`.
        pub(super) async fn native_id(&self, name: &str) -> Result<String> {
            let list = self.native(reqwest::Method::GET, "/v1/databases").await?;
            list["databases"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|db| db["name"] == name)
                .and_then(|db| db["id"].as_str())
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("no native database named {name}: {list}"))
        }

        pub(super) async fn stop(self) {
            self.service.shutdown().await;
        }
    }

    pub(super) fn policy(api: &OvhApi) -> WaitPolicy {
        WaitPolicy::from_guidance(&api.poll_guidance(), Duration::from_secs(120))
    }

    fn database_status(database: &Database) -> &Status {
        &database.status
    }

    fn credential_status(credential: &Credential) -> &Status {
        &credential.status
    }

    fn restriction_status(restriction: &IpRestriction) -> &Status {
        &restriction.status
    }

    pub(super) async fn ready<T, F, Fut>(
        api: &OvhApi,
        what: &str,
        status: fn(&T) -> &Status,
        mut get: F,
    ) -> Result<T>
    where
        T: Clone,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let cancel = CancellationToken::new();
        until_ready(what, &policy(api), &cancel, status, None, |_| get())
            .await
            .map_err(|(_, error)| anyhow::anyhow!("{error}"))
    }

    pub(super) async fn ready_database(api: &OvhApi, id: &str) -> Result<Database> {
        ready(api, "database", database_status, || api.get_database(id)).await
    }

    pub(super) async fn busy_retry<T, F, Fut>(
        api: &OvhApi,
        what: &str,
        attempt: F,
    ) -> Result<T, WaitError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        retry_while_busy(what, &policy(api), &CancellationToken::new(), attempt).await
    }

    /// A business-plan MongoDB combination the dialect offers.
    pub(super) async fn orderable(api: &OvhApi) -> Result<Availability> {
        let availability = api.availability().await?;
        availability
            .into_iter()
            .find(|a| a.plan == "business" && a.min_nodes >= 3)
            .ok_or_else(|| anyhow::anyhow!("the dialect offers no business MongoDB"))
    }

    pub(super) async fn create_ready(api: &OvhApi, name: &str) -> Result<Database> {
        let offer = orderable(api).await?;
        let created = api
            .create_database(&DatabaseSpec {
                name: name.to_owned(),
                engine: Some("mongodb".into()),
                version: Some(offer.version.clone()),
                plan: Some(offer.plan.clone()),
                flavor: Some(offer.flavor.clone()),
                region: Some(offer.region.clone()),
                node_count: Some(offer.min_nodes),
                ..DatabaseSpec::default()
            })
            .await?;
        ready_database(api, &created.id).await
    }

    #[tokio::test]
    async fn ovh_dialect_database_crud_with_waits() -> Result<()> {
        let harness = Harness::start().await?;
        let api = harness.api(IpRestrictionMode::default());
        let capabilities = api.capabilities().await?;
        assert_eq!(capabilities.engines.len(), 1, "{capabilities:?}");
        assert_eq!(capabilities.engines[0].name, "mongodb");
        let offer = orderable(&api).await?;
        assert!(capabilities.plans.iter().any(|p| p.name == offer.plan));
        assert!(capabilities.regions.iter().any(|r| r.name == offer.region));
        assert!(capabilities.flavors.iter().any(|f| f.name == offer.flavor));

        let created = api
            .create_database(&DatabaseSpec {
                name: "orders".into(),
                plan: Some(offer.plan.clone()),
                flavor: Some(offer.flavor.clone()),
                region: Some(offer.region.clone()),
                node_count: Some(offer.min_nodes),
                ..DatabaseSpec::default()
            })
            .await?;
        assert_eq!(created.status.raw, "CREATING");
        assert_eq!(created.status.phase, Phase::Pending);
        let engine = capabilities.engine("mongodb").unwrap();
        assert_eq!(created.version, engine.default_version, "version defaulted");
        let database = ready_database(&api, &created.id).await?;
        assert_eq!(database.name, "orders");
        assert_eq!(database.engine, "mongodb");
        assert_eq!(database.plan, offer.plan);
        assert_eq!(database.region, offer.region);
        assert_eq!(database.flavor.as_deref(), Some(offer.flavor.as_str()));
        assert_eq!(database.node_count, Some(offer.min_nodes));
        assert!(
            database
                .endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("mongodb")),
            "{database:?}"
        );
        assert!(!database.created_at.is_empty());

        let listed = api.list_databases(Some("ord")).await?;
        assert_eq!(
            listed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            [created.id.as_str()]
        );
        assert!(api.list_databases(Some("zzz")).await?.is_empty());

        let grow = DatabaseChanges {
            node_count: Some(offer.min_nodes + 1),
            ..DatabaseChanges::default()
        };
        let updating = api.update_database(&created.id, &grow).await?;
        assert_eq!(updating.status.phase, Phase::Pending, "{updating:?}");
        let busy = api
            .update_database(
                &created.id,
                &DatabaseChanges {
                    node_count: Some(offer.min_nodes),
                    ..DatabaseChanges::default()
                },
            )
            .await
            .unwrap_err();
        assert!(busy.is_busy(), "{busy:?}");
        assert!(
            busy.api_message()
                .contains("Client::Conflict::ServiceNotReady"),
            "{busy}"
        );
        assert!(busy.api_message().contains("X-Ovh-QueryID"), "{busy}");
        let grown = ready_database(&api, &created.id).await?;
        assert_eq!(grown.node_count, Some(offer.min_nodes + 1));

        api.delete_database(&created.id).await?;
        until_gone(
            "database to be deleted",
            &policy(&api),
            &CancellationToken::new(),
            DeleteEnd::Gone,
            database_status,
            || api.get_database(&created.id),
        )
        .await?;
        api.delete_database(&created.id).await?;
        assert!(
            api.get_database(&created.id)
                .await
                .unwrap_err()
                .is_not_found()
        );
        harness.stop().await;
        Ok(())
    }

    #[tokio::test]
    async fn ovh_dialect_locked_service_is_busy() -> Result<()> {
        let harness = Harness::start().await?;
        let api = harness.api(IpRestrictionMode::default());
        let database = create_ready(&api, "locked").await?;
        let native = harness.native_id("locked").await?;
        harness
            .native(
                reqwest::Method::POST,
                &format!("/v1/_admin/databases/{native}/lock"),
            )
            .await?;
        let locked = api.get_database(&database.id).await?;
        assert!(locked.status.raw.starts_with("LOCKED"), "{locked:?}");
        assert_eq!(locked.status.phase, Phase::Pending);
        let error = api
            .update_database(
                &database.id,
                &DatabaseChanges {
                    plan: Some("enterprise".into()),
                    ..DatabaseChanges::default()
                },
            )
            .await
            .unwrap_err();
        assert!(error.is_busy(), "{error:?}");
        assert!(error.api_message().contains("ServiceLocked"), "{error}");
        harness
            .native(
                reqwest::Method::DELETE,
                &format!("/v1/_admin/databases/{native}/lock"),
            )
            .await?;
        assert_eq!(
            api.get_database(&database.id).await?.status.phase,
            Phase::Ready
        );
        harness.stop().await;
        Ok(())
    }

    #[tokio::test]
    async fn ovh_dialect_user_create_roles_reset_delete() -> Result<()> {
        let harness = Harness::start().await?;
        let api = harness.api(IpRestrictionMode::default());
        let database = create_ready(&api, "users").await?;
        let db = database.id.as_str();
        let created = api
            .create_credential(
                db,
                &CredentialSpec {
                    username: "app".into(),
                    roles: vec!["readWrite@orders".into()],
                    password: None,
                },
            )
            .await?;
        assert_eq!(created.username, "app");
        let first = created.password.clone().expect("a generated password");
        assert!(!first.expose_secret().is_empty());
        let user = ready(&api, "user", credential_status, || {
            api.get_credential(db, "app")
        })
        .await?;
        assert_eq!(user.roles, ["readWrite@orders"]);
        assert!(user.password.is_none());

        let fresh = harness.api(IpRestrictionMode::default());
        let names: Vec<String> = fresh
            .list_credentials(db)
            .await?
            .into_iter()
            .map(|c| c.username)
            .collect();
        assert!(names.contains(&"app".to_owned()), "{names:?}");

        let roles: Vec<String> = vec!["read@orders".into(), "read@reports".into()];
        let changed = busy_retry(&api, "roles", || {
            api.update_credential_roles(db, "app", &roles)
        })
        .await?;
        assert_eq!(changed.roles, ["read@orders", "read@reports"]);
        ready(&api, "user", credential_status, || {
            api.get_credential(db, "app")
        })
        .await?;
        // A fresh client has no cached id: it finds the user by listing.
        let reset = busy_retry(&fresh, "reset", || {
            fresh.reset_credential_password(db, "app", None)
        })
        .await?;
        let second = reset.password.expect("a new password");
        assert_ne!(second.expose_secret(), first.expose_secret());

        busy_retry(&api, "delete user", || api.delete_credential(db, "app")).await?;
        until_gone(
            "user to be deleted",
            &policy(&api),
            &CancellationToken::new(),
            DeleteEnd::Gone,
            credential_status,
            || api.get_credential(db, "app"),
        )
        .await?;
        api.delete_credential(db, "app").await?;
        harness.stop().await;
        Ok(())
    }

    async fn ip_restrictions_scenario(mode: IpRestrictionMode) -> Result<()> {
        let harness = Harness::start().await?;
        let api = harness.api(mode);
        let database = create_ready(&api, "networks").await?;
        let db = database.id.as_str();
        let office = IpRestrictionSpec {
            cidr: "198.51.100.0/24".into(),
            description: Some("office".into()),
        };
        let created = api.create_ip_restriction(db, &office).await?;
        assert_eq!(created.cidr, "198.51.100.0/24");
        assert_eq!(created.description.as_deref(), Some("office"));
        // The service is busy applying the first change.
        let runner = IpRestrictionSpec {
            cidr: "203.0.113.7".into(),
            description: None,
        };
        let busy = api.create_ip_restriction(db, &runner).await.unwrap_err();
        assert!(busy.is_busy(), "{mode:?}: {busy:?}");
        let second = busy_retry(&api, "second restriction", || {
            api.create_ip_restriction(db, &runner)
        })
        .await?;
        assert_eq!(second.cidr, "203.0.113.7/32");
        let duplicate = busy_retry(&api, "duplicate", || api.create_ip_restriction(db, &office))
            .await
            .unwrap_err();
        assert!(
            matches!(&duplicate, WaitError::Api(error) if error.is_conflict()),
            "{mode:?}: {duplicate:?}"
        );
        let read = ready(&api, "restriction", restriction_status, || {
            api.get_ip_restriction(db, "203.0.113.7/32")
        })
        .await?;
        assert_eq!(read.description, None);
        let mut listed: Vec<String> = api
            .list_ip_restrictions(db)
            .await?
            .into_iter()
            .map(|r| r.cidr)
            .collect();
        listed.sort();
        assert_eq!(listed, ["198.51.100.0/24", "203.0.113.7/32"]);
        let described = busy_retry(&api, "describe", || {
            api.update_ip_restriction(db, "203.0.113.7/32", Some("ci runner"))
        })
        .await?;
        assert_eq!(described.description.as_deref(), Some("ci runner"));
        busy_retry(&api, "remove", || {
            api.delete_ip_restriction(db, "198.51.100.0/24")
        })
        .await?;
        until_gone(
            "restriction to be removed",
            &policy(&api),
            &CancellationToken::new(),
            DeleteEnd::Gone,
            restriction_status,
            || api.get_ip_restriction(db, "198.51.100.0/24"),
        )
        .await?;
        api.delete_ip_restriction(db, "198.51.100.0/24").await?;
        let remaining: Vec<String> = api
            .list_ip_restrictions(db)
            .await?
            .into_iter()
            .map(|r| r.cidr)
            .collect();
        assert_eq!(remaining, ["203.0.113.7/32"]);
        harness.stop().await;
        Ok(())
    }

    #[tokio::test]
    async fn ovh_dialect_ip_restrictions_in_service_list_mode() -> Result<()> {
        ip_restrictions_scenario(IpRestrictionMode::ServiceList).await
    }

    #[tokio::test]
    async fn ovh_dialect_ip_restrictions_in_legacy_mode() -> Result<()> {
        ip_restrictions_scenario(IpRestrictionMode::Legacy).await
    }

    #[tokio::test]
    async fn ovh_dialect_wrong_keys_get_ovh_auth_errors() -> Result<()> {
        let harness = Harness::start().await?;
        let wrong_secret = api_for(&harness.endpoint(), IpRestrictionMode::default(), "wrong");
        let error = wrong_secret.list_databases(None).await.unwrap_err();
        assert!(
            matches!(error, Error::Unauthorized { .. } | Error::Forbidden { .. }),
            "{error:?}"
        );
        assert!(error.api_message().contains("INVALID_SIGNATURE"), "{error}");
        assert!(!error.to_string().contains("wrong"), "{error}");
        let unknown_key = OvhApi::new(
            OvhConfig {
                endpoint: harness.endpoint(),
                application_key: "someone-else".into(),
                application_secret: SecretString::from(APPLICATION_SECRET),
                consumer_key: SecretString::from(CONSUMER_KEY),
                service_name: PROJECT.into(),
                ip_restriction_mode: IpRestrictionMode::default(),
            },
            fast_tuning(),
        )?;
        let error = unknown_key.list_databases(None).await.unwrap_err();
        assert!(matches!(error, Error::Forbidden { .. }), "{error:?}");
        assert!(error.api_message().contains("INVALID_KEY"), "{error}");
        // The right keys, another project: OVH's not-found.
        let other_project = OvhApi::new(
            OvhConfig {
                endpoint: harness.endpoint(),
                application_key: APPLICATION_KEY.into(),
                application_secret: SecretString::from(APPLICATION_SECRET),
                consumer_key: SecretString::from(CONSUMER_KEY),
                service_name: "another-project".into(),
                ip_restriction_mode: IpRestrictionMode::default(),
            },
            fast_tuning(),
        )?;
        let error = other_project.list_databases(None).await.unwrap_err();
        assert!(error.is_not_found(), "{error:?}");
        harness.stop().await;
        Ok(())
    }

    #[tokio::test]
    async fn ovh_dialect_fifty_parallel_ip_restrictions_all_land() -> Result<()> {
        let harness = Harness::start_with_delay(Duration::from_millis(100)).await?;
        let api = harness.api(IpRestrictionMode::ServiceList);
        let database = create_ready(&api, "crowded").await?;
        let creates = (0..50).map(|n| {
            let api = api.clone();
            let db = database.id.clone();
            tokio::spawn(async move {
                let spec = IpRestrictionSpec {
                    cidr: format!("10.{n}.0.0/16"),
                    description: Some(format!("network {n}")),
                };
                busy_retry(&api, "restriction", || {
                    api.create_ip_restriction(&db, &spec)
                })
                .await
            })
        });
        for create in futures::future::join_all(creates).await {
            create??;
        }
        let listed = api.list_ip_restrictions(&database.id).await?;
        assert_eq!(listed.len(), 50);
        for n in 0..50 {
            let cidr = format!("10.{n}.0.0/16");
            let found = listed.iter().find(|r| r.cidr == cidr);
            assert_eq!(
                found.and_then(|r| r.description.clone()),
                Some(format!("network {n}")),
                "{cidr}"
            );
        }
        harness.stop().await;
        Ok(())
    }
}
