//! The vendor API layer: one async trait ([`DbaasApi`]), the domain types it speaks, the one
//! error type every client returns, and one module per API.
//!
//! Nothing here knows about Terraform: the provider converts these domain types to and from
//! Terraform values. Every client goes through [`http::HttpClient`], so retries, rate limits and
//! log redaction behave the same for every vendor.

use std::time::Duration;

use async_trait::async_trait;

pub mod http;
pub mod local;

/// What a managed-database API can do. One implementation per vendor API.
///
/// The required surface is small on purpose (ripgrep-style); helpers that can be built from it
/// are default methods so every client gets them for free.
#[async_trait]
pub trait DbaasApi: Send + Sync + std::fmt::Debug {
    /// Short API name used in messages: "local", "ovh", …
    fn api_name(&self) -> &'static str;

    /// Poll guidance for waiters: some APIs ask for a minimum spacing between status polls
    /// (databaselabs asks for ≥ 30 s). Default: 1 s min, 10 s max.
    fn poll_guidance(&self) -> PollGuidance {
        PollGuidance::default()
    }

    /// Engines, versions, plans, regions and flavors the API offers, for plan-time validation.
    async fn capabilities(&self) -> Result<Capabilities, Error>;

    /// Starts creating a database. Returns at once (status usually pending); wait for readiness
    /// with the provider's waiter.
    async fn create_database(&self, spec: &DatabaseSpec) -> Result<Database, Error>;

    /// Reads one database by id. A database that is gone is [`Error::NotFound`].
    async fn get_database(&self, id: &str) -> Result<Database, Error>;

    /// Lists databases, optionally only those whose name starts with `name_prefix`.
    async fn list_databases(&self, name_prefix: Option<&str>) -> Result<Vec<Database>, Error>;

    /// Changes only the fields set in `changes` (never re-sends unchanged settings).
    async fn update_database(&self, id: &str, changes: &DatabaseChanges)
    -> Result<Database, Error>;

    /// Starts deleting a database. A database that is already gone counts as success.
    async fn delete_database(&self, id: &str) -> Result<(), Error>;

    /// Finds a database by its exact name, for adopt-by-name after an ambiguous create
    /// (a 409 or a lost reply): the object may exist although the create looked failed.
    async fn find_database_by_name(&self, name: &str) -> Result<Option<Database>, Error> {
        let candidates = self.list_databases(Some(name)).await?;
        Ok(candidates.into_iter().find(|db| db.name == name))
    }
}

/// How often a waiter may poll an API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollGuidance {
    /// Polls never come closer together than this (vendor rules or politeness).
    pub min_interval: Duration,
    /// Backoff stops growing here, so a long wait still notices readiness reasonably soon.
    pub max_interval: Duration,
}

impl Default for PollGuidance {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
        }
    }
}

/// What the user asks for when creating a database. `None` fields take the API's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatabaseSpec {
    /// The database name, unique per account; also how an ambiguous create is adopted.
    pub name: String,
    /// Engine ("mongodb", "postgresql", …); `None` takes the API default.
    pub engine: Option<String>,
    /// Engine version; `None` takes the engine's default version.
    pub version: Option<String>,
    /// Service plan (sizing/tier); `None` takes the API default.
    pub plan: Option<String>,
    /// Region to run in; `None` takes the API default.
    pub region: Option<String>,
    /// Free text shown in the vendor console.
    pub description: Option<String>,
    /// Makes the create safe to retry: the same key returns the database the first call created.
    /// `None` lets the client pick a fresh key per call (retries of that call reuse it).
    pub idempotency_key: Option<String>,
}

/// A partial update: only `Some` fields are sent, so untouched settings are never re-sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatabaseChanges {
    /// New plan, for in-place scaling.
    pub plan: Option<String>,
    /// New engine version (upgrade).
    pub version: Option<String>,
    /// `Some(None)` clears the description, `Some(Some(text))` sets it, `None` leaves it alone.
    pub description: Option<Option<String>>,
}

impl DatabaseChanges {
    /// True when nothing would be changed (a client may skip the call).
    pub fn is_empty(&self) -> bool {
        self.plan.is_none() && self.version.is_none() && self.description.is_none()
    }
}

/// A managed database as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    /// The API's id; the Terraform resource id and the key of every later call.
    pub id: String,
    /// The user-chosen name.
    pub name: String,
    /// Engine actually running (defaults resolved).
    pub engine: String,
    /// Version actually running or being rolled out.
    pub version: String,
    /// Plan actually applied or being applied.
    pub plan: String,
    /// Region it runs in.
    pub region: String,
    /// Free text, `None` when unset.
    pub description: Option<String>,
    /// Lifecycle state, mapped for waiters, plus the raw vendor value for messages.
    pub status: Status,
    /// Connection endpoint without credentials, when the API reports one.
    pub endpoint: Option<String>,
    /// Creation time as the API reports it (RFC 3339 for dbaas-local).
    pub created_at: String,
}

/// The state of an object: the phase waiters act on, and the vendor's own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// What a waiter should make of the raw status.
    pub phase: Phase,
    /// The vendor's status string, for messages and logs ("CREATING", "building", …).
    pub raw: String,
    /// A human explanation from the API (e.g. why it is in ERROR), when given.
    pub message: Option<String>,
}

/// The lifecycle phases every vendor status maps onto.
///
/// An unknown raw status maps to [`Phase::Pending`], never to [`Phase::Failed`]: failing on an
/// unlisted transitional state is a classic waiter bug (ovh #1332).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Being created, updated, or in a state we do not know: keep waiting.
    Pending,
    /// Usable and idle.
    Ready,
    /// Being deleted.
    Deleting,
    /// The API says the operation failed; waiting longer will not help.
    Failed,
}

/// What the API offers, for validation before anything is created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Engines with their versions.
    pub engines: Vec<EngineInfo>,
    /// Service plans.
    pub plans: Vec<PlanInfo>,
    /// Regions.
    pub regions: Vec<RegionInfo>,
    /// Node flavors (machine sizes).
    pub flavors: Vec<FlavorInfo>,
    /// What an omitted engine/plan/region becomes, so plans can show the resolved value.
    pub defaults: Defaults,
}

impl Capabilities {
    /// The engine named `name`, if offered.
    pub fn engine(&self, name: &str) -> Option<&EngineInfo> {
        self.engines.iter().find(|engine| engine.name == name)
    }
}

/// One engine and its versions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineInfo {
    /// Engine name as the API spells it.
    pub name: String,
    /// Versions that can be created or upgraded to.
    pub versions: Vec<String>,
    /// Version used when the user gives none.
    pub default_version: String,
}

/// One service plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanInfo {
    /// Plan name as the API spells it.
    pub name: String,
    /// Human description, for data sources and error messages.
    pub description: String,
    /// Nodes in a cluster on this plan.
    pub node_count: u32,
}

/// One region.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionInfo {
    /// Region name as the API spells it.
    pub name: String,
    /// Human description (city, provider).
    pub description: String,
}

/// One node flavor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlavorInfo {
    /// Flavor name as the API spells it.
    pub name: String,
    /// Virtual CPU cores.
    pub cores: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Storage in GB.
    pub storage_gb: u32,
}

/// The values the API applies when a create leaves a field out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Defaults {
    /// Default engine.
    pub engine: String,
    /// Default plan.
    pub plan: String,
    /// Default region.
    pub region: String,
}

/// Every failure a client can report. Each variant carries the API's own message, and its
/// Display is a sentence that ends with it. No variant ever holds a secret.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    /// The object does not exist (or is gone).
    #[error("the object was not found: {message}")]
    NotFound {
        /// The API's message.
        message: String,
    },
    /// Duplicate, or the object is busy (not ready) and the change must wait.
    #[error("the request conflicts with the current state: {message}")]
    Conflict {
        /// The API's message.
        message: String,
    },
    /// Credentials missing or wrong.
    #[error("the API rejected the credentials: {message}")]
    Unauthorized {
        /// The API's message.
        message: String,
    },
    /// Credentials valid but not allowed to do this.
    #[error("the credentials are not allowed to do this: {message}")]
    Forbidden {
        /// The API's message.
        message: String,
    },
    /// Too many requests; `retry_after` is the server's requested pause when it gave one.
    #[error("the API rate limit was exceeded{}: {message}", retry_after_hint(*.retry_after))]
    RateLimited {
        /// How long the server asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// The API's message.
        message: String,
    },
    /// A value was refused; `field` names it when the API says which.
    #[error("the API refused {}: {message}", field_hint(.field.as_deref()))]
    Invalid {
        /// The offending field in the API's naming, when known.
        field: Option<String>,
        /// The API's message.
        message: String,
    },
    /// Billing problem (e.g. card declined at databaselabs).
    #[error("the API requires payment: {message}")]
    PaymentRequired {
        /// The API's message.
        message: String,
    },
    /// The service is temporarily unavailable (503, 502, 504).
    #[error("the API is temporarily unavailable: {message}")]
    Unavailable {
        /// The API's message.
        message: String,
    },
    /// The API has no way to do this.
    #[error("the {api} API does not support {what}")]
    Unsupported {
        /// Which API.
        api: &'static str,
        /// What was asked for.
        what: String,
    },
    /// The request never got an HTTP answer (connect error, timeout, reset).
    #[error("could not reach the API: {message}")]
    Transport {
        /// What went wrong on the wire.
        message: String,
    },
    /// The API answered something we cannot decode.
    #[error("the API sent a reply that could not be understood: {message}")]
    Protocol {
        /// What could not be decoded.
        message: String,
    },
    /// Any other HTTP error status.
    #[error("the API answered HTTP {status}: {message}")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The API's message.
        message: String,
    },
}

fn retry_after_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(" (retry after {} s)", wait.as_secs_f64().ceil()),
        None => String::new(),
    }
}

fn field_hint(field: Option<&str>) -> String {
    match field {
        Some(field) => format!("the value of `{field}`"),
        None => "the request".to_owned(),
    }
}

impl Error {
    /// True when the object does not exist: Read drops it from state, Delete succeeds.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// True when trying again later may succeed: rate limits, unavailability, transport
    /// failures, HTTP 5xx and 408.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Unavailable { .. } | Error::Transport { .. } => true,
            Error::Api { status, .. } => *status >= 500 || *status == 408,
            _ => false,
        }
    }

    /// True for a conflict (duplicate, or busy object).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }

    /// The pause the server asked for, when it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The API's own message (for diagnostics that end with it).
    pub fn api_message(&self) -> &str {
        match self {
            Error::NotFound { message }
            | Error::Conflict { message }
            | Error::Unauthorized { message }
            | Error::Forbidden { message }
            | Error::RateLimited { message, .. }
            | Error::Invalid { message, .. }
            | Error::PaymentRequired { message }
            | Error::Unavailable { message }
            | Error::Transport { message }
            | Error::Protocol { message }
            | Error::Api { message, .. } => message,
            Error::Unsupported { what, .. } => what,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_ends_with_api_message() {
        let errors = [
            Error::NotFound {
                message: "database db-1 not found".into(),
            },
            Error::Invalid {
                field: Some("plan".into()),
                message: "database db-1 not found".into(),
            },
            Error::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
                message: "database db-1 not found".into(),
            },
            Error::Api {
                status: 418,
                message: "database db-1 not found".into(),
            },
        ];
        for error in errors {
            assert!(
                error.to_string().ends_with("database db-1 not found"),
                "{error}"
            );
            assert_eq!(error.api_message(), "database db-1 not found");
        }
    }

    #[test]
    fn error_display_names_field_and_retry_after() {
        let invalid = Error::Invalid {
            field: Some("plan".into()),
            message: "unknown plan".into(),
        };
        assert_eq!(
            invalid.to_string(),
            "the API refused the value of `plan`: unknown plan"
        );
        let limited = Error::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
            message: "slow down".into(),
        };
        assert_eq!(
            limited.to_string(),
            "the API rate limit was exceeded (retry after 2 s): slow down"
        );
        let unsupported = Error::Unsupported {
            api: "globo",
            what: "updating the plan".into(),
        };
        assert_eq!(
            unsupported.to_string(),
            "the globo API does not support updating the plan"
        );
    }

    #[test]
    fn error_classification_matches_retry_rules() {
        let msg = || "m".to_owned();
        assert!(Error::Transport { message: msg() }.is_retryable());
        assert!(Error::Unavailable { message: msg() }.is_retryable());
        assert!(
            Error::RateLimited {
                retry_after: None,
                message: msg()
            }
            .is_retryable()
        );
        assert!(
            Error::Api {
                status: 500,
                message: msg()
            }
            .is_retryable()
        );
        assert!(
            !Error::Api {
                status: 418,
                message: msg()
            }
            .is_retryable()
        );
        assert!(!Error::Conflict { message: msg() }.is_retryable());
        assert!(Error::Conflict { message: msg() }.is_conflict());
        assert!(!Error::Protocol { message: msg() }.is_retryable());
        assert!(Error::NotFound { message: msg() }.is_not_found());
        assert!(
            !Error::Invalid {
                field: None,
                message: msg()
            }
            .is_not_found()
        );
    }

    #[test]
    fn changes_is_empty_only_without_fields() {
        assert!(DatabaseChanges::default().is_empty());
        let clear_description = DatabaseChanges {
            description: Some(None),
            ..DatabaseChanges::default()
        };
        assert!(!clear_description.is_empty());
    }
}
