//! List resources (`terraform query`, Terraform 1.14+): ValidateListResourceConfig and
//! ListResource. A list block's `config` goes to the resource's [`Lister`]; each object it finds
//! is imported and, when Terraform wants the whole object, read, exactly as `terraform import`
//! would, so the generated configuration and a later import agree.
//!
//! [`Lister`]: crate::tfplugin::resource::Lister

use futures::stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tonic::codegen::BoxStream;

use super::convert;
use super::resource::identity_data;
use super::{ProviderServer, ResourceEntry, pb};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::{Context, Lister, PrivateData, Provider};
use crate::tfplugin::value::Value;

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
        let lister = entry
            .handler
            .lister()
            .ok_or_else(|| not_listed(type_name, "listed with `terraform query`"))?;
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

    /// Streams one event per object as soon as it is imported (and read, when Terraform wants
    /// the whole object), from a task of its own: with `include_resource` each object costs a
    /// read, and Terraform shows results while the rest are still read. The task stops when
    /// Terraform stops reading (at `limit`).
    pub(super) async fn list_resource(
        &self,
        request: pb::list_resource::Request,
    ) -> BoxStream<pb::list_resource::Event> {
        tracing::debug!(tf_rpc = "ListResource", tf_resource_type = %request.type_name);
        let started = self.lister(&request.type_name).and_then(|(entry, _)| {
            let ty = self.list_schemas[request.type_name.as_str()].implied_type();
            let config = convert::decode(request.config.as_ref(), &ty, "list configuration")?;
            Ok((entry.clone(), config, self.client()?))
        });
        let (entry, config, client) = match started {
            Ok(started) => started,
            Err(diags) => return Box::pin(stream::once(async { Ok(failure(diags)) })),
        };
        let (events, received) = mpsc::channel(LIST_EVENTS_AHEAD);
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let private = PrivateData::default();
            let ctx = Context {
                client: client.as_ref(),
                cancel: &cancel,
                private: &private,
            };
            if let Err(diags) = send_listed(&entry, &ctx, &config, &request, &events).await {
                let _ = events.send(Ok(failure(diags))).await;
            }
        });
        Box::pin(ReceiverStream::new(received))
    }
}

/// How many events may wait for Terraform to read them before the listing pauses.
const LIST_EVENTS_AHEAD: usize = 16;

/// Lists, then sends each object's event; `Ok` also when Terraform stopped reading.
async fn send_listed<C>(
    entry: &ResourceEntry<C>,
    ctx: &Context<'_, C>,
    config: &Value,
    request: &pb::list_resource::Request,
    events: &mpsc::Sender<Result<pb::list_resource::Event, Status>>,
) -> Result<(), Diagnostics> {
    let type_name = request.type_name.as_str();
    let lister = entry
        .handler
        .lister()
        .ok_or_else(|| not_listed(type_name, "listed with `terraform query`"))?;
    let importer = entry
        .handler
        .importer()
        .ok_or_else(|| not_listed(type_name, "imported, so not listed"))?;
    let mut invalid = Diagnostics::new();
    lister.validate(config, &mut invalid);
    if invalid.has_errors() {
        return Err(invalid);
    }
    // Terraform stops reading at `limit`; 0 means none was given.
    let limit = usize::try_from(request.limit)
        .ok()
        .filter(|limit| *limit > 0);
    let listed = lister.list(ctx, config, limit).await?;
    for found in listed.into_iter().take(limit.unwrap_or(usize::MAX)) {
        let mut state = importer.import_state(&found.import_id)?;
        let mut resource_object = None;
        if request.include_resource_object {
            // Gone between the list and the read: not an object to adopt.
            let Some(mut read) = entry.handler.read(ctx, &state).await? else {
                continue;
            };
            entry.schema.block.null_write_only(&mut read);
            resource_object = Some(convert::encode(&read, &entry.ty, "listed object")?);
            state = read;
        }
        let event = pb::list_resource::Event {
            identity: identity_data(entry, &state)?,
            display_name: found.display_name,
            resource_object,
            diagnostic: Vec::new(),
        };
        if events.send(Ok(event)).await.is_err() {
            break;
        }
    }
    Ok(())
}

fn not_listed(type_name: &str, why: &str) -> Diagnostics {
    Diagnostics::from_error(
        "List Not Supported",
        format!("{type_name} cannot be {why}."),
    )
}

/// A resource type that lists, with its lister.
type Listing<'a, C> = (&'a ResourceEntry<C>, &'a dyn Lister<C>);

fn failure(diags: Diagnostics) -> pb::list_resource::Event {
    pb::list_resource::Event {
        diagnostic: convert::diagnostics(diags),
        ..Default::default()
    }
}
