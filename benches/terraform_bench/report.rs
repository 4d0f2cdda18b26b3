//! The report: one table (each of the issue's targets next to its measured value, ✓ or ✗),
//! how each row was measured, every round's numbers, a CSV of apply times and its plot.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::measure::{
    REQUEST_LOG_CAPACITY, ReadinessApi, ReadinessSample, RoundSample, Shape, plot_python, thousands,
};
use super::{BenchConfig, ISSUE_SCALE, provider_binary};
use crate::support::terraform_binary;

/// Everything one run measured.
#[derive(Debug)]
pub struct Report {
    /// What was asked for.
    pub config: BenchConfig,
    /// Per shape: the provider's rounds and the `terraform_data` rounds, in order.
    pub side_by_side: Vec<(Shape, Vec<RoundSample>, Vec<RoundSample>)>,
    /// The largest database shape against `terraform_data` holding as many state bytes, one
    /// sample per round (ours are that shape's in `side_by_side`).
    pub equal_state: Option<(Shape, Vec<RoundSample>)>,
    /// Per API and provisioning delay: the waits, one per readiness round.
    pub readiness: Vec<(ReadinessApi, Duration, Vec<ReadinessSample>)>,
    /// Provider start → handshake, each start.
    pub handshakes: Vec<Duration>,
    /// How long the whole run took.
    pub took: Duration,
    /// The plot written, or why there is none; `None` until [`Report::write`].
    pub plot: Option<Result<PathBuf, String>>,
}

/// Whether a measured value meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Met {
    /// The row has no target.
    NoTarget,
    /// ✓
    Yes,
    /// ✗
    No,
    /// The target is stated at the issue's scale, and this run used another one.
    NotAtThisScale,
}

impl Met {
    fn of(at_issue_scale: bool, met: bool) -> Self {
        match (at_issue_scale, met) {
            (false, _) => Self::NotAtThisScale,
            (true, true) => Self::Yes,
            (true, false) => Self::No,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::NoTarget => "",
            Self::Yes => "✓",
            Self::No => "✗",
            Self::NotAtThisScale => "— (stated at 1,000)",
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured.
    pub measure: String,
    /// The provider's value (a median unless the row says otherwise).
    pub value: String,
    /// The same measure for the reference, where there is one.
    pub reference: String,
    /// value / reference.
    pub ratio: String,
    /// The issue's target, where it states one.
    pub target: String,
    /// Whether `value` meets `target`.
    pub met: Met,
}

impl Row {
    fn new(measure: String, value: String) -> Self {
        Self {
            measure,
            value,
            reference: String::new(),
            ratio: String::new(),
            target: String::new(),
            met: Met::NoTarget,
        }
    }

    fn reference(mut self, reference: String, ratio: String) -> Self {
        self.reference = reference;
        self.ratio = ratio;
        self
    }

    fn target(mut self, target: &str, met: Met) -> Self {
        self.target = target.to_owned();
        self.met = met;
        self
    }
}

impl Report {
    /// The rows of the table, in the issue's order.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let largest_database_count = self
            .side_by_side
            .iter()
            .filter_map(|(shape, _, _)| match shape {
                Shape::Databases(count) => Some(*count),
                Shape::Clients(_) => None,
            })
            .max();
        let is_target_row = |shape: &Shape| match shape {
            Shape::Databases(count) => Some(*count) == largest_database_count,
            Shape::Clients(_) => true,
        };
        let at_issue_scale = |shape: &Shape| match shape {
            Shape::Databases(count) | Shape::Clients(count) => *count == ISSUE_SCALE,
        };

        for (shape, ours, reference) in &self.side_by_side {
            let (ours_apply, reference_apply) = (
                median_of(ours, |s| s.apply),
                median_of(reference, |s| s.apply),
            );
            let ratio = secs(ours_apply) / secs(reference_apply);
            let mut row = Row::new(format!("apply, {}", shape.describe()), seconds(ours_apply))
                .reference(seconds(reference_apply), format!("{ratio:.2}×"));
            if matches!(shape, Shape::Databases(_)) && is_target_row(shape) {
                row = row.target("≤ 1.20×", Met::of(at_issue_scale(shape), ratio <= 1.20));
            }
            rows.push(row);
        }
        if let Some(row) = self.equal_state_row() {
            rows.push(row);
        }
        for (shape, ours, reference) in &self.side_by_side {
            let (ours_plan, reference_plan) = (
                median_of(ours, |s| s.plan),
                median_of(reference, |s| s.plan),
            );
            rows.push(
                Row::new(format!("plan, {}", shape.describe()), seconds(ours_plan)).reference(
                    seconds(reference_plan),
                    format!("{:.2}×", secs(ours_plan) / secs(reference_plan)),
                ),
            );
        }
        for (shape, ours, _) in &self.side_by_side {
            let counts: Vec<usize> = ours
                .iter()
                .filter_map(|s| s.plan_requests.map(|r| r.count))
                .collect();
            let log_full = ours
                .iter()
                .any(|s| s.plan_requests.is_some_and(|r| r.log_full));
            let count = median(&counts);
            let shown = if log_full {
                format!("≥ {}", thousands(count))
            } else {
                thousands(count)
            };
            let mut row = Row::new(
                format!("requests per plan (refresh), {}", shape.describe()),
                shown,
            );
            if is_target_row(shape) {
                let (target, limit) = match shape {
                    Shape::Databases(_) => ("≤ 10", 10),
                    Shape::Clients(_) => ("≤ 1,100", 1_100),
                };
                row = row.target(
                    target,
                    Met::of(at_issue_scale(shape), !log_full && count <= limit),
                );
            }
            rows.push(row);
        }
        for (api, delay, samples) in &self.readiness {
            let detection = median_of(samples, |s| s.detection);
            let reads = median(
                &samples
                    .iter()
                    .map(|s| s.status_requests)
                    .collect::<Vec<_>>(),
            );
            let all = median(&samples.iter().map(|s| s.apply_requests).collect::<Vec<_>>());
            let at_target = *api == ReadinessApi::Native && *delay == Duration::from_secs(10);
            let mut detection_row = Row::new(
                format!(
                    "readiness detection delay, provisioning {}{}",
                    seconds_short(*delay),
                    api.label()
                ),
                seconds(detection),
            )
            .reference(
                format!("{} provisioning", seconds(*delay)),
                format!("+{}", short_duration(detection.saturating_sub(*delay))),
            );
            let mut reads_row = Row::new(
                format!(
                    "status requests per wait, provisioning {}{}",
                    seconds_short(*delay),
                    api.label()
                ),
                format!("{reads} ({all} in the whole apply)"),
            );
            if at_target {
                detection_row =
                    detection_row.target("≤ 10.2 s", Met::of(true, secs(detection) <= 10.2));
                reads_row = reads_row.target("≤ 3", Met::of(true, reads <= 3));
            }
            rows.push(detection_row);
            rows.push(reads_row);
        }
        if !self.handshakes.is_empty() {
            rows.push(Row::new(
                format!(
                    "provider start → handshake (median of {})",
                    self.handshakes.len()
                ),
                millis(median_duration(&self.handshakes)),
            ));
        }
        for (shape, ours, _) in &self.side_by_side {
            let peak = ours.iter().filter_map(|s| s.provider_peak_rss_kib).max();
            rows.push(Row::new(
                format!(
                    "provider peak RSS, apply {} (highest of the rounds)",
                    shape.describe()
                ),
                peak.map_or_else(
                    || "not seen".to_owned(),
                    |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
                ),
            ));
        }
        rows
    }

    /// Apply of the largest database shape against `terraform_data` holding as much state.
    fn equal_state_row(&self) -> Option<Row> {
        let (shape, references) = self.equal_state.as_ref()?;
        let (_, ours, _) = self.side_by_side.iter().find(|(s, _, _)| s == shape)?;
        if references.is_empty() {
            return None;
        }
        let (ours_apply, reference_apply) = (
            median_of(ours, |s| s.apply),
            median_of(references, |s| s.apply),
        );
        let per_instance = |samples: &[RoundSample]| {
            median(
                &samples
                    .iter()
                    .map(|s| usize::try_from(s.state_bytes).unwrap_or(usize::MAX))
                    .collect::<Vec<_>>(),
            ) / shape.resources().max(1)
        };
        Some(
            Row::new(
                format!(
                    "apply, {}, vs `terraform_data` with as much state ({} vs {} bytes per instance)",
                    shape.describe(),
                    thousands(per_instance(ours)),
                    thousands(per_instance(references)),
                ),
                seconds(ours_apply),
            )
            .reference(
                seconds(reference_apply),
                format!("{:.2}×", secs(ours_apply) / secs(reference_apply)),
            ),
        )
    }

    /// The table, in Markdown (which reads as well in a terminal).
    pub fn table(&self) -> String {
        let mut table = String::from(
            "| measure | dbaas | reference | ratio | target | met |\n|---|---:|---:|---:|---|---|\n",
        );
        for row in self.rows() {
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} | {} |",
                row.measure,
                row.value,
                row.reference,
                row.ratio,
                row.target,
                row.met.symbol()
            );
        }
        table
    }

    /// The whole report: what ran, the table, how each row is measured, every round.
    pub fn markdown(&self) -> String {
        let config = &self.config;
        let mut out = String::from("# make bench: Terraform at scale (issue 11)\n\n");
        let _ = writeln!(
            out,
            "- run: {} UTC, {}, took {}",
            chrono::Utc::now().format("%Y-%m-%d %H:%M"),
            git_commit(),
            minutes(self.took)
        );
        let _ = writeln!(
            out,
            "- {} at its default parallelism (10); provider `{}`",
            terraform_version(),
            provider_binary().display()
        );
        let _ = writeln!(
            out,
            "- machine: {} cores; dbaas-local in the bench process on 127.0.0.1:0, `--provision-delay 0s` for the apply and plan rows",
            cores()
        );
        let _ = writeln!(
            out,
            "- medians of {} alternating rounds (dbaas, terraform_data, dbaas, …); whole clients: {}; readiness: {}",
            config.rounds,
            rounds(config.client_rounds),
            rounds(config.readiness_rounds)
        );
        let _ = writeln!(
            out,
            "- reference: the same number of `terraform_data` in the same graph, same Terraform, same machine, same run\n"
        );
        out.push_str(&self.table());
        out.push_str(&format!(
            "\n{}\n\n## How each row is measured\n\n\
- **apply**: wall time of `terraform apply -auto-approve` into an empty state, in a fresh working \
directory with a fresh dbaas-local per round (no `init`: the provider comes from `dev_overrides`, \
`terraform_data` is built in). Clients are `examples/quickstart`'s six resources each: a database, a \
credential, two indexes, two IP restrictions. Terraform 1.15 copies its whole state after each \
resource it applies, so on both sides apply time grows with N² at thousands of resources, and \
with the bytes each instance adds to the state file (see the rounds: a `dbaas_database` holds about \
twice what a `terraform_data` does).\n\
- **apply, vs `terraform_data` with as much state**: the largest database row once more against \
`terraform_data` whose `input` is padded until the state file is as large as ours was in that \
round: Terraform's own cost of a larger state is then on both sides, and what is left of the ratio \
is the provider's (its RPCs, its requests, dbaas-local's CPU on the same machine).\n\
- **plan**: wall time of `terraform plan` (with its refresh) right after that apply, on its state. \
It should find nothing to change; a round whose plan did is marked in the rounds below.\n\
- **requests per plan**: entries in dbaas-local's request log during that plan (`DELETE \
/v1/_admin/requests` just before, `GET` after, the bench's own admin calls left out). The log \
keeps {} entries; \"≥\" means it was full.\n\
- **readiness**: one `dbaas_database` against a fresh dbaas-local with that provisioning delay, \
the provider's defaults (the OVH rows: the OVH dialect, which offers only polling, at the cadence \
OVH asks for, no `poll_interval`). Detection delay = when the reply to the wait's last read (the \
one that said READY) left the service (`at` + `took_ms` in the request log) − when the create \
reached it (`at`); the reference column is the provisioning delay itself, the ratio column what \
the wait added to it. Status requests = the GETs after the create (nothing else in the \
configuration reads). The waits of one round run at the same time, each with its own service.\n\
- **provider start → handshake**: the release provider spawned as Terraform spawns it (magic \
cookie, protocol 6, a client certificate, so AutoMTLS is set up), until its handshake line on \
stdout.\n\
- **peak RSS**: the highest `VmHWM` (`/proc/<pid>/status`) of the provider processes Terraform \
started during the apply, read every 50 ms; highest over the rounds.\n",
            match &self.plot {
                Some(Ok(path)) => format!(
                    "Plot of apply time against N: `{}`.",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ),
                Some(Err(why)) => format!("No plot: {why}"),
                None => "No plot yet.".to_owned(),
            },
            thousands(REQUEST_LOG_CAPACITY),
        ));
        out.push_str("\n## Rounds\n\n");
        for (shape, ours, reference) in &self.side_by_side {
            let _ = writeln!(out, "- {}:", shape.describe());
            for (round, (ours, reference)) in ours.iter().zip(reference).enumerate() {
                let requests = ours.plan_requests.map_or(String::new(), |r| {
                    format!(", {} requests per plan", thousands(r.count))
                });
                let changes = if ours.plan_changes || reference.plan_changes {
                    " **(a plan after the apply wanted changes)**"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  - round {}: apply {} vs {} ({:.2}×), plan {} vs {}{requests}{changes}; state {} vs {} bytes",
                    round + 1,
                    seconds(ours.apply),
                    seconds(reference.apply),
                    secs(ours.apply) / secs(reference.apply),
                    seconds(ours.plan),
                    seconds(reference.plan),
                    byte_count(ours.state_bytes),
                    byte_count(reference.state_bytes),
                );
            }
        }
        if let Some((shape, references)) = &self.equal_state {
            let _ = writeln!(
                out,
                "- {}, against `terraform_data` with as much state:",
                shape.describe()
            );
            for (round, reference) in references.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  - round {}: apply {}, state {} bytes",
                    round + 1,
                    seconds(reference.apply),
                    byte_count(reference.state_bytes),
                );
            }
        }
        for (api, delay, samples) in &self.readiness {
            let _ = writeln!(
                out,
                "- readiness, provisioning {}{}:",
                seconds_short(*delay),
                api.label()
            );
            for (round, sample) in samples.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  - round {}: detected after {}, {} status requests, {} requests in the apply, apply {}",
                    round + 1,
                    seconds(sample.detection),
                    sample.status_requests,
                    sample.apply_requests,
                    seconds(sample.apply)
                );
            }
        }
        if let (Some(fastest), Some(slowest)) =
            (self.handshakes.iter().min(), self.handshakes.iter().max())
        {
            let _ = writeln!(
                out,
                "- handshake: fastest {}, slowest {}",
                millis(*fastest),
                millis(*slowest)
            );
        }
        out
    }

    /// Writes `apply.csv`, `apply.png` (when matplotlib is there) and `report.md` into the
    /// configured directory.
    pub fn write(&mut self) {
        let dir = self.config.out_dir.clone();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let csv = dir.join("apply.csv");
        std::fs::write(&csv, self.apply_csv())
            .unwrap_or_else(|e| panic!("write {}: {e}", csv.display()));
        self.plot = Some(self.draw_plot(&csv, &dir.join("apply.png")));
        let report = dir.join("report.md");
        std::fs::write(&report, self.markdown())
            .unwrap_or_else(|e| panic!("write {}: {e}", report.display()));
    }

    /// One line per shape: label, resources, median apply seconds of each side.
    pub fn apply_csv(&self) -> String {
        let mut csv = String::from("label,resources,dbaas_seconds,terraform_data_seconds\n");
        for (shape, ours, reference) in &self.side_by_side {
            let _ = writeln!(
                csv,
                "{},{},{:.3},{:.3}",
                shape.describe().replace(',', ""),
                shape.resources(),
                secs(median_of(ours, |s| s.apply)),
                secs(median_of(reference, |s| s.apply)),
            );
        }
        csv
    }

    /// Runs `scripts/bench_plot.py` with the matplotlib `make tools` installs.
    fn draw_plot(&self, csv: &Path, png: &Path) -> Result<PathBuf, String> {
        let python = plot_python();
        if !python.exists() {
            return Err(format!(
                "{} is missing: `make tools` installs matplotlib there",
                python.display()
            ));
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_plot.py");
        let title = format!(
            "terraform apply, medians of {} rounds — {}",
            self.config.rounds,
            git_commit()
        );
        let output = Command::new(&python)
            .arg(&script)
            .arg(csv)
            .arg(png)
            .arg(title)
            .output()
            .map_err(|e| format!("{} did not run: {e}", python.display()))?;
        if output.status.success() {
            Ok(png.to_path_buf())
        } else {
            Err(format!(
                "bench_plot.py failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }
}

/// The median of one duration of each sample.
fn median_of<T>(samples: &[T], duration: impl Fn(&T) -> Duration) -> Duration {
    median_duration(&samples.iter().map(duration).collect::<Vec<_>>())
}

/// The median; of an even number, the mean of the middle two.
fn median_duration(durations: &[Duration]) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if !n.is_multiple_of(2) => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// The median of counts; of an even number, the lower middle one (a count stays whole).
fn median(counts: &[usize]) -> usize {
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// "1 round", "3 rounds".
fn rounds(count: usize) -> String {
    if count == 1 {
        "1 round".to_owned()
    } else {
        format!("{count} rounds")
    }
}

/// `1234567` bytes as "1,234,567".
fn byte_count(bytes: u64) -> String {
    thousands(usize::try_from(bytes).unwrap_or(usize::MAX))
}

/// "12.34 s".
pub fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

/// "10 s", "0.5 s": a configured delay as it was given.
fn seconds_short(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

/// "26.0 ms" below a second, "4.44 s" from there on.
fn short_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        millis(duration)
    } else {
        seconds(duration)
    }
}

/// "4.2 ms".
fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// "12 min 34 s".
fn minutes(duration: Duration) -> String {
    let total = duration.as_secs();
    format!("{} min {:02} s", total / 60, total % 60)
}

/// `commit abc1234`, with a note when the work tree has changes beyond it.
fn git_commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|changes| !changes.is_empty());
            format!(
                "commit {commit}{}",
                if dirty { " + uncommitted changes" } else { "" }
            )
        }
        None => "commit unknown".to_owned(),
    }
}

/// The first line of `terraform version`.
fn terraform_version() -> String {
    Command::new(terraform_binary())
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .ok()
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Terraform (version unknown)".to_owned())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
