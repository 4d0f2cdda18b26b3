//! The delete every resource shares: ask the API to delete, retrying while it answers busy, then
//! wait until it no longer finds the object; any failure is one diagnostic that says the object is
//! still recorded in the state.

use std::future::Future;
use std::time::Duration;

use super::Client;
use super::errors::wait_error;
use super::wait::{DeleteEnd, retry_while_busy, until_gone};
use crate::api;
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::Context;

/// Deletes an object and waits until it is gone (or retired, see [`DeleteEnd`]), within
/// `timeout`. `summary` is the diagnostic's title ("Error Deleting Index"), `object` names the
/// object in its text.
#[allow(clippy::too_many_arguments)] // each is one distinct piece of the flow
pub(super) async fn delete_and_wait<T, D, DeleteFut, G, GetFut>(
    ctx: &Context<'_, Client>,
    summary: &str,
    object: &str,
    timeout: Duration,
    end: DeleteEnd,
    status_of: fn(&T) -> &api::Status,
    delete: D,
    get: G,
) -> Diagnostics
where
    D: FnMut() -> DeleteFut,
    DeleteFut: Future<Output = Result<(), api::Error>>,
    G: FnMut() -> GetFut,
    GetFut: Future<Output = Result<T, api::Error>>,
{
    let policy = ctx.client.wait_policy(timeout);
    let gone = match retry_while_busy(object, &policy, ctx.cancel, delete).await {
        Ok(()) => until_gone(object, &policy, ctx.cancel, end, status_of, get).await,
        Err(err) => Err(err),
    };
    match gone {
        Ok(()) => Diagnostics::default(),
        Err(err) => wait_error(summary, object, ctx.client.api.api_name(), &err, true, &[]),
    }
}
