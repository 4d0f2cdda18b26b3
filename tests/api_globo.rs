//! `GloboApi` end to end against dbaas-local's globo dialect started in-process: databases
//! (create, read, list, quarantine, purge), credentials (create, read, list, reset, delete),
//! capabilities, catalogs, and the refusals of what globo cannot do.

use std::time::Duration;

use anyhow::Result;
use dbaas::api::globo::{self, GloboApi, GloboConfig};
use dbaas::api::http::HttpTuning;
use dbaas::api::{CredentialSpec, DatabaseChanges, DatabaseSpec, DbaasApi, Error, Feature, Phase};
use dbaas::local::{self, Config, GloboDialect, RunningService};
use secrecy::{ExposeSecret as _, SecretString};

const USER: &str = "admin";
const PASSWORD: &str = "123456";

struct Fixture {
    running: RunningService,
    api: GloboApi,
    _dir: tempfile::TempDir,
}

async fn start() -> Result<Fixture> {
    let dir = tempfile::tempdir()?;
    let running = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        provision_delay: Duration::from_millis(50),
        globo: Some(GloboDialect {
            username: USER.into(),
            password: SecretString::from(PASSWORD),
        }),
        ..Config::default()
    })
    .await?;
    let api = client(&running, PASSWORD)?;
    Ok(Fixture {
        running,
        api,
        _dir: dir,
    })
}

fn client(running: &RunningService, password: &str) -> Result<GloboApi> {
    let tuning = HttpTuning {
        max_retries: 1,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
        ..HttpTuning::default()
    };
    Ok(GloboApi::new(
        GloboConfig {
            endpoint: format!("{}/globo", running.base_url()),
            username: USER.into(),
            password: SecretString::from(password),
        },
        tuning,
    )?)
}

fn spec(name: &str) -> DatabaseSpec {
    DatabaseSpec {
        name: name.into(),
        ..DatabaseSpec::default()
    }
}

#[tokio::test]
async fn globo_api_database_lifecycle_quarantines_then_purges() -> Result<()> {
    let fixture = start().await?;
    let api = &fixture.api;
    let created = api
        .create_database(&DatabaseSpec {
            plan: Some("business".into()),
            region: Some("eu-central-1".into()),
            ..spec("orders_db")
        })
        .await?;
    assert_eq!(created.name, "orders_db");
    assert_eq!(created.plan, "business");
    assert_eq!(created.region, "eu-central-1");
    assert_eq!(created.engine, "mongodb");
    assert_eq!(created.status.phase, Phase::Ready);
    assert!(
        created
            .endpoint
            .as_deref()
            .unwrap()
            .starts_with("mongodb://<user>:<password>@")
    );
    let read = api.get_database(&created.id).await?;
    assert_eq!(read, created);
    let defaults = api.create_database(&spec("second")).await?;
    assert_eq!(defaults.plan, "essential");
    assert_eq!(defaults.region, "eu-west-1");
    let listed = api.list_databases(Some("orders")).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], created);
    assert_eq!(
        api.find_database_by_name("second").await?.unwrap().id,
        defaults.id
    );

    api.delete_database(&created.id).await?;
    let quarantined = api.get_database(&created.id).await?;
    assert!(globo::is_quarantined(&quarantined));
    assert_eq!(quarantined.status.phase, Phase::Deleting);
    // Deleting again only confirms the quarantine: it never purges.
    api.delete_database(&created.id).await?;
    assert!(globo::is_quarantined(&api.get_database(&created.id).await?));
    api.purge_database(&created.id).await?;
    assert!(
        api.get_database(&created.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
    // Purging an active database quarantines and removes it; a gone one is fine.
    api.purge_database(&defaults.id).await?;
    assert!(
        api.get_database(&defaults.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
    api.purge_database(&defaults.id).await?;
    api.delete_database(&defaults.id).await?;
    assert!(api.list_databases(None).await?.is_empty());
    fixture.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_api_credentials_generate_and_reset_passwords() -> Result<()> {
    let fixture = start().await?;
    let api = &fixture.api;
    let database = api.create_database(&spec("shop")).await?;
    let built_in = api.list_credentials(&database.id).await?;
    assert_eq!(built_in.len(), 1);
    assert_eq!(built_in[0].username, "u_shop");
    let created = api
        .create_credential(
            &database.id,
            &CredentialSpec {
                username: "u_app".into(),
                ..CredentialSpec::default()
            },
        )
        .await?;
    assert_eq!(created.username, "u_app");
    assert!(!created.password_chosen);
    let first = created.password.unwrap().expose_secret().to_owned();
    let read = api.get_credential(&database.id, "u_app").await?;
    assert!(read.password.is_none(), "reads never carry the password");
    let reset = api
        .reset_credential_password(&database.id, "u_app", None)
        .await?;
    let second = reset.password.unwrap().expose_secret().to_owned();
    assert_ne!(first, second);
    assert_eq!(api.list_credentials(&database.id).await?.len(), 2);
    api.delete_credential(&database.id, "u_app").await?;
    assert!(
        api.get_credential(&database.id, "u_app")
            .await
            .unwrap_err()
            .is_not_found()
    );
    api.delete_credential(&database.id, "u_app").await?;
    fixture.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_api_refuses_what_globo_cannot_do() -> Result<()> {
    let fixture = start().await?;
    let api = &fixture.api;
    for feature in [
        Feature::CredentialRoles,
        Feature::CredentialChosenPassword,
        Feature::CredentialReadPassword,
        Feature::CollectionIndex,
        Feature::IpRestriction,
        Feature::DatabaseVersion,
    ] {
        assert!(!api.supports(feature), "{feature:?}");
    }
    let not_slug = api.create_database(&spec("Test DB")).await.unwrap_err();
    assert!(matches!(not_slug, Error::Invalid { .. }), "{not_slug:?}");
    assert!(not_slug.to_string().contains("test_db"), "{not_slug}");
    let bad_plan = api
        .create_database(&DatabaseSpec {
            plan: Some("gold".into()),
            ..spec("gold_db")
        })
        .await
        .unwrap_err();
    assert!(bad_plan.to_string().contains("essential"), "{bad_plan}");
    let database = api.create_database(&spec("roles_db")).await?;
    let roles = api
        .create_credential(
            &database.id,
            &CredentialSpec {
                username: "u_x".into(),
                roles: vec!["read@roles_db".into()],
                password: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(roles, Error::Unsupported { api: "globo", .. }));
    let change = api
        .update_database(
            &database.id,
            &DatabaseChanges {
                plan: Some("business".into()),
                ..DatabaseChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(change, Error::Unsupported { .. }), "{change:?}");
    let duplicate = api.create_database(&spec("roles_db")).await.unwrap_err();
    assert!(
        matches!(&duplicate, Error::Invalid { field: Some(field), .. } if field == "name"),
        "{duplicate:?}"
    );
    fixture.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn globo_api_capabilities_and_catalogs() -> Result<()> {
    let fixture = start().await?;
    let api = &fixture.api;
    let capabilities = api.capabilities().await?;
    let plans: Vec<&str> = capabilities.plans.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(plans, ["essential", "business", "enterprise"]);
    assert_eq!(capabilities.defaults.plan, "essential");
    assert_eq!(capabilities.defaults.region, "eu-west-1");
    assert_eq!(capabilities.regions.len(), 3);
    let projects = api.projects().await?;
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].id, 1);
    assert!(projects[0].url.ends_with("/globo/api/project/1/"));
    let wrong = client(&fixture.running, "wrong")?;
    let error = wrong.list_databases(None).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(error.to_string().contains("Invalid username/password"));
    fixture.running.shutdown().await;
    Ok(())
}
