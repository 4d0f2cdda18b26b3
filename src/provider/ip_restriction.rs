//! `dbaas_ip_restriction`: one allowed network of a database. APIs such as dbaas-local and OVH
//! mark the database busy after each change of its allow-list, so changes to one database take
//! turns (a per-database lock in this provider process) and a busy answer is retried within the
//! timeout: 50 restrictions on one database apply in one run with Terraform's default parallelism.

use std::time::Duration;

use async_trait::async_trait;

use super::Client;
use super::creation::{
    Created, Creation, after_wait, awaiting_ready, create_once, found_by_key, plan_wait_if_awaiting,
};
use super::errors::wait_error;
use super::ids;
use super::listing;
use super::refresh::refreshed;
use super::removal::delete_and_wait;
use super::support::refuse_unsupported;
use super::wait::DeleteEnd;
use super::wait::{retry_while_busy, until_ready};
use crate::api::{self, Feature, IpRestriction, IpRestrictionSpec};
use crate::cidr::Cidr;
use crate::tfplugin::diag::{Diagnostic, Diagnostics, Severity};
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::resource::{
    ApplyRequest, ApplyResult, Context, Identity, IdentityAttribute, Importer, Lister, PlanChange,
    PlanRules, ReadResult, Resource,
};
use crate::tfplugin::schema::{Attribute, Block, Schema};
use crate::tfplugin::timeouts::{self, TIMEOUTS_BLOCK};
use crate::tfplugin::value::{Type, Value};

const TYPE_NAME: &str = "dbaas_ip_restriction";
const CREATE_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const ATTRIBUTES: &[&str] = &["cidr", "description"];

/// The `dbaas_ip_restriction` resource type.
#[derive(Debug)]
pub(super) struct IpRestrictionResource;

#[async_trait]
impl Resource<Client> for IpRestrictionResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "One network allowed to connect to a database. Changes to the allow-list of one \
                 database are applied one at a time, and retried while the API reports the \
                 database busy, so any number of restrictions can be applied in one run.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .description("`<database_id>/<cidr>`, also the import id."),
            )
            .attribute(
                Attribute::string("database_id")
                    .required()
                    .description("Id of the database. Changing it replaces the restriction."),
            )
            .attribute(Attribute::string("cidr").required().description(
                "IPv4 or IPv6 network such as `10.0.0.0/24` or `2001:db8::/48`; a bare address \
                 means `/32` or `/128`. Host bits must be zero. Changing it replaces the \
                 restriction.",
            ))
            .attribute(
                Attribute::string("description")
                    .optional()
                    .description("Free text, at most 255 characters. Changes in place."),
            )
            .attribute(
                Attribute::string("status")
                    .computed()
                    .description("Status as the API reports it, `READY` once applied."),
            )
            .block(timeouts::block(&[
                ("create", CREATE_TIMEOUT),
                ("update", UPDATE_TIMEOUT),
                ("delete", DELETE_TIMEOUT),
            ])),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(cidr) = config.attr("cidr").as_str()
            && let Err(problem) = canonical_cidr(cidr)
        {
            diags.attribute_error(AttributePath::attr("cidr"), "Invalid CIDR", problem);
        }
        if let Some(description) = config.attr("description").as_str()
            && description.chars().count() > 255
        {
            diags.attribute_error(
                AttributePath::attr("description"),
                "Invalid Description",
                format!(
                    "description has {} characters; at most 255 are allowed.",
                    description.chars().count()
                ),
            );
        }
    }

    fn plan_rules(&self) -> PlanRules {
        PlanRules {
            requires_replace: &["database_id", "cidr"],
            volatile_on_update: &["status"],
            defaults: Vec::new(),
        }
    }

    /// Keeps the prior spelling of an equivalent network (`10.0.0.7` and `10.0.0.7/32`).
    async fn modify_plan(
        &self,
        ctx: &Context<'_, Client>,
        plan: &mut PlanChange<'_>,
        diags: &mut Diagnostics,
    ) {
        plan_wait_if_awaiting(ctx, plan);
        refuse_unsupported(
            ctx.client,
            plan.config,
            &[Feature::IpRestriction, Feature::IpRestrictionDescription],
            diags,
        );
        if !plan.is_create() {
            let same = match (
                plan.planned.attr("cidr").as_str(),
                plan.prior.attr("cidr").as_str(),
            ) {
                (Some(next), Some(prior)) => {
                    canonical_cidr(next).ok() == canonical_cidr(prior).ok()
                }
                _ => false,
            };
            if same {
                plan.planned
                    .set_attr("cidr", plan.prior.attr("cidr").clone());
            }
        } else {
            // The id holds the CIDR as the API stores it, so an unknown one adds nothing to
            // the id's known prefix.
            let cidr = match plan.planned.attr("cidr").as_str().map(canonical_cidr) {
                Some(Ok(cidr)) => Value::String(cidr),
                _ => Value::unknown(),
            };
            let id = ids::IP_RESTRICTION.planned_id(&[plan.planned.attr("database_id"), &cidr]);
            plan.planned.set_attr("id", id);
        }
    }

    async fn create(&self, ctx: &Context<'_, Client>, request: ApplyRequest<'_>) -> ApplyResult {
        let planned = request.planned;
        let database_id = attr_string(planned, "database_id");
        let written = attr_string(planned, "cidr");
        let cidr = canonical_cidr(&written).unwrap_or(written);
        let object = format!("IP restriction {cidr} of database {database_id}");
        let api = &ctx.client.api;
        let spec = IpRestrictionSpec {
            cidr: cidr.clone(),
            description: planned.attr("description").as_str().map(str::to_string),
        };
        let timeout = timeouts::get(planned, "create", CREATE_TIMEOUT);
        let (_turn, left) = match ctx.client.lock_database(&database_id, timeout).await {
            Ok(turn) => turn,
            Err(err) => {
                let diags = wait_error(
                    "Error Creating IP Restriction",
                    &object,
                    api.api_name(),
                    &err,
                    false,
                    &[],
                );
                return ApplyResult::failed(Value::Null, diags);
            }
        };
        let policy = ctx.client.wait_policy(left);
        let on_conflict = |err: &api::Error, _: &str| duplicate(&database_id, &cidr, err);
        let creation = Creation {
            what: &object,
            summary: "Error Creating IP Restriction",
            resend_safe: true,
            adopt_on_conflict: true,
            import_hint: format!(
                "terraform import <address of this {TYPE_NAME}> {database_id}/{cidr}"
            ),
            attributes: ATTRIBUTES,
            on_conflict: Some(&on_conflict),
        };
        let created = create_once(
            ctx,
            &creation,
            &policy,
            || api.create_ip_restriction(&database_id, &spec),
            || async {
                found_by_key(
                    api.get_ip_restriction(&database_id, &cidr).await,
                    |existing| {
                        let has = existing.description.as_deref().unwrap_or_default();
                        (has != spec.description.as_deref().unwrap_or_default())
                            .then(|| format!("its description is {has:?}"))
                    },
                )
            },
        )
        .await;
        let Created {
            object: created,
            diags,
            ..
        } = match created {
            Ok(created) => created,
            Err(failed) => return failed,
        };
        let policy = policy.just_created(true);
        let waited = until_ready(
            &object,
            &policy,
            ctx.cancel,
            restriction_status,
            Some(&created),
            |hold| api.get_ip_restriction_held(&database_id, &cidr, hold),
        )
        .await;
        after_wait(
            ctx,
            &object,
            "Error Waiting For IP Restriction",
            waited,
            state_of(&created, planned),
            |restriction| state_of(restriction, planned),
            diags,
        )
    }

    async fn read(&self, ctx: &Context<'_, Client>, state: &Value) -> ReadResult {
        let database_id = attr_string(state, "database_id");
        let written = attr_string(state, "cidr");
        let cidr = canonical_cidr(&written).unwrap_or(written);
        let client = ctx.client;
        refreshed(
            ctx,
            client
                .refresh
                .ip_restriction(&*client.api, &database_id, &cidr)
                .await,
            restriction_status,
            "Error Reading IP Restriction",
            &format!("IP restriction {cidr} of database {database_id}"),
            ATTRIBUTES,
            |restriction| state_of(restriction, state),
        )
    }

    async fn update(&self, ctx: &Context<'_, Client>, request: ApplyRequest<'_>) -> ApplyResult {
        let (prior, planned) = (request.prior, request.planned);
        let database_id = attr_string(prior, "database_id");
        let written = attr_string(prior, "cidr");
        let cidr = canonical_cidr(&written).unwrap_or(written);
        let object = format!("IP restriction {cidr} of database {database_id}");
        let api = &ctx.client.api;
        let timeout = timeouts::get(planned, "update", UPDATE_TIMEOUT);
        let description = planned.attr("description").as_str().map(str::to_string);
        let unchanged = planned.attr("description") == prior.attr("description");
        if unchanged && !awaiting_ready(ctx) {
            let mut state = prior.clone();
            state.set_attr(TIMEOUTS_BLOCK, planned.attr(TIMEOUTS_BLOCK).clone());
            return ApplyResult::ok(state);
        }
        let (_turn, left) = match ctx.client.lock_database(&database_id, timeout).await {
            Ok(turn) => turn,
            Err(err) => {
                let diags = wait_error(
                    "Error Updating IP Restriction",
                    &object,
                    api.api_name(),
                    &err,
                    true,
                    &[],
                );
                return ApplyResult::failed(prior.clone(), diags);
            }
        };
        let policy = ctx.client.wait_policy(left);
        // Unchanged but awaiting: the last run stopped before it was ready; only wait.
        let updated = if unchanged {
            Ok(None)
        } else {
            retry_while_busy(&object, &policy, ctx.cancel, || {
                api.update_ip_restriction(&database_id, &cidr, description.as_deref())
            })
            .await
            .map(Some)
        };
        let updated = match updated {
            Ok(updated) => updated,
            Err(err) => {
                let diags = wait_error(
                    "Error Updating IP Restriction",
                    &object,
                    api.api_name(),
                    &err,
                    true,
                    ATTRIBUTES,
                );
                return ApplyResult::failed(prior.clone(), diags);
            }
        };
        let waited = until_ready(
            &object,
            &policy,
            ctx.cancel,
            restriction_status,
            updated.as_ref(),
            |hold| api.get_ip_restriction_held(&database_id, &cidr, hold),
        )
        .await;
        after_wait(
            ctx,
            &object,
            "Error Waiting For IP Restriction",
            waited,
            prior.clone(),
            |restriction| state_of(restriction, planned),
            Diagnostics::default(),
        )
    }

    async fn delete(&self, ctx: &Context<'_, Client>, prior: &Value) -> Diagnostics {
        let database_id = attr_string(prior, "database_id");
        let written = attr_string(prior, "cidr");
        let cidr = canonical_cidr(&written).unwrap_or(written);
        let api = &ctx.client.api;
        let object = format!("IP restriction {cidr} of database {database_id}");
        let timeout = timeouts::get(prior, "delete", DELETE_TIMEOUT);
        let (_turn, left) = match ctx.client.lock_database(&database_id, timeout).await {
            Ok(turn) => turn,
            Err(err) => {
                return wait_error(
                    "Error Deleting IP Restriction",
                    &object,
                    api.api_name(),
                    &err,
                    true,
                    &[],
                );
            }
        };
        delete_and_wait(
            ctx,
            "Error Deleting IP Restriction",
            &object,
            left,
            DeleteEnd::Gone,
            restriction_status,
            || api.delete_ip_restriction(&database_id, &cidr),
            || api.get_ip_restriction(&database_id, &cidr),
        )
        .await
    }

    fn importer(&self) -> Option<&dyn Importer> {
        Some(self)
    }

    fn identity(&self) -> Option<&dyn Identity> {
        Some(self)
    }

    fn lister(&self) -> Option<&dyn Lister<Client>> {
        Some(&listing::IP_RESTRICTIONS)
    }
}

impl Importer for IpRestrictionResource {
    fn import_state(&self, id: &str) -> Result<Value, Diagnostics> {
        let parts = ids::IP_RESTRICTION.split_import_id(id)?;
        let cidr = canonical_cidr(&parts[1])
            .map_err(|problem| Diagnostics::from_error("Invalid Import ID", problem))?;
        Ok(Value::object([
            ("id", Value::string(format!("{}/{cidr}", parts[0]))),
            ("database_id", Value::string(&parts[0])),
            ("cidr", Value::string(cidr)),
        ]))
    }
}

impl Identity for IpRestrictionResource {
    fn attributes(&self) -> Vec<IdentityAttribute> {
        vec![
            IdentityAttribute {
                name: "database_id",
                ty: Type::String,
                description: "Id of the database.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "cidr",
                ty: Type::String,
                description: "The allowed network, in canonical form.",
                required_for_import: true,
            },
        ]
    }

    fn identity_of(&self, state: &Value) -> Option<Value> {
        let database = state.attr("database_id").as_str()?;
        let cidr = canonical_cidr(state.attr("cidr").as_str()?).ok()?;
        Some(Value::object([
            ("database_id", Value::string(database)),
            ("cidr", Value::string(cidr)),
        ]))
    }

    fn import_id(&self, identity: &Value) -> Result<String, Diagnostics> {
        ids::IP_RESTRICTION.identity_import_id(identity, &["database_id", "cidr"])
    }
}

fn restriction_status(restriction: &IpRestriction) -> &api::Status {
    &restriction.status
}

/// A duplicate that differs from the configuration (another description) is an error that says
/// so: it was made by another configuration or a person, and adopting it would let one
/// `terraform destroy` remove what someone else relies on. A matching one is adopted.
fn duplicate(database_id: &str, cidr: &str, err: &api::Error) -> Diagnostics {
    Diagnostics::from(Diagnostic {
        severity: Severity::Error,
        summary: "IP Restriction Already Exists".to_string(),
        detail: format!(
            "{cidr} is already allowed on database {database_id}, by another resource or outside \
             Terraform. Remove the duplicate from the configuration, or bring the existing entry \
             under this resource with `terraform import {TYPE_NAME}.<name> {database_id}/{cidr}`.\
             \n\nThe API said: {err}"
        ),
        path: Some(AttributePath::attr("cidr")),
    })
}

/// The state of a restriction; the user's spelling of the network is kept.
fn state_of(restriction: &IpRestriction, base: &Value) -> Value {
    let cidr = match base.attr("cidr").as_str() {
        Some(written) if canonical_cidr(written).ok().as_deref() == Some(&restriction.cidr) => {
            Value::string(written)
        }
        _ => Value::string(&restriction.cidr),
    };
    Value::object([
        (
            "id",
            Value::string(format!("{}/{}", restriction.database_id, restriction.cidr)),
        ),
        ("database_id", Value::string(&restriction.database_id)),
        ("cidr", cidr),
        (
            "description",
            restriction
                .description
                .as_deref()
                .map_or(Value::Null, Value::string),
        ),
        ("status", Value::string(&restriction.status.raw)),
        (TIMEOUTS_BLOCK, base.attr(TIMEOUTS_BLOCK).clone()),
    ])
}

fn attr_string(value: &Value, name: &str) -> String {
    value.attr(name).as_str().unwrap_or_default().to_string()
}

/// The canonical network form (see [`crate::cidr`]): a bare address gets /32 or /128, IPv6 is
/// compressed lower case, and an address with host bits set is refused with the network it
/// probably means.
pub(super) fn canonical_cidr(text: &str) -> Result<String, String> {
    Cidr::parse_network(text)
        .map(|network| network.to_string())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_restriction_canonical_forms() {
        assert_eq!(canonical_cidr("10.0.0.0/24").unwrap(), "10.0.0.0/24");
        assert_eq!(canonical_cidr("192.0.2.7").unwrap(), "192.0.2.7/32");
        assert_eq!(
            canonical_cidr("2001:DB8:0:0::/48").unwrap(),
            "2001:db8::/48"
        );
        assert_eq!(canonical_cidr("::1").unwrap(), "::1/128");
        assert_eq!(canonical_cidr("0.0.0.0/0").unwrap(), "0.0.0.0/0");
    }

    #[test]
    fn ip_restriction_host_bits_name_the_network() {
        let err = canonical_cidr("10.0.0.7/24").unwrap_err();
        assert!(err.contains("10.0.0.0/24"), "{err}");
        let err = canonical_cidr("2001:db8::1/64").unwrap_err();
        assert!(err.contains("2001:db8::/64"), "{err}");
    }

    #[test]
    fn ip_restriction_rejects_garbage() {
        for bad in [
            "",
            "10.0.0/24",
            "10.0.0.0/33",
            "10.0.0.0/x",
            "example.com",
            "::/129",
            "10.0.0.0/+8",
            " 10.0.0.0/8",
            "10.0.0.0/8 ",
        ] {
            assert!(canonical_cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ip_restriction_schema_passes_terraform_checks() {
        IpRestrictionResource
            .schema()
            .block
            .validate_internal()
            .expect("schema");
    }
}
