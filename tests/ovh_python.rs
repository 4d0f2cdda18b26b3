//! A real OVH client that no one here wrote: the official OVHcloud Python wrapper (PyPI `ovh`,
//! installed into `.tools/python` by `make tools`) drives dbaas-local's OVH dialect through
//! `tests/ovh_python/drive.py`, and the native API then confirms what it did.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use dbaas::local::{self, Config, OvhDialect, TokenSource};
use secrecy::SecretString;
use serde_json::{Value, json};

const AK: &str = "python-wrapper-application-key";
const AS: &str = "python-wrapper-application-secret";
const CK: &str = "python-wrapper-consumer-key";
const PROJECT: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const TOKEN: &str = "native-token-for-the-python-test";

/// `.tools/python`, where `scripts/install-python-tools.sh` puts the wrapper; the test fails
/// (never skips) when it is not there.
fn wrapper_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/python");
    assert!(
        dir.join("ovh/client.py").exists(),
        "the OVH Python wrapper is not installed in {}: run `make tools` \
         (scripts/install-python-tools.sh installs it from PyPI)",
        dir.display()
    );
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_wrapper_creates_a_service_user_and_ip_restriction() -> Result<()> {
    let python_path = wrapper_dir();
    let data_dir = tempfile::tempdir()?;
    let service = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_path_buf(),
        token: TokenSource::Given(SecretString::from(TOKEN)),
        provision_delay: Duration::from_millis(100),
        compose: None,
        ovh: Some(OvhDialect {
            application_key: AK.into(),
            application_secret: SecretString::from(AS),
            consumer_key: SecretString::from(CK),
            service_name: PROJECT.into(),
        }),
        globo: None,
        goaddon: None,
        databaselabs: None,
        postgres: Default::default(),
    })
    .await?;
    let base = service.base_url();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ovh_python/drive.py");
    let output = tokio::process::Command::new(std::env::var("PYTHON").unwrap_or("python3".into()))
        .arg(&script)
        .env("PYTHONPATH", &python_path)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("DBAAS_OVH_ENDPOINT", format!("{base}/ovh/1.0"))
        .env("DBAAS_OVH_APPLICATION_KEY", AK)
        .env("DBAAS_OVH_APPLICATION_SECRET", AS)
        .env("DBAAS_OVH_CONSUMER_KEY", CK)
        .env("DBAAS_OVH_PROJECT", PROJECT)
        .env_remove("OVH_ENDPOINT")
        .env_remove("OVH_APPLICATION_KEY")
        .env_remove("OVH_APPLICATION_SECRET")
        .env_remove("OVH_CONSUMER_KEY")
        .kill_on_drop(true)
        .output()
        .await
        .context("running python3 (is Python 3 installed?)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python wrapper's run failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    let summary: Value = serde_json::from_str(stdout.trim())
        .with_context(|| format!("the script's summary is not JSON: {stdout}"))?;

    // What the wrapper did is what the native API sees.
    let client = reqwest::Client::new();
    let native = |path: String, body: Option<Value>| {
        let mut request = client
            .request(
                if body.is_some() {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::GET
                },
                format!("{base}{path}"),
            )
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await?;
            anyhow::Ok((response.status().as_u16(), response.json::<Value>().await?))
        }
    };
    let (_, list) = native("/v1/databases".into(), None).await?;
    let database = list["databases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|db| db["name"] == summary["description"])
        .with_context(|| format!("the wrapper's service is not in {list}"))?
        .clone();
    assert_eq!(database["engine"], "mongodb");
    assert_eq!(database["plan"], "business");
    assert_eq!(database["node_count"], 3);
    assert_eq!(database["status"], "READY");
    let id = database["id"].as_str().unwrap();
    let (_, restrictions) = native(format!("/v1/databases/{id}/ip-restrictions"), None).await?;
    let cidrs: Vec<&Value> = restrictions["ip_restrictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["cidr"])
        .collect();
    assert_eq!(cidrs, [&summary["ip"]]);
    let (_, verdict) = native(
        format!("/v1/databases/{id}/credentials/pyuser/verify"),
        Some(json!({"password": summary["password"]})),
    )
    .await?;
    assert_eq!(
        verdict,
        json!({"valid": true}),
        "the reset password is the user's"
    );
    service.shutdown().await;
    Ok(())
}
