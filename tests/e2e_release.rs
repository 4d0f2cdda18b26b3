//! `make release` and `make install` as a user runs them: release artifacts in the Terraform
//! Registry's layout, signed with a throwaway key, and a real `terraform init` from the filesystem
//! mirror `make install` makes (no `dev_overrides`), then the quickstart applied and planned empty.
//!
//! The artifacts are packaged from the binary this test run built (`scripts/release.sh --binary`),
//! so the test needs no second, release-mode build; the packaging and the install are the same
//! script `make release` and `make install` run.

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use support::{LocalService, Workspace, fold_whitespace, text};

const NAME: &str = "terraform-provider-dbaas";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const PLATFORM: &str = "linux_amd64";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/release.sh")
}

fn provider_binary() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-dbaas")
}

#[track_caller]
fn succeeds(command: &mut Command) -> Output {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        text(&output)
    );
    output
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// Terraform's `h1:` hash of a provider package: the SHA-256 of the sorted lines
/// "<sha256 of file>  <name>\n", one per file, in base64.
fn h1_of_single_file_package(name: &str, contents: &[u8]) -> String {
    let summary = format!("{}  {name}\n", sha256_hex(contents));
    let digest = hex_bytes(&sha256_hex(summary.as_bytes()));
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// A GnuPG home with one throwaway signing key; its agent is stopped on drop.
struct ThrowawayKey {
    home: tempfile::TempDir,
    fingerprint: String,
}

impl ThrowawayKey {
    fn new() -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        let gpg = |args: &[&str]| {
            succeeds(
                Command::new("gpg")
                    .env("GNUPGHOME", home.path())
                    .args(["--batch", "--no-tty"])
                    .args(args),
            )
        };
        gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            "dbaas release test <release-test@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ]);
        let listed = gpg(&["--with-colons", "--list-secret-keys"]);
        let fingerprint = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .find_map(|line| line.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').find(|field| !field.is_empty()))
            .expect("the new key's fingerprint")
            .to_owned();
        Self { home, fingerprint }
    }
}

impl Drop for ThrowawayKey {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

fn release_into(dist: &Path, key: &ThrowawayKey) -> Output {
    succeeds(
        Command::new("bash")
            .arg(script())
            .args(["--binary", provider_binary(), "--out"])
            .arg(dist)
            .env("GNUPGHOME", key.home.path())
            .env("GPG_FINGERPRINT", &key.fingerprint),
    )
}

#[test]
fn release_artifacts_install_from_a_filesystem_mirror_and_apply_the_quickstart() {
    let key = ThrowawayKey::new();
    let scratch = tempfile::tempdir().expect("temp dir");
    let dist = scratch.path().join("dist");
    release_into(&dist, &key);

    // The registry's file set, nothing else.
    let prefix = format!("{NAME}_{VERSION}");
    let zip_name = format!("{prefix}_{PLATFORM}.zip");
    let sums_name = format!("{prefix}_SHA256SUMS");
    let mut files: Vec<String> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            sums_name.clone(),
            format!("{sums_name}.sig"),
            zip_name.clone(),
            format!("{prefix}_manifest.json"),
        ]
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dist.join(format!("{prefix}_manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );

    // The sums check out, and the signature is the throwaway key's.
    let checked = succeeds(
        Command::new("sha256sum")
            .args(["--check", &sums_name])
            .current_dir(&dist),
    );
    assert_eq!(
        String::from_utf8_lossy(&checked.stdout)
            .matches(": OK")
            .count(),
        2,
        "{}",
        text(&checked)
    );
    let verified = succeeds(
        Command::new("gpg")
            .env("GNUPGHOME", key.home.path())
            .args(["--batch", "--status-fd", "1", "--verify"])
            .arg(dist.join(format!("{sums_name}.sig")))
            .arg(dist.join(&sums_name)),
    );
    assert!(
        String::from_utf8_lossy(&verified.stdout)
            .contains(&format!("VALIDSIG {}", key.fingerprint)),
        "{}",
        text(&verified)
    );

    // The zip holds the executable under the registry's name, and packaging again gives the
    // same bytes (entries dated from the commit, fixed mode).
    let zip = std::fs::read(dist.join(&zip_name)).unwrap();
    let listing = succeeds(Command::new("unzip").arg("-Z").arg(dist.join(&zip_name)));
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    assert!(
        listing.contains("-rwxr-xr-x")
            && listing.contains(&format!(" {NAME}_v{VERSION}\n"))
            && listing.contains("number of entries: 1"),
        "{listing}"
    );
    let again = scratch.path().join("again");
    release_into(&again, &key);
    assert_eq!(
        sha256_hex(&std::fs::read(again.join(&zip_name)).unwrap()),
        sha256_hex(&zip),
        "two packagings of one build differ"
    );

    // `make install`'s half: the mirror in the layout Terraform reads, and the block to use.
    let mirror = scratch.path().join("mirror");
    let installed = succeeds(
        Command::new("bash")
            .arg(script())
            .args(["install", "--dist"])
            .arg(&dist)
            .arg("--mirror")
            .arg(&mirror),
    );
    let installed = String::from_utf8_lossy(&installed.stdout).into_owned();
    let executable = mirror.join(format!(
        "registry.terraform.io/dbaas/dbaas/{VERSION}/{PLATFORM}/{NAME}_v{VERSION}"
    ));
    let contents = std::fs::read(&executable).expect("the installed executable");
    assert_eq!(contents, std::fs::read(provider_binary()).unwrap());
    assert!(
        installed.contains("filesystem_mirror {")
            && installed.contains(&format!("path    = \"{}\"", mirror.display())),
        "{installed}"
    );

    // A real `terraform init` from that mirror alone: no dev_overrides, no network.
    let service = LocalService::start(std::time::Duration::ZERO);
    let work = Workspace::new(&service);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.tf"),
        work.path().join("main.tf"),
    )
    .unwrap();
    work.cli_config(&format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/dbaas/dbaas\"]\n  }}\n}}\n",
        mirror.display()
    ));
    let init = work.ok(&["init", "-input=false", "-no-color"]);
    let init_text = text(&init);
    assert!(
        init_text.contains(&format!("Installed dbaas/dbaas v{VERSION}")),
        "{init_text}"
    );
    assert!(
        !init_text.contains("Provider development overrides"),
        "{init_text}"
    );
    let h1 = h1_of_single_file_package(&format!("{NAME}_v{VERSION}"), &contents);
    let lock = std::fs::read_to_string(work.path().join(".terraform.lock.hcl")).unwrap();
    assert!(
        lock.contains("provider \"registry.terraform.io/dbaas/dbaas\"")
            && fold_whitespace(&lock).contains(&format!("version = \"{VERSION}\""))
            && lock.contains(&h1),
        "the lock file should pin {h1}:\n{lock}"
    );
    // `terraform providers lock` from the same mirror agrees with what init recorded.
    work.ok(&[
        "providers",
        "lock",
        "-no-color",
        &format!("-fs-mirror={}", mirror.display()),
        &format!("-platform={PLATFORM}"),
    ]);
    assert_eq!(
        std::fs::read_to_string(work.path().join(".terraform.lock.hcl")).unwrap(),
        lock
    );

    work.apply();
    work.assert_plan_empty();
    work.destroy();
}
