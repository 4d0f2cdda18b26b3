//! The provider against globo.com's DBaaS API, as served by dbaas-local's globo dialect: every
//! resource type and data source globo supports through create, no-op plan, update or
//! replacement, import and destroy; globo's quarantine on destroy and `purge_on_destroy`; its
//! slug names; what it refuses at plan time, naming globo; its Basic auth errors; and the
//! `examples/globo` configuration.

mod support;

use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{
    Dialect, GLOBO_PASSWORD, LocalService, Workspace, assert_hidden, assert_imported_as_created,
    assert_plans_refused, assert_says, assert_stderr_says, assert_stdout_says, attribute_refusals,
    eventually, flat, text, type_refusals,
};

const DELAY: Duration = Duration::from_millis(200);

/// One call to the globo dialect with its Basic credentials: status and JSON body (null when
/// there is none). How the tests see what globo really stored.
fn globo(service: &LocalService, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
    service.dialect_call(Dialect::Globo, method, path, body)
}

/// The globo database with id `id`, or `None` when globo answers 404.
fn dialect_database(service: &LocalService, id: &str) -> Option<Json> {
    let (status, body) = globo(service, "GET", &format!("/api/database/{id}/"), None);
    match status {
        200 => Some(body),
        404 => None,
        other => panic!("GET database {id}: HTTP {other} {body}"),
    }
}

/// Every database globo lists (quarantined ones included).
fn dialect_databases(service: &LocalService) -> Vec<Json> {
    let (status, body) = globo(service, "GET", "/api/database/?page_size=100", None);
    assert_eq!(status, 200, "{body}");
    body["database"].as_array().cloned().unwrap_or_default()
}

fn dialect_database_names(service: &LocalService) -> Vec<String> {
    dialect_databases(service)
        .iter()
        .map(|db| db["name"].as_str().unwrap().to_string())
        .collect()
}

/// The credentials globo lists on database `id` (its list shows no passwords).
fn dialect_credentials(service: &LocalService, id: &str) -> Vec<Json> {
    let (status, body) = globo(service, "GET", "/api/credential/?page_size=100", None);
    assert_eq!(status, 200, "{body}");
    let link = format!("/api/database/{id}/");
    body["credential"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["database"].as_str().is_some_and(|d| d.ends_with(&link)))
        .cloned()
        .collect()
}

/// The users globo lists on database `id`, sorted.
fn dialect_users(service: &LocalService, id: &str) -> Vec<String> {
    let mut users = dialect_credentials(service, id)
        .iter()
        .map(|c| c["user"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    users.sort();
    users
}

/// The password globo shows for `user` of database `id` (its detail view shows it).
fn dialect_password(service: &LocalService, id: &str, user: &str) -> String {
    let credential = dialect_credentials(service, id)
        .into_iter()
        .find(|c| c["user"] == user)
        .unwrap_or_else(|| panic!("globo has no user {user} on database {id}"));
    let number = credential["id"].to_string();
    let (status, detail) = globo(service, "GET", &format!("/api/credential/{number}/"), None);
    assert_eq!(status, 200, "GET credential {number}");
    detail["password"]
        .as_str()
        .expect("globo shows the password")
        .to_string()
}

/// Whether the store, under the dialect, accepts `password` for `user` of globo database `id`
/// (the store id is `db-` and the globo id in 12 hex digits).
fn password_works(service: &LocalService, id: &str, user: &str, password: &str) -> bool {
    let number: u64 = id.parse().expect("globo ids are numbers");
    service.password_works(&format!("db-{number:012x}"), user, password)
}

/// Waits until the store under the dialect has no database left: a purged database vanishes
/// from globo at once, while the store finishes deleting it in the background.
fn assert_store_empties(service: &LocalService) {
    eventually("the store has no database left", || {
        service.databases().is_empty()
    });
}

fn database(service: &LocalService, name: &str, plan: &str, region: &str, extra: &str) -> String {
    format!(
        r#"{}
resource "dbaas_database" "client" {{
  name   = "{name}"
  plan   = "{plan}"
  region = "{region}"
  {extra}
}}
"#,
        service.globo_provider_block("")
    )
}

#[test]
fn globo_database_lifecycle_replace_import_purge() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    let acme = |plan, region, extra| database(&service, "client_acme", plan, region, extra);

    work.write(&acme("essential", "eu-west-1", ""));
    let output = work.apply();
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    let created = work.resource("dbaas_database.client");
    let first_id = created["id"].as_str().unwrap().to_string();
    assert!(
        first_id.parse::<u64>().is_ok(),
        "globo ids are numbers: {created}"
    );
    assert_eq!(created["name"], "client_acme");
    assert_eq!(created["status"], "ACTIVE", "{created}");
    assert_eq!(created["engine"], "mongodb", "globo runs MongoDB only");
    assert_eq!(created["plan"], "essential");
    assert_eq!(created["region"], "eu-west-1");
    assert_eq!(created["flavor"], Json::Null);
    assert_eq!(created["node_count"], Json::Null);
    assert_eq!(created["superuser_password"], Json::Null);
    let endpoint = created["endpoint"].as_str().unwrap();
    assert!(
        endpoint.starts_with("mongodb://<user>:<password>@") && endpoint.ends_with("/client_acme"),
        "globo's endpoint carries placeholders: {endpoint}"
    );

    // What globo stored: plan 1, environment 1, not quarantined, with its u_<name> user.
    let stored = dialect_database(&service, &first_id).expect("globo has the database");
    assert_eq!(stored["name"], "client_acme");
    assert_eq!(stored["quarantine_dt"], Json::Null);
    assert!(stored["plan"].as_str().unwrap().ends_with("/api/plan/1/"));
    assert!(
        stored["environment"]
            .as_str()
            .unwrap()
            .ends_with("/api/environment/1/")
    );
    assert_eq!(stored["endpoint"].as_str(), Some(endpoint));
    assert_eq!(dialect_users(&service, &first_id), vec!["u_client_acme"]);

    work.assert_plan_empty();

    // A plan or region change replaces the database, which keeps its name: globo would only
    // quarantine the old one, so the plan refuses it while purge_on_destroy is unset.
    let before = service.mutating_requests().len();
    for (plan, region, attribute) in [
        ("business", "eu-west-1", r#"plan   = "business""#),
        ("essential", "eu-central-1", r#"region = "eu-central-1""#),
    ] {
        work.write(&acme(plan, region, ""));
        let output = work.plan_fails();
        assert_says(
            &output,
            &[
                "Replacement Blocked By Quarantine",
                "the globo API only quarantines",
                "purge_on_destroy = true",
            ],
        );
        assert_stderr_says(&output, &[attribute]);
    }
    assert_eq!(service.mutating_requests().len(), before);

    // In place: purge_on_destroy is the provider's own setting; applying it alone sends nothing.
    let purge = "purge_on_destroy = true";
    work.write(&acme("essential", "eu-west-1", purge));
    let output = work.apply();
    assert_stdout_says(&output, &["0 added, 1 changed, 0 destroyed"]);
    assert_eq!(
        service.mutating_requests().len(),
        before,
        "nothing changed at globo"
    );
    let updated = work.resource("dbaas_database.client");
    assert_eq!(updated["id"], first_id.as_str());
    assert_eq!(updated["purge_on_destroy"], true);
    work.assert_plan_empty();

    // Now a plan change replaces: the old database is purged, the new one is on plan 2.
    work.write(&acme("business", "eu-west-1", purge));
    work.assert_plan_changes(&["must be replaced"]);
    let output = work.apply();
    assert_stdout_says(&output, &["1 added, 0 changed, 1 destroyed"]);
    let replaced = work.resource("dbaas_database.client");
    let second_id = replaced["id"].as_str().unwrap().to_string();
    assert_ne!(second_id, first_id);
    assert_eq!(replaced["plan"], "business");
    assert_eq!(replaced["status"], "ACTIVE");
    assert!(
        dialect_database(&service, &first_id).is_none(),
        "the old database is purged"
    );
    let stored = dialect_database(&service, &second_id).expect("the new database");
    assert!(stored["plan"].as_str().unwrap().ends_with("/api/plan/2/"));
    assert_eq!(dialect_database_names(&service), vec!["client_acme"]);

    // And a region change replaces it again, into environment 2.
    work.write(&acme("business", "eu-central-1", purge));
    work.apply();
    let moved = work.resource("dbaas_database.client");
    let third_id = moved["id"].as_str().unwrap().to_string();
    assert_ne!(third_id, second_id);
    assert_eq!(moved["region"], "eu-central-1");
    assert!(dialect_database(&service, &second_id).is_none());
    let stored = dialect_database(&service, &third_id).expect("the new database");
    assert!(
        stored["environment"]
            .as_str()
            .unwrap()
            .ends_with("/api/environment/2/")
    );
    work.assert_plan_empty();

    // Out of the state and back with `terraform import`. purge_on_destroy lives only in
    // Terraform (globo has no such field), so the import cannot know it: the plan after the
    // import shows exactly that one in-place change, which sends nothing to globo.
    work.state_rm("dbaas_database.client");
    assert!(work.show()["values"].is_null(), "the state is empty");
    work.import("dbaas_database.client", &third_id);
    let imported = work.resource("dbaas_database.client");
    assert_imported_as_created(&imported, &moved, &["purge_on_destroy"]);
    assert_eq!(imported["purge_on_destroy"], Json::Null);
    work.assert_plan_changes(&[
        "+ purge_on_destroy = true",
        "0 to add, 1 to change, 0 to destroy",
    ]);
    let before = service.mutating_requests().len();
    work.apply();
    assert_eq!(service.mutating_requests().len(), before);
    work.assert_plan_empty();

    // purge_on_destroy = true: destroy removes it for good, with no quarantine warning.
    let output = work.destroy();
    assert!(
        !flat(&output).contains("Quarantine"),
        "no quarantine with purge_on_destroy:\n{}",
        text(&output)
    );
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    assert!(dialect_database(&service, &third_id).is_none());
    assert!(dialect_databases(&service).is_empty());
    assert_store_empties(&service);
}

#[test]
fn globo_database_destroy_by_default_quarantines() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    work.write(&database(
        &service,
        "client_quarantine",
        "essential",
        "eu-west-1",
        "",
    ));
    work.apply();
    let id = work.resource("dbaas_database.client")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let password = dialect_password(&service, &id, "u_client_quarantine");
    assert!(password_works(
        &service,
        &id,
        "u_client_quarantine",
        &password
    ));

    // (The destroy plan's "Destroy Will Quarantine" warning: see
    // globo_destroy_plan_warns_of_quarantine.)
    assert_says(
        &work.destroy(),
        &[
            "Database Quarantined, Not Removed",
            "The globo API quarantined database \"client_quarantine\"",
            "1 destroyed",
        ],
    );
    assert!(work.show()["values"].is_null(), "the state is empty");

    // globo keeps it, quarantined today, with its user's password reset.
    let kept = dialect_database(&service, &id).expect("a quarantined database stays");
    assert_eq!(kept["name"], "client_quarantine");
    let date = kept["quarantine_dt"]
        .as_str()
        .expect("quarantine_dt is set");
    // A date (YYYY-MM-DD), today's, or yesterday's when the test ran across midnight UTC.
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("a date");
    let age = (chrono::Utc::now().date_naive() - date).num_days();
    assert!((0..=1).contains(&age), "quarantined on {date}");
    assert_eq!(dialect_database_names(&service), vec!["client_quarantine"]);
    assert!(
        !password_works(&service, &id, "u_client_quarantine", &password),
        "quarantine resets every password"
    );

    // Its name stays taken: creating it again fails with globo's own message.
    assert_says(
        &work.apply_fails(),
        &[
            "Error Creating Database",
            "a database named client_quarantine already exists",
        ],
    );
    assert_eq!(dialect_databases(&service).len(), 1);
}

/// The provider announces `plan_destroy`, so Terraform plans destroys through it and the
/// quarantine is announced before anything happens.
#[test]
fn globo_destroy_plan_warns_of_quarantine() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    work.write(&database(
        &service,
        "client_warned",
        "essential",
        "eu-west-1",
        "",
    ));
    work.apply();
    for args in [
        &["plan", "-destroy", "-input=false", "-no-color"][..],
        &["destroy", "-auto-approve", "-input=false", "-no-color"][..],
    ] {
        assert_says(
            &work.ok(args),
            &[
                "Destroy Will Quarantine the Database",
                "At the globo API, destroying database \"client_warned\"",
                "Set purge_on_destroy = true (and apply) before destroying",
            ],
        );
    }
    // With purge_on_destroy applied, the destroy plan has nothing to warn about.
    work.write(&database(
        &service,
        "client_again",
        "essential",
        "eu-west-1",
        "purge_on_destroy = true",
    ));
    work.apply();
    let output = work.ok(&["plan", "-destroy", "-input=false", "-no-color"]);
    assert!(!flat(&output).contains("Quarantine"), "{}", text(&output));
    work.destroy();
}

/// The `client_users` database (purged on destroy), then `users`.
fn users_config(service: &LocalService, users: &str) -> String {
    format!(
        r#"{}
resource "dbaas_database" "client" {{
  name             = "client_users"
  purge_on_destroy = true
}}
{users}
"#,
        service.globo_provider_block("")
    )
}

/// The user globo creates with the database, declared.
const BUILTIN_USER: &str = r#"
resource "dbaas_credential" "builtin" {
  database_id = dbaas_database.client.id
  username    = "u_client_users"
}
"#;

/// `users_config` with one user, `dbaas_credential.app`.
fn credential(service: &LocalService, username: &str, extra: &str) -> String {
    users_config(
        service,
        &format!(
            r#"
resource "dbaas_credential" "app" {{
  database_id = dbaas_database.client.id
  username    = "{username}"
  {extra}
}}
"#
        ),
    )
}

#[test]
fn globo_credential_generated_password_rotation_replace_import_destroy() {
    let (service, work) = LocalService::start_vendor_test(DELAY);

    work.write(&credential(&service, "app", r#"password_reset = "1""#));
    let output = work.apply();
    let db = work.resource("dbaas_database.client");
    let db_id = db["id"].as_str().unwrap().to_string();
    // Without plan and region, globo's default plan and first environment are used.
    assert_eq!(db["plan"], "essential");
    assert_eq!(db["region"], "eu-west-1");
    let created = work.resource("dbaas_credential.app");
    assert_eq!(created["id"], format!("{db_id}/app"));
    assert_eq!(created["username"], "app");
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["roles"], json!([]));
    let password = created["password"]
        .as_str()
        .expect("globo generated a password")
        .to_string();
    assert_hidden(&output, &password, "the generated password");
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    assert!(
        password == dialect_password(&service, &db_id, "app"),
        "the state holds the password globo shows"
    );
    assert!(password_works(&service, &db_id, "app", &password));
    assert_eq!(
        dialect_users(&service, &db_id),
        vec!["app", "u_client_users"]
    );

    let output = work.assert_plan_empty();
    assert_hidden(&output, &password, "the generated password");

    // In place: a new password_reset makes globo generate a new password.
    work.write(&credential(&service, "app", r#"password_reset = "2""#));
    let output = work.apply();
    assert_stdout_says(&output, &["0 added, 1 changed, 0 destroyed"]);
    let rotated = work.resource("dbaas_credential.app");
    assert_eq!(rotated["id"], format!("{db_id}/app"));
    let new_password = rotated["password"].as_str().unwrap().to_string();
    assert!(new_password != password, "password_reset rotated it");
    assert_hidden(&output, &new_password, "the rotated password");
    assert!(new_password == dialect_password(&service, &db_id, "app"));
    assert!(password_works(&service, &db_id, "app", &new_password));
    assert!(!password_works(&service, &db_id, "app", &password));
    assert!(
        service
            .requests()
            .iter()
            .any(|(method, path)| method == "POST" && path.ends_with("/reset_password/")),
        "the rotation went through globo's reset_password"
    );
    work.assert_plan_empty();

    // A new username replaces the user.
    work.write(&credential(&service, "app_v2", r#"password_reset = "2""#));
    work.assert_plan_changes(&["must be replaced"]);
    work.apply();
    let replaced = work.resource("dbaas_credential.app");
    assert_eq!(replaced["id"], format!("{db_id}/app_v2"));
    assert_eq!(
        dialect_users(&service, &db_id),
        vec!["app_v2", "u_client_users"]
    );

    // Out of the state and back through an `import {}` block, with the user globo created with
    // the database imported alongside. An import cannot know password_reset (a trigger kept
    // only in Terraform; setting it on an imported user would rotate the password) nor the
    // password (globo shows it only on create and reset), so this configuration leaves
    // password_reset out and the imported password is null.
    work.state_rm("dbaas_credential.app");
    work.write(&format!(
        r#"{}
import {{
  to = dbaas_credential.app
  id = "{db_id}/app_v2"
}}

import {{
  to = dbaas_credential.builtin
  id = "{db_id}/u_client_users"
}}
{BUILTIN_USER}"#,
        credential(&service, "app_v2", "")
    ));
    let output = work.apply();
    assert_stdout_says(&output, &["2 imported, 0 added, 0 changed"]);
    let imported = work.resource("dbaas_credential.app");
    assert_eq!(imported["id"], format!("{db_id}/app_v2"));
    assert_eq!(imported["status"], "ACTIVE");
    assert_eq!(imported["password"], Json::Null);
    assert_eq!(imported["password_reset"], Json::Null);
    assert_eq!(
        work.resource("dbaas_credential.builtin")["id"],
        format!("{db_id}/u_client_users")
    );
    work.assert_plan_empty();
    work.assert_not_in_state(GLOBO_PASSWORD, "GLOBO_PASSWORD");

    // Destroying one user removes it from globo; the database and its own user stay.
    work.write(&users_config(&service, BUILTIN_USER));
    let output = work.apply();
    assert_stdout_says(&output, &["0 added, 0 changed, 1 destroyed"]);
    assert_eq!(dialect_users(&service, &db_id), vec!["u_client_users"]);
    assert!(
        service
            .requests()
            .iter()
            .any(|(method, path)| method == "DELETE" && path.starts_with("/globo/api/credential/")),
        "the user was deleted through globo's credential DELETE"
    );

    let output = work.destroy();
    assert_stdout_says(&output, &["2 destroyed"]);
    assert!(dialect_database(&service, &db_id).is_none());
    assert!(dialect_databases(&service).is_empty());
    assert_store_empties(&service);
}

#[test]
fn globo_data_sources_read_catalog_projects_and_databases() {
    let service = LocalService::start_with_dialects(DELAY);
    let mut ids = Vec::new();
    for name in [
        "client_acme",
        "client_globex",
        "client_gone",
        "internal_metrics",
    ] {
        let (status, body) = globo(
            &service,
            "POST",
            "/api/database/",
            Some(json!({
                "name": name,
                "plan": "/api/plan/1/",
                "environment": "/api/environment/1/",
            })),
        );
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].to_string());
    }
    // client_gone is quarantined: globo still lists it.
    let (status, _) = globo(
        &service,
        "DELETE",
        &format!("/api/database/{}/", ids[2]),
        None,
    );
    assert_eq!(status, 204);

    let work = Workspace::with_vendor_env(&service);
    work.write(&format!(
        r#"{}
data "dbaas_capabilities" "globo" {{}}
data "dbaas_plans" "globo" {{}}
data "dbaas_projects" "globo" {{}}

data "dbaas_databases" "clients" {{
  name_prefix = "client_"
}}

data "dbaas_database" "by_name" {{
  name = "client_acme"
}}

data "dbaas_database" "by_id" {{
  id = "{}"
}}

output "engines" {{ value = data.dbaas_capabilities.globo.engines }}
output "regions" {{ value = [for r in data.dbaas_capabilities.globo.regions : r.name] }}
output "flavors" {{ value = data.dbaas_capabilities.globo.flavors }}
output "plans" {{ value = [for p in data.dbaas_plans.globo.plans : p.name] }}
output "projects" {{ value = data.dbaas_projects.globo.projects }}
output "clients" {{
  value = {{ for d in data.dbaas_databases.clients.databases : d.name => d.status }}
}}
output "by_name" {{ value = data.dbaas_database.by_name }}
output "by_id_name" {{ value = data.dbaas_database.by_id.name }}
"#,
        service.globo_provider_block(""),
        ids[1]
    ));
    let output = work.apply();
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    let outputs = work.outputs();
    let value = |name: &str| outputs[name]["value"].clone();
    assert_eq!(
        value("engines"),
        json!([{ "name": "mongodb", "versions": [], "default_version": "" }])
    );
    assert_eq!(
        value("regions"),
        json!(["eu-west-1", "eu-central-1", "us-east-1"])
    );
    assert_eq!(value("flavors"), json!([]));
    assert_eq!(
        value("plans"),
        json!(["essential", "business", "enterprise"])
    );

    // dbaas_projects shows globo's project list.
    let (status, projects) = globo(&service, "GET", "/api/project/", None);
    assert_eq!(status, 200, "{projects}");
    let expected: Vec<Json> = projects["project"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!({ "id": p["id"].to_string(), "name": p["name"] }))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(value("projects"), Json::Array(expected));
    assert_eq!(value("projects"), json!([{ "id": "1", "name": "default" }]));

    assert_eq!(
        value("clients"),
        json!({
            "client_acme": "ACTIVE",
            "client_globex": "ACTIVE",
            "client_gone": "QUARANTINED",
        })
    );
    let by_name = value("by_name");
    assert_eq!(by_name["id"], ids[0].as_str());
    assert_eq!(by_name["engine"], "mongodb");
    assert_eq!(by_name["plan"], "essential");
    assert_eq!(by_name["region"], "eu-west-1");
    assert_eq!(by_name["status"], "ACTIVE");
    assert_eq!(
        by_name["endpoint"],
        dialect_database(&service, &ids[0]).unwrap()["endpoint"]
    );
    assert_eq!(value("by_id_name"), "client_globex");

    work.assert_plan_empty();
    // Data sources only read.
    let changes: Vec<_> = service
        .mutating_requests()
        .into_iter()
        .filter(|(_, path)| !path.starts_with("/globo/api/database/"))
        .collect();
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!(
        service.mutating_requests().len(),
        5,
        "the test's own calls only"
    );
}

#[test]
fn globo_unsupported_types_and_attributes_fail_at_plan_naming_globo() {
    let service = LocalService::start_with_dialects(DELAY);
    let types = type_refusals("globo", "\"1\"");
    let credential_settings = attribute_refusals(
        "globo",
        "dbaas_credential",
        "database_id = \"1\"\n  username = \"app\"",
        &[
            ("roles", r#"["readWrite@orders"]"#),
            (
                "password_wo",
                "\"a-chosen-password-123\"\n  password_wo_version = 1",
            ),
        ],
    );
    let database_settings = attribute_refusals(
        "globo",
        "dbaas_database",
        "name = \"client_x\"",
        &[
            ("engine", r#""mongodb""#),
            ("version", r#""8.0""#),
            ("flavor", r#""db1-4""#),
            ("node_count", "1"),
            ("description", r#""free text""#),
        ],
    );
    let outputs = assert_plans_refused(
        &service,
        Workspace::with_vendor_env,
        &service.globo_provider_block(""),
        types
            .into_iter()
            .chain(credential_settings)
            .chain(database_settings),
    );
    for output in &outputs {
        assert_hidden(output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    }
    assert!(dialect_databases(&service).is_empty());
}

#[test]
fn globo_invalid_names_fail_at_plan_pointing_at_name_without_requests() {
    let service = LocalService::start_with_dialects(DELAY);
    let cases = [
        (
            "client-acme",
            r#"would be stored by globo as "client_acme""#,
        ),
        ("admin", "is reserved by MongoDB"),
        (
            "Client_Acme",
            r#"would be stored by globo as "client_acme""#,
        ),
    ];
    for (name, problem) in cases {
        let work = Workspace::with_vendor_env(&service);
        work.write(&format!(
            "{}\nresource \"dbaas_database\" \"x\" {{\n  name = \"{name}\"\n}}\n",
            service.globo_provider_block("")
        ));
        let output = work.plan_fails();
        assert_says(
            &output,
            &[
                "Invalid Database Name",
                problem,
                "lowercase letters (a-z), digits and underscores",
            ],
        );
        assert_stderr_says(&output, &[&format!("name = \"{name}\"")]);
    }
    let requests = service.provider_requests();
    assert!(
        requests.is_empty(),
        "no request may reach globo: {requests:?}"
    );
}

#[test]
fn globo_wrong_password_is_refused_with_globo_message() {
    let service = LocalService::start_with_dialects(DELAY);
    let mut work = Workspace::new(&service);
    let wrong = "not-the-globo-password-42";
    work.env("GLOBO_PASSWORD", wrong);
    work.write(&database(
        &service,
        "client_acme",
        "essential",
        "eu-west-1",
        "",
    ));
    let output = work.apply_fails();
    assert_says(
        &output,
        &["Error Creating Database", "Invalid username/password"],
    );
    assert_hidden(&output, wrong, "the wrong password");
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    // globo's client reads the catalog before it creates, so the refusal comes first.
    let changes = service.mutating_requests();
    assert!(changes.is_empty(), "{changes:?}");
    assert!(dialect_databases(&service).is_empty());
    assert!(service.databases().is_empty());
}

#[test]
fn globo_example_applies_plans_clean_and_destroy_quarantines() {
    let service = LocalService::start_with_dialects(DELAY);
    let work = Workspace::with_example(&service, "globo", Dialect::Globo);

    let output = work.apply();
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    let mut names = dialect_database_names(&service);
    names.sort();
    assert_eq!(names, vec!["client_acme", "client_globex"]);
    for client in ["acme", "globex"] {
        let db = work.resource(&format!("dbaas_database.client[\"{client}\"]"));
        assert_eq!(db["status"], "ACTIVE");
        let id = db["id"].as_str().unwrap().to_string();
        assert_eq!(
            dialect_users(&service, &id),
            vec!["app".to_string(), format!("u_client_{client}")]
        );
        let app = work.resource(&format!("dbaas_credential.app[\"{client}\"]"));
        let password = app["password"].as_str().unwrap().to_string();
        assert_hidden(&output, &password, "an app password");
        assert!(password_works(&service, &id, "app", &password));
    }
    let outputs = work.outputs();
    assert_eq!(outputs["app_passwords"]["sensitive"], true);
    assert!(
        outputs["endpoints"]["value"]["acme"]
            .as_str()
            .is_some_and(|e| e.ends_with("/client_acme")),
        "{}",
        outputs["endpoints"]
    );
    assert_eq!(outputs["projects"]["value"], json!(["default"]));

    work.assert_plan_empty();

    // The example keeps globo's default: destroy quarantines the databases.
    assert_says(&work.destroy(), &["Database Quarantined, Not Removed"]);
    let quarantined: Vec<Json> = dialect_databases(&service);
    assert_eq!(quarantined.len(), 2);
    assert!(
        quarantined.iter().all(|db| db["quarantine_dt"].is_string()),
        "{quarantined:?}"
    );
}
