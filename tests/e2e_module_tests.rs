//! The `terraform test` files of `examples/module-tests`, as a module's author runs them: a copy
//! of the module, the real Terraform pointed at the freshly built provider (`dev_overrides`), a
//! fresh dbaas-local, `terraform init`, then `terraform test`. Every test file under the
//! module's `tests/` must run, and every `run` block in it pass: one file applies the module
//! against the service, the other runs it on a mocked provider.
//!
//! The second test breaks a copy of the module and shows that `terraform test`, and the summary
//! this file reads, then report the failure.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use support::{LocalService, Workspace, text};

/// The test file that applies the module against dbaas-local, and the one on a mocked provider.
const APPLY_FILE: &str = "tests/local.tftest.hcl";
const MOCK_FILE: &str = "tests/mocked.tftest.hcl";

fn module() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/module-tests")
}

/// Copies the module and its `tests/` into `to`, leaving out what an earlier `terraform init`
/// or `terraform test` in the example directory may have left there.
fn copy_module(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".terraform") || name.ends_with(".tfstate") {
            continue;
        }
        if path.is_dir() {
            copy_module(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// A workspace holding a copy of the module, initialised.
fn module_workspace(service: &LocalService) -> Workspace {
    let work = Workspace::new(service);
    copy_module(&module(), work.path());
    work.ok(&["init", "-input=false", "-no-color"]);
    work
}

/// Each test file of the module (as `tests/<name>.tftest.hcl`) with the names of its `run`
/// blocks, read from the files themselves, so a file or run added later is expected too.
fn declared_runs() -> BTreeMap<String, Vec<String>> {
    let dir = module().join("tests");
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".tftest.hcl") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let runs = source
            .lines()
            .filter_map(|line| line.strip_prefix("run \""))
            .filter_map(|rest| rest.split_once('"'))
            .map(|(run, _)| run.to_string())
            .collect();
        files.insert(format!("tests/{name}"), runs);
    }
    files
}

/// What `terraform test` printed on stdout: each file's result and its runs' results, in order,
/// and the closing summary.
#[derive(Debug, Default)]
struct Report {
    /// `pass` or `fail` per test file, from its closing `tests/x.tftest.hcl... pass` line.
    files: BTreeMap<String, String>,
    /// Per test file, each `run "name"... pass` line as (name, result), in the order run.
    runs: BTreeMap<String, Vec<(String, String)>>,
    /// The counts of the `Success! N passed, M failed.` line (and `K skipped` when some were).
    passed: Option<usize>,
    failed: Option<usize>,
    skipped: usize,
}

impl Report {
    fn parse(stdout: &str) -> Self {
        let mut report = Report::default();
        let mut file = String::new();
        for line in stdout.lines() {
            if let Some(rest) = line.strip_prefix("  run \"") {
                if let Some((run, result)) = rest.split_once("\"... ") {
                    report
                        .runs
                        .entry(file.clone())
                        .or_default()
                        .push((run.to_string(), result.trim().to_string()));
                }
            } else if let Some((name, result)) = line.split_once(".tftest.hcl... ") {
                file = format!("{name}.tftest.hcl");
                if matches!(result.trim(), "pass" | "fail" | "skip" | "error") {
                    report.files.insert(file.clone(), result.trim().to_string());
                }
            } else if let Some(counts) = line
                .strip_prefix("Success! ")
                .or_else(|| line.strip_prefix("Failure! "))
            {
                for part in counts.trim_end_matches('.').split(", ") {
                    let (count, what) = part.split_once(' ').unwrap_or_default();
                    let count = count.parse().ok();
                    match what {
                        "passed" => report.passed = count,
                        "failed" => report.failed = count,
                        "skipped" => report.skipped = count.unwrap_or_default(),
                        _ => {}
                    }
                }
            }
        }
        report
    }

    /// The result of `run` in `file`, if it ran.
    fn run_result(&self, file: &str, run: &str) -> Option<&str> {
        self.runs
            .get(file)?
            .iter()
            .find(|(name, _)| name == run)
            .map(|(_, result)| result.as_str())
    }
}

/// Whether `path` is `pattern`, each `*` of which stands for one path segment.
fn path_matches(path: &str, pattern: &str) -> bool {
    let path: Vec<&str> = path.split('/').collect();
    let pattern: Vec<&str> = pattern.split('/').collect();
    path.len() == pattern.len()
        && path
            .iter()
            .zip(&pattern)
            .all(|(segment, wanted)| *wanted == "*" || segment == wanted)
}

/// `terraform test` in `work` with `extra` arguments; its output and what it reported.
fn terraform_test(work: &Workspace, extra: &[&str]) -> (Output, Report) {
    let mut args = vec!["test", "-no-color"];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let output = work.run(&args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!(
        "terraform {} ({:.1} s):\n{stdout}",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    (output, Report::parse(&stdout))
}

#[test]
fn module_tests_pass_against_dbaas_local_and_a_mocked_provider() {
    let declared = declared_runs();
    for file in [APPLY_FILE, MOCK_FILE] {
        assert!(
            declared.get(file).is_some_and(|runs| !runs.is_empty()),
            "examples/module-tests/{file} with run blocks: {declared:?}"
        );
    }
    let service = LocalService::start(Duration::from_millis(200));
    let work = module_workspace(&service);

    let (output, report) = terraform_test(&work, &[]);
    assert!(
        output.status.success(),
        "terraform test failed:\n{}",
        text(&output)
    );
    let expected: usize = declared.values().map(Vec::len).sum();
    assert_eq!(
        (report.passed, report.failed, report.skipped),
        (Some(expected), Some(0), 0),
        "every run of {declared:?} must pass:\n{}",
        text(&output)
    );
    for (file, runs) in &declared {
        assert_eq!(
            report.files.get(file).map(String::as_str),
            Some("pass"),
            "{file}:\n{}",
            text(&output)
        );
        for run in runs {
            assert_eq!(
                report.run_result(file, run),
                Some("pass"),
                "run \"{run}\" of {file}:\n{}",
                text(&output)
            );
        }
        assert_eq!(report.runs[file].len(), runs.len(), "{file}: {report:?}");
    }

    // The apply test reached the real service, had each create done once (one database and
    // its user, two networks and the one the second run adds) and sent a create again only
    // after a refusal that did nothing (409: the database was busy applying a network), and
    // `terraform test` destroyed what it made.
    let posts: Vec<(String, u16)> = service
        .answered_requests()
        .into_iter()
        .filter(|(method, _, _)| method == "POST")
        .map(|(_, path, status)| (path, status))
        .collect();
    for (pattern, times) in [
        ("/v1/databases", 1),
        ("/v1/databases/*/credentials", 1),
        ("/v1/databases/*/ip-restrictions", 3),
    ] {
        let sent: Vec<u16> = posts
            .iter()
            .filter(|(path, _)| path_matches(path, pattern))
            .map(|(_, status)| *status)
            .collect();
        let done = sent.iter().filter(|status| **status == 202).count();
        assert_eq!(done, times, "POST {pattern} answered {sent:?}");
        assert!(
            sent.iter().all(|status| matches!(status, 202 | 409)),
            "POST {pattern} answered {sent:?}"
        );
    }
    let requests = service.provider_requests();
    assert!(
        requests
            .iter()
            .any(|(m, path)| m == "DELETE" && path_matches(path, "/v1/databases/*")),
        "no DELETE of the database reached dbaas-local: {requests:?}"
    );
    assert!(
        service.databases().is_empty(),
        "terraform test leaves nothing behind: {:?}",
        service.databases()
    );
}

#[test]
fn module_tests_fail_when_the_module_breaks() {
    // The mocked file needs no service: the provider is never configured. The workspace points
    // at a service all the same, so that a request, if one were made, would not go astray.
    let service = LocalService::start(Duration::from_millis(200));
    let cases = [
        (
            "main.tf",
            "\"client-${var.client}\"",
            "\"customer-${var.client}\"",
            "names_follow_the_client",
            "The database must be named client-<client>",
        ),
        (
            "variables.tf",
            "can(cidrhost(cidr, 0))",
            "true",
            "networks_must_be_cidr",
            "Missing expected failure",
        ),
    ];
    for (file, from, to, run, says) in cases {
        eprintln!("{file}: {from} -> {to}");
        let work = module_workspace(&service);
        let path = work.path().join(file);
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(source.contains(from), "{file} no longer has {from}");
        std::fs::write(&path, source.replace(from, to)).unwrap();

        let (output, report) = terraform_test(&work, &["-filter", MOCK_FILE]);
        assert!(
            !output.status.success(),
            "terraform test must fail once {file} says {to}:\n{}",
            text(&output)
        );
        assert_eq!(
            report.run_result(MOCK_FILE, run),
            Some("fail"),
            "{report:?}"
        );
        assert_eq!(
            report.files.get(MOCK_FILE).map(String::as_str),
            Some("fail")
        );
        assert!(report.failed.is_some_and(|n| n >= 1), "{report:?}");
        let stderr = support::flat_stderr(&output);
        assert!(stderr.contains(says), "stderr must say `{says}`:\n{stderr}");
    }
    assert!(service.provider_requests().is_empty(), "mocks send nothing");
}
