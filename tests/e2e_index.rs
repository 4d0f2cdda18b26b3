//! `dbaas_collection_index` end to end: keys keep their order, the same spec never plans a change,
//! `_id_` is never managed, and every attribute replaces the index.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{LocalService, Workspace, text};

fn indexes(service: &LocalService, db: &str, collection: &str) -> Vec<String> {
    let (status, body) = service.call(
        "GET",
        &format!("/v1/databases/{db}/collections/{collection}/indexes"),
        None,
    );
    if status == 404 {
        return Vec::new();
    }
    assert_eq!(status, 200, "{body}");
    body["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

fn config(db: &str, keys: &str, extra: &str) -> String {
    format!(
        r#"
provider "dbaas" {{}}

resource "dbaas_collection_index" "by_customer" {{
  database_id = "{db}"
  collection  = "orders"
  keys        = {keys}
  {extra}
}}
"#
    )
}

#[test]
fn collection_index_lifecycle_order_import_destroy() {
    let service = LocalService::start(Duration::from_millis(200));
    let db = service.ready_database("client-indexes");
    let work = Workspace::new(&service);
    let keys = r#"[{ field = "customer_id" }, { field = "created_at", direction = "desc" }]"#;

    work.write(&config(&db, keys, ""));
    work.apply();
    let created = work.resource("dbaas_collection_index.by_customer");
    assert_eq!(created["name"], "customer_id_1_created_at_-1");
    assert_eq!(created["status"], "READY");
    assert_eq!(created["unique"], false);
    assert_eq!(
        created["keys"],
        json!([{"field": "customer_id", "direction": null}, {"field": "created_at", "direction": "desc"}]),
        "the keys keep the configured order and spelling"
    );
    assert_eq!(
        indexes(&service, &db, "orders"),
        vec!["_id_", "customer_id_1_created_at_-1"]
    );
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "the same spec plans no change:\n{}", text(&output));

    // Writing the default direction explicitly is the same index: still no change.
    let explicit = r#"[{ field = "customer_id", direction = "asc" }, { field = "created_at", direction = "desc" }]"#;
    work.write(&config(&db, explicit, ""));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Reordering the keys is another index: replaced.
    let reordered = r#"[{ field = "created_at", direction = "desc" }, { field = "customer_id" }]"#;
    work.write(&config(&db, reordered, "unique = true"));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&output.stdout).contains("must be replaced"));
    work.apply();
    assert_eq!(
        indexes(&service, &db, "orders"),
        vec!["_id_", "created_at_-1_customer_id_1"]
    );
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Import by `<database_id>/<collection>/<name>` into a configuration that omits defaults.
    let imported = Workspace::new(&service);
    imported.write(&config(&db, reordered, "unique = true"));
    imported.ok(&[
        "import",
        "-no-color",
        "dbaas_collection_index.by_customer",
        &format!("{db}/orders/created_at_-1_customer_id_1"),
    ]);
    let (code, output) = imported.plan_exit_code();
    assert_eq!(
        code,
        0,
        "plan after import must be empty:\n{}",
        text(&output)
    );

    work.destroy();
    assert_eq!(
        indexes(&service, &db, "orders"),
        vec!["_id_"],
        "only _id_ is left"
    );
}
