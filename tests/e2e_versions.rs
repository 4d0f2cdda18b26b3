//! The Terraform version matrix: the quickstart applies, plans empty and destroys on every
//! Terraform `make tools` installed under `.tools/terraform/<minor>/` (1.10 and 1.15 by default,
//! the oldest and newest supported; `make compat` installs all six).
//!
//! With `DBAAS_COMPAT_FULL=1` (`make compat`) every one of 1.10 … 1.15 must be there, and each
//! also runs a write-only password, an ephemeral credential and an identity import, or, where the
//! version lacks the feature, shows that it is refused with the version it needs.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{LocalService, Workspace, text};

const SUPPORTED: [&str; 6] = ["1.10", "1.11", "1.12", "1.13", "1.14", "1.15"];

/// The installed matrix, as (minor, binary), oldest first.
fn installed() -> Vec<(&'static str, PathBuf)> {
    let dir = std::env::var("TF_ACC_TERRAFORM_MATRIX").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/terraform"),
        PathBuf::from,
    );
    SUPPORTED
        .iter()
        .map(|minor| (*minor, dir.join(minor).join("terraform")))
        .filter(|(_, binary)| binary.exists())
        .collect()
}

fn full() -> bool {
    std::env::var("DBAAS_COMPAT_FULL").is_ok_and(|v| v == "1")
}

/// The versions this run must cover: all six for `make compat`, else the oldest and newest.
fn matrix() -> Vec<(&'static str, PathBuf)> {
    let found = installed();
    let required: &[&str] = if full() {
        &SUPPORTED
    } else {
        &["1.10", "1.15"]
    };
    for minor in required {
        assert!(
            found.iter().any(|(m, _)| m == minor),
            "Terraform {minor} is not installed under .tools/terraform/{minor}/: run `make tools` \
             (or `make compat` for all six)"
        );
    }
    found
}

fn minor_number(minor: &str) -> u32 {
    minor
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap()
}

fn workspace(service: &LocalService, binary: &Path) -> Workspace {
    let mut work = Workspace::new(service);
    work.use_terraform(binary);
    work
}

#[test]
fn quickstart_applies_plans_empty_and_destroys_on_each_terraform_of_the_matrix() {
    for (minor, binary) in matrix() {
        eprintln!("Terraform {minor}: quickstart");
        let service = LocalService::start(Duration::from_millis(200));
        let work = workspace(&service, &binary);
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.tf"),
            work.path().join("main.tf"),
        )
        .unwrap();
        let version = text(&work.ok(&["version"]));
        assert!(
            version.contains(&format!("Terraform v{minor}.")),
            "{version}"
        );
        work.apply();
        work.assert_plan_empty();
        work.destroy();
        assert!(
            service.databases().is_empty(),
            "Terraform {minor}: {:?}",
            service.databases()
        );
        if full() {
            write_only_and_ephemeral(minor, &binary);
            identity_import(minor, &binary);
        }
    }
}

/// A write-only password from an ephemeral credential (1.11+); on 1.10 the write-only attribute
/// is refused naming 1.11, and the ephemeral credential alone plans.
fn write_only_and_ephemeral(minor: &str, binary: &Path) {
    eprintln!("Terraform {minor}: write-only password, ephemeral credential");
    let service = LocalService::start(Duration::from_millis(200));
    let db = service.ready_database("client-compat");
    let source_password = service.ready_credential(&db, "source");

    let ephemeral = format!(
        "provider \"dbaas\" {{}}\n\nephemeral \"dbaas_credential\" \"source\" {{\n  database_id = \"{db}\"\n  username    = \"source\"\n}}\n"
    );
    let copy = format!(
        "\nresource \"dbaas_credential\" \"copy\" {{\n  database_id         = \"{db}\"\n  username            = \"copy\"\n  password_wo         = ephemeral.dbaas_credential.source.password\n  password_wo_version = 1\n}}\n"
    );
    let work = workspace(&service, binary);
    if minor_number(minor) < 11 {
        work.write(&ephemeral);
        work.ok(&["plan", "-input=false", "-no-color"]);
        work.write(&format!("{ephemeral}{copy}"));
        let refused = text(&work.plan_fails());
        assert!(
            refused.contains("password_wo") && refused.contains("needs Terraform 1.11 or later"),
            "Terraform {minor}:\n{refused}"
        );
        return;
    }
    work.write(&format!("{ephemeral}{copy}"));
    let applied = work.apply();
    work.assert_plan_empty();
    let state = std::fs::read_to_string(work.path().join("terraform.tfstate")).unwrap();
    assert!(!state.contains(&source_password), "Terraform {minor}");
    assert!(
        !text(&applied).contains(&source_password),
        "Terraform {minor}"
    );
}

/// Import by identity (1.12+); before 1.12 Terraform itself refuses `identity` in an import
/// block, and import by id works.
fn identity_import(minor: &str, binary: &Path) {
    eprintln!("Terraform {minor}: import");
    let service = LocalService::start(Duration::from_millis(200));
    let id = service.ready_database("client-imported");
    let resource = "resource \"dbaas_database\" \"client\" {\n  name = \"client-imported\"\n}\n";
    let by_identity = format!(
        "import {{\n  to       = dbaas_database.client\n  identity = {{ id = \"{id}\" }}\n}}\n"
    );
    let by_id = format!("import {{\n  to = dbaas_database.client\n  id = \"{id}\"\n}}\n");
    let work = workspace(&service, binary);
    let import = if minor_number(minor) < 12 {
        work.write(&format!("provider \"dbaas\" {{}}\n{by_identity}{resource}"));
        let refused = text(&work.plan_fails());
        assert!(
            refused.contains("identity"),
            "Terraform {minor}:\n{refused}"
        );
        by_id
    } else {
        by_identity
    };
    work.write(&format!("provider \"dbaas\" {{}}\n{import}{resource}"));
    let applied = text(&work.apply());
    assert!(
        applied.contains("1 imported, 0 added, 0 changed, 0 destroyed"),
        "Terraform {minor}:\n{applied}"
    );
    work.assert_plan_empty();
}
