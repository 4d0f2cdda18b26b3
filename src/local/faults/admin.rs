//! The admin endpoints of the test aids (request log, request faults, lifecycle faults), and
//! the decoding of fault bodies, which faults files share.
//!
//! `GET`, `POST` and `DELETE` on `/v1/_admin/faults` and `/v1/_admin/lifecycle-faults` answer
//! 200 with the pending faults (`{"faults": [...]}`, `{"lifecycle_faults": [...]}`); a bad
//! body is a 400 naming its field. Lifecycle faults are the domain's
//! ([`crate::local::lifecycle::LifecycleFaults`]): this only decodes them.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{Action, Fault, MAX_DELAY_MS, When};
use crate::cidr::Cidr;
use crate::local::AppState;
use crate::local::error::LocalError;
use crate::local::json_body::{parse_object, reject_unknown, whole_number};
use crate::local::lifecycle::{FaultOutcome, FaultedKind, LifecycleFault};

/// The admin endpoints.
pub(crate) fn admin_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/_admin/requests",
            get(list_requests).delete(clear_requests),
        )
        .route(
            "/v1/_admin/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route(
            "/v1/_admin/lifecycle-faults",
            get(list_lifecycle_faults)
                .post(add_lifecycle_fault)
                .delete(clear_lifecycle_faults),
        )
}

async fn list_requests(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"requests": state.requests.snapshot()}))
}

async fn clear_requests(State(state): State<AppState>) -> Json<Value> {
    state.requests.clear();
    Json(json!({"requests": []}))
}

async fn list_faults(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"faults": state.faults.list()}))
}

async fn add_fault(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, LocalError> {
    let object = parse_object(body)?;
    let fault = parse_fault(&object)?;
    state.faults.add(fault);
    Ok(Json(json!({"faults": state.faults.list()})))
}

async fn clear_faults(State(state): State<AppState>) -> Json<Value> {
    state.faults.clear();
    Json(json!({"faults": []}))
}

async fn list_lifecycle_faults(State(state): State<AppState>) -> Json<Value> {
    let pending = state.databases.lifecycle_faults().list();
    Json(json!({"lifecycle_faults": pending}))
}

async fn add_lifecycle_fault(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, LocalError> {
    let object = parse_object(body)?;
    let rule = parse_lifecycle_fault(&object)?;
    let faults = state.databases.lifecycle_faults();
    faults.add(rule);
    Ok(Json(json!({"lifecycle_faults": faults.list()})))
}

async fn clear_lifecycle_faults(State(state): State<AppState>) -> Json<Value> {
    state.databases.lifecycle_faults().clear();
    Json(json!({"lifecycle_faults": []}))
}

/// Decodes a request fault (the body of `POST /v1/_admin/faults`, or an entry of a faults
/// file); every problem names its field.
pub(crate) fn parse_fault(object: &Map<String, Value>) -> Result<Fault, LocalError> {
    reject_unknown(
        object,
        &[
            "path_prefix",
            "method",
            "when",
            "action",
            "status",
            "delay_ms",
            "retry_after",
            "skip",
            "count",
            "body",
        ],
        &[],
    )?;
    let path_prefix = match object.get("path_prefix") {
        Some(Value::String(prefix)) if prefix.starts_with('/') => prefix.clone(),
        _ => {
            return Err(LocalError::invalid(
                "path_prefix",
                "path_prefix is required: a string starting with '/'",
            ));
        }
    };
    let method = match object.get("method") {
        None | Some(Value::Null) => None,
        Some(Value::String(method)) if !method.is_empty() => Some(method.to_ascii_uppercase()),
        Some(_) => {
            return Err(LocalError::invalid(
                "method",
                "method must be an HTTP method name or null",
            ));
        }
    };
    let when = match object.get("when") {
        None | Some(Value::Null) => When::Before,
        Some(Value::String(when)) if when == "before" => When::Before,
        Some(Value::String(when)) if when == "after" => When::After,
        Some(_) => {
            return Err(LocalError::invalid(
                "when",
                "when must be \"before\" (the default) or \"after\"",
            ));
        }
    };
    let action_name = match object.get("action") {
        None | Some(Value::Null) => "status",
        Some(Value::String(action)) if matches!(action.as_str(), "status" | "drop" | "delay") => {
            action.as_str()
        }
        Some(_) => {
            return Err(LocalError::invalid(
                "action",
                "action must be \"status\" (the default), \"drop\" or \"delay\"",
            ));
        }
    };
    let present = |field: &str| object.get(field).is_some_and(|value| !value.is_null());
    let refuse_unless = |field: &str, needed_by: &str| {
        if present(field) && action_name != needed_by {
            Err(LocalError::invalid(
                field,
                format!("{field} only applies to action \"{needed_by}\""),
            ))
        } else {
            Ok(())
        }
    };
    refuse_unless("status", "status")?;
    refuse_unless("retry_after", "status")?;
    refuse_unless("delay_ms", "delay")?;
    refuse_unless("body", "status")?;
    let body = match object.get("body") {
        None | Some(Value::Null) => None,
        Some(body @ (Value::String(_) | Value::Object(_) | Value::Array(_))) => Some(body.clone()),
        Some(_) => {
            return Err(LocalError::invalid(
                "body",
                "body must be a string (sent as text/plain), a JSON object or array (sent as \
                 application/json), or null",
            ));
        }
    };
    let action = match action_name {
        "status" => match object.get("status").and_then(counted) {
            Some(status @ (429 | 500 | 502 | 503 | 504)) => Action::Status(status as u16),
            // A body of its own can say anything, so any error status may carry it.
            Some(status @ 400..=599) if body.is_some() => Action::Status(status as u16),
            _ => {
                return Err(LocalError::invalid(
                    "status",
                    "status is required: 429, 500, 502, 503 or 504 (with a body, any of \
                     400-599)",
                ));
            }
        },
        "drop" => Action::Drop,
        _ => match object.get("delay_ms").and_then(counted) {
            Some(millis) if millis <= MAX_DELAY_MS => Action::Delay(Duration::from_millis(millis)),
            _ => {
                return Err(LocalError::invalid(
                    "delay_ms",
                    format!(
                        "delay_ms is required with action \"delay\": a whole number of \
                         milliseconds, at most {MAX_DELAY_MS}"
                    ),
                ));
            }
        },
    };
    let whole = |field: &str, default: u64, minimum: u64| match object.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => counted(value)
            .filter(|number| *number >= minimum)
            .ok_or_else(|| {
                LocalError::invalid(
                    field,
                    format!("{field} must be a whole number of at least {minimum}"),
                )
            }),
    };
    let skip = whole("skip", 0, 0)?;
    let count = whole("count", 1, 1)?;
    let retry_after = match object.get("retry_after") {
        None | Some(Value::Null) => None,
        Some(value) => Some(counted(value).ok_or_else(|| {
            LocalError::invalid(
                "retry_after",
                "retry_after must be a whole number of seconds or null",
            )
        })?),
    };
    Ok(Fault {
        path_prefix,
        method,
        when,
        action,
        retry_after,
        skip,
        count,
        body,
    })
}

/// Decodes a lifecycle fault (the body of `POST /v1/_admin/lifecycle-faults`, or an entry of a
/// faults file); every problem names its field.
pub(crate) fn parse_lifecycle_fault(
    object: &Map<String, Value>,
) -> Result<LifecycleFault, LocalError> {
    reject_unknown(
        object,
        &["kind", "name", "outcome", "message", "count"],
        &[],
    )?;
    let kind = match object.get("kind").and_then(Value::as_str) {
        Some("database") => FaultedKind::Database,
        Some("credential") => FaultedKind::Credential,
        Some("index") => FaultedKind::Index,
        Some("ip_restriction") => FaultedKind::IpRestriction,
        _ => {
            return Err(LocalError::invalid(
                "kind",
                "kind is required: \"database\", \"credential\", \"index\" or \
                 \"ip_restriction\"",
            ));
        }
    };
    let outcome = match object.get("outcome").and_then(Value::as_str) {
        Some("stuck") => FaultOutcome::Stuck,
        Some("failed") => FaultOutcome::Failed,
        _ => {
            return Err(LocalError::invalid(
                "outcome",
                "outcome is required: \"stuck\" or \"failed\"",
            ));
        }
    };
    let name = match object.get("name") {
        None | Some(Value::Null) => None,
        // Restrictions are stored canonical; so is the name they are matched against.
        Some(Value::String(cidr)) if kind == FaultedKind::IpRestriction => Some(
            Cidr::parse_network(cidr)
                .map_err(|error| LocalError::invalid("name", error.to_string()))?
                .to_string(),
        ),
        Some(Value::String(name)) if !name.is_empty() => Some(name.clone()),
        Some(_) => {
            return Err(LocalError::invalid(
                "name",
                "name must be a non-empty string (database name, username, index name or \
                 CIDR), or null for any",
            ));
        }
    };
    let message = match object.get("message") {
        None | Some(Value::Null) => None,
        Some(Value::String(message)) if outcome == FaultOutcome::Failed => Some(message.clone()),
        Some(Value::String(_)) => {
            return Err(LocalError::invalid(
                "message",
                "message only applies to outcome \"failed\"",
            ));
        }
        Some(_) => return Err(LocalError::invalid("message", "message must be a string")),
    };
    let count = match object.get("count") {
        None | Some(Value::Null) => 1,
        Some(value) => counted(value).filter(|count| *count >= 1).ok_or_else(|| {
            LocalError::invalid("count", "count must be a whole number of at least 1")
        })?,
    };
    Ok(LifecycleFault {
        kind,
        name,
        outcome,
        message,
        count,
    })
}

/// A whole number of at least zero (`3` and `3.0` alike, as JSON Schema's `integer`).
fn counted(value: &Value) -> Option<u64> {
    whole_number(value).and_then(|number| u64::try_from(number).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_fault_reads_defaults_and_actions() {
        let parse = |value: Value| parse_fault(value.as_object().unwrap());
        let ok = parse(json!({"path_prefix": "/v1", "method": "get", "status": 429, "count": 2, "retry_after": 3}))
            .unwrap();
        assert_eq!(ok.method.as_deref(), Some("GET"));
        assert_eq!(ok.retry_after, Some(3));
        assert_eq!(
            (ok.when, ok.action, ok.skip),
            (When::Before, Action::Status(429), 0)
        );
        let dropped =
            parse(json!({"path_prefix": "/v1", "when": "after", "action": "drop"})).unwrap();
        assert_eq!(
            (dropped.when, dropped.action, dropped.count),
            (When::After, Action::Drop, 1),
            "count defaults to 1"
        );
        assert_eq!(dropped.label(), "after:drop");
        let delayed =
            parse(json!({"path_prefix": "/", "action": "delay", "delay_ms": 1500, "skip": 3}))
                .unwrap();
        assert_eq!(delayed.action, Action::Delay(Duration::from_millis(1500)));
        assert_eq!(delayed.skip, 3);
        assert_eq!(
            serde_json::to_value(&delayed).unwrap(),
            json!({"path_prefix": "/", "method": null, "when": "before", "action": "delay",
                   "status": null, "delay_ms": 1500, "retry_after": null, "skip": 3, "count": 1,
                   "body": null})
        );
        for status in [502, 504] {
            assert_eq!(
                parse(json!({"path_prefix": "/", "status": status}))
                    .unwrap()
                    .action,
                Action::Status(status as u16)
            );
        }
    }

    #[test]
    fn parse_fault_reads_a_body_with_any_error_status() {
        let parse = |value: Value| parse_fault(value.as_object().unwrap());
        let text = parse(json!({"path_prefix": "/", "status": 400, "body": "no"})).unwrap();
        assert_eq!(
            (text.action, text.body),
            (Action::Status(400), Some(json!("no")))
        );
        let object = json!({"password": ["p"]});
        let json_body =
            parse(json!({"path_prefix": "/", "status": 422, "body": object.clone()})).unwrap();
        assert_eq!(json_body.body, Some(object.clone()));
        assert_eq!(serde_json::to_value(&json_body).unwrap()["body"], object);
        let none = parse(json!({"path_prefix": "/", "status": 503, "body": null})).unwrap();
        assert_eq!(none.body, None);
    }

    #[test]
    fn parse_fault_validates_fields() {
        let parse = |value: Value| parse_fault(value.as_object().unwrap());
        for (body, field) in [
            (json!({"status": 503, "count": 1}), "path_prefix"),
            (
                json!({"path_prefix": "v1", "status": 503, "count": 1}),
                "path_prefix",
            ),
            (
                json!({"path_prefix": "/", "status": 404, "count": 1}),
                "status",
            ),
            (json!({"path_prefix": "/"}), "status"),
            (
                json!({"path_prefix": "/", "status": 503, "count": 0}),
                "count",
            ),
            (
                json!({"path_prefix": "/", "status": 503, "count": 1, "method": 3}),
                "method",
            ),
            (
                json!({"path_prefix": "/", "status": 503, "count": 1, "retry_after": -1}),
                "retry_after",
            ),
            (
                json!({"path_prefix": "/", "status": 503, "count": 1, "extra": 1}),
                "extra",
            ),
            (
                json!({"path_prefix": "/", "status": 503, "when": "later"}),
                "when",
            ),
            (json!({"path_prefix": "/", "action": "explode"}), "action"),
            (
                json!({"path_prefix": "/", "action": "drop", "status": 503}),
                "status",
            ),
            (json!({"path_prefix": "/", "action": "delay"}), "delay_ms"),
            (
                json!({"path_prefix": "/", "action": "delay", "delay_ms": MAX_DELAY_MS + 1}),
                "delay_ms",
            ),
            (
                json!({"path_prefix": "/", "status": 503, "delay_ms": 5}),
                "delay_ms",
            ),
            (
                json!({"path_prefix": "/", "action": "drop", "retry_after": 5}),
                "retry_after",
            ),
            (
                json!({"path_prefix": "/", "status": 503, "skip": -1}),
                "skip",
            ),
            (
                json!({"path_prefix": "/", "status": 503, "body": 7}),
                "body",
            ),
            (
                json!({"path_prefix": "/", "action": "drop", "body": "x"}),
                "body",
            ),
            (
                json!({"path_prefix": "/", "status": 399, "body": "x"}),
                "status",
            ),
            (
                json!({"path_prefix": "/", "status": 600, "body": {}}),
                "status",
            ),
        ] {
            let error = parse(body.clone()).unwrap_err();
            assert!(
                matches!(&error, LocalError::Invalid { field: Some(f), .. } if f == field),
                "{body}: {error:?}"
            );
        }
    }

    #[test]
    fn parse_lifecycle_fault_reads_defaults_and_canonical_networks() {
        let parse = |value: Value| parse_lifecycle_fault(value.as_object().unwrap());
        let rule = parse(json!({"kind": "database", "outcome": "stuck"})).unwrap();
        assert_eq!(
            rule,
            LifecycleFault {
                kind: FaultedKind::Database,
                name: None,
                outcome: FaultOutcome::Stuck,
                message: None,
                count: 1,
            }
        );
        let rule = parse(
            json!({"kind": "ip_restriction", "name": "10.0.0.7", "outcome": "failed",
                                "message": "firewall full", "count": 2}),
        )
        .unwrap();
        assert_eq!(rule.name.as_deref(), Some("10.0.0.7/32"));
        assert_eq!(rule.message.as_deref(), Some("firewall full"));
        assert_eq!(
            serde_json::to_value(&rule).unwrap(),
            json!({"kind": "ip_restriction", "name": "10.0.0.7/32", "outcome": "failed",
                   "message": "firewall full", "count": 2})
        );
        for (body, field) in [
            (json!({"outcome": "stuck"}), "kind"),
            (json!({"kind": "user", "outcome": "stuck"}), "kind"),
            (json!({"kind": "index"}), "outcome"),
            (json!({"kind": "index", "outcome": "late"}), "outcome"),
            (
                json!({"kind": "index", "outcome": "stuck", "name": ""}),
                "name",
            ),
            (
                json!({"kind": "ip_restriction", "outcome": "stuck", "name": "nowhere"}),
                "name",
            ),
            (
                json!({"kind": "index", "outcome": "stuck", "message": "x"}),
                "message",
            ),
            (
                json!({"kind": "index", "outcome": "failed", "count": 0}),
                "count",
            ),
            (
                json!({"kind": "index", "outcome": "failed", "id": "db-1"}),
                "id",
            ),
        ] {
            let error = parse(body.clone()).unwrap_err();
            assert!(
                matches!(&error, LocalError::Invalid { field: Some(f), .. } if f == field),
                "{body}: {error:?}"
            );
        }
    }
}
