//! Data sources: the API's catalog (`dbaas_capabilities`, `dbaas_plans`, `dbaas_availability`)
//! and its databases
//! (`dbaas_database`, `dbaas_databases`, the latter for database-per-client setups that look
//! their clients up by name prefix).

mod capabilities;
mod database;

use std::sync::Arc;

use super::Client;
use super::errors::api_error;
use crate::api::{self, Database, PlanInfo};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::resource::DataSource;
use crate::tfplugin::value::{Type, Value};

/// Every data source type of the provider.
pub(super) fn all() -> Vec<Arc<dyn DataSource<Client>>> {
    vec![
        Arc::new(capabilities::CapabilitiesDataSource),
        Arc::new(capabilities::PlansDataSource),
        Arc::new(capabilities::AvailabilityDataSource),
        Arc::new(capabilities::ProjectsDataSource),
        Arc::new(database::DatabaseDataSource),
        Arc::new(database::DatabasesDataSource),
    ]
}

/// The object type of a plan in lists.
fn plan_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("description", Type::String),
        ("node_count", Type::Number),
    ])
}

fn plan_value(plan: &PlanInfo) -> Value {
    Value::object([
        ("name", Value::string(&plan.name)),
        ("description", Value::string(&plan.description)),
        ("node_count", Value::number(i64::from(plan.node_count))),
    ])
}

/// The attributes of a database as data sources show them, with their types.
const DATABASE_FIELDS: [&str; 10] = [
    "id",
    "name",
    "engine",
    "version",
    "plan",
    "region",
    "description",
    "status",
    "endpoint",
    "created_at",
];

/// The node count, the one number among the fields (goaddon shows its replica set's this way).
const NODE_COUNT: &str = "node_count";

fn database_type() -> Type {
    Type::object(
        DATABASE_FIELDS
            .map(|name| (name, Type::String))
            .into_iter()
            .chain([(NODE_COUNT, Type::Number)]),
    )
}

fn database_fields(db: &Database) -> [(&'static str, Value); 11] {
    let optional = |text: &Option<String>| text.as_deref().map_or(Value::Null, Value::string);
    [
        ("id", Value::string(&db.id)),
        ("name", Value::string(&db.name)),
        ("engine", Value::string(&db.engine)),
        // Empty where the API reports none (databaselabs): null, not "".
        ("version", Value::string_or_null(&db.version)),
        ("plan", Value::string(&db.plan)),
        ("region", Value::string(&db.region)),
        ("description", optional(&db.description)),
        ("status", Value::string(&db.status.raw)),
        ("endpoint", optional(&db.endpoint)),
        ("created_at", Value::string_or_null(&db.created_at)),
        (
            NODE_COUNT,
            db.node_count
                .map_or(Value::Null, |n| Value::number(i64::from(n))),
        ),
    ]
}

fn read_error(summary: &str, what: &str, client: &Client, err: &api::Error) -> Diagnostics {
    api_error(summary, what, client.api.api_name(), err, &[])
}
