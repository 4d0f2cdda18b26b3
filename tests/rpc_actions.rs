//! The action RPCs at the protocol level, on the provider server itself (no Terraform in
//! between): what GetProviderSchema and GetMetadata announce, ValidateActionConfig's refusals
//! naming the attribute (offline, on an unconfigured provider), PlanAction's refusal naming an
//! API without the operation before any request, and InvokeAction's events: progress while it
//! runs, then one Completed, with exactly one operation request sent.

mod support;

use std::time::Duration;

use dbaas::provider::DbaasProvider;
use dbaas::tfplugin::proto::tfplugin6 as pb;
use dbaas::tfplugin::proto::tfplugin6::provider_server::Provider as _;
use dbaas::tfplugin::rpc::ProviderServer;
use dbaas::tfplugin::value::{Type, Value};
use futures::StreamExt as _;
use support::rpc::{configured, dynamic, implied_type, local_config, schema};
use support::{COMPOSE_ACCOUNT, COMPOSE_DEPLOYMENT, COMPOSE_TOKEN, LocalService};
use tonic::Request;

async fn action_type(server: &ProviderServer<DbaasProvider>, name: &str) -> Type {
    let schemas = schema(server).await.action_schemas;
    implied_type(schemas[name].schema.as_ref().expect("a schema"))
}

fn config(attributes: &[(&str, Value)]) -> Value {
    Value::object(attributes.iter().cloned())
}

async fn validate(
    server: &ProviderServer<DbaasProvider>,
    name: &str,
    config: &Value,
) -> Vec<pb::Diagnostic> {
    let ty = action_type(server, "dbaas_restart").await;
    server
        .validate_action_config(Request::new(pb::validate_action_config::Request {
            type_name: name.into(),
            config: Some(dynamic(config, &ty)),
        }))
        .await
        .unwrap()
        .into_inner()
        .diagnostics
}

async fn plan(
    server: &ProviderServer<DbaasProvider>,
    name: &str,
    config: &Value,
) -> Vec<pb::Diagnostic> {
    let ty = action_type(server, name).await;
    server
        .plan_action(Request::new(pb::plan_action::Request {
            action_type: name.into(),
            config: Some(dynamic(config, &ty)),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner()
        .diagnostics
}

/// Every event of one InvokeAction, as progress messages and the final diagnostics.
async fn invoke(
    server: &ProviderServer<DbaasProvider>,
    name: &str,
    config: &Value,
) -> (Vec<String>, Vec<pb::Diagnostic>) {
    use pb::invoke_action::event::Type as Event;
    let ty = action_type(server, name).await;
    let events: Vec<pb::invoke_action::Event> = server
        .invoke_action(Request::new(pb::invoke_action::Request {
            action_type: name.into(),
            config: Some(dynamic(config, &ty)),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner()
        .map(|event| event.unwrap())
        .collect()
        .await;
    let (last, progress) = events.split_last().expect("at least the Completed event");
    let messages = progress
        .iter()
        .map(|event| match &event.r#type {
            Some(Event::Progress(progress)) => progress.message.clone(),
            other => panic!("only the last event completes: {other:?}"),
        })
        .collect();
    let Some(Event::Completed(completed)) = &last.r#type else {
        panic!("the last event is Completed: {last:?}");
    };
    (messages, completed.diagnostics.clone())
}

fn attribute_of(diagnostic: &pb::Diagnostic) -> String {
    format!("{:?}", diagnostic.attribute)
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_schema_and_metadata_announce_both_actions() {
    let server = ProviderServer::new(DbaasProvider);
    let schemas = schema(&server).await.action_schemas;
    let mut names: Vec<&String> = schemas.keys().collect();
    names.sort();
    assert_eq!(names, ["dbaas_failover", "dbaas_restart"]);
    let attributes = |name: &str| -> Vec<(String, bool)> {
        let block = schemas[name]
            .schema
            .as_ref()
            .unwrap()
            .block
            .as_ref()
            .unwrap();
        block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.required))
            .collect()
    };
    assert_eq!(
        attributes("dbaas_failover"),
        [("database_id".into(), true), ("timeout".into(), false)]
    );
    assert!(attributes("dbaas_restart").contains(&("node".into(), false)));
    let metadata = server
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    let mut listed: Vec<String> = metadata
        .actions
        .iter()
        .map(|a| a.type_name.clone())
        .collect();
    listed.sort();
    assert_eq!(listed, ["dbaas_failover", "dbaas_restart"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_validate_action_config_names_the_attribute_at_fault() {
    // Never configured: validation needs no API.
    let server = ProviderServer::new(DbaasProvider);
    let cases = [
        (
            config(&[("database_id", Value::string(" "))]),
            "database_id",
            "must name a database",
        ),
        (
            config(&[
                ("database_id", Value::string("db-1")),
                ("node", Value::number(0)),
            ]),
            "node",
            "from 1 to the database's `node_count`",
        ),
        (
            config(&[
                ("database_id", Value::string("db-1")),
                ("timeout", Value::string("soon")),
            ]),
            "timeout",
            "soon",
        ),
    ];
    for (config, attribute, says) in cases {
        let diagnostics = validate(&server, "dbaas_restart", &config).await;
        assert_eq!(diagnostics.len(), 1, "{config:?}: {diagnostics:?}");
        assert!(
            attribute_of(&diagnostics[0]).contains(attribute),
            "{diagnostics:?}"
        );
        assert!(diagnostics[0].detail.contains(says), "{diagnostics:?}");
    }
    // Unknown values are Terraform's to fill in later, not errors.
    let unknown = config(&[
        ("database_id", Value::unknown()),
        ("node", Value::unknown()),
    ]);
    assert!(
        validate(&server, "dbaas_restart", &unknown)
            .await
            .is_empty()
    );
    let fine = config(&[
        ("database_id", Value::string("db-1")),
        ("node", Value::number(2)),
    ]);
    assert!(validate(&server, "dbaas_restart", &fine).await.is_empty());
    let unknown_type = validate(&server, "dbaas_explode", &fine).await;
    assert!(
        unknown_type[0].summary.contains("Unknown action type"),
        "{unknown_type:?}"
    );
}

#[test]
fn rpc_plan_action_refuses_an_api_without_the_operation_before_any_request() {
    let service = LocalService::start_with_dialects(Duration::ZERO);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let compose = Value::object([(
            "compose",
            Value::object([
                (
                    "endpoint",
                    Value::string(format!("{}/compose", service.base_url())),
                ),
                ("token", Value::string(COMPOSE_TOKEN)),
                ("account", Value::string(COMPOSE_ACCOUNT)),
                ("deployment", Value::string(COMPOSE_DEPLOYMENT)),
            ]),
        )]);
        let server = configured(&compose).await;
        let target = config(&[("database_id", Value::string("orders"))]);
        for name in ["dbaas_failover", "dbaas_restart"] {
            let diagnostics = plan(&server, name, &target).await;
            assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
            assert!(
                diagnostics[0]
                    .detail
                    .contains(&format!("{name} is not offered by the compose API")),
                "{diagnostics:?}"
            );
        }
        let local = configured(&local_config(&service)).await;
        assert!(plan(&local, "dbaas_failover", &target).await.is_empty());
    });
    assert!(
        service.mutating_requests().is_empty(),
        "{:?}",
        service.mutating_requests()
    );
}

#[test]
fn rpc_invoke_action_streams_progress_then_completes_after_one_request() {
    let service = LocalService::start(Duration::from_millis(200));
    let id = service.ready_database("client-acme");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = configured(&local_config(&service)).await;
        let target = config(&[("database_id", Value::string(&id))]);
        let (progress, diagnostics) = invoke(&server, "dbaas_failover", &target).await;
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(progress.len(), 3, "{progress:?}");
        assert!(
            progress[0].contains("waiting until it is READY"),
            "{progress:?}"
        );
        assert!(progress[1].contains("failover started"), "{progress:?}");
        assert!(
            progress[2].contains("READY again after the failover"),
            "{progress:?}"
        );

        // A node the database does not have: refused by the API, named, nothing retried.
        let beyond = config(&[
            ("database_id", Value::string(&id)),
            ("node", Value::number(9)),
        ]);
        let (_, diagnostics) = invoke(&server, "dbaas_restart", &beyond).await;
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert!(
            attribute_of(&diagnostics[0]).contains("node"),
            "{diagnostics:?}"
        );

        // A database that is not there: one Completed event with the error, no progress after.
        let missing = config(&[("database_id", Value::string("db-000000000000"))]);
        let (_, diagnostics) = invoke(&server, "dbaas_failover", &missing).await;
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    });
    assert_eq!(service.database_named("client-acme")["status"], "READY");
    let operations: Vec<String> = service
        .mutating_requests()
        .into_iter()
        .filter(|(_, path)| path.ends_with("/failover") || path.ends_with("/restart"))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert_eq!(
        operations,
        [
            format!("POST /v1/databases/{id}/failover"),
            format!("POST /v1/databases/{id}/restart"),
        ]
    );
}
