//! `terraform query` for the four resource types: a `list` block finds the objects that exist
//! (made by scripts or by hand) so that `-generate-config-out` writes their resource and import
//! blocks. Each lister only names the objects by import id; the protocol layer imports and reads
//! them like `terraform import` would, so adopting an object plans no change.

use async_trait::async_trait;

use super::Client;
use super::errors::api_error;
use super::ids;
use super::support::require;
use crate::api::{Database, Feature};
use crate::tfplugin::diag::{Diagnostic, Diagnostics};
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::resource::{Context, Listed, Lister};
use crate::tfplugin::schema::{Attribute, Block, Schema};
use crate::tfplugin::value::Value;

/// `list "dbaas_database"`: every database, or those whose name starts with `name_prefix`.
#[derive(Debug)]
pub(super) struct DatabaseLister;

/// `list "dbaas_credential"`, `"dbaas_collection_index"`, `"dbaas_ip_restriction"`: the objects
/// of one database (`database_id`), or of every database.
#[derive(Debug)]
pub(super) struct ChildLister {
    kind: Child,
}

#[derive(Clone, Copy, Debug)]
enum Child {
    Credential,
    Index,
    IpRestriction,
}

pub(super) const CREDENTIALS: ChildLister = ChildLister {
    kind: Child::Credential,
};
pub(super) const INDEXES: ChildLister = ChildLister { kind: Child::Index };
pub(super) const IP_RESTRICTIONS: ChildLister = ChildLister {
    kind: Child::IpRestriction,
};

#[async_trait]
impl Lister<Client> for DatabaseLister {
    fn config_schema(&self) -> Schema {
        Schema::new(
            Block::new("Which databases `terraform query` lists: all of them by default.")
                .attribute(
                    Attribute::string("name_prefix")
                        .optional()
                        .description("Only the databases whose name starts with this text."),
                ),
        )
    }

    async fn list(
        &self,
        ctx: &Context<'_, Client>,
        config: &Value,
        _limit: Option<usize>,
    ) -> Result<Vec<Listed>, Diagnostics> {
        let prefix = config.attr("name_prefix").as_str();
        Ok(databases(ctx.client, prefix)
            .await?
            .into_iter()
            .map(|db| Listed {
                display_name: db.name,
                import_id: db.id,
            })
            .collect())
    }
}

#[async_trait]
impl Lister<Client> for ChildLister {
    fn config_schema(&self) -> Schema {
        let what = match self.kind {
            Child::Credential => "users",
            Child::Index => "indexes",
            Child::IpRestriction => "IP restrictions",
        };
        let mut block = Block::new(format!(
            "Which {what} `terraform query` lists: those of every database by default."
        ))
        .attribute(
            Attribute::string("database_id")
                .optional()
                .description(format!("Only the {what} of this database (`db-…`).")),
        );
        if matches!(self.kind, Child::Index) {
            block = block.attribute(Attribute::string("collection").optional().description(
                "Only the indexes of this collection. Needed where the API lists indexes one \
                 collection at a time (all but dbaas-local).",
            ));
        }
        Schema::new(block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        for name in ["database_id", "collection"] {
            if config
                .attr(name)
                .as_str()
                .is_some_and(|v| v.trim().is_empty())
            {
                diags.attribute_error(
                    AttributePath::root().with_attr(name),
                    "Invalid List Configuration",
                    format!("`{name}` must not be empty; leave it out to list every one."),
                );
            }
        }
    }

    async fn list(
        &self,
        ctx: &Context<'_, Client>,
        config: &Value,
        limit: Option<usize>,
    ) -> Result<Vec<Listed>, Diagnostics> {
        let client = ctx.client;
        let api = &*client.api;
        let feature = match self.kind {
            Child::Credential => Feature::Credential,
            Child::Index => Feature::CollectionIndex,
            Child::IpRestriction => Feature::IpRestriction,
        };
        require(client, feature)?;
        let parents: Vec<(String, String)> = match config.attr("database_id").as_str() {
            Some(id) => {
                let db = api.get_database(id).await.map_err(|err| {
                    api_error(
                        "Error Listing",
                        &format!("database {id}"),
                        api.api_name(),
                        &err,
                        &[],
                    )
                })?;
                vec![(db.id, db.name)]
            }
            None => databases(client, None)
                .await?
                .into_iter()
                .map(|db| (db.id, db.name))
                .collect(),
        };
        let collection = config.attr("collection").as_str();
        let limit = limit.unwrap_or(usize::MAX);
        let mut found = Vec::new();
        for (database_id, database_name) in parents {
            if found.len() >= limit {
                break;
            }
            let object = format!("database {database_id}");
            let failed = |err| api_error("Error Listing", &object, api.api_name(), &err, &[]);
            match self.kind {
                Child::Credential => {
                    for user in api.list_credentials(&database_id).await.map_err(failed)? {
                        found.push(Listed {
                            display_name: format!("{} on {database_name}", user.username),
                            import_id: import_id(
                                &ids::CREDENTIAL,
                                &[&database_id, &user.username],
                            )?,
                        });
                    }
                }
                Child::IpRestriction => {
                    for restriction in api
                        .list_ip_restrictions(&database_id)
                        .await
                        .map_err(failed)?
                    {
                        found.push(Listed {
                            display_name: format!("{} on {database_name}", restriction.cidr),
                            import_id: import_id(
                                &ids::IP_RESTRICTION,
                                &[&database_id, &restriction.cidr],
                            )?,
                        });
                    }
                }
                Child::Index => {
                    for index in indexes(client, &database_id, collection).await? {
                        found.push(Listed {
                            display_name: format!(
                                "{} on {database_name}.{}",
                                index.name, index.collection
                            ),
                            import_id: import_id(
                                &ids::COLLECTION_INDEX,
                                &[&database_id, &index.collection, &index.name],
                            )?,
                        });
                    }
                }
            }
        }
        Ok(found)
    }
}

/// The import id of a listed object, through the same format its importer splits.
fn import_id(format: &ids::IdFormat, parts: &[&str]) -> Result<String, Diagnostics> {
    format.join(parts).map_err(|error| {
        Diagnostics::from_error(
            "Object Cannot Be Listed",
            format!(
                "The API listed a {} whose id cannot be written: {}.",
                format.type_name, error.problem
            ),
        )
    })
}

async fn databases(client: &Client, prefix: Option<&str>) -> Result<Vec<Database>, Diagnostics> {
    require(client, Feature::ListDatabases)?;
    let api = &*client.api;
    let mut databases = api.list_databases(prefix).await.map_err(|err| {
        api_error(
            "Error Listing Databases",
            "databases",
            api.api_name(),
            &err,
            &[],
        )
    })?;
    databases.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(databases)
}

/// The indexes of one database, `_id_` left out (never managed): of one collection, or of every
/// collection where the API lists them all at once.
async fn indexes(
    client: &Client,
    database_id: &str,
    collection: Option<&str>,
) -> Result<Vec<crate::api::Index>, Diagnostics> {
    let api = &*client.api;
    let failed = |err| {
        api_error(
            "Error Listing Indexes",
            &format!("database {database_id}"),
            api.api_name(),
            &err,
            &[],
        )
    };
    let all = match collection {
        Some(collection) => api
            .list_indexes(database_id, collection)
            .await
            .map_err(failed)?,
        None => {
            let inventory = api.inventory().await.map_err(failed)?;
            let children = inventory.and_then(|inventory| inventory.children);
            let Some(mut children) = children else {
                return Err(Diagnostics::from(
                    Diagnostic::error(
                        "Collection Needed",
                        format!(
                        "The {} API lists indexes one collection at a time: set `collection` in \
                         the list block's `config`.",
                            api.api_name()
                        ),
                    )
                    .with_path(AttributePath::root().with_attr("collection")),
                ));
            };
            children
                .remove(database_id)
                .map(|c| c.indexes)
                .unwrap_or_default()
        }
    };
    let mut indexes: Vec<_> = all
        .into_iter()
        .filter(|index| index.name != "_id_")
        .collect();
    indexes.sort_by(|a, b| (&a.collection, &a.name).cmp(&(&b.collection, &b.name)));
    Ok(indexes)
}
