//! The `provider "dbaas" {}` block: which API to talk to and how.
//!
//! One API block per provider configuration (use aliases for several). With none, the provider
//! talks to dbaas-local at `DBAAS_ENDPOINT` (default `http://127.0.0.1:8780`).

use std::sync::Arc;

use secrecy::SecretString;

use super::Client;
use crate::api::compose::{self, ComposeApi, ComposeConfig};
use crate::api::databaselabs::{self, DatabaselabsApi, DatabaselabsConfig};
use crate::api::globo::{GloboApi, GloboConfig};
use crate::api::goaddon::{self, GoaddonApi, GoaddonConfig};
use crate::api::http::{HttpTuning, redact_text};
use crate::api::local::{DEFAULT_ENDPOINT, LocalApi};
use crate::api::ovh::{IpRestrictionMode, OvhApi, OvhConfig};
use crate::api::{self, DbaasApi};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::schema::{Attribute, Block, NestedBlock, Schema};
use crate::tfplugin::timeouts::parse_duration;
use crate::tfplugin::value::{Type, Value};

const LOCAL: &str = "local";
const OVH: &str = "ovh";
/// The API blocks; a provider configuration uses at most one (aliases for several).
const API_BLOCKS: [&str; 6] = [
    LOCAL,
    OVH,
    GLOBO.name,
    DATABASELABS.name,
    GOADDON.name,
    COMPOSE.name,
];
const ENV_ENDPOINT: &str = "DBAAS_ENDPOINT";
const ENV_TOKEN: &str = "DBAAS_TOKEN";
const ENV_TOKEN_FILE: &str = "DBAAS_TOKEN_FILE";
/// One string setting of a vendor API block, with the environment variable it falls back to.
struct Setting {
    name: &'static str,
    env: &'static str,
    what: &'static str,
    /// Secrets are sensitive in the schema and never echoed.
    secret: bool,
    /// What an unset setting becomes; `None` makes it required.
    default: Option<&'static str>,
}

/// A vendor API block: its name, what it is for, and its settings.
struct ApiBlock {
    name: &'static str,
    description: &'static str,
    settings: &'static [Setting],
}

impl ApiBlock {
    fn schema(&self) -> Block {
        self.settings
            .iter()
            .fold(Block::new(self.description), |block, setting| {
                let mut what = format!(
                    "{} Falls back to the `{}` environment variable",
                    setting.what, setting.env
                );
                match setting.default {
                    Some(default) => what.push_str(&format!(", then `{default}`.")),
                    None => what.push('.'),
                }
                let attribute = Attribute::new(setting.name, Type::String)
                    .optional()
                    .description(what);
                block.attribute(if setting.secret {
                    attribute.sensitive()
                } else {
                    attribute
                })
            })
    }

    /// Every setting's value (configuration, environment, default); every missing one is
    /// reported at once.
    fn read(&self, block: &Value) -> Result<Vec<String>, Diagnostics> {
        let mut diags = Diagnostics::default();
        let values = self
            .settings
            .iter()
            .map(|s| {
                let value =
                    setting(block.attr(s.name), s.env).or_else(|| s.default.map(str::to_string));
                if value.is_none() {
                    diags.attribute_error(
                        AttributePath::attr(self.name).with_attr(s.name),
                        "Missing API Setting",
                        format!(
                            "{}.{} is required: set it in the {} block or in {}.",
                            self.name, s.name, self.name, s.env
                        ),
                    );
                }
                value.unwrap_or_default()
            })
            .collect();
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(values)
        }
    }
}

const fn setting_of(
    name: &'static str,
    env: &'static str,
    what: &'static str,
    secret: bool,
    default: Option<&'static str>,
) -> Setting {
    Setting {
        name,
        env,
        what,
        secret,
        default,
    }
}

const GLOBO: ApiBlock = ApiBlock {
    name: "globo",
    description: "Use a globo.com DBaaS (`globocom/database-as-a-service`), with HTTP Basic \
                  authentication. Destroying a database there quarantines it unless the \
                  database sets `purge_on_destroy`.",
    settings: &[
        setting_of(
            "endpoint",
            "GLOBO_ENDPOINT",
            "Root URL of the DBaaS, such as `https://dbaas.example.com`, or dbaas-local's \
             `http://127.0.0.1:8780/globo`.",
            false,
            None,
        ),
        setting_of("username", "GLOBO_USERNAME", "The user name.", false, None),
        setting_of("password", "GLOBO_PASSWORD", "The password.", true, None),
    ],
};

const DATABASELABS: ApiBlock = ApiBlock {
    name: "databaselabs",
    description: "Use databaselabs (hosted PostgreSQL), authenticated with an API key and \
                  secret, checked when the provider is configured. databaselabs asks for at \
                  least 30 s between status polls, which the provider follows unless \
                  `poll_interval` says otherwise.",
    settings: &[
        setting_of(
            "endpoint",
            "DATABASELABS_ENDPOINT",
            "Root URL of the API, or dbaas-local's `http://127.0.0.1:8780/databaselabs`.",
            false,
            Some(databaselabs::DEFAULT_ENDPOINT),
        ),
        setting_of(
            "api_key",
            "DATABASELABS_API_KEY",
            "The API key.",
            false,
            None,
        ),
        setting_of(
            "api_secret",
            "DATABASELABS_API_SECRET",
            "The API secret.",
            true,
            None,
        ),
    ],
};

const GOADDON: ApiBlock = ApiBlock {
    name: "goaddon",
    description: "Use goaddon, with a project's API token. A token reaches one project and its \
                  one MongoDB database: manage its users and indexes, and read the database \
                  through the `dbaas_database` data source.",
    settings: &[
        setting_of(
            "endpoint",
            "GOADDON_ENDPOINT",
            "Root URL of the API, or dbaas-local's `http://127.0.0.1:8780/goaddon`.",
            false,
            Some(goaddon::DEFAULT_ENDPOINT),
        ),
        setting_of(
            "token",
            "GOADDON_TOKEN",
            "The project's API token.",
            true,
            None,
        ),
    ],
};

const COMPOSE: ApiBlock = ApiBlock {
    name: "compose",
    description: "Use Compose's classic API (ex-MongoHQ, `Accept-Version: 2014-06`): the \
                  databases and users of one MongoDB deployment.",
    settings: &[
        setting_of(
            "endpoint",
            "COMPOSE_ENDPOINT",
            "Root URL of the API, or dbaas-local's `http://127.0.0.1:8780/compose`.",
            false,
            Some(compose::DEFAULT_ENDPOINT),
        ),
        setting_of(
            "token",
            "COMPOSE_TOKEN",
            "The personal access token.",
            true,
            None,
        ),
        setting_of(
            "account",
            "COMPOSE_ACCOUNT",
            "The account (slug or id).",
            false,
            None,
        ),
        setting_of(
            "deployment",
            "COMPOSE_DEPLOYMENT",
            "The MongoDB deployment (name or id) whose databases are managed.",
            false,
            None,
        ),
    ],
};

/// The vendor blocks built from a settings table.
const TABLE_BLOCKS: [&ApiBlock; 4] = [&GLOBO, &DATABASELABS, &GOADDON, &COMPOSE];

// The names the official OVH provider reads, so existing CI settings keep working.
const ENV_OVH_ENDPOINT: &str = "OVH_ENDPOINT";
const ENV_OVH_APPLICATION_KEY: &str = "OVH_APPLICATION_KEY";
const ENV_OVH_APPLICATION_SECRET: &str = "OVH_APPLICATION_SECRET";
const ENV_OVH_CONSUMER_KEY: &str = "OVH_CONSUMER_KEY";
const ENV_OVH_SERVICE_NAME: &str = "OVH_CLOUD_PROJECT_SERVICE";

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
                     back to the `{ENV_TOKEN}` environment variable. Wins over `token_file`."
                )),
        )
        .attribute(
            Attribute::new("token_file", Type::String)
                .optional()
                .description(format!(
                    "Path of a file holding the token, such as the `token` file dbaas-local \
                     saves in its data dir when started without `--token` \
                     (`.dbaas-local/token`). Used when neither `token` nor `{ENV_TOKEN}` is \
                     set. Falls back to the `{ENV_TOKEN_FILE}` environment variable."
                )),
        );
    Schema {
        version: 0,
        block: Block::new(
            "The dbaas provider manages databases, their users, indexes and network allow-lists \
             on a DBaaS API. Configure at most one API block (`local`, `ovh`, `globo`, \
             `databaselabs`, `goaddon` or `compose`); without one, the provider uses \
             dbaas-local. Use provider aliases to reach several APIs.",
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
            Attribute::new("poll_interval", Type::String)
                .optional()
                .description(
                    "Shortest pause between two status polls while waiting, such as `5s`. \
                     Default: what the API asks for (dbaas-local 250ms, databaselabs 30s, \
                     others 1s). Lower it only for APIs you run yourself.",
                ),
        )
        .attribute(
            Attribute::new("request_timeout", Type::String)
                .optional()
                .description("Timeout of one HTTP request, such as `30s`. Default: `30s`."),
        )
        .block(NestedBlock::single(LOCAL, local))
        .block(NestedBlock::single(OVH, ovh_block()))
        .block(NestedBlock::single(GLOBO.name, GLOBO.schema()))
        .block(NestedBlock::single(
            DATABASELABS.name,
            DATABASELABS.schema(),
        ))
        .block(NestedBlock::single(GOADDON.name, GOADDON.schema()))
        .block(NestedBlock::single(COMPOSE.name, COMPOSE.schema())),
    }
}

fn ovh_block() -> Block {
    let setting = |name: &str, env: &str, what: &str| {
        Attribute::new(name, Type::String)
            .optional()
            .description(format!(
                "{what} Falls back to the `{env}` environment variable."
            ))
    };
    Block::new(
        "Use OVHcloud Public Cloud Databases (MongoDB services of one Public Cloud project). \
         Requests are signed with the application key, secret and consumer key, as OVH's own \
         clients do.",
    )
    .attribute(setting(
        "endpoint",
        ENV_OVH_ENDPOINT,
        "`ovh-eu`, `ovh-ca`, `ovh-us`, or the URL of an OVH-compatible API such as dbaas-local's \
         `http://127.0.0.1:8780/ovh/1.0`.",
    ))
    .attribute(setting(
        "application_key",
        ENV_OVH_APPLICATION_KEY,
        "The OVH application key.",
    ))
    .attribute(
        setting(
            "application_secret",
            ENV_OVH_APPLICATION_SECRET,
            "The OVH application secret.",
        )
        .sensitive(),
    )
    .attribute(
        setting(
            "consumer_key",
            ENV_OVH_CONSUMER_KEY,
            "The OVH consumer key.",
        )
        .sensitive(),
    )
    .attribute(setting(
        "service_name",
        ENV_OVH_SERVICE_NAME,
        "The Public Cloud project id the databases belong to.",
    ))
    .attribute(
        Attribute::new("ip_restriction_api", Type::String)
            .optional()
            .description(
                "How IP restrictions are written: `service` (the service's `ipRestrictions` \
                 list, OVH's current API; default) or `legacy` (the older `/ipRestriction` \
                 endpoints).",
            ),
    )
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
    if let Some(text) = config.attr("poll_interval").as_str()
        && let Err(problem) = parse_duration(text)
    {
        diags.attribute_error(
            AttributePath::attr("poll_interval"),
            "Invalid Provider Setting",
            format!("poll_interval = \"{text}\" is not a duration: {problem}. Use e.g. \"5s\"."),
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
    if let Some(mode) = config.attr(OVH).attr("ip_restriction_api").as_str()
        && mode != "service"
        && mode != "legacy"
    {
        diags.attribute_error(
            AttributePath::attr(OVH).with_attr("ip_restriction_api"),
            "Invalid Provider Setting",
            format!("ip_restriction_api = \"{mode}\"; use \"service\" or \"legacy\"."),
        );
    }
    if let Some(endpoint) = config.attr(OVH).attr("endpoint").as_str()
        && let Err(err) = crate::api::ovh::endpoint_url(endpoint)
    {
        diags.attribute_error(
            AttributePath::attr(OVH).with_attr("endpoint"),
            "Invalid Endpoint",
            format!(
                "{err}. Use ovh-eu, ovh-ca, ovh-us, or a URL such as https://eu.api.ovh.com/1.0."
            ),
        );
    }
    for block in [LOCAL].into_iter().chain(TABLE_BLOCKS.map(|b| b.name)) {
        if let Some(endpoint) = config.attr(block).attr("endpoint").as_str()
            && let Err(problem) = check_endpoint(endpoint)
        {
            diags.attribute_error(
                AttributePath::attr(block).with_attr("endpoint"),
                "Invalid Endpoint",
                problem,
            );
        }
    }
}

/// Builds the API client. Every missing or unknown setting is reported at once.
pub(super) fn configure(config: &Value, terraform_version: &str) -> Result<Client, Diagnostics> {
    let mut diags = Diagnostics::default();
    validate(config, &mut diags);
    report_unknown(config, &AttributePath::root(), &mut diags);
    let chosen: Vec<&str> = API_BLOCKS
        .into_iter()
        .filter(|block| !config.attr(block).is_null())
        .collect();
    if chosen.len() > 1 {
        diags.error(
            "More Than One API",
            format!(
                "This provider configuration has {} blocks. A provider configuration talks to one \
                 API: keep one block, and use a provider alias (provider \"dbaas\" {{ alias = … }}) \
                 for each other API.",
                chosen.join(" and ")
            ),
        );
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let tuning = tuning(config, terraform_version);
    let request_timeout = tuning.request_timeout;
    let api = match chosen.first().copied() {
        Some(OVH) => ovh_api(config.attr(OVH), tuning),
        Some(name) if name == GLOBO.name => globo_api(config.attr(name), tuning),
        Some(name) if name == DATABASELABS.name => databaselabs_api(config.attr(name), tuning),
        Some(name) if name == GOADDON.name => goaddon_api(config.attr(name), tuning),
        Some(name) if name == COMPOSE.name => compose_api(config.attr(name), tuning),
        _ => local_api(config.attr(LOCAL), tuning),
    }?;
    let poll_interval = config
        .attr("poll_interval")
        .as_str()
        .and_then(|text| parse_duration(text).ok());
    Ok(Client::new(api, poll_interval, request_timeout))
}

fn local_api(block: &Value, tuning: HttpTuning) -> Result<Arc<dyn DbaasApi>, Diagnostics> {
    let endpoint = setting(block.attr("endpoint"), ENV_ENDPOINT)
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    if let Err(problem) = check_endpoint(&endpoint) {
        return Err(Diagnostics::from(
            crate::tfplugin::diag::Diagnostic::error(
                "Invalid Endpoint",
                format!("{problem} (from {ENV_ENDPOINT} or the provider block)"),
            )
            .with_path(AttributePath::attr(LOCAL).with_attr("endpoint")),
        ));
    }
    let token = local_token(
        setting(block.attr("token"), ENV_TOKEN),
        setting(block.attr("token_file"), ENV_TOKEN_FILE),
    )
    .map_err(|detail| {
        Diagnostics::from(
            crate::tfplugin::diag::Diagnostic::error("Cannot Read the Token File", detail)
                .with_path(AttributePath::attr(LOCAL).with_attr("token_file")),
        )
    })?;
    LocalApi::new(&endpoint, token, tuning)
        .map(|api| Arc::new(api) as Arc<dyn DbaasApi>)
        .map_err(|err| cannot_configure(&endpoint, &err))
}

fn ovh_api(block: &Value, tuning: HttpTuning) -> Result<Arc<dyn DbaasApi>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut required = |name: &str, env: &str| {
        let value = setting(block.attr(name), env);
        if value.is_none() {
            diags.attribute_error(
                AttributePath::attr(OVH).with_attr(name),
                "Missing OVH Setting",
                format!("ovh.{name} is required: set it in the ovh block or in {env}."),
            );
        }
        value.unwrap_or_default()
    };
    let endpoint = required("endpoint", ENV_OVH_ENDPOINT);
    let application_key = required("application_key", ENV_OVH_APPLICATION_KEY);
    let application_secret = required("application_secret", ENV_OVH_APPLICATION_SECRET);
    let consumer_key = required("consumer_key", ENV_OVH_CONSUMER_KEY);
    let service_name = required("service_name", ENV_OVH_SERVICE_NAME);
    if diags.has_errors() {
        return Err(diags);
    }
    let ip_restriction_mode = match block.attr("ip_restriction_api").as_str() {
        Some("legacy") => IpRestrictionMode::Legacy,
        _ => IpRestrictionMode::ServiceList,
    };
    let config = OvhConfig {
        endpoint: endpoint.clone(),
        application_key,
        application_secret: SecretString::from(application_secret),
        consumer_key: SecretString::from(consumer_key),
        service_name,
        ip_restriction_mode,
    };
    OvhApi::new(config, tuning)
        .map(|api| Arc::new(api) as Arc<dyn DbaasApi>)
        .map_err(|err| cannot_configure(&endpoint, &err))
}

fn globo_api(block: &Value, tuning: HttpTuning) -> Result<Arc<dyn DbaasApi>, Diagnostics> {
    let [endpoint, username, password] = values(GLOBO.read(block)?);
    let config = GloboConfig {
        endpoint: endpoint.clone(),
        username,
        password: SecretString::from(password),
    };
    built(&endpoint, GloboApi::new(config, tuning))
}

fn databaselabs_api(block: &Value, tuning: HttpTuning) -> Result<Arc<dyn DbaasApi>, Diagnostics> {
    let [endpoint, api_key, api_secret] = values(DATABASELABS.read(block)?);
    let config = DatabaselabsConfig {
        endpoint: endpoint.clone(),
        api_key,
        api_secret: SecretString::from(api_secret),
    };
    built(&endpoint, DatabaselabsApi::new(config, tuning))
}

fn goaddon_api(block: &Value, tuning: HttpTuning) -> Result<Arc<dyn DbaasApi>, Diagnostics> {
    let [endpoint, token] = values(GOADDON.read(block)?);
    let config = GoaddonConfig {
        endpoint: endpoint.clone(),
        token: SecretString::from(token),
    };
    built(&endpoint, GoaddonApi::new(config, tuning))
}

fn compose_api(block: &Value, tuning: HttpTuning) -> Result<Arc<dyn DbaasApi>, Diagnostics> {
    let [endpoint, token, account, deployment] = values(COMPOSE.read(block)?);
    let config = ComposeConfig {
        endpoint: endpoint.clone(),
        token: SecretString::from(token),
        account,
        deployment,
    };
    built(&endpoint, ComposeApi::new(config, tuning))
}

/// The settings of a block as an array, in the table's order.
fn values<const N: usize>(settings: Vec<String>) -> [String; N] {
    settings
        .try_into()
        .unwrap_or_else(|_| unreachable!("one value per setting of the block's table"))
}

fn built<A: DbaasApi + 'static>(
    endpoint: &str,
    api: Result<A, api::Error>,
) -> Result<Arc<dyn DbaasApi>, Diagnostics> {
    api.map(|api| Arc::new(api) as Arc<dyn DbaasApi>)
        .map_err(|err| cannot_configure(endpoint, &err))
}

fn cannot_configure(endpoint: &str, err: &crate::api::Error) -> Diagnostics {
    Diagnostics::from_error(
        "Cannot Configure the dbaas Provider",
        format!(
            "The client for {} could not be built: {err}",
            redact_text(endpoint)
        ),
    )
}

/// Reports every setting whose value is known only after apply: the provider needs its
/// configuration to plan.
fn report_unknown(value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    match value {
        Value::Unknown(_) => diags.attribute_error(
            path.clone(),
            "Provider Setting Not Yet Known",
            format!(
                "{path} depends on a value that is known only after apply. The provider needs it \
                 to plan: set it from a variable or an existing value, or apply the resource it \
                 depends on first (terraform apply -target=…)."
            ),
        ),
        Value::Object(fields) => {
            for (name, field) in fields {
                report_unknown(field, &path.with_attr(name), diags);
            }
        }
        _ => {}
    }
}

/// The User-Agent Terraform providers conventionally send, `Terraform/1.15.5
/// (+https://www.terraform.io) terraform-provider-dbaas/0.1.0`, with what the user's
/// `TF_APPEND_USER_AGENT` adds (CI systems use it to tag their traffic).
fn user_agent(terraform_version: &str, append: Option<&str>) -> String {
    let terraform = if terraform_version.is_empty() {
        "unknown"
    } else {
        terraform_version
    };
    let mut agent = format!(
        "Terraform/{terraform} (+https://www.terraform.io) terraform-provider-dbaas/{}",
        env!("CARGO_PKG_VERSION")
    );
    // A header value cannot hold control characters: such an addition is dropped whole.
    if let Some(extra) = append.map(str::trim)
        && !extra.is_empty()
        && !extra.chars().any(char::is_control)
    {
        agent.push(' ');
        agent.push_str(extra);
    }
    agent
}

fn tuning(config: &Value, terraform_version: &str) -> HttpTuning {
    let append = std::env::var("TF_APPEND_USER_AGENT").ok();
    let mut tuning = HttpTuning {
        user_agent: user_agent(terraform_version, append.as_deref()),
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

/// The dbaas-local token: `token` when set, else the contents of `token_file` (trimmed). The
/// file's contents are a secret: no error message quotes them.
fn local_token(
    token: Option<String>,
    token_file: Option<String>,
) -> Result<Option<SecretString>, String> {
    if let Some(token) = token {
        return Ok(Some(SecretString::from(token)));
    }
    let Some(path) = token_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|error| {
        format!(
            "The token file {path} (from local.token_file or {ENV_TOKEN_FILE}) cannot be read: \
             {error}. Point it at the token file of dbaas-local's data dir, or set token."
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "The token file {path} (from local.token_file or {ENV_TOKEN_FILE}) is empty. Point \
             it at the token file of dbaas-local's data dir, or set token."
        ));
    }
    Ok(Some(SecretString::from(token)))
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
            "\"{}\" is not an http(s) URL; expected something like {DEFAULT_ENDPOINT}.",
            redact_text(endpoint)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    #[test]
    fn local_token_prefers_the_token_then_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-the-file-0123456789\n").unwrap();
        let path = file.display().to_string();
        let read = |token: Option<&str>, file: Option<&str>| {
            local_token(token.map(str::to_owned), file.map(str::to_owned))
        };
        let token = read(None, Some(&path)).unwrap().unwrap();
        assert_eq!(token.expose_secret(), "from-the-file-0123456789");
        let token = read(Some("given"), Some(&path)).unwrap().unwrap();
        assert_eq!(token.expose_secret(), "given", "token wins over token_file");
        assert!(read(None, None).unwrap().is_none());

        let missing = read(None, Some("/nonexistent/dbaas-token")).unwrap_err();
        assert!(missing.contains("/nonexistent/dbaas-token"), "{missing}");
        std::fs::write(&file, " \n").unwrap();
        assert!(read(None, Some(&path)).unwrap_err().contains("is empty"));
    }

    #[test]
    fn user_agent_is_terraforms_convention_with_the_users_addition() {
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            user_agent("1.15.5", None),
            format!(
                "Terraform/1.15.5 (+https://www.terraform.io) terraform-provider-dbaas/{version}"
            )
        );
        assert_eq!(
            user_agent("1.15.5", Some(" ci/run-42 ")),
            format!(
                "Terraform/1.15.5 (+https://www.terraform.io) terraform-provider-dbaas/{version} ci/run-42"
            )
        );
        assert!(
            user_agent("", Some("")).starts_with("Terraform/unknown (+https://www.terraform.io) ")
        );
        assert!(
            !user_agent("1.15.5", Some("bad\r\nX-Injected: 1")).contains("Injected"),
            "a header cannot be smuggled in"
        );
    }
}
