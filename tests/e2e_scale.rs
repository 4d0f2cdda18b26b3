//! Many resources under the real Terraform. The batched refresh: a plan of 200 databases (three
//! of them with a credential, an index and two IP restrictions) is served from one listing, and
//! still notices what changed outside Terraform (a database deleted, one changed, an IP
//! restriction deleted). The rate limit: `requests_per_second` holds across all resources of
//! a configuration, however many Terraform applies in parallel.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{LocalService, Workspace, text};

const DATABASES: usize = 200;

fn config() -> String {
    format!(
        r#"
provider "dbaas" {{}}

resource "dbaas_database" "client" {{
  count       = {DATABASES}
  name        = format("client-%03d", count.index)
  description = "Database of client ${{count.index}}"
}}

resource "dbaas_credential" "app" {{
  count       = 3
  database_id = dbaas_database.client[count.index].id
  username    = "app"
}}

resource "dbaas_collection_index" "by_customer" {{
  count       = 3
  database_id = dbaas_database.client[count.index].id
  collection  = "orders"
  keys        = [{{ field = "customer_id" }}]
}}

resource "dbaas_ip_restriction" "office" {{
  count       = 3
  database_id = dbaas_database.client[count.index].id
  cidr        = "10.0.${{count.index}}.0/24"
}}

resource "dbaas_ip_restriction" "vpn" {{
  count       = 3
  database_id = dbaas_database.client[count.index].id
  cidr        = "192.168.${{count.index}}.0/24"
}}
"#
    )
}

/// Polls `done` until it holds; a hang guard, not a timing assertion.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never happened"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn batched_refresh_of_200_databases_notices_changes_outside_terraform() {
    let service = LocalService::start(Duration::ZERO);
    let work = Workspace::new(&service);
    work.write(&config());
    work.apply();

    // Nothing changed: the whole refresh is a couple of listings, not one read per resource.
    service.call("DELETE", "/v1/_admin/requests", None);
    work.assert_plan_empty();
    let quiet = service.provider_requests();
    assert!(
        quiet.len() <= 5,
        "a plan of {} resources sent {} requests: {quiet:?}",
        DATABASES + 12,
        quiet.len()
    );

    // Outside Terraform: delete client-010, change client-020, delete one IP restriction.
    let gone = service.database_id("client-010");
    let (status, body) = service.call("DELETE", &format!("/v1/databases/{gone}"), None);
    assert_eq!(status, 202, "{body}");
    let changed = service.database_id("client-020");
    let (status, body) = service.call(
        "PATCH",
        &format!("/v1/databases/{changed}"),
        Some(json!({"description": "changed by hand"})),
    );
    assert_eq!(status, 202, "{body}");
    let parent = service.database_id("client-001");
    let restriction = format!("/v1/databases/{parent}/ip-restrictions/10.0.1.0%2F24");
    let (status, body) = service.call("DELETE", &restriction, None);
    assert_eq!(status, 202, "{body}");
    eventually("the deletes to end", || {
        service
            .call("GET", &format!("/v1/databases/{gone}"), None)
            .0
            == 404
            && service.call("GET", &restriction, None).0 == 404
    });

    service.call("DELETE", "/v1/_admin/requests", None);
    let output = work.assert_plan_changes(&[
        "dbaas_database.client[10] will be created",
        "dbaas_database.client[20] will be updated in-place",
        "dbaas_ip_restriction.office[1] will be created",
        "Plan: 2 to add, 1 to change, 0 to destroy.",
    ]);
    let requests = service.provider_requests();
    // What is missing from the listing is read on its own before it is declared gone.
    for confirmed in [format!("/v1/databases/{gone}"), restriction.clone()] {
        assert!(
            requests.contains(&("GET".to_owned(), confirmed.clone())),
            "{confirmed} was not read on its own: {requests:?}\n{}",
            text(&output)
        );
    }
    assert!(
        requests.len() <= 7,
        "the refresh after changes sent {} requests: {requests:?}",
        requests.len()
    );
}

#[test]
fn requests_per_second_holds_across_all_resources_of_a_configuration() {
    const RATE: usize = 10;
    let service = LocalService::start(Duration::ZERO);
    let work = Workspace::new(&service);
    work.write(&format!(
        r#"
provider "dbaas" {{
  requests_per_second = {RATE}
}}

resource "dbaas_database" "client" {{
  count = 30
  name  = format("client-%03d", count.index)
}}
"#
    ));
    service.call("DELETE", "/v1/_admin/requests", None);
    work.apply();
    let (_, body) = service.call("GET", "/v1/_admin/requests", None);
    let arrivals: Vec<chrono::DateTime<chrono::FixedOffset>> = body["requests"]
        .as_array()
        .expect("request log")
        .iter()
        .filter(|entry| {
            !entry["path"]
                .as_str()
                .unwrap_or_default()
                .starts_with("/v1/_admin")
        })
        .map(|entry| {
            chrono::DateTime::parse_from_rfc3339(entry["at"].as_str().expect("at")).expect("time")
        })
        .collect();
    assert!(
        arrivals.len() >= 60,
        "30 creates and their reads: {}",
        arrivals.len()
    );
    // The limiter spaces requests evenly (a burst of one): no second holds more than the
    // rate, plus one for a request that left on the edge of the second before.
    for (i, first) in arrivals.iter().enumerate() {
        let within = arrivals[i..]
            .iter()
            .take_while(|at| (**at - *first).num_milliseconds() < 1000)
            .count();
        assert!(
            within <= RATE + 1,
            "{within} requests arrived within one second from {first} at {RATE}/s"
        );
    }
}
