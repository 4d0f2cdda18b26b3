//! Native API v1: credentials (database users). A thin adapter over
//! [`crate::local::credentials`].
//!
//! The `password` member carries the password only in the create and reset replies (and only a
//! generated one); every other reply has `"password": null`. Request bodies holding a password
//! are never logged (the request log keeps paths only).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{HoldQuery, idempotency_key, path_params, read_held, settles_hint};
use crate::local::AppState;
use crate::local::credentials::CreateCredential;
use crate::local::error::LocalError;
use crate::local::json_body::{
    optional_string, optional_string_list, parse_object, parse_optional_object, reject_fixed,
    reject_unknown,
};
use crate::local::model::{Credential, error_reason, format_timestamp};

/// Routes of the credential endpoints.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/databases/{id}/credentials",
            get(list_credentials).post(create_credential),
        )
        .route(
            "/v1/databases/{id}/credentials/{username}",
            get(read_credential)
                .patch(update_credential)
                .delete(delete_credential),
        )
        .route(
            "/v1/databases/{id}/credentials/{username}/reset-password",
            post(reset_password),
        )
        .route(
            "/v1/databases/{id}/credentials/{username}/password",
            get(reveal_password),
        )
        .route(
            "/v1/databases/{id}/credentials/{username}/verify",
            post(verify_password),
        )
}

type UserPath = Result<Path<(String, String)>, PathRejection>;

async fn list_credentials(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, LocalError> {
    let id = path_params(id)?;
    Ok(Json(json!({"credentials": listed(&state, &id).await?})))
}

/// The credentials of database `id` as its list shows them (without passwords).
pub(super) async fn listed(state: &AppState, id: &str) -> Result<Vec<Value>, LocalError> {
    let credentials = state.credentials.list(id).await?;
    Ok(credentials
        .iter()
        .map(|credential| {
            serde_json::to_value(CredentialBody::new(credential, None)).unwrap_or(Value::Null)
        })
        .collect())
}

async fn create_credential(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let id = path_params(id)?;
    let mut object = parse_object(body)?;
    reject_unknown(&object, &["username", "roles", "password"], &[])?;
    let request = CreateCredential {
        username: optional_string(&mut object, "username")?
            .ok_or_else(|| LocalError::invalid("username", "username is required"))?,
        roles: optional_string_list(&mut object, "roles")?.unwrap_or_default(),
        password: optional_password(&mut object)?,
    };
    let scope = format!("native POST /v1/databases/{id}/credentials");
    let idempotency = idempotency_key(&headers, scope)?;
    let created = state.credentials.create(&id, request, idempotency).await?;
    Ok((
        StatusCode::ACCEPTED,
        settles_hint(&state, created.credential.transition_at),
        Json(CredentialBody::new(
            &created.credential,
            created.password.as_ref(),
        )),
    )
        .into_response())
}

async fn read_credential(
    State(state): State<AppState>,
    path: UserPath,
    hold: Result<Query<HoldQuery>, QueryRejection>,
) -> Result<Json<Value>, LocalError> {
    let (id, username) = path_params(path)?;
    let credential = read_held(
        &state,
        hold,
        |credential: &Credential| credential.status,
        || state.credentials.get(&id, &username),
    )
    .await?;
    Ok(Json(render(&credential)))
}

async fn update_credential(
    State(state): State<AppState>,
    path: UserPath,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let (id, username) = path_params(path)?;
    let mut object = parse_object(body)?;
    reject_fixed(
        &object,
        &[
            (
                "username",
                "create a new credential and delete this one instead",
            ),
            (
                "password",
                "use POST .../reset-password to set a new password",
            ),
        ],
    )?;
    reject_unknown(&object, &["roles"], &[])?;
    let roles = optional_string_list(&mut object, "roles")?
        .ok_or_else(|| LocalError::invalid("roles", "roles is required"))?;
    let updated = state
        .credentials
        .update_roles(&id, &username, roles)
        .await?;
    let status = if updated.changed {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let hint = settles_hint(&state, updated.credential.transition_at);
    Ok((status, hint, Json(render(&updated.credential))).into_response())
}

async fn delete_credential(
    State(state): State<AppState>,
    path: UserPath,
) -> Result<Response, LocalError> {
    let (id, username) = path_params(path)?;
    let credential = state.credentials.delete(&id, &username).await?;
    let hint = settles_hint(&state, credential.transition_at);
    Ok((StatusCode::ACCEPTED, hint, Json(render(&credential))).into_response())
}

async fn reset_password(
    State(state): State<AppState>,
    path: UserPath,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let (id, username) = path_params(path)?;
    let mut object = parse_optional_object(body)?;
    reject_unknown(&object, &["password"], &[])?;
    let password = optional_password(&mut object)?;
    let reset = state
        .credentials
        .reset_password(&id, &username, password)
        .await?;
    Ok((
        StatusCode::OK,
        Json(CredentialBody::new(
            &reset.credential,
            reset.password.as_ref(),
        )),
    )
        .into_response())
}

async fn reveal_password(
    State(state): State<AppState>,
    path: UserPath,
) -> Result<Json<Value>, LocalError> {
    let (id, username) = path_params(path)?;
    let password = state.credentials.reveal_password(&id, &username).await?;
    Ok(Json(json!({"password": password.expose_secret()})))
}

async fn verify_password(
    State(state): State<AppState>,
    path: UserPath,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, LocalError> {
    let (id, username) = path_params(path)?;
    let mut object = parse_object(body)?;
    reject_unknown(&object, &["password"], &[])?;
    let password = optional_password(&mut object)?
        .ok_or_else(|| LocalError::invalid("password", "password is required"))?;
    let valid = state
        .credentials
        .verify_password(&id, &username, password)
        .await?;
    Ok(Json(json!({"valid": valid})))
}

/// The `password` field, moved straight into a secret; the error never quotes the value.
fn optional_password(object: &mut Map<String, Value>) -> Result<Option<SecretString>, LocalError> {
    match object.remove("password") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(SecretString::from(text))),
        Some(_) => Err(LocalError::invalid(
            "password",
            "password must be a string or null",
        )),
    }
}

/// The wire form of a credential.
#[derive(Debug, Serialize)]
struct CredentialBody<'a> {
    database_id: &'a str,
    username: &'a str,
    roles: &'a [String],
    status: &'static str,
    /// Why it is in `ERROR`; null otherwise.
    status_message: Option<&'a str>,
    password_chosen: bool,
    password: Option<&'a str>,
    created_at: String,
    updated_at: String,
}

impl<'a> CredentialBody<'a> {
    /// `shown` is the password to include (create and reset replies only).
    fn new(credential: &'a Credential, shown: Option<&'a SecretString>) -> Self {
        Self {
            database_id: &credential.database_id,
            username: &credential.username,
            roles: &credential.roles,
            status: credential.status.as_str(),
            status_message: error_reason(credential.status, credential.fails_with.as_ref()),
            password_chosen: credential.password.is_chosen(),
            password: shown.map(|password| password.expose_secret()),
            created_at: format_timestamp(credential.created_at),
            updated_at: format_timestamp(credential.updated_at),
        }
    }
}

fn render(credential: &Credential) -> Value {
    serde_json::to_value(CredentialBody::new(credential, None)).unwrap_or(Value::Null)
}
