//! The refresh every resource shares: a read of the object becomes its new state, or no state
//! when the API no longer has it (or is deleting it), so Terraform plans it again.

use super::Client;
use super::creation::refresh_awaiting;
use super::errors::api_error;
use crate::api;
use crate::tfplugin::resource::{Context, ReadResult};
use crate::tfplugin::value::Value;

/// The refresh result for `read`: `state_of` the object, `None` when it is gone or being
/// deleted, else the API's error naming `object` under `summary` ("Error Reading Index").
pub(super) fn refreshed<T>(
    ctx: &Context<'_, Client>,
    read: Result<T, api::Error>,
    status_of: fn(&T) -> &api::Status,
    summary: &str,
    object: &str,
    attributes: &[&str],
    state_of: impl FnOnce(&T) -> Value,
) -> ReadResult {
    let client = ctx.client;
    if let Ok(found) = &read {
        refresh_awaiting(ctx, status_of(found).phase);
    }
    match read {
        Ok(found) if status_of(&found).phase == api::Phase::Deleting => {
            tracing::info!(object, "being deleted outside Terraform");
            Ok(None)
        }
        Ok(found) => Ok(Some(state_of(&found))),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(api_error(
            summary,
            object,
            client.api.api_name(),
            &err,
            attributes,
        )),
    }
}
