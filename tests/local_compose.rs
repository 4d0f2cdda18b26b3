//! dbaas-local's Compose dialect (`/compose`, classic API 2014-06), over real HTTP:
//! `Accept-Version` and token checks, the deployment's `new` → `running` status, seed 000's
//! database creation by a first collection, users with `readOnly`, Compose's error bodies,
//! and the store shared with the native API.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dbaas::local::{self, ComposeDialect, Config, RunningService, TokenSource};
use secrecy::SecretString;
use serde_json::{Value, json};

const TOKEN: &str = "compose-personal-access-token";
const NATIVE_TOKEN: &str = "native-token-for-compose-tests";
const ACCOUNT: &str = "acme";
const DEPLOYMENT: &str = "clients";

struct Service {
    base: String,
    http: reqwest::Client,
    _running: RunningService,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: u16,
    retry_after: Option<String>,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

async fn start(delay: Duration) -> Result<Service> {
    let dir = tempfile::tempdir()?;
    let running = start_in(dir.path(), delay).await?;
    Ok(Service {
        base: running.base_url(),
        http: reqwest::Client::new(),
        _running: running,
        _dir: dir,
    })
}

async fn start_in(dir: &Path, delay: Duration) -> Result<RunningService> {
    Ok(local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.to_path_buf(),
        token: TokenSource::Given(SecretString::from(NATIVE_TOKEN)),
        provision_delay: delay,
        compose: Some(ComposeDialect {
            token: SecretString::from(TOKEN),
            account: ACCOUNT.into(),
            deployment: DEPLOYMENT.into(),
        }),
        ..Config::default()
    })
    .await?)
}

impl Service {
    /// A request as Compose clients send it (token and `Accept-Version`).
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Reply> {
        self.raw(method, path, body, Some(TOKEN), Some("2014-06"))
            .await
    }

    async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        version: Option<&str>,
    ) -> Result<Reply> {
        let url = format!("{}/compose{path}", self.base);
        let mut request = self.http.request(method.parse()?, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(version) = version {
            request = request.header("Accept-Version", version);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        Ok(Reply {
            status: response.status().as_u16(),
            retry_after: response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            text: response.text().await?,
        })
    }

    /// Polls until the deployment's status is `status` (the provision delay is short).
    async fn wait_deployment(&self, status: &str) -> Result<Value> {
        for _ in 0..400 {
            let reply = self
                .call("GET", &format!("/deployments/{ACCOUNT}/{DEPLOYMENT}"), None)
                .await?;
            let body = reply.json();
            if body["status"] == status {
                return Ok(body);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!("deployment never reached {status}")
    }

    async fn wait_database(&self, name: &str, status: &str) -> Result<Value> {
        let path = format!("/deployments/{ACCOUNT}/{DEPLOYMENT}/databases/{name}");
        for _ in 0..400 {
            let reply = self.call("GET", &path, None).await?;
            if reply.json()["status"] == status {
                return Ok(reply.json());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!("database {name} never reached {status}")
    }
}

fn mongo(database: &str, rest: &str) -> String {
    format!("/deployments/{ACCOUNT}/{DEPLOYMENT}/mongodb/{database}/{rest}")
}

#[tokio::test]
async fn compose_accept_version_is_required_before_the_token() -> Result<()> {
    let service = start(Duration::from_millis(50)).await?;
    for version in [None, Some("2016-07")] {
        let reply = service
            .raw("GET", "/accounts", None, Some(TOKEN), version)
            .await?;
        assert_eq!(reply.status, 404, "{version:?}");
        assert_eq!(reply.text, "NOT FOUND");
        let reply = service.raw("GET", "/accounts", None, None, version).await?;
        assert_eq!(
            reply.status, 404,
            "no token either: still the version's 404"
        );
    }
    let reply = service
        .raw("GET", "/accounts", None, Some("wrong"), Some("2014-06"))
        .await?;
    assert_eq!(reply.status, 401);
    assert!(reply.json()["error"].is_string(), "{}", reply.text);
    let reply = service
        .raw(
            "GET",
            "/accounts",
            None,
            Some(NATIVE_TOKEN),
            Some("2014-06"),
        )
        .await?;
    assert_eq!(reply.status, 401, "the native token is not Compose's");
    Ok(())
}

#[tokio::test]
async fn compose_accounts_and_deployment_are_served_by_slug_or_id() -> Result<()> {
    let service = start(Duration::from_millis(50)).await?;
    let accounts = service.call("GET", "/accounts", None).await?;
    assert_eq!(accounts.status, 200);
    let accounts = accounts.json();
    let list = accounts.as_array().context("accounts list")?;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["slug"], ACCOUNT);
    let account_id = list[0]["id"].as_str().context("account id")?.to_owned();
    for key in [
        "id",
        "name",
        "slug",
        "active",
        "created_at",
        "owner_id",
        "owner",
    ] {
        assert!(list[0].get(key).is_some(), "account lacks {key}");
    }
    let by_id = service
        .call("GET", &format!("/accounts/{account_id}"), None)
        .await?;
    assert_eq!(by_id.json()["slug"], ACCOUNT);
    let other = service.call("GET", "/accounts/someone-else", None).await?;
    assert_eq!(other.status, 404);
    assert!(other.json()["error"].is_string());

    let deployments = service
        .call("GET", &format!("/accounts/{ACCOUNT}/deployments"), None)
        .await?
        .json();
    assert_eq!(deployments[0]["name"], DEPLOYMENT);
    assert_eq!(deployments[0]["type"], "mongodb");
    let deployment_id = deployments[0]["id"].as_str().context("id")?.to_owned();
    let running = service.wait_deployment("running").await?;
    assert_eq!(running["id"], deployment_id.as_str());
    assert!(running["members"].as_array().is_some_and(|m| m.len() == 2));
    let by_ids = service
        .call(
            "GET",
            &format!("/deployments/{account_id}/{deployment_id}"),
            None,
        )
        .await?;
    assert_eq!(by_ids.status, 200);
    let missing = service
        .call("GET", &format!("/deployments/{ACCOUNT}/nope"), None)
        .await?;
    assert_eq!(missing.status, 404);
    Ok(())
}

#[tokio::test]
async fn compose_new_deployment_refuses_databases_until_running() -> Result<()> {
    let service = start(Duration::from_millis(400)).await?;
    let body = service
        .call("GET", &format!("/deployments/{ACCOUNT}/{DEPLOYMENT}"), None)
        .await?
        .json();
    if body["status"] == "new" {
        let early = service
            .call(
                "POST",
                &mongo("client-1", "collections"),
                Some(json!({"name": "users"})),
            )
            .await?;
        // Unless the deployment turned running in between, which is as good.
        if early.status != 201 {
            assert_eq!(early.status, 409, "{}", early.text);
            assert_eq!(early.retry_after.as_deref(), Some("1"));
            assert!(
                early.json()["error"]
                    .as_str()
                    .is_some_and(|m| m.contains("new"))
            );
        }
    }
    service.wait_deployment("running").await?;
    let created = service
        .call(
            "POST",
            &mongo("client-2", "collections"),
            Some(json!({"name": "users"})),
        )
        .await?;
    assert_eq!(created.status, 201, "{}", created.text);
    Ok(())
}

#[tokio::test]
async fn compose_first_collection_creates_the_database_as_in_seed_000() -> Result<()> {
    let service = start(Duration::from_millis(50)).await?;
    service.wait_deployment("running").await?;
    let created = service
        .call(
            "POST",
            &mongo("client-a", "collections"),
            Some(json!({"name": "users"})),
        )
        .await?;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json(), json!({"ok": 1}));
    let database = service
        .call(
            "GET",
            &format!("/deployments/{ACCOUNT}/{DEPLOYMENT}/databases/client-a"),
            None,
        )
        .await?
        .json();
    assert_eq!(database["name"], "client-a");
    assert!(
        ["new", "running"].contains(&database["status"].as_str().unwrap_or_default()),
        "{database}"
    );
    let running = service.wait_database("client-a", "running").await?;
    assert!(running["deployment_id"].as_str().is_some());

    // The seed verifies with the list of databases, which also shows internal ones.
    let names = service
        .call(
            "GET",
            &format!("/deployments/{ACCOUNT}/{DEPLOYMENT}/mongodb/databases"),
            None,
        )
        .await?
        .json();
    let names: Vec<&str> = names
        .as_array()
        .context("names")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        names.contains(&"client-a") && names.contains(&"admin"),
        "{names:?}"
    );

    // The deployment lists it too, and so does the native API (same store).
    let deployment = service.wait_deployment("running").await?;
    assert!(
        deployment["databases"]
            .as_array()
            .is_some_and(|dbs| dbs.iter().any(|db| db["name"] == "client-a"))
    );
    let native = service
        .http
        .get(format!("{}/v1/databases", service.base))
        .bearer_auth(NATIVE_TOKEN)
        .send()
        .await?
        .json::<Value>()
        .await?;
    assert!(native.to_string().contains("client-a"), "{native}");

    // A second collection joins the database; the same one again is a plain conflict.
    let second = service
        .call(
            "POST",
            &mongo("client-a", "collections"),
            Some(json!({"name": "orders"})),
        )
        .await?;
    assert_eq!(second.status, 201, "{}", second.text);
    let again = service
        .call(
            "POST",
            &mongo("client-a", "collections"),
            Some(json!({"name": "orders"})),
        )
        .await?;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.retry_after, None,
        "a duplicate does not resolve by waiting"
    );
    assert!(
        again.json()["error"]
            .as_str()
            .is_some_and(|m| m.contains("already exists"))
    );
    let collections = service
        .call("GET", &mongo("client-a", "collections"), None)
        .await?
        .json();
    assert_eq!(collections, json!(["orders", "users"]));
    Ok(())
}

#[tokio::test]
async fn compose_collection_requests_are_validated() -> Result<()> {
    let service = start(Duration::from_millis(50)).await?;
    service.wait_deployment("running").await?;
    let cases = [
        ("client-b", json!({})),
        ("client-b", json!({"name": 3})),
        ("client-b", json!({"name": "system.users"})),
        ("Bad_Name", json!({"name": "users"})),
        ("admin", json!({"name": "users"})),
    ];
    for (database, body) in cases {
        let reply = service
            .call("POST", &mongo(database, "collections"), Some(body.clone()))
            .await?;
        assert_eq!(reply.status, 400, "{database} {body}: {}", reply.text);
        assert!(reply.json()["error"].is_string());
    }
    let unknown = service
        .call("GET", &mongo("never-made", "collections"), None)
        .await?;
    assert_eq!(unknown.status, 404);
    let wrong_method = service
        .call("PATCH", &mongo("never-made", "collections"), None)
        .await?;
    assert_eq!(wrong_method.status, 405);
    assert!(wrong_method.json()["error"].is_string());
    let unknown_route = service.call("GET", "/nothing/here", None).await?;
    assert_eq!(unknown_route.status, 404);
    assert!(unknown_route.json()["error"].is_string());
    Ok(())
}

#[tokio::test]
async fn compose_users_map_read_only_to_roles() -> Result<()> {
    let service = start(Duration::from_millis(50)).await?;
    service.wait_deployment("running").await?;
    service
        .call(
            "POST",
            &mongo("client-c", "collections"),
            Some(json!({"name": "users"})),
        )
        .await?;
    service.wait_database("client-c", "running").await?;
    let created = service
        .call(
            "POST",
            &mongo("client-c", "users"),
            Some(json!({"username": "reader", "password": "S3cret-Passw0rd", "readOnly": true})),
        )
        .await?;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.json(), json!({"ok": 1}));
    let missing_password = service
        .call(
            "POST",
            &mongo("client-c", "users"),
            Some(json!({"username": "nopass"})),
        )
        .await?;
    assert_eq!(missing_password.status, 400);
    let duplicate = service
        .call(
            "POST",
            &mongo("client-c", "users"),
            Some(json!({"username": "reader", "password": "S3cret-Passw0rd"})),
        )
        .await?;
    assert_eq!(duplicate.status, 409);

    let users = service
        .call("GET", &mongo("client-c", "users"), None)
        .await?
        .json();
    assert_eq!(users[0]["user"], "reader");
    assert_eq!(users[0]["readOnly"], true);
    let pwd = users[0]["pwd"].as_str().context("pwd")?;
    assert!(!pwd.contains("S3cret-Passw0rd"), "pwd is a hash");

    // The native API sees the role the flag stands for.
    let native = service
        .http
        .get(format!("{}/v1/databases", service.base))
        .bearer_auth(NATIVE_TOKEN)
        .send()
        .await?
        .json::<Value>()
        .await?;
    let id = native["databases"]
        .as_array()
        .and_then(|dbs| dbs.iter().find(|db| db["name"] == "client-c"))
        .and_then(|db| db["id"].as_str())
        .context("native id")?
        .to_owned();
    let credential = service
        .http
        .get(format!(
            "{}/v1/databases/{id}/credentials/reader",
            service.base
        ))
        .bearer_auth(NATIVE_TOKEN)
        .send()
        .await?
        .json::<Value>()
        .await?;
    assert_eq!(credential["roles"], json!(["read@client-c"]));

    // Busy while the user settles, then the change lands.
    let user_path = mongo("client-c", "users/reader");
    let mut changed = None;
    for _ in 0..400 {
        let reply = service
            .call("PUT", &user_path, Some(json!({"readOnly": false})))
            .await?;
        if reply.status == 409 {
            assert_eq!(reply.retry_after.as_deref(), Some("1"), "{}", reply.text);
            tokio::time::sleep(Duration::from_millis(25)).await;
            continue;
        }
        changed = Some(reply);
        break;
    }
    let changed = changed.context("user never settled")?;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let users = service
        .call("GET", &mongo("client-c", "users"), None)
        .await?
        .json();
    assert_eq!(users[0]["readOnly"], false);
    let empty_put = service.call("PUT", &user_path, Some(json!({}))).await?;
    assert_eq!(empty_put.status, 400);
    let unknown = service
        .call(
            "PUT",
            &mongo("client-c", "users/nobody"),
            Some(json!({"password": "An0ther-Passw0rd"})),
        )
        .await?;
    assert_eq!(unknown.status, 404);

    let deleted = service.call("DELETE", &user_path, None).await?;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(deleted.json(), json!({"ok": 1}));
    Ok(())
}

#[tokio::test]
async fn compose_delete_database_deprovisions_it() -> Result<()> {
    let service = start(Duration::from_millis(50)).await?;
    service.wait_deployment("running").await?;
    service
        .call(
            "POST",
            &mongo("client-d", "collections"),
            Some(json!({"name": "users"})),
        )
        .await?;
    service.wait_database("client-d", "running").await?;
    let path = format!("/deployments/{ACCOUNT}/{DEPLOYMENT}/databases/client-d");
    let deleted = service.call("DELETE", &path, None).await?;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    let mut gone = false;
    for _ in 0..400 {
        let reply = service.call("GET", &path, None).await?;
        if reply.status == 404 {
            gone = true;
            break;
        }
        assert_eq!(reply.json()["status"], "pending_deprovision");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(gone, "the database never went");
    Ok(())
}

#[tokio::test]
async fn compose_unconfigured_dialect_answers_404() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let running = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        provision_delay: Duration::from_millis(50),
        ..Config::default()
    })
    .await?;
    let reply = reqwest::Client::new()
        .get(format!("{}/compose/accounts", running.base_url()))
        .bearer_auth(TOKEN)
        .header("Accept-Version", "2014-06")
        .send()
        .await?;
    assert_eq!(reply.status().as_u16(), 404);
    let body: Value = reply.json().await?;
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("--compose-token")),
        "{body}"
    );
    running.shutdown().await;
    Ok(())
}
