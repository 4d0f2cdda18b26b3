//! The tfplugin6 `Provider` service: a thin adapter that decodes wire requests, calls the
//! traits of [`crate::tfplugin::resource`], and encodes the answers. Every domain
//! failure is an `Ok` response with diagnostics; a gRPC error status is for a broken transport only.
//!
//! One file per RPC family: `schema.rs` (schemas, metadata), `function.rs` (provider-defined
//! functions), `provider_config.rs` (validate, configure, stop), `resource.rs` (managed
//! resources), `data_source.rs`, `ephemeral.rs` (ephemeral resources), `list.rs` (list
//! resources), and `unsupported.rs` (RPCs no type of ours uses yet, answered with a diagnostic).

mod action;
mod convert;
mod data_source;
mod ephemeral;
mod function;
mod list;
mod provider_config;
mod resource;
mod schema;
mod unsupported;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status};

use super::action::Action;
use super::diag::Diagnostics;
use super::function::{Function, Signature};
use super::proto::tfplugin6 as pb;
use super::resource::{
    Context, DataSource, EphemeralResource, IdentityAttribute, PrivateData, Provider, Resource,
};
use super::schema::Schema;
use super::value::Type;

/// Serves a [`Provider`] over tfplugin6. Built once per plugin process.
pub struct ProviderServer<P: Provider> {
    provider: P,
    /// The provider block's schema, computed once (schemas are static).
    provider_schema: Schema,
    resources: BTreeMap<&'static str, ResourceEntry<P::Client>>,
    data_sources: BTreeMap<&'static str, DataSourceEntry<P::Client>>,
    ephemeral_resources: BTreeMap<&'static str, EphemeralEntry<P::Client>>,
    /// The `config` schema of each resource type that lists (`terraform query`).
    list_schemas: BTreeMap<&'static str, Schema>,
    /// The provider-defined functions, with their signatures (static, like schemas).
    functions: BTreeMap<&'static str, FunctionEntry>,
    /// The action types (Terraform 1.14+).
    actions: BTreeMap<&'static str, ActionEntry<P::Client>>,
    /// Set by ConfigureProvider; read by every resource call.
    client: RwLock<Option<Arc<P::Client>>>,
    /// Cancelled by StopProvider so that long waits end.
    cancel: CancellationToken,
}

/// A registered managed resource type.
type ResourceEntry<C> = TypeEntry<Arc<dyn Resource<C>>>;
/// A registered data source type.
type DataSourceEntry<C> = TypeEntry<Arc<dyn DataSource<C>>>;
/// A registered ephemeral resource type.
type EphemeralEntry<C> = TypeEntry<Arc<dyn EphemeralResource<C>>>;
/// A registered action type.
type ActionEntry<C> = TypeEntry<Arc<dyn Action<C>>>;

/// A registered function with its signature.
struct FunctionEntry {
    handler: Arc<dyn Function>,
    signature: Signature,
}

/// A resource or data source type with its schema and the schema's implied value type.
#[derive(Clone)]
struct TypeEntry<T> {
    handler: T,
    schema: Schema,
    ty: Type,
}

impl<T> TypeEntry<T> {
    fn new(handler: T, schema: Schema) -> Self {
        let ty = schema.block.implied_type();
        Self {
            handler,
            schema,
            ty,
        }
    }
}

impl<P: Provider> ProviderServer<P> {
    /// Collects the provider's types and schemas.
    pub fn new(provider: P) -> Self {
        let resources: BTreeMap<&'static str, ResourceEntry<P::Client>> = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                (r.type_name(), TypeEntry::new(r, schema))
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                (d.type_name(), TypeEntry::new(d, schema))
            })
            .collect();
        let ephemeral_resources = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| {
                let schema = e.schema();
                (e.type_name(), TypeEntry::new(e, schema))
            })
            .collect();
        let list_schemas = resources
            .iter()
            .filter_map(|(name, entry)| Some((*name, entry.handler.lister()?.config_schema())))
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| {
                let signature = f.signature();
                (
                    f.name(),
                    FunctionEntry {
                        handler: f,
                        signature,
                    },
                )
            })
            .collect();
        let actions = provider
            .actions()
            .into_iter()
            .map(|a| {
                let schema = a.schema();
                (a.type_name(), TypeEntry::new(a, schema))
            })
            .collect();
        let provider_schema = provider.schema();
        Self {
            provider,
            provider_schema,
            resources,
            data_sources,
            ephemeral_resources,
            list_schemas,
            functions,
            actions,
            client: RwLock::new(None),
            cancel: CancellationToken::new(),
        }
    }

    /// A token that, when cancelled, does what StopProvider does: waits in progress end and
    /// report what exists. Used for SIGTERM, which a CI cancel sends to the whole process group.
    pub fn stop_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Every schema this server exposes, by kind, for documentation and schema checks.
    pub fn schemas(&self) -> ServedSchemas<'_> {
        ServedSchemas {
            provider: &self.provider_schema,
            resources: self
                .resources
                .iter()
                .map(|(n, e)| (*n, &e.schema))
                .collect(),
            data_sources: self
                .data_sources
                .iter()
                .map(|(n, e)| (*n, &e.schema))
                .collect(),
            ephemeral_resources: self
                .ephemeral_resources
                .iter()
                .map(|(n, e)| (*n, &e.schema))
                .collect(),
            list_resources: self.list_schemas.iter().map(|(n, s)| (*n, s)).collect(),
            actions: self.actions.iter().map(|(n, e)| (*n, &e.schema)).collect(),
            functions: self.function_signatures(),
            identities: self
                .resources
                .iter()
                .filter_map(|(n, e)| Some((*n, e.handler.identity()?.attributes())))
                .collect(),
        }
    }

    /// Every function's signature by name, for documentation (`provider::<name>::<function>`).
    pub fn function_signatures(&self) -> BTreeMap<&'static str, &Signature> {
        self.functions
            .iter()
            .map(|(name, entry)| (*name, &entry.signature))
            .collect()
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceEntry<P::Client>, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name, self.resources.keys()))
    }

    fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry<P::Client>, Diagnostics> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unknown_type("data source", type_name, self.data_sources.keys()))
    }

    fn ephemeral_resource(
        &self,
        type_name: &str,
    ) -> Result<&EphemeralEntry<P::Client>, Diagnostics> {
        self.ephemeral_resources.get(type_name).ok_or_else(|| {
            unknown_type(
                "ephemeral resource",
                type_name,
                self.ephemeral_resources.keys(),
            )
        })
    }

    /// The configured client, or a diagnostic explaining that the provider is not configured.
    fn client(&self) -> Result<Arc<P::Client>, Diagnostics> {
        let guard = self
            .client
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.clone().ok_or_else(|| {
            Diagnostics::from_error(
                "Provider Not Configured",
                "Terraform called the provider before configuring it, or its configuration \
                 failed. Fix the errors reported for the provider block and try again.",
            )
        })
    }

    /// Runs `f` with a context holding the configured client.
    async fn with_context<R>(
        &self,
        f: impl AsyncFnOnce(&Context<'_, P::Client>) -> Result<R, Diagnostics>,
    ) -> Result<R, Diagnostics> {
        self.with_private_context(&PrivateData::default(), f).await
    }

    /// [`Self::with_context`] for a resource instance with its private data.
    async fn with_private_context<R>(
        &self,
        private: &PrivateData,
        f: impl AsyncFnOnce(&Context<'_, P::Client>) -> Result<R, Diagnostics>,
    ) -> Result<R, Diagnostics> {
        let client = self.client()?;
        let ctx = Context {
            client: client.as_ref(),
            cancel: &self.cancel,
            private,
        };
        f(&ctx).await
    }
}

/// Borrowed view of every schema the server exposes.
pub struct ServedSchemas<'a> {
    /// The provider block.
    pub provider: &'a Schema,
    /// Managed resource types by name.
    pub resources: BTreeMap<&'static str, &'a Schema>,
    /// Data source types by name.
    pub data_sources: BTreeMap<&'static str, &'a Schema>,
    /// Ephemeral resource types by name.
    pub ephemeral_resources: BTreeMap<&'static str, &'a Schema>,
    /// The list blocks' `config` schemas, by the resource type they list.
    pub list_resources: BTreeMap<&'static str, &'a Schema>,
    /// Action types by name.
    pub actions: BTreeMap<&'static str, &'a Schema>,
    /// The provider-defined functions' signatures, by name.
    pub functions: BTreeMap<&'static str, &'a Signature>,
    /// The identity attributes of each resource type that has an identity.
    pub identities: BTreeMap<&'static str, Vec<IdentityAttribute>>,
}

fn unknown_type<'a>(
    kind: &str,
    type_name: &str,
    known: impl Iterator<Item = &'a &'static str>,
) -> Diagnostics {
    let known: Vec<_> = known.copied().collect();
    Diagnostics::from_error(
        format!("Unknown {kind} type"),
        format!(
            "This provider has no {kind} type \"{type_name}\". It offers: {}.",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ),
    )
}

/// Wraps a response for tonic.
fn ok<T>(message: T) -> Result<Response<T>, Status> {
    Ok(Response::new(message))
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderServer<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        ok(self.metadata())
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        ok(self.provider_schema_response())
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        ok(self.identity_schemas())
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        ok(self.get_functions())
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        ok(self.validate_provider_config(request.into_inner()))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        ok(self.configure_provider(request.into_inner()).await)
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        ok(self.stop_provider())
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        ok(self.validate_resource_config(request.into_inner()))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        ok(self.upgrade_resource_state(request.into_inner()))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        ok(self.read_resource(request.into_inner()).await)
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        ok(self.plan_resource_change(request.into_inner()).await)
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        ok(self.apply_resource_change(request.into_inner()).await)
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        ok(self.import_resource_state(request.into_inner()))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        ok(self.validate_data_resource_config(request.into_inner()))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        ok(self.read_data_source(request.into_inner()).await)
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        ok(self.upgrade_resource_identity(request.into_inner()))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        ok(unsupported::move_resource_state(request.into_inner()))
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        ok(self.generate_resource_config(request.into_inner()))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        ok(self.validate_ephemeral_resource_config(request.into_inner()))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        ok(self.open_ephemeral_resource(request.into_inner()).await)
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        ok(self.renew_ephemeral_resource(request.into_inner()))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        ok(self.close_ephemeral_resource(request.into_inner()))
    }

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<BoxStream<pb::list_resource::Event>>, Status> {
        ok(self.list_resource(request.into_inner()).await)
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        ok(self.validate_list_resource_config(request.into_inner()))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        ok(self.call_function(request.into_inner()))
    }

    async fn validate_state_store_config(
        &self,
        request: Request<pb::validate_state_store::Request>,
    ) -> Result<Response<pb::validate_state_store::Response>, Status> {
        ok(unsupported::validate_state_store(request.into_inner()))
    }

    async fn configure_state_store(
        &self,
        request: Request<pb::configure_state_store::Request>,
    ) -> Result<Response<pb::configure_state_store::Response>, Status> {
        ok(unsupported::configure_state_store(request.into_inner()))
    }

    async fn read_state_bytes(
        &self,
        request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<BoxStream<pb::read_state_bytes::Response>>, Status> {
        ok(unsupported::read_state_bytes(request.into_inner()))
    }

    async fn write_state_bytes(
        &self,
        _request: Request<tonic::Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        ok(unsupported::write_state_bytes())
    }

    async fn lock_state(
        &self,
        request: Request<pb::lock_state::Request>,
    ) -> Result<Response<pb::lock_state::Response>, Status> {
        ok(unsupported::lock_state(request.into_inner()))
    }

    async fn unlock_state(
        &self,
        request: Request<pb::unlock_state::Request>,
    ) -> Result<Response<pb::unlock_state::Response>, Status> {
        ok(unsupported::unlock_state(request.into_inner()))
    }

    async fn get_states(
        &self,
        request: Request<pb::get_states::Request>,
    ) -> Result<Response<pb::get_states::Response>, Status> {
        ok(unsupported::get_states(request.into_inner()))
    }

    async fn delete_state(
        &self,
        request: Request<pb::delete_state::Request>,
    ) -> Result<Response<pb::delete_state::Response>, Status> {
        ok(unsupported::delete_state(request.into_inner()))
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        ok(self.plan_action(request.into_inner()))
    }

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<BoxStream<pb::invoke_action::Event>>, Status> {
        ok(self.invoke_action(request.into_inner()))
    }

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        ok(self.validate_action_config(request.into_inner()))
    }
}
