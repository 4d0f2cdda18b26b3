//! The provider-defined functions through the real Terraform: `connection_uri` with a sensitive
//! password (the result is sensitive, in outputs and in a resource's state, and the password is
//! in no log), `import_id`/`parse_id` round trips for every resource type and an `import` block
//! whose id `import_id` builds, and each kind of error as Terraform shows it, naming the
//! argument. Except for the import, no provider block and no reachable API: Terraform calls
//! functions without configuring the provider.

mod support;

use std::time::Duration;

use serde_json::Value as Json;
use support::{LocalService, Workspace, assert_stderr_says, flat, text};

/// Nothing listens here: a configured provider would fail its credentials check.
const NO_API: &str = "http://127.0.0.1:9";

/// A password with every character user information must escape.
const PASSWORD: &str = "Fn-Secret@:/?#[]% 7";
const ESCAPED_PASSWORD: &str = "Fn-Secret%40%3A%2F%3F%23%5B%5D%25%207";

#[test]
fn functions_connection_uri_is_sensitive_with_a_sensitive_password() {
    let mut work = Workspace::for_endpoint(NO_API);
    let log = work.path().join("terraform.log");
    work.env("TF_LOG", "trace");
    work.env("TF_LOG_PATH", log.to_str().unwrap());
    work.env("TF_VAR_password", PASSWORD);
    work.write(
        r#"
variable "password" {
  type      = string
  sensitive = true
}

output "uri" {
  value     = provider::dbaas::connection_uri("mongodb://db-1.local:27017/orders", "app", var.password)
  sensitive = true
}

resource "terraform_data" "uri" {
  input = provider::dbaas::connection_uri("mongodb://h1:1,h2:2/db?replicaSet=rs0", "app", var.password)
}
"#,
    );
    let applied = work.apply();
    let shown = flat(&applied);
    assert!(shown.contains("uri = <sensitive>"), "{shown}");
    assert!(shown.contains("input = (sensitive value)"), "{shown}");

    let outputs = work.outputs();
    assert_eq!(outputs["uri"]["sensitive"], true, "{outputs}");
    assert_eq!(
        outputs["uri"]["value"],
        format!("mongodb://app:{ESCAPED_PASSWORD}@db-1.local:27017/orders")
    );
    // Terraform marked the function's result itself: the resource's state records it.
    let data = work.state_entry("terraform_data.uri");
    assert_eq!(data["sensitive_values"]["input"], true, "{data}");
    assert_eq!(
        data["values"]["input"],
        format!("mongodb://app:{ESCAPED_PASSWORD}@h1:1,h2:2/db?replicaSet=rs0")
    );

    let log = std::fs::read_to_string(&log).expect("Terraform wrote the log");
    assert!(
        log.contains("tf_rpc=CallFunction"),
        "the provider logged no call"
    );
    for secret in [PASSWORD, ESCAPED_PASSWORD, "Fn-Secret"] {
        assert!(!log.contains(secret), "the password is in the trace log");
        assert!(!text(&applied).contains(secret), "the password was shown");
    }

    // An output without `sensitive = true` is refused: the mark came through the function.
    work.write(
        r#"
variable "password" {
  type      = string
  sensitive = true
}

output "uri" {
  value = provider::dbaas::connection_uri("mongodb://db-1.local:27017/orders", "app", var.password)
}
"#,
    );
    let refused = work.plan_fails();
    assert_stderr_says(&refused, &["Output refers to sensitive values"]);
}

#[test]
fn functions_connection_uri_with_a_plain_password_is_not_sensitive() {
    let work = Workspace::for_endpoint(NO_API);
    work.write(
        r#"
output "uri" {
  value = provider::dbaas::connection_uri("mongodb+srv://cluster.example.com", "app", "plain")
}
"#,
    );
    work.apply();
    let outputs = work.outputs();
    assert_eq!(outputs["uri"]["sensitive"], false, "{outputs}");
    assert_eq!(
        outputs["uri"]["value"],
        "mongodb+srv://app:plain@cluster.example.com"
    );
}

/// Each type with parts that exercise its format: `/` inside a collection name and a CIDR.
const ROUND_TRIPS: [(&str, &[(&str, &str)]); 4] = [
    ("dbaas_database", &[("database_id", "db-0123456789ab")]),
    (
        "dbaas_credential",
        &[("database_id", "db-0123456789ab"), ("username", "app")],
    ),
    (
        "dbaas_collection_index",
        &[
            ("database_id", "db-0123456789ab"),
            ("collection", "orders/archive"),
            ("name", "customer_id_1"),
        ],
    ),
    (
        "dbaas_ip_restriction",
        &[("database_id", "db-0123456789ab"), ("cidr", "10.0.0.0/24")],
    ),
];

#[test]
fn functions_import_id_and_parse_id_round_trip_every_type() {
    let work = Workspace::for_endpoint(NO_API);
    let mut config = String::new();
    for (type_name, parts) in ROUND_TRIPS {
        let values: Vec<String> = parts.iter().map(|(_, v)| format!("\"{v}\"")).collect();
        config.push_str(&format!(
            r#"
output "{type_name}" {{
  value = {{
    id       = provider::dbaas::import_id("{type_name}", {args})
    expanded = provider::dbaas::import_id("{type_name}", [{args}]...)
    parsed   = provider::dbaas::parse_id("{type_name}", provider::dbaas::import_id("{type_name}", {args}))
  }}
}}
"#,
            args = values.join(", ")
        ));
    }
    work.write(&config);
    work.apply();
    let outputs = work.outputs();
    for (type_name, parts) in ROUND_TRIPS {
        let value = &outputs[type_name]["value"];
        let id: Vec<&str> = parts.iter().map(|(_, v)| *v).collect();
        assert_eq!(value["id"], id.join("/"), "{type_name}: {value}");
        assert_eq!(value["expanded"], value["id"], "{type_name}: {value}");
        let parsed: serde_json::Map<String, Json> = parts
            .iter()
            .map(|(k, v)| (k.to_string(), Json::from(*v)))
            .collect();
        assert_eq!(
            value["parsed"],
            Json::Object(parsed),
            "{type_name}: {value}"
        );
    }
}

#[test]
fn functions_import_id_builds_ids_the_importers_take() {
    let service = LocalService::start(Duration::ZERO);
    let db = service.ready_database("client-fn-import");
    let (status, body) = service.call(
        "POST",
        &format!("/v1/databases/{db}/ip-restrictions"),
        Some(serde_json::json!({ "cidr": "10.0.0.0/24", "description": "office" })),
    );
    assert_eq!(status, 202, "{body}");
    let work = Workspace::new(&service);
    work.write(&format!(
        r#"
provider "dbaas" {{}}

import {{
  to = dbaas_database.orders
  id = provider::dbaas::import_id("dbaas_database", "{db}")
}}

resource "dbaas_database" "orders" {{
  name = "client-fn-import"
}}

import {{
  to = dbaas_ip_restriction.office
  id = provider::dbaas::import_id("dbaas_ip_restriction", "{db}", "10.0.0.0/24")
}}

resource "dbaas_ip_restriction" "office" {{
  database_id = dbaas_database.orders.id
  cidr        = provider::dbaas::parse_id("dbaas_ip_restriction", "{db}/10.0.0.0/24").cidr
  description = "office"
}}
"#
    ));
    let applied = work.apply();
    assert!(
        flat(&applied).contains("2 imported, 0 added, 0 changed, 0 destroyed"),
        "{}",
        text(&applied)
    );
    assert_eq!(
        work.resource("dbaas_ip_restriction.office")["id"],
        format!("{db}/10.0.0.0/24")
    );
    work.assert_plan_empty();
}

/// A configuration whose plan must fail, and what Terraform's diagnostic must say.
struct Refusal {
    what: &'static str,
    expression: &'static str,
    says: &'static [&'static str],
}

const REFUSALS: [Refusal; 7] = [
    Refusal {
        what: "an endpoint without a scheme",
        expression: r#"provider::dbaas::connection_uri("db-1.local:27017/orders", "app", "pw")"#,
        says: &[
            "Invalid function argument",
            r#"Invalid value for "endpoint" parameter: the endpoint does not start with a scheme"#,
        ],
    },
    Refusal {
        what: "an endpoint with user information",
        expression: r#"provider::dbaas::connection_uri("mongodb://old:Old-Secret-3@db-1.local/orders", "app", "pw")"#,
        says: &[
            r#"Invalid value for "endpoint" parameter: the endpoint already holds user information"#,
        ],
    },
    Refusal {
        what: "an empty endpoint",
        expression: r#"provider::dbaas::connection_uri("", "app", "pw")"#,
        says: &[r#"Invalid value for "endpoint" parameter: the endpoint is empty"#],
    },
    Refusal {
        what: "too few parts",
        expression: r#"provider::dbaas::import_id("dbaas_credential", "db-1")"#,
        says: &[
            r#"Invalid value for "parts" parameter: a dbaas_credential id has 2 parts, <database_id>/<username>; 1 given"#,
        ],
    },
    Refusal {
        what: "a part with a slash",
        expression: r#"provider::dbaas::import_id("dbaas_collection_index", "db-1", "orders", "by/customer")"#,
        says: &[r#"Invalid value for "parts" parameter: name (part 3) must not contain `/`"#],
    },
    Refusal {
        what: "an unknown type",
        expression: r#"provider::dbaas::import_id("dbaas_table", "db-1")"#,
        says: &[
            r#"Invalid value for "resource_type" parameter: "dbaas_table" is not a resource type with an import id"#,
        ],
    },
    Refusal {
        what: "a malformed id",
        expression: r#"provider::dbaas::parse_id("dbaas_ip_restriction", "db-1")"#,
        says: &[
            r#"Invalid value for "id" parameter: "db-1" is not a dbaas_ip_restriction id"#,
            "it is <database_id>/<cidr>, e.g. `db-0123456789ab/10.0.0.0/24`",
        ],
    },
];

#[test]
fn functions_errors_name_the_argument() {
    let work = Workspace::for_endpoint(NO_API);
    for refusal in REFUSALS {
        work.write(&format!(
            "output \"refused\" {{\n  value = {}\n}}\n",
            refusal.expression
        ));
        let output = work.plan_fails();
        let shown = flat(&output);
        for phrase in refusal.says {
            assert!(
                shown.contains(phrase),
                "{}: Terraform must say `{phrase}`:\n{}",
                refusal.what,
                text(&output)
            );
        }
        // Terraform quotes the configuration's line above the detail; the detail must not.
        let detail = shown.split("Invalid value for").nth(1).unwrap_or_default();
        assert!(
            !detail.contains("Old-Secret-3"),
            "{}: secret in the detail",
            refusal.what
        );
    }
    // Arguments known only at plan (a variable) are checked then, with the same diagnostic.
    let mut work = Workspace::for_endpoint(NO_API);
    work.env("TF_VAR_id", "db-1/10.0.0.0/24/extra");
    work.write(
        r#"
variable "id" {
  type = string
}

output "refused" {
  value = provider::dbaas::parse_id("dbaas_credential", var.id)
}
"#,
    );
    let output = work.plan_fails();
    assert_stderr_says(
        &output,
        &[
            r#"Invalid value for "id" parameter: "db-1/10.0.0.0/24/extra" is not a dbaas_credential id"#,
        ],
    );
}
