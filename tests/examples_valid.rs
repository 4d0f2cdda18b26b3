//! Every example the docs show is a configuration the real Terraform accepts with this provider:
//! `terraform validate -json` on each example directory, against the freshly built provider
//! through `dev_overrides` (no `terraform init`, no registry). Validation calls the provider's
//! own checks (ValidateResourceConfig and friends), so an example using a misspelt or removed
//! attribute, or a value the provider refuses, fails here.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use dbaas::provider::DbaasProvider;
use dbaas::tfplugin::rpc::ProviderServer;
use serde_json::Value as Json;

/// The summary of the warning Terraform always gives with `dev_overrides`; any other warning
/// in an example is a defect.
const DEV_OVERRIDES_WARNING: &str = "Provider development overrides are in effect";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Every directory directly under `examples/` (the provider, the quick start, one per API), and
/// each directory under `examples/resources`, `examples/data-sources`,
/// `examples/ephemeral-resources`, `examples/list-resources` and `examples/functions`, sorted.
fn example_dirs() -> Vec<PathBuf> {
    let root = examples();
    let kinds = [
        "resources",
        "data-sources",
        "ephemeral-resources",
        "list-resources",
        "functions",
        "actions",
    ];
    let mut dirs: Vec<PathBuf> = type_dirs(&root)
        .into_iter()
        .filter(|dir| !kinds.iter().any(|kind| dir.ends_with(kind)))
        .collect();
    for kind in kinds {
        dirs.extend(type_dirs(&root.join(kind)));
    }
    dirs.sort();
    dirs
}

fn type_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.expect("readable examples directory").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn tf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "tf")
                || p.to_string_lossy().ends_with(".tfquery.hcl")
        })
        .collect();
    files.sort();
    files
}

/// Runs `terraform validate -json` on a copy of `example`; `Err` holds why it is not valid.
/// The import examples of a resource (`import-by-identity.tf`, `import-by-string-id.tf`) are
/// alternatives, since a resource takes one import block: each is validated with the rest of
/// the directory on its own.
fn validate(example: &Path) -> Result<(), String> {
    let files = tf_files(example);
    if files.is_empty() {
        return Err("no .tf file".into());
    }
    let is_import = |file: &PathBuf| {
        file.file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("import-by-"))
    };
    let (imports, common): (Vec<PathBuf>, Vec<PathBuf>) = files.into_iter().partition(is_import);
    if imports.is_empty() {
        return validate_files(&common);
    }
    let failures: Vec<String> = imports
        .iter()
        .filter_map(|import| {
            let mut files = common.clone();
            files.push(import.clone());
            validate_files(&files).err().map(|why| {
                format!(
                    "with {}: {why}",
                    import.file_name().unwrap().to_string_lossy()
                )
            })
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

fn validate_files(files: &[PathBuf]) -> Result<(), String> {
    let work = tempfile::tempdir().expect("temp dir");
    let mut declares_provider = false;
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        declares_provider |= text.contains("required_providers");
        std::fs::write(work.path().join(file.file_name().unwrap()), text).unwrap();
    }
    if !declares_provider {
        std::fs::write(
            work.path().join("zz_required_providers.tf"),
            "terraform {\n  required_providers {\n    dbaas = { source = \"dbaas/dbaas\" }\n  }\n}\n",
        )
        .unwrap();
    }
    let provider_dir = Path::new(env!("CARGO_BIN_EXE_terraform-provider-dbaas"))
        .parent()
        .unwrap();
    let cli_config = work.path().join("terraformrc");
    std::fs::write(
        &cli_config,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"dbaas/dbaas\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir.display()
        ),
    )
    .unwrap();

    let output = Command::new(support::terraform_binary())
        .args(["validate", "-query", "-json", "-no-color"])
        .current_dir(work.path())
        .env("TF_CLI_CONFIG_FILE", &cli_config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PATH")
        .env_remove("TF_LOG_PROVIDER")
        .output()
        .expect("terraform runs");
    let report: Json = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "validate printed no JSON ({e}):\n{}",
            support::text(&output)
        )
    })?;
    let diagnostics: Vec<String> = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["summary"] != DEV_OVERRIDES_WARNING)
        .map(|d| {
            let range = &d["range"];
            format!(
                "{} {}:{}: {}: {}",
                d["severity"].as_str().unwrap_or("?"),
                range["filename"].as_str().unwrap_or("-"),
                range["start"]["line"],
                d["summary"].as_str().unwrap_or_default(),
                d["detail"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if report["valid"] == Json::Bool(true) && diagnostics.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "valid = {}\n    {}",
            report["valid"],
            diagnostics.join("\n    ")
        ))
    }
}

#[test]
fn examples_all_validate_with_terraform() {
    let dirs = example_dirs();
    assert!(dirs.len() >= 3, "examples found: {dirs:?}");
    let root = examples();
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            validate(dir)
                .err()
                .map(|why| format!("{}: {why}", dir.strip_prefix(&root).unwrap().display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} example directories are not valid:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn examples_validation_catches_a_broken_example() {
    // The check above is only worth something if validate really consults the provider schema.
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(
        broken.path().join("resource.tf"),
        "resource \"dbaas_database\" \"x\" {\n  name       = \"x\"\n  no_such_attribute = 1\n}\n",
    )
    .unwrap();
    let why = validate(broken.path()).expect_err("an unknown attribute is invalid");
    assert!(why.contains("no_such_attribute"), "{why}");

    // A value the provider's own validation refuses.
    std::fs::write(
        broken.path().join("resource.tf"),
        "resource \"dbaas_database\" \"x\" {\n  name = \"x\"\n  timeouts {\n    create = \"soon\"\n  }\n}\n",
    )
    .unwrap();
    let why = validate(broken.path()).expect_err("a bad timeout is invalid");
    assert!(why.contains("Invalid Timeout"), "{why}");

    // A list block (`.tfquery.hcl`) with a `config` the list schema does not have.
    std::fs::remove_file(broken.path().join("resource.tf")).unwrap();
    std::fs::write(
        broken.path().join("list-resource.tfquery.hcl"),
        "list \"dbaas_database\" \"x\" {\n  provider = dbaas\n  config {\n    no_such_filter = \"x\"\n  }\n}\n",
    )
    .unwrap();
    let why = validate(broken.path()).expect_err("an unknown list argument is invalid");
    assert!(why.contains("no_such_filter"), "{why}");
}

#[test]
fn examples_cover_every_type_and_only_served_types() {
    let server = ProviderServer::new(DbaasProvider);
    let schemas = server.schemas();
    let root = examples();
    let kinds: [(&str, Vec<&str>); 6] = [
        ("resources", schemas.resources.keys().copied().collect()),
        (
            "data-sources",
            schemas.data_sources.keys().copied().collect(),
        ),
        (
            "ephemeral-resources",
            schemas.ephemeral_resources.keys().copied().collect(),
        ),
        (
            "list-resources",
            schemas.list_resources.keys().copied().collect(),
        ),
        (
            "functions",
            server.function_signatures().keys().copied().collect(),
        ),
        ("actions", schemas.actions.keys().copied().collect()),
    ];
    for (kind, served) in kinds {
        let found: Vec<String> = type_dirs(&root.join(kind))
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(found, served, "examples/{kind} versus the provider's types");
    }
}

#[test]
fn examples_are_formatted_like_terraform_fmt() {
    let work = tempfile::tempdir().unwrap();
    let cli_config = work.path().join("terraformrc");
    std::fs::write(&cli_config, "").unwrap();
    let output = Command::new(support::terraform_binary())
        .args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
        .arg(examples())
        .env("TF_CLI_CONFIG_FILE", &cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("terraform runs");
    assert!(
        output.status.success(),
        "run `terraform fmt -recursive examples`:\n{}",
        support::text(&output)
    );
}
