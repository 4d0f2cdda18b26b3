//! `terraform query` (Terraform 1.14+) over objects nobody wrote configuration for: databases,
//! users, indexes and IP restrictions created directly through the API, found by `list`
//! blocks, written out by `-generate-config-out`, imported by one `terraform apply`, and planned
//! empty afterwards. Also `terraform plan -generate-config-out` after an `import` block, which
//! goes through GenerateResourceConfig.

mod support;

use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{LocalService, Workspace, eventually, fold_whitespace, text};

const CLIENTS: usize = 30;

const PROVIDER: &str = "provider \"dbaas\" {}\n";

/// POSTs `body` to `path` until the database lets the change in (dbaas-local answers 409 while a
/// database is busy with the previous one), then waits until `object` reads READY.
fn create_ready(service: &LocalService, path: &str, body: Json, object: &str) {
    let mut created = (0, Json::Null);
    eventually(&format!("POST {path} is accepted"), || {
        created = service.call("POST", path, Some(body.clone()));
        created.0 != 409
    });
    assert_eq!(created.0, 202, "POST {path}: {}", created.1);
    eventually(&format!("{object} becomes READY"), || {
        service.call("GET", object, None).1["status"] == "READY"
    });
}

/// `CLIENTS` databases, each with a user, an index and two IP restrictions: 150 objects.
fn clients_made_by_hand(service: &LocalService) -> Vec<String> {
    (0..CLIENTS)
        .map(|n| {
            let db = service.ready_database(&format!("client-{n:02}"));
            let base = format!("/v1/databases/{db}");
            create_ready(
                service,
                &format!("{base}/credentials"),
                json!({"username": "app", "roles": [format!("readWrite@client-{n:02}")]}),
                &format!("{base}/credentials/app"),
            );
            create_ready(
                service,
                &format!("{base}/collections/orders/indexes"),
                json!({"keys": [{"field": "customer_id", "direction": 1}, {"field": "at", "direction": -1}]}),
                &format!("{base}/collections/orders/indexes/customer_id_1_at_-1"),
            );
            for (cidr, description) in [("10.0.0.0/24", "office"), ("203.0.113.7/32", "ci")] {
                create_ready(
                    service,
                    &format!("{base}/ip-restrictions"),
                    json!({"cidr": cidr, "description": description}),
                    &format!("{base}/ip-restrictions/{}", cidr.replace('/', "%2F")),
                );
            }
            db
        })
        .collect()
}

const QUERY: &str = r#"list "dbaas_database" "clients" {
  provider = dbaas
  limit    = 1000
  config {
    name_prefix = "client-"
  }
}

list "dbaas_credential" "users" {
  provider = dbaas
  limit    = 1000
}

list "dbaas_collection_index" "indexes" {
  provider = dbaas
  limit    = 1000
}

list "dbaas_ip_restriction" "networks" {
  provider = dbaas
  limit    = 1000
}
"#;

#[test]
fn query_generates_configuration_that_imports_every_object_and_plans_empty() {
    let service = LocalService::start(Duration::ZERO);
    let databases = clients_made_by_hand(&service);
    let work = Workspace::new(&service);
    work.write(PROVIDER);
    std::fs::write(work.path().join("clients.tfquery.hcl"), QUERY).unwrap();

    let query = work.ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let listed = text(&query);
    assert!(listed.contains("client-07"), "{listed}");
    let generated = std::fs::read_to_string(work.path().join("generated.tf")).unwrap();
    let folded = fold_whitespace(&generated);
    for (kind, count) in [
        ("dbaas_database", CLIENTS),
        ("dbaas_credential", CLIENTS),
        ("dbaas_collection_index", CLIENTS),
        ("dbaas_ip_restriction", 2 * CLIENTS),
    ] {
        assert_eq!(
            folded.matches(&format!("resource \"{kind}\"")).count(),
            count,
            "{generated}"
        );
        assert_eq!(
            folded.matches(&format!("to = {kind}.")).count(),
            count,
            "{generated}"
        );
    }
    // Only what a configuration sets: no computed attribute, no password.
    assert_sets_nothing_read_only(&generated);

    let apply = work.apply();
    let applied = fold_whitespace(&text(&apply));
    assert!(
        applied.contains(&format!(
            "{} imported, 0 added, 0 changed, 0 destroyed",
            5 * CLIENTS
        )),
        "{applied}"
    );
    work.assert_plan_empty();
    assert_eq!(
        service.databases().len(),
        databases.len(),
        "nothing created or deleted"
    );
}

#[test]
fn import_block_generates_configuration_without_computed_or_secret_attributes() {
    let service = LocalService::start(Duration::ZERO);
    let db = service.ready_database("client-acme");
    service.ready_credential(&db, "app");
    let work = Workspace::new(&service);
    work.write(&format!(
        "{PROVIDER}\nimport {{\n  to = dbaas_database.acme\n  identity = {{ id = \"{db}\" }}\n}}\n\nimport {{\n  to = dbaas_credential.app\n  id = \"{db}/app\"\n}}\n"
    ));
    work.ok(&[
        "plan",
        "-no-color",
        "-input=false",
        "-generate-config-out=generated.tf",
    ]);
    let generated = std::fs::read_to_string(work.path().join("generated.tf")).unwrap();
    assert!(
        generated.contains("name") && generated.contains("\"client-acme\""),
        "{generated}"
    );
    // Read-only attributes are left out; write-only ones are at most shown as null.
    assert_sets_nothing_read_only(&generated);
    assert!(
        generated
            .lines()
            .filter(|line| line.trim_start().starts_with("password_wo "))
            .all(|line| fold_whitespace(line).starts_with("password_wo = null")),
        "{generated}"
    );
    let apply = work.apply();
    assert!(
        fold_whitespace(&text(&apply)).contains("2 imported, 0 added, 0 changed, 0 destroyed"),
        "{}",
        text(&apply)
    );
    work.assert_plan_empty();
}

#[test]
fn query_over_the_ovh_dialect_adopts_databases_and_users() {
    let service = LocalService::start_with_ovh(Duration::ZERO);
    let mut made = Workspace::new(&service);
    made.ovh_env();
    made.write(&format!(
        "{}\nresource \"dbaas_database\" \"client\" {{\n  for_each   = toset([\"client-a\", \"client-b\", \"client-c\"])\n  name       = each.key\n  plan       = \"essential\"\n  flavor     = \"db1-4\"\n  region     = \"GRA\"\n  node_count = 1\n}}\n\nresource \"dbaas_credential\" \"app\" {{\n  for_each    = dbaas_database.client\n  database_id = each.value.id\n  username    = \"app\"\n  roles       = [\"readWrite@admin\"]\n}}\n",
        service.ovh_provider_block("")
    ));
    made.apply();

    // A fresh directory, as a team adopting what exists would start.
    let mut work = Workspace::new(&service);
    work.ovh_env();
    work.write(&service.ovh_provider_block(""));
    std::fs::write(
        work.path().join("ovh.tfquery.hcl"),
        "list \"dbaas_database\" \"services\" {\n  provider = dbaas\n}\n\nlist \"dbaas_credential\" \"users\" {\n  provider = dbaas\n}\n",
    )
    .unwrap();
    work.ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = std::fs::read_to_string(work.path().join("generated.tf")).unwrap();
    let folded = fold_whitespace(&generated);
    assert_eq!(
        folded.matches("resource \"dbaas_database\"").count(),
        3,
        "{generated}"
    );
    let users = folded.matches("resource \"dbaas_credential\"").count();
    // OVH makes an `admin` user in every service itself: those are adopted too.
    assert!(users >= 3, "{generated}");
    let apply = work.apply();
    assert!(
        fold_whitespace(&text(&apply)).contains(&format!(
            "{} imported, 0 added, 0 changed, 0 destroyed",
            3 + users
        )),
        "{}",
        text(&apply)
    );
    work.assert_plan_empty();
}

/// Generated configuration sets no read-only attribute and no generated password.
#[track_caller]
fn assert_sets_nothing_read_only(generated: &str) {
    for absent in ["status", "created_at", "endpoint", "password"] {
        assert!(
            !generated
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{absent} "))),
            "generated.tf sets `{absent}`:\n{generated}"
        );
    }
}
