//! Nothing lost under faults, end to end: dbaas-local injects a fault into one create (the work
//! done and the reply lost, the work done and a 5xx sent, the connection reset before any work),
//! the real Terraform applies, and then at most one more apply must converge to a service that
//! holds exactly what the state holds: no orphan, no duplicate, nothing replaced, no secret in
//! the trace log. Also: Ctrl-C while databases are still provisioning, then an apply that waits
//! instead of replacing.
//!
//! `make test` runs the reduced matrix below; `make faults` sets `DBAAS_FAULTS_FULL=1`, which
//! widens it (more clients per apply, every fault on every create) and prints one table.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{LocalService, Workspace, text};

const DELAY: Duration = Duration::from_millis(200);

/// The four creates a fault can hit.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Database,
    Credential,
    Index,
    IpRestriction,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::Database,
        Kind::Credential,
        Kind::Index,
        Kind::IpRestriction,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Database => "database",
            Kind::Credential => "credential",
            Kind::Index => "index",
            Kind::IpRestriction => "ip_restriction",
        }
    }

    /// The create's path on the native API, for a database id (children) or none.
    fn create_path(self, database_id: &str) -> String {
        match self {
            Kind::Database => "/v1/databases".to_string(),
            Kind::Credential => format!("/v1/databases/{database_id}/credentials"),
            Kind::Index => format!("/v1/databases/{database_id}/collections/orders/indexes"),
            Kind::IpRestriction => format!("/v1/databases/{database_id}/ip-restrictions"),
        }
    }
}

/// The faults of the matrix: (label, fault fields).
fn faults() -> Vec<(&'static str, Json)> {
    vec![
        ("lost reply", json!({"when": "after", "action": "drop"})),
        (
            "502 after work",
            json!({"when": "after", "action": "status", "status": 502}),
        ),
        (
            "500 after work",
            json!({"when": "after", "action": "status", "status": 500}),
        ),
        (
            "reset before work",
            json!({"when": "before", "action": "drop"}),
        ),
        (
            "503 before work",
            json!({"when": "before", "action": "status", "status": 503}),
        ),
    ]
}

/// `clients` clients, each with a database, a user, an index and an IP restriction; with
/// `children = false`, the databases alone.
fn configuration(clients: usize, children: bool) -> String {
    let mut text = String::from("provider \"dbaas\" {\n  poll_interval = \"200ms\"\n}\n");
    for client in 0..clients {
        write!(
            text,
            r#"
resource "dbaas_database" "c{client}" {{
  name = "client-{client}"
}}
"#
        )
        .unwrap();
        if !children {
            continue;
        }
        write!(
            text,
            r#"
resource "dbaas_credential" "c{client}" {{
  database_id = dbaas_database.c{client}.id
  username    = "app"
  roles       = ["readWrite@client-{client}"]
}}

resource "dbaas_collection_index" "c{client}" {{
  database_id = dbaas_database.c{client}.id
  collection  = "orders"
  keys        = [{{ field = "customer", direction = "asc" }}]
}}

resource "dbaas_ip_restriction" "c{client}" {{
  database_id = dbaas_database.c{client}.id
  cidr        = "10.{client}.0.0/16"
  description = "office of client {client}"
}}
"#
        )
        .unwrap();
    }
    text
}

/// What one case found.
struct Outcome {
    /// Whether the faulty apply itself succeeded (an adoption) or failed (settled next apply).
    first_apply_ok: bool,
    /// Applies until the plan was empty (1 or 2).
    applies: usize,
}

/// The objects of one kind the service holds, as state-comparable ids.
fn service_ids(service: &LocalService, kind: Kind, database_ids: &[String]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for db in database_ids {
        match kind {
            Kind::Database => {
                ids.insert(db.clone());
            }
            Kind::Credential => {
                for credential in service.credentials(db) {
                    ids.insert(format!("{db}/{}", credential["username"].as_str().unwrap()));
                }
            }
            Kind::Index => {
                for name in service.index_names(db, "orders") {
                    if name != "_id_" {
                        ids.insert(format!("{db}/orders/{name}"));
                    }
                }
            }
            Kind::IpRestriction => {
                let (status, body) =
                    service.call("GET", &format!("/v1/databases/{db}/ip-restrictions"), None);
                assert_eq!(status, 200, "{body}");
                for restriction in body["ip_restrictions"].as_array().unwrap() {
                    ids.insert(format!("{db}/{}", restriction["cidr"].as_str().unwrap()));
                }
            }
        }
    }
    ids
}

fn state_ids(work: &Workspace, kind: Kind) -> BTreeSet<String> {
    let resource_type = format!("dbaas_{}", kind.name());
    let resource_type = if matches!(kind, Kind::Index) {
        "dbaas_collection_index".to_string()
    } else {
        resource_type
    };
    let show = work.show();
    show["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|resource| resource["type"] == resource_type.as_str())
        .map(|resource| resource["values"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// Runs one fault against `kind`'s create in an apply of `clients` clients and checks every
/// invariant; panics with the evidence when one breaks.
fn run_case(kind: Kind, label: &str, fault: &Json, clients: usize) -> Outcome {
    let service = LocalService::start(DELAY);
    let mut work = Workspace::new(&service);
    let trace = work.path().join("trace.log");
    work.env("TF_LOG", "trace");
    work.env("TF_LOG_PATH", trace.to_str().unwrap());

    let mut fault = fault.clone();
    match kind {
        // The second database create is hit, so other creates run around it.
        Kind::Database => {
            work.write(&configuration(clients, true));
            fault["skip"] = json!(1);
            fault["path_prefix"] = json!(kind.create_path(""));
        }
        // Children: their database exists first, so the fault names its path.
        _ => {
            work.write(&configuration(clients, false));
            work.apply();
            let db = service.database_id("client-1");
            fault["path_prefix"] = json!(kind.create_path(&db));
            work.write(&configuration(clients, true));
        }
    }
    fault["method"] = json!("POST");
    fault["count"] = json!(1);
    let (status, body) = service.call("POST", "/v1/_admin/faults", Some(fault.clone()));
    assert_eq!(status, 200, "arming {fault}: {body}");

    let first = work.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let (_, pending) = service.call("GET", "/v1/_admin/faults", None);
    assert_eq!(
        pending["faults"].as_array().map(Vec::len),
        Some(0),
        "{kind:?} / {label}: the fault never fired: {pending}\n{}",
        text(&first)
    );
    let first_apply_ok = first.status.success();
    let mut applies = 1;
    if !first_apply_ok {
        applies += 1;
        let second = work.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert!(
            second.status.success(),
            "{kind:?} / {label}: the apply after the fault must converge.\nfirst:\n{}\nsecond:\n{}",
            text(&first),
            text(&second)
        );
    }
    let (code, plan) = work.plan_exit_code();
    assert_eq!(
        code,
        0,
        "{kind:?} / {label}: the plan after convergence must be empty:\n{}",
        text(&plan)
    );

    // The service holds exactly what the state holds, kind by kind.
    let database_ids: Vec<String> = state_ids(&work, Kind::Database).into_iter().collect();
    assert_eq!(database_ids.len(), clients, "{kind:?} / {label}");
    assert_eq!(
        service.databases().len(),
        clients,
        "{kind:?} / {label}: no duplicate database"
    );
    for each in Kind::ALL {
        assert_eq!(
            service_ids(&service, each, &database_ids),
            state_ids(&work, each),
            "{kind:?} / {label}: {each:?} objects in the service and in the state differ \
             (an orphan or a lost state entry)\nfirst apply:\n{}",
            text(&first)
        );
    }
    // Nothing was replaced: no delete reached the service.
    let deletes: Vec<_> = service
        .provider_requests()
        .into_iter()
        .filter(|(method, _)| method == "DELETE")
        .collect();
    assert!(
        deletes.is_empty(),
        "{kind:?} / {label}: replaced: {deletes:?}"
    );
    // No secret in any log: the generated passwords and the token.
    let log = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(log.len() > 1000, "the trace log was written");
    let show = work.show();
    for resource in show["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
    {
        if let Some(password) = resource["values"]["password"].as_str() {
            for (what, haystack) in [("trace log", log.as_str()), ("first apply", &text(&first))] {
                assert!(
                    !haystack.contains(password),
                    "{kind:?} / {label}: a password appears in the {what}"
                );
            }
        }
    }
    assert!(
        !log.contains(support::TOKEN),
        "the token appears in the trace log"
    );

    work.destroy();
    assert!(
        service.databases().is_empty(),
        "{kind:?} / {label}: destroy left databases"
    );
    Outcome {
        first_apply_ok,
        applies,
    }
}

/// The matrix: every fault on every create. Full with `DBAAS_FAULTS_FULL=1` (13 clients = 52
/// resources per apply); reduced otherwise (3 clients, the faults that lose data).
#[test]
fn faults_on_every_create_lose_nothing() {
    let full = std::env::var("DBAAS_FAULTS_FULL").is_ok_and(|v| v == "1");
    let clients = if full { 13 } else { 3 };
    let faults = faults();
    let chosen: Vec<&(&str, Json)> = if full {
        faults.iter().collect()
    } else {
        faults.iter().take(3).collect()
    };
    let mut table =
        String::from("| create | fault | first apply | applies to converge |\n|---|---|---|---|\n");
    let mut injected = 0;
    for kind in Kind::ALL {
        for (label, fault) in &chosen {
            let outcome = run_case(kind, label, fault, clients);
            injected += 1;
            writeln!(
                table,
                "| {} | {label} | {} | {} |",
                kind.name(),
                if outcome.first_apply_ok {
                    "ok (adopted)"
                } else {
                    "failed, nothing lost"
                },
                outcome.applies
            )
            .unwrap();
        }
    }
    writeln!(
        table,
        "\n{injected} faults injected over applies of {} resources: 0 orphans, 0 duplicates, \
         0 lost state entries, 0 replacements, 0 secrets in logs.",
        clients * 4
    )
    .unwrap();
    println!("{table}");
}

/// Ctrl-C while databases are still provisioning: the objects are in the state, not tainted,
/// and the next apply waits for them in place; nothing is replaced.
#[test]
fn faults_interrupt_during_provisioning_then_apply_replaces_nothing() {
    let service = LocalService::start(Duration::from_secs(6));
    let work = Workspace::new(&service);
    work.write(&configuration(2, false));
    let terraform = work.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    for _ in 0..300 {
        if service.databases().len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        service.databases().len(),
        2,
        "both creates reached the service"
    );
    std::thread::sleep(Duration::from_millis(300));
    let group = format!("-{}", terraform.id());
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let output = terraform.wait_with_output().expect("terraform ends");
    let state = work.state_file();
    for database in service.databases() {
        let id = database["id"].as_str().unwrap();
        assert!(
            state.contains(id),
            "{id} must be in the state:\n{}",
            text(&output)
        );
    }
    assert!(
        !state.contains("\"tainted\""),
        "an interrupted create must not be tainted:\n{state}"
    );

    // The next plan waits in place; the apply replaces nothing and ends READY.
    let plan = work.assert_plan_changes(&["0 to add, 2 to change, 0 to destroy"]);
    assert!(!text(&plan).contains("must be replaced"), "{}", text(&plan));
    let before: BTreeSet<String> = state_ids(&work, Kind::Database);
    work.apply();
    assert_eq!(state_ids(&work, Kind::Database), before, "same databases");
    for address in ["dbaas_database.c0", "dbaas_database.c1"] {
        assert_eq!(work.resource(address)["status"], "READY");
    }
    work.assert_plan_empty();
    let deletes = service
        .provider_requests()
        .into_iter()
        .filter(|(method, _)| method == "DELETE")
        .count();
    assert_eq!(deletes, 0, "nothing was deleted");
}
