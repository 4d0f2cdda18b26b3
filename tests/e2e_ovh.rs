//! The provider against OVHcloud's API, as served by dbaas-local's OVH dialect: signed requests,
//! OVH's statuses and errors, and the same scenarios as against the native API.

mod support;

use std::time::Duration;

use support::{LocalService, Workspace, assert_plans_refused, text};

const DELAY: Duration = Duration::from_millis(300);

fn ovh_workspace(service: &LocalService) -> Workspace {
    let mut work = Workspace::new(service);
    work.ovh_env();
    work
}

fn database(service: &LocalService, flavor: &str, region: &str) -> String {
    format!(
        r#"{}
resource "dbaas_database" "client" {{
  name       = "client-acme"
  plan       = "essential"
  flavor     = "{flavor}"
  region     = "{region}"
  node_count = 1
}}
"#,
        service.ovh_provider_block("")
    )
}

/// Databases as the native API lists them: the OVH dialect works over the same store.
fn native_databases(service: &LocalService) -> Vec<String> {
    service
        .databases()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ovh_database_lifecycle_update_replace_import_destroy() {
    let service = LocalService::start_with_ovh(DELAY);
    let work = ovh_workspace(&service);

    work.write(&database(&service, "db1-4", "GRA"));
    work.apply();
    let created = work.resource("dbaas_database.client");
    assert_eq!(created["status"], "READY", "{created}");
    let first_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(first_id.len(), 36, "OVH ids are UUIDs: {first_id}");
    assert_eq!(created["region"], "GRA");
    assert_eq!(created["node_count"], 1);
    assert!(
        created["endpoint"]
            .as_str()
            .is_some_and(|e| e.starts_with("mongodb")),
        "{created}"
    );
    assert_eq!(native_databases(&service), vec!["client-acme"]);

    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Flavor changes in place.
    work.write(&database(&service, "db1-7", "GRA"));
    work.apply();
    let updated = work.resource("dbaas_database.client");
    assert_eq!(updated["id"], first_id.as_str());
    assert_eq!(updated["flavor"], "db1-7");
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Region replaces.
    work.write(&database(&service, "db1-7", "DE"));
    work.apply();
    let replaced = work.resource("dbaas_database.client");
    let second_id = replaced["id"].as_str().unwrap().to_string();
    assert_ne!(second_id, first_id);
    assert_eq!(native_databases(&service), vec!["client-acme"]);

    let imported = ovh_workspace(&service);
    imported.write(&database(&service, "db1-7", "DE"));
    imported.ok(&["import", "-no-color", "dbaas_database.client", &second_id]);
    let (code, output) = imported.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    work.destroy();
    assert!(native_databases(&service).is_empty());
}

#[test]
fn ovh_credential_generated_password_rotation_import_destroy() {
    let service = LocalService::start_with_ovh(DELAY);
    let work = ovh_workspace(&service);
    // `password_reset` is a trigger, not remote state: an import cannot know it, and setting it
    // on an imported user rotates the password (as documented). The import below uses a
    // configuration without it.
    let user = |roles: &str, reset: &str| {
        let reset = if reset.is_empty() {
            String::new()
        } else {
            format!("password_reset = \"{reset}\"")
        };
        format!(
            r#"{}
resource "dbaas_database" "client" {{
  name       = "client-users"
  plan       = "essential"
  flavor     = "db1-4"
  region     = "GRA"
  node_count = 1
}}

resource "dbaas_credential" "app" {{
  database_id    = dbaas_database.client.id
  username       = "app"
  roles          = {roles}
  {reset}
}}
"#,
            service.ovh_provider_block("")
        )
    };
    work.write(&user(r#"["readWrite@orders"]"#, "1"));
    work.apply();
    let created = work.resource("dbaas_credential.app");
    assert_eq!(
        created["username"], "app",
        "OVH's name@admin is mapped back"
    );
    assert_eq!(created["status"], "READY");
    let password = created["password"].as_str().unwrap().to_string();
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    work.write(&user(r#"["readWrite@orders", "read@reporting"]"#, "2"));
    work.apply();
    let rotated = work.resource("dbaas_credential.app");
    assert_eq!(rotated["roles"].as_array().unwrap().len(), 2);
    assert_ne!(
        rotated["password"],
        password.as_str(),
        "password_reset rotated it"
    );

    let db = work.resource("dbaas_database.client")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let imported = ovh_workspace(&service);
    imported.write(&user(r#"["readWrite@orders", "read@reporting"]"#, ""));
    imported.ok(&["import", "-no-color", "dbaas_database.client", &db]);
    imported.ok(&[
        "import",
        "-no-color",
        "dbaas_credential.app",
        &format!("{db}/app"),
    ]);
    let (code, output) = imported.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    work.destroy();
    assert!(native_databases(&service).is_empty());
}

#[test]
fn ovh_unsupported_settings_fail_at_plan_naming_the_api() {
    let service = LocalService::start_with_ovh(DELAY);
    let cases = [
        (
            r#"resource "dbaas_collection_index" "x" {
  database_id = "00000000-0000-0000-0000-000000000000"
  collection  = "orders"
  keys        = [{ field = "email" }]
}"#,
            "dbaas_collection_index is not offered by the ovh API",
        ),
        (
            r#"resource "dbaas_credential" "x" {
  database_id         = "00000000-0000-0000-0000-000000000000"
  username            = "app"
  password_wo         = "a-chosen-password-123"
  password_wo_version = 1
}"#,
            "password_wo of dbaas_credential is not supported by the ovh API",
        ),
        (
            r#"resource "dbaas_database" "x" {
  name        = "client-x"
  description = "free text"
}"#,
            "description of dbaas_database is not supported by the ovh API",
        ),
    ];
    assert_plans_refused(
        &service,
        ovh_workspace,
        &service.ovh_provider_block(""),
        cases,
    );
}

#[test]
fn ovh_wrong_secret_is_refused_with_ovh_message() {
    let service = LocalService::start_with_ovh(DELAY);
    let mut work = Workspace::new(&service);
    work.env("OVH_APPLICATION_SECRET", "not-the-secret");
    work.env("OVH_CONSUMER_KEY", support::OVH_CONSUMER_KEY);
    work.write(&database(&service, "db1-4", "GRA"));
    let output = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Invalid signature") || stderr.contains("INVALID_SIGNATURE"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-secret"), "the secret leaked");
    assert!(native_databases(&service).is_empty());
}

fn fifty_restrictions(service: &LocalService, mode: &str) {
    let work = ovh_workspace(service);
    work.write(&format!(
        r#"{}
resource "dbaas_database" "client" {{
  name       = "client-fifty"
  plan       = "essential"
  flavor     = "db1-4"
  region     = "GRA"
  node_count = 1
}}

resource "dbaas_ip_restriction" "ci" {{
  count       = 50
  database_id = dbaas_database.client.id
  cidr        = "10.2.${{count.index}}.0/24"
  description = "runner ${{count.index}}"
}}
"#,
        service.ovh_provider_block(&format!("ip_restriction_api = \"{mode}\""))
    ));
    let output = work.apply();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("51 added, 0 changed, 0 destroyed"),
        "{}",
        text(&output)
    );
    let db = work.resource("dbaas_database.client")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        work.resource("dbaas_ip_restriction.ci[49]")["status"],
        "READY"
    );
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));
    let output = work.destroy();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("51 destroyed"),
        "{}",
        text(&output)
    );
    assert!(
        native_databases(service).is_empty(),
        "database {db} is gone"
    );
}

#[test]
fn ovh_fifty_ip_restrictions_in_one_apply_service_list() {
    fifty_restrictions(
        &LocalService::start_with_ovh(Duration::from_millis(50)),
        "service",
    );
}

#[test]
fn ovh_fifty_ip_restrictions_in_one_apply_legacy_endpoints() {
    fifty_restrictions(
        &LocalService::start_with_ovh(Duration::from_millis(50)),
        "legacy",
    );
}
