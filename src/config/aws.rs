//! The AWS side of the configuration: the SDK's standard chain, the one
//! HTTPS client (and the CA certificates it trusts, which Gu1's API client
//! shares), the timeouts and retries of every call, and the clients.

use super::{ConfigError, var};
use crate::limits::{AWS_ATTEMPT_TIMEOUT, AWS_CONNECT_TIMEOUT, AWS_OPERATION_TIMEOUT};
use aws_config::BehaviorVersion;
use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::meta::region::ProvideRegion;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{ProvideCredentials, SharedHttpClient};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::SdkConfig;
use rustls::pki_types::pem::PemObject;

/// The region variable, named in the error when no source gives a region.
pub const REGION_VAR: &str = "AWS_REGION";
/// A PEM file of CA certificates to trust *instead of* the system's.
pub const CA_FILE_VAR: &str = "SSL_CERT_FILE";
/// Directories (`:`-separated) of PEM files to trust *instead of* the system's.
pub const CA_DIR_VAR: &str = "SSL_CERT_DIR";

/// The AWS configuration of every client: the SDK's standard chain
/// (`aws-config`) for the region, credentials and endpoints, with the one
/// HTTPS client and the timeouts below.
///
/// The chain is what every AWS user expects: the environment (what Lambda
/// sets), `AWS_PROFILE` and the shared config and credentials files (not
/// SSO profiles: that feature does not fit the package budget),
/// web identity (EKS) and container (ECS) credentials, instance metadata;
/// `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_DYNAMODB`,
/// `_SQS`, `_SECRETS_MANAGER`. Fails closed: without a region, or without
/// credentials from any source, nothing starts (the credentials are fetched
/// once here, so that a mistake shows at start and not at the first
/// delivery; from the environment that costs no I/O). `roots` are the CAs
/// to trust, read once per process ([`Roots::from_env`]).
pub async fn sdk_config_from_env(roots: &Roots) -> Result<SdkConfig, ConfigError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client(roots)?)
        .timeout_config(timeouts());
    // The environment is the first source of the region and credentials
    // chains, and where Lambda puts both. When it has them, the chains would
    // never look further, so they are not built: building them builds an STS
    // client (web identity) and two instance-metadata clients, a fifth of
    // the start-up's instructions (BENCHMARKS.md). Same values, same order;
    // without them, the chains as usual.
    let region = EnvironmentVariableRegionProvider::new();
    if region.region().await.is_some() {
        loader = loader.region(region);
    }
    let credentials = EnvironmentVariableCredentialsProvider::new();
    if credentials.provide_credentials().await.is_ok() {
        loader = loader.credentials_provider(credentials);
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(ConfigError::Missing(REGION_VAR));
    }
    let credentials = sdk
        .credentials_provider()
        .ok_or(ConfigError::NoCredentialsProvider)?;
    credentials
        .provide_credentials()
        .await
        .map_err(|e| ConfigError::NoCredentials(e.into()))?;
    Ok(sdk)
}

/// An explicit AWS configuration (one region, fixed credentials, one
/// endpoint) with the same HTTPS client, trusting the system's CAs, and the
/// same timeouts: for the tests' own clients (feature `test-util`).
#[cfg(any(test, feature = "test-util"))]
pub fn sdk_config(
    region: aws_sdk_dynamodb::config::Region,
    credentials: aws_sdk_dynamodb::config::Credentials,
    endpoint: Option<String>,
) -> SdkConfig {
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .timeout_config(timeouts());
    if let Ok(client) = https_client(&Roots::System) {
        config.set_http_client(Some(client));
    }
    config.set_endpoint_url(endpoint);
    config.build()
}

/// The CA certificates HTTPS calls trust, AWS's and Gu1's alike.
#[derive(Debug, Clone)]
pub enum Roots {
    /// The system's (in Lambda, the runtime image's CA bundle).
    System,
    /// Only these PEM certificates (`SSL_CERT_FILE`, `SSL_CERT_DIR`), e.g.
    /// behind a TLS-inspecting proxy: the system's are not read at all.
    Pem(Vec<u8>),
}

impl Roots {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut pem = Vec::new();
        if let Some(file) = var(CA_FILE_VAR) {
            pem.extend(read_ca(std::path::Path::new(&file))?);
        }
        for dir in var(CA_DIR_VAR).iter().flat_map(|dirs| dirs.split(':')) {
            let entries = std::fs::read_dir(dir).map_err(|source| ConfigError::CaUnreadable {
                path: dir.into(),
                source,
            })?;
            let mut files: Vec<_> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for file in files {
                pem.extend(read_ca(&file)?);
                pem.push(b'\n');
            }
        }
        if var(CA_FILE_VAR).is_none() && var(CA_DIR_VAR).is_none() {
            return Ok(Self::System);
        }
        let certificates = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ConfigError::CaNotPem)?;
        // Only the certificates rustls takes as trust anchors go on: the SDK
        // would panic on the first call over one it cannot use.
        let mut usable = Vec::new();
        for certificate in certificates {
            if rustls::RootCertStore::empty()
                .add(certificate.clone())
                .is_ok()
            {
                usable.extend(pem_block(&certificate));
            }
        }
        if usable.is_empty() {
            return Err(ConfigError::NoUsableCa);
        }
        Ok(Self::Pem(usable))
    }
}

/// One certificate as a PEM block, the form the SDK's trust store takes.
fn pem_block(certificate: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(certificate);
    let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    for line in body.as_bytes().chunks(64) {
        pem.extend_from_slice(line);
        pem.push(b'\n');
    }
    pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    pem
}

fn read_ca(path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::CaUnreadable {
        path: path.to_owned(),
        source,
    })
}

/// The HTTPS client of every AWS call: the SDK's own hyper client on rustls,
/// with ring for its cryptography instead of the default aws-lc, which adds
/// more to the deployment package than this Lambda gains from it.
fn https_client(roots: &Roots) -> Result<SharedHttpClient, ConfigError> {
    let trust_store = match roots {
        Roots::System => tls::TrustStore::default(),
        Roots::Pem(pem) => tls::TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(pem.clone()),
    };
    let context = tls::TlsContext::builder()
        .with_trust_store(trust_store)
        .build()
        .map_err(ConfigError::TrustStore)?;
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https();
    Ok(SharedHttpClient::new(TrustStoreWarming::start(
        client, roots,
    )))
}

/// The SDK's HTTPS client, whose trust store is warmed (read) in the
/// background rather than as each SDK client is built. As each is built
/// (`validate_base_client_config`), it reads and parses the system's CA
/// certificates, file reads and PEM parsing on the start-up
/// path of every command (BENCHMARKS.md). This wrapper lets the clients be
/// built without it, and does that reading once per process on a background
/// thread (the SDK keeps what it read in a process-wide cache); the first
/// call finds the certificates read (or waits for that thread), so nothing
/// is trusted less and nothing is read twice. Certificates from
/// `SSL_CERT_*` are already read: nothing to warm for them.
#[derive(Debug)]
struct TrustStoreWarming(SharedHttpClient);

impl TrustStoreWarming {
    fn start(client: SharedHttpClient, roots: &Roots) -> Self {
        static WARM: std::sync::Once = std::sync::Once::new();
        if matches!(roots, Roots::System) {
            let warm = client.clone();
            WARM.call_once(|| {
                std::thread::spawn(move || {
                    yield_to_start_up();
                    let components = RuntimeComponentsBuilder::new("gu1-webhook-trust-store");
                    let _ = warm.validate_base_client_config(&components, &ConfigBag::base());
                });
            });
        }
        Self(client)
    }
}

/// Puts the calling thread in Linux's idle scheduling class, so that reading
/// the certificates takes only CPU time nothing else wants: the start-up
/// itself, and on a small machine the Lambda service's own processes, go
/// first. Measured (BENCHMARKS.md): at normal priority, or even at nice 19,
/// the reading made the slowest starts slower (p90 0.25–1.4 ms over the
/// same binary trusting one root); in the idle class the two start alike.
/// The main thread waits for it, if at all, at its first HTTPS call, when it
/// has nothing else to run. The price: on a machine kept fully busy by other
/// work, that first call waits until a core is free. A failure (other
/// systems, a refused call) leaves the thread as it was.
fn yield_to_start_up() {
    #[cfg(target_os = "linux")]
    // SAFETY: `param` is a valid sched_param for the call's duration;
    // pid 0 is the calling thread.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}

impl HttpClient for TrustStoreWarming {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The timeouts of every AWS call (see the constants above).
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(AWS_CONNECT_TIMEOUT)
        .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
        .operation_timeout(AWS_OPERATION_TIMEOUT)
        .build()
}

/// The AWS clients, built once in `main` from one configuration and shared
/// by everything the command runs (cheap to clone).
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    sdk: SdkConfig,
    secrets: std::sync::OnceLock<aws_sdk_secretsmanager::Client>,
}

impl Clients {
    /// Every client with the standard retry mode without its retry quota
    /// (`retry_partition` below says why).
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(sdk)
                    .retry_partition(retry_partition())
                    .build(),
            ),
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(sdk)
                    .retry_partition(retry_partition())
                    .build(),
            ),
            sdk: sdk.clone(),
            secrets: std::sync::OnceLock::new(),
        }
    }

    /// The Secrets Manager client, built the first time a command reads a
    /// secret (the receiver from `GU1_WEBHOOK_SECRETS_ARN`, reconciliation
    /// from `GU1_API_KEY_ARN`), then shared: each SDK client loads its
    /// service's endpoint rules when first built, about 0.2 ms that a
    /// command reading no secret (the sweeper) should not pay at start.
    pub fn secrets(&self) -> &aws_sdk_secretsmanager::Client {
        self.secrets.get_or_init(|| {
            aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(&self.sdk)
                    .retry_partition(retry_partition())
                    .build(),
            )
        })
    }
}

/// The TLS configuration of the HTTPS calls to Gu1's API: rustls with ring,
/// trusting what the AWS calls trust (`roots`). Built once per process: it
/// reads and parses the certificates.
pub fn tls_config(roots: &Roots) -> Result<rustls::ClientConfig, ConfigError> {
    let mut store = rustls::RootCertStore::empty();
    match roots {
        Roots::System => {
            store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs)
        }
        Roots::Pem(pem) => store.add_parsable_certificates(
            rustls::pki_types::CertificateDer::pem_slice_iter(pem).flatten(),
        ),
    };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ConfigError::Tls)?
        .with_root_certificates(store)
        .with_no_client_auth())
}

/// The standard retry mode (3 attempts, exponential backoff) without its
/// retry quota, so that every call gets its attempts within
/// [`AWS_OPERATION_TIMEOUT`] whatever happened before.
///
/// Why: the quota is a per-process bucket that each retried timeout drains
/// by 10 of 500 tokens, so a burst of about 50 timeouts (an AWS blip) leaves
/// every later call a single 1.5 s attempt until enough calls succeed. It
/// protects a service from the retry storms of many threads; an instance
/// here runs one delivery at a time, each call already stops at 3 attempts
/// and 4 s, and API Gateway's throttling bounds the instances. Keeping the
/// quota would only turn the next delivery's transient error into a 503.
fn retry_partition() -> aws_sdk_dynamodb::config::retry::RetryPartition {
    use aws_sdk_dynamodb::config::retry::{RetryPartition, TokenBucket};
    RetryPartition::custom("gu1-webhook")
        .token_bucket(TokenBucket::unlimited())
        .build()
}
