//! Actions (Terraform 1.14+) with the real Terraform: `dbaas_failover` run by
//! `terraform apply -invoke`, `dbaas_restart` from a resource's `action_trigger`, progress shown
//! while they run, the database READY after; and an API without the operation refusing the
//! action at plan time, naming the API.

mod support;

use std::time::Duration;

use support::{LocalService, Workspace, fold_whitespace, text};

const DATABASE: &str = r#"provider "dbaas" {
  poll_interval = "100ms"
}

resource "dbaas_database" "client" {
  name        = "client-acme"
  description = "DESCRIPTION"

  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.dbaas_restart.first_node]
    }
  }
}

action "dbaas_failover" "client" {
  config {
    database_id = dbaas_database.client.id
  }
}

action "dbaas_restart" "first_node" {
  config {
    database_id = dbaas_database.client.id
    node        = 1
  }
}
"#;

fn operations(service: &LocalService, id: &str) -> Vec<String> {
    service
        .mutating_requests()
        .into_iter()
        .filter(|(_, path)| {
            path.starts_with(&format!("/v1/databases/{id}/"))
                && (path.ends_with("/failover") || path.ends_with("/restart"))
        })
        .map(|(method, path)| format!("{method} {}", path.rsplit('/').next().unwrap()))
        .collect()
}

#[test]
fn failover_by_invoke_and_restart_by_trigger_leave_the_database_ready() {
    let service = LocalService::start(Duration::from_millis(300));
    let work = Workspace::new(&service);
    work.write(&DATABASE.replace("DESCRIPTION", "first"));
    work.apply();
    let id = service.database_id("client-acme");
    assert!(
        operations(&service, &id).is_empty(),
        "a create triggers nothing"
    );

    let invoked = work.ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-invoke=action.dbaas_failover.client",
    ]);
    let shown = fold_whitespace(&text(&invoked));
    assert!(
        shown.contains("failover started (UPDATING: failing over")
            && shown.contains("READY again after the failover"),
        "progress should be shown:\n{}",
        text(&invoked)
    );
    assert_eq!(operations(&service, &id), ["POST failover"]);
    assert_eq!(service.database_named("client-acme")["status"], "READY");

    // An update of the database triggers the restart of node 1.
    work.write(&DATABASE.replace("DESCRIPTION", "second"));
    let applied = work.apply();
    assert!(
        fold_whitespace(&text(&applied)).contains("READY again after the restart of node 1"),
        "{}",
        text(&applied)
    );
    assert_eq!(operations(&service, &id), ["POST failover", "POST restart"]);
    assert_eq!(service.database_named("client-acme")["status"], "READY");
    work.assert_plan_empty();
}

#[test]
fn actions_are_refused_at_plan_time_where_the_api_lacks_them() {
    let service = LocalService::start_with_ovh(Duration::ZERO);
    let mut work = Workspace::new(&service);
    work.ovh_env();
    work.write(&format!(
        "{}\naction \"dbaas_failover\" \"x\" {{\n  config {{\n    database_id = \"0f1e2d3c-0000-4000-8000-000000000000\"\n  }}\n}}\n",
        service.ovh_provider_block("")
    ));
    let refused = work.fails(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-invoke=action.dbaas_failover.x",
    ]);
    assert!(
        fold_whitespace(&text(&refused))
            .contains("action dbaas_failover is not offered by the ovh API"),
        "{}",
        text(&refused)
    );
    assert!(
        service
            .mutating_requests()
            .iter()
            .all(|(_, path)| !path.contains("failover")),
        "nothing may be sent"
    );
}

#[test]
fn action_configuration_is_checked_before_anything_runs() {
    let service = LocalService::start(Duration::ZERO);
    let work = Workspace::new(&service);
    work.write(
        "provider \"dbaas\" {}\n\naction \"dbaas_restart\" \"x\" {\n  config {\n    database_id = \"db-0123456789ab\"\n    node        = 0\n    timeout     = \"soon\"\n  }\n}\n",
    );
    let refused = work.fails(&["validate", "-no-color"]);
    let shown = fold_whitespace(&text(&refused));
    assert!(
        shown.contains("Invalid Node") && shown.contains("Invalid Timeout"),
        "{shown}"
    );
}

#[test]
fn goaddon_failover_and_node_reboot_wait_for_the_replica_set() {
    let (service, work) = LocalService::start_vendor_test(Duration::from_millis(300));
    work.write(&format!(
        r#"{}
data "dbaas_databases" "project" {{}}

action "dbaas_failover" "project" {{
  config {{
    database_id = one(data.dbaas_databases.project.databases).id
  }}
}}

action "dbaas_restart" "first_node" {{
  config {{
    database_id = one(data.dbaas_databases.project.databases).id
    node        = 1
  }}
}}

action "dbaas_restart" "every_node" {{
  config {{
    database_id = one(data.dbaas_databases.project.databases).id
  }}
}}
"#,
        service.goaddon_provider_block("")
    ));
    let invoke = |action: &str| {
        work.run(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            &format!("-invoke=action.{action}"),
        ])
    };
    let failover = invoke("dbaas_failover.project");
    let shown = fold_whitespace(&text(&failover));
    assert!(failover.status.success(), "{}", text(&failover));
    assert!(
        shown.contains("failover started") && shown.contains("READY again after the failover"),
        "{shown}"
    );
    let reboot = invoke("dbaas_restart.first_node");
    assert!(reboot.status.success(), "{}", text(&reboot));
    let goaddon_posts: Vec<String> = service
        .mutating_requests_to(support::Dialect::Goaddon)
        .into_iter()
        .map(|(method, path)| format!("{method} {}", path.rsplit_once("/projects/").unwrap().1))
        .map(|call| {
            call.split_once('/')
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or(call)
        })
        .collect();
    assert_eq!(
        goaddon_posts,
        ["failover", "nodes/0/reboot"],
        "node 1 is host index 0"
    );
    // goaddon reboots one node at a time.
    let every = invoke("dbaas_restart.every_node");
    assert!(!every.status.success());
    assert!(
        fold_whitespace(&text(&every)).contains("goaddon reboots one node at a time"),
        "{}",
        text(&every)
    );
}
