//! A validator for OVH's API schema (the "Swagger 1.2-like" `cloud.json` subsets in
//! `tests/fixtures/ovh-api/`), used by the OVH client's tests and the OVH dialect's
//! conformance tests.
//!
//! A value conforms to a type when: primitives have the right JSON type and format (`long` an
//! integer, `uuid`, `ipBlock`, `datetime`, `date`, `time` parse), an enum's value is one of its
//! `enum`, arrays (`T[]`) and maps (`map[K]V`) conform element-wise, and a model is an object
//! with no unknown property, no `null` where `canBeNull` is false, every property of the right
//! type, and every required non-nullable property present. Request bodies must in addition not
//! carry read-only properties (the client only sends what OVH lets it write).
#![allow(dead_code)]

use std::net::IpAddr;

use serde_json::{Map, Value};

/// Where a value comes from: requests may not carry read-only properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// One OVH schema file, parsed.
pub struct OvhSchema {
    /// Which file, for messages.
    label: String,
    /// `apis[]`: `{path, operations[]}`.
    apis: Vec<Value>,
    /// `models{}`: type name → `{properties{…}}` or `{enum[…]}`.
    models: Map<String, Value>,
}

impl OvhSchema {
    /// The 2024-06-07 schema (current endpoints, `ipRestrictions[]` on the service).
    pub fn load_2024() -> Self {
        Self::load("ovh_mongodb_subset_2024-06-07.json")
    }

    /// The 2021-10-08 schema (the `/ipRestriction` endpoints before they were deprecated).
    pub fn load_2021() -> Self {
        Self::load("ovh_mongodb_subset_2021-10-08.json")
    }

    fn load(file: &str) -> Self {
        let path = format!(
            "{}/tests/fixtures/ovh-api/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "the OVH API schema {path} is missing ({error}); it is one of the committed test \
                 fixtures"
            )
        });
        let document: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("the OVH API schema {path} is not JSON: {error}"));
        Self::from_document(file, document)
    }

    /// A schema from an already parsed document (tests of the validator itself).
    pub fn from_document(label: &str, document: Value) -> Self {
        let apis = document["apis"].as_array().cloned().unwrap_or_default();
        let models = document["models"].as_object().cloned().unwrap_or_default();
        assert!(
            !models.is_empty(),
            "the OVH API schema {label} has no models"
        );
        Self {
            label: label.to_owned(),
            apis,
            models,
        }
    }

    /// Whether the schema defines the model `name`.
    pub fn has_model(&self, name: &str) -> bool {
        self.models.contains_key(name)
    }

    /// Every path template of the schema.
    pub fn path_templates(&self) -> Vec<String> {
        self.apis
            .iter()
            .filter_map(|api| api["path"].as_str().map(str::to_owned))
            .collect()
    }

    /// The operation `method path_template` (`GET`, `/cloud/project/{serviceName}/database/mongodb`).
    pub fn operation(&self, method: &str, path_template: &str) -> Option<&Value> {
        self.apis
            .iter()
            .filter(|api| api["path"] == path_template)
            .flat_map(|api| api["operations"].as_array().into_iter().flatten())
            .find(|operation| {
                operation["httpMethod"]
                    .as_str()
                    .is_some_and(|m| m.eq_ignore_ascii_case(method))
            })
    }

    /// The template a concrete path matches (`/cloud/project/p/database/mongodb/x` →
    /// `…/mongodb/{clusterId}`), for the given method. Literal segments win over parameters.
    pub fn template_for(&self, method: &str, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut best: Option<(usize, String)> = None;
        for template in self.path_templates() {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() || self.operation(method, &template).is_none() {
                continue;
            }
            let mut literal = 0;
            let matches = parts.iter().zip(&segments).all(|(part, segment)| {
                if part.starts_with('{') && part.ends_with('}') {
                    !segment.is_empty()
                } else {
                    literal += 1;
                    part == segment
                }
            });
            if matches && best.as_ref().is_none_or(|(score, _)| literal > *score) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, template)| template)
    }

    /// The error classes the schema declares for an operation.
    pub fn error_classes(&self, method: &str, path_template: &str) -> Vec<String> {
        self.operation(method, path_template)
            .and_then(|operation| operation["errors"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|class| class.as_str().map(str::to_owned))
            .collect()
    }

    /// Checks `value` against the model (or any type) `model`.
    pub fn validate_model(&self, model: &str, value: &Value) -> Result<(), Vec<String>> {
        self.validate_type(model, value, Direction::Response)
    }

    /// Checks a reply body against the operation's `responseType` (`void` means `null` or no
    /// body).
    pub fn validate_response(
        &self,
        method: &str,
        path_template: &str,
        value: &Value,
    ) -> Result<(), Vec<String>> {
        let operation = self.require_operation(method, path_template)?;
        let response_type = operation["responseType"].as_str().unwrap_or("void");
        self.validate_type(response_type, value, Direction::Response)
    }

    /// Checks a request body against the operation's body parameter (`null` when the operation
    /// takes none). Read-only properties are refused.
    pub fn validate_request_body(
        &self,
        method: &str,
        path_template: &str,
        value: &Value,
    ) -> Result<(), Vec<String>> {
        let operation = self.require_operation(method, path_template)?;
        let body_type = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|parameter| parameter["paramType"] == "body")
            .and_then(|parameter| parameter["fullType"].as_str());
        match body_type {
            Some(full_type) => self.validate_type(full_type, value, Direction::Request),
            None if value.is_null() => Ok(()),
            None => Err(vec![format!(
                "$: {method} {path_template} takes no body, got {}",
                describe(value)
            )]),
        }
    }

    fn require_operation(&self, method: &str, path_template: &str) -> Result<&Value, Vec<String>> {
        self.operation(method, path_template).ok_or_else(|| {
            vec![format!(
                "{}: no operation {method} {path_template}",
                self.label
            )]
        })
    }

    fn validate_type(
        &self,
        full_type: &str,
        value: &Value,
        direction: Direction,
    ) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        self.check(full_type, value, "$", direction, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn check(
        &self,
        full_type: &str,
        value: &Value,
        at: &str,
        direction: Direction,
        problems: &mut Vec<String>,
    ) {
        let mismatch =
            |expected: &str| format!("{at}: expected {expected}, got {}", describe(value));
        if full_type == "void" {
            if !value.is_null() {
                problems.push(mismatch("no content (void)"));
            }
            return;
        }
        if let Some(element) = full_type.strip_suffix("[]") {
            match value.as_array() {
                Some(items) => {
                    for (index, item) in items.iter().enumerate() {
                        self.check(
                            element,
                            item,
                            &format!("{at}[{index}]"),
                            direction,
                            problems,
                        );
                    }
                }
                None => problems.push(mismatch(&format!("an array of {element}"))),
            }
            return;
        }
        if let Some((key_type, value_type)) = parse_map(full_type) {
            match value.as_object() {
                Some(entries) => {
                    for (key, item) in entries {
                        let key_value = Value::String(key.clone());
                        self.check(
                            key_type,
                            &key_value,
                            &format!("{at}.<key {key}>"),
                            direction,
                            problems,
                        );
                        self.check(
                            value_type,
                            item,
                            &format!("{at}.{key}"),
                            direction,
                            problems,
                        );
                    }
                }
                None => problems.push(mismatch(&format!("a map of {value_type}"))),
            }
            return;
        }
        if let Some(inner) = full_type
            .strip_prefix("complexType.UnitAndValue<")
            .and_then(|rest| rest.strip_suffix('>'))
        {
            match value.as_object() {
                Some(object) => {
                    for key in object.keys() {
                        if key != "unit" && key != "value" {
                            problems.push(format!("{at}.{key}: unknown property of UnitAndValue"));
                        }
                    }
                    match object.get("unit") {
                        Some(unit) => {
                            self.check("string", unit, &format!("{at}.unit"), direction, problems)
                        }
                        None => problems.push(format!("{at}.unit: required property is missing")),
                    }
                    match object.get("value") {
                        Some(item) => {
                            self.check(inner, item, &format!("{at}.value"), direction, problems)
                        }
                        None => problems.push(format!("{at}.value: required property is missing")),
                    }
                }
                None => problems.push(mismatch(&format!("a {{unit, value}} object of {inner}"))),
            }
            return;
        }
        if let Some(expected) = primitive_problem(full_type, value) {
            match expected {
                PrimitiveCheck::Ok => {}
                PrimitiveCheck::Wrong(expected) => problems.push(mismatch(&expected)),
            }
            return;
        }
        let Some(model) = self.models.get(full_type) else {
            problems.push(format!(
                "{at}: unknown type `{full_type}` in {}",
                self.label
            ));
            return;
        };
        if let Some(allowed) = model["enum"].as_array() {
            match value.as_str() {
                Some(text) if allowed.iter().any(|item| item == text) => {}
                Some(text) => problems.push(format!(
                    "{at}: `{text}` is not a value of {full_type} ({})",
                    allowed
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                None => problems.push(mismatch(&format!("a {full_type} string"))),
            }
            return;
        }
        let Some(object) = value.as_object() else {
            problems.push(mismatch(&format!("a {full_type} object")));
            return;
        };
        let properties = model["properties"].as_object().cloned().unwrap_or_default();
        for (key, item) in object {
            let path = format!("{at}.{key}");
            let Some(property) = properties.get(key) else {
                problems.push(format!("{path}: unknown property of {full_type}"));
                continue;
            };
            if direction == Direction::Request && property["readOnly"] == true {
                problems.push(format!(
                    "{path}: read-only property of {full_type} must not be sent"
                ));
                continue;
            }
            if item.is_null() {
                if property["canBeNull"] != true {
                    problems.push(format!("{path}: must not be null ({full_type})"));
                }
                continue;
            }
            let property_type = property["fullType"]
                .as_str()
                .or_else(|| property["type"].as_str())
                .unwrap_or("string");
            self.check(property_type, item, &path, direction, problems);
        }
        for (key, property) in &properties {
            let required = property["required"] == true && property["canBeNull"] != true;
            if required && !object.contains_key(key) {
                problems.push(format!(
                    "{at}.{key}: required property of {full_type} is missing"
                ));
            }
        }
    }
}

enum PrimitiveCheck {
    Ok,
    Wrong(String),
}

/// `Some` when `full_type` is a primitive (with the verdict), `None` for other types.
fn primitive_problem(full_type: &str, value: &Value) -> Option<PrimitiveCheck> {
    let verdict = |ok: bool, expected: &str| {
        if ok {
            PrimitiveCheck::Ok
        } else {
            PrimitiveCheck::Wrong(expected.to_owned())
        }
    };
    let text = value.as_str();
    Some(match full_type {
        "string" | "password" | "text" => verdict(text.is_some(), "a string"),
        "long" => verdict(value.is_i64() || value.is_u64(), "an integer (long)"),
        "double" => verdict(value.is_number(), "a number (double)"),
        "boolean" => verdict(value.is_boolean(), "a boolean"),
        "uuid" => verdict(text.is_some_and(is_uuid), "a UUID string"),
        "ipBlock" => verdict(
            text.is_some_and(is_ip_block),
            "an IP block string (a.b.c.d/n)",
        ),
        "ip" => verdict(
            text.is_some_and(|t| t.parse::<IpAddr>().is_ok()),
            "an IP address string",
        ),
        "datetime" => verdict(
            text.is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
            "an RFC 3339 datetime string",
        ),
        "date" => verdict(
            text.is_some_and(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok()),
            "a YYYY-MM-DD date string",
        ),
        "time" => verdict(
            text.is_some_and(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M:%S%.f").is_ok()),
            "an HH:MM:SS time string",
        ),
        // The schema does not say how durations are spelled: any string.
        "duration" => verdict(text.is_some(), "a duration string"),
        _ => return None,
    })
}

/// `map[K]V` → `(K, V)`.
fn parse_map(full_type: &str) -> Option<(&str, &str)> {
    let rest = full_type.strip_prefix("map[")?;
    let close = rest.find(']')?;
    Some((&rest[..close], &rest[close + 1..]))
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == lengths.len()
        && groups.iter().zip(lengths).all(|(group, length)| {
            group.len() == length && group.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

fn is_ip_block(text: &str) -> bool {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let Ok(address) = address.parse::<IpAddr>() else {
        return false;
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    match prefix {
        None => true,
        Some(digits) => {
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && digits.parse::<u32>().is_ok_and(|prefix| prefix <= max)
        }
    }
}

/// A short description of a value for messages (`string "x"`, `null`, `object`).
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => format!("boolean {flag}"),
        Value::Number(number) => format!("number {number}"),
        Value::String(text) => {
            let shown: String = text.chars().take(60).collect();
            format!("string {shown:?}")
        }
        Value::Array(items) => format!("array of {}", items.len()),
        Value::Object(_) => "object".to_owned(),
    }
}
