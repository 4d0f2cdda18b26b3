//! `dbaas_database` end to end: the real Terraform binary, the freshly built provider, and a
//! dbaas-local service of the test's own.

mod support;

use std::time::Duration;

use support::{LocalService, Workspace, text};

const DELAY: Duration = Duration::from_millis(300);

fn database(plan: &str, region: &str) -> String {
    format!(
        r#"
provider "dbaas" {{}}

resource "dbaas_database" "client" {{
  name        = "client-acme"
  plan        = "{plan}"
  region      = "{region}"
  description = "Database of client acme"
}}
"#
    )
}

#[test]
fn database_lifecycle_create_update_replace_import_destroy() {
    let service = LocalService::start(DELAY);
    let work = Workspace::new(&service);

    // Create: waits until READY.
    work.write(&database("essential", "eu-west-1"));
    work.apply();
    let created = work.resource("dbaas_database.client");
    assert_eq!(created["status"], "READY", "{created}");
    assert_eq!(created["engine"], "mongodb");
    assert_eq!(created["version"], "8.0", "the engine's default version");
    let first_id = created["id"].as_str().expect("id").to_string();
    assert!(first_id.starts_with("db-"), "{first_id}");
    assert!(
        created["endpoint"]
            .as_str()
            .is_some_and(|e| e.starts_with("mongodb://")),
        "{created}"
    );

    // No change planned for the same configuration.
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "a second plan must be empty:\n{}", text(&output));

    // Plan changes in place: same id.
    work.write(&database("business", "eu-west-1"));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2, "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 to change, 0 to destroy"),
        "{}",
        text(&output)
    );
    work.apply();
    let updated = work.resource("dbaas_database.client");
    assert_eq!(updated["id"], first_id.as_str());
    assert_eq!(updated["plan"], "business");
    assert_eq!(updated["status"], "READY");
    let (status, remote) = service.call("GET", &format!("/v1/databases/{first_id}"), None);
    assert_eq!(status, 200);
    assert_eq!(remote["plan"], "business");

    // Region replaces: a new id, and the old database is gone from the service.
    work.write(&database("business", "us-east-1"));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("must be replaced"),
        "{}",
        text(&output)
    );
    work.apply();
    let replaced = work.resource("dbaas_database.client");
    let second_id = replaced["id"].as_str().unwrap().to_string();
    assert_ne!(second_id, first_id);
    assert_eq!(replaced["region"], "us-east-1");
    let remaining: Vec<_> = service
        .databases()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(remaining, vec![second_id.clone()]);

    // Import into an empty state with `terraform import`: the plan is then empty.
    let imported = Workspace::new(&service);
    imported.write(&database("business", "us-east-1"));
    imported.ok(&["import", "-no-color", "dbaas_database.client", &second_id]);
    let (code, output) = imported.plan_exit_code();
    assert_eq!(
        code,
        0,
        "plan after import must be empty:\n{}",
        text(&output)
    );

    // Destroy: nothing left in the service.
    work.destroy();
    assert!(service.databases().is_empty(), "{:?}", service.databases());
}

#[test]
fn database_import_blocks_by_id_and_by_identity() {
    let service = LocalService::start(DELAY);
    let (status, created) = service.call(
        "POST",
        "/v1/databases",
        Some(serde_json::json!({"name": "client-imported", "plan": "essential", "region": "eu-west-1"})),
    );
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_string();

    for import in [
        format!("import {{\n  to = dbaas_database.client\n  id = \"{id}\"\n}}"),
        format!(
            "import {{\n  to       = dbaas_database.client\n  identity = {{ id = \"{id}\" }}\n}}"
        ),
    ] {
        let work = Workspace::new(&service);
        work.write(&format!(
            r#"
{import}

resource "dbaas_database" "client" {{
  name   = "client-imported"
  plan   = "essential"
  region = "eu-west-1"
}}
"#
        ));
        let output = work.apply();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("1 imported, 0 added, 0 changed, 0 destroyed"),
            "{}",
            text(&output)
        );
        assert_eq!(work.resource("dbaas_database.client")["id"], id.as_str());
        let (code, output) = work.plan_exit_code();
        assert_eq!(code, 0, "{}", text(&output));
    }
}

#[test]
fn database_deleted_behind_terraforms_back_is_planned_again() {
    let service = LocalService::start(Duration::ZERO);
    let work = Workspace::new(&service);
    work.write(&database("essential", "eu-west-1"));
    work.apply();
    let id = work.resource("dbaas_database.client")["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, _) = service.call("DELETE", &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 202);
    // Deletion finishes in the service's own lifecycle; wait until it is gone.
    for _ in 0..100 {
        if service.databases().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2, "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("will be created")
            && stdout.contains("1 to add, 0 to change, 0 to destroy"),
        "{}",
        text(&output)
    );
}

#[test]
fn database_invalid_settings_fail_at_plan_time_without_mutating_requests() {
    let service = LocalService::start(Duration::ZERO);
    let cases = [
        (r#"name = "Client_ACME""#, "name"),
        (
            r#"name = "ok-name"
  plan = "gigantic""#,
            "plan",
        ),
        (
            r#"name = "ok-name"
  region = "mars-1""#,
            "region",
        ),
        (
            r#"name = "ok-name"
  engine = "oracle""#,
            "engine",
        ),
        (
            r#"name = "ok-name"
  timeouts {
    create = "soon"
  }"#,
            "timeouts.create",
        ),
    ];
    for (body, attribute) in cases {
        let work = Workspace::new(&service);
        work.write(&format!(
            "provider \"dbaas\" {{}}\n\nresource \"dbaas_database\" \"bad\" {{\n  {body}\n}}\n"
        ));
        let output = work.run(&["plan", "-input=false", "-no-color"]);
        assert!(!output.status.success(), "plan must fail for {attribute}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("with dbaas_database.bad") && stderr.contains(attribute),
            "the error must name {attribute}:\n{}",
            text(&output)
        );
    }
    let mutating: Vec<_> = service
        .requests()
        .into_iter()
        .filter(|(method, path)| method != "GET" && !path.starts_with("/v1/_admin"))
        .collect();
    assert!(
        mutating.is_empty(),
        "no request may change anything: {mutating:?}"
    );
    assert!(service.databases().is_empty());
}

#[test]
fn database_create_interrupted_by_sigterm_is_kept_in_state() {
    // A long provisioning delay: the create is still waiting when the run is cancelled.
    let service = LocalService::start(Duration::from_secs(600));
    let work = Workspace::new(&service);
    work.write(&database("essential", "eu-west-1"));
    let terraform = work.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);

    // Cancel the way a CI runner does once the API has accepted the create: SIGTERM to the
    // whole process group, Terraform and the provider alike.
    let mut accepted = false;
    for _ in 0..600 {
        if !service.databases().is_empty() {
            accepted = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(accepted, "the create never reached the service");
    let group = format!("-{}", terraform.id());
    let killed = std::process::Command::new("kill")
        .args(["-TERM", "--", &group])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let output = terraform.wait_with_output().expect("terraform ends");
    assert!(!output.status.success(), "an interrupted apply fails");

    let id = service.databases()[0]["id"].as_str().unwrap().to_string();
    assert!(
        work.state_file().contains(&id),
        "the database the API created must be in the state, not orphaned:\n{}",
        text(&output)
    );
    assert!(
        text(&output).contains("Interrupted Before Ready"),
        "{}",
        text(&output)
    );
    // Recorded, not failed: Terraform does not taint it, so the next apply waits, not replaces.
    assert!(
        !work.state_file().contains("\"tainted\""),
        "{}",
        work.state_file()
    );
}

/// The token can come from a file, as dbaas-local saves it in its data dir: `token_file` (or
/// `DBAAS_TOKEN_FILE`) when no `token` is set; a wrong one is the service's 401, and the file's
/// contents are in no message.
#[test]
fn database_provider_reads_the_token_from_token_file() {
    let service = LocalService::start(Duration::ZERO);
    let mut work = Workspace::new(&service);
    work.env("DBAAS_TOKEN", "");
    let file = work.path().join("dbaas-token");
    std::fs::write(&file, format!("{}\n", support::TOKEN)).unwrap();
    work.write(&format!(
        "provider \"dbaas\" {{\n  local {{\n    endpoint   = \"{}\"\n    token_file = \"{}\"\n  }}\n}}\n\n\
         resource \"dbaas_database\" \"client\" {{\n  name = \"from-file\"\n}}\n",
        service.base_url(),
        file.display()
    ));
    work.apply();
    assert_eq!(work.resource("dbaas_database.client")["status"], "READY");

    std::fs::write(&file, "not-the-token-but-a-secret-all-the-same\n").unwrap();
    let refused = text(&work.fails(&["plan", "-input=false", "-no-color", "-refresh=true"]));
    assert!(refused.contains("rejected the credentials"), "{refused}");
    assert!(
        !refused.contains("not-the-token"),
        "file contents shown:\n{refused}"
    );
}
