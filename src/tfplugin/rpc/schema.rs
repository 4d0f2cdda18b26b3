//! GetProviderSchema, GetMetadata and GetResourceIdentitySchemas.

use super::convert;
use super::{ProviderServer, pb};
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn provider_schema_response(&self) -> pb::get_provider_schema::Response {
        pb::get_provider_schema::Response {
            provider: Some(convert::schema(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(name, entry)| (name.to_string(), convert::schema(&entry.schema)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(name, entry)| (name.to_string(), convert::schema(&entry.schema)))
                .collect(),
            ephemeral_resource_schemas: self
                .ephemeral_resources
                .iter()
                .map(|(name, entry)| (name.to_string(), convert::schema(&entry.schema)))
                .collect(),
            list_resource_schemas: self
                .list_schemas()
                .map(|(name, schema)| (name.to_string(), schema))
                .collect(),
            functions: self.function_definitions(),
            action_schemas: self
                .actions
                .iter()
                .map(|(name, entry)| {
                    (
                        name.to_string(),
                        pb::ActionSchema {
                            schema: Some(convert::schema(&entry.schema)),
                        },
                    )
                })
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }
    }

    pub(super) fn metadata(&self) -> pb::get_metadata::Response {
        pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .resources
                .keys()
                .map(|name| pb::get_metadata::ResourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|name| pb::get_metadata::DataSourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            ephemeral_resources: self
                .ephemeral_resources
                .keys()
                .map(|name| pb::get_metadata::EphemeralMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            actions: self
                .actions
                .keys()
                .map(|name| pb::get_metadata::ActionMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            list_resources: self
                .list_schemas()
                .map(|(name, _)| pb::get_metadata::ListResourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            functions: self.function_metadata(),
            ..Default::default()
        }
    }

    pub(super) fn identity_schemas(&self) -> pb::get_resource_identity_schemas::Response {
        pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .resources
                .iter()
                .filter_map(|(name, entry)| {
                    let identity = entry.handler.identity()?;
                    Some((
                        name.to_string(),
                        convert::identity_schema(identity.version(), &identity.attributes()),
                    ))
                })
                .collect(),
            diagnostics: Vec::new(),
        }
    }
}

/// Schemas are static, so Terraform may cache them; destroys are planned by the provider, so a
/// resource can say what a destroy will really do (globo's quarantine); configuration generated
/// for imports leaves out what a configuration cannot set.
fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: true,
    }
}
