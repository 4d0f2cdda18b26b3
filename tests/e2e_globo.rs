//! The provider against globo.com's DBaaS API, as served by dbaas-local's globo dialect: every
//! resource type and data source globo supports through create, no-op plan, update or
//! replacement, import and destroy; globo's quarantine on destroy and `purge_on_destroy`; its
//! slug names; what it refuses at plan time, naming globo; its Basic auth errors; and the
//! `examples/globo` configuration.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{GLOBO_PASSWORD, GLOBO_USERNAME, LocalService, Workspace, text};

const DELAY: Duration = Duration::from_millis(200);

/// A workspace that passes `GLOBO_PASSWORD` (and the other vendors' secrets) through the
/// environment, as CI would.
fn globo_workspace(service: &LocalService) -> Workspace {
    let mut work = Workspace::new(service);
    work.vendor_env();
    work
}

/// One call to the globo dialect with its Basic credentials: status and JSON body (null when
/// there is none). How the tests see what globo really stored.
fn dialect(service: &LocalService, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
    let url = format!("{}/globo{path}", service.base_url());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let mut request = reqwest::Client::new()
            .request(method.parse().unwrap(), &url)
            .basic_auth(GLOBO_USERNAME, Some(GLOBO_PASSWORD));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request to the globo dialect");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Json::Null))
    })
}

/// The globo database with id `id`, or `None` when globo answers 404.
fn dialect_database(service: &LocalService, id: &str) -> Option<Json> {
    let (status, body) = dialect(service, "GET", &format!("/api/database/{id}/"), None);
    match status {
        200 => Some(body),
        404 => None,
        other => panic!("GET database {id}: HTTP {other} {body}"),
    }
}

/// Every database globo lists (quarantined ones included).
fn dialect_databases(service: &LocalService) -> Vec<Json> {
    let (status, body) = dialect(service, "GET", "/api/database/?page_size=100", None);
    assert_eq!(status, 200, "{body}");
    body["database"].as_array().cloned().unwrap_or_default()
}

fn dialect_database_names(service: &LocalService) -> Vec<String> {
    dialect_databases(service)
        .iter()
        .map(|db| db["name"].as_str().unwrap().to_string())
        .collect()
}

/// The users globo lists on database `id`, sorted (its list shows no passwords).
fn dialect_users(service: &LocalService, id: &str) -> Vec<String> {
    let (status, body) = dialect(service, "GET", "/api/credential/?page_size=100", None);
    assert_eq!(status, 200, "{body}");
    let link = format!("/api/database/{id}/");
    let mut users = body["credential"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["database"].as_str().is_some_and(|d| d.ends_with(&link)))
        .map(|c| c["user"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    users.sort();
    users
}

/// The password globo shows for `user` of database `id` (its detail view shows it).
fn dialect_password(service: &LocalService, id: &str, user: &str) -> String {
    let (status, body) = dialect(service, "GET", "/api/credential/?page_size=100", None);
    assert_eq!(status, 200, "{body}");
    let link = format!("/api/database/{id}/");
    let credential = body["credential"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["user"] == user && c["database"].as_str().is_some_and(|d| d.ends_with(&link)))
        .unwrap_or_else(|| panic!("globo has no user {user} on database {id}: {body}"));
    let number = credential["id"].to_string();
    let (status, detail) = dialect(service, "GET", &format!("/api/credential/{number}/"), None);
    assert_eq!(status, 200, "GET credential {number}");
    detail["password"]
        .as_str()
        .expect("globo shows the password")
        .to_string()
}

/// Whether the store, under the dialect, accepts `password` for `user` of globo database `id`
/// (the native API's check; the store id is `db-` and the globo id in 12 hex digits).
fn password_works(service: &LocalService, id: &str, user: &str, password: &str) -> bool {
    let number: u64 = id.parse().expect("globo ids are numbers");
    let (status, body) = service.call(
        "POST",
        &format!("/v1/databases/db-{number:012x}/credentials/{user}/verify"),
        Some(json!({ "password": password })),
    );
    assert_eq!(status, 200, "verify {user}: {body}");
    body["valid"] == true
}

/// Waits until the store under the dialect has no database left: a purged database vanishes
/// from globo at once, while the store finishes deleting it in the background.
fn assert_store_empties(service: &LocalService) {
    for _ in 0..600 {
        if service.databases().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the store still has {:?}", service.databases());
}

/// Requests that could change something (anything but GET and HEAD), the test harness's own
/// admin calls left out.
fn mutating_requests(service: &LocalService) -> Vec<(String, String)> {
    service
        .requests()
        .into_iter()
        .filter(|(method, path)| {
            method != "GET" && method != "HEAD" && !path.starts_with("/v1/_admin")
        })
        .collect()
}

/// Every request the provider sent (the harness's admin calls left out).
fn provider_requests(service: &LocalService) -> Vec<(String, String)> {
    service
        .requests()
        .into_iter()
        .filter(|(_, path)| !path.starts_with("/v1/_admin"))
        .collect()
}

/// Stdout and stderr with Terraform's line wrapping undone.
fn flat(output: &Output) -> String {
    text(output)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fails when `secret` shows in a command's output; the message never prints the secret.
fn assert_hidden(output: &Output, secret: &str, what: &str) {
    assert!(!secret.is_empty(), "{what}: nothing to look for");
    assert!(
        !text(output).contains(secret),
        "{what} appeared in Terraform's output"
    );
}

fn database(service: &LocalService, name: &str, plan: &str, region: &str, extra: &str) -> String {
    format!(
        r#"{}
resource "dbaas_database" "client" {{
  name   = "{name}"
  plan   = "{plan}"
  region = "{region}"
  {extra}
}}
"#,
        service.globo_provider_block("")
    )
}

#[test]
fn globo_database_lifecycle_replace_import_purge() {
    let service = LocalService::start_with_dialects(DELAY);
    let work = globo_workspace(&service);

    work.write(&database(
        &service,
        "client_acme",
        "essential",
        "eu-west-1",
        "",
    ));
    let output = work.apply();
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    let created = work.resource("dbaas_database.client");
    let first_id = created["id"].as_str().unwrap().to_string();
    assert!(
        first_id.parse::<u64>().is_ok(),
        "globo ids are numbers: {created}"
    );
    assert_eq!(created["name"], "client_acme");
    assert_eq!(created["status"], "ACTIVE", "{created}");
    assert_eq!(created["engine"], "mongodb", "globo runs MongoDB only");
    assert_eq!(created["plan"], "essential");
    assert_eq!(created["region"], "eu-west-1");
    assert_eq!(created["flavor"], Json::Null);
    assert_eq!(created["node_count"], Json::Null);
    assert_eq!(created["superuser_password"], Json::Null);
    let endpoint = created["endpoint"].as_str().unwrap();
    assert!(
        endpoint.starts_with("mongodb://<user>:<password>@") && endpoint.ends_with("/client_acme"),
        "globo's endpoint carries placeholders: {endpoint}"
    );

    // What globo stored: plan 1, environment 1, not quarantined, with its u_<name> user.
    let stored = dialect_database(&service, &first_id).expect("globo has the database");
    assert_eq!(stored["name"], "client_acme");
    assert_eq!(stored["quarantine_dt"], Json::Null);
    assert!(stored["plan"].as_str().unwrap().ends_with("/api/plan/1/"));
    assert!(
        stored["environment"]
            .as_str()
            .unwrap()
            .ends_with("/api/environment/1/")
    );
    assert_eq!(stored["endpoint"].as_str(), Some(endpoint));
    assert_eq!(dialect_users(&service, &first_id), vec!["u_client_acme"]);

    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // A plan or region change replaces the database, which keeps its name: globo would only
    // quarantine the old one, so the plan refuses it while purge_on_destroy is unset.
    let before = mutating_requests(&service).len();
    for (plan, region, attribute) in [
        ("business", "eu-west-1", r#"plan   = "business""#),
        ("essential", "eu-central-1", r#"region = "eu-central-1""#),
    ] {
        work.write(&database(&service, "client_acme", plan, region, ""));
        let output = work.run(&["plan", "-input=false", "-no-color"]);
        assert!(!output.status.success(), "{}", text(&output));
        let flat = flat(&output);
        assert!(
            flat.contains("Replacement Blocked By Quarantine")
                && flat.contains("the globo API only quarantines")
                && flat.contains("purge_on_destroy = true")
                && String::from_utf8_lossy(&output.stderr).contains(attribute),
            "{}",
            text(&output)
        );
    }
    assert_eq!(mutating_requests(&service).len(), before);

    // In place: purge_on_destroy is the provider's own setting; applying it alone sends nothing.
    let purge = "purge_on_destroy = true";
    work.write(&database(
        &service,
        "client_acme",
        "essential",
        "eu-west-1",
        purge,
    ));
    let output = work.apply();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        text(&output)
    );
    assert_eq!(
        mutating_requests(&service).len(),
        before,
        "nothing changed at globo"
    );
    let updated = work.resource("dbaas_database.client");
    assert_eq!(updated["id"], first_id.as_str());
    assert_eq!(updated["purge_on_destroy"], true);
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Now a plan change replaces: the old database is purged, the new one is on plan 2.
    work.write(&database(
        &service,
        "client_acme",
        "business",
        "eu-west-1",
        purge,
    ));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2, "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("must be replaced"),
        "{}",
        text(&output)
    );
    let output = work.apply();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        text(&output)
    );
    let replaced = work.resource("dbaas_database.client");
    let second_id = replaced["id"].as_str().unwrap().to_string();
    assert_ne!(second_id, first_id);
    assert_eq!(replaced["plan"], "business");
    assert_eq!(replaced["status"], "ACTIVE");
    assert!(
        dialect_database(&service, &first_id).is_none(),
        "the old database is purged"
    );
    let stored = dialect_database(&service, &second_id).expect("the new database");
    assert!(stored["plan"].as_str().unwrap().ends_with("/api/plan/2/"));
    assert_eq!(dialect_database_names(&service), vec!["client_acme"]);

    // And a region change replaces it again, into environment 2.
    work.write(&database(
        &service,
        "client_acme",
        "business",
        "eu-central-1",
        purge,
    ));
    work.apply();
    let moved = work.resource("dbaas_database.client");
    let third_id = moved["id"].as_str().unwrap().to_string();
    assert_ne!(third_id, second_id);
    assert_eq!(moved["region"], "eu-central-1");
    assert!(dialect_database(&service, &second_id).is_none());
    let stored = dialect_database(&service, &third_id).expect("the new database");
    assert!(
        stored["environment"]
            .as_str()
            .unwrap()
            .ends_with("/api/environment/2/")
    );
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // Out of the state and back with `terraform import`. purge_on_destroy lives only in
    // Terraform (globo has no such field), so the import cannot know it: the plan after the
    // import shows exactly that one in-place change, which sends nothing to globo.
    work.ok(&["state", "rm", "-no-color", "dbaas_database.client"]);
    assert!(work.show()["values"].is_null(), "the state is empty");
    work.ok(&["import", "-no-color", "dbaas_database.client", &third_id]);
    let imported = work.resource("dbaas_database.client");
    for attribute in [
        "id", "name", "engine", "plan", "region", "status", "endpoint",
    ] {
        assert_eq!(imported[attribute], moved[attribute], "{attribute}");
    }
    assert_eq!(imported["purge_on_destroy"], Json::Null);
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2, "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("+ purge_on_destroy = true")
            && stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        text(&output)
    );
    let before = mutating_requests(&service).len();
    work.apply();
    assert_eq!(mutating_requests(&service).len(), before);
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // purge_on_destroy = true: destroy removes it for good, with no quarantine warning.
    let output = work.destroy();
    assert!(
        !flat(&output).contains("Quarantine"),
        "no quarantine with purge_on_destroy:\n{}",
        text(&output)
    );
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    assert!(dialect_database(&service, &third_id).is_none());
    assert!(dialect_databases(&service).is_empty());
    assert_store_empties(&service);
}

#[test]
fn globo_database_destroy_by_default_quarantines() {
    let service = LocalService::start_with_dialects(DELAY);
    let work = globo_workspace(&service);
    work.write(&database(
        &service,
        "client_quarantine",
        "essential",
        "eu-west-1",
        "",
    ));
    work.apply();
    let id = work.resource("dbaas_database.client")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let password = dialect_password(&service, &id, "u_client_quarantine");
    assert!(password_works(
        &service,
        &id,
        "u_client_quarantine",
        &password
    ));

    // (The destroy plan's "Destroy Will Quarantine" warning: see
    // globo_destroy_plan_warns_of_quarantine.)
    let output = work.destroy();
    let flat_destroy = flat(&output);
    assert!(
        flat_destroy.contains("Database Quarantined, Not Removed")
            && flat_destroy.contains("The globo API quarantined database \"client_quarantine\"")
            && flat_destroy.contains("1 destroyed"),
        "{}",
        text(&output)
    );
    assert!(work.show()["values"].is_null(), "the state is empty");

    // globo keeps it, quarantined today, with its user's password reset.
    let kept = dialect_database(&service, &id).expect("a quarantined database stays");
    assert_eq!(kept["name"], "client_quarantine");
    let date = kept["quarantine_dt"]
        .as_str()
        .expect("quarantine_dt is set");
    // A date (YYYY-MM-DD), today's, or yesterday's when the test ran across midnight UTC.
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("a date");
    let age = (chrono::Utc::now().date_naive() - date).num_days();
    assert!((0..=1).contains(&age), "quarantined on {date}");
    assert_eq!(dialect_database_names(&service), vec!["client_quarantine"]);
    assert!(
        !password_works(&service, &id, "u_client_quarantine", &password),
        "quarantine resets every password"
    );

    // Its name stays taken: creating it again fails with globo's own message.
    let output = work.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "{}", text(&output));
    let flat_apply = flat(&output);
    assert!(
        flat_apply.contains("Error Creating Database")
            && flat_apply.contains("a database named client_quarantine already exists"),
        "{}",
        text(&output)
    );
    assert_eq!(dialect_databases(&service).len(), 1);
}

/// The provider announces `plan_destroy`, so Terraform plans destroys through it and the
/// quarantine is announced before anything happens.
#[test]
fn globo_destroy_plan_warns_of_quarantine() {
    let service = LocalService::start_with_dialects(DELAY);
    let work = globo_workspace(&service);
    work.write(&database(
        &service,
        "client_warned",
        "essential",
        "eu-west-1",
        "",
    ));
    work.apply();
    for args in [
        &["plan", "-destroy", "-input=false", "-no-color"][..],
        &["destroy", "-auto-approve", "-input=false", "-no-color"][..],
    ] {
        let output = work.ok(args);
        let flat = flat(&output);
        assert!(
            flat.contains("Destroy Will Quarantine the Database")
                && flat.contains("At the globo API, destroying database \"client_warned\"")
                && flat.contains("Set purge_on_destroy = true (and apply) before destroying"),
            "terraform {}:\n{}",
            args[0],
            text(&output)
        );
    }
    // With purge_on_destroy applied, the destroy plan has nothing to warn about.
    work.write(&database(
        &service,
        "client_again",
        "essential",
        "eu-west-1",
        "purge_on_destroy = true",
    ));
    work.apply();
    let output = work.ok(&["plan", "-destroy", "-input=false", "-no-color"]);
    assert!(!flat(&output).contains("Quarantine"), "{}", text(&output));
    work.destroy();
}

fn credential(service: &LocalService, username: &str, extra: &str) -> String {
    format!(
        r#"{}
resource "dbaas_database" "client" {{
  name             = "client_users"
  purge_on_destroy = true
}}

resource "dbaas_credential" "app" {{
  database_id = dbaas_database.client.id
  username    = "{username}"
  {extra}
}}
"#,
        service.globo_provider_block("")
    )
}

#[test]
fn globo_credential_generated_password_rotation_replace_import_destroy() {
    let service = LocalService::start_with_dialects(DELAY);
    let work = globo_workspace(&service);

    work.write(&credential(&service, "app", r#"password_reset = "1""#));
    let output = work.apply();
    let db = work.resource("dbaas_database.client");
    let db_id = db["id"].as_str().unwrap().to_string();
    // Without plan and region, globo's default plan and first environment are used.
    assert_eq!(db["plan"], "essential");
    assert_eq!(db["region"], "eu-west-1");
    let created = work.resource("dbaas_credential.app");
    assert_eq!(created["id"], format!("{db_id}/app"));
    assert_eq!(created["username"], "app");
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["roles"], json!([]));
    let password = created["password"]
        .as_str()
        .expect("globo generated a password")
        .to_string();
    assert_hidden(&output, &password, "the generated password");
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    assert!(
        password == dialect_password(&service, &db_id, "app"),
        "the state holds the password globo shows"
    );
    assert!(password_works(&service, &db_id, "app", &password));
    assert_eq!(
        dialect_users(&service, &db_id),
        vec!["app", "u_client_users"]
    );

    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));
    assert_hidden(&output, &password, "the generated password");

    // In place: a new password_reset makes globo generate a new password.
    work.write(&credential(&service, "app", r#"password_reset = "2""#));
    let output = work.apply();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        text(&output)
    );
    let rotated = work.resource("dbaas_credential.app");
    assert_eq!(rotated["id"], format!("{db_id}/app"));
    let new_password = rotated["password"].as_str().unwrap().to_string();
    assert!(new_password != password, "password_reset rotated it");
    assert_hidden(&output, &new_password, "the rotated password");
    assert!(new_password == dialect_password(&service, &db_id, "app"));
    assert!(password_works(&service, &db_id, "app", &new_password));
    assert!(!password_works(&service, &db_id, "app", &password));
    assert!(
        service
            .requests()
            .iter()
            .any(|(method, path)| method == "POST" && path.ends_with("/reset_password/")),
        "the rotation went through globo's reset_password"
    );
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // A new username replaces the user.
    work.write(&credential(&service, "app_v2", r#"password_reset = "2""#));
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 2, "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("must be replaced"));
    work.apply();
    let replaced = work.resource("dbaas_credential.app");
    assert_eq!(replaced["id"], format!("{db_id}/app_v2"));
    assert_eq!(
        dialect_users(&service, &db_id),
        vec!["app_v2", "u_client_users"]
    );

    // Out of the state and back through an `import {}` block, with the user globo created with
    // the database imported alongside. An import cannot know password_reset (a trigger kept
    // only in Terraform; setting it on an imported user would rotate the password) nor the
    // password (globo shows it only on create and reset), so this configuration leaves
    // password_reset out and the imported password is null.
    work.ok(&["state", "rm", "-no-color", "dbaas_credential.app"]);
    work.write(&format!(
        r#"{}
import {{
  to = dbaas_credential.app
  id = "{db_id}/app_v2"
}}

import {{
  to = dbaas_credential.builtin
  id = "{db_id}/u_client_users"
}}

resource "dbaas_credential" "builtin" {{
  database_id = dbaas_database.client.id
  username    = "u_client_users"
}}
"#,
        credential(&service, "app_v2", "")
    ));
    let output = work.apply();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("2 imported, 0 added, 0 changed"),
        "{}",
        text(&output)
    );
    let imported = work.resource("dbaas_credential.app");
    assert_eq!(imported["id"], format!("{db_id}/app_v2"));
    assert_eq!(imported["status"], "ACTIVE");
    assert_eq!(imported["password"], Json::Null);
    assert_eq!(imported["password_reset"], Json::Null);
    assert_eq!(
        work.resource("dbaas_credential.builtin")["id"],
        format!("{db_id}/u_client_users")
    );
    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));
    assert!(
        !work.state_file().contains(GLOBO_PASSWORD),
        "GLOBO_PASSWORD reached the state"
    );

    // Destroying one user removes it from globo; the database and its own user stay.
    work.write(&format!(
        r#"{}
resource "dbaas_database" "client" {{
  name             = "client_users"
  purge_on_destroy = true
}}

resource "dbaas_credential" "builtin" {{
  database_id = dbaas_database.client.id
  username    = "u_client_users"
}}
"#,
        service.globo_provider_block("")
    ));
    let output = work.apply();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("0 added, 0 changed, 1 destroyed"),
        "{}",
        text(&output)
    );
    assert_eq!(dialect_users(&service, &db_id), vec!["u_client_users"]);
    assert!(
        service
            .requests()
            .iter()
            .any(|(method, path)| method == "DELETE" && path.starts_with("/globo/api/credential/")),
        "the user was deleted through globo's credential DELETE"
    );

    let output = work.destroy();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("2 destroyed"),
        "{}",
        text(&output)
    );
    assert!(dialect_database(&service, &db_id).is_none());
    assert!(dialect_databases(&service).is_empty());
    assert_store_empties(&service);
}

#[test]
fn globo_data_sources_read_catalog_projects_and_databases() {
    let service = LocalService::start_with_dialects(DELAY);
    let mut ids = Vec::new();
    for name in [
        "client_acme",
        "client_globex",
        "client_gone",
        "internal_metrics",
    ] {
        let (status, body) = dialect(
            &service,
            "POST",
            "/api/database/",
            Some(json!({
                "name": name,
                "plan": "/api/plan/1/",
                "environment": "/api/environment/1/",
            })),
        );
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].to_string());
    }
    // client_gone is quarantined: globo still lists it.
    let (status, _) = dialect(
        &service,
        "DELETE",
        &format!("/api/database/{}/", ids[2]),
        None,
    );
    assert_eq!(status, 204);

    let work = globo_workspace(&service);
    work.write(&format!(
        r#"{}
data "dbaas_capabilities" "globo" {{}}
data "dbaas_plans" "globo" {{}}
data "dbaas_projects" "globo" {{}}

data "dbaas_databases" "clients" {{
  name_prefix = "client_"
}}

data "dbaas_database" "by_name" {{
  name = "client_acme"
}}

data "dbaas_database" "by_id" {{
  id = "{}"
}}

output "engines" {{ value = data.dbaas_capabilities.globo.engines }}
output "regions" {{ value = [for r in data.dbaas_capabilities.globo.regions : r.name] }}
output "flavors" {{ value = data.dbaas_capabilities.globo.flavors }}
output "plans" {{ value = [for p in data.dbaas_plans.globo.plans : p.name] }}
output "projects" {{ value = data.dbaas_projects.globo.projects }}
output "clients" {{
  value = {{ for d in data.dbaas_databases.clients.databases : d.name => d.status }}
}}
output "by_name" {{ value = data.dbaas_database.by_name }}
output "by_id_name" {{ value = data.dbaas_database.by_id.name }}
"#,
        service.globo_provider_block(""),
        ids[1]
    ));
    let output = work.apply();
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    let output = work.ok(&["output", "-json"]);
    let outputs: Json = serde_json::from_slice(&output.stdout).unwrap();
    let value = |name: &str| outputs[name]["value"].clone();
    assert_eq!(
        value("engines"),
        json!([{ "name": "mongodb", "versions": [], "default_version": "" }])
    );
    assert_eq!(
        value("regions"),
        json!(["eu-west-1", "eu-central-1", "us-east-1"])
    );
    assert_eq!(value("flavors"), json!([]));
    assert_eq!(
        value("plans"),
        json!(["essential", "business", "enterprise"])
    );

    // dbaas_projects shows globo's project list.
    let (status, projects) = dialect(&service, "GET", "/api/project/", None);
    assert_eq!(status, 200, "{projects}");
    let expected: Vec<Json> = projects["project"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!({ "id": p["id"].to_string(), "name": p["name"] }))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(value("projects"), Json::Array(expected));
    assert_eq!(value("projects"), json!([{ "id": "1", "name": "default" }]));

    assert_eq!(
        value("clients"),
        json!({
            "client_acme": "ACTIVE",
            "client_globex": "ACTIVE",
            "client_gone": "QUARANTINED",
        })
    );
    let by_name = value("by_name");
    assert_eq!(by_name["id"], ids[0].as_str());
    assert_eq!(by_name["engine"], "mongodb");
    assert_eq!(by_name["plan"], "essential");
    assert_eq!(by_name["region"], "eu-west-1");
    assert_eq!(by_name["status"], "ACTIVE");
    assert_eq!(
        by_name["endpoint"],
        dialect_database(&service, &ids[0]).unwrap()["endpoint"]
    );
    assert_eq!(value("by_id_name"), "client_globex");

    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));
    // Data sources only read.
    let changes: Vec<_> = mutating_requests(&service)
        .into_iter()
        .filter(|(_, path)| !path.starts_with("/globo/api/database/"))
        .collect();
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!(
        mutating_requests(&service).len(),
        5,
        "the test's own calls only"
    );
}

#[test]
fn globo_unsupported_types_and_attributes_fail_at_plan_naming_globo() {
    let service = LocalService::start_with_dialects(DELAY);
    let cases = [
        (
            r#"resource "dbaas_collection_index" "x" {
  database_id = "1"
  collection  = "orders"
  keys        = [{ field = "email" }]
}"#,
            "dbaas_collection_index is not offered by the globo API",
        ),
        (
            r#"resource "dbaas_ip_restriction" "x" {
  database_id = "1"
  cidr        = "198.51.100.0/24"
}"#,
            "dbaas_ip_restriction is not offered by the globo API",
        ),
        (
            r#"data "dbaas_availability" "x" {
  engine = "mongodb"
}"#,
            "data dbaas_availability is not offered by the globo API",
        ),
        (
            r#"ephemeral "dbaas_credential" "x" {
  database_id = "1"
  username    = "app"
}

resource "dbaas_credential" "copy" {
  database_id         = "1"
  username            = "copy"
  password_wo         = ephemeral.dbaas_credential.x.password
  password_wo_version = 1
}"#,
            "ephemeral dbaas_credential is not offered by the globo API",
        ),
        (
            r#"resource "dbaas_credential" "x" {
  database_id = "1"
  username    = "app"
  roles       = ["readWrite@orders"]
}"#,
            "roles of dbaas_credential is not supported by the globo API",
        ),
        (
            r#"resource "dbaas_credential" "x" {
  database_id         = "1"
  username            = "app"
  password_wo         = "a-chosen-password-123"
  password_wo_version = 1
}"#,
            "password_wo of dbaas_credential is not supported by the globo API",
        ),
        (
            r#"resource "dbaas_database" "x" {
  name   = "client_x"
  engine = "mongodb"
}"#,
            "engine of dbaas_database is not supported by the globo API",
        ),
        (
            r#"resource "dbaas_database" "x" {
  name    = "client_x"
  version = "8.0"
}"#,
            "version of dbaas_database is not supported by the globo API",
        ),
        (
            r#"resource "dbaas_database" "x" {
  name   = "client_x"
  flavor = "db1-4"
}"#,
            "flavor of dbaas_database is not supported by the globo API",
        ),
        (
            r#"resource "dbaas_database" "x" {
  name       = "client_x"
  node_count = 1
}"#,
            "node_count of dbaas_database is not supported by the globo API",
        ),
        (
            r#"resource "dbaas_database" "x" {
  name        = "client_x"
  description = "free text"
}"#,
            "description of dbaas_database is not supported by the globo API",
        ),
    ];
    for (body, message) in cases {
        let work = globo_workspace(&service);
        work.write(&format!("{}\n{body}\n", service.globo_provider_block("")));
        let output = work.run(&["plan", "-input=false", "-no-color"]);
        assert!(!output.status.success(), "plan must fail for:\n{body}");
        let flat = flat(&output);
        assert!(
            flat.contains(message),
            "expected `{message}`:\n{}",
            text(&output)
        );
        assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    }
    let changes = mutating_requests(&service);
    assert!(changes.is_empty(), "nothing may be changed: {changes:?}");
    assert!(dialect_databases(&service).is_empty());
}

#[test]
fn globo_invalid_names_fail_at_plan_pointing_at_name_without_requests() {
    let service = LocalService::start_with_dialects(DELAY);
    let cases = [
        (
            "client-acme",
            r#"would be stored by globo as "client_acme""#,
        ),
        ("admin", "is reserved by MongoDB"),
        (
            "Client_Acme",
            r#"would be stored by globo as "client_acme""#,
        ),
    ];
    for (name, problem) in cases {
        let work = globo_workspace(&service);
        work.write(&format!(
            "{}\nresource \"dbaas_database\" \"x\" {{\n  name = \"{name}\"\n}}\n",
            service.globo_provider_block("")
        ));
        let output = work.run(&["plan", "-input=false", "-no-color"]);
        assert!(!output.status.success(), "plan must fail for {name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let flat = flat(&output);
        assert!(
            flat.contains("Invalid Database Name")
                && stderr.contains(&format!("name = \"{name}\""))
                && flat.contains(problem)
                && flat.contains("lowercase letters (a-z), digits and underscores"),
            "the error must point at name and say `{problem}`:\n{}",
            text(&output)
        );
    }
    let requests = provider_requests(&service);
    assert!(
        requests.is_empty(),
        "no request may reach globo: {requests:?}"
    );
}

#[test]
fn globo_wrong_password_is_refused_with_globo_message() {
    let service = LocalService::start_with_dialects(DELAY);
    let mut work = Workspace::new(&service);
    let wrong = "not-the-globo-password-42";
    work.env("GLOBO_PASSWORD", wrong);
    work.write(&database(
        &service,
        "client_acme",
        "essential",
        "eu-west-1",
        "",
    ));
    let output = work.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(!output.status.success(), "{}", text(&output));
    let flat = flat(&output);
    assert!(
        flat.contains("Error Creating Database") && flat.contains("Invalid username/password"),
        "{}",
        text(&output)
    );
    assert_hidden(&output, wrong, "the wrong password");
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    // globo's client reads the catalog before it creates, so the refusal comes first.
    let changes = mutating_requests(&service);
    assert!(changes.is_empty(), "{changes:?}");
    assert!(dialect_databases(&service).is_empty());
    assert!(service.databases().is_empty());
}

#[test]
fn globo_example_applies_plans_clean_and_destroy_quarantines() {
    let service = LocalService::start_with_dialects(DELAY);
    let mut work = Workspace::new(&service);
    // The example verbatim: it declares its own required_providers, so `work.write` (which
    // prepends another) is not used.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/globo/main.tf");
    std::fs::copy(&example, work.path().join("main.tf")).expect("copy examples/globo/main.tf");
    work.env("GLOBO_ENDPOINT", &format!("{}/globo", service.base_url()));
    work.env("GLOBO_USERNAME", GLOBO_USERNAME);
    work.env("GLOBO_PASSWORD", GLOBO_PASSWORD);

    let output = work.apply();
    assert_hidden(&output, GLOBO_PASSWORD, "GLOBO_PASSWORD");
    let mut names = dialect_database_names(&service);
    names.sort();
    assert_eq!(names, vec!["client_acme", "client_globex"]);
    for client in ["acme", "globex"] {
        let db = work.resource(&format!("dbaas_database.client[\"{client}\"]"));
        assert_eq!(db["status"], "ACTIVE");
        let id = db["id"].as_str().unwrap().to_string();
        assert_eq!(
            dialect_users(&service, &id),
            vec!["app".to_string(), format!("u_client_{client}")]
        );
        let app = work.resource(&format!("dbaas_credential.app[\"{client}\"]"));
        let password = app["password"].as_str().unwrap().to_string();
        assert_hidden(&output, &password, "an app password");
        assert!(password_works(&service, &id, "app", &password));
    }
    let outputs: Json = serde_json::from_slice(&work.ok(&["output", "-json"]).stdout).unwrap();
    assert_eq!(outputs["app_passwords"]["sensitive"], true);
    assert!(
        outputs["endpoints"]["value"]["acme"]
            .as_str()
            .is_some_and(|e| e.ends_with("/client_acme")),
        "{}",
        outputs["endpoints"]
    );
    assert_eq!(outputs["projects"]["value"], json!(["default"]));

    let (code, output) = work.plan_exit_code();
    assert_eq!(code, 0, "{}", text(&output));

    // The example keeps globo's default: destroy quarantines the databases.
    let output = work.destroy();
    assert!(
        flat(&output).contains("Database Quarantined, Not Removed"),
        "{}",
        text(&output)
    );
    let quarantined: Vec<Json> = dialect_databases(&service);
    assert_eq!(quarantined.len(), 2);
    assert!(
        quarantined.iter().all(|db| db["quarantine_dt"].is_string()),
        "{quarantined:?}"
    );
}
