//! `dbaas_ip_restriction` end to end, including 50 restrictions on one database in one run while
//! the service marks the database busy after every change.

mod support;

use std::time::Duration;

use support::{LocalService, Workspace, text};

fn restrictions(service: &LocalService, db: &str) -> Vec<String> {
    let (status, body) = service.call("GET", &format!("/v1/databases/{db}/ip-restrictions"), None);
    assert_eq!(status, 200, "{body}");
    body["ip_restrictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cidr"].as_str().unwrap().to_string())
        .collect()
}

fn one(db: &str, cidr: &str, description: &str) -> String {
    format!(
        r#"
provider "dbaas" {{}}

resource "dbaas_ip_restriction" "office" {{
  database_id = "{db}"
  cidr        = "{cidr}"
  description = "{description}"
}}
"#
    )
}

#[test]
fn ip_restriction_lifecycle_update_replace_import_destroy() {
    let service = LocalService::start(Duration::from_millis(200));
    let db = service.ready_database("client-network");
    let work = Workspace::new(&service);

    work.write(&one(&db, "192.0.2.7", "office"));
    work.apply();
    let created = work.resource("dbaas_ip_restriction.office");
    assert_eq!(created["cidr"], "192.0.2.7", "the user's spelling is kept");
    assert_eq!(created["id"], format!("{db}/192.0.2.7/32"));
    assert_eq!(restrictions(&service, &db), vec!["192.0.2.7/32"]);
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Writing the same network in canonical form is no change.
    work.write(&one(&db, "192.0.2.7/32", "office"));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Description in place.
    work.write(&one(&db, "192.0.2.7/32", "head office"));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 to change"),
        "{}",
        text(&output)
    );
    work.apply();
    assert_eq!(
        work.resource("dbaas_ip_restriction.office")["description"],
        "head office"
    );

    // Another network replaces it.
    work.write(&one(&db, "2001:DB8::/48", "head office"));
    work.apply();
    assert_eq!(restrictions(&service, &db), vec!["2001:db8::/48"]);

    // Import by `<database_id>/<cidr>`.
    let imported = Workspace::new(&service);
    imported.write(&one(&db, "2001:db8::/48", "head office"));
    imported.ok(&[
        "import",
        "-no-color",
        "dbaas_ip_restriction.office",
        &format!("{db}/2001:db8::/48"),
    ]);
    let (code, output) = imported.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // A duplicate is an error that says so, not a silent adoption.
    let twin = Workspace::new(&service);
    twin.write(&one(&db, "2001:db8::/48", "twin"));
    let output = twin.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already allowed") && stderr.contains("terraform import"),
        "{stderr}"
    );

    work.destroy();
    assert!(restrictions(&service, &db).is_empty());
}

#[test]
fn ip_restriction_parallel_creates_on_one_database() {
    let service = LocalService::start(Duration::from_millis(50));
    let db = service.ready_database("client-fifty");
    let work = Workspace::new(&service);
    work.write(&format!(
        r#"
provider "dbaas" {{}}

resource "dbaas_ip_restriction" "ci" {{
  count       = 50
  database_id = "{db}"
  cidr        = "10.1.${{count.index}}.0/24"
  description = "runner ${{count.index}}"
}}
"#
    ));
    // Terraform's default parallelism (10) against a database that is busy after each change.
    let output = work.apply();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("50 added, 0 changed, 0 destroyed"),
        "{}",
        text(&output)
    );
    assert_eq!(restrictions(&service, &db).len(), 50);
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    let output = work.destroy();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("50 destroyed"),
        "{}",
        text(&output)
    );
    assert!(restrictions(&service, &db).is_empty());
}
