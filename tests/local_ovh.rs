//! dbaas-local's OVH dialect (`/ovh/1.0`), over real HTTP: OVH's signature and auth errors,
//! every endpoint's happy path and statuses, the busy and locked rules, OVH's error classes,
//! schema conformance of every reply (OVH's own schema files, through `support::ovh_schema`),
//! and the store shared with the native API.
//!
//! Requests are signed here with this file's own SHA-1 signer, checked against OVH's published
//! test vector first.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dbaas::local::{self, Config, OvhDialect, RunningService, TokenSource};
use secrecy::SecretString;
use serde_json::{Value, json};
use support::ovh_schema::OvhSchema;

const AK: &str = "local-test-application-key";
const AS: &str = "local-test-application-secret";
const CK: &str = "local-test-consumer-key";
const PROJECT: &str = "5f0b6c1e9a2d4c3b8e7f6a5b4c3d2e1f";
const TOKEN: &str = "native-token-for-ovh-tests";
const BASE: &str = "/ovh/1.0";
const P: &str = "/cloud/project/5f0b6c1e9a2d4c3b8e7f6a5b4c3d2e1f/database";

/// Classes used where OVH's catalogue has no specific one (see the dialect's docs).
const GENERIC_CLASSES: &[&str] = &[
    "Client::BadRequest",
    "Client::NotFound",
    "Client::MethodNotAllowed",
    "Client::Conflict",
    "Client::TooManyRequests",
    "Server::InternalServerError",
    "Server::ServiceUnavailable",
];

/// `$1$` + hex SHA-1 of `AS+CK+METHOD+URL+BODY+TS`, written here from OVH's description.
fn sign(secret: &str, consumer: &str, method: &str, url: &str, body: &[u8], ts: &str) -> String {
    let mut text = Vec::new();
    text.extend_from_slice(format!("{secret}+{consumer}+{method}+{url}+").as_bytes());
    text.extend_from_slice(body);
    text.extend_from_slice(format!("+{ts}").as_bytes());
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &text);
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("$1${hex}")
}

/// One request and its answer, kept for the conformance check.
#[derive(Debug, Clone)]
struct Exchange {
    method: String,
    /// Path under `/ovh/1.0`, with its query.
    path: String,
    status: u16,
    body: Value,
    query_id: Option<String>,
    retry_after: Option<String>,
}

/// What a request is signed with (tests of wrong keys change one part).
#[derive(Clone)]
struct Keys {
    application_key: String,
    application_secret: String,
    consumer_key: String,
    /// Seconds added to the current time for `X-Ovh-Timestamp`.
    skew: i64,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            application_key: AK.into(),
            application_secret: AS.into(),
            consumer_key: CK.into(),
            skew: 0,
        }
    }
}

struct Service {
    running: RunningService,
    client: reqwest::Client,
    base: String,
    log: Mutex<Vec<Exchange>>,
    _dir: Option<tempfile::TempDir>,
}

fn ovh_config() -> OvhDialect {
    OvhDialect {
        application_key: AK.into(),
        application_secret: SecretString::from(AS),
        consumer_key: SecretString::from(CK),
        service_name: PROJECT.into(),
    }
}

async fn start_in(dir: &Path, delay: Duration, ovh: Option<OvhDialect>) -> Result<Service> {
    let running = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.to_path_buf(),
        token: TokenSource::Given(SecretString::from(TOKEN)),
        provision_delay: delay,
        compose: None,
        ovh,
        globo: None,
        goaddon: None,
        databaselabs: None,
        postgres: Default::default(),
    })
    .await?;
    Ok(Service {
        base: running.base_url(),
        running,
        client: reqwest::Client::new(),
        log: Mutex::new(Vec::new()),
        _dir: None,
    })
}

async fn start(delay: Duration) -> Result<Service> {
    let dir = tempfile::tempdir()?;
    let mut service = start_in(dir.path(), delay, Some(ovh_config())).await?;
    service._dir = Some(dir);
    Ok(service)
}

impl Service {
    /// A signed OVH call; `path` is under `/ovh/1.0`.
    async fn ovh(&self, method: &str, path: &str, body: Option<Value>) -> Result<Exchange> {
        let bytes = match &body {
            Some(body) => serde_json::to_vec(body)?,
            None => Vec::new(),
        };
        self.signed(method, path, bytes, &Keys::default()).await
    }

    async fn signed(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        keys: &Keys,
    ) -> Result<Exchange> {
        let url = format!("{}{BASE}{path}", self.base);
        let ts = (chrono::Utc::now().timestamp() + keys.skew).to_string();
        let signature = sign(
            &keys.application_secret,
            &keys.consumer_key,
            method,
            &url,
            &body,
            &ts,
        );
        let mut request = self
            .client
            .request(method.parse()?, &url)
            .header("X-Ovh-Application", &keys.application_key)
            .header("X-Ovh-Consumer", &keys.consumer_key)
            .header("X-Ovh-Timestamp", &ts)
            .header("X-Ovh-Signature", signature);
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        self.send(method, path, request).await
    }

    /// An unsigned call (only `/auth/time` accepts it).
    async fn unsigned(&self, method: &str, path: &str) -> Result<Exchange> {
        let url = format!("{}{BASE}{path}", self.base);
        let request = self.client.request(method.parse()?, &url);
        self.send(method, path, request).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Exchange> {
        let response = request.send().await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let (query_id, retry_after) = (header("x-ovh-queryid"), header("retry-after"));
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("{method} {path}: {text}"))?
        };
        let exchange = Exchange {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            body,
            query_id,
            retry_after,
        };
        self.log.lock().unwrap().push(exchange.clone());
        Ok(exchange)
    }

    /// A native API call with the bearer token.
    async fn native(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let mut request = self
            .client
            .request(method.parse()?, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// The native id of the database named `name`.
    async fn native_id(&self, name: &str) -> Result<String> {
        let (_, list) = self.native("GET", "/v1/databases", None).await?;
        list["databases"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|db| db["name"] == name)
            .and_then(|db| db["id"].as_str().map(str::to_owned))
            .with_context(|| format!("no native database {name}: {list}"))
    }

    /// Polls `path` until its `status` is `wanted`.
    async fn wait_status(&self, path: &str, wanted: &str) -> Result<Value> {
        for _ in 0..1000 {
            let reply = self.ovh("GET", path, None).await?;
            if reply.status == 200 && reply.body["status"] == wanted {
                return Ok(reply.body);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("{path} never became {wanted}")
    }

    /// Polls `path` until it answers 404.
    async fn wait_gone(&self, path: &str) -> Result<Exchange> {
        for _ in 0..1000 {
            let reply = self.ovh("GET", path, None).await?;
            if reply.status == 404 {
                return Ok(reply);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("{path} never went away")
    }

    fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().unwrap().clone()
    }
}

fn assert_error(reply: &Exchange, status: u16, class: &str) {
    assert_eq!(
        reply.status, status,
        "{} {}: {:?}",
        reply.method, reply.path, reply.body
    );
    assert_eq!(
        reply.body["class"], class,
        "{} {}",
        reply.method, reply.path
    );
    assert!(
        reply.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{:?}",
        reply.body
    );
}

fn assert_auth_error(reply: &Exchange, status: u16, code: &str, http_code: &str, message: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(
        reply.body,
        json!({"errorCode": code, "httpCode": http_code, "message": message})
    );
    assert!(reply.query_id.is_some(), "auth errors carry X-Ovh-QueryID");
}

/// Every reply validates against OVH's schema: success bodies against the operation's
/// `responseType` (2024; the deprecated `/ipRestriction` ones against 2021 too), errors have
/// exactly OVH's members and a class the operation declares (or a generic one), with the status
/// of its second segment. Returns the operations whose success bodies were checked.
fn assert_conforms(exchanges: &[Exchange]) -> BTreeSet<(String, String)> {
    let schema_2024 = OvhSchema::load_2024();
    let schema_2021 = OvhSchema::load_2021();
    let mut checked = BTreeSet::new();
    for exchange in exchanges {
        let label = format!(
            "{} {} → {}",
            exchange.method, exchange.path, exchange.status
        );
        assert!(exchange.query_id.is_some(), "{label}: no X-Ovh-QueryID");
        let path = exchange.path.split('?').next().unwrap();
        if path == "/auth/time" {
            assert!(exchange.body.is_i64(), "{label}: {}", exchange.body);
            continue;
        }
        if exchange.body.get("errorCode").is_some() {
            let keys: Vec<&String> = exchange.body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["errorCode", "httpCode", "message"], "{label}");
            continue;
        }
        let template = schema_2024.template_for(&exchange.method, path);
        if exchange.status >= 400 {
            let keys: Vec<&String> = exchange.body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["class", "message"], "{label}: {}", exchange.body);
            let class = exchange.body["class"].as_str().unwrap();
            let declared = template
                .as_deref()
                .map(|t| schema_2024.error_classes(&exchange.method, t))
                .unwrap_or_default();
            assert!(
                declared.iter().any(|c| c == class) || GENERIC_CLASSES.contains(&class),
                "{label}: class {class} is not declared"
            );
            let expected_status = match class.split("::").nth(1).unwrap() {
                "BadRequest" => 400,
                "NotFound" => 404,
                "MethodNotAllowed" => 405,
                "Conflict" => 409,
                "TooManyRequests" => 429,
                "ServiceUnavailable" => 503,
                _ => 500,
            };
            assert_eq!(exchange.status, expected_status, "{label}: {class}");
            continue;
        }
        let template = template.unwrap_or_else(|| panic!("{label}: not an OVH operation"));
        if let Err(problems) =
            schema_2024.validate_response(&exchange.method, &template, &exchange.body)
        {
            panic!(
                "{label} does not match the 2024 schema: {problems:#?}\n{}",
                exchange.body
            );
        }
        if template.contains("/ipRestriction")
            && let Err(problems) =
                schema_2021.validate_response(&exchange.method, &template, &exchange.body)
        {
            panic!("{label} does not match the 2021 schema: {problems:#?}");
        }
        checked.insert((exchange.method.clone(), template));
    }
    checked
}

fn pattern(plan: &str, flavor: &str, number: u32, region: &str) -> Value {
    json!({
        "description": "orders",
        "plan": plan,
        "version": "7.0",
        "nodesPattern": {"flavor": flavor, "number": number, "region": region},
    })
}

// ---- signature and authentication ----

#[test]
fn signer_reproduces_the_published_test_vector() {
    assert_eq!(
        sign(
            "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
            "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1",
            "GET",
            "https://eu.api.ovh.com/1.0/domain/",
            b"",
            "1366560945"
        ),
        "$1$6a77f43f2871db97a029f1d1d81c4dcd3c6f7265"
    );
}

#[tokio::test]
async fn auth_time_is_bare_unix_seconds_without_signature() -> Result<()> {
    let service = start(Duration::ZERO).await?;
    let before = chrono::Utc::now().timestamp();
    let reply = service.unsigned("GET", "/auth/time").await?;
    let after = chrono::Utc::now().timestamp();
    assert_eq!(reply.status, 200);
    let seconds = reply.body.as_i64().context("a bare integer")?;
    assert!((before..=after).contains(&seconds), "{seconds}");
    assert!(
        reply
            .query_id
            .as_deref()
            .is_some_and(|id| id.starts_with("EU.ext-"))
    );
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn signature_is_checked_with_ovh_auth_errors() -> Result<()> {
    let service = start(Duration::ZERO).await?;
    let path = format!("{P}/capabilities");
    let good = service.ovh("GET", &path, None).await?;
    assert_eq!(good.status, 200, "{:?}", good.body);

    let with = |change: &dyn Fn(&mut Keys)| {
        let mut keys = Keys::default();
        change(&mut keys);
        keys
    };
    let reply = service
        .signed(
            "GET",
            &path,
            Vec::new(),
            &with(&|k| k.application_secret = "not-the-secret".into()),
        )
        .await?;
    assert_auth_error(
        &reply,
        400,
        "INVALID_SIGNATURE",
        "400 Bad Request",
        "Invalid signature",
    );
    let reply = service
        .signed(
            "GET",
            &path,
            Vec::new(),
            &with(&|k| k.application_key = "unknown-key".into()),
        )
        .await?;
    assert_auth_error(
        &reply,
        403,
        "INVALID_KEY",
        "403 Forbidden",
        "Invalid application key",
    );
    let reply = service
        .signed(
            "GET",
            &path,
            Vec::new(),
            &with(&|k| k.consumer_key = "other-consumer".into()),
        )
        .await?;
    assert_auth_error(
        &reply,
        403,
        "INVALID_CREDENTIAL",
        "403 Forbidden",
        "This credential is not valid",
    );
    let reply = service
        .signed("GET", &path, Vec::new(), &with(&|k| k.skew = -1000))
        .await?;
    assert_auth_error(
        &reply,
        400,
        "QUERY_TIME_OUT",
        "400 Bad Request",
        "Query out of time",
    );
    let reply = service
        .signed("GET", &path, Vec::new(), &with(&|k| k.skew = 1000))
        .await?;
    assert_auth_error(
        &reply,
        400,
        "QUERY_TIME_OUT",
        "400 Bad Request",
        "Query out of time",
    );
    // Within the ±300 s window (with margin for this test's own time).
    let reply = service
        .signed("GET", &path, Vec::new(), &with(&|k| k.skew = -240))
        .await?;
    assert_eq!(reply.status, 200);

    // The body is part of the signature: one byte changed in transit is refused.
    let url = format!("{}{BASE}{P}/mongodb", service.base);
    let ts = chrono::Utc::now().timestamp().to_string();
    let signed_body = serde_json::to_vec(&pattern("essential", "db1-4", 1, "GRA"))?;
    let signature = sign(AS, CK, "POST", &url, &signed_body, &ts);
    let tampered = serde_json::to_vec(&pattern("essential", "db1-7", 1, "GRA"))?;
    let request = service
        .client
        .post(&url)
        .header("X-Ovh-Application", AK)
        .header("X-Ovh-Consumer", CK)
        .header("X-Ovh-Timestamp", &ts)
        .header("X-Ovh-Signature", signature)
        .header("Content-Type", "application/json")
        .body(tampered);
    let reply = service
        .send("POST", &format!("{P}/mongodb"), request)
        .await?;
    assert_auth_error(
        &reply,
        400,
        "INVALID_SIGNATURE",
        "400 Bad Request",
        "Invalid signature",
    );

    // No OVH headers at all (a native bearer token does not count here).
    let request = service
        .client
        .get(format!("{}{BASE}{path}", service.base))
        .bearer_auth(TOKEN);
    let reply = service.send("GET", &path, request).await?;
    assert_auth_error(
        &reply,
        403,
        "INVALID_KEY",
        "403 Forbidden",
        "Invalid application key",
    );
    let request = service
        .client
        .get(format!("{}{BASE}{path}", service.base))
        .header("X-Ovh-Application", AK);
    let reply = service.send("GET", &path, request).await?;
    assert_auth_error(
        &reply,
        403,
        "NOT_CREDENTIAL",
        "403 Forbidden",
        "You must login first",
    );

    let (status, list) = service.native("GET", "/v1/databases", None).await?;
    assert_eq!(
        (status, list),
        (200, json!({"databases": []})),
        "nothing was created"
    );
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unconfigured_dialect_and_other_projects_answer_ovh_404() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let off = start_in(dir.path(), Duration::ZERO, None).await?;
    for path in ["/auth/time", &format!("{P}/mongodb")] {
        let reply = off.ovh("GET", path, None).await?;
        assert_error(&reply, 404, "Client::NotFound");
        assert!(
            reply.body["message"]
                .as_str()
                .unwrap()
                .contains("--ovh-application-key"),
            "{:?}",
            reply.body
        );
        assert!(reply.query_id.is_some());
    }
    off.running.shutdown().await;

    let service = start(Duration::ZERO).await?;
    let other = "/cloud/project/someone-else/database/mongodb";
    assert_error(
        &service.ovh("GET", other, None).await?,
        404,
        "Client::NotFound::ServiceNotFound",
    );
    assert_error(
        &service
            .ovh("POST", other, Some(pattern("essential", "db1-4", 1, "GRA")))
            .await?,
        404,
        "Client::NotFound::ServiceNotFound",
    );
    let (_, list) = service.native("GET", "/v1/databases", None).await?;
    assert_eq!(list, json!({"databases": []}));
    assert_conforms(&service.exchanges());
    service.running.shutdown().await;
    Ok(())
}

// ---- every endpoint ----

#[tokio::test]
async fn every_endpoint_answers_and_conforms_to_the_schema() -> Result<()> {
    let service = start(Duration::from_millis(50)).await?;

    let capabilities = service
        .ovh("GET", &format!("{P}/capabilities"), None)
        .await?;
    assert_eq!(capabilities.status, 200);
    let plans: Vec<&str> = capabilities.body["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plan| plan["name"].as_str().unwrap())
        .collect();
    assert_eq!(plans, ["essential", "business", "enterprise"]);
    assert_eq!(
        capabilities.body["regions"],
        json!(["GRA", "DE", "US-EAST-VA"])
    );
    let mongodb = capabilities.body["engines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|engine| engine["name"] == "mongodb")
        .context("mongodb engine")?;
    assert_eq!(mongodb["versions"], json!(["6.0", "7.0", "8.0"]));
    let availability = service
        .ovh("GET", &format!("{P}/availability"), None)
        .await?;
    assert_eq!(availability.status, 200);
    let business = availability
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["engine"] == "mongodb" && entry["plan"] == "business")
        .context("a business offer")?;
    assert_eq!(
        (
            business["minNodeNumber"].as_u64(),
            business["maxNodeNumber"].as_u64()
        ),
        (Some(3), Some(8))
    );

    let list = service.ovh("GET", &format!("{P}/mongodb"), None).await?;
    assert_eq!((list.status, &list.body), (200, &json!([])));

    let mut create = pattern("business", "db1-7", 3, "GRA");
    create["ipRestrictions"] = json!([{"ip": "10.1.0.0/16", "description": "vpc"}]);
    let created = service
        .ovh("POST", &format!("{P}/mongodb"), Some(create))
        .await?;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["status"], "CREATING");
    assert_eq!(created.body["description"], "orders");
    assert_eq!(created.body["engine"], "mongodb");
    assert_eq!(created.body["nodeNumber"], 3);
    assert_eq!(created.body["region"], "GRA");
    assert_eq!(
        created.body["ipRestrictions"],
        json!([{"description": "vpc", "ip": "10.1.0.0/16", "status": "CREATING"}])
    );
    let endpoint = &created.body["endpoints"][0];
    assert_eq!(endpoint["component"], "mongodb");
    // Hosts name the region as OVH spells it, not the native `eu-west-1`.
    let domain = endpoint["domain"].as_str().unwrap();
    assert!(domain.ends_with(".gra.dbaas.local"), "{endpoint}");
    assert!(
        endpoint["uri"].as_str().unwrap().contains(domain),
        "{endpoint}"
    );
    assert!(
        !endpoint["uri"].as_str().unwrap().contains('@'),
        "no credentials in the uri"
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    let cluster = format!("{P}/mongodb/{id}");

    let list = service.ovh("GET", &format!("{P}/mongodb"), None).await?;
    assert_eq!(list.body, json!([id]));
    let ready = service.wait_status(&cluster, "READY").await?;
    assert_eq!(ready["ipRestrictions"][0]["status"], "READY");
    let narrowed = service
        .ovh(
            "GET",
            &format!("{P}/availability?action=update&clusterId={id}&target=plan"),
            None,
        )
        .await?;
    assert_eq!(narrowed.status, 200);
    assert!(
        narrowed
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|entry| entry["engine"] == "mongodb")
    );

    let nodes = service.ovh("GET", &format!("{cluster}/node"), None).await?;
    let node_ids = nodes.body.as_array().context("node ids")?.clone();
    assert_eq!(node_ids.len(), 3);
    let node = service
        .ovh(
            "GET",
            &format!("{cluster}/node/{}", node_ids[1].as_str().unwrap()),
            None,
        )
        .await?;
    assert_eq!(node.status, 200);
    assert_eq!(
        (node.body["flavor"].as_str(), node.body["region"].as_str()),
        (Some("db1-7"), Some("GRA"))
    );
    assert_eq!(node.body["id"], node_ids[1]);
    let roles = service
        .ovh("GET", &format!("{cluster}/roles?advanced=true"), None)
        .await?;
    assert!(
        roles
            .body
            .as_array()
            .unwrap()
            .contains(&json!("readWriteAnyDatabase@admin"))
    );

    // Clusters come with admin@admin.
    let users = service.ovh("GET", &format!("{cluster}/user"), None).await?;
    assert_eq!(users.body.as_array().map(Vec::len), Some(1));
    let admin_id = users.body[0].as_str().unwrap().to_owned();
    let admin = service
        .ovh("GET", &format!("{cluster}/user/{admin_id}"), None)
        .await?;
    assert_eq!(admin.body["username"], "admin@admin");
    assert!(admin.body.get("password").is_none());

    let created_user = service
        .ovh(
            "POST",
            &format!("{cluster}/user"),
            Some(json!({"name": "johndoe", "roles": ["readWrite@orders", "clusterMonitor@admin"]})),
        )
        .await?;
    assert_eq!(created_user.status, 200, "{:?}", created_user.body);
    assert_eq!(created_user.body["username"], "johndoe@admin");
    assert_eq!(created_user.body["status"], "CREATING");
    let first_password = created_user.body["password"].as_str().unwrap().to_owned();
    assert!(first_password.len() >= 12);
    let user_id = created_user.body["id"].as_str().unwrap().to_owned();
    let user = format!("{cluster}/user/{user_id}");
    service.wait_status(&user, "READY").await?;
    let updated_user = service
        .ovh("PUT", &user, Some(json!({"roles": ["read@orders"]})))
        .await?;
    assert_eq!(updated_user.body["status"], "UPDATING");
    assert_eq!(updated_user.body["roles"], json!(["read@orders"]));
    service.wait_status(&user, "READY").await?;
    let reset = service
        .ovh("POST", &format!("{user}/credentials/reset"), None)
        .await?;
    assert_eq!(reset.status, 200, "{:?}", reset.body);
    let new_password = reset.body["password"].as_str().unwrap().to_owned();
    assert_ne!(new_password, first_password);
    // The native API agrees: the new password is the user's password.
    let native_id = service.native_id("orders").await?;
    let (_, verdict) = service
        .native(
            "POST",
            &format!("/v1/databases/{native_id}/credentials/johndoe/verify"),
            Some(json!({"password": new_password})),
        )
        .await?;
    assert_eq!(verdict, json!({"valid": true}));

    // The deprecated per-restriction endpoints.
    let added = service
        .ovh(
            "POST",
            &format!("{cluster}/ipRestriction"),
            Some(json!({"ip": "192.0.2.7", "description": "laptop"})),
        )
        .await?;
    assert_eq!(
        added.body,
        json!({"description": "laptop", "ip": "192.0.2.7/32", "status": "CREATING"})
    );
    assert_eq!(
        service.wait_status(&cluster, "READY").await?["status"],
        "READY"
    );
    let blocks = service
        .ovh("GET", &format!("{cluster}/ipRestriction"), None)
        .await?;
    assert_eq!(blocks.body, json!(["10.1.0.0/16", "192.0.2.7/32"]));
    let one = format!("{cluster}/ipRestriction/192.0.2.7%2F32");
    let read = service.ovh("GET", &one, None).await?;
    assert_eq!(read.body["status"], "READY");
    let relabelled = service
        .ovh(
            "PUT",
            &one,
            Some(json!({"description": "desk", "ip": "192.0.2.7/32"})),
        )
        .await?;
    assert_eq!(relabelled.body["description"], "desk");
    let removed = service.ovh("DELETE", &one, None).await?;
    assert_eq!((removed.status, &removed.body), (200, &Value::Null));
    service.wait_status(&cluster, "READY").await?;
    service.wait_gone(&one).await?;

    // A PUT of the writable fields, with the whole set of restrictions.
    let put = service
        .ovh(
            "PUT",
            &cluster,
            Some(json!({
                "description": "orders-v2",
                "plan": "enterprise",
                "flavor": "db1-15",
                "nodeNumber": 5,
                "ipRestrictions": [
                    {"ip": "10.1.0.0/16", "description": "vpc"},
                    {"ip": "198.51.100.0/24", "description": "partner"}
                ]
            })),
        )
        .await?;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["status"], "UPDATING");
    let after = service.wait_status(&cluster, "READY").await?;
    assert_eq!(
        (
            after["plan"].as_str(),
            after["flavor"].as_str(),
            after["nodeNumber"].as_u64()
        ),
        (Some("enterprise"), Some("db1-15"), Some(5))
    );
    assert_eq!(after["description"], "orders-v2");
    assert_eq!(after["nodes"].as_array().map(Vec::len), Some(5));
    let ips: Vec<&str> = after["ipRestrictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["ip"].as_str().unwrap())
        .collect();
    assert_eq!(ips, ["10.1.0.0/16", "198.51.100.0/24"]);
    // Putting back what was read changes nothing.
    let same = service.ovh("PUT", &cluster, Some(after.clone())).await?;
    assert_eq!(
        (same.status, same.body["status"].as_str()),
        (200, Some("READY"))
    );

    let deleted_user = service.ovh("DELETE", &user, None).await?;
    assert_eq!(
        (deleted_user.status, &deleted_user.body),
        (200, &Value::Null)
    );
    let gone_user = service.wait_gone(&user).await?;
    assert_error(&gone_user, 404, "Client::NotFound::UserNotFound");

    let deleted = service.ovh("DELETE", &cluster, None).await?;
    assert_eq!((deleted.status, &deleted.body), (200, &Value::Null));
    let gone = service.wait_gone(&cluster).await?;
    assert_error(&gone, 404, "Client::NotFound::ServiceNotFound");
    let list = service.ovh("GET", &format!("{P}/mongodb"), None).await?;
    assert_eq!(list.body, json!([]));

    let checked = assert_conforms(&service.exchanges());
    let cluster_template = "/cloud/project/{serviceName}/database/mongodb/{clusterId}";
    let mut expected = vec![
        (
            "GET",
            "/cloud/project/{serviceName}/database/capabilities".to_owned(),
        ),
        (
            "GET",
            "/cloud/project/{serviceName}/database/availability".to_owned(),
        ),
        (
            "GET",
            "/cloud/project/{serviceName}/database/mongodb".to_owned(),
        ),
        (
            "POST",
            "/cloud/project/{serviceName}/database/mongodb".to_owned(),
        ),
    ];
    for method in ["GET", "PUT", "DELETE"] {
        expected.push((method, cluster_template.to_owned()));
        expected.push((
            method,
            format!("{cluster_template}/ipRestriction/{{ipBlock}}"),
        ));
        expected.push((method, format!("{cluster_template}/user/{{userId}}")));
    }
    for (method, tail) in [
        ("GET", "/ipRestriction"),
        ("POST", "/ipRestriction"),
        ("GET", "/node"),
        ("GET", "/node/{nodeId}"),
        ("GET", "/roles"),
        ("GET", "/user"),
        ("POST", "/user"),
        ("POST", "/user/{userId}/credentials/reset"),
    ] {
        expected.push((method, format!("{cluster_template}{tail}")));
    }
    assert_eq!(expected.len(), 21);
    for (method, template) in expected {
        assert!(
            checked.contains(&(method.to_owned(), template.clone())),
            "{method} {template} was not exercised"
        );
    }
    // The validator is live: a wrong status or a missing-type value is caught.
    let schema = OvhSchema::load_2024();
    let mut broken = after.clone();
    broken["status"] = json!("GONE");
    assert!(
        schema
            .validate_model("cloud.project.database.Service", &broken)
            .is_err()
    );
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn ovh_error_classes_for_bad_requests() -> Result<()> {
    let service = start(Duration::ZERO).await?;
    let services = format!("{P}/mongodb");
    let create = |body: Value| service.ovh("POST", &services, Some(body));
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            pattern("gold", "db1-4", 1, "GRA"),
            404,
            "Client::NotFound::PlanNotFound",
        ),
        (
            pattern("essential", "b3-8", 1, "GRA"),
            404,
            "Client::NotFound::FlavorNameNotFound",
        ),
        (
            pattern("essential", "db1-4", 1, "SBG"),
            404,
            "Client::NotFound::RegionNotFound",
        ),
        (
            pattern("essential", "db1-4", 3, "GRA"),
            400,
            "Client::BadRequest::TooManyNodes",
        ),
        (
            pattern("business", "db1-4", 2, "GRA"),
            400,
            "Client::BadRequest::NotEnoughNodes",
        ),
        (
            pattern("business", "db1-4", 9, "GRA"),
            400,
            "Client::BadRequest::TooManyNodes",
        ),
        (
            pattern("business", "db1-4", 0, "GRA"),
            400,
            "Client::BadRequest::AtLeastOneNode",
        ),
        (
            json!({"description": "x", "plan": "essential", "version": "7.0"}),
            400,
            "Client::BadRequest::AtLeastOneNode",
        ),
        (
            json!({"plan": "essential", "version": "5.0",
                   "nodesPattern": {"flavor": "db1-4", "number": 1, "region": "GRA"}}),
            404,
            "Client::NotFound::VersionNotFound",
        ),
        (
            json!({"plan": "essential", "version": "7.0",
                   "nodesPattern": {"flavor": "db1-4", "number": 1, "region": "GRA"},
                   "nodesList": [{"flavor": "db1-4", "region": "GRA"}]}),
            400,
            "Client::BadRequest::OnlyNodeListOrPattern",
        ),
        (
            json!({"plan": "business", "version": "7.0",
                   "nodesList": [{"flavor": "db1-4", "region": "GRA"},
                                 {"flavor": "db1-7", "region": "GRA"},
                                 {"flavor": "db1-4", "region": "GRA"}]}),
            400,
            "Client::BadRequest::NodesFlavorMismatch",
        ),
        (
            json!({"plan": "business", "version": "7.0",
                   "nodesList": [{"flavor": "db1-4", "region": "GRA"},
                                 {"flavor": "db1-4", "region": "DE"},
                                 {"flavor": "db1-4", "region": "GRA"}]}),
            400,
            "Client::BadRequest::NodesRegionMismatch",
        ),
        (
            json!({"plan": "essential", "version": "7.0",
                   "nodesPattern": {"flavor": "db1-4", "number": 1, "region": "GRA"},
                   "ipRestrictions": [{"ip": "300.1.2.3/32"}]}),
            404,
            "Client::NotFound::IpRestrictionInvalidFormat",
        ),
        (
            json!({"plan": "essential", "version": "7.0",
                   "nodesPattern": {"flavor": "db1-4", "number": 1, "region": "GRA"},
                   "ipRestrictions": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.1/32"}]}),
            404,
            "Client::NotFound::IpRestrictionAlreadyExists",
        ),
        (
            json!({"plan": "essential", "version": "7.0",
                   "nodesPattern": {"flavor": "db1-4", "number": 1, "region": "GRA"},
                   "networkId": "9a1f7c8e-4b8f-4a33-9d5c-2b1f0e7d6c5a"}),
            404,
            "Client::NotFound::NoMatchingAvailability",
        ),
        (json!({"plan": 3}), 400, "Client::BadRequest"),
    ];
    for (body, status, class) in cases {
        let reply = create(body.clone()).await?;
        assert_error(&reply, status, class);
    }
    let (_, list) = service.native("GET", "/v1/databases", None).await?;
    assert_eq!(
        list,
        json!({"databases": []}),
        "no failed create left anything"
    );

    // Nodes as a list, all alike, are fine: three business nodes in DE.
    let listed = create(
        json!({"description": "by list", "plan": "business", "version": "8.0",
        "nodesList": [{"flavor": "db1-4", "region": "DE"}, {"flavor": "db1-4", "region": "de"},
                      {"flavor": "db1-4", "region": "DE"}]}),
    )
    .await?;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(
        (
            listed.body["nodeNumber"].as_u64(),
            listed.body["region"].as_str()
        ),
        (Some(3), Some("DE"))
    );
    let cluster = format!("{P}/mongodb/{}", listed.body["id"].as_str().unwrap());
    service.wait_status(&cluster, "READY").await?;

    let body_not_json = service
        .signed(
            "POST",
            &format!("{P}/mongodb"),
            b"{nope".to_vec(),
            &Keys::default(),
        )
        .await?;
    assert_error(&body_not_json, 400, "Client::BadRequest");
    assert_error(
        &service
            .ovh("GET", &format!("{P}/mongodb/not-a-uuid"), None)
            .await?,
        400,
        "Client::BadRequest",
    );
    assert_error(
        &service
            .ovh(
                "GET",
                &format!("{P}/mongodb/9a1f7c8e-4b8f-4a33-9d5c-2b1f0e7d6c5a"),
                None,
            )
            .await?,
        404,
        "Client::NotFound::ServiceNotFound",
    );
    assert_error(
        &service.ovh("GET", &format!("{P}/postgresql"), None).await?,
        404,
        "Client::NotFound",
    );
    assert_error(
        &service.ovh("PATCH", &cluster, Some(json!({}))).await?,
        405,
        "Client::MethodNotAllowed",
    );
    assert_error(
        &service
            .ovh("PUT", &cluster, Some(json!({"nodeNumber": 12})))
            .await?,
        400,
        "Client::BadRequest::TooManyNodes",
    );
    assert_error(
        &service
            .ovh("PUT", &cluster, Some(json!({"region": "GRA"})))
            .await?,
        400,
        "Client::BadRequest::NodesRegionMismatch",
    );
    assert_error(
        &service
            .ovh("PUT", &cluster, Some(json!({"plan": "platinum"})))
            .await?,
        404,
        "Client::NotFound::PlanNotFound",
    );
    let bad_user = service
        .ovh(
            "POST",
            &format!("{cluster}/user"),
            Some(json!({"name": "bad name", "roles": []})),
        )
        .await?;
    assert_error(&bad_user, 400, "Client::BadRequest::UserInvalidNameFormat");
    let bad_role = service
        .ovh(
            "POST",
            &format!("{cluster}/user"),
            Some(json!({"name": "app", "roles": ["superuser@admin"]})),
        )
        .await?;
    assert_error(&bad_role, 404, "Client::NotFound::RoleNotFound");
    let taken = service
        .ovh(
            "POST",
            &format!("{cluster}/user"),
            Some(json!({"name": "admin", "roles": []})),
        )
        .await?;
    assert_error(&taken, 409, "Client::Conflict");
    assert_error(
        &service
            .ovh(
                "GET",
                &format!("{cluster}/user/9a1f7c8e-4b8f-4a33-9d5c-2b1f0e7d6c5a"),
                None,
            )
            .await?,
        404,
        "Client::NotFound::UserNotFound",
    );
    assert_error(
        &service
            .ovh(
                "GET",
                &format!("{cluster}/node/9a1f7c8e-4b8f-4a33-9d5c-2b1f0e7d6c5a"),
                None,
            )
            .await?,
        404,
        "Client::NotFound::NodeNotFound",
    );
    assert_error(
        &service
            .ovh(
                "GET",
                &format!("{cluster}/ipRestriction/10.9.9.9%2F32"),
                None,
            )
            .await?,
        404,
        "Client::NotFound::IpRestrictionNotFound",
    );
    assert_error(
        &service
            .ovh(
                "POST",
                &format!("{cluster}/ipRestriction"),
                Some(json!({"ip": "10.1.2.3/8"})),
            )
            .await?,
        404,
        "Client::NotFound::IpRestrictionInvalidFormat",
    );
    let first = service
        .ovh(
            "POST",
            &format!("{cluster}/ipRestriction"),
            Some(json!({"ip": "10.0.0.0/8"})),
        )
        .await?;
    assert_eq!(first.status, 200);
    service.wait_status(&cluster, "READY").await?;
    assert_error(
        &service
            .ovh(
                "POST",
                &format!("{cluster}/ipRestriction"),
                Some(json!({"ip": "10.0.0.0/8"})),
            )
            .await?,
        404,
        "Client::NotFound::IpRestrictionAlreadyExists",
    );
    let password_put = service
        .ovh(
            "PUT",
            &format!(
                "{cluster}/user/{}",
                service
                    .ovh("GET", &format!("{cluster}/user"), None)
                    .await?
                    .body[0]
                    .as_str()
                    .unwrap()
            ),
            Some(json!({"password": "Chosen-Password-1"})),
        )
        .await?;
    assert_error(&password_put, 400, "Client::BadRequest");
    assert_conforms(&service.exchanges());
    service.running.shutdown().await;
    Ok(())
}

// ---- busy and locked ----

#[tokio::test]
async fn changes_while_updating_get_service_not_ready() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // Created and settled with no delay, then served again with a delay long enough that the
    // next change stays UPDATING for the whole test.
    let fast = start_in(dir.path(), Duration::ZERO, Some(ovh_config())).await?;
    let created = fast
        .ovh(
            "POST",
            &format!("{P}/mongodb"),
            Some(pattern("essential", "db1-4", 1, "GRA")),
        )
        .await?;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let cluster = format!("{P}/mongodb/{id}");
    fast.wait_status(&cluster, "READY").await?;
    let admin_id = fast
        .ovh("GET", &format!("{cluster}/user"), None)
        .await?
        .body[0]
        .as_str()
        .unwrap()
        .to_owned();
    fast.wait_status(&format!("{cluster}/user/{admin_id}"), "READY")
        .await?;
    fast.running.shutdown().await;

    let slow = start_in(dir.path(), Duration::from_secs(3600), Some(ovh_config())).await?;
    let put = slow
        .ovh("PUT", &cluster, Some(json!({"plan": "business"})))
        .await?;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(
        (put.body["status"].as_str(), put.body["nodeNumber"].as_u64()),
        (Some("UPDATING"), Some(3))
    );

    let not_ready = [
        slow.ovh("PUT", &cluster, Some(json!({"description": "later"})))
            .await?,
        slow.ovh(
            "POST",
            &format!("{cluster}/user"),
            Some(json!({"name": "app", "roles": []})),
        )
        .await?,
        slow.ovh(
            "POST",
            &format!("{cluster}/ipRestriction"),
            Some(json!({"ip": "10.0.0.1"})),
        )
        .await?,
        slow.ovh(
            "POST",
            &format!("{cluster}/user/{admin_id}/credentials/reset"),
            None,
        )
        .await?,
        slow.ovh("DELETE", &format!("{cluster}/user/{admin_id}"), None)
            .await?,
    ];
    for reply in &not_ready {
        assert_error(reply, 409, "Client::Conflict::ServiceNotReady");
        assert_eq!(reply.retry_after.as_deref(), Some("1"));
    }
    let read = slow.ovh("GET", &cluster, None).await?;
    assert_eq!(
        (read.status, read.body["status"].as_str()),
        (200, Some("UPDATING"))
    );

    // Locked while updating, and a locked cluster that is still being created.
    let native_id = slow.native_id("orders").await?;
    let (status, locked) = slow
        .native(
            "POST",
            &format!("/v1/_admin/databases/{native_id}/lock"),
            None,
        )
        .await?;
    assert_eq!((status, locked["locked"].as_bool()), (200, Some(true)));
    assert_eq!(
        slow.ovh("GET", &cluster, None).await?.body["status"],
        "LOCKED_UPDATING"
    );
    assert_error(
        &slow
            .ovh("PUT", &cluster, Some(json!({"description": "x"})))
            .await?,
        409,
        "Client::Conflict::ServiceLocked",
    );
    let mut second = pattern("essential", "db1-4", 1, "DE");
    second["description"] = json!("pending-one");
    let pending = slow
        .ovh("POST", &format!("{P}/mongodb"), Some(second))
        .await?;
    assert_eq!(pending.body["status"], "CREATING");
    let pending_id = slow.native_id("pending-one").await?;
    slow.native(
        "POST",
        &format!("/v1/_admin/databases/{pending_id}/lock"),
        None,
    )
    .await?;
    let pending_cluster = format!("{P}/mongodb/{}", pending.body["id"].as_str().unwrap());
    let read = slow.ovh("GET", &pending_cluster, None).await?;
    assert_eq!(read.body["status"], "LOCKED_PENDING");
    assert_eq!(read.body["nodes"][0]["status"], "LOCKED_PENDING");
    assert_conforms(&slow.exchanges());
    slow.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn locked_cluster_shows_locked_and_refuses_changes() -> Result<()> {
    let service = start(Duration::ZERO).await?;
    let created = service
        .ovh(
            "POST",
            &format!("{P}/mongodb"),
            Some(pattern("essential", "db1-4", 1, "GRA")),
        )
        .await?;
    let cluster = format!("{P}/mongodb/{}", created.body["id"].as_str().unwrap());
    service.wait_status(&cluster, "READY").await?;
    let user = service
        .ovh(
            "POST",
            &format!("{cluster}/user"),
            Some(json!({"name": "app", "roles": ["read@orders"]})),
        )
        .await?;
    let user_path = format!("{cluster}/user/{}", user.body["id"].as_str().unwrap());
    service.wait_status(&user_path, "READY").await?;

    let native_id = service.native_id("orders").await?;
    let (status, _) = service
        .native(
            "POST",
            &format!("/v1/_admin/databases/{native_id}/lock"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    let read = service.ovh("GET", &cluster, None).await?;
    assert_eq!(read.body["status"], "LOCKED");
    assert_eq!(read.body["capabilities"]["service"]["update"], "disabled");
    let refused = [
        service
            .ovh("PUT", &cluster, Some(json!({"description": "x"})))
            .await?,
        service.ovh("DELETE", &cluster, None).await?,
        service
            .ovh(
                "POST",
                &format!("{cluster}/user"),
                Some(json!({"name": "other", "roles": []})),
            )
            .await?,
        service
            .ovh("PUT", &user_path, Some(json!({"roles": []})))
            .await?,
        service
            .ovh("POST", &format!("{user_path}/credentials/reset"), None)
            .await?,
        service.ovh("DELETE", &user_path, None).await?,
        service
            .ovh(
                "POST",
                &format!("{cluster}/ipRestriction"),
                Some(json!({"ip": "10.0.0.1"})),
            )
            .await?,
    ];
    for reply in &refused {
        assert_error(reply, 409, "Client::Conflict::ServiceLocked");
    }
    // The native API refuses too (409, reason state).
    let (status, body) = service
        .native(
            "PATCH",
            &format!("/v1/databases/{native_id}"),
            Some(json!({"description": "x"})),
        )
        .await?;
    assert_eq!(
        (status, body["error"]["reason"].as_str()),
        (409, Some("state"))
    );

    let (status, unlocked) = service
        .native(
            "DELETE",
            &format!("/v1/_admin/databases/{native_id}/lock"),
            None,
        )
        .await?;
    assert_eq!((status, unlocked["locked"].as_bool()), (200, Some(false)));
    assert_eq!(
        service.ovh("GET", &cluster, None).await?.body["status"],
        "READY"
    );
    let put = service
        .ovh("PUT", &cluster, Some(json!({"description": "x"})))
        .await?;
    assert_eq!(put.status, 200);
    assert_conforms(&service.exchanges());
    service.running.shutdown().await;
    Ok(())
}

// ---- one store ----

#[tokio::test]
async fn databases_are_shared_between_ovh_and_native() -> Result<()> {
    let service = start(Duration::ZERO).await?;
    let created = service
        .ovh(
            "POST",
            &format!("{P}/mongodb"),
            Some(pattern("business", "db1-7", 4, "GRA")),
        )
        .await?;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let native_id = service.native_id("orders").await?;
    let (_, native) = service
        .native("GET", &format!("/v1/databases/{native_id}"), None)
        .await?;
    assert_eq!(
        (
            native["engine"].as_str(),
            native["version"].as_str(),
            native["plan"].as_str(),
            native["region"].as_str(),
            native["flavor"].as_str(),
            native["node_count"].as_u64(),
            native["description"].as_str(),
        ),
        (
            Some("mongodb"),
            Some("7.0"),
            Some("business"),
            Some("eu-west-1"),
            Some("db1-7"),
            Some(4),
            Some("orders")
        )
    );
    // A second cluster with the same description gets a generated store name.
    let again = service
        .ovh(
            "POST",
            &format!("{P}/mongodb"),
            Some(pattern("essential", "db1-4", 1, "US-EAST-VA")),
        )
        .await?;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["description"], "orders");

    // Made natively, seen by OVH clients.
    let (status, made) = service
        .native(
            "POST",
            "/v1/databases",
            Some(
                json!({"name": "catalog", "plan": "enterprise", "node_count": 5,
                        "flavor": "db1-15", "region": "eu-central-1", "version": "8.0"}),
            ),
        )
        .await?;
    assert_eq!(status, 202, "{made}");
    let (status, _) = service
        .native(
            "POST",
            "/v1/databases",
            Some(json!({"name": "ledger", "engine": "postgresql"})),
        )
        .await?;
    assert_eq!(status, 202);
    let ids = service
        .ovh("GET", &format!("{P}/mongodb"), None)
        .await?
        .body;
    assert_eq!(
        ids.as_array().map(Vec::len),
        Some(3),
        "postgresql is not a mongodb cluster: {ids}"
    );
    let mut catalog = None;
    for id in ids.as_array().unwrap() {
        let reply = service
            .ovh(
                "GET",
                &format!("{P}/mongodb/{}", id.as_str().unwrap()),
                None,
            )
            .await?;
        if reply.body["description"] == "catalog" {
            catalog = Some(reply.body);
        }
    }
    let catalog = catalog.context("the native database, named by its description")?;
    assert_eq!(
        (
            catalog["plan"].as_str(),
            catalog["nodeNumber"].as_u64(),
            catalog["flavor"].as_str(),
            catalog["region"].as_str(),
            catalog["version"].as_str(),
        ),
        (
            Some("enterprise"),
            Some(5),
            Some("db1-15"),
            Some("DE"),
            Some("8.0")
        )
    );
    // Deleting through OVH is seen natively.
    let cluster = format!("{P}/mongodb/{}", catalog["id"].as_str().unwrap());
    service.wait_status(&cluster, "READY").await?;
    assert_eq!(service.ovh("DELETE", &cluster, None).await?.status, 200);
    service.wait_gone(&cluster).await?;
    let (status, _) = service
        .native(
            "GET",
            &format!("/v1/databases/{}", made["id"].as_str().unwrap()),
            None,
        )
        .await?;
    assert_eq!(status, 404);
    assert_conforms(&service.exchanges());
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn ip_restriction_set_of_fifty_is_replaced_in_one_put() -> Result<()> {
    let service = start(Duration::ZERO).await?;
    let first: Vec<Value> = (0..50)
        .map(|i| json!({"ip": format!("10.0.{i}.0/24"), "description": format!("net {i}")}))
        .collect();
    let mut create = pattern("essential", "db1-4", 1, "GRA");
    create["ipRestrictions"] = Value::Array(first);
    let created = service
        .ovh("POST", &format!("{P}/mongodb"), Some(create))
        .await?;
    assert_eq!(
        created.body["ipRestrictions"].as_array().map(Vec::len),
        Some(50)
    );
    let cluster = format!("{P}/mongodb/{}", created.body["id"].as_str().unwrap());
    service.wait_status(&cluster, "READY").await?;
    let second: Vec<Value> = (25..75)
        .map(|i| json!({"ip": format!("10.0.{i}.0/24"), "description": format!("net {i}")}))
        .collect();
    let put = service
        .ovh("PUT", &cluster, Some(json!({"ipRestrictions": second})))
        .await?;
    assert_eq!(put.body["status"], "UPDATING");
    let after = service.wait_status(&cluster, "READY").await?;
    let ips: Vec<&str> = after["ipRestrictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["ip"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (25..75).map(|i| format!("10.0.{i}.0/24")).collect();
    assert_eq!(ips, expected);
    assert_conforms(&service.exchanges());
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn faults_and_request_log_cover_the_dialect() -> Result<()> {
    let service = start(Duration::ZERO).await?;
    let (status, _) = service
        .native(
            "POST",
            "/v1/_admin/faults",
            Some(json!({"path_prefix": "/ovh/1.0/cloud", "status": 503, "count": 1, "retry_after": 7})),
        )
        .await?;
    assert_eq!(status, 200);
    // A request that fails authentication does not use the fault up.
    let refused = service
        .signed(
            "GET",
            &format!("{P}/mongodb"),
            Vec::new(),
            &Keys {
                application_secret: "wrong".into(),
                ..Keys::default()
            },
        )
        .await?;
    assert_eq!(refused.status, 400);
    let faulted = service.ovh("GET", &format!("{P}/mongodb"), None).await?;
    assert_error(&faulted, 503, "Server::ServiceUnavailable");
    assert_eq!(faulted.retry_after.as_deref(), Some("7"));
    assert!(faulted.query_id.is_some());
    let fine = service.ovh("GET", &format!("{P}/mongodb"), None).await?;
    assert_eq!(fine.status, 200);
    let (_, log) = service.native("GET", "/v1/_admin/requests", None).await?;
    let ovh: Vec<(String, u64)> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["path"].as_str().unwrap().starts_with("/ovh/"))
        .map(|entry| {
            (
                entry["path"].as_str().unwrap().to_owned(),
                entry["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let path = format!("{BASE}{P}/mongodb");
    assert_eq!(ovh, [(path.clone(), 400), (path.clone(), 503), (path, 200)]);
    assert_conforms(&service.exchanges());
    service.running.shutdown().await;
    Ok(())
}

// ---- the binary's flags ----

fn binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dbaas-local"));
    for (name, _) in std::env::vars() {
        if name.starts_with("DBAAS_LOCAL_") {
            command.env_remove(name);
        }
    }
    command
}

#[test]
fn binary_help_lists_ovh_options_and_hides_their_secrets() -> Result<()> {
    let output = binary()
        .arg("--help")
        .env(
            "DBAAS_LOCAL_OVH_APPLICATION_SECRET",
            "very-secret-application-secret",
        )
        .env("DBAAS_LOCAL_OVH_CONSUMER_KEY", "very-secret-consumer-key")
        .output()?;
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout)?;
    for flag in [
        "--ovh-application-key",
        "--ovh-application-secret",
        "--ovh-consumer-key",
        "--ovh-service-name",
        "DBAAS_LOCAL_OVH_APPLICATION_KEY",
        "DBAAS_LOCAL_OVH_APPLICATION_SECRET",
        "DBAAS_LOCAL_OVH_CONSUMER_KEY",
        "DBAAS_LOCAL_OVH_SERVICE_NAME",
    ] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }
    assert!(!help.contains("very-secret"), "a secret is echoed:\n{help}");

    let partial = binary()
        .args(["--ovh-application-key", "ak", "--ovh-service-name", "p"])
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tempfile::tempdir()?.path())
        .output()?;
    assert!(!partial.status.success());
    let stderr = String::from_utf8_lossy(&partial.stderr);
    assert!(
        stderr.contains("missing: --ovh-application-secret, --ovh-consumer-key"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_the_dialect_from_environment_variables() -> Result<()> {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir()?;
    let mut child = tokio::process::Command::from(binary())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--provision-delay",
            "0s",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("DBAAS_LOCAL_OVH_APPLICATION_KEY", AK)
        .env("DBAAS_LOCAL_OVH_APPLICATION_SECRET", AS)
        .env("DBAAS_LOCAL_OVH_CONSUMER_KEY", CK)
        .env("DBAAS_LOCAL_OVH_SERVICE_NAME", PROJECT)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut line = String::new();
    tokio::io::BufReader::new(stdout)
        .read_line(&mut line)
        .await?;
    let base = line
        .trim()
        .strip_prefix("dbaas-local listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    let client = reqwest::Client::new();
    let time: i64 = client
        .get(format!("{base}{BASE}/auth/time"))
        .send()
        .await?
        .json()
        .await?;
    let url = format!("{base}{BASE}{P}/mongodb");
    let ts = time.to_string();
    let reply = client
        .get(&url)
        .header("X-Ovh-Application", AK)
        .header("X-Ovh-Consumer", CK)
        .header("X-Ovh-Timestamp", &ts)
        .header("X-Ovh-Signature", sign(AS, CK, "GET", &url, b"", &ts))
        .send()
        .await?;
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.json::<Value>().await?, json!([]));
    child.start_kill()?;
    child.wait().await?;
    Ok(())
}
