//! terraform-provider-dbaas: the provider binary Terraform (or OpenTofu) starts.
//!
//! Sets up the panic hook and hclog logging on stderr, performs the go-plugin handshake
//! (one line on stdout) and serves the provider until Terraform shuts it down.
//! `--debug` runs it standalone and prints a `TF_REATTACH_PROVIDERS` value instead.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use dbaas::provider::{DbaasProvider, PROVIDER_ADDRESS};
use dbaas::tfplugin::log;
use dbaas::tfplugin::rpc::ProviderServer;
use dbaas::tfplugin::serve::{self, ServeError, ServeOptions, ShutdownHandle};

const HELP: &str = "\
terraform-provider-dbaas: the Terraform/OpenTofu provider for managed databases.

This program is a Terraform plugin. Terraform (or OpenTofu) starts it by itself when a
configuration uses the dbaas provider; there is no need to run it by hand.

Usage:
  terraform-provider-dbaas            (started by Terraform)
  terraform-provider-dbaas --debug    run standalone; prints a TF_REATTACH_PROVIDERS value
                                      that lets Terraform attach to this process
  terraform-provider-dbaas --help     show this text

Logging goes to stderr as hclog JSON; set TF_LOG_PROVIDER_DBAAS, TF_LOG_PROVIDER or TF_LOG
(TRACE, DEBUG, INFO, WARN, ERROR) to enable it.
";

const NOT_LAUNCHED_BY_TERRAFORM: &str = "\
This binary is a Terraform plugin for the dbaas provider. It is started by Terraform (or
OpenTofu) when a configuration uses the provider, not by hand.
To run it standalone for debugging, use --debug and follow the instructions it prints.";

/// What the command line asked for.
enum Mode {
    Serve { debug: bool },
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Mode, String> {
    let mut debug = false;
    for arg in args {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--help" | "-h" | "-help" => return Ok(Mode::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Mode::Serve { debug })
}

#[tokio::main]
async fn main() -> ExitCode {
    log::install_panic_hook();
    log::init("dbaas");

    let debug = match parse_args(std::env::args().skip(1)) {
        Ok(Mode::Serve { debug }) => debug,
        Ok(Mode::Help) => {
            eprint!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("Error: {message}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };

    match run(debug).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::NotLaunchedByTerraform) => {
            eprintln!("{NOT_LAUNCHED_BY_TERRAFORM}");
            ExitCode::FAILURE
        }
        Err(error) => {
            tracing::error!(%error, "provider stopped with an error");
            eprintln!("Error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(debug: bool) -> Result<(), ServeError> {
    let bound = serve::bind(ServeOptions::from_env(PROVIDER_ADDRESS, debug)).await?;

    // stdout carries the handshake and nothing else; Terraform parses its first line.
    let mut stdout = std::io::stdout().lock();
    if debug {
        writeln!(
            stdout,
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS \
             environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{}'\n",
            bound.reattach_json()
        )?;
    } else {
        writeln!(stdout, "{}", bound.handshake_line())?;
    }
    stdout.flush()?;
    drop(stdout);

    let server = ProviderServer::new(DbaasProvider);
    stop_on_terminate(server.stop_token(), bound.shutdown_handle())?;
    bound.serve(server).await
}

/// How long Terraform gets, after SIGTERM, to collect the answers of the operations we stopped
/// and shut the plugin down itself.
const TERMINATE_GRACE: Duration = Duration::from_secs(30);

/// SIGTERM (a CI job being cancelled signals the whole process group) stops operations the way
/// StopProvider does, so Terraform, which shuts down gracefully on SIGTERM too, still receives
/// the state of every object already created. The plugin exits after a grace period if Terraform
/// does not shut it down first.
fn stop_on_terminate(stop: CancellationToken, shutdown: ShutdownHandle) -> std::io::Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        if terminate.recv().await.is_some() {
            tracing::warn!("SIGTERM received: stopping operations in progress");
            stop.cancel();
            tokio::time::sleep(TERMINATE_GRACE).await;
            shutdown.shutdown();
        }
    });
    Ok(())
}
