//! Managed resource RPCs: ValidateResourceConfig, UpgradeResourceState, ReadResource,
//! PlanResourceChange, ApplyResourceChange, ImportResourceState, UpgradeResourceIdentity.
//!
//! Nothing is lost: a failed read keeps the prior state, a failed delete keeps the object in state,
//! a failed create returns whatever exists so Terraform records it (tainted) instead of orphaning it.

use super::convert;
use super::{ProviderServer, ResourceEntry, pb};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::plan;
use crate::tfplugin::resource::{ApplyRequest, ApplyResult, PlanChange, PrivateData, Provider};
use crate::tfplugin::timeouts;
use crate::tfplugin::value::{self, Value};

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_resource_config(
        &self,
        request: pb::validate_resource_config::Request,
    ) -> pb::validate_resource_config::Response {
        let diags = self
            .resource(&request.type_name)
            .and_then(|entry| {
                let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;
                let write_only_allowed = request
                    .client_capabilities
                    .is_some_and(|c| c.write_only_attributes_allowed);
                Ok(validate(entry, &config, write_only_allowed))
            })
            .unwrap_or_else(|diags| diags);
        pb::validate_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    pub(super) fn upgrade_resource_state(
        &self,
        request: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        let upgraded = self.resource(&request.type_name).and_then(|entry| {
            let state = upgrade_state(entry, request.version, request.raw_state.as_ref())?;
            convert::encode(&state, &entry.ty, "upgraded state")
        });
        match upgraded {
            Ok(state) => pb::upgrade_resource_state::Response {
                upgraded_state: Some(state),
                diagnostics: Vec::new(),
            },
            Err(diags) => pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: convert::diagnostics(diags),
            },
        }
    }

    pub(super) async fn read_resource(
        &self,
        request: pb::read_resource::Request,
    ) -> pb::read_resource::Response {
        tracing::debug!(tf_rpc = "ReadResource", tf_resource_type = %request.type_name);
        let mut response = pb::read_resource::Response {
            new_state: request.current_state.clone(),
            private: request.private.clone(),
            ..Default::default()
        };
        let entry = match self.resource(&request.type_name) {
            Ok(entry) => entry,
            Err(diags) => {
                response.diagnostics = convert::diagnostics(diags);
                return response;
            }
        };
        let private = PrivateData::new(request.private.clone());
        let outcome = async {
            let current = convert::decode(request.current_state.as_ref(), &entry.ty, "state")?;
            if current.is_null() {
                return Ok(Value::Null);
            }
            let refreshed = self
                .with_private_context(&private, async |ctx| {
                    entry.handler.read(ctx, &current).await
                })
                .await?;
            Ok(match refreshed {
                Some(mut state) => {
                    entry.schema.block.null_write_only(&mut state);
                    ensure_wholly_known(&state, "refreshed state")?;
                    state
                }
                None => {
                    tracing::info!(
                        tf_resource_type = %request.type_name,
                        "the object no longer exists; Terraform will plan to create it again"
                    );
                    Value::Null
                }
            })
        }
        .await;
        match outcome.and_then(|state| {
            let identity = identity_data(entry, &state)?;
            Ok((
                convert::encode(&state, &entry.ty, "refreshed state")?,
                identity,
            ))
        }) {
            Ok((state, identity)) => {
                response.new_state = Some(state);
                response.new_identity = identity;
                response.private = private.into_reply();
            }
            // The prior state stays as it was: a failed refresh never drops an object.
            Err(diags) => response.diagnostics = convert::diagnostics(diags),
        }
        response
    }

    pub(super) async fn plan_resource_change(
        &self,
        request: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        tracing::debug!(tf_rpc = "PlanResourceChange", tf_resource_type = %request.type_name);
        let private = PrivateData::new(request.prior_private.clone());
        let planned = async {
            let entry = self.resource(&request.type_name)?;
            let prior = convert::decode(request.prior_state.as_ref(), &entry.ty, "prior state")?;
            let proposed = convert::decode(
                request.proposed_new_state.as_ref(),
                &entry.ty,
                "proposed new state",
            )?;
            let config = convert::decode(request.config.as_ref(), &entry.ty, "configuration")?;

            let rules = entry.handler.plan_rules();
            let block = &entry.schema.block;
            let mut planned = plan::propose(block, &rules, &prior, &proposed, &config);
            let mut diags = Diagnostics::default();
            let mut also_replace = Vec::new();
            // Private data may call for a change the values do not show (an object still
            // being created when the last run stopped), so the resource sees that plan too.
            let private_says = !private.prior().is_empty();
            if !planned.is_null() && (planned != prior || private_says) {
                self.with_private_context(&private, async |ctx| {
                    let mut change = PlanChange {
                        prior: &prior,
                        config: &config,
                        planned: &mut planned,
                        also_replace: Vec::new(),
                    };
                    entry
                        .handler
                        .modify_plan(ctx, &mut change, &mut diags)
                        .await;
                    also_replace = change.also_replace;
                    Ok(())
                })
                .await?;
            } else if planned.is_null() && !prior.is_null() {
                // Destroy-plan notes are advice: an unconfigured provider only loses them.
                let _ = self
                    .with_context(async |ctx| {
                        entry.handler.plan_destroy(ctx, &prior, &mut diags).await;
                        Ok(())
                    })
                    .await;
            }
            let requires_replace =
                plan::finish(block, &rules, &also_replace, &prior, &config, &mut planned);
            let identity = if prior.is_null() {
                identity_data(entry, &planned).ok().flatten()
            } else {
                request.prior_identity.clone()
            };
            let state = convert::encode(&planned, &entry.ty, "planned state")?;
            Ok::<_, Diagnostics>((state, requires_replace, identity, diags))
        }
        .await;
        match planned {
            Ok((state, requires_replace, identity, diags)) => pb::plan_resource_change::Response {
                planned_state: Some(state),
                requires_replace: plan::replace_paths(&requires_replace)
                    .iter()
                    .map(convert::attribute_path)
                    .collect(),
                planned_private: private.into_reply(),
                diagnostics: convert::diagnostics(diags),
                planned_identity: identity,
                ..Default::default()
            },
            Err(diags) => pb::plan_resource_change::Response {
                diagnostics: convert::diagnostics(diags),
                ..Default::default()
            },
        }
    }

    pub(super) async fn apply_resource_change(
        &self,
        request: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        tracing::debug!(tf_rpc = "ApplyResourceChange", tf_resource_type = %request.type_name);
        let mut response = pb::apply_resource_change::Response {
            new_state: request.prior_state.clone(),
            private: request.planned_private.clone(),
            ..Default::default()
        };
        let entry = match self.resource(&request.type_name) {
            Ok(entry) => entry,
            Err(diags) => {
                response.diagnostics = convert::diagnostics(diags);
                return response;
            }
        };
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                convert::decode(request.prior_state.as_ref(), &entry.ty, "prior state")?,
                convert::decode(request.planned_state.as_ref(), &entry.ty, "planned state")?,
                convert::decode(request.config.as_ref(), &entry.ty, "configuration")?,
            ))
        })();
        let (prior, planned, config) = match decoded {
            Ok(values) => values,
            Err(diags) => {
                response.diagnostics = convert::diagnostics(diags);
                return response;
            }
        };

        let private = PrivateData::new(request.planned_private.clone());
        let result = self
            .with_private_context(&private, async |ctx| {
                let handler = &entry.handler;
                let request = ApplyRequest {
                    prior: &prior,
                    planned: &planned,
                    config: &config,
                };
                Ok(if planned.is_null() {
                    let diags = handler.delete(ctx, &prior).await;
                    // A failed delete keeps the object in state, so a retry can finish the job.
                    let state = if diags.has_errors() {
                        prior.clone()
                    } else {
                        Value::Null
                    };
                    ApplyResult::failed(state, diags)
                } else if prior.is_null() {
                    handler.create(ctx, request).await
                } else {
                    handler.update(ctx, request).await
                })
            })
            .await;
        let ApplyResult {
            mut state,
            mut diags,
        } = match result {
            Ok(result) => result,
            Err(diags) => {
                response.diagnostics = convert::diagnostics(diags);
                return response;
            }
        };
        entry.schema.block.null_write_only(&mut state);
        if !diags.has_errors()
            && let Err(problem) = ensure_wholly_known(&state, "new state")
        {
            diags.extend(problem);
        }
        match convert::encode(&state, &entry.ty, "new state") {
            Ok(encoded) => response.new_state = Some(encoded),
            Err(problem) => diags.extend(problem),
        }
        match identity_data(entry, &state) {
            Ok(identity) => response.new_identity = identity,
            Err(problem) => diags.extend(problem),
        }
        response.private = private.into_reply();
        response.diagnostics = convert::diagnostics(diags);
        response
    }

    pub(super) fn import_resource_state(
        &self,
        request: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        tracing::debug!(tf_rpc = "ImportResourceState", tf_resource_type = %request.type_name);
        let imported = self.resource(&request.type_name).and_then(|entry| {
            let importer = entry.handler.importer().ok_or_else(|| {
                Diagnostics::from_error(
                    "Import Not Supported",
                    format!("{} cannot be imported.", request.type_name),
                )
            })?;
            let id = import_id(entry, &request)?;
            let state = importer.import_state(&id)?;
            Ok(pb::import_resource_state::ImportedResource {
                type_name: request.type_name.clone(),
                state: Some(convert::encode(&state, &entry.ty, "imported state")?),
                private: Vec::new(),
                identity: identity_data(entry, &state)?,
            })
        });
        match imported {
            Ok(resource) => pb::import_resource_state::Response {
                imported_resources: vec![resource],
                ..Default::default()
            },
            Err(diags) => pb::import_resource_state::Response {
                diagnostics: convert::diagnostics(diags),
                ..Default::default()
            },
        }
    }

    /// The configuration Terraform writes for an imported object (`-generate-config-out`): its
    /// state without what a configuration cannot set.
    pub(super) fn generate_resource_config(
        &self,
        request: pb::generate_resource_config::Request,
    ) -> pb::generate_resource_config::Response {
        let generated = self.resource(&request.type_name).and_then(|entry| {
            let state = convert::decode(request.state.as_ref(), &entry.ty, "state")?;
            let config = entry.schema.block.config_from_state(&state);
            convert::encode(&config, &entry.ty, "generated configuration")
        });
        match generated {
            Ok(config) => pb::generate_resource_config::Response {
                config: Some(config),
                diagnostics: Vec::new(),
            },
            Err(diags) => pb::generate_resource_config::Response {
                config: None,
                diagnostics: convert::diagnostics(diags),
            },
        }
    }

    pub(super) fn upgrade_resource_identity(
        &self,
        request: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        let upgraded = self.resource(&request.type_name).and_then(|entry| {
            let identity = entry.handler.identity().ok_or_else(|| {
                Diagnostics::from_error(
                    "Resource Identity Not Supported",
                    format!("{} has no resource identity.", request.type_name),
                )
            })?;
            if request.version != identity.version() {
                return Err(Diagnostics::from_error(
                    "Unsupported Identity Version",
                    format!(
                        "The stored identity of {} has version {}; this provider knows version {}. \
                         Use the provider version that wrote it.",
                        request.type_name,
                        request.version,
                        identity.version()
                    ),
                ));
            }
            let ty = convert::identity_type(&identity.attributes());
            let raw = request.raw_identity.as_ref().map(|r| r.json.as_slice());
            let value = value::from_json(raw.unwrap_or(b"null"), &ty).map_err(|err| {
                Diagnostics::from_error("Invalid Stored Identity", err.to_string())
            })?;
            convert::encode(&value, &ty, "identity")
        });
        match upgraded {
            Ok(data) => pb::upgrade_resource_identity::Response {
                upgraded_identity: Some(pb::ResourceIdentityData {
                    identity_data: Some(data),
                }),
                diagnostics: Vec::new(),
            },
            Err(diags) => pb::upgrade_resource_identity::Response {
                upgraded_identity: None,
                diagnostics: convert::diagnostics(diags),
            },
        }
    }
}

/// Static checks of a resource configuration.
fn validate<C>(entry: &ResourceEntry<C>, config: &Value, write_only_allowed: bool) -> Diagnostics {
    let mut diags = Diagnostics::default();
    timeouts::validate(config, &mut diags);
    if !write_only_allowed {
        for path in entry.schema.block.write_only_paths() {
            if config.get_path(&path).is_some_and(|v| !v.is_null()) {
                diags.attribute_error(
                    path.clone(),
                    "Write-Only Attribute Not Supported",
                    format!(
                        "{path} is a write-only attribute, which needs Terraform 1.11 or later \
                         (or OpenTofu 1.11 or later). Upgrade, or use the attribute that is \
                         stored in state instead."
                    ),
                );
            }
        }
    }
    entry.handler.validate(config, &mut diags);
    diags
}

/// Reads a stored state with the current schema. Version 0 is the only version so far; a state
/// written by a newer provider is refused rather than misread.
fn upgrade_state<C>(
    entry: &ResourceEntry<C>,
    version: i64,
    raw: Option<&pb::RawState>,
) -> Result<Value, Diagnostics> {
    if version > entry.schema.version {
        return Err(Diagnostics::from_error(
            "State From a Newer Provider",
            format!(
                "This state was written by a newer version of the dbaas provider (schema version \
                 {version}, this provider knows {}). Use that version or a later one.",
                entry.schema.version
            ),
        ));
    }
    let Some(raw) = raw.filter(|r| !r.json.is_empty()) else {
        return Err(Diagnostics::from_error(
            "Unsupported State Format",
            "The stored state is in the legacy flatmap format, which this provider never wrote. \
             Remove the resource from state and import it again.",
        ));
    };
    value::from_json(&raw.json, &entry.ty).map_err(|err| {
        Diagnostics::from_error(
            "Invalid Stored State",
            format!(
                "The stored state could not be read: {err}. Remove the resource from state \
                 (`terraform state rm`) and import it again."
            ),
        )
    })
}

/// The import id: given directly, or derived from `import { identity = … }`.
fn import_id<C>(
    entry: &ResourceEntry<C>,
    request: &pb::import_resource_state::Request,
) -> Result<String, Diagnostics> {
    if !request.id.is_empty() {
        return Ok(request.id.clone());
    }
    let identity = entry.handler.identity().ok_or_else(|| {
        Diagnostics::from_error("Missing Import ID", "Give the id of the object to import.")
    })?;
    let ty = convert::identity_type(&identity.attributes());
    let data = request
        .identity
        .as_ref()
        .and_then(|i| i.identity_data.as_ref());
    let value = convert::decode(data, &ty, "identity")?;
    identity.import_id(&value)
}

/// The identity of a state, encoded, when the resource has identities and the state knows it.
pub(super) fn identity_data<C>(
    entry: &ResourceEntry<C>,
    state: &Value,
) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
    let Some(identity) = entry.handler.identity() else {
        return Ok(None);
    };
    if state.is_null() {
        return Ok(None);
    }
    let Some(value) = identity.identity_of(state) else {
        return Ok(None);
    };
    if !value.is_wholly_known() {
        return Ok(None);
    }
    let ty = convert::identity_type(&identity.attributes());
    Ok(Some(pb::ResourceIdentityData {
        identity_data: Some(convert::encode(&value, &ty, "identity")?),
    }))
}

fn ensure_wholly_known(state: &Value, what: &str) -> Result<(), Diagnostics> {
    if state.is_wholly_known() {
        Ok(())
    } else {
        Err(Diagnostics::from_error(
            "Provider Returned Unknown Values",
            format!(
                "The provider returned a {what} that still holds unknown values. This is a bug in \
                 the provider; please report it."
            ),
        ))
    }
}
