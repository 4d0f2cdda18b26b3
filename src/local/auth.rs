//! Bearer-token check: with a token configured, every request except `GET /healthz` must carry
//! `Authorization: Bearer <token>`. Paths of a vendor dialect (`/ovh/…`) are checked with the
//! vendor's own authentication instead (see [`super::dialects`]), token or not.
//!
//! The comparison takes the same time whatever the first differing byte, so the token cannot be
//! guessed byte by byte from response times. The token is never logged.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};

use super::AppState;
use super::error::LocalError;

/// Path that stays open so supervisors can probe liveness without the token.
pub(crate) const OPEN_PATH: &str = "/healthz";

/// Middleware refusing requests without the configured token.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(dialect) = super::dialects::dialect_of(request.uri().path()) {
        return super::dialects::authenticate(dialect, state, request, next).await;
    }
    if let Some(expected) = &state.token
        && request.uri().path() != OPEN_PATH
        && !is_authorized(request.headers(), expected)
    {
        return LocalError::Unauthorized.into_response();
    }
    next.run(request).await
}

/// Whether the headers carry `Authorization: Bearer <expected>` (scheme case-insensitive).
pub(crate) fn is_authorized(headers: &HeaderMap, expected: &SecretString) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let Some((scheme, presented)) = value.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && constant_time_eq(
            presented.trim().as_bytes(),
            expected.expose_secret().as_bytes(),
        )
}

/// Byte equality whose running time depends only on the lengths, not on where the inputs differ.
pub(crate) fn constant_time_eq(presented: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(presented.len() != expected.len());
    for (index, expected_byte) in expected.iter().enumerate() {
        let presented_byte = presented.get(index).copied().unwrap_or(0);
        difference |= presented_byte ^ expected_byte;
    }
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).unwrap(),
        );
        headers
    }

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secreT", b"secret"));
        assert!(!constant_time_eq(b"secret1", b"secret"));
        assert!(!constant_time_eq(b"secre", b"secret"));
        assert!(!constant_time_eq(b"", b"secret"));
        assert!(constant_time_eq(b"", b""));
        // A longer input sharing the prefix plus NULs must not pass.
        assert!(!constant_time_eq(b"secret\0", b"secret"));
    }

    #[test]
    fn is_authorized_requires_bearer_and_token() {
        let token = SecretString::from("s3cret");
        assert!(is_authorized(&headers("Bearer s3cret"), &token));
        assert!(is_authorized(&headers("bearer s3cret"), &token));
        assert!(!is_authorized(&headers("Bearer wrong"), &token));
        assert!(!is_authorized(&headers("Basic s3cret"), &token));
        assert!(!is_authorized(&headers("s3cret"), &token));
        assert!(!is_authorized(&HeaderMap::new(), &token));
    }
}
