//! Native API v1: collections and indexes. A thin adapter over [`crate::local::indexes`].

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{HoldQuery, idempotency_key, path_params, read_held, settles_hint};
use crate::local::AppState;
use crate::local::error::LocalError;
use crate::local::indexes::CreateIndex;
use crate::local::json_body::{
    optional_bool, optional_string, parse_object, reject_unknown, whole_number,
};
use crate::local::model::{Index, IndexKey, error_reason, format_timestamp};
use crate::local::validation::RequestedKey;

/// Routes of the collection and index endpoints.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/databases/{id}/collections", get(list_collections))
        .route(
            "/v1/databases/{id}/collections/{collection}/indexes",
            get(list_indexes).post(create_index),
        )
        .route(
            "/v1/databases/{id}/collections/{collection}/indexes/{name}",
            get(read_index).delete(delete_index),
        )
}

async fn list_collections(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, LocalError> {
    let id = path_params(id)?;
    let collections = state.indexes.collections(&id).await?;
    let rendered: Vec<Value> = collections
        .iter()
        .map(|collection| json!({"name": collection.name, "index_count": collection.index_count}))
        .collect();
    Ok(Json(json!({"collections": rendered})))
}

/// Every index of database `id`, collection by collection (`_id_` included), as the lists of
/// its collections show them.
pub(super) async fn listed(state: &AppState, id: &str) -> Result<Vec<Value>, LocalError> {
    let mut listed = Vec::new();
    for collection in state.indexes.collections(id).await? {
        let indexes = state.indexes.list(id, &collection.name).await?;
        listed.extend(indexes.iter().map(render));
    }
    Ok(listed)
}

async fn list_indexes(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Value>, LocalError> {
    let (id, collection) = path_params(path)?;
    let indexes = state.indexes.list(&id, &collection).await?;
    let rendered: Vec<IndexBody<'_>> = indexes.iter().map(IndexBody::from).collect();
    Ok(Json(json!({"indexes": rendered})))
}

async fn create_index(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, LocalError> {
    let (id, collection) = path_params(path)?;
    let mut object = parse_object(body)?;
    reject_unknown(&object, &["name", "keys", "unique", "sparse"], &[])?;
    let request = CreateIndex {
        name: optional_string(&mut object, "name")?,
        keys: requested_keys(&mut object)?,
        unique: optional_bool(&mut object, "unique")?,
        sparse: optional_bool(&mut object, "sparse")?,
    };
    let scope = format!("native POST /v1/databases/{id}/collections/{collection}/indexes");
    let idempotency = idempotency_key(&headers, scope)?;
    let index = state
        .indexes
        .create(&id, &collection, request, idempotency)
        .await?;
    let hint = settles_hint(&state, index.transition_at);
    Ok((StatusCode::ACCEPTED, hint, Json(render(&index))).into_response())
}

async fn read_index(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    hold: Result<Query<HoldQuery>, QueryRejection>,
) -> Result<Json<Value>, LocalError> {
    let (id, collection, name) = path_params(path)?;
    let index = read_held(
        &state,
        hold,
        |index: &Index| index.status,
        || state.indexes.get(&id, &collection, &name),
    )
    .await?;
    Ok(Json(render(&index)))
}

async fn delete_index(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, LocalError> {
    let (id, collection, name) = path_params(path)?;
    let index = state.indexes.delete(&id, &collection, &name).await?;
    let hint = settles_hint(&state, index.transition_at);
    Ok((StatusCode::ACCEPTED, hint, Json(render(&index))).into_response())
}

/// `keys`: a required list of `{"field": str, "direction": integer}` objects; the values are
/// checked by the rules, the shape here (every problem names `keys`).
fn requested_keys(object: &mut Map<String, Value>) -> Result<Vec<RequestedKey>, LocalError> {
    let shape = |message: String| LocalError::invalid("keys", message);
    let items = match object.remove("keys") {
        None | Some(Value::Null) => return Err(shape("keys is required".to_owned())),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(shape(
                "keys must be a list of {\"field\": ..., \"direction\": 1 or -1}".to_owned(),
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(position, item)| {
            let Value::Object(mut key) = item else {
                return Err(shape(format!(
                    "keys[{position}] must be an object with field and direction"
                )));
            };
            let field = match key.remove("field") {
                Some(Value::String(field)) => field,
                _ => return Err(shape(format!("keys[{position}].field must be a string"))),
            };
            let direction = key
                .remove("direction")
                .and_then(|direction| whole_number(&direction))
                .ok_or_else(|| shape(format!("keys[{position}].direction must be 1 or -1")))?;
            if let Some(unknown) = key.keys().next() {
                return Err(shape(format!(
                    "keys[{position}] has unknown member {unknown:?}; allowed: field, direction"
                )));
            }
            Ok(RequestedKey { field, direction })
        })
        .collect()
}

/// The wire form of an index.
#[derive(Debug, Serialize)]
struct IndexBody<'a> {
    database_id: &'a str,
    collection: &'a str,
    name: &'a str,
    keys: &'a [IndexKey],
    unique: bool,
    sparse: bool,
    status: &'static str,
    /// Why it is in `ERROR`; null otherwise.
    status_message: Option<&'a str>,
    created_at: String,
}

impl<'a> From<&'a Index> for IndexBody<'a> {
    fn from(index: &'a Index) -> Self {
        Self {
            database_id: &index.database_id,
            collection: &index.collection,
            name: &index.name,
            keys: &index.keys,
            unique: index.unique,
            sparse: index.sparse,
            status: index.status.as_str(),
            status_message: error_reason(index.status, index.fails_with.as_ref()),
            created_at: format_timestamp(index.created_at),
        }
    }
}

fn render(index: &Index) -> Value {
    serde_json::to_value(IndexBody::from(index)).unwrap_or(Value::Null)
}
