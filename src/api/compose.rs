//! `ComposeApi`: the client for Compose's (ex-MongoHQ) classic API, `Accept-Version: 2014-06`.
//!
//! Facts followed: seed 000 (a database is created by creating a first collection in a new
//! database name; `Accept-Version` is required, else 404), Compose's classic API pages and the
//! MongoHQ CLI (vendor-apis.md §5). Every call sends `Authorization: Bearer <token>` and
//! `Accept-Version: 2014-06`; errors are `{"error": "<message>"}` (some 404s are plain text).
//!
//! How the domain maps onto Compose (one account and one MongoDB deployment, from the config):
//! - a database is a MongoDB database of the deployment; its id is its name. Create checks the
//!   deployment is `running` (a `new` one is [`Error::Busy`]: the resource waits, as Compose's
//!   own tools wait for `running`), then `POST …/mongodb/<name>/collections` with the first
//!   collection [`FIRST_COLLECTION`]. Reads come from `GET /deployments/<account>/<deployment>`,
//!   whose `databases[]` carry each database's `status` (`new` → pending, `running` → ready,
//!   `pending_deprovision` → deleting, `failed` → failed). Engine, version, plan, region,
//!   flavor, node count and description are the deployment's, not the database's: asking for
//!   them is refused. The endpoint is `mongodb://<members>/<db>?replicaSet=set-<deployment id>`
//!   (the connection string Compose's tools build);
//! - a credential is a database user (`…/mongodb/<db>/users`). Compose's `readOnly` is the
//!   role `read@<db>`, `readOnly: false` is `readWrite@<db>` (also what no roles means); any
//!   other role is refused. Compose needs the password in the request: a chosen one is sent
//!   as is; otherwise this client generates one and returns it once, like a generated
//!   password (it cannot be read back later: Compose keeps a hash). Reset sends a new password
//!   with `PUT …/users/<user>`;
//! - a 409 carrying `Retry-After` (the object or the deployment is busy) is [`Error::Busy`];
//!   other 409s are conflicts.

use std::sync::Arc;

use async_trait::async_trait;
use http::HeaderValue;
use rand::Rng as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::http::{
    ApiRequest, ApiResponse, AuthContext, Authenticator, BearerToken, HttpClient, HttpConfig,
    HttpTuning, encode_path_segment, error_for_status, error_message_from_body, object_segment,
    status_reason,
};
use super::{
    Capabilities, Credential, CredentialSpec, Database, DatabaseChanges, DatabaseSpec, DbaasApi,
    Defaults, EngineInfo, Error, Feature, Phase, Status,
};

/// Compose's API root.
pub const DEFAULT_ENDPOINT: &str = "https://api.compose.io";

/// The classic API version every request asks for (`Accept-Version`).
pub const API_VERSION: &str = "2014-06";

/// The collection created to bring a new database into being (Compose has no "create
/// database" call).
pub const FIRST_COLLECTION: &str = "dbaas";

/// The only engine of a classic deployment.
const ENGINE: &str = "mongodb";

/// Length of the passwords this client generates.
const GENERATED_PASSWORD_CHARS: usize = 24;

/// What Compose's classic API offers through this client. Not offered: choosing engine,
/// version, plan, region, flavor, node count or a description (they belong to the
/// deployment), reading a password back (Compose keeps a hash), indexes, IP restrictions,
/// the capabilities catalog.
pub const FEATURES: &[Feature] = &[
    Feature::Database,
    Feature::DatabaseName,
    Feature::Credential,
    Feature::CredentialRoles,
    Feature::CredentialPasswordReset,
    Feature::CredentialChosenPassword,
    Feature::ListDatabases,
    Feature::BatchedRefresh,
];

/// How to reach and authenticate to Compose.
#[derive(Clone, Debug)]
pub struct ComposeConfig {
    /// API root: [`DEFAULT_ENDPOINT`] or a local emulator's (`http://host/compose`).
    pub endpoint: String,
    /// The personal access token (`Authorization: Bearer`).
    pub token: SecretString,
    /// The account (slug or id), the `:account` of every path.
    pub account: String,
    /// The deployment (name or id) whose databases are managed.
    pub deployment: String,
}

/// Bearer token plus the `Accept-Version` the classic API needs on every call.
#[derive(Debug)]
struct ClassicAuth(BearerToken);

impl Authenticator for ClassicAuth {
    fn authorize(&self, request: &mut AuthContext<'_>) -> Result<(), Error> {
        request
            .headers
            .insert("accept-version", HeaderValue::from_static(API_VERSION));
        self.0.authorize(request)
    }
}

/// Client for Compose's classic API. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct ComposeApi {
    /// Authenticated calls.
    http: HttpClient,
    /// `:account`.
    account: String,
    /// `:deployment`.
    deployment: String,
}

/// Compose's errors: `{"error": …}` (or plain text); a 409 with `Retry-After` is busy.
pub fn compose_error_mapper(response: &ApiResponse) -> Error {
    let message =
        error_message_from_body(&response.body).unwrap_or_else(|| status_reason(response.status));
    let retry_after = response.retry_after();
    if response.status == 409 && retry_after.is_some() {
        return Error::Busy {
            message,
            retry_after,
        };
    }
    error_for_status(response.status, message, None, retry_after)
}

fn required_setting(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::Invalid {
            field: Some(field.to_owned()),
            message: format!("the Compose {field} must not be empty"),
        });
    }
    Ok(())
}

/// A deployment as `GET /deployments/:account/:deployment` shows it (fields we use).
#[derive(Debug, Deserialize)]
struct WireDeployment {
    /// Deployment id, part of the replica set name.
    #[serde(default)]
    id: String,
    /// `new`, `running`, `pending_deprovision`.
    #[serde(default)]
    status: Option<String>,
    /// MongoDB version.
    #[serde(default)]
    version: Option<String>,
    /// `aws:us-east-1`, …
    #[serde(default)]
    location: Option<String>,
    /// `host:port` of each member.
    #[serde(default)]
    members: Vec<String>,
    /// Its databases.
    #[serde(default)]
    databases: Vec<WireDatabase>,
}

/// One database of a deployment.
#[derive(Debug, Deserialize)]
struct WireDatabase {
    /// The database name, our id.
    name: String,
    /// `new`, `running`, …
    #[serde(default)]
    status: Option<String>,
    /// Compose's plan name.
    #[serde(default)]
    plan: Option<String>,
    /// Creation time, when shown.
    #[serde(default)]
    created_at: Option<String>,
}

/// One user of a database.
#[derive(Debug, Deserialize)]
struct WireUser {
    /// User name.
    user: String,
    /// Whether it may only read.
    #[serde(default, rename = "readOnly")]
    read_only: bool,
}

/// The phase a Compose status means; unknown ones keep waiters waiting.
fn phase_of(status: &str) -> Phase {
    match status {
        "running" => Phase::Ready,
        "pending_deprovision" | "deprovisioning" => Phase::Deleting,
        "failed" | "error" => Phase::Failed,
        _ => Phase::Pending,
    }
}

/// Compose's `readOnly` for the domain roles on `database`; other roles are refused.
fn read_only_for(database: &str, roles: &[String]) -> Result<bool, Error> {
    let refused = || Error::Invalid {
        field: Some("roles".to_owned()),
        message: format!(
            "Compose users have one role: `read@{database}` (readOnly) or `readWrite@{database}`"
        ),
    };
    match roles {
        [] => Ok(false),
        [role] if *role == format!("read@{database}") => Ok(true),
        [role] if *role == format!("readWrite@{database}") => Ok(false),
        _ => Err(refused()),
    }
}

/// The role of a user with `readOnly: false`, also what a user created without roles gets.
const READ_WRITE: &str = "readWrite";

fn roles_for(database: &str, read_only: bool) -> Vec<String> {
    let role = if read_only { "read" } else { READ_WRITE };
    vec![format!("{role}@{database}")]
}

/// A password with lower case, upper case and digits (what MongoDB hosts accept everywhere).
fn generate_password() -> SecretString {
    let mut rng = rand::rng();
    loop {
        let candidate: String = (&mut rng)
            .sample_iter(rand::distr::Alphanumeric)
            .take(GENERATED_PASSWORD_CHARS)
            .map(char::from)
            .collect();
        if candidate.chars().any(|c| c.is_ascii_lowercase())
            && candidate.chars().any(|c| c.is_ascii_uppercase())
            && candidate.chars().any(|c| c.is_ascii_digit())
        {
            return SecretString::from(candidate);
        }
    }
}

fn ready() -> Status {
    Status {
        phase: Phase::Ready,
        raw: "ok".to_owned(),
        message: None,
    }
}

fn refused_setting(field: &str) -> Error {
    Error::Invalid {
        field: Some(field.to_owned()),
        message: format!(
            "Compose databases take their {field} from the deployment; it cannot be chosen"
        ),
    }
}

fn gone_is_ok<T>(result: Result<T, Error>) -> Result<(), Error> {
    match result {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}

impl ComposeApi {
    /// A client for `config`; fails on a malformed URL or an empty setting. Nothing is sent
    /// until the first call.
    pub fn new(config: ComposeConfig, tuning: HttpTuning) -> Result<Self, Error> {
        required_setting("token", config.token.expose_secret())?;
        required_setting("account", &config.account)?;
        required_setting("deployment", &config.deployment)?;
        let endpoint = if config.endpoint.trim().is_empty() {
            DEFAULT_ENDPOINT.to_owned()
        } else {
            config.endpoint.trim().trim_end_matches('/').to_owned()
        };
        let http = HttpClient::new(HttpConfig {
            api_name: "compose",
            base_url: endpoint,
            tuning,
            auth: Arc::new(ClassicAuth(BearerToken(config.token))),
            error_mapper: compose_error_mapper,
        })?;
        Ok(Self {
            http,
            account: config.account.trim().to_owned(),
            deployment: config.deployment.trim().to_owned(),
        })
    }

    /// The API root every path is appended to.
    pub fn base_url(&self) -> &str {
        &self.http.config().base_url
    }

    fn deployment_path(&self) -> String {
        format!(
            "/deployments/{}/{}",
            encode_path_segment(&self.account),
            encode_path_segment(&self.deployment)
        )
    }

    /// `…/mongodb/<db>`; a name that cannot address anything is not found.
    fn mongodb_path(&self, database: &str) -> Result<String, Error> {
        Ok(format!(
            "{}/mongodb/{}",
            self.deployment_path(),
            object_segment("Compose database", database)?
        ))
    }

    fn users_path(&self, database: &str) -> Result<String, Error> {
        Ok(format!("{}/users", self.mongodb_path(database)?))
    }

    fn user_path(&self, database: &str, username: &str) -> Result<String, Error> {
        Ok(format!(
            "{}/{}",
            self.users_path(database)?,
            encode_path_segment(username)
        ))
    }

    async fn deployment(&self) -> Result<WireDeployment, Error> {
        self.http
            .send(ApiRequest::get(self.deployment_path()))
            .await?
            .json()
    }

    fn to_database(&self, deployment: &WireDeployment, wire: &WireDatabase) -> Database {
        let raw = wire.status.clone().unwrap_or_default();
        let endpoint = (!deployment.members.is_empty()).then(|| {
            format!(
                "mongodb://{}/{}?replicaSet=set-{}",
                deployment.members.join(","),
                wire.name,
                deployment.id
            )
        });
        Database {
            id: wire.name.clone(),
            name: wire.name.clone(),
            engine: ENGINE.to_owned(),
            version: deployment.version.clone().unwrap_or_default(),
            plan: wire.plan.clone().unwrap_or_default(),
            region: deployment.location.clone().unwrap_or_default(),
            flavor: None,
            node_count: Some(deployment.members.len() as u32).filter(|count| *count > 0),
            description: None,
            status: Status {
                phase: phase_of(&raw),
                raw,
                message: None,
            },
            endpoint,
            created_at: wire.created_at.clone().unwrap_or_default(),
        }
    }

    async fn users(&self, database_id: &str) -> Result<Vec<WireUser>, Error> {
        self.http
            .send(ApiRequest::get(self.users_path(database_id)?))
            .await?
            .json()
    }

    fn to_credential(database_id: &str, user: WireUser) -> Credential {
        Credential {
            database_id: database_id.to_owned(),
            roles: roles_for(database_id, user.read_only),
            username: user.user,
            status: ready(),
            password: None,
            password_chosen: true,
            created_at: String::new(),
        }
    }
}

#[async_trait]
impl DbaasApi for ComposeApi {
    fn api_name(&self) -> &'static str {
        "compose"
    }

    fn on_loopback(&self) -> bool {
        self.http.is_loopback()
    }

    fn features(&self) -> &'static [Feature] {
        FEATURES
    }

    fn default_role(&self) -> Option<&'static str> {
        Some(READ_WRITE)
    }

    fn check_roles(&self, database_id: &str, roles: &[String]) -> Result<(), String> {
        read_only_for(database_id, roles)
            .map(|_| ())
            .map_err(|err| match err {
                Error::Invalid { message, .. } => message,
                other => other.to_string(),
            })
    }

    async fn capabilities(&self) -> Result<Capabilities, Error> {
        let deployment = self.deployment().await?;
        let version = deployment.version.unwrap_or_default();
        Ok(Capabilities {
            engines: vec![EngineInfo {
                name: ENGINE.to_owned(),
                versions: vec![version.clone()],
                default_version: version,
            }],
            defaults: Defaults {
                engine: ENGINE.to_owned(),
                plan: String::new(),
                region: deployment.location.unwrap_or_default(),
            },
            ..Capabilities::default()
        })
    }

    async fn create_database(&self, spec: &DatabaseSpec) -> Result<Database, Error> {
        if let Some(engine) = spec.engine.as_deref().filter(|e| *e != ENGINE) {
            return Err(Error::Invalid {
                field: Some("engine".to_owned()),
                message: format!("Compose classic deployments run MongoDB only, not `{engine}`"),
            });
        }
        let settings = [
            ("version", spec.version.is_some()),
            ("plan", spec.plan.is_some()),
            ("region", spec.region.is_some()),
            ("flavor", spec.flavor.is_some()),
            ("node_count", spec.node_count.is_some()),
            ("description", spec.description.is_some()),
        ];
        if let Some((field, _)) = settings.iter().find(|(_, set)| *set) {
            return Err(refused_setting(field));
        }
        let name = spec.name.trim();
        if name.is_empty() {
            return Err(Error::Invalid {
                field: Some("name".to_owned()),
                message: "the database name must not be empty".to_owned(),
            });
        }
        let deployment = self.deployment().await?;
        let status = deployment.status.as_deref().unwrap_or_default();
        if phase_of(status) != Phase::Ready {
            return Err(Error::Busy {
                message: format!(
                    "Compose deployment `{}` is `{status}`; databases can be created once it is \
                     running",
                    self.deployment
                ),
                retry_after: None,
            });
        }
        // Not repeated once it may have arrived (no idempotency key): the provider settles a
        // lost reply by looking the database up by name (`find_created_database`).
        let request = ApiRequest::post(
            format!("{}/collections", self.mongodb_path(name)?),
            json!({ "name": FIRST_COLLECTION }),
        );
        self.http.send(request).await?;
        match self.get_database(name).await {
            Ok(database) => Ok(database),
            // Not listed yet, or the read failed: the database was created all the same, so it
            // is reported pending and the waiter reads again.
            Err(error) => {
                tracing::debug!(%error, "database created; its first read failed");
                Ok(Database {
                    id: name.to_owned(),
                    name: name.to_owned(),
                    engine: ENGINE.to_owned(),
                    version: deployment.version.clone().unwrap_or_default(),
                    plan: String::new(),
                    region: deployment.location.clone().unwrap_or_default(),
                    flavor: None,
                    node_count: None,
                    description: None,
                    status: Status {
                        phase: Phase::Pending,
                        raw: "new".to_owned(),
                        message: None,
                    },
                    endpoint: None,
                    created_at: String::new(),
                })
            }
        }
    }

    async fn get_database(&self, id: &str) -> Result<Database, Error> {
        let deployment = self.deployment().await?;
        deployment
            .databases
            .iter()
            .find(|database| database.name == id)
            .map(|database| self.to_database(&deployment, database))
            .ok_or_else(|| Error::NotFound {
                message: format!(
                    "there is no database `{id}` on Compose deployment `{}`",
                    self.deployment
                ),
            })
    }

    async fn list_databases(&self, name_prefix: Option<&str>) -> Result<Vec<Database>, Error> {
        let deployment = self.deployment().await?;
        Ok(deployment
            .databases
            .iter()
            .filter(|database| name_prefix.is_none_or(|prefix| database.name.starts_with(prefix)))
            .map(|database| self.to_database(&deployment, database))
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
        Err(self.unsupported("changing a database (its settings are the deployment's)"))
    }

    async fn delete_database(&self, id: &str) -> Result<(), Error> {
        let path = format!(
            "{}/databases/{}",
            self.deployment_path(),
            encode_path_segment(id)
        );
        gone_is_ok(self.http.send(ApiRequest::delete(path)).await)
    }

    async fn create_credential(
        &self,
        database_id: &str,
        spec: &CredentialSpec,
    ) -> Result<Credential, Error> {
        let read_only = read_only_for(database_id, &spec.roles)?;
        let (password, generated) = match &spec.password {
            Some(chosen) => (chosen.clone(), false),
            None => (generate_password(), true),
        };
        let body = json!({
            "username": spec.username,
            "password": password.expose_secret(),
            "readOnly": read_only,
        });
        self.http
            .send(ApiRequest::post(self.users_path(database_id)?, body))
            .await?;
        Ok(Credential {
            database_id: database_id.to_owned(),
            username: spec.username.clone(),
            roles: roles_for(database_id, read_only),
            status: ready(),
            password: generated.then_some(password),
            password_chosen: !generated,
            created_at: String::new(),
        })
    }

    async fn get_credential(&self, database_id: &str, username: &str) -> Result<Credential, Error> {
        self.users(database_id)
            .await?
            .into_iter()
            .find(|user| user.user == username)
            .map(|user| Self::to_credential(database_id, user))
            .ok_or_else(|| Error::NotFound {
                message: format!(
                    "there is no user `{username}` on Compose database `{database_id}`"
                ),
            })
    }

    async fn list_credentials(&self, database_id: &str) -> Result<Vec<Credential>, Error> {
        Ok(self
            .users(database_id)
            .await?
            .into_iter()
            .map(|user| Self::to_credential(database_id, user))
            .collect())
    }

    async fn update_credential_roles(
        &self,
        database_id: &str,
        username: &str,
        roles: &[String],
    ) -> Result<Credential, Error> {
        let read_only = read_only_for(database_id, roles)?;
        self.http
            .send(ApiRequest::put(
                self.user_path(database_id, username)?,
                json!({ "readOnly": read_only }),
            ))
            .await?;
        self.get_credential(database_id, username).await
    }

    async fn reset_credential_password(
        &self,
        database_id: &str,
        username: &str,
        password: Option<&SecretString>,
    ) -> Result<Credential, Error> {
        let (password, generated) = match password {
            Some(chosen) => (chosen.clone(), false),
            None => (generate_password(), true),
        };
        self.http
            .send(ApiRequest::put(
                self.user_path(database_id, username)?,
                json!({ "password": password.expose_secret() }),
            ))
            .await?;
        let mut credential = self.get_credential(database_id, username).await?;
        credential.password_chosen = !generated;
        credential.password = generated.then_some(password);
        Ok(credential)
    }

    async fn delete_credential(&self, database_id: &str, username: &str) -> Result<(), Error> {
        gone_is_ok(
            self.http
                .send(ApiRequest::delete(self.user_path(database_id, username)?))
                .await,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderMap;

    fn config() -> ComposeConfig {
        ComposeConfig {
            endpoint: String::new(),
            token: SecretString::from("Pers0nalAccessT0ken"),
            account: "acme".into(),
            deployment: "clients".into(),
        }
    }

    fn response(status: u16, body: &str, retry_after: Option<&str>) -> ApiResponse {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert("retry-after", HeaderValue::from_str(value).unwrap());
        }
        ApiResponse {
            status,
            headers,
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn new_defaults_endpoint_and_refuses_empty_settings() {
        let api = ComposeApi::new(config(), HttpTuning::default()).unwrap();
        assert_eq!(api.base_url(), DEFAULT_ENDPOINT);
        for field in ["token", "account", "deployment"] {
            let mut bad = config();
            match field {
                "token" => bad.token = SecretString::from(" "),
                "account" => bad.account = String::new(),
                _ => bad.deployment = " ".into(),
            }
            match ComposeApi::new(bad, HttpTuning::default()) {
                Err(Error::Invalid {
                    field: Some(named), ..
                }) => assert_eq!(named, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let api = ComposeApi::new(config(), HttpTuning::default()).unwrap();
        let shown = format!("{api:?} {:?}", config());
        assert!(!shown.contains("Pers0nalAccessT0ken"), "{shown}");
    }

    #[test]
    fn paths_encode_segments_and_refuse_dot_names() {
        let api = ComposeApi::new(config(), HttpTuning::default()).unwrap();
        assert_eq!(
            api.user_path("orders", "a b").unwrap(),
            "/deployments/acme/clients/mongodb/orders/users/a%20b"
        );
        assert!(api.mongodb_path("..").unwrap_err().is_not_found());
    }

    #[test]
    fn error_mapper_reads_error_bodies_and_busy_409s() {
        let error = compose_error_mapper(&response(400, r#"{"error": "name is required"}"#, None));
        assert!(matches!(&error, Error::Invalid { message, .. } if message == "name is required"));
        let busy = compose_error_mapper(&response(409, r#"{"error": "busy"}"#, Some("1")));
        assert!(busy.is_busy(), "{busy:?}");
        let duplicate = compose_error_mapper(&response(409, r#"{"error": "exists"}"#, None));
        assert!(duplicate.is_conflict(), "{duplicate:?}");
        let plain = compose_error_mapper(&response(404, "NOT FOUND", None));
        assert!(matches!(&plain, Error::NotFound { message } if message == "NOT FOUND"));
        let unauthorized = compose_error_mapper(&response(401, "", None));
        assert!(matches!(unauthorized, Error::Unauthorized { .. }));
    }

    #[test]
    fn roles_map_to_read_only_and_others_are_refused() {
        assert!(!read_only_for("orders", &[]).unwrap());
        assert!(read_only_for("orders", &["read@orders".into()]).unwrap());
        assert!(!read_only_for("orders", &["readWrite@orders".into()]).unwrap());
        for refused in [
            vec!["dbAdmin@orders".to_owned()],
            vec!["read@other".to_owned()],
            vec!["read@orders".to_owned(), "readWrite@orders".to_owned()],
        ] {
            match read_only_for("orders", &refused) {
                Err(Error::Invalid {
                    field: Some(field), ..
                }) => assert_eq!(field, "roles"),
                other => panic!("{refused:?}: {other:?}"),
            }
        }
        assert_eq!(roles_for("orders", true), ["read@orders"]);
        assert_eq!(roles_for("orders", false), ["readWrite@orders"]);
    }

    #[test]
    fn status_phases_follow_compose_words() {
        assert_eq!(phase_of("running"), Phase::Ready);
        assert_eq!(phase_of("new"), Phase::Pending);
        assert_eq!(phase_of("pending_deprovision"), Phase::Deleting);
        assert_eq!(phase_of("failed"), Phase::Failed);
        assert_eq!(phase_of("something-else"), Phase::Pending);
    }

    #[test]
    fn generated_passwords_mix_character_classes() {
        let first = generate_password();
        let text = first.expose_secret();
        assert_eq!(text.chars().count(), GENERATED_PASSWORD_CHARS);
        assert!(text.chars().any(|c| c.is_ascii_uppercase()));
        assert!(text.chars().any(|c| c.is_ascii_lowercase()));
        assert!(text.chars().any(|c| c.is_ascii_digit()));
        assert_ne!(text, generate_password().expose_secret());
    }

    #[tokio::test]
    async fn create_refuses_deployment_settings_before_sending() {
        // The endpoint is unroutable: a request would fail as Transport, not Invalid.
        let mut settings = config();
        settings.endpoint = "http://127.0.0.1:9".into();
        let api = ComposeApi::new(settings, HttpTuning::default()).unwrap();
        let spec = DatabaseSpec {
            name: "orders".into(),
            plan: Some("big".into()),
            ..DatabaseSpec::default()
        };
        match api.create_database(&spec).await {
            Err(Error::Invalid {
                field: Some(field), ..
            }) => assert_eq!(field, "plan"),
            other => panic!("{other:?}"),
        }
        let spec = DatabaseSpec {
            name: "orders".into(),
            engine: Some("postgresql".into()),
            ..DatabaseSpec::default()
        };
        assert!(matches!(
            api.create_database(&spec).await,
            Err(Error::Invalid { .. })
        ));
        let unsupported = api
            .update_database(
                "orders",
                &DatabaseChanges {
                    plan: Some("big".into()),
                    ..DatabaseChanges::default()
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(
            unsupported,
            Error::Unsupported { api: "compose", .. }
        ));
    }
}
