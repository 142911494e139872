//! Configuration, read once at start-up from the environment, in one place.
//!
//! Every command reads only what it uses ([`ReceiverConfig`],
//! [`SweepConfig`]) and fails closed: a missing or unreadable value stops it
//! at start rather than let it accept deliveries it cannot check or keep. The
//! AWS clients of every command are built once, here ([`Clients`]).

mod aws;

#[cfg(any(test, feature = "test-util"))]
pub use aws::sdk_config;
pub use aws::{
    CA_DIR_VAR, CA_FILE_VAR, Clients, REGION_VAR, Roots, sdk_config_from_env, tls_config,
};

use crate::gu1_api::ApiKey;
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
        "no AWS credentials from any source (environment, profile, web identity, container, instance): {0}"
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
}

impl Storage {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            sessions_table: required(TABLE_VAR)?,
            outcomes_queue_url: required(QUEUE_VAR)?,
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

/// Default [`SweepConfig::grace`]: the publish lease
/// ([`crate::limits::PUBLISH_LEASE`]) rounded up to whole seconds. Younger outcomes are still under the lease of the delivery that
/// wrote them (a claim would fail).
pub const DEFAULT_SWEEP_GRACE: Duration =
    Duration::from_secs(crate::limits::PUBLISH_LEASE.as_millis().div_ceil(1000) as u64);
/// Default [`SweepConfig::page_size`].
pub const DEFAULT_SWEEP_PAGE_SIZE: i32 = 25;

impl SweepConfig {
    /// `SWEEP_GRACE_SECONDS` and `SWEEP_PAGE_SIZE` may be left out (the
    /// defaults above), not set to nonsense.
    pub fn from_env() -> Result<Self, ConfigError> {
        let grace = match var(SWEEP_GRACE_VAR) {
            Some(v) => {
                parse_seconds(&v).ok_or(ConfigError::Invalid(SWEEP_GRACE_VAR, SECONDS_RULE))?
            }
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

/// What a number of seconds must be (a grace period, a stale-after; also
/// the rule of `--grace-seconds` and `--stale-after`).
pub const SECONDS_RULE: &str = "a whole number of seconds";
/// What a page size must be (also the `--page-size` rule).
pub const PAGE_SIZE_RULE: &str = "a number from 1 to 1000";

/// A duration in whole seconds.
pub fn parse_seconds(value: &str) -> Option<Duration> {
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
            Some(v) => {
                parse_seconds(&v).ok_or(ConfigError::Invalid(STALE_AFTER_VAR, SECONDS_RULE))?
            }
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
