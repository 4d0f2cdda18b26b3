//! OVH's models (schema 2024-06-07, and 2021-10-08 for the legacy `/ipRestriction` ones), built
//! from the service's objects, and OVH's names for what the catalog calls otherwise.
//!
//! Choices where OVH's facts leave room:
//! - Regions: the store's regions are shown under OVH region names, one each:
//!   `eu-west-1` ↔ `GRA`, `eu-central-1` ↔ `DE`, `us-east-1` ↔ `US-EAST-VA` (requests may use
//!   any letter case). Plans, flavors, engines and versions keep the catalog's names, which are
//!   OVH's (`essential`/`business`/`enterprise`, `db1-4`…, `mongodb` `6.0`…).
//! - A service's `description` is the database's description, or its name when it has none (a
//!   database made through `/v1` shows its name to OVH clients). Services created here get the
//!   description as their name when it is a valid, free native name (`ovh-` and random hex
//!   otherwise), so both APIs show the same thing.
//! - Status: the store's status, with the administrator's lock shown OVH's way: `LOCKED`
//!   (ready), `LOCKED_UPDATING` (updating), `LOCKED_PENDING` (creating). A failed service,
//!   user or IP restriction (a lifecycle fault) is `ERROR`, locked or not.
//! - Nodes are the database's `node_count`, with ids derived from its UUID (UUIDv5 of
//!   `node-<n>`), so they are stable without being stored.
//! - Endpoints: one `mongodb` endpoint on `<name>.<ovh region, lower case>.dbaas.local` (e.g.
//!   `orders.gra.dbaas.local`; the native API says `eu-west-1` there), no credentials in its
//!   `uri`, no TLS (`ssl` false).
//! - Backup and maintenance times, disk and storage are shown (from the flavor) but not stored:
//!   writes of them are accepted and ignored.

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::local::catalog::{CATALOG, Engine};
use crate::local::model::{Credential, Database, IpRestriction, Status};

/// Store region ↔ OVH region name.
pub(crate) const REGIONS: &[(&str, &str)] = &[
    ("eu-west-1", "GRA"),
    ("eu-central-1", "DE"),
    ("us-east-1", "US-EAST-VA"),
];

/// Authentication database shown after user names (`name@admin`), as OVH does for MongoDB.
pub(crate) const AUTH_DATABASE: &str = "admin";

/// Storage type shown for every flavor.
const STORAGE_TYPE: &str = "high-speed";

/// Release date shown for every offer (the catalog does not date its offers).
const START_DATE: &str = "2024-01-01";

/// Daily backup time shown (backups are not emulated).
const BACKUP_TIME: &str = "03:00:00";

/// Daily maintenance time shown (maintenances are not emulated).
const MAINTENANCE_TIME: &str = "04:00:00";

/// The OVH name of a store region (the store's name upper-cased if it has no mapping).
pub(crate) fn ovh_region(store_region: &str) -> String {
    REGIONS
        .iter()
        .find(|(store, _)| *store == store_region)
        .map_or_else(
            || store_region.to_ascii_uppercase(),
            |(_, ovh)| (*ovh).to_owned(),
        )
}

/// The store region an OVH region name means, in any letter case.
pub(crate) fn store_region(ovh_region: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(_, ovh)| ovh.eq_ignore_ascii_case(ovh_region))
        .map(|(store, _)| *store)
}

/// OVH `datetime`: RFC 3339 with the offset spelled out, as OVH writes it.
pub(crate) fn datetime(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The `StatusEnum` value of a database.
pub(crate) fn service_status(database: &Database) -> &'static str {
    match (database.status, database.locked) {
        (Status::Ready, true) => "LOCKED",
        (Status::Updating, true) => "LOCKED_UPDATING",
        (Status::Creating | Status::Building, true) => "LOCKED_PENDING",
        (status, _) => child_status(status),
    }
}

/// The `StatusEnum` value of a user, node or IP restriction.
pub(crate) fn child_status(status: Status) -> &'static str {
    match status {
        Status::Creating | Status::Building => "CREATING",
        Status::Updating => "UPDATING",
        Status::Ready => "READY",
        Status::Deleting => "DELETING",
        Status::Error => "ERROR",
    }
}

/// What an OVH client sees as the service's description.
pub(crate) fn service_description(database: &Database) -> &str {
    database.description.as_deref().unwrap_or(&database.name)
}

/// Storage of one node of the database's flavor, in GB.
fn storage_gb(database: &Database) -> u32 {
    CATALOG
        .flavor(&database.flavor)
        .map_or(0, |flavor| flavor.storage_gb)
}

/// Backup retention of a plan, in days (shown, not emulated).
fn retention_days(plan: &str) -> u32 {
    match plan {
        "essential" => 2,
        "business" => 14,
        _ => 30,
    }
}

/// The stable id of the database's node number `index` (from 1): UUIDv5 of `node-<index>` in
/// the database's UUID as namespace.
pub(crate) fn node_id(database: &Database, index: u32) -> String {
    let namespace = uuid::Uuid::parse_str(&database.uuid).unwrap_or_default();
    let mut input = namespace.as_bytes().to_vec();
    input.extend_from_slice(format!("node-{index}").as_bytes());
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// `cloud.project.database.service.Node` number `index` (from 1).
pub(crate) fn node(database: &Database, index: u32) -> Value {
    let port = CATALOG
        .engine(&database.engine)
        .map_or(0, |engine| engine.port);
    json!({
        "createdAt": datetime(database.created_at),
        "flavor": database.flavor,
        "id": node_id(database, index),
        "name": format!("{}-node-{index}", database.name),
        "port": port,
        "region": ovh_region(&database.region),
        "role": "STANDARD",
        "status": service_status(database),
    })
}

/// `cloud.project.database.service.IpRestriction` (2024; also the legacy model's fields).
pub(crate) fn ip_restriction(restriction: &IpRestriction) -> Value {
    json!({
        "description": restriction.description.as_deref().unwrap_or_default(),
        "ip": restriction.cidr,
        "status": child_status(restriction.status),
    })
}

/// `cloud.project.database.Service`.
pub(crate) fn service(database: &Database, restrictions: &[IpRestriction]) -> Value {
    let region = ovh_region(&database.region);
    let storage = storage_gb(database);
    let changeable = if database.locked {
        "disabled"
    } else {
        "enabled"
    };
    let all =
        |state: &str| json!({"create": state, "delete": state, "read": "enabled", "update": state});
    // Hosts name the region as OVH spells it in its hostnames (`gra`), not the store's.
    let domain = format!(
        "{}.{}.dbaas.local",
        database.name,
        region.to_ascii_lowercase()
    );
    let port = CATALOG
        .engine(&database.engine)
        .map_or(0, |engine| engine.port);
    json!({
        "id": database.uuid,
        "createdAt": datetime(database.created_at),
        "description": service_description(database),
        "engine": database.engine,
        "category": "operational",
        "plan": database.plan,
        "version": database.version,
        "flavor": database.flavor,
        "nodeNumber": database.node_count,
        "region": region,
        "status": service_status(database),
        "networkType": "public",
        "networkId": null,
        "subnetId": null,
        "endpoints": [{
            "component": database.engine,
            "domain": domain,
            "path": format!("/{}", database.name),
            "port": port,
            "scheme": database.engine,
            "ssl": false,
            "sslMode": null,
            "uri": format!("{}://{domain}:{port}/{}", database.engine, database.name),
        }],
        "ipRestrictions": restrictions.iter().map(ip_restriction).collect::<Vec<_>>(),
        "nodes": (1..=database.node_count).map(|index| node(database, index)).collect::<Vec<_>>(),
        "capabilities": {
            "service": all(changeable),
            "users": all(changeable),
            "userCredentialsReset": {"create": changeable, "delete": null, "read": null, "update": null},
            "ipRestrictions": all(changeable),
            "nodes": {"create": "disabled", "delete": "disabled", "read": "enabled", "update": "disabled"},
        },
        "backupTime": BACKUP_TIME,
        "backups": {
            "pitr": null,
            "regions": [region],
            "retentionDays": retention_days(&database.plan),
            "time": BACKUP_TIME,
        },
        "maintenanceTime": MAINTENANCE_TIME,
        "disk": {"size": storage, "type": STORAGE_TYPE},
        "storage": {"size": {"unit": "GB", "value": storage}, "type": STORAGE_TYPE},
    })
}

/// A user's OVH name: `<name>@admin`.
pub(crate) fn username(credential: &Credential) -> String {
    format!("{}@{AUTH_DATABASE}", credential.username)
}

/// `cloud.project.database.service.UserWithRoles`, or `UserWithPasswordAndRoles` when a
/// password is given (create and reset replies only).
pub(crate) fn user(credential: &Credential, password: Option<&SecretString>) -> Value {
    let mut body = json!({
        "createdAt": datetime(credential.created_at),
        "id": credential.uuid,
        "roles": credential.roles,
        "status": child_status(credential.status),
        "username": username(credential),
    });
    if let (Some(password), Some(object)) = (password, body.as_object_mut()) {
        object.insert(
            "password".to_owned(),
            Value::String(password.expose_secret().to_owned()),
        );
    }
    body
}

fn lifecycle() -> Value {
    json!({"endOfLife": null, "endOfSale": null, "startDate": START_DATE, "status": "STABLE"})
}

fn engine_description(engine: &Engine) -> String {
    match engine.name {
        "mongodb" => "Document database (MongoDB)".to_owned(),
        "postgresql" => "Relational database (PostgreSQL)".to_owned(),
        "mysql" => "Relational database (MySQL)".to_owned(),
        other => other.to_owned(),
    }
}

/// `cloud.project.database.Capabilities`, from the catalog.
pub(crate) fn capabilities() -> Value {
    json!({
        "disks": [STORAGE_TYPE],
        "engines": CATALOG.engines.iter().map(|engine| json!({
            "category": "operational",
            "defaultVersion": engine.default_version,
            "description": engine_description(engine),
            "name": engine.name,
            "sslModes": ["disable"],
            "storage": "replicated",
            "versions": engine.versions,
        })).collect::<Vec<_>>(),
        "flavors": CATALOG.flavors.iter().enumerate().map(|(order, flavor)| json!({
            "core": flavor.cores,
            "lifecycle": lifecycle(),
            "memory": flavor.memory_gb,
            "name": flavor.name,
            "order": order,
            "specifications": {
                "core": flavor.cores,
                "memory": {"unit": "GB", "value": flavor.memory_gb},
                "storage": {"unit": "GB", "value": flavor.storage_gb},
            },
            "storage": flavor.storage_gb,
            "tags": [],
        })).collect::<Vec<_>>(),
        "options": [],
        "plans": CATALOG.plans.iter().enumerate().map(|(order, plan)| json!({
            "backupRetention": format!("P{}D", retention_days(plan.name)),
            "description": plan.description,
            "lifecycle": lifecycle(),
            "name": plan.name,
            "order": order,
            "tags": [],
        })).collect::<Vec<_>>(),
        "regions": REGIONS.iter().map(|(_, ovh)| *ovh).collect::<Vec<_>>(),
    })
}

/// `cloud.project.database.Availability[]`: every engine version × plan × flavor × region of
/// the catalog (public network), optionally for one engine only.
pub(crate) fn availability(engine_filter: Option<&str>) -> Vec<Value> {
    let mut entries = Vec::new();
    let default_flavor = CATALOG.default_flavor().name;
    for engine in CATALOG.engines {
        if engine_filter.is_some_and(|wanted| wanted != engine.name) {
            continue;
        }
        for version in engine.versions {
            for plan in CATALOG.plans {
                for flavor in CATALOG.flavors {
                    for region in CATALOG.regions {
                        let is_default = engine.name == CATALOG.defaults.engine
                            && *version == engine.default_version
                            && plan.name == CATALOG.defaults.plan
                            && flavor.name == default_flavor
                            && region.name == CATALOG.defaults.region;
                        let days = retention_days(plan.name);
                        let storage = json!({"unit": "GB", "value": flavor.storage_gb});
                        entries.push(json!({
                            "engine": engine.name,
                            "version": version,
                            "plan": plan.name,
                            "flavor": flavor.name,
                            "region": ovh_region(region.name),
                            "network": "public",
                            "category": "operational",
                            "default": is_default,
                            "minNodeNumber": plan.min_node_count,
                            "maxNodeNumber": plan.max_node_count,
                            "minDiskSize": flavor.storage_gb,
                            "maxDiskSize": flavor.storage_gb,
                            "stepDiskSize": 0,
                            "backup": "automatic",
                            "backupRetentionDays": days,
                            "backups": {"available": true, "retentionDays": days},
                            "startDate": START_DATE,
                            "endOfLife": null,
                            "upstreamEndOfLife": null,
                            "status": "STABLE",
                            "lifecycle": lifecycle(),
                            "specifications": {
                                "flavor": flavor.name,
                                "network": "public",
                                "nodes": {
                                    "minimum": plan.min_node_count,
                                    "maximum": plan.max_node_count,
                                },
                                "storage": {"minimum": storage, "maximum": storage, "step": null},
                            },
                        }));
                    }
                }
            }
        }
    }
    entries
}

/// The roles `GET …/roles` lists: every role a user may be given, on the `admin` database
/// (other databases are accepted for the per-database roles: `readWrite@shop`).
pub(crate) fn roles() -> Vec<String> {
    crate::local::validation::ROLES
        .iter()
        .map(|role| format!("{role}@{AUTH_DATABASE}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_every_catalog_region_both_ways() {
        for region in CATALOG.regions {
            let ovh = ovh_region(region.name);
            assert_eq!(store_region(&ovh), Some(region.name));
            assert_eq!(store_region(&ovh.to_ascii_lowercase()), Some(region.name));
        }
        assert_eq!(ovh_region("eu-west-1"), "GRA");
        assert_eq!(store_region("SBG"), None);
    }

    #[test]
    fn availability_is_consistent_with_capabilities() {
        let capabilities = capabilities();
        let entries = availability(None);
        let offered = |list: &str, field: &str, value: &Value| {
            capabilities[list].as_array().unwrap().iter().any(|item| {
                if field.is_empty() {
                    item == value
                } else {
                    &item[field] == value
                }
            })
        };
        for entry in &entries {
            assert!(offered("plans", "name", &entry["plan"]), "{entry}");
            assert!(offered("flavors", "name", &entry["flavor"]), "{entry}");
            assert!(offered("regions", "", &entry["region"]), "{entry}");
            let engine = capabilities["engines"]
                .as_array()
                .unwrap()
                .iter()
                .find(|engine| engine["name"] == entry["engine"])
                .unwrap();
            assert!(
                engine["versions"]
                    .as_array()
                    .unwrap()
                    .contains(&entry["version"])
            );
        }
        assert_eq!(
            entries
                .iter()
                .filter(|entry| entry["default"] == true)
                .count(),
            1
        );
        let mongodb = availability(Some("mongodb"));
        assert_eq!(mongodb.len(), 3 * 3 * 3 * 3);
        let essential = mongodb
            .iter()
            .find(|entry| entry["plan"] == "essential")
            .unwrap();
        assert_eq!(
            (
                essential["minNodeNumber"].as_u64(),
                essential["maxNodeNumber"].as_u64()
            ),
            (Some(1), Some(1))
        );
        let business = mongodb
            .iter()
            .find(|entry| entry["plan"] == "business")
            .unwrap();
        assert_eq!(
            (
                business["minNodeNumber"].as_u64(),
                business["maxNodeNumber"].as_u64()
            ),
            (Some(3), Some(8))
        );
    }

    #[test]
    fn node_ids_are_stable_distinct_uuids() {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let database = Database {
            id: "db-000000000001".into(),
            uuid: "5b8a4ad4-7d3f-4b43-9a0e-2f3d2c1b0a99".into(),
            name: "orders".into(),
            engine: "mongodb".into(),
            version: "8.0".into(),
            plan: "business".into(),
            region: "eu-west-1".into(),
            flavor: "db1-7".into(),
            node_count: 3,
            description: None,
            locked: true,
            status: Status::Ready,
            status_message: None,
            created_at: at,
            updated_at: at,
            transition_at: None,
            gone_at: None,
            fails_with: None,
            served_at: None,
        };
        let ids: Vec<String> = (1..=3).map(|index| node_id(&database, index)).collect();
        assert_eq!(ids[0], node_id(&database, 1));
        assert_ne!(ids[0], ids[1]);
        for id in &ids {
            assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 5);
        }
        let body = service(&database, &[]);
        assert_eq!(body["status"], "LOCKED");
        assert_eq!(body["description"], "orders");
        assert_eq!(body["region"], "GRA");
        assert_eq!(body["nodes"].as_array().unwrap().len(), 3);
        // The host names the region as OVH does, not as the native API does.
        assert_eq!(body["endpoints"][0]["domain"], "orders.gra.dbaas.local");
        assert_eq!(
            body["endpoints"][0]["uri"],
            "mongodb://orders.gra.dbaas.local:27017/orders"
        );
        assert_eq!(body["createdAt"], "2027-01-15T08:00:00+00:00");
    }
}
