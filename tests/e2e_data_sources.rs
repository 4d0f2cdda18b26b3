//! Data sources end to end: the catalog and the databases of a database-per-client account.

mod support;

use std::time::Duration;

use support::{LocalService, Workspace};

#[test]
fn data_sources_read_catalog_and_databases_by_prefix() {
    let service = LocalService::start(Duration::ZERO);
    let acme = service.ready_database("client-acme");
    service.ready_database("client-globex");
    service.ready_database("internal-metrics");
    let work = Workspace::new(&service);
    work.write(&format!(
        r#"
provider "dbaas" {{}}

data "dbaas_capabilities" "all" {{}}
data "dbaas_plans" "all" {{}}

data "dbaas_databases" "clients" {{
  name_prefix = "client-"
}}

data "dbaas_database" "by_name" {{
  name = "client-acme"
}}

data "dbaas_database" "by_id" {{
  id = "{acme}"
}}

output "engines" {{ value = [for e in data.dbaas_capabilities.all.engines : e.name] }}
output "mongodb_default" {{
  value = one([for e in data.dbaas_capabilities.all.engines : e.default_version if e.name == "mongodb"])
}}
output "plans" {{ value = [for p in data.dbaas_plans.all.plans : p.name] }}
output "clients" {{ value = [for d in data.dbaas_databases.clients.databases : d.name] }}
output "by_name_id" {{ value = data.dbaas_database.by_name.id }}
output "by_id_name" {{ value = data.dbaas_database.by_id.name }}
"#
    ));
    work.apply();
    let output = work.ok(&["output", "-json"]);
    let outputs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let value = |name: &str| outputs[name]["value"].clone();
    assert_eq!(
        value("engines"),
        serde_json::json!(["mongodb", "postgresql", "mysql"])
    );
    assert_eq!(value("mongodb_default"), "8.0");
    assert_eq!(
        value("plans"),
        serde_json::json!(["essential", "business", "enterprise"])
    );
    assert_eq!(
        value("clients"),
        serde_json::json!(["client-acme", "client-globex"])
    );
    assert_eq!(value("by_name_id"), acme.as_str());
    assert_eq!(value("by_id_name"), "client-acme");
}

#[test]
fn data_source_database_not_found_names_the_selector() {
    let service = LocalService::start(Duration::ZERO);
    let work = Workspace::new(&service);
    work.write(
        "provider \"dbaas\" {}\n\ndata \"dbaas_database\" \"x\" {\n  name = \"nobody\"\n}\n",
    );
    let output = work.run(&["plan", "-no-color"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Database Not Found") && stderr.contains("\"nobody\""),
        "{stderr}"
    );
}

/// A data source or ephemeral resource the API does not publish fails the plan naming the API,
/// and sends no request for it.
#[test]
fn data_sources_the_api_lacks_fail_naming_it() {
    let service = LocalService::start(Duration::ZERO);
    let cases = [
        (
            "data \"dbaas_availability\" \"x\" {}",
            "data dbaas_availability",
        ),
        ("data \"dbaas_projects\" \"x\" {}", "data dbaas_projects"),
    ];
    support::assert_plans_refused(
        &service,
        Workspace::new,
        "provider \"dbaas\" {}\n",
        cases.map(|(body, type_name)| {
            (body, format!("{type_name} is not offered by the local API"))
        }),
    );
    let requests = service.provider_requests();
    assert!(
        requests.is_empty(),
        "no request may reach the service: {requests:?}"
    );
}
