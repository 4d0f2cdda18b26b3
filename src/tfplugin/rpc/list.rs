//! List resources (`terraform query`, Terraform 1.14+): ValidateListResourceConfig and
//! ListResource. A list block's `config` goes to the resource's [`Lister`]; each object it finds
//! is imported and, when Terraform wants the whole object, read, exactly as `terraform import`
//! would, so the generated configuration and a later import agree.
//!
//! [`Lister`]: crate::tfplugin::resource::Lister

use futures::stream;
use tonic::codegen::BoxStream;

use super::convert;
use super::resource::identity_data;
use super::{ProviderServer, ResourceEntry, pb};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::{Lister, Provider};

impl<P: Provider> ProviderServer<P> {
    /// The list schemas: the `config` block of every resource type that lists.
    pub(super) fn list_schemas(&self) -> impl Iterator<Item = (&'static str, pb::Schema)> + '_ {
        self.resources.iter().filter_map(|(name, entry)| {
            Some((
                *name,
                convert::schema(&entry.handler.lister()?.config_schema()),
            ))
        })
    }

    fn lister(&self, type_name: &str) -> Result<Listing<'_, P::Client>, Diagnostics> {
        let entry = self.resource(type_name)?;
        let lister = entry.handler.lister().ok_or_else(|| {
            Diagnostics::from_error(
                "List Not Supported",
                format!("{type_name} cannot be listed with `terraform query`."),
            )
        })?;
        Ok((entry, lister))
    }

    pub(super) fn validate_list_resource_config(
        &self,
        request: pb::validate_list_resource_config::Request,
    ) -> pb::validate_list_resource_config::Response {
        let diags = self
            .lister(&request.type_name)
            .and_then(|(_, lister)| {
                let ty = self.list_schemas[request.type_name.as_str()].implied_type();
                let config = convert::decode(request.config.as_ref(), &ty, "list configuration")?;
                let mut diags = Diagnostics::new();
                lister.validate(&config, &mut diags);
                Ok(diags)
            })
            .unwrap_or_else(|diags| diags);
        pb::validate_list_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    pub(super) async fn list_resource(
        &self,
        request: pb::list_resource::Request,
    ) -> BoxStream<pb::list_resource::Event> {
        tracing::debug!(tf_rpc = "ListResource", tf_resource_type = %request.type_name);
        let events = match self.list_events(&request).await {
            Ok(events) => events,
            Err(diags) => vec![failure(diags)],
        };
        Box::pin(stream::iter(events.into_iter().map(Ok)))
    }

    async fn list_events(
        &self,
        request: &pb::list_resource::Request,
    ) -> Result<Vec<pb::list_resource::Event>, Diagnostics> {
        let (entry, lister) = self.lister(&request.type_name)?;
        let importer = entry.handler.importer().ok_or_else(|| {
            Diagnostics::from_error(
                "List Not Supported",
                format!("{} cannot be imported, so not listed.", request.type_name),
            )
        })?;
        let ty = self.list_schemas[request.type_name.as_str()].implied_type();
        let config = convert::decode(request.config.as_ref(), &ty, "list configuration")?;
        let mut invalid = Diagnostics::new();
        lister.validate(&config, &mut invalid);
        if invalid.has_errors() {
            return Err(invalid);
        }
        // Terraform stops reading at `limit`; 0 means none was given.
        let limit = usize::try_from(request.limit)
            .ok()
            .filter(|limit| *limit > 0);
        let listed = self
            .with_context(async |ctx| lister.list(ctx, &config, limit).await)
            .await?;
        let mut events = Vec::new();
        for found in listed.into_iter().take(limit.unwrap_or(usize::MAX)) {
            let mut state = importer.import_state(&found.import_id)?;
            let mut resource_object = None;
            if request.include_resource_object {
                let read = self
                    .with_context(async |ctx| entry.handler.read(ctx, &state).await)
                    .await?;
                // Gone between the list and the read: not an object to adopt.
                let Some(mut read) = read else { continue };
                entry.schema.block.null_write_only(&mut read);
                resource_object = Some(convert::encode(&read, &entry.ty, "listed object")?);
                state = read;
            }
            events.push(pb::list_resource::Event {
                identity: identity_data(entry, &state)?,
                display_name: found.display_name,
                resource_object,
                diagnostic: Vec::new(),
            });
        }
        Ok(events)
    }
}

/// A resource type that lists, with its lister.
type Listing<'a, C> = (&'a ResourceEntry<C>, &'a dyn Lister<C>);

fn failure(diags: Diagnostics) -> pb::list_resource::Event {
    pb::list_resource::Event {
        diagnostic: convert::diagnostics(diags),
        ..Default::default()
    }
}
