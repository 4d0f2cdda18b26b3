//! The list-resource and config-generation RPCs at the protocol level, on the provider server
//! itself (no Terraform in between): what GetProviderSchema and GetMetadata announce,
//! ValidateListResourceConfig's plan-time refusals, ListResource's events (identity, display
//! name, the whole object on request, `limit`), and GenerateResourceConfig's shape.

mod support;

use std::time::Duration;

use dbaas::provider::DbaasProvider;
use dbaas::tfplugin::proto::tfplugin6 as pb;
use dbaas::tfplugin::proto::tfplugin6::provider_server::Provider as _;
use dbaas::tfplugin::rpc::ProviderServer;
use dbaas::tfplugin::value::{self, Type, Value};
use futures::StreamExt as _;
use support::rpc::{configured, dynamic, implied_type, local_config, schema};
use support::{GLOBO_PASSWORD, GLOBO_USERNAME, LocalService};
use tonic::Request;

async fn list(
    server: &ProviderServer<DbaasProvider>,
    type_name: &str,
    config: Value,
    include_resource_object: bool,
    limit: i64,
) -> Vec<pb::list_resource::Event> {
    let config_ty = implied_type(&schema(server).await.list_resource_schemas[type_name]);
    let stream = server
        .list_resource(Request::new(pb::list_resource::Request {
            type_name: type_name.into(),
            config: Some(dynamic(&config, &config_ty)),
            include_resource_object,
            limit,
        }))
        .await
        .unwrap()
        .into_inner();
    stream.map(|event| event.unwrap()).collect().await
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_schema_announces_list_resources_and_config_generation() {
    let server = ProviderServer::new(DbaasProvider);
    let schema = schema(&server).await;
    let mut lists: Vec<&String> = schema.list_resource_schemas.keys().collect();
    lists.sort();
    assert_eq!(
        lists,
        [
            "dbaas_collection_index",
            "dbaas_credential",
            "dbaas_database",
            "dbaas_ip_restriction"
        ]
    );
    let attributes = |name: &str| -> Vec<String> {
        schema.list_resource_schemas[name]
            .block
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .map(|a| a.name.clone())
            .collect()
    };
    assert_eq!(attributes("dbaas_database"), ["name_prefix"]);
    assert_eq!(
        attributes("dbaas_collection_index"),
        ["database_id", "collection"]
    );
    assert!(schema.server_capabilities.unwrap().generate_resource_config);
    let metadata = server
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metadata.list_resources.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_validate_list_config_refuses_an_empty_database_id_and_unknown_types() {
    let server = ProviderServer::new(DbaasProvider);
    let ty = implied_type(&schema(&server).await.list_resource_schemas["dbaas_credential"]);
    let validate = |type_name: &str, config: Value| {
        let request = pb::validate_list_resource_config::Request {
            type_name: type_name.into(),
            config: Some(dynamic(&config, &ty)),
            include_resource_object: None,
            limit: None,
        };
        async {
            server
                .validate_list_resource_config(Request::new(request))
                .await
        }
    };
    let empty = validate(
        "dbaas_credential",
        Value::object([("database_id", Value::string(" "))]),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(empty.diagnostics.len(), 1, "{:?}", empty.diagnostics);
    assert!(empty.diagnostics[0].detail.contains("`database_id`"));
    assert!(empty.diagnostics[0].attribute.is_some());
    let fine = validate(
        "dbaas_credential",
        Value::object([("database_id", Value::Null)]),
    )
    .await
    .unwrap()
    .into_inner();
    assert!(fine.diagnostics.is_empty(), "{:?}", fine.diagnostics);
    let unknown = validate("dbaas_widget", Value::Null)
        .await
        .unwrap()
        .into_inner();
    assert!(
        unknown.diagnostics[0]
            .summary
            .contains("Unknown resource type")
    );
}

#[test]
fn rpc_list_resource_streams_identities_objects_and_honours_the_limit() {
    let service = LocalService::start(Duration::ZERO);
    let first = service.ready_database("client-a");
    service.ready_database("client-b");
    service.ready_database("other");
    service.ready_credential(&first, "app");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(list_resource_events(&service, &first));
}

async fn list_resource_events(service: &LocalService, first: &str) {
    let server = configured(&local_config(service)).await;

    let prefixed = Value::object([("name_prefix", Value::string("client-"))]);
    let events = list(&server, "dbaas_database", prefixed.clone(), false, 0).await;
    let names: Vec<&str> = events.iter().map(|e| e.display_name.as_str()).collect();
    assert_eq!(names, ["client-a", "client-b"]);
    assert!(
        events
            .iter()
            .all(|e| e.identity.is_some() && e.resource_object.is_none())
    );
    let identity_ty = Type::object([("id", Type::String)]);
    let identity = value::from_msgpack(
        &events[0]
            .identity
            .as_ref()
            .unwrap()
            .identity_data
            .as_ref()
            .unwrap()
            .msgpack,
        &identity_ty,
    )
    .unwrap();
    assert_eq!(identity.attr("id").as_str(), Some(first));

    let limited = list(&server, "dbaas_database", prefixed, true, 1).await;
    assert_eq!(limited.len(), 1);
    let database_ty = server.schemas().resources["dbaas_database"]
        .block
        .implied_type();
    let object = value::from_msgpack(
        &limited[0]
            .resource_object
            .as_ref()
            .expect("the whole object")
            .msgpack,
        &database_ty,
    )
    .unwrap();
    assert_eq!(object.attr("name").as_str(), Some("client-a"));
    assert_eq!(object.attr("status").as_str(), Some("READY"));

    let users = list(&server, "dbaas_credential", Value::Null, false, 0).await;
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0].display_name, "app on client-a");
    assert!(users[0].diagnostic.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_generate_resource_config_keeps_only_settable_attributes() {
    let server = ProviderServer::new(DbaasProvider);
    let served = server.schemas();
    let ty = served.resources["dbaas_credential"].block.implied_type();
    let state = Value::object([
        ("id", Value::string("db-1/app")),
        ("database_id", Value::string("db-1")),
        ("username", Value::string("app")),
        ("roles", Value::list([Value::string("read@orders")])),
        ("password", Value::string("generated-secret")),
        ("status", Value::string("READY")),
    ]);
    let reply = server
        .generate_resource_config(Request::new(pb::generate_resource_config::Request {
            type_name: "dbaas_credential".into(),
            state: Some(dynamic(&state, &ty)),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(reply.diagnostics.is_empty(), "{:?}", reply.diagnostics);
    let config = value::from_msgpack(&reply.config.unwrap().msgpack, &ty).unwrap();
    assert_eq!(config.attr("username").as_str(), Some("app"));
    assert_eq!(config.attr("database_id").as_str(), Some("db-1"));
    assert_eq!(config.attr("roles"), state.attr("roles"));
    for not_settable in ["id", "password", "status"] {
        assert!(
            config.attr(not_settable).is_null(),
            "{not_settable}: {config:?}"
        );
    }
}

/// Events go out as each object is read, not after all of them: with Terraform not reading,
/// the listing pauses once a few events wait, so most of 40 databases are still unread. Over
/// globo, whose reads are one request each (no batched refresh), the reads can be counted.
#[test]
fn rpc_list_resource_streams_while_it_reads() {
    const DATABASES: usize = 40;
    let service = LocalService::start_with_dialects(Duration::ZERO);
    for n in 0..DATABASES {
        service.ready_database(&format!("client-{n:02}"));
    }
    let reads = || {
        service
            .provider_requests()
            .into_iter()
            .filter(|(method, path)| {
                method == "GET" && path.starts_with("/globo/api/database/") && path.len() > 21
            })
            .count()
    };
    let globo = Value::object([(
        "globo",
        Value::object([
            (
                "endpoint",
                Value::string(format!("{}/globo", service.base_url())),
            ),
            ("username", Value::string(GLOBO_USERNAME)),
            ("password", Value::string(GLOBO_PASSWORD)),
        ]),
    )]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (server, mut stream) = runtime.block_on(async {
        let server = configured(&globo).await;
        let config_ty =
            implied_type(&schema(&server).await.list_resource_schemas["dbaas_database"]);
        let stream = server
            .list_resource(Request::new(pb::list_resource::Request {
                type_name: "dbaas_database".into(),
                config: Some(dynamic(
                    &Value::object([("name_prefix", Value::Null)]),
                    &config_ty,
                )),
                include_resource_object: true,
                limit: 0,
            }))
            .await
            .unwrap()
            .into_inner();
        (server, stream)
    });
    let first = runtime.block_on(stream.next()).unwrap().unwrap();
    // globo spells names with underscores.
    assert_eq!(first.display_name, "client_00");
    // However long the listing runs on, it stops when the events waiting fill up.
    std::thread::sleep(Duration::from_millis(300));
    let read_so_far = reads();
    eprintln!("{read_so_far} of {DATABASES} read while Terraform had taken one");
    assert!(
        read_so_far < DATABASES,
        "{read_so_far} of {DATABASES} read before Terraform took more than one: {:?}",
        service.provider_requests()
    );
    let rest: Vec<_> = runtime.block_on(stream.collect());
    assert_eq!(rest.len(), DATABASES - 1);
    drop(server);
    assert_eq!(reads(), DATABASES);
}
