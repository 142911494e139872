//! Configuration, read once at start-up from the environment.
//!
//! The receiver fails closed: with no webhook secret it refuses to start
//! rather than accept deliveries it cannot authenticate.

use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{
    BehaviorVersion, Credentials, Region, SharedCredentialsProvider, SharedHttpClient,
};
use aws_smithy_http_client::tls;
use aws_types::SdkConfig;
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

/// Every environment variable the binary reads (besides the standard AWS ones).
pub const ALL_VARS: [&str; 4] = [SECRETS_VAR, SECRETS_ARN_VAR, TABLE_VAR, QUEUE_VAR];

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

/// What the receiver needs besides the SDK clients.
#[derive(Debug, Clone)]
pub struct Config {
    pub secrets: SecretsSource,
    pub sessions_table: String,
    pub outcomes_queue_url: String,
}

impl Config {
    /// Reads the configuration from the environment. A secret list given
    /// directly wins over a Secrets Manager secret.
    pub fn from_env() -> Result<Self, ConfigError> {
        let secrets = match (var(SECRETS_VAR), var(SECRETS_ARN_VAR)) {
            (Some(list), _) => SecretsSource::List(list),
            (None, Some(secret_id)) => SecretsSource::SecretsManager { secret_id },
            (None, None) => return Err(ConfigError::NoSecrets),
        };
        Ok(Self {
            secrets,
            sessions_table: var(TABLE_VAR).ok_or(ConfigError::Missing(TABLE_VAR))?,
            outcomes_queue_url: var(QUEUE_VAR).ok_or(ConfigError::Missing(QUEUE_VAR))?,
        })
    }
}

/// The standard AWS variables the binary reads: Lambda sets all of them but
/// the endpoint, which points the clients at a local emulator.
pub const REGION_VAR: &str = "AWS_REGION";
pub const ACCESS_KEY_VAR: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";
pub const SESSION_TOKEN_VAR: &str = "AWS_SESSION_TOKEN";
pub const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";

/// The AWS configuration of every client, from the variables above.
///
/// Not `aws-config`'s default chain: a Lambda function gets its region and
/// its role's credentials in exactly these variables (the chain would take
/// them from there too), and the chain's other sources (profile files, SSO,
/// web identity through STS, IMDS) add 0.4 MB to the deployment package for
/// nothing the function uses (BENCHMARKS.md). Locally, export the same
/// variables (the README shows how).
pub fn sdk_config_from_env() -> Result<SdkConfig, ConfigError> {
    let required = |name| var(name).ok_or(ConfigError::Missing(name));
    let region = var(REGION_VAR)
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or(ConfigError::Missing(REGION_VAR))?;
    let credentials = Credentials::new(
        required(ACCESS_KEY_VAR)?,
        required(SECRET_KEY_VAR)?,
        var(SESSION_TOKEN_VAR),
        None,
        "environment",
    );
    Ok(sdk_config(
        Region::new(region),
        credentials,
        var(ENDPOINT_VAR),
    ))
}

/// The AWS configuration of every client: the one HTTPS client, and
/// timeouts that end every call well before the delivery deadline.
pub fn sdk_config(region: Region, credentials: Credentials, endpoint: Option<String>) -> SdkConfig {
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https_client())
        .timeout_config(timeouts());
    config.set_endpoint_url(endpoint);
    config.build()
}

/// The HTTPS client of every AWS call: the SDK's own hyper client on rustls,
/// with ring for its cryptography instead of the default aws-lc, which adds
/// more to the deployment package than this Lambda gains from it.
fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The timeouts of every AWS call (see the constants above).
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The DynamoDB client of every command (see [`retry_partition`]).
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk).retry_partition(retry_partition());
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

/// The SQS client of every command (see [`retry_partition`]).
pub fn sqs_client(sdk: &SdkConfig) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::config::Builder::from(sdk).retry_partition(retry_partition());
    aws_sdk_sqs::Client::from_conf(config.build())
}

/// The Secrets Manager client (see [`retry_partition`]).
pub fn secrets_client(sdk: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    let config =
        aws_sdk_secretsmanager::config::Builder::from(sdk).retry_partition(retry_partition());
    aws_sdk_secretsmanager::Client::from_conf(config.build())
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

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
