//! `make bench`, the Terraform half: the real Terraform applying and planning 100 and 1,000
//! `dbaas_database` and 1,000 whole clients (6,000 resources) with the release provider, side by
//! side with the same number of `terraform_data` in alternating rounds; requests per refresh;
//! readiness detection at 2 s, 10 s and 60 s of provisioning; provider start → handshake; peak
//! RSS. Prints one table and writes it, with a plot, to `target/bench/`. A report, never a
//! test: it exits 0 whether the targets are met or not. Sizes: see `BenchConfig::from_env`.
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

#[path = "../tests/support/mod.rs"]
mod support;
mod terraform_bench;

use std::path::PathBuf;

use terraform_bench::BenchConfig;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument has nothing to select here.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let config = BenchConfig::from_env(target_dir.join("bench"));
    eprintln!("terraform bench: {config:?}");
    let started = std::time::Instant::now();
    let report = terraform_bench::run(&config, &mut |step| {
        eprintln!("[{:>6.1} s] {step}", started.elapsed().as_secs_f64());
    });
    println!("{}", report.table());
    match &report.plot {
        Some(Ok(png)) => println!("plot: {}", png.display()),
        Some(Err(why)) => println!("no plot: {why}"),
        None => {}
    }
    println!("report: {}", config.out_dir.join("report.md").display());
}
