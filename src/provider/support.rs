//! Plan-time refusal of what the configured API does not offer: a resource type the API lacks,
//! or an attribute it cannot honour, is an error that names the API before any request is sent.

use super::Client;
use crate::api::Feature;
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::value::Value;

/// An error naming the API when it does not offer `feature`, a whole type (a data source or an
/// ephemeral resource, which have no plan of their own to refuse it in).
pub(super) fn require(client: &Client, feature: Feature) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    refuse_unsupported(client, &Value::Null, &[feature], &mut diags);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

/// Adds an error for each of `features` that the API lacks and the configuration uses: always
/// for a whole-type feature, for an attribute feature only when the attribute is set.
pub(super) fn refuse_unsupported(
    client: &Client,
    config: &Value,
    features: &[Feature],
    diags: &mut Diagnostics,
) {
    let api = client.api.api_name();
    for feature in features {
        if client.api.supports(*feature) {
            continue;
        }
        match feature.location() {
            (type_name, None) => diags.error(
                "Not Offered By This API",
                format!(
                    "{type_name} is not offered by the {api} API. Remove it from this \
                     configuration, or manage it through a provider configuration that uses an \
                     API offering it (see the support matrix in the provider's documentation)."
                ),
            ),
            (type_name, Some(attribute)) if !config.attr(attribute).is_null() => diags
                .attribute_error(
                    AttributePath::attr(attribute),
                    "Not Supported By This API",
                    format!(
                        "{attribute} of {type_name} is not supported by the {api} API. Remove \
                         it; the {api} API decides this itself."
                    ),
                ),
            _ => {}
        }
    }
}
