//! schemathesis (PyPI, installed into `.tools/schemathesis` by `make tools`) against a fresh
//! dbaas-local: every operation of `/v1/openapi.json`, every phase (examples, coverage, fuzzing,
//! and the stateful phase that follows the document's links), every check. The build fails on
//! any server error, any reply the document does not describe, any schema-valid request the
//! service rejects and any schema-invalid one it accepts.
//!
//! What JSON Schema cannot say (a network's host bits, distinct index fields) is taught to the
//! generator by `tests/schemathesis/hooks.py`; the document says it in words. The hooks also
//! wait for an accepted (asynchronous) DELETE to finish, as a client of the API does.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Examples per operation and phase: enough to reach every branch of the validators in a few
/// minutes on two cores; `DBAAS_SCHEMATHESIS_EXAMPLES` raises it for a longer run.
const EXAMPLES: &str = "20";

/// The service, stopped when dropped.
struct Service {
    child: Child,
    url: String,
    _data_dir: tempfile::TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(token: &str) -> Service {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbaas-local"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--provision-delay",
            "0s",
            "--token",
            token,
        ])
        .arg("--data-dir")
        .arg(data_dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("dbaas-local listening on ")
                .map(str::to_owned)
        })
        .expect("dbaas-local prints the address it listens on");
    // Keep reading stdout so the service never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Service {
        child,
        url: address.trim().to_owned(),
        _data_dir: data_dir,
    }
}

fn schemathesis() -> PathBuf {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/schemathesis/bin/schemathesis");
    assert!(
        binary.exists(),
        "{} is missing: run `make tools` (scripts/install-python-tools.sh installs it from PyPI)",
        binary.display()
    );
    binary
}

#[test]
fn schemathesis_finds_no_failure_in_any_operation() {
    let token = format!("st-{}", std::process::id());
    let service = start(&token);
    let examples = std::env::var("DBAAS_SCHEMATHESIS_EXAMPLES").unwrap_or(EXAMPLES.to_owned());
    let report_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    let _ = std::fs::remove_dir_all(&report_dir);
    let hooks_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    std::fs::create_dir_all(&report_dir).unwrap();
    let output = Command::new(schemathesis())
        // schemathesis keeps a cache in its working directory: not in the repository.
        .current_dir(&report_dir)
        .arg("run")
        .arg(format!("{}/v1/openapi.json", service.url))
        .args(["--url", &service.url])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", &examples])
        .args(["--workers", "1"])
        .args(["--seed", "20261202"])
        .args(["--generation-database", "none"])
        .arg("--no-color")
        .arg("--report-dir")
        .arg(&report_dir)
        .args(["--report", "junit"])
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", &hooks_dir)
        .env(
            "HYPOTHESIS_STORAGE_DIRECTORY",
            report_dir.join("hypothesis"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // The summary (phases, cases generated and passed), for the test log.
    if let Some(summary) = stdout.find("Test Phases:") {
        eprintln!("{}", &stdout[summary..]);
    }
    for phase in ["Examples", "Coverage", "Fuzzing", "Stateful"] {
        assert!(
            stdout
                .lines()
                .any(|line| line.contains(phase) && line.contains('✅')),
            "the {phase} phase did not pass (skipped or not run):\n{stdout}"
        );
    }
}
