//! Ephemeral resource RPCs: ValidateEphemeralResourceConfig, OpenEphemeralResource,
//! RenewEphemeralResource and CloseEphemeralResource. Results live only in Terraform's memory for
//! the run; nothing here is written to plan or state.

use super::convert;
use super::{ProviderServer, pb};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_ephemeral_resource_config(
        &self,
        request: pb::validate_ephemeral_resource_config::Request,
    ) -> pb::validate_ephemeral_resource_config::Response {
        let diags = self
            .ephemeral_resource(&request.type_name)
            .and_then(|entry| {
                let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;
                let mut diags = Diagnostics::default();
                entry.handler.validate(&config, &mut diags);
                Ok(diags)
            })
            .unwrap_or_else(|diags| diags);
        pb::validate_ephemeral_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    pub(super) async fn open_ephemeral_resource(
        &self,
        request: pb::open_ephemeral_resource::Request,
    ) -> pb::open_ephemeral_resource::Response {
        tracing::debug!(tf_rpc = "OpenEphemeralResource", tf_ephemeral_resource_type = %request.type_name);
        let opened = async {
            let entry = self.ephemeral_resource(&request.type_name)?;
            let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;
            let result = self
                .with_context(async |ctx| entry.handler.open(ctx, &config).await)
                .await?;
            if !result.is_wholly_known() {
                return Err(Diagnostics::from_error(
                    "Provider Returned Invalid Result",
                    format!(
                        "The ephemeral resource {} returned a partly unknown result. This is a bug \
                         in the provider; please report it.",
                        request.type_name
                    ),
                ));
            }
            convert::encode(&result, &entry.ty, "ephemeral result")
        }
        .await;
        match opened {
            Ok(result) => pb::open_ephemeral_resource::Response {
                result: Some(result),
                ..Default::default()
            },
            Err(diags) => pb::open_ephemeral_resource::Response {
                diagnostics: convert::diagnostics(diags),
                ..Default::default()
            },
        }
    }

    /// Our results have no lease to renew: Terraform only calls this when Open set `renew_at`,
    /// which it never does; answer cleanly all the same.
    pub(super) fn renew_ephemeral_resource(
        &self,
        request: pb::renew_ephemeral_resource::Request,
    ) -> pb::renew_ephemeral_resource::Response {
        let diagnostics = match self.ephemeral_resource(&request.type_name) {
            Ok(_) => Vec::new(),
            Err(diags) => convert::diagnostics(diags),
        };
        pb::renew_ephemeral_resource::Response {
            diagnostics,
            renew_at: None,
            private: request.private,
        }
    }

    /// Nothing is held open between Open and Close.
    pub(super) fn close_ephemeral_resource(
        &self,
        request: pb::close_ephemeral_resource::Request,
    ) -> pb::close_ephemeral_resource::Response {
        let diagnostics = match self.ephemeral_resource(&request.type_name) {
            Ok(_) => Vec::new(),
            Err(diags) => convert::diagnostics(diags),
        };
        pb::close_ephemeral_resource::Response { diagnostics }
    }
}
