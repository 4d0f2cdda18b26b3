//! The measurements: one Terraform apply and plan of a configuration shape (ours or the
//! `terraform_data` reference), one wait for readiness, one provider start.

use std::collections::HashMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use dbaas::tfplugin::serve::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use serde_json::Value as Json;

use super::provider_binary;
use crate::support::{
    LocalService, OVH_APPLICATION_KEY, OVH_SERVICE_NAME, Workspace, fold_whitespace,
};

/// dbaas-local's request log keeps this many entries (`REQUEST_LOG_CAPACITY`): a count that
/// reaches it may have lost the oldest requests, and is reported as "at least".
pub const REQUEST_LOG_CAPACITY: usize = 10_000;

/// How often the provider processes' peak RSS is read while Terraform runs.
const RSS_SAMPLE_EVERY: Duration = Duration::from_millis(50);

const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false", "-no-color"];
/// `-detailed-exitcode`: 2 says the plan after an apply was not empty, which the report flags.
const PLAN: &[&str] = &["plan", "-input=false", "-no-color", "-detailed-exitcode"];

/// A configuration measured side by side with the same number of `terraform_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// This many `dbaas_database`, nothing else.
    Databases(usize),
    /// This many clients, each a database, a credential, two indexes and two IP
    /// restrictions (`examples/quickstart`'s six resources).
    Clients(usize),
}

/// Resources of one client in [`Shape::Clients`].
pub const RESOURCES_PER_CLIENT: usize = 6;

impl Shape {
    /// How many resources the configuration has.
    pub fn resources(self) -> usize {
        match self {
            Self::Databases(count) => count,
            Self::Clients(clients) => clients * RESOURCES_PER_CLIENT,
        }
    }

    /// "1,000 databases", "6,000 resources (1,000 clients)".
    pub fn describe(self) -> String {
        match self {
            Self::Databases(1) => "1 database".to_owned(),
            Self::Databases(count) => format!("{} databases", thousands(count)),
            Self::Clients(clients) => format!(
                "{} resources ({} clients)",
                thousands(self.resources()),
                thousands(clients)
            ),
        }
    }

    /// The provider's configuration (the `required_providers` block is added by `Workspace`).
    fn dbaas_config(self) -> String {
        match self {
            Self::Databases(count) => database_block("dbaas_database", count, "name"),
            Self::Clients(clients) => format!(
                r#"{database}
resource "dbaas_credential" "app" {{
  count       = {clients}
  database_id = dbaas_database.client[count.index].id
  username    = "app"
  roles       = ["readWrite@orders"]
}}

resource "dbaas_collection_index" "orders_by_customer" {{
  count       = {clients}
  database_id = dbaas_database.client[count.index].id
  collection  = "orders"
  keys        = [{{ field = "customer_id" }}, {{ field = "created_at", direction = "desc" }}]
}}

resource "dbaas_collection_index" "customers_by_email" {{
  count       = {clients}
  database_id = dbaas_database.client[count.index].id
  collection  = "customers"
  keys        = [{{ field = "email" }}]
  unique      = true
}}

resource "dbaas_ip_restriction" "office" {{
  count       = {clients}
  database_id = dbaas_database.client[count.index].id
  cidr        = "198.51.100.0/24"
  description = "office"
}}

resource "dbaas_ip_restriction" "ci" {{
  count       = {clients}
  database_id = dbaas_database.client[count.index].id
  cidr        = "203.0.113.7"
  description = "ci"
}}
"#,
                database = database_block("dbaas_database", clients, "name"),
            ),
        }
    }

    /// The same graph in `terraform_data`: as many resources, the children depending on
    /// their client's first resource the way ours depend on the database's id.
    fn reference_config(self) -> String {
        self.padded_reference_config(0)
    }

    /// [`Shape::reference_config`] with `padding` more characters in each database's `input`
    /// (which `terraform_data` stores twice, as `input` and `output`).
    fn padded_reference_config(self, padding: usize) -> String {
        match self {
            Self::Databases(count) => {
                padded_database_block("terraform_data", count, "input", padding)
            }
            Self::Clients(clients) => {
                let mut config = database_block("terraform_data", clients, "input");
                for child in [
                    "app",
                    "orders_by_customer",
                    "customers_by_email",
                    "office",
                    "ci",
                ] {
                    config.push_str(&format!(
                        "\nresource \"terraform_data\" \"{child}\" {{\n  count = {clients}\n  input = terraform_data.client[count.index].id\n}}\n"
                    ));
                }
                config
            }
        }
    }
}

/// `count` resources `client` of `resource_type`, each named `client-<index>` in `attribute`.
fn database_block(resource_type: &str, count: usize, attribute: &str) -> String {
    padded_database_block(resource_type, count, attribute, 0)
}

/// [`database_block`] with `padding` more characters after each name.
fn padded_database_block(
    resource_type: &str,
    count: usize,
    attribute: &str,
    padding: usize,
) -> String {
    let pad = if padding == 0 {
        String::new()
    } else {
        format!("-{}", "x".repeat(padding))
    };
    format!(
        "resource \"{resource_type}\" \"client\" {{\n  count = {count}\n  {attribute} = \"client-${{count.index}}{pad}\"\n}}\n"
    )
}

/// `1234567` as "1,234,567".
pub fn thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// One round of one side of a side-by-side row.
#[derive(Debug, Clone)]
pub struct RoundSample {
    /// Wall time of `terraform apply` into an empty state.
    pub apply: Duration,
    /// Wall time of `terraform plan` (with its refresh) right after.
    pub plan: Duration,
    /// Requests the service received during that plan (ours only).
    pub plan_requests: Option<RequestCount>,
    /// Whether that plan wanted changes (it should not: the report flags it).
    pub plan_changes: bool,
    /// Highest VmHWM of the provider processes Terraform started during the apply, KiB
    /// (`None` for the reference, where Terraform starts none).
    pub provider_peak_rss_kib: Option<u64>,
    /// Size of `terraform.tfstate` after the apply: Terraform rewrites the whole file after
    /// each resource, so its apply time grows with this.
    pub state_bytes: u64,
}

/// A number of logged requests, and whether the log was full (then it is a lower bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCount {
    /// Requests logged, the bench's own admin calls left out.
    pub count: usize,
    /// The log reached its capacity: older requests may have been dropped.
    pub log_full: bool,
}

/// Applies and plans `shape` with the provider, against a fresh dbaas-local at
/// `--provision-delay 0s`, in a fresh working directory.
pub fn measure_dbaas(shape: Shape) -> RoundSample {
    let service = LocalService::start(Duration::ZERO);
    let work = Workspace::new(&service);
    work.write(&shape.dbaas_config());
    let apply = run_timed(&work, APPLY, &shape.describe());
    clear_requests(&service);
    let plan = run_timed(&work, PLAN, &shape.describe());
    let (requests, log_full) = logged_requests(&service);
    RoundSample {
        apply: apply.elapsed,
        plan: plan.elapsed,
        plan_requests: Some(RequestCount {
            count: requests.len(),
            log_full,
        }),
        plan_changes: plan.exit_code == 2,
        provider_peak_rss_kib: apply.provider_peak_rss_kib,
        state_bytes: apply.state_bytes,
    }
}

/// Applies and plans the `terraform_data` version of `shape` in a fresh working directory.
pub fn measure_reference(shape: Shape) -> RoundSample {
    measure_padded_reference(shape, 0)
}

/// [`measure_reference`] with each database's `input` made longer until the state holds
/// about `state_bytes`, as the provider's did (Terraform's own cost for that much state).
pub fn measure_equal_state_reference(
    shape: Shape,
    state_bytes: u64,
    plain: &RoundSample,
) -> RoundSample {
    let instances = shape.resources().max(1) as u64;
    // Each character more in `input` is two more bytes per instance (`input` and `output`).
    let padding = state_bytes.saturating_sub(plain.state_bytes) / instances / 2;
    measure_padded_reference(shape, usize::try_from(padding).unwrap_or(usize::MAX))
}

fn measure_padded_reference(shape: Shape, padding: usize) -> RoundSample {
    // No service is reached: terraform_data is built into Terraform.
    let work = Workspace::for_endpoint("http://127.0.0.1:9");
    // Written as is, without `required_providers`, so Terraform starts no provider at all.
    std::fs::write(
        work.path().join("main.tf"),
        shape.padded_reference_config(padding),
    )
    .expect("write main.tf");
    let apply = run_timed(&work, APPLY, &shape.describe());
    let plan = run_timed(&work, PLAN, &shape.describe());
    RoundSample {
        apply: apply.elapsed,
        plan: plan.elapsed,
        plan_requests: None,
        plan_changes: plan.exit_code == 2,
        provider_peak_rss_kib: apply.provider_peak_rss_kib,
        state_bytes: apply.state_bytes,
    }
}

/// What one timed Terraform command came to.
struct Timed {
    /// From spawn to exit.
    elapsed: Duration,
    /// 0, or 2 for a plan with changes.
    exit_code: i32,
    /// See [`RoundSample::provider_peak_rss_kib`].
    provider_peak_rss_kib: Option<u64>,
    /// See [`RoundSample::state_bytes`].
    state_bytes: u64,
}

/// Runs Terraform with `args`, timing it and sampling its provider processes' peak RSS;
/// panics with the tail of its output if it fails (a failed run measures nothing).
fn run_timed(work: &Workspace, args: &[&str], what: &str) -> Timed {
    let started = Instant::now();
    let child = work.spawn(args);
    let terraform = child.id();
    let done = AtomicBool::new(false);
    let (output, elapsed, peak) = std::thread::scope(|scope| {
        // Sampled on both sides alike, so the sampling's own cost is in both times of a ratio.
        let sampler = scope.spawn(|| sample_provider_peak_rss(terraform, &done));
        let output = child.wait_with_output().expect("terraform runs");
        let elapsed = started.elapsed();
        done.store(true, Ordering::Relaxed);
        (output, elapsed, sampler.join().expect("the RSS sampler"))
    });
    let exit_code = output.status.code().unwrap_or(-1);
    let plan_with_changes = args[0] == "plan" && exit_code == 2;
    assert!(
        exit_code == 0 || plan_with_changes,
        "terraform {} of {what} failed (exit {exit_code}):\n{}",
        args[0],
        output_tail(&output)
    );
    let state_bytes = std::fs::metadata(work.path().join("terraform.tfstate"))
        .map_or(0, |metadata| metadata.len());
    Timed {
        elapsed,
        exit_code,
        provider_peak_rss_kib: peak,
        state_bytes,
    }
}

/// The last lines of a command's stdout and stderr: enough to see why it failed, not the
/// thousands of "Creating..." lines before.
fn output_tail(output: &Output) -> String {
    let tail = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    format!(
        "--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
        tail(&output.stdout),
        tail(&output.stderr)
    )
}

/// Until `done`, every [`RSS_SAMPLE_EVERY`]: the highest VmHWM (the kernel's own peak of
/// resident memory) of any provider process below `terraform`. Terraform starts the provider
/// more than once per command; the highest of them is the peak. What a process adds in its
/// last sampling interval before it exits is missed.
fn sample_provider_peak_rss(terraform: u32, done: &AtomicBool) -> Option<u64> {
    let provider = std::fs::canonicalize(provider_binary()).ok();
    let mut peak_by_pid: HashMap<u32, u64> = HashMap::new();
    loop {
        let last = done.load(Ordering::Relaxed);
        if let Some(provider) = &provider {
            for pid in descendants_running(terraform, provider) {
                if let Some(kib) = vm_hwm_kib(pid) {
                    let peak = peak_by_pid.entry(pid).or_default();
                    *peak = (*peak).max(kib);
                }
            }
        }
        if last {
            break;
        }
        std::thread::sleep(RSS_SAMPLE_EVERY);
    }
    peak_by_pid.values().copied().max()
}

/// Processes running `exe` whose parent, or an ancestor, is `ancestor` (Terraform's wrapper
/// may be a script that starts the real binary).
fn descendants_running(ancestor: u32, exe: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: HashMap<u32, u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent_pid(pid)?)))
        .collect();
    parents
        .keys()
        .copied()
        .filter(|&pid| {
            let mut current = pid;
            for _ in 0..8 {
                match parents.get(&current) {
                    Some(&parent) if parent == ancestor => return true,
                    Some(&parent) if parent > 1 => current = parent,
                    _ => return false,
                }
            }
            false
        })
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|running| running == exe)
        })
        .collect()
}

/// The parent of `pid`, from `/proc/<pid>/stat` (the field after the parenthesised name,
/// which may itself hold spaces and parentheses).
fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// `VmHWM` of `/proc/<pid>/status`, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Empties the service's request log.
fn clear_requests(service: &LocalService) {
    let (status, body) = service.call("DELETE", "/v1/_admin/requests", None);
    assert_eq!(status, 200, "clear the request log: {body}");
}

/// The request log without the bench's own admin calls, oldest first, and whether it was full.
fn logged_requests(service: &LocalService) -> (Vec<Json>, bool) {
    let (status, body) = service.call("GET", "/v1/_admin/requests", None);
    assert_eq!(status, 200, "read the request log: {body}");
    let entries = body["requests"].as_array().cloned().unwrap_or_default();
    let full = entries.len() >= REQUEST_LOG_CAPACITY;
    let requests = entries
        .into_iter()
        .filter(|entry| {
            !entry["path"]
                .as_str()
                .unwrap_or_default()
                .starts_with("/v1/_admin/")
        })
        .collect();
    (requests, full)
}

/// The API a readiness row waits through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessApi {
    /// dbaas-local's native API, with the provider's defaults.
    Native,
    /// The OVH dialect, which offers nothing but polling, at the cadence OVH asks for.
    Ovh,
}

impl ReadinessApi {
    /// How the report labels its rows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Native => "",
            Self::Ovh => " (OVH dialect, polling only)",
        }
    }

    /// One database; the provider block of the OVH dialect sets no `poll_interval`, so the
    /// provider polls as it would at OVH.
    fn config(self, service: &LocalService) -> String {
        match self {
            Self::Native => r#"resource "dbaas_database" "client" {
  name = "client-ready"
  timeouts {
    create = "10m"
  }
}
"#
            .to_string(),
            Self::Ovh => format!(
                r#"provider "dbaas" {{
  ovh {{
    endpoint        = "{}/ovh/1.0"
    application_key = "{OVH_APPLICATION_KEY}"
    service_name    = "{OVH_SERVICE_NAME}"
  }}
}}

resource "dbaas_database" "client" {{
  name       = "client-ready"
  plan       = "essential"
  flavor     = "db1-4"
  region     = "GRA"
  node_count = 1
  timeouts {{
    create = "10m"
  }}
}}
"#,
                service.base_url()
            ),
        }
    }

    /// Whether a logged request is the create of the database.
    fn is_create(self, entry: &Json) -> bool {
        let path = entry["path"].as_str().unwrap_or_default();
        entry["method"] == "POST"
            && entry["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
            && match self {
                Self::Native => path == "/v1/databases",
                Self::Ovh => path.ends_with("/database/mongodb"),
            }
    }
}

/// One wait for a database to become READY.
#[derive(Debug, Clone)]
pub struct ReadinessSample {
    /// When the reply to the last read of the wait (the one that said READY) left the
    /// service, minus when the create reached it; both from the service's request log.
    pub detection: Duration,
    /// GETs after the create: the wait's reads (nothing else in the configuration reads).
    pub status_requests: usize,
    /// Every request of the apply, configuration and create included.
    pub apply_requests: usize,
    /// Wall time of the whole `terraform apply`.
    pub apply: Duration,
}

/// Applies one database against a fresh service whose databases take `delay` to provision.
pub fn measure_readiness(api: ReadinessApi, delay: Duration) -> ReadinessSample {
    let service = match api {
        ReadinessApi::Native => LocalService::start(delay),
        ReadinessApi::Ovh => LocalService::start_with_ovh(delay),
    };
    let mut work = Workspace::new(&service);
    if api == ReadinessApi::Ovh {
        work.ovh_env();
    }
    work.write(&api.config(&service));
    clear_requests(&service);
    let what = format!("one database provisioned in {delay:?}{}", api.label());
    let apply = run_timed(&work, APPLY, &what);
    let (requests, _) = logged_requests(&service);
    let described = || fold_whitespace(&format!("{requests:?}"));
    let create = requests
        .iter()
        .position(|entry| api.is_create(entry))
        .unwrap_or_else(|| panic!("{what}: no create in the request log: {}", described()));
    let reads: Vec<&Json> = requests[create + 1..]
        .iter()
        .filter(|entry| entry["method"] == "GET")
        .collect();
    let ready = reads
        .last()
        .unwrap_or_else(|| panic!("{what}: no read after the create: {}", described()));
    let detection = answered_at(ready) - arrived_at(&requests[create]);
    ReadinessSample {
        detection: detection.to_std().unwrap_or_default(),
        status_requests: reads.len(),
        apply_requests: requests.len(),
        apply: apply.elapsed,
    }
}

/// When a logged request reached the service.
fn arrived_at(entry: &Json) -> DateTime<FixedOffset> {
    let at = entry["at"].as_str().unwrap_or_default();
    DateTime::parse_from_rfc3339(at).unwrap_or_else(|e| panic!("request log `at` {at:?}: {e}"))
}

/// When the reply to a logged request left the service: its arrival plus `took_ms`.
fn answered_at(entry: &Json) -> DateTime<FixedOffset> {
    let took_ms = entry["took_ms"].as_i64().unwrap_or_else(|| {
        panic!("the request log has no took_ms (a dbaas-local older than this bench?): {entry}")
    });
    arrived_at(entry) + chrono::Duration::milliseconds(took_ms)
}

/// A client certificate like the one Terraform passes in `PLUGIN_CLIENT_CERT`, so the
/// provider sets up AutoMTLS as it does under Terraform.
pub fn terraform_like_client_cert() -> String {
    rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("a self-signed client certificate")
        .cert
        .pem()
}

/// From spawning the provider as Terraform does (magic cookie, protocol 6, AutoMTLS) to its
/// handshake line on stdout; the provider is killed right after.
pub fn handshake_time(provider: &Path, client_cert_pem: &str) -> Duration {
    let socket_dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let mut child = Command::new(provider)
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", client_cert_pem)
        .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir.path())
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the provider starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the handshake");
    let elapsed = started.elapsed();
    // Killed by its own pid: it would otherwise serve until Terraform shut it down.
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("1|6|unix|"),
        "not a go-plugin handshake line: {line:?}"
    );
    elapsed
}

/// Where the plot's Python is: `BENCH_PYTHON`, else the venv `make tools` installs.
pub fn plot_python() -> PathBuf {
    match std::env::var("BENCH_PYTHON") {
        Ok(python) if !python.is_empty() => PathBuf::from(python),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/plot/bin/python"),
    }
}
