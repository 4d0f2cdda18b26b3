//! `dbaas-local`: runs the local DBaaS service in the foreground.
//!
//! After binding it prints exactly one line to stdout, `dbaas-local listening on http://<addr>`,
//! so scripts and tests started with `--listen 127.0.0.1:0` learn the port; logs go to stderr.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use dbaas::local::{self, Config};
use secrecy::SecretString;
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

    /// Bearer token every request except GET /healthz must present; no auth when unset.
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
}

fn parse_token(text: &str) -> Result<SecretString, String> {
    if text.is_empty() {
        Err("the token is empty; unset it to run without authentication".to_owned())
    } else {
        Ok(SecretString::from(text))
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
    let args = Args::parse();
    if let Err(message) = init_logging() {
        let _ = writeln!(std::io::stderr(), "dbaas-local: {message}");
        return ExitCode::FAILURE;
    }
    let config = Config {
        listen: args.listen,
        data_dir: args.data_dir,
        token: args.token,
        provision_delay: args.provision_delay,
    };
    let service = match local::start(config).await {
        Ok(service) => service,
        Err(error) => {
            tracing::error!(%error, "dbaas-local could not start");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let announced = writeln!(stdout, "dbaas-local listening on {}", service.base_url())
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
    }

    #[test]
    fn args_reject_bad_delay_and_empty_token() {
        let error = Args::try_parse_from(["dbaas-local", "--provision-delay", "5"])
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("unit is missing"), "{error}");
        assert!(Args::try_parse_from(["dbaas-local", "--token", ""]).is_err());
    }

    #[test]
    fn args_help_describes_flags_without_token_value() {
        Args::command().debug_assert();
        let help = Args::command().render_long_help().to_string();
        for flag in ["--listen", "--data-dir", "--token", "--provision-delay"] {
            assert!(help.contains(flag), "{flag} missing from help");
        }
        for env in [
            "DBAAS_LOCAL_LISTEN",
            "DBAAS_LOCAL_DATA_DIR",
            "DBAAS_LOCAL_TOKEN",
            "DBAAS_LOCAL_PROVISION_DELAY",
        ] {
            assert!(help.contains(env), "{env} missing from help");
        }
    }
}
