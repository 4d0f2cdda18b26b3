//! go-plugin serving, end to end: the built provider binary (handshake line, health,
//! Shutdown, AutoMTLS, signals, debug mode) and the library's `serve` in process (message
//! limits, go-plugin side services).
//!
//! Timeouts here are hang guards only (a broken server must fail the test, not stall it);
//! no test asserts how long anything takes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use dbaas::tfplugin::proto::plugin::grpc_broker_client::GrpcBrokerClient;
use dbaas::tfplugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use dbaas::tfplugin::proto::plugin::grpc_stdio_client::GrpcStdioClient;
use dbaas::tfplugin::proto::plugin::{ConnInfo, Empty};
use dbaas::tfplugin::proto::tfplugin6;
use dbaas::tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use dbaas::tfplugin::proto::tfplugin6::provider_server::Provider;
use dbaas::tfplugin::serve::{self, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, ServeOptions};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio::net::UnixStream;
use tokio::process::{Child, ChildStdout, Command};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Upper bound for anything that should happen promptly; only guards against hangs.
const HANG_GUARD: Duration = Duration::from_secs(30);

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-dbaas");

async fn guard<T>(what: &str, future: impl Future<Output = T>) -> anyhow::Result<T> {
    tokio::time::timeout(HANG_GUARD, future)
        .await
        .map_err(|_| anyhow!("{what} did not finish (hang guard)"))
}

/// A provider process started like Terraform starts it, with a clean go-plugin environment.
struct PluginProcess {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: tokio::task::JoinHandle<String>,
    _socket_dir: tempfile::TempDir,
}

fn plugin_command(args: &[&str], env: &[(&str, &str)], socket_dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove(MAGIC_COOKIE_KEY)
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("PLUGIN_PROTOCOL_VERSIONS")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .env_remove("TF_LOG_PROVIDER_DBAAS")
        .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

impl PluginProcess {
    fn start(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let socket_dir = tempfile::tempdir()?;
        let mut child = plugin_command(args, env, socket_dir.path()).spawn()?;
        let stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut stderr_pipe = child.stderr.take().context("stderr")?;
        // Drain stderr continuously so the child can never block on a full pipe.
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text).await;
            text
        });
        Ok(Self {
            child,
            stdout,
            stderr,
            _socket_dir: socket_dir,
        })
    }

    async fn read_stdout_line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        let read = guard("reading stdout", self.stdout.read_line(&mut line)).await??;
        ensure!(read > 0, "stdout closed before a line was printed");
        Ok(line)
    }

    async fn handshake(&mut self) -> anyhow::Result<Handshake> {
        let line = self.read_stdout_line().await?;
        Handshake::parse(&line)
    }

    async fn wait_exit(mut self) -> anyhow::Result<(std::process::ExitStatus, String, String)> {
        let status = guard("waiting for the plugin to exit", self.child.wait()).await??;
        let mut rest = String::new();
        guard(
            "reading the rest of stdout",
            self.stdout.read_to_string(&mut rest),
        )
        .await??;
        let stderr = guard("reading stderr", self.stderr).await??;
        Ok((status, rest, stderr))
    }

    fn send_sigint(&self) -> anyhow::Result<()> {
        let pid = self.child.id().context("child already exited")?;
        let status = std::process::Command::new("sh")
            .args(["-c", &format!("kill -INT {pid}")])
            .status()?;
        ensure!(status.success(), "kill -INT failed");
        Ok(())
    }

    fn still_running(&mut self) -> anyhow::Result<bool> {
        Ok(self.child.try_wait()?.is_none())
    }
}

/// The fields of go-plugin's handshake line.
#[derive(Debug)]
struct Handshake {
    socket: PathBuf,
    server_cert: Option<Vec<u8>>,
}

impl Handshake {
    fn parse(line: &str) -> anyhow::Result<Self> {
        let line = line
            .strip_suffix('\n')
            .with_context(|| format!("handshake ends with a newline: {line:?}"))?;
        let fields: Vec<&str> = line.split('|').collect();
        ensure!(fields.len() == 6, "six fields: {line:?}");
        ensure!(fields[0] == "1", "core protocol 1: {line:?}");
        ensure!(fields[1] == "6", "plugin protocol 6: {line:?}");
        ensure!(fields[2] == "unix", "unix network: {line:?}");
        ensure!(fields[4] == "grpc", "grpc protocol: {line:?}");
        let server_cert = if fields[5].is_empty() {
            None
        } else {
            // go-plugin's client only looks at the certificate when it is this long.
            ensure!(fields[5].len() > 50, "certificate field too short");
            Some(STANDARD_NO_PAD.decode(fields[5]).context("RawStd base64")?)
        };
        Ok(Self {
            socket: PathBuf::from(fields[3]),
            server_cert,
        })
    }
}

async fn plaintext_channel(socket: &Path) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(format!("unix:{}", socket.display()))?;
    Ok(guard("connecting", endpoint.connect()).await??)
}

/// A client certificate like go-plugin's AutoMTLS one: self-signed CA, ECDSA P-521/SHA-512.
struct ClientIdentity {
    cert_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

fn terraform_like_client_identity() -> anyhow::Result<ClientIdentity> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
    };
    let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "HashiCorp");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key)?;
    Ok(ClientIdentity {
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    })
}

/// Connects over the unix socket with rustls the way Terraform does: the handshake's
/// server certificate as the only root, server name `localhost`, ALPN h2, and optionally
/// a client certificate.
async fn tls_channel(
    socket: &Path,
    server_cert: &[u8],
    client: Option<&ClientIdentity>,
) -> anyhow::Result<Channel> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(server_cert.to_vec()))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let mut config = match client {
        Some(identity) => builder.with_client_auth_cert(
            vec![CertificateDer::from(identity.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone())),
        )?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let socket = socket.to_path_buf();
    let endpoint = Endpoint::from_static("http://localhost");
    let connect = endpoint.connect_with_connector(tower::service_fn(move |_uri| {
        let connector = connector.clone();
        let socket = socket.clone();
        async move {
            let stream = UnixStream::connect(&socket).await?;
            let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
            let tls = connector.connect(name, stream).await?;
            Ok::<_, std::io::Error>(TokioIo::new(tls))
        }
    }));
    Ok(guard("TLS connecting", connect).await??)
}

async fn health_status(channel: Channel) -> anyhow::Result<ServingStatus> {
    let mut client = HealthClient::new(channel);
    let request = HealthCheckRequest {
        service: "plugin".to_owned(),
    };
    let response = guard("health check", client.check(request)).await??;
    Ok(response.into_inner().status())
}

async fn shutdown(channel: Channel) -> anyhow::Result<()> {
    let mut controller = GrpcControllerClient::new(channel);
    guard("Shutdown", controller.shutdown(Empty {})).await??;
    Ok(())
}

fn assert_hclog_lines(stderr: &str) {
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for key in ["@level", "@message", "@timestamp", "@module"] {
            assert!(entry[key].is_string(), "{key} is a string in {line}");
        }
    }
}

#[tokio::test]
async fn binary_without_cookie_explains_and_exits_1() -> anyhow::Result<()> {
    let plugin = PluginProcess::start(&[], &[])?;
    let (status, stdout, stderr) = plugin.wait_exit().await?;
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("Terraform"), "stderr: {stderr}");
    assert!(stderr.contains("--debug"), "stderr: {stderr}");
    assert!(stdout.is_empty(), "stdout: {stdout:?}");
    Ok(())
}

#[tokio::test]
async fn binary_help_goes_to_stderr_and_exits_0() -> anyhow::Result<()> {
    let plugin = PluginProcess::start(&["--help"], &[])?;
    let (status, stdout, stderr) = plugin.wait_exit().await?;
    assert!(status.success());
    assert!(stdout.is_empty(), "stdout: {stdout:?}");
    assert!(stderr.contains("--debug"), "stderr: {stderr}");
    Ok(())
}

#[tokio::test]
async fn binary_rejects_a_client_without_protocol_6() -> anyhow::Result<()> {
    let plugin = PluginProcess::start(
        &[],
        &[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
        ],
    )?;
    let (status, stdout, stderr) = plugin.wait_exit().await?;
    assert!(!status.success());
    assert!(stdout.is_empty(), "no handshake expected, got {stdout:?}");
    assert!(stderr.contains("protocol"), "stderr: {stderr}");
    Ok(())
}

#[tokio::test]
async fn binary_serves_health_and_exits_after_shutdown() -> anyhow::Result<()> {
    let mut plugin = PluginProcess::start(
        &[],
        &[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("TF_LOG", "DEBUG"),
        ],
    )?;
    let handshake = plugin.handshake().await?;
    assert!(
        handshake.server_cert.is_none(),
        "no TLS without PLUGIN_CLIENT_CERT"
    );
    assert!(
        handshake.socket.exists(),
        "socket {:?} exists",
        handshake.socket
    );

    let channel = plaintext_channel(&handshake.socket).await?;
    assert_eq!(
        health_status(channel.clone()).await?,
        ServingStatus::Serving
    );
    shutdown(channel).await?;

    let (status, rest_of_stdout, stderr) = plugin.wait_exit().await?;
    assert!(status.success(), "exit {status:?}, stderr: {stderr}");
    assert!(
        rest_of_stdout.is_empty(),
        "only the handshake on stdout: {rest_of_stdout:?}"
    );
    assert!(!handshake.socket.exists(), "socket removed on exit");

    // TF_LOG=DEBUG: hclog JSON on stderr, including where the plugin listened.
    assert_hclog_lines(&stderr);
    let address_logged = stderr.lines().any(|line| {
        serde_json::from_str::<serde_json::Value>(line).is_ok_and(|entry| {
            entry["@message"] == "plugin address"
                && entry["address"] == handshake.socket.display().to_string()
        })
    });
    assert!(address_logged, "stderr: {stderr}");
    Ok(())
}

#[tokio::test]
async fn binary_auto_mtls_accepts_only_terraforms_certificate() -> anyhow::Result<()> {
    let terraform = terraform_like_client_identity()?;
    let stranger = terraform_like_client_identity()?;
    let mut plugin = PluginProcess::start(
        &[],
        &[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "6,5"),
            ("PLUGIN_CLIENT_CERT", terraform.cert_pem.as_str()),
        ],
    )?;
    let handshake = plugin.handshake().await?;
    let server_cert = handshake
        .server_cert
        .clone()
        .context("AutoMTLS puts the server certificate in the handshake")?;

    let trusted = tls_channel(&handshake.socket, &server_cert, Some(&terraform)).await?;
    assert_eq!(health_status(trusted).await?, ServingStatus::Serving);

    let wrong_cert = async {
        let channel = tls_channel(&handshake.socket, &server_cert, Some(&stranger)).await?;
        health_status(channel).await
    }
    .await;
    assert!(
        wrong_cert.is_err(),
        "a different client certificate must be refused"
    );

    let no_cert = async {
        let channel = tls_channel(&handshake.socket, &server_cert, None).await?;
        health_status(channel).await
    }
    .await;
    assert!(
        no_cert.is_err(),
        "a client without a certificate must be refused"
    );

    let plaintext = async {
        let channel = plaintext_channel(&handshake.socket).await?;
        health_status(channel).await
    }
    .await;
    assert!(
        plaintext.is_err(),
        "plaintext must be refused when TLS is on"
    );

    // Failed handshakes dropped only those connections.
    let trusted_again = tls_channel(&handshake.socket, &server_cert, Some(&terraform)).await?;
    assert_eq!(
        health_status(trusted_again.clone()).await?,
        ServingStatus::Serving
    );
    shutdown(trusted_again).await?;

    let (status, _, stderr) = plugin.wait_exit().await?;
    assert!(status.success(), "exit {status:?}, stderr: {stderr}");
    Ok(())
}

#[tokio::test]
async fn binary_ignores_sigint_while_serving() -> anyhow::Result<()> {
    let mut plugin = PluginProcess::start(
        &[],
        &[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "6"),
        ],
    )?;
    let handshake = plugin.handshake().await?;
    let channel = plaintext_channel(&handshake.socket).await?;
    assert_eq!(
        health_status(channel.clone()).await?,
        ServingStatus::Serving
    );

    plugin.send_sigint()?;
    // A round trip through the server after the signal: a default SIGINT action would
    // have killed the process by the time it answers.
    assert_eq!(
        health_status(channel.clone()).await?,
        ServingStatus::Serving
    );
    plugin.send_sigint()?;
    assert_eq!(
        health_status(channel.clone()).await?,
        ServingStatus::Serving
    );
    assert!(plugin.still_running()?, "SIGINT must not stop the provider");

    shutdown(channel).await?;
    let (status, _, stderr) = plugin.wait_exit().await?;
    assert!(status.success(), "exit {status:?}, stderr: {stderr}");
    Ok(())
}

#[tokio::test]
async fn binary_debug_mode_prints_reattach_config() -> anyhow::Result<()> {
    // No cookie: debug mode is for people.
    let mut plugin = PluginProcess::start(&["--debug"], &[])?;
    let mut reattach = None;
    for _ in 0..10 {
        let line = plugin.read_stdout_line().await?;
        if let Some(value) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS=") {
            reattach = Some(value.trim_matches('\'').to_owned());
            break;
        }
    }
    let reattach = reattach.context("a TF_REATTACH_PROVIDERS line")?;
    let config: serde_json::Value = serde_json::from_str(&reattach)?;
    let entry = &config["registry.terraform.io/dbaas/dbaas"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], plugin.child.id().context("pid")?);
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = PathBuf::from(entry["Addr"]["String"].as_str().context("socket path")?);

    // Plaintext in debug mode, even though nothing asked for TLS explicitly.
    let channel = plaintext_channel(&socket).await?;
    assert_eq!(health_status(channel).await?, ServingStatus::Serving);

    // Ctrl-C is how a person stops a debug-mode provider.
    plugin.send_sigint()?;
    let (status, _, stderr) = plugin.wait_exit().await?;
    assert!(status.success(), "exit {status:?}, stderr: {stderr}");
    assert!(!socket.exists(), "socket removed on exit");
    Ok(())
}

/// A provider with just enough behaviour to check message limits in both directions.
struct EchoSizes;

const LARGE: usize = 5 << 20; // above tonic's 4 MiB default limit

#[tonic::async_trait]
impl Provider for EchoSizes {
    async fn get_provider_schema(
        &self,
        _request: Request<tfplugin6::get_provider_schema::Request>,
    ) -> Result<Response<tfplugin6::get_provider_schema::Response>, Status> {
        let block = tfplugin6::schema::Block {
            description: "x".repeat(LARGE),
            ..Default::default()
        };
        Ok(Response::new(tfplugin6::get_provider_schema::Response {
            provider: Some(tfplugin6::Schema {
                version: 1,
                block: Some(block),
            }),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<tfplugin6::validate_provider_config::Request>,
    ) -> Result<Response<tfplugin6::validate_provider_config::Response>, Status> {
        let received = request
            .into_inner()
            .config
            .map_or(0, |config| config.msgpack.len());
        Ok(Response::new(
            tfplugin6::validate_provider_config::Response {
                diagnostics: vec![tfplugin6::Diagnostic {
                    severity: tfplugin6::diagnostic::Severity::Warning as i32,
                    summary: received.to_string(),
                    ..Default::default()
                }],
            },
        ))
    }
}

fn in_process_options(socket_dir: &Path) -> ServeOptions {
    ServeOptions {
        provider_address: "registry.terraform.io/dbaas/dbaas".to_owned(),
        debug: false,
        magic_cookie: Some(MAGIC_COOKIE_VALUE.to_owned()),
        client_cert_pem: None,
        protocol_versions: Some("6,5".to_owned()),
        socket_dir: Some(socket_dir.to_path_buf()),
    }
}

#[tokio::test]
async fn serve_in_process_allows_large_messages_both_ways() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bound = serve::bind(in_process_options(dir.path())).await?;
    let socket = bound.socket_path().to_path_buf();
    let stop = bound.shutdown_handle();
    let server = tokio::spawn(bound.serve(EchoSizes));

    let channel = plaintext_channel(&socket).await?;
    let mut client = ProviderClient::new(channel)
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(256 << 20);

    let schema = guard(
        "GetProviderSchema",
        client.get_provider_schema(tfplugin6::get_provider_schema::Request {}),
    )
    .await??
    .into_inner();
    let description_len = schema
        .provider
        .and_then(|s| s.block)
        .map_or(0, |b| b.description.len());
    assert_eq!(description_len, LARGE);

    let config = tfplugin6::DynamicValue {
        msgpack: vec![0xc0; LARGE],
        json: Vec::new(),
    };
    let validated = guard(
        "ValidateProviderConfig",
        client.validate_provider_config(tfplugin6::validate_provider_config::Request {
            config: Some(config),
        }),
    )
    .await??
    .into_inner();
    assert_eq!(validated.diagnostics[0].summary, LARGE.to_string());

    // RPCs the provider does not implement answer Unimplemented (default stubs).
    let stop_provider = guard(
        "StopProvider",
        client.stop_provider(tfplugin6::stop_provider::Request {}),
    )
    .await?;
    assert_eq!(
        stop_provider.err().map(|status| status.code()),
        Some(tonic::Code::Unimplemented)
    );

    stop.shutdown();
    guard("serve to return", server).await???;
    assert!(!socket.exists(), "socket removed when serve returns");
    Ok(())
}

#[tokio::test]
async fn serve_in_process_stdio_and_broker_idle_until_shutdown() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bound = serve::bind(in_process_options(dir.path())).await?;
    let socket = bound.socket_path().to_path_buf();
    let server = tokio::spawn(bound.serve(EchoSizes));
    let channel = plaintext_channel(&socket).await?;

    // Stdio: the call succeeds and the stream stays open without data.
    let mut stdio = guard(
        "StreamStdio",
        GrpcStdioClient::new(channel.clone()).stream_stdio(()),
    )
    .await??
    .into_inner();

    // Broker: accepted; the client's messages are read and ignored. Keep our side open.
    let (broker_tx, broker_rx) = tokio::sync::mpsc::channel::<ConnInfo>(4);
    broker_tx
        .send(ConnInfo {
            service_id: 1,
            network: "unix".to_owned(),
            address: "/nowhere".to_owned(),
            knock: None,
        })
        .await?;
    let mut broker = guard(
        "StartStream",
        GrpcBrokerClient::new(channel.clone())
            .start_stream(tokio_stream::wrappers::ReceiverStream::new(broker_rx)),
    )
    .await??
    .into_inner();

    // Shutdown (graceful) ends both long-lived streams cleanly, then serve returns.
    shutdown(channel).await?;
    let stdio_end = guard("stdio stream end", stdio.message()).await??;
    assert!(stdio_end.is_none(), "stdio never carries data");
    let broker_end = guard("broker stream end", broker.message()).await??;
    assert!(broker_end.is_none(), "broker never sends");
    drop(broker_tx);

    match guard("serve to return", server).await?? {
        Ok(()) => {}
        Err(error) => bail!("serve failed: {error}"),
    }
    assert!(!socket.exists());
    Ok(())
}

#[tokio::test]
async fn bind_rejects_missing_cookie_and_old_protocols() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut no_cookie = in_process_options(dir.path());
    no_cookie.magic_cookie = None;
    assert!(matches!(
        serve::bind(no_cookie).await,
        Err(serve::ServeError::NotLaunchedByTerraform)
    ));

    let mut old = in_process_options(dir.path());
    old.protocol_versions = Some("4,5".to_owned());
    match serve::bind(old).await {
        Err(serve::ServeError::UnsupportedProtocol { offered }) => assert_eq!(offered, "4,5"),
        other => bail!("expected UnsupportedProtocol, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_dir(dir.path())?.count(),
        0,
        "no socket left behind"
    );
    Ok(())
}
