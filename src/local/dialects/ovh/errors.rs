//! OVH's error bodies, and the single mapping from the service's [`LocalError`] to them.
//!
//! API errors are `{"class": "Client::NotFound::ServiceNotFound", "message": "…"}` with the class
//! catalogue OVH's schema declares on every database operation; the HTTP status follows the
//! class's second segment (`BadRequest` 400, `NotFound` 404, `Conflict` 409, …), so OVH's own
//! odd placements hold: `IpRestrictionAlreadyExists` and `IpRestrictionInvalidFormat` sit under
//! `NotFound` and answer 404. Where the catalogue has no specific class (a body that is not
//! JSON, a user name already taken, an unknown path) the two-segment class is used.
//!
//! Authentication errors have OVH's other shape, `{"errorCode", "httpCode", "message"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::local::error::{BUSY_RETRY_AFTER_SECS, LocalError};

/// Every class the schema declares on the MongoDB operations (identical in 2021 and 2024).
#[cfg(test)]
pub(crate) const SCHEMA_CLASSES: &[&str] = &[
    "Client::BadRequest::AtLeastOneNode",
    "Client::BadRequest::FlavorDiskSizeTooLow",
    "Client::BadRequest::NoUpdate",
    "Client::BadRequest::NodesFlavorMismatch",
    "Client::BadRequest::NodesRegionMismatch",
    "Client::BadRequest::NotEnoughNodes",
    "Client::BadRequest::OnlyNodeListOrPattern",
    "Client::BadRequest::TooManyNodes",
    "Client::BadRequest::UserInvalidNameFormat",
    "Client::Unauthorized::InvalidAuthToken",
    "Client::NotFound::AvailabilityDoesNotExistAnymore",
    "Client::NotFound::AvailabilityNotFound",
    "Client::NotFound::BackupNotFound",
    "Client::NotFound::BillingNotFound",
    "Client::NotFound::EngineNameNotFound",
    "Client::NotFound::FlavorNameNotFound",
    "Client::NotFound::InsertIpRestrictionsMultipleServices",
    "Client::NotFound::InvalidMetricName",
    "Client::NotFound::InvalidNodeNumber",
    "Client::NotFound::IpRestrictionAlreadyExists",
    "Client::NotFound::IpRestrictionIDNotFound",
    "Client::NotFound::IpRestrictionInvalidFormat",
    "Client::NotFound::IpRestrictionNotFound",
    "Client::NotFound::NoMatchingAvailability",
    "Client::NotFound::NodeNameNotFound",
    "Client::NotFound::NodeNotFound",
    "Client::NotFound::OrganizationNotFound",
    "Client::NotFound::PlanInvalidUpgrade",
    "Client::NotFound::PlanNotFound",
    "Client::NotFound::RegionNotFound",
    "Client::NotFound::RoleNotFound",
    "Client::NotFound::ServiceNotFound",
    "Client::NotFound::SslCertificateNotFound",
    "Client::NotFound::UserNotFound",
    "Client::NotFound::VersionNotFound",
    "Client::Conflict::ServiceLocked",
    "Client::Conflict::ServiceNotReady",
    "Client::Conflict::ServiceOnlyOneModification",
];

/// Generic classes used where the catalogue has nothing more specific; each is the prefix of
/// catalogue classes or an OVH-observed class (`Server::InternalServerError`).
#[cfg(test)]
pub(crate) const GENERIC_CLASSES: &[&str] = &[
    "Client::BadRequest",
    "Client::NotFound",
    "Client::MethodNotAllowed",
    "Client::Conflict",
    "Client::PayloadTooLarge",
    "Client::TooManyRequests",
    "Server::InternalServerError",
    "Server::ServiceUnavailable",
    "Server::BadGateway",
    "Server::GatewayTimeout",
];

/// An API error in OVH's `{"class", "message"}` shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OvhError {
    /// The error class, e.g. `Client::NotFound::ServiceNotFound`.
    pub(crate) class: &'static str,
    /// A human sentence.
    pub(crate) message: String,
    /// Seconds for `Retry-After`, when waiting is the answer.
    pub(crate) retry_after: Option<u64>,
}

impl OvhError {
    /// An error of `class` (the HTTP status follows from it).
    pub(crate) fn new(class: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            retry_after: None,
        }
    }

    /// `Client::BadRequest`: a body or parameter OVH's framework would refuse.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new("Client::BadRequest", message)
    }

    /// The HTTP status of the class: its second segment.
    pub(crate) fn status(&self) -> StatusCode {
        status_of_class(self.class)
    }
}

/// The status a class answers with, from its second segment.
pub(crate) fn status_of_class(class: &str) -> StatusCode {
    match class.split("::").nth(1) {
        Some("BadRequest") => StatusCode::BAD_REQUEST,
        Some("Unauthorized") => StatusCode::UNAUTHORIZED,
        Some("Forbidden") => StatusCode::FORBIDDEN,
        Some("NotFound") => StatusCode::NOT_FOUND,
        Some("MethodNotAllowed") => StatusCode::METHOD_NOT_ALLOWED,
        Some("Conflict") => StatusCode::CONFLICT,
        Some("PayloadTooLarge") => StatusCode::PAYLOAD_TOO_LARGE,
        Some("TooManyRequests") => StatusCode::TOO_MANY_REQUESTS,
        Some("ServiceUnavailable") => StatusCode::SERVICE_UNAVAILABLE,
        Some("BadGateway") => StatusCode::BAD_GATEWAY,
        Some("GatewayTimeout") => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for OvhError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (
            status,
            Json(json!({"class": self.class, "message": self.message})),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// What a request was about, so a service-level error gets the class of the right object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    /// The cluster itself (or the catalog).
    Service,
    /// A user of the cluster.
    User,
    /// An IP restriction of the cluster.
    IpRestriction,
}

/// Maps a service error to OVH's class for `subject`. Field names are the shared rules'
/// (native) names: `plan` → `PlanNotFound`, `cidr` → `IpRestrictionInvalidFormat`, ….
pub(crate) fn from_local(error: LocalError, subject: Subject) -> OvhError {
    let message = error.to_string();
    match error {
        LocalError::Invalid { field, message } => {
            let class = match field.as_deref() {
                Some("plan") => "Client::NotFound::PlanNotFound",
                Some("version") => "Client::NotFound::VersionNotFound",
                Some("flavor") => "Client::NotFound::FlavorNameNotFound",
                Some("region") => "Client::NotFound::RegionNotFound",
                Some("engine") => "Client::NotFound::EngineNameNotFound",
                Some("node_count") => "Client::NotFound::InvalidNodeNumber",
                Some("cidr") => "Client::NotFound::IpRestrictionInvalidFormat",
                Some("username") => "Client::BadRequest::UserInvalidNameFormat",
                Some("roles") => "Client::NotFound::RoleNotFound",
                _ => "Client::BadRequest",
            };
            OvhError::new(class, message)
        }
        LocalError::NotFound(_) => {
            // The shared rules name the database first when it is the database that is missing.
            let class = if message.starts_with("database ") || subject == Subject::Service {
                "Client::NotFound::ServiceNotFound"
            } else if subject == Subject::User {
                "Client::NotFound::UserNotFound"
            } else {
                "Client::NotFound::IpRestrictionNotFound"
            };
            OvhError::new(class, message)
        }
        LocalError::Busy(_) => OvhError {
            retry_after: Some(BUSY_RETRY_AFTER_SECS),
            ..OvhError::new("Client::Conflict::ServiceNotReady", message)
        },
        LocalError::Conflict(_) => OvhError::new("Client::Conflict::ServiceNotReady", message),
        LocalError::Locked(_) => OvhError::new("Client::Conflict::ServiceLocked", message),
        LocalError::Duplicate(_) if subject == Subject::IpRestriction => {
            OvhError::new("Client::NotFound::IpRestrictionAlreadyExists", message)
        }
        LocalError::Duplicate(_) => OvhError::new("Client::Conflict", message),
        LocalError::MethodNotAllowed { .. } => OvhError::new("Client::MethodNotAllowed", message),
        LocalError::PayloadTooLarge { .. } => OvhError::new("Client::PayloadTooLarge", message),
        LocalError::RateLimited {
            retry_after_secs, ..
        } => OvhError {
            retry_after: Some(retry_after_secs),
            ..OvhError::new("Client::TooManyRequests", message)
        },
        LocalError::Unavailable {
            retry_after_secs, ..
        } => OvhError {
            retry_after: retry_after_secs,
            ..OvhError::new("Server::ServiceUnavailable", message)
        },
        LocalError::Internal(_) => OvhError::new("Server::InternalServerError", message),
        LocalError::BadGateway(_) => OvhError::new("Server::BadGateway", message),
        LocalError::GatewayTimeout(_) => OvhError::new("Server::GatewayTimeout", message),
        // Only the native API's bearer token yields this; dialect paths never check it.
        LocalError::Unauthorized => {
            OvhError::new("Client::Unauthorized::InvalidAuthToken", message)
        }
        LocalError::Store(_)
        | LocalError::Io { .. }
        | LocalError::SchemaTooNew { .. }
        | LocalError::Corrupt(_)
        | LocalError::TokenNeeded { .. }
        | LocalError::Task(_) => {
            tracing::error!(error = %message, "internal error while handling an OVH request");
            OvhError::new(
                "Server::InternalServerError",
                "internal error; see the dbaas-local log",
            )
        }
    }
}

/// An authentication error in OVH's `{"errorCode", "httpCode", "message"}` shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// `X-Ovh-Application` missing or not the configured application key.
    InvalidKey,
    /// `X-Ovh-Consumer` missing.
    NotCredential,
    /// `X-Ovh-Consumer` is not the configured consumer key.
    InvalidCredential,
    /// `X-Ovh-Timestamp` missing, not a number, or too far from the server's time.
    QueryTimeOut,
    /// `X-Ovh-Signature` missing or wrong (e.g. signed with another application secret).
    InvalidSignature,
}

impl AuthError {
    /// `errorCode`, HTTP status and `message` of the error.
    pub(crate) fn parts(self) -> (&'static str, StatusCode, &'static str) {
        match self {
            Self::InvalidKey => (
                "INVALID_KEY",
                StatusCode::FORBIDDEN,
                "Invalid application key",
            ),
            Self::NotCredential => (
                "NOT_CREDENTIAL",
                StatusCode::FORBIDDEN,
                "You must login first",
            ),
            Self::InvalidCredential => (
                "INVALID_CREDENTIAL",
                StatusCode::FORBIDDEN,
                "This credential is not valid",
            ),
            Self::QueryTimeOut => (
                "QUERY_TIME_OUT",
                StatusCode::BAD_REQUEST,
                "Query out of time",
            ),
            Self::InvalidSignature => (
                "INVALID_SIGNATURE",
                StatusCode::BAD_REQUEST,
                "Invalid signature",
            ),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (code, status, message) = self.parts();
        let http_code = format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        );
        (
            status,
            Json(json!({"errorCode": code, "httpCode": http_code, "message": message})),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn status_of_class_follows_the_second_segment() {
        for class in SCHEMA_CLASSES.iter().chain(GENERIC_CLASSES) {
            let status = status_of_class(class);
            let expected = match class.split("::").nth(1).unwrap() {
                "BadRequest" => 400,
                "Unauthorized" => 401,
                "NotFound" => 404,
                "MethodNotAllowed" => 405,
                "Conflict" => 409,
                "PayloadTooLarge" => 413,
                "TooManyRequests" => 429,
                "ServiceUnavailable" => 503,
                "BadGateway" => 502,
                "GatewayTimeout" => 504,
                _ => 500,
            };
            assert_eq!(status.as_u16(), expected, "{class}");
        }
        assert_eq!(
            status_of_class("Client::NotFound::IpRestrictionAlreadyExists"),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn from_local_picks_catalogue_classes() {
        let cases = [
            (
                LocalError::invalid("plan", "x"),
                Subject::Service,
                "Client::NotFound::PlanNotFound",
            ),
            (
                LocalError::invalid("flavor", "x"),
                Subject::Service,
                "Client::NotFound::FlavorNameNotFound",
            ),
            (
                LocalError::invalid("cidr", "x"),
                Subject::IpRestriction,
                "Client::NotFound::IpRestrictionInvalidFormat",
            ),
            (
                LocalError::invalid("username", "x"),
                Subject::User,
                "Client::BadRequest::UserInvalidNameFormat",
            ),
            (
                LocalError::invalid("roles", "x"),
                Subject::User,
                "Client::NotFound::RoleNotFound",
            ),
            (
                LocalError::invalid_body("x"),
                Subject::Service,
                "Client::BadRequest",
            ),
            (
                LocalError::NotFound("credential \"a\" not found".into()),
                Subject::User,
                "Client::NotFound::UserNotFound",
            ),
            (
                LocalError::NotFound("database db-1 not found".into()),
                Subject::User,
                "Client::NotFound::ServiceNotFound",
            ),
            (
                LocalError::NotFound("IP restriction x not found".into()),
                Subject::IpRestriction,
                "Client::NotFound::IpRestrictionNotFound",
            ),
            (
                LocalError::Busy("busy".into()),
                Subject::Service,
                "Client::Conflict::ServiceNotReady",
            ),
            (
                LocalError::Locked("locked".into()),
                Subject::User,
                "Client::Conflict::ServiceLocked",
            ),
            (
                LocalError::Duplicate("dup".into()),
                Subject::IpRestriction,
                "Client::NotFound::IpRestrictionAlreadyExists",
            ),
            (
                LocalError::Duplicate("dup".into()),
                Subject::User,
                "Client::Conflict",
            ),
            (
                LocalError::Corrupt("/secret/path".into()),
                Subject::Service,
                "Server::InternalServerError",
            ),
        ];
        for (error, subject, class) in cases {
            let mapped = from_local(error, subject);
            assert_eq!(mapped.class, class);
            assert!(
                SCHEMA_CLASSES.contains(&mapped.class) || GENERIC_CLASSES.contains(&mapped.class),
                "{}",
                mapped.class
            );
            assert!(!mapped.message.contains("/secret/path"));
        }
    }

    #[tokio::test]
    async fn ovh_error_renders_class_and_message() {
        let mut error = OvhError::new("Client::Conflict::ServiceNotReady", "busy");
        error.retry_after = Some(1);
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            body(response).await,
            json!({"class": "Client::Conflict::ServiceNotReady", "message": "busy"})
        );
    }

    #[tokio::test]
    async fn auth_errors_render_ovh_auth_shape() {
        let response = AuthError::InvalidSignature.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body(response).await,
            json!({"errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request",
                   "message": "Invalid signature"})
        );
        let response = AuthError::InvalidCredential.into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            body(response).await,
            json!({"errorCode": "INVALID_CREDENTIAL", "httpCode": "403 Forbidden",
                   "message": "This credential is not valid"})
        );
    }
}
