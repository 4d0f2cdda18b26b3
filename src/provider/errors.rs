//! Turns API and wait failures into diagnostics: a Title Case summary per operation, a detail that
//! names the object, says what to do, and ends with the API's own message.

use crate::api;
use crate::api::http::redact_text;
use crate::tfplugin::diag::{Diagnostic, Diagnostics, Severity};
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::timeouts::format_duration;

use super::wait::WaitError;

/// A diagnostic for an API error. `object` names what was being worked on ("database \"acme\"");
/// `attributes` are the resource's attribute names, so an API complaint about a field points at it.
pub(super) fn api_error(
    summary: &str,
    object: &str,
    api_name: &str,
    err: &api::Error,
    attributes: &[&str],
) -> Diagnostics {
    let advice = match err {
        api::Error::Unauthorized { .. } => format!(
            "Check the credentials in the provider configuration (for dbaas-local: `token`, \
             DBAAS_TOKEN or the file `token_file` names must hold the token the {api_name} \
             service was started with, or the one it saved in its data dir)."
        ),
        api::Error::Forbidden { .. } => {
            "The credentials are valid but may not do this; grant the missing right.".to_string()
        }
        api::Error::Invalid { .. } => "Correct the value and apply again.".to_string(),
        api::Error::Conflict { .. } => "An object with the same name already exists: import it \
             (terraform import) or choose another name."
            .to_string(),
        api::Error::Busy { .. } => "The object stayed busy until the timeout ran out; raise \
             the timeout in the resource's timeouts block, or apply again once it is ready."
            .to_string(),
        api::Error::NotFound { .. } => {
            "The object no longer exists; run terraform plan to see what Terraform will do."
                .to_string()
        }
        api::Error::RateLimited { .. }
        | api::Error::Unavailable { .. }
        | api::Error::Unreachable { .. }
        | api::Error::Transport { .. } => "The request was retried with backoff and still \
             failed. Check that the API is reachable, then apply again; lower parallelism or \
             set requests_per_second if the API keeps rate-limiting."
            .to_string(),
        api::Error::PaymentRequired { .. } => {
            "Settle the account's billing with the vendor, then apply again.".to_string()
        }
        api::Error::Unsupported { .. } => {
            "Remove the setting or use an API that supports it.".to_string()
        }
        api::Error::Protocol { .. } | api::Error::Api { .. } => {
            "If this persists, report it with the log of TF_LOG_PROVIDER=debug.".to_string()
        }
    };
    let path = match err {
        api::Error::Invalid {
            field: Some(field), ..
        } if attributes.contains(&field.as_str()) => Some(AttributePath::attr(field)),
        _ => None,
    };
    Diagnostics::from(Diagnostic {
        severity: Severity::Error,
        summary: summary.to_string(),
        // Redacted again here: a client may build an error from a reply itself (a status it
        // cannot read), outside the HTTP client's redaction.
        detail: format!(
            "Could not work on {object} ({api_name} API). {advice}\n\n{api_name} said: {}",
            redact_text(&err.to_string())
        ),
        path,
    })
}

/// A diagnostic for a wait that did not end with the object ready (or gone). `attributes` as for
/// [`api_error`].
pub(super) fn wait_error(
    summary: &str,
    object: &str,
    api_name: &str,
    err: &WaitError,
    kept_in_state: bool,
    attributes: &[&str],
) -> Diagnostics {
    let kept = if kept_in_state {
        " It is recorded in the Terraform state, so nothing is lost: run terraform apply again to \
         continue (a failed create is marked tainted and replaced)."
    } else {
        ""
    };
    let detail = match err {
        WaitError::TimedOut {
            waited,
            last_status,
            ..
        } => format!(
            "{object} was still {last_status} after {}.{kept} If the API is just slow, raise the \
             timeout in the resource's timeouts block.",
            format_duration(*waited)
        ),
        WaitError::Failed {
            status, message, ..
        } => format!(
            "The {api_name} API reports {object} as {status}: {}.{kept} Check the object in the \
             vendor's console; fix the cause, then apply again.",
            redact_text(message)
        ),
        WaitError::Cancelled { .. } => {
            format!(
                "The run was interrupted (Ctrl-C, or SIGTERM from a cancelled CI job) while the \
                 provider was waiting for {object}.{kept}"
            )
        }
        WaitError::Api(api) => {
            return api_error(summary, object, api_name, api, attributes);
        }
    };
    Diagnostics::from_error(summary, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_diagnostics_hide_secrets_a_client_quoted() {
        let err = api::Error::Protocol {
            message: "unknown status `password=Client-built-secret`".to_owned(),
        };
        let diags = api_error(
            "Error Reading Database",
            "database \"a\"",
            "local",
            &err,
            &[],
        );
        let detail = &diags.iter().next().unwrap().detail;
        assert!(detail.contains("unknown status `password=***`"), "{detail}");
    }

    #[test]
    fn wait_error_diagnostics_hide_secrets_of_a_status_message() {
        let err = WaitError::Failed {
            what: "database \"a\"".to_owned(),
            status: "ERROR".to_owned(),
            message: "restore from mongodb://admin:Status-secret@h1,h2/db failed".to_owned(),
        };
        let diags = wait_error(
            "Error Creating Database",
            "database \"a\"",
            "local",
            &err,
            false,
            &[],
        );
        let detail = &diags.iter().next().unwrap().detail;
        assert!(
            detail.contains("mongodb://admin:***@h1,h2/db failed"),
            "{detail}"
        );
    }
}
