//! What a provider, a resource type and a data source implement. The RPC layer (`rpc/`) turns wire
//! requests into calls on these traits; nothing here knows about protobuf.
//!
//! A resource is Schema + Create/Read/Update/Delete. Import and identity are add-on capabilities a
//! resource offers through [`Resource::importer`] and [`Resource::identity`]; plan rules that hold for
//! every resource (unknown computed values, requires-replace, write-only nulling) live in
//! [`crate::tfplugin::plan`], so a resource only adds what is specific to it.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::Diagnostics;
use super::function::Function;
use super::schema::Schema;
use super::value::{Type, Value};

/// A Terraform provider: its own configuration schema, and the types it serves.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What `configure` produces and every resource receives: the configured API client.
    type Client: Send + Sync + 'static;

    /// The provider's name, the prefix of every type name (`dbaas`).
    fn type_name(&self) -> &'static str;

    /// The schema of the `provider "…" {}` block.
    fn schema(&self) -> Schema;

    /// Checks the provider configuration before Terraform configures it. Values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Builds the client from the configuration (values may be unknown when they depend on
    /// resources not yet created). Collects every problem before it returns.
    async fn configure(&self, request: ConfigureRequest<'_>) -> Result<Self::Client, Diagnostics>;

    /// The managed resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Client>>>;

    /// The data source types.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Client>>> {
        Vec::new()
    }

    /// The ephemeral resource types.
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Self::Client>>> {
        Vec::new()
    }

    /// The action types (Terraform 1.14+).
    fn actions(&self) -> Vec<Arc<dyn crate::tfplugin::action::Action<Self::Client>>> {
        Vec::new()
    }

    /// The provider-defined functions (Terraform 1.8+). They get no client: Terraform calls
    /// them without configuring the provider.
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
}

/// What `Provider::configure` receives.
pub struct ConfigureRequest<'a> {
    /// The decoded `provider` block.
    pub config: &'a Value,
    /// The Terraform (or OpenTofu) version that is calling, for messages and the user agent.
    pub terraform_version: &'a str,
}

/// What every resource and data source call receives besides its own values.
pub struct Context<'a, C> {
    /// The configured client.
    pub client: &'a C,
    /// Cancelled when Terraform asks the provider to stop (Ctrl-C): long waits end early.
    pub cancel: &'a CancellationToken,
    /// The resource instance's private data (empty for data sources and ephemeral resources).
    pub private: &'a PrivateData,
}

/// Bytes a provider keeps with one resource instance, opaque to Terraform and to the user: the
/// prior value arrives with read, plan and apply, and what the provider sets replaces it in the
/// reply (read → new private, plan → planned private, apply → new private). Unset, the prior
/// value is carried through unchanged.
#[derive(Debug, Default)]
pub struct PrivateData {
    prior: Vec<u8>,
    next: std::sync::Mutex<Option<Vec<u8>>>,
}

impl PrivateData {
    /// Private data that arrived as `prior`.
    pub fn new(prior: Vec<u8>) -> Self {
        Self {
            prior,
            next: std::sync::Mutex::new(None),
        }
    }

    /// What arrived with the request.
    pub fn prior(&self) -> &[u8] {
        &self.prior
    }

    /// Replaces the private data in the reply.
    pub fn set(&self, bytes: Vec<u8>) {
        *self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(bytes);
    }

    /// What the reply carries: the value set, else the prior one.
    pub fn into_reply(self) -> Vec<u8> {
        self.next
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .unwrap_or(self.prior)
    }
}

/// A managed resource type.
#[async_trait]
pub trait Resource<C>: Send + Sync {
    /// The full type name, e.g. `dbaas_database`.
    fn type_name(&self) -> &'static str;

    /// The schema. Its version drives state upgrades.
    fn schema(&self) -> Schema;

    /// Value checks on the configuration (types and required attributes are Terraform's job).
    /// Values may be unknown: check only what is known.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// How the generic plan rules treat this resource's attributes.
    fn plan_rules(&self) -> PlanRules {
        PlanRules::default()
    }

    /// Adjusts a plan after the generic rules ran (defaults that depend on other values, checks
    /// against the API). Called for create and update, never for destroy.
    async fn modify_plan(
        &self,
        _ctx: &Context<'_, C>,
        _plan: &mut PlanChange<'_>,
        _diags: &mut Diagnostics,
    ) {
    }

    /// Adds warnings (or errors) to a plan that destroys the object, e.g. to say what a destroy
    /// will really do at this API. Default: nothing.
    async fn plan_destroy(&self, _ctx: &Context<'_, C>, _prior: &Value, _diags: &mut Diagnostics) {}

    /// Creates the object and waits until it is usable. On failure after the object exists,
    /// return its state with the errors, so Terraform keeps it (tainted) and nothing is orphaned.
    async fn create(&self, ctx: &Context<'_, C>, request: ApplyRequest<'_>) -> ApplyResult;

    /// Refreshes the state. `Ok(None)` means the object is gone (Terraform drops it from state).
    async fn read(&self, ctx: &Context<'_, C>, state: &Value) -> ReadResult;

    /// Updates the object in place and waits until it is usable.
    async fn update(&self, ctx: &Context<'_, C>, request: ApplyRequest<'_>) -> ApplyResult;

    /// Deletes the object and waits until it is gone. Already gone is success.
    async fn delete(&self, ctx: &Context<'_, C>, prior: &Value) -> Diagnostics;

    /// Import support, when the resource offers it.
    fn importer(&self) -> Option<&dyn Importer> {
        None
    }

    /// Resource identity (Terraform 1.12+), when the resource offers it.
    fn identity(&self) -> Option<&dyn Identity> {
        None
    }

    /// Listing the existing objects for `terraform query` (Terraform 1.14+), when the resource
    /// offers it. Needs [`Self::importer`] and [`Self::identity`]: each listed object is
    /// imported and read like `terraform import` does, so a listed object and an imported one
    /// have the same state.
    fn lister(&self) -> Option<&dyn Lister<C>> {
        None
    }
}

/// The existing objects of a resource type, for a `list` block of a `.tfquery.hcl` file.
#[async_trait]
pub trait Lister<C>: Send + Sync {
    /// The schema of the list block's `config`.
    fn config_schema(&self) -> Schema;

    /// Plan-time checks of the list block's `config`, before any API call.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// The objects `config` selects, in a stable order. With a `limit`, listing may stop once
    /// it has that many; the server sends no more than `limit` either way.
    async fn list(
        &self,
        ctx: &Context<'_, C>,
        config: &Value,
        limit: Option<usize>,
    ) -> Result<Vec<Listed>, Diagnostics>;
}

/// One existing object found by a [`Lister`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// How Terraform shows the object (`terraform query` output).
    pub display_name: String,
    /// The id [`Importer::import_state`] takes for it.
    pub import_id: String,
}

/// Which attributes the generic plan rules treat specially. Names are top-level attributes.
#[derive(Debug, Default, Clone)]
pub struct PlanRules {
    /// A change of any of these replaces the object.
    pub requires_replace: &'static [&'static str],
    /// Computed attributes that any in-place update may change: planned unknown on update.
    /// Every other computed attribute keeps its prior value on update.
    pub volatile_on_update: &'static [&'static str],
    /// Optional attributes with a default used when the configuration leaves them null.
    pub defaults: Vec<(&'static str, Value)>,
}

/// A plan under construction, as `Resource::modify_plan` sees it.
pub struct PlanChange<'a> {
    /// The prior state; null when creating.
    pub prior: &'a Value,
    /// The configuration as written (may hold unknowns).
    pub config: &'a Value,
    /// The planned new state, after the generic defaults; the resource may refine it. Volatile
    /// attributes and replacements are decided afterwards, on the plan as the resource leaves it.
    pub planned: &'a mut Value,
    /// Attributes whose change replaces the object in this plan only, beyond
    /// [`PlanRules::requires_replace`] (e.g. an API that cannot change them in place).
    pub also_replace: Vec<&'static str>,
}

impl PlanChange<'_> {
    /// True when the plan creates the object (no prior state).
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }

    /// Makes a change of `name` replace the object in this plan.
    pub fn replace_on_change(&mut self, name: &'static str) {
        if !self.also_replace.contains(&name) {
            self.also_replace.push(name);
        }
    }
}

/// What `create` and `update` receive.
pub struct ApplyRequest<'a> {
    /// The prior state (null on create).
    pub prior: &'a Value,
    /// The planned state: every known value in it must come back unchanged.
    pub planned: &'a Value,
    /// The configuration, the only place write-only values can be read from.
    pub config: &'a Value,
}

/// The new state, with the diagnostics of the operation. `state` is `Value::Null` only when
/// nothing exists (a create that failed before the object came to be).
pub struct ApplyResult {
    /// The state to store.
    pub state: Value,
    /// Errors and warnings.
    pub diags: Diagnostics,
}

impl ApplyResult {
    /// A state and no diagnostics.
    pub fn ok(state: Value) -> Self {
        Self {
            state,
            diags: Diagnostics::default(),
        }
    }

    /// A failure: `state` is what exists now (null if nothing).
    pub fn failed(state: Value, diags: Diagnostics) -> Self {
        Self { state, diags }
    }
}

/// The refreshed state: `None` when the object is gone.
pub type ReadResult = Result<Option<Value>, Diagnostics>;

/// Import by a string id (`terraform import`, `import { id = … }`).
pub trait Importer: Send + Sync {
    /// Turns the import id into a minimal state that `read` can refresh, or says what the id
    /// should look like.
    fn import_state(&self, id: &str) -> Result<Value, Diagnostics>;
}

/// Resource identity: a small, stable object that names the remote object.
pub trait Identity: Send + Sync {
    /// Identity schema version.
    fn version(&self) -> i64 {
        0
    }

    /// The identity attributes: (name, type, description, required for import).
    fn attributes(&self) -> Vec<IdentityAttribute>;

    /// The identity of an object from its state; `None` when the state does not know it yet.
    fn identity_of(&self, state: &Value) -> Option<Value>;

    /// The import id equivalent of an identity (used by `import { identity = … }`).
    fn import_id(&self, identity: &Value) -> Result<String, Diagnostics>;
}

/// One attribute of an identity schema.
#[derive(Debug, Clone)]
pub struct IdentityAttribute {
    /// Attribute name.
    pub name: &'static str,
    /// Attribute type.
    pub ty: Type,
    /// Shown by documentation and Terraform.
    pub description: &'static str,
    /// Must be given by `import { identity = … }`.
    pub required_for_import: bool,
}

/// A data source type.
#[async_trait]
pub trait DataSource<C>: Send + Sync {
    /// The full type name, e.g. `dbaas_databases`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Value checks on the configuration.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads the data. The result must be wholly known.
    async fn read(&self, ctx: &Context<'_, C>, config: &Value) -> Result<Value, Diagnostics>;
}

/// An ephemeral resource type (Terraform 1.10+): opened during plan and apply, its result is never
/// written to the plan or the state.
#[async_trait]
pub trait EphemeralResource<C>: Send + Sync {
    /// The full type name, e.g. `dbaas_credential`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Value checks on the configuration.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Produces the result. Terraform only calls this with a wholly known configuration; the
    /// result must be wholly known and keep every configured value as configured.
    async fn open(&self, ctx: &Context<'_, C>, config: &Value) -> Result<Value, Diagnostics>;
}
