//! Test aids: the request log and request fault injection, plus their admin endpoints.
//!
//! The request log keeps method, path (no query string, no headers, no body: nothing that could
//! hold a secret), status, arrival time, how long the reply took and the fault that hit it of
//! every request since start, capped at [`REQUEST_LOG_CAPACITY`] (oldest dropped).
//!
//! A request fault (`POST /v1/_admin/faults`) hits the next `count` requests whose path starts
//! with `path_prefix` (and whose method is `method`, when given), after letting the first
//! `skip` of them pass untouched. The first pending fault that matches a request decides alone.
//! Each hit is logged at info (`fault injected`) and marked in the request log (`fault`, e.g.
//! `"after:drop"`). `when` and `action` say what it does:
//!
//! | | `before` (the default): nothing is handled | `after`: the handler runs to completion, its work is committed |
//! |---|---|---|
//! | `status` (the default) | answers `status` (429, 500, 502, 503, 504) | its reply is replaced by `status` |
//! | `drop` | no reply: the connection is cut | its reply is withheld: the connection is cut |
//! | `delay` | waits `delay_ms`, then handles it | its reply is held `delay_ms` |
//!
//! Errors are in the dialect's error format under a dialect's prefix, the native one elsewhere,
//! unless a status fault has a `body` of its own: a string is sent as `text/plain`, a JSON object
//! or array as `application/json`, in place of the API's error (how a test sends a hostile error
//! body, say one that quotes a password). With a `body`, `status` may be any of 400–599.
//! A cut connection ([`connection`]) sends nothing at all, not even a status line: the client
//! sees the connection closed before any response (reqwest: `send()` fails with hyper's
//! "connection closed before message completed"). A handler that a fault lets run does so in a
//! task of its own, so it completes even when the client gives up waiting (a `delay` longer
//! than the client's timeout). In the request log a withheld reply is logged with the status the
//! handler answered, and a `before` drop (nothing handled, nothing answered) with status 0.
//!
//! Paths under `/v1/_admin/` are never faulted, so a test can always clear what it injected.
//! The log and the pending faults live in memory only; `plan` reads the faults a
//! `--faults FILE` installs at start, `admin` serves the endpoints.

mod admin;
mod connection;
mod plan;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

pub(crate) use admin::admin_routes;
pub(crate) use connection::{Connection, CuttableListener};
pub use plan::{FaultPlan, FaultPlanError};

use super::AppState;
use super::dialects::error_reply;
use super::error::LocalError;

/// Most requests the log keeps.
pub(crate) const REQUEST_LOG_CAPACITY: usize = 10_000;

/// Path prefix of the admin endpoints, exempt from faults.
pub(crate) const ADMIN_PREFIX: &str = "/v1/_admin/";

/// Retry-After sent with an injected 429 that names none (a 429 always carries one).
pub(crate) const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// Longest `delay_ms` accepted: an hour outlasts any client timeout worth testing.
pub(crate) const MAX_DELAY_MS: u64 = 3_600_000;

/// Status logged for a request that was neither handled nor answered (`before` + `drop`).
pub(crate) const NO_REPLY_STATUS: u16 = 0;

/// One received request.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoggedRequest {
    /// HTTP method.
    pub(crate) method: String,
    /// Path without the query string.
    pub(crate) path: String,
    /// Status answered; for a withheld reply the handler's, and 0 when nothing was handled.
    pub(crate) status: u16,
    /// When it arrived, RFC 3339 UTC with milliseconds.
    pub(crate) at: String,
    /// Milliseconds from arrival until its outcome was known (the reply ready, or the
    /// connection cut): with `at`, when a client got its answer, which is how a benchmark
    /// times how soon a waiting client learns that a database is READY.
    pub(crate) took_ms: u64,
    /// The fault that hit it (`"<when>:<action>"`, e.g. `"after:drop"`), so a test can count
    /// faults and tell whether the work behind a failed request was done.
    pub(crate) fault: Option<String>,
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

/// When a fault acts, relative to the normal handling of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum When {
    /// Instead of handling the request (or, for `delay`, before handling it).
    Before,
    /// Once the handler has run to completion, its work committed.
    After,
}

impl When {
    /// The wire spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::After => "after",
        }
    }
}

/// What a fault does to the request it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Answer this status (429, 500, 502, 503 or 504) in the API's error format.
    Status(u16),
    /// Give no usable reply: the connection is cut.
    Drop,
    /// Wait this long: before handling, or before sending the handler's reply.
    Delay(Duration),
}

impl Action {
    /// The wire spelling of the action's kind.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Status(_) => "status",
            Self::Drop => "drop",
            Self::Delay(_) => "delay",
        }
    }
}

/// An injected request fault and how many more requests it will pass and hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    /// Requests whose path starts with this are matched.
    pub(crate) path_prefix: String,
    /// Only this method (compared case-insensitively), or any when `None`.
    pub(crate) method: Option<String>,
    /// Whether it acts instead of the handler or after it.
    pub(crate) when: When,
    /// What it does.
    pub(crate) action: Action,
    /// Seconds to send as `Retry-After` with a status.
    pub(crate) retry_after: Option<u64>,
    /// Matching requests still to let through untouched before hitting any.
    pub(crate) skip: u64,
    /// Matching requests still to hit.
    pub(crate) count: u64,
    /// The reply body of a status, instead of the API's own error: how a test sends a hostile
    /// error body (a string as text/plain, JSON as application/json).
    pub(crate) body: Option<serde_json::Value>,
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        path.starts_with(&self.path_prefix)
            && self
                .method
                .as_deref()
                .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
    }

    /// `"<when>:<action>"`, as the request log shows it.
    pub(crate) fn label(&self) -> String {
        format!("{}:{}", self.when.as_str(), self.action.as_str())
    }

    /// The reply of a status fault: the API's error in its format, with the fault's own body
    /// (and the status itself, which may be one the API's errors never have) when it has one.
    fn reply(&self, path: &str, status: u16) -> Response {
        let mut reply = error_reply(path, self.error(status));
        if let Some(body) = &self.body {
            let (content_type, bytes) = match body {
                serde_json::Value::String(text) => ("text/plain; charset=utf-8", text.clone()),
                json => ("application/json", json.to_string()),
            };
            *reply.status_mut() =
                http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
            reply.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(content_type),
            );
            reply.headers_mut().remove(http::header::CONTENT_LENGTH);
            *reply.body_mut() = Body::from(bytes);
        }
        reply
    }

    /// The error a status fault answers with.
    fn error(&self, status: u16) -> LocalError {
        match status {
            429 => LocalError::RateLimited {
                message: "rate limited (injected fault)".to_owned(),
                retry_after_secs: self.retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS),
            },
            502 => LocalError::BadGateway("bad gateway (injected fault)".to_owned()),
            503 => LocalError::Unavailable {
                message: "service unavailable (injected fault)".to_owned(),
                retry_after_secs: self.retry_after,
            },
            504 => LocalError::GatewayTimeout("gateway timeout (injected fault)".to_owned()),
            _ => LocalError::Internal("internal error (injected fault)".to_owned()),
        }
    }
}

/// The wire form of a pending fault: every member, `null` where it does not apply.
#[derive(Serialize)]
struct FaultBody<'a> {
    path_prefix: &'a str,
    method: Option<&'a str>,
    when: When,
    action: &'static str,
    status: Option<u16>,
    delay_ms: Option<u64>,
    retry_after: Option<u64>,
    skip: u64,
    count: u64,
    body: Option<&'a serde_json::Value>,
}

impl Serialize for Fault {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        FaultBody {
            path_prefix: &self.path_prefix,
            method: self.method.as_deref(),
            when: self.when,
            action: self.action.as_str(),
            status: match self.action {
                Action::Status(status) => Some(status),
                _ => None,
            },
            delay_ms: match self.action {
                Action::Delay(wait) => Some(wait.as_millis() as u64),
                _ => None,
            },
            retry_after: self.retry_after,
            skip: self.skip,
            count: self.count,
            body: self.body.as_ref(),
        }
        .serialize(serializer)
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

    /// The fault that hits this request, if any, using up one of its skips or of its count.
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<Fault> {
        if path.starts_with(ADMIN_PREFIX) {
            return None;
        }
        let mut rules = self.lock();
        let index = rules.iter().position(|fault| fault.matches(method, path))?;
        let fault = &mut rules[index];
        if fault.skip > 0 {
            fault.skip -= 1;
            return None;
        }
        let fired = fault.clone();
        fault.count -= 1;
        if fault.count == 0 {
            rules.remove(index);
        }
        Some(fired)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A request on its way: recorded once, by whoever learns its outcome first. That is
/// [`observe`] when the reply comes back through it, or the task a fault runs the handler in,
/// so a request whose client hung up (and whose middleware futures were dropped) is still logged.
#[derive(Debug, Clone)]
struct Unrecorded {
    /// Where it goes.
    log: Arc<RequestLog>,
    /// What is known since it arrived; taken by the first `record`.
    arrival: Arc<Mutex<Option<Arrival>>>,
}

/// What the log knows of a request when it arrives.
#[derive(Debug)]
struct Arrival {
    /// HTTP method.
    method: String,
    /// Path without the query string.
    path: String,
    /// Arrival time, as logged.
    at: String,
    /// For the latency in the access log.
    started: Instant,
}

impl Unrecorded {
    /// Writes the access log line and the request log entry, unless already done.
    fn record(&self, status: u16, fault: Option<String>) {
        let arrival = self
            .arrival
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some(Arrival {
            method,
            path,
            at,
            started,
        }) = arrival
        else {
            return;
        };
        tracing::info!(
            %method,
            %path,
            status,
            fault = fault.as_deref(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        self.log.record(LoggedRequest {
            method,
            path,
            status,
            at,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            fault,
        });
    }
}

/// Outermost middleware: logs method, path, status and latency, and records the request.
pub(crate) async fn observe(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let arrival = Arrival {
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        at: state
            .databases
            .clock()
            .now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string(),
        started: Instant::now(),
    };
    let unrecorded = Unrecorded {
        log: Arc::clone(&state.requests),
        arrival: Arc::new(Mutex::new(Some(arrival))),
    };
    request.extensions_mut().insert(unrecorded.clone());
    let response = next.run(request).await;
    unrecorded.record(response.status().as_u16(), None);
    response
}

/// Middleware (inside auth) applying the fault that hits the request, if any.
pub(crate) async fn inject_faults(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let Some(fault) = state.faults.take(&method, &path) else {
        return next.run(request).await;
    };
    tracing::info!(
        %path,
        %method,
        when = fault.when.as_str(),
        action = fault.action.as_str(),
        "fault injected"
    );
    let connection = request
        .extensions()
        .get::<ConnectInfo<Connection>>()
        .map(|ConnectInfo(connection)| connection.clone());
    let unrecorded = request.extensions().get::<Unrecorded>().cloned();
    let lets_handler_run = !matches!(
        (fault.when, fault.action),
        (When::Before, Action::Status(_) | Action::Drop)
    );
    let work = {
        let path = path.clone();
        async move {
            let (response, status) = apply(&fault, &path, next, request, connection).await;
            if let Some(unrecorded) = unrecorded {
                unrecorded.record(status, Some(fault.label()));
            }
            response
        }
    };
    if !lets_handler_run {
        return work.await;
    }
    // In a task of its own, so the handler completes (its work committed, the request logged)
    // even when the client hangs up and this future is dropped.
    match tokio::spawn(work).await {
        Ok(response) => response,
        Err(error) => error_reply(&path, LocalError::Task(error)),
    }
}

/// What `fault` makes of the request: the response and the status to log for it.
async fn apply(
    fault: &Fault,
    path: &str,
    next: Next,
    request: Request,
    connection: Option<Connection>,
) -> (Response, u16) {
    match (fault.when, fault.action) {
        (When::Before, Action::Status(status)) => (fault.reply(path, status), status),
        (When::Before, Action::Drop) => (withheld(connection), NO_REPLY_STATUS),
        (When::Before, Action::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            let reply = next.run(request).await;
            let status = reply.status().as_u16();
            (reply, status)
        }
        (When::After, action) => {
            let reply = next.run(request).await;
            let handled = reply.status().as_u16();
            match action {
                Action::Status(status) => (fault.reply(path, status), status),
                Action::Drop => (withheld(connection), handled),
                Action::Delay(wait) => {
                    tokio::time::sleep(wait).await;
                    (reply, handled)
                }
            }
        }
    }
}

/// No usable reply: the connection is cut, so nothing is sent. Without a connection to cut
/// (the app called in memory) the reply's body fails instead, which a client sees the same way.
fn withheld(connection: Option<Connection>) -> Response {
    if let Some(connection) = connection {
        connection.cut();
    }
    let failing = futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::other("reply withheld by an injected fault"))
    });
    Response::new(Body::from_stream(failing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(prefix: &str, method: Option<&str>, status: u16, count: u64) -> Fault {
        Fault {
            path_prefix: prefix.into(),
            method: method.map(str::to_owned),
            when: When::Before,
            action: Action::Status(status),
            retry_after: None,
            skip: 0,
            count,
            body: None,
        }
    }

    fn error_of(fault: Option<Fault>) -> Option<LocalError> {
        let fault = fault?;
        match fault.action {
            Action::Status(status) => Some(fault.error(status)),
            other => panic!("not a status fault: {other:?}"),
        }
    }

    #[test]
    fn faults_hit_count_times_then_stop() {
        let faults = Faults::default();
        faults.add(fault("/v1/databases", None, 503, 2));
        for _ in 0..2 {
            let error = error_of(faults.take("GET", "/v1/databases/db-1")).expect("fault");
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
            error_of(faults.take("GET", "/v1/databases")),
            Some(LocalError::RateLimited {
                retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
                ..
            })
        ));
        assert!(faults.take("GET", "/healthz").is_none());
        assert!(matches!(
            error_of(faults.take("POST", "/v1/databases")),
            Some(LocalError::Internal(_))
        ));
        assert!(faults.take("POST", "/v1/databases").is_none());
    }

    #[test]
    fn faults_skip_then_hit_and_the_first_match_decides() {
        let faults = Faults::default();
        faults.add(Fault {
            skip: 2,
            count: 1,
            ..fault("/v1/databases", None, 502, 1)
        });
        faults.add(fault("/v1", None, 504, 5));
        for _ in 0..2 {
            assert!(
                faults.take("POST", "/v1/databases").is_none(),
                "skipped, and the later fault is not consulted"
            );
        }
        assert_eq!(faults.list()[0].skip, 0);
        assert!(matches!(
            error_of(faults.take("POST", "/v1/databases")),
            Some(LocalError::BadGateway(_))
        ));
        assert!(matches!(
            error_of(faults.take("POST", "/v1/databases")),
            Some(LocalError::GatewayTimeout(_))
        ));
    }

    #[tokio::test]
    async fn faults_with_a_body_send_it_with_their_status() {
        let read = |reply: Response| async move {
            let status = reply.status().as_u16();
            let content_type = reply.headers()[http::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_owned();
            let bytes = axum::body::to_bytes(reply.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                status,
                content_type,
                String::from_utf8(bytes.to_vec()).unwrap(),
            )
        };
        let text = Fault {
            body: Some(serde_json::json!("plain words")),
            ..fault("/v1", None, 400, 1)
        };
        assert_eq!(
            read(text.reply("/v1/databases", 400)).await,
            (
                400,
                "text/plain; charset=utf-8".into(),
                "plain words".into()
            )
        );
        let json = Fault {
            body: Some(serde_json::json!({"password": ["p"]})),
            ..fault("/ovh", None, 422, 1)
        };
        assert_eq!(
            read(json.reply("/ovh/1.0/me", 422)).await,
            (
                422,
                "application/json".into(),
                r#"{"password":["p"]}"#.into()
            )
        );
        let own = fault("/v1", None, 503, 1);
        let (status, _, body) = read(own.reply("/v1/databases", 503)).await;
        assert_eq!(status, 503);
        assert!(body.contains("injected fault"), "{body}");
    }

    #[test]
    fn faults_never_hit_admin_paths() {
        let faults = Faults::default();
        faults.add(fault("/", None, 503, 5));
        assert!(faults.take("DELETE", "/v1/_admin/faults").is_none());
        assert_eq!(faults.list()[0].count, 5);
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
                took_ms: 0,
                fault: None,
            });
        }
        let entries = log.snapshot();
        assert_eq!(entries.len(), REQUEST_LOG_CAPACITY);
        assert_eq!(entries[0].path, "/5");
        log.clear();
        assert!(log.snapshot().is_empty());
    }
}
