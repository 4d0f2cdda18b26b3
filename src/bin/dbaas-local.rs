//! `dbaas-local`: runs the local DBaaS service in the foreground.
//!
//! After binding it prints one line to stdout, `dbaas-local listening on http://<addr>`, so
//! scripts and tests started with `--listen 127.0.0.1:0` learn the port; logs go to stderr.
//!
//! Without `--token` (or `DBAAS_LOCAL_TOKEN`) it uses the token saved in `<data-dir>/token`
//! (owner-only), generating it on the first start of a data dir and printing it then, on a
//! second line: `dbaas-local token (new, saved in <file>): <token>`. Later starts reuse it, so
//! clients keep working, and say only where it is: `dbaas-local token: the one saved in <file>`.
//! It refuses to listen on a non-loopback address without `--token`.
//!
//! With the four `--ovh-*` flags (or their `DBAAS_LOCAL_OVH_*` variables) it also speaks
//! OVHcloud's API under `/ovh/1.0`; giving only some of them is an error. With
//! `--globo-username` and `--globo-password` it speaks globo.com's DBaaS API under `/globo`.
//! With `--goaddon-token` it speaks goaddon's project API under `/goaddon`.
//! With `--databaselabs-api-key` and `--databaselabs-api-secret` it speaks databaselabs.io's
//! API under `/databaselabs`.
//!
//! With `--faults FILE` (or `DBAAS_LOCAL_FAULTS`) it starts with request and lifecycle faults
//! already pending, as if posted to its admin endpoints; a file it cannot use stops it before
//! it listens, with the file and the problem named.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use dbaas::local::{
    self, ComposeDialect, Config, DatabaselabsDialect, FaultPlan, GloboDialect, GoaddonDialect,
    OvhDialect, PostgresBacking, TokenOrigin, TokenSource,
};
use secrecy::{ExposeSecret as _, SecretString};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// The local DBaaS service: the default backend of terraform-provider-dbaas.
#[derive(Parser)]
#[command(name = "dbaas-local", version, about)]
struct Args {
    /// Address to listen on; use port 0 to pick a free port (printed on stdout).
    #[arg(long, env = "DBAAS_LOCAL_LISTEN", default_value = local::DEFAULT_LISTEN)]
    listen: SocketAddr,

    /// Directory of the SQLite store; created if missing.
    #[arg(long, env = "DBAAS_LOCAL_DATA_DIR", default_value = local::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,

    /// Bearer token every request except GET /healthz must present (the admin endpoints
    /// too). Unset: the one saved in <data-dir>/token, generated on the first start. Needed to
    /// listen on a non-loopback address.
    #[arg(long, env = "DBAAS_LOCAL_TOKEN", hide_env_values = true, value_parser = parse_token)]
    token: Option<SecretString>,

    /// How long CREATING, UPDATING and DELETING last, e.g. 0s, 250ms, 5s, 2m.
    #[arg(
        long,
        env = "DBAAS_LOCAL_PROVISION_DELAY",
        default_value = "5s",
        value_parser = parse_delay
    )]
    provision_delay: Duration,

    /// Where PostgreSQL's server programs (initdb, pg_ctl, postgres) are, for real
    /// `postgresql` databases; `none` keeps them simulated. Default: `pg_config --bindir`, else
    /// Debian's /usr/lib/postgresql/<version>/bin, else simulated with a warning.
    #[arg(long, env = "DBAAS_LOCAL_POSTGRES_BIN", value_parser = parse_postgres_bin)]
    postgres_bin: Option<PostgresBacking>,

    /// OVH dialect: the application key clients send (X-Ovh-Application). The dialect, OVHcloud's
    /// API under /ovh/1.0, is served when all four --ovh-* options are set.
    #[arg(long, env = "DBAAS_LOCAL_OVH_APPLICATION_KEY", value_parser = parse_ovh_key)]
    ovh_application_key: Option<String>,

    /// OVH dialect: the application secret clients sign requests with.
    #[arg(
        long,
        env = "DBAAS_LOCAL_OVH_APPLICATION_SECRET",
        hide_env_values = true,
        value_parser = parse_ovh_secret
    )]
    ovh_application_secret: Option<SecretString>,

    /// OVH dialect: the consumer key clients send (X-Ovh-Consumer).
    #[arg(
        long,
        env = "DBAAS_LOCAL_OVH_CONSUMER_KEY",
        hide_env_values = true,
        value_parser = parse_ovh_secret
    )]
    ovh_consumer_key: Option<SecretString>,

    /// OVH dialect: the Public Cloud project ({serviceName}) it serves; other names get OVH's 404.
    #[arg(long, env = "DBAAS_LOCAL_OVH_SERVICE_NAME", value_parser = parse_ovh_key)]
    ovh_service_name: Option<String>,

    /// globo dialect: the Basic auth user clients log in as. The dialect, globo.com's DBaaS API
    /// under /globo, is served when --globo-username and --globo-password are both set.
    #[arg(long, env = "DBAAS_LOCAL_GLOBO_USERNAME", value_parser = parse_ovh_key)]
    globo_username: Option<String>,

    /// globo dialect: the Basic auth password.
    #[arg(
        long,
        env = "DBAAS_LOCAL_GLOBO_PASSWORD",
        hide_env_values = true,
        value_parser = parse_ovh_secret
    )]
    globo_password: Option<SecretString>,

    /// Compose dialect: the personal access token clients send (Authorization: Bearer). The
    /// dialect, Compose's classic API under /compose, is served when all three --compose-*
    /// options are set.
    #[arg(
        long,
        env = "DBAAS_LOCAL_COMPOSE_TOKEN",
        hide_env_values = true,
        value_parser = parse_ovh_secret
    )]
    compose_token: Option<SecretString>,

    /// Compose dialect: the account slug it serves (the :account of every path).
    #[arg(long, env = "DBAAS_LOCAL_COMPOSE_ACCOUNT", value_parser = parse_ovh_key)]
    compose_account: Option<String>,

    /// Compose dialect: the MongoDB deployment name it serves (the :deployment of every path).
    #[arg(long, env = "DBAAS_LOCAL_COMPOSE_DEPLOYMENT", value_parser = parse_ovh_key)]
    compose_deployment: Option<String>,

    /// databaselabs dialect: the API key clients send as the Basic user. The dialect,
    /// databaselabs.io's API under /databaselabs, is served when --databaselabs-api-key and
    /// --databaselabs-api-secret are both set.
    #[arg(long, env = "DBAAS_LOCAL_DATABASELABS_API_KEY", value_parser = parse_ovh_key)]
    databaselabs_api_key: Option<String>,

    /// databaselabs dialect: the API secret clients send as the Basic password.
    #[arg(
        long,
        env = "DBAAS_LOCAL_DATABASELABS_API_SECRET",
        hide_env_values = true,
        value_parser = parse_ovh_secret
    )]
    databaselabs_api_secret: Option<SecretString>,

    /// databaselabs dialect: monthly dollars the emulated credit card covers; a create that
    /// would go over it answers 402 Payment Required. Unset: no limit.
    #[arg(long, env = "DBAAS_LOCAL_DATABASELABS_CREDIT_LIMIT")]
    databaselabs_credit_limit: Option<u32>,

    /// goaddon dialect: the project API token clients send (Authorization: Basic with the
    /// base64 of the bare token). The dialect, goaddon's project API under /goaddon, is served
    /// when it is set.
    #[arg(
        long,
        env = "DBAAS_LOCAL_GOADDON_TOKEN",
        hide_env_values = true,
        value_parser = parse_ovh_secret
    )]
    goaddon_token: Option<SecretString>,

    /// Test aid: a JSON file {"faults": [...], "lifecycle_faults": [...]} of faults pending from
    /// the start; each entry is a body POST /v1/_admin/faults or POST
    /// /v1/_admin/lifecycle-faults takes.
    #[arg(long, env = "DBAAS_LOCAL_FAULTS", value_name = "FILE")]
    faults: Option<PathBuf>,
}

impl Args {
    /// The Compose dialect when all three options are set, none when none is, else which are
    /// missing.
    fn compose_dialect(&mut self) -> Result<Option<ComposeDialect>, String> {
        match (
            self.compose_token.take(),
            self.compose_account.take(),
            self.compose_deployment.take(),
        ) {
            (Some(token), Some(account), Some(deployment)) => Ok(Some(ComposeDialect {
                token,
                account,
                deployment,
            })),
            (None, None, None) => Ok(None),
            (token, account, deployment) => {
                let missing: Vec<&str> = [
                    ("--compose-token", token.is_none()),
                    ("--compose-account", account.is_none()),
                    ("--compose-deployment", deployment.is_none()),
                ]
                .into_iter()
                .filter_map(|(flag, absent)| absent.then_some(flag))
                .collect();
                Err(format!(
                    "the Compose dialect needs {} too",
                    missing.join(" and ")
                ))
            }
        }
    }

    /// The databaselabs dialect when key and secret are set, none when neither is, else which
    /// is missing.
    fn databaselabs_dialect(&mut self) -> Result<Option<DatabaselabsDialect>, String> {
        match (
            self.databaselabs_api_key.take(),
            self.databaselabs_api_secret.take(),
        ) {
            (Some(api_key), Some(api_secret)) => Ok(Some(DatabaselabsDialect {
                api_key,
                api_secret,
                credit_limit_dollars: self.databaselabs_credit_limit,
            })),
            (None, None) if self.databaselabs_credit_limit.is_some() => Err(
                "--databaselabs-credit-limit needs --databaselabs-api-key and \
                 --databaselabs-api-secret"
                    .to_owned(),
            ),
            (None, None) => Ok(None),
            (Some(_), None) => {
                Err("the databaselabs dialect needs --databaselabs-api-secret too".to_owned())
            }
            (None, Some(_)) => {
                Err("the databaselabs dialect needs --databaselabs-api-key too".to_owned())
            }
        }
    }

    /// The globo dialect when both options are set, none when neither is, else which is missing.
    fn globo_dialect(&mut self) -> Result<Option<GloboDialect>, String> {
        match (self.globo_username.take(), self.globo_password.take()) {
            (Some(username), Some(password)) => Ok(Some(GloboDialect { username, password })),
            (None, None) => Ok(None),
            (Some(_), None) => Err("the globo dialect needs --globo-password too".to_owned()),
            (None, Some(_)) => Err("the globo dialect needs --globo-username too".to_owned()),
        }
    }

    /// The OVH dialect when all four options are set, none when none is, else which are missing.
    fn ovh_dialect(&mut self) -> Result<Option<OvhDialect>, String> {
        let given = [
            self.ovh_application_key.is_some(),
            self.ovh_application_secret.is_some(),
            self.ovh_consumer_key.is_some(),
            self.ovh_service_name.is_some(),
        ];
        if given.iter().all(|set| !set) {
            return Ok(None);
        }
        match (
            self.ovh_application_key.take(),
            self.ovh_application_secret.take(),
            self.ovh_consumer_key.take(),
            self.ovh_service_name.take(),
        ) {
            (
                Some(application_key),
                Some(application_secret),
                Some(consumer_key),
                Some(service_name),
            ) => Ok(Some(OvhDialect {
                application_key,
                application_secret,
                consumer_key,
                service_name,
            })),
            _ => {
                let missing: Vec<&str> = [
                    "--ovh-application-key",
                    "--ovh-application-secret",
                    "--ovh-consumer-key",
                    "--ovh-service-name",
                ]
                .into_iter()
                .zip(given)
                .filter(|(_, set)| !set)
                .map(|(flag, _)| flag)
                .collect();
                Err(format!(
                    "the OVH dialect needs all four --ovh-* options; missing: {}",
                    missing.join(", ")
                ))
            }
        }
    }
}

fn parse_ovh_key(text: &str) -> Result<String, String> {
    if text.is_empty() {
        Err("the value is empty".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

fn parse_ovh_secret(text: &str) -> Result<SecretString, String> {
    parse_ovh_key(text).map(SecretString::from)
}

fn parse_token(text: &str) -> Result<SecretString, String> {
    if text.is_empty() {
        Err("the token is empty; unset it to use the one saved in the data dir".to_owned())
    } else {
        Ok(SecretString::from(text))
    }
}

fn parse_postgres_bin(text: &str) -> Result<PostgresBacking, String> {
    match text {
        "" => Err("give a directory, or `none`".to_owned()),
        "none" => Ok(PostgresBacking::Simulated),
        dir => Ok(PostgresBacking::Programs(PathBuf::from(dir))),
    }
}

fn parse_delay(text: &str) -> Result<Duration, String> {
    local::parse_duration(text).map_err(|error| error.to_string())
}

fn init_logging() -> Result<(), String> {
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .with_env_var("DBAAS_LOCAL_LOG")
        .from_env()
        .map_err(|error| format!("invalid DBAAS_LOCAL_LOG: {error}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    if let Err(message) = init_logging() {
        let _ = writeln!(std::io::stderr(), "dbaas-local: {message}");
        return ExitCode::FAILURE;
    }
    let ovh = match args.ovh_dialect() {
        Ok(ovh) => ovh,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "dbaas-local: {message}");
            return ExitCode::FAILURE;
        }
    };
    let globo = match args.globo_dialect() {
        Ok(globo) => globo,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "dbaas-local: {message}");
            return ExitCode::FAILURE;
        }
    };
    let compose = match args.compose_dialect() {
        Ok(compose) => compose,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "dbaas-local: {message}");
            return ExitCode::FAILURE;
        }
    };
    let goaddon = args
        .goaddon_token
        .take()
        .map(|token| GoaddonDialect { token });
    let databaselabs = match args.databaselabs_dialect() {
        Ok(databaselabs) => databaselabs,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "dbaas-local: {message}");
            return ExitCode::FAILURE;
        }
    };
    let faults = match args.faults.as_deref().map(FaultPlan::from_file).transpose() {
        Ok(plan) => plan.unwrap_or_default(),
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "dbaas-local: {error}");
            return ExitCode::FAILURE;
        }
    };
    let config = Config {
        listen: args.listen,
        data_dir: args.data_dir,
        token: args.token.map_or(TokenSource::DataDir, TokenSource::Given),
        provision_delay: args.provision_delay,
        compose,
        ovh,
        globo,
        databaselabs,
        goaddon,
        postgres: args.postgres_bin.unwrap_or_default(),
    };
    let service = match local::start_with_faults(config, faults).await {
        Ok(service) => service,
        Err(error) => {
            tracing::error!(%error, "dbaas-local could not start");
            return ExitCode::FAILURE;
        }
    };
    let mut announcement = format!("dbaas-local listening on {}\n", service.base_url());
    // stdout, not the log: the user must see a new token once, and logs never hold secrets.
    match service.token_origin() {
        TokenOrigin::Given => {}
        TokenOrigin::Generated { file } => announcement.push_str(&format!(
            "dbaas-local token (new, saved in {}): {}\n",
            file.display(),
            service.token().expose_secret()
        )),
        TokenOrigin::Saved { file } => announcement.push_str(&format!(
            "dbaas-local token: the one saved in {}\n",
            file.display()
        )),
    }
    let mut stdout = std::io::stdout().lock();
    // One write, so a reader that stops after the first line never makes the second fail.
    let announced = stdout
        .write_all(announcement.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(error) = announced {
        tracing::error!(%error, "cannot write the listening line to stdout");
        service.shutdown().await;
        return ExitCode::FAILURE;
    }
    match service.run_until_signal().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "dbaas-local failed");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use secrecy::ExposeSecret;

    #[test]
    fn args_parse_flags() {
        let args = Args::try_parse_from([
            "dbaas-local",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "/tmp/x",
            "--token",
            "t0k",
            "--provision-delay",
            "250ms",
        ])
        .unwrap();
        assert_eq!(args.listen.port(), 0);
        assert_eq!(args.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(args.token.unwrap().expose_secret(), "t0k");
        assert_eq!(args.provision_delay, Duration::from_millis(250));
        assert_eq!(args.faults, None);
        let with_faults =
            Args::try_parse_from(["dbaas-local", "--faults", "/tmp/faults.json"]).unwrap();
        assert_eq!(with_faults.faults, Some(PathBuf::from("/tmp/faults.json")));
    }

    #[test]
    fn args_reject_bad_delay_and_empty_token() {
        let error = Args::try_parse_from(["dbaas-local", "--provision-delay", "5"])
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("has no unit"), "{error}");
        assert!(Args::try_parse_from(["dbaas-local", "--token", ""]).is_err());
    }

    #[test]
    fn args_help_describes_flags_without_token_value() {
        Args::command().debug_assert();
        let help = Args::command().render_long_help().to_string();
        for flag in [
            "--listen",
            "--data-dir",
            "--token",
            "--provision-delay",
            "--ovh-application-key",
            "--ovh-application-secret",
            "--ovh-consumer-key",
            "--ovh-service-name",
            "--faults",
        ] {
            assert!(help.contains(flag), "{flag} missing from help");
        }
        for env in [
            "DBAAS_LOCAL_LISTEN",
            "DBAAS_LOCAL_DATA_DIR",
            "DBAAS_LOCAL_TOKEN",
            "DBAAS_LOCAL_PROVISION_DELAY",
            "DBAAS_LOCAL_OVH_APPLICATION_KEY",
            "DBAAS_LOCAL_OVH_APPLICATION_SECRET",
            "DBAAS_LOCAL_OVH_CONSUMER_KEY",
            "DBAAS_LOCAL_OVH_SERVICE_NAME",
            "DBAAS_LOCAL_FAULTS",
        ] {
            assert!(help.contains(env), "{env} missing from help");
        }
    }

    #[test]
    fn args_build_the_ovh_dialect_from_all_four_options() {
        let mut args = Args::try_parse_from([
            "dbaas-local",
            "--ovh-application-key",
            "ak",
            "--ovh-application-secret",
            "as",
            "--ovh-consumer-key",
            "ck",
            "--ovh-service-name",
            "project",
        ])
        .unwrap();
        let ovh = args.ovh_dialect().unwrap().expect("dialect configured");
        assert_eq!(ovh.application_key, "ak");
        assert_eq!(ovh.application_secret.expose_secret(), "as");
        assert_eq!(ovh.consumer_key.expose_secret(), "ck");
        assert_eq!(ovh.service_name, "project");
        let debug = format!("{ovh:?}");
        assert!(
            !debug.contains("\"as\"") && !debug.contains("\"ck\""),
            "{debug}"
        );

        let mut none = Args::try_parse_from(["dbaas-local"]).unwrap();
        assert!(none.ovh_dialect().unwrap().is_none());

        let mut partial =
            Args::try_parse_from(["dbaas-local", "--ovh-application-key", "ak"]).unwrap();
        let error = partial.ovh_dialect().unwrap_err();
        assert!(
            error.contains("--ovh-application-secret, --ovh-consumer-key, --ovh-service-name"),
            "{error}"
        );
        assert!(Args::try_parse_from(["dbaas-local", "--ovh-consumer-key", ""]).is_err());
    }
}
