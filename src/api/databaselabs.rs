//! `DatabaselabsApi`: the client for databaselabs.io, hosted PostgreSQL (seed 002).
//!
//! Every call is HTTP Basic authenticated, API key as user, API secret as password, against
//! `https://www.databaselabs.io` (or an emulator's root, e.g. `http://<host>/databaselabs`).
//!
//! How the domain maps onto databaselabs:
//! - a database is one server: `POST /api/databases` with `size` (the plan) and `region`
//!   (default `nyc3`), answered 202 with its `hostname`, which is the id of every later call,
//!   and the superuser password, shown only there ([`DatabaselabsApi::create_database_with_password`]
//!   returns it). There is no name, engine choice, version, flavor, node count, description or
//!   update call: the database's name is its hostname's first label, its engine `postgresql`;
//!   a change of size or region needs a new database;
//! - statuses: `ordered` and `building` are pending, `ready` and `degraded` (running, at
//!   reduced capacity) are ready, `failed` and `stopped` (shut down: waiting will not start
//!   it) are failed, `destroying` is deleting, and `destroyed` is gone (not found);
//! - errors: 402 is [`Error::PaymentRequired`] (the card was declined), 401 names the key and
//!   secret; other statuses as usual, the message from the body when it has one;
//! - polling: databaselabs asks for at least 30 s between polls ([`DEFAULT_POLL_GUIDANCE`]);
//! - `GET /api/ping` checks the credentials ([`DatabaselabsApi::ping`]); `GET /api/plans` is
//!   the catalog (sizes as plans, regions).
//!
//! A `POST` is never retried once it may have reached the server (databaselabs has no
//! idempotency key): a lost reply leaves a database the provider cannot adopt by name.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::http::{
    ApiRequest, ApiResponse, BasicAuth, HttpClient, HttpConfig, HttpTuning, error_for_status,
    error_message_from_body, object_segment, status_reason,
};
use super::{
    Capabilities, CreatedDatabase, Database, DatabaseChanges, DatabaseSpec, DbaasApi, Defaults,
    EngineInfo, Error, Feature, Found, Phase, PlanInfo, PollGuidance, RegionInfo, Status,
};

/// databaselabs' API root.
pub const DEFAULT_ENDPOINT: &str = "https://www.databaselabs.io";

/// The engine every databaselabs database runs.
pub const ENGINE: &str = "postgresql";

/// The region a create without one gets (the seed says so).
pub const DEFAULT_REGION: &str = "nyc3";

/// What databaselabs offers through this client: databases with a size (the plan) and a
/// region, the plans catalog and the list. Nothing else exists in its API.
pub const FEATURES: &[Feature] = &[
    Feature::Database,
    Feature::DatabasePlan,
    Feature::DatabaseRegion,
    Feature::DatabaseSuperuserPassword,
    Feature::Capabilities,
    Feature::ListDatabases,
    Feature::BatchedRefresh,
];

/// databaselabs asks callers to "sleep for at least 30 seconds between retry attempts".
pub const DEFAULT_POLL_GUIDANCE: PollGuidance = PollGuidance {
    min_interval: Duration::from_secs(30),
    max_interval: Duration::from_secs(60),
};

/// How to reach and authenticate to databaselabs.
#[derive(Clone, Debug)]
pub struct DatabaselabsConfig {
    /// API root URL: [`DEFAULT_ENDPOINT`], or an emulator's (`http://127.0.0.1:8780/databaselabs`).
    pub endpoint: String,
    /// The API key, sent as the Basic user name.
    pub api_key: String,
    /// The API secret, sent as the Basic password.
    pub api_secret: SecretString,
}

/// One entry of `GET /api/plans`: a size offered in a region.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct DatabaselabsPlan {
    /// Subscription plan code (`512mb-do-ams3-dev`).
    pub id: String,
    /// Server memory: the `size` of a create.
    pub hostsize: String,
    /// Region code (`ams3`).
    pub region: String,
    /// Human name of the region (`Amsterdam 3`), when given.
    #[serde(default)]
    pub region_description: Option<String>,
    /// Cloud hosting it (`digitalocean`, `google`, `aws`).
    #[serde(default)]
    pub cloud: Option<String>,
    /// Monthly price in dollars, when given.
    #[serde(default)]
    pub monthly_price_dollars: Option<u64>,
}

/// Client for databaselabs' API. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct DatabaselabsApi {
    /// Basic-authenticated calls.
    http: HttpClient,
    /// How waiters should poll.
    poll_guidance: PollGuidance,
}

/// `GET /api/databases[/{hostname}]` entries.
#[derive(Debug, Deserialize)]
struct WireDatabase {
    hostname: String,
    #[serde(default)]
    hostsize: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// The 202 reply of `POST /api/databases`.
#[derive(Deserialize)]
struct WireCreated {
    hostname: String,
    password: String,
    #[serde(default)]
    status: Option<String>,
}

impl DatabaselabsApi {
    /// A client for `config`; fails on a malformed URL or an empty key or secret. Nothing is
    /// sent until the first call.
    pub fn new(config: DatabaselabsConfig, tuning: HttpTuning) -> Result<Self, Error> {
        for (field, value) in [
            ("api_key", config.api_key.as_str()),
            ("api_secret", config.api_secret.expose_secret()),
        ] {
            if value.trim().is_empty() {
                return Err(Error::Invalid {
                    field: Some(field.to_owned()),
                    message: format!("the databaselabs {field} must not be empty"),
                });
            }
        }
        let endpoint = match config.endpoint.trim() {
            "" => DEFAULT_ENDPOINT.to_owned(),
            other => other.to_owned(),
        };
        let http = HttpClient::new(HttpConfig {
            api_name: "databaselabs",
            base_url: endpoint,
            tuning,
            auth: Arc::new(BasicAuth {
                user: config.api_key,
                password: config.api_secret,
            }),
            error_mapper: databaselabs_error_mapper,
        })?;
        Ok(Self {
            http,
            poll_guidance: DEFAULT_POLL_GUIDANCE,
        })
    }

    /// Replaces the poll guidance (the provider's `poll_interval` lowers it; tests use that).
    pub fn with_poll_guidance(mut self, guidance: PollGuidance) -> Self {
        self.poll_guidance = guidance;
        self
    }

    /// The API root every path is appended to.
    pub fn base_url(&self) -> &str {
        &self.http.config().base_url
    }

    /// Checks that the API answers and accepts the credentials (`GET /api/ping` → `Pong`).
    pub async fn ping(&self) -> Result<(), Error> {
        let response = self.http.send(ApiRequest::get("/api/ping")).await?;
        if response.text().trim().eq_ignore_ascii_case("pong") {
            Ok(())
        } else {
            Err(Error::Protocol {
                message: format!(
                    "GET /api/ping answered HTTP {} without `Pong`: is the endpoint a \
                     databaselabs API?",
                    response.status
                ),
            })
        }
    }

    /// The plans catalog (`GET /api/plans`): every size offered in every region.
    pub async fn plans(&self) -> Result<Vec<DatabaselabsPlan>, Error> {
        self.http.send_json(ApiRequest::get("/api/plans")).await
    }

    /// Creates a database and returns it with the superuser password, which databaselabs
    /// shows only in this reply.
    pub async fn create_database_with_password(
        &self,
        spec: &DatabaseSpec,
    ) -> Result<CreatedDatabase, Error> {
        let (size, region) = create_settings(spec)?;
        let body = json!({"size": size, "region": region});
        let created: WireCreated = self
            .http
            .send_json(ApiRequest::post("/api/databases", body))
            .await?;
        let database = to_database(WireDatabase {
            hostname: created.hostname,
            hostsize: Some(size.to_owned()),
            region: Some(region.to_owned()),
            status: Some(created.status.unwrap_or_else(|| "building".to_owned())),
        });
        Ok(CreatedDatabase {
            database,
            superuser_password: Some(SecretString::from(created.password)),
        })
    }

    fn database_path(hostname: &str) -> Result<String, Error> {
        Ok(format!(
            "/api/databases/{}",
            object_segment("databaselabs database with hostname", hostname)?
        ))
    }
}

/// The size and region of a create; refuses what databaselabs cannot choose, before sending.
fn create_settings(spec: &DatabaseSpec) -> Result<(&str, &str), Error> {
    let refuse = |field: &str, why: &str| Error::Invalid {
        field: Some(field.to_owned()),
        message: format!("databaselabs {why}"),
    };
    if let Some(engine) = spec.engine.as_deref().filter(|engine| *engine != ENGINE) {
        return Err(refuse(
            "engine",
            &format!("runs PostgreSQL only (`{ENGINE}`), not `{engine}`"),
        ));
    }
    if spec.version.is_some() {
        return Err(refuse("version", "does not let you choose the version"));
    }
    if spec.flavor.is_some() {
        return Err(refuse(
            "flavor",
            "has no flavors: the size is the `plan` (e.g. 512mb)",
        ));
    }
    if spec.node_count.is_some() {
        return Err(refuse("node_count", "databases are single servers"));
    }
    if spec.description.is_some() {
        return Err(refuse("description", "databases have no description"));
    }
    let size = spec
        .plan
        .as_deref()
        .map(str::trim)
        .filter(|size| !size.is_empty())
        .ok_or_else(|| {
            refuse(
                "plan",
                "requires `plan`, the database size (e.g. 512mb; see the plans data source)",
            )
        })?;
    let region = spec
        .region
        .as_deref()
        .map(str::trim)
        .filter(|region| !region.is_empty())
        .unwrap_or(DEFAULT_REGION);
    Ok((size, region))
}

/// A databaselabs status in the waiters' terms.
fn status(raw: &str) -> Status {
    let (phase, message) = match raw {
        "ready" => (Phase::Ready, None),
        "degraded" => (
            Phase::Ready,
            Some("running, but with operational issues that reduce its capacity"),
        ),
        "failed" => (
            Phase::Failed,
            Some("the database crashed; databaselabs' staff have been alerted"),
        ),
        "stopped" => (Phase::Failed, Some("the database is shut down")),
        "destroying" | "destroyed" => (Phase::Deleting, None),
        // ordered, building, and anything unknown: keep waiting.
        _ => (Phase::Pending, None),
    };
    Status {
        phase,
        raw: raw.to_owned(),
        message: message.map(str::to_owned),
    }
}

fn to_database(wire: WireDatabase) -> Database {
    let name = wire
        .hostname
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    Database {
        endpoint: Some(format!("{ENGINE}://{}", wire.hostname)),
        id: wire.hostname,
        name,
        engine: ENGINE.to_owned(),
        version: String::new(),
        plan: wire.hostsize.unwrap_or_default(),
        region: wire.region.unwrap_or_default(),
        flavor: None,
        node_count: None,
        description: None,
        status: status(wire.status.as_deref().unwrap_or_default()),
        created_at: String::new(),
    }
}

fn is_destroyed(wire: &WireDatabase) -> bool {
    wire.status.as_deref() == Some("destroyed")
}

/// databaselabs' error replies: the body's message when there is one (JSON or text), with
/// what the seed says each status means.
pub fn databaselabs_error_mapper(response: &ApiResponse) -> Error {
    let detail = error_message_from_body(&response.body);
    let explained = |hint: &str| match &detail {
        Some(detail) => format!("{hint}: {detail}"),
        None => hint.to_owned(),
    };
    let message = match response.status {
        401 => explained(
            "the API key or API secret is invalid (case matters); check the databaselabs \
             api_key and api_secret",
        ),
        402 => explained(
            "databaselabs could not bill the account's default credit card; check the card in \
             the databaselabs web console and try again",
        ),
        status => detail.unwrap_or_else(|| status_reason(status)),
    };
    error_for_status(response.status, message, None, response.retry_after())
}

fn gone_is_ok<T>(result: Result<T, Error>) -> Result<(), Error> {
    match result {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}

#[async_trait]
impl DbaasApi for DatabaselabsApi {
    fn api_name(&self) -> &'static str {
        "databaselabs"
    }

    fn on_loopback(&self) -> bool {
        self.http.is_loopback()
    }

    fn features(&self) -> &'static [Feature] {
        FEATURES
    }

    fn poll_guidance(&self) -> PollGuidance {
        self.poll_guidance
    }

    async fn capabilities(&self) -> Result<Capabilities, Error> {
        let plans = self.plans().await?;
        let mut sizes: Vec<(String, Option<u64>)> = Vec::new();
        let mut regions: BTreeMap<String, String> = BTreeMap::new();
        for plan in &plans {
            if !sizes.iter().any(|(name, _)| *name == plan.hostsize) {
                sizes.push((plan.hostsize.clone(), plan.monthly_price_dollars));
            }
            regions
                .entry(plan.region.clone())
                .or_insert_with(|| plan.region_description.clone().unwrap_or_default());
        }
        Ok(Capabilities {
            engines: vec![EngineInfo {
                name: ENGINE.to_owned(),
                versions: Vec::new(),
                default_version: String::new(),
            }],
            plans: sizes
                .into_iter()
                .map(|(name, price)| PlanInfo {
                    description: match price {
                        Some(price) => format!("{name} of memory, from ${price} a month"),
                        None => format!("{name} of memory"),
                    },
                    name,
                    node_count: 1,
                })
                .collect(),
            regions: regions
                .into_iter()
                .map(|(name, description)| RegionInfo { name, description })
                .collect(),
            flavors: Vec::new(),
            defaults: Defaults {
                engine: ENGINE.to_owned(),
                plan: String::new(),
                region: DEFAULT_REGION.to_owned(),
            },
        })
    }

    async fn create_database(&self, spec: &DatabaseSpec) -> Result<Database, Error> {
        Ok(self.create_database_with_password(spec).await?.database)
    }

    async fn create_database_revealing(
        &self,
        spec: &DatabaseSpec,
    ) -> Result<CreatedDatabase, Error> {
        self.create_database_with_password(spec).await
    }

    async fn check_credentials(&self) -> Result<(), Error> {
        self.ping().await
    }

    fn database_names_unique(&self) -> bool {
        false // databaselabs names a database itself, in the reply
    }

    /// databaselabs databases have no name of their own choosing: nothing tells which one a lost
    /// reply made, so the candidates are named and none is adopted.
    async fn find_created_database(
        &self,
        spec: &DatabaseSpec,
        since: std::time::SystemTime,
    ) -> Result<Found<Database>, Error> {
        let _ = since;
        let candidates: Vec<String> = self
            .list_databases(None)
            .await?
            .into_iter()
            .filter(|database| spec.difference(database).is_none())
            .map(|database| database.id)
            .collect();
        Ok(Found::Unknowable(if candidates.is_empty() {
            "No databaselabs database with these settings exists yet.".to_owned()
        } else {
            format!(
                "databaselabs databases with these settings (the one created may be among them): \
                 {}.",
                candidates.join(", ")
            )
        }))
    }

    async fn get_database(&self, id: &str) -> Result<Database, Error> {
        let wire: WireDatabase = self
            .http
            .send_json(ApiRequest::get(Self::database_path(id)?))
            .await?;
        if is_destroyed(&wire) {
            return Err(Error::NotFound {
                message: format!("databaselabs database `{id}` was destroyed"),
            });
        }
        Ok(to_database(wire))
    }

    async fn list_databases(&self, name_prefix: Option<&str>) -> Result<Vec<Database>, Error> {
        let wires: Vec<WireDatabase> = self
            .http
            .send_json(ApiRequest::get("/api/databases"))
            .await?;
        Ok(wires
            .into_iter()
            .filter(|wire| !is_destroyed(wire))
            .map(to_database)
            .filter(|database| name_prefix.is_none_or(|prefix| database.name.starts_with(prefix)))
            .collect())
    }

    async fn update_database(
        &self,
        id: &str,
        changes: &DatabaseChanges,
    ) -> Result<Database, Error> {
        if changes.is_empty() {
            return self.get_database(id).await;
        }
        Err(self.unsupported(
            "changing a database (it has no update call: a new size or region needs a new \
             database)",
        ))
    }

    async fn delete_database(&self, id: &str) -> Result<(), Error> {
        let path = match Self::database_path(id) {
            Ok(path) => path,
            Err(error) if error.is_not_found() => return Ok(()),
            Err(error) => return Err(error),
        };
        gone_is_ok(self.http.send(ApiRequest::delete(path)).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> DatabaselabsConfig {
        DatabaselabsConfig {
            endpoint: String::new(),
            api_key: "key".into(),
            api_secret: SecretString::from("Sup3rSecretValue"),
        }
    }

    #[test]
    fn new_defaults_endpoint_and_refuses_empty_credentials() {
        let api = DatabaselabsApi::new(config(), HttpTuning::default()).unwrap();
        assert_eq!(api.base_url(), DEFAULT_ENDPOINT);
        assert_eq!(api.poll_guidance(), DEFAULT_POLL_GUIDANCE);
        assert!(api.poll_guidance().min_interval >= Duration::from_secs(30));
        let shown = format!("{api:?}");
        assert!(!shown.contains("Sup3rSecretValue"), "{shown}");
        for (key, secret, field) in [("", "s", "api_key"), ("k", " ", "api_secret")] {
            let error = DatabaselabsApi::new(
                DatabaselabsConfig {
                    endpoint: String::new(),
                    api_key: key.into(),
                    api_secret: SecretString::from(secret),
                },
                HttpTuning::default(),
            )
            .unwrap_err();
            assert!(
                matches!(&error, Error::Invalid { field: Some(f), .. } if f == field),
                "{error:?}"
            );
        }
    }

    #[test]
    fn with_poll_guidance_replaces_the_default() {
        let fast = PollGuidance {
            min_interval: Duration::from_millis(10),
            max_interval: Duration::from_millis(20),
        };
        let api = DatabaselabsApi::new(config(), HttpTuning::default())
            .unwrap()
            .with_poll_guidance(fast);
        assert_eq!(api.poll_guidance(), fast);
    }

    #[test]
    fn features_are_database_size_region_catalog_and_list() {
        let api = DatabaselabsApi::new(config(), HttpTuning::default()).unwrap();
        assert!(api.supports(Feature::DatabasePlan));
        assert!(api.supports(Feature::ListDatabases));
        for missing in [
            Feature::DatabaseEngine,
            Feature::DatabaseVersion,
            Feature::DatabaseFlavor,
            Feature::DatabaseNodeCount,
            Feature::DatabaseDescription,
            Feature::Credential,
            Feature::CollectionIndex,
            Feature::IpRestriction,
            Feature::Availability,
        ] {
            assert!(!api.supports(missing), "{missing:?}");
        }
    }

    #[test]
    fn create_settings_need_a_size_and_refuse_the_rest() {
        let spec = |f: fn(&mut DatabaseSpec)| {
            let mut spec = DatabaseSpec {
                name: "ignored".into(),
                plan: Some("512mb".into()),
                ..DatabaseSpec::default()
            };
            f(&mut spec);
            spec
        };
        assert_eq!(create_settings(&spec(|_| {})).unwrap(), ("512mb", "nyc3"));
        let with_region = spec(|s| s.region = Some("ams3".into()));
        assert_eq!(create_settings(&with_region).unwrap(), ("512mb", "ams3"));
        let postgres = spec(|s| s.engine = Some("postgresql".into()));
        assert!(create_settings(&postgres).is_ok());
        type Change = fn(&mut DatabaseSpec);
        let refused: [(Change, &str); 6] = [
            (|s| s.plan = None, "plan"),
            (|s| s.engine = Some("mongodb".into()), "engine"),
            (|s| s.version = Some("9.4".into()), "version"),
            (|s| s.flavor = Some("db1-4".into()), "flavor"),
            (|s| s.node_count = Some(1), "node_count"),
            (|s| s.description = Some("x".into()), "description"),
        ];
        for (change, field) in refused {
            let error = create_settings(&spec(change)).unwrap_err();
            assert!(
                matches!(&error, Error::Invalid { field: Some(f), .. } if f == field),
                "{error:?}"
            );
        }
    }

    #[test]
    fn status_maps_every_documented_value() {
        for (raw, phase) in [
            ("ready", Phase::Ready),
            ("degraded", Phase::Ready),
            ("ordered", Phase::Pending),
            ("building", Phase::Pending),
            ("failed", Phase::Failed),
            ("stopped", Phase::Failed),
            ("destroying", Phase::Deleting),
            ("destroyed", Phase::Deleting),
            ("something-new", Phase::Pending),
        ] {
            assert_eq!(status(raw).phase, phase, "{raw}");
            assert_eq!(status(raw).raw, raw);
        }
    }

    #[test]
    fn to_database_uses_hostname_as_id_and_first_label_as_name() {
        let database = to_database(WireDatabase {
            hostname: "vivid-answer-395.db.databaselabs.io".into(),
            hostsize: Some("512mb".into()),
            region: Some("nyc2".into()),
            status: Some("ready".into()),
        });
        assert_eq!(database.id, "vivid-answer-395.db.databaselabs.io");
        assert_eq!(database.name, "vivid-answer-395");
        assert_eq!(database.plan, "512mb");
        assert_eq!(database.region, "nyc2");
        assert_eq!(database.engine, "postgresql");
        assert_eq!(database.status.phase, Phase::Ready);
    }

    fn response(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn error_mapper_explains_payment_and_credentials() {
        let payment = databaselabs_error_mapper(&response(402, r#"{"error": "card declined"}"#));
        assert!(
            matches!(&payment, Error::PaymentRequired { .. }),
            "{payment:?}"
        );
        let text = payment.to_string();
        assert!(
            text.contains("credit card") && text.ends_with("card declined"),
            "{text}"
        );
        let unauthorized = databaselabs_error_mapper(&response(401, ""));
        assert!(matches!(unauthorized, Error::Unauthorized { .. }));
        assert!(unauthorized.to_string().contains("api_secret"));
        let invalid = databaselabs_error_mapper(&response(400, "missing size"));
        assert!(
            matches!(&invalid, Error::Invalid { message, .. } if message == "missing size"),
            "{invalid:?}"
        );
        let missing = databaselabs_error_mapper(&response(404, ""));
        assert!(missing.is_not_found());
    }
}
