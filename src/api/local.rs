//! `LocalApi`: the client for dbaas-local's native REST API (v1).
//!
//! The contract is the shared native-API document: JSON everywhere, bearer token when the
//! service has one, errors as `{"error": {"code", "message", "field"}}` (plus `reason` on a 409:
//! `busy` becomes [`Error::Busy`], anything else [`Error::Conflict`]). Databases and their
//! children (credentials, collection indexes, IP restrictions) live under `/v1/databases`; every
//! variable path segment is percent-encoded, so a CIDR's `/` travels as `%2F`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::http::{
    ApiRequest, ApiResponse, BearerToken, HttpClient, HttpConfig, HttpTuning, NoAuth,
    encode_path_segment, error_for_status, error_message_from_body, object_segment, status_reason,
};
use super::{
    Capabilities, Children, Credential, CredentialSpec, Database, DatabaseChanges, DatabaseSpec,
    DbaasApi, Defaults, EngineInfo, Error, Feature, FlavorInfo, Index, IndexDirection, IndexKey,
    IndexSpec, Inventory, IpRestriction, IpRestrictionSpec, Phase, PlanInfo, PollGuidance,
    RegionInfo, Status,
};

/// Where dbaas-local listens unless told otherwise.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8780";

/// What dbaas-local offers: everything but a published availability catalog.
pub const FEATURES: &[Feature] = &[
    Feature::Database,
    Feature::DatabaseName,
    Feature::DatabaseEngine,
    Feature::DatabaseVersion,
    Feature::DatabasePlan,
    Feature::DatabasePlanChange,
    Feature::DatabaseRegion,
    Feature::DatabaseFlavor,
    Feature::DatabaseNodeCount,
    Feature::DatabaseDescription,
    Feature::Credential,
    Feature::CredentialRoles,
    Feature::CredentialPasswordReset,
    Feature::CredentialChosenPassword,
    Feature::CredentialReadPassword,
    Feature::CollectionIndex,
    Feature::IpRestriction,
    Feature::IpRestrictionDescription,
    Feature::Capabilities,
    Feature::ListDatabases,
    Feature::BatchedRefresh,
    Feature::BatchedChildRefresh,
    Feature::BlockingRead,
    Feature::Failover,
    Feature::Restart,
];

/// Client for dbaas-local's native API.
#[derive(Clone, Debug)]
pub struct LocalApi {
    http: HttpClient,
    /// The longest blocking read: one request timeout, less a margin for the reply to travel.
    read_hold: Duration,
}

/// Databases per page of a refresh's listing (the service allows up to 1,000).
const INVENTORY_PAGE: usize = 500;

/// A listing longer than this many pages is refused rather than followed for ever.
const MAX_INVENTORY_PAGES: usize = 10_000;

/// What a blocking read leaves of the request timeout for the reply to arrive.
const HOLD_MARGIN: Duration = Duration::from_secs(5);

/// The service's longest hold (its `timeout` query is at most 60 s).
const MAX_HOLD: Duration = Duration::from_secs(55);

/// `request` as a blocking read held up to `hold` (whole milliseconds; zero: a plain read).
fn held(request: ApiRequest, hold: Duration) -> ApiRequest {
    if hold.is_zero() {
        return request;
    }
    request
        .with_query("wait_for", "READY")
        .with_query("timeout", format!("{}ms", hold.as_millis().max(1)))
}

impl LocalApi {
    /// A client for the service at `endpoint` (e.g. [`DEFAULT_ENDPOINT`]); `token` is sent as a
    /// bearer token when the service requires one.
    pub fn new(
        endpoint: &str,
        token: Option<SecretString>,
        tuning: HttpTuning,
    ) -> Result<Self, Error> {
        let auth: Arc<dyn super::http::Authenticator> = match token {
            Some(token) => Arc::new(BearerToken(token)),
            None => Arc::new(NoAuth),
        };
        let config = HttpConfig {
            api_name: "local",
            base_url: endpoint.to_owned(),
            tuning,
            auth,
            error_mapper: local_error_mapper,
        };
        let read_hold = tuning_hold(config.tuning.request_timeout);
        Ok(Self {
            http: HttpClient::new(config)?,
            read_hold,
        })
    }

    /// The underlying HTTP client (for calls outside the trait, e.g. health checks).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn database_path(id: &str) -> Result<String, Error> {
        Ok(format!(
            "/v1/databases/{}",
            object_segment("database with id", id)?
        ))
    }

    fn credentials_path(database_id: &str) -> Result<String, Error> {
        Ok(format!("{}/credentials", Self::database_path(database_id)?))
    }

    fn credential_path(database_id: &str, username: &str) -> Result<String, Error> {
        Ok(format!(
            "{}/credentials/{}",
            Self::database_path(database_id)?,
            child_segment("username", username)?
        ))
    }

    fn indexes_path(database_id: &str, collection: &str) -> Result<String, Error> {
        Ok(format!(
            "{}/collections/{}/indexes",
            Self::database_path(database_id)?,
            child_segment("collection", collection)?
        ))
    }

    fn index_path(database_id: &str, collection: &str, name: &str) -> Result<String, Error> {
        Ok(format!(
            "{}/{}",
            Self::indexes_path(database_id, collection)?,
            child_segment("name", name)?
        ))
    }

    fn ip_restrictions_path(database_id: &str) -> Result<String, Error> {
        Ok(format!(
            "{}/ip-restrictions",
            Self::database_path(database_id)?
        ))
    }

    /// Sends a keyed create; the HTTP layer may repeat it, since the service replays a key.
    async fn send_keyed<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        request: ApiRequest,
    ) -> Result<T, Error> {
        let mut generation = 0;
        loop {
            let keyed = request
                .clone()
                .with_idempotency_key(&format!("{key}-{generation}"))?;
            match self.http.send_json(keyed).await {
                Err(Error::Conflict { message })
                    if message.contains("since been deleted")
                        && generation + 1 < KEY_GENERATIONS =>
                {
                    generation += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// The cidr's `/` becomes `%2F`, so `10.0.0.0/24` stays one path segment.
    fn ip_restriction_path(database_id: &str, cidr: &str) -> Result<String, Error> {
        Ok(format!(
            "{}/ip-restrictions/{}",
            Self::database_path(database_id)?,
            child_segment("cidr", cidr)?
        ))
    }
}

/// The hold a request timeout leaves room for; zero when it is too short to hold at all.
fn tuning_hold(request_timeout: Duration) -> Duration {
    let hold = request_timeout.saturating_sub(HOLD_MARGIN).min(MAX_HOLD);
    if hold < Duration::from_secs(1) {
        Duration::ZERO
    } else {
        hold
    }
}

/// One encoded path segment of a child object. Empty, `.` and `..` are refused before any
/// request: URL normalisation would drop them and the call would reach another endpoint.
fn child_segment(field: &str, value: &str) -> Result<String, Error> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(Error::Invalid {
            field: Some(field.to_owned()),
            message: format!("`{value}` cannot be used as a {field}: it is not addressable"),
        });
    }
    Ok(encode_path_segment(value))
}

/// Treats "already gone" as success, which is what a delete wants.
fn gone_is_ok(result: Result<ApiResponse, Error>) -> Result<(), Error> {
    match result {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}

#[async_trait]
impl DbaasApi for LocalApi {
    fn features(&self) -> &'static [Feature] {
        FEATURES
    }

    fn api_name(&self) -> &'static str {
        "local"
    }

    fn on_loopback(&self) -> bool {
        self.http.is_loopback()
    }

    /// A local service answers fast and tests create dozens of objects one after another, so
    /// polls may come much closer together than at a vendor.
    fn poll_guidance(&self) -> PollGuidance {
        PollGuidance {
            min_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(5),
        }
    }

    fn read_hold(&self) -> Duration {
        self.read_hold
    }

    async fn capabilities(&self) -> Result<Capabilities, Error> {
        let wire: WireCapabilities = self
            .http
            .send_json(ApiRequest::get("/v1/capabilities"))
            .await?;
        Ok(wire.into())
    }

    async fn create_database(&self, spec: &DatabaseSpec) -> Result<Database, Error> {
        let mut body = Map::new();
        body.insert("name".into(), Value::String(spec.name.clone()));
        let optional = [
            ("engine", &spec.engine),
            ("version", &spec.version),
            ("plan", &spec.plan),
            ("region", &spec.region),
            ("flavor", &spec.flavor),
            ("description", &spec.description),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                body.insert(key.into(), Value::String(value.clone()));
            }
        }
        if let Some(count) = spec.node_count {
            body.insert("node_count".into(), Value::from(count));
        }
        let key = match &spec.idempotency_key {
            Some(key) => key.clone(),
            None => derived_key(&[
                "database",
                &spec.name,
                spec.engine.as_deref().unwrap_or_default(),
                spec.version.as_deref().unwrap_or_default(),
                spec.plan.as_deref().unwrap_or_default(),
                spec.region.as_deref().unwrap_or_default(),
                spec.flavor.as_deref().unwrap_or_default(),
                &spec.node_count.map(|n| n.to_string()).unwrap_or_default(),
                spec.description.as_deref().unwrap_or_default(),
            ]),
        };
        let request = ApiRequest::post("/v1/databases", Value::Object(body));
        let wire: WireDatabase = self.send_keyed(&key, request).await?;
        Ok(wire.into())
    }

    async fn get_database(&self, id: &str) -> Result<Database, Error> {
        self.get_database_held(id, Duration::ZERO).await
    }

    async fn get_database_held(&self, id: &str, hold: Duration) -> Result<Database, Error> {
        let path = Self::database_path(id)?;
        let wire: WireDatabase = self
            .http
            .send_json(held(ApiRequest::get(path), hold))
            .await?;
        Ok(wire.into())
    }

    async fn list_databases(&self, name_prefix: Option<&str>) -> Result<Vec<Database>, Error> {
        let mut request = ApiRequest::get("/v1/databases");
        if let Some(prefix) = name_prefix {
            request = request.with_query("name_prefix", prefix);
        }
        let wire: WireDatabaseList = self.http.send_json(request).await?;
        Ok(wire.databases.into_iter().map(Database::from).collect())
    }

    /// Page by page, each database with its children: a plan of a thousand databases and their
    /// children costs a couple of requests.
    async fn inventory(&self) -> Result<Option<Inventory>, Error> {
        let mut inventory = Inventory {
            databases: Vec::new(),
            children: Some(HashMap::new()),
        };
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_INVENTORY_PAGES {
            let mut request = ApiRequest::get("/v1/databases")
                .with_query("include", "children")
                .with_query("limit", INVENTORY_PAGE.to_string());
            if let Some(token) = &page_token {
                request = request.with_query("page_token", token.clone());
            }
            let page: WireInventoryPage = self.http.send_json(request).await?;
            for listed in page.databases {
                let database = Database::from(listed.database);
                let indexes = listed
                    .indexes
                    .into_iter()
                    .map(|wire| wire.into_index(&database.id, ""))
                    .collect::<Result<_, _>>()?;
                let children = Children {
                    credentials: listed
                        .credentials
                        .into_iter()
                        .map(Credential::from)
                        .collect(),
                    indexes,
                    ip_restrictions: listed
                        .ip_restrictions
                        .into_iter()
                        .map(IpRestriction::from)
                        .collect(),
                };
                if let Some(all) = &mut inventory.children {
                    all.insert(database.id.clone(), children);
                }
                inventory.databases.push(database);
            }
            // A token that does not move on would loop for ever: the listing ends there.
            match page.next_page_token {
                Some(token) if page_token.as_ref() != Some(&token) => page_token = Some(token),
                _ => return Ok(Some(inventory)),
            }
        }
        Err(Error::Protocol {
            message: format!("the list of databases did not end after {MAX_INVENTORY_PAGES} pages"),
        })
    }

    async fn update_database(
        &self,
        id: &str,
        changes: &DatabaseChanges,
    ) -> Result<Database, Error> {
        let path = Self::database_path(id)?;
        let mut body = Map::new();
        if let Some(plan) = &changes.plan {
            body.insert("plan".into(), Value::String(plan.clone()));
        }
        if let Some(version) = &changes.version {
            body.insert("version".into(), Value::String(version.clone()));
        }
        if let Some(description) = &changes.description {
            let value = description.clone().map_or(Value::Null, Value::String);
            body.insert("description".into(), value);
        }
        if let Some(flavor) = &changes.flavor {
            body.insert("flavor".into(), Value::String(flavor.clone()));
        }
        if let Some(count) = changes.node_count {
            body.insert("node_count".into(), Value::from(count));
        }
        // The body sets absolute values, so repeating it is harmless: retry-safe.
        let request = ApiRequest::patch(path, Value::Object(body)).with_idempotent(true);
        let wire: WireDatabase = self.http.send_json(request).await?;
        Ok(wire.into())
    }

    async fn failover_database(&self, id: &str) -> Result<Database, Error> {
        let path = format!("{}/failover", Self::database_path(id)?);
        let wire: WireDatabase = self
            .http
            .send_json(ApiRequest::post(path, Value::Object(Map::new())))
            .await?;
        Ok(wire.into())
    }

    async fn restart_database(&self, id: &str, node: Option<u32>) -> Result<Database, Error> {
        let path = format!("{}/restart", Self::database_path(id)?);
        let mut body = Map::new();
        if let Some(node) = node {
            body.insert("node".into(), Value::from(node));
        }
        let wire: WireDatabase = self
            .http
            .send_json(ApiRequest::post(path, Value::Object(body)))
            .await?;
        Ok(wire.into())
    }

    async fn delete_database(&self, id: &str) -> Result<(), Error> {
        let path = match Self::database_path(id) {
            Ok(path) => path,
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) => return Err(error),
        };
        match self.http.send(ApiRequest::delete(path)).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()), // already gone: the goal is reached
            Err(error) => Err(error),
        }
    }

    async fn create_credential(
        &self,
        database_id: &str,
        spec: &CredentialSpec,
    ) -> Result<Credential, Error> {
        let path = Self::credentials_path(database_id)?;
        let mut body = Map::new();
        body.insert("username".into(), Value::String(spec.username.clone()));
        body.insert("roles".into(), string_array(&spec.roles));
        if let Some(password) = &spec.password {
            body.insert(
                "password".into(),
                Value::String(password.expose_secret().to_owned()),
            );
        }
        // The key leaves the password out: a digest of it would travel and be stored.
        let key = derived_key(&[
            "credential",
            database_id,
            &spec.username,
            &spec.roles.join(","),
            if spec.password.is_some() {
                "chosen"
            } else {
                "generated"
            },
        ]);
        let request = ApiRequest::post(path, Value::Object(body));
        let wire: WireCredential = self.send_keyed(&key, request).await?;
        Ok(wire.into())
    }

    async fn get_credential(&self, database_id: &str, username: &str) -> Result<Credential, Error> {
        self.get_credential_held(database_id, username, Duration::ZERO)
            .await
    }

    async fn get_credential_held(
        &self,
        database_id: &str,
        username: &str,
        hold: Duration,
    ) -> Result<Credential, Error> {
        let path = Self::credential_path(database_id, username)?;
        let wire: WireCredential = self
            .http
            .send_json(held(ApiRequest::get(path), hold))
            .await?;
        Ok(wire.into())
    }

    async fn list_credentials(&self, database_id: &str) -> Result<Vec<Credential>, Error> {
        let path = Self::credentials_path(database_id)?;
        let wire: WireCredentialList = self.http.send_json(ApiRequest::get(path)).await?;
        Ok(wire.credentials.into_iter().map(Credential::from).collect())
    }

    async fn update_credential_roles(
        &self,
        database_id: &str,
        username: &str,
        roles: &[String],
    ) -> Result<Credential, Error> {
        let path = Self::credential_path(database_id, username)?;
        let body = serde_json::json!({ "roles": string_array(roles) });
        // The whole role list is sent, so repeating it is harmless: retry-safe.
        let request = ApiRequest::patch(path, body).with_idempotent(true);
        let wire: WireCredential = self.http.send_json(request).await?;
        Ok(wire.into())
    }

    async fn reset_credential_password(
        &self,
        database_id: &str,
        username: &str,
        password: Option<&SecretString>,
    ) -> Result<Credential, Error> {
        let path = format!(
            "{}/reset-password",
            Self::credential_path(database_id, username)?
        );
        let mut body = Map::new();
        if let Some(password) = password {
            body.insert(
                "password".into(),
                Value::String(password.expose_secret().to_owned()),
            );
        }
        // Retry-safe: a repeat ends in the same state (the chosen password, or a fresh generated
        // one that the final reply carries).
        let request = ApiRequest::post(path, Value::Object(body)).with_idempotent(true);
        let wire: WireCredential = self.http.send_json(request).await?;
        Ok(wire.into())
    }

    async fn reveal_credential_password(
        &self,
        database_id: &str,
        username: &str,
    ) -> Result<SecretString, Error> {
        let path = format!("{}/password", Self::credential_path(database_id, username)?);
        let wire: WirePassword = self.http.send_json(ApiRequest::get(path)).await?;
        Ok(SecretString::from(wire.password))
    }

    async fn delete_credential(&self, database_id: &str, username: &str) -> Result<(), Error> {
        let path = match Self::credential_path(database_id, username) {
            Ok(path) => path,
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) => return Err(error),
        };
        gone_is_ok(self.http.send(ApiRequest::delete(path)).await)
    }

    async fn create_index(
        &self,
        database_id: &str,
        collection: &str,
        spec: &IndexSpec,
    ) -> Result<Index, Error> {
        let path = Self::indexes_path(database_id, collection)?;
        let mut body = Map::new();
        if let Some(name) = &spec.name {
            body.insert("name".into(), Value::String(name.clone()));
        }
        let keys = spec
            .keys
            .iter()
            .map(|key| {
                serde_json::json!({"field": key.field, "direction": key.direction.as_number()})
            })
            .collect();
        body.insert("keys".into(), Value::Array(keys));
        body.insert("unique".into(), Value::Bool(spec.unique));
        body.insert("sparse".into(), Value::Bool(spec.sparse));
        let body = Value::Object(body);
        let key = derived_key(&["index", database_id, collection, &body.to_string()]);
        let wire: WireIndex = self.send_keyed(&key, ApiRequest::post(path, body)).await?;
        wire.into_index(database_id, collection)
    }

    async fn get_index(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<Index, Error> {
        self.get_index_held(database_id, collection, name, Duration::ZERO)
            .await
    }

    async fn get_index_held(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
        hold: Duration,
    ) -> Result<Index, Error> {
        let path = Self::index_path(database_id, collection, name)?;
        let wire: WireIndex = self
            .http
            .send_json(held(ApiRequest::get(path), hold))
            .await?;
        wire.into_index(database_id, collection)
    }

    async fn list_indexes(&self, database_id: &str, collection: &str) -> Result<Vec<Index>, Error> {
        let path = Self::indexes_path(database_id, collection)?;
        let wire: WireIndexList = self.http.send_json(ApiRequest::get(path)).await?;
        wire.indexes
            .into_iter()
            .map(|index| index.into_index(database_id, collection))
            .collect()
    }

    async fn delete_index(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<(), Error> {
        let path = match Self::index_path(database_id, collection, name) {
            Ok(path) => path,
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) => return Err(error),
        };
        gone_is_ok(self.http.send(ApiRequest::delete(path)).await)
    }

    async fn create_ip_restriction(
        &self,
        database_id: &str,
        spec: &IpRestrictionSpec,
    ) -> Result<IpRestriction, Error> {
        let path = Self::ip_restrictions_path(database_id)?;
        let mut body = Map::new();
        body.insert("cidr".into(), Value::String(spec.cidr.clone()));
        if let Some(description) = &spec.description {
            body.insert("description".into(), Value::String(description.clone()));
        }
        let body = Value::Object(body);
        let key = derived_key(&["ip_restriction", database_id, &body.to_string()]);
        let wire: WireIpRestriction = self.send_keyed(&key, ApiRequest::post(path, body)).await?;
        Ok(wire.into())
    }

    async fn get_ip_restriction(
        &self,
        database_id: &str,
        cidr: &str,
    ) -> Result<IpRestriction, Error> {
        self.get_ip_restriction_held(database_id, cidr, Duration::ZERO)
            .await
    }

    async fn get_ip_restriction_held(
        &self,
        database_id: &str,
        cidr: &str,
        hold: Duration,
    ) -> Result<IpRestriction, Error> {
        let path = Self::ip_restriction_path(database_id, cidr)?;
        let request = held(ApiRequest::get(path), hold);
        let wire: WireIpRestriction = self.http.send_json(request).await?;
        Ok(wire.into())
    }

    async fn list_ip_restrictions(&self, database_id: &str) -> Result<Vec<IpRestriction>, Error> {
        let path = Self::ip_restrictions_path(database_id)?;
        let wire: WireIpRestrictionList = self.http.send_json(ApiRequest::get(path)).await?;
        Ok(wire
            .ip_restrictions
            .into_iter()
            .map(IpRestriction::from)
            .collect())
    }

    async fn update_ip_restriction(
        &self,
        database_id: &str,
        cidr: &str,
        description: Option<&str>,
    ) -> Result<IpRestriction, Error> {
        let path = Self::ip_restriction_path(database_id, cidr)?;
        let description = description.map_or(Value::Null, |text| Value::String(text.to_owned()));
        let body = serde_json::json!({ "description": description });
        // An absolute value: repeating it is harmless.
        let request = ApiRequest::patch(path, body).with_idempotent(true);
        let wire: WireIpRestriction = self.http.send_json(request).await?;
        Ok(wire.into())
    }

    async fn delete_ip_restriction(&self, database_id: &str, cidr: &str) -> Result<(), Error> {
        let path = match Self::ip_restriction_path(database_id, cidr) {
            Ok(path) => path,
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) => return Err(error),
        };
        gone_is_ok(self.http.send(ApiRequest::delete(path)).await)
    }
}

fn string_array(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

/// Maps a raw dbaas-local status to a phase. Unknown statuses are pending, never failed.
pub(crate) fn phase_of(raw: &str) -> Phase {
    match raw {
        "READY" => Phase::Ready,
        "DELETING" => Phase::Deleting,
        "ERROR" => Phase::Failed,
        _ => Phase::Pending, // CREATING, UPDATING, BUILDING (indexes), and anything new
    }
}

fn status_of(raw: String, message: Option<String>) -> Status {
    Status {
        phase: phase_of(&raw),
        raw,
        message,
    }
}

/// Maps the native error body to [`Error`]; 500 stays [`Error::Api`], 502–504 become
/// [`Error::Unavailable`], and `Retry-After` is kept for 429. A 409 is [`Error::Busy`] when its
/// `reason` is `busy` (the same request succeeds later) and [`Error::Conflict`] otherwise
/// (`duplicate`, `state`, or no reason at all).
fn local_error_mapper(response: &ApiResponse) -> Error {
    let parsed = serde_json::from_slice::<WireErrorBody>(&response.body).ok();
    let (message, field, reason) = match parsed {
        Some(WireErrorBody { error }) => {
            let message = match error.message {
                Some(message) if !message.trim().is_empty() => message,
                _ => error
                    .code
                    .map(|code| format!("{} ({code})", status_reason(response.status)))
                    .unwrap_or_else(|| status_reason(response.status)),
            };
            (message, error.field, error.reason)
        }
        None => (
            error_message_from_body(&response.body)
                .unwrap_or_else(|| status_reason(response.status)),
            None,
            None,
        ),
    };
    if response.status == 409 && reason.as_deref() == Some("busy") {
        return Error::Busy {
            message,
            retry_after: response.retry_after(),
        };
    }
    error_for_status(response.status, message, field, response.retry_after())
}

#[derive(Deserialize)]
struct WireErrorBody {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    field: Option<String>,
    /// On 409: `busy`, `duplicate` or `state`.
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct WireCredentialList {
    credentials: Vec<WireCredential>,
}

#[derive(Deserialize)]
struct WireCredential {
    database_id: String,
    username: String,
    #[serde(default)]
    roles: Vec<String>,
    status: String,
    /// Why it is in `ERROR` (absent from servers older than the field).
    #[serde(default)]
    status_message: Option<String>,
    #[serde(default)]
    password_chosen: bool,
    /// Only in create and reset replies, and only for a generated password. Wrapped into a
    /// `SecretString` as soon as it is decoded.
    #[serde(default)]
    password: Option<String>,
    created_at: String,
}

impl From<WireCredential> for Credential {
    fn from(wire: WireCredential) -> Self {
        Credential {
            database_id: wire.database_id,
            username: wire.username,
            roles: wire.roles,
            status: status_of(wire.status, wire.status_message),
            password: wire.password.map(SecretString::from),
            password_chosen: wire.password_chosen,
            created_at: wire.created_at,
        }
    }
}

#[derive(Deserialize)]
struct WirePassword {
    password: String,
}

#[derive(Deserialize)]
struct WireIndexList {
    indexes: Vec<WireIndex>,
}

#[derive(Deserialize)]
struct WireIndex {
    /// Absent on the implicit `_id_` index in some replies: filled from the request.
    #[serde(default)]
    database_id: Option<String>,
    #[serde(default)]
    collection: Option<String>,
    name: String,
    keys: Vec<WireIndexKey>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    sparse: bool,
    status: String,
    /// Why it is in `ERROR` (absent from servers older than the field).
    #[serde(default)]
    status_message: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct WireIndexKey {
    field: String,
    direction: i64,
}

impl WireIndex {
    /// The domain index; a direction other than 1/-1 is a reply we cannot represent.
    fn into_index(self, database_id: &str, collection: &str) -> Result<Index, Error> {
        let keys = self
            .keys
            .into_iter()
            .map(|key| match IndexDirection::from_number(key.direction) {
                Some(direction) => Ok(IndexKey {
                    field: key.field,
                    direction,
                }),
                None => Err(Error::Protocol {
                    message: format!(
                        "index `{}` has direction {} on field `{}`; only 1 and -1 are known",
                        self.name, key.direction, key.field
                    ),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Index {
            database_id: self.database_id.unwrap_or_else(|| database_id.to_owned()),
            collection: self.collection.unwrap_or_else(|| collection.to_owned()),
            name: self.name,
            keys,
            unique: self.unique,
            sparse: self.sparse,
            status: status_of(self.status, self.status_message),
            created_at: self.created_at.unwrap_or_default(),
        })
    }
}

#[derive(Deserialize)]
struct WireIpRestrictionList {
    ip_restrictions: Vec<WireIpRestriction>,
}

#[derive(Deserialize)]
struct WireIpRestriction {
    database_id: String,
    cidr: String,
    #[serde(default)]
    description: Option<String>,
    status: String,
    /// Why it is in `ERROR` (absent from servers older than the field).
    #[serde(default)]
    status_message: Option<String>,
    created_at: String,
}

impl From<WireIpRestriction> for IpRestriction {
    fn from(wire: WireIpRestriction) -> Self {
        IpRestriction {
            database_id: wire.database_id,
            cidr: wire.cidr,
            description: wire.description,
            status: status_of(wire.status, wire.status_message),
            created_at: wire.created_at,
        }
    }
}

#[derive(Deserialize)]
struct WireDatabaseList {
    databases: Vec<WireDatabase>,
}

/// A page of `GET /v1/databases?include=children`.
#[derive(Deserialize)]
struct WireInventoryPage {
    databases: Vec<WireListedDatabase>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct WireListedDatabase {
    #[serde(flatten)]
    database: WireDatabase,
    credentials: Vec<WireCredential>,
    indexes: Vec<WireIndex>,
    ip_restrictions: Vec<WireIpRestriction>,
}

#[derive(Deserialize)]
struct WireDatabase {
    id: String,
    name: String,
    engine: String,
    version: String,
    plan: String,
    region: String,
    #[serde(default)]
    flavor: Option<String>,
    #[serde(default)]
    node_count: Option<u32>,
    #[serde(default)]
    description: Option<String>,
    status: String,
    #[serde(default)]
    status_message: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    created_at: String,
}

impl From<WireDatabase> for Database {
    fn from(wire: WireDatabase) -> Self {
        Database {
            id: wire.id,
            name: wire.name,
            engine: wire.engine,
            version: wire.version,
            plan: wire.plan,
            region: wire.region,
            flavor: wire.flavor,
            node_count: wire.node_count,
            description: wire.description,
            status: status_of(wire.status, wire.status_message),
            endpoint: wire.endpoint,
            created_at: wire.created_at,
        }
    }
}

#[derive(Deserialize)]
struct WireCapabilities {
    #[serde(default)]
    engines: Vec<WireEngine>,
    #[serde(default)]
    plans: Vec<WirePlan>,
    #[serde(default)]
    regions: Vec<WireRegion>,
    #[serde(default)]
    flavors: Vec<WireFlavor>,
    defaults: WireDefaults,
}

#[derive(Deserialize)]
struct WireEngine {
    name: String,
    versions: Vec<String>,
    default_version: String,
}

#[derive(Deserialize)]
struct WirePlan {
    name: String,
    #[serde(default)]
    description: String,
    node_count: u32,
}

#[derive(Deserialize)]
struct WireRegion {
    name: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct WireFlavor {
    name: String,
    cores: u32,
    memory_gb: u32,
    storage_gb: u32,
}

#[derive(Deserialize)]
struct WireDefaults {
    engine: String,
    plan: String,
    region: String,
}

impl From<WireCapabilities> for Capabilities {
    fn from(wire: WireCapabilities) -> Self {
        Capabilities {
            engines: wire
                .engines
                .into_iter()
                .map(|e| EngineInfo {
                    name: e.name,
                    versions: e.versions,
                    default_version: e.default_version,
                })
                .collect(),
            plans: wire
                .plans
                .into_iter()
                .map(|p| PlanInfo {
                    name: p.name,
                    description: p.description,
                    node_count: p.node_count,
                })
                .collect(),
            regions: wire
                .regions
                .into_iter()
                .map(|r| RegionInfo {
                    name: r.name,
                    description: r.description,
                })
                .collect(),
            flavors: wire
                .flavors
                .into_iter()
                .map(|f| FlavorInfo {
                    name: f.name,
                    cores: f.cores,
                    memory_gb: f.memory_gb,
                    storage_gb: f.storage_gb,
                })
                .collect(),
            defaults: Defaults {
                engine: wire.defaults.engine,
                plan: wire.defaults.plan,
                region: wire.defaults.region,
            },
        }
    }
}

/// The idempotency key of a create, derived from what it creates: the same configuration
/// gets the same key in a retry, in a second apply after a crash, and in another provider
/// process, so the service replays the first create instead of making a second object.
fn derived_key(parts: &[&str]) -> String {
    let mut text = Vec::new();
    for part in parts {
        text.extend_from_slice(part.as_bytes());
        text.push(0);
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &text);
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("tf-{hex}")
}

/// A key's later generations: once the object a key created is deleted, the same
/// configuration is created again under the next one.
const KEY_GENERATIONS: u32 = 20;

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue};

    use super::*;

    fn response(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn phase_of_maps_contract_statuses_and_unknown_to_pending() {
        assert_eq!(phase_of("CREATING"), Phase::Pending);
        assert_eq!(phase_of("UPDATING"), Phase::Pending);
        assert_eq!(phase_of("BUILDING"), Phase::Pending);
        assert_eq!(phase_of("READY"), Phase::Ready);
        assert_eq!(phase_of("DELETING"), Phase::Deleting);
        assert_eq!(phase_of("ERROR"), Phase::Failed);
        assert_eq!(phase_of("LOCKED_UPDATING"), Phase::Pending);
        assert_eq!(phase_of(""), Phase::Pending);
    }

    #[test]
    fn local_error_mapper_keeps_field_of_invalid() {
        let error = local_error_mapper(&response(
            400,
            r#"{"error":{"code":"invalid","message":"plan must be one of essential, business, enterprise","field":"plan"}}"#,
        ));
        match error {
            Error::Invalid { field, message } => {
                assert_eq!(field.as_deref(), Some("plan"));
                assert_eq!(
                    message,
                    "plan must be one of essential, business, enterprise"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn local_error_mapper_maps_each_code() {
        let body = |code: &str| {
            format!(r#"{{"error":{{"code":"{code}","message":"says {code}","field":null}}}}"#)
        };
        type Expectation = fn(&Error) -> bool;
        let cases: [(u16, &str, Expectation); 6] = [
            (401, "unauthorized", |e| {
                matches!(e, Error::Unauthorized { .. })
            }),
            (404, "not_found", |e| e.is_not_found()),
            (409, "conflict", |e| e.is_conflict()),
            (500, "internal", |e| {
                matches!(e, Error::Api { status: 500, .. })
            }),
            (503, "unavailable", |e| {
                matches!(e, Error::Unavailable { .. })
            }),
            (429, "rate_limited", |e| {
                matches!(e, Error::RateLimited { .. })
            }),
        ];
        for (status, code, expected) in cases {
            let error = local_error_mapper(&response(status, &body(code)));
            assert!(expected(&error), "{status}: {error:?}");
            assert_eq!(error.api_message(), format!("says {code}"));
        }
    }

    #[test]
    fn local_error_mapper_reads_retry_after() {
        let mut reply = response(
            429,
            r#"{"error":{"code":"rate_limited","message":"slow down","field":null}}"#,
        );
        reply
            .headers
            .insert("retry-after", HeaderValue::from_static("3"));
        let error = local_error_mapper(&reply);
        assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(3)));
    }

    #[test]
    fn local_error_mapper_copes_with_foreign_bodies() {
        let proxy = local_error_mapper(&response(502, "<html>Bad Gateway</html>"));
        assert!(matches!(proxy, Error::Unavailable { .. }));
        assert_eq!(proxy.api_message(), "HTTP 502 Bad Gateway");
        let no_message = local_error_mapper(&response(409, r#"{"error":{"code":"conflict"}}"#));
        assert_eq!(no_message.api_message(), "HTTP 409 Conflict (conflict)");
    }

    #[test]
    fn database_decodes_contract_example() {
        let wire: WireDatabase = serde_json::from_str(
            r#"{"id":"db-0123456789ab","name":"orders","engine":"postgresql","version":"17",
                "plan":"business","region":"eu-west-1","description":null,"status":"ERROR",
                "status_message":"disk full",
                "endpoint":"postgresql://orders.eu-west-1.dbaas.local:5432/orders",
                "created_at":"2026-11-22T08:00:00Z","updated_at":"2026-11-22T08:00:01Z",
                "some_future_field":true}"#,
        )
        .unwrap();
        let database = Database::from(wire);
        assert_eq!(database.id, "db-0123456789ab");
        assert_eq!(database.description, None);
        assert_eq!(
            database.status,
            Status {
                phase: Phase::Failed,
                raw: "ERROR".into(),
                message: Some("disk full".into()),
            }
        );
        assert_eq!(
            database.endpoint.as_deref(),
            Some("postgresql://orders.eu-west-1.dbaas.local:5432/orders")
        );
        assert_eq!(database.created_at, "2026-11-22T08:00:00Z");
    }

    #[test]
    fn capabilities_decode_contract_example() {
        let wire: WireCapabilities = serde_json::from_str(
            r#"{"engines":[{"name":"mongodb","versions":["6.0","7.0","8.0"],"default_version":"8.0"}],
                "plans":[{"name":"business","description":"3 nodes","node_count":3}],
                "regions":[{"name":"eu-west-1","description":"Ireland"}],
                "flavors":[{"name":"db1-4","cores":1,"memory_gb":4,"storage_gb":20}],
                "defaults":{"engine":"mongodb","plan":"essential","region":"eu-west-1"}}"#,
        )
        .unwrap();
        let capabilities = Capabilities::from(wire);
        assert_eq!(
            capabilities.engine("mongodb").unwrap().default_version,
            "8.0"
        );
        assert_eq!(capabilities.plans[0].node_count, 3);
        assert_eq!(capabilities.flavors[0].storage_gb, 20);
        assert_eq!(capabilities.defaults.plan, "essential");
    }

    #[test]
    fn database_path_refuses_ids_that_would_change_the_route() {
        assert_eq!(
            LocalApi::database_path("db-0123456789ab").unwrap(),
            "/v1/databases/db-0123456789ab"
        );
        assert_eq!(
            LocalApi::database_path("a/../b").unwrap(),
            "/v1/databases/a%2F..%2Fb"
        );
        for bad in ["", ".", ".."] {
            assert!(LocalApi::database_path(bad).unwrap_err().is_not_found());
        }
    }

    fn conflict(reason: &str, message: &str) -> ApiResponse {
        response(
            409,
            &format!(
                r#"{{"error":{{"code":"conflict","reason":"{reason}","message":"{message}","field":null}}}}"#
            ),
        )
    }

    #[test]
    fn local_error_mapper_maps_busy_reason_to_busy_with_retry_after() {
        let mut reply = conflict(
            "busy",
            "database db-0123456789ab is busy (UPDATING); retry when it is READY",
        );
        reply
            .headers
            .insert("retry-after", HeaderValue::from_static("1"));
        let error = local_error_mapper(&reply);
        match &error {
            Error::Busy {
                message,
                retry_after,
            } => {
                assert_eq!(
                    message,
                    "database db-0123456789ab is busy (UPDATING); retry when it is READY"
                );
                assert_eq!(*retry_after, Some(Duration::from_secs(1)));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!error.is_conflict() && !error.is_retryable());
        let without_header = local_error_mapper(&conflict("busy", "wait"));
        assert!(without_header.is_busy());
        assert_eq!(without_header.retry_after(), None);
    }

    #[test]
    fn local_error_mapper_maps_other_reasons_to_conflict() {
        let cases = [
            conflict(
                "duplicate",
                "10.0.0.0/24 is already allowed on database db-0123456789ab",
            ),
            conflict(
                "state",
                "the password of app was chosen by the client and is not stored",
            ),
            conflict("something-new", "odd"),
            response(
                409,
                r#"{"error":{"code":"conflict","message":"no reason"}}"#,
            ),
        ];
        for reply in cases {
            let error = local_error_mapper(&reply);
            assert!(error.is_conflict() && !error.is_busy(), "{error:?}");
        }
        // `reason` only means busy on a 409.
        let odd = response(
            503,
            r#"{"error":{"code":"unavailable","reason":"busy","message":"down"}}"#,
        );
        assert!(matches!(
            local_error_mapper(&odd),
            Error::Unavailable { .. }
        ));
    }

    #[test]
    fn credential_decodes_create_reply_with_generated_password() {
        let wire: WireCredential = serde_json::from_str(
            r#"{"database_id":"db-0123456789ab","username":"app",
                "roles":["readWrite@orders","read@reports"],"status":"CREATING",
                "password_chosen":false,"password":"Gener4tedPassw0rdXyZ1234",
                "created_at":"2026-11-22T08:00:00Z","updated_at":"2026-11-22T08:00:00Z"}"#,
        )
        .unwrap();
        let credential = Credential::from(wire);
        assert_eq!(credential.database_id, "db-0123456789ab");
        assert_eq!(credential.username, "app");
        assert_eq!(credential.roles, ["readWrite@orders", "read@reports"]);
        assert_eq!(credential.status.phase, Phase::Pending);
        assert_eq!(credential.status.raw, "CREATING");
        assert!(!credential.password_chosen);
        assert_eq!(
            credential.password.as_ref().map(|p| p.expose_secret()),
            Some("Gener4tedPassw0rdXyZ1234")
        );
        assert_eq!(credential.created_at, "2026-11-22T08:00:00Z");
        assert!(!format!("{credential:?}").contains("Gener4tedPassw0rdXyZ1234"));
    }

    #[test]
    fn credential_decodes_read_without_password() {
        for body in [
            r#"{"database_id":"db-1","username":"app","roles":[],"status":"READY",
                "password_chosen":true,"password":null,"created_at":"t","updated_at":"t"}"#,
            r#"{"database_id":"db-1","username":"app","status":"DELETING",
                "password_chosen":true,"created_at":"t"}"#,
        ] {
            let credential =
                Credential::from(serde_json::from_str::<WireCredential>(body).unwrap());
            assert!(credential.password.is_none());
            assert!(credential.password_chosen);
            assert!(credential.roles.is_empty());
        }
        let list: WireCredentialList = serde_json::from_str(
            r#"{"credentials":[{"database_id":"db-1","username":"a","roles":["read@x"],
                "status":"UPDATING","password_chosen":false,"created_at":"t"}]}"#,
        )
        .unwrap();
        let first = Credential::from(list.credentials.into_iter().next().unwrap());
        assert_eq!(first.status.phase, Phase::Pending);
    }

    #[test]
    fn index_decodes_directions_and_fills_implicit_fields() {
        let list: WireIndexList = serde_json::from_str(
            r#"{"indexes":[
                {"name":"_id_","keys":[{"field":"_id","direction":1}],"unique":true,
                 "sparse":false,"status":"READY"},
                {"database_id":"db-1","collection":"users","name":"a_1_b_-1",
                 "keys":[{"field":"a","direction":1},{"field":"b","direction":-1}],
                 "unique":false,"sparse":true,"status":"BUILDING",
                 "created_at":"2026-11-22T08:00:00Z"}]}"#,
        )
        .unwrap();
        let indexes: Vec<Index> = list
            .indexes
            .into_iter()
            .map(|wire| wire.into_index("db-1", "users"))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(indexes[0].name, "_id_");
        assert_eq!(indexes[0].database_id, "db-1");
        assert_eq!(indexes[0].collection, "users");
        assert_eq!(indexes[0].status.phase, Phase::Ready);
        assert!(indexes[0].unique);
        assert_eq!(indexes[0].created_at, "");
        assert_eq!(
            indexes[1].keys,
            [
                IndexKey {
                    field: "a".into(),
                    direction: IndexDirection::Ascending
                },
                IndexKey {
                    field: "b".into(),
                    direction: IndexDirection::Descending
                }
            ]
        );
        assert!(indexes[1].sparse && !indexes[1].unique);
        assert_eq!(indexes[1].status.raw, "BUILDING");
        assert_eq!(indexes[1].status.phase, Phase::Pending);
    }

    #[test]
    fn index_with_unknown_direction_is_a_protocol_error() {
        let wire: WireIndex = serde_json::from_str(
            r#"{"name":"geo","keys":[{"field":"loc","direction":2}],"status":"READY"}"#,
        )
        .unwrap();
        let error = wire.into_index("db-1", "places").unwrap_err();
        assert!(matches!(error, Error::Protocol { .. }), "{error:?}");
        assert!(error.api_message().contains("loc"), "{error:?}");
    }

    #[test]
    fn ip_restriction_decodes_contract_example() {
        let list: WireIpRestrictionList = serde_json::from_str(
            r#"{"ip_restrictions":[{"database_id":"db-1","cidr":"2001:db8::/32",
                "description":null,"status":"CREATING","created_at":"2026-11-22T08:00:00Z"},
                {"database_id":"db-1","cidr":"10.0.0.0/24","description":"office",
                "status":"DELETING","created_at":"2026-11-22T08:00:00Z"}]}"#,
        )
        .unwrap();
        let restrictions: Vec<IpRestriction> = list
            .ip_restrictions
            .into_iter()
            .map(IpRestriction::from)
            .collect();
        assert_eq!(restrictions[0].cidr, "2001:db8::/32");
        assert_eq!(restrictions[0].description, None);
        assert_eq!(restrictions[0].status.phase, Phase::Pending);
        assert_eq!(restrictions[1].description.as_deref(), Some("office"));
        assert_eq!(restrictions[1].status.phase, Phase::Deleting);
    }

    #[test]
    fn child_paths_encode_segments() {
        assert_eq!(
            LocalApi::ip_restriction_path("db-1", "10.0.0.0/24").unwrap(),
            "/v1/databases/db-1/ip-restrictions/10.0.0.0%2F24"
        );
        assert_eq!(
            LocalApi::ip_restriction_path("db-1", "2001:db8::/32").unwrap(),
            "/v1/databases/db-1/ip-restrictions/2001%3Adb8%3A%3A%2F32"
        );
        assert_eq!(
            LocalApi::ip_restrictions_path("db-1").unwrap(),
            "/v1/databases/db-1/ip-restrictions"
        );
        assert_eq!(
            LocalApi::credential_path("db-1", "app.reader").unwrap(),
            "/v1/databases/db-1/credentials/app.reader"
        );
        assert_eq!(
            LocalApi::credentials_path("db-1").unwrap(),
            "/v1/databases/db-1/credentials"
        );
        assert_eq!(
            LocalApi::index_path("db-1", "orders.items", "a_1_b_-1").unwrap(),
            "/v1/databases/db-1/collections/orders.items/indexes/a_1_b_-1"
        );
        assert_eq!(
            LocalApi::indexes_path("db-1", "a b/c").unwrap(),
            "/v1/databases/db-1/collections/a%20b%2Fc/indexes"
        );
    }

    #[test]
    fn child_paths_refuse_segments_that_would_change_the_route() {
        for bad in ["", ".", ".."] {
            let error = LocalApi::index_path("db-1", bad, "a_1").unwrap_err();
            assert!(
                matches!(&error, Error::Invalid { field: Some(f), .. } if f == "collection"),
                "{error:?}"
            );
            let error = LocalApi::ip_restriction_path("db-1", bad).unwrap_err();
            assert!(
                matches!(&error, Error::Invalid { field: Some(f), .. } if f == "cidr"),
                "{error:?}"
            );
            let error = LocalApi::credential_path("db-1", bad).unwrap_err();
            assert!(
                matches!(&error, Error::Invalid { field: Some(f), .. } if f == "username"),
                "{error:?}"
            );
            assert!(LocalApi::credentials_path(bad).unwrap_err().is_not_found());
        }
    }

    #[test]
    fn poll_guidance_suits_a_local_service() {
        let api = LocalApi::new(DEFAULT_ENDPOINT, None, HttpTuning::default()).unwrap();
        assert_eq!(
            api.poll_guidance(),
            PollGuidance {
                min_interval: Duration::from_millis(250),
                max_interval: Duration::from_secs(5),
            }
        );
    }

    #[test]
    fn new_rejects_malformed_endpoint() {
        let error = LocalApi::new("127.0.0.1:8780", None, HttpTuning::default()).unwrap_err();
        assert!(matches!(error, Error::Invalid { .. }), "{error:?}");
        assert!(LocalApi::new(DEFAULT_ENDPOINT, None, HttpTuning::default()).is_ok());
    }
}
