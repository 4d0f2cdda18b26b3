//! `LocalApi`: the client for dbaas-local's native REST API (v1).
//!
//! The contract is the shared native-API document: JSON everywhere, bearer token when the
//! service has one, errors as `{"error": {"code", "message", "field"}}`.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::http::{
    ApiRequest, ApiResponse, BearerToken, HttpClient, HttpConfig, HttpTuning, NoAuth,
    encode_path_segment, error_for_status, error_message_from_body, status_reason,
};
use super::{
    Capabilities, Database, DatabaseChanges, DatabaseSpec, DbaasApi, Defaults, EngineInfo, Error,
    FlavorInfo, Phase, PlanInfo, RegionInfo, Status,
};

/// Where dbaas-local listens unless told otherwise.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8780";

/// Client for dbaas-local's native API.
#[derive(Clone, Debug)]
pub struct LocalApi {
    http: HttpClient,
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
        Ok(Self {
            http: HttpClient::new(config)?,
        })
    }

    /// The underlying HTTP client (for calls outside the trait, e.g. health checks).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn database_path(id: &str) -> Result<String, Error> {
        // "." and ".." would be resolved away by URL normalisation and hit another endpoint.
        if id.is_empty() || id == "." || id == ".." {
            return Err(Error::NotFound {
                message: format!("there is no database with id `{id}`"),
            });
        }
        Ok(format!("/v1/databases/{}", encode_path_segment(id)))
    }
}

#[async_trait]
impl DbaasApi for LocalApi {
    fn api_name(&self) -> &'static str {
        "local"
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
            ("description", &spec.description),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                body.insert(key.into(), Value::String(value.clone()));
            }
        }
        // One key per create call, reused by that call's retries: a retried POST whose first
        // attempt did reach the service returns the same database instead of a 409.
        let key = spec
            .idempotency_key
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let request =
            ApiRequest::post("/v1/databases", Value::Object(body)).with_idempotency_key(&key)?;
        let wire: WireDatabase = self.http.send_json(request).await?;
        Ok(wire.into())
    }

    async fn get_database(&self, id: &str) -> Result<Database, Error> {
        let path = Self::database_path(id)?;
        let wire: WireDatabase = self.http.send_json(ApiRequest::get(path)).await?;
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
        // The body sets absolute values, so repeating it is harmless: retry-safe.
        let request = ApiRequest::patch(path, Value::Object(body)).with_idempotent(true);
        let wire: WireDatabase = self.http.send_json(request).await?;
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
}

/// Maps a raw dbaas-local status to a phase. Unknown statuses are pending, never failed.
pub(crate) fn phase_of(raw: &str) -> Phase {
    match raw {
        "READY" => Phase::Ready,
        "DELETING" => Phase::Deleting,
        "ERROR" => Phase::Failed,
        _ => Phase::Pending, // CREATING, UPDATING, and anything new
    }
}

/// Maps the native error body to [`Error`]; 500 stays [`Error::Api`], 502–504 become
/// [`Error::Unavailable`], and `Retry-After` is kept for 429.
fn local_error_mapper(response: &ApiResponse) -> Error {
    let parsed = serde_json::from_slice::<WireErrorBody>(&response.body).ok();
    let (message, field) = match parsed {
        Some(WireErrorBody { error }) => {
            let message = match error.message {
                Some(message) if !message.trim().is_empty() => message,
                _ => error
                    .code
                    .map(|code| format!("{} ({code})", status_reason(response.status)))
                    .unwrap_or_else(|| status_reason(response.status)),
            };
            (message, error.field)
        }
        None => (
            error_message_from_body(&response.body)
                .unwrap_or_else(|| status_reason(response.status)),
            None,
        ),
    };
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
}

#[derive(Deserialize)]
struct WireDatabaseList {
    databases: Vec<WireDatabase>,
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
            description: wire.description,
            status: Status {
                phase: phase_of(&wire.status),
                raw: wire.status,
                message: wire.status_message,
            },
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

    #[test]
    fn new_rejects_malformed_endpoint() {
        let error = LocalApi::new("127.0.0.1:8780", None, HttpTuning::default()).unwrap_err();
        assert!(matches!(error, Error::Invalid { .. }), "{error:?}");
        assert!(LocalApi::new(DEFAULT_ENDPOINT, None, HttpTuning::default()).is_ok());
    }
}
