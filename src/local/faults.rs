//! Test aids: the request log and fault injection, plus their admin endpoints.
//!
//! The request log keeps method, path (no query string, no headers, no body: nothing that could
//! hold a secret), status and time of every request since start, capped at
//! [`REQUEST_LOG_CAPACITY`] (oldest dropped). Faults make the next `count` matching requests fail
//! with 429/500/503 before normal handling (in the dialect's error format under a dialect's
//! prefix); paths under `/v1/_admin/` are never faulted, so a test can always clear what it
//! injected. Both live in memory only.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::LocalError;
use super::native::{parse_object, reject_unknown};

/// Most requests the log keeps.
pub(crate) const REQUEST_LOG_CAPACITY: usize = 10_000;

/// Path prefix of the admin endpoints, exempt from faults.
pub(crate) const ADMIN_PREFIX: &str = "/v1/_admin/";

/// Retry-After sent with an injected 429 that names none (a 429 always carries one).
pub(crate) const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// One received request.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoggedRequest {
    /// HTTP method.
    pub(crate) method: String,
    /// Path without the query string.
    pub(crate) path: String,
    /// Status answered.
    pub(crate) status: u16,
    /// When it arrived, RFC 3339 UTC with milliseconds.
    pub(crate) at: String,
}

/// The in-memory request log.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    /// Appends, dropping the oldest entry when full.
    pub(crate) fn record(&self, entry: LoggedRequest) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= REQUEST_LOG_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// Oldest first.
    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// An injected fault and how many more requests it will hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Fault {
    /// Requests whose path starts with this are hit.
    pub(crate) path_prefix: String,
    /// Only this method (compared case-insensitively), or any when `None`.
    pub(crate) method: Option<String>,
    /// 429, 500 or 503.
    pub(crate) status: u16,
    /// Requests still to hit.
    pub(crate) count: u64,
    /// Seconds to send as `Retry-After`.
    pub(crate) retry_after: Option<u64>,
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        path.starts_with(&self.path_prefix)
            && self
                .method
                .as_deref()
                .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
    }

    fn error(&self) -> LocalError {
        match self.status {
            429 => LocalError::RateLimited {
                message: "rate limited (injected fault)".to_owned(),
                retry_after_secs: self.retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS),
            },
            503 => LocalError::Unavailable {
                message: "service unavailable (injected fault)".to_owned(),
                retry_after_secs: self.retry_after,
            },
            _ => LocalError::Internal("internal error (injected fault)".to_owned()),
        }
    }
}

/// The injected faults, first added first used.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Adds a fault after the existing ones.
    pub(crate) fn add(&self, fault: Fault) {
        if fault.count > 0 {
            self.lock().push(fault);
        }
    }

    /// The faults still pending.
    pub(crate) fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    /// Forgets every fault.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The error to answer this request with, if a fault hits it (using up one of its count).
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<LocalError> {
        if path.starts_with(ADMIN_PREFIX) {
            return None;
        }
        let mut rules = self.lock();
        let index = rules.iter().position(|fault| fault.matches(method, path))?;
        let error = rules[index].error();
        rules[index].count -= 1;
        if rules[index].count == 0 {
            rules.remove(index);
        }
        Some(error)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Outermost middleware: logs method, path, status and latency, and records the request.
pub(crate) async fn observe(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let at = state
        .databases
        .clock()
        .now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    tracing::info!(
        %method,
        %path,
        status,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    state.requests.record(LoggedRequest {
        method,
        path,
        status,
        at,
    });
    response
}

/// Middleware (inside auth) answering with an injected fault when one matches.
pub(crate) async fn inject_faults(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    match state.faults.take(request.method().as_str(), path) {
        Some(error) => match super::dialects::dialect_of(path) {
            Some(dialect) => super::dialects::error_response(dialect, error),
            None => error.into_response(),
        },
        None => next.run(request).await,
    }
}

/// The admin endpoints.
pub(crate) fn admin_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/_admin/requests",
            get(list_requests).delete(clear_requests),
        )
        .route("/v1/_admin/faults", delete(clear_faults).post(add_fault))
}

async fn list_requests(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"requests": state.requests.snapshot()}))
}

async fn clear_requests(State(state): State<AppState>) -> Json<Value> {
    state.requests.clear();
    Json(json!({"requests": []}))
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

fn parse_fault(object: &Map<String, Value>) -> Result<Fault, LocalError> {
    reject_unknown(
        object,
        &["path_prefix", "method", "status", "count", "retry_after"],
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
    let status = match object.get("status").and_then(Value::as_u64) {
        Some(status @ (429 | 500 | 503)) => status as u16,
        _ => {
            return Err(LocalError::invalid(
                "status",
                "status is required: 429, 500 or 503",
            ));
        }
    };
    let count = match object.get("count").and_then(Value::as_u64) {
        Some(count) if count >= 1 => count,
        _ => {
            return Err(LocalError::invalid(
                "count",
                "count is required: a whole number of at least 1",
            ));
        }
    };
    let retry_after = match object.get("retry_after") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_u64().ok_or_else(|| {
            LocalError::invalid(
                "retry_after",
                "retry_after must be a whole number of seconds or null",
            )
        })?),
    };
    Ok(Fault {
        path_prefix,
        method,
        status,
        count,
        retry_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(prefix: &str, method: Option<&str>, status: u16, count: u64) -> Fault {
        Fault {
            path_prefix: prefix.into(),
            method: method.map(str::to_owned),
            status,
            count,
            retry_after: None,
        }
    }

    #[test]
    fn faults_hit_count_times_then_stop() {
        let faults = Faults::default();
        faults.add(fault("/v1/databases", None, 503, 2));
        for _ in 0..2 {
            let error = faults.take("GET", "/v1/databases/db-1").expect("fault");
            assert!(matches!(error, LocalError::Unavailable { .. }));
        }
        assert!(faults.take("GET", "/v1/databases").is_none());
        assert!(faults.list().is_empty());
    }

    #[test]
    fn faults_match_method_and_prefix_in_order() {
        let faults = Faults::default();
        faults.add(fault("/v1/databases", Some("post"), 500, 1));
        faults.add(fault("/v1", None, 429, 1));
        assert!(matches!(
            faults.take("GET", "/v1/databases"),
            Some(LocalError::RateLimited {
                retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
                ..
            })
        ));
        assert!(faults.take("GET", "/healthz").is_none());
        assert!(matches!(
            faults.take("POST", "/v1/databases"),
            Some(LocalError::Internal(_))
        ));
        assert!(faults.take("POST", "/v1/databases").is_none());
    }

    #[test]
    fn faults_never_hit_admin_paths() {
        let faults = Faults::default();
        faults.add(fault("/", None, 503, 5));
        assert!(faults.take("DELETE", "/v1/_admin/faults").is_none());
        assert_eq!(faults.list()[0].count, 5);
    }

    #[test]
    fn parse_fault_validates_fields() {
        let parse = |value: Value| parse_fault(value.as_object().unwrap());
        let ok = parse(json!({"path_prefix": "/v1", "method": "get", "status": 429, "count": 2, "retry_after": 3}))
            .unwrap();
        assert_eq!(ok.method.as_deref(), Some("GET"));
        assert_eq!(ok.retry_after, Some(3));
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
        ] {
            let error = parse(body).unwrap_err();
            assert!(
                matches!(&error, LocalError::Invalid { field: Some(f), .. } if f == field),
                "{error:?}"
            );
        }
    }

    #[test]
    fn request_log_caps_oldest_first() {
        let log = RequestLog::default();
        for index in 0..REQUEST_LOG_CAPACITY + 5 {
            log.record(LoggedRequest {
                method: "GET".into(),
                path: format!("/{index}"),
                status: 200,
                at: String::new(),
            });
        }
        let entries = log.snapshot();
        assert_eq!(entries.len(), REQUEST_LOG_CAPACITY);
        assert_eq!(entries[0].path, "/5");
        log.clear();
        assert!(log.snapshot().is_empty());
    }
}
