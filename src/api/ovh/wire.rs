//! OVH's JSON shapes (schema `cloud.project.database.*`, 2021-10 to 2024-06) and their mapping
//! to the domain types, the request bodies the client sends, and the error mapping.
//!
//! Replies are read leniently (every field optional where the 2021 and 2024 schemas differ);
//! request bodies carry only writable fields, in the shapes the schema names.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::http::{ApiResponse, error_for_status, error_message_from_body, status_reason};
use crate::api::{
    Availability, Capabilities, Credential, Database, DatabaseChanges, Defaults, EngineInfo, Error,
    FlavorInfo, IpRestriction, Phase, PlanInfo, RegionInfo, Status,
};
use crate::cidr::Cidr;

/// The only engine this client manages.
pub(crate) const ENGINE: &str = "mongodb";

/// OVH names MongoDB users `name@admin` (the authentication database).
const AUTH_DATABASE_SUFFIX: &str = "@admin";

/// Maps OVH's `cloud.project.database.StatusEnum` to a phase. Unknown values are pending,
/// never failed (a new transitional status must not fail a wait).
pub(crate) fn phase_of(raw: &str) -> Phase {
    match raw {
        "READY" => Phase::Ready,
        "DELETING" => Phase::Deleting,
        "ERROR" | "ERROR_INCONSISTENT_SPEC" => Phase::Failed,
        // PENDING, CREATING, UPDATING, LOCKED, LOCKED_PENDING, LOCKED_UPDATING, and new ones.
        _ => Phase::Pending,
    }
}

fn status_of(raw: &str) -> Status {
    Status {
        phase: phase_of(raw),
        raw: raw.to_owned(),
        message: None,
    }
}

/// The domain user name of an OVH user name: `app@admin` → `app`.
pub(crate) fn domain_username(ovh_username: &str) -> &str {
    ovh_username
        .strip_suffix(AUTH_DATABASE_SUFFIX)
        .unwrap_or(ovh_username)
}

/// Whether an OVH user (`app@admin`) is the domain user `username` (`app`, or the full
/// `app@admin` when the caller used OVH's spelling).
pub(crate) fn is_user(ovh_username: &str, username: &str) -> bool {
    ovh_username == username || domain_username(ovh_username) == username
}

/// An IP block in one spelling (see [`crate::cidr`]): a bare address gets `/32` or `/128`, IPv6
/// is compressed. Host bits are left alone (OVH decides whether it accepts them).
pub(crate) fn canonical_cidr(text: &str) -> Result<String, Error> {
    Cidr::parse(text)
        .map(|block| block.to_string())
        .map_err(|error| Error::Invalid {
            field: Some("cidr".to_owned()),
            message: error.to_string(),
        })
}

/// Whether two IP blocks are the same (compared canonically when both parse).
pub(crate) fn same_cidr(left: &str, right: &str) -> bool {
    match (canonical_cidr(left), canonical_cidr(right)) {
        (Ok(left), Ok(right)) => left == right,
        _ => left == right,
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies.

/// `POST P/mongodb` (`cloud.project.database.ServiceCreation`).
pub(crate) fn service_creation_body(
    name: &str,
    plan: &str,
    version: &str,
    flavor: &str,
    node_count: u32,
    region: &str,
) -> Value {
    json!({
        "description": name,
        "plan": plan,
        "version": version,
        "nodesPattern": {"flavor": flavor, "number": node_count, "region": region},
    })
}

/// `PUT P/mongodb/{id}` (`cloud.project.database.Service`, writable fields only): only what
/// changes, so an untouched setting is never re-sent.
pub(crate) fn service_update_body(changes: &DatabaseChanges) -> Value {
    let mut body = Map::new();
    if let Some(plan) = &changes.plan {
        body.insert("plan".into(), Value::String(plan.clone()));
    }
    if let Some(version) = &changes.version {
        body.insert("version".into(), Value::String(version.clone()));
    }
    if let Some(flavor) = &changes.flavor {
        body.insert("flavor".into(), Value::String(flavor.clone()));
    }
    if let Some(count) = changes.node_count {
        body.insert("nodeNumber".into(), Value::from(count));
    }
    Value::Object(body)
}

/// `PUT P/mongodb/{id}` with the whole `ipRestrictions` list (it replaces the set).
pub(crate) fn ip_restrictions_update_body(entries: &[WireIpRestriction]) -> Value {
    let list = entries
        .iter()
        .map(|entry| {
            let mut item = Map::new();
            item.insert("ip".into(), Value::String(entry.ip.clone()));
            if let Some(description) = entry.description.as_deref().filter(|d| !d.is_empty()) {
                item.insert("description".into(), Value::String(description.to_owned()));
            }
            Value::Object(item)
        })
        .collect();
    json!({ "ipRestrictions": Value::Array(list) })
}

/// `POST …/ipRestriction` (`cloud.project.database.IpRestrictionCreation`).
pub(crate) fn ip_restriction_creation_body(cidr: &str, description: Option<&str>) -> Value {
    let mut body = Map::new();
    body.insert("ip".into(), Value::String(cidr.to_owned()));
    if let Some(description) = description {
        body.insert("description".into(), Value::String(description.to_owned()));
    }
    Value::Object(body)
}

/// `PUT …/ipRestriction/{ipBlock}`: only `description` is writable; OVH's description cannot
/// be null, so clearing it sends the empty string.
pub(crate) fn ip_restriction_update_body(description: Option<&str>) -> Value {
    json!({ "description": description.unwrap_or_default() })
}

/// `POST …/user` (`cloud.project.database.service.UserWithRolesCreation`).
pub(crate) fn user_creation_body(name: &str, roles: &[String]) -> Value {
    json!({ "name": name, "roles": roles })
}

/// `PUT …/user/{userId}`: only the roles (as Terraform's OVH provider sends).
pub(crate) fn user_roles_body(roles: &[String]) -> Value {
    json!({ "roles": roles })
}

// ---------------------------------------------------------------------------------------------
// Replies.

/// `cloud.project.database.Service`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireService {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) engine: Option<String>,
    #[serde(default)]
    pub(crate) plan: Option<String>,
    #[serde(default)]
    pub(crate) version: Option<String>,
    #[serde(default)]
    pub(crate) flavor: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) node_number: Option<u32>,
    #[serde(default)]
    pub(crate) nodes: Option<Vec<WireNode>>,
    #[serde(default)]
    pub(crate) region: Option<String>,
    #[serde(default)]
    pub(crate) endpoints: Option<Vec<WireEndpoint>>,
    /// 2021 schema: the connection string, before `endpoints[]`.
    #[serde(default)]
    pub(crate) uri: Option<String>,
    #[serde(default)]
    pub(crate) created_at: Option<String>,
    #[serde(default)]
    pub(crate) ip_restrictions: Option<Vec<WireIpRestriction>>,
}

/// `cloud.project.database.service.Node` (only what the mapping needs).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct WireNode {
    #[serde(default)]
    pub(crate) region: Option<String>,
}

/// `cloud.project.database.service.Endpoint` (only what the mapping needs).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct WireEndpoint {
    #[serde(default)]
    pub(crate) component: Option<String>,
    #[serde(default)]
    pub(crate) uri: Option<String>,
}

impl WireService {
    /// The region, from `region` (2024) or the first node; `None` when neither says.
    pub(crate) fn known_region(&self) -> Option<String> {
        self.region
            .clone()
            .filter(|region| !region.is_empty())
            .or_else(|| {
                self.nodes
                    .as_ref()
                    .and_then(|nodes| nodes.iter().find_map(|node| node.region.clone()))
            })
    }

    /// The domain database; `region` is what [`WireService::known_region`] found (or what the
    /// client looked up from the node list).
    pub(crate) fn into_database(self, region: String) -> Database {
        let endpoint = self
            .endpoints
            .as_ref()
            .and_then(|endpoints| {
                endpoints
                    .iter()
                    .find(|e| e.component.as_deref() == Some(ENGINE))
                    .and_then(|e| e.uri.clone())
            })
            .or(self.uri.clone());
        let node_count = self
            .node_number
            .or_else(|| self.nodes.as_ref().map(|nodes| nodes.len() as u32));
        let raw_status = self.status.unwrap_or_default();
        Database {
            id: self.id,
            name: self.description.unwrap_or_default(),
            engine: self.engine.unwrap_or_else(|| ENGINE.to_owned()),
            version: self.version.unwrap_or_default(),
            plan: self.plan.unwrap_or_default(),
            region,
            flavor: self.flavor.filter(|f| !f.is_empty()),
            node_count,
            // OVH's description is the service's name; there is no separate free text.
            description: None,
            status: status_of(&raw_status),
            endpoint,
            created_at: self.created_at.unwrap_or_default(),
        }
    }
}

/// `cloud.project.database.IpRestriction` (legacy endpoints) and
/// `cloud.project.database.service.IpRestriction` (the service's list).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct WireIpRestriction {
    pub(crate) ip: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<String>,
}

impl WireIpRestriction {
    /// The domain restriction; an entry without its own status takes `fallback_status` (the
    /// service's, in the list mode).
    pub(crate) fn into_ip_restriction(
        self,
        database_id: &str,
        fallback_status: &str,
    ) -> IpRestriction {
        let raw = self.status.unwrap_or_else(|| fallback_status.to_owned());
        IpRestriction {
            database_id: database_id.to_owned(),
            cidr: canonical_cidr(&self.ip).unwrap_or(self.ip),
            description: self.description.filter(|d| !d.is_empty()),
            status: status_of(&raw),
            // OVH does not say when a restriction was added.
            created_at: String::new(),
        }
    }
}

/// `cloud.project.database.service.UserWithRoles`, and `UserWithPasswordAndRoles` (create and
/// reset replies, with `password`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUser {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) username: String,
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) created_at: Option<String>,
    /// Only in create and reset replies. Wrapped into a `SecretString` as soon as it is mapped.
    #[serde(default)]
    pub(crate) password: Option<String>,
}

impl WireUser {
    /// The domain credential (username without `@admin`).
    pub(crate) fn into_credential(self, database_id: &str) -> Credential {
        Credential {
            database_id: database_id.to_owned(),
            username: domain_username(&self.username).to_owned(),
            roles: self.roles,
            status: status_of(self.status.as_deref().unwrap_or_default()),
            password: self.password.map(SecretString::from),
            password_chosen: false,
            created_at: self.created_at.unwrap_or_default(),
        }
    }
}

/// `cloud.project.database.Capabilities` (what the mapping needs).
#[derive(Deserialize)]
pub(crate) struct WireCapabilities {
    #[serde(default)]
    pub(crate) engines: Vec<WireEngine>,
    #[serde(default)]
    pub(crate) flavors: Vec<WireFlavor>,
    #[serde(default)]
    pub(crate) plans: Vec<WirePlan>,
    /// 2024 only.
    #[serde(default)]
    pub(crate) regions: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireEngine {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) default_version: String,
    #[serde(default)]
    pub(crate) versions: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct WireFlavor {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) core: u32,
    /// GB.
    #[serde(default)]
    pub(crate) memory: u32,
    /// GB.
    #[serde(default)]
    pub(crate) storage: u32,
}

#[derive(Deserialize)]
pub(crate) struct WirePlan {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) description: String,
}

/// `cloud.project.database.Availability` (2021 and 2024 spellings).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireAvailability {
    #[serde(default)]
    pub(crate) engine: String,
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) plan: String,
    #[serde(default)]
    pub(crate) flavor: String,
    #[serde(default)]
    pub(crate) region: String,
    #[serde(default)]
    pub(crate) min_node_number: Option<u32>,
    #[serde(default)]
    pub(crate) max_node_number: Option<u32>,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) default: bool,
    /// 2024: `{status, …}` replaces the flat `status`.
    #[serde(default)]
    pub(crate) lifecycle: Option<WireLifecycle>,
    /// 2024: `{nodes: {minimum, maximum}, …}`.
    #[serde(default)]
    pub(crate) specifications: Option<WireSpecifications>,
}

#[derive(Deserialize)]
pub(crate) struct WireLifecycle {
    #[serde(default)]
    pub(crate) status: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct WireSpecifications {
    #[serde(default)]
    pub(crate) nodes: Option<WireNodeRange>,
}

#[derive(Deserialize)]
pub(crate) struct WireNodeRange {
    #[serde(default)]
    pub(crate) minimum: Option<u32>,
    #[serde(default)]
    pub(crate) maximum: Option<u32>,
}

impl From<WireAvailability> for Availability {
    fn from(wire: WireAvailability) -> Self {
        let nodes = wire.specifications.and_then(|s| s.nodes);
        let min_nodes = wire
            .min_node_number
            .or_else(|| nodes.as_ref().and_then(|n| n.minimum))
            .unwrap_or_default();
        let max_nodes = wire
            .max_node_number
            .or_else(|| nodes.as_ref().and_then(|n| n.maximum))
            .unwrap_or_default();
        let status = wire
            .status
            .or_else(|| wire.lifecycle.and_then(|l| l.status))
            .unwrap_or_default();
        Availability {
            engine: wire.engine,
            version: wire.version,
            plan: wire.plan,
            flavor: wire.flavor,
            region: wire.region,
            min_nodes,
            max_nodes,
            status,
            default: wire.default,
        }
    }
}

/// The domain capabilities, for MongoDB only (the only engine this client manages). OVH's
/// plans do not carry a node count: it is the smallest the availability allows for the plan.
/// Regions come from the capabilities (2024) or else from the availability.
pub(crate) fn capabilities_from(
    wire: WireCapabilities,
    availability: &[Availability],
) -> Capabilities {
    let offered: Vec<&Availability> = availability.iter().filter(|a| a.engine == ENGINE).collect();
    let engines: Vec<EngineInfo> = wire
        .engines
        .into_iter()
        .filter(|engine| engine.name == ENGINE)
        .map(|engine| EngineInfo {
            name: engine.name,
            versions: engine.versions,
            default_version: engine.default_version,
        })
        .collect();
    let plans: Vec<PlanInfo> = wire
        .plans
        .into_iter()
        .map(|plan| {
            let node_count = offered
                .iter()
                .filter(|a| a.plan == plan.name)
                .map(|a| a.min_nodes)
                .min()
                .unwrap_or_default();
            PlanInfo {
                name: plan.name,
                description: plan.description,
                node_count,
            }
        })
        .collect();
    let mut region_names: Vec<String> = wire.regions.unwrap_or_default();
    if region_names.is_empty() {
        for entry in &offered {
            if !region_names.contains(&entry.region) {
                region_names.push(entry.region.clone());
            }
        }
    }
    let default = offered.iter().find(|a| a.default).copied();
    let defaults = Defaults {
        engine: ENGINE.to_owned(),
        plan: default
            .map(|a| a.plan.clone())
            .or_else(|| plans.first().map(|p| p.name.clone()))
            .unwrap_or_default(),
        region: default
            .map(|a| a.region.clone())
            .or_else(|| region_names.first().cloned())
            .unwrap_or_default(),
    };
    Capabilities {
        engines,
        plans,
        regions: region_names
            .into_iter()
            .map(|name| RegionInfo {
                name,
                description: String::new(),
            })
            .collect(),
        flavors: wire
            .flavors
            .into_iter()
            .map(|f| FlavorInfo {
                name: f.name,
                cores: f.core,
                memory_gb: f.memory,
                storage_gb: f.storage,
            })
            .collect(),
        defaults,
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// OVH's error body: `{"class", "message", "details"?}` from the API, or
/// `{"errorCode", "httpCode", "message"}` from the authentication layer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireErrorBody {
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// `Client::Conflict::*` classes that mean "the service is busy, the same request will work
/// once it is READY".
const BUSY_CLASSES: [&str; 3] = [
    "Client::Conflict::ServiceLocked",
    "Client::Conflict::ServiceNotReady",
    "Client::Conflict::ServiceOnlyOneModification",
];

/// `Client::NotFound::*` classes that name a refused *value* of the request, not the object
/// addressed by the path: mapping them to not-found would make a PUT with an unknown plan look
/// like a deleted database (and drop it from the Terraform state). Field names are the
/// domain's.
const VALUE_NOT_FOUND_CLASSES: [(&str, Option<&str>); 15] = [
    ("Client::NotFound::FlavorNameNotFound", Some("flavor")),
    ("Client::NotFound::PlanNotFound", Some("plan")),
    ("Client::NotFound::PlanInvalidUpgrade", Some("plan")),
    ("Client::NotFound::RegionNotFound", Some("region")),
    ("Client::NotFound::VersionNotFound", Some("version")),
    ("Client::NotFound::EngineNameNotFound", Some("engine")),
    ("Client::NotFound::InvalidNodeNumber", Some("node_count")),
    ("Client::NotFound::IpRestrictionInvalidFormat", Some("cidr")),
    ("Client::NotFound::RoleNotFound", Some("roles")),
    ("Client::NotFound::NoMatchingAvailability", None),
    ("Client::NotFound::AvailabilityNotFound", None),
    ("Client::NotFound::AvailabilityDoesNotExistAnymore", None),
    ("Client::NotFound::NoMatchingCompute", None),
    (
        "Client::NotFound::InsertIpRestrictionsMultipleServices",
        None,
    ),
    ("Client::NotFound::InvalidMetricName", None),
];

/// Whether `class` is `family` or one of its sub-classes (`Client::NotFound` covers
/// `Client::NotFound::ServiceNotFound`).
fn in_family(class: &str, family: &str) -> bool {
    class == family
        || class
            .strip_prefix(family)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// Maps an OVH error reply to [`Error`]. The message keeps OVH's words, its error class (or
/// auth error code) and the `X-Ovh-QueryID`, which OVH support asks for.
pub(crate) fn ovh_error_mapper(response: &ApiResponse) -> Error {
    let status = response.status;
    let parsed = serde_json::from_slice::<WireErrorBody>(&response.body).ok();
    let (class, error_code, text) = match parsed {
        Some(body) => (body.class, body.error_code, body.message),
        None => (None, None, None),
    };
    let text = text
        .filter(|m| !m.trim().is_empty())
        .or_else(|| error_message_from_body(&response.body))
        .unwrap_or_else(|| status_reason(status));
    let mut tags: Vec<String> = Vec::new();
    if let Some(label) = class.as_deref().or(error_code.as_deref()) {
        tags.push(label.to_owned());
    }
    if let Some(query_id) = response.header("x-ovh-queryid").filter(|q| !q.is_empty()) {
        tags.push(format!("X-Ovh-QueryID {query_id}"));
    }
    let message = if tags.is_empty() {
        text
    } else {
        format!("{text} ({})", tags.join("; "))
    };
    let retry_after = response.retry_after();

    if error_code.is_some() && class.is_none() && matches!(status, 400 | 401 | 403) {
        // The authentication layer: bad signature, unknown key, invalid or unvalidated
        // consumer key, call not granted.
        return if status == 403 {
            Error::Forbidden { message }
        } else {
            Error::Unauthorized { message }
        };
    }
    let Some(class) = class else {
        return error_for_status(status, message, None, retry_after);
    };
    if class == "Client::NotFound::IpRestrictionAlreadyExists" {
        return Error::Conflict { message };
    }
    if let Some((_, field)) = VALUE_NOT_FOUND_CLASSES.iter().find(|(c, _)| *c == class) {
        return Error::Invalid {
            field: field.map(str::to_owned),
            message,
        };
    }
    if BUSY_CLASSES.contains(&class.as_str()) {
        return Error::Busy {
            message,
            retry_after,
        };
    }
    if in_family(&class, "Client::NotFound") {
        Error::NotFound { message }
    } else if in_family(&class, "Client::Conflict") {
        Error::Conflict { message }
    } else if in_family(&class, "Client::BadRequest") {
        Error::Invalid {
            field: None,
            message,
        }
    } else if in_family(&class, "Client::Unauthorized") {
        Error::Unauthorized { message }
    } else if in_family(&class, "Client::Forbidden") {
        Error::Forbidden { message }
    } else if class.starts_with("Server::") {
        Error::Unavailable { message }
    } else {
        error_for_status(status, message, None, retry_after)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue};
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn phase_of_maps_every_ovh_status() {
        let cases = [
            ("PENDING", Phase::Pending),
            ("CREATING", Phase::Pending),
            ("UPDATING", Phase::Pending),
            ("LOCKED", Phase::Pending),
            ("LOCKED_PENDING", Phase::Pending),
            ("LOCKED_UPDATING", Phase::Pending),
            ("READY", Phase::Ready),
            ("DELETING", Phase::Deleting),
            ("ERROR", Phase::Failed),
            ("ERROR_INCONSISTENT_SPEC", Phase::Failed),
            ("SHELVED", Phase::Pending),
            ("SOMETHING_NEW", Phase::Pending),
            ("", Phase::Pending),
        ];
        for (raw, phase) in cases {
            assert_eq!(phase_of(raw), phase, "{raw}");
        }
    }

    #[test]
    fn service_2024_maps_to_database() {
        let wire: WireService = serde_json::from_value(json!({
            "id": "3b5c1c4e-8b5f-4c1e-9d55-0a5f0e3c9a11",
            "createdAt": "2024-06-07T10:00:00+02:00",
            "description": "orders",
            "engine": "mongodb",
            "plan": "business",
            "version": "6.0",
            "flavor": "db1-4",
            "status": "READY",
            "nodeNumber": 3,
            "networkType": "public",
            "region": "GRA",
            "nodes": [{"region": "GRA", "flavor": "db1-4", "status": "READY"}],
            "endpoints": [
                {"component": "mongodbSrv", "domain": "d", "ssl": true,
                 "uri": "mongodb+srv://d/admin"},
                {"component": "mongodb", "domain": "d", "ssl": true, "port": 27017,
                 "uri": "mongodb://node1.d:27017,node2.d:27017/admin?replicaSet=rs"}
            ],
            "ipRestrictions": [{"ip": "10.0.0.0/24", "description": "", "status": "READY"}],
            "capabilities": {"users": {"create": "enabled"}}
        }))
        .unwrap();
        let region = wire.known_region().unwrap();
        let database = wire.into_database(region);
        assert_eq!(
            database,
            Database {
                id: "3b5c1c4e-8b5f-4c1e-9d55-0a5f0e3c9a11".into(),
                name: "orders".into(),
                engine: "mongodb".into(),
                version: "6.0".into(),
                plan: "business".into(),
                region: "GRA".into(),
                flavor: Some("db1-4".into()),
                node_count: Some(3),
                description: None,
                status: Status {
                    phase: Phase::Ready,
                    raw: "READY".into(),
                    message: None
                },
                endpoint: Some("mongodb://node1.d:27017,node2.d:27017/admin?replicaSet=rs".into()),
                created_at: "2024-06-07T10:00:00+02:00".into(),
            }
        );
    }

    #[test]
    fn service_without_region_or_node_number_uses_nodes() {
        let wire: WireService = serde_json::from_value(json!({
            "id": "a", "description": "x", "status": "CREATING", "region": null,
            "nodes": [{"region": "BHS"}, {"region": "BHS"}]
        }))
        .unwrap();
        assert_eq!(wire.known_region().as_deref(), Some("BHS"));
        let database = wire.into_database("BHS".into());
        assert_eq!(database.node_count, Some(2));
        assert_eq!(database.status.phase, Phase::Pending);
        assert_eq!(database.endpoint, None);
        assert_eq!(database.flavor, None);
    }

    #[test]
    fn service_2021_uses_uri_and_has_no_region() {
        let wire: WireService = serde_json::from_value(json!({
            "id": "a", "description": "legacy", "status": "LOCKED_UPDATING",
            "nodeNumber": 1, "uri": "mongodb://h:27017/admin", "domain": "h", "port": 27017
        }))
        .unwrap();
        assert_eq!(wire.known_region(), None);
        let database = wire.into_database(String::new());
        assert_eq!(
            database.endpoint.as_deref(),
            Some("mongodb://h:27017/admin")
        );
        assert_eq!(database.status.raw, "LOCKED_UPDATING");
        assert_eq!(database.status.phase, Phase::Pending);
        assert_eq!(database.engine, "mongodb");
    }

    #[test]
    fn user_maps_to_credential_without_auth_database() {
        let wire: WireUser = serde_json::from_value(json!({
            "id": "u-1", "username": "app@admin", "roles": ["readWrite@orders"],
            "status": "CREATING", "createdAt": "2024-06-07T10:00:00Z",
            "password": "Gener4ted"
        }))
        .unwrap();
        let credential = wire.into_credential("db-1");
        assert_eq!(credential.username, "app");
        assert_eq!(credential.database_id, "db-1");
        assert_eq!(credential.roles, ["readWrite@orders"]);
        assert_eq!(credential.status.phase, Phase::Pending);
        assert!(!credential.password_chosen);
        assert_eq!(
            credential.password.as_ref().map(|p| p.expose_secret()),
            Some("Gener4ted")
        );
        assert!(!format!("{credential:?}").contains("Gener4ted"));
        let read: WireUser = serde_json::from_value(json!({
            "id": "u-2", "username": "admin@admin", "roles": [], "status": "READY"
        }))
        .unwrap();
        let credential = read.into_credential("db-1");
        assert_eq!(credential.username, "admin");
        assert!(credential.password.is_none());
        assert!(is_user("app@admin", "app"));
        assert!(is_user("app@admin", "app@admin"));
        assert!(!is_user("app@admin", "ap"));
        assert_eq!(domain_username("plain"), "plain");
    }

    #[test]
    fn canonical_cidr_adds_prefix_and_compresses() {
        assert_eq!(canonical_cidr("203.0.113.7").unwrap(), "203.0.113.7/32");
        assert_eq!(canonical_cidr("10.0.0.0/24").unwrap(), "10.0.0.0/24");
        assert_eq!(canonical_cidr("10.0.0.7/8").unwrap(), "10.0.0.7/8");
        assert_eq!(
            canonical_cidr("2001:0db8:0000::0/32").unwrap(),
            "2001:db8::/32"
        );
        assert_eq!(canonical_cidr("::1").unwrap(), "::1/128");
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/+8",
            " 10.0.0.0/8 ",
            "x/1",
            "::/129",
        ] {
            let error = canonical_cidr(bad).unwrap_err();
            assert!(
                matches!(&error, Error::Invalid { field: Some(f), .. } if f == "cidr"),
                "{bad}: {error:?}"
            );
        }
        assert!(same_cidr("203.0.113.7", "203.0.113.7/32"));
        assert!(!same_cidr("203.0.113.7", "203.0.113.8/32"));
        assert!(same_cidr("weird", "weird"));
    }

    #[test]
    fn ip_restriction_maps_with_fallback_status() {
        let entry = WireIpRestriction {
            ip: "2001:db8:0::/32".into(),
            description: Some(String::new()),
            status: None,
        };
        let restriction = entry.into_ip_restriction("db-1", "UPDATING");
        assert_eq!(restriction.cidr, "2001:db8::/32");
        assert_eq!(restriction.description, None);
        assert_eq!(restriction.status.raw, "UPDATING");
        let entry: WireIpRestriction = serde_json::from_value(
            json!({"ip": "10.0.0.0/24", "description": "office", "status": "READY"}),
        )
        .unwrap();
        let restriction = entry.into_ip_restriction("db-1", "UPDATING");
        assert_eq!(restriction.description.as_deref(), Some("office"));
        assert_eq!(restriction.status.phase, Phase::Ready);
    }

    #[test]
    fn request_bodies_have_ovh_shapes() {
        assert_eq!(
            service_creation_body("orders", "business", "6.0", "db1-4", 3, "GRA").to_string(),
            r#"{"description":"orders","plan":"business","version":"6.0","nodesPattern":{"flavor":"db1-4","number":3,"region":"GRA"}}"#
        );
        let changes = DatabaseChanges {
            plan: Some("enterprise".into()),
            node_count: Some(5),
            ..DatabaseChanges::default()
        };
        assert_eq!(
            service_update_body(&changes),
            json!({"plan": "enterprise", "nodeNumber": 5})
        );
        assert_eq!(service_update_body(&DatabaseChanges::default()), json!({}));
        let entries = [
            WireIpRestriction {
                ip: "10.0.0.0/24".into(),
                description: Some("office".into()),
                status: Some("READY".into()),
            },
            WireIpRestriction {
                ip: "203.0.113.7/32".into(),
                description: None,
                status: None,
            },
        ];
        assert_eq!(
            ip_restrictions_update_body(&entries),
            json!({"ipRestrictions": [
                {"ip": "10.0.0.0/24", "description": "office"},
                {"ip": "203.0.113.7/32"}
            ]})
        );
        assert_eq!(
            ip_restriction_creation_body("10.0.0.0/24", None),
            json!({"ip": "10.0.0.0/24"})
        );
        assert_eq!(ip_restriction_update_body(None), json!({"description": ""}));
        assert_eq!(
            user_creation_body("app", &["readWrite@orders".into()]).to_string(),
            r#"{"name":"app","roles":["readWrite@orders"]}"#
        );
        assert_eq!(user_roles_body(&[]), json!({"roles": []}));
    }

    #[test]
    fn availability_maps_both_schema_generations() {
        let old: WireAvailability = serde_json::from_value(json!({
            "engine": "mongodb", "version": "5.0", "plan": "business", "flavor": "db1-7",
            "region": "GRA", "network": "public", "minNodeNumber": 3, "maxNodeNumber": 8,
            "backup": "automatic", "default": true, "startDate": "2021-09-01",
            "status": "STABLE", "endOfLife": null
        }))
        .unwrap();
        assert_eq!(
            Availability::from(old),
            Availability {
                engine: "mongodb".into(),
                version: "5.0".into(),
                plan: "business".into(),
                flavor: "db1-7".into(),
                region: "GRA".into(),
                min_nodes: 3,
                max_nodes: 8,
                status: "STABLE".into(),
                default: true,
            }
        );
        let new: WireAvailability = serde_json::from_value(json!({
            "engine": "mongodb", "version": "7.0", "plan": "essential", "region": "SBG",
            "default": false,
            "lifecycle": {"startDate": "2024-01-01", "status": "BETA", "endOfLife": null},
            "specifications": {"flavor": "db2-2", "network": "public",
                               "nodes": {"minimum": 1, "maximum": 1}}
        }))
        .unwrap();
        let mapped = Availability::from(new);
        assert_eq!((mapped.min_nodes, mapped.max_nodes), (1, 1));
        assert_eq!(mapped.status, "BETA");
    }

    #[test]
    fn capabilities_keep_mongodb_and_derive_plan_nodes() {
        let wire: WireCapabilities = serde_json::from_value(json!({
            "engines": [
                {"name": "postgresql", "defaultVersion": "16", "versions": ["16"], "description": "pg"},
                {"name": "mongodb", "defaultVersion": "7.0", "versions": ["6.0", "7.0"], "description": "mongo"}
            ],
            "flavors": [{"name": "db1-4", "core": 1, "memory": 4, "storage": 20}],
            "plans": [
                {"name": "essential", "description": "1 node", "backupRetention": "P1D"},
                {"name": "business", "description": "3 nodes", "backupRetention": "P7D"}
            ],
            "options": []
        }))
        .unwrap();
        let availability = |plan: &str, region: &str, min: u32, default: bool| Availability {
            engine: "mongodb".into(),
            plan: plan.into(),
            region: region.into(),
            min_nodes: min,
            default,
            ..Availability::default()
        };
        let offered = [
            availability("essential", "GRA", 1, false),
            availability("business", "GRA", 3, false),
            availability("business", "SBG", 3, true),
            Availability {
                engine: "postgresql".into(),
                plan: "business".into(),
                region: "WAW".into(),
                min_nodes: 2,
                ..Availability::default()
            },
        ];
        let capabilities = capabilities_from(wire, &offered);
        assert_eq!(capabilities.engines.len(), 1);
        assert_eq!(
            capabilities.engine("mongodb").unwrap().default_version,
            "7.0"
        );
        assert_eq!(capabilities.plans[0].node_count, 1);
        assert_eq!(capabilities.plans[1].node_count, 3);
        let regions: Vec<_> = capabilities
            .regions
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(regions, ["GRA", "SBG"]);
        assert_eq!(capabilities.flavors[0].memory_gb, 4);
        assert_eq!(
            capabilities.defaults,
            Defaults {
                engine: "mongodb".into(),
                plan: "business".into(),
                region: "SBG".into()
            }
        );
    }

    fn reply(status: u16, body: &str, query_id: Option<&str>) -> ApiResponse {
        let mut headers = HeaderMap::new();
        if let Some(id) = query_id {
            headers.insert("x-ovh-queryid", HeaderValue::from_str(id).unwrap());
        }
        ApiResponse {
            status,
            headers,
            body: Bytes::from(body.to_owned()),
        }
    }

    fn class_body(class: &str, message: &str) -> String {
        json!({"class": class, "message": message}).to_string()
    }

    #[test]
    fn ovh_error_mapper_maps_classes() {
        type Check = fn(&Error) -> bool;
        let cases: [(u16, &str, Check); 14] = [
            (404, "Client::NotFound::ServiceNotFound", |e| {
                e.is_not_found()
            }),
            (404, "Client::NotFound::UserNotFound", |e| e.is_not_found()),
            (404, "Client::NotFound", |e| e.is_not_found()),
            (404, "Client::NotFound::IpRestrictionAlreadyExists", |e| {
                e.is_conflict()
            }),
            (409, "Client::Conflict::ServiceNotReady", |e| e.is_busy()),
            (409, "Client::Conflict::ServiceLocked", |e| e.is_busy()),
            (409, "Client::Conflict::ServiceOnlyOneModification", |e| {
                e.is_busy()
            }),
            (409, "Client::Conflict::PostgresUserAlreadyExist", |e| {
                e.is_conflict() && !e.is_busy()
            }),
            (400, "Client::BadRequest::NotEnoughNodes", |e| {
                matches!(e, Error::Invalid { field: None, .. })
            }),
            (401, "Client::Unauthorized::InvalidAuthToken", |e| {
                matches!(e, Error::Unauthorized { .. })
            }),
            (403, "Client::Forbidden", |e| {
                matches!(e, Error::Forbidden { .. })
            }),
            (500, "Server::InternalServerError", |e| {
                matches!(e, Error::Unavailable { .. }) && e.is_retryable()
            }),
            (
                404,
                "Client::NotFound::PlanNotFound",
                |e| matches!(e, Error::Invalid { field: Some(f), .. } if f == "plan"),
            ),
            (404, "Client::NotFound::NoMatchingCompute", |e| {
                matches!(e, Error::Invalid { field: None, .. })
            }),
        ];
        for (status, class, check) in cases {
            let error = ovh_error_mapper(&reply(status, &class_body(class, "said"), None));
            assert!(check(&error), "{class}: {error:?}");
            assert_eq!(error.api_message(), format!("said ({class})"));
        }
    }

    #[test]
    fn ovh_error_mapper_keeps_class_and_query_id() {
        let error = ovh_error_mapper(&reply(
            404,
            &class_body(
                "Client::NotFound::ServiceNotFound",
                "This service does not exist",
            ),
            Some("EU.ext-3.66a1b2c3.1234.abcd"),
        ));
        assert_eq!(
            error.to_string(),
            "the object was not found: This service does not exist \
             (Client::NotFound::ServiceNotFound; X-Ovh-QueryID EU.ext-3.66a1b2c3.1234.abcd)"
        );
    }

    #[test]
    fn ovh_error_mapper_maps_auth_errors() {
        let cases = [
            (
                r#"{"errorCode":"INVALID_SIGNATURE","httpCode":"400 Bad Request","message":"Invalid signature"}"#,
                400,
            ),
            (
                r#"{"errorCode":"INVALID_KEY","httpCode":"403 Forbidden","message":"This application key is invalid"}"#,
                403,
            ),
            (
                r#"{"errorCode":"INVALID_CREDENTIAL","httpCode":"403 Forbidden","message":"This credential is not valid"}"#,
                403,
            ),
            (
                r#"{"errorCode":"QUERY_TIME_DELTA_TOO_HIGH","httpCode":"401 Unauthorized","message":"Query time delta too high"}"#,
                401,
            ),
        ];
        for (body, status) in cases {
            let error = ovh_error_mapper(&reply(status, body, Some("q-1")));
            let code: Value = serde_json::from_str(body).unwrap();
            let expected = format!(
                "{} ({}; X-Ovh-QueryID q-1)",
                code["message"].as_str().unwrap(),
                code["errorCode"].as_str().unwrap()
            );
            assert_eq!(error.api_message(), expected);
            if status == 403 {
                assert!(matches!(error, Error::Forbidden { .. }), "{error:?}");
            } else {
                assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
            }
        }
    }

    #[test]
    fn ovh_error_mapper_copes_with_foreign_bodies() {
        let proxy = ovh_error_mapper(&reply(502, "<html>Bad Gateway</html>", None));
        assert!(matches!(proxy, Error::Unavailable { .. }));
        assert_eq!(proxy.api_message(), "HTTP 502 Bad Gateway");
        let plain = ovh_error_mapper(&reply(409, "conflicting", None));
        assert!(plain.is_conflict());
        assert_eq!(plain.api_message(), "conflicting");
        let unknown_class =
            ovh_error_mapper(&reply(418, &class_body("Something::Else", "teapot"), None));
        assert!(matches!(unknown_class, Error::Api { status: 418, .. }));
        let mut limited = reply(429, "{}", None);
        limited
            .headers
            .insert("retry-after", HeaderValue::from_static("2"));
        let limited = ovh_error_mapper(&limited);
        assert_eq!(
            limited.retry_after(),
            Some(std::time::Duration::from_secs(2))
        );
        // An errorCode body on another status is not an auth error.
        let odd = ovh_error_mapper(&reply(404, r#"{"errorCode":"X","message":"gone"}"#, None));
        assert!(odd.is_not_found());
    }

    #[test]
    fn in_family_matches_whole_segments() {
        assert!(in_family("Client::NotFound", "Client::NotFound"));
        assert!(in_family("Client::NotFound::X", "Client::NotFound"));
        assert!(!in_family("Client::NotFoundish", "Client::NotFound"));
    }
}
