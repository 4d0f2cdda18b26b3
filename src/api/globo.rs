//! `GloboApi`: the client for globo.com's DBaaS (`globocom/database-as-a-service`), the 2013
//! API of seed 001 (Django REST Framework 2.3 with a HAL renderer, HTTP Basic auth).
//!
//! How the domain maps onto globo:
//! - a database is `/api/database/{id}/` (a number); its `plan` is the name of the plan its
//!   hyperlink points at, its `region` the name of its `environment`. The engine is always
//!   `mongodb` and there is no version, flavor, node count or description. A name must already
//!   be globo's slug (`[a-z0-9_]`, as globo's `slugify` with `_` would leave it), so what is
//!   created is what the configuration says. Create needs a plan and an environment: omitted,
//!   they default to the plan marked `is_default` (else the first) and the first environment.
//! - Status: globo 2013 has none; a database whose `quarantine_dt` is null is `ACTIVE`
//!   ([`Phase::Ready`]), a quarantined one is `QUARANTINED` ([`Phase::Deleting`], the message
//!   gives the date). [`is_quarantined`] tells them apart.
//! - Delete follows globo's quarantine rule: [`DbaasApi::delete_database`] quarantines (the
//!   first `DELETE`; every password is reset, the object stays) and never purges: on a
//!   quarantined database it sends nothing. [`GloboApi::purge_database`] removes it for good
//!   (quarantining first when needed). The database `DELETE` is never retried blindly, since
//!   a replayed one would purge.
//! - a credential is `/api/credential/{id}/`, found by listing (user and database link). Its
//!   password is always generated (shown by create and `reset_password`); no roles.
//! - the later asynchronous create (`201 {"task": "<host>/api/task?task_id=…"}`) is followed:
//!   the task is polled at `GET /api/task/?task_id=…` until `SUCCESS`, then the database is
//!   found by name. `ERROR` fails the create.
//! - errors are DRF's: `{"detail": …}` or `{field: ["msg", …]}` (the first field is named).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::http::{
    ApiRequest, ApiResponse, BasicAuth, HttpClient, HttpConfig, HttpTuning, error_for_status,
    error_message_from_body, status_reason,
};
use super::{
    Capabilities, Credential, CredentialSpec, Database, DatabaseChanges, DatabaseSpec, DbaasApi,
    Defaults, EngineInfo, Error, Feature, Phase, PlanInfo, Project, RegionInfo, Status,
};

/// What globo offers through this client. Not offered: engine and version choice (MongoDB
/// only, no versions in the API), flavors, node counts, descriptions, plan changes (plan and
/// environment are fixed after creation), roles, chosen passwords, indexes, IP restrictions.
/// Reading a password back is possible at globo but not offered, so secrets stay in state
/// only when the user asked for them.
pub const FEATURES: &[Feature] = &[
    Feature::Database,
    Feature::DatabaseName,
    Feature::DatabasePlan,
    Feature::DatabaseRegion,
    Feature::Credential,
    Feature::CredentialPasswordReset,
    Feature::Capabilities,
    Feature::ListDatabases,
    Feature::Projects,
];

/// The only engine globo (2013) runs.
pub const ENGINE: &str = "mongodb";

/// Raw status of a database in use.
pub const STATUS_ACTIVE: &str = "ACTIVE";

/// Raw status of a quarantined database.
pub const STATUS_QUARANTINED: &str = "QUARANTINED";

/// Names MongoDB keeps for itself, which globo refuses.
const RESERVED_NAMES: [&str; 3] = ["admin", "config", "local"];

/// Longest database name: MongoDB's limit on database names.
const MAX_NAME_CHARS: usize = 63;

/// Largest page globo serves; lists are read with it.
const PAGE_SIZE: &str = "100";

/// Pause between polls of an asynchronous create's task.
const TASK_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Polls of a task before the create is reported as still running.
const TASK_MAX_POLLS: u32 = 900;

/// How to reach and authenticate to a globo DBaaS.
#[derive(Clone, Debug)]
pub struct GloboConfig {
    /// The API root, e.g. `https://dbaas.example.com` (paths `/api/…` are appended) or a
    /// dbaas-local's `http://127.0.0.1:8780/globo`.
    pub endpoint: String,
    /// The Basic auth user.
    pub username: String,
    /// Its password; never logged.
    pub password: SecretString,
}

/// One entry of a globo catalog (plan, environment or project), for data sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogEntry {
    /// globo's numeric id.
    pub id: u64,
    /// Its name (what the provider's `plan`/`region` attributes hold).
    pub name: String,
    /// The absolute URL globo identifies it by in hyperlinks.
    pub url: String,
    /// A plan's description (empty for the others).
    pub description: String,
    /// Whether it is the default plan (false for the others).
    pub is_default: bool,
}

/// Client for globo.com's DBaaS API. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct GloboApi {
    /// Basic-authenticated calls.
    http: HttpClient,
}

/// Whether globo reported this database as quarantined (deleted once, purge pending).
pub fn is_quarantined(database: &Database) -> bool {
    database.status.raw == STATUS_QUARANTINED
}

/// The id at the end of a hyperlink (`…/api/<resource>/<id>/`).
fn link_id(link: &str, resource: &str) -> Option<u64> {
    let marker = format!("/api/{resource}/");
    let start = link.rfind(&marker)? + marker.len();
    link[start..].trim_end_matches('/').parse().ok()
}

/// globo's `slugify(name, separator="_")`, to check a name will be kept as given.
fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    let mut pending_separator = false;
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            if pending_separator && !slug.is_empty() {
                slug.push('_');
            }
            pending_separator = false;
            slug.push(character.to_ascii_lowercase());
        } else if character.is_whitespace() || matches!(character, '-' | '_') {
            pending_separator = true;
        }
    }
    slug
}

/// Reads DRF error bodies: `{"detail": …}`, `{field: ["msg"]}`, HEAD's `{"error": [...]}` and
/// `{"reason": …}`.
pub fn globo_error_mapper(response: &ApiResponse) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    let field = parsed.as_ref().and_then(Value::as_object).and_then(|map| {
        map.keys()
            .find(|key| !matches!(key.as_str(), "detail" | "error" | "reason"))
            .filter(|key| key.as_str() != "non_field_errors")
            .cloned()
    });
    let message =
        error_message_from_body(&response.body).unwrap_or_else(|| status_reason(response.status));
    error_for_status(response.status, message, field, response.retry_after())
}

fn protocol(message: impl Into<String>) -> Error {
    Error::Protocol {
        message: message.into(),
    }
}

fn str_field<'a>(value: &'a Value, field: &str) -> Result<&'a str, Error> {
    value[field]
        .as_str()
        .ok_or_else(|| protocol(format!("the reply has no `{field}` text")))
}

fn id_field(value: &Value) -> Result<u64, Error> {
    value["id"]
        .as_u64()
        .ok_or_else(|| protocol("the reply has no numeric `id`"))
}

impl GloboApi {
    /// A client for `config`; fails on a malformed URL or an empty user. Nothing is sent until
    /// the first call.
    pub fn new(config: GloboConfig, tuning: HttpTuning) -> Result<Self, Error> {
        if config.username.trim().is_empty() {
            return Err(Error::Invalid {
                field: Some("username".to_owned()),
                message: "the globo username must not be empty".to_owned(),
            });
        }
        let http = HttpClient::new(HttpConfig {
            api_name: "globo",
            base_url: config.endpoint.trim().trim_end_matches('/').to_owned(),
            tuning,
            auth: Arc::new(BasicAuth {
                user: config.username,
                password: config.password,
            }),
            error_mapper: globo_error_mapper,
        })?;
        Ok(Self { http })
    }

    /// The API root every path is appended to.
    pub fn base_url(&self) -> &str {
        &self.http.config().base_url
    }

    /// Every object of a paginated list (`/api/<resource>/`), following `next` links.
    async fn list_all(&self, resource: &str, query: &[(&str, &str)]) -> Result<Vec<Value>, Error> {
        let mut items = Vec::new();
        for number in 1u32.. {
            let mut request = ApiRequest::get(format!("/api/{resource}/"))
                .with_query("page_size", PAGE_SIZE)
                .with_query("page", number.to_string());
            for (name, value) in query {
                request = request.with_query(*name, *value);
            }
            let page: Value = self.http.send_json(request).await?;
            let objects = page[resource].as_array().ok_or_else(|| {
                protocol(format!("the {resource} list has no `{resource}` array"))
            })?;
            items.extend(objects.iter().cloned());
            if page["_links"]["next"].is_null() || objects.is_empty() {
                break;
            }
        }
        Ok(items)
    }

    async fn catalog(&self, resource: &str) -> Result<Vec<CatalogEntry>, Error> {
        self.list_all(resource, &[])
            .await?
            .iter()
            .map(|item| {
                Ok(CatalogEntry {
                    id: id_field(item)?,
                    name: str_field(item, "name")?.to_owned(),
                    url: item["_links"]["self"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    description: item["description"].as_str().unwrap_or_default().to_owned(),
                    is_default: item["is_default"].as_bool().unwrap_or(false),
                })
            })
            .collect()
    }

    /// The plans (`/api/plan/`), for the plans data source.
    pub async fn plans(&self) -> Result<Vec<CatalogEntry>, Error> {
        self.catalog("plan").await
    }

    /// The environments (`/api/environment/`): the regions of this client.
    pub async fn environments(&self) -> Result<Vec<CatalogEntry>, Error> {
        self.catalog("environment").await
    }

    /// The projects (`/api/project/`).
    pub async fn projects(&self) -> Result<Vec<CatalogEntry>, Error> {
        self.catalog("project").await
    }

    /// Removes a database for good: a quarantined one with one `DELETE`, another one with
    /// two (quarantine, then removal). A database already gone counts as success.
    pub async fn purge_database(&self, id: &str) -> Result<(), Error> {
        let current = match self.get_database(id).await {
            Ok(database) => database,
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) => return Err(error),
        };
        if !is_quarantined(&current) {
            self.send_database_delete(id).await?;
        }
        self.send_database_delete(id).await
    }

    /// One database `DELETE`, never retried after it may have arrived (a replay would purge).
    async fn send_database_delete(&self, id: &str) -> Result<(), Error> {
        let request =
            ApiRequest::delete(format!("/api/database/{}/", path_id(id)?)).with_idempotent(false);
        match self.http.send(request).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Converts a globo database object.
    async fn to_database(&self, value: &Value) -> Result<Database, Error> {
        let id = id_field(value)?;
        let plan_link = value["plan"].as_str().unwrap_or_default();
        let environment_link = value["environment"].as_str().unwrap_or_default();
        let plan = match link_id(plan_link, "plan") {
            Some(plan_id) => self.name_of("plan", plan_id).await?,
            None => String::new(),
        };
        let region = match link_id(environment_link, "environment") {
            Some(environment_id) => self.name_of("environment", environment_id).await?,
            None => String::new(),
        };
        Ok(database_from_wire(id, value, plan, region))
    }

    /// The name of catalog entry `id` (`GET /api/<resource>/<id>/`).
    async fn name_of(&self, resource: &str, id: u64) -> Result<String, Error> {
        let value: Value = self
            .http
            .send_json(ApiRequest::get(format!("/api/{resource}/{id}/")))
            .await?;
        Ok(str_field(&value, "name")?.to_owned())
    }

    /// Follows an asynchronous create's task until it ends, then finds the database by name.
    async fn await_task(&self, task: &str, name: &str) -> Result<Database, Error> {
        let task_id = task
            .split_once("task_id=")
            .map(|(_, id)| id.split('&').next().unwrap_or(id).to_owned())
            .ok_or_else(|| protocol(format!("the create task {task:?} has no task_id")))?;
        for _ in 0..TASK_MAX_POLLS {
            let tasks = self.list_all("task", &[("task_id", &task_id)]).await;
            let tasks = match tasks {
                Ok(tasks) => tasks,
                Err(Error::Protocol { .. }) => Vec::new(),
                Err(error) => return Err(error),
            };
            let status = tasks
                .first()
                .and_then(|task| task["task_status"].as_str())
                .unwrap_or("WAITING")
                .to_owned();
            match status.as_str() {
                "SUCCESS" | "WARNING" => {
                    return self.find_database_by_name(name).await?.ok_or_else(|| {
                        protocol(format!(
                            "task {task_id} succeeded but no database is named {name:?}"
                        ))
                    });
                }
                // The task's own verdict: nothing was created, and resending will not help.
                "ERROR" => {
                    return Err(Error::Invalid {
                        field: None,
                        message: format!("globo's create task {task_id} ended in ERROR"),
                    });
                }
                _ => tokio::time::sleep(TASK_POLL_INTERVAL).await,
            }
        }
        Err(Error::Unavailable {
            message: format!("globo's create task {task_id} did not finish"),
        })
    }

    /// The globo credential object of `username` on database `database_id`.
    async fn credential_object(&self, database_id: &str, username: &str) -> Result<Value, Error> {
        let database = path_id(database_id)?;
        self.list_all("credential", &[])
            .await?
            .into_iter()
            .find(|item| {
                item["user"].as_str() == Some(username)
                    && item["database"]
                        .as_str()
                        .and_then(|link| link_id(link, "database"))
                        == Some(database)
            })
            .ok_or_else(|| Error::NotFound {
                message: format!("credential {username} of database {database_id} not found"),
            })
    }
}

/// A database id as globo's number; anything else cannot exist.
fn path_id(id: &str) -> Result<u64, Error> {
    id.parse().map_err(|_| Error::NotFound {
        message: format!("globo database ids are numbers; {id:?} does not exist"),
    })
}

/// The domain database of a globo object whose plan and environment names are known.
fn database_from_wire(id: u64, value: &Value, plan: String, region: String) -> Database {
    let quarantine_dt = value["quarantine_dt"].as_str().map(str::to_owned);
    let status = match &quarantine_dt {
        Some(date) => Status {
            phase: Phase::Deleting,
            raw: STATUS_QUARANTINED.to_owned(),
            message: Some(format!(
                "in quarantine since {date}: its passwords were reset; delete it again to \
                 remove it for good"
            )),
        },
        None => Status {
            phase: Phase::Ready,
            raw: STATUS_ACTIVE.to_owned(),
            message: None,
        },
    };
    Database {
        id: id.to_string(),
        name: value["name"].as_str().unwrap_or_default().to_owned(),
        engine: ENGINE.to_owned(),
        version: String::new(),
        plan,
        region,
        flavor: None,
        node_count: None,
        description: None,
        status,
        endpoint: value["endpoint"].as_str().map(str::to_owned),
        created_at: String::new(),
    }
}

fn credential_from_wire(database_id: &str, value: &Value) -> Result<Credential, Error> {
    Ok(Credential {
        database_id: database_id.to_owned(),
        username: str_field(value, "user")?.to_owned(),
        roles: Vec::new(),
        status: Status {
            phase: Phase::Ready,
            raw: STATUS_ACTIVE.to_owned(),
            message: None,
        },
        password: value["password"].as_str().map(SecretString::from),
        password_chosen: false,
        created_at: String::new(),
    })
}

/// Refuses names globo would rewrite, so the created name is the configured one.
fn check_slug(field: &str, name: &str) -> Result<(), Error> {
    let slugged = slug(name);
    if slugged == name && !slugged.is_empty() {
        return Ok(());
    }
    Err(Error::Invalid {
        field: Some(field.to_owned()),
        message: format!(
            "globo would store {name:?} as {slugged:?}: use lower-case letters, digits and '_' only"
        ),
    })
}

/// The entry named `wanted`, or the default one, from a catalog.
fn pick<'a>(
    entries: &'a [CatalogEntry],
    wanted: Option<&str>,
    what: &str,
) -> Result<&'a CatalogEntry, Error> {
    match wanted {
        Some(name) => entries
            .iter()
            .find(|entry| entry.name == name)
            .ok_or_else(|| Error::Invalid {
                field: Some(what.to_owned()),
                message: format!(
                    "{what} {name:?} is not offered; allowed: {}",
                    entries
                        .iter()
                        .map(|entry| entry.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        None => entries
            .iter()
            .find(|entry| entry.is_default)
            .or_else(|| entries.first())
            .ok_or_else(|| Error::Invalid {
                field: Some(what.to_owned()),
                message: format!("globo offers no {what}"),
            }),
    }
}

#[async_trait]
impl DbaasApi for GloboApi {
    fn api_name(&self) -> &'static str {
        "globo"
    }

    fn on_loopback(&self) -> bool {
        self.http.is_loopback()
    }

    fn features(&self) -> &'static [Feature] {
        FEATURES
    }

    fn check_database_name(&self, name: &str) -> Result<(), String> {
        let length = name.chars().count();
        if !(1..=MAX_NAME_CHARS).contains(&length) {
            return Err(format!("has {length} characters"));
        }
        let slugged = slug(name);
        if slugged != name {
            return Err(format!("would be stored by globo as \"{slugged}\""));
        }
        if RESERVED_NAMES.contains(&name) {
            return Err("is reserved by MongoDB".to_owned());
        }
        Ok(())
    }

    fn database_name_rules(&self) -> &'static str {
        "A globo database name is 1 to 63 lowercase letters (a-z), digits and underscores (what \
         globo's slugify keeps unchanged), and is not admin, config or local."
    }

    fn delete_quarantines(&self) -> bool {
        true
    }

    async fn purge_database(&self, id: &str) -> Result<(), Error> {
        GloboApi::purge_database(self, id).await
    }

    async fn projects(&self) -> Result<Vec<Project>, Error> {
        Ok(GloboApi::projects(self)
            .await?
            .into_iter()
            .map(|entry| Project {
                id: entry.id.to_string(),
                name: entry.name,
            })
            .collect())
    }

    async fn capabilities(&self) -> Result<Capabilities, Error> {
        let plans = self.plans().await?;
        let environments = self.environments().await?;
        let default_plan = pick(&plans, None, "plan")
            .map(|plan| plan.name.clone())
            .unwrap_or_default();
        let default_region = environments
            .first()
            .map(|env| env.name.clone())
            .unwrap_or_default();
        Ok(Capabilities {
            engines: vec![EngineInfo {
                name: ENGINE.to_owned(),
                versions: Vec::new(),
                default_version: String::new(),
            }],
            plans: plans
                .into_iter()
                .map(|plan| PlanInfo {
                    name: plan.name,
                    description: plan.description,
                    node_count: 0,
                })
                .collect(),
            regions: environments
                .into_iter()
                .map(|env| RegionInfo {
                    name: env.name,
                    description: String::new(),
                })
                .collect(),
            flavors: Vec::new(),
            defaults: Defaults {
                engine: ENGINE.to_owned(),
                plan: default_plan,
                region: default_region,
            },
        })
    }

    async fn create_database(&self, spec: &DatabaseSpec) -> Result<Database, Error> {
        check_slug("name", &spec.name)?;
        if let Some(engine) = spec.engine.as_deref().filter(|engine| *engine != ENGINE) {
            return Err(Error::Invalid {
                field: Some("engine".to_owned()),
                message: format!("globo runs only {ENGINE}, not {engine:?}"),
            });
        }
        for (set, what) in [
            (spec.version.is_some(), "choosing the version"),
            (spec.flavor.is_some(), "choosing the flavor"),
            (spec.node_count.is_some(), "choosing the node count"),
            (spec.description.is_some(), "database descriptions"),
        ] {
            if set {
                return Err(self.unsupported(what));
            }
        }
        let plans = self.plans().await?;
        let plan = pick(&plans, spec.plan.as_deref(), "plan")?;
        let environments = self.environments().await?;
        let environment = pick(&environments, spec.region.as_deref(), "region")?;
        let body = json!({
            "name": spec.name,
            "plan": format!("/api/plan/{}/", plan.id),
            "environment": format!("/api/environment/{}/", environment.id),
        });
        let reply: Value = self
            .http
            .send_json(ApiRequest::post("/api/database/", body))
            .await?;
        if let Some(task) = reply["task"].as_str() {
            return self.await_task(task, &spec.name).await;
        }
        let id = id_field(&reply)?;
        Ok(database_from_wire(
            id,
            &reply,
            plan.name.clone(),
            environment.name.clone(),
        ))
    }

    async fn get_database(&self, id: &str) -> Result<Database, Error> {
        let value: Value = self
            .http
            .send_json(ApiRequest::get(format!("/api/database/{}/", path_id(id)?)))
            .await?;
        self.to_database(&value).await
    }

    async fn list_databases(&self, name_prefix: Option<&str>) -> Result<Vec<Database>, Error> {
        let plans = self.plans().await?;
        let environments = self.environments().await?;
        let name_of = |entries: &[CatalogEntry], link: &Value, resource: &str| {
            link.as_str()
                .and_then(|link| link_id(link, resource))
                .and_then(|id| entries.iter().find(|entry| entry.id == id))
                .map(|entry| entry.name.clone())
                .unwrap_or_default()
        };
        self.list_all("database", &[])
            .await?
            .iter()
            .filter(|item| {
                name_prefix.is_none_or(|prefix| {
                    item["name"]
                        .as_str()
                        .is_some_and(|name| name.starts_with(prefix))
                })
            })
            .map(|item| {
                Ok(database_from_wire(
                    id_field(item)?,
                    item,
                    name_of(&plans, &item["plan"], "plan"),
                    name_of(&environments, &item["environment"], "environment"),
                ))
            })
            .collect()
    }

    async fn update_database(
        &self,
        id: &str,
        changes: &DatabaseChanges,
    ) -> Result<Database, Error> {
        if changes.is_empty() {
            return self.get_database(id).await;
        }
        Err(self.unsupported("changing a database after creation (plan and environment are fixed)"))
    }

    async fn delete_database(&self, id: &str) -> Result<(), Error> {
        match self.get_database(id).await {
            Ok(database) if is_quarantined(&database) => Ok(()),
            Ok(_) => self.send_database_delete(id).await,
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn create_credential(
        &self,
        database_id: &str,
        spec: &CredentialSpec,
    ) -> Result<Credential, Error> {
        if !spec.roles.is_empty() {
            return Err(self.unsupported("credential roles"));
        }
        if spec.password.is_some() {
            return Err(self.unsupported("choosing credential passwords"));
        }
        check_slug("username", &spec.username)?;
        let body = json!({
            "user": spec.username,
            "database": format!("/api/database/{}/", path_id(database_id)?),
        });
        let reply: Value = self
            .http
            .send_json(ApiRequest::post("/api/credential/", body))
            .await?;
        credential_from_wire(database_id, &reply)
    }

    async fn get_credential(&self, database_id: &str, username: &str) -> Result<Credential, Error> {
        let value = self.credential_object(database_id, username).await?;
        credential_from_wire(database_id, &value)
    }

    async fn list_credentials(&self, database_id: &str) -> Result<Vec<Credential>, Error> {
        let database = path_id(database_id)?;
        self.list_all("credential", &[])
            .await?
            .iter()
            .filter(|item| {
                item["database"]
                    .as_str()
                    .and_then(|link| link_id(link, "database"))
                    == Some(database)
            })
            .map(|item| credential_from_wire(database_id, item))
            .collect()
    }

    async fn reset_credential_password(
        &self,
        database_id: &str,
        username: &str,
        password: Option<&SecretString>,
    ) -> Result<Credential, Error> {
        if password.is_some() {
            return Err(self.unsupported("choosing credential passwords"));
        }
        let value = self.credential_object(database_id, username).await?;
        let id = id_field(&value)?;
        // A replayed reset only generates another password, which the reply then carries.
        let request = ApiRequest::post(format!("/api/credential/{id}/reset_password/"), json!({}))
            .with_idempotent(true);
        let reply: Value = self.http.send_json(request).await?;
        credential_from_wire(database_id, &reply)
    }

    async fn delete_credential(&self, database_id: &str, username: &str) -> Result<(), Error> {
        let value = match self.credential_object(database_id, username).await {
            Ok(value) => value,
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) => return Err(error),
        };
        let id = id_field(&value)?;
        match self
            .http
            .send(ApiRequest::delete(format!("/api/credential/{id}/")))
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn error_mapper_names_drf_fields() {
        match globo_error_mapper(&response(400, r#"{"name": ["This field is required."]}"#)) {
            Error::Invalid { field, message } => {
                assert_eq!(field.as_deref(), Some("name"));
                assert!(message.contains("This field is required."), "{message}");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert!(globo_error_mapper(&response(404, r#"{"detail": "Not found"}"#)).is_not_found());
        match globo_error_mapper(&response(401, r#"{"detail": "Invalid username/password"}"#)) {
            Error::Unauthorized { message } => assert_eq!(message, "Invalid username/password"),
            other => panic!("expected Unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn link_id_reads_the_last_number() {
        assert_eq!(link_id("http://h:1/globo/api/plan/3/", "plan"), Some(3));
        assert_eq!(link_id("/api/database/42/", "database"), Some(42));
        assert_eq!(link_id("/api/plan/x/", "plan"), None);
        assert_eq!(link_id("/api/plan/1/", "environment"), None);
    }

    #[test]
    fn check_slug_refuses_names_globo_would_rewrite() {
        assert!(check_slug("name", "test_database2").is_ok());
        let error = check_slug("name", "test database2").unwrap_err();
        assert!(error.to_string().contains("test_database2"), "{error}");
        assert!(check_slug("name", "Orders").is_err());
        assert!(check_slug("name", "").is_err());
    }

    #[test]
    fn quarantined_database_reports_its_date() {
        let value = json!({"id": 7, "name": "db", "quarantine_dt": "2026-11-22", "endpoint": "e"});
        let database = database_from_wire(7, &value, "essential".into(), "eu-west-1".into());
        assert!(is_quarantined(&database));
        assert_eq!(database.status.phase, Phase::Deleting);
        assert!(database.status.message.unwrap().contains("2026-11-22"));
        let active = json!({"id": 7, "name": "db", "quarantine_dt": null});
        let database = database_from_wire(7, &active, String::new(), String::new());
        assert_eq!(database.status.phase, Phase::Ready);
        assert_eq!(database.id, "7");
    }

    #[test]
    fn new_refuses_an_empty_user() {
        let config = GloboConfig {
            endpoint: "http://127.0.0.1:1/globo".into(),
            username: " ".into(),
            password: SecretString::from("x"),
        };
        assert!(GloboApi::new(config, HttpTuning::default()).is_err());
    }
}
