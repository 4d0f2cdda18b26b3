//! Data source RPCs: ValidateDataResourceConfig and ReadDataSource.

use super::convert;
use super::{ProviderServer, pb};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_data_resource_config(
        &self,
        request: pb::validate_data_resource_config::Request,
    ) -> pb::validate_data_resource_config::Response {
        let diags = self
            .data_source(&request.type_name)
            .and_then(|entry| {
                let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;
                let mut diags = Diagnostics::default();
                entry.handler.validate(&config, &mut diags);
                Ok(diags)
            })
            .unwrap_or_else(|diags| diags);
        pb::validate_data_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    pub(super) async fn read_data_source(
        &self,
        request: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
        tracing::debug!(tf_rpc = "ReadDataSource", tf_data_source_type = %request.type_name);
        let read = async {
            let entry = self.data_source(&request.type_name)?;
            let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;
            let state = self
                .with_context(async |ctx| entry.handler.read(ctx, &config).await)
                .await?;
            if state.is_null() || !state.is_wholly_known() {
                return Err(Diagnostics::from_error(
                    "Provider Returned Invalid Data",
                    format!(
                        "The data source {} returned a null or partly unknown result. This is a \
                         bug in the provider; please report it.",
                        request.type_name
                    ),
                ));
            }
            convert::encode(&state, &entry.ty, "data source result")
        }
        .await;
        match read {
            Ok(state) => pb::read_data_source::Response {
                state: Some(state),
                ..Default::default()
            },
            Err(diags) => pb::read_data_source::Response {
                diagnostics: convert::diagnostics(diags),
                ..Default::default()
            },
        }
    }
}
