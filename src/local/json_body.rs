//! Request bodies decoded field by field from a JSON object, for the native API and the admin
//! endpoints alike: every problem names the JSON field at fault, unknown fields are refused by
//! name, and `"description": null` (clear) can be told apart from an absent field.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde_json::{Map, Value};

use super::error::LocalError;

/// Decodes a request body that must be a JSON object.
pub(crate) fn parse_object(
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, LocalError> {
    let body = body.map_err(|rejection| {
        LocalError::invalid_body(format!("cannot read the request body: {rejection}"))
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(LocalError::invalid_body(
            "the request body must be a JSON object",
        ));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(LocalError::invalid_body(
            "the request body must be a JSON object",
        )),
        Err(error) => Err(LocalError::invalid_body(format!(
            "the request body is not valid JSON: {error}"
        ))),
    }
}

/// Like [`parse_object`], but an empty body counts as `{}` (for requests whose fields are all
/// optional, such as a password reset).
pub(crate) fn parse_optional_object(
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, LocalError> {
    match body {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        other => parse_object(other),
    }
}

/// A boolean field that may be absent or `null` (meaning `false`).
pub(crate) fn optional_bool(
    object: &mut Map<String, Value>,
    field: &str,
) -> Result<bool, LocalError> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(value)) => Ok(value),
        Some(_) => Err(LocalError::invalid(
            field,
            format!("{field} must be true, false or null"),
        )),
    }
}

/// A list of strings that may be absent or `null` (meaning empty).
pub(crate) fn optional_string_list(
    object: &mut Map<String, Value>,
    field: &str,
) -> Result<Option<Vec<String>>, LocalError> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                _ => Err(LocalError::invalid(
                    field,
                    format!("{field} must be a list of strings"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(LocalError::invalid(
            field,
            format!("{field} must be a list of strings"),
        )),
    }
}

/// Refuses `fields` that cannot be changed by this request, each with its own advice.
pub(crate) fn reject_fixed(
    object: &Map<String, Value>,
    fixed: &[(&str, &str)],
) -> Result<(), LocalError> {
    for (field, advice) in fixed {
        if object.contains_key(*field) {
            return Err(LocalError::invalid(
                field,
                format!("{field} cannot be changed here; {advice}"),
            ));
        }
    }
    Ok(())
}

/// Refuses fields outside `allowed`; `immutable` ones get a message saying they cannot change.
pub(crate) fn reject_unknown(
    object: &Map<String, Value>,
    allowed: &[&str],
    immutable: &[&str],
) -> Result<(), LocalError> {
    for key in object.keys() {
        if immutable.contains(&key.as_str()) {
            return Err(LocalError::invalid(
                key,
                format!("{key} cannot be changed; create a new database instead"),
            ));
        }
        if !allowed.contains(&key.as_str()) {
            return Err(LocalError::invalid(
                key,
                format!("unknown field {key:?}; allowed: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

/// A string field that may be absent or `null`.
pub(crate) fn optional_string(
    object: &mut Map<String, Value>,
    field: &str,
) -> Result<Option<String>, LocalError> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(not_a_string(field, false)),
    }
}

/// A string field that may be absent but not `null`.
pub(crate) fn required_if_present(
    object: &mut Map<String, Value>,
    field: &str,
) -> Result<Option<String>, LocalError> {
    match object.remove(field) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(not_a_string(field, false)),
    }
}

/// The 400 for a field that must be a string (or `null`, when `nullable`).
pub(crate) fn not_a_string(field: &str, nullable: bool) -> LocalError {
    let or_null = if nullable { " or null" } else { "" };
    LocalError::invalid(field, format!("{field} must be a string{or_null}"))
}

/// A JSON number that is a whole number, as JSON Schema's `integer` reads it: `5`, `5.0` and
/// `5e0` alike; `None` for any other value, fractions and out-of-range numbers included.
pub(crate) fn whole_number(value: &Value) -> Option<i64> {
    let number = value.as_number()?;
    if let Some(whole) = number.as_i64() {
        return Some(whole);
    }
    let float = number.as_f64()?;
    // i64::MAX is not a float; 2^63 is the first float past the range.
    let in_range =
        float.is_finite() && float.fract() == 0.0 && float.abs() < 9.223_372_036_854_776e18;
    in_range.then_some(float as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_number_reads_integers_in_any_spelling() {
        for (text, expected) in [
            ("5", Some(5)),
            ("5.0", Some(5)),
            ("5e0", Some(5)),
            ("-1.0", Some(-1)),
            ("0.5", None),
            ("1e400", None),
            ("9223372036854775808", None),
            ("\"5\"", None),
            ("null", None),
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(whole_number(&value), expected, "{text}");
        }
    }

    #[test]
    fn parse_object_refuses_non_objects() {
        for body in ["", "  ", "[1]", "\"x\"", "{", "null"] {
            let error = parse_object(Ok(Bytes::from(body))).unwrap_err();
            assert!(
                matches!(error, LocalError::Invalid { field: None, .. }),
                "{body:?}"
            );
        }
        assert!(parse_object(Ok(Bytes::from("{}"))).unwrap().is_empty());
    }

    #[test]
    fn reject_unknown_names_the_field() {
        let object = json!({"plan": "x", "engine": "mysql"});
        let error =
            reject_unknown(object.as_object().unwrap(), &["plan"], &["engine"]).unwrap_err();
        assert!(
            matches!(&error, LocalError::Invalid { field: Some(f), message } if f == "engine" && message.contains("cannot be changed"))
        );
        let object = json!({"colour": "red"});
        let error = reject_unknown(object.as_object().unwrap(), &["plan"], &[]).unwrap_err();
        assert!(matches!(&error, LocalError::Invalid { field: Some(f), .. } if f == "colour"));
    }

    #[test]
    fn optional_string_accepts_null_refuses_numbers() {
        let mut object = json!({"a": null, "b": "x", "c": 5})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(optional_string(&mut object, "a").unwrap(), None);
        assert_eq!(optional_string(&mut object, "b").unwrap(), Some("x".into()));
        assert_eq!(optional_string(&mut object, "missing").unwrap(), None);
        assert!(matches!(
            optional_string(&mut object, "c").unwrap_err(),
            LocalError::Invalid { field: Some(f), .. } if f == "c"
        ));
        let mut object = json!({"plan": null}).as_object().unwrap().clone();
        assert!(required_if_present(&mut object, "plan").is_err());
    }
}
