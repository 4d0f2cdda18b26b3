//! The Terraform-level half of `make bench` (issue 11, "Fast at scale"): the real Terraform
//! against the provider build under test and a dbaas-local started here, side by side with the
//! same number of `terraform_data`, in alternating rounds of the same run, reported as medians.
//!
//! One implementation for two callers: `benches/terraform.rs` (the full bench, sizes from the
//! environment) and `tests/bench_smoke.rs` (tiny sizes, asserts on counts and shape only).
//! Both include this module and `tests/support` (the e2e harness) by path.
//!
//! What each row measures, and how, is written into the report itself ([`report`]), so the
//! numbers travel with their definitions.

// Shared by two crates (the bench and the smoke test), each using a part: `pub` is for them.
#![allow(dead_code, unreachable_pub)]

pub mod measure;
pub mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use measure::{
    ReadinessApi, ReadinessSample, RoundSample, Shape, handshake_time, measure_dbaas,
    measure_equal_state_reference, measure_readiness, measure_reference,
    terraform_like_client_cert,
};
pub use report::Report;

/// What one bench run measures.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Database counts of the `dbaas_database` rows (the issue's: 100 and 1,000).
    pub database_counts: Vec<usize>,
    /// Clients of the whole-client rows, six resources each (the issue's: 1,000); 0 skips them.
    pub clients: usize,
    /// Alternating rounds (ours, reference, ours, …) of each side-by-side row: medians of these.
    pub rounds: usize,
    /// Rounds of the whole-client rows. Fewer by default: Terraform 1.15 copies its whole state
    /// after each resource it applies, so 6,000 resources cost it minutes of CPU per apply.
    pub client_rounds: usize,
    /// Provisioning delays of the readiness rows (the issue's: 2 s, 10 s and 60 s).
    pub provision_delays: Vec<Duration>,
    /// Rounds of the readiness rows; every delay of one round runs at once (they mostly sleep).
    pub readiness_rounds: usize,
    /// Whether the readiness rows are also measured on the OVH dialect, a polling-only API.
    pub ovh_readiness: bool,
    /// How many provider starts the handshake row is the median of.
    pub handshakes: usize,
    /// Where `report.md`, `apply.csv` and `apply.png` go.
    pub out_dir: PathBuf,
}

/// The scale the issue states its targets at: a target is checked only where a row has it.
pub const ISSUE_SCALE: usize = 1_000;

impl BenchConfig {
    /// The issue's sizes, each overridable from the environment (see the Makefile's `bench`):
    /// `BENCH_SCALE` (N: databases N/10 and N, N clients), `BENCH_CLIENTS`, `BENCH_ROUNDS`,
    /// `BENCH_CLIENT_ROUNDS`, `BENCH_DELAYS` (seconds, comma-separated),
    /// `BENCH_READINESS_ROUNDS`, `BENCH_OVH` (0 to skip) and `BENCH_HANDSHAKES`.
    pub fn from_env(out_dir: PathBuf) -> Self {
        let scale = env_number("BENCH_SCALE", ISSUE_SCALE);
        let mut database_counts = vec![scale / 10, scale];
        database_counts.retain(|count| *count > 0);
        database_counts.dedup();
        let rounds = env_number("BENCH_ROUNDS", 3).max(1);
        let provision_delays = match std::env::var("BENCH_DELAYS") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(|seconds| {
                    let seconds: f64 = seconds.trim().parse().unwrap_or_else(|_| {
                        panic!("BENCH_DELAYS: {seconds:?} is not a number of seconds")
                    });
                    Duration::from_secs_f64(seconds)
                })
                .collect(),
            _ => [2, 10, 60].map(Duration::from_secs).to_vec(),
        };
        Self {
            database_counts,
            clients: env_number("BENCH_CLIENTS", scale),
            rounds,
            client_rounds: env_number("BENCH_CLIENT_ROUNDS", 1).max(1),
            provision_delays,
            readiness_rounds: env_number("BENCH_READINESS_ROUNDS", rounds).max(1),
            ovh_readiness: env_number("BENCH_OVH", 1) != 0,
            handshakes: env_number("BENCH_HANDSHAKES", 20).max(1),
            out_dir,
        }
    }
}

/// `name` from the environment as a whole number, else `default`; a value that is not one
/// stops the bench rather than silently measuring something else.
fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {value:?} is not a whole number")),
        _ => default,
    }
}

/// Where the provider build under test is: the binary cargo built for this target.
pub fn provider_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-dbaas"))
}

/// Runs every measurement of `config` and writes the report, CSV and plot into its `out_dir`.
/// `progress` hears one line per step, so a long run shows where it is.
pub fn run(config: &BenchConfig, progress: &mut dyn FnMut(&str)) -> Report {
    let started = Instant::now();
    let mut shapes: Vec<Shape> = config
        .database_counts
        .iter()
        .map(|&count| Shape::Databases(count))
        .collect();
    if config.clients > 0 {
        shapes.push(Shape::Clients(config.clients));
    }

    // Rounds outermost, and within a round ours right before the reference of the same shape:
    // a slow spell of the machine then hits both sides of a ratio, not one.
    let mut side_by_side: Vec<(Shape, Vec<RoundSample>, Vec<RoundSample>)> = shapes
        .iter()
        .map(|&shape| (shape, Vec::new(), Vec::new()))
        .collect();
    let rounds_of = |shape: &Shape| match shape {
        Shape::Databases(_) => config.rounds,
        Shape::Clients(_) => config.client_rounds,
    };
    // The largest database row is also measured against `terraform_data` holding as much
    // state as ours: what is left of the ratio then is the provider's, not Terraform's
    // rewriting of a larger state after each resource.
    let mut equal_state = config
        .database_counts
        .iter()
        .max()
        .map(|&count| (Shape::Databases(count), Vec::new()));
    for round in 1..=config.rounds.max(config.client_rounds) {
        for (shape, ours, reference) in &mut side_by_side {
            let rounds = rounds_of(shape);
            if round > rounds {
                continue;
            }
            let described = shape.describe();
            progress(&format!("round {round}/{rounds}: {described} (dbaas)"));
            ours.push(measure_dbaas(*shape));
            progress(&format!(
                "round {round}/{rounds}: {described} (terraform_data)"
            ));
            reference.push(measure_reference(*shape));
            if let Some((equal_shape, samples)) = &mut equal_state
                && equal_shape == shape
                && let (Some(ours), Some(plain)) = (ours.last(), reference.last())
            {
                progress(&format!(
                    "round {round}/{rounds}: {described} (terraform_data, as much state)"
                ));
                samples.push(measure_equal_state_reference(
                    *shape,
                    ours.state_bytes,
                    plain,
                ));
            }
        }
    }

    let mut apis = vec![ReadinessApi::Native];
    if config.ovh_readiness {
        apis.push(ReadinessApi::Ovh);
    }
    let mut readiness: Vec<(ReadinessApi, Duration, Vec<ReadinessSample>)> = apis
        .iter()
        .flat_map(|&api| {
            config
                .provision_delays
                .iter()
                .map(move |&delay| (api, delay, Vec::new()))
        })
        .collect();
    for round in 1..=config.readiness_rounds {
        progress(&format!(
            "readiness round {round}/{}: provisioning {} at once",
            config.readiness_rounds,
            config
                .provision_delays
                .iter()
                .map(|delay| report::seconds(*delay))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        // Each wait has a service and a working directory of its own, and mostly sleeps:
        // running them together keeps a 60 s row from costing a minute per API and round.
        let samples: Vec<ReadinessSample> = std::thread::scope(|scope| {
            let waits: Vec<_> = readiness
                .iter()
                .map(|(api, delay, _)| {
                    let (api, delay) = (*api, *delay);
                    scope.spawn(move || measure_readiness(api, delay))
                })
                .collect();
            waits
                .into_iter()
                .map(|wait| wait.join().expect("a readiness measurement panicked"))
                .collect()
        });
        for ((_, _, kept), sample) in readiness.iter_mut().zip(samples) {
            kept.push(sample);
        }
    }

    progress(&format!(
        "provider start to handshake, {} starts",
        config.handshakes
    ));
    let client_cert = terraform_like_client_cert();
    let handshakes: Vec<Duration> = (0..config.handshakes)
        .map(|_| handshake_time(provider_binary(), &client_cert))
        .collect();

    let mut report = Report {
        config: config.clone(),
        side_by_side,
        equal_state,
        readiness,
        handshakes,
        took: started.elapsed(),
        plot: None,
    };
    report.write();
    report
}
