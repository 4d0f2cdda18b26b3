//! `ComposeApi` end to end against dbaas-local's Compose dialect, started in-process: database
//! create (a first collection) → wait → list → delete, credentials with `readOnly` roles,
//! chosen and client-generated passwords, and the errors the client maps.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use dbaas::api::compose::{ComposeApi, ComposeConfig, FEATURES, FIRST_COLLECTION};
use dbaas::api::http::HttpTuning;
use dbaas::api::{
    CredentialSpec, Database, DatabaseSpec, DbaasApi, Error, Feature, IndexSpec, Phase,
};
use dbaas::local::{self, ComposeDialect, Config, RunningService};
use secrecy::{ExposeSecret as _, SecretString};

const TOKEN: &str = "compose-token-for-client-tests";
const ACCOUNT: &str = "acme";
const DEPLOYMENT: &str = "clients";

struct Harness {
    service: RunningService,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start(delay: Duration) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let service = local::start(Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: dir.path().to_path_buf(),
            provision_delay: delay,
            compose: Some(ComposeDialect {
                token: SecretString::from(TOKEN),
                account: ACCOUNT.into(),
                deployment: DEPLOYMENT.into(),
            }),
            ..Config::default()
        })
        .await?;
        Ok(Self { service, _dir: dir })
    }

    fn client_with(&self, token: &str, deployment: &str) -> Result<ComposeApi> {
        Ok(ComposeApi::new(
            ComposeConfig {
                endpoint: format!("{}/compose", self.service.base_url()),
                token: SecretString::from(token),
                account: ACCOUNT.into(),
                deployment: deployment.into(),
            },
            HttpTuning {
                request_timeout: Duration::from_secs(10),
                min_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
                ..HttpTuning::default()
            },
        )?)
    }

    fn client(&self) -> Result<ComposeApi> {
        self.client_with(TOKEN, DEPLOYMENT)
    }
}

/// Retries `create_database` while the deployment is busy (`new`), as the resource does.
async fn create_when_running(api: &ComposeApi, spec: &DatabaseSpec) -> Result<Database> {
    for _ in 0..400 {
        match api.create_database(spec).await {
            Err(error) if error.is_busy() => tokio::time::sleep(Duration::from_millis(25)).await,
            other => return Ok(other?),
        }
    }
    bail!("the deployment never became running")
}

async fn wait_phase(api: &ComposeApi, id: &str, phase: Phase) -> Result<Database> {
    for _ in 0..400 {
        let database = api.get_database(id).await?;
        if database.status.phase == phase {
            return Ok(database);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!("database {id} never reached {phase:?}")
}

/// Retries a credential change while the user is still settling (`Error::Busy`).
async fn when_settled<T, F, Fut>(call: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    for _ in 0..400 {
        match call().await {
            Err(error) if error.is_busy() => tokio::time::sleep(Duration::from_millis(25)).await,
            other => return Ok(other?),
        }
    }
    bail!("still busy")
}

fn spec(name: &str) -> DatabaseSpec {
    DatabaseSpec {
        name: name.into(),
        ..DatabaseSpec::default()
    }
}

#[tokio::test]
async fn compose_api_database_lifecycle() -> Result<()> {
    let harness = Harness::start(Duration::from_millis(100)).await?;
    let api = harness.client()?;
    assert_eq!(api.api_name(), "compose");
    assert_eq!(api.features(), FEATURES);
    assert!(!api.supports(Feature::CollectionIndex));

    let created = create_when_running(&api, &spec("client-one")).await?;
    assert_eq!(created.id, "client-one");
    assert_eq!(created.engine, "mongodb");
    let ready = wait_phase(&api, "client-one", Phase::Ready).await?;
    assert_eq!(ready.status.raw, "running");
    let endpoint = ready.endpoint.context("endpoint")?;
    assert!(
        endpoint.starts_with("mongodb://") && endpoint.contains("/client-one?replicaSet=set-"),
        "{endpoint}"
    );
    assert_eq!(ready.node_count, Some(2));

    let listed = api.list_databases(Some("client-")).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        api.find_database_by_name("client-one")
            .await?
            .map(|db| db.id),
        Some("client-one".to_owned())
    );
    assert!(api.list_databases(Some("zzz")).await?.is_empty());

    // Creating it again: the first collection exists, a conflict. After an unclear create the
    // provider settles it with `find_created_database` (adopting a match); a conflict on a first
    // attempt stays an error.
    let again = api.create_database(&spec("client-one")).await.unwrap_err();
    assert!(again.is_conflict(), "{again:?}");

    let capabilities = api.capabilities().await?;
    assert_eq!(capabilities.defaults.engine, "mongodb");
    assert!(!capabilities.engines[0].default_version.is_empty());

    api.delete_database("client-one").await?;
    let mut gone = false;
    for _ in 0..400 {
        match api.get_database("client-one").await {
            Err(error) if error.is_not_found() => {
                gone = true;
                break;
            }
            Ok(database) => {
                assert_eq!(database.status.phase, Phase::Deleting);
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
    assert!(gone);
    api.delete_database("client-one").await?; // already gone: success
    let error = api.get_database("client-one").await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert!(FIRST_COLLECTION.chars().all(|c| c.is_ascii_alphanumeric()));
    Ok(())
}

#[tokio::test]
async fn compose_api_new_deployment_is_busy() -> Result<()> {
    // A long provision delay: the deployment stays `new` for the whole test.
    let harness = Harness::start(Duration::from_secs(3600)).await?;
    let api = harness.client()?;
    let error = api
        .create_database(&spec("client-early"))
        .await
        .unwrap_err();
    assert!(error.is_busy(), "{error:?}");
    assert!(error.to_string().contains("new"), "{error}");
    Ok(())
}

#[tokio::test]
async fn compose_api_credentials_roles_and_passwords() -> Result<()> {
    let harness = Harness::start(Duration::from_millis(50)).await?;
    let api = harness.client()?;
    create_when_running(&api, &spec("client-two")).await?;
    wait_phase(&api, "client-two", Phase::Ready).await?;

    let generated = api
        .create_credential(
            "client-two",
            &CredentialSpec {
                username: "app".into(),
                roles: vec!["readWrite@client-two".into()],
                password: None,
            },
        )
        .await?;
    let password = generated.password.clone().context("generated password")?;
    assert!(password.expose_secret().len() >= 16);
    assert!(!generated.password_chosen);
    assert_eq!(generated.roles, ["readWrite@client-two"]);

    let chosen = api
        .create_credential(
            "client-two",
            &CredentialSpec {
                username: "reader".into(),
                roles: vec!["read@client-two".into()],
                password: Some(SecretString::from("Ch0sen-Passw0rd")),
            },
        )
        .await?;
    assert!(chosen.password.is_none() && chosen.password_chosen);

    let reader = api.get_credential("client-two", "reader").await?;
    assert_eq!(reader.roles, ["read@client-two"]);
    assert!(reader.password.is_none());
    let names: Vec<String> = api
        .list_credentials("client-two")
        .await?
        .into_iter()
        .map(|c| c.username)
        .collect();
    assert_eq!(names, ["app", "reader"]);

    let refused = api
        .create_credential(
            "client-two",
            &CredentialSpec {
                username: "admin2".into(),
                roles: vec!["dbAdmin@client-two".into()],
                password: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Invalid { .. }), "{refused:?}");

    let roles = vec!["readWrite@client-two".to_owned()];
    let updated =
        when_settled(|| api.update_credential_roles("client-two", "reader", &roles)).await?;
    assert_eq!(updated.roles, ["readWrite@client-two"]);

    let reset = when_settled(|| api.reset_credential_password("client-two", "app", None)).await?;
    let new_password = reset.password.context("new password")?;
    assert_ne!(new_password.expose_secret(), password.expose_secret());
    let chosen_password = SecretString::from("An0ther-Passw0rd");
    let reset =
        when_settled(|| api.reset_credential_password("client-two", "app", Some(&chosen_password)))
            .await?;
    assert!(reset.password.is_none() && reset.password_chosen);

    let reveal = api
        .reveal_credential_password("client-two", "app")
        .await
        .unwrap_err();
    assert!(matches!(reveal, Error::Unsupported { api: "compose", .. }));
    let index = api
        .create_index("client-two", "users", &IndexSpec::default())
        .await
        .unwrap_err();
    assert!(matches!(index, Error::Unsupported { .. }));

    when_settled(|| api.delete_credential("client-two", "reader")).await?;
    api.delete_credential("client-two", "nobody").await?; // gone already: success
    let missing = api
        .get_credential("client-two", "nobody")
        .await
        .unwrap_err();
    assert!(missing.is_not_found());
    let unknown_db = api.list_credentials("no-such-db").await.unwrap_err();
    assert!(unknown_db.is_not_found(), "{unknown_db:?}");
    Ok(())
}

#[tokio::test]
async fn compose_api_maps_auth_and_missing_deployment_errors() -> Result<()> {
    let harness = Harness::start(Duration::from_millis(50)).await?;
    let wrong_token = harness.client_with("not-the-token", DEPLOYMENT)?;
    let error = wrong_token.list_databases(None).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    let other_deployment = harness.client_with(TOKEN, "someone-elses")?;
    let error = other_deployment.list_databases(None).await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert!(error.to_string().contains("someone-elses"), "{error}");
    Ok(())
}
