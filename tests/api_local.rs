//! `LocalApi` against the real dbaas-local service, started in-process on 127.0.0.1:0 for each
//! test: full CRUD with the provider's waiter, error mapping, and transparent retries of faults
//! injected through the admin endpoint.

use std::time::Duration;

use anyhow::{Context as _, Result};
use dbaas::api::http::HttpTuning;
use dbaas::api::local::LocalApi;
use dbaas::api::{Database, DatabaseChanges, DatabaseSpec, DbaasApi, Error, Phase};
use dbaas::local::{Config, RunningService};
use dbaas::provider::wait::{Poll, WaitError, WaitPolicy, wait_for};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "test-token-0123";

/// A running service with its data directory (kept alive as long as the service).
struct Harness {
    service: RunningService,
    _data_dir: tempfile::TempDir,
}

impl Harness {
    async fn start() -> Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let service = dbaas::local::start(Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: data_dir.path().to_path_buf(),
            token: Some(SecretString::from(TOKEN)),
            provision_delay: Duration::from_millis(200),
        })
        .await
        .context("starting dbaas-local")?;
        Ok(Self {
            service,
            _data_dir: data_dir,
        })
    }

    fn api(&self) -> Result<LocalApi> {
        self.api_with_token(TOKEN)
    }

    fn api_with_token(&self, token: &str) -> Result<LocalApi> {
        Ok(LocalApi::new(
            &self.service.base_url(),
            Some(SecretString::from(token)),
            fast_tuning(),
        )?)
    }

    /// A plain admin call, outside the client under test.
    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.service.base_url()))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin call");
        assert!(response.status().is_success(), "admin {path}: {response:?}");
        response.json().await.expect("admin reply")
    }

    async fn inject_fault(&self, fault: Value) {
        self.admin(reqwest::Method::POST, "/v1/_admin/faults", Some(fault))
            .await;
    }

    async fn clear_request_log(&self) {
        self.admin(reqwest::Method::DELETE, "/v1/_admin/requests", None)
            .await;
    }

    /// `(method, path, status)` of every logged request except the admin ones.
    async fn requests(&self) -> Vec<(String, String, u64)> {
        let log = self
            .admin(reqwest::Method::GET, "/v1/_admin/requests", None)
            .await;
        log["requests"]
            .as_array()
            .expect("requests array")
            .iter()
            .filter(|r| !r["path"].as_str().unwrap_or("").starts_with("/v1/_admin"))
            .map(|r| {
                (
                    r["method"].as_str().unwrap_or("").to_owned(),
                    r["path"].as_str().unwrap_or("").to_owned(),
                    r["status"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    async fn stop(self) {
        self.service.shutdown().await;
    }
}

/// Short backoffs so retries do not slow the suite; the cap (2 × max) still admits the
/// service's `Retry-After: 1`.
fn fast_tuning() -> HttpTuning {
    HttpTuning {
        request_timeout: Duration::from_secs(10),
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(1),
        ..HttpTuning::default()
    }
}

fn poll_policy() -> WaitPolicy {
    WaitPolicy {
        timeout: Duration::from_secs(30),
        initial_delay: Duration::from_millis(50),
        min_interval: Duration::from_millis(50),
        max_interval: Duration::from_millis(200),
        multiplier: 1.5,
        jitter: 0.2,
    }
}

async fn wait_ready(api: &LocalApi, id: &str) -> Result<Database, WaitError> {
    wait_for(
        &format!("database {id} to be READY"),
        &poll_policy(),
        &CancellationToken::new(),
        || async {
            let database = api.get_database(id).await?;
            Ok(match database.status.phase {
                Phase::Ready => Poll::Done(database),
                Phase::Failed => Poll::Failed {
                    status: database.status.raw,
                    message: database.status.message.unwrap_or_default(),
                },
                Phase::Pending | Phase::Deleting => Poll::Pending {
                    status: database.status.raw,
                },
            })
        },
    )
    .await
}

async fn wait_gone(api: &LocalApi, id: &str) -> Result<(), WaitError> {
    wait_for(
        &format!("database {id} to be deleted"),
        &poll_policy(),
        &CancellationToken::new(),
        || async {
            match api.get_database(id).await {
                Ok(database) => Ok(Poll::Pending {
                    status: database.status.raw,
                }),
                Err(error) if error.is_not_found() => Ok(Poll::Done(())),
                Err(error) => Err(error),
            }
        },
    )
    .await
}

fn spec(name: &str) -> DatabaseSpec {
    DatabaseSpec {
        name: name.to_owned(),
        ..DatabaseSpec::default()
    }
}

#[tokio::test]
async fn local_api_database_crud_with_waiter() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;
    assert_eq!(api.api_name(), "local");

    let capabilities = api.capabilities().await?;
    let postgres = capabilities
        .engine("postgresql")
        .context("postgresql offered")?;
    assert_eq!(postgres.default_version, "17");
    assert_eq!(capabilities.defaults.engine, "mongodb");
    assert!(capabilities.plans.iter().any(|p| p.name == "business"));

    let created = api
        .create_database(&DatabaseSpec {
            name: "orders".into(),
            engine: Some("postgresql".into()),
            plan: Some("business".into()),
            description: Some("order history".into()),
            ..DatabaseSpec::default()
        })
        .await?;
    assert!(created.id.starts_with("db-"), "{}", created.id);
    assert_eq!(created.status.raw, "CREATING");
    assert_eq!(created.status.phase, Phase::Pending);
    assert_eq!(created.version, "17");
    assert_eq!(created.region, "eu-west-1");
    assert_eq!(
        created.endpoint.as_deref(),
        Some("postgresql://orders.eu-west-1.dbaas.local:5432/orders")
    );

    let ready = wait_ready(&api, &created.id).await?;
    assert_eq!(ready.status.phase, Phase::Ready);
    assert_eq!(ready.description.as_deref(), Some("order history"));

    api.create_database(&spec("other")).await?;
    let listed = api.list_databases(Some("ord")).await?;
    assert_eq!(
        listed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [created.id.as_str()]
    );
    assert_eq!(api.list_databases(None).await?.len(), 2);
    let found = api.find_database_by_name("orders").await?;
    assert_eq!(found.map(|d| d.id), Some(created.id.clone()));
    assert!(api.find_database_by_name("ord").await?.is_none());

    let updating = api
        .update_database(
            &created.id,
            &DatabaseChanges {
                plan: Some("enterprise".into()),
                ..DatabaseChanges::default()
            },
        )
        .await?;
    assert_eq!(updating.status.raw, "UPDATING");
    assert_eq!(updating.plan, "enterprise");
    let updated = wait_ready(&api, &created.id).await?;
    assert_eq!(updated.plan, "enterprise");

    api.update_database(
        &created.id,
        &DatabaseChanges {
            description: Some(None),
            ..DatabaseChanges::default()
        },
    )
    .await?;
    let cleared = wait_ready(&api, &created.id).await?;
    assert_eq!(cleared.description, None);

    api.delete_database(&created.id).await?;
    let deleting = api.get_database(&created.id).await;
    match deleting {
        Ok(database) => assert_eq!(database.status.phase, Phase::Deleting),
        Err(error) => assert!(error.is_not_found(), "{error:?}"),
    }
    wait_gone(&api, &created.id).await?;
    assert!(
        api.get_database(&created.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
    // Deleting what is already gone succeeds.
    api.delete_database(&created.id).await?;
    assert_eq!(
        api.list_databases(None)
            .await?
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        ["other"]
    );
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_wrong_token_is_unauthorized() -> Result<()> {
    let harness = Harness::start().await?;
    let error = harness
        .api_with_token("not-the-token")?
        .list_databases(None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(!error.to_string().contains("not-the-token"));
    let anonymous = LocalApi::new(&harness.service.base_url(), None, fast_tuning())?;
    let error = anonymous.capabilities().await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_invalid_plan_names_the_field() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;
    let error = api
        .create_database(&DatabaseSpec {
            plan: Some("platinum".into()),
            ..spec("orders")
        })
        .await
        .unwrap_err();
    match &error {
        Error::Invalid { field, message } => {
            assert_eq!(field.as_deref(), Some("plan"));
            assert!(message.contains("essential"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let error = api.create_database(&spec("9lives")).await.unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { field: Some(f), .. } if f == "name"),
        "{error:?}"
    );
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_unknown_id_is_not_found() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;
    let error = api.get_database("db-000000000000").await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    let error = api
        .update_database(
            "db-000000000000",
            &DatabaseChanges {
                plan: Some("business".into()),
                ..DatabaseChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    api.delete_database("db-000000000000").await?;
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_duplicate_name_and_busy_database_conflict() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;
    let first = api.create_database(&spec("orders")).await?;
    let duplicate = api.create_database(&spec("orders")).await.unwrap_err();
    assert!(duplicate.is_conflict(), "{duplicate:?}");
    assert!(duplicate.api_message().contains(&first.id), "{duplicate:?}");
    // Still CREATING: an update must wait.
    let busy = api
        .update_database(
            &first.id,
            &DatabaseChanges {
                plan: Some("business".into()),
                ..DatabaseChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(busy.is_conflict(), "{busy:?}");
    assert!(!busy.is_retryable());
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_create_with_same_idempotency_key_returns_same_database() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;
    let keyed = DatabaseSpec {
        idempotency_key: Some("apply-42".into()),
        ..spec("orders")
    };
    let first = api.create_database(&keyed).await?;
    let again = api.create_database(&keyed).await?;
    assert_eq!(first.id, again.id);
    assert_eq!(api.list_databases(None).await?.len(), 1);
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_retries_injected_faults_transparently() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;

    // Two 503s on a GET: retried, the caller sees only the success.
    harness
        .inject_fault(
            json!({"path_prefix": "/v1/databases", "method": "GET", "status": 503,
                              "count": 2, "retry_after": null}),
        )
        .await;
    harness.clear_request_log().await;
    assert!(api.list_databases(None).await?.is_empty());
    let statuses: Vec<u64> = harness.requests().await.iter().map(|r| r.2).collect();
    assert_eq!(statuses, [503, 503, 200]);

    // A 500 on the create POST: retried safely thanks to the idempotency key.
    harness
        .inject_fault(
            json!({"path_prefix": "/v1/databases", "method": "POST", "status": 500,
                              "count": 1, "retry_after": null}),
        )
        .await;
    harness.clear_request_log().await;
    let created = api.create_database(&spec("orders")).await?;
    let posts: Vec<u64> = harness
        .requests()
        .await
        .iter()
        .filter(|r| r.0 == "POST")
        .map(|r| r.2)
        .collect();
    assert_eq!(posts, [500, 202]);
    assert_eq!(api.list_databases(None).await?.len(), 1);

    // A 429 with Retry-After: honoured, then retried.
    harness
        .inject_fault(
            json!({"path_prefix": "/v1/databases/", "method": null, "status": 429,
                              "count": 1, "retry_after": 1}),
        )
        .await;
    harness.clear_request_log().await;
    let read = api.get_database(&created.id).await?;
    assert_eq!(read.id, created.id);
    let statuses: Vec<u64> = harness.requests().await.iter().map(|r| r.2).collect();
    assert_eq!(statuses, [429, 200]);

    // Faults inside a wait are tolerated by both layers.
    harness
        .inject_fault(
            json!({"path_prefix": "/v1/databases/", "method": "GET", "status": 503,
                              "count": 8, "retry_after": null}),
        )
        .await;
    let ready = wait_ready(&api, &created.id).await?;
    assert_eq!(ready.status.phase, Phase::Ready);
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_reports_persistent_unavailability() -> Result<()> {
    let harness = Harness::start().await?;
    let mut tuning = fast_tuning();
    tuning.max_retries = 2;
    let api = LocalApi::new(
        &harness.service.base_url(),
        Some(SecretString::from(TOKEN)),
        tuning,
    )?;
    harness
        .inject_fault(
            json!({"path_prefix": "/v1/capabilities", "method": null, "status": 503,
                              "count": 10, "retry_after": null}),
        )
        .await;
    harness.clear_request_log().await;
    let error = api.capabilities().await.unwrap_err();
    assert!(matches!(error, Error::Unavailable { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(harness.requests().await.len(), 3);
    harness.stop().await;
    Ok(())
}
