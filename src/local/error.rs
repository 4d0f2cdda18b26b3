//! The one error type of dbaas-local, and the one place that turns it into the wire format
//! `{"error": {"code", "message", "field"}}` of the native API (plus `reason` on every 409).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `Retry-After` of every busy answer: transitions settle after the provision delay, and
/// one second is a polite first wait whatever that delay is.
pub(crate) const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// Everything that can go wrong in dbaas-local, from a bad request field to a broken data dir.
///
/// Request-level variants map to the statuses of the contract; infrastructure variants (store,
/// I/O, bind) map to 500 `internal` on the wire, with the detail logged but not sent.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// 400 `invalid`: a request field (or the body as a whole when `field` is `None`) is wrong.
    #[error("{message}")]
    Invalid {
        /// The JSON field at fault, so clients can point the user at the right attribute.
        field: Option<String>,
        /// What is wrong and what would be accepted.
        message: String,
    },
    /// 401 `unauthorized`: the bearer token is missing or wrong.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// 404 `not_found`: no such object (or no such route).
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`: the path exists but not with this method.
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The method the client used.
        method: String,
        /// The path it used it on.
        path: String,
    },
    /// 409 `conflict` with reason `state`: a state conflict that waiting does not resolve
    /// (a reused idempotency key, a password that cannot be revealed, ...).
    #[error("{0}")]
    Conflict(String),
    /// 409 `conflict` with reason `busy` (and `Retry-After: 1`): the object or its database is
    /// in a transitional status; the same request succeeds once it is `READY`.
    #[error("{0}")]
    Busy(String),
    /// 409 `conflict` with reason `duplicate`: the object already exists; retrying never helps.
    #[error("{0}")]
    Duplicate(String),
    /// 409 `conflict` with reason `state`: an administrator locked the database, and every
    /// change to it (or its children) is refused until it is unlocked. Kept apart from
    /// [`LocalError::Conflict`] because dialects answer it differently (OVH's `ServiceLocked`).
    #[error("{0}")]
    Locked(String),
    /// 413 `payload_too_large`: the request body is longer than [`crate::local::MAX_BODY_BYTES`].
    #[error("the request body is larger than the {limit} bytes this service accepts")]
    PayloadTooLarge {
        /// The limit, so the client knows what would be accepted.
        limit: usize,
    },
    /// 429 `rate_limited`, always with a `Retry-After` header.
    #[error("{message}")]
    RateLimited {
        /// Why the request was refused.
        message: String,
        /// Seconds the client should wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// 500 `internal` with a message meant for the client (e.g. an injected fault).
    #[error("{0}")]
    Internal(String),
    /// 502 `bad_gateway`: what a proxy in front of a real service answers when the service
    /// behind it fails; only injected faults answer it here.
    #[error("{0}")]
    BadGateway(String),
    /// 504 `gateway_timeout`: what a proxy answers when the service behind it is too slow;
    /// only injected faults answer it here.
    #[error("{0}")]
    GatewayTimeout(String),
    /// 503 `unavailable`, with `Retry-After` when known.
    #[error("{message}")]
    Unavailable {
        /// Why the service cannot answer now.
        message: String,
        /// Seconds the client should wait, sent as `Retry-After` when present.
        retry_after_secs: Option<u64>,
    },
    /// The SQLite store failed.
    #[error("store error: {0}")]
    Store(#[from] rusqlite::Error),
    /// A file-system operation on the data dir failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. which path was being created.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The data dir was written by a newer dbaas-local whose schema this one does not know.
    #[error(
        "the data dir has store schema version {found}, newer than the {supported} this dbaas-local supports"
    )]
    SchemaTooNew {
        /// Version found in the data dir.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// Stored data could not be read back (hand-edited or corrupted data dir).
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// The service was asked to listen beyond this machine with the token from its data dir,
    /// which only this machine can read: it needs one given explicitly.
    #[error(
        "refusing to listen on {listen} without an explicit token: give one with --token (or \
         DBAAS_LOCAL_TOKEN), or listen on a loopback address such as 127.0.0.1"
    )]
    TokenNeeded {
        /// The non-loopback address asked for.
        listen: std::net::SocketAddr,
    },
    /// A blocking store task panicked or was cancelled.
    #[error("store task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl LocalError {
    /// A 400 naming the bad field.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// A 400 about the body as a whole (not JSON, not an object, ...).
    pub(crate) fn invalid_body(message: impl Into<String>) -> Self {
        Self::Invalid {
            field: None,
            message: message.into(),
        }
    }

    /// The `Retry-After` the answer carries: a rate limit's, an outage's when known, and
    /// [`BUSY_RETRY_AFTER_SECS`] for a busy object.
    pub(crate) fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            Self::Unavailable {
                retry_after_secs, ..
            } => *retry_after_secs,
            Self::Busy(_) => Some(BUSY_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::Busy(_) | Self::Duplicate(_) | Self::Locked(_) => {
                StatusCode::CONFLICT
            }
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_)
            | Self::Store(_)
            | Self::Io { .. }
            | Self::SchemaTooNew { .. }
            | Self::Corrupt(_)
            | Self::TokenNeeded { .. }
            | Self::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `reason` of a 409, telling clients whether waiting helps; `None` for other statuses.
    pub(crate) fn conflict_reason(&self) -> Option<&'static str> {
        match self {
            Self::Busy(_) => Some("busy"),
            Self::Duplicate(_) => Some("duplicate"),
            Self::Conflict(_) | Self::Locked(_) => Some("state"),
            _ => None,
        }
    }

    /// The machine-readable `code` of the wire format.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid",
            Self::Unauthorized => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(_) | Self::Busy(_) | Self::Duplicate(_) | Self::Locked(_) => "conflict",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::BadGateway(_) => "bad_gateway",
            Self::GatewayTimeout(_) => "gateway_timeout",
            Self::Internal(_)
            | Self::Store(_)
            | Self::Io { .. }
            | Self::SchemaTooNew { .. }
            | Self::Corrupt(_)
            | Self::TokenNeeded { .. }
            | Self::Task(_) => "internal",
        }
    }
}

/// The single mapping from [`LocalError`] to an HTTP response.
impl IntoResponse for LocalError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, field) = match &self {
            Self::Invalid { field, message } => (message.clone(), field.clone()),
            // Infrastructure failures may mention file paths or SQL: log them, send a generic text.
            Self::Store(_)
            | Self::Io { .. }
            | Self::SchemaTooNew { .. }
            | Self::Corrupt(_)
            | Self::Task(_) => {
                tracing::error!(error = %self, "internal error while handling a request");
                ("internal error; see the dbaas-local log".to_owned(), None)
            }
            other => (other.to_string(), None),
        };
        let body = match self.conflict_reason() {
            Some(reason) => json!({"error": {
                "code": self.code(), "reason": reason, "message": message, "field": field
            }}),
            None => json!({"error": {"code": self.code(), "message": message, "field": field}}),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if matches!(self, Self::Unauthorized) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"dbaas-local\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        serde_json::from_slice(&bytes).expect("json body")
    }

    #[tokio::test]
    async fn invalid_maps_to_400_with_field() {
        let response = LocalError::invalid("name", "bad name").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = body_json(response).await;
        assert_eq!(
            body,
            json!({"error": {"code": "invalid", "message": "bad name", "field": "name"}})
        );
    }

    #[tokio::test]
    async fn rate_limited_carries_retry_after() {
        let response = LocalError::RateLimited {
            message: "slow down".into(),
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        assert_eq!(body_json(response).await["error"]["code"], "rate_limited");
    }

    #[tokio::test]
    async fn store_error_hides_details() {
        let response = LocalError::Corrupt("secret path /x/y".into()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_json(response).await;
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body["error"]["message"].as_str().unwrap().contains("/x/y"));
        assert_eq!(body["error"]["field"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn conflicts_carry_their_reason() {
        for (error, reason, retry_after) in [
            (LocalError::Busy("db busy".into()), "busy", Some("1")),
            (LocalError::Duplicate("exists".into()), "duplicate", None),
            (LocalError::Conflict("cannot".into()), "state", None),
            (LocalError::Locked("locked".into()), "state", None),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::CONFLICT);
            assert_eq!(
                response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.to_str().unwrap()),
                retry_after
            );
            let body = body_json(response).await;
            assert_eq!(body["error"]["code"], "conflict");
            assert_eq!(body["error"]["reason"], reason);
            assert_eq!(body["error"]["field"], serde_json::Value::Null);
        }
        let body = body_json(LocalError::NotFound("x".into()).into_response()).await;
        assert!(body["error"].get("reason").is_none(), "{body}");
    }

    #[tokio::test]
    async fn unauthorized_sets_www_authenticate() {
        let response = LocalError::Unauthorized.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
