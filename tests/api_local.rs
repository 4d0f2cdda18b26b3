//! `LocalApi` against the real dbaas-local service, started in-process on 127.0.0.1:0 for each
//! test: full CRUD with the provider's waiter, error mapping, and transparent retries of faults
//! injected through the admin endpoint.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result};
use dbaas::api::http::HttpTuning;
use dbaas::api::local::LocalApi;
use dbaas::api::{
    CredentialSpec, Database, DatabaseChanges, DatabaseSpec, DbaasApi, Error, IndexDirection,
    IndexKey, IndexSpec, IpRestrictionSpec, Phase, Status,
};
use dbaas::local::{Config, RunningService, TokenSource};
use dbaas::provider::wait::{Poll, WaitError, WaitPolicy, wait_for};
use secrecy::{ExposeSecret as _, SecretString};
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
        Self::start_with_delay(Duration::from_millis(200)).await
    }

    /// A service whose transitions take `provision_delay` (longer when a test must act while
    /// an object is still busy, so a slow machine cannot miss the window).
    async fn start_with_delay(provision_delay: Duration) -> Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let service = dbaas::local::start(Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: data_dir.path().to_path_buf(),
            token: TokenSource::Given(SecretString::from(TOKEN)),
            provision_delay,
            compose: None,
            ovh: None,
            globo: None,
            goaddon: None,
            databaselabs: None,
            postgres: Default::default(),
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

    /// Asks the service whether `password` is the credential's password (plain reqwest: the
    /// trait has no verify call, it exists for tests).
    async fn verify(&self, database_id: &str, username: &str, password: &str) -> bool {
        let reply = self
            .admin(
                reqwest::Method::POST,
                &format!("/v1/databases/{database_id}/credentials/{username}/verify"),
                Some(json!({ "password": password })),
            )
            .await;
        reply["valid"].as_bool().expect("valid flag")
    }

    /// A READY database with the given name and engine.
    async fn ready_database(&self, api: &LocalApi, name: &str, engine: &str) -> Result<Database> {
        let created = api
            .create_database(&DatabaseSpec {
                engine: Some(engine.to_owned()),
                ..spec(name)
            })
            .await?;
        Ok(wait_ready(api, &created.id).await?)
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
        check_grace: Duration::from_secs(30),
        hold: Duration::ZERO,
        not_found_grace: Duration::ZERO,
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

/// Polls `read` until the object it returns is READY (any child object).
async fn until_ready<T, F, Fut>(what: &str, status: fn(&T) -> &Status, mut read: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let object = wait_for(what, &poll_policy(), &CancellationToken::new(), || {
        let next = read();
        async move {
            let object = next.await?;
            let current = status(&object);
            Ok(match current.phase {
                Phase::Ready => Poll::Done(object),
                Phase::Failed => Poll::Failed {
                    status: current.raw.clone(),
                    message: current.message.clone().unwrap_or_default(),
                },
                Phase::Pending | Phase::Deleting => Poll::Pending {
                    status: current.raw.clone(),
                },
            })
        }
    })
    .await?;
    Ok(object)
}

/// Polls `read` until it answers not found.
async fn until_gone<T, F, Fut>(what: &str, mut read: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    wait_for(what, &poll_policy(), &CancellationToken::new(), || {
        let next = read();
        async move {
            match next.await {
                Ok(_) => Ok(Poll::Pending {
                    status: "still there".to_owned(),
                }),
                Err(error) if error.is_not_found() => Ok(Poll::Done(())),
                Err(error) => Err(error),
            }
        }
    })
    .await?;
    Ok(())
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
async fn local_api_duplicate_name_conflicts_and_busy_database_is_busy() -> Result<()> {
    let harness = Harness::start_with_delay(Duration::from_secs(1)).await?;
    let api = harness.api()?;
    let first = api.create_database(&spec("orders")).await?;
    // The same spec again carries the same derived key: the service replays the first create.
    let replayed = api.create_database(&spec("orders")).await?;
    assert_eq!(replayed.id, first.id);
    let other = DatabaseSpec {
        description: Some("another client's".into()),
        ..spec("orders")
    };
    let duplicate = api.create_database(&other).await.unwrap_err();
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
    assert!(busy.is_busy() && !busy.is_conflict(), "{busy:?}");
    assert!(busy.api_message().contains("CREATING"), "{busy:?}");
    assert_eq!(busy.retry_after(), Some(Duration::from_secs(1)));
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

/// Collects the client's log lines so a test can prove no password reaches them.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// Keeps a log capture active on this thread.
struct LogCapture {
    _guard: tracing::subscriber::DefaultGuard,
    /// A second registered dispatcher. While only one is registered, tracing-core decides
    /// whether a callsite is enabled from the thread that first reaches it: a callsite first
    /// reached by a concurrent test (no subscriber there) would stay disabled for this one too.
    /// With two, the decision is deferred to each event's own thread.
    _companion: tracing::Dispatch,
}

/// Captures, on this thread, what the API client logs at trace level.
fn capture_client_logs() -> (LogBuffer, LogCapture) {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("dbaas::api=trace"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let capture = LogCapture {
        _companion: tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()),
        _guard: tracing::subscriber::set_default(subscriber),
    };
    (logs, capture)
}

fn credential_status(credential: &dbaas::api::Credential) -> &Status {
    &credential.status
}

fn index_status(index: &dbaas::api::Index) -> &Status {
    &index.status
}

fn restriction_status(restriction: &dbaas::api::IpRestriction) -> &Status {
    &restriction.status
}

#[tokio::test]
async fn local_api_credential_lifecycle() -> Result<()> {
    // Everything the client logs at trace level, to check no password is in it.
    let (logs, _capture) = capture_client_logs();

    let harness = Harness::start().await?;
    let api = harness.api()?;
    let db = harness.ready_database(&api, "orders", "mongodb").await?.id;

    // A generated password: returned once by the create, revealable later.
    let generated = api
        .create_credential(
            &db,
            &CredentialSpec {
                username: "app".into(),
                roles: vec!["readWrite@orders".into()],
                password: None,
            },
        )
        .await?;
    assert_eq!(generated.database_id, db);
    assert_eq!(generated.username, "app");
    assert_eq!(generated.roles, ["readWrite@orders"]);
    assert_eq!(generated.status.raw, "CREATING");
    assert_eq!(generated.status.phase, Phase::Pending);
    assert!(!generated.password_chosen);
    let first_password = generated
        .password
        .as_ref()
        .context("a generated password in the create reply")?
        .expose_secret()
        .to_owned();
    assert_eq!(first_password.len(), 24);
    assert!(first_password.chars().all(|c| c.is_ascii_alphanumeric()));

    let ready = until_ready("credential app", credential_status, || {
        api.get_credential(&db, "app")
    })
    .await?;
    assert!(ready.password.is_none(), "reads never carry the password");
    let revealed = api.reveal_credential_password(&db, "app").await?;
    assert_eq!(revealed.expose_secret(), first_password);
    assert!(harness.verify(&db, "app", &first_password).await);
    assert!(!harness.verify(&db, "app", "not-the-password").await);

    // A chosen ("write-only") password: never returned, never revealable, but it works.
    let chosen_password = "Ch0sen-by-the-client!";
    let chosen = api
        .create_credential(
            &db,
            &CredentialSpec {
                username: "reporter".into(),
                roles: vec!["read@orders".into(), "clusterMonitor@admin".into()],
                password: Some(SecretString::from(chosen_password)),
            },
        )
        .await?;
    assert!(chosen.password_chosen);
    assert!(chosen.password.is_none());
    until_ready("credential reporter", credential_status, || {
        api.get_credential(&db, "reporter")
    })
    .await?;
    assert!(harness.verify(&db, "reporter", chosen_password).await);
    let error = api
        .reveal_credential_password(&db, "reporter")
        .await
        .unwrap_err();
    assert!(
        error.is_conflict() && !error.is_busy(),
        "a chosen password is a state conflict: {error:?}"
    );

    // The same username again is a duplicate, not a busy object.
    let duplicate = api
        .create_credential(
            &db,
            &CredentialSpec {
                username: "app".into(),
                ..CredentialSpec::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        duplicate.is_conflict() && !duplicate.is_busy(),
        "{duplicate:?}"
    );

    // Reset with a generated password: the old one stops working.
    let reset = api.reset_credential_password(&db, "app", None).await?;
    let second_password = reset
        .password
        .as_ref()
        .context("a generated password in the reset reply")?
        .expose_secret()
        .to_owned();
    assert_ne!(second_password, first_password);
    assert!(harness.verify(&db, "app", &second_password).await);
    assert!(!harness.verify(&db, "app", &first_password).await);
    until_ready("credential app", credential_status, || {
        api.get_credential(&db, "app")
    })
    .await?;
    assert_eq!(
        api.reveal_credential_password(&db, "app")
            .await?
            .expose_secret(),
        second_password
    );

    // Reset to a chosen password: nothing comes back and it is no longer revealable.
    let rechosen = "An0ther-chosen-pass";
    let reset = api
        .reset_credential_password(&db, "app", Some(&SecretString::from(rechosen)))
        .await?;
    assert!(reset.password.is_none());
    assert!(reset.password_chosen);
    assert!(harness.verify(&db, "app", rechosen).await);
    let app = until_ready("credential app", credential_status, || {
        api.get_credential(&db, "app")
    })
    .await?;
    assert!(app.password_chosen);
    let error = api
        .reveal_credential_password(&db, "app")
        .await
        .unwrap_err();
    assert!(error.is_conflict(), "{error:?}");

    // Roles are replaced as a whole.
    let updating = api
        .update_credential_roles(
            &db,
            "app",
            &["read@orders".to_owned(), "dbAdmin@orders".to_owned()],
        )
        .await?;
    assert_eq!(updating.status.raw, "UPDATING");
    let updated = until_ready("credential app", credential_status, || {
        api.get_credential(&db, "app")
    })
    .await?;
    assert_eq!(updated.roles, ["read@orders", "dbAdmin@orders"]);

    let listed = api.list_credentials(&db).await?;
    assert_eq!(
        listed
            .iter()
            .map(|c| c.username.as_str())
            .collect::<Vec<_>>(),
        ["app", "reporter"]
    );
    assert!(listed.iter().all(|c| c.password.is_none()));

    // A bad role names its field.
    let error = api
        .create_credential(
            &db,
            &CredentialSpec {
                username: "bad".into(),
                roles: vec!["superuser@orders".into()],
                password: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { field: Some(f), .. } if f.starts_with("roles")),
        "{error:?}"
    );

    api.delete_credential(&db, "app").await?;
    until_gone("credential app to be deleted", || {
        api.get_credential(&db, "app")
    })
    .await?;
    api.delete_credential(&db, "app").await?; // already gone: success
    assert!(
        api.get_credential(&db, "nobody")
            .await
            .unwrap_err()
            .is_not_found()
    );

    let logged = logs.text();
    assert!(logged.contains("HTTP response received"), "{logged}");
    assert!(logged.contains(r#""password":"***""#), "{logged}");
    for secret in [
        first_password.as_str(),
        second_password.as_str(),
        chosen_password,
        rechosen,
    ] {
        assert!(!logged.contains(secret), "{secret} leaked into the log");
    }
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_index_lifecycle() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;
    let db = harness.ready_database(&api, "catalog", "mongodb").await?.id;

    let keys = vec![
        IndexKey {
            field: "a".into(),
            direction: IndexDirection::Ascending,
        },
        IndexKey {
            field: "b".into(),
            direction: IndexDirection::Descending,
        },
    ];
    let building = api
        .create_index(
            &db,
            "items",
            &IndexSpec {
                name: None,
                keys: keys.clone(),
                unique: true,
                sparse: false,
            },
        )
        .await?;
    assert_eq!(building.name, "a_1_b_-1");
    assert_eq!(building.name, dbaas::api::default_index_name(&keys));
    assert_eq!(building.collection, "items");
    assert_eq!(building.database_id, db);
    assert_eq!(building.keys, keys);
    assert!(building.unique && !building.sparse);
    assert_eq!(building.status.raw, "BUILDING");
    assert_eq!(building.status.phase, Phase::Pending);

    let listed = api.list_indexes(&db, "items").await?;
    assert_eq!(
        listed.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["_id_", "a_1_b_-1"]
    );
    let id_index = &listed[0];
    assert_eq!(
        id_index.keys,
        [IndexKey {
            field: "_id".into(),
            direction: IndexDirection::Ascending
        }]
    );
    assert!(id_index.unique);
    assert_eq!(id_index.status.phase, Phase::Ready);
    assert_eq!(id_index.collection, "items");

    let ready = until_ready("index a_1_b_-1", index_status, || {
        api.get_index(&db, "items", "a_1_b_-1")
    })
    .await?;
    assert_eq!(ready.keys, keys);

    // Same keys under another name: a duplicate naming the existing index.
    let duplicate = api
        .create_index(
            &db,
            "items",
            &IndexSpec {
                name: Some("again".into()),
                keys: keys.clone(),
                ..IndexSpec::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        duplicate.is_conflict() && !duplicate.is_busy(),
        "{duplicate:?}"
    );
    assert!(
        duplicate.api_message().contains("a_1_b_-1"),
        "{duplicate:?}"
    );

    let named = api
        .create_index(
            &db,
            "items",
            &IndexSpec {
                name: Some("by_sku".into()),
                keys: vec![IndexKey {
                    field: "sku".into(),
                    direction: IndexDirection::Descending,
                }],
                unique: false,
                sparse: true,
            },
        )
        .await?;
    assert_eq!(named.name, "by_sku");
    assert!(named.sparse);

    let error = api.delete_index(&db, "items", "_id_").await.unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { field: Some(f), .. } if f == "name"),
        "{error:?}"
    );

    api.delete_index(&db, "items", "a_1_b_-1").await?;
    until_gone("index a_1_b_-1 to be deleted", || {
        api.get_index(&db, "items", "a_1_b_-1")
    })
    .await?;
    api.delete_index(&db, "items", "a_1_b_-1").await?; // already gone: success
    let remaining = api.list_indexes(&db, "items").await?;
    assert_eq!(
        remaining
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        ["_id_", "by_sku"]
    );
    assert!(
        api.list_indexes(&db, "nothing-here")
            .await
            .unwrap_err()
            .is_not_found()
    );
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_ip_restriction_lifecycle_with_busy_database() -> Result<()> {
    let harness = Harness::start_with_delay(Duration::from_secs(1)).await?;
    let api = harness.api()?;
    let db = harness
        .ready_database(&api, "billing", "postgresql")
        .await?
        .id;

    let created = api
        .create_ip_restriction(
            &db,
            &IpRestrictionSpec {
                cidr: "10.0.0.0/24".into(),
                description: Some("office".into()),
            },
        )
        .await?;
    assert_eq!(created.cidr, "10.0.0.0/24");
    assert_eq!(created.database_id, db);
    assert_eq!(created.description.as_deref(), Some("office"));
    assert_eq!(created.status.raw, "CREATING");

    // The database is UPDATING now: the next change is refused as busy, with a hint.
    let busy = api
        .create_ip_restriction(
            &db,
            &IpRestrictionSpec {
                cidr: "10.1.0.0/16".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    match &busy {
        Error::Busy {
            message,
            retry_after,
        } => {
            assert!(message.contains("UPDATING"), "{message}");
            assert_eq!(*retry_after, Some(Duration::from_secs(1)));
        }
        other => panic!("expected Busy, got {other:?}"),
    }
    assert!(!busy.is_retryable() && !busy.is_conflict());
    assert_eq!(
        api.get_database(&db).await?.status.raw,
        "UPDATING",
        "creating a restriction makes the database busy"
    );

    wait_ready(&api, &db).await?;
    let ready = until_ready("restriction 10.0.0.0/24", restriction_status, || {
        api.get_ip_restriction(&db, "10.0.0.0/24")
    })
    .await?;
    assert_eq!(ready.description.as_deref(), Some("office"));

    // The same network again is a duplicate, not busy.
    let duplicate = api
        .create_ip_restriction(
            &db,
            &IpRestrictionSpec {
                cidr: "10.0.0.0/24".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        duplicate.is_conflict() && !duplicate.is_busy(),
        "{duplicate:?}"
    );
    assert!(duplicate.api_message().contains(&db), "{duplicate:?}");

    // Host bits set: refused, naming the field.
    let error = api
        .create_ip_restriction(
            &db,
            &IpRestrictionSpec {
                cidr: "10.0.0.7/24".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { field: Some(f), .. } if f == "cidr"),
        "{error:?}"
    );

    // An IPv6 network comes back canonical and is addressable by that form.
    let v6 = api
        .create_ip_restriction(
            &db,
            &IpRestrictionSpec {
                cidr: "2001:DB8:0:0::/32".into(),
                description: None,
            },
        )
        .await?;
    assert_eq!(v6.cidr, "2001:db8::/32");
    wait_ready(&api, &db).await?;
    let v6 = api.get_ip_restriction(&db, "2001:db8::/32").await?;
    assert_eq!(v6.cidr, "2001:db8::/32");

    // Description changes do not make the database busy.
    let described = api
        .update_ip_restriction(&db, "10.0.0.0/24", Some("head office"))
        .await?;
    assert_eq!(described.description.as_deref(), Some("head office"));
    assert_eq!(api.get_database(&db).await?.status.phase, Phase::Ready);
    let cleared = api.update_ip_restriction(&db, "10.0.0.0/24", None).await?;
    assert_eq!(cleared.description, None);

    let listed = api.list_ip_restrictions(&db).await?;
    assert_eq!(
        listed.iter().map(|r| r.cidr.as_str()).collect::<Vec<_>>(),
        ["10.0.0.0/24", "2001:db8::/32"]
    );

    api.delete_ip_restriction(&db, "10.0.0.0/24").await?;
    until_gone("restriction 10.0.0.0/24 to be deleted", || {
        api.get_ip_restriction(&db, "10.0.0.0/24")
    })
    .await?;
    wait_ready(&api, &db).await?;
    api.delete_ip_restriction(&db, "10.0.0.0/24").await?; // already gone: success
    assert!(
        api.get_ip_restriction(&db, "192.168.0.0/16")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // The slash really travelled encoded, as one path segment.
    let paths: Vec<String> = harness
        .requests()
        .await
        .into_iter()
        .map(|(_, path, _)| path)
        .filter(|path| path.contains("/ip-restrictions/"))
        .collect();
    assert!(
        paths.iter().any(|p| p.contains("10.0.0.0%2F24")),
        "{paths:?}"
    );
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_children_of_unknown_database_are_not_found() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;
    let missing = "db-000000000000";
    let error = api
        .create_credential(
            missing,
            &CredentialSpec {
                username: "app".into(),
                ..CredentialSpec::default()
            },
        )
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    let error = api.list_ip_restrictions(missing).await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    api.delete_credential(missing, "app").await?;
    api.delete_index(missing, "items", "a_1").await?;
    api.delete_ip_restriction(missing, "10.0.0.0/24").await?;
    harness.stop().await;
    Ok(())
}

#[tokio::test]
async fn local_api_restrictions_one_after_another_wait_out_busy() -> Result<()> {
    let harness = Harness::start().await?;
    let api = harness.api()?;
    let db = harness.ready_database(&api, "fleet", "mysql").await?.id;
    for n in 0..10 {
        let restriction = IpRestrictionSpec {
            cidr: format!("10.{n}.0.0/16"),
            description: Some(format!("site {n}")),
        };
        // What a resource does: the same request again once the database is ready.
        let created = wait_for(
            &format!("restriction {}", restriction.cidr),
            &poll_policy(),
            &CancellationToken::new(),
            || async {
                match api.create_ip_restriction(&db, &restriction).await {
                    Ok(created) => Ok(Poll::Done(created)),
                    Err(error) if error.is_busy() => Ok(Poll::Pending {
                        status: error.api_message().to_owned(),
                    }),
                    Err(error) => Err(error),
                }
            },
        )
        .await?;
        assert_eq!(created.cidr, restriction.cidr);
    }
    wait_ready(&api, &db).await?;
    let listed = api.list_ip_restrictions(&db).await?;
    assert_eq!(listed.len(), 10);
    assert!(listed.iter().all(|r| r.status.phase == Phase::Ready));
    harness.stop().await;
    Ok(())
}

/// A vendor client outside the crate that implements only the required methods.
#[derive(Debug)]
struct DatabasesOnly;

#[async_trait::async_trait]
impl DbaasApi for DatabasesOnly {
    fn api_name(&self) -> &'static str {
        "compose"
    }

    fn features(&self) -> &'static [dbaas::api::Feature] {
        &[dbaas::api::Feature::Database]
    }

    async fn capabilities(&self) -> Result<dbaas::api::Capabilities, Error> {
        Ok(dbaas::api::Capabilities::default())
    }

    async fn create_database(&self, _spec: &DatabaseSpec) -> Result<Database, Error> {
        Err(self.unsupported("creating databases"))
    }

    async fn get_database(&self, _id: &str) -> Result<Database, Error> {
        Err(self.unsupported("reading databases"))
    }

    async fn list_databases(&self, _prefix: Option<&str>) -> Result<Vec<Database>, Error> {
        Ok(Vec::new())
    }

    async fn update_database(
        &self,
        _id: &str,
        _changes: &DatabaseChanges,
    ) -> Result<Database, Error> {
        Err(self.unsupported("updating databases"))
    }

    async fn delete_database(&self, _id: &str) -> Result<(), Error> {
        Ok(())
    }
}

fn assert_unsupported<T: std::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(error @ Error::Unsupported { api: "compose", .. }) => {
            assert!(
                error
                    .to_string()
                    .starts_with("the compose API does not support "),
                "{error}"
            );
        }
        other => panic!("expected Unsupported from compose, got {other:?}"),
    }
}

#[tokio::test]
async fn child_operations_default_to_unsupported_naming_the_api() {
    let api = DatabasesOnly;
    let (db, cidr) = ("db-1", "10.0.0.0/8");
    let password = SecretString::from("Ch0sen-by-the-client!");
    assert_unsupported(api.create_credential(db, &CredentialSpec::default()).await);
    assert_unsupported(api.get_credential(db, "app").await);
    assert_unsupported(api.list_credentials(db).await);
    assert_unsupported(api.update_credential_roles(db, "app", &[]).await);
    assert_unsupported(
        api.reset_credential_password(db, "app", Some(&password))
            .await,
    );
    assert_unsupported(api.reveal_credential_password(db, "app").await);
    assert_unsupported(api.delete_credential(db, "app").await);
    assert_unsupported(api.create_index(db, "c", &IndexSpec::default()).await);
    assert_unsupported(api.get_index(db, "c", "a_1").await);
    assert_unsupported(api.list_indexes(db, "c").await);
    assert_unsupported(api.delete_index(db, "c", "a_1").await);
    assert_unsupported(
        api.create_ip_restriction(db, &IpRestrictionSpec::default())
            .await,
    );
    assert_unsupported(api.get_ip_restriction(db, cidr).await);
    assert_unsupported(api.list_ip_restrictions(db).await);
    assert_unsupported(api.update_ip_restriction(db, cidr, Some("x")).await);
    assert_unsupported(api.delete_ip_restriction(db, cidr).await);
}

#[tokio::test]
async fn local_api_same_spec_after_delete_creates_a_new_database() -> Result<()> {
    // The derived idempotency key of a deleted database's spec is used up: the client moves to
    // the key's next generation, so destroy-then-apply of one configuration creates again.
    let harness = Harness::start().await?;
    let api = harness.api()?;
    let first = api.create_database(&spec("again")).await?;
    api.delete_database(&first.id).await?;
    for _ in 0..200 {
        match api.get_database(&first.id).await {
            Err(error) if error.is_not_found() => break,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let second = api.create_database(&spec("again")).await?;
    assert_ne!(second.id, first.id);
    // And a repeat of that create replays the new generation.
    assert_eq!(api.create_database(&spec("again")).await?.id, second.id);
    harness.stop().await;
    Ok(())
}
