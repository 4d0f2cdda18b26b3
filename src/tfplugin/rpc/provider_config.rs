//! ValidateProviderConfig, ConfigureProvider and StopProvider.

use std::sync::Arc;

use super::convert;
use super::{ProviderServer, pb};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::{ConfigureRequest, Provider};

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_provider_config(
        &self,
        request: pb::validate_provider_config::Request,
    ) -> pb::validate_provider_config::Response {
        let ty = self.provider_schema.block.implied_type();
        let mut diags = Diagnostics::default();
        match convert::decode(request.config.as_ref(), &ty, "provider configuration") {
            Ok(config) => self.provider.validate(&config, &mut diags),
            Err(errors) => diags.extend(errors),
        }
        pb::validate_provider_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    pub(super) async fn configure_provider(
        &self,
        request: pb::configure_provider::Request,
    ) -> pb::configure_provider::Response {
        let ty = self.provider_schema.block.implied_type();
        let config = match convert::decode(request.config.as_ref(), &ty, "provider configuration") {
            Ok(config) => config,
            Err(diags) => {
                return pb::configure_provider::Response {
                    diagnostics: convert::diagnostics(diags),
                };
            }
        };
        let configured = self
            .provider
            .configure(ConfigureRequest {
                config: &config,
                terraform_version: &request.terraform_version,
            })
            .await;
        let diags = match configured {
            Ok(client) => {
                let mut slot = self.client.write().unwrap_or_else(|p| p.into_inner());
                *slot = Some(Arc::new(client));
                Diagnostics::default()
            }
            Err(diags) => diags,
        };
        pb::configure_provider::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    /// Terraform's graceful cancel (Ctrl-C): every wait in progress ends and reports that it was
    /// interrupted, with the state of what already exists.
    pub(super) fn stop_provider(&self) -> pb::stop_provider::Response {
        tracing::info!("stop requested by Terraform; cancelling operations in progress");
        self.cancel.cancel();
        pb::stop_provider::Response {
            error: String::new(),
        }
    }
}
