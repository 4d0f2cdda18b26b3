//! The provider against databaselabs.io's API, as served by dbaas-local's databaselabs dialect:
//! servers named by the API (hostname as id), the superuser password shown only at creation,
//! replacement for every change, the ordered/building/ready statuses, payment refusals, and
//! plan-time refusal of everything databaselabs does not offer.

mod support;

use std::time::Duration;

use std::process::Output;

use serde_json::{Value as Json, json};
use support::{
    DATABASELABS_API_SECRET, Dialect, LocalService, Workspace, assert_hidden, assert_plans_refused,
    assert_says, assert_stdout_says, attribute_refusals, eventually, text, type_refusals,
};

const DELAY: Duration = Duration::from_millis(300);

/// Every hostname the dialect gives ends with this.
const HOST_SUFFIX: &str = ".db.databaselabs.local";

/// The sizes `/api/plans` offers, smallest first.
const SIZES: &str = "512mb, 1gb, 2gb, 4gb, 8gb, 16gb, 48gb, 64gb";

/// One `dbaas_database` of `size` in `region`; `extra` goes inside the resource block.
fn database(service: &LocalService, size: &str, region: &str, extra: &str) -> String {
    format!(
        r#"{}
resource "dbaas_database" "client" {{
  plan   = "{size}"
  region = "{region}"
  {extra}
}}
"#,
        service.databaselabs_provider_block("")
    )
}

/// A call to the databaselabs dialect itself, authenticated as the provider is: status and
/// JSON body (null when there is none).
fn dialect(service: &LocalService, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
    service.dialect_call(Dialect::Databaselabs, method, path, body)
}

/// The hostnames `GET /api/databases` lists.
fn dialect_hostnames(service: &LocalService) -> Vec<String> {
    let (status, list) = dialect(service, "GET", "/api/databases", None);
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .expect("an array")
        .iter()
        .map(|db| db["hostname"].as_str().unwrap().to_string())
        .collect()
}

/// Whether `password` is the superuser's (`postgres`) password of the store database `name`.
fn superuser_password_works(service: &LocalService, name: &str, password: &str) -> bool {
    service.password_works(&service.database_id(name), "postgres", password)
}

/// Requests other than reads that reached the databaselabs dialect.
fn dialect_changes(service: &LocalService) -> Vec<(String, String)> {
    service.mutating_requests_to(Dialect::Databaselabs)
}

/// Fails the test, without printing it, when `secret` appears in any output.
fn assert_not_shown(outputs: &[Output], secret: &str) {
    for output in outputs {
        assert_hidden(output, secret, "the superuser password");
    }
}

/// Checks a database in state against what the dialect serves for it; returns its hostname.
fn assert_served(service: &LocalService, state: &Json, size: &str, region: &str) -> String {
    let hostname = state["id"].as_str().expect("an id").to_string();
    let name = hostname
        .strip_suffix(HOST_SUFFIX)
        .unwrap_or_else(|| panic!("the id is the hostname: {hostname}"));
    assert_eq!(
        state["name"], name,
        "the name is the hostname's first label"
    );
    assert_eq!(state["engine"], "postgresql");
    assert_eq!(state["plan"], size);
    assert_eq!(state["region"], region);
    assert_eq!(state["status"], "ready");
    assert_eq!(state["endpoint"], format!("postgresql://{hostname}"));
    assert_eq!(state["flavor"], Json::Null);
    assert_eq!(state["node_count"], Json::Null);
    assert_eq!(state["description"], Json::Null);

    let (status, served) = dialect(service, "GET", &format!("/api/databases/{hostname}"), None);
    assert_eq!(status, 200, "{served}");
    assert_eq!(served["hostsize"], size, "{served}");
    assert_eq!(served["region"], region, "{served}");
    assert_eq!(served["status"], "ready", "{served}");
    let stored = service.database_named(name);
    assert_eq!(stored["engine"], "postgresql", "{stored}");
    assert_eq!(
        stored["description"],
        format!("databaselabs:{size}@{region}"),
        "{stored}"
    );
    hostname
}

#[test]
fn databaselabs_database_lifecycle_replace_import_destroy() {
    let (service, work) = LocalService::start_vendor_test(DELAY);
    let mut outputs = Vec::new();

    work.write(&database(&service, "512mb", "ams3", ""));
    let plan = work.assert_plan_changes(&["superuser_password = (sensitive value)"]);
    outputs.push(plan);
    outputs.push(work.apply());

    let created = work.resource("dbaas_database.client");
    let first = assert_served(&service, &created, "512mb", "ams3");
    let first_name = created["name"].as_str().unwrap().to_string();
    // databaselabs reports neither: null, as Terraform shows "not set", not an empty string.
    assert_eq!(created["version"], serde_json::Value::Null, "{created}");
    assert_eq!(created["created_at"], serde_json::Value::Null, "{created}");
    let password = created["superuser_password"]
        .as_str()
        .expect("the create reply's password is in the state")
        .to_string();
    assert!(password.len() >= 12, "a generated password");
    assert_eq!(
        work.state_entry("dbaas_database.client")["sensitive_values"]["superuser_password"],
        true
    );
    assert!(
        superuser_password_works(&service, &first_name, &password),
        "the state holds postgres' real password"
    );
    assert_eq!(dialect_hostnames(&service), vec![first.clone()]);

    // A no-op plan, and a refresh: the password (which the API never shows again) stays.
    outputs.push(work.assert_plan_empty());
    outputs.push(work.ok(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]));
    assert_eq!(
        work.resource("dbaas_database.client")["superuser_password"],
        password.as_str()
    );

    // databaselabs has no update call: the only in-place change is Terraform's own timeouts,
    // which reaches no API.
    let before = dialect_changes(&service).len();
    work.write(&database(
        &service,
        "512mb",
        "ams3",
        "timeouts {\n    create = \"20m\"\n  }",
    ));
    let plan = work.assert_plan_changes(&["will be updated in-place"]);
    outputs.push(plan);
    let applied = work.apply();
    assert_stdout_says(&applied, &["0 added, 1 changed, 0 destroyed"]);
    outputs.push(applied);
    let updated = work.resource("dbaas_database.client");
    assert_eq!(updated["id"], first.as_str());
    assert_eq!(updated["superuser_password"], password.as_str());
    assert_eq!(updated["status"], "ready");
    assert_eq!(dialect_changes(&service).len(), before, "no API call");

    // A size change replaces the server: new hostname, new password.
    work.write(&database(&service, "1gb", "ams3", ""));
    let plan = work.assert_plan_changes(&[
        "must be replaced",
        "plan = \"512mb\" -> \"1gb\" # forces replacement",
    ]);
    outputs.push(plan);
    let applied = work.apply();
    assert_stdout_says(&applied, &["1 added, 0 changed, 1 destroyed"]);
    outputs.push(applied);
    let resized = work.resource("dbaas_database.client");
    let second = assert_served(&service, &resized, "1gb", "ams3");
    assert_ne!(second, first, "a new server, with a new hostname");
    let (status, _) = dialect(&service, "GET", &format!("/api/databases/{first}"), None);
    assert_eq!(status, 404, "the old server is destroyed");
    let second_password = resized["superuser_password"]
        .as_str()
        .expect("the new server's password")
        .to_string();
    assert_ne!(second_password, password);
    assert!(superuser_password_works(
        &service,
        resized["name"].as_str().unwrap(),
        &second_password
    ));
    outputs.push(work.assert_plan_empty());

    // So does a region change.
    work.write(&database(&service, "1gb", "fra1", ""));
    let plan = work.assert_plan_changes(&["region = \"ams3\" -> \"fra1\" # forces replacement"]);
    outputs.push(plan);
    outputs.push(work.apply());
    let moved = work.resource("dbaas_database.client");
    let third = assert_served(&service, &moved, "1gb", "fra1");
    assert_ne!(third, second);
    assert_eq!(dialect_hostnames(&service), vec![third.clone()]);
    let third_password = moved["superuser_password"].as_str().unwrap().to_string();

    // Import by hostname: the password cannot be read back, so it is null; the plan is empty.
    work.state_rm("dbaas_database.client");
    assert!(work.addresses().is_empty());
    assert_eq!(dialect_hostnames(&service), vec![third.clone()]);
    outputs.push(work.import("dbaas_database.client", &third));
    let imported = work.resource("dbaas_database.client");
    assert_served(&service, &imported, "1gb", "fra1");
    assert_eq!(imported["superuser_password"], Json::Null);
    outputs.push(work.assert_plan_empty());

    // The same through an `import` block.
    work.state_rm("dbaas_database.client");
    work.write(&format!(
        "{}\nimport {{\n  to = dbaas_database.client\n  id = \"{third}\"\n}}\n",
        database(&service, "1gb", "fra1", "")
    ));
    let applied = work.apply();
    assert_stdout_says(&applied, &["1 imported, 0 added, 0 changed, 0 destroyed"]);
    outputs.push(applied);
    let imported = work.resource("dbaas_database.client");
    assert_eq!(imported["id"], third.as_str());
    assert_eq!(imported["superuser_password"], Json::Null);
    outputs.push(work.assert_plan_empty());

    outputs.push(work.destroy());
    let (status, _) = dialect(&service, "GET", &format!("/api/databases/{third}"), None);
    assert_eq!(status, 404);
    assert!(dialect_hostnames(&service).is_empty());
    assert!(service.databases().is_empty(), "the store has nothing left");

    for secret in [&password, &second_password, &third_password] {
        assert_not_shown(&outputs, secret);
    }
}

#[test]
fn databaselabs_database_waits_through_ordered_and_building() {
    let service = LocalService::start_with_dialects(Duration::from_millis(2000));
    let work = Workspace::with_vendor_env(&service);
    work.write(&database(&service, "512mb", "nyc3", ""));
    let mut apply = work.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    // What the dialect says while Terraform applies, each change of status once.
    let mut seen: Vec<String> = Vec::new();
    while apply.try_wait().expect("terraform runs").is_none() {
        let (_, list) = dialect(&service, "GET", "/api/databases", None);
        if let Some(status) = list[0]["status"].as_str()
            && seen.last().map(String::as_str) != Some(status)
        {
            seen.push(status.to_string());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = apply.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        seen.iter().take(2).collect::<Vec<_>>(),
        ["ordered", "building"],
        "the dialect went through ordered and building during the apply"
    );

    // The apply ended only once databaselabs said ready, having polled while it was not.
    let created = work.resource("dbaas_database.client");
    let hostname = assert_served(&service, &created, "512mb", "nyc3");
    let polls = service
        .requests()
        .into_iter()
        .filter(|(method, path)| {
            method == "GET" && *path == format!("/databaselabs/api/databases/{hostname}")
        })
        .count();
    assert!(polls >= 2, "the provider polled {polls} time(s)");
    work.destroy();
    assert!(dialect_hostnames(&service).is_empty());
}

#[test]
fn databaselabs_data_sources_read_plans_and_servers() {
    let service = LocalService::start_with_dialects(Duration::ZERO);
    let mut hostnames = Vec::new();
    for (size, region) in [("512mb", "lon1"), ("2gb", "sgp1")] {
        let (status, created) = dialect(
            &service,
            "POST",
            "/api/databases",
            Some(json!({ "size": size, "region": region })),
        );
        assert_eq!(status, 202, "{created}");
        hostnames.push(created["hostname"].as_str().unwrap().to_string());
    }
    // A MongoDB database made through the native API: databaselabs does not show it.
    service.ready_database("client-mongo");
    eventually("both servers are ready", || {
        let (_, list) = dialect(&service, "GET", "/api/databases", None);
        list.as_array()
            .unwrap()
            .iter()
            .all(|db| db["status"] == "ready")
    });
    let label = |hostname: &str| hostname.strip_suffix(HOST_SUFFIX).unwrap().to_string();
    let (small, large) = (label(&hostnames[0]), label(&hostnames[1]));

    let work = Workspace::with_vendor_env(&service);
    work.write(&format!(
        r#"{}
data "dbaas_plans" "all" {{}}
data "dbaas_capabilities" "all" {{}}
data "dbaas_databases" "all" {{}}
data "dbaas_databases" "small" {{
  name_prefix = "{small}"
}}
data "dbaas_database" "by_id" {{
  id = "{large_host}"
}}
data "dbaas_database" "by_name" {{
  name = "{small}"
}}

output "plans" {{ value = [for p in data.dbaas_plans.all.plans : p.name] }}
output "plan_nodes" {{ value = distinct([for p in data.dbaas_plans.all.plans : p.node_count]) }}
output "engines" {{ value = [for e in data.dbaas_capabilities.all.engines : e.name] }}
output "regions" {{ value = [for r in data.dbaas_capabilities.all.regions : r.name] }}
output "ams3" {{
  value = one([for r in data.dbaas_capabilities.all.regions : r.description if r.name == "ams3"])
}}
output "all" {{ value = [for d in data.dbaas_databases.all.databases : d.name] }}
output "small" {{ value = [for d in data.dbaas_databases.small.databases : d.id] }}
output "by_id" {{ value = data.dbaas_database.by_id }}
output "by_name_id" {{ value = data.dbaas_database.by_name.id }}
"#,
        service.databaselabs_provider_block(""),
        large_host = hostnames[1],
    ));
    work.apply();
    let outputs = work.outputs();
    let value = |name: &str| outputs[name]["value"].clone();
    let sizes: Vec<&str> = SIZES.split(", ").collect();
    assert_eq!(value("plans"), json!(sizes));
    assert_eq!(value("plan_nodes"), json!([1]));
    assert_eq!(value("engines"), json!(["postgresql"]));
    assert_eq!(
        value("regions"),
        json!([
            "ams2", "ams3", "fra1", "lon1", "nyc2", "nyc3", "sfo1", "sgp1"
        ])
    );
    assert_eq!(value("ams3"), "Amsterdam 3");
    let mut names = vec![small.clone(), large.clone()];
    names.sort();
    assert_eq!(value("all"), json!(names), "PostgreSQL servers only");
    assert_eq!(value("small"), json!([hostnames[0]]));
    let by_id = value("by_id");
    assert_eq!(by_id["name"], large.as_str());
    assert_eq!(by_id["plan"], "2gb");
    assert_eq!(by_id["region"], "sgp1");
    assert_eq!(by_id["engine"], "postgresql");
    assert_eq!(by_id["status"], "ready");
    assert_eq!(by_id["endpoint"], format!("postgresql://{}", hostnames[1]));
    assert_eq!(by_id["node_count"], Json::Null);
    assert_eq!(value("by_name_id"), hostnames[0].as_str());

    work.assert_plan_empty();
    // Reading changed nothing: the only changes are the test's own two creates.
    let changes = dialect_changes(&service);
    assert_eq!(
        changes,
        vec![
            (
                "POST".to_string(),
                "/databaselabs/api/databases".to_string()
            );
            2
        ]
    );
}

#[test]
fn databaselabs_unsupported_types_fail_at_plan_naming_the_api() {
    let service = LocalService::start_with_dialects(DELAY);
    let cases = type_refusals("databaselabs", "\"vivid-answer-395.db.databaselabs.local\"");
    assert_plans_refused(
        &service,
        Workspace::with_vendor_env,
        &service.databaselabs_provider_block(""),
        cases,
    );
    assert!(dialect_hostnames(&service).is_empty());
}

#[test]
fn databaselabs_database_settings_refused_at_plan() {
    let service = LocalService::start_with_dialects(DELAY);
    let offered = [
        (
            "resource \"dbaas_database\" \"client\" {\n  plan = \"3gb\"\n  region = \"nyc3\"\n}"
                .to_string(),
            format!("plan = \"3gb\" is not offered by the databaselabs API. Allowed: {SIZES}."),
        ),
        (
            "resource \"dbaas_database\" \"client\" {\n  plan = \"512mb\"\n  region = \"mars1\"\n}"
                .to_string(),
            "region = \"mars1\" is not offered by the databaselabs API. Allowed: ams2, ams3, \
             fra1, lon1, nyc2, nyc3, sfo1, sgp1."
                .to_string(),
        ),
    ];
    let unsupported = attribute_refusals(
        "databaselabs",
        "dbaas_database",
        "plan = \"512mb\"",
        &[
            ("name", r#""x""#),
            ("engine", r#""postgresql""#),
            ("version", r#""17""#),
            ("flavor", r#""db1-4""#),
            ("node_count", "1"),
            ("description", r#""client acme""#),
        ],
    );
    assert_plans_refused(
        &service,
        Workspace::with_vendor_env,
        &service.databaselabs_provider_block(""),
        offered.into_iter().chain(unsupported),
    );
    assert!(dialect_hostnames(&service).is_empty());
}

#[test]
fn databaselabs_wrong_secret_fails_at_configure() {
    let service = LocalService::start_with_dialects(DELAY);
    let mut work = Workspace::new(&service);
    let wrong = "not-the-databaselabs-secret-42";
    work.env("DATABASELABS_API_SECRET", wrong);
    work.write(&database(&service, "512mb", "nyc3", ""));
    let output = work.plan_fails();
    assert_says(
        &output,
        &[
            "Cannot Configure the dbaas Provider",
            "databaselabs",
            "the API key or API secret is invalid",
        ],
    );
    assert_hidden(&output, wrong, "the wrong secret");
    assert_hidden(&output, DATABASELABS_API_SECRET, "the secret");
    let reached: Vec<_> = service
        .requests()
        .into_iter()
        .filter(|(_, path)| path.starts_with(Dialect::Databaselabs.prefix()))
        .collect();
    assert!(!reached.is_empty(), "the credentials were checked");
    assert!(
        reached
            .iter()
            .all(|(method, path)| method == "GET" && path == "/databaselabs/api/ping"),
        "only the ping may be sent: {reached:?}"
    );
}

#[test]
fn databaselabs_declined_payment_fails_apply_and_leaves_nothing_in_state() {
    // $30 a month covers one 512mb server ($20), not two.
    let service = LocalService::start_with_databaselabs_credit_limit(DELAY, 30);
    let work = Workspace::with_vendor_env(&service);
    let first = database(&service, "512mb", "nyc3", "");
    work.write(&first);
    work.apply();
    let paid = work.resource("dbaas_database.client")["id"]
        .as_str()
        .unwrap()
        .to_string();

    work.write(&format!(
        "{first}\nresource \"dbaas_database\" \"second\" {{\n  plan = \"512mb\"\n}}\n"
    ));
    assert_says(
        &work.apply_fails(),
        &[
            "Error Creating Database",
            "databaselabs could not bill the account's default credit card",
            "over the card's $30/month",
        ],
    );
    assert_eq!(work.addresses(), vec!["dbaas_database.client"]);
    assert_eq!(dialect_hostnames(&service), vec![paid]);
    work.assert_plan_changes(&["1 to add, 0 to change, 0 to destroy"]);

    work.write(&first);
    work.destroy();
    assert!(dialect_hostnames(&service).is_empty());
}

#[test]
fn databaselabs_example_applies_and_destroys() {
    let service = LocalService::start_with_dialects(DELAY);
    let mut work = Workspace::with_example(&service, "databaselabs", Dialect::Databaselabs);
    work.env("TF_VAR_poll_interval", "100ms");

    let applied = work.apply();
    let outputs = work.outputs();
    let value = |name: &str| outputs[name]["value"].clone();
    let sizes: Vec<&str> = SIZES.split(", ").collect();
    assert_eq!(value("offered_sizes"), json!(sizes));
    let hostnames = value("hostnames");
    for (client, size, region) in [("acme", "512mb", "ams3"), ("globex", "1gb", "nyc3")] {
        let state = work.resource(&format!("dbaas_database.client[\"{client}\"]"));
        let hostname = assert_served(&service, &state, size, region);
        assert_eq!(hostnames[client], hostname.as_str());
        assert_eq!(
            value("endpoints")[client],
            format!("postgresql://{hostname}")
        );
        let password = value("superuser_passwords")[client]
            .as_str()
            .expect("a superuser password")
            .to_string();
        assert!(superuser_password_works(
            &service,
            state["name"].as_str().unwrap(),
            &password
        ));
        assert_not_shown(std::slice::from_ref(&applied), &password);
    }
    assert_eq!(outputs["superuser_passwords"]["sensitive"], true);
    assert_eq!(dialect_hostnames(&service).len(), 2);

    work.assert_plan_empty();
    work.destroy();
    assert!(dialect_hostnames(&service).is_empty());
    assert!(service.databases().is_empty());
}
