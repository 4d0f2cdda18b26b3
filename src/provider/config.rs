//! The `provider "dbaas" {}` block: which API to talk to and how.
//!
//! One API block per provider configuration (use aliases for several). With none, the provider
//! talks to dbaas-local at `DBAAS_ENDPOINT` (default `http://127.0.0.1:8780`).

use std::sync::Arc;

use secrecy::SecretString;

use crate::api::DbaasApi;
use crate::api::http::HttpTuning;
use crate::api::local::{DEFAULT_ENDPOINT, LocalApi};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::schema::{Attribute, Block, NestedBlock, Schema};
use crate::tfplugin::timeouts::parse_duration;
use crate::tfplugin::value::{Type, Value};

const LOCAL: &str = "local";
const ENV_ENDPOINT: &str = "DBAAS_ENDPOINT";
const ENV_TOKEN: &str = "DBAAS_TOKEN";

pub(super) fn schema() -> Schema {
    let local = Block::new("Use dbaas-local, the project's own DBaaS service (the default).")
        .attribute(
            Attribute::new("endpoint", Type::String)
                .optional()
                .description(format!(
                    "Base URL of the dbaas-local service. Falls back to the `{ENV_ENDPOINT}` \
                     environment variable, then `{DEFAULT_ENDPOINT}`."
                )),
        )
        .attribute(
            Attribute::new("token", Type::String)
                .optional()
                .sensitive()
                .description(format!(
                    "Bearer token the service was started with (`dbaas-local --token`). Falls \
                     back to the `{ENV_TOKEN}` environment variable."
                )),
        );
    Schema {
        version: 0,
        block: Block::new(
            "The dbaas provider manages databases, their users, indexes and network allow-lists \
             on a DBaaS API. Configure at most one API block; without one, the provider uses \
             dbaas-local.",
        )
        .attribute(
            Attribute::new("max_retries", Type::Number)
                .optional()
                .description(
                    "How many times a failed idempotent request (HTTP 429, 5xx, connection \
                     error) is retried, with exponential backoff and `Retry-After`. Default: 5.",
                ),
        )
        .attribute(
            Attribute::new("requests_per_second", Type::Number)
                .optional()
                .description(
                    "Client-side rate limit on API requests, shared by all resources of this \
                     provider configuration. Default: unlimited.",
                ),
        )
        .attribute(
            Attribute::new("request_timeout", Type::String)
                .optional()
                .description("Timeout of one HTTP request, such as `30s`. Default: `30s`."),
        )
        .block(NestedBlock::single(LOCAL, local)),
    }
}

pub(super) fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Some(retries) = known_number(config, "max_retries")
        && !(0.0..=50.0).contains(&retries)
    {
        diags.attribute_error(
            AttributePath::attr("max_retries"),
            "Invalid Provider Setting",
            format!("max_retries must be between 0 and 50, not {retries}."),
        );
    }
    if let Some(rate) = known_number(config, "requests_per_second")
        && rate <= 0.0
    {
        diags.attribute_error(
            AttributePath::attr("requests_per_second"),
            "Invalid Provider Setting",
            format!("requests_per_second must be greater than zero, not {rate}."),
        );
    }
    if let Some(text) = config.attr("request_timeout").as_str()
        && let Err(problem) = parse_duration(text)
    {
        diags.attribute_error(
            AttributePath::attr("request_timeout"),
            "Invalid Provider Setting",
            format!(
                "request_timeout = \"{text}\" is not a duration: {problem}. Use e.g. \"30s\" or \"2m\"."
            ),
        );
    }
    let endpoint = config.attr(LOCAL).attr("endpoint");
    if let Some(endpoint) = endpoint.as_str()
        && let Err(problem) = check_endpoint(endpoint)
    {
        diags.attribute_error(
            AttributePath::attr(LOCAL).with_attr("endpoint"),
            "Invalid Endpoint",
            problem,
        );
    }
}

/// Builds the API client. Every missing or unknown setting is reported at once.
pub(super) fn configure(
    config: &Value,
    terraform_version: &str,
) -> Result<Arc<dyn DbaasApi>, Diagnostics> {
    let mut diags = Diagnostics::default();
    validate(config, &mut diags);
    let local = config.attr(LOCAL);
    for (path, value) in [
        (
            AttributePath::attr("max_retries"),
            config.attr("max_retries"),
        ),
        (
            AttributePath::attr("requests_per_second"),
            config.attr("requests_per_second"),
        ),
        (
            AttributePath::attr("request_timeout"),
            config.attr("request_timeout"),
        ),
        (
            AttributePath::attr(LOCAL).with_attr("endpoint"),
            local.attr("endpoint"),
        ),
        (
            AttributePath::attr(LOCAL).with_attr("token"),
            local.attr("token"),
        ),
    ] {
        if value.is_unknown() {
            diags.attribute_error(
                path.clone(),
                "Provider Setting Not Yet Known",
                format!(
                    "{path} depends on a value that is known only after apply. The provider needs \
                     it to plan: set it from a variable or an existing value, or apply the \
                     resource it depends on first (terraform apply -target=…)."
                ),
            );
        }
    }

    let endpoint = setting(local.attr("endpoint"), ENV_ENDPOINT)
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    if let Err(problem) = check_endpoint(&endpoint) {
        diags.attribute_error(
            AttributePath::attr(LOCAL).with_attr("endpoint"),
            "Invalid Endpoint",
            format!("{problem} (from {ENV_ENDPOINT} or the provider block)"),
        );
    }
    let token = setting(local.attr("token"), ENV_TOKEN).map(SecretString::from);
    if diags.has_errors() {
        return Err(diags);
    }

    let tuning = tuning(config, terraform_version);
    LocalApi::new(&endpoint, token, tuning)
        .map(|api| Arc::new(api) as Arc<dyn DbaasApi>)
        .map_err(|err| {
            Diagnostics::from_error(
                "Cannot Configure the dbaas Provider",
                format!("The client for {endpoint} could not be built: {err}"),
            )
        })
}

fn tuning(config: &Value, terraform_version: &str) -> HttpTuning {
    let version = if terraform_version.is_empty() {
        "unknown"
    } else {
        terraform_version
    };
    let mut tuning = HttpTuning {
        user_agent: format!(
            "terraform-provider-dbaas/{} (terraform {version})",
            env!("CARGO_PKG_VERSION")
        ),
        ..HttpTuning::default()
    };
    if let Some(retries) = known_number(config, "max_retries") {
        tuning.max_retries = retries as u32;
    }
    tuning.rate_limit_per_second = known_number(config, "requests_per_second");
    if let Some(timeout) = config
        .attr("request_timeout")
        .as_str()
        .and_then(|t| parse_duration(t).ok())
    {
        tuning.request_timeout = timeout;
    }
    tuning
}

/// The value from the configuration, else from the environment variable; empty counts as unset.
fn setting(value: &Value, env: &str) -> Option<String> {
    value
        .as_str()
        .map(str::to_string)
        .or_else(|| std::env::var(env).ok())
        .filter(|s| !s.trim().is_empty())
}

fn known_number(config: &Value, name: &str) -> Option<f64> {
    match config.attr(name) {
        Value::Number(n) => Some(n.to_f64()),
        _ => None,
    }
}

fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let rest = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(format!(
            "\"{endpoint}\" is not an http(s) URL; expected something like {DEFAULT_ENDPOINT}."
        )),
    }
}
