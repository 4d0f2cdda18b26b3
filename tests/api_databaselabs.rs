//! `DatabaselabsApi` end to end against dbaas-local's databaselabs dialect, started in-process:
//! ping, the plans catalog as capabilities, create with the superuser password, waiting for
//! `ready`, list, read, delete, and the error mapping (bad values, payment, credentials,
//! unavailability of a create that is never retried).

use std::time::Duration;

use anyhow::{Result, ensure};
use dbaas::api::databaselabs::{DEFAULT_REGION, DatabaselabsApi, DatabaselabsConfig};
use dbaas::api::http::HttpTuning;
use dbaas::api::{DatabaseChanges, DatabaseSpec, DbaasApi, Error, Phase, PollGuidance};
use dbaas::local::{self, Config, DatabaselabsDialect, RunningService, TokenSource};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;

const KEY: &str = "api-test-key";
const SECRET: &str = "api-test-secret";
const TOKEN: &str = "native-token";

struct Fixture {
    running: RunningService,
    api: DatabaselabsApi,
    _dir: tempfile::TempDir,
}

fn tuning() -> HttpTuning {
    HttpTuning {
        max_retries: 2,
        min_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..HttpTuning::default()
    }
}

fn client(running: &RunningService, secret: &str) -> Result<DatabaselabsApi> {
    Ok(DatabaselabsApi::new(
        DatabaselabsConfig {
            endpoint: format!("{}/databaselabs", running.base_url()),
            api_key: KEY.into(),
            api_secret: SecretString::from(secret),
        },
        tuning(),
    )?
    .with_poll_guidance(PollGuidance {
        min_interval: Duration::from_millis(10),
        max_interval: Duration::from_millis(20),
    }))
}

async fn start(delay: Duration, credit_limit_dollars: Option<u32>) -> Result<Fixture> {
    let dir = tempfile::tempdir()?;
    let running = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        token: TokenSource::Given(SecretString::from(TOKEN)),
        provision_delay: delay,
        databaselabs: Some(DatabaselabsDialect {
            api_key: KEY.into(),
            api_secret: SecretString::from(SECRET),
            credit_limit_dollars,
        }),
        ..Config::default()
    })
    .await?;
    let api = client(&running, SECRET)?;
    Ok(Fixture {
        running,
        api,
        _dir: dir,
    })
}

fn spec(size: &str, region: Option<&str>) -> DatabaseSpec {
    DatabaseSpec {
        name: "ignored".into(),
        plan: Some(size.into()),
        region: region.map(str::to_owned),
        ..DatabaseSpec::default()
    }
}

/// Polls at the client's guidance until the database leaves the pending phase.
async fn wait_settled(api: &DatabaselabsApi, id: &str) -> Result<Phase> {
    for _ in 0..1000 {
        let database = api.get_database(id).await?;
        if database.status.phase != Phase::Pending {
            return Ok(database.status.phase);
        }
        tokio::time::sleep(api.poll_guidance().min_interval).await;
    }
    anyhow::bail!("database {id} never settled")
}

#[tokio::test]
async fn ping_checks_the_credentials() -> Result<()> {
    let fixture = start(Duration::ZERO, None).await?;
    fixture.api.ping().await?;
    let wrong = client(&fixture.running, "not-the-secret")?;
    let error = wrong.ping().await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(error.to_string().contains("api_secret"), "{error}");
    fixture.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn ping_refuses_an_endpoint_that_is_not_databaselabs() -> Result<()> {
    let fixture = start(Duration::ZERO, None).await?;
    let healthz = DatabaselabsApi::new(
        DatabaselabsConfig {
            endpoint: format!("{}/healthz-is-not-it", fixture.running.base_url()),
            api_key: KEY.into(),
            api_secret: SecretString::from(SECRET),
        },
        tuning(),
    )?;
    assert!(healthz.ping().await.is_err());
    fixture.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn capabilities_come_from_the_plans() -> Result<()> {
    let fixture = start(Duration::ZERO, None).await?;
    let plans = fixture.api.plans().await?;
    assert_eq!(plans.len(), 64);
    assert_eq!(plans[0].id, "512mb-do-ams3-dev");
    assert_eq!(plans[0].monthly_price_dollars, Some(20));
    let capabilities = fixture.api.capabilities().await?;
    let sizes: Vec<&str> = capabilities.plans.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        sizes,
        ["512mb", "1gb", "2gb", "4gb", "8gb", "16gb", "48gb", "64gb"]
    );
    assert!(capabilities.plans[0].description.contains("$20"));
    let nyc3 = capabilities
        .regions
        .iter()
        .find(|r| r.name == "nyc3")
        .expect("nyc3 offered");
    assert_eq!(nyc3.description, "New York 3");
    assert_eq!(capabilities.regions.len(), 8);
    assert_eq!(capabilities.defaults.region, DEFAULT_REGION);
    assert_eq!(capabilities.engines[0].name, "postgresql");
    assert!(capabilities.flavors.is_empty());
    fixture.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn database_lifecycle_through_the_client() -> Result<()> {
    let fixture = start(Duration::from_millis(200), None).await?;
    let api = &fixture.api;
    let created = api
        .create_database_with_password(&spec("1gb", Some("ams3")))
        .await?;
    let database = &created.database;
    ensure!(
        database.id.ends_with(".db.databaselabs.local"),
        "{}",
        database.id
    );
    assert_eq!(database.status.phase, Phase::Pending);
    assert_eq!(database.status.raw, "building");
    assert_eq!(
        (database.plan.as_str(), database.region.as_str()),
        ("1gb", "ams3")
    );
    assert!(
        created
            .superuser_password
            .as_ref()
            .unwrap()
            .expose_secret()
            .len()
            >= 12
    );
    assert!(
        !format!("{created:?}")
            .contains(created.superuser_password.as_ref().unwrap().expose_secret())
    );

    assert_eq!(wait_settled(api, &database.id).await?, Phase::Ready);
    let read = api.get_database(&database.id).await?;
    assert_eq!(read.status.raw, "ready");
    assert_eq!(read.name, database.name);
    assert_eq!(read.engine, "postgresql");
    assert_eq!((read.plan.as_str(), read.region.as_str()), ("1gb", "ams3"));

    let listed = api.list_databases(None).await?;
    assert_eq!(listed, vec![read.clone()]);
    assert!(api.list_databases(Some("zz-no-such")).await?.is_empty());
    assert_eq!(
        api.find_database_by_name(&read.name).await?,
        Some(read.clone())
    );

    let unchanged = api
        .update_database(&read.id, &DatabaseChanges::default())
        .await?;
    assert_eq!(unchanged, read);
    let resize = DatabaseChanges {
        plan: Some("2gb".into()),
        ..DatabaseChanges::default()
    };
    let error = api.update_database(&read.id, &resize).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Unsupported {
                api: "databaselabs",
                ..
            }
        ),
        "{error:?}"
    );

    api.delete_database(&read.id).await?;
    let deleting = api.get_database(&read.id).await;
    match deleting {
        Ok(database) => assert_eq!(database.status.phase, Phase::Deleting),
        Err(error) => assert!(error.is_not_found(), "{error:?}"),
    }
    for _ in 0..1000 {
        match api.get_database(&read.id).await {
            Err(error) if error.is_not_found() => break,
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    assert!(api.get_database(&read.id).await.unwrap_err().is_not_found());
    api.delete_database(&read.id).await?; // already gone: still fine
    api.delete_database("").await?;
    fixture.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn create_maps_refusals_to_errors() -> Result<()> {
    let fixture = start(Duration::ZERO, Some(30)).await?;
    let api = &fixture.api;
    let error = api.create_database(&spec("3gb", None)).await.unwrap_err();
    assert!(matches!(&error, Error::Invalid { .. }), "{error:?}");
    assert!(error.to_string().contains("512mb"), "{error}");
    let error = api
        .create_database(&spec("512mb", Some("mars1")))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("nyc3"), "{error}");

    let first = api.create_database(&spec("512mb", None)).await?;
    assert_eq!(first.region, "nyc3");
    let error = api.create_database(&spec("512mb", None)).await.unwrap_err();
    assert!(matches!(&error, Error::PaymentRequired { .. }), "{error:?}");
    assert!(error.to_string().contains("credit card"), "{error}");
    assert_eq!(api.list_databases(None).await?.len(), 1);
    fixture.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn create_is_not_retried_but_reads_are() -> Result<()> {
    let fixture = start(Duration::ZERO, None).await?;
    let native = reqwest::Client::new();
    let fault = |method: &str| {
        json!({"path_prefix": "/databaselabs/api/databases", "method": method,
               "status": 503, "count": 1})
    };
    for method in ["POST", "GET"] {
        let status = native
            .post(format!("{}/v1/_admin/faults", fixture.running.base_url()))
            .bearer_auth(TOKEN)
            .json(&fault(method))
            .send()
            .await?
            .status();
        assert_eq!(status, 200);
    }
    let error = fixture
        .api
        .create_database(&spec("512mb", None))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unavailable { .. }), "{error:?}");
    // The GET fault is answered, retried, and the list is empty: the POST created nothing.
    assert!(fixture.api.list_databases(None).await?.is_empty());
    fixture.running.shutdown().await;
    Ok(())
}
