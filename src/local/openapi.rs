//! The OpenAPI 3.1 document of the native API, served at `GET /v1/openapi.json`.
//!
//! Built once from `serde_json` values; the unit tests below check that every documented
//! operation is routed and that every `$ref` resolves, so the document cannot silently drift
//! from the handlers.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::MAX_BODY_BYTES;
use super::catalog::CATALOG;
use super::faults::MAX_DELAY_MS;
use super::idempotency::MAX_IDEMPOTENCY_KEY_CHARS;
use super::passwords::{GENERATED_LENGTH, MAX_CHOSEN_CHARS, MIN_CHOSEN_CHARS};
use super::validation::{
    ID_INDEX, MAX_COLLECTION_CHARS, MAX_DESCRIPTION_CHARS, MAX_INDEX_KEYS, MAX_INDEX_NAME_CHARS,
    MAX_ROLE_DATABASE_CHARS, MAX_USERNAME_CHARS, ROLES,
};

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
                Transitional statuses (CREATING, BUILDING, UPDATING, DELETING) settle by \
                themselves after the service's provision delay. Every 409 carries a `reason`: \
                `busy` (the object or its database is in a transitional status; the same request \
                succeeds later; sent with Retry-After: 1), `duplicate` (the object already \
                exists; retrying never helps) or `state` (any other state conflict). Changes to \
                the children of a database (credentials, indexes, IP restrictions) need the \
                database to exist (404, also while it is DELETING) and to be READY (409 busy); \
                reads work in any status. A database an administrator locked refuses every \
                change (409 state). When started with the OVH dialect's flags, the service also \
                speaks OVHcloud's API (Public Cloud Databases, MongoDB) under /ovh/1.0 over the \
                same databases; that API is OVH's own (signed requests, OVH's models and error \
                classes) and is not described here. A 202 carries `Retry-After`: the whole \
                seconds until its transition is due. The GET of one object is a blocking read \
                with `wait_for=READY`: the reply comes as soon as the object leaves CREATING, \
                BUILDING and UPDATING (or is gone: 404), at the latest after `timeout`, with \
                the object as it is then."
        },
        "servers": [{"url": "http://127.0.0.1:8780"}],
        "security": [{"bearer": []}],
        "paths": with_settle_hints(with_links(merged(paths(), child_paths()))),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"}
            },
            "parameters": {
                "DatabaseId": {
                    "name": "id", "in": "path", "required": true,
                    "schema": {"type": "string", "pattern": "^db-[0-9a-f]{12}$"},
                    "description": "Database id."
                },
                "Username": {
                    "name": "username", "in": "path", "required": true,
                    "schema": {"type": "string"},
                    "description": "Username of a credential of the database."
                },
                "Collection": {
                    "name": "collection", "in": "path", "required": true,
                    "schema": collection_name(),
                    "description": "Collection name (percent-encoded)."
                },
                "IndexName": {
                    "name": "name", "in": "path", "required": true,
                    "schema": {"type": "string"},
                    "description": "Index name; `_id_` is the implicit index of the collection."
                },
                "IdempotencyKey": {
                    "name": "Idempotency-Key", "in": "header", "required": false,
                    "schema": {"type": "string", "minLength": 1,
                               "maxLength": MAX_IDEMPOTENCY_KEY_CHARS, "pattern": "^[!-~]+$"},
                    "description": "Repeating a create with the same key and the same body \
                        (compared as decoded: key order does not matter, an omitted field \
                        differs from its default given explicitly) answers as the first create \
                        did: 202 with the object it created, as it is now (a generated password \
                        again, for a credential); the same key with another body is a 409 \
                        reason state, and so is a key whose object has since been deleted. Keys \
                        are scoped to the operation and its parent database (and collection), \
                        and remembered for 24 hours."
                },
                "Cidr": {
                    "name": "cidr", "in": "path", "required": true,
                    "schema": {"type": "string"},
                    "description": "The network with its `/` percent-encoded, e.g. \
                        `10.0.0.0%2F24`; any spelling of the same network finds it (a bare \
                        address means /32 or /128)."
                },
                "WaitFor": {
                    "name": "wait_for", "in": "query", "required": false,
                    "schema": {"type": "string", "enum": ["READY"]},
                    "description": "Hold the reply until the object leaves CREATING, BUILDING \
                        and UPDATING (READY, ERROR, DELETING) or is gone (404)."
                },
                "HoldTimeout": {
                    "name": "timeout", "in": "query", "required": false,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,6}(ms|s)$",
                               "examples": ["30s", "500ms"]},
                    "description": "The longest hold of a `wait_for` read, in whole seconds or \
                        milliseconds (default 30s; a longer one is cut to 60s). Without \
                        `wait_for` it holds nothing."
                }
            },
            "headers": {
                "RetryAfter": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 0}
                }
            },
            "schemas": merged(schemas(), child_schemas()),
            "responses": error_responses()
        }
    })
}

/// What a create's reply leads to: the operations on the created object and its children, with
/// the path parameters taken from the reply (OpenAPI links, which generated clients and
/// stateful test tools follow).
const LINKS: &[CreateLinks] = &[
    CreateLinks {
        create: "createDatabase",
        targets: &[
            "getDatabase",
            "updateDatabase",
            "deleteDatabase",
            "lockDatabase",
            "unlockDatabase",
            "listCredentials",
            "createCredential",
            "listCollections",
            "listIndexes",
            "createIndex",
            "listIpRestrictions",
            "createIpRestriction",
        ],
        parameters: &[("id", "$response.body#/id")],
    },
    CreateLinks {
        create: "createCredential",
        targets: &[
            "getCredential",
            "updateCredential",
            "deleteCredential",
            "resetCredentialPassword",
            "revealCredentialPassword",
            "verifyCredentialPassword",
        ],
        parameters: &[
            ("id", "$response.body#/database_id"),
            ("username", "$response.body#/username"),
        ],
    },
    CreateLinks {
        create: "createIndex",
        targets: &["getIndex", "deleteIndex", "listIndexes"],
        parameters: &[
            ("id", "$response.body#/database_id"),
            ("collection", "$response.body#/collection"),
            ("name", "$response.body#/name"),
        ],
    },
    CreateLinks {
        create: "createIpRestriction",
        targets: &[
            "getIpRestriction",
            "updateIpRestriction",
            "deleteIpRestriction",
        ],
        parameters: &[
            ("id", "$response.body#/database_id"),
            ("cidr", "$response.body#/cidr"),
        ],
    },
];

/// The links of one create's success reply: to each of `targets`, passing those of
/// `parameters` (path parameter name, runtime expression) that the target's path has.
struct CreateLinks {
    create: &'static str,
    targets: &'static [&'static str],
    parameters: &'static [(&'static str, &'static str)],
}

/// `paths` with [`LINKS`] added to the success reply of each create; a link passes the
/// parameters its target's path has.
/// The GETs of one object a client can wait on with a blocking read.
const BLOCKING_READS: &[&str] = &[
    "getDatabase",
    "getCredential",
    "getIndex",
    "getIpRestriction",
];

/// `paths` with `Retry-After` on every 202 and the blocking-read parameters (and their 400) on
/// the GETs of one object: one rule, not one copy per operation.
fn with_settle_hints(mut paths: Value) -> Value {
    let operations = paths
        .as_object_mut()
        .into_iter()
        .flat_map(|items| items.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for operation in operations {
        if let Some(accepted) = operation.pointer_mut("/responses/202") {
            accepted["headers"] =
                json!({"Retry-After": {"$ref": "#/components/headers/RetryAfter"}});
        }
        let blocking = operation["operationId"]
            .as_str()
            .is_some_and(|id| BLOCKING_READS.contains(&id));
        if blocking {
            operation["parameters"] = json!([
                {"$ref": "#/components/parameters/WaitFor"},
                {"$ref": "#/components/parameters/HoldTimeout"}
            ]);
            operation["responses"]["400"] = error_ref("Invalid");
        }
    }
    paths
}

fn with_links(mut paths: Value) -> Value {
    let path_of: Vec<(String, String)> = paths
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter_map(move |(_, operation)| {
                    let id = operation.get("operationId")?.as_str()?;
                    Some((id.to_owned(), path.clone()))
                })
        })
        .collect();
    let target_path = |target: &str| {
        path_of
            .iter()
            .find(|(id, _)| id == target)
            .map(|(_, path)| path.clone())
            .unwrap_or_default()
    };
    let Some(path_items) = paths.as_object_mut() else {
        return paths;
    };
    for item in path_items.values_mut() {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for operation in operations.values_mut() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let Some(CreateLinks {
                targets,
                parameters,
                ..
            }) = LINKS.iter().find(|links| links.create == id)
            else {
                continue;
            };
            let links: serde_json::Map<String, Value> = targets
                .iter()
                .map(|target| {
                    let path = target_path(target);
                    let passed: serde_json::Map<String, Value> = parameters
                        .iter()
                        .filter(|(name, _)| path.contains(&format!("{{{name}}}")))
                        .map(|(name, expression)| ((*name).to_owned(), json!(expression)))
                        .collect();
                    let link = json!({"operationId": target, "parameters": passed});
                    ((*target).to_owned(), link)
                })
                .collect();
            for status in ["201", "202"] {
                if let Some(reply) = operation["responses"].get_mut(status) {
                    reply["links"] = Value::Object(links.clone());
                }
            }
        }
    }
    paths
}

/// `base` with the members of `extra` added (both objects).
fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(target), Value::Object(extra)) = (base.as_object_mut(), extra) {
        target.extend(extra);
    }
    base
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
        ("413", "PayloadTooLarge"),
        ("429", "RateLimited"),
        ("500", "Internal"),
        ("502", "BadGateway"),
        ("503", "Unavailable"),
        ("504", "GatewayTimeout"),
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
                }, {
                    "name": "limit", "in": "query", "required": false,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "description": "At most this many databases; the reply then carries \
                        `next_page_token` when more follow. Without it, every database."
                }, {
                    "name": "page_token", "in": "query", "required": false,
                    "schema": {"type": "string"},
                    "description": "The `next_page_token` of the page before: the page \
                        starts after it."
                }, {
                    "name": "include", "in": "query", "required": false,
                    "schema": {"type": "string", "enum": ["children"]},
                    "description": "`children`: each database also lists its credentials \
                        (without passwords), indexes (of every collection, `_id_` included) \
                        and IP restrictions, as their own lists show them."
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
                keyed_body("CreateDatabase"))
        },
        "/v1/databases/{id}": {
            "parameters": [{"$ref": "#/components/parameters/DatabaseId"}],
            "get": operation("getDatabase", "One database.", json!({
                "200": ok("The database.", "Database"),
                "404": error_ref("NotFound")
            }), json!({})),
            "patch": operation("updateDatabase",
                "Change plan, version, flavor, node count or description of a READY database \
                 (409 reason busy otherwise, reason state while it is locked).",
                json!({
                    "200": ok("Nothing to change; the database as it is.", "Database"),
                    "202": ok("Accepted; the database in status UPDATING with the new values.", "Database"),
                    "400": error_ref("Invalid"),
                    "404": error_ref("NotFound"),
                    "409": error_ref("Conflict")
                }),
                json!({"requestBody": {"required": true, "content": json_content("UpdateDatabase")}})),
            "delete": operation("deleteDatabase",
                "Delete a database, whatever its status (unless it is locked: 409 reason \
                 state); it is DELETING, then gone (404).",
                json!({
                    "202": ok("Accepted; the database in status DELETING.", "Database"),
                    "404": error_ref("NotFound"),
                    "409": error_ref("Conflict")
                }), json!({}))
        },
        "/v1/databases/{id}/failover": {
            "parameters": [{"$ref": "#/components/parameters/DatabaseId"}],
            "post": operation("failoverDatabase",
                "The primary of a READY database steps down and a secondary takes over: the \
                 database is UPDATING, then READY (409 reason busy while it is not READY, \
                 reason state while it is locked).",
                json!({
                    "202": ok("Accepted; the database in status UPDATING.", "Database"),
                    "404": error_ref("NotFound"),
                    "409": error_ref("Conflict")
                }), json!({}))
        },
        "/v1/databases/{id}/restart": {
            "parameters": [{"$ref": "#/components/parameters/DatabaseId"}],
            "post": operation("restartDatabase",
                "Restart one node of a READY database, or every node in turn without a body: \
                 the database is UPDATING, then READY (409 reason state for a node beyond its \
                 node_count or while it is locked, reason busy while it is not READY).",
                json!({
                    "202": ok("Accepted; the database in status UPDATING.", "Database"),
                    "400": error_ref("Invalid"),
                    "404": error_ref("NotFound"),
                    "409": error_ref("Conflict")
                }),
                json!({"requestBody": {"required": false, "content": json_content("RestartDatabase")}}))
        },
        "/v1/_admin/requests": {
            "get": operation("listRequests",
                "Every request received since start (test aid; at most 10 000, oldest dropped).",
                json!({"200": ok("The request log.", "RequestLog")}), json!({})),
            "delete": operation("clearRequests", "Forget the request log.",
                json!({"200": ok("The (now empty) request log.", "RequestLog")}), json!({}))
        },
        "/v1/_admin/databases/{id}/lock": {
            "parameters": [{"$ref": "#/components/parameters/DatabaseId"}],
            "post": operation("lockDatabase",
                "Lock a database (test aid for a vendor's suspended services, e.g. OVH's LOCKED \
                 statuses): every change to it or its children (update, delete, credentials, \
                 indexes, IP restrictions) is refused with 409 reason state until it is \
                 unlocked. Reads and transitions under way go on. Locking a locked database \
                 changes nothing.",
                json!({
                    "200": ok("The database, locked.", "Database"),
                    "404": error_ref("NotFound")
                }), json!({})),
            "delete": operation("unlockDatabase", "Unlock a database; changes are possible again.",
                json!({
                    "200": ok("The database, unlocked.", "Database"),
                    "404": error_ref("NotFound")
                }), json!({}))
        },
        "/v1/_admin/faults": {
            "get": operation("listFaults", "The pending request faults, first added first used.",
                json!({"200": ok("The pending faults.", "FaultList")}), json!({})),
            "post": operation("addFault",
                "Make the next `count` matching requests fail, after letting `skip` of them \
                 pass (test aid; paths under /v1/_admin/ are never faulted). The first pending \
                 fault that matches a request decides alone. `before`: instead of handling the \
                 request, answer `status`, or cut the connection without any reply (`drop`), or \
                 wait `delay_ms` and then handle it. `after`: the handler runs to completion \
                 (its work is committed), then its reply is replaced by `status`, withheld by \
                 cutting the connection (`drop`), or held `delay_ms`. Errors use the format of \
                 the API the path belongs to (a vendor dialect's under its prefix), unless the \
                 fault has a `body` of its own.",
                json!({
                    "200": ok("The pending faults.", "FaultList"),
                    "400": error_ref("Invalid")
                }),
                json!({"requestBody": {"required": true, "content": json_content("Fault")}})),
            "delete": operation("clearFaults", "Forget every pending fault.",
                json!({"200": ok("The (now empty) pending faults.", "FaultList")}), json!({}))
        },
        "/v1/_admin/lifecycle-faults": {
            "get": operation("listLifecycleFaults", "The pending lifecycle faults.",
                json!({"200": ok("The pending lifecycle faults.", "LifecycleFaultList")}),
                json!({})),
            "post": operation("addLifecycleFault",
                "Make the next `count` created objects of `kind` (named `name`, when given), \
                 through any API, stay in their transitional status (`stuck`) or end in the \
                 failed status ERROR with `message` (`failed`) instead of becoming READY.",
                json!({
                    "200": ok("The pending lifecycle faults.", "LifecycleFaultList"),
                    "400": error_ref("Invalid")
                }),
                json!({"requestBody": {"required": true, "content": json_content("LifecycleFault")}})),
            "delete": operation("clearLifecycleFaults", "Forget every pending lifecycle fault.",
                json!({"200": ok("The (now empty) pending lifecycle faults.", "LifecycleFaultList")}),
                json!({}))
        }
    })
}

fn params(names: &[&str]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|name| json!({"$ref": format!("#/components/parameters/{name}")}))
            .collect(),
    )
}

fn body(schema: &str) -> Value {
    json!({"requestBody": {"required": true, "content": json_content(schema)}})
}

/// The body of a create, which also takes an `Idempotency-Key`.
fn keyed_body(schema: &str) -> Value {
    let mut operation = body(schema);
    operation["parameters"] = json!([{"$ref": "#/components/parameters/IdempotencyKey"}]);
    operation
}

/// The children of a database: credentials, collections and indexes, IP restrictions.
fn child_paths() -> Value {
    let change_errors = |success: Value| {
        let mut responses = success;
        for (status, name) in [("400", "Invalid"), ("404", "NotFound"), ("409", "Conflict")] {
            responses[status] = error_ref(name);
        }
        responses
    };
    json!({
        "/v1/databases/{id}/credentials": {
            "parameters": params(&["DatabaseId"]),
            "get": operation("listCredentials",
                "Credentials of a database, sorted by username (never with passwords).",
                json!({"200": ok("The credentials.", "CredentialList"),
                       "404": error_ref("NotFound")}), json!({})),
            "post": operation("createCredential",
                "Create a database user; CREATING, then READY. Without `password` the service \
                 generates one, returned in this reply (and revealable later); with one, only \
                 a salted hash is kept and the reply's password is null.",
                change_errors(json!({"202": ok("Accepted; the credential in status CREATING, \
                    with the generated password.", "Credential")})),
                keyed_body("CreateCredential"))
        },
        "/v1/databases/{id}/credentials/{username}": {
            "parameters": params(&["DatabaseId", "Username"]),
            "get": operation("getCredential", "One credential (without password).", json!({
                "200": ok("The credential.", "Credential"),
                "404": error_ref("NotFound")
            }), json!({})),
            "patch": operation("updateCredential",
                "Replace the roles of a READY credential (409 busy otherwise).",
                change_errors(json!({
                    "200": ok("The roles were already these; the credential as it is.", "Credential"),
                    "202": ok("Accepted; the credential in status UPDATING.", "Credential")
                })),
                body("UpdateCredential")),
            "delete": operation("deleteCredential",
                "Delete a credential, whatever its status; DELETING, then gone (404).",
                change_errors(json!({"202": ok("Accepted; the credential in status DELETING.",
                    "Credential")})), json!({}))
        },
        "/v1/databases/{id}/credentials/{username}/reset-password": {
            "parameters": params(&["DatabaseId", "Username"]),
            "post": operation("resetCredentialPassword",
                "Replace the password of a READY credential: with the one given (kept hashed, \
                 never revealable) or a generated one, returned in this reply.",
                change_errors(json!({"200": ok("The credential with the new generated \
                    password (null when the client chose it).", "Credential")})),
                json!({"requestBody": {"required": false,
                                       "content": json_content("ResetPassword")}}))
        },
        "/v1/databases/{id}/credentials/{username}/password": {
            "parameters": params(&["DatabaseId", "Username"]),
            "get": operation("revealCredentialPassword",
                "The current generated password. A password chosen by the client is not \
                 stored: 409 with reason state.",
                json!({
                    "200": ok("The password.", "Password"),
                    "404": error_ref("NotFound"),
                    "409": error_ref("Conflict")
                }), json!({}))
        },
        "/v1/databases/{id}/credentials/{username}/verify": {
            "parameters": params(&["DatabaseId", "Username"]),
            "post": operation("verifyCredentialPassword",
                "Whether a password is the credential's current one (either kind); works in \
                 any status.",
                json!({
                    "200": ok("The verdict.", "Verification"),
                    "400": error_ref("Invalid"),
                    "404": error_ref("NotFound")
                }), body("VerifyPassword"))
        },
        "/v1/databases/{id}/collections": {
            "parameters": params(&["DatabaseId"]),
            "get": operation("listCollections",
                "Collections of a database, sorted by name. A collection is created by its \
                 first index and stays (with _id_) when its last index is deleted.",
                json!({"200": ok("The collections.", "CollectionList"),
                       "404": error_ref("NotFound")}), json!({}))
        },
        "/v1/databases/{id}/collections/{collection}/indexes": {
            "parameters": params(&["DatabaseId", "Collection"]),
            "get": operation("listIndexes",
                "Indexes of a collection: the implicit _id_ first, then by name.",
                json!({"200": ok("The indexes.", "IndexList"),
                       "404": error_ref("NotFound")}), json!({})),
            "post": operation("createIndex",
                "Build an index (creating the collection when needed); BUILDING, then READY.",
                change_errors(json!({"202": ok("Accepted; the index in status BUILDING.",
                    "Index")})),
                keyed_body("CreateIndex"))
        },
        "/v1/databases/{id}/collections/{collection}/indexes/{name}": {
            "parameters": params(&["DatabaseId", "Collection", "IndexName"]),
            "get": operation("getIndex", "One index (_id_ included).", json!({
                "200": ok("The index.", "Index"),
                "404": error_ref("NotFound")
            }), json!({})),
            "delete": operation("deleteIndex",
                "Delete an index; DELETING, then gone (404). _id_ cannot be deleted (400).",
                change_errors(json!({"202": ok("Accepted; the index in status DELETING.",
                    "Index")})), json!({"parameters": [{
                        "name": "name", "in": "path", "required": true,
                        "schema": {"type": "string", "not": {"const": ID_INDEX}},
                        "description": "Index name; not `_id_`, the implicit index."
                    }]}))
        },
        "/v1/databases/{id}/ip-restrictions": {
            "parameters": params(&["DatabaseId"]),
            "get": operation("listIpRestrictions",
                "Networks allowed to reach the database: IPv4 first, then by address and \
                 prefix length.",
                json!({"200": ok("The IP restrictions.", "IpRestrictionList"),
                       "404": error_ref("NotFound")}), json!({})),
            "post": operation("createIpRestriction",
                "Allow a network; CREATING, then READY. The database is UPDATING for the same \
                 time, so every other change to it gets 409 busy until it is READY again.",
                change_errors(json!({"202": ok("Accepted; the restriction in status CREATING.",
                    "IpRestriction")})),
                keyed_body("CreateIpRestriction"))
        },
        "/v1/databases/{id}/ip-restrictions/{cidr}": {
            "parameters": params(&["DatabaseId", "Cidr"]),
            "get": operation("getIpRestriction", "One IP restriction.", json!({
                "200": ok("The IP restriction.", "IpRestriction"),
                "404": error_ref("NotFound")
            }), json!({})),
            "patch": operation("updateIpRestriction",
                "Change the description; this does not make the database busy.",
                change_errors(json!({"200": ok("The updated restriction.", "IpRestriction")})),
                body("UpdateIpRestriction")),
            "delete": operation("deleteIpRestriction",
                "Stop allowing a network; DELETING, then gone. The database is UPDATING for \
                 the same time.",
                change_errors(json!({"202": ok("Accepted; the restriction in status DELETING.",
                    "IpRestriction")})), json!({}))
        }
    })
}

fn child_schemas() -> Value {
    let timestamp = json!({
        "type": "string", "format": "date-time",
        "description": "RFC 3339 UTC with seconds precision, e.g. 2026-11-22T08:00:00Z."
    });
    let database_id = json!({"type": "string", "pattern": "^db-[0-9a-f]{12}$"});
    let username = json!({
        "type": "string", "minLength": 1, "maxLength": MAX_USERNAME_CHARS,
        "pattern": "^[A-Za-z][A-Za-z0-9_.-]*$",
        "description": "Unique within the database."
    });
    let roles = json!({
        "type": "array",
        "items": {
            "type": "string",
            "pattern": format!("^({})@[A-Za-z0-9_-]{{1,{MAX_ROLE_DATABASE_CHARS}}}$", ROLES.join("|")),
            "description": format!("<role>@<database>, role one of {}.", ROLES.join(", "))
        },
        "uniqueItems": true,
        "description": "Kept in the order given; no role twice."
    });
    let chosen_password = json!({
        "type": ["string", "null"], "minLength": MIN_CHOSEN_CHARS, "maxLength": MAX_CHOSEN_CHARS,
        "writeOnly": true,
        "description": "Chosen by the client: stored only as a salted hash, never shown or \
            revealable. Absent or null: the service generates one."
    });
    let description = json!({"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS});
    let child_status_message = json!({"type": ["string", "null"],
        "description": "Why it is in ERROR (what a real engine refused, say); null in any \
            other status."});
    json!({
        "Credential": {
            "type": "object",
            "required": ["database_id", "username", "roles", "status", "status_message",
                         "password_chosen", "password", "created_at", "updated_at"],
            "properties": {
                "database_id": database_id,
                "username": username,
                "roles": roles,
                "status": {"$ref": "#/components/schemas/ChildStatus"},
                "status_message": child_status_message.clone(),
                "password_chosen": {"type": "boolean",
                    "description": "True when the client chose the current password (it \
                        cannot be revealed)."},
                "password": {"type": ["string", "null"],
                    "description": format!("The generated password ({GENERATED_LENGTH} letters \
                        and digits), only in the create and reset replies; null everywhere \
                        else and when the client chose it.")},
                "created_at": timestamp,
                "updated_at": timestamp
            }
        },
        "CredentialList": {
            "type": "object", "required": ["credentials"],
            "properties": {
                "credentials": {"type": "array",
                                "items": {"$ref": "#/components/schemas/Credential"}}
            }
        },
        "CreateCredential": {
            "type": "object", "required": ["username"], "additionalProperties": false,
            "examples": [{"username": "app", "roles": ["readWrite@shop"]}],
            "properties": {
                "username": username,
                "roles": {"type": ["array", "null"], "items": roles["items"].clone(),
                          "uniqueItems": true,
                          "description": "Absent or null: no roles."},
                "password": chosen_password
            }
        },
        "UpdateCredential": {
            "type": "object", "required": ["roles"], "additionalProperties": false,
            "description": "The whole new list of roles; username and password cannot be \
                changed here (400 naming the field).",
            "properties": {"roles": roles}
        },
        "ResetPassword": {
            "type": "object", "additionalProperties": false,
            "description": "An empty body or {} generates a new password.",
            "properties": {"password": chosen_password}
        },
        "Password": {
            "type": "object", "required": ["password"],
            "properties": {"password": {"type": "string"}}
        },
        "VerifyPassword": {
            "type": "object", "required": ["password"], "additionalProperties": false,
            "properties": {"password": {"type": "string", "writeOnly": true}}
        },
        "Verification": {
            "type": "object", "required": ["valid"],
            "properties": {"valid": {"type": "boolean"}}
        },
        "Collection": {
            "type": "object", "required": ["name", "index_count"],
            "properties": {
                "name": {"type": "string"},
                "index_count": {"type": "integer", "minimum": 1,
                                "description": "Indexes listed for it, _id_ included."}
            }
        },
        "CollectionList": {
            "type": "object", "required": ["collections"],
            "properties": {
                "collections": {"type": "array",
                                "items": {"$ref": "#/components/schemas/Collection"}}
            }
        },
        "IndexKey": {
            "type": "object", "required": ["field", "direction"], "additionalProperties": false,
            "properties": {
                "field": {"type": "string", "minLength": 1, "pattern": "^[^$\\u0000][^\\u0000]*$",
                          "description": "Not starting with '$'; no NUL."},
                "direction": {"type": "integer", "enum": [1, -1]}
            }
        },
        "Index": {
            "type": "object",
            "required": ["database_id", "collection", "name", "keys", "unique", "sparse",
                         "status", "status_message", "created_at"],
            "properties": {
                "database_id": database_id,
                "collection": {"type": "string"},
                "name": {"type": "string"},
                "keys": {"type": "array", "items": {"$ref": "#/components/schemas/IndexKey"}},
                "unique": {"type": "boolean"},
                "sparse": {"type": "boolean"},
                "status": {"$ref": "#/components/schemas/ChildStatus"},
                "status_message": child_status_message.clone(),
                "created_at": timestamp
            }
        },
        "IndexList": {
            "type": "object", "required": ["indexes"],
            "properties": {
                "indexes": {"type": "array", "items": {"$ref": "#/components/schemas/Index"}}
            }
        },
        "CreateIndex": {
            "type": "object", "required": ["keys"], "additionalProperties": false,
            "examples": [{"keys": [{"field": "customer_id", "direction": 1},
                                   {"field": "created_at", "direction": -1}]}],
            "description": format!("The collection (path) must be 1 to {MAX_COLLECTION_CHARS} \
                characters, without '$' or NUL, not starting with 'system.'. Two indexes of a \
                collection may not share a name or a key list (409 duplicate)."),
            "properties": {
                "name": {"type": ["string", "null"], "minLength": 1,
                         "maxLength": MAX_INDEX_NAME_CHARS, "not": {"const": ID_INDEX},
                         "description": format!("Not _id_. Absent or null: fields and \
                             directions joined MongoDB style, e.g. a_1_b_-1 (400 naming name \
                             when that is longer than {MAX_INDEX_NAME_CHARS} characters).")},
                "keys": {"type": "array", "minItems": 1, "maxItems": MAX_INDEX_KEYS,
                         "items": {"$ref": "#/components/schemas/IndexKey"},
                         "description": "Distinct fields (no field twice, whatever the \
                             directions: 400 naming keys), in order; not exactly [{_id: 1}]."},
                "unique": {"type": ["boolean", "null"], "description": "Default false."},
                "sparse": {"type": ["boolean", "null"], "description": "Default false."}
            }
        },
        "IpRestriction": {
            "type": "object",
            "required": ["database_id", "cidr", "description", "status", "status_message",
                         "created_at"],
            "properties": {
                "database_id": database_id,
                "cidr": {"type": "string",
                         "description": "Canonical: the network address and prefix length; \
                             IPv6 in RFC 5952 form."},
                "description": description,
                "status": {"$ref": "#/components/schemas/ChildStatus"},
                "status_message": child_status_message,
                "created_at": timestamp
            }
        },
        "IpRestrictionList": {
            "type": "object", "required": ["ip_restrictions"],
            "properties": {
                "ip_restrictions": {"type": "array",
                                    "items": {"$ref": "#/components/schemas/IpRestriction"}}
            }
        },
        "CreateIpRestriction": {
            "type": "object", "required": ["cidr"], "additionalProperties": false,
            "examples": [{"cidr": "203.0.113.0/24", "description": "office"}],
            "properties": {
                "cidr": {"type": "string", "format": "cidr", "minLength": 2, "maxLength": 43,
                         "description": "IPv4 or IPv6 network (format cidr: an address as \
                             RFC 4632 and RFC 4291 write it, optionally `/` and a prefix length \
                             of 1 to 3 digits); a bare address means /32 or \
                             /128; host bits must be zero (400 suggests the network). Stored \
                             canonical; the same network twice is 409 duplicate."},
                "description": description
            }
        },
        "UpdateIpRestriction": {
            "type": "object", "required": ["description"], "additionalProperties": false,
            "description": "The cidr cannot be changed (400 naming it).",
            "properties": {"description": {"type": ["string", "null"],
                                           "maxLength": MAX_DESCRIPTION_CHARS,
                                           "description": "null clears it."}}
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
    let flavor_names = names(CATALOG.flavors.iter().map(|flavor| flavor.name));
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
                            "conflict", "payload_too_large", "rate_limited", "internal",
                            "bad_gateway", "gateway_timeout", "unavailable"]},
                        "reason": {"type": "string", "enum": ["busy", "duplicate", "state"],
                                   "description": "Present on every 409 (code conflict) and \
                                       only there. busy: the object or its database is in a \
                                       transitional status and the same request succeeds \
                                       later (Retry-After: 1); duplicate: the object already \
                                       exists, retrying never helps; state: any other state \
                                       conflict."},
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
            "type": "object", "required": ["name", "versions", "default_version", "backing"],
            "properties": {
                "name": {"type": "string"},
                "versions": {"type": "array", "items": {"type": "string"}},
                "default_version": {"type": "string"},
                "backing": {
                    "type": "string", "enum": ["real", "simulated"],
                    "description": "real: a database of this engine is a database of a server dbaas-local runs (PostgreSQL), and its endpoint accepts connections; simulated: only dbaas-local's store holds it."
                }
            }
        },
        "Plan": {
            "type": "object",
            "required": ["name", "description", "node_count", "min_node_count", "max_node_count"],
            "properties": {
                "name": {"type": "string"},
                "description": {"type": "string"},
                "node_count": {"type": "integer", "minimum": 1,
                               "description": "Nodes of a database that asks for no count."},
                "min_node_count": {"type": "integer", "minimum": 1,
                                   "description": "Fewest nodes allowed on this plan."},
                "max_node_count": {"type": "integer", "minimum": 1,
                                   "description": "Most nodes allowed on this plan."}
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
            "enum": ["CREATING", "UPDATING", "READY", "DELETING", "ERROR"],
            "description": "ERROR: provisioning failed (status_message says why); the \
                database can only be deleted (a change is a 409 reason state)."
        },
        "ChildStatus": {
            "type": "string",
            "enum": ["CREATING", "BUILDING", "UPDATING", "READY", "DELETING", "ERROR"],
            "description": "Credentials: CREATING, UPDATING, READY, DELETING. Indexes: \
                BUILDING, READY, DELETING. IP restrictions: CREATING, READY, DELETING. Any of \
                them: ERROR when its creation failed; it can then only be deleted."
        },
        "Database": {
            "type": "object",
            "required": ["id", "name", "engine", "version", "plan", "region", "flavor",
                         "node_count", "description", "locked", "status", "status_message",
                         "endpoint", "created_at", "updated_at"],
            "properties": {
                "id": {"type": "string", "pattern": "^db-[0-9a-f]{12}$"},
                "name": name_schema,
                "engine": {"type": "string", "enum": engine_names},
                "version": {"type": "string", "enum": all_versions},
                "plan": {"type": "string", "enum": plan_names},
                "region": {"type": "string", "enum": region_names},
                "flavor": {"type": "string", "enum": flavor_names.clone(),
                           "description": "Node flavor (machine size)."},
                "node_count": {"type": "integer", "minimum": 1, "maximum": MAX_NODE_COUNT,
                               "description": "Nodes the database runs on, within its plan's \
                                   limits."},
                "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS},
                "locked": {"type": "boolean",
                           "description": "Set by an administrator \
                               (POST /v1/_admin/databases/{id}/lock): every change is refused \
                               with 409 reason state until unlocked."},
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
                "databases": {"type": "array", "items": {"$ref": "#/components/schemas/ListedDatabase"}},
                "next_page_token": {"type": "string",
                    "description": "Present when a `limit` cut the list: pass it as \
                        `page_token` for the next page."}
            }
        },
        "ListedDatabase": {
            "description": "A database; with `include=children`, also its children.",
            "allOf": [{"$ref": "#/components/schemas/Database"}],
            "properties": {
                "credentials": {"type": "array", "items": {"$ref": "#/components/schemas/Credential"}},
                "indexes": {"type": "array", "items": {"$ref": "#/components/schemas/Index"}},
                "ip_restrictions": {"type": "array", "items": {"$ref": "#/components/schemas/IpRestriction"}}
            }
        },
        "CreateDatabase": {
            "type": "object", "required": ["name"], "additionalProperties": false,
            "description": "A version must be one of its engine's, and a node_count within \
                its plan's limits (400 naming the field); both as the capabilities say.",
            "allOf": create_rules(),
            "examples": [{"name": "shop", "engine": "postgresql", "plan": "business",
                          "node_count": 3, "description": "the shop's orders"}],
            "properties": {
                "name": name_schema,
                "engine": {"type": ["string", "null"], "enum": nullable(&engine_names),
                           "description": "Defaults to the capabilities' default engine."},
                "version": {"type": ["string", "null"], "enum": nullable(&all_versions),
                            "description": "One of the engine's versions; defaults to its default_version."},
                "plan": {"type": ["string", "null"], "enum": nullable(&plan_names),
                         "description": "Defaults to the default plan."},
                "region": {"type": ["string", "null"], "enum": nullable(&region_names),
                           "description": "Defaults to the default region."},
                "flavor": {"type": ["string", "null"], "enum": nullable(&flavor_names),
                           "description": "Node flavor; defaults to the first of the \
                               capabilities' flavors."},
                "node_count": {"type": ["integer", "null"], "minimum": 1,
                               "maximum": MAX_NODE_COUNT,
                               "description": "Defaults to the plan's node_count; must be \
                                   within the plan's min_node_count and max_node_count (400 \
                                   naming node_count)."},
                "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS}
            }
        },
        "RestartDatabase": {
            "type": "object", "additionalProperties": false,
            "description": "The node to restart, from 1 to the database's node_count; none or \
                null restarts every node in turn.",
            "examples": [{"node": 1}, {}],
            "properties": {
                "node": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_NODE_COUNT}
            }
        },
        "UpdateDatabase": {
            "type": "object", "additionalProperties": false,
            "description": "Only the fields present change; name, engine and region cannot \
                change (400 naming the field). A request that changes nothing answers 200. \
                With plan, a node_count must be within that plan's limits (400). What depends \
                on the database itself is a 409 reason state: a version its engine does not \
                offer, or a node_count its current plan does not allow.",
            "allOf": plan_rules(false),
            "examples": [{"plan": "business", "node_count": 3}, {"description": null}],
            "properties": {
                "plan": {"type": "string", "enum": plan_names},
                "version": {"type": "string", "enum": all_versions,
                            "description": "Another version of the same engine."},
                "flavor": {"type": "string", "enum": flavor_names},
                "node_count": {"type": "integer", "minimum": 1, "maximum": MAX_NODE_COUNT,
                               "description": "Within the plan's limits. When the plan \
                                   changes without node_count, a count the new plan allows is \
                                   kept and any other becomes the new plan's node_count."},
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
                        "type": "object",
                        "required": ["method", "path", "status", "at", "took_ms", "fault"],
                        "properties": {
                            "method": {"type": "string"},
                            "path": {"type": "string", "description": "Without the query string."},
                            "status": {"type": "integer",
                                       "description": "The status answered; for a reply a \
                                           `drop` fault withheld, the handler's; 0 when a \
                                           `before` drop left it unhandled and unanswered."},
                            "at": {"type": "string", "format": "date-time",
                                   "description": "RFC 3339 UTC with milliseconds."},
                            "took_ms": {"type": "integer", "minimum": 0,
                                        "description": "Milliseconds from its arrival to its \
                                            reply (a blocking read's hold included)."},
                            "fault": {"type": ["string", "null"],
                                      "description": "The fault that hit it, \
                                          `<when>:<action>` (e.g. `after:drop`)."}
                        }
                    }
                }
            }
        },
        "Fault": {
            "type": "object", "required": ["path_prefix"],
            "additionalProperties": false,
            "allOf": fault_rules(),
            "properties": {
                "path_prefix": {"type": "string", "pattern": "^/"},
                "method": {"type": ["string", "null"], "minLength": 1,
                           "description": "null matches any method."},
                "when": {"type": ["string", "null"], "enum": ["before", "after", null],
                         "default": "before",
                         "description": "before: instead of (or, for delay, before) handling \
                             the request; after: once the handler completed, its work committed."},
                "action": {"type": ["string", "null"], "enum": ["status", "drop", "delay", null],
                           "default": "status"},
                "status": {"type": ["integer", "null"], "minimum": 400, "maximum": 599,
                           "description": "Required with action status; refused otherwise. \
                               429, 500, 502, 503 or 504; with a body, any of 400-599."},
                "body": {"type": ["string", "object", "array", "null"],
                         "description": "Action status only: the reply body instead of the \
                             API's error, a string as text/plain, JSON as application/json \
                             (e.g. a hostile error body that quotes a password)."},
                "delay_ms": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_DELAY_MS,
                             "description": "Required with action delay; refused otherwise."},
                "retry_after": {"type": ["integer", "null"], "minimum": 0,
                                "description": "Seconds sent as Retry-After (action status \
                                    only); a 429 without it sends 1."},
                "skip": {"type": ["integer", "null"], "minimum": 0, "default": 0,
                         "description": "Matching requests to let through untouched first."},
                "count": {"type": ["integer", "null"], "minimum": 1, "default": 1,
                          "description": "Matching requests to hit (in a list: still to hit)."}
            }
        },
        "FaultList": {
            "type": "object", "required": ["faults"],
            "properties": {
                "faults": {"type": "array", "items": {"$ref": "#/components/schemas/Fault"}}
            }
        },
        "LifecycleFault": {
            "type": "object", "required": ["kind", "outcome"], "additionalProperties": false,
            "allOf": [
                {"if": {"properties": {"outcome": {"const": "stuck"}}},
                 "then": {"properties": {"message": {"type": "null"}}}},
                {"if": {"properties": {"kind": {"const": "ip_restriction"}}},
                 "then": {"properties": {"name": {"type": ["string", "null"], "format": "cidr"}}}}
            ],
            "properties": {
                "kind": {"type": "string",
                         "enum": ["database", "credential", "index", "ip_restriction"]},
                "name": {"type": ["string", "null"], "minLength": 1,
                         "description": "Database name, username, index name or CIDR (a \
                             network, for kind ip_restriction); any when absent or null."},
                "outcome": {"type": "string", "enum": ["stuck", "failed"]},
                "message": {"type": ["string", "null"],
                            "description": "Why it failed (`failed` only)."},
                "count": {"type": ["integer", "null"], "minimum": 1, "default": 1}
            }
        },
        "LifecycleFaultList": {
            "type": "object", "required": ["lifecycle_faults"],
            "properties": {
                "lifecycle_faults": {"type": "array",
                                     "items": {"$ref": "#/components/schemas/LifecycleFault"}}
            }
        }
    })
}

/// The rules of a create that tie fields together: each engine's versions (the default engine's
/// when none is named) and each plan's node limits.
fn create_rules() -> Value {
    let mut rules: Vec<Value> = CATALOG
        .engines
        .iter()
        .map(|engine| {
            let versions = nullable(engine.versions);
            let named = json!({"properties": {"engine": {"const": engine.name}},
                               "required": ["engine"]});
            let condition = if engine.name == CATALOG.defaults.engine {
                json!({"anyOf": [named, {"properties": {"engine": {"type": "null"}}}]})
            } else {
                named
            };
            json!({"if": condition, "then": {"properties": {"version": {"enum": versions}}}})
        })
        .collect();
    rules.extend(plan_rules(true));
    Value::Array(rules)
}

/// Each plan's node limits on `node_count`, when the request names the plan (or, in a create,
/// `by_default`: when it names none, the default plan's).
fn plan_rules(by_default: bool) -> Vec<Value> {
    CATALOG
        .plans
        .iter()
        .map(|plan| {
            let named = json!({"properties": {"plan": {"const": plan.name}}, "required": ["plan"]});
            let condition = if by_default && plan.name == CATALOG.defaults.plan {
                json!({"anyOf": [named, {"properties": {"plan": {"type": "null"}}}]})
            } else {
                named
            };
            json!({"if": condition, "then": {"properties": {"node_count": {
                "minimum": plan.min_node_count, "maximum": plan.max_node_count}}}})
        })
        .collect()
}

/// What goes with each action of a request fault: `status` (the default) needs `status` and
/// alone takes `retry_after` and `body`; `delay` needs `delay_ms`, which nothing else takes;
/// without a body, the status is one a service could answer by itself (429 or 5xx).
fn fault_rules() -> Value {
    let delay = json!({"properties": {"action": {"const": "delay"}}, "required": ["action"]});
    let status = json!({"properties": {"action": {"enum": ["status", null]}}});
    let without_body = json!({"properties": {"body": {"type": "null"}}});
    json!([
        {"if": delay, "then": {"required": ["delay_ms"],
                               "properties": {"delay_ms": {"type": "integer"}}},
                      "else": {"properties": {"delay_ms": {"type": "null"}}}},
        {"if": status, "then": {"required": ["status"],
                                "properties": {"status": {"type": "integer"}}},
                       "else": {"properties": {"status": {"type": "null"},
                                               "retry_after": {"type": "null"},
                                               "body": {"type": "null"}}}},
        {"if": without_body,
         "then": {"properties": {"status": {"enum": [429, 500, 502, 503, 504, null]}}}}
    ])
}

/// A collection name: 1 to 120 characters, no `$`, no NUL, not starting with `system.`.
fn collection_name() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": MAX_COLLECTION_CHARS,
           "pattern": "^(?!system\\.)[^$\\u0000]*$"})
}

/// The largest node count any plan allows.
const MAX_NODE_COUNT: u32 = 8;

/// `names` and `null`, for the `enum` of a nullable string.
fn nullable(names: &[&str]) -> Value {
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
    let mut conflict = error(
        "Conflict (code conflict); `reason` says whether waiting helps: busy (with \
         Retry-After: 1), duplicate or state.",
    );
    conflict["headers"] = json!({"Retry-After": {
        "$ref": "#/components/headers/RetryAfter",
        "description": "Sent with reason busy: seconds to wait before retrying (1)."
    }});
    unavailable["headers"] = json!({"Retry-After": {"$ref": "#/components/headers/RetryAfter"}});
    json!({
        "Invalid": error("A field is invalid (code invalid); `field` names it."),
        "Unauthorized": error("Missing or wrong bearer token (code unauthorized)."),
        "PayloadTooLarge": error(&format!(
            "The request body is longer than {MAX_BODY_BYTES} bytes (code payload_too_large)."
        )),
        "NotFound": error("No such object (code not_found)."),
        "Conflict": conflict,
        "RateLimited": rate_limited,
        "Internal": error("Internal error (code internal)."),
        "BadGateway": error("Bad gateway (code bad_gateway); only injected faults answer it."),
        "GatewayTimeout": error(
            "Gateway timeout (code gateway_timeout); only injected faults answer it."
        ),
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
        assert_eq!(count, 38);
    }

    #[test]
    fn document_node_limits_match_the_catalog() {
        let largest = CATALOG.plans.iter().map(|plan| plan.max_node_count).max();
        assert_eq!(largest, Some(MAX_NODE_COUNT));
        let database = &document()["components"]["schemas"]["Database"];
        assert_eq!(
            database["properties"]["flavor"]["enum"],
            json!(["db1-4", "db1-7", "db1-15"])
        );
    }
}
