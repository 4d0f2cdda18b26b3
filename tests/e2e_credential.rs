//! `dbaas_credential` end to end: generated passwords in state, write-only passwords that never
//! reach plan or state, and the ephemeral resource.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{LocalService, Workspace, text};

const DELAY: Duration = Duration::from_millis(200);

fn credentials(service: &LocalService, db: &str) -> Vec<serde_json::Value> {
    let (status, body) = service.call("GET", &format!("/v1/databases/{db}/credentials"), None);
    assert_eq!(status, 200, "{body}");
    body["credentials"].as_array().cloned().unwrap_or_default()
}

fn verify(service: &LocalService, db: &str, username: &str, password: &str) -> bool {
    let (status, body) = service.call(
        "POST",
        &format!("/v1/databases/{db}/credentials/{username}/verify"),
        Some(json!({ "password": password })),
    );
    assert_eq!(status, 200, "{body}");
    body["valid"] == true
}

fn user(db: &str, username: &str, extra: &str) -> String {
    format!(
        r#"
provider "dbaas" {{}}

resource "dbaas_credential" "app" {{
  database_id = "{db}"
  username    = "{username}"
  {extra}
}}
"#
    )
}

#[test]
fn credential_lifecycle_generated_password_rotation_import_destroy() {
    let service = LocalService::start(DELAY);
    let db = service.ready_database("client-users");
    let work = Workspace::new(&service);

    work.write(&user(&db, "app", r#"roles = ["readWrite@orders"]"#));
    work.apply();
    let created = work.resource("dbaas_credential.app");
    assert_eq!(created["status"], "READY");
    assert_eq!(created["id"], format!("{db}/app"));
    let password = created["password"]
        .as_str()
        .expect("a generated password")
        .to_string();
    assert!(
        verify(&service, &db, "app", &password),
        "the stored password works"
    );

    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Roles change in place; the password stays.
    work.write(&user(
        &db,
        "app",
        r#"roles = ["readWrite@orders", "read@reporting"]"#,
    ));
    work.apply();
    let updated = work.resource("dbaas_credential.app");
    assert_eq!(
        updated["roles"],
        json!(["readWrite@orders", "read@reporting"])
    );
    assert_eq!(updated["password"], password.as_str());
    assert_eq!(credentials(&service, &db)[0]["roles"], updated["roles"]);

    // password_reset rotates the password, and state holds the new one.
    work.write(&user(
        &db,
        "app",
        "roles = [\"readWrite@orders\", \"read@reporting\"]\n  password_reset = \"2026-11\"",
    ));
    work.apply();
    let rotated = work.resource("dbaas_credential.app");
    let new_password = rotated["password"].as_str().unwrap().to_string();
    assert_ne!(new_password, password);
    assert!(verify(&service, &db, "app", &new_password));
    assert!(!verify(&service, &db, "app", &password));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // A new username replaces the user.
    work.write(&user(&db, "app2", r#"roles = ["readWrite@orders"]"#));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&output.stdout).contains("must be replaced"));
    work.apply();
    let names: Vec<_> = credentials(&service, &db)
        .iter()
        .map(|c| c["username"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["app2"]);

    // Import by `<database_id>/<username>`: the plan is then empty.
    let imported = Workspace::new(&service);
    imported.write(&user(&db, "app2", r#"roles = ["readWrite@orders"]"#));
    imported.ok(&[
        "import",
        "-no-color",
        "dbaas_credential.app",
        &format!("{db}/app2"),
    ]);
    let (code, output) = imported.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    work.destroy();
    assert!(credentials(&service, &db).is_empty());
}

#[test]
fn credential_write_only_password_never_reaches_state() {
    let service = LocalService::start(DELAY);
    let db = service.ready_database("client-wo");
    let work = Workspace::new(&service);
    let chosen = "Chosen-Pa55word-never-stored";
    work.write(&user(
        &db,
        "writer",
        &format!("password_wo = \"{chosen}\"\n  password_wo_version = 1"),
    ));
    work.apply();
    assert!(
        verify(&service, &db, "writer", chosen),
        "the password reached the API"
    );
    let state = work.resource("dbaas_credential.app");
    assert!(state["password"].is_null(), "{state}");

    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // A new version sends a new password.
    let second = "Second-Chosen-Pa55word";
    work.write(&user(
        &db,
        "writer",
        &format!("password_wo = \"{second}\"\n  password_wo_version = 2"),
    ));
    work.apply();
    assert!(verify(&service, &db, "writer", second));
    assert!(!verify(&service, &db, "writer", chosen));

    // What the service stores for this user but never shows through its API is secret: the
    // password hash and its salt.
    let (_, public) = service.call(
        "GET",
        &format!("/v1/databases/{db}/credentials/writer"),
        None,
    );
    let public = public.to_string();
    let secrets: Vec<String> = service
        .stored_text("credential")
        .into_iter()
        .filter(|value| value.len() >= 16 && !public.contains(value.as_str()))
        .chain([chosen.to_string(), second.to_string()])
        .collect();
    assert!(
        secrets.len() > 2,
        "the stored hash was found: {}",
        secrets.len()
    );
    let state_file = work.state_file();
    let shown = String::from_utf8_lossy(&work.ok(&["show", "-json"]).stdout).into_owned();
    for secret in &secrets {
        assert!(
            !state_file.contains(secret),
            "a password or its hash is in terraform.tfstate"
        );
        assert!(
            !shown.contains(secret),
            "a password or its hash is in terraform show -json"
        );
    }
}

#[test]
fn credential_ephemeral_password_feeds_a_write_only_password_and_stays_out_of_state() {
    let service = LocalService::start(DELAY);
    let db = service.ready_database("client-eph");
    // A user made outside Terraform, with a password the API generated.
    let source_password = service.ready_credential(&db, "source");

    let work = Workspace::new(&service);
    work.write(&format!(
        r#"
provider "dbaas" {{}}

ephemeral "dbaas_credential" "source" {{
  database_id = "{db}"
  username    = "source"
}}

resource "dbaas_credential" "copy" {{
  database_id         = "{db}"
  username            = "copy"
  password_wo         = ephemeral.dbaas_credential.source.password
  password_wo_version = 1
}}
"#
    ));
    let output = work.apply();
    assert!(
        verify(&service, &db, "copy", &source_password),
        "the ephemeral password reached the new user:\n{}",
        text(&output)
    );
    let shown = String::from_utf8_lossy(&work.ok(&["show", "-json"]).stdout).into_owned();
    assert!(!work.state_file().contains(&source_password));
    assert!(!shown.contains(&source_password));
    assert!(!text(&output).contains(&source_password));
}

/// Terraform's refinements of unknown values (msgpack extension 12) survive the provider: a
/// username known to start with `app-` keeps that through the plan, and the planned id says it
/// starts with `<database>/app-`, so expressions over both are known before apply. Without the
/// refinements each output would be "known after apply".
#[test]
fn plan_keeps_what_terraform_knows_of_unknown_values() {
    let service = LocalService::start(DELAY);
    let db = service.ready_database("client-refined");
    let work = Workspace::new(&service);
    work.write(&format!(
        r#"
provider "dbaas" {{}}

resource "terraform_data" "suffix" {{
  input = "7"
}}

resource "dbaas_credential" "app" {{
  database_id = "{db}"
  username    = "app-${{terraform_data.suffix.output}}"
}}

resource "dbaas_database" "other" {{
  name = "client-refined-${{terraform_data.suffix.output}}"
  plan = "essential"
}}

output "username_is_prefixed" {{
  value = startswith(dbaas_credential.app.username, "app-")
}}

output "id_is_prefixed" {{
  value = startswith(dbaas_credential.app.id, "{db}/app-")
}}

output "database_has_id" {{
  value = dbaas_database.other.id != null
}}
"#
    ));
    work.ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let plan: serde_json::Value =
        serde_json::from_slice(&work.ok(&["show", "-json", "tfplan"]).stdout).unwrap();
    let planned = &plan["planned_values"]["outputs"];
    let after_unknown = &plan["output_changes"];
    for name in ["username_is_prefixed", "id_is_prefixed", "database_has_id"] {
        assert_eq!(
            planned[name]["value"], true,
            "{name} is known at plan time: {}",
            after_unknown[name]
        );
    }
    // The refinements the provider planned hold after apply, or Terraform would refuse the
    // result as inconsistent with the plan.
    work.ok(&["apply", "-input=false", "-no-color", "tfplan"]);
    assert_eq!(
        work.resource("dbaas_credential.app")["id"],
        format!("{db}/app-7")
    );
    work.destroy();
}
