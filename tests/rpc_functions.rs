//! The provider-defined functions at the protocol level, on the provider server itself (no
//! Terraform in between, never configured): what GetFunctions, GetProviderSchema and
//! GetMetadata announce, and CallFunction's results and errors, with the index of the argument
//! at fault, for unknown names, wrong argument counts, nulls, unknowns and undecodable bytes.

use std::collections::BTreeSet;

use dbaas::provider::DbaasProvider;
use dbaas::tfplugin::proto::tfplugin6 as pb;
use dbaas::tfplugin::proto::tfplugin6::provider_server::Provider as _;
use dbaas::tfplugin::rpc::ProviderServer;
use dbaas::tfplugin::value::{self, Type, Value};
use tonic::Request;

const NAMES: [&str; 3] = ["connection_uri", "import_id", "parse_id"];

fn string(text: &str) -> pb::DynamicValue {
    encoded(&Value::string(text), &Type::String)
}

fn encoded(value: &Value, ty: &Type) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: value::to_msgpack(value, ty).expect("encodes"),
        json: Vec::new(),
    }
}

async fn call(name: &str, arguments: Vec<pb::DynamicValue>) -> pb::call_function::Response {
    ProviderServer::new(DbaasProvider)
        .call_function(Request::new(pb::call_function::Request {
            name: name.into(),
            arguments,
        }))
        .await
        .expect("CallFunction answers without a gRPC error")
        .into_inner()
}

async fn call_strings(name: &str, arguments: &[&str]) -> pb::call_function::Response {
    call(name, arguments.iter().map(|a| string(a)).collect()).await
}

/// The result, decoded as `ty`; fails the test on an error.
fn result(reply: &pb::call_function::Response, ty: &Type) -> Value {
    assert_eq!(reply.error, None);
    let result = reply.result.as_ref().expect("a result");
    value::from_msgpack(&result.msgpack, ty).expect("the result decodes")
}

/// The error's text and argument index; fails the test on a result.
fn error(reply: &pb::call_function::Response) -> (&str, Option<i64>) {
    assert_eq!(reply.result, None, "an error comes without a result");
    let error = reply.error.as_ref().expect("an error");
    (error.text.as_str(), error.function_argument)
}

fn ty(bytes: &[u8]) -> Type {
    Type::from_json_bytes(bytes).expect("a cty type")
}

#[tokio::test]
async fn functions_are_listed_with_their_signatures() {
    let server = ProviderServer::new(DbaasProvider);
    let listed = server
        .get_functions(Request::new(pb::get_functions::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.diagnostics.is_empty(), "{:?}", listed.diagnostics);
    let names: BTreeSet<&str> = listed.functions.keys().map(String::as_str).collect();
    assert_eq!(names, BTreeSet::from(NAMES));

    let signature = |name: &str| {
        let function = &listed.functions[name];
        let parameters: Vec<(&str, Type)> = function
            .parameters
            .iter()
            .map(|p| (p.name.as_str(), ty(&p.r#type)))
            .collect();
        let variadic = function
            .variadic_parameter
            .as_ref()
            .map(|p| (p.name.as_str(), ty(&p.r#type)));
        let returns = ty(&function.r#return.as_ref().expect("a return type").r#type);
        (parameters, variadic, returns)
    };
    assert_eq!(
        signature("connection_uri"),
        (
            vec![
                ("endpoint", Type::String),
                ("username", Type::String),
                ("password", Type::String)
            ],
            None,
            Type::String
        )
    );
    assert_eq!(
        signature("import_id"),
        (
            vec![("resource_type", Type::String)],
            Some(("parts", Type::String)),
            Type::String
        )
    );
    assert_eq!(
        signature("parse_id"),
        (
            vec![("resource_type", Type::String), ("id", Type::String)],
            None,
            Type::map(Type::String)
        )
    );
    for (name, function) in &listed.functions {
        assert!(!function.summary.is_empty(), "{name} has no summary");
        assert!(
            !function.description.is_empty(),
            "{name} has no description"
        );
        assert_eq!(function.description_kind, pb::StringKind::Markdown as i32);
        let parameters = function
            .parameters
            .iter()
            .chain(function.variadic_parameter.as_ref());
        for parameter in parameters {
            assert!(
                !parameter.description.is_empty(),
                "{name}({})",
                parameter.name
            );
            // Terraform refuses nulls and waits for unknowns itself.
            assert!(!parameter.allow_null_value && !parameter.allow_unknown_values);
        }
    }

    // GetProviderSchema carries the same definitions (Terraform reads them there), and
    // GetMetadata the names.
    let schema = server
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schema.functions, listed.functions);
    let metadata = server
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    let names: BTreeSet<&str> = metadata.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(NAMES));
}

#[tokio::test]
async fn functions_compute_on_an_unconfigured_provider() {
    let uri = call_strings(
        "connection_uri",
        &["mongodb://db-1.local:27017/orders", "app", "p@ss w/rd"],
    )
    .await;
    assert_eq!(
        result(&uri, &Type::String),
        Value::string("mongodb://app:p%40ss%20w%2Frd@db-1.local:27017/orders")
    );
    let id = call_strings(
        "import_id",
        &["dbaas_ip_restriction", "db-1", "10.0.0.0/24"],
    )
    .await;
    assert_eq!(
        result(&id, &Type::String),
        Value::string("db-1/10.0.0.0/24")
    );
    let parsed = call_strings("parse_id", &["dbaas_ip_restriction", "db-1/10.0.0.0/24"]).await;
    assert_eq!(
        result(&parsed, &Type::map(Type::String)),
        Value::map([
            ("database_id", Value::string("db-1")),
            ("cidr", Value::string("10.0.0.0/24")),
        ])
    );
    // JSON-encoded arguments are read too.
    let json = pb::DynamicValue {
        msgpack: Vec::new(),
        json: br#""db-1""#.to_vec(),
    };
    let id = call("import_id", vec![string("dbaas_database"), json]).await;
    assert_eq!(result(&id, &Type::String), Value::string("db-1"));
}

#[tokio::test]
async fn functions_errors_carry_the_argument_index() {
    let cases: [(&str, &[&str], Option<i64>, &str); 8] = [
        (
            "connection_uri",
            &["", "app", "pw"],
            Some(0),
            "endpoint is empty",
        ),
        (
            "connection_uri",
            &["host:1/db", "app", "pw"],
            Some(0),
            "scheme",
        ),
        (
            "connection_uri",
            &["mongodb://u:Old-Secret@h", "app", "pw"],
            Some(0),
            "already holds user information",
        ),
        (
            "connection_uri",
            &["mongodb://h", "", "pw"],
            Some(1),
            "username",
        ),
        (
            "import_id",
            &["dbaas_nothing", "db-1"],
            Some(0),
            "dbaas_nothing",
        ),
        (
            "import_id",
            &["dbaas_credential", "db-1", "a/b"],
            Some(2),
            "username (part 2)",
        ),
        (
            "import_id",
            &["dbaas_credential", "db-1"],
            Some(2),
            "1 given",
        ),
        (
            "parse_id",
            &["dbaas_credential", "db-1"],
            Some(1),
            "<database_id>/<username>",
        ),
    ];
    for (name, arguments, index, says) in cases {
        let reply = call_strings(name, arguments).await;
        let (text, argument) = error(&reply);
        assert_eq!(argument, index, "{name}{arguments:?}: {text}");
        assert!(text.contains(says), "{name}{arguments:?}: {text}");
        assert!(!text.contains("Old-Secret"), "{text}");
    }
}

#[tokio::test]
async fn functions_refuse_calls_outside_their_signature() {
    let reply = call_strings("no_such_function", &["x"]).await;
    let (text, argument) = error(&reply);
    assert_eq!(argument, None);
    assert!(
        text.contains("no_such_function") && text.contains("parse_id"),
        "{text}"
    );

    // Too few, too many: the first missing or extra position.
    let (_, argument) = error(&call_strings("connection_uri", &["mongodb://h", "app"]).await);
    assert_eq!(argument, Some(2));
    let (_, argument) = error(&call_strings("parse_id", &["dbaas_database", "db-1", "x"]).await);
    assert_eq!(argument, Some(2));

    // Null where none is allowed; bytes that are no value of the parameter's type.
    let null = encoded(&Value::Null, &Type::String);
    let reply = call("parse_id", vec![string("dbaas_database"), null]).await;
    assert_eq!(error(&reply).1, Some(1));
    let garbage = pb::DynamicValue {
        msgpack: vec![0xc1, 0xff, 0x00],
        json: Vec::new(),
    };
    let reply = call(
        "connection_uri",
        vec![string("mongodb://h"), string("app"), garbage],
    )
    .await;
    let (text, argument) = error(&reply);
    assert_eq!(argument, Some(2));
    assert!(text.contains("password"), "{text}");
    let number = encoded(&Value::number(7), &Type::Number);
    assert_eq!(error(&call("import_id", vec![number]).await).1, Some(0));

    // An unknown argument (Terraform never sends one here) makes the result unknown.
    let unknown = encoded(&Value::unknown(), &Type::String);
    let reply = call("parse_id", vec![string("dbaas_database"), unknown]).await;
    assert_eq!(result(&reply, &Type::map(Type::String)), Value::unknown());
}
