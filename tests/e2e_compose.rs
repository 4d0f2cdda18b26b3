//! The provider against Compose's (ex-MongoHQ) classic API, as served by dbaas-local's Compose
//! dialect: a database is created by creating its first collection once the deployment is
//! `running`, users have exactly one role (`read@<db>` or `readWrite@<db>`), and what Compose
//! does not offer is refused at plan, naming the API. Each test starts its own service.

mod support;

use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{
    COMPOSE_ACCOUNT, COMPOSE_DEPLOYMENT, Dialect, LocalService, Workspace,
    assert_imported_as_created, assert_plans_refused, assert_stderr_says, assert_stdout_says,
    attribute_refusals, eventually, text, type_refusals,
};

const DELAY: Duration = Duration::from_millis(300);

/// The dialect's deployment path, under `/compose`.
fn deployment_path() -> String {
    format!("/deployments/{COMPOSE_ACCOUNT}/{COMPOSE_DEPLOYMENT}")
}

/// A GET of the Compose dialect the way Compose's own tools make it (bearer token and
/// `Accept-Version: 2014-06`); returns status and JSON body (null if none).
fn compose_get(service: &LocalService, path: &str) -> (u16, Json) {
    service.dialect_call(Dialect::Compose, "GET", path, None)
}

/// The deployment as the dialect shows it.
fn deployment(service: &LocalService) -> Json {
    let (status, body) = compose_get(service, &deployment_path());
    assert_eq!(status, 200, "{body}");
    body
}

/// Names and Compose statuses of the deployment's databases.
fn compose_databases(service: &LocalService) -> Vec<(String, String)> {
    deployment(service)["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The users of a database as Compose lists them (`user`, `pwd`, `readOnly`).
fn compose_users(service: &LocalService, database: &str) -> Vec<Json> {
    let (status, body) = compose_get(
        service,
        &format!("{}/mongodb/{database}/users", deployment_path()),
    );
    assert_eq!(status, 200, "{body}");
    body.as_array().cloned().unwrap()
}

/// Waits until the deployment is `running` (it is `new` for one provisioning delay).
fn wait_running(service: &LocalService) {
    eventually("the deployment runs", || {
        deployment(service)["status"] == "running"
    });
}

/// Whether `password` is the user's password, as the service checks it.
fn verify(service: &LocalService, database: &str, username: &str, password: &str) -> bool {
    service.password_works(&service.database_id(database), username, password)
}

/// The planned values of `address` in a saved plan (`plan -out` then `show -json`).
fn planned(work: &Workspace, address: &str) -> Json {
    work.ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let output = work.ok(&["show", "-json", "-no-color", "tfplan"]);
    let plan: Json = serde_json::from_slice(&output.stdout).expect("show -json prints JSON");
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|change| change["address"] == address)
        .map(|change| change["change"].clone())
        .unwrap_or_else(|| panic!("{address} is not in the plan: {plan}"))
}

fn database(service: &LocalService, name: &str, extra: &str) -> String {
    format!(
        r#"{}
resource "dbaas_database" "client" {{
  name = "{name}"
  {extra}
}}
"#,
        service.compose_provider_block("")
    )
}

#[test]
fn compose_database_lifecycle_replace_import_destroy() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    wait_running(&service);

    work.write(&database(&service, "client-acme", ""));
    work.apply();
    let created = work.resource("dbaas_database.client");
    // At Compose a database is known by its name: the id is the name.
    assert_eq!(created["id"], "client-acme", "{created}");
    assert_eq!(created["name"], "client-acme");
    assert_eq!(created["status"], "running", "Compose's word for ready");
    assert_eq!(created["engine"], "mongodb");
    let shown = deployment(&service);
    assert_eq!(created["version"], shown["version"]);
    assert_eq!(created["region"], shown["location"]);
    assert_eq!(created["node_count"], 2, "one per deployment member");
    let members = shown["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        created["endpoint"],
        format!(
            "mongodb://{members}/client-acme?replicaSet=set-{}",
            shown["id"].as_str().unwrap()
        )
        .as_str()
    );
    assert!(created["superuser_password"].is_null());
    assert!(
        !created["created_at"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{created}"
    );
    // What the dialect stored: a running database holding the first collection, created the
    // way seed 000 shows (POST …/mongodb/<db>/collections).
    assert_eq!(
        compose_databases(&service),
        vec![("client-acme".to_string(), "running".to_string())]
    );
    let (status, collections) = compose_get(
        &service,
        &format!("{}/mongodb/client-acme/collections", deployment_path()),
    );
    assert_eq!(status, 200);
    assert_eq!(collections, json!(["dbaas"]));
    assert_eq!(
        service.mutating_requests(),
        vec![(
            "POST".to_string(),
            format!(
                "/compose{}/mongodb/client-acme/collections",
                deployment_path()
            )
        )]
    );
    let native = service.databases();
    assert_eq!(native.len(), 1, "{native:?}");
    assert_eq!(native[0]["engine"], "mongodb");

    work.assert_plan_empty();

    // Compose changes nothing about a database in place (its settings are the deployment's):
    // the only in-place change is Terraform's own, such as the timeouts, and it sends nothing.
    let before = service.mutating_requests().len();
    work.write(&database(
        &service,
        "client-acme",
        "timeouts {\n    delete = \"5m\"\n  }",
    ));
    let output = work.apply();
    assert_stdout_says(&output, &["0 added, 1 changed, 0 destroyed"]);
    assert_eq!(service.mutating_requests().len(), before);
    assert_eq!(work.resource("dbaas_database.client")["id"], "client-acme");

    // A new name replaces the database: the new one is created, the old one leaves the
    // deployment.
    work.write(&database(
        &service,
        "client-acme2",
        "timeouts {\n    delete = \"5m\"\n  }",
    ));
    work.assert_plan_changes(&["must be replaced"]);
    work.apply();
    let replaced = work.resource("dbaas_database.client");
    assert_eq!(replaced["id"], "client-acme2");
    assert_eq!(replaced["status"], "running");
    assert_eq!(
        compose_databases(&service),
        vec![("client-acme2".to_string(), "running".to_string())]
    );
    assert!(
        service.mutating_requests().contains(&(
            "DELETE".to_string(),
            format!("/compose{}/databases/client-acme", deployment_path())
        )),
        "{:?}",
        service.requests()
    );

    // Out of the state, back by `terraform import` with its name (which is its id). The
    // `timeouts` block is configuration only, never imported: the configuration for the import
    // leaves it out (with it, the plan would add it in place, sending nothing).
    work.state_rm("dbaas_database.client");
    work.write(&database(&service, "client-acme2", ""));
    work.import("dbaas_database.client", "client-acme2");
    let imported = work.resource("dbaas_database.client");
    assert_imported_as_created(&imported, &replaced, &["timeouts"]);
    work.assert_plan_empty();

    // Again through an `import {}` block.
    work.state_rm("dbaas_database.client");
    work.write(&format!(
        "{}\nimport {{\n  to = dbaas_database.client\n  id = \"client-acme2\"\n}}\n",
        database(&service, "client-acme2", "")
    ));
    let output = work.apply();
    assert_stdout_says(&output, &["1 imported, 0 added, 0 changed, 0 destroyed"]);
    assert_eq!(work.resource("dbaas_database.client")["id"], "client-acme2");
    work.assert_plan_empty();

    // Destroy removes it from the deployment.
    work.destroy();
    assert!(compose_databases(&service).is_empty());
    assert!(service.databases().is_empty(), "{:?}", service.databases());
    assert!(service.mutating_requests().contains(&(
        "DELETE".to_string(),
        format!("/compose{}/databases/client-acme2", deployment_path())
    )));
}

#[test]
fn compose_database_create_waits_while_the_deployment_is_new() {
    // The deployment is `new` for one provisioning delay after the service starts; Compose
    // refuses to create databases until it is `running` (as Compose's own tools wait for).
    let service = LocalService::start_with_dialects(Duration::from_secs(4));
    assert_eq!(
        deployment(&service)["status"],
        "new",
        "the test needs a deployment that is not running yet"
    );
    let work = Workspace::with_vendor_env(&service);
    work.write(&database(&service, "client-early", ""));
    work.apply();
    let created = work.resource("dbaas_database.client");
    assert_eq!(created["id"], "client-early");
    assert_eq!(created["status"], "running");
    assert_eq!(deployment(&service)["status"], "running");
    // The create read the deployment until it was running, and only then created the first
    // collection, once.
    let requests = service.requests();
    let first_post = requests
        .iter()
        .position(|(method, _)| method == "POST")
        .expect("a POST");
    let deployment_reads = requests[..first_post]
        .iter()
        .filter(|(method, path)| {
            method == "GET" && *path == format!("/compose{}", deployment_path())
        })
        .count();
    assert!(deployment_reads >= 2, "{requests:?}");
    assert_eq!(service.mutating_requests().len(), 1, "{requests:?}");
    work.destroy();
    assert!(compose_databases(&service).is_empty());
}

fn credential_config(service: &LocalService, credential: &str) -> String {
    format!(
        r#"{}
resource "dbaas_database" "client" {{
  name = "client-users"
}}
{credential}
"#,
        service.compose_provider_block("")
    )
}

fn app_user(extra: &str) -> String {
    format!(
        r#"
resource "dbaas_credential" "app" {{
  database_id = dbaas_database.client.id
  username    = "app"
  {extra}
}}
"#
    )
}

#[test]
fn compose_credential_default_role_role_change_password_reset_import_destroy() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    wait_running(&service);
    work.write(&credential_config(&service, ""));
    work.apply();

    // Without roles the plan shows what Compose gives every user: readWrite on its database.
    work.write(&credential_config(&service, &app_user("")));
    let change = planned(&work, "dbaas_credential.app");
    assert_eq!(change["actions"], json!(["create"]));
    assert_eq!(change["after"]["roles"], json!(["readWrite@client-users"]));
    assert_eq!(change["after"]["id"], "client-users/app");
    work.apply();
    let created = work.resource("dbaas_credential.app");
    assert_eq!(created["id"], "client-users/app");
    assert_eq!(created["database_id"], "client-users");
    assert_eq!(created["roles"], json!(["readWrite@client-users"]));
    assert_eq!(created["status"], "ok", "Compose users have no status");
    let password = created["password"]
        .as_str()
        .expect("a generated password in state")
        .to_string();
    assert_eq!(password.len(), 24);
    let users = compose_users(&service, "client-users");
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["user"], "app");
    assert_eq!(users[0]["readOnly"], false);
    assert!(
        verify(&service, "client-users", "app", &password),
        "the password in state is the user's"
    );
    work.assert_plan_empty();

    // read@<db> is Compose's readOnly: changed in place, same user, same password.
    work.write(&credential_config(
        &service,
        &app_user(r#"roles = ["read@client-users"]"#),
    ));
    let change = planned(&work, "dbaas_credential.app");
    assert_eq!(change["actions"], json!(["update"]));
    work.apply();
    let updated = work.resource("dbaas_credential.app");
    assert_eq!(updated["id"], "client-users/app");
    assert_eq!(updated["roles"], json!(["read@client-users"]));
    assert_eq!(updated["password"], password.as_str());
    assert_eq!(compose_users(&service, "client-users")[0]["readOnly"], true);
    assert!(verify(&service, "client-users", "app", &password));
    work.assert_plan_empty();

    // password_reset rotates the generated password: state holds the new one, the old one stops
    // working.
    work.write(&credential_config(
        &service,
        &app_user("roles = [\"read@client-users\"]\n  password_reset = \"2026-11\""),
    ));
    work.apply();
    let rotated = work.resource("dbaas_credential.app");
    let new_password = rotated["password"].as_str().unwrap().to_string();
    assert_ne!(new_password, password, "password_reset rotated it");
    assert!(verify(&service, "client-users", "app", &new_password));
    assert!(!verify(&service, "client-users", "app", &password));
    assert_eq!(rotated["roles"], json!(["read@client-users"]));
    work.assert_plan_empty();

    // Out of the state and back by import. `password_reset` is a trigger, not remote state, and
    // Compose keeps only a hash of the password: an import knows neither, so the configuration
    // for the import leaves `password_reset` out (with it, the plan would rotate the password).
    work.state_rm("dbaas_credential.app");
    work.write(&credential_config(
        &service,
        &app_user(r#"roles = ["read@client-users"]"#),
    ));
    work.import("dbaas_credential.app", "client-users/app");
    let imported = work.resource("dbaas_credential.app");
    assert_eq!(imported["id"], "client-users/app");
    assert_eq!(imported["roles"], json!(["read@client-users"]));
    assert!(
        imported["password"].is_null(),
        "Compose cannot show a password"
    );
    work.assert_plan_empty();

    // Removing the user deletes it from the database; destroy removes the rest.
    work.write(&credential_config(&service, ""));
    work.apply();
    assert!(compose_users(&service, "client-users").is_empty());
    assert!(service.mutating_requests().contains(&(
        "DELETE".to_string(),
        format!(
            "/compose{}/mongodb/client-users/users/app",
            deployment_path()
        )
    )));
    work.destroy();
    assert!(compose_databases(&service).is_empty());
    assert!(service.databases().is_empty());
}

#[test]
fn compose_credential_write_only_password_never_reaches_state() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    wait_running(&service);
    let chosen = "Chosen-Pa55word-never-stored";
    let writer = |password: &str, version: u32| {
        credential_config(
            &service,
            &format!(
                r#"
resource "dbaas_credential" "writer" {{
  database_id         = dbaas_database.client.id
  username            = "writer"
  password_wo         = "{password}"
  password_wo_version = {version}
}}
"#
            ),
        )
    };
    work.write(&writer(chosen, 1));
    let output = work.apply();
    assert!(
        !text(&output).contains(chosen),
        "the password is in apply's output"
    );
    assert!(
        verify(&service, "client-users", "writer", chosen),
        "the chosen password reached Compose"
    );
    let state = work.resource("dbaas_credential.writer");
    assert!(state["password"].is_null(), "{state}");
    assert!(state["password_wo"].is_null(), "{state}");
    assert_eq!(state["roles"], json!(["readWrite@client-users"]));
    let users = compose_users(&service, "client-users");
    assert_eq!(users[0]["user"], "writer");
    let output = work.assert_plan_empty();
    assert!(!text(&output).contains(chosen));

    // A new version sends the new password.
    let second = "Second-Chosen-Pa55word";
    work.write(&writer(second, 2));
    work.apply();
    assert!(verify(&service, "client-users", "writer", second));
    assert!(!verify(&service, "client-users", "writer", chosen));
    work.assert_plan_empty();

    // Neither password, nor the hash Compose lists as `pwd`, is in the state.
    let hash = compose_users(&service, "client-users")[0]["pwd"]
        .as_str()
        .expect("Compose lists the hash")
        .to_string();
    for secret in [chosen, second, hash.as_str()] {
        work.assert_not_in_state(secret, "a password or its hash");
    }
    work.destroy();
    assert!(compose_databases(&service).is_empty());
}

#[test]
fn compose_credential_refuses_roles_compose_lacks() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    wait_running(&service);
    work.write(&credential_config(&service, ""));
    work.apply();
    for roles in [
        r#"["dbAdmin@client-users"]"#,
        r#"["read@reporting"]"#,
        r#"["read@client-users", "readWrite@client-users"]"#,
    ] {
        work.write(&credential_config(
            &service,
            &app_user(&format!("roles = {roles}")),
        ));
        // Refused by the plan, pointing at `roles`, before any request.
        assert_stderr_says(
            &work.plan_fails(),
            &[
                "Unsupported Roles",
                "roles =",
                "Compose users have one role: `read@client-users` (readOnly) or \
                 `readWrite@client-users`",
            ],
        );
        assert!(compose_users(&service, "client-users").is_empty());
    }
    let users_posts: Vec<_> = service
        .mutating_requests()
        .into_iter()
        .filter(|(_, path)| path.contains("/users"))
        .collect();
    assert!(users_posts.is_empty(), "{users_posts:?}");
    work.write(&credential_config(&service, ""));
    work.destroy();
}

#[test]
fn compose_unsupported_types_and_settings_fail_at_plan_naming_compose() {
    let service = LocalService::start_with_dialects(DELAY);
    let types = type_refusals("compose", "\"client-x\"");
    let settings = attribute_refusals(
        "compose",
        "dbaas_database",
        "name = \"client-x\"",
        &[
            ("engine", r#""mongodb""#),
            ("version", r#""8.0""#),
            ("plan", r#""essential""#),
            ("region", r#""local:dbaas-local""#),
            ("flavor", r#""db1-4""#),
            ("node_count", "2"),
            ("description", r#""free text""#),
        ],
    );
    assert_plans_refused(
        &service,
        Workspace::with_vendor_env,
        &service.compose_provider_block(""),
        types.into_iter().chain(settings),
    );
    assert!(compose_databases(&service).is_empty());
}

#[test]
fn compose_data_sources_list_and_find_databases() {
    let service = LocalService::start_with_dialects(DELAY);
    // Databases of the deployment made outside Terraform (any MongoDB database of the store is
    // one of the deployment's).
    service.ready_database("client-acme");
    service.ready_database("client-globex");
    service.ready_database("internal-metrics");
    let work = Workspace::with_vendor_env(&service);
    work.write(&format!(
        r#"{}
data "dbaas_databases" "clients" {{
  name_prefix = "client-"
}}

data "dbaas_database" "by_name" {{
  name = "client-acme"
}}

data "dbaas_database" "by_id" {{
  id = "client-globex"
}}

output "clients" {{ value = [for d in data.dbaas_databases.clients.databases : d.name] }}
output "client_ids" {{ value = [for d in data.dbaas_databases.clients.databases : d.id] }}
output "statuses" {{ value = distinct([for d in data.dbaas_databases.clients.databases : d.status]) }}
output "by_name" {{ value = data.dbaas_database.by_name }}
output "by_id" {{ value = data.dbaas_database.by_id }}
"#,
        service.compose_provider_block("")
    ));
    work.apply();
    let outputs = work.outputs();
    let value = |name: &str| outputs[name]["value"].clone();
    assert_eq!(value("clients"), json!(["client-acme", "client-globex"]));
    assert_eq!(value("client_ids"), json!(["client-acme", "client-globex"]));
    assert_eq!(value("statuses"), json!(["running"]));
    let by_name = value("by_name");
    assert_eq!(by_name["id"], "client-acme");
    assert_eq!(by_name["engine"], "mongodb");
    assert_eq!(by_name["node_count"], 2);
    assert!(
        by_name["endpoint"]
            .as_str()
            .is_some_and(|e| e.starts_with("mongodb://") && e.contains("/client-acme?")),
        "{by_name}"
    );
    assert_eq!(value("by_id")["name"], "client-globex");
    assert!(
        service
            .mutating_requests()
            .iter()
            .all(|(_, path)| path.starts_with("/v1/databases"))
    );
    work.assert_plan_empty();
}

#[test]
fn compose_example_applies_plans_nothing_and_destroys() {
    let service = LocalService::start_with_dialects(DELAY);
    wait_running(&service);
    let mut work = Workspace::with_example(&service, "compose", Dialect::Compose);
    let (acme, globex) = ("Acme-Reporting-Pa55", "Globex-Reporting-Pa55");
    work.env(
        "TF_VAR_reporting_passwords",
        &json!({ "acme": acme, "globex": globex }).to_string(),
    );

    let output = work.apply();
    assert_stdout_says(&output, &["6 added, 0 changed, 0 destroyed"]);
    assert_eq!(
        compose_databases(&service),
        vec![
            ("client-acme".to_string(), "running".to_string()),
            ("client-globex".to_string(), "running".to_string()),
        ]
    );
    for (client, reporting_password) in [("acme", acme), ("globex", globex)] {
        let database = format!("client-{client}");
        let mut users: Vec<(String, bool)> = compose_users(&service, &database)
            .iter()
            .map(|u| {
                (
                    u["user"].as_str().unwrap().to_string(),
                    u["readOnly"].as_bool().unwrap(),
                )
            })
            .collect();
        users.sort();
        assert_eq!(
            users,
            vec![("app".to_string(), false), ("reporting".to_string(), true)]
        );
        assert!(verify(&service, &database, "reporting", reporting_password));
        let app = work.resource(&format!("dbaas_credential.app[\"{client}\"]"));
        assert_eq!(app["roles"], json!([format!("readWrite@{database}")]));
        assert!(verify(
            &service,
            &database,
            "app",
            app["password"].as_str().unwrap()
        ));
    }
    let outputs = work.outputs();
    assert_eq!(
        outputs["client_databases"]["value"],
        json!(["client-acme", "client-globex"])
    );
    assert!(
        outputs["endpoints"]["value"]["acme"]
            .as_str()
            .is_some_and(|e| e.starts_with("mongodb://")),
        "{outputs}"
    );
    work.assert_not_in_state(acme, "acme's reporting password");
    work.assert_not_in_state(globex, "globex's reporting password");

    work.assert_plan_empty();

    work.destroy();
    assert!(compose_databases(&service).is_empty());
    assert!(service.databases().is_empty());
}
