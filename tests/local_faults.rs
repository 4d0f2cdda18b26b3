//! dbaas-local's fault injection over real HTTP: request faults (`before`/`after` × `status`,
//! `drop`, `delay`; `skip` and `count`; dialect error formats), what the store holds and what
//! the client saw in each case.
//!
//! Waiting polls with a generous hang guard; no assertion depends on how long anything takes,
//! except that a client whose timeout is far shorter than an injected delay times out, and that
//! the request log's reply time of a delayed request is at least the delay.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dbaas::local::{
    self, ComposeDialect, Config, GloboDialect, OvhDialect, RunningService, TokenSource,
};
use reqwest::{Client, Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};

/// Longest a test waits for something that should happen "soon"; only a hang guard.
const HANG_GUARD: Duration = Duration::from_secs(60);
const POLL_EVERY: Duration = Duration::from_millis(25);

const TOKEN: &str = "local-faults-token";
const OVH_AK: &str = "faults-application-key";
const OVH_AS: &str = "faults-application-secret";
const OVH_CK: &str = "faults-consumer-key";
const OVH_PROJECT: &str = "0f0e0d0c0b0a09080706050403020100";
const COMPOSE_TOKEN: &str = "faults-compose-token";
const COMPOSE_ACCOUNT: &str = "acme";
const COMPOSE_DEPLOYMENT: &str = "clients";
const GLOBO_USER: &str = "faults-globo";
const GLOBO_PASSWORD: &str = "faults-globo-password";

/// A service owned by one test, with the OVH, Compose and globo dialects on: in process, or
/// the real binary (then `service` is `None` and the test owns the process).
struct Local {
    service: Option<RunningService>,
    client: Client,
    base: String,
    _dir: Option<tempfile::TempDir>,
}

/// A request log entry: method, path, status, fault.
type LogEntry = (String, String, u64, Value);

/// The entries of `log` with this method.
fn only(method: &str, log: Vec<LogEntry>) -> Vec<LogEntry> {
    log.into_iter().filter(|entry| entry.0 == method).collect()
}

/// A reply that reached the client.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

fn config(data_dir: &Path, delay: Duration) -> Result<Config> {
    Ok(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.to_path_buf(),
        token: TokenSource::Given(SecretString::from(TOKEN)),
        provision_delay: delay,
        ovh: Some(OvhDialect {
            application_key: OVH_AK.into(),
            application_secret: SecretString::from(OVH_AS),
            consumer_key: SecretString::from(OVH_CK),
            service_name: OVH_PROJECT.into(),
        }),
        compose: Some(ComposeDialect {
            token: SecretString::from(COMPOSE_TOKEN),
            account: COMPOSE_ACCOUNT.into(),
            deployment: COMPOSE_DEPLOYMENT.into(),
        }),
        globo: Some(GloboDialect {
            username: GLOBO_USER.into(),
            password: SecretString::from(GLOBO_PASSWORD),
        }),
        ..Config::default()
    })
}

async fn start(delay: Duration) -> Result<Local> {
    let dir = tempfile::tempdir()?;
    let service = local::start(config(dir.path(), delay)?).await?;
    Ok(Local::around(service, Some(dir)))
}

async fn reply_of(response: reqwest::Response) -> Result<Reply> {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .with_context(|| format!("non-JSON body: {}", String::from_utf8_lossy(&bytes)))?
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

impl Local {
    fn around(service: RunningService, dir: Option<tempfile::TempDir>) -> Self {
        Self {
            base: service.base_url(),
            service: Some(service),
            client: Client::new(),
            _dir: dir,
        }
    }

    /// A client of a service listening at `base`.
    fn at(base: &str) -> Self {
        Self {
            service: None,
            client: Client::new(),
            base: base.to_owned(),
            _dir: None,
        }
    }

    async fn shutdown(self) {
        if let Some(service) = self.service {
            service.shutdown().await;
        }
    }

    /// A native request with the token, not sent yet.
    fn native(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply> {
        let mut request = self.native(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply_of(request.send().await?).await
    }

    async fn get(&self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Reply> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// A native request with an `Idempotency-Key`.
    async fn keyed(&self, path: &str, body: Value, key: &str) -> Result<Reply> {
        let request = self
            .native(Method::POST, path)
            .header("Idempotency-Key", key)
            .json(&body);
        reply_of(request.send().await?).await
    }

    /// Injects a request fault; returns the pending faults.
    async fn inject(&self, fault: Value) -> Result<Value> {
        let reply = self.post("/v1/_admin/faults", fault).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        Ok(reply.body["faults"].clone())
    }

    /// The request log without the admin requests: `(method, path, status, fault)`.
    async fn log(&self) -> Result<Vec<LogEntry>> {
        let reply = self.get("/v1/_admin/requests").await?;
        Ok(reply.body["requests"]
            .as_array()
            .context("requests")?
            .iter()
            .filter(|entry| !entry["path"].as_str().unwrap().starts_with("/v1/_admin/"))
            .map(|entry| {
                (
                    entry["method"].as_str().unwrap().to_owned(),
                    entry["path"].as_str().unwrap().to_owned(),
                    entry["status"].as_u64().unwrap(),
                    entry["fault"].clone(),
                )
            })
            .collect())
    }

    /// Names of the databases the native API lists.
    async fn names(&self) -> Result<Vec<String>> {
        let reply = self.get("/v1/databases").await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        Ok(reply.body["databases"]
            .as_array()
            .context("databases")?
            .iter()
            .map(|db| db["name"].as_str().unwrap().to_owned())
            .collect())
    }

    /// A signed OVH call; `path` is under `/ovh/1.0`.
    async fn ovh(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply> {
        let url = format!("{}/ovh/1.0{path}", self.base);
        let bytes = body.map(|body| body.to_string()).unwrap_or_default();
        let ts = chrono::Utc::now().timestamp().to_string();
        let mut text = format!("{OVH_AS}+{OVH_CK}+{method}+{url}+{bytes}+{ts}").into_bytes();
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &text);
        text.clear();
        let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let mut request = self
            .client
            .request(method, &url)
            .header("X-Ovh-Application", OVH_AK)
            .header("X-Ovh-Consumer", OVH_CK)
            .header("X-Ovh-Timestamp", &ts)
            .header("X-Ovh-Signature", format!("$1${hex}"));
        if !bytes.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(bytes);
        }
        reply_of(request.send().await?).await
    }

    /// A Compose call; `path` is under `/compose`.
    async fn compose(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply> {
        let mut request = self
            .client
            .request(method, format!("{}/compose{path}", self.base))
            .bearer_auth(COMPOSE_TOKEN)
            .header("Accept-Version", "2014-06");
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply_of(request.send().await?).await
    }
    /// A globo call; `path` is under `/globo`.
    async fn globo(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply> {
        let mut request = self
            .client
            .request(method, format!("{}/globo{path}", self.base))
            .basic_auth(GLOBO_USER, Some(GLOBO_PASSWORD));
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply_of(request.send().await?).await
    }

    /// Polls `GET path` until `done` accepts the reply.
    async fn wait_for(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&Reply) -> bool,
    ) -> Result<Reply> {
        let guard = tokio::time::Instant::now() + HANG_GUARD;
        loop {
            let reply = self.get(path).await?;
            if done(&reply) {
                return Ok(reply);
            }
            if tokio::time::Instant::now() > guard {
                bail!("hang guard: {what} never happened; last reply {reply:?}");
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Polls until the object at `path` has `status`.
    async fn wait_status(&self, path: &str, status: &str) -> Result<Value> {
        let reply = self
            .wait_for(path, &format!("{path} {status}"), |reply| {
                reply.status == StatusCode::OK && reply.body["status"] == status
            })
            .await?;
        Ok(reply.body)
    }

    /// A database created through the native API and waited on until READY; its id.
    async fn ready_database(&self, name: &str) -> Result<String> {
        let created = self.post("/v1/databases", json!({"name": name})).await?;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
        let id = id_of(&created.body);
        self.wait_status(&format!("/v1/databases/{id}"), "READY")
            .await?;
        Ok(id)
    }
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_owned()
}

/// The error chain of a failed request, one line, for assertions and messages.
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Asserts the request failed below HTTP: no status line reached the client.
fn assert_transport_error(outcome: reqwest::Result<reqwest::Response>) {
    match outcome {
        Ok(response) => panic!(
            "a reply reached the client: {} {:?}",
            response.status(),
            response.headers()
        ),
        Err(error) => {
            assert!(
                !error.is_timeout(),
                "a timeout, not a cut: {}",
                chain(&error)
            );
            assert!(error.status().is_none(), "{}", chain(&error));
            let text = chain(&error);
            assert!(
                text.contains("connection closed before message completed")
                    || text.contains("reset"),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn fault_before_status_answers_without_handling() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/v1/databases", "method": "POST", "status": 503, "retry_after": 4}))
        .await?;
    let refused = local
        .post("/v1/databases", json!({"name": "never"}))
        .await?;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.body["error"]["code"], "unavailable");
    assert_eq!(refused.headers["retry-after"], "4");
    assert!(local.names().await?.is_empty(), "nothing was handled");
    assert_eq!(
        only("POST", local.log().await?),
        [(
            "POST".to_owned(),
            "/v1/databases".to_owned(),
            503,
            json!("before:status")
        )]
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_before_drop_cuts_the_connection_and_does_nothing() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/v1/databases", "method": "POST", "action": "drop"}))
        .await?;
    let outcome = local
        .native(Method::POST, "/v1/databases")
        .json(&json!({"name": "dropped"}))
        .send()
        .await;
    assert_transport_error(outcome);
    assert!(local.names().await?.is_empty(), "nothing was handled");
    let log = local.log().await?;
    assert_eq!(
        log[0],
        (
            "POST".to_owned(),
            "/v1/databases".to_owned(),
            0,
            json!("before:drop")
        ),
        "status 0: no reply at all"
    );
    // The fault is used up: the same request now works.
    let created = local
        .post("/v1/databases", json!({"name": "dropped"}))
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_before_delay_handles_the_request_even_when_the_client_gave_up() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/v1/databases", "method": "POST", "action": "delay", "delay_ms": 600}))
        .await?;
    let outcome = local
        .native(Method::POST, "/v1/databases")
        .json(&json!({"name": "slow"}))
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    let error = outcome.expect_err("the client times out first");
    assert!(error.is_timeout(), "{}", chain(&error));
    assert!(
        local.names().await?.is_empty(),
        "still waiting before handling"
    );
    let guard = tokio::time::Instant::now() + HANG_GUARD;
    while local.names().await?.is_empty() {
        assert!(tokio::time::Instant::now() < guard, "never handled");
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert_eq!(local.names().await?, ["slow"]);
    let log = only("POST", local.log().await?);
    assert_eq!(
        log[0],
        (
            "POST".to_owned(),
            "/v1/databases".to_owned(),
            202,
            json!("before:delay")
        )
    );

    // A patient client gets the handler's own reply.
    local
        .inject(json!({"path_prefix": "/v1/databases", "method": "GET", "action": "delay", "delay_ms": 50}))
        .await?;
    let listed = local.get("/v1/databases").await?;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["databases"][0]["name"], "slow");
    local.shutdown().await;
    Ok(())
}

/// `took_ms` (with `at`, when the reply left) is what a benchmark times a client's wait with.
#[tokio::test]
async fn request_log_says_how_long_each_reply_took() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/v1/databases", "method": "GET", "action": "delay", "delay_ms": 300}))
        .await?;
    assert_eq!(local.get("/v1/databases").await?.status, StatusCode::OK);
    assert_eq!(local.get("/v1/databases").await?.status, StatusCode::OK);
    let reply = local.get("/v1/_admin/requests").await?;
    let took: Vec<(String, u64)> = reply.body["requests"]
        .as_array()
        .context("requests")?
        .iter()
        .map(|entry| {
            let took = entry["took_ms"].as_u64();
            (
                entry["path"].as_str().unwrap().to_owned(),
                took.expect("took_ms"),
            )
        })
        .filter(|(path, _)| path == "/v1/databases")
        .collect();
    assert_eq!(took.len(), 2, "{took:?}");
    assert!(
        took[0].1 >= 300,
        "the delayed reply took the delay: {took:?}"
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_after_status_commits_then_answers_the_status() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/v1/databases", "method": "POST", "when": "after", "status": 500}))
        .await?;
    let failed = local
        .post("/v1/databases", json!({"name": "committed"}))
        .await?;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.body["error"]["code"], "internal");
    assert_eq!(local.names().await?, ["committed"], "the create was done");
    let log = local.log().await?;
    assert_eq!(
        log[0],
        (
            "POST".to_owned(),
            "/v1/databases".to_owned(),
            500,
            json!("after:status")
        )
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_after_drop_commits_and_the_client_sees_a_transport_error() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/v1/databases", "method": "POST", "when": "after", "action": "drop"}))
        .await?;
    let outcome = local
        .native(Method::POST, "/v1/databases")
        .json(&json!({"name": "orphan"}))
        .send()
        .await;
    assert_transport_error(outcome);
    assert_eq!(
        local.names().await?,
        ["orphan"],
        "the database exists though the client got no reply"
    );
    let log = local.log().await?;
    assert_eq!(
        log[0],
        (
            "POST".to_owned(),
            "/v1/databases".to_owned(),
            202,
            json!("after:drop")
        ),
        "logged with the status the handler answered"
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_after_delay_commits_then_holds_the_reply() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/v1/databases", "method": "POST", "when": "after", "action": "delay", "delay_ms": 800, "count": 2}))
        .await?;
    let outcome = local
        .native(Method::POST, "/v1/databases")
        .json(&json!({"name": "late-reply"}))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    let error = outcome.expect_err("the client times out first");
    assert!(error.is_timeout(), "{}", chain(&error));
    assert_eq!(
        local.names().await?,
        ["late-reply"],
        "committed before the reply was held"
    );

    // A patient client gets the reply, late.
    let started = tokio::time::Instant::now();
    let created = local
        .post("/v1/databases", json!({"name": "patient"}))
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert_eq!(created.body["name"], "patient");
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_skip_passes_requests_then_count_hits_them() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    let pending = local
        .inject(json!({"path_prefix": "/v1/capabilities", "status": 502, "skip": 2, "count": 2}))
        .await?;
    assert_eq!(
        pending,
        json!([{"path_prefix": "/v1/capabilities", "method": null, "when": "before",
                "action": "status", "status": 502, "delay_ms": null, "retry_after": null,
                "skip": 2, "count": 2, "body": null}])
    );
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(local.get("/v1/capabilities").await?.status.as_u16());
        let listed = local.get("/v1/_admin/faults").await?;
        assert_eq!(listed.status, StatusCode::OK);
    }
    assert_eq!(statuses, [200, 200, 502, 502, 200]);
    let listed = local.get("/v1/_admin/faults").await?;
    assert_eq!(listed.body["faults"], json!([]), "used up");
    let faults: Vec<Value> = local
        .log()
        .await?
        .into_iter()
        .filter(|entry| entry.1 == "/v1/capabilities")
        .map(|entry| entry.3)
        .collect();
    assert_eq!(
        faults,
        [
            Value::Null,
            Value::Null,
            json!("before:status"),
            json!("before:status"),
            Value::Null
        ]
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_502_and_504_use_the_native_error_format() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/v1/capabilities", "status": 502}))
        .await?;
    local
        .inject(json!({"path_prefix": "/v1/capabilities", "status": 504}))
        .await?;
    let bad = local.get("/v1/capabilities").await?;
    assert_eq!(bad.status, StatusCode::BAD_GATEWAY);
    assert_eq!(bad.body["error"]["code"], "bad_gateway");
    let slow = local.get("/v1/capabilities").await?;
    assert_eq!(slow.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(slow.body["error"]["code"], "gateway_timeout");
    assert_eq!(local.get("/v1/capabilities").await?.status, StatusCode::OK);
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_under_a_dialect_answers_in_its_error_format() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/ovh/1.0/cloud", "status": 502}))
        .await?;
    let ovh = local
        .ovh(
            Method::GET,
            &format!("/cloud/project/{OVH_PROJECT}/database/mongodb"),
            None,
        )
        .await?;
    assert_eq!(ovh.status, StatusCode::BAD_GATEWAY);
    assert_eq!(ovh.body["class"], "Server::BadGateway");
    assert!(ovh.body["message"].as_str().unwrap().contains("injected"));
    assert!(
        ovh.headers.contains_key("x-ovh-queryid"),
        "OVH's headers still stamped"
    );

    // After the handler: the work is done, the reply is OVH's error.
    local
        .inject(json!({"path_prefix": "/ovh/1.0/cloud", "method": "POST", "when": "after", "status": 504}))
        .await?;
    let create = json!({"description": "ovh-after", "version": "8.0", "plan": "essential",
                        "nodesPattern": {"flavor": "db1-4", "number": 1, "region": "GRA"}});
    let failed = local
        .ovh(
            Method::POST,
            &format!("/cloud/project/{OVH_PROJECT}/database/mongodb"),
            Some(create),
        )
        .await?;
    assert_eq!(
        failed.status,
        StatusCode::GATEWAY_TIMEOUT,
        "{}",
        failed.body
    );
    assert_eq!(failed.body["class"], "Server::GatewayTimeout");
    assert_eq!(local.names().await?.len(), 1, "the OVH create was done");

    local
        .inject(json!({"path_prefix": "/compose/", "status": 429, "retry_after": 9}))
        .await?;
    let compose = local.compose(Method::GET, "/accounts", None).await?;
    assert_eq!(compose.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        compose.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["error"],
        "{}",
        compose.body
    );
    assert_eq!(compose.headers["retry-after"], "9");
    local
        .inject(json!({"path_prefix": "/compose/", "status": 502}))
        .await?;
    let compose = local.compose(Method::GET, "/accounts", None).await?;
    assert_eq!(compose.status, StatusCode::BAD_GATEWAY);
    assert!(compose.body["error"].is_string(), "{}", compose.body);
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fault_admin_paths_are_never_faulted_and_bad_bodies_name_the_field() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .inject(json!({"path_prefix": "/", "action": "drop", "count": 100}))
        .await?;
    let listed = local.get("/v1/_admin/faults").await?;
    assert_eq!(listed.body["faults"][0]["action"], "drop");
    assert_eq!(listed.body["faults"][0]["count"], 100);
    for (body, field) in [
        (json!({"path_prefix": "/", "action": "delay"}), "delay_ms"),
        (
            json!({"path_prefix": "/", "when": "during", "status": 500}),
            "when",
        ),
        (json!({"path_prefix": "/", "status": 501}), "status"),
        (
            json!({"path_prefix": "/", "action": "drop", "status": 500}),
            "status",
        ),
    ] {
        let refused = local.post("/v1/_admin/faults", body).await?;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.body["error"]["field"], field);
    }
    let cleared = local
        .send(Method::DELETE, "/v1/_admin/faults", None)
        .await?;
    assert_eq!(cleared.body["faults"], json!([]));
    assert_eq!(local.get("/v1/capabilities").await?.status, StatusCode::OK);
    local.shutdown().await;
    Ok(())
}

/// Asserts a 409 with reason `state` whose message says `says`.
fn assert_state_conflict(reply: &Reply, says: &str) {
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.body["error"]["reason"], "state", "{}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{message}");
}

#[tokio::test]
async fn credential_create_replays_its_idempotency_key_with_the_same_password() -> Result<()> {
    let local = start(Duration::from_millis(200)).await?;
    let db = local.ready_database("keyed-users").await?;
    let path = format!("/v1/databases/{db}/credentials");
    let body = json!({"username": "app", "roles": ["readWrite@app"]});
    let first = local.keyed(&path, body.clone(), "user-1").await?;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let password = first.body["password"].as_str().unwrap().to_owned();
    let again = local.keyed(&path, body.clone(), "user-1").await?;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body["username"], "app");
    assert_eq!(
        again.body["password"], password,
        "the generated password again"
    );
    assert_eq!(again.body["created_at"], first.body["created_at"]);

    let other_roles = json!({"username": "app", "roles": ["read@app"]});
    assert_state_conflict(
        &local.keyed(&path, other_roles, "user-1").await?,
        "different request body",
    );
    // Without the key the same body is a duplicate.
    let duplicate = local.post(&path, body.clone()).await?;
    assert_eq!(duplicate.body["error"]["reason"], "duplicate");

    // A chosen password is compared too, and never shown.
    let chosen = json!({"username": "own", "password": "chosen-password-1"});
    let first = local.keyed(&path, chosen.clone(), "user-2").await?;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let again = local.keyed(&path, chosen, "user-2").await?;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body["password"], Value::Null);
    assert_eq!(again.body["password_chosen"], true);
    let other_password = json!({"username": "own", "password": "chosen-password-2"});
    assert_state_conflict(
        &local.keyed(&path, other_password, "user-2").await?,
        "different request body",
    );

    // Keys are per database: the same key elsewhere is a new create.
    let elsewhere = local.ready_database("keyed-users-2").await?;
    let there = local
        .keyed(
            &format!("/v1/databases/{elsewhere}/credentials"),
            body.clone(),
            "user-1",
        )
        .await?;
    assert_eq!(there.status, StatusCode::ACCEPTED, "{}", there.body);
    assert_ne!(there.body["password"], password);

    // Deleted since: the answer databases give.
    let deleted = local
        .send(Method::DELETE, &format!("{path}/app"), None)
        .await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    local
        .wait_for(&format!("{path}/app"), "credential gone", |reply| {
            reply.status == StatusCode::NOT_FOUND
        })
        .await?;
    assert_state_conflict(
        &local.keyed(&path, body.clone(), "user-1").await?,
        "has since been deleted",
    );
    // Even once a new credential took the name: the key made the old one.
    let renewed = local.post(&path, body.clone()).await?;
    assert_eq!(renewed.status, StatusCode::ACCEPTED, "{}", renewed.body);
    assert_state_conflict(
        &local.keyed(&path, body, "user-1").await?,
        "has since been deleted",
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn index_create_replays_its_idempotency_key_per_collection() -> Result<()> {
    let local = start(Duration::from_millis(200)).await?;
    let db = local.ready_database("keyed-indexes").await?;
    let path = format!("/v1/databases/{db}/collections/orders/indexes");
    let body = json!({"keys": [{"field": "customer", "direction": 1}], "unique": true});
    let first = local.keyed(&path, body.clone(), "index-1").await?;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!(first.body["name"], "customer_1");
    // The same request with its members in another order.
    let same = json!({"unique": true, "keys": [{"direction": 1, "field": "customer"}]});
    let again = local.keyed(&path, same, "index-1").await?;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body, first.body);
    let other = json!({"keys": [{"field": "customer", "direction": -1}], "unique": true});
    assert_state_conflict(
        &local.keyed(&path, other, "index-1").await?,
        "different request body",
    );
    // Per collection: the same key on another collection is another create.
    let elsewhere = local
        .keyed(
            &format!("/v1/databases/{db}/collections/invoices/indexes"),
            body.clone(),
            "index-1",
        )
        .await?;
    assert_eq!(elsewhere.status, StatusCode::ACCEPTED, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["collection"], "invoices");

    let deleted = local
        .send(Method::DELETE, &format!("{path}/customer_1"), None)
        .await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);
    local
        .wait_for(&format!("{path}/customer_1"), "index gone", |reply| {
            reply.status == StatusCode::NOT_FOUND
        })
        .await?;
    assert_state_conflict(
        &local.keyed(&path, body, "index-1").await?,
        "has since been deleted",
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn ip_restriction_create_replays_its_idempotency_key_while_the_database_is_busy() -> Result<()>
{
    let local = start(Duration::from_millis(300)).await?;
    let db = local.ready_database("keyed-networks").await?;
    let path = format!("/v1/databases/{db}/ip-restrictions");
    let body = json!({"cidr": "10.1.0.7", "description": "office"});
    let first = local.keyed(&path, body.clone(), "net-1").await?;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let database = local.get(&format!("/v1/databases/{db}")).await?;
    assert_eq!(database.body["status"], "UPDATING", "the database is busy");
    // A retry meanwhile replays the create instead of meeting the busy database.
    let again = local.keyed(&path, body.clone(), "net-1").await?;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body, first.body);
    // Another spelling of the same network is the same request.
    let spelled = json!({"cidr": "10.1.0.7/32", "description": "office"});
    let spelled = local.keyed(&path, spelled, "net-1").await?;
    assert_eq!(spelled.status, StatusCode::ACCEPTED, "{}", spelled.body);
    let relabelled = json!({"cidr": "10.1.0.7", "description": "home"});
    assert_state_conflict(
        &local.keyed(&path, relabelled, "net-1").await?,
        "different request body",
    );
    // Without the key, the busy database answers as ever.
    let busy = local.post(&path, json!({"cidr": "10.2.0.0/16"})).await?;
    assert_eq!(busy.body["error"]["reason"], "busy", "{}", busy.body);

    local
        .wait_status(&format!("/v1/databases/{db}"), "READY")
        .await?;
    let deleted = local
        .send(Method::DELETE, &format!("{path}/10.1.0.7%2F32"), None)
        .await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);
    local
        .wait_for(
            &format!("{path}/10.1.0.7%2F32"),
            "restriction gone",
            |reply| reply.status == StatusCode::NOT_FOUND,
        )
        .await?;
    assert_state_conflict(
        &local.keyed(&path, body, "net-1").await?,
        "has since been deleted",
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn child_idempotency_key_must_be_visible_ascii() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    let db = local.ready_database("keyed-bad").await?;
    let refused = local
        .keyed(
            &format!("/v1/databases/{db}/credentials"),
            json!({"username": "app"}),
            "with space",
        )
        .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.body["error"]["field"], Value::Null);
    local.shutdown().await;
    Ok(())
}

impl Local {
    /// Adds a lifecycle fault; returns the pending ones.
    async fn lifecycle_fault(&self, rule: Value) -> Result<Value> {
        let reply = self.post("/v1/_admin/lifecycle-faults", rule).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        Ok(reply.body["lifecycle_faults"].clone())
    }

    /// The OVH service of the store database `name`, as OVH shows it.
    async fn ovh_service(&self, name: &str) -> Result<Value> {
        let list = format!("/cloud/project/{OVH_PROJECT}/database/mongodb");
        let ids = self.ovh(Method::GET, &list, None).await?;
        for id in ids.body.as_array().context("service ids")? {
            let id = id.as_str().unwrap();
            let service = self.ovh(Method::GET, &format!("{list}/{id}"), None).await?;
            if service.body["endpoints"][0]["path"] == format!("/{name}") {
                return Ok(service.body);
            }
        }
        bail!("OVH shows no service for {name}")
    }

    /// The OVH users of the service `service_id`, as OVH shows them.
    async fn ovh_users(&self, service_id: &str) -> Result<Vec<Value>> {
        let path = format!("/cloud/project/{OVH_PROJECT}/database/mongodb/{service_id}/user");
        let ids = self.ovh(Method::GET, &path, None).await?;
        let mut users = Vec::new();
        for id in ids.body.as_array().context("user ids")? {
            let id = id.as_str().unwrap();
            users.push(
                self.ovh(Method::GET, &format!("{path}/{id}"), None)
                    .await?
                    .body,
            );
        }
        Ok(users)
    }
}

#[tokio::test]
async fn lifecycle_fault_stuck_keeps_each_kind_transitional() -> Result<()> {
    let local = start(Duration::from_millis(100)).await?;
    let db = local.ready_database("base").await?;
    for (kind, name) in [
        ("database", "stuck-db"),
        ("credential", "stuck-user"),
        ("index", "stuck_index"),
        ("ip_restriction", "10.9.0.0/16"),
    ] {
        local
            .lifecycle_fault(json!({"kind": kind, "name": name, "outcome": "stuck"}))
            .await?;
    }
    let stuck_db = id_of(
        &local
            .post("/v1/databases", json!({"name": "stuck-db"}))
            .await?
            .body,
    );
    let credentials = format!("/v1/databases/{db}/credentials");
    local
        .post(&credentials, json!({"username": "stuck-user"}))
        .await?;
    local
        .post(&credentials, json!({"username": "fine-user"}))
        .await?;
    let indexes = format!("/v1/databases/{db}/collections/orders/indexes");
    let keys = |field: &str| json!([{"field": field, "direction": 1}]);
    local
        .post(&indexes, json!({"name": "stuck_index", "keys": keys("a")}))
        .await?;
    local
        .post(&indexes, json!({"name": "fine_index", "keys": keys("b")}))
        .await?;
    let restrictions = format!("/v1/databases/{db}/ip-restrictions");
    let created = local
        .post(&restrictions, json!({"cidr": "10.9.0.0/16"}))
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);

    // Objects created after the stuck ones settle: the stuck ones are past due by then.
    let fine_db = local.ready_database("fine-db").await?;
    local
        .wait_status(&format!("{credentials}/fine-user"), "READY")
        .await?;
    local
        .wait_status(&format!("{indexes}/fine_index"), "READY")
        .await?;
    local
        .wait_status(&format!("/v1/databases/{db}"), "READY")
        .await?;
    let restriction_path = format!("{restrictions}/10.9.0.0%2F16");
    for (path, status) in [
        (format!("/v1/databases/{stuck_db}"), "CREATING"),
        (format!("{credentials}/stuck-user"), "CREATING"),
        (format!("{indexes}/stuck_index"), "BUILDING"),
        (restriction_path.clone(), "CREATING"),
    ] {
        let reply = local.get(&path).await?;
        assert_eq!(reply.body["status"], status, "{path}: {}", reply.body);
    }
    assert!(!fine_db.is_empty());
    assert_eq!(
        local.get("/v1/_admin/lifecycle-faults").await?.body["lifecycle_faults"],
        json!([]),
        "each rule hit one object"
    );
    // A stuck object can still be deleted.
    let deleted = local
        .send(Method::DELETE, &format!("/v1/databases/{stuck_db}"), None)
        .await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);
    local
        .wait_for(&format!("/v1/databases/{stuck_db}"), "stuck db gone", |r| {
            r.status == StatusCode::NOT_FOUND
        })
        .await?;
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn lifecycle_fault_failed_shows_error_natively_and_through_ovh() -> Result<()> {
    let local = start(Duration::from_millis(100)).await?;
    let db = local.ready_database("host").await?;
    for (kind, name) in [
        ("credential", "doomed-user"),
        ("index", "doomed_index"),
        ("ip_restriction", "10.8.0.0/16"),
    ] {
        local
            .lifecycle_fault(json!({"kind": kind, "name": name, "outcome": "failed"}))
            .await?;
    }
    let pending = local
        .lifecycle_fault(
            json!({"kind": "database", "outcome": "failed", "message": "no capacity left"}),
        )
        .await?;
    assert_eq!(pending.as_array().map(Vec::len), Some(4));
    assert_eq!(
        pending[3],
        json!({"kind": "database", "name": null, "outcome": "failed",
               "message": "no capacity left", "count": 1})
    );

    // The database is created through the OVH dialect: the rule sits below every API.
    let create = json!({"description": "doomed-db", "version": "8.0", "plan": "essential",
                        "nodesPattern": {"flavor": "db1-4", "number": 1, "region": "GRA"}});
    let created = local
        .ovh(
            Method::POST,
            &format!("/cloud/project/{OVH_PROJECT}/database/mongodb"),
            Some(create),
        )
        .await?;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let credentials = format!("/v1/databases/{db}/credentials");
    local
        .post(&credentials, json!({"username": "doomed-user"}))
        .await?;
    let indexes = format!("/v1/databases/{db}/collections/orders/indexes");
    local
        .post(
            &indexes,
            json!({"name": "doomed_index", "keys": [{"field": "a", "direction": 1}]}),
        )
        .await?;
    let restrictions = format!("/v1/databases/{db}/ip-restrictions");
    local
        .post(&restrictions, json!({"cidr": "10.8.0.0/16"}))
        .await?;

    let doomed = local.get("/v1/databases").await?.body["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] != "host")
        .cloned()
        .context("the OVH-created database")?;
    let doomed_id = id_of(&doomed);
    let failed = local
        .wait_status(&format!("/v1/databases/{doomed_id}"), "ERROR")
        .await?;
    assert_eq!(failed["status_message"], "no capacity left");
    for path in [
        format!("{credentials}/doomed-user"),
        format!("{indexes}/doomed_index"),
        format!("{restrictions}/10.8.0.0%2F16"),
    ] {
        // Each says why, as its database does.
        let child = local.wait_status(&path, "ERROR").await?;
        assert!(
            child["status_message"]
                .as_str()
                .is_some_and(|why| !why.is_empty()),
            "{child}"
        );
    }

    // OVH's own words: ERROR for the service, its users and its IP restrictions.
    let service = local.ovh_service(doomed["name"].as_str().unwrap()).await?;
    assert_eq!(service["status"], "ERROR", "{service}");
    local
        .wait_status(&format!("/v1/databases/{db}"), "READY")
        .await?;
    let host = local.ovh_service("host").await?;
    let restriction = host["ipRestrictions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ip"] == "10.8.0.0/16")
        .cloned()
        .context("the restriction in OVH's service")?;
    assert_eq!(restriction["status"], "ERROR");
    let users = local.ovh_users(host["id"].as_str().unwrap()).await?;
    let doomed_user = users
        .iter()
        .find(|u| u["username"] == "doomed-user@admin")
        .context("the user in OVH")?;
    assert_eq!(doomed_user["status"], "ERROR");
    // The built-in admin user of the failed OVH service was not a target.
    let admin = local.ovh_users(service["id"].as_str().unwrap()).await?;
    assert_eq!(admin[0]["status"], "READY", "{admin:?}");

    // Compose's word for it.
    let compose = local
        .compose(
            Method::GET,
            &format!("/deployments/{COMPOSE_ACCOUNT}/{COMPOSE_DEPLOYMENT}/databases"),
            None,
        )
        .await?;
    let listed = compose.body.to_string();
    assert!(listed.contains("\"failed\""), "{listed}");

    // A failed object cannot be changed (waiting never helps), only deleted.
    let change = local
        .send(
            Method::PATCH,
            &format!("/v1/databases/{doomed_id}"),
            Some(json!({"plan": "business"})),
        )
        .await?;
    assert_state_conflict(&change, "has failed");
    let roles = local
        .send(
            Method::PATCH,
            &format!("{credentials}/doomed-user"),
            Some(json!({"roles": ["read@x"]})),
        )
        .await?;
    assert_state_conflict(&roles, "has failed");
    let deleted = local
        .send(Method::DELETE, &format!("{credentials}/doomed-user"), None)
        .await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn lifecycle_faults_are_listed_cleared_and_validated() -> Result<()> {
    let local = start(Duration::ZERO).await?;
    local
        .lifecycle_fault(json!({"kind": "index", "outcome": "stuck", "count": 3}))
        .await?;
    let listed = local.get("/v1/_admin/lifecycle-faults").await?;
    assert_eq!(listed.body["lifecycle_faults"][0]["count"], 3);
    let cleared = local
        .send(Method::DELETE, "/v1/_admin/lifecycle-faults", None)
        .await?;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["lifecycle_faults"], json!([]));
    for (body, field) in [
        (json!({"kind": "user", "outcome": "stuck"}), "kind"),
        (json!({"kind": "database", "outcome": "slow"}), "outcome"),
        (
            json!({"kind": "ip_restriction", "name": "not-a-network", "outcome": "stuck"}),
            "name",
        ),
    ] {
        let refused = local.post("/v1/_admin/lifecycle-faults", body).await?;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(refused.body["error"]["field"], field);
    }
    // Request faults never hit the admin endpoints.
    local
        .inject(json!({"path_prefix": "/", "status": 503, "count": 10}))
        .await?;
    assert_eq!(
        local.get("/v1/_admin/lifecycle-faults").await?.status,
        StatusCode::OK
    );
    local.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn lifecycle_fault_failed_makes_globos_synchronous_create_answer_500() -> Result<()> {
    let local = start(Duration::from_millis(50)).await?;
    local
        .lifecycle_fault(json!({"kind": "database", "name": "sync-db", "outcome": "failed", "message": "no host"}))
        .await?;
    let body =
        json!({"name": "sync_db", "plan": "/api/plan/1/", "environment": "/api/environment/1/"});
    let refused = local
        .globo(Method::POST, "/api/database/", Some(body))
        .await?;
    assert_eq!(
        refused.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        refused.body
    );
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("no host"), "{detail}");
    // What was made stays, failed, for the operators (and Terraform) to delete.
    assert_eq!(local.names().await?, ["sync-db"]);
    let listed = local.get("/v1/databases").await?;
    assert_eq!(listed.body["databases"][0]["status"], "ERROR");
    local.shutdown().await;
    Ok(())
}

/// The real `dbaas-local` binary, killed when dropped.
struct Process {
    child: std::process::Child,
    base: String,
    stderr: std::path::PathBuf,
}

impl Process {
    /// Starts the binary on a free port with `args` besides the usual ones; waits for its
    /// listening line.
    fn spawn(
        data_dir: &Path,
        delay: &str,
        work: &Path,
        label: &str,
        args: &[&str],
    ) -> Result<Self> {
        let mut command = binary();
        command.args(args);
        Self::spawn_with(command, data_dir, delay, work, label)
    }

    /// [`Process::spawn`] of a prepared command (extra arguments, environment).
    fn spawn_with(
        mut command: std::process::Command,
        data_dir: &Path,
        delay: &str,
        work: &Path,
        label: &str,
    ) -> Result<Self> {
        let stderr = work.join(format!("{label}.stderr"));
        let mut child = command
            .args([
                "--listen",
                "127.0.0.1:0",
                "--provision-delay",
                delay,
                "--token",
                TOKEN,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&stderr)?)
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        let Some(base) = line.trim().strip_prefix("dbaas-local listening on ") else {
            let _ = child.kill();
            bail!(
                "no listening line ({line:?}); stderr: {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        };
        Ok(Self {
            base: base.to_owned(),
            child,
            stderr,
        })
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn kill_9(&mut self) -> Result<()> {
        let status = std::process::Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()?;
        assert!(status.success());
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary, without any `DBAAS_LOCAL_*` variable of the caller's environment.
fn binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dbaas-local"));
    for (name, _) in std::env::vars() {
        if name.starts_with("DBAAS_LOCAL_") {
            command.env_remove(name);
        }
    }
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_file_installs_request_and_lifecycle_faults_at_start() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("faults.json");
    std::fs::write(
        &file,
        json!({
            "faults": [{"path_prefix": "/v1/capabilities", "status": 503, "count": 2}],
            "lifecycle_faults": [{"kind": "database", "outcome": "failed", "message": "from the file"}]
        })
        .to_string(),
    )?;
    let data_dir = dir.path().join("data");
    let file_arg = file.to_str().unwrap().to_owned();
    let process = tokio::task::block_in_place(|| {
        Process::spawn(
            &data_dir,
            "0s",
            dir.path(),
            "file",
            &["--faults", &file_arg],
        )
    })?;
    let local = Local::at(&process.base);
    let pending = local.get("/v1/_admin/faults").await?;
    assert_eq!(pending.body["faults"][0]["count"], 2, "{}", pending.body);
    for _ in 0..2 {
        let refused = local.get("/v1/capabilities").await?;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(local.get("/v1/capabilities").await?.status, StatusCode::OK);
    let created = local
        .post("/v1/databases", json!({"name": "filed"}))
        .await?;
    let failed = local
        .wait_status(&format!("/v1/databases/{}", id_of(&created.body)), "ERROR")
        .await?;
    assert_eq!(failed["status_message"], "from the file");
    let stderr = process.stderr();
    assert!(stderr.contains("fault injected"), "{stderr}");
    assert!(stderr.contains("lifecycle fault applied"), "{stderr}");
    drop(process);

    // The same through the environment variable.
    std::fs::write(
        &file,
        json!({"faults": [{"path_prefix": "/v1/capabilities", "status": 502}]}).to_string(),
    )?;
    let process = tokio::task::block_in_place(|| {
        let mut command = binary();
        command.env("DBAAS_LOCAL_FAULTS", &file);
        Process::spawn_with(command, &data_dir, "0s", dir.path(), "env")
    })?;
    let local = Local::at(&process.base);
    assert_eq!(
        local.get("/v1/capabilities").await?.status,
        StatusCode::BAD_GATEWAY
    );
    Ok(())
}

#[test]
fn faults_file_that_cannot_be_used_refuses_to_start() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("faults.json");
    for (text, problem) in [
        (
            "{\"faults\": [{\"path_prefix\": \"/\", \"status\": 418}]}",
            "faults[0].status",
        ),
        ("not json", "it is not JSON"),
    ] {
        std::fs::write(&file, text)?;
        let output = binary()
            .args(["--listen", "127.0.0.1:0", "--faults"])
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .output()?;
        assert!(!output.status.success());
        assert!(output.stdout.is_empty(), "it never listened");
        let stderr = String::from_utf8(output.stderr)?;
        assert!(
            stderr.contains(&format!("cannot load faults from {}", file.display())),
            "{stderr}"
        );
        assert!(stderr.contains(problem), "{stderr}");
    }
    let output = binary()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--faults",
            "/nonexistent/faults.json",
        ])
        .output()?;
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr)?;
    assert!(
        stderr.contains("/nonexistent/faults.json: cannot read it"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_kill_9_settles_every_provisioning_object_as_planned() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let mut first =
        tokio::task::block_in_place(|| Process::spawn(&data_dir, "2s", dir.path(), "first", &[]))?;
    let local = Local::at(&first.base);
    let host = local.ready_database("host").await?;
    local
        .lifecycle_fault(json!({"kind": "database", "name": "doomed", "outcome": "failed", "message": "lost a disk"}))
        .await?;
    local
        .lifecycle_fault(json!({"kind": "index", "name": "stuck_index", "outcome": "stuck"}))
        .await?;
    let credential = format!("/v1/databases/{host}/credentials/app");
    let created = local
        .post(
            &format!("/v1/databases/{host}/credentials"),
            json!({"username": "app"}),
        )
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let indexes = format!("/v1/databases/{host}/collections/orders/indexes");
    for (name, field) in [("by_customer", "customer"), ("stuck_index", "day")] {
        let created = local
            .post(
                &indexes,
                json!({"name": name, "keys": [{"field": field, "direction": 1}]}),
            )
            .await?;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    }
    let restriction = format!("/v1/databases/{host}/ip-restrictions/10.4.0.0%2F16");
    let created = local
        .post(
            &format!("/v1/databases/{host}/ip-restrictions"),
            json!({"cidr": "10.4.0.0/16"}),
        )
        .await?;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let fresh = id_of(
        &local
            .post("/v1/databases", json!({"name": "fresh"}))
            .await?
            .body,
    );
    let doomed = id_of(
        &local
            .post("/v1/databases", json!({"name": "doomed"}))
            .await?
            .body,
    );
    // SIGKILL while all of it is still provisioning.
    assert_eq!(
        local.get(&format!("/v1/databases/{fresh}")).await?.body["status"],
        "CREATING"
    );
    first.kill_9()?;
    drop(first);

    // Restarted with a delay no test outlives: settling can only come from what the first
    // process persisted.
    let second =
        tokio::task::block_in_place(|| Process::spawn(&data_dir, "1h", dir.path(), "second", &[]))?;
    let local = Local::at(&second.base);
    for (path, status) in [
        (format!("/v1/databases/{fresh}"), "READY"),
        (format!("/v1/databases/{host}"), "READY"),
        (credential, "READY"),
        (format!("{indexes}/by_customer"), "READY"),
        (restriction, "READY"),
        (format!("/v1/databases/{doomed}"), "ERROR"),
    ] {
        let reached = local.wait_status(&path, status).await;
        assert!(
            reached.is_ok(),
            "{path}: {reached:?}; stderr: {}",
            second.stderr()
        );
    }
    let doomed = local.get(&format!("/v1/databases/{doomed}")).await?;
    assert_eq!(doomed.body["status_message"], "lost a disk");
    let stuck = local.get(&format!("{indexes}/stuck_index")).await?;
    assert_eq!(
        stuck.body["status"], "BUILDING",
        "still stuck after the restart"
    );
    Ok(())
}
