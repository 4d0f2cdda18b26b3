//! `dbaas-docs`: writes the registry documentation generated from the provider's own schemas
//! (`make docs` runs `dbaas-docs docs`). Pages no longer generated are removed; `--check` only
//! reports differences, for CI.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use dbaas::docs;
use dbaas::provider::DbaasProvider;
use dbaas::tfplugin::rpc::ProviderServer;

/// Generates the Terraform Registry docs of the dbaas provider from its schemas and examples.
#[derive(Parser)]
#[command(name = "dbaas-docs", version, about)]
struct Args {
    /// Directory the pages go to (`docs` for the registry).
    docs_dir: PathBuf,

    /// Directory of the examples, in the registry layout (`provider/provider.tf`,
    /// `resources/<type>/resource.tf`, …).
    #[arg(long, default_value = "examples")]
    examples: PathBuf,

    /// Directory of the hand-written parts (`index.md`: installing, authentication, versions).
    #[arg(long, default_value = "templates")]
    templates: PathBuf,

    /// Change nothing; list the pages that differ and fail if any does.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("dbaas-docs: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, docs::DocsError> {
    let server = ProviderServer::new(DbaasProvider);
    let pages = docs::render_site(&server.schemas(), &args.examples, &args.templates)?;
    if args.check {
        let differences = docs::compare(&pages, &args.docs_dir)?;
        if differences.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        for difference in &differences {
            eprintln!("{difference}");
        }
        eprintln!("run `make docs` and commit {}", args.docs_dir.display());
        return Ok(ExitCode::FAILURE);
    }
    let summary = docs::write(&pages, &args.docs_dir)?;
    for path in &summary.written {
        eprintln!("wrote {}", args.docs_dir.join(path).display());
    }
    for path in &summary.removed {
        eprintln!("removed {}", args.docs_dir.join(path).display());
    }
    Ok(ExitCode::SUCCESS)
}
