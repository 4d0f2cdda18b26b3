//! dbaas-local's databaselabs dialect (`/databaselabs`), over real HTTP with the whole service:
//! Basic auth instead of the native token, the "not configured" answer, the store shared with
//! the native API (both ways, superuser included), the lifecycle, faults and the request log
//! in the dialect's error format, and unknown paths and methods.

use std::time::Duration;

use anyhow::{Context, Result};
use dbaas::local::{self, Config, DatabaselabsDialect, RunningService, TokenSource};
use secrecy::SecretString;
use serde_json::{Value, json};

const KEY: &str = "local-test-key";
const SECRET: &str = "local-test-secret";
const TOKEN: &str = "native-token-for-databaselabs-tests";

struct Service {
    running: RunningService,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// What came back: status, `Retry-After`, `WWW-Authenticate`, body (JSON, or text as a string).
struct Reply {
    status: u16,
    retry_after: Option<String>,
    www_authenticate: Option<String>,
    body: Value,
}

async fn start(configured: bool, delay: Duration) -> Result<Service> {
    let dir = tempfile::tempdir()?;
    let running = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        token: TokenSource::Given(SecretString::from(TOKEN)),
        provision_delay: delay,
        databaselabs: configured.then(|| DatabaselabsDialect {
            api_key: KEY.into(),
            api_secret: SecretString::from(SECRET),
            credit_limit_dollars: None,
        }),
        ..Config::default()
    })
    .await?;
    Ok(Service {
        running,
        client: reqwest::Client::new(),
        _dir: dir,
    })
}

impl Service {
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply> {
        let response = request.send().await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (retry_after, www_authenticate) = (header("retry-after"), header("www-authenticate"));
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply {
            status,
            retry_after,
            www_authenticate,
            body,
        })
    }

    async fn dl(&self, method: &str, path: &str, body: Option<Value>) -> Result<Reply> {
        let request = self
            .client
            .request(
                method.parse()?,
                format!("{}/databaselabs{path}", self.running.base_url()),
            )
            .basic_auth(KEY, Some(SECRET));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        self.send(request).await
    }

    async fn native(&self, method: &str, path: &str, body: Option<Value>) -> Result<Reply> {
        let request = self
            .client
            .request(
                method.parse()?,
                format!("{}{path}", self.running.base_url()),
            )
            .bearer_auth(TOKEN);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        self.send(request).await
    }

    async fn create(&self, size: &str, region: &str) -> Result<Value> {
        let reply = self
            .dl(
                "POST",
                "/api/databases",
                Some(json!({"size": size, "region": region})),
            )
            .await?;
        anyhow::ensure!(
            reply.status == 202,
            "create: {} {}",
            reply.status,
            reply.body
        );
        Ok(reply.body)
    }

    /// The native database behind a hostname.
    async fn native_database(&self, hostname: &str) -> Result<Value> {
        let name = hostname.split('.').next().context("hostname")?;
        let list = self.native("GET", "/v1/databases", None).await?;
        list.body["databases"]
            .as_array()
            .context("databases")?
            .iter()
            .find(|db| db["name"] == name)
            .cloned()
            .context("not visible through /v1")
    }
}

fn error_text(reply: &Reply) -> String {
    reply.body["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn databaselabs_unconfigured_dialect_answers_404() -> Result<()> {
    let service = start(false, Duration::ZERO).await?;
    let reply = service.dl("GET", "/api/ping", None).await?;
    assert_eq!(reply.status, 404);
    assert!(
        error_text(&reply).contains("--databaselabs-api-secret"),
        "{}",
        reply.body
    );
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn databaselabs_uses_basic_auth_not_the_native_token() -> Result<()> {
    let service = start(true, Duration::ZERO).await?;
    let with_token = service
        .send(
            service
                .client
                .get(format!(
                    "{}/databaselabs/api/ping",
                    service.running.base_url()
                ))
                .bearer_auth(TOKEN),
        )
        .await?;
    assert_eq!(with_token.status, 401);
    assert_eq!(
        with_token.www_authenticate.as_deref(),
        Some("Basic realm=\"databaselabs\"")
    );
    assert!(error_text(&with_token).contains("Case matters"));
    let wrong_secret = service
        .send(
            service
                .client
                .get(format!(
                    "{}/databaselabs/api/databases",
                    service.running.base_url()
                ))
                .basic_auth(KEY, Some("Local-Test-Secret")),
        )
        .await?;
    assert_eq!(wrong_secret.status, 401);
    let pong = service.dl("GET", "/api/ping", None).await?;
    assert_eq!((pong.status, pong.body), (200, json!("Pong")));
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn databaselabs_shares_the_store_with_the_native_api() -> Result<()> {
    let service = start(true, Duration::ZERO).await?;
    let created = service.create("8gb", "fra1").await?;
    let hostname = created["hostname"].as_str().context("hostname")?.to_owned();
    let native = service.native_database(&hostname).await?;
    assert_eq!(native["engine"], "postgresql");
    assert_eq!(native["flavor"], "db1-7");
    assert_eq!(native["region"], "eu-central-1");
    assert_eq!(native["node_count"], 1);
    assert_eq!(native["description"], "databaselabs:8gb@fra1");
    let id = native["id"].as_str().context("id")?;
    // The superuser is a credential of the database, its password the one of the create reply.
    let revealed = service
        .native(
            "GET",
            &format!("/v1/databases/{id}/credentials/postgres/password"),
            None,
        )
        .await?;
    assert_eq!(revealed.status, 200, "{}", revealed.body);
    assert_eq!(revealed.body["password"], created["password"]);

    // Databases made through /v1: PostgreSQL ones are visible (size and region derived from
    // the store's), others are not.
    for (name, engine) in [("made-natively", "postgresql"), ("a-mongo", "mongodb")] {
        let reply = service
            .native(
                "POST",
                "/v1/databases",
                Some(json!({"name": name, "engine": engine, "region": "eu-west-1"})),
            )
            .await?;
        assert_eq!(reply.status, 202, "{}", reply.body);
    }
    let listed = service.dl("GET", "/api/databases", None).await?;
    let hosts: Vec<&str> = listed
        .body
        .as_array()
        .context("list")?
        .iter()
        .filter_map(|db| db["hostname"].as_str())
        .collect();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    assert!(hosts.contains(&hostname.as_str()));
    let native_made = service
        .dl(
            "GET",
            "/api/databases/made-natively.db.databaselabs.local",
            None,
        )
        .await?;
    assert_eq!(native_made.status, 200);
    assert_eq!(native_made.body["hostsize"], "4gb");
    assert_eq!(native_made.body["region"], "ams3");
    let mongo = service
        .dl("GET", "/api/databases/a-mongo.db.databaselabs.local", None)
        .await?;
    assert_eq!(mongo.status, 404);
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn databaselabs_database_goes_ordered_ready_destroying_gone() -> Result<()> {
    let service = start(true, Duration::from_millis(300)).await?;
    let created = service.create("512mb", "nyc3").await?;
    assert_eq!(created["status"], "building");
    let path = format!(
        "/api/databases/{}",
        created["hostname"].as_str().context("hostname")?
    );
    let mut seen = Vec::new();
    for _ in 0..1000 {
        let status = service.dl("GET", &path, None).await?.body["status"].clone();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen.last(), Some(&json!("ready")), "{seen:?}");
    assert!(
        seen.iter()
            .all(|s| ["ordered", "building", "ready"].contains(&s.as_str().unwrap_or_default())),
        "{seen:?}"
    );

    let deleted = service.dl("DELETE", &path, None).await?;
    assert_eq!((deleted.status, deleted.body), (204, json!("")));
    assert_eq!(
        service.dl("GET", &path, None).await?.body["status"],
        "destroying"
    );
    let again = service.dl("DELETE", &path, None).await?;
    assert_eq!(again.status, 204);
    let mut gone = false;
    for _ in 0..1000 {
        if service.dl("GET", &path, None).await?.status == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(gone);
    assert_eq!(
        service.dl("GET", "/api/databases", None).await?.body,
        json!([])
    );
    assert_eq!(service.dl("DELETE", &path, None).await?.status, 404);
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn databaselabs_faults_and_routes_use_its_error_format() -> Result<()> {
    let service = start(true, Duration::ZERO).await?;
    let fault = service
        .native(
            "POST",
            "/v1/_admin/faults",
            Some(json!({"path_prefix": "/databaselabs/api", "status": 503, "count": 1, "retry_after": 4})),
        )
        .await?;
    assert_eq!(fault.status, 200);
    let faulted = service.dl("GET", "/api/plans", None).await?;
    assert_eq!(faulted.status, 503);
    assert_eq!(faulted.retry_after.as_deref(), Some("4"));
    assert!(!error_text(&faulted).is_empty(), "{}", faulted.body);
    assert_eq!(service.dl("GET", "/api/plans", None).await?.status, 200);

    let unknown = service.dl("GET", "/api/nothing", None).await?;
    assert_eq!(unknown.status, 404);
    assert!(error_text(&unknown).contains("/databaselabs/api/nothing"));
    let wrong_method = service.dl("PUT", "/api/databases", Some(json!({}))).await?;
    assert_eq!(wrong_method.status, 405);
    assert!(error_text(&wrong_method).contains("PUT"));

    let log = service.native("GET", "/v1/_admin/requests", None).await?;
    let dialect: Vec<(String, u64)> = log.body["requests"]
        .as_array()
        .context("requests")?
        .iter()
        .filter(|entry| {
            entry["path"]
                .as_str()
                .unwrap_or_default()
                .starts_with("/databaselabs/")
        })
        .map(|entry| {
            (
                entry["path"].as_str().unwrap_or_default().to_owned(),
                entry["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        dialect,
        [
            ("/databaselabs/api/plans".to_owned(), 503),
            ("/databaselabs/api/plans".to_owned(), 200),
            ("/databaselabs/api/nothing".to_owned(), 404),
            ("/databaselabs/api/databases".to_owned(), 405),
        ]
    );
    service.running.shutdown().await;
    Ok(())
}
