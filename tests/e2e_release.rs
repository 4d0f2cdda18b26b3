//! `make release` and `make install` as a user runs them: release artifacts in the Terraform
//! Registry's layout, signed with a throwaway key; `terraform providers lock` against a registry
//! serving those artifacts (on 127.0.0.1, in place of registry.terraform.io), which records the
//! signed `zh:` hashes of SHA256SUMS; then a real `terraform init` with that lock file from the
//! filesystem mirror `make install` makes (no `dev_overrides`), the quickstart applied and
//! planned empty, and an altered mirror refused.
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

    // A team locks the provider once against the registry, which serves these very files: since
    // the sums are signed, the lock records a `zh:` hash for each line of SHA256SUMS (the zips
    // and the manifest, as for any registry provider) besides the `h1:` hash of the package
    // Terraform fetched.
    let service = LocalService::start(std::time::Duration::ZERO);
    let registry = ReleaseRegistry::serve(&dist, &key);
    let locking = quickstart_workspace(&service);
    locking.cli_config(&registry.cli_config());
    let locked = locking.ok(&[
        "providers",
        "lock",
        "-no-color",
        &format!("-platform={PLATFORM}"),
    ]);
    let short_key_id = &key.fingerprint[key.fingerprint.len() - 16..];
    assert!(
        fold_whitespace(&text(&locked)).contains(&format!("(self-signed, key ID {short_key_id})")),
        "the signature should have been checked with the throwaway key:\n{}",
        text(&locked)
    );
    let lock = std::fs::read_to_string(locking.path().join(".terraform.lock.hcl")).unwrap();
    let h1 = h1_of_single_file_package(&format!("{NAME}_v{VERSION}"), &contents);
    let sums = std::fs::read_to_string(dist.join(&sums_name)).unwrap();
    let mut summed: Vec<String> = sums
        .lines()
        .map(|line| format!("zh:{}", line.split_whitespace().next().unwrap()))
        .collect();
    summed.sort();
    let mut locked_zh: Vec<String> = lock
        .split('"')
        .filter(|quoted| quoted.starts_with("zh:"))
        .map(str::to_owned)
        .collect();
    locked_zh.sort();
    assert_eq!(
        locked_zh, summed,
        "the lock's zh: hashes are SHA256SUMS':\n{lock}"
    );
    assert!(
        lock.contains("provider \"registry.terraform.io/dbaas/dbaas\"")
            && fold_whitespace(&lock).contains(&format!("version = \"{VERSION}\""))
            && lock.contains(&h1),
        "the lock file should pin {h1}:\n{lock}"
    );

    // A CI runner with that lock file installs from the mirror alone: no dev_overrides, no
    // registry, and the package must match the hashes locked.
    let mirror_only = format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/dbaas/dbaas\"]\n  }}\n}}\n",
        mirror.display()
    );
    let work = quickstart_workspace(&service);
    work.cli_config(&mirror_only);
    std::fs::write(work.path().join(".terraform.lock.hcl"), &lock).unwrap();
    let init = work.ok(&["init", "-input=false", "-no-color"]);
    let init_text = text(&init);
    assert!(
        init_text.contains(&format!("Installed dbaas/dbaas v{VERSION}"))
            && !init_text.contains("Provider development overrides"),
        "{init_text}"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join(".terraform.lock.hcl")).unwrap(),
        lock,
        "installing from the mirror should keep the lock file as the registry made it"
    );
    work.apply();
    work.assert_plan_empty();
    work.destroy();

    // A mirror whose package was altered is refused by that same lock file.
    let tampered = scratch.path().join("tampered");
    copy_tree(&mirror, &tampered);
    let tampered_executable = tampered.join(executable.strip_prefix(&mirror).unwrap());
    let mut altered = contents.clone();
    altered.push(0);
    std::fs::write(&tampered_executable, altered).unwrap();
    let refused = quickstart_workspace(&service);
    refused.cli_config(&mirror_only.replace(
        &mirror.display().to_string(),
        &tampered.display().to_string(),
    ));
    std::fs::write(refused.path().join(".terraform.lock.hcl"), &lock).unwrap();
    let failed = refused.fails(&["init", "-input=false", "-no-color"]);
    assert!(
        fold_whitespace(&text(&failed))
            .contains("checksums previously recorded in the dependency lock file"),
        "{}",
        text(&failed)
    );
}

/// A working directory holding the quickstart configuration, talking to `service`.
fn quickstart_workspace(service: &LocalService) -> Workspace {
    let work = Workspace::new(service);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.tf"),
        work.path().join("main.tf"),
    )
    .unwrap();
    work
}

fn copy_tree(from: &Path, to: &Path) {
    succeeds(Command::new("cp").arg("-a").arg(from).arg(to));
}

/// The Terraform Registry's provider protocol (`providers.v1`) for one `make release` output
/// directory, on 127.0.0.1, standing in for registry.terraform.io through a CLI configuration
/// `host` block. Versions, platforms and protocols come from the artifacts themselves, the
/// sums and signature are served as written, and the signing key is the throwaway one, so
/// Terraform checks what a real registry would make it check. Stops when dropped.
struct ReleaseRegistry {
    base_url: String,
    _runtime: tokio::runtime::Runtime,
}

/// What the registry serves, read once from the release directory.
struct RegistryFiles {
    dist: PathBuf,
    protocols: serde_json::Value,
    platforms: Vec<(String, String)>,
    sums: String,
    public_key: String,
    key_id: String,
}

impl ReleaseRegistry {
    fn serve(dist: &Path, key: &ThrowawayKey) -> Self {
        let prefix = format!("{NAME}_{VERSION}");
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dist.join(format!("{prefix}_manifest.json"))).unwrap(),
        )
        .unwrap();
        let platforms = std::fs::read_dir(dist)
            .unwrap()
            .filter_map(|entry| {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                let platform = name
                    .strip_prefix(&format!("{prefix}_"))?
                    .strip_suffix(".zip")?;
                let (os, arch) = platform.split_once('_')?;
                Some((os.to_owned(), arch.to_owned()))
            })
            .collect();
        let exported = succeeds(Command::new("gpg").env("GNUPGHOME", key.home.path()).args([
            "--batch",
            "--armor",
            "--export",
            &key.fingerprint,
        ]));
        let files = std::sync::Arc::new(RegistryFiles {
            dist: dist.to_path_buf(),
            protocols: manifest["metadata"]["protocol_versions"].clone(),
            platforms,
            sums: std::fs::read_to_string(dist.join(format!("{prefix}_SHA256SUMS"))).unwrap(),
            public_key: String::from_utf8(exported.stdout).unwrap(),
            key_id: key.fingerprint[key.fingerprint.len() - 16..].to_owned(),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .fallback(registry_reply)
            .with_state(std::sync::Arc::clone(&files));
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url,
            _runtime: runtime,
        }
    }

    /// A CLI configuration sending registry.terraform.io's provider requests here.
    fn cli_config(&self) -> String {
        format!(
            "host \"registry.terraform.io\" {{\n  services = {{\n    \"providers.v1\" = \"{}/v1/providers/\"\n  }}\n}}\n\nprovider_installation {{\n  direct {{}}\n}}\n",
            self.base_url
        )
    }
}

async fn registry_reply(
    axum::extract::State(files): axum::extract::State<std::sync::Arc<RegistryFiles>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "providers", "dbaas", "dbaas", "versions"] => {
            let platforms: Vec<serde_json::Value> = files
                .platforms
                .iter()
                .map(|(os, arch)| serde_json::json!({"os": os, "arch": arch}))
                .collect();
            axum::Json(serde_json::json!({"versions": [{
                "version": VERSION,
                "protocols": files.protocols,
                "platforms": platforms,
            }]}))
            .into_response()
        }
        [
            "v1",
            "providers",
            "dbaas",
            "dbaas",
            version,
            "download",
            os,
            arch,
        ] if *version == VERSION && files.platforms.iter().any(|(o, a)| o == os && a == arch) => {
            let prefix = format!("{NAME}_{VERSION}");
            let filename = format!("{prefix}_{os}_{arch}.zip");
            let shasum = files
                .sums
                .lines()
                .find_map(|line| line.strip_suffix(&format!("  {filename}")))
                .unwrap_or_default();
            let file_url = |name: &str| format!("http://{host}/files/{name}");
            axum::Json(serde_json::json!({
                "protocols": files.protocols,
                "os": os,
                "arch": arch,
                "filename": filename,
                "download_url": file_url(&filename),
                "shasums_url": file_url(&format!("{prefix}_SHA256SUMS")),
                "shasums_signature_url": file_url(&format!("{prefix}_SHA256SUMS.sig")),
                "shasum": shasum,
                "signing_keys": {"gpg_public_keys": [{
                    "key_id": files.key_id,
                    "ascii_armor": files.public_key,
                }]},
            }))
            .into_response()
        }
        ["files", name] if !name.contains("..") => match std::fs::read(files.dist.join(name)) {
            Ok(bytes) => bytes.into_response(),
            Err(_) => http::StatusCode::NOT_FOUND.into_response(),
        },
        _ => http::StatusCode::NOT_FOUND.into_response(),
    }
}
