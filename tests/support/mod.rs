//! End-to-end harness: a fresh dbaas-local on 127.0.0.1:0 per test, and the real Terraform binary
//! pointed at the freshly built provider through a `dev_overrides` CLI configuration.
#![allow(dead_code, unreachable_pub)]

pub mod ovh_schema;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use dbaas::local::{Config, RunningService};
use secrecy::SecretString;
use serde_json::Value as Json;

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
            token: Some(SecretString::from(TOKEN)),
            provision_delay,
            compose: None,
            ovh: None,
            globo: None,
            goaddon: None,
            databaselabs: None,
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
    pub fn base_url(&self) -> String {
        self.service.as_ref().unwrap().base_url()
    }

    /// A native API call with the service token; returns status and JSON body (null if none).
    pub fn call(&self, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
        let url = format!("{}{path}", self.base_url());
        self.runtime.block_on(async {
            let client = reqwest::Client::new();
            let mut request = client
                .request(method.parse().unwrap(), &url)
                .bearer_auth(TOKEN);
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
        let (status, db) = self.call(
            "POST",
            "/v1/databases",
            Some(serde_json::json!({ "name": name })),
        );
        assert_eq!(status, 202, "{db}");
        let id = db["id"].as_str().unwrap().to_string();
        for _ in 0..600 {
            let (_, db) = self.call("GET", &format!("/v1/databases/{id}"), None);
            if db["status"] == "READY" {
                return id;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("database {id} never became READY");
    }

    /// Every database the service lists.
    pub fn databases(&self) -> Vec<Json> {
        let (status, body) = self.call("GET", "/v1/databases", None);
        assert_eq!(status, 200, "list databases: {body}");
        body["databases"].as_array().cloned().unwrap_or_default()
    }

    /// Requests the service received (method and path), from its admin request log.
    pub fn requests(&self) -> Vec<(String, String)> {
        let (_, body) = self.call("GET", "/v1/_admin/requests", None);
        body["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["method"].as_str().unwrap_or_default().to_string(),
                    r["path"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
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
}

impl Workspace {
    /// A new, empty working directory talking to `service`.
    pub fn new(service: &LocalService) -> Self {
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
            endpoint: service.base_url(),
            extra_env: Vec::new(),
        }
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
        let mut command = Command::new(terraform_binary());
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

    /// Runs Terraform and fails the test, with its output, when it fails.
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

    /// `terraform show -json` of the state.
    pub fn show(&self) -> Json {
        let output = self.ok(&["show", "-json", "-no-color"]);
        serde_json::from_slice(&output.stdout).expect("show -json prints JSON")
    }

    /// The attribute values of a resource in the state, by address.
    pub fn resource(&self, address: &str) -> Json {
        let state = self.show();
        state["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("{address} is not in the state: {state}"))
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

fn ovh_dialect() -> dbaas::local::OvhDialect {
    dbaas::local::OvhDialect {
        application_key: OVH_APPLICATION_KEY.to_string(),
        application_secret: SecretString::from(OVH_APPLICATION_SECRET),
        consumer_key: SecretString::from(OVH_CONSUMER_KEY),
        service_name: OVH_SERVICE_NAME.to_string(),
    }
}
