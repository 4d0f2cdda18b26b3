//! `GoaddonApi`: the client for goaddon.com's project API (`/api/v1`).
//!
//! Facts followed: seed 003 and vendor-apis.md §4. A goaddon API token belongs to one project,
//! which has one MongoDB database; the token is sent as `Authorization: Basic <base64 of the
//! bare token>` (no `user:` colon, the seed's worked example). Where the facts are silent, this
//! client follows the same Rails-style choices as dbaas-local's goaddon dialect (paths
//! `/api/v1/projects`, `/api/v1/collections`, `/api/v1/database_users`; 201/200/204; 422
//! `{"errors": {field: [..]}}`; a 409 with `Retry-After` is busy, without it a conflict).
//!
//! How the domain maps onto goaddon:
//! - a database is the token's project (`_id` is its id, `db_name` its name). goaddon creates
//!   projects when an account signs up, not through this API, and destroying one is not an API
//!   operation either, so `dbaas_database` is **not** offered: a resource whose destroy cannot
//!   destroy, and whose create can only adopt, would not be honest. The replica set's node count
//!   is shown read-only through the database data sources ([`Feature::ListDatabases`]): the
//!   seed's node endpoint documents neither path nor body, and warns of data loss;
//! - an index is an entry in its collection's `indexes` array. A collection holds many
//!   indexes and is written as a whole, so every change is a read-modify-write under a lock per
//!   collection held by the client (and its clones): parallel index resources on one collection
//!   all land. A collection that does not exist yet is created with the first index;
//! - a credential is a database user with `roles`: goaddon's bare MongoDB role names
//!   (`readWrite`) are the domain's `readWrite@<db_name>`, since a goaddon user has roles on the
//!   project's one database only (a role on another database is refused), and either a password the client chooses (`password_wo`) or one the API generates and
//!   shows once in the create reply. A generated password cannot be rotated (the API updates
//!   only to a password you give) nor read back later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use http::HeaderValue;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;

use super::http::{
    ApiRequest, ApiResponse, AuthContext, Authenticator, HttpClient, HttpConfig, HttpTuning,
    encode_path_segment, error_for_status, error_message_from_body, status_reason,
};
use super::{
    Capabilities, Credential, CredentialSpec, Database, DatabaseChanges, DatabaseSpec, DbaasApi,
    Error, Feature, Index, IndexDirection, IndexKey, IndexSpec, Phase, Status, default_index_name,
};

/// What goaddon offers through this client. Not offered: managing the database itself (see
/// the module doc), rotating or reading back a generated password, IP restrictions (not in the
/// API), the capabilities and availability catalogs (goaddon publishes none).
pub const FEATURES: &[Feature] = &[
    Feature::Credential,
    Feature::CredentialRoles,
    Feature::CredentialChosenPassword,
    Feature::CollectionIndex,
    Feature::ListDatabases,
    Feature::Failover,
    Feature::Restart,
];

/// The public API root.
pub const DEFAULT_ENDPOINT: &str = "https://goaddon.com";

/// Where the API lives under the endpoint.
const API: &str = "/api/v1";

/// The name of the implicit index every MongoDB collection has.
const ID_INDEX: &str = "_id_";

/// How to reach and authenticate to goaddon.
#[derive(Clone, Debug)]
pub struct GoaddonConfig {
    /// API root: [`DEFAULT_ENDPOINT`], or a local emulator's (`http://127.0.0.1:8780/goaddon`).
    pub endpoint: String,
    /// The project's API token (`p-…`); never logged.
    pub token: SecretString,
}

/// `Authorization: Basic <base64 of the bare token>`, as goaddon documents it.
#[derive(Clone, Debug)]
pub struct BareTokenBasic(pub SecretString);

impl Authenticator for BareTokenBasic {
    fn authorize(&self, request: &mut AuthContext<'_>) -> Result<(), Error> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(self.0.expose_secret());
        let mut value =
            HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| Error::Invalid {
                field: Some("token".to_owned()),
                message: "the goaddon token contains characters not allowed in a header".to_owned(),
            })?;
        value.set_sensitive(true);
        request.headers.insert(http::header::AUTHORIZATION, value);
        Ok(())
    }
}

/// Client for goaddon's project API. Cheap to clone; clones share the connection pool, the
/// project id and the per-collection locks.
#[derive(Clone, Debug)]
pub struct GoaddonApi {
    /// Authenticated calls.
    http: HttpClient,
    /// The token's project: its id and its database name, fetched once.
    project: Arc<OnceCell<(String, String)>>,
    /// One lock per collection (`klass`), held while its `indexes` are read and rewritten.
    collection_locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// A project as goaddon shows it (only the fields used here).
#[derive(Debug, Deserialize)]
struct WireProject {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    db_name: Option<String>,
    #[serde(default)]
    db_hosts: Vec<String>,
    #[serde(default)]
    database_configuration: Option<Map<String, Value>>,
    #[serde(default)]
    zone: Option<String>,
}

/// A database user as goaddon shows it.
#[derive(Debug, Deserialize)]
struct WireUser {
    #[serde(rename = "_id")]
    id: String,
    username: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

/// A collection as goaddon shows it; `indexes` entries are kept as sent so a rewrite returns
/// other entries unchanged.
#[derive(Debug, Deserialize)]
struct WireCollection {
    #[serde(rename = "_id")]
    id: String,
    klass: String,
    #[serde(default)]
    indexes: Vec<Value>,
}

/// Maps goaddon's Rails-style error bodies.
pub fn goaddon_error_mapper(response: &ApiResponse) -> Error {
    let status = response.status;
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    if let Some(Value::Object(errors)) = parsed.as_ref().and_then(|body| body.get("errors")) {
        let field = errors.keys().next().cloned();
        let message = errors
            .iter()
            .map(|(field, messages)| {
                let text =
                    error_message_from_body(messages.to_string().as_bytes()).unwrap_or_default();
                format!("{field} {text}")
            })
            .collect::<Vec<_>>()
            .join("; ");
        if message.contains("has already been taken") {
            return Error::Conflict { message };
        }
        return error_for_status(status, message, field, response.retry_after());
    }
    let message = error_message_from_body(&response.body).unwrap_or_else(|| status_reason(status));
    if status == 409 && response.header("retry-after").is_some() {
        return Error::Busy {
            message,
            retry_after: response.retry_after(),
        };
    }
    error_for_status(status, message, None, response.retry_after())
}

impl GoaddonApi {
    /// A client for `config`; fails on an empty token or a malformed endpoint. Nothing is sent
    /// until the first call.
    pub fn new(config: GoaddonConfig, tuning: HttpTuning) -> Result<Self, Error> {
        if config.token.expose_secret().trim().is_empty() {
            return Err(Error::Invalid {
                field: Some("token".to_owned()),
                message: "the goaddon token must not be empty".to_owned(),
            });
        }
        let endpoint = if config.endpoint.trim().is_empty() {
            DEFAULT_ENDPOINT.to_owned()
        } else {
            config.endpoint.trim().trim_end_matches('/').to_owned()
        };
        let http = HttpClient::new(HttpConfig {
            api_name: "goaddon",
            base_url: endpoint,
            tuning,
            auth: Arc::new(BareTokenBasic(config.token)),
            error_mapper: goaddon_error_mapper,
        })?;
        Ok(Self {
            http,
            project: Arc::default(),
            collection_locks: Arc::default(),
        })
    }

    /// The API root every path is appended to.
    pub fn base_url(&self) -> &str {
        &self.http.config().base_url
    }

    /// The id of the token's project (its database id here), fetched once.
    pub async fn project_id(&self) -> Result<String, Error> {
        Ok(self.project().await?.0)
    }

    /// The token's project id and database name, fetched once.
    async fn project(&self) -> Result<(String, String), Error> {
        self.project
            .get_or_try_init(|| async {
                let projects = self.wire_projects().await?;
                match projects.as_slice() {
                    [project] => Ok((project.id.clone(), database_name(project))),
                    [] => Err(Error::NotFound {
                        message: "the goaddon token reaches no project".to_owned(),
                    }),
                    _ => Err(Error::Protocol {
                        message: "the goaddon token reaches several projects; a project \
                                  token reaches exactly one"
                            .to_owned(),
                    }),
                }
            })
            .await
            .cloned()
    }

    async fn wire_projects(&self) -> Result<Vec<WireProject>, Error> {
        self.http
            .send_json(ApiRequest::get(format!("{API}/projects")))
            .await
    }

    /// Checks that `database_id` is the token's project (the token reaches nothing else) and
    /// returns its database name, the `<database>` of every role.
    async fn check_database(&self, database_id: &str) -> Result<String, Error> {
        let (project, db_name) = self.project().await?;
        if project == database_id {
            Ok(db_name)
        } else {
            Err(Error::NotFound {
                message: format!(
                    "database {database_id} is not this goaddon token's project ({project})"
                ),
            })
        }
    }

    // -- credentials --------------------------------------------------------------------------

    async fn users(&self) -> Result<Vec<WireUser>, Error> {
        self.http
            .send_json(ApiRequest::get(format!("{API}/database_users")))
            .await
    }

    async fn user(&self, username: &str) -> Result<WireUser, Error> {
        self.users()
            .await?
            .into_iter()
            .find(|user| user.username == username)
            .ok_or_else(|| Error::NotFound {
                message: format!("database user {username:?} not found"),
            })
    }

    fn user_path(id: &str) -> String {
        format!("{API}/database_users/{}", encode_path_segment(id))
    }

    // -- collections --------------------------------------------------------------------------

    fn collection_lock(&self, klass: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .collection_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(locks.entry(klass.to_owned()).or_default())
    }

    async fn collection(&self, klass: &str) -> Result<Option<WireCollection>, Error> {
        let collections: Vec<WireCollection> = self
            .http
            .send_json(ApiRequest::get(format!("{API}/collections")))
            .await?;
        Ok(collections.into_iter().find(|c| c.klass == klass))
    }

    /// Writes a collection's whole `indexes` array (repeating it is harmless).
    async fn write_indexes(
        &self,
        collection_id: &str,
        indexes: Vec<Value>,
    ) -> Result<WireCollection, Error> {
        let path = format!("{API}/collections/{}", encode_path_segment(collection_id));
        self.http
            .send_json(ApiRequest::patch(path, json!({ "indexes": indexes })).with_idempotent(true))
            .await
    }
}

/// A project whose replica set is still failing over or rebooting: a pending status.
fn in_maintenance(mut database: Database, message: &str) -> Database {
    database.status = Status {
        phase: Phase::Pending,
        raw: "maintenance".to_owned(),
        message: Some(message.to_owned()),
    };
    database
}

fn ready(raw: &str) -> Status {
    Status {
        phase: Phase::Ready,
        raw: raw.to_owned(),
        message: None,
    }
}

/// The name of a project's database: its `db_name`, else the project's name or id.
fn database_name(project: &WireProject) -> String {
    project
        .db_name
        .clone()
        .or(project.name.clone())
        .unwrap_or_else(|| project.id.clone())
}

fn database_of(project: WireProject) -> Database {
    let name = database_name(&project);
    let configuration = project.database_configuration.unwrap_or_default();
    let node_count = configuration
        .get("nodes")
        .and_then(Value::as_u64)
        .and_then(|nodes| u32::try_from(nodes).ok())
        .or_else(|| {
            u32::try_from(project.db_hosts.len())
                .ok()
                .filter(|n| *n > 0)
        });
    let endpoint = (!project.db_hosts.is_empty())
        .then(|| format!("mongodb://{}/{name}", project.db_hosts.join(",")));
    Database {
        id: project.id,
        name,
        engine: "mongodb".to_owned(),
        version: String::new(),
        plan: configuration
            .get("plan")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        region: project.zone.unwrap_or_default(),
        flavor: None,
        node_count,
        description: None,
        // goaddon reports no status: a project the token reaches is in use.
        status: ready("active"),
        endpoint,
        created_at: String::new(),
    }
}

/// goaddon's bare role names for the domain's `<role>@<database>`: a goaddon user has roles on
/// the project's one database only.
fn bare_roles(db_name: &str, roles: &[String]) -> Result<Vec<String>, Error> {
    roles
        .iter()
        .map(|role| match role.split_once('@') {
            Some((name, database)) if database == db_name && !name.is_empty() => {
                Ok(name.to_owned())
            }
            _ => Err(Error::Invalid {
                field: Some("roles".to_owned()),
                message: format!(
                    "goaddon users have roles on the project's database only: write \
                     `<role>@{db_name}`, such as `readWrite@{db_name}`, not {role:?}"
                ),
            }),
        })
        .collect()
}

/// The domain's `<role>@<database>` for goaddon's bare role names.
fn qualified_roles(db_name: &str, roles: Vec<String>) -> Vec<String> {
    roles
        .into_iter()
        .map(|role| {
            if role.contains('@') {
                role
            } else {
                format!("{role}@{db_name}")
            }
        })
        .collect()
}

fn credential_of(
    database_id: &str,
    db_name: &str,
    user: WireUser,
    password_chosen: bool,
) -> Credential {
    Credential {
        database_id: database_id.to_owned(),
        username: user.username,
        roles: qualified_roles(db_name, user.roles),
        status: ready("active"),
        password: user.password.map(SecretString::from),
        password_chosen,
        created_at: String::new(),
    }
}

/// An index entry's name and keys; `None` for an entry that is not an index.
fn parse_index(entry: &Value) -> Option<(String, Vec<IndexKey>, bool, bool)> {
    let key = entry.get("key")?.as_object()?;
    let keys = key
        .iter()
        .map(|(field, direction)| {
            Some(IndexKey {
                field: field.clone(),
                direction: IndexDirection::from_number(direction.as_i64()?)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let options = entry.get("options").and_then(Value::as_object);
    let flag = |name: &str| {
        options
            .and_then(|o| o.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let name = options
        .and_then(|o| o.get("name"))
        .and_then(Value::as_str)
        .map_or_else(|| default_index_name(&keys), str::to_owned);
    Some((name, keys, flag("unique"), flag("sparse")))
}

fn index_of(database_id: &str, klass: &str, entry: &Value) -> Option<Index> {
    let (name, keys, unique, sparse) = parse_index(entry)?;
    Some(Index {
        database_id: database_id.to_owned(),
        collection: klass.to_owned(),
        name,
        keys,
        unique,
        sparse,
        status: ready("registered"),
        created_at: String::new(),
    })
}

fn id_index(database_id: &str, klass: &str) -> Index {
    Index {
        database_id: database_id.to_owned(),
        collection: klass.to_owned(),
        name: ID_INDEX.to_owned(),
        keys: vec![IndexKey {
            field: "_id".to_owned(),
            direction: IndexDirection::Ascending,
        }],
        unique: true,
        sparse: false,
        status: ready("implicit"),
        created_at: String::new(),
    }
}

fn index_entry(name: &str, spec: &IndexSpec) -> Value {
    let mut key = Map::new();
    for part in &spec.keys {
        key.insert(part.field.clone(), json!(part.direction.as_number()));
    }
    json!({
        "key": key,
        "options": {"name": name, "unique": spec.unique, "sparse": spec.sparse},
    })
}

#[async_trait]
impl DbaasApi for GoaddonApi {
    fn api_name(&self) -> &'static str {
        "goaddon"
    }

    fn on_loopback(&self) -> bool {
        self.http.is_loopback()
    }

    fn features(&self) -> &'static [Feature] {
        FEATURES
    }

    async fn capabilities(&self) -> Result<Capabilities, Error> {
        Err(self.unsupported("a capabilities catalog"))
    }

    async fn create_database(&self, spec: &DatabaseSpec) -> Result<Database, Error> {
        let _ = spec;
        Err(self.unsupported(
            "creating databases (a goaddon token reaches one existing project's database; use \
             the dbaas_database data source)",
        ))
    }

    async fn get_database(&self, id: &str) -> Result<Database, Error> {
        let path = format!("{API}/projects/{}", encode_path_segment(id));
        let project: WireProject = self.http.send_json(ApiRequest::get(path)).await?;
        Ok(database_of(project))
    }

    async fn failover_database(&self, id: &str) -> Result<Database, Error> {
        let path = format!("{API}/projects/{}/failover", encode_path_segment(id));
        self.http
            .send(ApiRequest::post(path, Value::Object(Map::new())))
            .await?;
        Ok(in_maintenance(
            self.get_database(id).await?,
            "failover initiated",
        ))
    }

    async fn restart_database(&self, id: &str, node: Option<u32>) -> Result<Database, Error> {
        let Some(index) = node.and_then(|node| node.checked_sub(1)) else {
            return Err(Error::Invalid {
                field: Some("node".to_owned()),
                message: "goaddon reboots one node at a time: set `node` (1 for the first host \
                          of the project's db_hosts)"
                    .to_owned(),
            });
        };
        let path = format!(
            "{API}/projects/{}/nodes/{index}/reboot",
            encode_path_segment(id)
        );
        self.http
            .send(ApiRequest::post(path, Value::Object(Map::new())))
            .await?;
        Ok(in_maintenance(
            self.get_database(id).await?,
            "reboot initiated",
        ))
    }

    /// READY once every member of the replica set is healthy and one is the primary.
    async fn get_database_in_maintenance(
        &self,
        id: &str,
        _hold: Duration,
    ) -> Result<Database, Error> {
        let database = self.get_database(id).await?;
        let path = format!(
            "{API}/projects/{}/replica_set_status",
            encode_path_segment(id)
        );
        let status: Value = self.http.send_json(ApiRequest::get(path)).await?;
        let members = status["members"].as_array().cloned().unwrap_or_default();
        let healthy = !members.is_empty()
            && members.iter().all(|m| m["health"].as_i64() == Some(1))
            && members.iter().any(|m| m["stateStr"] == "PRIMARY");
        Ok(if healthy {
            database
        } else {
            in_maintenance(database, "replica set recovering")
        })
    }

    async fn list_databases(&self, name_prefix: Option<&str>) -> Result<Vec<Database>, Error> {
        Ok(self
            .wire_projects()
            .await?
            .into_iter()
            .map(database_of)
            .filter(|db| name_prefix.is_none_or(|prefix| db.name.starts_with(prefix)))
            .collect())
    }

    async fn update_database(
        &self,
        id: &str,
        changes: &DatabaseChanges,
    ) -> Result<Database, Error> {
        let _ = (id, changes);
        Err(self.unsupported("changing databases"))
    }

    async fn delete_database(&self, id: &str) -> Result<(), Error> {
        let _ = id;
        Err(self.unsupported("deleting databases"))
    }

    async fn create_credential(
        &self,
        database_id: &str,
        spec: &CredentialSpec,
    ) -> Result<Credential, Error> {
        let db_name = self.check_database(database_id).await?;
        let roles = bare_roles(&db_name, &spec.roles)?;
        let mut body = json!({"username": spec.username, "roles": roles});
        if let Some(password) = &spec.password {
            body["password"] = json!(password.expose_secret());
        }
        let user: WireUser = self
            .http
            .send_json(ApiRequest::post(format!("{API}/database_users"), body))
            .await?;
        let mut credential = credential_of(database_id, &db_name, user, spec.password.is_some());
        if spec.password.is_some() {
            credential.password = None; // never echo a chosen password back
        }
        Ok(credential)
    }

    async fn get_credential(&self, database_id: &str, username: &str) -> Result<Credential, Error> {
        let db_name = self.check_database(database_id).await?;
        let mut user = self.user(username).await?;
        user.password = None;
        Ok(credential_of(database_id, &db_name, user, false))
    }

    async fn list_credentials(&self, database_id: &str) -> Result<Vec<Credential>, Error> {
        let db_name = self.check_database(database_id).await?;
        Ok(self
            .users()
            .await?
            .into_iter()
            .map(|mut user| {
                user.password = None;
                credential_of(database_id, &db_name, user, false)
            })
            .collect())
    }

    async fn update_credential_roles(
        &self,
        database_id: &str,
        username: &str,
        roles: &[String],
    ) -> Result<Credential, Error> {
        let db_name = self.check_database(database_id).await?;
        let roles = bare_roles(&db_name, roles)?;
        let user = self.user(username).await?;
        let request = ApiRequest::patch(Self::user_path(&user.id), json!({ "roles": roles }))
            .with_idempotent(true);
        let mut user: WireUser = self.http.send_json(request).await?;
        user.password = None;
        Ok(credential_of(database_id, &db_name, user, false))
    }

    async fn reset_credential_password(
        &self,
        database_id: &str,
        username: &str,
        password: Option<&SecretString>,
    ) -> Result<Credential, Error> {
        let Some(password) = password else {
            return Err(self.unsupported(
                "generating a new password (goaddon only sets a password you choose)",
            ));
        };
        let db_name = self.check_database(database_id).await?;
        let user = self.user(username).await?;
        let request = ApiRequest::patch(
            Self::user_path(&user.id),
            json!({ "password": password.expose_secret() }),
        )
        .with_idempotent(true);
        let mut user: WireUser = self.http.send_json(request).await?;
        user.password = None;
        Ok(credential_of(database_id, &db_name, user, true))
    }

    async fn delete_credential(&self, database_id: &str, username: &str) -> Result<(), Error> {
        self.check_database(database_id).await?;
        let user = match self.user(username).await {
            Ok(user) => user,
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) => return Err(error),
        };
        match self
            .http
            .send(ApiRequest::delete(Self::user_path(&user.id)))
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn create_index(
        &self,
        database_id: &str,
        collection: &str,
        spec: &IndexSpec,
    ) -> Result<Index, Error> {
        self.check_database(database_id).await?;
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| default_index_name(&spec.keys));
        let entry = index_entry(&name, spec);
        let lock = self.collection_lock(collection);
        let _held = lock.lock().await;
        // Two rounds at most: a create that raced another writer of a new collection finds it
        // on the second round and appends to it.
        for _ in 0..2 {
            let written = match self.collection(collection).await? {
                Some(existing) => {
                    for other in existing.indexes.iter().filter_map(parse_index) {
                        if other.0 == name || other.1 == spec.keys {
                            return Err(Error::Conflict {
                                message: format!(
                                    "collection {collection:?} already has an index {:?} {}",
                                    other.0,
                                    if other.0 == name {
                                        "with that name"
                                    } else {
                                        "on the same keys"
                                    }
                                ),
                            });
                        }
                    }
                    let mut indexes = existing.indexes;
                    indexes.push(entry.clone());
                    self.write_indexes(&existing.id, indexes).await?
                }
                None => {
                    let body = json!({"klass": collection, "indexes": [entry.clone()]});
                    match self
                        .http
                        .send_json::<WireCollection>(ApiRequest::post(
                            format!("{API}/collections"),
                            body,
                        ))
                        .await
                    {
                        Ok(created) => created,
                        Err(error) if error.is_conflict() => continue,
                        Err(error) => return Err(error),
                    }
                }
            };
            return written
                .indexes
                .iter()
                .filter_map(|entry| index_of(database_id, collection, entry))
                .find(|index| index.name == name)
                .ok_or_else(|| Error::Protocol {
                    message: format!(
                        "the collection {collection:?} was written but lists no index {name:?}"
                    ),
                });
        }
        Err(Error::Conflict {
            message: format!("collection {collection:?} keeps changing; try again"),
        })
    }

    async fn get_index(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<Index, Error> {
        self.list_indexes(database_id, collection)
            .await?
            .into_iter()
            .find(|index| index.name == name)
            .ok_or_else(|| Error::NotFound {
                message: format!("collection {collection:?} has no index {name:?}"),
            })
    }

    async fn list_indexes(&self, database_id: &str, collection: &str) -> Result<Vec<Index>, Error> {
        self.check_database(database_id).await?;
        let found = self
            .collection(collection)
            .await?
            .ok_or_else(|| Error::NotFound {
                message: format!("collection {collection:?} not found"),
            })?;
        let mut indexes = vec![id_index(database_id, collection)];
        indexes.extend(
            found
                .indexes
                .iter()
                .filter_map(|entry| index_of(database_id, collection, entry)),
        );
        Ok(indexes)
    }

    async fn delete_index(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<(), Error> {
        self.check_database(database_id).await?;
        let lock = self.collection_lock(collection);
        let _held = lock.lock().await;
        let Some(existing) = self.collection(collection).await? else {
            return Ok(());
        };
        let before = existing.indexes.len();
        let kept: Vec<Value> = existing
            .indexes
            .into_iter()
            .filter(|entry| parse_index(entry).is_none_or(|index| index.0 != name))
            .collect();
        if kept.len() == before {
            return Ok(());
        }
        match self.write_indexes(&existing.id, kept).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> ApiResponse {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        ApiResponse {
            status,
            headers: map,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn bare_token_basic_encodes_the_seed_example() {
        let auth = BareTokenBasic(SecretString::from("p-e1f92c77-5bb0-4fb8-9bd8-9b61d014ab5f"));
        let url = reqwest::Url::parse("https://goaddon.com/api/v1/collections").unwrap();
        let mut headers = http::HeaderMap::new();
        auth.authorize(&mut AuthContext {
            method: &http::Method::PATCH,
            url: &url,
            body: b"",
            headers: &mut headers,
        })
        .unwrap();
        let value = headers.get(http::header::AUTHORIZATION).unwrap();
        assert!(value.is_sensitive());
        assert_eq!(
            value.to_str().unwrap(),
            "Basic cC1lMWY5MmM3Ny01YmIwLTRmYjgtOWJkOC05YjYxZDAxNGFiNWY="
        );
    }

    #[test]
    fn error_mapper_reads_rails_bodies() {
        let invalid = goaddon_error_mapper(&response(
            422,
            &[],
            r#"{"errors":{"roles":["role \"x\" is invalid"]}}"#,
        ));
        assert!(
            matches!(&invalid, Error::Invalid { field: Some(f), message } if f == "roles" && message.contains("invalid")),
            "{invalid:?}"
        );
        let taken = goaddon_error_mapper(&response(
            422,
            &[],
            r#"{"errors":{"username":["has already been taken"]}}"#,
        ));
        assert!(taken.is_conflict(), "{taken:?}");
        let busy = goaddon_error_mapper(&response(
            409,
            &[("retry-after", "1")],
            r#"{"error":"busy"}"#,
        ));
        assert!(busy.is_busy(), "{busy:?}");
        let locked = goaddon_error_mapper(&response(409, &[], r#"{"error":"locked"}"#));
        assert!(locked.is_conflict(), "{locked:?}");
        let missing = goaddon_error_mapper(&response(404, &[], r#"{"error":"Not found"}"#));
        assert!(missing.is_not_found());
        let unauthorized = goaddon_error_mapper(&response(401, &[], ""));
        assert!(matches!(unauthorized, Error::Unauthorized { .. }));
    }

    #[test]
    fn parse_index_reads_names_keys_and_options() {
        let (name, keys, unique, sparse) = parse_index(&json!({
            "key": {"company_id": 1, "foo": -1},
            "options": {"unique": true, "sparse": true, "name": "company_foo"}
        }))
        .unwrap();
        assert_eq!(name, "company_foo");
        assert_eq!(keys[1].direction, IndexDirection::Descending);
        assert!(unique && sparse);
        let (name, _, unique, _) = parse_index(&json!({"key": {"foo": 1}})).unwrap();
        assert_eq!(name, "foo_1");
        assert!(!unique);
        assert!(parse_index(&json!({"key": {"foo": "text"}})).is_none());
    }

    #[test]
    fn new_refuses_an_empty_token() {
        let error = GoaddonApi::new(
            GoaddonConfig {
                endpoint: String::new(),
                token: SecretString::from(" "),
            },
            HttpTuning::default(),
        )
        .unwrap_err();
        assert!(matches!(error, Error::Invalid { .. }));
    }
}
