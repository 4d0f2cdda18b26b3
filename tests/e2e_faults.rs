//! Nothing lost under faults, end to end. dbaas-local injects faults into creates (the work done
//! and the reply lost, the work done and a 5xx sent, the connection reset before any work, a
//! 503 before any work), the real Terraform applies, and then at most one more apply must
//! converge to a service that holds exactly what the state holds: no orphan, no duplicate, no
//! lost state entry, nothing replaced, no secret in the trace log. The same over the native API,
//! the OVH dialect and the Compose dialect. Also: Ctrl-C and SIGTERM while databases are still
//! provisioning, a provider killed mid-apply, dbaas-local killed and restarted mid-apply, and
//! databases the API leaves failed or stuck.
//!
//! `make test` runs a reduced matrix (3 clients; lost reply, 5xx after the work and reset on every
//! create, one fault per apply); `make faults` sets `DBAAS_FAULTS_FULL=1`: 13 clients (52 resources per
//! apply), every fault on every create, one fault per client, and one table with the totals.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{
    COMPOSE_ACCOUNT, COMPOSE_DEPLOYMENT, LocalService, OVH_SERVICE_NAME, TOKEN, Workspace, text,
};

const DELAY: Duration = Duration::from_millis(200);

/// The provider block for the native API (endpoint and token come from the environment).
const NATIVE_PROVIDER: &str = "provider \"dbaas\" {\n  poll_interval = \"200ms\"\n}\n";

/// The API a case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Native,
    Ovh,
    Compose,
}

/// The four creates a fault can hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Database,
    Credential,
    Index,
    IpRestriction,
}

const KINDS: [Kind; 4] = [
    Kind::Database,
    Kind::Credential,
    Kind::Index,
    Kind::IpRestriction,
];

impl Kind {
    fn resource_type(self) -> &'static str {
        match self {
            Kind::Database => "dbaas_database",
            Kind::Credential => "dbaas_credential",
            Kind::Index => "dbaas_collection_index",
            Kind::IpRestriction => "dbaas_ip_restriction",
        }
    }
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Native => "native",
            Api::Ovh => "ovh",
            Api::Compose => "compose",
        }
    }

    fn kinds(self) -> &'static [Kind] {
        match self {
            Api::Native => &KINDS,
            Api::Ovh => &[Kind::Database, Kind::Credential, Kind::IpRestriction],
            Api::Compose => &[Kind::Database, Kind::Credential],
        }
    }

    fn provider_block(self, service: &LocalService) -> String {
        match self {
            Api::Native => NATIVE_PROVIDER.to_string(),
            Api::Ovh => service.ovh_provider_block("ip_restriction_api = \"legacy\""),
            Api::Compose => service.compose_provider_block(""),
        }
    }

    fn workspace(self, service: &LocalService) -> Workspace {
        let mut work = Workspace::new(service);
        match self {
            Api::Native => {}
            Api::Ovh => work.ovh_env(),
            Api::Compose => work.vendor_env(),
        }
        work
    }

    /// The path of `kind`'s create for the database `database` (its id at this API), or of
    /// the database create.
    fn create_path(self, kind: Kind, database: &str) -> String {
        let ovh = format!("/ovh/1.0/cloud/project/{OVH_SERVICE_NAME}/database/mongodb");
        let compose =
            format!("/compose/deployments/{COMPOSE_ACCOUNT}/{COMPOSE_DEPLOYMENT}/mongodb");
        match (self, kind) {
            (Api::Native, Kind::Database) => "/v1/databases".to_string(),
            (Api::Native, Kind::Credential) => format!("/v1/databases/{database}/credentials"),
            (Api::Native, Kind::Index) => {
                format!("/v1/databases/{database}/collections/orders/indexes")
            }
            (Api::Native, Kind::IpRestriction) => {
                format!("/v1/databases/{database}/ip-restrictions")
            }
            (Api::Ovh, Kind::Database) => ovh,
            (Api::Ovh, Kind::Credential) => format!("{ovh}/{database}/user"),
            (Api::Ovh, Kind::IpRestriction) => format!("{ovh}/{database}/ipRestriction"),
            (Api::Compose, Kind::Database) => format!("{compose}/{database}/collections"),
            (Api::Compose, Kind::Credential) => format!("{compose}/{database}/users"),
            (api, kind) => panic!("{api:?} has no {kind:?}"),
        }
    }

    /// `clients` clients: each a database and, with `children`, a user, an index and an IP
    /// restriction where the API has them.
    fn configuration(self, provider_block: &str, clients: usize, children: bool) -> String {
        let mut text = provider_block.to_string();
        for client in 0..clients {
            let database = match self {
                Api::Ovh => {
                    "plan = \"essential\"\n  flavor = \"db1-4\"\n  region = \"GRA\"\n  node_count = 1"
                }
                _ => "",
            };
            write!(
                text,
                "\nresource \"dbaas_database\" \"c{client}\" {{\n  name = \"client-{client}\"\n  {database}\n}}\n"
            )
            .unwrap();
            if !children {
                continue;
            }
            for kind in self.kinds() {
                let body = match kind {
                    Kind::Database => continue,
                    Kind::Credential => format!(
                        "username = \"app\"\n  roles = [\"readWrite@client-{client}\"]"
                    ),
                    Kind::Index => "collection = \"orders\"\n  keys = [{ field = \"customer\", direction = \"asc\" }]".to_string(),
                    Kind::IpRestriction => format!(
                        "cidr = \"10.{client}.0.0/16\"\n  description = \"office of client {client}\""
                    ),
                };
                write!(
                    text,
                    "\nresource \"{}\" \"c{client}\" {{\n  database_id = dbaas_database.c{client}.id\n  {body}\n}}\n",
                    kind.resource_type()
                )
                .unwrap();
            }
        }
        text
    }
}

/// Calls dbaas-local's native and admin API: the in-process service or a process of its own.
type Call<'a> = &'a dyn Fn(&str, &str, Option<Json>) -> (u16, Json);

/// What the service holds, kind by kind, keyed by names (database name, then the child's key),
/// so that ids of every dialect compare.
fn service_objects(api: Api, call: Call<'_>) -> BTreeMap<Kind, Vec<String>> {
    let mut objects: BTreeMap<Kind, Vec<String>> = BTreeMap::new();
    let (status, body) = call("GET", "/v1/databases", None);
    assert_eq!(status, 200, "{body}");
    for database in body["databases"].as_array().unwrap() {
        let id = database["id"].as_str().unwrap();
        let name = database["name"].as_str().unwrap();
        objects
            .entry(Kind::Database)
            .or_default()
            .push(name.to_string());
        let (_, credentials) = call("GET", &format!("/v1/databases/{id}/credentials"), None);
        for credential in credentials["credentials"].as_array().into_iter().flatten() {
            let username = credential["username"].as_str().unwrap();
            if api == Api::Ovh && username == "admin" {
                continue; // OVH makes every service's `admin` user itself
            }
            objects
                .entry(Kind::Credential)
                .or_default()
                .push(format!("{name}/{username}"));
        }
        let (status, indexes) = call(
            "GET",
            &format!("/v1/databases/{id}/collections/orders/indexes"),
            None,
        );
        if status == 200 {
            for index in indexes["indexes"].as_array().into_iter().flatten() {
                let index = index["name"].as_str().unwrap();
                if index != "_id_" {
                    objects
                        .entry(Kind::Index)
                        .or_default()
                        .push(format!("{name}/orders/{index}"));
                }
            }
        }
        let (_, restrictions) = call("GET", &format!("/v1/databases/{id}/ip-restrictions"), None);
        for restriction in restrictions["ip_restrictions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let cidr = restriction["cidr"].as_str().unwrap();
            objects
                .entry(Kind::IpRestriction)
                .or_default()
                .push(format!("{name}/{cidr}"));
        }
    }
    sorted(objects)
}

/// Each kind's keys in order, duplicates kept: a duplicate must show.
fn sorted(mut objects: BTreeMap<Kind, Vec<String>>) -> BTreeMap<Kind, Vec<String>> {
    for keys in objects.values_mut() {
        keys.sort();
    }
    objects
}

/// What the state holds, keyed as [`service_objects`] keys it.
fn state_objects(work: &Workspace) -> BTreeMap<Kind, Vec<String>> {
    let show = work.show();
    let resources: Vec<Json> = show["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: BTreeMap<String, String> = resources
        .iter()
        .filter(|r| r["type"] == "dbaas_database")
        .map(|r| {
            (
                r["values"]["id"].as_str().unwrap().to_string(),
                r["values"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut objects: BTreeMap<Kind, Vec<String>> = BTreeMap::new();
    for resource in &resources {
        let values = &resource["values"];
        let database = |values: &Json| {
            names
                .get(values["database_id"].as_str().unwrap())
                .cloned()
                .unwrap_or_else(|| format!("unknown database {}", values["database_id"]))
        };
        let (kind, key) = match resource["type"].as_str().unwrap() {
            "dbaas_database" => (Kind::Database, values["name"].as_str().unwrap().to_string()),
            "dbaas_credential" => (
                Kind::Credential,
                format!(
                    "{}/{}",
                    database(values),
                    values["username"].as_str().unwrap()
                ),
            ),
            "dbaas_collection_index" => (
                Kind::Index,
                format!(
                    "{}/{}/{}",
                    database(values),
                    values["collection"].as_str().unwrap(),
                    values["name"].as_str().unwrap()
                ),
            ),
            "dbaas_ip_restriction" => (
                Kind::IpRestriction,
                format!("{}/{}", database(values), values["cidr"].as_str().unwrap()),
            ),
            other => panic!("unexpected resource type {other}"),
        };
        objects.entry(kind).or_default().push(key);
    }
    objects
}

/// The passwords in the state, to look for in logs.
fn state_passwords(work: &Workspace) -> Vec<String> {
    let show = work.show();
    show["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["values"]["password"].as_str().map(str::to_string))
        .collect()
}

/// The checks after convergence: the plan is empty, the service holds what the state holds,
/// nothing was deleted (replaced), no secret is in the logs.
fn assert_nothing_lost(
    api: Api,
    case: &str,
    call: Call<'_>,
    work: &Workspace,
    clients: usize,
    logs: &[&str],
) {
    let (code, plan) = work.plan_exit_code();
    assert_eq!(
        code,
        0,
        "{case}: the plan after convergence must be empty:\n{}",
        text(&plan)
    );
    let state = state_objects(work);
    let service = service_objects(api, call);
    assert_eq!(
        state.get(&Kind::Database).map_or(0, Vec::len),
        clients,
        "{case}: every database in the state"
    );
    assert_eq!(
        service, state,
        "{case}: the service and the state differ (an orphan, a duplicate or a lost entry)"
    );
    let (_, requests) = call("GET", "/v1/_admin/requests", None);
    let deletes: Vec<&Json> = requests["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["method"] == "DELETE" && !r["path"].as_str().unwrap().starts_with("/v1/_admin")
        })
        .collect();
    assert!(
        deletes.is_empty(),
        "{case}: something was replaced: {deletes:?}"
    );
    let passwords = state_passwords(work);
    for log in logs {
        assert!(!log.contains(TOKEN), "{case}: the token appears in a log");
        for password in &passwords {
            assert!(
                !log.contains(password.as_str()),
                "{case}: a password appears in a log"
            );
        }
    }
}

/// One row of the table.
struct Row {
    api: Api,
    kind: Kind,
    fault: &'static str,
    injected: usize,
    outcome: &'static str,
    applies: usize,
}

/// The faults of the matrix: (label, fault fields). The reduced matrix takes the first three:
/// the work done and the reply lost, the work done and a 5xx, a reset before any work.
fn faults() -> Vec<(&'static str, Json)> {
    vec![
        ("lost reply", json!({"when": "after", "action": "drop"})),
        (
            "502 after work",
            json!({"when": "after", "action": "status", "status": 502}),
        ),
        (
            "reset before work",
            json!({"when": "before", "action": "drop"}),
        ),
        (
            "500 after work",
            json!({"when": "after", "action": "status", "status": 500}),
        ),
        (
            "503 before work",
            json!({"when": "before", "action": "status", "status": 503}),
        ),
    ]
}

fn apply(work: &Workspace) -> Output {
    work.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
}

/// Injects `fault` into `kind`'s creates in an apply of `clients` clients at `api` (into
/// `per_apply` of them: one per client, or one), then checks that nothing was lost.
fn run_case(
    api: Api,
    kind: Kind,
    label: &'static str,
    fault: &Json,
    clients: usize,
    per_apply: usize,
) -> Row {
    let case = format!("{} / {kind:?} / {label}", api.name());
    let service = LocalService::start_with_dialects(DELAY);
    let mut work = api.workspace(&service);
    let trace = work.path().join("trace.log");
    work.env("TF_LOG", "trace");
    work.env("TF_LOG_PATH", trace.to_str().unwrap());

    let mut rules = Vec::new();
    if kind == Kind::Database {
        work.write(&api.configuration(&api.provider_block(&service), clients, true));
        for client in 0..per_apply {
            let database = format!("client-{client}");
            let mut rule = fault.clone();
            if api == Api::Compose {
                rule["path_prefix"] = json!(api.create_path(kind, &database));
            } else {
                // One path for every database create: hit `per_apply` of them, past the first.
                rule["path_prefix"] = json!(api.create_path(kind, ""));
                rule["skip"] = json!(1);
                rule["count"] = json!(per_apply);
                rules.push(rule);
                break;
            }
            rule["count"] = json!(1);
            rules.push(rule);
        }
    } else {
        // Children: their databases exist first, so each fault names its database's path.
        work.write(&api.configuration(&api.provider_block(&service), clients, false));
        work.apply();
        let ids: BTreeMap<String, String> = state_ids(&work);
        work.write(&api.configuration(&api.provider_block(&service), clients, true));
        for client in 0..per_apply {
            let id = &ids[&format!("client-{client}")];
            let mut rule = fault.clone();
            rule["path_prefix"] = json!(api.create_path(kind, id));
            rule["count"] = json!(1);
            rules.push(rule);
        }
    }
    for mut rule in rules {
        rule["method"] = json!("POST");
        let (status, body) = service.call("POST", "/v1/_admin/faults", Some(rule.clone()));
        assert_eq!(status, 200, "{case}: arming {rule}: {body}");
    }
    let first = apply(&work);
    if std::env::var("DEBUG_FAULTS").is_ok() {
        eprintln!("{case}:\n{}", text(&first));
    }
    let (_, pending) = service.call("GET", "/v1/_admin/faults", None);
    let pending = pending["faults"].as_array().map_or(0, Vec::len);
    assert_eq!(pending, 0, "{case}: a fault never fired:\n{}", text(&first));
    let (_, requests) = service.call("GET", "/v1/_admin/requests", None);
    let injected = requests["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["fault"].is_string())
        .count();
    assert!(
        injected >= per_apply,
        "{case}: {injected} faults fired, {per_apply} armed"
    );
    service.call("DELETE", "/v1/_admin/faults", None);
    let mut applies = 1;
    let mut outputs = vec![text(&first)];
    if !first.status.success() {
        applies += 1;
        let second = apply(&work);
        assert!(
            second.status.success(),
            "{case}: the apply after the fault must converge.\nfirst:\n{}\nsecond:\n{}",
            text(&first),
            text(&second)
        );
        outputs.push(text(&second));
    }
    let log = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(log.len() > 1000, "{case}: the trace log was written");
    if std::env::var("DEBUG_FAULTS").is_ok() {
        for line in log.lines().filter(|l| {
            l.contains("dbaas")
                && (l.contains("/user") || l.contains("looking") || l.contains("retrying"))
        }) {
            eprintln!("{}", &line[..line.len().min(400)]);
        }
    }
    let mut logs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    logs.push(&log);
    let call = |method: &str, path: &str, body: Option<Json>| service.call(method, path, body);
    assert_nothing_lost(api, &case, &call, &work, clients, &logs);
    let outcome = if !first.status.success() {
        "failed, nothing lost; next apply converged"
    } else if text(&first).contains("Adopted After an Unclear Create") {
        "ok: adopted"
    } else {
        "ok: retried or replayed"
    };
    work.destroy();
    assert!(
        service.databases().is_empty(),
        "{case}: destroy left databases"
    );
    Row {
        api,
        kind,
        fault: label,
        injected,
        outcome,
        applies,
    }
}

/// Database ids in the state, by name.
fn state_ids(work: &Workspace) -> BTreeMap<String, String> {
    let show = work.show();
    show["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == "dbaas_database")
        .map(|r| {
            (
                r["values"]["name"].as_str().unwrap().to_string(),
                r["values"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn full() -> bool {
    std::env::var("DBAAS_FAULTS_FULL").is_ok_and(|v| v == "1")
}

fn print_table(title: &str, rows: &[Row], clients: usize) {
    let mut table = format!(
        "\n{title}\n\n| API | create | fault | faults injected | first apply | applies to converge |\n|---|---|---|---|---|---|\n"
    );
    for row in rows {
        writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} |",
            row.api.name(),
            row.kind.resource_type(),
            row.fault,
            row.injected,
            row.outcome,
            row.applies
        )
        .unwrap();
    }
    let injected: usize = rows.iter().map(|row| row.injected).sum();
    writeln!(
        table,
        "\nTotal: {injected} faults injected in {} faulty applies (configurations of {clients} \
         clients, up to {} resources); 0 orphans, 0 duplicates, 0 lost state entries, 0 \
         fault-caused replacements, 0 secrets in logs; every case converged within one more \
         apply ({} needed it).",
        rows.len(),
        clients * 4,
        rows.iter().filter(|row| row.applies > 1).count()
    )
    .unwrap();
    // The table goes to stderr (shown by `make faults`, which runs with --nocapture) and to
    // target/faults/, so a run leaves its report behind.
    eprintln!("{table}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/faults");
    std::fs::create_dir_all(&dir).unwrap();
    let file = title.to_lowercase().replace([' ', ','], "-");
    std::fs::write(dir.join(format!("{file}.md")), &table).unwrap();
}

/// The matrix: every API, every create it offers, the chosen faults; one table at the end.
#[test]
fn faults_every_api_every_create_loses_nothing() {
    let clients = if full() { 13 } else { 3 };
    let faults = faults();
    let chosen = if full() { faults.len() } else { 3 };
    let per_apply = if full() { clients } else { 1 };
    let mut rows = Vec::new();
    for api in [Api::Native, Api::Ovh, Api::Compose] {
        for &kind in api.kinds() {
            for (label, fault) in faults.iter().take(chosen) {
                rows.push(run_case(api, kind, label, fault, clients, per_apply));
            }
        }
    }
    print_table("Fault matrix", &rows, clients);
}

/// A signal to Terraform's whole process group while databases are still provisioning: the
/// objects are in the state, not tainted, and the next apply waits for them in place.
fn interrupt_during_provisioning(signal: &str) {
    let service = LocalService::start(Duration::from_secs(6));
    let work = Workspace::new(&service);
    work.write(&Api::Native.configuration(NATIVE_PROVIDER, 2, false));
    let terraform = work.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    for _ in 0..300 {
        if service.databases().len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        service.databases().len(),
        2,
        "both creates reached the service"
    );
    std::thread::sleep(Duration::from_millis(300));
    signal_group(signal, terraform.id());
    let output = terraform.wait_with_output().expect("terraform ends");
    let state = work.state_file();
    for database in service.databases() {
        let id = database["id"].as_str().unwrap();
        assert!(
            state.contains(id),
            "{signal}: {id} must be in the state:\n{}",
            text(&output)
        );
    }
    assert!(
        !state.contains("\"tainted\""),
        "{signal}: an interrupted create must not be tainted:\n{state}"
    );

    // The next plan waits in place; the apply replaces nothing and ends READY.
    let plan = work.assert_plan_changes(&["0 to add, 2 to change, 0 to destroy"]);
    assert!(!text(&plan).contains("must be replaced"), "{}", text(&plan));
    let before = state_ids(&work);
    work.apply();
    assert_eq!(state_ids(&work), before, "{signal}: the same databases");
    for address in ["dbaas_database.c0", "dbaas_database.c1"] {
        assert_eq!(work.resource(address)["status"], "READY");
    }
    let call = |method: &str, path: &str, body: Option<Json>| service.call(method, path, body);
    assert_nothing_lost(Api::Native, signal, &call, &work, 2, &[]);
}

fn signal_group(signal: &str, leader: u32) {
    let group = format!("-{leader}");
    let sent = Command::new("kill")
        .args([signal, "--", &group])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill {signal} {group}");
}

#[test]
fn faults_sigint_during_provisioning_then_apply_replaces_nothing() {
    interrupt_during_provisioning("-INT");
}

#[test]
fn faults_sigterm_during_provisioning_then_apply_replaces_nothing() {
    interrupt_during_provisioning("-TERM");
}

/// The provider process killed (as by the OOM killer) after its creates reached the service:
/// Terraform records nothing of them, and the next apply must find them again (dbaas-local's
/// derived idempotency keys) instead of making duplicates or failing on "already exists".
#[test]
fn faults_provider_killed_mid_apply_then_apply_adopts() {
    let service = LocalService::start(Duration::from_secs(4));
    let work = Workspace::new(&service);
    work.write(&Api::Native.configuration(NATIVE_PROVIDER, 3, true));
    let terraform = work.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    for _ in 0..300 {
        if service.databases().len() == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        service.databases().len(),
        3,
        "the creates reached the service"
    );
    let provider = group_member(terraform.id(), "terraform-provi").expect("the provider runs");
    let killed = Command::new("kill")
        .args(["-KILL", &provider.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let crashed = terraform.wait_with_output().expect("terraform ends");
    assert!(!crashed.status.success(), "{}", text(&crashed));
    let recovered = apply(&work);
    assert!(
        recovered.status.success(),
        "{}\n{}",
        text(&crashed),
        text(&recovered)
    );
    let call = |method: &str, path: &str, body: Option<Json>| service.call(method, path, body);
    assert_nothing_lost(
        Api::Native,
        "provider killed",
        &call,
        &work,
        3,
        &[&text(&recovered)],
    );
}

/// The pid of the member of process group `group` whose name starts with `name`.
fn group_member(group: u32, name: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // pid (comm) state ppid pgrp …; comm may hold spaces, so split after the last ')'.
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1;
            let pgrp: u32 = rest.split_whitespace().nth(2)?.parse().ok()?;
            (pgrp == group && comm.starts_with(name)).then_some(pid)
        })
}

/// A native API call to the service process at `base`: status and JSON body, status 0 when it
/// cannot be reached. A new client each time: a pooled connection to a killed process is dead.
fn service_call(
    runtime: &tokio::runtime::Runtime,
    base: &str,
    method: &str,
    path: &str,
    body: Option<Json>,
) -> (u16, Json) {
    runtime.block_on(async {
        let mut request = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.json().await.unwrap_or(Json::Null))
            }
            Err(_) => (0, Json::Null),
        }
    })
}

/// dbaas-local as a process of its own, so it can be killed with SIGKILL and started again on
/// the same port and data directory.
struct ServiceProcess {
    child: Child,
    port: u16,
    data_dir: std::path::PathBuf,
}

impl ServiceProcess {
    fn start(data_dir: &std::path::Path, port: u16) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dbaas-local"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--provision-delay",
                "3s",
                "--token",
                TOKEN,
                "--data-dir",
            ])
            .arg(data_dir)
            .env_remove("DBAAS_LOCAL_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbaas-local starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("dbaas-local listening on "), "{line:?}");
        Self {
            child,
            port,
            data_dir: data_dir.to_path_buf(),
        }
    }

    fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn restart(&mut self) {
        *self = Self::start(&self.data_dir.clone(), self.port);
    }
}

impl ServiceProcess {
    /// Stops it as an operator would (SIGTERM), so it stops its PostgreSQL too.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes sure a test that failed half-way leaves no PostgreSQL of its data dir running
/// (immediate shutdown of its postmasters).
struct NoPostgresLeft(std::path::PathBuf);

impl Drop for NoPostgresLeft {
    fn drop(&mut self) {
        for pid in postmasters(&self.0) {
            let _ = Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
        }
    }
}

/// The postmasters serving the PostgreSQL cluster of dbaas-local's `data_dir`: processes whose
/// command line is `postgres -D <data_dir>/postgresql/data`.
fn postmasters(data_dir: &std::path::Path) -> Vec<u32> {
    let cluster = data_dir.join("postgresql/data");
    let wanted = format!("-D\0{}\0", cluster.display());
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).into_owned();
            cmdline.contains(&wanted).then_some(pid)
        })
        .collect()
}

/// A real PostgreSQL database of the service process at `base`, made through its native API,
/// with a credential that logs in to it.
struct RealDatabase {
    id: String,
    endpoint: String,
    /// Where PostgreSQL serves it.
    port: u16,
    password: String,
}

const REAL_DATABASE: &str = "client-pg";
const REAL_USER: &str = "app";

/// A READY object of the service at `base` (`path` of the native API), waited for by the service.
fn ready(runtime: &tokio::runtime::Runtime, base: &str, path: &str) -> Json {
    let (status, body) = service_call(
        runtime,
        base,
        "GET",
        &format!("{path}?wait_for=READY&timeout=30s"),
        None,
    );
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("READY")),
        "{body}"
    );
    body
}

/// Creates [`REAL_DATABASE`] (engine `postgresql`) and its credential [`REAL_USER`], both READY.
fn real_database_with_credential(runtime: &tokio::runtime::Runtime, base: &str) -> RealDatabase {
    let (status, created) = service_call(
        runtime,
        base,
        "POST",
        "/v1/databases",
        Some(json!({"name": REAL_DATABASE, "engine": "postgresql"})),
    );
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let endpoint = ready(runtime, base, &format!("/v1/databases/{id}"))["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, user) = service_call(
        runtime,
        base,
        "POST",
        &format!("/v1/databases/{id}/credentials"),
        Some(json!({"username": REAL_USER, "roles": [format!("readWrite@{REAL_DATABASE}")]})),
    );
    assert_eq!(status, 202, "{user}");
    let password = user["password"].as_str().unwrap().to_owned();
    ready(
        runtime,
        base,
        &format!("/v1/databases/{id}/credentials/{REAL_USER}"),
    );
    let port: u16 = endpoint
        .strip_prefix("postgresql://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix(&format!("/{REAL_DATABASE}")))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("a real endpoint: {endpoint}"));
    RealDatabase {
        id,
        endpoint,
        port,
        password,
    }
}

impl RealDatabase {
    /// Whether its credential logs in and runs a query now.
    fn logs_in(&self, runtime: &tokio::runtime::Runtime) -> bool {
        runtime.block_on(async {
            let mut config = tokio_postgres::Config::new();
            config
                .host("127.0.0.1")
                .port(self.port)
                .user(REAL_USER)
                .password(&self.password)
                .dbname(REAL_DATABASE);
            match config.connect(tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    client.simple_query("SELECT 1").await.is_ok()
                }
                Err(_) => false,
            }
        })
    }

    /// Whether its credential logs in before the hang guard (60 s) runs out.
    fn logs_in_again(&self, runtime: &tokio::runtime::Runtime) -> bool {
        for _ in 0..600 {
            if self.logs_in(runtime) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

/// A free port of 127.0.0.1 for a service process.
fn free_service_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A dbaas-local process serving [`REAL_DATABASE`], whose credential logs in.
struct ServedRealDatabase {
    runtime: tokio::runtime::Runtime,
    base: String,
    database: RealDatabase,
    process: ServiceProcess,
    _cleanup: NoPostgresLeft,
    data: tempfile::TempDir,
}

impl ServedRealDatabase {
    fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = free_service_port();
        let cleanup = NoPostgresLeft(data.path().to_path_buf());
        let process = ServiceProcess::start(data.path(), port);
        let base = format!("http://127.0.0.1:{port}");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let database = real_database_with_credential(&runtime, &base);
        assert!(
            database.logs_in(&runtime),
            "the credential logs in before any fault"
        );
        Self {
            runtime,
            base,
            database,
            process,
            _cleanup: cleanup,
            data,
        }
    }

    fn postmasters(&self) -> Vec<u32> {
        postmasters(self.data.path())
    }

    /// The credential logs in again, one postmaster serves the data dir and it is not one of
    /// `gone`, and the database's endpoint is the one it had.
    fn assert_served_again_instead_of(&self, gone: &[u32]) {
        assert!(
            self.database.logs_in_again(&self.runtime),
            "the database accepts its credential again"
        );
        let now = self.postmasters();
        assert_eq!(now.len(), 1, "one postmaster for the data dir: {now:?}");
        assert!(!gone.contains(&now[0]), "a new postmaster serves it");
        let path = format!("/v1/databases/{}", self.database.id);
        assert_eq!(
            ready(&self.runtime, &self.base, &path)["endpoint"],
            self.database.endpoint
        );
    }

    /// Stops the service as an operator would; its PostgreSQL stops with it.
    fn stop(mut self) {
        self.process.stop();
        assert!(
            self.postmasters().is_empty(),
            "dbaas-local stops its PostgreSQL"
        );
    }
}

/// A kill -9 of dbaas-local leaves its PostgreSQL running; the next start stops that
/// postmaster and starts its own, so one postmaster serves the data dir, and the database
/// still accepts its credential.
#[test]
fn faults_service_killed_and_restarted_keeps_one_postgresql_serving() {
    let mut served = ServedRealDatabase::start();
    served.process.kill_9();
    let left = served.postmasters();
    assert_eq!(left.len(), 1, "the killed service's PostgreSQL runs on");
    served.process.restart();
    served.assert_served_again_instead_of(&left);
    served.stop();
}

/// The postmaster killed while dbaas-local runs (as the OOM killer picks the largest
/// process): the service notices and starts PostgreSQL again by itself, on the same port,
/// so the database accepts its credential again without any call to the service.
#[test]
fn faults_postgresql_killed_under_the_running_service_is_started_again() {
    let served = ServedRealDatabase::start();
    let before = served.postmasters();
    assert_eq!(before.len(), 1, "{before:?}");
    let killed = Command::new("kill")
        .args(["-KILL", &before[0].to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    served.assert_served_again_instead_of(&before);
    served.stop();
}

#[test]
fn faults_service_killed_and_restarted_mid_apply_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let port = free_service_port();
    let mut process = ServiceProcess::start(data.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let call = |method: &str, path: &str, body: Option<Json>| {
        service_call(&runtime, &base, method, path, body)
    };
    let work = Workspace::for_endpoint(&base);
    work.write(&Api::Native.configuration(NATIVE_PROVIDER, 3, true));
    let terraform = work.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    for _ in 0..300 {
        let (_, body) = call("GET", "/v1/databases", None);
        if body["databases"].as_array().is_some_and(|d| d.len() == 3) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    process.kill_9();
    std::thread::sleep(Duration::from_secs(1));
    process.restart();
    let first = terraform.wait_with_output().expect("terraform ends");
    if !first.status.success() {
        let second = apply(&work);
        assert!(
            second.status.success(),
            "{}\n{}",
            text(&first),
            text(&second)
        );
    }
    assert_nothing_lost(Api::Native, "dbaas-local killed", &call, &work, 3, &[]);
    work.destroy();
}

/// A database the API reports failed ends the apply at once with the API's message, and is
/// recorded (tainted) rather than orphaned; one stuck provisioning ends at its timeout, recorded.
#[test]
fn faults_failed_and_stuck_databases_end_the_wait_and_stay_recorded() {
    let service = LocalService::start(DELAY);
    let work = Workspace::new(&service);
    for rule in [
        json!({"kind": "database", "name": "client-0", "outcome": "failed",
               "message": "no capacity left in eu-west-1"}),
        json!({"kind": "database", "name": "client-1", "outcome": "stuck"}),
    ] {
        let (status, body) = service.call("POST", "/v1/_admin/lifecycle-faults", Some(rule));
        assert_eq!(status, 200, "{body}");
    }
    work.write(
        r#"
provider "dbaas" {
  poll_interval = "200ms"
}

resource "dbaas_database" "c0" {
  name = "client-0"
}

resource "dbaas_database" "c1" {
  name = "client-1"
  timeouts {
    create = "4s"
  }
}
"#,
    );
    // Were a failed status waited on, this apply would wait out the 40 minute default.
    let output = work.apply_fails();
    let said = support::fold_whitespace(&text(&output));
    assert!(
        said.contains("no capacity left in eu-west-1") && said.contains("ERROR"),
        "{said}"
    );
    assert!(said.contains("was still CREATING after"), "{said}");
    let state = work.state_file();
    for database in service.databases() {
        let id = database["id"].as_str().unwrap();
        assert!(state.contains(id), "{id} is recorded:\n{state}");
    }
    assert_eq!(state.matches("\"tainted\"").count(), 2, "{state}");
}
