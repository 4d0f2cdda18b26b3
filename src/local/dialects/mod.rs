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

/// The dialect's own authentication, instead of the bearer token.
pub(crate) async fn authenticate(
    dialect: Dialect,
    state: AppState,
    request: Request,
    next: Next,
) -> Response {
    match dialect {
        Dialect::Ovh => ovh::authenticate(state, request, next).await,
        Dialect::Goaddon => goaddon::authenticate(state, request, next).await,
        Dialect::Compose => compose::authenticate(state, request, next).await,
        Dialect::Globo => {
            let config = state.dialects.globo.clone();
            globo::authenticate_with(config.as_deref(), request, next).await
        }
        Dialect::Databaselabs => {
            databaselabs::authenticate(state.dialects.databaselabs.clone(), request, next).await
        }
    }
}

/// A service error (an injected fault, say) in the dialect's error format.
pub(crate) fn error_response(dialect: Dialect, error: LocalError) -> Response {
    match dialect {
        Dialect::Ovh => ovh::error_response(error),
        Dialect::Goaddon => goaddon::error_response(error),
        Dialect::Compose => compose::error_response(error),
        Dialect::Globo => globo::error_response(error),
        Dialect::Databaselabs => databaselabs::error_response(error),
    }
}

/// The dialect's answer for a path under its prefix that it does not have.
pub(crate) fn unknown_route(dialect: Dialect, method: &Method, path: &str) -> Response {
    match dialect {
        Dialect::Ovh => ovh::unknown_route(method, path),
        Dialect::Goaddon => goaddon::unknown_route(method, path),
        Dialect::Compose => compose::unknown_route(method, path),
        Dialect::Globo => globo::unknown_route(method, path),
        Dialect::Databaselabs => databaselabs::unknown_route(method, path),
    }
}

/// The dialect's answer for a path it has, used with another method.
pub(crate) fn method_not_allowed(dialect: Dialect, method: &Method, path: &str) -> Response {
    match dialect {
        Dialect::Ovh => ovh::method_not_allowed(method, path),
        Dialect::Goaddon => goaddon::method_not_allowed(method, path),
        Dialect::Compose => compose::method_not_allowed(method, path),
        Dialect::Globo => globo::method_not_allowed(method, path),
        Dialect::Databaselabs => databaselabs::method_not_allowed(method, path),
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
