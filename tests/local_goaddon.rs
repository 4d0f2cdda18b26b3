//! The goaddon dialect of dbaas-local, over HTTP: the seed's authentication, the project, the
//! collections with their indexes, and database users; in-process on 127.0.0.1:0.

use std::time::Duration;

use anyhow::Result;
use dbaas::local::{self, Config, GoaddonDialect, RunningService};
use reqwest::{Client, Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The seed's token, so its printed `Authorization` header is valid here as printed.
const TOKEN: &str = "p-e1f92c77-5bb0-4fb8-9bd8-9b61d014ab5f";
/// The seed's header for [`TOKEN`].
const SEED_AUTHORIZATION: &str = "Basic cC1lMWY5MmM3Ny01YmIwLTRmYjgtOWJkOC05YjYxZDAxNGFiNWY=";

struct Service {
    running: RunningService,
    _dir: TempDir,
    http: Client,
}

impl Service {
    async fn start(configured: bool) -> Result<Self> {
        Self::start_with_delay(configured, Duration::from_millis(20)).await
    }

    async fn start_with_delay(configured: bool, provision_delay: Duration) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let running = local::start(Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: dir.path().to_path_buf(),
            provision_delay,
            goaddon: configured.then(|| GoaddonDialect {
                token: SecretString::from(TOKEN),
            }),
            ..Config::default()
        })
        .await?;
        Ok(Self {
            running,
            _dir: dir,
            http: Client::new(),
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut request = self
            .http
            .request(
                method,
                format!("{}/goaddon/api/v1{path}", self.running.base_url()),
            )
            .header("Authorization", SEED_AUTHORIZATION)
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await?;
        let status = reply.status();
        let text = reply.text().await?;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        };
        Ok((status, value))
    }

    /// The project (its database is ready from the start, as goaddon makes it at sign-up).
    async fn project(&self) -> Result<Value> {
        let (status, projects) = self.call(Method::GET, "/projects", None).await?;
        assert_eq!(status, StatusCode::OK, "{projects}");
        Ok(projects[0].clone())
    }
}

/// goaddon makes a project's database at sign-up and its docs know no "busy" answer: the very
/// first change after the service starts succeeds, however long provisioning takes here.
#[tokio::test]
async fn goaddon_first_collection_request_after_start_succeeds() -> Result<()> {
    let service = Service::start_with_delay(true, Duration::from_secs(3600)).await?;
    let (status, created) = service
        .call(
            Method::POST,
            "/collections",
            Some(json!({ "klass": "companies" })),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, project) = service.call(Method::GET, "/projects", None).await?;
    assert_eq!(status, StatusCode::OK, "{project}");
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_accepts_the_seed_header_and_refuses_other_spellings() -> Result<()> {
    let service = Service::start(true).await?;
    let url = format!("{}/goaddon/api/v1/projects", service.running.base_url());
    let ok = service
        .http
        .get(&url)
        .header("Authorization", SEED_AUTHORIZATION)
        .send()
        .await?;
    assert_eq!(ok.status(), StatusCode::OK);

    let missing = service.http.get(&url).send().await?;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.headers().contains_key("www-authenticate"));
    let body: Value = missing.json().await?;
    assert_eq!(body, json!({"error": "Unauthorized"}));

    // user:password Basic with the token as user is not what goaddon documents.
    let with_colon = service
        .http
        .get(&url)
        .basic_auth(TOKEN, Some(""))
        .send()
        .await?;
    assert_eq!(with_colon.status(), StatusCode::UNAUTHORIZED);
    let bearer = service.http.get(&url).bearer_auth(TOKEN).send().await?;
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_not_configured_answers_404_saying_so() -> Result<()> {
    let service = Service::start(false).await?;
    let (status, body) = service.call(Method::GET, "/projects", None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"].as_str().unwrap().contains("--goaddon-token"),
        "{body}"
    );
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_project_shows_its_database_and_nodes() -> Result<()> {
    let service = Service::start(true).await?;
    let project = service.project().await?;
    let id = project["_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(project["db_name"], "goaddon-project");
    let nodes = project["database_configuration"]["nodes"].as_u64().unwrap();
    assert_eq!(project["db_hosts"].as_array().unwrap().len() as u64, nodes);

    let (status, again) = service
        .call(Method::GET, &format!("/projects/{id}"), None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, project);
    let (status, _) = service
        .call(Method::GET, "/projects/5bf935bc3ab42fc4f4280d04", None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Still one project after more calls: the database is found, not created again.
    let (_, projects) = service.call(Method::GET, "/projects", None).await?;
    assert_eq!(projects.as_array().unwrap().len(), 1);
    assert_eq!(projects[0]["_id"], id.as_str());
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_collections_register_the_seed_indexes_and_rewrite_them() -> Result<()> {
    let service = Service::start(true).await?;
    service.project().await?;
    let seed_indexes = json!([
        { "key": { "foo": 1 } },
        { "key": { "company_id": 1, "foo": 1 },
          "options": { "unique": true, "sparse": true, "name": "company_foo" } }
    ]);
    let (status, created) = service
        .call(
            Method::POST,
            "/collections",
            Some(json!({
                "klass": "companies",
                "_fields": [{ "name": "foo", "type": "String", "description": "Contains the `foo` variable." }],
                "indexes": seed_indexes,
            })),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["_id"].as_str().unwrap().to_owned();
    assert_eq!(created["klass"], "companies");
    assert_eq!(created["_fields"][0]["name"], "foo");
    let indexes = created["indexes"].as_array().unwrap();
    assert_eq!(indexes.len(), 2);
    let by_name = |name: &str| {
        indexes
            .iter()
            .find(|i| i["options"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no index {name} in {created}"))
    };
    assert_eq!(by_name("foo_1")["key"], json!({"foo": 1}));
    assert_eq!(by_name("foo_1")["options"]["unique"], false);
    let company = by_name("company_foo");
    assert_eq!(company["key"], json!({"company_id": 1, "foo": 1}));
    assert_eq!(company["options"]["unique"], true);
    assert_eq!(company["options"]["sparse"], true);
    // Key order is kept.
    let keys: Vec<&String> = company["key"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["company_id", "foo"]);

    // The seed's own PATCH body changes nothing (not an attribute).
    let (status, same) = service
        .call(
            Method::PATCH,
            &format!("/collections/{id}"),
            Some(json!({ "foo": "bar" })),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["indexes"].as_array().unwrap().len(), 2);

    // Rewrite: drop foo_1, keep company_foo, add bar_-1.
    let (status, rewritten) = service
        .call(
            Method::PATCH,
            &format!("/collections/{id}"),
            Some(json!({ "indexes": [company.clone(), { "key": { "bar": -1 } }] })),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{rewritten}");
    let mut names: Vec<&str> = rewritten["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["options"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["bar_-1", "company_foo"]);

    // Changing an existing name's keys is refused, naming `indexes`.
    let (status, refused) = service
        .call(
            Method::PATCH,
            &format!("/collections/{id}"),
            Some(json!({ "indexes": [{ "key": { "other": 1 }, "options": { "name": "company_foo" } }] })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused["errors"]["indexes"][0].is_string(), "{refused}");

    // A second collection of the same klass is refused the Rails way.
    let (status, taken) = service
        .call(
            Method::POST,
            "/collections",
            Some(json!({ "klass": "companies" })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        taken["errors"]["klass"][0]
            .as_str()
            .unwrap()
            .contains("already been taken")
    );

    let (status, listed) = service.call(Method::GET, "/collections", None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["_id"], id.as_str());

    let (status, body) = service
        .call(Method::DELETE, &format!("/collections/{id}"), None)
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let (_, after) = service
        .call(Method::GET, &format!("/collections/{id}"), None)
        .await?;
    assert_eq!(after["indexes"], json!([]));

    let (status, _) = service
        .call(Method::GET, "/collections/5bf935bc3ab42fc4f4280d04", None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = service
        .call(Method::GET, "/collections/not-an-id", None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_collection_refuses_bad_bodies() -> Result<()> {
    let service = Service::start(true).await?;
    service.project().await?;
    let (status, body) = service
        .call(Method::POST, "/collections", Some(json!({})))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["errors"]["klass"].is_array(), "{body}");
    let (status, body) = service
        .call(
            Method::POST,
            "/collections",
            Some(json!({ "klass": "things", "indexes": [{ "key": { "a": 5 } }] })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["errors"]["indexes"].is_array(), "{body}");
    let reply = service
        .http
        .post(format!(
            "{}/goaddon/api/v1/collections",
            service.running.base_url()
        ))
        .header("Authorization", SEED_AUTHORIZATION)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_database_users_take_roles_and_chosen_or_generated_passwords() -> Result<()> {
    let service = Service::start(true).await?;
    service.project().await?;
    let (status, chosen) = service
        .call(
            Method::POST,
            "/database_users",
            Some(
                json!({ "username": "app", "password": "s3cret-Passw0rd", "roles": ["readWrite"] }),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{chosen}");
    assert_eq!(chosen["password"], Value::Null);
    assert_eq!(chosen["roles"], json!(["readWrite"]));
    let id = chosen["_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24);

    let (status, generated) = service
        .call(
            Method::POST,
            "/database_users",
            Some(json!({ "username": "reporting", "roles": ["read"] })),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        generated["password"].as_str().unwrap().len() >= 8,
        "{generated}"
    );

    let (_, listed) = service.call(Method::GET, "/database_users", None).await?;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|user| user["password"].is_null()));

    let (status, taken) = service
        .call(
            Method::POST,
            "/database_users",
            Some(json!({ "username": "app", "roles": [] })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        taken["errors"]["username"][0]
            .as_str()
            .unwrap()
            .contains("already been taken")
    );
    let (status, bad_role) = service
        .call(
            Method::POST,
            "/database_users",
            Some(json!({ "username": "x", "roles": ["root@admin"] })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_role["errors"]["roles"].is_array(), "{bad_role}");

    // Wait until the user settles, then change its roles and password.
    let path = format!("/database_users/{id}");
    let mut updated = Value::Null;
    for _ in 0..500 {
        let (status, body) = service
            .call(
                Method::PATCH,
                &path,
                Some(json!({ "roles": ["read", "dbAdmin"] })),
            )
            .await?;
        if status == StatusCode::OK {
            updated = body;
            break;
        }
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(updated["roles"], json!(["read", "dbAdmin"]), "{updated}");
    let (status, renamed) = service
        .call(Method::PATCH, &path, Some(json!({ "username": "other" })))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(renamed["errors"]["username"].is_array());

    let (status, _) = service.call(Method::DELETE, &path, None).await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = service.call(Method::GET, &path, None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    service.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_unknown_paths_and_methods_answer_in_goaddon_shape() -> Result<()> {
    let service = Service::start(true).await?;
    let (status, body) = service.call(Method::GET, "/nothing", None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string(), "{body}");
    let (status, body) = service.call(Method::DELETE, "/projects", None).await?;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error"].is_string(), "{body}");
    service.running.shutdown().await;
    Ok(())
}
