//! `dbaas_database`: one managed database. Create, update and delete wait until the API reports
//! the database READY (or gone); a database that exists is never left out of the state.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret as _;

use super::Client;
use super::creation::{
    Created, Creation, after_wait, awaiting_ready, create_once, plan_wait_if_awaiting,
};
use super::errors::wait_error;
use super::ids;
use super::listing;
use super::refresh::refreshed;
use super::removal::delete_and_wait;
use super::support::refuse_unsupported;
use super::wait::{DeleteEnd, retry_while_busy, until_ready};
use crate::api::{self, CreatedDatabase, Database, DatabaseChanges, DatabaseSpec, Feature};
use crate::tfplugin::diag::{Diagnostic, Diagnostics};
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::resource::{
    ApplyRequest, ApplyResult, Context, Identity, IdentityAttribute, Importer, Lister, PlanChange,
    PlanRules, ReadResult, Resource,
};
use crate::tfplugin::schema::{Attribute, Block, Schema};
use crate::tfplugin::timeouts::{self, TIMEOUTS_BLOCK};
use crate::tfplugin::value::{Type, Value};

const TYPE_NAME: &str = "dbaas_database";
const DEFAULT_ENGINE: &str = "mongodb";
const CREATE_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Attributes whose change replaces the database at every API.
const REPLACED_BY: &[&str] = &["name", "engine", "region"];

/// Attributes an API error may name (`Invalid { field }`), so the diagnostic points at them.
const ATTRIBUTES: &[&str] = &[
    "name",
    "engine",
    "version",
    "plan",
    "region",
    "flavor",
    "node_count",
    "description",
];

/// The `dbaas_database` resource type.
#[derive(Debug)]
pub(super) struct DatabaseResource;

#[async_trait]
impl Resource<Client> for DatabaseResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::new(
                "A managed database. Creating, updating and deleting wait until the API reports \
                 the database `READY` (or gone). Changing `name`, `engine` or `region` replaces \
                 the database; `plan`, `version` and `description` change in place where the \
                 API can change them (see the API support matrix), and a `plan` change replaces \
                 the database where it cannot.",
            )
            .attribute(
                Attribute::new("id", Type::String)
                    .computed()
                    .description("The database id assigned by the API."),
            )
            .attribute(
                Attribute::new("name", Type::String)
                    .optional()
                    .computed()
                    .description(
                        "Database name, unique per account. Required by every API that lets \
                         you name databases; refused by those that name them themselves \
                         (databaselabs, where it shows the name the API chose). Rules: 3 to 63 \
                         lowercase letters, digits and hyphens, starting with a letter; at \
                         globo, 1 to 63 lowercase letters, digits and underscores. Changing it \
                         replaces the database.",
                    ),
            )
            .attribute(
                Attribute::new("engine", Type::String)
                    .optional()
                    .computed()
                    .description(format!(
                        "Database engine, such as `mongodb`, `postgresql` or `mysql` (see the \
                         `dbaas_capabilities` data source). Default: `{DEFAULT_ENGINE}`. \
                         Changing it replaces the database."
                    )),
            )
            .attribute(
                Attribute::new("version", Type::String)
                    .optional()
                    .computed()
                    .description(
                        "Engine version. Default: the engine's default version. Changes in place.",
                    ),
            )
            .attribute(
                Attribute::new("plan", Type::String)
                    .optional()
                    .computed()
                    .description(
                        "Service plan (size and tier). Default: the API's default plan. \
                         Changes in place.",
                    ),
            )
            .attribute(
                Attribute::new("region", Type::String)
                    .optional()
                    .computed()
                    .description(
                        "Region the database runs in. Default: the API's default region. \
                         Changing it replaces the database.",
                    ),
            )
            .attribute(
                Attribute::new("flavor", Type::String)
                    .optional()
                    .computed()
                    .description(
                        "Node flavor (machine size), such as `db1-4`. Default: the API's default. \
                         Changes in place. Refused at plan time by APIs without flavors.",
                    ),
            )
            .attribute(
                Attribute::new("node_count", Type::Number)
                    .optional()
                    .computed()
                    .description(
                        "Number of nodes. Default: the plan's node count. Changes in place. \
                         Refused at plan time by APIs that cannot set it.",
                    ),
            )
            .attribute(
                Attribute::new("description", Type::String)
                    .optional()
                    .description("Free text shown by the API, at most 255 characters."),
            )
            .attribute(
                Attribute::new("purge_on_destroy", Type::Bool)
                    .optional()
                    .description(
                        "At APIs whose delete only quarantines a database (globo), `true` makes \
                         destroy remove it for good; by default destroy quarantines it (its \
                         passwords are reset and it stays until the service's operators purge \
                         it), and the plan says so. Elsewhere destroy always removes the database.",
                    ),
            )
            .attribute(
                Attribute::new("superuser_password", Type::String)
                    .computed()
                    .sensitive()
                    .description(
                        "The superuser password, at APIs that generate one at creation and show \
                         it only then (databaselabs). Null elsewhere, and after an import.",
                    ),
            )
            .attribute(
                Attribute::new("status", Type::String)
                    .computed()
                    .description(
                        "Status in the API's own words: `READY` once usable at dbaas-local and \
                         OVH, `ACTIVE` at globo, `ready` at databaselabs, `running` at Compose.",
                    ),
            )
            .attribute(
                Attribute::new("endpoint", Type::String)
                    .computed()
                    .description("Connection URI, without credentials."),
            )
            .attribute(
                Attribute::new("created_at", Type::String)
                    .computed()
                    .description("When the database was created (RFC 3339)."),
            )
            .block(timeouts::block(&[
                ("create", CREATE_TIMEOUT),
                ("update", UPDATE_TIMEOUT),
                ("delete", DELETE_TIMEOUT),
            ])),
        }
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // The name rules depend on the API, so they are checked when planning.
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
        for name in ["name", "engine", "version", "plan", "region"] {
            if config
                .attr(name)
                .as_str()
                .is_some_and(|v| v.trim().is_empty())
            {
                diags.attribute_error(
                    AttributePath::attr(name),
                    "Invalid Database Setting",
                    format!("{name} must not be empty: leave it out to use the API's default."),
                );
            }
        }
    }

    fn plan_rules(&self) -> PlanRules {
        PlanRules {
            requires_replace: REPLACED_BY,
            volatile_on_update: &["status"],
            defaults: vec![("engine", Value::string(DEFAULT_ENGINE))],
        }
    }

    /// Checks engine, version, plan and region against the API's catalog before anything is
    /// created, listing the allowed values.
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
            &[
                Feature::Database,
                Feature::DatabaseName,
                Feature::DatabaseEngine,
                Feature::DatabaseVersion,
                Feature::DatabasePlan,
                Feature::DatabaseRegion,
                Feature::DatabaseFlavor,
                Feature::DatabaseNodeCount,
                Feature::DatabaseDescription,
            ],
            diags,
        );
        if diags.has_errors() {
            return;
        }
        adapt_to_api(ctx.client, plan, diags);
        if diags.has_errors() {
            return;
        }
        // A plan sets the node count the API applies (OVH and dbaas-local move a database to the
        // new plan's node range), so unless the user pins it, it is known only after apply.
        if !plan.is_create()
            && plan.config.attr("node_count").is_null()
            && plan.planned.attr("plan") != plan.prior.attr("plan")
        {
            plan.planned.set_attr("node_count", Value::unknown());
        }
        let wanted = |name| {
            plan.config
                .attr(name)
                .as_str()
                .filter(|value| plan.prior.attr(name).as_str() != Some(*value))
                .map(str::to_string)
        };
        let (engine, version, plan_name, region) = (
            wanted("engine"),
            wanted("version"),
            wanted("plan"),
            wanted("region"),
        );
        if engine.is_none() && version.is_none() && plan_name.is_none() && region.is_none() {
            return;
        }
        let capabilities = match ctx.client.capabilities().await {
            Ok(capabilities) => capabilities,
            Err(err) => {
                // The catalog is a convenience: the API validates again at apply time.
                tracing::warn!(error = %err, "could not read the API's capabilities; skipping plan-time checks");
                return;
            }
        };
        // An engine known only after apply (an API without engine choice) is not checked.
        let engine_name = plan
            .planned
            .attr("engine")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut refuse = |name: &str, value: &str, allowed: Vec<String>| {
            diags.attribute_error(
                AttributePath::attr(name),
                "Unsupported Database Setting",
                format!(
                    "{name} = \"{value}\" is not offered by the {} API. Allowed: {}.",
                    ctx.client.api.api_name(),
                    allowed.join(", ")
                ),
            );
        };
        let engine_info = capabilities.engine(&engine_name);
        if engine_info.is_none() && !engine_name.is_empty() {
            refuse(
                "engine",
                &engine_name,
                capabilities
                    .engines
                    .iter()
                    .map(|e| e.name.clone())
                    .collect(),
            );
        }
        if let (Some(version), Some(info)) = (&version, engine_info)
            && !info.versions.contains(version)
        {
            refuse("version", version, info.versions.clone());
        }
        if let Some(plan_name) = &plan_name
            && !capabilities.plans.iter().any(|p| &p.name == plan_name)
        {
            refuse(
                "plan",
                plan_name,
                capabilities.plans.iter().map(|p| p.name.clone()).collect(),
            );
        }
        if let Some(region) = &region
            && !capabilities.regions.iter().any(|r| &r.name == region)
        {
            refuse(
                "region",
                region,
                capabilities
                    .regions
                    .iter()
                    .map(|r| r.name.clone())
                    .collect(),
            );
        }
    }

    async fn create(&self, ctx: &Context<'_, Client>, request: ApplyRequest<'_>) -> ApplyResult {
        let planned = request.planned;
        // Empty at APIs that name databases themselves.
        let name = planned
            .attr("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let object = format!("database \"{name}\"");
        let api = &ctx.client.api;
        let spec = DatabaseSpec {
            name: name.clone(),
            engine: known_string(planned, "engine"),
            version: known_string(planned, "version"),
            plan: known_string(planned, "plan"),
            region: known_string(planned, "region"),
            flavor: known_string(planned, "flavor"),
            node_count: known_count(planned),
            description: known_string(planned, "description"),
            idempotency_key: None,
        };
        let timeout = timeouts::get(planned, "create", CREATE_TIMEOUT);
        let policy = ctx.client.wait_policy(timeout);
        let since = std::time::SystemTime::now();
        let creation = Creation {
            what: &object,
            summary: "Error Creating Database",
            resend_safe: api.database_names_unique(),
            adopt_on_conflict: false,
            import_hint: format!(
                "terraform import <address of this {TYPE_NAME}> <its id> (the id is in the {} \
                 API's list of databases)",
                api.api_name()
            ),
            attributes: ATTRIBUTES,
            on_conflict: None,
        };
        // A busy answer (Compose's deployment still `new`) means nothing was created: retry.
        let created = create_once(
            ctx,
            &creation,
            &policy,
            || api.create_database_revealing(&spec),
            || async {
                let found = api.find_created_database(&spec, since).await?;
                Ok(found.map(|database| CreatedDatabase {
                    database,
                    superuser_password: None,
                }))
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
        let CreatedDatabase {
            database: created,
            superuser_password,
        } = created;
        tracing::info!(id = %created.id, name = %created.name, "database created; waiting until READY");
        let object = format!("database \"{}\" ({})", created.name, created.id);
        // The password exists only in the create reply: it goes to the state with the database.
        let mut planned = planned.clone();
        planned.set_attr(
            "superuser_password",
            superuser_password.map_or(Value::Null, |password| {
                Value::string(password.expose_secret())
            }),
        );
        let planned = &planned;
        let waited = wait_ready(ctx, &created.id, timeout, true, Some(&created)).await;
        after_wait(
            ctx,
            &object,
            "Error Waiting For Database",
            waited,
            state_of(&created, planned),
            |db| state_of(db, planned),
            diags,
        )
    }

    async fn read(&self, ctx: &Context<'_, Client>, state: &Value) -> ReadResult {
        let Some(id) = state.attr("id").as_str() else {
            return Ok(None);
        };
        let client = ctx.client;
        refreshed(
            ctx,
            client.refresh.database(&*client.api, id).await,
            database_status,
            "Error Reading Database",
            &format!("database {id}"),
            ATTRIBUTES,
            |db| state_of(db, state),
        )
    }

    async fn update(&self, ctx: &Context<'_, Client>, request: ApplyRequest<'_>) -> ApplyResult {
        let (prior, planned) = (request.prior, request.planned);
        let id = prior.attr("id").as_str().unwrap_or_default().to_string();
        let object = format!(
            "database \"{}\" ({id})",
            planned.attr("name").as_str().unwrap_or_default()
        );
        let changes = changes(prior, planned);
        let timeout = timeouts::get(planned, "update", UPDATE_TIMEOUT);
        if changes.is_empty() {
            if awaiting_ready(ctx) {
                // The last run stopped before the database was ready: wait for it now.
                let waited = wait_ready(ctx, &id, timeout, false, None).await;
                return after_wait(
                    ctx,
                    &object,
                    "Error Waiting For Database",
                    waited,
                    with_known_status(planned, prior),
                    |db| state_of(db, planned),
                    Diagnostics::default(),
                );
            }
            // Only the timeouts changed: nothing to tell the API.
            return ApplyResult::ok(with_known_status(planned, prior));
        }
        let api = &ctx.client.api;
        let policy = ctx.client.wait_policy(timeout);
        // The API refuses changes while the database is busy: retry until it accepts.
        let accepted = retry_while_busy(&object, &policy, ctx.cancel, || {
            api.update_database(&id, &changes)
        })
        .await;
        let accepted = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                let diags = wait_error(
                    "Error Updating Database",
                    &object,
                    api.api_name(),
                    &err,
                    true,
                    &[],
                );
                return ApplyResult::failed(prior.clone(), diags);
            }
        };
        let waited = wait_ready(ctx, &id, timeout, false, Some(&accepted)).await;
        after_wait(
            ctx,
            &object,
            "Error Waiting For Database",
            waited,
            prior.clone(),
            |db| state_of(db, planned),
            Diagnostics::default(),
        )
    }

    async fn delete(&self, ctx: &Context<'_, Client>, prior: &Value) -> Diagnostics {
        let Some(id) = prior.attr("id").as_str() else {
            return Diagnostics::default();
        };
        let object = format!(
            "database \"{}\" ({id})",
            prior.attr("name").as_str().unwrap_or_default()
        );
        let api = &ctx.client.api;
        let timeout = timeouts::get(prior, "delete", DELETE_TIMEOUT);
        let purge = prior.attr("purge_on_destroy") == &Value::Bool(true);
        if purge || !api.delete_quarantines() {
            return delete_and_wait(
                ctx,
                "Error Deleting Database",
                &object,
                timeout,
                DeleteEnd::Gone,
                database_status,
                || api.purge_database(id),
                || api.get_database(id),
            )
            .await;
        }
        let mut diags = delete_and_wait(
            ctx,
            "Error Deleting Database",
            &object,
            timeout,
            DeleteEnd::Retired,
            database_status,
            || api.delete_database(id),
            || api.get_database(id),
        )
        .await;
        if !diags.has_errors() {
            diags.push(Diagnostic::warning(
                "Database Quarantined, Not Removed",
                format!(
                    "The {} API quarantined {object}: its passwords were reset and it stays until \
                     the service's operators purge it, so its name stays taken. To remove a \
                     database for good at destroy, set purge_on_destroy = true.",
                    api.api_name()
                ),
            ));
        }
        diags
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, Client>,
        prior: &Value,
        diags: &mut Diagnostics,
    ) {
        let api = &ctx.client.api;
        if api.delete_quarantines() && prior.attr("purge_on_destroy") != &Value::Bool(true) {
            diags.push(Diagnostic::warning(
                "Destroy Will Quarantine the Database",
                format!(
                    "At the {} API, destroying database \"{}\" ({}) quarantines it: its \
                     passwords are reset and it stays until the service's operators purge it. \
                     Set purge_on_destroy = true (and apply) before destroying to remove it \
                     for good.",
                    api.api_name(),
                    prior.attr("name").as_str().unwrap_or_default(),
                    prior.attr("id").as_str().unwrap_or_default(),
                ),
            ));
        }
    }

    fn importer(&self) -> Option<&dyn Importer> {
        Some(self)
    }

    fn identity(&self) -> Option<&dyn Identity> {
        Some(self)
    }

    fn lister(&self) -> Option<&dyn Lister<Client>> {
        Some(&listing::DatabaseLister)
    }
}

impl Importer for DatabaseResource {
    fn import_state(&self, id: &str) -> Result<Value, Diagnostics> {
        let parts = ids::DATABASE.split_import_id(id)?;
        Ok(Value::object([("id", Value::string(&parts[0]))]))
    }
}

impl Identity for DatabaseResource {
    fn attributes(&self) -> Vec<IdentityAttribute> {
        vec![IdentityAttribute {
            name: "id",
            ty: Type::String,
            description: "The database id assigned by the API.",
            required_for_import: true,
        }]
    }

    fn identity_of(&self, state: &Value) -> Option<Value> {
        let id = state.attr("id");
        id.as_str()
            .map(|id| Value::object([("id", Value::string(id))]))
    }

    fn import_id(&self, identity: &Value) -> Result<String, Diagnostics> {
        ids::DATABASE.identity_import_id(identity, &["id"])
    }
}

/// Fits a plan to what the API can do: its name rules, the engine it runs when it offers no
/// choice, a plan change it can only make by replacing, the superuser password it shows.
fn adapt_to_api(client: &Client, plan: &mut PlanChange<'_>, diags: &mut Diagnostics) {
    let api = &client.api;
    let api_name = api.api_name();
    if api.supports(Feature::DatabaseName) {
        match plan.config.attr("name") {
            Value::Null => diags.attribute_error(
                AttributePath::attr("name"),
                "Missing Database Name",
                format!(
                    "The {api_name} API needs a name for each database. {}",
                    api.database_name_rules()
                ),
            ),
            Value::String(name) => {
                if let Err(problem) = api.check_database_name(name) {
                    diags.attribute_error(
                        AttributePath::attr("name"),
                        "Invalid Database Name",
                        format!("name = \"{name}\" {problem}. {}", api.database_name_rules()),
                    );
                }
            }
            _ => {}
        }
    }
    // The static default engine belongs to APIs that offer a choice; elsewhere the API's
    // engine is whatever it runs, known after creation and kept after that.
    if !api.supports(Feature::DatabaseEngine) && plan.config.attr("engine").is_null() {
        let engine = if plan.is_create() {
            Value::unknown()
        } else {
            plan.prior.attr("engine").clone()
        };
        plan.planned.set_attr("engine", engine);
    }
    if !api.supports(Feature::DatabasePlanChange) {
        plan.replace_on_change("plan");
    }
    refuse_replacement_into_quarantine(client, plan, diags);
    if !api.supports(Feature::DatabaseSuperuserPassword) {
        plan.planned.set_attr("superuser_password", Value::Null);
    } else if plan.is_create() {
        plan.planned
            .set_attr("superuser_password", Value::unknown());
    }
}

/// At an API that quarantines on delete, a replacement that keeps the name cannot work: the
/// quarantined database still holds the name, so the new one could not be created.
fn refuse_replacement_into_quarantine(
    client: &Client,
    plan: &PlanChange<'_>,
    diags: &mut Diagnostics,
) {
    let api = &client.api;
    if plan.is_create()
        || !api.delete_quarantines()
        || plan.prior.attr("purge_on_destroy") == &Value::Bool(true)
        || plan.planned.attr("name") != plan.prior.attr("name")
    {
        return;
    }
    // The name is unchanged here, so any other replacing attribute that changes collides.
    let replacing = REPLACED_BY.iter().chain(&plan.also_replace);
    for &name in replacing.filter(|name| **name != "name") {
        let next = plan.planned.attr(name);
        if next.is_unknown() || next != plan.prior.attr(name) {
            diags.attribute_error(
                AttributePath::attr(name),
                "Replacement Blocked By Quarantine",
                format!(
                    "Changing {name} replaces database \"{}\", but the {} API only quarantines \
                     the old one, which keeps the name, so the new one could not be created. \
                     First apply purge_on_destroy = true on this database (alone), then apply \
                     this change; or give the new database another name.",
                    plan.prior.attr("name").as_str().unwrap_or_default(),
                    api.api_name()
                ),
            );
        }
    }
}

/// Waits until the database is READY; on failure, also returns the latest database seen.
/// `just_created` tolerates a short "not found" while an eventually consistent API catches up;
/// `reply` is the database as the change's reply showed it.
pub(super) async fn wait_ready(
    ctx: &Context<'_, Client>,
    id: &str,
    timeout: Duration,
    just_created: bool,
    reply: Option<&Database>,
) -> Result<Database, (Option<Database>, super::wait::WaitError)> {
    let api = &ctx.client.api;
    let policy = ctx.client.wait_policy(timeout).just_created(just_created);
    until_ready(
        &format!("database {id}"),
        &policy,
        ctx.cancel,
        database_status,
        reply,
        |hold| api.get_database_held(id, hold),
    )
    .await
}

pub(super) fn database_status(db: &Database) -> &api::Status {
    &db.status
}

/// The state for a database as the API reports it. `base` supplies what the API does not know:
/// the `timeouts` block, and the user's spelling where the API's is equivalent.
fn state_of(db: &Database, base: &Value) -> Value {
    let description = match (&db.description, base.attr("description").as_str()) {
        // An empty description and no description are the same to the API.
        (None, Some("")) => Value::string(""),
        (None, _) => Value::Null,
        (Some(text), _) => Value::string(text),
    };
    Value::object([
        ("id", Value::string(&db.id)),
        ("name", Value::string(&db.name)),
        ("engine", Value::string(&db.engine)),
        // Empty where the API reports none (databaselabs): null, not "".
        ("version", Value::string_or_null(&db.version)),
        ("plan", Value::string(&db.plan)),
        ("region", Value::string(&db.region)),
        (
            "flavor",
            db.flavor.as_deref().map_or(Value::Null, Value::string),
        ),
        (
            "node_count",
            db.node_count
                .map_or(Value::Null, |n| Value::number(i64::from(n))),
        ),
        ("description", description),
        ("purge_on_destroy", base.attr("purge_on_destroy").clone()),
        (
            "superuser_password",
            known_or_null(base.attr("superuser_password")),
        ),
        ("status", Value::string(&db.status.raw)),
        (
            "endpoint",
            db.endpoint.as_deref().map_or(Value::Null, Value::string),
        ),
        ("created_at", Value::string_or_null(&db.created_at)),
        (TIMEOUTS_BLOCK, base.attr(TIMEOUTS_BLOCK).clone()),
    ])
}

/// The planned state with the prior status, for an update that needs no API call.
fn with_known_status(planned: &Value, prior: &Value) -> Value {
    let mut state = planned.clone();
    if state.attr("status").is_unknown() {
        state.set_attr("status", prior.attr("status").clone());
    }
    state
}

/// The in-place changes between prior and planned state; only what changed is sent.
fn changes(prior: &Value, planned: &Value) -> DatabaseChanges {
    let changed = |name: &str| {
        let next = planned.attr(name);
        (next != prior.attr(name)).then(|| next.as_str().map(str::to_string))
    };
    let node_count = planned.attr("node_count");
    DatabaseChanges {
        plan: changed("plan").flatten(),
        version: changed("version").flatten(),
        description: changed("description"),
        flavor: changed("flavor").flatten(),
        node_count: (node_count != prior.attr("node_count"))
            .then(|| known_count(planned))
            .flatten(),
    }
}

/// A value from the base state, with "known after apply" turned into null.
fn known_or_null(value: &Value) -> Value {
    if value.is_unknown() {
        Value::Null
    } else {
        value.clone()
    }
}

fn known_string(value: &Value, name: &str) -> Option<String> {
    value.attr(name).as_str().map(str::to_string)
}

fn known_count(value: &Value) -> Option<u32> {
    value
        .attr("node_count")
        .as_i64()
        .and_then(|n| u32::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_changes_send_only_what_changed() {
        let prior = Value::object([
            ("plan", Value::string("essential")),
            ("version", Value::string("8.0")),
            ("description", Value::string("old")),
        ]);
        let planned = Value::object([
            ("plan", Value::string("business")),
            ("version", Value::string("8.0")),
            ("description", Value::Null),
        ]);
        let changes = changes(&prior, &planned);
        assert_eq!(changes.plan.as_deref(), Some("business"));
        assert_eq!(changes.version, None);
        assert_eq!(changes.description, Some(None));
    }

    #[test]
    fn database_schema_passes_terraform_checks() {
        DatabaseResource
            .schema()
            .block
            .validate_internal()
            .expect("schema is valid");
    }
}
