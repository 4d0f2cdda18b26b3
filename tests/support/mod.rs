//! End-to-end harness: a fresh dbaas-local on 127.0.0.1:0 per test, and the real Terraform binary
//! pointed at the freshly built provider through a `dev_overrides` CLI configuration.
#![allow(dead_code, unreachable_pub)]

pub mod ovh_schema;
pub mod rpc;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use base64::Engine as _;
use dbaas::local::{Config, RunningService, TokenSource};
use secrecy::SecretString;
use serde_json::{Value as Json, json};

/// Token every test service is started with.
pub const TOKEN: &str = "e2e-secret-token-0123456789";

/// A dbaas-local service owned by one test, with the runtime that drives it.
pub struct LocalService {
    runtime: tokio::runtime::Runtime,
    service: Option<RunningService>,
    _data_dir: tempfile::TempDir,
}

/// The OVH credentials and project the OVH dialect of test services accepts.
pub const OVH_APPLICATION_KEY: &str = "e2e-application-key";
pub const OVH_APPLICATION_SECRET: &str = "e2e-application-secret-0123456789";
pub const OVH_CONSUMER_KEY: &str = "e2e-consumer-key-0123456789";
pub const OVH_SERVICE_NAME: &str = "0123456789abcdef0123456789abcdef";

/// The credentials the globo, databaselabs, goaddon and Compose dialects of test services accept.
pub const GLOBO_USERNAME: &str = "e2e-globo-user";
pub const GLOBO_PASSWORD: &str = "e2e-globo-password-0123456789";
pub const DATABASELABS_API_KEY: &str = "e2e-databaselabs-key";
pub const DATABASELABS_API_SECRET: &str = "e2e-databaselabs-secret-0123456789";
pub const GOADDON_TOKEN: &str = "p-e2e-goaddon-token-0123456789";
pub const COMPOSE_TOKEN: &str = "e2e-compose-token-0123456789";
pub const COMPOSE_ACCOUNT: &str = "e2e-account";
pub const COMPOSE_DEPLOYMENT: &str = "e2e-deployment";

/// A vendor dialect of the test service, so tests can call it as that vendor's clients do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Globo,
    Databaselabs,
    Goaddon,
    Compose,
}

impl Dialect {
    /// The path the dialect is served under, which the provider's `endpoint` ends with.
    pub fn prefix(self) -> &'static str {
        match self {
            Dialect::Globo => "/globo",
            Dialect::Databaselabs => "/databaselabs",
            Dialect::Goaddon => "/goaddon",
            Dialect::Compose => "/compose",
        }
    }

    /// The headers the vendor's own clients authenticate with, so dialect calls are accepted.
    fn headers(self) -> Vec<(&'static str, String)> {
        let basic = |credentials: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            )
        };
        match self {
            Dialect::Globo => vec![(
                "authorization",
                basic(&format!("{GLOBO_USERNAME}:{GLOBO_PASSWORD}")),
            )],
            Dialect::Databaselabs => vec![(
                "authorization",
                basic(&format!("{DATABASELABS_API_KEY}:{DATABASELABS_API_SECRET}")),
            )],
            Dialect::Goaddon => vec![
                ("authorization", basic(GOADDON_TOKEN)),
                ("accept", "application/json".to_string()),
            ],
            Dialect::Compose => vec![
                ("authorization", format!("Bearer {COMPOSE_TOKEN}")),
                ("accept-version", "2014-06".to_string()),
            ],
        }
    }

    /// The endpoint and credential variables, for configurations that set nothing (examples).
    fn env(self, service: &LocalService) -> Vec<(&'static str, String)> {
        let (endpoint, credentials): (_, &[(&str, &str)]) = match self {
            Dialect::Globo => (
                "GLOBO_ENDPOINT",
                &[
                    ("GLOBO_USERNAME", GLOBO_USERNAME),
                    ("GLOBO_PASSWORD", GLOBO_PASSWORD),
                ],
            ),
            Dialect::Databaselabs => (
                "DATABASELABS_ENDPOINT",
                &[
                    ("DATABASELABS_API_KEY", DATABASELABS_API_KEY),
                    ("DATABASELABS_API_SECRET", DATABASELABS_API_SECRET),
                ],
            ),
            Dialect::Goaddon => ("GOADDON_ENDPOINT", &[("GOADDON_TOKEN", GOADDON_TOKEN)]),
            Dialect::Compose => (
                "COMPOSE_ENDPOINT",
                &[
                    ("COMPOSE_TOKEN", COMPOSE_TOKEN),
                    ("COMPOSE_ACCOUNT", COMPOSE_ACCOUNT),
                    ("COMPOSE_DEPLOYMENT", COMPOSE_DEPLOYMENT),
                ],
            ),
        };
        let url = format!("{}{}", service.base_url(), self.prefix());
        let credentials = credentials.iter().map(|(k, v)| (*k, v.to_string()));
        std::iter::once((endpoint, url))
            .chain(credentials)
            .collect()
    }
}

impl LocalService {
    /// Starts a service with the given provisioning delay.
    pub fn start(provision_delay: Duration) -> Self {
        Self::start_with(provision_delay, None)
    }

    /// Starts a service that speaks every vendor dialect (OVH, globo, databaselabs, goaddon,
    /// Compose) with the test credentials above.
    pub fn start_with_dialects(provision_delay: Duration) -> Self {
        Self::start_with_config(provision_delay, |config| {
            config.ovh = Some(ovh_dialect());
            config.globo = Some(dbaas::local::GloboDialect {
                username: GLOBO_USERNAME.to_string(),
                password: SecretString::from(GLOBO_PASSWORD),
            });
            config.databaselabs = Some(dbaas::local::DatabaselabsDialect {
                api_key: DATABASELABS_API_KEY.to_string(),
                api_secret: SecretString::from(DATABASELABS_API_SECRET),
                credit_limit_dollars: None,
            });
            config.goaddon = Some(dbaas::local::GoaddonDialect {
                token: SecretString::from(GOADDON_TOKEN),
            });
            config.compose = Some(dbaas::local::ComposeDialect {
                token: SecretString::from(COMPOSE_TOKEN),
                account: COMPOSE_ACCOUNT.to_string(),
                deployment: COMPOSE_DEPLOYMENT.to_string(),
            });
        })
    }

    /// A service with every dialect plus a `with_vendor_env` workspace: how vendor tests start.
    pub fn start_vendor_test(provision_delay: Duration) -> (Self, Workspace) {
        let service = Self::start_with_dialects(provision_delay);
        let work = Workspace::with_vendor_env(&service);
        (service, work)
    }

    /// The `globo { … }` provider block for this service's globo dialect; the password comes
    /// from `GLOBO_PASSWORD` (`Workspace::vendor_env`).
    pub fn globo_provider_block(&self, extra: &str) -> String {
        format!(
            "provider \"dbaas\" {{\n  poll_interval = \"100ms\"\n  globo {{\n    endpoint = \"{}/globo\"\n    username = \"{GLOBO_USERNAME}\"\n    {extra}\n  }}\n}}\n",
            self.base_url()
        )
    }

    /// The `databaselabs { … }` provider block; the secret comes from `DATABASELABS_API_SECRET`.
    /// Polls are far closer together than databaselabs' 30 s, since the dialect runs here.
    pub fn databaselabs_provider_block(&self, extra: &str) -> String {
        format!(
            "provider \"dbaas\" {{\n  poll_interval = \"100ms\"\n  databaselabs {{\n    endpoint = \"{}/databaselabs\"\n    api_key  = \"{DATABASELABS_API_KEY}\"\n    {extra}\n  }}\n}}\n",
            self.base_url()
        )
    }

    /// The `goaddon { … }` provider block; the token comes from `GOADDON_TOKEN`.
    pub fn goaddon_provider_block(&self, extra: &str) -> String {
        format!(
            "provider \"dbaas\" {{\n  poll_interval = \"100ms\"\n  goaddon {{\n    endpoint = \"{}/goaddon\"\n    {extra}\n  }}\n}}\n",
            self.base_url()
        )
    }

    /// The `compose { … }` provider block; the token comes from `COMPOSE_TOKEN`.
    pub fn compose_provider_block(&self, extra: &str) -> String {
        format!(
            "provider \"dbaas\" {{\n  poll_interval = \"100ms\"\n  compose {{\n    endpoint   = \"{}/compose\"\n    account    = \"{COMPOSE_ACCOUNT}\"\n    deployment = \"{COMPOSE_DEPLOYMENT}\"\n    {extra}\n  }}\n}}\n",
            self.base_url()
        )
    }

    /// Starts a service that also speaks OVH's API under `/ovh/1.0`.
    pub fn start_with_ovh(provision_delay: Duration) -> Self {
        Self::start_with(provision_delay, Some(ovh_dialect()))
    }

    fn start_with(provision_delay: Duration, ovh: Option<dbaas::local::OvhDialect>) -> Self {
        Self::start_with_config(provision_delay, |config| config.ovh = ovh)
    }

    fn start_with_config(provision_delay: Duration, dialects: impl FnOnce(&mut Config)) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data_dir.path().to_path_buf(),
            token: TokenSource::Given(SecretString::from(TOKEN)),
            provision_delay,
            ..Config::default()
        };
        dialects(&mut config);
        let service = runtime
            .block_on(dbaas::local::start(config))
            .expect("dbaas-local starts");
        Self {
            runtime,
            service: Some(service),
            _data_dir: data_dir,
        }
    }

    /// `http://127.0.0.1:PORT`.
    /// The service's data dir (its store, its token, its PostgreSQL cluster).
    pub fn data_dir(&self) -> &Path {
        self._data_dir.path()
    }

    pub fn base_url(&self) -> String {
        self.service.as_ref().unwrap().base_url()
    }

    /// A native API call with the service token; returns status and JSON body (null if none).
    pub fn call(&self, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
        let url = format!("{}{path}", self.base_url());
        let authorization = vec![("authorization", format!("Bearer {TOKEN}"))];
        self.request(method, &url, &authorization, body)
    }

    /// A call below a dialect's prefix, authenticated as its vendor's clients: status and body.
    pub fn dialect_call(
        &self,
        dialect: Dialect,
        method: &str,
        path: &str,
        body: Option<Json>,
    ) -> (u16, Json) {
        let url = format!("{}{}{path}", self.base_url(), dialect.prefix());
        self.request(method, &url, &dialect.headers(), body)
    }

    /// The one HTTP path behind `call` and `dialect_call`: status and JSON body (null if none).
    fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<Json>,
    ) -> (u16, Json) {
        self.runtime.block_on(async {
            let mut request = reqwest::Client::new().request(method.parse().unwrap(), url);
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("request to dbaas-local");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Json::Null))
        })
    }

    /// The `ovh { … }` provider block for this service's OVH dialect. The secret and consumer key
    /// come from the environment (`Workspace::ovh_env`), the way CI passes them; polls are
    /// closer together than OVH asks, since the dialect runs here.
    pub fn ovh_provider_block(&self, extra: &str) -> String {
        format!(
            "provider \"dbaas\" {{\n  poll_interval = \"100ms\"\n  ovh {{\n    endpoint        = \"{}/ovh/1.0\"\n    application_key = \"{OVH_APPLICATION_KEY}\"\n    service_name    = \"{OVH_SERVICE_NAME}\"\n    {extra}\n  }}\n}}\n",
            self.base_url()
        )
    }

    /// Every text value the service stored in tables whose name contains `table_part`, read
    /// straight from its SQLite file: how a test finds secrets (password hashes, salts) that no
    /// API response shows.
    pub fn stored_text(&self, table_part: &str) -> Vec<String> {
        let path = self._data_dir.path().join("dbaas-local.sqlite3");
        let db = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the service's database");
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .filter(|name: &String| name.contains(table_part))
            .collect();
        let mut values = Vec::new();
        for table in tables {
            let mut statement = db.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
            let columns = statement.column_count();
            let mut rows = statement.query([]).unwrap();
            while let Some(row) = rows.next().unwrap() {
                for column in 0..columns {
                    match row.get_ref(column).unwrap() {
                        rusqlite::types::ValueRef::Text(text) => {
                            values.push(String::from_utf8_lossy(text).into_owned())
                        }
                        rusqlite::types::ValueRef::Blob(blob) => {
                            values.push(String::from_utf8_lossy(blob).into_owned())
                        }
                        _ => {}
                    }
                }
            }
        }
        values
    }

    /// A database created through the API, waited on until READY; returns its id.
    pub fn ready_database(&self, name: &str) -> String {
        let (status, db) = self.call("POST", "/v1/databases", Some(json!({ "name": name })));
        assert_eq!(status, 202, "{db}");
        let id = db["id"].as_str().unwrap().to_string();
        eventually(&format!("database {id} becomes READY"), || {
            self.call("GET", &format!("/v1/databases/{id}"), None).1["status"] == "READY"
        });
        id
    }

    /// A user of `database` with no roles, created through the API and waited on until READY;
    /// returns the password the API generated.
    pub fn ready_credential(&self, database: &str, username: &str) -> String {
        let path = format!("/v1/databases/{database}/credentials");
        let (status, created) = self.call(
            "POST",
            &path,
            Some(json!({ "username": username, "roles": [] })),
        );
        assert_eq!(status, 202, "{created}");
        eventually(
            &format!("user {username} of {database} becomes READY"),
            || self.call("GET", &format!("{path}/{username}"), None).1["status"] == "READY",
        );
        created["password"].as_str().unwrap().to_owned()
    }

    /// Every database the service lists.
    pub fn databases(&self) -> Vec<Json> {
        let (status, body) = self.call("GET", "/v1/databases", None);
        assert_eq!(status, 200, "list databases: {body}");
        body["databases"].as_array().cloned().unwrap_or_default()
    }

    /// Requests the service received (method and path), from its admin request log.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.answered_requests()
            .into_iter()
            .map(|(method, path, _)| (method, path))
            .collect()
    }

    /// Requests the service received with the status it answered (0: nothing was handled).
    pub fn answered_requests(&self) -> Vec<(String, String, u16)> {
        let (_, body) = self.call("GET", "/v1/_admin/requests", None);
        body["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["method"].as_str().unwrap_or_default().to_string(),
                    r["path"].as_str().unwrap_or_default().to_string(),
                    r["status"]
                        .as_u64()
                        .and_then(|status| u16::try_from(status).ok())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The requests the provider sent (the harness's admin calls left out), to assert on traffic.
    pub fn provider_requests(&self) -> Vec<(String, String)> {
        self.requests()
            .into_iter()
            .filter(|(_, path)| !path.starts_with("/v1/_admin"))
            .collect()
    }

    /// The provider's requests other than reads, to show a step changed nothing.
    pub fn mutating_requests(&self) -> Vec<(String, String)> {
        self.provider_requests()
            .into_iter()
            .filter(|(method, _)| !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS"))
            .collect()
    }

    /// `mutating_requests` that went to `dialect`, apart from the test's own native calls.
    pub fn mutating_requests_to(&self, dialect: Dialect) -> Vec<(String, String)> {
        self.mutating_requests()
            .into_iter()
            .filter(|(_, path)| path.starts_with(dialect.prefix()))
            .collect()
    }

    /// The store's database `name` (native API), to see what a dialect stored underneath.
    pub fn database_named(&self, name: &str) -> Json {
        let databases = self.databases();
        databases
            .iter()
            .find(|db| db["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("the store has no database {name}: {databases:?}"))
    }

    /// The native id of the store's database `name`, for native calls about it.
    pub fn database_id(&self, name: &str) -> String {
        let database = self.database_named(name);
        database["id"].as_str().expect("a database id").to_string()
    }

    /// The store's credentials of database `db_id`, including roles no dialect shows.
    pub fn credentials(&self, db_id: &str) -> Vec<Json> {
        let (status, body) = self.call("GET", &format!("/v1/databases/{db_id}/credentials"), None);
        assert_eq!(status, 200, "{body}");
        body["credentials"].as_array().cloned().unwrap_or_default()
    }

    /// The store's index names on `collection` of `db_id` (none without the collection).
    pub fn index_names(&self, db_id: &str, collection: &str) -> Vec<String> {
        let path = format!("/v1/databases/{db_id}/collections/{collection}/indexes");
        match self.call("GET", &path, None) {
            (404, _) => Vec::new(),
            (200, body) => body["indexes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|index| index["name"].as_str().unwrap().to_string())
                .collect(),
            (status, body) => panic!("GET {path}: HTTP {status} {body}"),
        }
    }

    /// Whether the store accepts `password` for `username`: checks passwords no API shows back.
    pub fn password_works(&self, db_id: &str, username: &str, password: &str) -> bool {
        let path = format!("/v1/databases/{db_id}/credentials/{username}/verify");
        let (status, reply) = self.call("POST", &path, Some(json!({ "password": password })));
        assert_eq!(status, 200, "verify {username}: {reply}");
        reply["valid"] == true
    }

    /// Starts a service whose databaselabs dialect (the only one enabled) refuses with 402, as
    /// a declined card, a create that would take the account's monthly bill over `dollars`.
    pub fn start_with_databaselabs_credit_limit(provision_delay: Duration, dollars: u32) -> Self {
        Self::start_with_config(provision_delay, |config| {
            config.databaselabs = Some(dbaas::local::DatabaselabsDialect {
                api_key: DATABASELABS_API_KEY.to_string(),
                api_secret: SecretString::from(DATABASELABS_API_SECRET),
                credit_limit_dollars: Some(dollars),
            });
        })
    }
}

impl Drop for LocalService {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            self.runtime.block_on(service.shutdown());
        }
    }
}

/// The Terraform binary: `TF_ACC_TERRAFORM_PATH`, else the one `make tools` installs.
pub fn terraform_binary() -> PathBuf {
    if let Ok(path) = std::env::var("TF_ACC_TERRAFORM_PATH")
        && !path.is_empty()
    {
        return PathBuf::from(path);
    }
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform");
    assert!(
        installed.exists(),
        "no Terraform binary: run `make tools` (installs Terraform 1.15.5 into .tools/) or set \
         TF_ACC_TERRAFORM_PATH"
    );
    installed
}

/// One Terraform working directory, configured for the freshly built provider and a service.
pub struct Workspace {
    dir: tempfile::TempDir,
    cli_config: PathBuf,
    endpoint: String,
    extra_env: Vec<(String, String)>,
    terraform: PathBuf,
}

impl Workspace {
    /// A new, empty working directory talking to `service`.
    pub fn new(service: &LocalService) -> Self {
        Self::for_endpoint(&service.base_url())
    }

    /// A new, empty working directory talking to the dbaas-local at `endpoint`.
    pub fn for_endpoint(endpoint: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let provider_dir = Path::new(env!("CARGO_BIN_EXE_terraform-provider-dbaas"))
            .parent()
            .unwrap()
            .to_path_buf();
        let cli_config = dir.path().join("terraformrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"dbaas/dbaas\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider_dir.display()
            ),
        )
        .unwrap();
        Self {
            dir,
            cli_config,
            endpoint: endpoint.to_string(),
            extra_env: Vec::new(),
            terraform: terraform_binary(),
        }
    }

    /// A working directory with the vendor secrets in its environment (`vendor_env`), as in CI.
    pub fn with_vendor_env(service: &LocalService) -> Self {
        let mut work = Self::new(service);
        work.vendor_env();
        work
    }

    /// `examples/<example>/main.tf` as written, with `dialect`'s settings in the environment.
    pub fn with_example(service: &LocalService, example: &str, dialect: Dialect) -> Self {
        let mut work = Self::new(service);
        let source =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{example}/main.tf"));
        std::fs::copy(&source, work.path().join("main.tf"))
            .unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
        for (key, value) in dialect.env(service) {
            work.env(key, &value);
        }
        work
    }

    /// Runs this Terraform binary instead of [`terraform_binary`] (the version matrix).
    pub fn use_terraform(&mut self, binary: &Path) {
        self.terraform = binary.to_path_buf();
    }

    /// Replaces the CLI configuration (by default `dev_overrides` for the fresh build).
    pub fn cli_config(&self, contents: &str) {
        std::fs::write(&self.cli_config, contents).expect("write the CLI configuration");
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Passes the OVH secrets the way the official OVH provider reads them.
    pub fn ovh_env(&mut self) {
        self.env("OVH_APPLICATION_SECRET", OVH_APPLICATION_SECRET);
        self.env("OVH_CONSUMER_KEY", OVH_CONSUMER_KEY);
    }

    /// Passes the globo, databaselabs, goaddon and Compose secrets through their environment
    /// variables, the way CI would.
    pub fn vendor_env(&mut self) {
        self.env("GLOBO_PASSWORD", GLOBO_PASSWORD);
        self.env("DATABASELABS_API_SECRET", DATABASELABS_API_SECRET);
        self.env("GOADDON_TOKEN", GOADDON_TOKEN);
        self.env("COMPOSE_TOKEN", COMPOSE_TOKEN);
    }

    /// Adds an environment variable to every Terraform command.
    pub fn env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.to_string(), value.to_string()));
    }

    /// Writes `main.tf` (with the `terraform { required_providers }` block prepended).
    pub fn write(&self, body: &str) {
        let config = format!(
            "terraform {{\n  required_providers {{\n    dbaas = {{ source = \"dbaas/dbaas\" }}\n  }}\n}}\n\n{body}"
        );
        std::fs::write(self.path().join("main.tf"), config).unwrap();
    }

    /// Starts Terraform in a process group of its own (so the test can signal it the way a CI
    /// runner does), with stdout and stderr captured.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        use std::os::unix::process::CommandExt as _;
        let mut command = self.command(args);
        command
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command.spawn().expect("terraform starts")
    }

    /// Runs Terraform with the given arguments.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("terraform runs")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.terraform);
        command
            .args(args)
            .current_dir(self.path())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("DBAAS_ENDPOINT", &self.endpoint)
            .env("DBAAS_TOKEN", TOKEN)
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PATH")
            .env_remove("TF_LOG_PROVIDER");
        for (key, value) in &self.extra_env {
            command.env(key, value);
        }
        command
    }

    /// Runs Terraform and fails the test, with its output, when it succeeds.
    #[track_caller]
    pub fn fails(&self, args: &[&str]) -> Output {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "terraform {} should have failed:\n{}",
            args.join(" "),
            text(&output)
        );
        output
    }

    /// `terraform plan`, which must fail.
    #[track_caller]
    pub fn plan_fails(&self) -> Output {
        self.fails(&["plan", "-input=false", "-no-color"])
    }

    /// `terraform apply -auto-approve`, which must fail.
    #[track_caller]
    pub fn apply_fails(&self) -> Output {
        self.fails(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// Runs Terraform and fails the test, with its output, when it fails.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Output {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "terraform {} failed:\n{}",
            args.join(" "),
            text(&output)
        );
        output
    }

    /// `terraform apply -auto-approve`.
    pub fn apply(&self) -> Output {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform destroy -auto-approve`.
    pub fn destroy(&self) -> Output {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// Exit code of `terraform plan -detailed-exitcode` (0 no changes, 2 changes), with output.
    pub fn plan_exit_code(&self) -> (i32, Output) {
        let output = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        (output.status.code().unwrap_or(-1), output)
    }

    /// `terraform plan -detailed-exitcode`, which must find nothing to change.
    #[track_caller]
    pub fn assert_plan_empty(&self) -> Output {
        let (code, output) = self.plan_exit_code();
        assert_eq!(code, 0, "the plan must be empty:\n{}", text(&output));
        output
    }

    /// `terraform plan -detailed-exitcode`, which must have changes and say every phrase.
    #[track_caller]
    pub fn assert_plan_changes(&self, phrases: &[&str]) -> Output {
        let (code, output) = self.plan_exit_code();
        assert_eq!(code, 2, "the plan must have changes:\n{}", text(&output));
        assert_stdout_says(&output, phrases);
        output
    }

    /// `terraform state rm` of one address.
    pub fn state_rm(&self, address: &str) {
        self.ok(&["state", "rm", "-no-color", address]);
    }

    /// `terraform import` of `id` into `address`.
    pub fn import(&self, address: &str, id: &str) -> Output {
        self.ok(&["import", "-no-color", address, id])
    }

    /// `terraform output -json`, each output as `{ "value", "sensitive", … }`.
    pub fn outputs(&self) -> Json {
        let output = self.ok(&["output", "-json"]);
        serde_json::from_slice(&output.stdout).expect("output -json prints JSON")
    }

    /// `terraform show -json` of the state.
    pub fn show(&self) -> Json {
        let output = self.ok(&["show", "-json", "-no-color"]);
        serde_json::from_slice(&output.stdout).expect("show -json prints JSON")
    }

    /// A resource's whole state entry by address, `sensitive_values` included.
    pub fn state_entry(&self, address: &str) -> Json {
        let state = self.show();
        state["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["address"] == address)
            .cloned()
            .unwrap_or_else(|| panic!("{address} is not in the state: {state}"))
    }

    /// The attribute values of a resource in the state, by address.
    pub fn resource(&self, address: &str) -> Json {
        self.state_entry(address)["values"].clone()
    }

    /// The addresses in the state, to see what an apply left there.
    pub fn addresses(&self) -> Vec<String> {
        self.show()["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["address"].as_str().unwrap().to_string())
            .collect()
    }

    /// Fails, naming `what` (never the secret), if `secret` is in the state file or `show -json`.
    #[track_caller]
    pub fn assert_not_in_state(&self, secret: &str, what: &str) {
        assert!(!secret.is_empty(), "{what}: nothing to look for");
        assert!(
            !self.state_file().contains(secret),
            "{what} is in terraform.tfstate"
        );
        let shown = self.ok(&["show", "-json", "-no-color"]);
        assert!(
            !String::from_utf8_lossy(&shown.stdout).contains(secret),
            "{what} is in terraform show -json"
        );
    }

    /// The raw state file, as Terraform wrote it.
    pub fn state_file(&self) -> String {
        std::fs::read_to_string(self.path().join("terraform.tfstate")).unwrap_or_default()
    }
}

/// Stdout and stderr of a command, for failure messages.
pub fn text(output: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `text` with white space folded, since Terraform wraps long lines and aligns `=` signs.
pub fn flat(output: &Output) -> String {
    fold_whitespace(&text(output))
}

/// Stdout with white space folded (see `flat`).
pub fn flat_stdout(output: &Output) -> String {
    fold_whitespace(&String::from_utf8_lossy(&output.stdout))
}

/// Stderr, where Terraform writes its diagnostics, with white space folded (see `flat`).
pub fn flat_stderr(output: &Output) -> String {
    fold_whitespace(&String::from_utf8_lossy(&output.stderr))
}

/// Every run of white space as one space.
pub fn fold_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fails unless stdout or stderr says every phrase, for what may go to either (warnings).
#[track_caller]
pub fn assert_says(output: &Output, phrases: &[&str]) {
    assert_each_phrase(&flat(output), "the output", output, phrases);
}

/// Fails unless stdout (the plan, the apply summary) says every phrase, white space folded.
#[track_caller]
pub fn assert_stdout_says(output: &Output, phrases: &[&str]) {
    assert_each_phrase(&flat_stdout(output), "stdout", output, phrases);
}

/// Fails unless stderr (Terraform's errors) says every phrase, white space folded.
#[track_caller]
pub fn assert_stderr_says(output: &Output, phrases: &[&str]) {
    assert_each_phrase(&flat_stderr(output), "stderr", output, phrases);
}

/// The check behind the `assert_*_says` functions: `shown`, part of `output`, has every phrase.
#[track_caller]
fn assert_each_phrase(shown: &str, part: &str, output: &Output, phrases: &[&str]) {
    for phrase in phrases {
        assert!(
            shown.contains(&fold_whitespace(phrase)),
            "{part} must say `{phrase}`:\n{}",
            text(output)
        );
    }
}

/// Fails unless an import read back every attribute of `created` but the `unknowable` ones.
#[track_caller]
pub fn assert_imported_as_created(imported: &Json, created: &Json, unknowable: &[&str]) {
    let attributes = created.as_object().expect("resource values are an object");
    for (attribute, value) in attributes {
        if !unknowable.contains(&attribute.as_str()) {
            assert_eq!(&imported[attribute], value, "{attribute}");
        }
    }
}

/// Fails when `secret` shows in a command's output; the message names `what`, never the secret.
#[track_caller]
pub fn assert_hidden(output: &Output, secret: &str, what: &str) {
    assert!(!secret.is_empty(), "{what}: nothing to look for");
    assert!(
        !text(output).contains(secret),
        "{what} appeared in Terraform's output"
    );
}

/// Waits up to 30 s for work the service finishes in the background; fails naming `what`.
#[track_caller]
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Each `prelude` + case must fail `plan` saying its phrase, changing nothing; returns outputs.
#[track_caller]
pub fn assert_plans_refused<B: AsRef<str>, P: AsRef<str>>(
    service: &LocalService,
    workspace: impl Fn(&LocalService) -> Workspace,
    prelude: &str,
    cases: impl IntoIterator<Item = (B, P)>,
) -> Vec<Output> {
    let before = service.mutating_requests().len();
    let mut outputs = Vec::new();
    for (body, phrase) in cases {
        let (body, phrase) = (body.as_ref(), phrase.as_ref());
        let work = workspace(service);
        work.write(&format!("{prelude}\n{body}\n"));
        let output = work.run(&["plan", "-input=false", "-no-color"]);
        assert!(
            !output.status.success(),
            "plan must fail for:\n{body}\n{}",
            text(&output)
        );
        assert_stderr_says(&output, &[phrase]);
        outputs.push(output);
    }
    let changes = service.mutating_requests().split_off(before);
    assert!(changes.is_empty(), "nothing may be changed: {changes:?}");
    outputs
}

/// Types each vendor API lacks, as refusals name them (docs/guides/api-support.md's matrix).
const NOT_OFFERED: &[(&str, &[&str])] = &[
    ("dbaas_database", &["goaddon"]),
    ("dbaas_credential", &["databaselabs"]),
    (
        "ephemeral dbaas_credential",
        &["compose", "globo", "databaselabs", "goaddon"],
    ),
    (
        "dbaas_collection_index",
        &["compose", "globo", "databaselabs"],
    ),
    (
        "dbaas_ip_restriction",
        &["compose", "globo", "databaselabs", "goaddon"],
    ),
    (
        "data dbaas_capabilities, dbaas_plans",
        &["compose", "goaddon"],
    ),
    (
        "data dbaas_availability",
        &["compose", "globo", "databaselabs", "goaddon"],
    ),
    (
        "data dbaas_projects",
        &["compose", "databaselabs", "goaddon"],
    ),
];

/// A configuration of each type `api` lacks (on HCL `database_id`), with its refusal message.
pub fn type_refusals(api: &str, database_id: &str) -> Vec<(String, String)> {
    let mut cases = Vec::new();
    for (refused, apis) in NOT_OFFERED {
        if !apis.contains(&api) {
            continue;
        }
        let message = format!("{refused} is not offered by the {api} API");
        for config in type_configs(refused, database_id) {
            cases.push((config, message.clone()));
        }
    }
    cases
}

/// The smallest configurations using each type a `NOT_OFFERED` entry names.
fn type_configs(refused: &str, database_id: &str) -> Vec<String> {
    let resource = match refused {
        "dbaas_database" => "name = \"client-x\"".to_string(),
        "dbaas_credential" => format!("database_id = {database_id}\n  username = \"app\""),
        "dbaas_collection_index" => format!(
            "database_id = {database_id}\n  collection = \"orders\"\n  keys = [{{ field = \"email\" }}]"
        ),
        "dbaas_ip_restriction" => {
            format!("database_id = {database_id}\n  cidr = \"198.51.100.0/24\"")
        }
        "ephemeral dbaas_credential" => {
            return vec![format!(
                "ephemeral \"dbaas_credential\" \"x\" {{\n  database_id = {database_id}\n  username = \"app\"\n}}\n\nresource \"dbaas_credential\" \"copy\" {{\n  database_id = {database_id}\n  username = \"copy\"\n  password_wo = ephemeral.dbaas_credential.x.password\n  password_wo_version = 1\n}}"
            )];
        }
        data => {
            let names = data.strip_prefix("data ").expect("a data source");
            return names
                .split(", ")
                .map(|name| format!("data \"{name}\" \"x\" {{}}"))
                .collect();
        }
    };
    vec![format!("resource \"{refused}\" \"x\" {{\n  {resource}\n}}")]
}

/// `resource_type` with `base` plus each unsupported `(attribute, value)`, with its refusal.
pub fn attribute_refusals(
    api: &str,
    resource_type: &str,
    base: &str,
    attributes: &[(&str, &str)],
) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|(attribute, value)| {
            (
                format!(
                    "resource \"{resource_type}\" \"x\" {{\n  {base}\n  {attribute} = {value}\n}}"
                ),
                format!("{attribute} of {resource_type} is not supported by the {api} API"),
            )
        })
        .collect()
}

fn ovh_dialect() -> dbaas::local::OvhDialect {
    dbaas::local::OvhDialect {
        application_key: OVH_APPLICATION_KEY.to_string(),
        application_secret: SecretString::from(OVH_APPLICATION_SECRET),
        consumer_key: SecretString::from(OVH_CONSUMER_KEY),
        service_name: OVH_SERVICE_NAME.to_string(),
    }
}
