//! `GoaddonApi` end to end against dbaas-local's goaddon dialect, started in-process on
//! 127.0.0.1:0: the project as a read-only database, collection indexes (20 parallel creates on
//! one collection all land), database users with roles and chosen or generated passwords.

use std::time::Duration;

use anyhow::Result;
use dbaas::api::goaddon::{FEATURES, GoaddonApi, GoaddonConfig};
use dbaas::api::http::HttpTuning;
use dbaas::api::{
    CredentialSpec, DatabaseSpec, DbaasApi, Error, Feature, IndexDirection, IndexKey, IndexSpec,
};
use dbaas::local::{self, Config, GoaddonDialect, RunningService};
use secrecy::{ExposeSecret as _, SecretString};
use tempfile::TempDir;

const TOKEN: &str = "p-6c0b4c3e-0f2a-4c53-9b7e-1d2a3b4c5d6e";

struct Setup {
    running: RunningService,
    _dir: TempDir,
    api: GoaddonApi,
    database_id: String,
}

fn tuning() -> HttpTuning {
    HttpTuning {
        max_retries: 0,
        ..HttpTuning::default()
    }
}

fn client(running: &RunningService, token: &str) -> Result<GoaddonApi> {
    Ok(GoaddonApi::new(
        GoaddonConfig {
            endpoint: format!("{}/goaddon", running.base_url()),
            token: SecretString::from(token),
        },
        tuning(),
    )?)
}

/// A service with the dialect on, and a client whose project database is ready.
async fn setup() -> Result<Setup> {
    let dir = tempfile::tempdir()?;
    let running = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        provision_delay: Duration::from_millis(20),
        goaddon: Some(GoaddonDialect {
            token: SecretString::from(TOKEN),
        }),
        ..Config::default()
    })
    .await?;
    let api = client(&running, TOKEN)?;
    let database_id = api.project_id().await?;
    // The project's database is created on first use; wait until it takes changes.
    let probe = IndexSpec {
        name: Some("probe".into()),
        keys: vec![key("probe", IndexDirection::Ascending)],
        ..IndexSpec::default()
    };
    let mut ready = false;
    for _ in 0..500 {
        match api.create_index(&database_id, "probes", &probe).await {
            Ok(_) => {
                ready = true;
                break;
            }
            Err(error) if error.is_busy() => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(error) => return Err(error.into()),
        }
    }
    assert!(ready, "the project's database never became ready");
    Ok(Setup {
        running,
        _dir: dir,
        api,
        database_id,
    })
}

fn key(field: &str, direction: IndexDirection) -> IndexKey {
    IndexKey {
        field: field.to_owned(),
        direction,
    }
}

#[test]
fn goaddon_features_offer_indexes_and_credentials_but_not_databases() {
    assert!(FEATURES.contains(&Feature::CollectionIndex));
    assert!(FEATURES.contains(&Feature::Credential));
    assert!(FEATURES.contains(&Feature::CredentialRoles));
    assert!(FEATURES.contains(&Feature::CredentialChosenPassword));
    assert!(!FEATURES.contains(&Feature::Database));
    assert!(!FEATURES.contains(&Feature::CredentialPasswordReset));
    assert!(!FEATURES.contains(&Feature::IpRestriction));
    assert!(
        dbaas::api::APIS
            .iter()
            .any(|(name, features)| *name == "goaddon" && *features == FEATURES)
    );
}

#[tokio::test]
async fn goaddon_api_lists_the_project_as_its_one_database() -> Result<()> {
    let setup = setup().await?;
    let databases = setup.api.list_databases(None).await?;
    assert_eq!(databases.len(), 1);
    let database = &databases[0];
    assert_eq!(database.id, setup.database_id);
    assert_eq!(database.name, "goaddon-project");
    assert_eq!(database.engine, "mongodb");
    let nodes = database.node_count.expect("node count");
    assert!(nodes >= 1);
    let endpoint = database.endpoint.as_deref().unwrap();
    assert_eq!(
        endpoint.matches(".mongodb.goaddon.local").count() as u32,
        nodes
    );
    assert_eq!(
        setup.api.get_database(&setup.database_id).await?.name,
        database.name
    );
    assert!(setup.api.list_databases(Some("nomatch")).await?.is_empty());
    assert!(
        setup
            .api
            .find_database_by_name("goaddon-project")
            .await?
            .is_some()
    );
    let missing = setup
        .api
        .get_database("5bf935bc3ab42fc4f4280d04")
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");

    let refused = setup
        .api
        .create_database(&DatabaseSpec {
            name: "more".into(),
            ..DatabaseSpec::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::Unsupported { api: "goaddon", .. }),
        "{refused:?}"
    );
    setup.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_api_twenty_parallel_index_creates_on_one_collection_all_land() -> Result<()> {
    let setup = setup().await?;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let api = setup.api.clone();
        let database_id = setup.database_id.clone();
        tasks.push(tokio::spawn(async move {
            let spec = IndexSpec {
                name: None,
                keys: vec![key(&format!("field{n}"), IndexDirection::Descending)],
                unique: n % 2 == 0,
                sparse: n % 3 == 0,
            };
            api.create_index(&database_id, "events", &spec).await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let indexes = setup.api.list_indexes(&setup.database_id, "events").await?;
    assert_eq!(indexes.len(), 21, "{indexes:?}"); // the implicit _id_ and the 20
    assert_eq!(indexes[0].name, "_id_");
    for n in 0..20 {
        let index = setup
            .api
            .get_index(&setup.database_id, "events", &format!("field{n}_-1"))
            .await?;
        assert_eq!(
            index.keys,
            vec![key(&format!("field{n}"), IndexDirection::Descending)]
        );
        assert_eq!(index.unique, n % 2 == 0);
        assert_eq!(index.sparse, n % 3 == 0);
    }
    setup.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_api_index_create_conflict_and_delete() -> Result<()> {
    let setup = setup().await?;
    let (api, db) = (&setup.api, setup.database_id.as_str());
    let spec = IndexSpec {
        name: Some("company_foo".into()),
        keys: vec![
            key("company_id", IndexDirection::Ascending),
            key("foo", IndexDirection::Ascending),
        ],
        unique: true,
        sparse: true,
    };
    let created = api.create_index(db, "companies", &spec).await?;
    assert_eq!(created.name, "company_foo");
    assert_eq!(created.collection, "companies");
    assert_eq!(created.keys, spec.keys);

    let again = api.create_index(db, "companies", &spec).await.unwrap_err();
    assert!(again.is_conflict(), "{again:?}");
    let same_keys = IndexSpec {
        name: Some("other".into()),
        ..spec.clone()
    };
    assert!(
        api.create_index(db, "companies", &same_keys)
            .await
            .unwrap_err()
            .is_conflict()
    );

    api.delete_index(db, "companies", "company_foo").await?;
    let gone = api
        .get_index(db, "companies", "company_foo")
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone:?}");
    // Deleting what is gone, or in a collection that does not exist, is success.
    api.delete_index(db, "companies", "company_foo").await?;
    api.delete_index(db, "nothing-here", "x_1").await?;
    let no_collection = api.list_indexes(db, "nothing-here").await.unwrap_err();
    assert!(no_collection.is_not_found());

    // Re-adding the name while the old index is still being deleted is busy, then lands.
    let mut landed = false;
    for _ in 0..500 {
        match api.create_index(db, "companies", &spec).await {
            Ok(_) => {
                landed = true;
                break;
            }
            Err(error) if error.is_busy() => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(error) => return Err(error.into()),
        }
    }
    assert!(landed);
    setup.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_api_credentials_with_roles_and_passwords() -> Result<()> {
    let setup = setup().await?;
    let (api, db) = (&setup.api, setup.database_id.as_str());
    // goaddon's bare role names are the domain's `<role>@<db_name>`.
    let name = api.get_database(db).await?.name;
    let role = |role: &str| format!("{role}@{name}");
    let elsewhere = api
        .create_credential(
            db,
            &CredentialSpec {
                username: "app".into(),
                roles: vec!["readWrite@another".into()],
                password: Some(SecretString::from("Chosen-passw0rd")),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&elsewhere, Error::Invalid { field: Some(field), message } if field == "roles" && message.contains(&role("readWrite"))),
        "{elsewhere:?}"
    );
    let chosen = api
        .create_credential(
            db,
            &CredentialSpec {
                username: "app".into(),
                roles: vec![role("readWrite")],
                password: Some(SecretString::from("Chosen-passw0rd")),
            },
        )
        .await?;
    assert!(chosen.password.is_none());
    assert!(chosen.password_chosen);
    assert_eq!(chosen.roles, [role("readWrite")]);

    let generated = api
        .create_credential(
            db,
            &CredentialSpec {
                username: "reporting".into(),
                roles: vec![role("read")],
                password: None,
            },
        )
        .await?;
    let password = generated.password.expect("a generated password");
    assert!(password.expose_secret().len() >= 8);
    assert!(!generated.password_chosen);

    let read = api.get_credential(db, "reporting").await?;
    assert!(read.password.is_none());
    assert_eq!(read.roles, [role("read")]);
    assert_eq!(api.list_credentials(db).await?.len(), 2);

    let duplicate = api
        .create_credential(
            db,
            &CredentialSpec {
                username: "app".into(),
                roles: vec![],
                password: None,
            },
        )
        .await
        .unwrap_err();
    assert!(duplicate.is_conflict(), "{duplicate:?}");

    // Changes wait until the new user has settled.
    let roles = vec![role("read"), role("dbAdmin")];
    let mut updated = None;
    for _ in 0..500 {
        match api.update_credential_roles(db, "app", &roles).await {
            Ok(credential) => {
                updated = Some(credential);
                break;
            }
            Err(error) if error.is_busy() => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(error) => return Err(error.into()),
        }
    }
    assert_eq!(updated.expect("roles updated").roles, roles);

    let mut reset = None;
    for _ in 0..500 {
        match api
            .reset_credential_password(db, "app", Some(&SecretString::from("An0ther-password")))
            .await
        {
            Ok(credential) => {
                reset = Some(credential);
                break;
            }
            Err(error) if error.is_busy() => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(error) => return Err(error.into()),
        }
    }
    let reset = reset.expect("password set");
    assert!(reset.password.is_none() && reset.password_chosen);
    let generate = api
        .reset_credential_password(db, "app", None)
        .await
        .unwrap_err();
    assert!(matches!(
        generate,
        Error::Unsupported { api: "goaddon", .. }
    ));

    let bad_role = api
        .create_credential(
            db,
            &CredentialSpec {
                username: "x".into(),
                roles: vec!["superpowers".into()],
                password: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&bad_role, Error::Invalid { field: Some(field), .. } if field == "roles"),
        "{bad_role:?}"
    );

    api.delete_credential(db, "app").await?;
    assert!(
        api.get_credential(db, "app")
            .await
            .unwrap_err()
            .is_not_found()
    );
    api.delete_credential(db, "app").await?;
    setup.running.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn goaddon_api_refuses_other_databases_and_wrong_tokens() -> Result<()> {
    let setup = setup().await?;
    let other = setup
        .api
        .list_credentials("5bf935bc3ab42fc4f4280d04")
        .await
        .unwrap_err();
    assert!(other.is_not_found(), "{other:?}");
    assert!(other.to_string().contains(&setup.database_id));

    let wrong = client(&setup.running, "p-wrong")?;
    let error = wrong.list_databases(None).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    setup.running.shutdown().await;
    Ok(())
}
