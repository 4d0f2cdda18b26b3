//! Decoding of OVH request bodies and path parameters, with OVH's error classes: a wrong JSON
//! type is `Client::BadRequest` ("[field] Invalid type"), node specifications get the node
//! classes (`AtLeastOneNode`, `TooManyNodes`, …), IP blocks `IpRestrictionInvalidFormat`.

use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::{BytesRejection, PathRejection};
use serde_json::{Map, Value};

use super::errors::{OvhError, Subject, from_local};
use super::wire;
use crate::local::allow_list::{self, CreateIpRestriction};
use crate::local::catalog::CATALOG;

pub(crate) fn path<T>(params: Result<Path<T>, PathRejection>) -> Result<T, OvhError> {
    params
        .map(|Path(params)| params)
        .map_err(|rejection| OvhError::bad_request(format!("invalid path parameter: {rejection}")))
}

/// A path or query id that must be a UUID, in canonical (lowercase) form.
pub(crate) fn uuid_param(name: &str, value: &str) -> Result<String, OvhError> {
    uuid::Uuid::parse_str(value)
        .map(|parsed| parsed.to_string())
        .map_err(|_| {
            OvhError::bad_request(format!("[{name}] Given data ({value}) is not a valid uuid"))
        })
}

pub(crate) fn object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, OvhError> {
    let body = body
        .map_err(|rejection| OvhError::bad_request(format!("cannot read the body: {rejection}")))?;
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(OvhError::bad_request(
            "the request body must be a JSON object",
        )),
        Err(error) => Err(OvhError::bad_request(format!(
            "the request body is not valid JSON: {error}"
        ))),
    }
}

/// An object body that may be empty (python-ovh sends `{}` for a bodiless POST, others nothing).
pub(crate) fn optional_object(
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, OvhError> {
    match body {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        other => object(other),
    }
}

pub(crate) fn invalid_type(field: &str, expected: &str) -> OvhError {
    OvhError::bad_request(format!("[{field}] Invalid type: expected {expected}"))
}

/// A string property; absent or `null` is `None`.
pub(crate) fn string(object: &Map<String, Value>, field: &str) -> Result<Option<String>, OvhError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(invalid_type(field, "string")),
    }
}

/// A `long` property; absent or `null` is `None`.
pub(crate) fn long(object: &Map<String, Value>, field: &str) -> Result<Option<i64>, OvhError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid_type(field, "long")),
    }
}

/// A `string[]` property; absent or `null` is `None`.
pub(crate) fn strings(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<Vec<String>>, OvhError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| invalid_type(field, "string[]")),
        Some(_) => Err(invalid_type(field, "string[]")),
    }
}

/// `ipRestrictions`: `service.IpRestriction[]` (`ip`, `description`; `status` is read-only).
pub(crate) fn ip_restriction_list(
    object: &Map<String, Value>,
) -> Result<Option<Vec<CreateIpRestriction>>, OvhError> {
    let items = match object.get("ipRestrictions") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(invalid_type(
                "ipRestrictions",
                "cloud.project.database.service.IpRestriction[]",
            ));
        }
    };
    items
        .iter()
        .map(|item| {
            let entry = item.as_object().ok_or_else(|| {
                invalid_type(
                    "ipRestrictions",
                    "cloud.project.database.service.IpRestriction[]",
                )
            })?;
            let ip = string(entry, "ip")?.ok_or_else(|| {
                OvhError::new(
                    "Client::NotFound::IpRestrictionInvalidFormat",
                    "every entry of ipRestrictions needs an ip",
                )
            })?;
            Ok(CreateIpRestriction {
                cidr: ip,
                description: string(entry, "description")?.filter(|text| !text.is_empty()),
            })
        })
        .collect::<Result<Vec<_>, OvhError>>()
        .map(Some)
}

/// Checks a whole set of restrictions with the shared rule, for OVH's classes.
pub(crate) fn check_ip_set(set: &Option<Vec<CreateIpRestriction>>) -> Result<(), OvhError> {
    if let Some(set) = set {
        allow_list::validate_set(set.clone())
            .map_err(|error| from_local(error, Subject::IpRestriction))?;
    }
    Ok(())
}

/// OVH's node-count classes for `count` nodes on `plan` (the shared rule checks again).
pub(crate) fn check_node_count(plan: &str, count: i64) -> Result<u32, OvhError> {
    let Some(offered) = CATALOG.plan(plan) else {
        return Err(OvhError::new(
            "Client::NotFound::PlanNotFound",
            format!(
                "plan {plan:?} is not offered; allowed: {}",
                CATALOG.plan_names()
            ),
        ));
    };
    if count < 1 {
        return Err(OvhError::new(
            "Client::BadRequest::AtLeastOneNode",
            "a cluster needs at least one node",
        ));
    }
    let range = format!(
        "plan {plan} allows {} to {} nodes",
        offered.min_node_count, offered.max_node_count
    );
    if count < i64::from(offered.min_node_count) {
        return Err(OvhError::new(
            "Client::BadRequest::NotEnoughNodes",
            format!("{count} nodes are not enough: {range}"),
        ));
    }
    if count > i64::from(offered.max_node_count) {
        return Err(OvhError::new(
            "Client::BadRequest::TooManyNodes",
            format!("{count} nodes are too many: {range}"),
        ));
    }
    Ok(count as u32)
}

/// The store region of an OVH region name, or `RegionNotFound`.
pub(crate) fn region(name: &str) -> Result<&'static str, OvhError> {
    wire::store_region(name).ok_or_else(|| {
        OvhError::new(
            "Client::NotFound::RegionNotFound",
            format!(
                "region {name:?} is not offered; allowed: {}",
                wire::REGIONS
                    .iter()
                    .map(|(_, ovh)| *ovh)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// Node flavor, count and region of a create body (`nodesPattern` or `nodesList`).
pub(crate) fn nodes_of(body: &Map<String, Value>) -> Result<(String, i64, String), OvhError> {
    let pattern = body.get("nodesPattern").filter(|value| !value.is_null());
    let list = body.get("nodesList").filter(|value| !value.is_null());
    let missing = |field: &str, class: &'static str| {
        OvhError::new(class, format!("{field} is mandatory for every node"))
    };
    match (pattern, list) {
        (Some(_), Some(_)) => Err(OvhError::new(
            "Client::BadRequest::OnlyNodeListOrPattern",
            "give either nodesPattern or nodesList, not both",
        )),
        (None, None) => Err(OvhError::new(
            "Client::BadRequest::AtLeastOneNode",
            "give the nodes of the cluster with nodesPattern {flavor, number, region}",
        )),
        (Some(pattern), None) => {
            let pattern = pattern.as_object().ok_or_else(|| {
                invalid_type("nodesPattern", "cloud.project.database.service.NodePattern")
            })?;
            let flavor = string(pattern, "flavor")?
                .ok_or_else(|| missing("flavor", "Client::NotFound::FlavorNameNotFound"))?;
            let region = string(pattern, "region")?
                .ok_or_else(|| missing("region", "Client::NotFound::RegionNotFound"))?;
            let number = long(pattern, "number")?.unwrap_or(0);
            Ok((flavor, number, region))
        }
        (None, Some(list)) => {
            let nodes = list.as_array().ok_or_else(|| {
                invalid_type("nodesList", "cloud.project.database.service.NodeCreation[]")
            })?;
            let mut specs = Vec::with_capacity(nodes.len());
            for node in nodes {
                let node = node.as_object().ok_or_else(|| {
                    invalid_type("nodesList", "cloud.project.database.service.NodeCreation[]")
                })?;
                let flavor = string(node, "flavor")?
                    .ok_or_else(|| missing("flavor", "Client::NotFound::FlavorNameNotFound"))?;
                let region = string(node, "region")?
                    .ok_or_else(|| missing("region", "Client::NotFound::RegionNotFound"))?;
                specs.push((flavor, region));
            }
            let Some((flavor, region)) = specs.first().cloned() else {
                return Err(OvhError::new(
                    "Client::BadRequest::AtLeastOneNode",
                    "nodesList is empty",
                ));
            };
            if specs.iter().any(|(other, _)| *other != flavor) {
                return Err(OvhError::new(
                    "Client::BadRequest::NodesFlavorMismatch",
                    "every node must have the same flavor",
                ));
            }
            if specs
                .iter()
                .any(|(_, other)| !other.eq_ignore_ascii_case(&region))
            {
                return Err(OvhError::new(
                    "Client::BadRequest::NodesRegionMismatch",
                    "every node must be in the same region",
                ));
            }
            Ok((flavor, specs.len() as i64, region))
        }
    }
}

/// A writable string of a PUT body, as a change: `None` when absent or equal to `current`.
pub(crate) fn changed_string(
    body: &Map<String, Value>,
    field: &str,
    current: &str,
) -> Result<Option<String>, OvhError> {
    Ok(string(body, field)?.filter(|value| value != current))
}
