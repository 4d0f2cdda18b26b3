//! Action RPCs: ValidateActionConfig, PlanAction and InvokeAction. An invoked action runs in
//! its own task, so its progress messages stream to Terraform while it runs; its end is one
//! `Completed` event with its diagnostics.

use std::sync::Arc;

use futures::{StreamExt as _, stream};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::codegen::BoxStream;

use super::convert;
use super::{ActionEntry, ProviderServer, pb};
use crate::tfplugin::action::Progress;
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::{Context, PrivateData, Provider};

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_action_config(
        &self,
        request: pb::validate_action_config::Request,
    ) -> pb::validate_action_config::Response {
        let diags = self
            .action(&request.type_name)
            .and_then(|entry| {
                let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;
                let mut diags = Diagnostics::new();
                entry.handler.validate(&config, &mut diags);
                Ok(diags)
            })
            .unwrap_or_else(|diags| diags);
        pb::validate_action_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    pub(super) fn plan_action(
        &self,
        request: pb::plan_action::Request,
    ) -> pb::plan_action::Response {
        let diags = self
            .action(&request.action_type)
            .and_then(|entry| {
                let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;
                let mut diags = Diagnostics::new();
                entry.handler.validate(&config, &mut diags);
                if !diags.has_errors() {
                    entry
                        .handler
                        .plan(self.client()?.as_ref(), &config, &mut diags);
                }
                Ok(diags)
            })
            .unwrap_or_else(|diags| diags);
        pb::plan_action::Response {
            diagnostics: convert::diagnostics(diags),
            deferred: None,
        }
    }

    pub(super) fn invoke_action(
        &self,
        request: pb::invoke_action::Request,
    ) -> BoxStream<pb::invoke_action::Event> {
        tracing::debug!(tf_rpc = "InvokeAction", tf_action_type = %request.action_type);
        let started = self.action(&request.action_type).and_then(|entry| {
            let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;
            Ok((Arc::clone(&entry.handler), config, self.client()?))
        });
        let (handler, config, client) = match started {
            Ok(started) => started,
            Err(diags) => return Box::pin(stream::once(async { Ok(completed(diags)) })),
        };
        let (progress, messages) = Progress::channel();
        let cancel = self.cancel.clone();
        let finished = tokio::spawn(async move {
            let private = PrivateData::default();
            let ctx = Context {
                client: client.as_ref(),
                cancel: &cancel,
                private: &private,
            };
            handler.invoke(&ctx, &config, &progress).await
        });
        let progress_events = UnboundedReceiverStream::new(messages).map(|message| {
            Ok(pb::invoke_action::Event {
                r#type: Some(pb::invoke_action::event::Type::Progress(
                    pb::invoke_action::event::Progress { message },
                )),
            })
        });
        // The channel closes when the action ends (its reporter is dropped with the task).
        let end = stream::once(async move {
            let diags = finished.await.unwrap_or_else(|_| {
                Diagnostics::from_error(
                    "Action Failed",
                    "The action stopped unexpectedly; check the object it acted on before \
                     running it again.",
                )
            });
            Ok(completed(diags))
        });
        Box::pin(progress_events.chain(end))
    }

    fn action(&self, type_name: &str) -> Result<&ActionEntry<P::Client>, Diagnostics> {
        self.actions
            .get(type_name)
            .ok_or_else(|| super::unknown_type("action", type_name, self.actions.keys()))
    }
}

fn completed(diags: Diagnostics) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(pb::invoke_action::event::Type::Completed(
            pb::invoke_action::event::Completed {
                diagnostics: convert::diagnostics(diags),
            },
        )),
    }
}
