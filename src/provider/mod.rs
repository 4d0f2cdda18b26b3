//! The `dbaas` provider: its configuration and its resource types, written against the traits of
//! [`crate::tfplugin`] and the API trait of [`crate::api`]. Knows nothing about HTTP or protobuf.

mod config;
mod credential;
mod data_sources;
mod database;
mod errors;
mod ids;
mod index;
mod ip_restriction;
pub mod wait;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{OnceCell, OwnedMutexGuard};

use crate::api::{self, Capabilities, DbaasApi};
use crate::tfplugin::diag::Diagnostics;
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
}

impl Client {
    /// A client for `api`.
    pub fn new(api: Arc<dyn DbaasApi>) -> Self {
        Self {
            api,
            capabilities: OnceCell::new(),
            database_locks: Mutex::default(),
        }
    }

    /// Waits for this process's turn to change `database_id`; the turn ends when the guard drops.
    pub async fn lock_database(&self, database_id: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self
                .database_locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            locks.entry(database_id.to_string()).or_default().clone()
        };
        lock.lock_owned().await
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
        let api = config::configure(request.config, request.terraform_version)?;
        Ok(Client::new(api))
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
}
