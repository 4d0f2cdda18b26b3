//! `dbaas_collection_index`: one index on one collection (MongoDB style). An index cannot be
//! altered, so every attribute replaces it. Specs are normalised (direction `asc` by default, the
//! MongoDB default name) so the same configuration never plans a change, whether the index was
//! created here or imported; the implicit `_id_` index is never managed.

use std::time::Duration;

use async_trait::async_trait;

use super::Client;
use super::creation::{
    Created, Creation, after_wait, awaiting_ready, create_once, plan_wait_if_awaiting,
};
use super::ids;
use super::listing;
use super::refresh::refreshed;
use super::removal::delete_and_wait;
use super::support::refuse_unsupported;
use super::wait::DeleteEnd;
use super::wait::until_ready;
use crate::api::{self, Feature, Found, Index, IndexDirection, IndexKey, IndexSpec};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::resource::{
    ApplyRequest, ApplyResult, Context, Identity, IdentityAttribute, Importer, Lister, PlanChange,
    PlanRules, ReadResult, Resource,
};
use crate::tfplugin::schema::{Attribute, Block, ObjectNesting, Schema};
use crate::tfplugin::timeouts::{self, TIMEOUTS_BLOCK};
use crate::tfplugin::value::{Type, Value};

const TYPE_NAME: &str = "dbaas_collection_index";
const CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const ATTRIBUTES: &[&str] = &["collection", "keys", "name", "unique", "sparse"];
const ASC: &str = "asc";
const DESC: &str = "desc";

/// Most fields in one index: MongoDB's limit on a compound index, which every API that builds
/// MongoDB indexes enforces (dbaas-local answers 400 beyond it).
const MAX_INDEX_KEYS: usize = 32;

/// Longest index name, given or derived from the keys: dbaas-local's limit (the native API and
/// the goaddon dialect share its index validation).
const MAX_INDEX_NAME_CHARS: usize = 128;

/// Longest collection name: dbaas-local's limit, for every dialect with collections.
const MAX_COLLECTION_CHARS: usize = 120;

/// The `dbaas_collection_index` resource type.
#[derive(Debug)]
pub(super) struct CollectionIndexResource;

#[async_trait]
impl Resource<Client> for CollectionIndexResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "One index on one collection. Creating the first index of a collection creates \
                 the collection. Creating waits until the index is built. An index cannot be \
                 altered: changing any attribute replaces it. The implicit `_id_` index is never \
                 managed.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .description("`<database_id>/<collection>/<name>`, also the import id."),
            )
            .attribute(
                Attribute::string("database_id")
                    .required()
                    .description("Id of the database."),
            )
            .attribute(Attribute::string("collection").required().description(
                "Collection name: 1 to 120 characters, no `$`, not starting with `system.`.",
            ))
            .attribute(
                Attribute::nested(
                    "keys",
                    ObjectNesting::List,
                    vec![
                        Attribute::string("field")
                            .required()
                            .description("Field name (dotted paths allowed, no leading `$`)."),
                        Attribute::string("direction")
                            .optional()
                            .description("`asc` (default) or `desc`."),
                    ],
                )
                .required()
                .description("The indexed fields, in order. At least one, each field once."),
            )
            .attribute(
                Attribute::bool("unique")
                    .optional()
                    .computed()
                    .description("Reject documents with duplicate keys. Default: `false`."),
            )
            .attribute(
                Attribute::bool("sparse")
                    .optional()
                    .computed()
                    .description("Index only documents that have the fields. Default: `false`."),
            )
            .attribute(Attribute::string("name").optional().computed().description(
                "Index name. Default: the MongoDB style name of the keys, such as `email_1` or \
                 `customer_id_1_created_at_-1`.",
            ))
            .attribute(
                Attribute::string("status")
                    .computed()
                    .description("Status as the API reports it, `READY` once built."),
            )
            .block(timeouts::block(&[
                ("create", CREATE_TIMEOUT),
                ("delete", DELETE_TIMEOUT),
            ])),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(collection) = config.attr("collection").as_str()
            && let Err(problem) = check_collection(collection)
        {
            diags.attribute_error(
                AttributePath::attr("collection"),
                "Invalid Collection Name",
                format!(
                    "collection = \"{collection}\" {problem}. A collection name is 1 to \
                     {MAX_COLLECTION_CHARS} characters, without `$` and not starting with \
                     `system.`."
                ),
            );
        }
        if let Some(name) = config.attr("name").as_str() {
            if name == "_id_" {
                diags.attribute_error(
                    AttributePath::attr("name"),
                    "Reserved Index Name",
                    "`_id_` is the implicit index of every collection; it is never managed. \
                     Choose another name.",
                );
            } else if name.is_empty() || name.chars().count() > MAX_INDEX_NAME_CHARS {
                diags.attribute_error(
                    AttributePath::attr("name"),
                    "Invalid Index Name",
                    format!(
                        "An index name is 1 to {MAX_INDEX_NAME_CHARS} characters; leave it out \
                         for the default."
                    ),
                );
            }
        }
        let keys = config.attr("keys");
        let Some(keys) = keys.as_list() else { return };
        if keys.is_empty() {
            diags.attribute_error(
                AttributePath::attr("keys"),
                "Empty Index",
                "keys needs at least one `{ field = \"…\" }`.",
            );
        }
        if keys.len() > MAX_INDEX_KEYS {
            diags.attribute_error(
                AttributePath::attr("keys"),
                "Too Many Index Fields",
                format!(
                    "keys lists {} fields; a MongoDB index has at most {MAX_INDEX_KEYS}. Index \
                     fewer fields, or split the index.",
                    keys.len()
                ),
            );
        }
        if config.attr("name").is_null()
            && let Some(known) = index_keys(config.attr("keys"))
        {
            let derived = default_name(&known).chars().count();
            if derived > MAX_INDEX_NAME_CHARS {
                // At the keys, the line that made the name: `name` is not in the config.
                diags.attribute_error(
                    AttributePath::attr("keys"),
                    "Index Name Needed",
                    format!(
                        "The default name of this index (its fields and directions joined) \
                         would be {derived} characters; the API allows at most \
                         {MAX_INDEX_NAME_CHARS}. Set name."
                    ),
                );
            }
        }
        let mut seen = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let path = AttributePath::attr("keys").with_index(index as i64);
            if let Some(field) = key.attr("field").as_str() {
                if field.is_empty() || field.starts_with('$') {
                    diags.attribute_error(
                        path.with_attr("field"),
                        "Invalid Index Field",
                        format!(
                            "\"{field}\" is not a field name: it must be non-empty and not start \
                             with `$`."
                        ),
                    );
                } else if seen.contains(&field) {
                    diags.attribute_error(
                        path.with_attr("field"),
                        "Duplicate Index Field",
                        format!("\"{field}\" appears twice in keys; each field may appear once."),
                    );
                }
                seen.push(field);
            }
            if let Some(direction) = key.attr("direction").as_str()
                && direction != ASC
                && direction != DESC
            {
                diags.attribute_error(
                    path.with_attr("direction"),
                    "Invalid Index Direction",
                    format!("direction = \"{direction}\"; use \"asc\" or \"desc\"."),
                );
            }
        }
        if seen == ["_id"] {
            diags.attribute_error(
                AttributePath::attr("keys"),
                "Implicit Index",
                "An index on `_id` alone is the implicit `_id_` index every collection has; it \
                 is never managed.",
            );
        }
    }

    fn plan_rules(&self) -> PlanRules {
        PlanRules {
            requires_replace: &[
                "database_id",
                "collection",
                "keys",
                "unique",
                "sparse",
                "name",
            ],
            volatile_on_update: &[],
            defaults: vec![
                ("unique", Value::Bool(false)),
                ("sparse", Value::Bool(false)),
            ],
        }
    }

    /// Keeps the prior spelling of equivalent keys (an omitted direction is `asc`) and plans the
    /// default name, so that the same index never plans a replacement.
    async fn modify_plan(
        &self,
        ctx: &Context<'_, Client>,
        plan: &mut PlanChange<'_>,
        diags: &mut Diagnostics,
    ) {
        plan_wait_if_awaiting(ctx, plan);
        refuse_unsupported(ctx.client, plan.config, &[Feature::CollectionIndex], diags);
        if !plan.is_create() && same_keys(plan.planned.attr("keys"), plan.prior.attr("keys")) {
            plan.planned
                .set_attr("keys", plan.prior.attr("keys").clone());
        }
        if plan.config.attr("name").is_null()
            && let Some(keys) = index_keys(plan.planned.attr("keys"))
        {
            plan.planned
                .set_attr("name", Value::string(default_name(&keys)));
        }
        if plan.is_create() {
            let id = ids::COLLECTION_INDEX.planned_id(&[
                plan.planned.attr("database_id"),
                plan.planned.attr("collection"),
                plan.planned.attr("name"),
            ]);
            plan.planned.set_attr("id", id);
        }
    }

    async fn create(&self, ctx: &Context<'_, Client>, request: ApplyRequest<'_>) -> ApplyResult {
        let planned = request.planned;
        let (database_id, collection) = location(planned);
        let keys = index_keys(planned.attr("keys")).unwrap_or_default();
        let spec = IndexSpec {
            name: planned.attr("name").as_str().map(str::to_string),
            keys,
            unique: planned.attr("unique").as_bool().unwrap_or(false),
            sparse: planned.attr("sparse").as_bool().unwrap_or(false),
        };
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| default_name(&spec.keys));
        let object = format!("index \"{name}\" on {collection} in database {database_id}");
        let api = &ctx.client.api;
        let timeout = timeouts::get(planned, "create", CREATE_TIMEOUT);
        let policy = ctx.client.wait_policy(timeout);
        let creation = Creation {
            what: &object,
            summary: "Error Creating Index",
            resend_safe: true,
            adopt_on_conflict: true,
            import_hint: format!(
                "terraform import <address of this {TYPE_NAME}> {database_id}/{collection}/{name}"
            ),
            attributes: ATTRIBUTES,
            on_conflict: None,
        };
        let created = create_once(
            ctx,
            &creation,
            &policy,
            || api.create_index(&database_id, &collection, &spec),
            || async {
                Ok(
                    match api.get_index(&database_id, &collection, &name).await {
                        Ok(existing)
                            if existing.keys == spec.keys
                                && existing.unique == spec.unique
                                && existing.sparse == spec.sparse =>
                        {
                            Found::Matching(existing)
                        }
                        Ok(existing) => Found::Different(format!(
                            "its keys are {}, unique {}, sparse {}",
                            default_name(&existing.keys),
                            existing.unique,
                            existing.sparse
                        )),
                        Err(err) if err.is_not_found() => Found::Absent,
                        Err(err) => return Err(err),
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
            index_status,
            Some(&created),
            |hold| api.get_index_held(&database_id, &collection, &created.name, hold),
        )
        .await;
        after_wait(
            ctx,
            &object,
            "Error Waiting For Index",
            waited,
            state_of(&created, planned),
            |index| state_of(index, planned),
            diags,
        )
    }

    async fn read(&self, ctx: &Context<'_, Client>, state: &Value) -> ReadResult {
        let (database_id, collection) = location(state);
        let name = state.attr("name").as_str().unwrap_or_default().to_string();
        let client = ctx.client;
        refreshed(
            ctx,
            client
                .refresh
                .index(&*client.api, &database_id, &collection, &name)
                .await,
            index_status,
            "Error Reading Index",
            &format!("index \"{name}\" on {collection} in database {database_id}"),
            ATTRIBUTES,
            |index| state_of(index, state),
        )
    }

    /// Every attribute replaces the index; only the timeouts can change in place.
    async fn update(&self, ctx: &Context<'_, Client>, request: ApplyRequest<'_>) -> ApplyResult {
        let mut state = request.prior.clone();
        state.set_attr(TIMEOUTS_BLOCK, request.planned.attr(TIMEOUTS_BLOCK).clone());
        if !awaiting_ready(ctx) {
            return ApplyResult::ok(state);
        }
        // The last run stopped before the index was built: wait for it now.
        let (database_id, collection) = location(&state);
        let name = state.attr("name").as_str().unwrap_or_default().to_string();
        let object = format!("index \"{name}\" on {collection} in database {database_id}");
        let api = &ctx.client.api;
        let policy =
            ctx.client
                .wait_policy(timeouts::get(request.planned, "create", CREATE_TIMEOUT));
        let waited = until_ready(&object, &policy, ctx.cancel, index_status, None, |hold| {
            api.get_index_held(&database_id, &collection, &name, hold)
        })
        .await;
        after_wait(
            ctx,
            &object,
            "Error Waiting For Index",
            waited,
            state.clone(),
            |index| state_of(index, &state),
            Diagnostics::default(),
        )
    }

    async fn delete(&self, ctx: &Context<'_, Client>, prior: &Value) -> Diagnostics {
        let (database_id, collection) = location(prior);
        let name = prior.attr("name").as_str().unwrap_or_default().to_string();
        let api = &ctx.client.api;
        delete_and_wait(
            ctx,
            "Error Deleting Index",
            &format!("index \"{name}\" on {collection} in database {database_id}"),
            timeouts::get(prior, "delete", DELETE_TIMEOUT),
            DeleteEnd::Gone,
            index_status,
            || api.delete_index(&database_id, &collection, &name),
            || api.get_index(&database_id, &collection, &name),
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
        Some(&listing::INDEXES)
    }
}

impl Importer for CollectionIndexResource {
    fn import_state(&self, id: &str) -> Result<Value, Diagnostics> {
        let parts = ids::COLLECTION_INDEX.split_import_id(id)?;
        Ok(Value::object([
            ("id", Value::string(id.trim())),
            ("database_id", Value::string(&parts[0])),
            ("collection", Value::string(&parts[1])),
            ("name", Value::string(&parts[2])),
        ]))
    }
}

impl Identity for CollectionIndexResource {
    fn attributes(&self) -> Vec<IdentityAttribute> {
        vec![
            IdentityAttribute {
                name: "database_id",
                ty: Type::String,
                description: "Id of the database.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "collection",
                ty: Type::String,
                description: "Collection name.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "name",
                ty: Type::String,
                description: "Index name.",
                required_for_import: true,
            },
        ]
    }

    fn identity_of(&self, state: &Value) -> Option<Value> {
        Some(Value::object([
            (
                "database_id",
                Value::string(state.attr("database_id").as_str()?),
            ),
            (
                "collection",
                Value::string(state.attr("collection").as_str()?),
            ),
            ("name", Value::string(state.attr("name").as_str()?)),
        ]))
    }

    fn import_id(&self, identity: &Value) -> Result<String, Diagnostics> {
        ids::COLLECTION_INDEX.identity_import_id(identity, &["database_id", "collection", "name"])
    }
}

fn index_status(index: &Index) -> &api::Status {
    &index.status
}

/// The state of an index. Keys keep `base`'s spelling where it means the same (an omitted
/// direction is `asc`), so an unchanged index never shows a diff.
fn state_of(index: &Index, base: &Value) -> Value {
    let api_keys = Value::list(index.keys.iter().map(|key| {
        Value::object([
            ("field", Value::string(&key.field)),
            ("direction", Value::string(direction_name(key.direction))),
        ])
    }));
    let keys = if same_keys(base.attr("keys"), &api_keys) {
        base.attr("keys").clone()
    } else {
        api_keys
    };
    Value::object([
        (
            "id",
            Value::string(format!(
                "{}/{}/{}",
                index.database_id, index.collection, index.name
            )),
        ),
        ("database_id", Value::string(&index.database_id)),
        ("collection", Value::string(&index.collection)),
        ("keys", keys),
        ("unique", Value::Bool(index.unique)),
        ("sparse", Value::Bool(index.sparse)),
        ("name", Value::string(&index.name)),
        ("status", Value::string(&index.status.raw)),
        (TIMEOUTS_BLOCK, base.attr(TIMEOUTS_BLOCK).clone()),
    ])
}

/// The keys of a `keys` value, when it is wholly known.
fn index_keys(keys: &Value) -> Option<Vec<IndexKey>> {
    keys.as_list()?
        .iter()
        .map(|key| {
            let field = key.attr("field").as_str()?.to_string();
            let direction = match key.attr("direction") {
                Value::Null => IndexDirection::Ascending,
                Value::String(d) if d == DESC => IndexDirection::Descending,
                Value::String(_) => IndexDirection::Ascending,
                _ => return None,
            };
            Some(IndexKey { field, direction })
        })
        .collect()
}

/// Two `keys` values name the same fields in the same order with the same directions.
fn same_keys(a: &Value, b: &Value) -> bool {
    match (index_keys(a), index_keys(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// MongoDB's default index name: `field_1` / `field_-1`, joined with `_`.
fn default_name(keys: &[IndexKey]) -> String {
    keys.iter()
        .map(|key| {
            let direction = match key.direction {
                IndexDirection::Ascending => 1,
                IndexDirection::Descending => -1,
            };
            format!("{}_{direction}", key.field)
        })
        .collect::<Vec<_>>()
        .join("_")
}

fn direction_name(direction: IndexDirection) -> &'static str {
    match direction {
        IndexDirection::Ascending => ASC,
        IndexDirection::Descending => DESC,
    }
}

fn location(value: &Value) -> (String, String) {
    (
        value
            .attr("database_id")
            .as_str()
            .unwrap_or_default()
            .to_string(),
        value
            .attr("collection")
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn check_collection(collection: &str) -> Result<(), String> {
    let length = collection.chars().count();
    if !(1..=MAX_COLLECTION_CHARS).contains(&length) {
        return Err(format!("has {length} characters"));
    }
    if collection.contains('$') || collection.contains('\0') {
        return Err("contains `$` or a NUL character".into());
    }
    if collection.starts_with("system.") {
        return Err("starts with `system.`, which is reserved".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(field: &str, direction: Option<&str>) -> Value {
        Value::object([
            ("field", Value::string(field)),
            ("direction", direction.map_or(Value::Null, Value::string)),
        ])
    }

    #[test]
    fn index_default_name_is_mongodb_style() {
        let keys = index_keys(&Value::list([
            key("customer_id", None),
            key("created_at", Some("desc")),
        ]));
        assert_eq!(default_name(&keys.unwrap()), "customer_id_1_created_at_-1");
    }

    #[test]
    fn index_omitted_direction_equals_asc_but_order_matters() {
        let written = Value::list([key("a", None), key("b", Some("desc"))]);
        let imported = Value::list([key("a", Some("asc")), key("b", Some("desc"))]);
        let reordered = Value::list([key("b", Some("desc")), key("a", Some("asc"))]);
        assert!(same_keys(&written, &imported));
        assert!(!same_keys(&written, &reordered));
    }

    #[test]
    fn index_validation_names_each_bad_key() {
        let config = Value::object([
            ("collection", Value::string("orders")),
            (
                "keys",
                Value::list([key("a", Some("up")), key("a", None), key("$b", None)]),
            ),
        ]);
        let mut diags = Diagnostics::default();
        CollectionIndexResource.validate(&config, &mut diags);
        let paths: Vec<String> = diags
            .iter()
            .map(|d| d.path.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(
            paths,
            vec!["keys[0].direction", "keys[1].field", "keys[2].field"]
        );
    }

    fn validated(config: Value) -> Vec<(String, String)> {
        let mut diags = Diagnostics::default();
        CollectionIndexResource.validate(&config, &mut diags);
        diags
            .iter()
            .map(|d| (d.path.as_ref().unwrap().to_string(), d.detail.clone()))
            .collect()
    }

    #[test]
    fn index_validation_refuses_more_fields_than_mongodb_allows() {
        let keys = |count: usize| {
            Value::list(
                (0..count)
                    .map(|n| key(&format!("f{n}"), None))
                    .collect::<Vec<_>>(),
            )
        };
        let config = |count| {
            Value::object([
                ("collection", Value::string("orders")),
                ("name", Value::string("wide")),
                ("keys", keys(count)),
            ])
        };
        assert_eq!(validated(config(MAX_INDEX_KEYS)), vec![]);
        let refused = validated(config(MAX_INDEX_KEYS + 1));
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].0, "keys");
        assert!(refused[0].1.contains("33 fields"), "{refused:?}");
        assert!(refused[0].1.contains("at most 32"), "{refused:?}");
    }

    #[test]
    fn index_validation_asks_for_a_name_when_the_default_is_too_long() {
        // `a…_1_b…_1`: 71 + 2 + 1 + 71 + 2 characters.
        let field = "f".repeat(70);
        let keys = Value::list([
            key(&format!("a{field}"), None),
            key(&format!("b{field}"), None),
        ]);
        let unnamed = Value::object([
            ("collection", Value::string("orders")),
            ("name", Value::Null),
            ("keys", keys.clone()),
        ]);
        let refused = validated(unnamed);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].0, "keys");
        assert!(
            refused[0].1.contains("would be 147 characters"),
            "{refused:?}"
        );
        let named = Value::object([
            ("collection", Value::string("orders")),
            ("name", Value::string("short")),
            ("keys", keys),
        ]);
        assert_eq!(validated(named), vec![]);
    }

    #[test]
    fn index_schema_passes_terraform_checks() {
        CollectionIndexResource
            .schema()
            .block
            .validate_internal()
            .expect("schema");
    }
}
