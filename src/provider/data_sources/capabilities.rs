//! `dbaas_capabilities`, `dbaas_plans`, `dbaas_projects` and `dbaas_availability`: what the API
//! offers. Each is refused, naming the API, where the API does not publish it.

use async_trait::async_trait;

use super::{Client, plan_type, plan_value, read_error};
use crate::api::Feature;
use crate::provider::support::require;
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::{Context, DataSource};
use crate::tfplugin::schema::{Attribute, Block, Schema};
use crate::tfplugin::value::{Type, Value};

/// `dbaas_capabilities`: engines with versions, plans, regions and flavors.
#[derive(Debug)]
pub(super) struct CapabilitiesDataSource;

#[async_trait]
impl DataSource<Client> for CapabilitiesDataSource {
    fn type_name(&self) -> &'static str {
        "dbaas_capabilities"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "What the API offers: engines and their versions, plans, regions and node \
                 flavors. `dbaas_database` checks its settings against the same catalog at plan \
                 time.",
            )
            .attribute(
                Attribute::new(
                    "engines",
                    Type::list(Type::object([
                        ("name", Type::String),
                        ("versions", Type::list(Type::String)),
                        ("default_version", Type::String),
                    ])),
                )
                .computed()
                .description("Engines, each with its versions and the version used by default."),
            )
            .attribute(
                Attribute::new("plans", Type::list(plan_type()))
                    .computed()
                    .description("Service plans, with their node count."),
            )
            .attribute(
                Attribute::new(
                    "regions",
                    Type::list(Type::object([
                        ("name", Type::String),
                        ("description", Type::String),
                    ])),
                )
                .computed()
                .description("Regions."),
            )
            .attribute(
                Attribute::new(
                    "flavors",
                    Type::list(Type::object([
                        ("name", Type::String),
                        ("cores", Type::Number),
                        ("memory_gb", Type::Number),
                        ("storage_gb", Type::Number),
                    ])),
                )
                .computed()
                .description("Node flavors (machine sizes)."),
            ),
        )
    }

    async fn read(&self, ctx: &Context<'_, Client>, _config: &Value) -> Result<Value, Diagnostics> {
        require(ctx.client, Feature::Capabilities)?;
        let catalog = ctx.client.capabilities().await.map_err(|err| {
            read_error(
                "Error Reading Capabilities",
                "the API's catalog",
                ctx.client,
                &err,
            )
        })?;
        let engines = catalog.engines.iter().map(|engine| {
            Value::object([
                ("name", Value::string(&engine.name)),
                (
                    "versions",
                    Value::list(engine.versions.iter().map(Value::string)),
                ),
                ("default_version", Value::string(&engine.default_version)),
            ])
        });
        let regions = catalog.regions.iter().map(|region| {
            Value::object([
                ("name", Value::string(&region.name)),
                ("description", Value::string(&region.description)),
            ])
        });
        let flavors = catalog.flavors.iter().map(|flavor| {
            Value::object([
                ("name", Value::string(&flavor.name)),
                ("cores", Value::number(i64::from(flavor.cores))),
                ("memory_gb", Value::number(i64::from(flavor.memory_gb))),
                ("storage_gb", Value::number(i64::from(flavor.storage_gb))),
            ])
        });
        Ok(Value::object([
            ("engines", Value::list(engines)),
            ("plans", Value::list(catalog.plans.iter().map(plan_value))),
            ("regions", Value::list(regions)),
            ("flavors", Value::list(flavors)),
        ]))
    }
}

/// `dbaas_plans`: the API's service plans.
#[derive(Debug)]
pub(super) struct PlansDataSource;

#[async_trait]
impl DataSource<Client> for PlansDataSource {
    fn type_name(&self) -> &'static str {
        "dbaas_plans"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("The API's service plans.").attribute(
                Attribute::new("plans", Type::list(plan_type()))
                    .computed()
                    .description("Service plans, with their description and node count."),
            ),
        )
    }

    async fn read(&self, ctx: &Context<'_, Client>, _config: &Value) -> Result<Value, Diagnostics> {
        require(ctx.client, Feature::Capabilities)?;
        let catalog = ctx.client.capabilities().await.map_err(|err| {
            read_error("Error Reading Plans", "the API's plans", ctx.client, &err)
        })?;
        Ok(Value::object([(
            "plans",
            Value::list(catalog.plans.iter().map(plan_value)),
        )]))
    }
}

/// `dbaas_projects`: the projects databases can be grouped in (globo).
#[derive(Debug)]
pub(super) struct ProjectsDataSource;

#[async_trait]
impl DataSource<Client> for ProjectsDataSource {
    fn type_name(&self) -> &'static str {
        "dbaas_projects"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("The projects databases are grouped in, where the API has them (globo).")
                .attribute(
                    Attribute::new(
                        "projects",
                        Type::list(Type::object([("id", Type::String), ("name", Type::String)])),
                    )
                    .computed()
                    .description("The projects: their `id` and `name`."),
                ),
        )
    }

    async fn read(&self, ctx: &Context<'_, Client>, _config: &Value) -> Result<Value, Diagnostics> {
        require(ctx.client, Feature::Projects)?;
        let projects = ctx.client.api.projects().await.map_err(|err| {
            read_error(
                "Error Reading Projects",
                "the API's projects",
                ctx.client,
                &err,
            )
        })?;
        Ok(Value::object([(
            "projects",
            Value::list(projects.iter().map(|project| {
                Value::object([
                    ("id", Value::string(&project.id)),
                    ("name", Value::string(&project.name)),
                ])
            })),
        )]))
    }
}

/// `dbaas_availability`: which combinations can be ordered, where the API publishes that (OVH).
#[derive(Debug)]
pub(super) struct AvailabilityDataSource;

#[async_trait]
impl DataSource<Client> for AvailabilityDataSource {
    fn type_name(&self) -> &'static str {
        "dbaas_availability"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "Which combinations of engine, version, plan, flavor and region can be ordered, \
                 with their node limits, where the API publishes them (OVHcloud's availability \
                 catalog). Filter with `engine`, `plan` or `region`.",
            )
            .attribute(
                Attribute::string("engine")
                    .optional()
                    .description("Only combinations of this engine."),
            )
            .attribute(
                Attribute::string("plan")
                    .optional()
                    .description("Only combinations of this plan."),
            )
            .attribute(
                Attribute::string("region")
                    .optional()
                    .description("Only combinations in this region."),
            )
            .attribute(
                Attribute::new(
                    "availability",
                    Type::list(Type::object([
                        ("engine", Type::String),
                        ("version", Type::String),
                        ("plan", Type::String),
                        ("flavor", Type::String),
                        ("region", Type::String),
                        ("min_nodes", Type::Number),
                        ("max_nodes", Type::Number),
                        ("status", Type::String),
                        ("default", Type::Bool),
                    ])),
                )
                .computed()
                .description(
                    "The orderable combinations: engine, version, plan, flavor, region, \
                     min_nodes, max_nodes, status (as the API says it) and default.",
                ),
            ),
        )
    }

    async fn read(&self, ctx: &Context<'_, Client>, config: &Value) -> Result<Value, Diagnostics> {
        require(ctx.client, Feature::Availability)?;
        let offered = ctx.client.api.availability().await.map_err(|err| {
            read_error(
                "Error Reading Availability",
                "the availability catalog",
                ctx.client,
                &err,
            )
        })?;
        let wanted = |name: &str, value: &str| {
            config
                .attr(name)
                .as_str()
                .is_none_or(|filter| filter == value)
        };
        let rows = offered
            .iter()
            .filter(|a| wanted("engine", &a.engine) && wanted("plan", &a.plan))
            .filter(|a| wanted("region", &a.region))
            .map(|a| {
                Value::object([
                    ("engine", Value::string(&a.engine)),
                    ("version", Value::string(&a.version)),
                    ("plan", Value::string(&a.plan)),
                    ("flavor", Value::string(&a.flavor)),
                    ("region", Value::string(&a.region)),
                    ("min_nodes", Value::number(i64::from(a.min_nodes))),
                    ("max_nodes", Value::number(i64::from(a.max_nodes))),
                    ("status", Value::string(&a.status)),
                    ("default", Value::Bool(a.default)),
                ])
            });
        Ok(Value::object([
            ("engine", config.attr("engine").clone()),
            ("plan", config.attr("plan").clone()),
            ("region", config.attr("region").clone()),
            ("availability", Value::list(rows)),
        ]))
    }
}
