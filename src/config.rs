//! Configuration, read once at start-up from the environment, in one place.
//!
//! Every command reads only what it uses ([`ReceiverConfig`],
//! [`SweepConfig`]) and fails closed: a missing or unreadable value stops it
//! at start rather than let it accept deliveries it cannot check or keep. The
//! AWS clients of every command are built once, here ([`Clients`]).

use crate::gu1_api::ApiKey;
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{
    Credentials, ProvideCredentials, Region, SharedCredentialsProvider, SharedHttpClient,
};
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
use std::time::Duration;

/// Comma-separated webhook secrets (local runs, or any deployment that
/// injects them itself).
pub const SECRETS_VAR: &str = "GU1_WEBHOOK_SECRETS";
/// ARN or name of a Secrets Manager secret whose value is the same
/// comma-separated list: how the SAM stack provides them.
pub const SECRETS_ARN_VAR: &str = "GU1_WEBHOOK_SECRETS_ARN";
/// Name of the DynamoDB sessions table.
pub const TABLE_VAR: &str = "SESSIONS_TABLE";
/// URL of the SQS outcomes queue (`.fifo` for a FIFO queue).
pub const QUEUE_VAR: &str = "OUTCOMES_QUEUE_URL";
/// The scheduled sweeper's grace period, in seconds.
pub const SWEEP_GRACE_VAR: &str = "SWEEP_GRACE_SECONDS";
/// The scheduled sweeper's index page size.
pub const SWEEP_PAGE_SIZE_VAR: &str = "SWEEP_PAGE_SIZE";
/// The function's handler, set by Lambda: [`SWEEP_HANDLER`] runs the sweeper.
pub const HANDLER_VAR: &str = "_HANDLER";
/// The Lambda `Handler` that runs the sweeper instead of the receiver.
pub const SWEEP_HANDLER: &str = "sweep";
/// The Lambda `Handler` of the receiver (what `provided` runtimes name it).
pub const RECEIVER_HANDLER: &str = "bootstrap";
/// The Lambda `Handler` that runs reconciliation.
pub const RECONCILE_HANDLER: &str = "reconcile";
/// Gu1's API base URL (reconciliation only).
pub const API_URL_VAR: &str = "GU1_API_URL";
/// Gu1's API key, for local runs.
pub const API_KEY_VAR: &str = "GU1_API_KEY";
/// A Secrets Manager secret holding Gu1's API key: how the stack provides it.
pub const API_KEY_ARN_VAR: &str = "GU1_API_KEY_ARN";
/// The Gu1 organization whose sessions are read (`X-Organization-ID`).
pub const ORGANIZATION_VAR: &str = "GU1_ORGANIZATION_ID";
/// How long nothing must have moved a session before reconciliation reads it.
pub const STALE_AFTER_VAR: &str = "RECONCILE_STALE_AFTER_SECONDS";
/// At most this many sessions are read from Gu1 per run.
pub const MAX_SESSIONS_VAR: &str = "RECONCILE_MAX_SESSIONS";

/// Every environment variable the binary reads (besides the standard AWS ones).
pub const ALL_VARS: [&str; 13] = [
    SECRETS_VAR,
    SECRETS_ARN_VAR,
    TABLE_VAR,
    QUEUE_VAR,
    SWEEP_GRACE_VAR,
    SWEEP_PAGE_SIZE_VAR,
    HANDLER_VAR,
    API_URL_VAR,
    API_KEY_VAR,
    API_KEY_ARN_VAR,
    ORGANIZATION_VAR,
    STALE_AFTER_VAR,
    MAX_SESSIONS_VAR,
];

/// Connecting to DynamoDB or SQS gives up after this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// One attempt of an AWS call gives up after this long; the SDK then retries.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// One AWS call, retries included, gives up after this long.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);
/// A whole delivery is answered (with a `503` if need be) within this long:
/// well inside API Gateway's 30 s and Gu1's 30 s.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(15);
/// How long a publisher holds the right to send an outcome: the longest a
/// live holder can still be sending. Every holder takes its lease inside a
/// [`DELIVERY_DEADLINE`] (a delivery, or one sweeper publish) and is cut off
/// when it passes; a send already on the wire then lands within one more
/// attempt. A longer lease would only delay the repair of a holder that died.
pub const PUBLISH_LEASE: Duration = DELIVERY_DEADLINE.saturating_add(ATTEMPT_TIMEOUT);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("no webhook secret configured: set {SECRETS_VAR} or {SECRETS_ARN_VAR}")]
    NoSecrets,
    #[error(
        "reconciliation needs Gu1's API key: set {API_KEY_VAR} or {API_KEY_ARN_VAR} (and {ORGANIZATION_VAR})"
    )]
    NoApiKey,
    #[error("the TLS configuration could not be built: {0}")]
    Tls(String),
    #[error(
        "no AWS credentials from any source (environment, profile, SSO, web identity, container, instance): {0}"
    )]
    NoCredentials(String),
    #[error("the CA certificates to trust could not be read: {0}")]
    Ca(String),
    #[error("{0} must be {1}")]
    Invalid(&'static str, &'static str),
}

/// Where the webhook secrets come from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretsSource {
    /// The comma-separated list itself (`GU1_WEBHOOK_SECRETS`).
    List(String),
    /// A Secrets Manager secret holding that list (`GU1_WEBHOOK_SECRETS_ARN`).
    SecretsManager { secret_id: String },
}

impl std::fmt::Debug for SecretsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::List(_) => f.write_str("List(<redacted>)"),
            Self::SecretsManager { secret_id } => write!(f, "SecretsManager({secret_id})"),
        }
    }
}

/// Where sessions are kept and outcomes go: what every command needs.
#[derive(Debug, Clone)]
pub struct Storage {
    pub sessions_table: String,
    pub outcomes_queue_url: String,
    /// [`PUBLISH_LEASE`]; not configurable, but tests shorten it.
    pub publish_lease: Duration,
}

impl Storage {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            sessions_table: required(TABLE_VAR)?,
            outcomes_queue_url: required(QUEUE_VAR)?,
            publish_lease: PUBLISH_LEASE,
        })
    }
}

/// What the receiver needs besides the SDK clients.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    pub secrets: SecretsSource,
    pub storage: Storage,
}

impl ReceiverConfig {
    /// A secret list given directly wins over a Secrets Manager secret.
    pub fn from_env() -> Result<Self, ConfigError> {
        let secrets = match (var(SECRETS_VAR), var(SECRETS_ARN_VAR)) {
            (Some(list), _) => SecretsSource::List(list),
            (None, Some(secret_id)) => SecretsSource::SecretsManager { secret_id },
            (None, None) => return Err(ConfigError::NoSecrets),
        };
        Ok(Self {
            secrets,
            storage: Storage::from_env()?,
        })
    }
}

/// What the sweeper needs besides the SDK clients: no webhook secret.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    pub storage: Storage,
    /// Age an unpublished outcome must reach before the sweeper takes it.
    pub grace: Duration,
    /// Sessions read per page of the unpublished-outcomes index.
    pub page_size: i32,
}

/// Default [`SweepConfig::grace`]: the publish lease rounded up to whole
/// seconds. Younger outcomes are still under the lease of the delivery that
/// wrote them (a claim would fail).
pub const DEFAULT_SWEEP_GRACE: Duration =
    Duration::from_secs(PUBLISH_LEASE.as_millis().div_ceil(1000) as u64);
/// Default [`SweepConfig::page_size`].
pub const DEFAULT_SWEEP_PAGE_SIZE: i32 = 25;

impl SweepConfig {
    /// `SWEEP_GRACE_SECONDS` and `SWEEP_PAGE_SIZE` may be left out (the
    /// defaults above), not set to nonsense.
    pub fn from_env() -> Result<Self, ConfigError> {
        let grace = match var(SWEEP_GRACE_VAR) {
            Some(v) => parse_grace(&v).ok_or(ConfigError::Invalid(SWEEP_GRACE_VAR, GRACE_RULE))?,
            None => DEFAULT_SWEEP_GRACE,
        };
        let page_size = match var(SWEEP_PAGE_SIZE_VAR) {
            Some(v) => parse_page_size(&v)
                .ok_or(ConfigError::Invalid(SWEEP_PAGE_SIZE_VAR, PAGE_SIZE_RULE))?,
            None => DEFAULT_SWEEP_PAGE_SIZE,
        };
        Ok(Self {
            storage: Storage::from_env()?,
            grace,
            page_size,
        })
    }
}

/// What a grace period must be (also the `--grace-seconds` rule).
pub const GRACE_RULE: &str = "a whole number of seconds";
/// What a page size must be (also the `--page-size` rule).
pub const PAGE_SIZE_RULE: &str = "a number from 1 to 1000";

/// A grace period in whole seconds.
pub fn parse_grace(value: &str) -> Option<Duration> {
    value.trim().parse().ok().map(Duration::from_secs)
}

/// A page size from 1 to 1000 (DynamoDB's `Limit`).
pub fn parse_page_size(value: &str) -> Option<i32> {
    value.trim().parse().ok().filter(|n| (1..=1000).contains(n))
}

/// Where Gu1's API key comes from.
#[derive(Debug, Clone)]
pub enum ApiKeySource {
    /// The key itself (`GU1_API_KEY`).
    Key(ApiKey),
    /// A Secrets Manager secret holding it (`GU1_API_KEY_ARN`).
    SecretsManager { secret_id: String },
}

/// What reconciliation needs besides the SDK clients: no webhook secret.
#[derive(Debug, Clone)]
pub struct ReconcileConfig {
    pub storage: Storage,
    pub api_url: String,
    pub api_key: ApiKeySource,
    pub organization_id: String,
    /// Sessions nothing has moved (or checked) for this long are read.
    pub stale_after: Duration,
    /// At most this many sessions are read per run.
    pub max_sessions: usize,
}

/// Default [`ReconcileConfig::api_url`].
pub const DEFAULT_API_URL: &str = "https://api.gu1.ai";
/// Default [`ReconcileConfig::stale_after`]: a hosted session normally ends
/// within minutes, and Gu1's own deliveries get the first half hour.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30 * 60);
/// Default [`ReconcileConfig::max_sessions`].
pub const DEFAULT_MAX_SESSIONS: usize = 200;

impl ReconcileConfig {
    /// Without an API key (or organization id) reconciliation refuses to
    /// start; the receiver and the sweeper never read these.
    pub fn from_env() -> Result<Self, ConfigError> {
        let api_key = match (var(API_KEY_VAR), var(API_KEY_ARN_VAR)) {
            (Some(key), _) => ApiKeySource::Key(ApiKey::new(key)),
            (None, Some(secret_id)) => ApiKeySource::SecretsManager { secret_id },
            (None, None) => return Err(ConfigError::NoApiKey),
        };
        let stale_after = match var(STALE_AFTER_VAR) {
            Some(v) => parse_grace(&v).ok_or(ConfigError::Invalid(STALE_AFTER_VAR, GRACE_RULE))?,
            None => DEFAULT_STALE_AFTER,
        };
        let max_sessions = match var(MAX_SESSIONS_VAR) {
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ConfigError::Invalid(MAX_SESSIONS_VAR, "a positive number"))?,
            None => DEFAULT_MAX_SESSIONS,
        };
        Ok(Self {
            storage: Storage::from_env()?,
            api_url: match var(API_URL_VAR) {
                Some(v) => {
                    parse_api_url(&v).ok_or(ConfigError::Invalid(API_URL_VAR, API_URL_RULE))?
                }
                None => DEFAULT_API_URL.to_owned(),
            },
            api_key,
            organization_id: required(ORGANIZATION_VAR)?,
            stale_after,
            max_sessions,
        })
    }
}

/// What [`ReconcileConfig::api_url`] must be.
pub const API_URL_RULE: &str = "an https:// URL without query or fragment, e.g. \
     https://api.gu1.ai (http:// only to a loopback host: the API key must not travel in clear)";

/// Gu1's API base URL, without a trailing `/`: a URL the client can call
/// (a mistake here stops the command at start, not once per session).
pub fn parse_api_url(value: &str) -> Option<String> {
    let url = value.trim().trim_end_matches('/');
    let uri: hyper::Uri = url.parse().ok()?;
    let host = uri.host().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let callable = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => loopback,
        _ => false,
    } && !host.is_empty()
        && uri.query().is_none()
        && !url.contains('#');
    callable.then(|| url.to_owned())
}

/// What Lambda runs this binary as, from the function's `Handler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaRole {
    Receiver,
    Sweeper,
    Reconciler,
}

impl LambdaRole {
    /// `bootstrap` (or no handler: not in Lambda's `provided` runtime) is the
    /// receiver, `sweep` the sweeper; any other handler is a deployment
    /// mistake and stops the function.
    pub fn from_env() -> Result<Self, ConfigError> {
        match var(HANDLER_VAR).as_deref() {
            None | Some(RECEIVER_HANDLER) => Ok(Self::Receiver),
            Some(SWEEP_HANDLER) => Ok(Self::Sweeper),
            Some(RECONCILE_HANDLER) => Ok(Self::Reconciler),
            Some(_) => Err(ConfigError::Invalid(
                HANDLER_VAR,
                "bootstrap, sweep or reconcile",
            )),
        }
    }
}

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
/// sets), `AWS_PROFILE` and the shared config and credentials files, SSO,
/// web identity (EKS) and container (ECS) credentials, instance metadata;
/// `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_DYNAMODB`,
/// `_SQS`, `_SECRETS_MANAGER`. Fails closed: without a region, or without
/// credentials from any source, nothing starts (the credentials are fetched
/// once here, so that a mistake shows at start and not at the first
/// delivery; from the environment that costs no I/O).
pub async fn sdk_config_from_env() -> Result<SdkConfig, ConfigError> {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client(&Roots::from_env()?)?)
        .timeout_config(timeouts())
        .load()
        .await;
    if sdk.region().is_none() {
        return Err(ConfigError::Missing(REGION_VAR));
    }
    let credentials = sdk
        .credentials_provider()
        .ok_or(ConfigError::NoCredentials(String::from("no provider")))?;
    credentials
        .provide_credentials()
        .await
        .map_err(|e| ConfigError::NoCredentials(crate::error_chain(&e)))?;
    Ok(sdk)
}

/// An explicit AWS configuration (one region, fixed credentials, one
/// endpoint) with the same HTTPS client and timeouts: for the tests' and
/// the demo's own clients.
pub fn sdk_config(region: Region, credentials: Credentials, endpoint: Option<String>) -> SdkConfig {
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .timeout_config(timeouts());
    if let Ok(client) = Roots::from_env().and_then(|roots| https_client(&roots)) {
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
            pem.extend(read_ca(&file)?);
        }
        for dir in var(CA_DIR_VAR).iter().flat_map(|dirs| dirs.split(':')) {
            let entries =
                std::fs::read_dir(dir).map_err(|e| ConfigError::Ca(format!("{dir}: {e}")))?;
            let mut files: Vec<_> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for file in files {
                pem.extend(read_ca(&file.to_string_lossy())?);
                pem.push(b'\n');
            }
        }
        if var(CA_FILE_VAR).is_none() && var(CA_DIR_VAR).is_none() {
            return Ok(Self::System);
        }
        let certificates = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError::Ca(format!("not PEM certificates: {e}")))?;
        if certificates.is_empty() {
            return Err(ConfigError::Ca(format!(
                "no certificate in {CA_FILE_VAR} or {CA_DIR_VAR}"
            )));
        }
        Ok(Self::Pem(pem))
    }
}

fn read_ca(path: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::Ca(format!("{path}: {e}")))
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
        .map_err(|e| ConfigError::Ca(e.to_string()))?;
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https();
    Ok(SharedHttpClient::new(DeferredTrust::start(client)))
}

/// The SDK's HTTPS client, but for one moment: as each SDK client is built
/// (`validate_base_client_config`), it reads and parses the system's CA
/// certificates, some 4 ms of file reads and PEM parsing on the start-up
/// path of every command (BENCHMARKS.md). This wrapper lets the clients be
/// built without it, and does that reading once on a background thread
/// started with it; the first call finds the certificates read (or waits
/// for that thread), so nothing is trusted less and nothing is read twice.
#[derive(Debug)]
struct DeferredTrust(SharedHttpClient);

impl DeferredTrust {
    fn start(client: SharedHttpClient) -> Self {
        let warm = client.clone();
        std::thread::spawn(move || {
            let components = RuntimeComponentsBuilder::new("gu1-webhook-trust-store");
            let _ = warm.validate_base_client_config(&components, &ConfigBag::base());
        });
        Self(client)
    }
}

impl HttpClient for DeferredTrust {
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
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The AWS clients, built once in `main` from one configuration and shared
/// by everything the command runs (cheap to clone).
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Every client with the standard retry mode without its retry quota
    /// (`retry_partition` below says why).
    pub fn new(sdk: &SdkConfig) -> Self {
        let partition = retry_partition();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(sdk)
                    .retry_partition(partition.clone())
                    .build(),
            ),
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(sdk)
                    .retry_partition(partition.clone())
                    .build(),
            ),
            secrets: aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(sdk)
                    .retry_partition(partition)
                    .build(),
            ),
        }
    }
}

/// The TLS configuration of the HTTPS calls to Gu1's API: rustls with ring,
/// trusting what the AWS calls trust ([`Roots`]).
pub fn tls_config() -> Result<rustls::ClientConfig, ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    match Roots::from_env()? {
        Roots::System => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs)
        }
        Roots::Pem(pem) => roots.add_parsable_certificates(
            rustls::pki_types::CertificateDer::pem_slice_iter(&pem).flatten(),
        ),
    };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The standard retry mode (3 attempts, exponential backoff) without its
/// retry quota, so that every call gets its attempts within
/// [`OPERATION_TIMEOUT`] whatever happened before.
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

fn required(name: &'static str) -> Result<String, ConfigError> {
    var(name).ok_or(ConfigError::Missing(name))
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_must_be_callable() {
        for (value, url) in [
            ("https://api.gu1.ai", "https://api.gu1.ai"),
            (" https://api.gu1.ai/ ", "https://api.gu1.ai"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:8080/", "http://localhost:8080"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("https://gw.example.com/gu1/", "https://gw.example.com/gu1"),
        ] {
            assert_eq!(parse_api_url(value).as_deref(), Some(url), "{value}");
        }
        for value in [
            "api.gu1.ai",
            "ftp://api.gu1.ai",
            "https://",
            "https://api.gu1.ai/x y",
            "https://api.gu1.ai/?org=1",
            "https://api.gu1.ai/#top",
            "http://api.gu1.ai",
            "http://10.0.0.1:8080",
        ] {
            assert_eq!(parse_api_url(value), None, "{value}");
        }
    }
}
