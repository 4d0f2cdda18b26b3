//! The provider against goaddon's project API, as served by dbaas-local's goaddon dialect: the
//! token's one project database found through the data sources, database users with roles
//! written `<role>@<database>` and generated or write-only passwords, indexes registered on a
//! collection (several in one apply), plan-time refusal of what goaddon does not offer, and
//! `examples/goaddon` applied as written.

mod support;

use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{
    Dialect, LocalService, Workspace, assert_plans_refused, assert_stderr_says, assert_stdout_says,
    attribute_refusals, eventually, text, type_refusals,
};

const DELAY: Duration = Duration::from_millis(200);

/// The store database that is the goaddon project's database (the dialect's `db_name`).
const PROJECT: &str = "goaddon-project";

/// A configuration for the goaddon dialect: the provider block, the token's database found
/// through `dbaas_databases` (as `local.db`), then `body`.
fn config(service: &LocalService, body: &str) -> String {
    format!(
        r#"{}
data "dbaas_databases" "project" {{}}

locals {{
  db = one(data.dbaas_databases.project.databases)
}}

{body}
"#,
        service.goaddon_provider_block("")
    )
}

/// A GET of goaddon's API (`/api/v1`) as a goaddon client makes it (`Basic` of the bare token).
fn goaddon(service: &LocalService, path: &str) -> (u16, Json) {
    service.dialect_call(Dialect::Goaddon, "GET", &format!("/api/v1{path}"), None)
}

/// The project as the goaddon dialect shows it.
fn goaddon_project(service: &LocalService) -> Json {
    let (status, projects) = goaddon(service, "/projects");
    assert_eq!(status, 200, "{projects}");
    let projects = projects.as_array().unwrap();
    assert_eq!(
        projects.len(),
        1,
        "a token reaches one project: {projects:?}"
    );
    projects[0].clone()
}

/// The users as the goaddon dialect lists them.
fn goaddon_users(service: &LocalService) -> Vec<Json> {
    let (status, users) = goaddon(service, "/database_users");
    assert_eq!(status, 200, "{users}");
    users.as_array().cloned().unwrap()
}

/// The registered indexes of `klass` as the goaddon dialect lists them (none if the collection
/// is not registered).
fn goaddon_indexes(service: &LocalService, klass: &str) -> Vec<Json> {
    let (status, collections) = goaddon(service, "/collections");
    assert_eq!(status, 200, "{collections}");
    collections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["klass"] == klass)
        .map(|c| c["indexes"].as_array().cloned().unwrap())
        .unwrap_or_default()
}

fn goaddon_index_names(service: &LocalService, klass: &str) -> Vec<String> {
    let mut names: Vec<String> = goaddon_indexes(service, klass)
        .iter()
        .map(|i| i["options"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The native id of the store database behind the goaddon project.
fn native_project(service: &LocalService) -> String {
    service.database_id(PROJECT)
}

/// The indexes the store holds for a collection of the project's database (native API), sorted.
fn native_indexes(service: &LocalService, collection: &str) -> Vec<String> {
    let mut names = service.index_names(&native_project(service), collection);
    names.sort();
    names
}

/// Whether the store accepts `password` for `username` (native API).
fn verify(service: &LocalService, username: &str, password: &str) -> bool {
    service.password_works(&native_project(service), username, password)
}

fn credential(username: &str, roles: &str, extra: &str) -> String {
    format!(
        r#"resource "dbaas_credential" "app" {{
  database_id = local.db.id
  username    = "{username}"
  roles       = {roles}
  {extra}
}}"#
    )
}

#[test]
fn goaddon_data_sources_find_the_token_project_database() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    work.write(&config(
        &service,
        r#"data "dbaas_database" "by_name" {
  name = local.db.name
}

data "dbaas_database" "by_id" {
  id = local.db.id
}

output "all" { value = data.dbaas_databases.project.databases }
output "by_name" { value = data.dbaas_database.by_name }
output "by_id" { value = data.dbaas_database.by_id }
"#,
    ));
    work.apply();
    let outputs = work.outputs();

    let project = goaddon_project(&service);
    let project_id = project["_id"].as_str().unwrap();
    assert_eq!(project_id.len(), 24, "an ObjectId: {project}");
    let native = service.database_named(PROJECT);

    let all = outputs["all"]["value"].as_array().unwrap();
    assert_eq!(all.len(), 1, "the token reaches one database: {all:?}");
    let db = &all[0];
    assert_eq!(db["id"], project_id, "the database id is the project's _id");
    assert_eq!(db["name"], PROJECT, "the name is the project's db_name");
    assert_eq!(db["engine"], "mongodb");
    assert_eq!(db["status"], "active");
    assert_eq!(db["plan"], native["plan"]);
    assert_eq!(db["node_count"], native["node_count"], "{db} / {native}");
    assert_eq!(
        db["endpoint"],
        format!("mongodb://{project_id}-0.mongodb.goaddon.local/{PROJECT}"),
        "the endpoint lists the project's db_hosts"
    );
    for selector in ["by_name", "by_id"] {
        let found = &outputs[selector]["value"];
        for field in ["id", "name", "engine", "plan", "status", "endpoint"] {
            assert_eq!(found[field], db[field], "{selector}.{field}: {found}");
        }
        assert_eq!(found["node_count"], db["node_count"], "{selector}: {found}");
    }
    work.assert_plan_empty();

    assert!(
        service
            .requests()
            .iter()
            .any(|(method, path)| method == "GET" && path == "/goaddon/api/v1/projects"),
        "the data sources went through the goaddon dialect"
    );
    assert!(service.mutating_requests().is_empty());
}

#[test]
fn goaddon_credential_generated_password_roles_in_place_replace_import_destroy() {
    let (service, work) = LocalService::start_vendor_test(DELAY);

    work.write(&config(
        &service,
        &credential("app", r#"["readWrite@${local.db.name}"]"#, ""),
    ));
    work.apply();
    let project_id = goaddon_project(&service)["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let created = work.resource("dbaas_credential.app");
    assert_eq!(created["id"], format!("{project_id}/app"));
    assert_eq!(created["database_id"], project_id.as_str());
    assert_eq!(created["status"], "active", "goaddon's status: {created}");
    assert_eq!(created["roles"], json!([format!("readWrite@{PROJECT}")]));
    assert!(created["password_wo"].is_null());
    let password = created["password"]
        .as_str()
        .expect("the password goaddon generated is in state")
        .to_string();
    assert!(password.len() >= 12);
    assert!(
        verify(&service, "app", &password),
        "the password in state is the user's"
    );
    // goaddon shows bare role names and never shows the password again.
    let users = goaddon_users(&service);
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["username"], "app");
    assert_eq!(users[0]["roles"], json!(["readWrite"]));
    assert!(users[0]["password"].is_null(), "{}", users[0]["username"]);
    assert_eq!(
        service.credentials(&native_project(&service))[0]["roles"],
        json!([format!("readWrite@{PROJECT}")])
    );

    work.assert_plan_empty();

    // Roles change in place; the user and its password stay.
    work.write(&config(
        &service,
        &credential(
            "app",
            r#"["readWrite@${local.db.name}", "dbAdmin@${local.db.name}"]"#,
            "",
        ),
    ));
    work.assert_plan_changes(&["0 to add, 1 to change, 0 to destroy"]);
    work.apply();
    let updated = work.resource("dbaas_credential.app");
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(
        updated["roles"],
        json!([format!("readWrite@{PROJECT}"), format!("dbAdmin@{PROJECT}")])
    );
    assert_eq!(updated["password"], password.as_str());
    assert_eq!(
        goaddon_users(&service)[0]["roles"],
        json!(["readWrite", "dbAdmin"])
    );
    assert!(verify(&service, "app", &password), "the password is kept");
    work.assert_plan_empty();

    // A new username replaces the user.
    work.write(&config(
        &service,
        &credential("app2", r#"["read@${local.db.name}"]"#, ""),
    ));
    work.assert_plan_changes(&["must be replaced"]);
    work.apply();
    let replaced = work.resource("dbaas_credential.app");
    assert_eq!(replaced["id"], format!("{project_id}/app2"));
    assert_ne!(replaced["id"], created["id"]);
    let new_password = replaced["password"].as_str().unwrap().to_string();
    assert_ne!(new_password, password);
    let names: Vec<_> = goaddon_users(&service)
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["app2"], "the old user is gone");
    assert!(verify(&service, "app2", &new_password));

    // Out of state and back by `terraform import <database_id>/<username>`. goaddon never shows
    // a generated password again, so the imported `password` is null; it is computed, so the
    // plan is still empty.
    work.state_rm("dbaas_credential.app");
    assert!(
        goaddon_users(&service).len() == 1,
        "state rm deletes nothing"
    );
    work.import("dbaas_credential.app", &format!("{project_id}/app2"));
    let imported = work.resource("dbaas_credential.app");
    assert_eq!(imported["roles"], json!([format!("read@{PROJECT}")]));
    assert!(imported["password"].is_null(), "goaddon shows it only once");
    work.assert_plan_empty();

    work.destroy();
    assert!(goaddon_users(&service).is_empty());
    eventually("the store deletes the user", || {
        service.credentials(&native_project(&service)).is_empty()
    });
}

#[test]
fn goaddon_credential_write_only_password_never_in_state_and_version_resends_it() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    let first = "Chosen-Goaddon-Pa55word-one";
    let second = "Chosen-Goaddon-Pa55word-two";
    let user = |password: &str, version: u32| {
        config(
            &service,
            &credential(
                "writer",
                r#"["readWrite@${local.db.name}"]"#,
                &format!("password_wo = \"{password}\"\n  password_wo_version = {version}"),
            ),
        )
    };

    work.write(&user(first, 1));
    let plan = work.assert_plan_changes(&[]);
    assert!(!text(&plan).contains(first), "the password is in the plan");
    let output = work.apply();
    assert!(!text(&output).contains(first));
    assert!(
        verify(&service, "writer", first),
        "the password reached goaddon"
    );
    let state = work.resource("dbaas_credential.app");
    assert!(state["password"].is_null(), "{}", state["id"]);
    assert!(state["password_wo"].is_null(), "{}", state["id"]);
    assert_eq!(state["password_wo_version"], 1);
    assert!(goaddon_users(&service)[0]["password"].is_null());

    work.assert_plan_empty();

    // Terraform cannot see a write-only value change: a new password alone plans nothing...
    work.write(&user(second, 1));
    work.assert_plan_empty();
    // ... a new version sends it.
    work.write(&user(second, 2));
    let plan = work.assert_plan_changes(&["0 to add, 1 to change, 0 to destroy"]);
    assert!(!text(&plan).contains(second));
    work.apply();
    assert!(
        verify(&service, "writer", second),
        "the new password was sent"
    );
    assert!(
        !verify(&service, "writer", first),
        "the old one is replaced"
    );
    work.assert_plan_empty();

    // Neither password is in the state, nor in the dialect's stored values, where a chosen
    // password is kept hashed only.
    let stored = service.stored_text("credential");
    assert!(!stored.is_empty());
    for password in [first, second] {
        assert!(
            !stored.iter().any(|value| value.contains(password)),
            "a chosen password is stored in clear"
        );
        work.assert_not_in_state(password, "a chosen password");
    }

    // Import: `password_wo_version` is configuration, not remote state, so the imported state
    // has none and the plan sets it in place, which sends `password_wo` again (an update, no
    // replacement). After that apply the plan is empty.
    let project_id = goaddon_project(&service)["_id"]
        .as_str()
        .unwrap()
        .to_string();
    work.state_rm("dbaas_credential.app");
    work.import("dbaas_credential.app", &format!("{project_id}/writer"));
    work.assert_plan_changes(&[
        "+ password_wo_version = 2",
        "0 to add, 1 to change, 0 to destroy",
    ]);
    work.apply();
    assert!(verify(&service, "writer", second));
    work.assert_plan_empty();

    work.destroy();
    assert!(goaddon_users(&service).is_empty());
}

#[test]
fn goaddon_credential_role_on_another_database_is_refused_naming_roles() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    work.write(&config(
        &service,
        &credential("app", r#"["readWrite@other"]"#, ""),
    ));
    // The error names goaddon, the roles and the role to write instead.
    assert_stderr_says(
        &work.apply_fails(),
        &[
            "goaddon",
            "the API refused the value of `roles`",
            "readWrite@other",
            &format!("readWrite@{PROJECT}"),
        ],
    );
    assert!(goaddon_users(&service).is_empty(), "no user was created");
    let posted: Vec<_> = service
        .mutating_requests()
        .into_iter()
        .filter(|(_, path)| path.contains("database_users"))
        .collect();
    assert!(posted.is_empty(), "nothing was sent: {posted:?}");
}

#[test]
fn goaddon_collection_indexes_on_one_collection_in_one_apply_replace_import_destroy() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    let indexes = |company_direction: &str, email_unique: bool, imports: &str| {
        config(
            &service,
            &format!(
                r#"resource "dbaas_collection_index" "company" {{
  database_id = local.db.id
  collection  = "companies"
  keys        = [{{ field = "company_id" }}, {{ field = "foo", direction = "{company_direction}" }}]
}}

resource "dbaas_collection_index" "email" {{
  database_id = local.db.id
  collection  = "companies"
  name        = "company_email"
  keys        = [{{ field = "email" }}]
  unique      = {email_unique}
  sparse      = true
}}

resource "dbaas_collection_index" "tag" {{
  count       = 4
  database_id = local.db.id
  collection  = "companies"
  keys        = [{{ field = "tag_${{count.index}}" }}]
}}
{imports}"#
            ),
        )
    };
    let all_names = |company: &str| {
        let mut names = vec![
            company.to_string(),
            "company_email".to_string(),
            "tag_0_1".to_string(),
            "tag_1_1".to_string(),
            "tag_2_1".to_string(),
            "tag_3_1".to_string(),
        ];
        names.sort();
        names
    };

    // Six indexes on one collection, created in parallel by one apply: each is a
    // read-modify-write of the collection's `indexes`, and none is lost.
    work.write(&indexes("desc", true, ""));
    let output = work.apply();
    assert_stdout_says(&output, &["6 added, 0 changed, 0 destroyed"]);
    assert_eq!(
        goaddon_index_names(&service, "companies"),
        all_names("company_id_1_foo_-1")
    );
    let mut stored = all_names("company_id_1_foo_-1");
    stored.push("_id_".to_string());
    stored.sort();
    assert_eq!(native_indexes(&service, "companies"), stored);
    let project_id = goaddon_project(&service)["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let company = work.resource("dbaas_collection_index.company");
    assert_eq!(
        company["id"],
        format!("{project_id}/companies/company_id_1_foo_-1")
    );
    assert_eq!(company["name"], "company_id_1_foo_-1");
    assert_eq!(company["status"], "registered", "goaddon's status");
    assert_eq!(company["unique"], false);
    assert_eq!(company["sparse"], false);
    assert_eq!(
        company["keys"],
        json!([{"field": "company_id", "direction": null}, {"field": "foo", "direction": "desc"}])
    );
    let email = work.resource("dbaas_collection_index.email");
    assert_eq!(email["id"], format!("{project_id}/companies/company_email"));
    assert_eq!(email["unique"], true);
    assert_eq!(email["sparse"], true);
    let registered = goaddon_indexes(&service, "companies");
    let email_entry = registered
        .iter()
        .find(|i| i["options"]["name"] == "company_email")
        .unwrap();
    assert_eq!(email_entry["key"], json!({"email": 1}));
    assert_eq!(email_entry["options"]["unique"], true);
    assert_eq!(email_entry["options"]["sparse"], true);

    work.assert_plan_empty();

    // A key change replaces the index, under a new (default) name and so a new id; the other
    // indexes of the collection are untouched.
    work.write(&indexes("asc", true, ""));
    work.assert_plan_changes(&["must be replaced", "1 to add, 0 to change, 1 to destroy"]);
    work.apply();
    let replaced = work.resource("dbaas_collection_index.company");
    assert_eq!(
        replaced["id"],
        format!("{project_id}/companies/company_id_1_foo_1")
    );
    assert_ne!(replaced["id"], company["id"]);
    assert_eq!(
        goaddon_index_names(&service, "companies"),
        all_names("company_id_1_foo_1")
    );

    // An option change replaces an index that keeps its name: goaddon gets the new options.
    work.write(&indexes("asc", false, ""));
    work.assert_plan_changes(&["must be replaced"]);
    work.apply();
    assert_eq!(
        work.resource("dbaas_collection_index.email")["unique"],
        false
    );
    let email_entry = goaddon_indexes(&service, "companies")
        .into_iter()
        .find(|i| i["options"]["name"] == "company_email")
        .unwrap();
    assert_eq!(email_entry["options"]["unique"], false);
    work.assert_plan_empty();

    // Out of state, back in: one by `terraform import`, one by an `import {}` block.
    work.state_rm("dbaas_collection_index.company");
    work.state_rm("dbaas_collection_index.email");
    assert_eq!(
        goaddon_index_names(&service, "companies"),
        all_names("company_id_1_foo_1"),
        "state rm deletes nothing"
    );
    work.import(
        "dbaas_collection_index.company",
        &format!("{project_id}/companies/company_id_1_foo_1"),
    );
    let block = format!(
        "\nimport {{\n  to = dbaas_collection_index.email\n  id = \"{project_id}/companies/company_email\"\n}}\n"
    );
    work.write(&indexes("asc", false, &block));
    work.assert_plan_changes(&["1 to import, 0 to add, 0 to change, 0 to destroy"]);
    work.apply();
    assert_eq!(
        work.resource("dbaas_collection_index.email")["id"],
        format!("{project_id}/companies/company_email")
    );
    // An import knows only goaddon's spelling of the keys (every direction explicit); it means
    // the same as the configuration's omitted `asc`, so the plan below is empty.
    assert_eq!(
        work.resource("dbaas_collection_index.company")["keys"],
        json!([{"field": "company_id", "direction": "asc"}, {"field": "foo", "direction": "asc"}])
    );
    work.assert_plan_empty();

    let output = work.destroy();
    assert_stdout_says(&output, &["6 destroyed"]);
    assert!(goaddon_index_names(&service, "companies").is_empty());
    eventually("the store drops every index but _id_", || {
        native_indexes(&service, "companies") == ["_id_"]
    });
}

#[test]
fn goaddon_unsupported_types_fail_at_plan_naming_goaddon() {
    let service = LocalService::start_with_dialects(DELAY);
    let types = type_refusals("goaddon", "local.db.id");
    let settings = attribute_refusals(
        "goaddon",
        "dbaas_credential",
        "database_id = local.db.id\n  username = \"app\"",
        &[("password_reset", r#""1""#)],
    );
    assert_plans_refused(
        &service,
        Workspace::with_vendor_env,
        &config(&service, ""),
        types.into_iter().chain(settings),
    );
    assert!(
        service
            .requests()
            .iter()
            .any(|(_, path)| path.starts_with("/goaddon/")),
        "the plans reached the goaddon dialect"
    );
}

#[test]
fn goaddon_example_applies_plans_empty_and_destroys() {
    let service = LocalService::start_with_dialects(DELAY);
    let mut work = Workspace::with_example(&service, "goaddon", Dialect::Goaddon);
    let app_password = "Example-App-Pa55word-0123";
    work.env("TF_VAR_app_password", app_password);

    let output = work.apply();
    assert_stdout_says(&output, &["5 added, 0 changed, 0 destroyed"]);
    assert!(!text(&output).contains(app_password));
    let outputs = work.outputs();
    assert_eq!(outputs["database"]["value"], PROJECT);
    assert_eq!(outputs["node_count"]["value"], 1);
    let reporting_password = outputs["reporting_password"]["value"]
        .as_str()
        .expect("the generated password is an output")
        .to_string();

    assert!(verify(&service, "app", app_password));
    assert!(verify(&service, "reporting", &reporting_password));
    let mut users: Vec<_> = goaddon_users(&service)
        .iter()
        .map(|u| (u["username"].clone(), u["roles"].clone()))
        .collect();
    users.sort_by_key(|(name, _)| name.to_string());
    assert_eq!(
        users,
        vec![
            (json!("app"), json!(["readWrite"])),
            (json!("reporting"), json!(["read"])),
        ]
    );
    assert_eq!(
        goaddon_index_names(&service, "orders"),
        vec!["customer_id_1_created_at_-1", "order_reference"]
    );
    assert_eq!(goaddon_index_names(&service, "customers"), vec!["email_1"]);
    work.assert_not_in_state(app_password, "the app password");

    work.assert_plan_empty();

    work.destroy();
    assert!(goaddon_users(&service).is_empty());
    assert!(goaddon_index_names(&service, "orders").is_empty());
    assert!(goaddon_index_names(&service, "customers").is_empty());
}
