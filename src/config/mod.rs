//! Configuration, read once at start-up from the environment, in one place.
//!
//! Every command reads only what it uses ([`ReceiverConfig`],
//! [`SweepConfig`]) and fails closed: a missing or unreadable value stops it
//! at start rather than let it accept deliveries it cannot check or keep. The
//! AWS clients of every command are built once, here ([`Clients`]).

mod aws;
mod env;
mod error;

#[cfg(any(test, feature = "test-util"))]
pub use aws::sdk_config;
pub use aws::{
    CA_DIR_VAR, CA_FILE_VAR, Clients, REGION_VAR, Roots, sdk_config_from_env, tls_config,
};

pub use env::{
    API_URL_RULE, PAGE_SIZE_RULE, RETENTION_RULE, SECONDS_RULE, parse_api_url, parse_page_size,
    parse_retention_days, parse_seconds,
};
pub use error::ConfigError;

use crate::gu1_api::ApiKey;
use env::{
    MAX_SESSIONS_RULE, max_sessions, optional, page_size, required, retention_days, seconds, var,
};
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
/// URL of the SQS reviews queue, where a reversal's review notice goes
/// (optional: without it a reversal is recorded and alarmed, no notice owed).
pub const REVIEWS_QUEUE_VAR: &str = "REVIEWS_QUEUE_URL";
/// How many days a session's item is kept after it last moved (0 or unset:
/// forever): the table's time to live, and the age past which a delivery
/// is acknowledged but not stored.
pub const RETENTION_VAR: &str = "RETENTION_DAYS";
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
/// The Lambda `Handler` that runs the operators' commands (`republish`,
/// `erase`, `track`) from the invocation's payload.
pub const OPERATE_HANDLER: &str = "operate";
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
pub const ALL_VARS: [&str; 15] = [
    SECRETS_VAR,
    SECRETS_ARN_VAR,
    TABLE_VAR,
    QUEUE_VAR,
    REVIEWS_QUEUE_VAR,
    RETENTION_VAR,
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

/// Where sessions are kept and outcomes (and review notices) go: what every
/// command needs.
#[derive(Debug, Clone)]
pub struct Storage {
    pub sessions_table: String,
    pub outcomes_queue_url: String,
    pub reviews_queue_url: Option<String>,
    /// How long an item is kept after it last moved ([`RETENTION_VAR`]);
    /// `None`: forever.
    pub retention: Option<Duration>,
}

impl Storage {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            sessions_table: required(TABLE_VAR)?,
            outcomes_queue_url: required(QUEUE_VAR)?,
            reviews_queue_url: var(REVIEWS_QUEUE_VAR),
            retention: optional(RETENTION_VAR, RETENTION_RULE, retention_days)?.flatten(),
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
        let grace =
            optional(SWEEP_GRACE_VAR, SECONDS_RULE, seconds)?.unwrap_or(DEFAULT_SWEEP_GRACE);
        let page_size = optional(SWEEP_PAGE_SIZE_VAR, PAGE_SIZE_RULE, page_size)?
            .unwrap_or(DEFAULT_SWEEP_PAGE_SIZE);
        Ok(Self {
            storage: Storage::from_env()?,
            grace,
            page_size,
        })
    }
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
        let stale_after =
            optional(STALE_AFTER_VAR, SECONDS_RULE, seconds)?.unwrap_or(DEFAULT_STALE_AFTER);
        let max_sessions = optional(MAX_SESSIONS_VAR, MAX_SESSIONS_RULE, max_sessions)?
            .unwrap_or(DEFAULT_MAX_SESSIONS);
        Ok(Self {
            storage: Storage::from_env()?,
            api_url: match var(API_URL_VAR) {
                Some(v) => parse_api_url(&v).ok_or(ConfigError::ApiUrl)?,
                None => DEFAULT_API_URL.to_owned(),
            },
            api_key,
            organization_id: required(ORGANIZATION_VAR)?,
            stale_after,
            max_sessions,
        })
    }
}

/// What Lambda runs this binary as, from the function's `Handler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaRole {
    Receiver,
    Sweeper,
    Reconciler,
    Operator,
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
            Some(OPERATE_HANDLER) => Ok(Self::Operator),
            Some(other) => Err(ConfigError::Invalid {
                var: HANDLER_VAR,
                rule: "bootstrap, sweep, reconcile or operate",
                value: other.to_owned(),
                source: None,
            }),
        }
    }
}
