//! Vendor API dialects: other companies' DBaaS APIs, spoken over the same store.
//!
//! A dialect is a thin adapter, like [`super::native`]: it decodes its vendor's wire format,
//! calls the shared rules (`databases`, `credentials`, `ip_restrictions`) and renders the
//! vendor's models and errors. So a database created through a dialect is visible through
//! `/v1` and the other way round, and the lifecycle worker, the request log and the fault
//! injection apply to it the same way.
//!
//! Each dialect owns a path prefix and brings what differs per vendor: its authentication
//! (checked instead of the bearer token, before faults, as the token is), its error format
//! (also for injected faults and unknown paths under its prefix) and the headers it stamps on
//! every reply.
//!
//! - [`ovh`]: OVHcloud Public Cloud Databases (MongoDB), under `/ovh/1.0`.

pub(crate) mod ovh;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::LocalError;

/// The dialects the service can speak, by path prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// OVHcloud, under `/ovh/`.
    Ovh,
}

/// The dialect a path belongs to, if any.
pub(crate) fn dialect_of(path: &str) -> Option<Dialect> {
    (path == "/ovh" || path.starts_with("/ovh/")).then_some(Dialect::Ovh)
}

/// The configured dialects (a dialect left out answers every request under its prefix with
/// its own "not configured" error).
#[derive(Debug, Clone, Default)]
pub(crate) struct Dialects {
    /// The OVH dialect's keys and project, when configured.
    pub(crate) ovh: Option<ovh::Shared>,
}

/// The routes of every dialect.
pub(crate) fn routes() -> Router<AppState> {
    ovh::routes()
}

/// The dialect's own authentication, instead of the bearer token.
pub(crate) async fn authenticate(
    dialect: Dialect,
    state: AppState,
    request: Request,
    next: Next,
) -> Response {
    match dialect {
        Dialect::Ovh => ovh::authenticate(state, request, next).await,
    }
}

/// A service error (an injected fault, say) in the dialect's error format.
pub(crate) fn error_response(dialect: Dialect, error: LocalError) -> Response {
    match dialect {
        Dialect::Ovh => ovh::error_response(error),
    }
}

/// The dialect's answer for a path under its prefix that it does not have.
pub(crate) fn unknown_route(dialect: Dialect, method: &Method, path: &str) -> Response {
    match dialect {
        Dialect::Ovh => ovh::unknown_route(method, path),
    }
}

/// The dialect's answer for a path it has, used with another method.
pub(crate) fn method_not_allowed(dialect: Dialect, method: &Method, path: &str) -> Response {
    match dialect {
        Dialect::Ovh => ovh::method_not_allowed(method, path),
    }
}

/// Middleware stamping every reply under a dialect's prefix with the dialect's headers (OVH's
/// `X-Ovh-QueryID`), whatever answered it: handler, authentication, fault or fallback.
pub(crate) async fn stamp_replies(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let dialect = dialect_of(request.uri().path());
    let mut response = next.run(request).await;
    if let Some(Dialect::Ovh) = dialect {
        ovh::stamp(&state, &mut response);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_of_matches_whole_prefix_segments() {
        assert_eq!(dialect_of("/ovh/1.0/auth/time"), Some(Dialect::Ovh));
        assert_eq!(dialect_of("/ovh"), Some(Dialect::Ovh));
        assert_eq!(dialect_of("/ovhx"), None);
        assert_eq!(dialect_of("/v1/databases"), None);
    }
}
