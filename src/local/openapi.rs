//! The OpenAPI 3.1 document of the native API, served at `GET /v1/openapi.json`.
//!
//! Built once from `serde_json` values; the unit tests below check that every documented
//! operation is routed and that every `$ref` resolves, so the document cannot silently drift
//! from the handlers.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::catalog::CATALOG;
use super::databases::{MAX_DESCRIPTION_CHARS, MAX_IDEMPOTENCY_KEY_CHARS};

/// The document, built on first use.
pub(crate) fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

fn build() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "dbaas-local native API",
            "version": "1.0.0",
            "description": "The native REST API of dbaas-local, the local DBaaS service of \
                terraform-provider-dbaas. JSON everywhere. When the service runs with a token, \
                every endpoint except GET /healthz needs `Authorization: Bearer <token>`. \
                Transitional statuses (CREATING, UPDATING, DELETING) settle by themselves after \
                the service's provision delay."
        },
        "servers": [{"url": "http://127.0.0.1:8780"}],
        "security": [{"bearer": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"}
            },
            "parameters": {
                "DatabaseId": {
                    "name": "id", "in": "path", "required": true,
                    "schema": {"type": "string", "pattern": "^db-[0-9a-f]{12}$"},
                    "description": "Database id."
                }
            },
            "headers": {
                "RetryAfter": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 0}
                }
            },
            "schemas": schemas(),
            "responses": error_responses()
        }
    })
}

fn error_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn json_content(schema: &str) -> Value {
    json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": json_content(schema)})
}

/// Error responses every authenticated operation may return.
fn common_errors(responses: &mut Value) {
    for (status, name) in [
        ("401", "Unauthorized"),
        ("429", "RateLimited"),
        ("500", "Internal"),
        ("503", "Unavailable"),
    ] {
        responses[status] = error_ref(name);
    }
}

fn operation(operation_id: &str, summary: &str, mut responses: Value, extra: Value) -> Value {
    common_errors(&mut responses);
    let mut operation = json!({
        "operationId": operation_id,
        "summary": summary,
        "responses": responses
    });
    if let (Some(target), Value::Object(extra)) = (operation.as_object_mut(), extra) {
        target.extend(extra);
    }
    operation
}

fn paths() -> Value {
    json!({
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Liveness probe; never needs a token.",
                "security": [],
                "responses": {
                    "200": ok("The service is up.", "Health"),
                    "429": error_ref("RateLimited"),
                    "500": error_ref("Internal"),
                    "503": error_ref("Unavailable")
                }
            }
        },
        "/v1/openapi.json": {
            "get": operation("getOpenApi", "This document.", json!({
                "200": {"description": "The OpenAPI 3.1 document.",
                        "content": {"application/json": {"schema": {"type": "object"}}}}
            }), json!({}))
        },
        "/v1/capabilities": {
            "get": operation("getCapabilities",
                "Engines and versions, plans, regions, flavors and the defaults for omitted fields.",
                json!({"200": ok("What the service offers.", "Capabilities")}), json!({}))
        },
        "/v1/databases": {
            "get": operation("listDatabases", "Databases not yet gone, sorted by name.", json!({
                "200": ok("The databases.", "DatabaseList"),
                "400": error_ref("Invalid")
            }), json!({
                "parameters": [{
                    "name": "name_prefix", "in": "query", "required": false,
                    "schema": {"type": "string"},
                    "description": "Only databases whose name starts with this (literally)."
                }]
            })),
            "post": operation("createDatabase",
                "Create a database; it is CREATING until provisioned, then READY.",
                json!({
                    "202": ok("Accepted; the database in status CREATING (or, for an \
                        idempotent replay, the database created by the first request).", "Database"),
                    "400": error_ref("Invalid"),
                    "409": error_ref("Conflict")
                }),
                json!({
                    "parameters": [{
                        "name": "Idempotency-Key", "in": "header", "required": false,
                        "schema": {"type": "string", "minLength": 1,
                                   "maxLength": MAX_IDEMPOTENCY_KEY_CHARS},
                        "description": "Repeating a create with the same key and body returns the \
                            database of the first create; the same key with another body is a 409. \
                            Keys are remembered for 24 hours."
                    }],
                    "requestBody": {"required": true, "content": json_content("CreateDatabase")}
                }))
        },
        "/v1/databases/{id}": {
            "parameters": [{"$ref": "#/components/parameters/DatabaseId"}],
            "get": operation("getDatabase", "One database.", json!({
                "200": ok("The database.", "Database"),
                "404": error_ref("NotFound")
            }), json!({})),
            "patch": operation("updateDatabase",
                "Change plan, version or description of a READY database.",
                json!({
                    "200": ok("Nothing to change; the database as it is.", "Database"),
                    "202": ok("Accepted; the database in status UPDATING with the new values.", "Database"),
                    "400": error_ref("Invalid"),
                    "404": error_ref("NotFound"),
                    "409": error_ref("Conflict")
                }),
                json!({"requestBody": {"required": true, "content": json_content("UpdateDatabase")}})),
            "delete": operation("deleteDatabase",
                "Delete a database, whatever its status; it is DELETING, then gone (404).",
                json!({
                    "202": ok("Accepted; the database in status DELETING.", "Database"),
                    "404": error_ref("NotFound")
                }), json!({}))
        },
        "/v1/_admin/requests": {
            "get": operation("listRequests",
                "Every request received since start (test aid; at most 10 000, oldest dropped).",
                json!({"200": ok("The request log.", "RequestLog")}), json!({})),
            "delete": operation("clearRequests", "Forget the request log.",
                json!({"200": ok("The (now empty) request log.", "RequestLog")}), json!({}))
        },
        "/v1/_admin/faults": {
            "post": operation("addFault",
                "Make the next `count` matching requests fail (test aid; paths under /v1/_admin/ \
                 are never faulted).",
                json!({
                    "200": ok("The pending faults.", "FaultList"),
                    "400": error_ref("Invalid")
                }),
                json!({"requestBody": {"required": true, "content": json_content("Fault")}})),
            "delete": operation("clearFaults", "Forget every pending fault.",
                json!({"200": ok("The (now empty) pending faults.", "FaultList")}), json!({}))
        }
    })
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    names.collect()
}

fn schemas() -> Value {
    let engine_names = names(CATALOG.engines.iter().map(|engine| engine.name));
    let plan_names = names(CATALOG.plans.iter().map(|plan| plan.name));
    let region_names = names(CATALOG.regions.iter().map(|region| region.name));
    let all_versions: Vec<&str> = {
        let mut versions: Vec<&str> = CATALOG
            .engines
            .iter()
            .flat_map(|engine| engine.versions.iter().copied())
            .collect();
        versions.sort_unstable();
        versions.dedup();
        versions
    };
    let name_schema = json!({
        "type": "string", "minLength": 3, "maxLength": 63,
        "pattern": "^[a-z][a-z0-9-]*[a-z0-9]$",
        "description": "3 to 63 characters among a-z, 0-9 and '-', starting with a letter, \
            not ending with '-'. Unique among databases not yet gone."
    });
    let timestamp = json!({
        "type": "string", "format": "date-time",
        "description": "RFC 3339 UTC with seconds precision, e.g. 2026-11-22T08:00:00Z."
    });
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "field"],
                    "properties": {
                        "code": {"type": "string", "enum": [
                            "invalid", "unauthorized", "not_found", "method_not_allowed",
                            "conflict", "rate_limited", "internal", "unavailable"]},
                        "message": {"type": "string", "description": "A human sentence."},
                        "field": {"type": ["string", "null"],
                                  "description": "The JSON field at fault, for `invalid`."}
                    }
                }
            }
        },
        "Health": {
            "type": "object", "required": ["status"],
            "properties": {"status": {"type": "string", "const": "ok"}}
        },
        "Capabilities": {
            "type": "object",
            "required": ["engines", "plans", "regions", "flavors", "defaults"],
            "properties": {
                "engines": {"type": "array", "items": {"$ref": "#/components/schemas/Engine"}},
                "plans": {"type": "array", "items": {"$ref": "#/components/schemas/Plan"}},
                "regions": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}},
                "flavors": {"type": "array", "items": {"$ref": "#/components/schemas/Flavor"}},
                "defaults": {
                    "type": "object", "required": ["engine", "plan", "region"],
                    "properties": {
                        "engine": {"type": "string"},
                        "plan": {"type": "string"},
                        "region": {"type": "string"}
                    }
                }
            }
        },
        "Engine": {
            "type": "object", "required": ["name", "versions", "default_version"],
            "properties": {
                "name": {"type": "string"},
                "versions": {"type": "array", "items": {"type": "string"}},
                "default_version": {"type": "string"}
            }
        },
        "Plan": {
            "type": "object", "required": ["name", "description", "node_count"],
            "properties": {
                "name": {"type": "string"},
                "description": {"type": "string"},
                "node_count": {"type": "integer", "minimum": 1}
            }
        },
        "Region": {
            "type": "object", "required": ["name", "description"],
            "properties": {"name": {"type": "string"}, "description": {"type": "string"}}
        },
        "Flavor": {
            "type": "object", "required": ["name", "cores", "memory_gb", "storage_gb"],
            "properties": {
                "name": {"type": "string"},
                "cores": {"type": "integer"},
                "memory_gb": {"type": "integer"},
                "storage_gb": {"type": "integer"}
            }
        },
        "Status": {
            "type": "string",
            "enum": ["CREATING", "UPDATING", "READY", "DELETING", "ERROR"]
        },
        "Database": {
            "type": "object",
            "required": ["id", "name", "engine", "version", "plan", "region", "description",
                         "status", "status_message", "endpoint", "created_at", "updated_at"],
            "properties": {
                "id": {"type": "string", "pattern": "^db-[0-9a-f]{12}$"},
                "name": name_schema,
                "engine": {"type": "string", "enum": engine_names},
                "version": {"type": "string", "enum": all_versions},
                "plan": {"type": "string", "enum": plan_names},
                "region": {"type": "string", "enum": region_names},
                "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS},
                "status": {"$ref": "#/components/schemas/Status"},
                "status_message": {"type": ["string", "null"]},
                "endpoint": {
                    "type": "string",
                    "description": "<scheme>://<name>.<region>.dbaas.local:<port>/<name>; \
                        never carries credentials."
                },
                "created_at": timestamp,
                "updated_at": timestamp
            }
        },
        "DatabaseList": {
            "type": "object", "required": ["databases"],
            "properties": {
                "databases": {"type": "array", "items": {"$ref": "#/components/schemas/Database"}}
            }
        },
        "CreateDatabase": {
            "type": "object", "required": ["name"], "additionalProperties": false,
            "properties": {
                "name": name_schema,
                "engine": {"type": ["string", "null"], "enum": engine_names_nullable(&engine_names),
                           "description": "Defaults to the capabilities' default engine."},
                "version": {"type": ["string", "null"],
                            "description": "One of the engine's versions; defaults to its default_version."},
                "plan": {"type": ["string", "null"], "description": "Defaults to the default plan."},
                "region": {"type": ["string", "null"], "description": "Defaults to the default region."},
                "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS}
            }
        },
        "UpdateDatabase": {
            "type": "object", "additionalProperties": false,
            "description": "Only the fields present change; name, engine and region cannot \
                change (400 naming the field). A request that changes nothing answers 200.",
            "properties": {
                "plan": {"type": "string"},
                "version": {"type": "string", "description": "Another version of the same engine."},
                "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS,
                                "description": "null clears it."}
            }
        },
        "RequestLog": {
            "type": "object", "required": ["requests"],
            "properties": {
                "requests": {
                    "type": "array",
                    "items": {
                        "type": "object", "required": ["method", "path", "status", "at"],
                        "properties": {
                            "method": {"type": "string"},
                            "path": {"type": "string", "description": "Without the query string."},
                            "status": {"type": "integer"},
                            "at": {"type": "string", "format": "date-time",
                                   "description": "RFC 3339 UTC with milliseconds."}
                        }
                    }
                }
            }
        },
        "Fault": {
            "type": "object", "required": ["path_prefix", "status", "count"],
            "additionalProperties": false,
            "properties": {
                "path_prefix": {"type": "string", "pattern": "^/"},
                "method": {"type": ["string", "null"], "description": "null matches any method."},
                "status": {"type": "integer", "enum": [429, 500, 503]},
                "count": {"type": "integer", "minimum": 1},
                "retry_after": {"type": ["integer", "null"], "minimum": 0,
                                "description": "Seconds sent as Retry-After; a 429 without it \
                                    sends 1."}
            }
        },
        "FaultList": {
            "type": "object", "required": ["faults"],
            "properties": {
                "faults": {"type": "array", "items": {"$ref": "#/components/schemas/Fault"}}
            }
        }
    })
}

fn engine_names_nullable(names: &[&str]) -> Value {
    let mut values: Vec<Value> = names.iter().map(|name| json!(name)).collect();
    values.push(Value::Null);
    Value::Array(values)
}

fn error_responses() -> Value {
    let error =
        |description: &str| json!({"description": description, "content": json_content("Error")});
    let mut rate_limited = error("Too many requests (code rate_limited); see Retry-After.");
    rate_limited["headers"] = json!({"Retry-After": {"$ref": "#/components/headers/RetryAfter"}});
    let mut unavailable =
        error("Temporarily unavailable (code unavailable); Retry-After when known.");
    unavailable["headers"] = json!({"Retry-After": {"$ref": "#/components/headers/RetryAfter"}});
    json!({
        "Invalid": error("A field is invalid (code invalid); `field` names it."),
        "Unauthorized": error("Missing or wrong bearer token (code unauthorized)."),
        "NotFound": error("No such object (code not_found)."),
        "Conflict": error("Duplicate name, busy object or reused idempotency key (code conflict)."),
        "RateLimited": rate_limited,
        "Internal": error("Internal error (code internal)."),
        "Unavailable": unavailable
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect_refs(value: &Value, refs: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                for (key, inner) in object {
                    if key == "$ref" {
                        if let Some(reference) = inner.as_str() {
                            refs.push(reference.to_owned());
                        }
                    } else {
                        collect_refs(inner, refs);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
            _ => {}
        }
    }

    #[test]
    fn document_refs_all_resolve() {
        let document = document();
        let mut refs = Vec::new();
        collect_refs(document, &mut refs);
        assert!(refs.len() > 20);
        for reference in refs {
            let pointer = reference.strip_prefix('#').expect("local ref");
            assert!(
                document.pointer(pointer).is_some(),
                "{reference} does not resolve"
            );
        }
    }

    #[test]
    fn document_operations_have_ids_and_responses() {
        let document = document();
        assert_eq!(document["openapi"], "3.1.0");
        let mut ids = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                if method == "parameters" {
                    continue;
                }
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path}"));
                ids.push(id.to_owned());
                let responses = operation["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|status| status.starts_with('2')),
                    "{id}"
                );
                if path != "/healthz" {
                    assert!(responses.contains_key("401"), "{id} lacks 401");
                }
            }
        }
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids are unique");
        assert_eq!(count, 12);
    }
}
