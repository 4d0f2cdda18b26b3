//! Creating an object so that nothing is lost, for every resource type.
//!
//! - The create request is sent once. Only answers that prove nothing was done (busy, rate
//!   limited, no connection) are followed by another attempt ([`retry_while_busy`]).
//! - An answer that may hide a done create (a lost or cut reply, a timeout, a 5xx) is settled by
//!   looking the object up: one that matches what was asked is adopted; where a lookup cannot
//!   tell, the create fails with a message naming what may exist and the import command.
//! - A wait for readiness that Terraform interrupts (Ctrl-C, SIGTERM, StopProvider) records the
//!   object without an error, so Terraform does not taint it, and marks it in the private state:
//!   the next plan shows an in-place change that only waits until the object is ready.

use std::future::Future;

use super::Client;
use super::errors::wait_error;
use super::wait::{WaitError, WaitPolicy, retry_while_busy};
use crate::api::{self, Found};
use crate::tfplugin::diag::{Diagnostic, Diagnostics, Severity};
use crate::tfplugin::resource::{ApplyResult, Context, PlanChange};
use crate::tfplugin::value::Value;

/// The private-state marker of an object whose create or update was interrupted before it
/// was ready.
const AWAITING_READY: &[u8] = br#"{"awaiting":"ready"}"#;

/// How many times a create is sent again after a lookup proved it had not been carried out.
const MAX_RESENDS: u32 = 3;

/// Builds the "already exists" diagnostic from the API's error and how the object differs.
pub(super) type ConflictDiagnostic<'a> = dyn Fn(&api::Error, &str) -> Diagnostics + Sync + 'a;

/// How one resource type creates its objects.
pub(super) struct Creation<'a> {
    /// The object, for messages ("database \"acme\"").
    pub what: &'a str,
    /// "Error Creating Database".
    pub summary: &'a str,
    /// True when sending the same create again cannot make a second object, once a lookup
    /// found none: the request carries an idempotency key, or the API refuses a second object
    /// with the same name.
    pub resend_safe: bool,
    /// True when an "already exists" answer is settled by adopting a matching object even on
    /// the first attempt (children, keyed by name: a previous run's lost reply).
    pub adopt_on_conflict: bool,
    /// The import command for the object, or a sentence on how to find its id.
    pub import_hint: String,
    /// The resource's attribute names, so an API complaint about a field points at it.
    pub attributes: &'a [&'a str],
    /// The diagnostic for "already exists" when the existing object is not one to adopt, given
    /// the API's error and how the object differs; `None` for the generic one.
    pub on_conflict: Option<&'a ConflictDiagnostic<'a>>,
}

/// A created (or adopted) object, with the warnings the apply should show.
pub(super) struct Created<T> {
    /// The object as the create reply (or the lookup) described it.
    pub object: T,
    /// True when the object was found by a lookup rather than in a create reply.
    pub adopted: bool,
    /// Warnings about how the create went (an adoption).
    pub diags: Diagnostics,
}

/// Sends a create once and settles an unclear answer by `lookup`; the error is the apply
/// result to return (nothing was recorded).
pub(super) async fn create_once<T, A, AF, L, LF>(
    ctx: &Context<'_, Client>,
    creation: &Creation<'_>,
    policy: &WaitPolicy,
    mut attempt: A,
    mut lookup: L,
) -> Result<Created<T>, ApplyResult>
where
    A: FnMut() -> AF,
    AF: Future<Output = Result<T, api::Error>>,
    L: FnMut() -> LF,
    LF: Future<Output = Result<Found<T>, api::Error>>,
{
    let api_name = ctx.client.api.api_name();
    let mut unclear: Option<api::Error> = None;
    let mut resends = 0;
    loop {
        let error = match retry_while_busy(creation.what, policy, ctx.cancel, &mut attempt).await {
            Ok(object) => {
                return Ok(Created {
                    object,
                    adopted: false,
                    diags: Diagnostics::default(),
                });
            }
            Err(WaitError::Api(error)) => error,
            Err(other) => return Err(not_created(ctx, creation, &other)),
        };
        let settle_by_lookup = error.may_have_been_applied()
            || (error.is_conflict() && (creation.adopt_on_conflict || unclear.is_some()));
        if !settle_by_lookup {
            return Err(not_created(ctx, creation, &WaitError::Api(error)));
        }
        tracing::warn!(
            what = creation.what,
            %error,
            "the create may have been carried out; looking the object up"
        );
        let found = lookup().await;
        if error.is_conflict() {
            // "Already exists": adopt only what matches; anything else stays a conflict.
            match found {
                Ok(Found::Matching(object)) => {
                    let cause = unclear.get_or_insert(error);
                    return Ok(adopted(api_name, creation, cause, object));
                }
                Ok(Found::Different(difference)) | Ok(Found::Unknowable(difference)) => {
                    return Err(conflict(ctx, creation, error, &difference));
                }
                Ok(Found::Absent) | Err(_) => return Err(conflict(ctx, creation, error, "")),
            }
        }
        let cause = unclear.get_or_insert(error);
        match found {
            Ok(Found::Matching(object)) => return Ok(adopted(api_name, creation, cause, object)),
            Ok(Found::Absent)
                if creation.resend_safe && resends < MAX_RESENDS && !ctx.cancel.is_cancelled() =>
            {
                resends += 1;
                tracing::info!(
                    what = creation.what,
                    resends,
                    "not created; sending the create again"
                );
            }
            Ok(Found::Absent) => {
                return Err(may_exist(
                    ctx,
                    creation,
                    cause,
                    "A lookup found no such object yet, but the API may still be working on the \
                     request, so it was not sent again."
                        .to_string(),
                ));
            }
            Ok(Found::Different(difference)) => {
                return Err(may_exist(
                    ctx,
                    creation,
                    cause,
                    format!("An object with the same name exists but differs: {difference}."),
                ));
            }
            Ok(Found::Unknowable(candidates)) => {
                return Err(may_exist(ctx, creation, cause, candidates));
            }
            Err(lookup_error) => {
                return Err(may_exist(
                    ctx,
                    creation,
                    cause,
                    format!("Looking it up failed too: {lookup_error}."),
                ));
            }
        }
    }
}

/// A lookup by natural key (username, index name, CIDR): the object read is adopted unless
/// `difference` names how it differs from what was asked; not found is absent.
pub(super) fn found_by_key<T>(
    read: Result<T, api::Error>,
    difference: impl FnOnce(&T) -> Option<String>,
) -> Result<Found<T>, api::Error> {
    match read {
        Ok(existing) => Ok(match difference(&existing) {
            None => Found::Matching(existing),
            Some(difference) => Found::Different(difference),
        }),
        Err(err) if err.is_not_found() => Ok(Found::Absent),
        Err(err) => Err(err),
    }
}

fn adopted<T>(
    api_name: &str,
    creation: &Creation<'_>,
    cause: &api::Error,
    object: T,
) -> Created<T> {
    let mut diags = Diagnostics::default();
    diags.warning(
        "Adopted After an Unclear Create",
        format!(
            "The create of {} got no clear answer from the {api_name} API ({cause}). The object \
             exists with the settings asked for, so it is recorded in the state instead of being \
             created a second time.",
            creation.what
        ),
    );
    Created {
        object,
        adopted: true,
        diags,
    }
}

fn conflict(
    ctx: &Context<'_, Client>,
    creation: &Creation<'_>,
    error: api::Error,
    difference: &str,
) -> ApplyResult {
    let diags = match creation.on_conflict {
        Some(on_conflict) => on_conflict(&error, difference),
        None => not_created(ctx, creation, &WaitError::Api(error)).diags,
    };
    ApplyResult::failed(Value::Null, diags)
}

fn not_created(ctx: &Context<'_, Client>, creation: &Creation<'_>, err: &WaitError) -> ApplyResult {
    let diags = wait_error(
        creation.summary,
        creation.what,
        ctx.client.api.api_name(),
        err,
        false,
        creation.attributes,
    );
    ApplyResult::failed(Value::Null, diags)
}

fn may_exist(
    ctx: &Context<'_, Client>,
    creation: &Creation<'_>,
    cause: &api::Error,
    found: String,
) -> ApplyResult {
    let api_name = ctx.client.api.api_name();
    let detail = format!(
        "The create request for {} may have been carried out by the {api_name} API, but no \
         answer says so: {cause}. {found} Nothing was recorded in the Terraform state. Check \
         the {api_name} API for the object; if it exists, import it instead of creating it \
         again: {}",
        creation.what, creation.import_hint
    );
    ApplyResult::failed(
        Value::Null,
        Diagnostics::from_error(creation.summary, detail),
    )
}

/// The apply result once the wait after a create or an accepted update ended: the ready state;
/// on interruption the latest state with a warning and the awaiting mark (no error, so no
/// taint); on any other failure the latest state with the error (a failed create is tainted).
pub(super) fn after_wait<T>(
    ctx: &Context<'_, Client>,
    what: &str,
    summary: &str,
    waited: Result<T, (Option<T>, WaitError)>,
    accepted: Value,
    state_of: impl Fn(&T) -> Value,
    mut diags: Diagnostics,
) -> ApplyResult {
    match waited {
        Ok(ready) => {
            ctx.private.set(Vec::new());
            ApplyResult {
                state: state_of(&ready),
                diags,
            }
        }
        Err((latest, WaitError::Cancelled { .. })) => {
            ctx.private.set(AWAITING_READY.to_vec());
            diags.push(Diagnostic {
                severity: Severity::Warning,
                summary: "Interrupted Before Ready".to_string(),
                detail: format!(
                    "The run was interrupted (Ctrl-C, or SIGTERM from a cancelled CI job) while \
                     {what} was still being prepared by the {} API. It is recorded in the \
                     Terraform state; the next terraform apply waits until it is ready instead \
                     of replacing it.",
                    ctx.client.api.api_name()
                ),
                path: None,
            });
            ApplyResult {
                state: latest.as_ref().map_or(accepted, &state_of),
                diags,
            }
        }
        Err((latest, err)) => {
            diags.extend(wait_error(
                summary,
                what,
                ctx.client.api.api_name(),
                &err,
                true,
                &[],
            ));
            ApplyResult {
                state: latest.as_ref().map_or(accepted, &state_of),
                diags,
            }
        }
    }
}

/// True when the object's last create or update was interrupted before it was ready.
pub(super) fn awaiting_ready(ctx: &Context<'_, Client>) -> bool {
    ctx.private.prior() == AWAITING_READY
}

/// For an object whose last create or update was interrupted before it was ready: plans an
/// in-place change of `status`, so the apply waits for it (instead of a replacement, or of a
/// plan that forgets it).
pub(super) fn plan_wait_if_awaiting(ctx: &Context<'_, Client>, plan: &mut PlanChange<'_>) {
    if !plan.is_create() && awaiting_ready(ctx) {
        plan.planned.set_attr("status", Value::unknown());
    }
}

/// For read: keeps the awaiting mark only while the object is still not ready.
pub(super) fn refresh_awaiting(ctx: &Context<'_, Client>, phase: api::Phase) {
    if awaiting_ready(ctx) && phase != api::Phase::Pending {
        ctx.private.set(Vec::new());
    }
}
