//! Entry points for the fuzz targets (`fuzz/`, `make fuzz`) and for the test that replays their
//! corpus (`tests/fuzz_corpus.rs`). Each takes arbitrary bytes, feeds them to one parser the way
//! its real caller does, and checks what must hold of any input; it panics only when that
//! parser panics or breaks its contract. Not an API: nothing else may use it.

use std::sync::OnceLock;

use http::{HeaderMap, HeaderValue};
use secrecy::SecretString;

use crate::local::OvhDialect;
use crate::local::dialects::ovh::auth;
use crate::provider::DbaasProvider;
use crate::tfplugin::resource::Provider as _;
use crate::tfplugin::value::{self, Type};

/// A fuzz target's entry point: any bytes in, a panic only on a bug.
pub type EntryPoint = fn(&[u8]);

/// The fuzz targets, by name (`fuzz/fuzz_targets/<name>.rs`, `fuzz/corpus/<name>/`).
pub const TARGETS: [(&str, EntryPoint); 4] = [
    ("duration", duration),
    ("value_decode", value_decode),
    ("import_id", import_id),
    ("ovh_signature", ovh_signature),
];

/// `duration::parse` on the input as text: a duration within Go's range, or a message.
pub fn duration(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match crate::duration::parse(&text) {
        Ok(parsed) => assert!(parsed <= crate::duration::MAX, "{text:?} parsed past MAX"),
        Err(message) => assert!(!message.is_empty(), "{text:?}: an empty message"),
    }
}

/// Every schema type the provider decodes values of: the provider's, then each resource's,
/// data source's and ephemeral resource's.
fn schema_types() -> &'static [Type] {
    static TYPES: OnceLock<Vec<Type>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let provider = DbaasProvider;
        let mut types = vec![provider.schema().implied_type()];
        types.extend(
            provider
                .resources()
                .iter()
                .map(|r| r.schema().implied_type()),
        );
        types.extend(
            provider
                .data_sources()
                .iter()
                .map(|d| d.schema().implied_type()),
        );
        types.extend(
            provider
                .ephemeral_resources()
                .iter()
                .map(|e| e.schema().implied_type()),
        );
        types
    })
}

/// A `DynamicValue` against one of the provider's schemas: the first byte picks the schema, the
/// second the codec (even: msgpack, odd: JSON), the rest is the value. A decoded value must
/// encode back to msgpack and decode to itself, as the provider echoes values to Terraform.
pub fn value_decode(data: &[u8]) {
    let [schema, codec, bytes @ ..] = data else {
        return;
    };
    let types = schema_types();
    let ty = &types[usize::from(*schema) % types.len()];
    let decoded = if codec % 2 == 0 {
        value::from_msgpack(bytes, ty)
    } else {
        value::from_json(bytes, ty)
    };
    let Ok(decoded) = decoded else { return };
    let encoded = value::to_msgpack(&decoded, ty)
        .unwrap_or_else(|err| panic!("a decoded value does not encode: {err}"));
    let again = value::from_msgpack(&encoded, ty)
        .unwrap_or_else(|err| panic!("an encoded value does not decode: {err}"));
    assert_eq!(again, decoded, "msgpack round trip");
}

/// `terraform import` ids: the first byte picks the resource (among those that import), the
/// rest is the id. Any id ends in a state or a diagnostic.
pub fn import_id(data: &[u8]) {
    let [resource, id @ ..] = data else { return };
    let resources = DbaasProvider.resources();
    let importers: Vec<_> = resources.iter().filter_map(|r| r.importer()).collect();
    let importer = importers[usize::from(*resource) % importers.len()];
    if let Err(diags) = importer.import_state(&String::from_utf8_lossy(id)) {
        assert!(diags.has_errors(), "a refused id must say why");
    }
}

/// The keys the fuzzed OVH dialect accepts; the input may use them (to get past the key checks
/// to the timestamp and the signature) or not.
const OVH_APPLICATION_KEY: &str = "fuzz-application-key";
const OVH_CONSUMER_KEY: &str = "fuzz-consumer-key";
const OVH_SECRET: &str = "fuzz-application-secret";
/// The server's clock for the check: fixed, so a run is reproducible.
const OVH_NOW: i64 = 1_700_000_000;

/// dbaas-local's OVH signature check on headers and a request taken from the input: the first
/// byte's bits say which of the right application key, consumer key, timestamp and signature
/// to send instead of input; the rest is split at NUL bytes into application key, consumer key,
/// timestamp, signature, method, URL and body. A request that passes must be signed right.
pub fn ovh_signature(data: &[u8]) {
    let [choices, rest @ ..] = data else { return };
    let mut parts = rest.splitn(7, |byte| *byte == 0);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (application, consumer, timestamp, presented, method, url) =
        (next(), next(), next(), next(), next(), next());
    let body = next().into_bytes();
    let chosen = |bit: u8, right: String, given: String| {
        if choices & (1 << bit) != 0 {
            right
        } else {
            given
        }
    };
    let application = chosen(0, OVH_APPLICATION_KEY.to_owned(), application);
    let consumer = chosen(1, OVH_CONSUMER_KEY.to_owned(), consumer);
    let timestamp = chosen(
        2,
        (OVH_NOW + i64::from(choices >> 5)).to_string(),
        timestamp,
    );
    let right_signature = auth::signature(OVH_SECRET, &consumer, &method, &url, &body, &timestamp);
    let presented = chosen(3, right_signature.clone(), presented);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (auth::APPLICATION, &application),
        (auth::CONSUMER, &consumer),
        (auth::TIMESTAMP, &timestamp),
        (auth::SIGNATURE, &presented),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    let dialect = OvhDialect {
        application_key: OVH_APPLICATION_KEY.to_owned(),
        application_secret: SecretString::from(OVH_SECRET),
        consumer_key: SecretString::from(OVH_CONSUMER_KEY),
        service_name: "fuzz".to_owned(),
    };
    if auth::verify(&dialect, &headers, &method, &url, &body, OVH_NOW).is_ok() {
        assert_eq!(presented, right_signature, "a wrong signature passed");
        assert_eq!(consumer, OVH_CONSUMER_KEY, "a wrong consumer key passed");
    }
}
