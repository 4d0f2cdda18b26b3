//! `dbaas_database` (one database, by id or by name) and `dbaas_databases` (all, or those whose
//! name starts with a prefix).

use async_trait::async_trait;

use super::{Client, DATABASE_FIELDS, NODE_COUNT, database_fields, database_type, read_error};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::resource::{Context, DataSource};
use crate::tfplugin::schema::{Attribute, Block, Schema};
use crate::tfplugin::value::{Type, Value};

/// `dbaas_database`: one database by `id` or `name`.
#[derive(Debug)]
pub(super) struct DatabaseDataSource;

#[async_trait]
impl DataSource<Client> for DatabaseDataSource {
    fn type_name(&self) -> &'static str {
        "dbaas_database"
    }

    fn schema(&self) -> Schema {
        let mut block =
            Block::new("One existing database, found by `id` or by `name` (give exactly one).");
        for name in DATABASE_FIELDS {
            let attribute = Attribute::string(name).computed();
            block = block.attribute(match name {
                "id" => attribute.optional().description("Id of the database."),
                "name" => attribute.optional().description("Name of the database."),
                other => attribute.description(format!("The database's `{other}`.")),
            });
        }
        block = block.attribute(
            Attribute::number(NODE_COUNT)
                .computed()
                .description("The database's number of nodes, where the API reports it."),
        );
        Schema::new(block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let (id, name) = (config.attr("id"), config.attr("name"));
        if id.is_null() && name.is_null() {
            diags.attribute_error(
                AttributePath::attr("id"),
                "Missing Database Selector",
                "Give the database's `id` or its `name`.",
            );
        } else if !id.is_null() && !name.is_null() {
            diags.attribute_error(
                AttributePath::attr("name"),
                "Conflicting Database Selectors",
                "Give either `id` or `name`, not both.",
            );
        }
    }

    async fn read(&self, ctx: &Context<'_, Client>, config: &Value) -> Result<Value, Diagnostics> {
        let api = &ctx.client.api;
        let found = if let Some(id) = config.attr("id").as_str() {
            match api.get_database(id).await {
                Ok(db) => Some(db),
                Err(err) if err.is_not_found() => None,
                Err(err) => {
                    return Err(read_error(
                        "Error Reading Database",
                        &format!("database {id}"),
                        ctx.client,
                        &err,
                    ));
                }
            }
        } else {
            let name = config.attr("name").as_str().unwrap_or_default();
            api.find_database_by_name(name).await.map_err(|err| {
                read_error(
                    "Error Reading Database",
                    &format!("database \"{name}\""),
                    ctx.client,
                    &err,
                )
            })?
        };
        let Some(db) = found else {
            let (attribute, value) = match config.attr("id").as_str() {
                Some(id) => ("id", id.to_string()),
                None => (
                    "name",
                    config.attr("name").as_str().unwrap_or_default().to_string(),
                ),
            };
            let mut diags = Diagnostics::default();
            diags.attribute_error(
                AttributePath::attr(attribute),
                "Database Not Found",
                format!(
                    "The {} API has no database with {attribute} \"{value}\".",
                    api.api_name()
                ),
            );
            return Err(diags);
        };
        Ok(Value::object(database_fields(&db)))
    }
}

/// `dbaas_databases`: every database, or those whose name starts with `name_prefix`.
#[derive(Debug)]
pub(super) struct DatabasesDataSource;

#[async_trait]
impl DataSource<Client> for DatabasesDataSource {
    fn type_name(&self) -> &'static str {
        "dbaas_databases"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "The databases of the account, sorted by name; with `name_prefix`, only those \
                 whose name starts with it (e.g. every `client-` database).",
            )
            .attribute(
                Attribute::string("name_prefix")
                    .optional()
                    .description("Only databases whose name starts with this text."),
            )
            .attribute(
                Attribute::new("databases", Type::list(database_type()))
                    .computed()
                    .description(
                        "The databases, each with id, name, engine, version, plan, region, \
                         description, status, endpoint and created_at.",
                    ),
            ),
        )
    }

    async fn read(&self, ctx: &Context<'_, Client>, config: &Value) -> Result<Value, Diagnostics> {
        let prefix = config.attr("name_prefix").as_str();
        let mut databases = ctx.client.api.list_databases(prefix).await.map_err(|err| {
            read_error("Error Listing Databases", "the databases", ctx.client, &err)
        })?;
        databases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Value::object([
            ("name_prefix", config.attr("name_prefix").clone()),
            (
                "databases",
                Value::list(
                    databases
                        .iter()
                        .map(|db| Value::object(database_fields(db))),
                ),
            ),
        ]))
    }
}
