//! dbaas-local's globo.com dialect (`/globo`), over real HTTP: Basic auth and DRF's error
//! bodies, the HAL format with absolute hyperlinks, pagination, the catalog, database creation
//! with its `u_<name>` credential, the quarantine rule, credentials, and the store shared with
//! the native API.

use std::time::Duration;

use anyhow::{Context, Result};
use dbaas::local::{self, Config, GloboDialect, RunningService, TokenSource};
use secrecy::SecretString;
use serde_json::{Value, json};

const USER: &str = "admin";
const PASSWORD: &str = "123456";
const TOKEN: &str = "native-token-for-globo-tests";

struct Service {
    running: RunningService,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start(globo: bool, delay: Duration) -> Result<Service> {
    let dir = tempfile::tempdir()?;
    let running = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        token: TokenSource::Given(SecretString::from(TOKEN)),
        provision_delay: delay,
        globo: globo.then(|| GloboDialect {
            username: USER.into(),
            password: SecretString::from(PASSWORD),
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
    fn url(&self, path: &str) -> String {
        format!("{}/globo{path}", self.running.base_url())
    }

    /// The absolute URL the dialect shows for `path`.
    fn link(&self, path: &str) -> String {
        self.url(path)
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let request = self
            .client
            .request(method.parse()?, self.url(path))
            .basic_auth(USER, Some(PASSWORD));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?
        };
        Ok((status, body))
    }

    async fn create_database(&self, name: &str) -> Result<Value> {
        let (status, body) = self
            .call(
                "POST",
                "/api/database/",
                Some(json!({"name": name, "plan": "/api/plan/1/", "environment": "/api/environment/1/"})),
            )
            .await?;
        assert_eq!(status, 201, "{body}");
        Ok(body)
    }

    async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

/// The path of an absolute link (`http://host/globo/api/x/1/` → `/api/x/1/`).
fn path_of(link: &Value) -> String {
    let link = link.as_str().expect("a link");
    link[link.find("/globo/").expect("under /globo") + "/globo".len()..].to_owned()
}

#[tokio::test]
async fn globo_auth_refuses_missing_and_wrong_credentials() -> Result<()> {
    let service = start(true, Duration::ZERO).await?;
    let response = service
        .client
        .get(service.url("/api/database/"))
        .send()
        .await?;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"api\""
    );
    let body: Value = response.json().await?;
    assert_eq!(
        body["detail"],
        "Authentication credentials were not provided."
    );
    let response = service
        .client
        .get(service.url("/api/database/"))
        .basic_auth(USER, Some("wrong"))
        .send()
        .await?;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await?;
    assert_eq!(body["detail"], "Invalid username/password");
    // The native token is no key to the dialect.
    let response = service
        .client
        .get(service.url("/api/database/"))
        .bearer_auth(TOKEN)
        .send()
        .await?;
    assert_eq!(response.status(), 401);
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_unconfigured_answers_not_found() -> Result<()> {
    let service = start(false, Duration::ZERO).await?;
    let (status, body) = service.call("GET", "/api/database/", None).await?;
    assert_eq!(status, 404);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("--globo-username"),
        "{body}"
    );
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_catalog_has_plan_and_environment_one() -> Result<()> {
    let service = start(true, Duration::ZERO).await?;
    let (status, plan) = service.call("GET", "/api/plan/1/", None).await?;
    assert_eq!(status, 200);
    assert_eq!(plan["_links"]["self"], service.link("/api/plan/1/"));
    assert_eq!(plan["id"], 1);
    assert_eq!(plan["name"], "essential");
    assert_eq!(plan["is_default"], true);
    let (status, environment) = service.call("GET", "/api/environment/1/", None).await?;
    assert_eq!(status, 200);
    assert_eq!(environment["name"], "eu-west-1");
    let (status, projects) = service.call("GET", "/api/project/", None).await?;
    assert_eq!(status, 200);
    assert_eq!(projects["_links"]["count"], 1);
    assert_eq!(projects["project"][0]["name"], "default");
    let (status, body) = service.call("GET", "/api/plan/9/", None).await?;
    assert_eq!((status, body), (404, json!({"detail": "Not found"})));
    let (status, body) = service.call("POST", "/api/plan/", Some(json!({}))).await?;
    assert_eq!(status, 405);
    assert_eq!(body["detail"], "Method 'POST' not allowed.");
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_lists_paginate_with_links() -> Result<()> {
    let service = start(true, Duration::ZERO).await?;
    let (status, first) = service.call("GET", "/api/plan/?page_size=2", None).await?;
    assert_eq!(status, 200);
    assert_eq!(first["_links"]["count"], 3);
    assert_eq!(first["plan"].as_array().unwrap().len(), 2);
    assert_eq!(first["_links"]["previous"], Value::Null);
    assert_eq!(
        first["_links"]["next"],
        service.link("/api/plan/?page=2&page_size=2")
    );
    let (status, second) = service
        .call("GET", "/api/plan/?page=2&page_size=2", None)
        .await?;
    assert_eq!(status, 200);
    assert_eq!(second["plan"].as_array().unwrap().len(), 1);
    assert_eq!(second["plan"][0]["name"], "enterprise");
    assert_eq!(second["_links"]["next"], Value::Null);
    let (status, _) = service
        .call("GET", "/api/plan/?page=3&page_size=2", None)
        .await?;
    assert_eq!(status, 404);
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_create_slugifies_and_adds_credential() -> Result<()> {
    let service = start(true, Duration::from_millis(100)).await?;
    let database = service.create_database("test database2").await?;
    assert_eq!(database["name"], "test_database2");
    assert_eq!(database["plan"], service.link("/api/plan/1/"));
    assert_eq!(database["environment"], service.link("/api/environment/1/"));
    assert_eq!(database["project"], Value::Null);
    assert_eq!(database["quarantine_dt"], Value::Null);
    let endpoint = database["endpoint"].as_str().unwrap();
    assert!(
        endpoint.starts_with("mongodb://<user>:<password>@"),
        "{endpoint}"
    );
    assert!(endpoint.ends_with("/test_database2"), "{endpoint}");
    let id = database["id"].as_u64().unwrap();
    assert_eq!(
        database["_links"]["self"],
        service.link(&format!("/api/database/{id}/"))
    );
    let credentials = database["credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 1);
    let (status, credential) = service.call("GET", &path_of(&credentials[0]), None).await?;
    assert_eq!(status, 200);
    assert_eq!(credential["user"], "u_test_database2");
    assert_eq!(credential["database"], database["_links"]["self"]);
    assert!(credential["password"].as_str().unwrap().len() >= 10);
    // The store shares it with the native API (with '-' for '_').
    let native: Value = service
        .client
        .get(format!("{}/v1/databases", service.running.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(native["databases"][0]["name"], "test-database2", "{native}");
    // A full-URL hyperlink and a project work too; the name is taken now.
    let (status, body) = service
        .call(
            "POST",
            "/api/database/",
            Some(
                json!({"name": "test_database2", "plan": service.link("/api/plan/2/"),
                        "environment": "/api/environment/1/"}),
            ),
        )
        .await?;
    assert_eq!(status, 400);
    assert!(
        body["name"][0].as_str().unwrap().contains("already exists"),
        "{body}"
    );
    let (status, body) = service
        .call(
            "POST",
            "/api/database/",
            Some(
                json!({"name": "orders", "plan": service.link("/api/plan/2/"),
                        "environment": "/api/environment/2/", "project": "/api/project/1/"}),
            ),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["plan"], service.link("/api/plan/2/"));
    assert_eq!(body["project"], service.link("/api/project/1/"));
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_create_refuses_bad_bodies_drf_style() -> Result<()> {
    let service = start(true, Duration::ZERO).await?;
    let (status, body) = service
        .call("POST", "/api/database/", Some(json!({})))
        .await?;
    assert_eq!(status, 400);
    for field in ["name", "plan", "environment"] {
        assert_eq!(body[field], json!(["This field is required."]), "{body}");
    }
    let (status, body) = service
        .call(
            "POST",
            "/api/database/",
            Some(json!({"name": "x1x", "plan": "/api/flan/1/", "environment": "/api/environment/7/"})),
        )
        .await?;
    assert_eq!(status, 400);
    assert_eq!(body["plan"], json!(["Invalid hyperlink - No URL match"]));
    assert_eq!(
        body["environment"],
        json!(["Invalid hyperlink - object does not exist."])
    );
    let (status, body) = service
        .call(
            "POST",
            "/api/database/",
            Some(json!({"name": "Admin", "plan": "/api/plan/1/", "environment": "/api/environment/1/"})),
        )
        .await?;
    assert_eq!(status, 400);
    assert!(
        body["name"][0].as_str().unwrap().contains("reserved"),
        "{body}"
    );
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_delete_quarantines_then_removes() -> Result<()> {
    let service = start(true, Duration::from_millis(50)).await?;
    let database = service.create_database("shop").await?;
    let path = path_of(&database["_links"]["self"]);
    let credential_path = path_of(&database["credentials"][0]);
    let (_, before) = service.call("GET", &credential_path, None).await?;
    let (status, body) = service.call("DELETE", &path, None).await?;
    assert_eq!((status, body), (204, Value::Null));
    let (status, quarantined) = service.call("GET", &path, None).await?;
    assert_eq!(status, 200);
    let date = quarantined["quarantine_dt"].as_str().unwrap();
    assert_eq!(date.len(), 10, "{date}");
    let (_, after) = service.call("GET", &credential_path, None).await?;
    assert_ne!(before["password"], after["password"], "passwords are reset");
    let (_, list) = service.call("GET", "/api/database/", None).await?;
    assert_eq!(
        list["_links"]["count"], 1,
        "a quarantined database stays listed"
    );
    let (status, _) = service.call("DELETE", &path, None).await?;
    assert_eq!(status, 204);
    let (status, body) = service.call("GET", &path, None).await?;
    assert_eq!((status, body), (404, json!({"detail": "Not found"})));
    let (_, list) = service.call("GET", "/api/database/", None).await?;
    assert_eq!(list["_links"]["count"], 0);
    let (status, _) = service.call("GET", &credential_path, None).await?;
    assert_eq!(status, 404);
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_purged_name_is_free_when_the_delete_answers() -> Result<()> {
    // A provision delay long enough that a purge settling in the background would still hold
    // the name when the second create arrives.
    let service = start(true, Duration::from_millis(300)).await?;
    let database = service.create_database("shop").await?;
    let path = path_of(&database["_links"]["self"]);
    for _ in 0..2 {
        let (status, _) = service.call("DELETE", &path, None).await?;
        assert_eq!(status, 204);
    }
    let again = service.create_database("shop").await?;
    assert_ne!(again["id"], database["id"]);
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_credentials_create_reset_list_delete() -> Result<()> {
    let service = start(true, Duration::from_millis(50)).await?;
    let database = service.create_database("billing").await?;
    let database_path = path_of(&database["_links"]["self"]);
    let (status, created) = service
        .call(
            "POST",
            "/api/credential/",
            Some(json!({"user": "u_myusr1", "database": database_path, "password": "ignored"})),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["user"], "u_myusr1");
    assert_eq!(created["database"], database["_links"]["self"]);
    let password = created["password"].as_str().unwrap().to_owned();
    assert_ne!(password, "ignored");
    let path = path_of(&created["_links"]["self"]);
    let (status, again) = service
        .call(
            "POST",
            "/api/credential/",
            Some(json!({"user": "u_myusr1", "database": database_path})),
        )
        .await?;
    assert_eq!(status, 400);
    assert!(again["non_field_errors"].is_array(), "{again}");
    let (status, reset) = service
        .call("POST", &format!("{path}reset_password/"), None)
        .await?;
    assert_eq!(status, 200);
    assert_eq!(reset["_links"]["self"], created["_links"]["self"]);
    assert_ne!(reset["password"], json!(password));
    let (status, list) = service.call("GET", "/api/credential/", None).await?;
    assert_eq!(status, 200);
    assert_eq!(list["_links"]["count"], 2);
    for item in list["credential"].as_array().unwrap() {
        assert!(
            item.get("password").is_none(),
            "lists hide passwords: {item}"
        );
    }
    let (status, _) = service.call("DELETE", &path, None).await?;
    assert_eq!(status, 204);
    let (status, _) = service.call("GET", &path, None).await?;
    assert_eq!(status, 404);
    let (status, body) = service
        .call("POST", "/api/credential/", Some(json!({"user": "x"})))
        .await?;
    assert_eq!(status, 400);
    assert_eq!(body["database"], json!(["This field is required."]));
    service.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_injected_faults_use_drf_errors() -> Result<()> {
    let service = start(true, Duration::ZERO).await?;
    let response = service
        .client
        .post(format!("{}/v1/_admin/faults", service.running.base_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"path_prefix": "/globo/api", "status": 503, "count": 1}))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let (status, body) = service.call("GET", "/api/plan/", None).await?;
    assert_eq!(status, 503);
    assert!(body["detail"].is_string(), "{body}");
    let (status, _) = service.call("GET", "/api/plan/", None).await?;
    assert_eq!(status, 200);
    let (status, body) = service.call("GET", "/api/nothing/", None).await?;
    assert_eq!((status, body), (404, json!({"detail": "Not found"})));
    service.shutdown().await;
    Ok(())
}
