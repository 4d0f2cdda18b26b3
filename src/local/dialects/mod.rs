//! Vendor API dialects: other companies' DBaaS APIs, spoken over the same store.
//!
//! A dialect is a thin adapter, like [`super::native`]: it decodes its vendor's wire format,
//! calls the shared rules (`databases`, `credentials`, `ip_restrictions`) and renders the
//! vendor's models and errors. So a database created through a dialect is visible through
//! `/v1` and the other way round, and the lifecycle worker, the request log and the fault
//! injection apply to it the same way.
//!
//! Each dialect owns a path prefix and brings what differs per vendor, its [`DialectFront`]:
//! its authentication (checked instead of the bearer token, before faults, as the token is; the
//! `Authorization` header is parsed once, by `auth::Presented`), its error format (also for
//! injected faults, oversized bodies and unknown paths under its prefix); OVH also stamps its
//! headers on every reply.
//!
//! - [`ovh`]: OVHcloud Public Cloud Databases (MongoDB), under `/ovh/1.0`.
//! - [`goaddon`]: goaddon.com's project API (collections, database users), under `/goaddon`.
//! - [`compose`]: Compose's classic API (`Accept-Version: 2014-06`), under `/compose`.
//! - [`globo`]: globo.com DBaaS (2013 API), under `/globo`.
//! - [`databaselabs`]: databaselabs.io (hosted PostgreSQL), under `/databaselabs`.

pub(crate) mod compose;
pub(crate) mod databaselabs;
pub(crate) mod globo;
pub(crate) mod goaddon;
pub(crate) mod ovh;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::LocalError;

/// The dialects the service can speak, by path prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// OVHcloud, under `/ovh/`.
    Ovh,
    /// goaddon.com, under `/goaddon/`.
    Goaddon,
    /// Compose classic, under `/compose/`.
    Compose,
    /// globo.com DBaaS, under `/globo/`.
    Globo,
    /// databaselabs.io, under `/databaselabs/`.
    Databaselabs,
}

/// The dialect a path belongs to, if any.
pub(crate) fn dialect_of(path: &str) -> Option<Dialect> {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/ovh") {
        return Some(Dialect::Ovh);
    }
    if under(goaddon::BASE) {
        return Some(Dialect::Goaddon);
    }
    if under(compose::BASE) {
        return Some(Dialect::Compose);
    }
    if under(globo::PREFIX) {
        return Some(Dialect::Globo);
    }
    if under(databaselabs::BASE) {
        return Some(Dialect::Databaselabs);
    }
    None
}

/// The configured dialects (a dialect left out answers every request under its prefix with
/// its own "not configured" error).
#[derive(Debug, Clone, Default)]
pub(crate) struct Dialects {
    /// The OVH dialect's keys and project, when configured.
    pub(crate) ovh: Option<ovh::Shared>,
    /// The goaddon dialect's token and project state, when configured.
    pub(crate) goaddon: Option<goaddon::Shared>,
    /// The globo dialect's Basic credentials, when configured.
    pub(crate) globo: Option<globo::Shared>,
    /// The Compose dialect's token, account and deployment, when configured.
    pub(crate) compose: Option<compose::Shared>,
    /// The databaselabs dialect's API key and secret, when configured.
    pub(crate) databaselabs: Option<databaselabs::Shared>,
}

/// The routes of every dialect.
pub(crate) fn routes() -> Router<AppState> {
    ovh::routes()
        .merge(goaddon::routes())
        .merge(compose::routes())
        .merge(globo::routes())
        .merge(databaselabs::routes())
}

impl Dialect {
    /// What the dialect shows at its prefix: its authentication and its error format.
    pub(crate) fn front(self) -> &'static dyn DialectFront {
        match self {
            Dialect::Ovh => &ovh::Front,
            Dialect::Goaddon => &goaddon::Front,
            Dialect::Compose => &compose::Front,
            Dialect::Globo => &globo::Front,
            Dialect::Databaselabs => &databaselabs::Front,
        }
    }
}

/// What differs per vendor around its routes: how a caller proves who it is, and how errors
/// look. The service's middleware and fallbacks call it for every path under the prefix.
pub(crate) trait DialectFront: Sync {
    /// The vendor's answer refusing the request (its 401 or 403, or its "not configured" 404
    /// when the dialect is off), or `None` to let it in. `body` is the whole (capped) body, for
    /// vendors that sign it; `request` may gain extensions for the handlers.
    fn refusal(&self, state: &AppState, request: &mut Parts, body: &Bytes) -> Option<Response>;

    /// A service error (an injected fault, an oversized body) in the vendor's format.
    fn error_response(&self, error: LocalError) -> Response;

    /// The answer for a path under the prefix that names no operation.
    fn unknown_route(&self, method: &Method, path: &str) -> Response;

    /// The answer for a path it has, used with another method.
    fn method_not_allowed(&self, method: &Method, path: &str) -> Response {
        self.error_response(LocalError::MethodNotAllowed {
            method: method.to_string(),
            path: path.to_owned(),
        })
    }
}

/// A service error in the format of the API `path` belongs to: a dialect's, or the native one.
pub(crate) fn error_reply(path: &str, error: LocalError) -> Response {
    match dialect_of(path) {
        Some(dialect) => dialect.front().error_response(error),
        None => error.into_response(),
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
        assert_eq!(
            dialect_of("/goaddon/api/v1/projects"),
            Some(Dialect::Goaddon)
        );
        assert_eq!(dialect_of("/goaddonx"), None);
        assert_eq!(
            dialect_of("/compose/deployments/a/d"),
            Some(Dialect::Compose)
        );
        assert_eq!(dialect_of("/composer"), None);
        assert_eq!(dialect_of("/v1/databases"), None);
        assert_eq!(dialect_of("/globo/api/database/"), Some(Dialect::Globo));
        assert_eq!(dialect_of("/globox"), None);
        assert_eq!(
            dialect_of("/databaselabs/api/ping"),
            Some(Dialect::Databaselabs)
        );
        assert_eq!(dialect_of("/databaselabsx"), None);
    }
}
