//! `dbaas_capabilities` and `dbaas_plans`: what the API offers.

use async_trait::async_trait;

use super::{Client, plan_type, plan_value, read_error};
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
        let catalog = ctx.client.capabilities().await.map_err(|err| {
            read_error("Error Reading Plans", "the API's plans", ctx.client, &err)
        })?;
        Ok(Value::object([(
            "plans",
            Value::list(catalog.plans.iter().map(plan_value)),
        )]))
    }
}
