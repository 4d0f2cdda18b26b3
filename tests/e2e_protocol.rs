//! The plugin as Terraform sees it: schema loading, the handshake under AutoMTLS, and logs.

mod support;

use std::time::Duration;

use support::{LocalService, TOKEN, Workspace, text};

#[test]
fn provider_schema_lists_database_attributes() {
    let service = LocalService::start(Duration::ZERO);
    let work = Workspace::new(&service);
    work.write("provider \"dbaas\" {}\n");
    let output = work.ok(&["providers", "schema", "-json"]);
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let provider = &schema["provider_schemas"]["registry.terraform.io/dbaas/dbaas"];
    let database = &provider["resource_schemas"]["dbaas_database"]["block"];
    for attribute in [
        "id",
        "name",
        "engine",
        "version",
        "plan",
        "region",
        "description",
        "status",
        "endpoint",
        "created_at",
    ] {
        assert!(
            database["attributes"][attribute].is_object(),
            "dbaas_database has no {attribute}: {database}"
        );
    }
    // Optional and computed: most APIs require it (checked at plan), databaselabs names
    // databases itself.
    assert_eq!(database["attributes"]["name"]["optional"], true);
    assert_eq!(database["attributes"]["name"]["computed"], true);
    assert_eq!(
        database["attributes"]["superuser_password"]["sensitive"],
        true
    );
    for api in ["ovh", "globo", "databaselabs", "goaddon", "compose"] {
        assert!(
            provider["provider"]["block"]["block_types"][api].is_object(),
            "the provider has no {api} block"
        );
    }
    assert_eq!(database["attributes"]["id"]["computed"], true);
    assert!(database["block_types"]["timeouts"].is_object());
    assert_eq!(
        provider["provider"]["block"]["block_types"]["local"]["block"]["attributes"]["token"]["sensitive"],
        true
    );
    let identity = &provider["resource_identity_schemas"]["dbaas_database"];
    assert_eq!(
        identity["attributes"]["id"]["required_for_import"], true,
        "{identity}"
    );
}

#[test]
fn trace_logs_are_structured_and_hold_no_secret() {
    let service = LocalService::start(Duration::ZERO);
    let mut work = Workspace::new(&service);
    let log = work.path().join("terraform.log");
    work.env("TF_LOG", "trace");
    work.env("TF_LOG_PATH", log.to_str().unwrap());
    work.write(
        r#"
provider "dbaas" {}

resource "dbaas_database" "logged" {
  name = "client-logged"
}
"#,
    );
    let output = work.apply();
    let log = std::fs::read_to_string(&log).expect("Terraform wrote the log");
    let ours: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-dbaas"))
        .collect();
    assert!(
        ours.iter()
            .any(|l| l.contains("tf_rpc=ApplyResourceChange")),
        "the provider's JSON log lines must reach Terraform as structured entries:\n{}",
        ours.join("\n")
    );
    for line in &ours {
        assert!(
            !line.contains("{\"@level\""),
            "a log line was not parsed as JSON by Terraform: {line}"
        );
    }
    assert!(!log.contains("unexpected data"), "stdio noise in the log");
    assert!(!log.contains(TOKEN), "the token leaked into the log");
    let combined = text(&output);
    assert!(
        !combined.contains(TOKEN),
        "the token leaked into the output"
    );
}

#[test]
fn provider_schema_lists_functions_with_their_signatures() {
    // Terraform reads the functions from GetProviderSchema; `providers schema -json` shows them
    // as it understood them.
    let service = LocalService::start(Duration::ZERO);
    let work = Workspace::new(&service);
    work.write("");
    let output = work.ok(&["providers", "schema", "-json"]);
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let functions = &schema["provider_schemas"]["registry.terraform.io/dbaas/dbaas"]["functions"];
    let parameters = |name: &str| -> Vec<(String, String)> {
        functions[name]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no parameters: {functions}"))
            .iter()
            .map(|p| (p["name"].to_string(), p["type"].to_string()))
            .collect()
    };
    let string = |name: &str| (format!("\"{name}\""), "\"string\"".to_string());
    assert_eq!(
        parameters("connection_uri"),
        vec![string("endpoint"), string("username"), string("password")]
    );
    assert_eq!(parameters("import_id"), vec![string("resource_type")]);
    assert_eq!(
        functions["import_id"]["variadic_parameter"]["name"],
        "parts"
    );
    assert_eq!(
        parameters("parse_id"),
        vec![string("resource_type"), string("id")]
    );
    assert_eq!(functions["connection_uri"]["return_type"], "string");
    assert_eq!(functions["import_id"]["return_type"], "string");
    assert_eq!(
        functions["parse_id"]["return_type"],
        serde_json::json!(["map", "string"])
    );
    for name in ["connection_uri", "import_id", "parse_id"] {
        assert!(
            functions[name]["summary"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{name}: {functions}"
        );
    }
}
