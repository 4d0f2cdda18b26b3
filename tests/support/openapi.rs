//! dbaas-local's replies checked against its own OpenAPI document (`/v1/openapi.json`): the
//! service tests send every native and admin request through [`assert_documented`], so a reply
//! whose status the operation does not list, or whose body its schema refuses, fails the test
//! that received it.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Registry, Validator};
use serde_json::Value;

/// Where the document is registered, so schemas can point into it.
const DOCUMENT_URI: &str = "urn:dbaas-local:openapi";

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(dbaas::local::openapi_document)
}

fn registry() -> &'static Registry<'static> {
    static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::new()
            .add(DOCUMENT_URI, document().clone())
            .and_then(|registry| registry.prepare())
            .expect("the OpenAPI document is a valid JSON Schema resource")
    })
}

/// The validator of the schema at `pointer` in the document, built once.
fn validator(pointer: &str) -> Arc<Validator> {
    static VALIDATORS: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let mut validators = VALIDATORS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Arc::clone(validators.entry(pointer.to_owned()).or_insert_with(|| {
        // In a URI fragment, the braces of path templates are percent-encoded.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        let reference = serde_json::json!({"$ref": format!("{DOCUMENT_URI}#{fragment}")});
        let validator = jsonschema::options()
            .with_registry(registry())
            .build(&reference)
            .unwrap_or_else(|error| panic!("the schema at {pointer} does not build: {error}"));
        Arc::new(validator)
    }))
}

/// Whether a path (query excluded, segments still percent-encoded) is an instance of a path
/// template such as `/v1/databases/{id}`.
fn matches_template(template: &str, path: &str) -> bool {
    let mut template_segments = template.split('/');
    let mut path_segments = path.split('/');
    loop {
        match (template_segments.next(), path_segments.next()) {
            (None, None) => return true,
            (Some(expected), Some(segment)) => {
                let parameter = expected.starts_with('{') && expected.ends_with('}');
                if !(parameter && !segment.is_empty() || expected == segment) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// A JSON pointer's escaping of one member name.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Panics unless the document describes this reply: the operation lists `status`, and `body`
/// (null for an empty one) matches the reply's schema. Paths the document has no operation for
/// (unknown paths, other methods) are left alone: it claims nothing about them.
pub fn assert_documented(method: &str, path: &str, status: u16, body: &Value) {
    let path = path.split('?').next().unwrap_or_default();
    let method = method.to_ascii_lowercase();
    let paths = document()["paths"].as_object().expect("paths");
    let Some((template, item)) = paths
        .iter()
        .filter(|(template, _)| matches_template(template, path))
        // A literal segment beats a parameter (`/v1/_admin/…` before `/v1/databases/{id}`).
        .min_by_key(|(template, _)| template.matches('{').count())
    else {
        return;
    };
    let Some(operation) = item.get(&method) else {
        return;
    };
    let mut pointer = format!("/paths/{}/{method}/responses/{status}", escape(template));
    let Some(mut reply) = operation["responses"].get(status.to_string()) else {
        panic!("{method} {template} does not document status {status}; the reply: {body}");
    };
    if let Some(target) = reply["$ref"].as_str() {
        pointer = target.trim_start_matches('#').to_owned();
        reply = document()
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("{target} does not resolve"));
    }
    if reply["content"]["application/json"]["schema"].is_null() {
        assert!(
            body.is_null(),
            "{method} {template} {status} documents no body; the reply: {body}"
        );
        return;
    }
    let schema = format!("{pointer}/content/{}/schema", escape("application/json"));
    let errors: Vec<String> = validator(&schema)
        .iter_errors(body)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the reply of {method} {path} ({status}) is not what {template} documents:\n{}\nthe reply: {body}",
        errors.join("\n")
    );
}
