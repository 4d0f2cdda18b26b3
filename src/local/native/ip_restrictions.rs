//! Native API v1: IP restrictions. A thin adapter over [`crate::local::ip_restrictions`].
//!
//! The CIDR is a single path segment with its `/` percent-encoded (`10.0.0.0%2F24`); axum
//! matches routes on the raw path, where `%2F` is no separator, and decodes the parameter.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Value, json};

use super::{HoldQuery, idempotency_key, path_params, read_held, settles_hint};
use crate::local::AppState;
use crate::local::allow_list::CreateIpRestriction;
use crate::local::error::LocalError;
use crate::local::json_body::{optional_string, parse_object, reject_fixed, reject_unknown};
use crate::local::model::{IpRestriction, error_reason, format_timestamp};

/// Routes of the IP restriction endpoints.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/databases/{id}/ip-restrictions",
            get(list_restrictions).post(create_restriction),
        )
        .route(
            "/v1/databases/{id}/ip-restrictions/{cidr}",
            get(read_restriction)
                .patch(update_restriction)
                .delete(delete_restriction),
        )
}

type CidrPath = Result<Path<(String, String)>, PathRejection>;

async fn list_restrictions(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, LocalError> {
    let id = path_params(id)?;
    Ok(Json(json!({"ip_restrictions": listed(&state, &id).await?})))
}

/// The IP restrictions of database `id` as its list shows them.
pub(super) async fn listed(state: &AppState, id: &str) -> Result<Vec<Value>, LocalError> {
    let restrictions = state.ip_restrictions.list(id).await?;
    Ok(restrictions.iter().map(render).collect())
}

async fn create_restriction(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let id = path_params(id)?;
    let mut object = parse_object(body)?;
    reject_unknown(&object, &["cidr", "description"], &[])?;
    let request = CreateIpRestriction {
        cidr: optional_string(&mut object, "cidr")?
            .ok_or_else(|| LocalError::invalid("cidr", "cidr is required"))?,
        description: optional_string(&mut object, "description")?,
    };
    let scope = format!("native POST /v1/databases/{id}/ip-restrictions");
    let idempotency = idempotency_key(&headers, scope)?;
    let restriction = state
        .ip_restrictions
        .create(&id, request, idempotency)
        .await?;
    let hint = settles_hint(&state, restriction.transition_at);
    Ok((StatusCode::ACCEPTED, hint, Json(render(&restriction))).into_response())
}

async fn read_restriction(
    State(state): State<AppState>,
    path: CidrPath,
    hold: Result<Query<HoldQuery>, QueryRejection>,
) -> Result<Json<Value>, LocalError> {
    let (id, cidr) = path_params(path)?;
    let restriction = read_held(
        &state,
        hold,
        |restriction: &IpRestriction| restriction.status,
        || state.ip_restrictions.get(&id, &cidr),
    )
    .await?;
    Ok(Json(render(&restriction)))
}

async fn update_restriction(
    State(state): State<AppState>,
    path: CidrPath,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let (id, cidr) = path_params(path)?;
    let mut object = parse_object(body)?;
    reject_fixed(
        &object,
        &[(
            "cidr",
            "create a restriction for the new network and delete this one instead",
        )],
    )?;
    reject_unknown(&object, &["description"], &[])?;
    let description = match object.remove("description") {
        None => {
            return Err(LocalError::invalid(
                "description",
                "description is required (null clears it)",
            ));
        }
        Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            return Err(LocalError::invalid(
                "description",
                "description must be a string or null",
            ));
        }
    };
    let restriction = state
        .ip_restrictions
        .update_description(&id, &cidr, description)
        .await?;
    Ok((StatusCode::OK, Json(render(&restriction))).into_response())
}

async fn delete_restriction(
    State(state): State<AppState>,
    path: CidrPath,
) -> Result<Response, LocalError> {
    let (id, cidr) = path_params(path)?;
    let restriction = state.ip_restrictions.delete(&id, &cidr).await?;
    let hint = settles_hint(&state, restriction.transition_at);
    Ok((StatusCode::ACCEPTED, hint, Json(render(&restriction))).into_response())
}

/// The wire form of an IP restriction.
#[derive(Debug, Serialize)]
struct RestrictionBody<'a> {
    database_id: &'a str,
    cidr: &'a str,
    description: Option<&'a str>,
    status: &'static str,
    /// Why it is in `ERROR`; null otherwise.
    status_message: Option<&'a str>,
    created_at: String,
}

impl<'a> From<&'a IpRestriction> for RestrictionBody<'a> {
    fn from(restriction: &'a IpRestriction) -> Self {
        Self {
            database_id: &restriction.database_id,
            cidr: &restriction.cidr,
            description: restriction.description.as_deref(),
            status: restriction.status.as_str(),
            status_message: error_reason(restriction.status, restriction.fails_with.as_ref()),
            created_at: format_timestamp(restriction.created_at),
        }
    }
}

fn render(restriction: &IpRestriction) -> Value {
    serde_json::to_value(RestrictionBody::from(restriction)).unwrap_or(Value::Null)
}
