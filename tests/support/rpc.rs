//! The provider server driven directly, as Terraform would over gRPC, for the protocol-level
//! tests (`tests/rpc_*.rs`).

use dbaas::provider::DbaasProvider;
use dbaas::tfplugin::proto::tfplugin6 as pb;
use dbaas::tfplugin::proto::tfplugin6::provider_server::Provider as _;
use dbaas::tfplugin::rpc::ProviderServer;
use dbaas::tfplugin::value::{self, Type, Value};
use tonic::Request;

use super::{LocalService, TOKEN};

/// `value` as the msgpack `DynamicValue` Terraform sends.
pub fn dynamic(value: &Value, ty: &Type) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: value::to_msgpack(value, ty).expect("encodes"),
        json: Vec::new(),
    }
}

/// GetProviderSchema's answer.
pub async fn schema(server: &ProviderServer<DbaasProvider>) -> pb::get_provider_schema::Response {
    server
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner()
}

/// The object type of a schema's attributes (the schemas these tests use have no blocks).
pub fn implied_type(schema: &pb::Schema) -> Type {
    let block = schema.block.as_ref().unwrap();
    Type::object(block.attributes.iter().map(|a| {
        (
            a.name.clone(),
            Type::from_json_bytes(&a.r#type).expect("attribute type"),
        )
    }))
}

/// The provider configuration for `service`'s native API, polling every 100 ms.
pub fn local_config(service: &LocalService) -> Value {
    Value::object([
        ("poll_interval", Value::string("100ms")),
        (
            "local",
            Value::object([
                ("endpoint", Value::string(service.base_url())),
                ("token", Value::string(TOKEN)),
            ]),
        ),
    ])
}

/// A server that ConfigureProvider accepted `config` on.
pub async fn configured(config: &Value) -> ProviderServer<DbaasProvider> {
    let server = ProviderServer::new(DbaasProvider);
    let ty = dbaas::tfplugin::resource::Provider::schema(&DbaasProvider)
        .block
        .implied_type();
    let reply = server
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: Some(dynamic(config, &ty)),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(reply.diagnostics.is_empty(), "{:?}", reply.diagnostics);
    server
}
