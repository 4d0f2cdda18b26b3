//! dbaas-local end to end: the native API over HTTP (in-process via `start`) and the real binary
//! (durability across `kill -9`, clean exit on SIGTERM, `--help`).
//!
//! Waiting for lifecycle transitions polls with a generous hang guard; no assertion depends on
//! how long anything takes.

#[path = "support/openapi.rs"]
mod openapi;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dbaas::local::{self, Config, PostgresBacking, RunningService, TokenSource};
use reqwest::{Client, Method, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

/// Longest a test waits for something that should happen "soon"; only a hang guard.
const HANG_GUARD: Duration = Duration::from_secs(60);
const POLL_EVERY: Duration = Duration::from_millis(25);

struct Local {
    service: RunningService,
    client: Client,
    base: String,
    /// The service's token (given, or the one it made), sent on every call.
    token: String,
    _dir: Option<tempfile::TempDir>,
}

async fn start_local(delay: Duration, token: Option<&str>) -> Result<Local> {
    let dir = tempfile::tempdir()?;
    let mut local = start_in(dir.path(), delay, token).await?;
    local._dir = Some(dir);
    Ok(local)
}

async fn start_in(data_dir: &Path, delay: Duration, token: Option<&str>) -> Result<Local> {
    start_backed(data_dir, delay, token, PostgresBacking::default()).await
}

/// A service on a fresh data dir whose PostgreSQL server programs are to be found at `dir`.
async fn start_with_postgres_programs(dir: &str) -> Result<Local> {
    let data = tempfile::tempdir()?;
    let programs = PostgresBacking::Programs(dir.into());
    let mut local = start_backed(data.path(), Duration::ZERO, None, programs).await?;
    local._dir = Some(data);
    Ok(local)
}

async fn start_backed(
    data_dir: &Path,
    delay: Duration,
    token: Option<&str>,
    postgres: PostgresBacking,
) -> Result<Local> {
    let service = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.to_path_buf(),
        // Without one, the service makes its own, as the binary does; clients read it back.
        token: token.map_or(TokenSource::DataDir, |token| {
            TokenSource::Given(SecretString::from(token))
        }),
        provision_delay: delay,
        compose: None,
        ovh: None,
        globo: None,
        goaddon: None,
        databaselabs: None,
        postgres,
    })
    .await?;
    Ok(Local {
        base: service.base_url(),
        token: service.token().expose_secret().to_owned(),
        service,
        client: Client::new(),
        _dir: None,
    })
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Local {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .with_context(|| format!("non-JSON body: {}", String::from_utf8_lossy(&bytes)))?
        };
        openapi::assert_documented(method.as_str(), path, status.as_u16(), &body);
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    async fn get(&self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Reply> {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    async fn patch(&self, path: &str, body: Value) -> Result<Reply> {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    async fn delete(&self, path: &str) -> Result<Reply> {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Polls `GET /v1/databases/{id}` until `done` accepts the reply.
    async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Reply) -> bool) -> Result<Reply> {
        wait_until(what, || async {
            let reply = self.get(&format!("/v1/databases/{id}")).await?;
            Ok(done(&reply).then_some(reply))
        })
        .await
    }

    async fn wait_ready(&self, id: &str) -> Result<Value> {
        let reply = self
            .wait_for(id, "database READY", |reply| {
                reply.status == StatusCode::OK && reply.body["status"] == "READY"
            })
            .await?;
        Ok(reply.body)
    }

    async fn names(&self, query: &str) -> Result<Vec<String>> {
        let reply = self.get(&format!("/v1/databases{query}")).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        Ok(reply.body["databases"]
            .as_array()
            .context("databases array")?
            .iter()
            .map(|db| db["name"].as_str().unwrap_or_default().to_owned())
            .collect())
    }
}

async fn wait_until<T, F, Fut>(what: &str, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let guard = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() > guard {
            bail!("hang guard: gave up waiting for {what}");
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.body);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.body
    );
    let expected_field = field.map_or(Value::Null, |f| json!(f));
    assert_eq!(
        reply.body["error"]["field"], expected_field,
        "{}",
        reply.body
    );
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn database_lifecycle_create_update_delete() -> Result<()> {
    let local = start_local(Duration::from_millis(200), None).await?;

    let created = local
        .post(
            "/v1/databases",
            json!({"name": "orders", "engine": "postgresql", "description": "shop orders"}),
        )
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let db = &created.body;
    assert_eq!(db["status"], "CREATING");
    let id = id_of(db);
    assert!(id.starts_with("db-") && id.len() == 15, "{id}");
    assert_eq!(db["version"], "17");
    assert_eq!(db["plan"], "essential");
    assert_eq!(db["region"], "eu-west-1");
    assert_eq!(db["description"], "shop orders");
    assert_eq!(
        db["endpoint"],
        "postgresql://orders.eu-west-1.dbaas.local:5432/orders"
    );
    let created_at = db["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created_at).is_ok()
            && created_at.ends_with('Z')
            && created_at.len() == 20,
        "{created_at}"
    );

    let read = local.get(&format!("/v1/databases/{id}")).await?;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["id"], id.as_str());
    assert!(["CREATING", "READY"].contains(&read.body["status"].as_str().unwrap()));

    let ready = local.wait_ready(&id).await?;
    assert_eq!(ready["status_message"], Value::Null);
    assert_eq!(ready["created_at"], created.body["created_at"]);

    local
        .post("/v1/databases", json!({"name": "audit"}))
        .await?;
    local
        .post("/v1/databases", json!({"name": "orders-archive"}))
        .await?;
    assert_eq!(
        local.names("").await?,
        ["audit", "orders", "orders-archive"]
    );
    assert_eq!(
        local.names("?name_prefix=orders").await?,
        ["orders", "orders-archive"]
    );
    assert!(local.names("?name_prefix=zzz").await?.is_empty());

    let patched = local
        .patch(&format!("/v1/databases/{id}"), json!({"plan": "business"}))
        .await?;
    assert_eq!(patched.status, StatusCode::ACCEPTED, "{}", patched.body);
    assert_eq!(patched.body["status"], "UPDATING");
    assert_eq!(
        patched.body["plan"], "business",
        "changes are visible at once"
    );
    let ready = local.wait_ready(&id).await?;
    assert_eq!(ready["plan"], "business");

    let unchanged = local
        .patch(
            &format!("/v1/databases/{id}"),
            json!({"plan": "business", "description": "shop orders"}),
        )
        .await?;
    assert_eq!(unchanged.status, StatusCode::OK, "{}", unchanged.body);
    assert_eq!(unchanged.body["status"], "READY");

    let cleared = local
        .patch(&format!("/v1/databases/{id}"), json!({"description": null}))
        .await?;
    assert_eq!(cleared.status, StatusCode::ACCEPTED);
    assert_eq!(cleared.body["description"], Value::Null);
    local.wait_ready(&id).await?;

    let deleting = local.delete(&format!("/v1/databases/{id}")).await?;
    assert_eq!(deleting.status, StatusCode::ACCEPTED);
    assert_eq!(deleting.body["status"], "DELETING");
    let gone = local
        .wait_for(&id, "database gone", |reply| {
            reply.status == StatusCode::NOT_FOUND
        })
        .await?;
    assert_error(&gone, StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(local.names("").await?, ["audit", "orders-archive"]);
    assert_error(
        &local.delete(&format!("/v1/databases/{id}")).await?,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );

    // The name is free again once the database is gone.
    let again = local
        .post("/v1/databases", json!({"name": "orders"}))
        .await?;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_ne!(id_of(&again.body), id);

    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn busy_database_refuses_patch_but_accepts_delete() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // Instant provisioning to get a READY database...
    let fast = start_in(dir.path(), Duration::ZERO, None).await?;
    let created = fast.post("/v1/databases", json!({"name": "busy"})).await?;
    let id = id_of(&created.body);
    fast.wait_ready(&id).await?;
    fast.service.shutdown().await;

    // ...then a restart with a delay no test outlives, so transitional statuses stay put.
    let slow = start_in(dir.path(), Duration::from_secs(3600), None).await?;
    let path = format!("/v1/databases/{id}");
    let updating = slow.patch(&path, json!({"version": "7.0"})).await?;
    assert_eq!(updating.status, StatusCode::ACCEPTED, "{}", updating.body);
    assert_eq!(updating.body["status"], "UPDATING");

    let refused = slow.patch(&path, json!({"plan": "enterprise"})).await?;
    assert_error(&refused, StatusCode::CONFLICT, "conflict", None);
    assert_eq!(refused.body["error"]["reason"], "busy");
    assert_eq!(refused.headers["retry-after"], "1");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&id) && message.contains("busy (UPDATING)"),
        "{message}"
    );
    // Bad values are still a 400, busy or not.
    assert_error(
        &slow.patch(&path, json!({"plan": "free"})).await?,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("plan"),
    );

    let creating = slow.post("/v1/databases", json!({"name": "fresh"})).await?;
    let fresh = format!("/v1/databases/{}", id_of(&creating.body));
    let refused = slow.patch(&fresh, json!({"plan": "business"})).await?;
    assert_error(&refused, StatusCode::CONFLICT, "conflict", None);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("busy (CREATING)")
    );

    for target in [&path, &fresh] {
        let deleting = slow.delete(target).await?;
        assert_eq!(deleting.status, StatusCode::ACCEPTED, "{}", deleting.body);
        assert_eq!(deleting.body["status"], "DELETING");
        let again = slow.delete(target).await?;
        assert_eq!(again.status, StatusCode::ACCEPTED, "DELETE is idempotent");
        assert_eq!(again.body["status"], "DELETING");
        let refused = slow.patch(target, json!({"plan": "business"})).await?;
        assert_error(&refused, StatusCode::CONFLICT, "conflict", None);
        assert_eq!(
            refused.body["error"]["reason"], "state",
            "waiting never makes a DELETING database changeable"
        );
    }
    assert_eq!(
        slow.names("").await?,
        ["busy", "fresh"],
        "DELETING is still listed"
    );
    slow.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn create_validation_names_each_bad_field() -> Result<()> {
    let local = start_local(Duration::from_secs(3600), None).await?;
    let cases = [
        (json!({}), "name"),
        (json!({"name": "ab"}), "name"),
        (json!({"name": "9lives"}), "name"),
        (json!({"name": "trailing-"}), "name"),
        (json!({"name": "UPPER"}), "name"),
        (json!({"name": "a".repeat(64)}), "name"),
        (json!({"name": 42}), "name"),
        (json!({"name": "good", "engine": "oracle"}), "engine"),
        (
            json!({"name": "good", "engine": "mysql", "version": "5.7"}),
            "version",
        ),
        (json!({"name": "good", "version": "17"}), "version"),
        (json!({"name": "good", "plan": "free"}), "plan"),
        (json!({"name": "good", "region": "mars-1"}), "region"),
        (
            json!({"name": "good", "description": "x".repeat(256)}),
            "description",
        ),
        (json!({"name": "good", "description": 7}), "description"),
        (json!({"name": "good", "colour": "red"}), "colour"),
    ];
    for (body, field) in cases {
        let reply = local.post("/v1/databases", body.clone()).await?;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid", Some(field));
    }

    let engine = local
        .post("/v1/databases", json!({"name": "good", "engine": "oracle"}))
        .await?;
    let message = engine.body["error"]["message"].as_str().unwrap();
    for allowed in ["mongodb", "postgresql", "mysql"] {
        assert!(message.contains(allowed), "{message}");
    }
    let version = local
        .post(
            "/v1/databases",
            json!({"name": "good", "engine": "mysql", "version": "5.7"}),
        )
        .await?;
    let message = version.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("8.0") && message.contains("8.4"),
        "{message}"
    );

    // Bodies that are not JSON objects: 400 without a field.
    for raw in ["not json", "[1, 2]", ""] {
        let response = local
            .client
            .post(format!("{}/v1/databases", local.base))
            .bearer_auth(&local.token)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{raw:?}");
        let body: Value = response.json().await?;
        assert_eq!(body["error"]["code"], "invalid");
        assert_eq!(body["error"]["field"], Value::Null);
    }
    assert!(local.names("").await?.is_empty(), "nothing was created");

    // Optional nulls are defaults; the longest description passes.
    let ok = local
        .post(
            "/v1/databases",
            json!({"name": "good", "engine": null, "description": "é".repeat(255)}),
        )
        .await?;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
    assert_eq!(ok.body["engine"], "mongodb");
    assert_eq!(
        ok.body["endpoint"],
        "mongodb://good.eu-west-1.dbaas.local:27017/good"
    );

    // PATCH: immutable fields, bad values, unknown ids.
    let path = format!("/v1/databases/{}", id_of(&ok.body));
    for (body, field) in [
        (json!({"engine": "mysql"}), "engine"),
        (json!({"region": "us-east-1"}), "region"),
        (json!({"name": "other"}), "name"),
        (json!({"plan": "free"}), "plan"),
        (json!({"plan": null}), "plan"),
        (json!({"description": "y".repeat(256)}), "description"),
        (json!({"size": 3}), "size"),
        (json!({"plan": "essential", "node_count": 3}), "node_count"),
        (json!({"node_count": 9}), "node_count"),
    ] {
        let reply = local.patch(&path, body).await?;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid", Some(field));
    }
    // Values valid in themselves that the database's own engine or plan refuses: 409 state.
    for body in [json!({"version": "17"}), json!({"node_count": 3})] {
        let reply = local.patch(&path, body).await?;
        assert_error(&reply, StatusCode::CONFLICT, "conflict", None);
        assert_eq!(reply.body["error"]["reason"], "state", "{}", reply.body);
    }
    assert_error(
        &local
            .patch("/v1/databases/db-000000000000", json!({"plan": "business"}))
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &local.get("/v1/databases/db-000000000000").await?,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn create_duplicate_name_conflicts() -> Result<()> {
    let local = start_local(Duration::from_secs(3600), None).await?;
    let first = local.post("/v1/databases", json!({"name": "twin"})).await?;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let second = local
        .post("/v1/databases", json!({"name": "twin", "engine": "mysql"}))
        .await?;
    assert_error(&second, StatusCode::CONFLICT, "conflict", None);
    assert_eq!(second.body["error"]["reason"], "duplicate");
    assert!(second.headers.get("retry-after").is_none());
    let message = second.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&id_of(&first.body)), "{message}");
    assert_eq!(local.names("").await?, ["twin"]);
    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn idempotency_key_replays_and_refuses_different_body() -> Result<()> {
    let local = start_local(Duration::from_millis(100), None).await?;
    let body = json!({"name": "replayed", "plan": "business"});
    let key = [("Idempotency-Key", "create-replayed-1")];
    let first = local
        .send(Method::POST, "/v1/databases", Some(body.clone()), &key)
        .await?;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);

    // Same body with its keys in another order is the same request.
    let same = json!({"plan": "business", "name": "replayed"});
    let second = local
        .send(Method::POST, "/v1/databases", Some(same), &key)
        .await?;
    assert_eq!(second.status, StatusCode::ACCEPTED, "{}", second.body);
    assert_eq!(second.body["id"], first.body["id"]);

    let different = json!({"name": "replayed", "plan": "enterprise"});
    let refused = local
        .send(Method::POST, "/v1/databases", Some(different), &key)
        .await?;
    assert_error(&refused, StatusCode::CONFLICT, "conflict", None);
    assert_eq!(refused.body["error"]["reason"], "state");

    // Without the key, the same body is a duplicate name.
    assert_error(
        &local.post("/v1/databases", body.clone()).await?,
        StatusCode::CONFLICT,
        "conflict",
        None,
    );
    // A replay after the database became READY still returns it.
    local.wait_ready(&id_of(&first.body)).await?;
    let third = local
        .send(Method::POST, "/v1/databases", Some(body), &key)
        .await?;
    assert_eq!(third.status, StatusCode::ACCEPTED);
    assert_eq!(third.body["id"], first.body["id"]);
    assert_eq!(third.body["status"], "READY");
    assert_eq!(local.names("").await?, ["replayed"]);
    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn token_required_except_healthz() -> Result<()> {
    let local = start_local(Duration::ZERO, Some("correct-horse")).await?;
    let url = |path: &str| format!("{}{path}", local.base);

    let health = local.client.get(url("/healthz")).send().await?;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await?, json!({"status": "ok"}));

    for request in [
        local.client.get(url("/v1/databases")),
        local
            .client
            .get(url("/v1/capabilities"))
            .bearer_auth("wrong"),
        local
            .client
            .get(url("/v1/capabilities"))
            .bearer_auth("correct-hors"),
        local
            .client
            .get(url("/v1/capabilities"))
            .bearer_auth("correct-horse2"),
        local
            .client
            .get(url("/v1/capabilities"))
            .basic_auth("correct-horse", None::<&str>),
        local.client.get(url("/v1/openapi.json")),
        local.client.get(url("/v1/_admin/requests")),
        local
            .client
            .post(url("/v1/databases"))
            .json(&json!({"name": "sneaky"})),
    ] {
        let response = request.send().await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key("www-authenticate"));
        let body: Value = response.json().await?;
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(!body.to_string().contains("correct-horse"), "token echoed");
    }

    let ok = local.get("/v1/capabilities").await?;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(
        local.names("").await?.is_empty(),
        "the unauthenticated create did nothing"
    );
    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn faults_fail_matching_requests_then_recover() -> Result<()> {
    let local = start_local(Duration::ZERO, None).await?;
    let injected = local
        .post(
            "/v1/_admin/faults",
            json!({"path_prefix": "/v1/databases", "method": "GET", "status": 503, "count": 2, "retry_after": null}),
        )
        .await?;
    assert_eq!(injected.status, StatusCode::OK, "{}", injected.body);
    assert_eq!(injected.body["faults"][0]["count"], 2);

    // A POST does not match the GET fault.
    let created = local
        .post("/v1/databases", json!({"name": "flaky"}))
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED);
    for _ in 0..2 {
        let reply = local.get("/v1/databases").await?;
        assert_error(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable", None);
        assert!(!reply.headers.contains_key("retry-after"));
    }
    assert_eq!(local.get("/v1/databases").await?.status, StatusCode::OK);

    local
        .post(
            "/v1/_admin/faults",
            json!({"path_prefix": "/v1/capabilities", "status": 429, "count": 1, "retry_after": 7}),
        )
        .await?;
    let limited = local.get("/v1/capabilities").await?;
    assert_error(
        &limited,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        None,
    );
    assert_eq!(limited.headers["retry-after"], "7");
    assert_eq!(local.get("/v1/capabilities").await?.status, StatusCode::OK);

    // A 429 without retry_after still carries Retry-After; 500 maps to internal.
    local
        .post(
            "/v1/_admin/faults",
            json!({"path_prefix": "/v1/capabilities", "status": 429, "count": 1}),
        )
        .await?;
    let limited = local.get("/v1/capabilities").await?;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    local
        .post(
            "/v1/_admin/faults",
            json!({"path_prefix": "/", "status": 500, "count": 3}),
        )
        .await?;
    assert_error(
        &local.get("/v1/capabilities").await?,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        None,
    );
    // Admin paths are never faulted, so pending faults can be cleared.
    let cleared = local.delete("/v1/_admin/faults").await?;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["faults"], json!([]));
    assert_eq!(local.get("/v1/capabilities").await?.status, StatusCode::OK);

    assert_error(
        &local
            .post(
                "/v1/_admin/faults",
                json!({"path_prefix": "/v1", "status": 404, "count": 1}),
            )
            .await?,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("status"),
    );
    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn request_log_records_requests() -> Result<()> {
    let local = start_local(Duration::ZERO, Some("log-token")).await?;
    local.get("/healthz").await?;
    local
        .post("/v1/databases", json!({"name": "logged"}))
        .await?;
    local.get("/v1/databases/db-000000000000").await?;
    let unauthenticated = local
        .client
        .get(format!("{}/v1/databases?name_prefix=x", local.base))
        .send()
        .await?;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let log = local.get("/v1/_admin/requests").await?;
    assert_eq!(log.status, StatusCode::OK);
    let entries: Vec<(String, String, u64)> = log.body["requests"]
        .as_array()
        .context("requests")?
        .iter()
        .map(|entry| {
            assert!(
                entry["at"]
                    .as_str()
                    .is_some_and(|at| chrono::DateTime::parse_from_rfc3339(at).is_ok())
            );
            (
                entry["method"].as_str().unwrap().to_owned(),
                entry["path"].as_str().unwrap().to_owned(),
                entry["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("GET", "/healthz", 200),
        ("POST", "/v1/databases", 202),
        ("GET", "/v1/databases/db-000000000000", 404),
        ("GET", "/v1/databases", 401),
    ];
    assert_eq!(
        entries,
        expected
            .iter()
            .map(|(m, p, s)| (m.to_string(), p.to_string(), *s))
            .collect::<Vec<_>>()
    );

    let cleared = local.delete("/v1/_admin/requests").await?;
    assert_eq!(cleared.status, StatusCode::OK);
    let log = local.get("/v1/_admin/requests").await?;
    let after: Vec<&str> = log.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        after,
        ["DELETE"],
        "only the clearing request itself remains"
    );
    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn openapi_document_covers_every_route() -> Result<()> {
    let local = start_local(Duration::ZERO, None).await?;
    let reply = local.get("/v1/openapi.json").await?;
    assert_eq!(reply.status, StatusCode::OK);
    let document = reply.body;
    let version = document["openapi"].as_str().context("openapi field")?;
    assert!(version.starts_with("3.1."), "{version}");
    let routes: &[(&str, &[&str])] = &[
        ("/healthz", &["get"]),
        ("/v1/openapi.json", &["get"]),
        ("/v1/capabilities", &["get"]),
        ("/v1/databases", &["get", "post"]),
        ("/v1/databases/{id}", &["get", "patch", "delete"]),
        ("/v1/databases/{id}/failover", &["post"]),
        ("/v1/databases/{id}/restart", &["post"]),
        ("/v1/databases/{id}/credentials", &["get", "post"]),
        (
            "/v1/databases/{id}/credentials/{username}",
            &["get", "patch", "delete"],
        ),
        (
            "/v1/databases/{id}/credentials/{username}/reset-password",
            &["post"],
        ),
        (
            "/v1/databases/{id}/credentials/{username}/password",
            &["get"],
        ),
        (
            "/v1/databases/{id}/credentials/{username}/verify",
            &["post"],
        ),
        ("/v1/databases/{id}/collections", &["get"]),
        (
            "/v1/databases/{id}/collections/{collection}/indexes",
            &["get", "post"],
        ),
        (
            "/v1/databases/{id}/collections/{collection}/indexes/{name}",
            &["get", "delete"],
        ),
        ("/v1/databases/{id}/ip-restrictions", &["get", "post"]),
        (
            "/v1/databases/{id}/ip-restrictions/{cidr}",
            &["get", "patch", "delete"],
        ),
        ("/v1/_admin/requests", &["get", "delete"]),
        ("/v1/_admin/faults", &["get", "post", "delete"]),
        ("/v1/_admin/lifecycle-faults", &["get", "post", "delete"]),
        ("/v1/_admin/databases/{id}/lock", &["post", "delete"]),
    ];
    let paths = document["paths"].as_object().context("paths")?;
    assert_eq!(
        paths.len(),
        routes.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, methods) in routes {
        for method in *methods {
            assert!(
                paths[*path][*method]["responses"].is_object(),
                "{method} {path} missing"
            );
        }
    }
    for schema in [
        "Error",
        "Database",
        "Capabilities",
        "CreateDatabase",
        "UpdateDatabase",
        "Credential",
        "CreateCredential",
        "UpdateCredential",
        "ResetPassword",
        "Password",
        "VerifyPassword",
        "Verification",
        "CollectionList",
        "Index",
        "IndexKey",
        "CreateIndex",
        "IpRestriction",
        "CreateIpRestriction",
        "UpdateIpRestriction",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
    assert_eq!(
        document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["reason"]["enum"],
        json!(["busy", "duplicate", "state"])
    );
    for response in [
        "Invalid",
        "Unauthorized",
        "NotFound",
        "Conflict",
        "RateLimited",
        "Internal",
        "Unavailable",
    ] {
        assert!(
            document["components"]["responses"][response].is_object(),
            "{response}"
        );
    }
    local.service.shutdown().await;
    Ok(())
}

/// Without PostgreSQL's server programs a `postgresql` database is simulated, never refused:
/// READY after its delay, with the made-up endpoint of every simulated engine.
#[tokio::test]
async fn postgresql_without_server_programs_is_simulated() -> Result<()> {
    let local = start_with_postgres_programs("/nonexistent/postgresql/bin").await?;
    let created = local
        .post(
            "/v1/databases",
            json!({"name": "client-sim", "engine": "postgresql"}),
        )
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let ready = local.wait_ready(&id).await?;
    assert_eq!(
        ready["endpoint"],
        "postgresql://client-sim.eu-west-1.dbaas.local:5432/client-sim"
    );
    local.service.shutdown().await;
    Ok(())
}

/// PostgreSQL's programs are there but `initdb` cannot make the cluster (a data dir on a
/// read-only disk, a user that cannot write it): the database ends in ERROR with initdb's
/// reason instead of staying CREATING until the provider's timeout.
#[tokio::test]
async fn a_cluster_initdb_refuses_fails_the_database_with_its_reason() -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let programs = tempfile::tempdir()?;
    // Reachable by the unprivileged user the cluster runs as when the tests run as root.
    std::fs::set_permissions(programs.path(), std::fs::Permissions::from_mode(0o755))?;
    let script = |name: &str, body: &str| -> Result<()> {
        let path = programs.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n"))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        Ok(())
    };
    script(
        "initdb",
        "echo 'initdb: error: could not create directory: Read-only file system' >&2; exit 1",
    )?;
    script("pg_ctl", "exit 1")?;
    script("postgres", "exit 1")?;
    let local = start_with_postgres_programs(programs.path().to_str().context("utf-8")?).await?;
    let created = local
        .post(
            "/v1/databases",
            json!({"name": "client-noinit", "engine": "postgresql"}),
        )
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let failed = local
        .wait_for(&id, "database ERROR", |reply| {
            reply.body["status"] == "ERROR"
        })
        .await?;
    let message = failed.body["status_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("initdb failed") && message.contains("Read-only file system"),
        "{}",
        failed.body
    );
    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn capabilities_and_unknown_routes_follow_contract() -> Result<()> {
    // No PostgreSQL where its programs are said to be: every engine is simulated, and says so.
    let local = start_with_postgres_programs("/nonexistent/postgresql/bin").await?;
    let caps = local.get("/v1/capabilities").await?;
    assert_eq!(caps.status, StatusCode::OK);
    assert_eq!(
        caps.body["engines"],
        json!([
            {"name": "mongodb", "versions": ["6.0", "7.0", "8.0"], "default_version": "8.0",
             "backing": "simulated"},
            {"name": "postgresql", "versions": ["15", "16", "17"], "default_version": "17",
             "backing": "simulated"},
            {"name": "mysql", "versions": ["8.0", "8.4"], "default_version": "8.4",
             "backing": "simulated"}
        ])
    );
    let node_counts: Vec<(&str, u64)> = caps.body["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plan| {
            (
                plan["name"].as_str().unwrap(),
                plan["node_count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        node_counts,
        [("essential", 1), ("business", 3), ("enterprise", 3)]
    );
    assert_eq!(
        caps.body["defaults"],
        json!({"engine": "mongodb", "plan": "essential", "region": "eu-west-1"})
    );
    assert_eq!(
        caps.body["flavors"][0],
        json!({"name": "db1-4", "cores": 1, "memory_gb": 4, "storage_gb": 20})
    );

    assert_error(
        &local.get("/v1/nothing").await?,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let wrong_method = local
        .send(Method::PUT, "/v1/databases", Some(json!({})), &[])
        .await?;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.body["error"]["code"], "method_not_allowed");
    local.service.shutdown().await;
    Ok(())
}

// ---- the real binary ----

/// A running `dbaas-local` process, killed (SIGKILL) when dropped.
struct Process {
    child: Child,
    base: String,
    /// The token it made or reused, from its second stdout line (or the file that line names).
    token: String,
    /// Its second stdout line, about the token.
    token_line: String,
    stderr_path: PathBuf,
}

impl Process {
    /// Started without `--token`, as a user would: it makes its own, or reuses the saved one.
    fn spawn(data_dir: &Path, delay: &str, log_dir: &Path, name: &str) -> Result<Self> {
        let stderr_path = log_dir.join(format!("{name}.stderr"));
        let stderr = std::fs::File::create(&stderr_path)?;
        let mut child = binary()
            .args([
                "--listen",
                "127.0.0.1:0",
                "--provision-delay",
                delay,
                "--data-dir",
            ])
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut stdout = BufReader::new(stdout);
        let (mut line, mut token_line) = (String::new(), String::new());
        stdout.read_line(&mut line)?;
        stdout.read_line(&mut token_line)?;
        let mut process = Self {
            child,
            base: String::new(),
            token: String::new(),
            token_line: token_line.trim_end().to_owned(),
            stderr_path,
        };
        let file = data_dir.join("token").display().to_string();
        process.token = if let Some(token) = process
            .token_line
            .strip_prefix(&format!("dbaas-local token (new, saved in {file}): "))
        {
            token.to_owned()
        } else if process.token_line == format!("dbaas-local token: the one saved in {file}") {
            std::fs::read_to_string(&file)?.trim().to_owned()
        } else {
            bail!(
                "unexpected second stdout line {:?}; stderr: {}",
                process.token_line,
                process.stderr()
            );
        };
        let Some(base) = line
            .trim_end()
            .strip_prefix("dbaas-local listening on ")
            .map(str::to_owned)
        else {
            bail!(
                "unexpected first stdout line {line:?}; stderr: {}",
                process.stderr()
            );
        };
        process.base = base;
        Ok(process)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    fn kill_9(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    fn local(&self) -> LocalClient {
        LocalClient {
            client: Client::new(),
            base: self.base.clone(),
            token: self.token.clone(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dbaas-local"));
    for var in [
        "DBAAS_LOCAL_LISTEN",
        "DBAAS_LOCAL_DATA_DIR",
        "DBAAS_LOCAL_TOKEN",
        "DBAAS_LOCAL_PROVISION_DELAY",
        "DBAAS_LOCAL_LOG",
    ] {
        command.env_remove(var);
    }
    command
}

struct LocalClient {
    client: Client,
    base: String,
    /// Sent on every call.
    token: String,
}

impl LocalClient {
    async fn get(&self, path: &str) -> Result<(StatusCode, Value)> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        Ok((response.status(), response.json().await?))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_keeps_databases_across_kill_9() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let mut first =
        tokio::task::block_in_place(|| Process::spawn(&data_dir, "2s", dir.path(), "first"))?;
    let client = first.local();
    let created = client
        .client
        .post(format!("{}/v1/databases", client.base))
        .bearer_auth(&client.token)
        .json(&json!({"name": "durable", "engine": "mysql"}))
        .send()
        .await?;
    assert_eq!(created.status(), StatusCode::ACCEPTED);
    let created: Value = created.json().await?;
    let id = id_of(&created);
    // SIGKILL right after the 2xx: nothing acknowledged may be lost.
    first.kill_9()?;
    drop(first);

    // Restarted with a delay no test outlives: reaching READY can only come from the
    // transition instant persisted by the first process.
    let second =
        tokio::task::block_in_place(|| Process::spawn(&data_dir, "1h", dir.path(), "second"))?;
    let client = second.local();
    let (status, body) = client.get(&format!("/v1/databases/{id}")).await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "{body}; stderr: {}",
        second.stderr()
    );
    assert_eq!(body["name"], "durable");
    assert_eq!(body["engine"], "mysql");
    assert_eq!(body["created_at"], created["created_at"]);
    assert!(["CREATING", "READY"].contains(&body["status"].as_str().unwrap()));

    let ready = wait_until("READY after restart", || async {
        let (status, body) = client.get(&format!("/v1/databases/{id}")).await?;
        assert_eq!(status, StatusCode::OK);
        Ok((body["status"] == "READY").then_some(body))
    })
    .await?;
    assert_eq!(ready["id"], id.as_str());
    let (_, list) = client.get("/v1/databases").await?;
    assert_eq!(list["databases"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_exits_cleanly_on_sigterm() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut process = tokio::task::block_in_place(|| {
        Process::spawn(&dir.path().join("data"), "0s", dir.path(), "term")
    })?;
    let (status, _) = process.local().get("/healthz").await?;
    assert_eq!(status, StatusCode::OK);
    let signalled = Command::new("kill")
        .args(["-TERM", &process.child.id().to_string()])
        .status()?;
    assert!(signalled.success());
    let guard = tokio::time::Instant::now() + HANG_GUARD;
    let exit = loop {
        if let Some(exit) = process.child.try_wait()? {
            break exit;
        }
        if tokio::time::Instant::now() > guard {
            bail!(
                "hang guard: no exit after SIGTERM; stderr: {}",
                process.stderr()
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
    };
    assert!(exit.success(), "{exit:?}; stderr: {}", process.stderr());
    assert!(process.stderr().contains("shutdown signal received"));
    Ok(())
}

#[test]
fn binary_help_describes_flags_and_hides_token() -> Result<()> {
    let output = binary()
        .arg("--help")
        .env("DBAAS_LOCAL_TOKEN", "super-secret-token-value")
        .output()?;
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout)?;
    for flag in ["--listen", "--data-dir", "--token", "--provision-delay"] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }
    assert!(
        !help.contains("super-secret-token-value"),
        "token echoed:\n{help}"
    );

    let bad = binary().args(["--provision-delay", "5"]).output()?;
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("has no unit"), "{stderr}");
    Ok(())
}

#[tokio::test]
async fn flavor_node_count_and_lock_follow_the_plan_rules() -> Result<()> {
    let local = start_local(Duration::ZERO, None).await?;
    let created = local
        .post(
            "/v1/databases",
            json!({"name": "sized", "plan": "business", "flavor": "db1-7", "node_count": 5}),
        )
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    assert_eq!(
        (
            created.body["flavor"].as_str(),
            created.body["node_count"].as_u64(),
            created.body["locked"].as_bool()
        ),
        (Some("db1-7"), Some(5), Some(false))
    );
    let defaults = local
        .post("/v1/databases", json!({"name": "plain"}))
        .await?;
    assert_eq!(
        (
            defaults.body["flavor"].as_str(),
            defaults.body["node_count"].as_u64()
        ),
        (Some("db1-4"), Some(1))
    );
    for (body, field) in [
        (json!({"name": "bad1", "flavor": "b3-8"}), "flavor"),
        (json!({"name": "bad2", "node_count": 3}), "node_count"),
        (
            json!({"name": "bad3", "plan": "business", "node_count": 2}),
            "node_count",
        ),
        (
            json!({"name": "bad4", "plan": "enterprise", "node_count": 9}),
            "node_count",
        ),
        (json!({"name": "bad5", "node_count": "1"}), "node_count"),
        (json!({"name": "bad6", "node_count": -1}), "node_count"),
    ] {
        let reply = local.post("/v1/databases", body).await?;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid", Some(field));
    }
    let id = id_of(&created.body);
    local.wait_ready(&id).await?;
    let resized = local
        .patch(
            &format!("/v1/databases/{id}"),
            json!({"flavor": "db1-15", "node_count": 8}),
        )
        .await?;
    assert_eq!(resized.status, StatusCode::ACCEPTED, "{}", resized.body);
    assert_eq!(
        (
            resized.body["flavor"].as_str(),
            resized.body["node_count"].as_u64()
        ),
        (Some("db1-15"), Some(8))
    );
    local.wait_ready(&id).await?;
    let essential = local
        .patch(&format!("/v1/databases/{id}"), json!({"plan": "essential"}))
        .await?;
    assert_eq!(
        essential.body["node_count"], 1,
        "8 nodes do not fit essential: its default"
    );
    local.wait_ready(&id).await?;
    let null_count = local
        .patch(&format!("/v1/databases/{id}"), json!({"node_count": null}))
        .await?;
    assert_error(
        &null_count,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("node_count"),
    );

    let locked = local
        .post(&format!("/v1/_admin/databases/{id}/lock"), json!({}))
        .await?;
    assert_eq!(
        (locked.status, locked.body["locked"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let refused = local
        .patch(&format!("/v1/databases/{id}"), json!({"description": "x"}))
        .await?;
    assert_error(&refused, StatusCode::CONFLICT, "conflict", None);
    assert_eq!(refused.body["error"]["reason"], "state");
    let refused = local.delete(&format!("/v1/databases/{id}")).await?;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let refused = local
        .post(
            &format!("/v1/databases/{id}/credentials"),
            json!({"username": "app"}),
        )
        .await?;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let unlocked = local
        .delete(&format!("/v1/_admin/databases/{id}/lock"))
        .await?;
    assert_eq!(unlocked.body["locked"], false);
    let deleted = local.delete(&format!("/v1/databases/{id}")).await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    let missing = local
        .post("/v1/_admin/databases/db-000000000000/lock", json!({}))
        .await?;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found", None);
    local.service.shutdown().await;
    Ok(())
}

#[test]
fn binary_refuses_a_data_dir_another_process_uses_and_keeps_its_files_private() -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let first = Process::spawn(&data_dir, "1s", dir.path(), "first")?;
    let mut second = binary()
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    // It must stop by itself; a second service running on would hang here, so it is killed
    // after a generous bound and the test fails.
    let mut exited = None;
    for _ in 0..200 {
        if let Some(status) = second.try_wait()? {
            exited = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = exited else {
        second.kill()?;
        bail!("a second dbaas-local on the same data dir kept running");
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().context("stderr")?, &mut stderr)?;
    assert!(
        stderr.contains("another dbaas-local is using the data dir")
            && stderr.contains(&data_dir.display().to_string()),
        "{stderr}"
    );
    let mode =
        |path: &Path| -> Result<u32> { Ok(std::fs::metadata(path)?.permissions().mode() & 0o777) };
    assert_eq!(mode(&data_dir)?, 0o700);
    for entry in std::fs::read_dir(&data_dir)? {
        let path = entry?.path();
        assert_eq!(mode(&path)?, 0o600, "{}", path.display());
    }
    drop(first);
    Ok(())
}

/// Without `--token` the binary is not open: it makes a token, prints it once with where it
/// is saved (owner-only), requires it, and a restart of the same data dir reuses it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_default_start_makes_a_private_token_and_requires_it() -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let mut first =
        tokio::task::block_in_place(|| Process::spawn(&data_dir, "0s", dir.path(), "first"))?;
    assert!(
        first
            .token_line
            .starts_with("dbaas-local token (new, saved in "),
        "{}",
        first.token_line
    );
    let file = data_dir.join("token");
    assert_eq!(
        std::fs::metadata(&file)?.permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::read_to_string(&file)?.trim(), first.token);
    assert!(
        first.token.len() >= 24,
        "a guessable token: {}",
        first.token
    );

    let client = first.local();
    let url = |path: &str| format!("{}{path}", client.base);
    for path in ["/v1/databases", "/v1/_admin/requests"] {
        let open = client.client.get(url(path)).send().await?;
        assert_eq!(open.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let (status, body) = client.get("/v1/databases").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = client.get("/v1/_admin/requests").await?;
    assert_eq!(status, StatusCode::OK);
    let health = client.client.get(url("/healthz")).send().await?;
    assert_eq!(health.status(), StatusCode::OK);

    first.kill_9()?;
    assert!(
        !first.stderr().contains(&first.token),
        "the token is in the log"
    );
    let token = first.token.clone();
    drop(first);
    let second =
        tokio::task::block_in_place(|| Process::spawn(&data_dir, "0s", dir.path(), "second"))?;
    assert_eq!(
        second.token_line,
        format!("dbaas-local token: the one saved in {}", file.display()),
        "a restart does not print the token again"
    );
    assert_eq!(second.token, token, "a restart keeps clients working");
    let (status, _) = second.local().get("/v1/databases").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(!second.stderr().contains(&token), "the token is in the log");
    Ok(())
}

/// A token only this machine can read is no protection on a network: beyond loopback, the
/// binary wants one given explicitly, says so, and makes nothing. (A documentation address,
/// which this host does not have, so that without the check it would fail to bind, not listen.)
/// Without PostgreSQL's server programs the binary starts all the same, and its log says that
/// `postgresql` databases are simulated, and why.
#[test]
fn binary_without_postgresql_logs_that_postgresql_is_simulated() -> Result<()> {
    use std::io::{BufRead as _, BufReader};
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("stderr.log");
    let mut child = binary()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--postgres-bin",
            "/nonexistent/bin",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env_remove("DBAAS_LOCAL_POSTGRES_BIN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line)?;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    let exit = child.wait()?;
    let stderr = std::fs::read_to_string(&log)?;
    assert!(
        line.starts_with("dbaas-local listening on "),
        "{line:?} {stderr}"
    );
    assert!(exit.success(), "{exit:?}: {stderr}");
    let warning = stderr
        .lines()
        .find(|line| line.contains("WARN") && line.contains("engine=\"postgresql\""))
        .unwrap_or_else(|| panic!("a warning about postgresql: {stderr}"));
    assert!(
        warning.contains("backing=\"simulated\"") && warning.contains("--postgres-bin"),
        "{warning}"
    );
    Ok(())
}

#[test]
fn binary_refuses_a_non_loopback_listen_without_a_token() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let output = binary()
        .args(["--listen", "192.0.2.1:0", "--data-dir"])
        .arg(&data_dir)
        .stdin(Stdio::null())
        .output()?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 192.0.2.1:0 without an explicit token")
            && stderr.contains("--token"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "it did not listen");
    assert!(!data_dir.exists(), "nothing made before refusing");
    Ok(())
}

/// Bodies are capped at 1 MiB: a 2 MiB one is a 413 in the native error format, told by its
/// `Content-Length` before it is read (the dialects' formats: `local::tests` in the crate).
#[tokio::test]
async fn oversized_body_is_413_payload_too_large() -> Result<()> {
    let local = start_local(Duration::ZERO, None).await?;
    let name = "x".repeat(2 << 20);
    let reply = local.post("/v1/databases", json!({ "name": name })).await?;
    assert_error(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    );
    assert!(local.names("").await?.is_empty());
    local.service.shutdown().await;
    Ok(())
}

/// A dialect speaks with its own authentication, but `/v1` and the admin endpoints over the
/// same store always need the service's token (once, without one, they were open).
#[tokio::test]
async fn native_and_admin_paths_need_the_token_while_a_dialect_is_served() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let service = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        goaddon: Some(local::GoaddonDialect {
            token: SecretString::from("p-goaddon-token"),
        }),
        ..Config::default()
    })
    .await?;
    let client = Client::new();
    let url = |path: &str| format!("{}{path}", service.base_url());
    for (method, path) in [
        (Method::GET, "/v1/databases"),
        (Method::GET, "/v1/_admin/requests"),
        (Method::GET, "/v1/_admin/faults"),
        (Method::DELETE, "/v1/_admin/faults"),
    ] {
        let open = client.request(method.clone(), url(path)).send().await?;
        assert_eq!(open.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        let with_token = client
            .request(method.clone(), url(path))
            .bearer_auth(service.token().expose_secret())
            .send()
            .await?;
        assert_eq!(with_token.status(), StatusCode::OK, "{method} {path}");
    }
    service.shutdown().await;
    Ok(())
}

#[test]
fn the_reply_check_refuses_what_the_document_does_not_describe() {
    let refused = |method: &str, path: &str, status: u16, body: Value| {
        std::panic::catch_unwind(|| openapi::assert_documented(method, path, status, &body))
            .is_err()
    };
    let database = json!({
        "id": "db-0123456789ab", "name": "shop", "engine": "mongodb", "version": "8.0",
        "plan": "essential", "region": "eu-west-1", "flavor": "db1-4", "node_count": 1,
        "description": null, "locked": false, "status": "READY", "status_message": null,
        "endpoint": "mongodb://shop.eu-west-1.dbaas.local:27017/shop",
        "created_at": "2026-12-02T00:00:00Z", "updated_at": "2026-12-02T00:00:00Z"
    });
    let path = "/v1/databases/db-0123456789ab";
    assert!(!refused("GET", path, 200, database.clone()));
    let mut unknown_status = database.clone();
    unknown_status["status"] = json!("SLEEPING");
    assert!(refused("GET", path, 200, unknown_status));
    let mut without_endpoint = database.clone();
    without_endpoint.as_object_mut().unwrap().remove("endpoint");
    assert!(refused("GET", path, 200, without_endpoint));
    assert!(refused("GET", path, 418, database));
    // Paths the document has no operation for are not its business.
    assert!(!refused("GET", "/v1/nothing-here", 404, Value::Null));
}

/// A read with `wait_for=READY` answers when the object settles, whatever the provision delay:
/// asked right after the create of a database that takes 1 s, a plain read shows CREATING and
/// the blocking read READY. A short `timeout` answers with the object as it still is. Children
/// hold the same way; bad query values are 400s naming the parameter.
#[tokio::test]
async fn blocking_read_answers_when_the_status_settles() -> Result<()> {
    let local = start_local(Duration::from_secs(1), None).await?;
    let created = local.post("/v1/databases", json!({"name": "held"})).await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let retry_after = created
        .headers
        .get("retry-after")
        .context("Retry-After on 202")?;
    assert_eq!(retry_after.to_str()?, "1", "whole seconds until READY");
    let id = id_of(&created.body);
    let path = format!("/v1/databases/{id}");

    let plain = local.get(&path).await?;
    assert_eq!(plain.body["status"], "CREATING");
    let short = local
        .get(&format!("{path}?wait_for=READY&timeout=50ms"))
        .await?;
    assert_eq!(short.status, StatusCode::OK);
    assert_eq!(
        short.body["status"], "CREATING",
        "a hold ends at its timeout"
    );
    let held = local
        .get(&format!("{path}?wait_for=READY&timeout=30s"))
        .await?;
    assert_eq!(held.status, StatusCode::OK, "{}", held.body);
    assert_eq!(
        held.body["status"], "READY",
        "held until the transition settled"
    );
    let at_once = local.get(&format!("{path}?wait_for=READY")).await?;
    assert_eq!(
        at_once.body["status"], "READY",
        "a settled object answers at once"
    );

    let user = local
        .post(&format!("{path}/credentials"), json!({"username": "app"}))
        .await?;
    assert_eq!(user.status, StatusCode::ACCEPTED, "{}", user.body);
    assert!(user.headers.contains_key("retry-after"));
    let user = local
        .get(&format!(
            "{path}/credentials/app?wait_for=READY&timeout=30s"
        ))
        .await?;
    assert_eq!(user.body["status"], "READY", "{}", user.body);
    // A child's change may make the database UPDATING for a while: wait for it the same way.
    local
        .get(&format!("{path}?wait_for=READY&timeout=30s"))
        .await?;
    let restriction = local
        .post(
            &format!("{path}/ip-restrictions"),
            json!({"cidr": "10.0.0.0/24"}),
        )
        .await?;
    assert_eq!(
        restriction.status,
        StatusCode::ACCEPTED,
        "{}",
        restriction.body
    );
    let restriction = local
        .get(&format!(
            "{path}/ip-restrictions/10.0.0.0%2F24?wait_for=READY&timeout=30s"
        ))
        .await?;
    assert_eq!(restriction.body["status"], "READY", "{}", restriction.body);
    local
        .get(&format!("{path}?wait_for=READY&timeout=30s"))
        .await?;
    let index = local
        .post(
            &format!("{path}/collections/orders/indexes"),
            json!({"keys": [{"field": "customer", "direction": 1}]}),
        )
        .await?;
    assert_eq!(index.status, StatusCode::ACCEPTED, "{}", index.body);
    let name = index.body["name"]
        .as_str()
        .context("index name")?
        .to_owned();
    let index = local
        .get(&format!(
            "{path}/collections/orders/indexes/{name}?wait_for=READY&timeout=30s"
        ))
        .await?;
    assert_eq!(index.body["status"], "READY", "{}", index.body);

    for (query, field) in [
        ("wait_for=GONE", "wait_for"),
        ("wait_for=READY&timeout=2m", "timeout"),
        ("wait_for=READY&timeout=soon", "timeout"),
        ("wait_for=READY&timeout=1234567s", "timeout"),
    ] {
        let refused = local.get(&format!("{path}?{query}")).await?;
        assert_error(&refused, StatusCode::BAD_REQUEST, "invalid", Some(field));
    }
    local.service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn failover_and_restart_run_on_a_ready_database_and_settle_ready() -> Result<()> {
    let local = start_local(Duration::from_millis(300), None).await?;
    let created = local
        .post("/v1/databases", json!({"name": "maint"}))
        .await?;
    let id = created.body["id"].as_str().context("id")?.to_owned();
    // Not READY yet: busy, like any change.
    let early = local
        .post(&format!("/v1/databases/{id}/failover"), json!({}))
        .await?;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    local.wait_ready(&id).await?;

    let failover = local
        .post(&format!("/v1/databases/{id}/failover"), json!({}))
        .await?;
    assert_eq!(failover.status, StatusCode::ACCEPTED, "{}", failover.body);
    assert_eq!(failover.body["status"], "UPDATING");
    assert!(
        failover.body["status_message"]
            .as_str()
            .is_some_and(|m| m.contains("failing over")),
        "{}",
        failover.body
    );
    local.wait_ready(&id).await?;

    let missing_node = local
        .post(&format!("/v1/databases/{id}/restart"), json!({"node": 9}))
        .await?;
    // Whether a node exists depends on the database: a conflict, reason state.
    assert_eq!(
        missing_node.status,
        StatusCode::CONFLICT,
        "{}",
        missing_node.body
    );
    assert_eq!(missing_node.body["error"]["reason"], "state");
    assert!(missing_node.body.to_string().contains("there is no node 9"));
    let restart = local
        .post(&format!("/v1/databases/{id}/restart"), json!({"node": 1}))
        .await?;
    assert_eq!(restart.status, StatusCode::ACCEPTED, "{}", restart.body);
    assert_eq!(restart.body["status_message"], "restarting node 1");
    assert_eq!(local.wait_ready(&id).await?["status"], "READY");
    Ok(())
}
