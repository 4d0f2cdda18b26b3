//! The `dbaas` provider: its configuration and its resource types, written against the traits of
//! [`crate::tfplugin`] and the API trait of [`crate::api`]. Knows nothing about HTTP or protobuf.

mod actions;
mod config;
mod creation;
mod credential;
mod data_sources;
mod database;
mod errors;
mod functions;
mod ids;
mod index;
mod ip_restriction;
mod listing;
mod refresh;
mod removal;
mod support;
pub mod wait;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{OnceCell, OwnedMutexGuard};

use crate::api::{self, Capabilities, DbaasApi, PollGuidance};
use crate::tfplugin::action::Action;
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::function::Function;
use crate::tfplugin::resource::{self, ConfigureRequest, DataSource, EphemeralResource, Resource};
use crate::tfplugin::schema::Schema;
use crate::tfplugin::value::Value;

/// The provider's source address on the registry.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/dbaas/dbaas";

/// The `dbaas` provider.
#[derive(Debug, Default)]
pub struct DbaasProvider;

/// What every resource receives once the provider is configured.
#[derive(Debug)]
pub struct Client {
    /// The API the provider configuration selected.
    pub api: Arc<dyn DbaasApi>,
    /// The API's catalog, fetched once per run and only when a plan needs it.
    capabilities: OnceCell<Capabilities>,
    /// One lock per database: APIs that mark a database busy after each change (dbaas-local,
    /// OVH) make parallel changes fail, so changes to one database take turns.
    database_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The user's `poll_interval`, which overrides the API's shortest pause between polls.
    poll_interval: Option<Duration>,
    /// The timeout of one HTTP request: how far one check may run past a wait's deadline.
    request_timeout: Duration,
    /// Serves a plan's reads from one listing where the API can (see [`refresh::Batch`]).
    refresh: refresh::Batch,
}

/// Beyond this many database locks, the ones nobody holds or waits for are forgotten, so a
/// provider that touches many databases keeps a small map.
const LOCKS_KEPT: usize = 256;

impl Client {
    /// A client for `api`; `poll_interval` overrides the API's shortest pause between polls
    /// (never below the API's own minimum unless the API runs on this machine), and
    /// `request_timeout` is the HTTP client's.
    pub fn new(
        api: Arc<dyn DbaasApi>,
        poll_interval: Option<Duration>,
        request_timeout: Duration,
    ) -> Self {
        Self {
            api,
            capabilities: OnceCell::new(),
            database_locks: Mutex::default(),
            poll_interval,
            request_timeout,
            refresh: refresh::Batch::default(),
        }
    }

    /// How waiters poll: the API's guidance, with the user's `poll_interval` as the shortest
    /// pause when set. A vendor's documented minimum (databaselabs: 30 s) stays the floor,
    /// except for an API on a loopback address (dbaas-local in tests).
    pub fn poll_guidance(&self) -> PollGuidance {
        let guidance = self.api.poll_guidance();
        match self.poll_interval {
            Some(interval) => {
                let interval = if self.api.on_loopback() {
                    interval
                } else {
                    interval.max(guidance.min_interval)
                };
                PollGuidance {
                    min_interval: interval,
                    max_interval: guidance.max_interval.max(interval),
                }
            }
            None => guidance,
        }
    }

    /// The wait policy for an operation bounded by `timeout`.
    pub fn wait_policy(&self, timeout: Duration) -> wait::WaitPolicy {
        wait::WaitPolicy {
            check_grace: self.request_timeout,
            hold: self.api.read_hold(),
            ..wait::WaitPolicy::from_guidance(&self.poll_guidance(), timeout)
        }
    }

    /// Waits for this process's turn to change `database_id`, at most `within` (the
    /// operation's timeout: waiting for a turn counts against it); the turn ends when the guard
    /// drops. Returns the guard and the time left of `within`.
    pub async fn lock_database(
        &self,
        database_id: &str,
        within: Duration,
    ) -> Result<(OwnedMutexGuard<()>, Duration), wait::WaitError> {
        let lock = {
            let mut locks = self
                .database_locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if locks.len() >= LOCKS_KEPT {
                // Only the map holds these: no turn is taken or awaited on them.
                locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            locks.entry(database_id.to_string()).or_default().clone()
        };
        let started = tokio::time::Instant::now();
        match tokio::time::timeout(within, lock.lock_owned()).await {
            Ok(turn) => Ok((turn, within.saturating_sub(started.elapsed()))),
            Err(_) => Err(wait::WaitError::TimedOut {
                what: format!("a turn to change database {database_id}"),
                waited: started.elapsed(),
                last_status: "other changes of the database still running".to_owned(),
            }),
        }
    }

    /// The API's capabilities, fetched at most once per provider process.
    pub async fn capabilities(&self) -> Result<&Capabilities, api::Error> {
        self.capabilities
            .get_or_try_init(|| self.api.capabilities())
            .await
    }
}

#[async_trait]
impl resource::Provider for DbaasProvider {
    type Client = Client;

    fn type_name(&self) -> &'static str {
        "dbaas"
    }

    fn schema(&self) -> Schema {
        config::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        config::validate(config, diags);
    }

    async fn configure(&self, request: ConfigureRequest<'_>) -> Result<Client, Diagnostics> {
        let client = config::configure(request.config, request.terraform_version)?;
        // A wrong key is reported once, here, rather than by every resource.
        if let Err(err) = client.api.check_credentials().await {
            return Err(errors::api_error(
                "Cannot Configure the dbaas Provider",
                "the provider configuration",
                client.api.api_name(),
                &err,
                &[],
            ));
        }
        Ok(client)
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Client>>> {
        vec![
            Arc::new(database::DatabaseResource),
            Arc::new(credential::CredentialResource),
            Arc::new(index::CollectionIndexResource),
            Arc::new(ip_restriction::IpRestrictionResource),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Client>>> {
        data_sources::all()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Client>>> {
        vec![Arc::new(credential::CredentialEphemeral)]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        functions::all()
    }

    fn actions(&self) -> Vec<Arc<dyn Action<Client>>> {
        vec![Arc::new(actions::FAILOVER), Arc::new(actions::RESTART)]
    }
}
