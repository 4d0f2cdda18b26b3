//! go-plugin serving: the handshake Terraform (and OpenTofu) expect from a provider binary.
//!
//! Terraform starts the provider with a magic cookie, the plugin protocol versions it speaks
//! and (with AutoMTLS, the default) its own client certificate in the environment. The
//! provider listens on a unix socket, prints one handshake line on stdout
//! (`1|6|unix|<socket>|grpc|<server cert>`) and serves `tfplugin6.Provider` plus go-plugin's
//! own services over gRPC until Terraform calls `GRPCController.Shutdown`.
//!
//! [`bind`] does everything that can fail before the handshake (checks, socket, TLS) and
//! prints nothing; the caller prints [`BoundPlugin::handshake_line`] and then calls
//! [`BoundPlugin::serve`].

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt as _};
use tonic::transport::Server;
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;

use super::proto::plugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use super::proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use super::proto::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use super::proto::plugin::{ConnInfo, Empty, StdioData};
use super::proto::tfplugin6::provider_server::{Provider, ProviderServer};

/// Environment variable holding the magic cookie; its only purpose is a friendly message
/// when someone runs the binary by hand.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The cookie value Terraform and OpenTofu set for providers.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version, the first handshake field.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only plugin protocol this provider speaks (tfplugin6).
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;
/// Message size limit in both directions, as terraform-plugin-go sets it: tonic's 4 MiB
/// default is too small for large schemas, configurations and states.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;
/// gRPC health service name go-plugin reports as SERVING.
pub const HEALTH_SERVICE_NAME: &str = "plugin";

/// How long a graceful stop may wait for open calls before connections are dropped.
/// Terraform kills the process two seconds after Shutdown anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// A client that connects but never finishes the TLS handshake is dropped after this.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop cannot spin.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Everything [`bind`] needs to know, usually read from the environment by
/// [`ServeOptions::from_env`]; tests build it directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Provider source address, the key of the `TF_REATTACH_PROVIDERS` JSON in debug mode
    /// (e.g. `registry.terraform.io/dbaas/dbaas`).
    pub provider_address: String,
    /// Debug (reattach) mode: started by hand, no cookie, plaintext, and Terraform attaches
    /// through `TF_REATTACH_PROVIDERS`.
    pub debug: bool,
    /// The value of `TF_PLUGIN_MAGIC_COOKIE`; must equal [`MAGIC_COOKIE_VALUE`] unless `debug`.
    pub magic_cookie: Option<String>,
    /// PEM of Terraform's client certificate (`PLUGIN_CLIENT_CERT`); when present the server
    /// speaks mutual TLS and accepts only that certificate.
    pub client_cert_pem: Option<String>,
    /// Protocol versions the client speaks (`PLUGIN_PROTOCOL_VERSIONS`, e.g. "5,6" in any
    /// order); 6 must be among them.
    pub protocol_versions: Option<String>,
    /// Directory for the unix socket (`PLUGIN_UNIX_SOCKET_DIR`); the temp dir otherwise.
    pub socket_dir: Option<PathBuf>,
}

impl ServeOptions {
    /// Reads the go-plugin variables from the process environment.
    pub fn from_env(provider_address: &str, debug: bool) -> Self {
        Self::from_lookup(provider_address, debug, |key| std::env::var(key).ok())
    }

    /// Like [`ServeOptions::from_env`] with an injectable environment getter. Empty values
    /// count as unset, as go-plugin treats them.
    pub fn from_lookup(
        provider_address: &str,
        debug: bool,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let get = |key: &str| lookup(key).filter(|value| !value.is_empty());
        Self {
            provider_address: provider_address.to_owned(),
            debug,
            magic_cookie: get(MAGIC_COOKIE_KEY),
            client_cert_pem: get("PLUGIN_CLIENT_CERT"),
            protocol_versions: get("PLUGIN_PROTOCOL_VERSIONS"),
            socket_dir: get("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from),
        }
    }
}

/// Why the plugin could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The magic cookie is missing or wrong: a person ran the binary by hand.
    #[error(
        "not launched by Terraform: the {MAGIC_COOKIE_KEY} environment variable is missing or wrong"
    )]
    NotLaunchedByTerraform,
    /// The client does not speak plugin protocol 6.
    #[error(
        "Terraform offered plugin protocol version(s) {offered:?}, but this provider speaks only version {PLUGIN_PROTOCOL_VERSION} (Terraform 0.15 or later, or OpenTofu)"
    )]
    UnsupportedProtocol {
        /// The raw `PLUGIN_PROTOCOL_VERSIONS` value, for the error message.
        offered: String,
    },
    /// Creating or listening on the unix socket failed.
    #[error("plugin socket: {0}")]
    Io(#[from] io::Error),
    /// Preparing the AutoMTLS configuration failed.
    #[error("plugin TLS setup: {0}")]
    Tls(#[from] TlsSetupError),
    /// The gRPC server failed.
    #[error("plugin gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Why AutoMTLS could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// `PLUGIN_CLIENT_CERT` does not hold a PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not contain a PEM certificate: {0}")]
    InvalidClientCert(String),
    /// Generating the server certificate failed.
    #[error("generating the server certificate: {0}")]
    CertificateGeneration(#[from] rcgen::Error),
    /// rustls rejected the configuration.
    #[error("building the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Picks the protocol version from `PLUGIN_PROTOCOL_VERSIONS`. Like go-plugin, entries that
/// are not numbers are skipped and an absent list means "the plugin's default" (6).
pub(crate) fn negotiate_protocol(offered: Option<&str>) -> Result<u32, ServeError> {
    let Some(offered) = offered.map(str::trim).filter(|o| !o.is_empty()) else {
        return Ok(PLUGIN_PROTOCOL_VERSION);
    };
    let speaks_ours = offered
        .split(',')
        .filter_map(|entry| entry.trim().parse::<u32>().ok())
        .any(|version| version == PLUGIN_PROTOCOL_VERSION);
    if speaks_ours {
        Ok(PLUGIN_PROTOCOL_VERSION)
    } else {
        Err(ServeError::UnsupportedProtocol {
            offered: offered.to_owned(),
        })
    }
}

/// Checks the environment, binds the unix socket and prepares TLS. Prints nothing: the
/// caller prints [`BoundPlugin::handshake_line`] (or the reattach hint in debug mode).
///
/// From here on SIGINT no longer kills the process: Ctrl-C reaches the whole process group
/// and Terraform cancels with StopProvider instead. In debug mode SIGINT stops the server
/// gracefully, since a person started it and Ctrl-C is how they stop it.
pub async fn bind(opts: ServeOptions) -> Result<BoundPlugin, ServeError> {
    if !opts.debug && opts.magic_cookie.as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(ServeError::NotLaunchedByTerraform);
    }
    let protocol_version = if opts.debug {
        PLUGIN_PROTOCOL_VERSION
    } else {
        negotiate_protocol(opts.protocol_versions.as_deref())?
    };

    let tls = match (opts.debug, opts.client_cert_pem.as_deref()) {
        (false, Some(pem)) => Some(AutoMtls::new(pem)?),
        _ => None,
    };

    let dir = opts.socket_dir.clone().unwrap_or_else(std::env::temp_dir);
    let (listener, socket) = bind_unix_socket(&dir)?;
    let (shutdown, _) = watch::channel(false);
    handle_interrupts(opts.debug, shutdown.clone())?;

    tracing::debug!(
        network = "unix",
        address = %socket.path().display(),
        "plugin address"
    );
    tracing::debug!(
        tls = if tls.is_some() {
            "auto-mtls"
        } else {
            "plaintext"
        },
        debug_mode = opts.debug,
        protocol_version,
        "plugin transport"
    );

    Ok(BoundPlugin {
        listener,
        socket,
        protocol_version,
        tls,
        provider_address: opts.provider_address,
        shutdown,
    })
}

/// A plugin whose socket is bound and whose TLS is ready, waiting to serve.
pub struct BoundPlugin {
    /// The listening socket, handed to the gRPC server by [`BoundPlugin::serve`].
    listener: UnixListener,
    /// Removes the socket file when the plugin is done (or never served).
    socket: SocketFile,
    /// Negotiated plugin protocol version, the handshake's second field.
    protocol_version: u32,
    /// AutoMTLS material when Terraform asked for it.
    tls: Option<AutoMtls>,
    /// Key of the reattach JSON in debug mode.
    provider_address: String,
    /// Set to `true` to stop serving (Shutdown RPC, debug-mode Ctrl-C, [`ShutdownHandle`]).
    shutdown: watch::Sender<bool>,
}

impl fmt::Debug for BoundPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundPlugin")
            .field("socket", &self.socket.path())
            .field("protocol_version", &self.protocol_version)
            .field("tls", &self.tls.is_some())
            .field("provider_address", &self.provider_address)
            .finish_non_exhaustive()
    }
}

/// Stops a serving plugin from outside (tests, embedding); the same as the Shutdown RPC.
#[derive(Debug, Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    /// Asks the server to stop gracefully; [`BoundPlugin::serve`] then returns.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

impl BoundPlugin {
    /// Path of the unix socket the plugin listens on.
    pub fn socket_path(&self) -> &Path {
        self.socket.path()
    }

    /// The negotiated plugin protocol version.
    pub fn protocol_version(&self) -> u32 {
        self.protocol_version
    }

    /// DER of the AutoMTLS server certificate, when TLS is on.
    pub fn server_certificate_der(&self) -> Option<&[u8]> {
        self.tls.as_ref().map(|tls| tls.server_cert_der.as_ref())
    }

    /// The one handshake line, e.g. `1|6|unix|/tmp/plugin123|grpc|MIIB...` (no trailing
    /// newline). The last field is the server certificate as unpadded base64 of its DER
    /// ("the protocol can't handle newlines"), empty without TLS.
    pub fn handshake_line(&self) -> String {
        let server_cert = self
            .tls
            .as_ref()
            .map(|tls| STANDARD_NO_PAD.encode(tls.server_cert_der.as_ref()))
            .unwrap_or_default();
        format!(
            "{CORE_PROTOCOL_VERSION}|{}|unix|{}|grpc|{server_cert}",
            self.protocol_version,
            self.socket.path().display()
        )
    }

    /// In debug mode: the `TF_REATTACH_PROVIDERS` JSON value. `Test: true` makes Terraform
    /// use `ProtocolVersion` (otherwise it assumes protocol 5) and leave the process running
    /// between commands. A `registry.terraform.io` address is also given under
    /// `registry.opentofu.org`, where OpenTofu resolves the same `source`: one value serves both
    /// (each ignores entries for providers its configuration does not use).
    pub fn reattach_json(&self) -> String {
        let entry = serde_json::json!({
            "Protocol": "grpc",
            "ProtocolVersion": self.protocol_version,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {
                "Network": "unix",
                "String": self.socket.path().display().to_string(),
            },
        });
        let mut config = serde_json::Map::new();
        config.insert(self.provider_address.clone(), entry.clone());
        if let Some(path) = self.provider_address.strip_prefix("registry.terraform.io/") {
            config.insert(format!("registry.opentofu.org/{path}"), entry);
        }
        serde_json::Value::Object(config).to_string()
    }

    /// A handle that stops the server like the Shutdown RPC does.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Serves `tfplugin6.Provider` (`provider`, with 256 MiB message limits) plus health
    /// ("plugin" SERVING), `plugin.GRPCController` (Shutdown stops gracefully, then answers),
    /// `plugin.GRPCStdio` (a stream that stays open and sends nothing, so nothing shows up as
    /// "unexpected data" in Terraform's log) and `plugin.GRPCBroker` (accepted, idle).
    /// Returns once shut down; the socket file is removed on return.
    pub async fn serve<P: Provider>(self, provider: P) -> Result<(), ServeError> {
        let BoundPlugin {
            listener,
            socket,
            tls,
            shutdown,
            ..
        } = self;

        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_service_status(HEALTH_SERVICE_NAME, ServingStatus::Serving)
            .await;

        let router = Server::builder()
            .add_service(health_service)
            .add_service(GrpcControllerServer::new(Controller {
                shutdown: shutdown.clone(),
            }))
            .add_service(GrpcStdioServer::new(Stdio {
                shutdown: shutdown.clone(),
            }))
            .add_service(GrpcBrokerServer::new(Broker {
                shutdown: shutdown.clone(),
            }))
            .add_service(
                ProviderServer::new(provider)
                    .max_decoding_message_size(MAX_MESSAGE_SIZE)
                    .max_encoding_message_size(MAX_MESSAGE_SIZE),
            );

        let stop_requested = wait_for_shutdown(shutdown.subscribe());
        let result = match tls {
            Some(tls) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config);
                let incoming = accept_connections(listener, shutdown.subscribe(), move |stream| {
                    let acceptor = acceptor.clone();
                    async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(tls_stream)) => Some(tls_stream),
                            Ok(Err(error)) => {
                                tracing::warn!(%error, "rejected plugin connection: TLS handshake failed");
                                None
                            }
                            Err(_) => {
                                tracing::warn!(
                                    "rejected plugin connection: TLS handshake timed out"
                                );
                                None
                            }
                        }
                    }
                });
                run_until_stopped(
                    router.serve_with_incoming_shutdown(incoming, stop_requested),
                    shutdown.subscribe(),
                )
                .await
            }
            None => {
                let incoming =
                    accept_connections(listener, shutdown.subscribe(), |stream| async move {
                        Some(stream)
                    });
                run_until_stopped(
                    router.serve_with_incoming_shutdown(incoming, stop_requested),
                    shutdown.subscribe(),
                )
                .await
            }
        };

        health_reporter
            .set_service_status(HEALTH_SERVICE_NAME, ServingStatus::NotServing)
            .await;
        tracing::debug!(address = %socket.path().display(), "plugin server stopped");
        drop(socket);
        result.map_err(ServeError::from)
    }
}

/// Resolves once a shutdown has been requested (or every sender is gone).
async fn wait_for_shutdown(mut shutdown: watch::Receiver<bool>) {
    // An error means all senders are dropped, which also means "stop".
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}

/// Runs the server future; once a shutdown is requested it gets [`SHUTDOWN_GRACE`] to
/// finish open calls (e.g. a health Watch stream that never ends) before it is dropped.
async fn run_until_stopped<F>(
    server: F,
    shutdown: watch::Receiver<bool>,
) -> Result<(), tonic::transport::Error>
where
    F: Future<Output = Result<(), tonic::transport::Error>>,
{
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result,
        () = async {
            wait_for_shutdown(shutdown).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("plugin calls still open after the shutdown grace period; closing connections");
            Ok(())
        }
    }
}

/// Accepts unix connections until shutdown, preparing each one (e.g. the TLS handshake)
/// in its own task so a slow or failing client never blocks or stops the others.
fn accept_connections<IO, F, Fut>(
    listener: UnixListener,
    shutdown: watch::Receiver<bool>,
    prepare: F,
) -> impl Stream<Item = Result<IO, io::Error>>
where
    IO: Send + 'static,
    F: Fn(UnixStream) -> Fut + Send + 'static,
    Fut: Future<Output = Option<IO>> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel::<IO>(16);
    tokio::spawn(async move {
        let stop = wait_for_shutdown(shutdown);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let sender = sender.clone();
                        let prepared = prepare(stream);
                        tokio::spawn(async move {
                            if let Some(io) = prepared.await {
                                // The server may already be gone; then the connection just closes.
                                let _ = sender.send(io).await;
                            }
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accepting a plugin connection failed");
                        tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
                    }
                },
            }
        }
    });
    ReceiverStream::new(receiver).map(Ok)
}

/// The socket file, removed when dropped (go-plugin removes it on exit too).
struct SocketFile(PathBuf);

impl SocketFile {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds a unix socket named `plugin<random>` in `dir`, like go-plugin's temp-file name.
fn bind_unix_socket(dir: &Path) -> Result<(UnixListener, SocketFile), io::Error> {
    const ATTEMPTS: usize = 16;
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let path = dir.join(format!("plugin{}", rand::random::<u32>()));
        match UnixListener::bind(&path) {
            Ok(listener) => return Ok((listener, SocketFile(path))),
            Err(error) if error.kind() == io::ErrorKind::AddrInUse => last_error = Some(error),
            Err(error) => {
                return Err(io::Error::new(
                    error.kind(),
                    format!("binding {}: {error}", path.display()),
                ));
            }
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free socket name")))
}

/// Registers a SIGINT handler for the rest of the process lifetime (tokio never restores
/// the default action): ignored normally, a graceful stop in debug mode.
fn handle_interrupts(debug: bool, shutdown: watch::Sender<bool>) -> Result<(), io::Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupts = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let mut count: u64 = 0;
        while interrupts.recv().await.is_some() {
            count += 1;
            if debug {
                tracing::info!("interrupt received, stopping the debug-mode provider");
                shutdown.send_replace(true);
            } else {
                tracing::trace!(count, "plugin received interrupt signal, ignoring");
            }
        }
    });
    Ok(())
}

/// AutoMTLS material: the rustls server configuration and our certificate for the handshake.
struct AutoMtls {
    /// TLS 1.2+/h2 server configuration requiring Terraform's client certificate.
    server_config: Arc<rustls::ServerConfig>,
    /// Our self-signed certificate, sent base64-encoded in the handshake line.
    server_cert_der: CertificateDer<'static>,
}

impl AutoMtls {
    fn new(client_cert_pem: &str) -> Result<Self, TlsSetupError> {
        let client_cert = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
            .map_err(|error| TlsSetupError::InvalidClientCert(error.to_string()))?;
        let (server_cert_der, server_key) = generate_server_certificate()?;

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = PinnedClientCert {
            expected: client_cert,
            algorithms: provider.signature_verification_algorithms,
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_single_cert(vec![server_cert_der.clone()], server_key)?;
        // grpc-go enforces ALPN "h2" on TLS connections.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Self {
            server_config: Arc::new(config),
            server_cert_der,
        })
    }
}

/// A fresh self-signed server certificate, as go-plugin's `generateCert` makes one: CN and
/// SAN `localhost` (Terraform verifies the name `localhost`), server and client auth,
/// valid from 30 seconds ago (clock skew) for ten years. ECDSA P-256; the key stays in memory.
fn generate_server_certificate()
-> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsSetupError> {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };
    let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    name.push(DnType::OrganizationName, "terraform-provider-dbaas");
    params.distinguished_name = name;
    // Not a CA: the client trusts this exact certificate as its root, and webpki-based
    // clients refuse a CA certificate presented as the end entity.
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now = rcgen::date_time_ymd(1970, 1, 1) + since_epoch;
    params.not_before = now - Duration::from_secs(30);
    params.not_after = now + Duration::from_secs(10 * 366 * 24 * 3600);
    params.serial_number = Some(rcgen::SerialNumber::from_slice(
        &rand::random::<[u8; 16]>().map(|b| b & 0x7f),
    ));

    let certificate = params.self_signed(&key_pair)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    Ok((certificate.der().clone(), key))
}

/// Client certificate verifier that requires a certificate and accepts exactly the one
/// Terraform announced in `PLUGIN_CLIENT_CERT`. Pinning instead of webpki path building:
/// Terraform's certificate is a self-signed CA certificate (ECDSA P-521), which webpki
/// refuses as an end entity.
struct PinnedClientCert {
    /// DER of the only acceptable client certificate.
    expected: CertificateDer<'static>,
    /// Signature algorithms of the crypto provider (aws-lc-rs includes ECDSA P-521/SHA-512).
    algorithms: WebPkiSupportedAlgorithms,
}

impl fmt::Debug for PinnedClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedClientCert").finish_non_exhaustive()
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: a Go client then offers its only certificate whatever its issuer.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `plugin.GRPCController`: Terraform's "we are done with you".
struct Controller {
    /// Flipped to `true` to stop the server.
    shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by the plugin client");
        // Graceful: no new connections, open calls (this one included) finish first.
        self.shutdown.send_replace(true);
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: a stream that stays open and sends nothing, ending at shutdown so it
/// never holds up a graceful stop.
struct Stdio {
    /// Watched so the stream ends when the server stops.
    shutdown: watch::Sender<bool>,
}

type BoxStream<T> = std::pin::Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that yields nothing and ends once a shutdown is requested.
fn idle_until_shutdown<T: Send + 'static>(shutdown: watch::Receiver<bool>) -> BoxStream<T> {
    Box::pin(futures::stream::unfold(shutdown, |receiver| async move {
        wait_for_shutdown(receiver).await;
        None::<(Result<T, Status>, watch::Receiver<bool>)>
    }))
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<StdioData>>, Status> {
        Ok(Response::new(idle_until_shutdown(
            self.shutdown.subscribe(),
        )))
    }
}

/// `plugin.GRPCBroker`: Terraform opens the stream but providers never broker extra
/// connections; incoming messages are read and ignored, nothing is sent.
struct Broker {
    /// Watched so the stream ends when the server stops.
    shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        request: Request<tonic::Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        let stream = futures::stream::unfold(
            (request.into_inner(), self.shutdown.subscribe()),
            |(inbound, shutdown)| next_broker_item(inbound, shutdown),
        );
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Drains the client's broker messages until it closes its side or the server stops; never
/// yields an item, so the response stream ends at that point.
async fn next_broker_item(
    mut inbound: tonic::Streaming<ConnInfo>,
    shutdown: watch::Receiver<bool>,
) -> Option<(
    Result<ConnInfo, Status>,
    (tonic::Streaming<ConnInfo>, watch::Receiver<bool>),
)> {
    let stop = wait_for_shutdown(shutdown);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return None,
            message = inbound.message() => match message {
                Ok(Some(info)) => {
                    tracing::trace!(service_id = info.service_id, "ignoring broker message");
                }
                // The client closed its side (or broke): end ours too.
                Ok(None) | Err(_) => return None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_protocol_accepts_six_in_any_order() {
        assert_eq!(negotiate_protocol(Some("5,6")).ok(), Some(6));
        assert_eq!(negotiate_protocol(Some("6,5")).ok(), Some(6));
        assert_eq!(negotiate_protocol(Some(" 6 ")).ok(), Some(6));
        assert_eq!(negotiate_protocol(Some("x,6")).ok(), Some(6));
    }

    #[test]
    fn negotiate_protocol_rejects_lists_without_six() {
        for offered in ["5", "4,5", "7", "junk"] {
            match negotiate_protocol(Some(offered)) {
                Err(ServeError::UnsupportedProtocol { offered: got }) => assert_eq!(got, offered),
                other => panic!("{offered}: expected UnsupportedProtocol, got {other:?}"),
            }
        }
    }

    #[test]
    fn negotiate_protocol_defaults_to_six_when_absent() {
        assert_eq!(negotiate_protocol(None).ok(), Some(6));
        assert_eq!(negotiate_protocol(Some("")).ok(), Some(6));
    }

    #[test]
    fn serve_options_from_lookup_treats_empty_as_unset() {
        let opts = ServeOptions::from_lookup("example.com/a/b", false, |key| match key {
            MAGIC_COOKIE_KEY => Some(MAGIC_COOKIE_VALUE.to_owned()),
            "PLUGIN_CLIENT_CERT" => Some(String::new()),
            "PLUGIN_PROTOCOL_VERSIONS" => Some("6,5".to_owned()),
            "PLUGIN_UNIX_SOCKET_DIR" => Some("/run/x".to_owned()),
            _ => None,
        });
        assert_eq!(opts.magic_cookie.as_deref(), Some(MAGIC_COOKIE_VALUE));
        assert_eq!(opts.client_cert_pem, None);
        assert_eq!(opts.protocol_versions.as_deref(), Some("6,5"));
        assert_eq!(opts.socket_dir, Some(PathBuf::from("/run/x")));
        assert_eq!(opts.provider_address, "example.com/a/b");
    }

    #[test]
    fn generated_server_certificate_is_localhost_and_current() {
        let (der, _key) = generate_server_certificate().expect("certificate");
        // Parse it back with rustls' webpki to check the name and validity window.
        let cert = webpki_end_entity(&der);
        assert!(cert, "certificate is usable for localhost now");
    }

    fn webpki_end_entity(der: &CertificateDer<'static>) -> bool {
        let mut roots = rustls::RootCertStore::empty();
        if roots.add(der.clone()).is_err() {
            return false;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let Ok(verifier) =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
        else {
            return false;
        };
        use rustls::client::danger::ServerCertVerifier as _;
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        verifier
            .verify_server_cert(der, &[], &name, &[], UnixTime::now())
            .is_ok()
    }

    #[test]
    fn pinned_verifier_accepts_only_the_announced_certificate() {
        let (announced, _) = generate_server_certificate().expect("certificate");
        let (other, _) = generate_server_certificate().expect("certificate");
        let verifier = PinnedClientCert {
            expected: announced.clone(),
            algorithms: rustls::crypto::aws_lc_rs::default_provider()
                .signature_verification_algorithms,
        };
        assert!(verifier.client_auth_mandatory());
        assert!(
            verifier
                .verify_client_cert(&announced, &[], UnixTime::now())
                .is_ok()
        );
        assert!(
            verifier
                .verify_client_cert(&other, &[], UnixTime::now())
                .is_err()
        );
        assert!(
            verifier
                .supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }

    #[test]
    fn auto_mtls_rejects_garbage_client_cert() {
        assert!(matches!(
            AutoMtls::new("not a certificate"),
            Err(TlsSetupError::InvalidClientCert(_))
        ));
    }

    #[tokio::test]
    async fn bind_without_cookie_is_not_launched_by_terraform() {
        let opts = ServeOptions {
            provider_address: "registry.terraform.io/dbaas/dbaas".into(),
            debug: false,
            magic_cookie: Some("wrong".into()),
            client_cert_pem: None,
            protocol_versions: Some("6".into()),
            socket_dir: None,
        };
        assert!(matches!(
            bind(opts).await,
            Err(ServeError::NotLaunchedByTerraform)
        ));
    }

    #[tokio::test]
    async fn bound_plugin_handshake_and_reattach_describe_the_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = ServeOptions {
            provider_address: "registry.terraform.io/dbaas/dbaas".into(),
            debug: true,
            magic_cookie: None,
            client_cert_pem: None,
            protocol_versions: None,
            socket_dir: Some(dir.path().to_path_buf()),
        };
        let bound = bind(opts).await.expect("bind");
        let socket = bound.socket_path().to_path_buf();
        assert!(socket.starts_with(dir.path()));
        assert!(
            socket
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("plugin"))
        );
        assert_eq!(
            bound.handshake_line(),
            format!("1|6|unix|{}|grpc|", socket.display())
        );

        let reattach: serde_json::Value =
            serde_json::from_str(&bound.reattach_json()).expect("JSON");
        let entry = &reattach["registry.terraform.io/dbaas/dbaas"];
        assert_eq!(entry["Protocol"], "grpc");
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Test"], true);
        assert_eq!(entry["Pid"], std::process::id());
        assert_eq!(entry["Addr"]["Network"], "unix");
        assert_eq!(entry["Addr"]["String"], socket.display().to_string());
        // The same socket for OpenTofu, which resolves `dbaas/dbaas` to its own registry.
        assert_eq!(&reattach["registry.opentofu.org/dbaas/dbaas"], entry);
        assert_eq!(reattach.as_object().map(|o| o.len()), Some(2));

        drop(bound);
        assert!(
            !socket.exists(),
            "socket file removed with the bound plugin"
        );
    }
}
