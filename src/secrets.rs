//! Where the webhook secrets live at run time: a [`Keyring`] around the pure
//! [`Verifier`].
//!
//! Secrets come from `GU1_WEBHOOK_SECRETS` or, in the deployed stack, from a
//! Secrets Manager secret read at start-up. So that rotation is one step
//! (put "new,old" into the secret), a signature that matches none of the
//! cached secrets makes the keyring re-read the secret (the first miss at
//! once, later ones at most once per [`RefreshPolicy::after_miss`]) and try
//! again: warm instances learn the new secret on its first use, and a flood of
//! forged deliveries costs at most one read a minute. A retired secret leaves warm instances within
//! [`RefreshPolicy::max_age`], the longest the list is cached.

use crate::config::SecretsSource;
use crate::verify::{NoSecrets, SignatureError, Verifier};
use aws_types::SdkConfig;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// When the keyring re-reads its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// After a signature miss, if no read was caused by a miss for this long.
    pub after_miss: Duration,
    /// Before any delivery, if the last read is at least this old.
    pub max_age: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            after_miss: Duration::from_secs(60),
            max_age: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(transparent)]
    NoSecrets(#[from] NoSecrets),
    #[error("could not read the webhook secrets from Secrets Manager: {0}")]
    SecretsManager(String),
}

/// The current [`Verifier`], refreshed from Secrets Manager on a miss.
#[derive(Debug)]
pub struct Keyring {
    current: RwLock<Arc<Verifier>>,
    source: Option<Refresh>,
}

#[derive(Debug)]
struct Refresh {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    policy: RefreshPolicy,
    reads: Mutex<Reads>,
}

#[derive(Debug)]
struct Reads {
    /// The last read, for any reason (start-up included).
    last: Instant,
    /// The last read caused by a miss; `None` before the first.
    last_for_miss: Option<Instant>,
}

/// Why the keyring would re-read its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Age,
    Miss,
}

impl From<Verifier> for Keyring {
    /// A fixed keyring: never refreshed.
    fn from(verifier: Verifier) -> Self {
        Self {
            current: RwLock::new(Arc::new(verifier)),
            source: None,
        }
    }
}

impl Keyring {
    /// Builds the keyring from its source; reads Secrets Manager once now.
    pub async fn load(source: &SecretsSource, sdk: &SdkConfig) -> Result<Self, SecretsError> {
        match source {
            SecretsSource::List(list) => Ok(Verifier::from_list(list)?.into()),
            SecretsSource::SecretsManager { secret_id } => {
                Self::from_secrets_manager(
                    crate::config::secrets_client(sdk),
                    secret_id,
                    RefreshPolicy::default(),
                )
                .await
            }
        }
    }

    /// A keyring over a Secrets Manager secret, re-read as `policy` says.
    pub async fn from_secrets_manager(
        client: aws_sdk_secretsmanager::Client,
        secret_id: &str,
        policy: RefreshPolicy,
    ) -> Result<Self, SecretsError> {
        let verifier = Verifier::from_list(&fetch(&client, secret_id).await?)?;
        Ok(Self {
            current: RwLock::new(Arc::new(verifier)),
            source: Some(Refresh {
                client,
                secret_id: secret_id.to_owned(),
                policy,
                reads: Mutex::new(Reads {
                    last: Instant::now(),
                    last_for_miss: None,
                }),
            }),
        })
    }

    /// Verifies like [`Verifier::verify`]; on a mismatch, re-reads the
    /// secret if it is due and tries once more.
    pub async fn verify(&self, body: &[u8], header: &[&[u8]]) -> Result<(), SignatureError> {
        let verifier = match self.refresh(Reason::Age).await {
            Some(fresh) => fresh,
            None => self.verifier(),
        };
        let result = verifier.verify(body, header.iter().copied());
        if result != Err(SignatureError::Mismatch) {
            return result;
        }
        match self.refresh(Reason::Miss).await {
            Some(fresh) => fresh.verify(body, header.iter().copied()),
            None => result,
        }
    }

    fn verifier(&self) -> Arc<Verifier> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Re-reads the secret if the policy says it is due for `reason`.
    /// `None` when not due, not refreshable, or the read failed (the cached
    /// list then stays in use).
    async fn refresh(&self, reason: Reason) -> Option<Arc<Verifier>> {
        let source = self.source.as_ref()?;
        {
            let mut reads = source.reads.lock().ok()?;
            let policy = &source.policy;
            let due = match reason {
                Reason::Age => reads.last.elapsed() >= policy.max_age,
                Reason::Miss => reads
                    .last_for_miss
                    .is_none_or(|at| at.elapsed() >= policy.after_miss),
            };
            if !due {
                return None;
            }
            reads.last = Instant::now();
            if reason == Reason::Miss {
                reads.last_for_miss = Some(reads.last);
            }
        }
        let fresh = match fetch(&source.client, &source.secret_id).await {
            Ok(list) => Arc::new(Verifier::from_list(&list).ok()?),
            Err(err) => {
                tracing::warn!(error = %err, "could not refresh the webhook secrets");
                return None;
            }
        };
        tracing::info!(secrets = fresh.secret_count(), "webhook secrets re-read");
        if let Ok(mut current) = self.current.write() {
            *current = Arc::clone(&fresh);
        }
        Some(fresh)
    }
}

async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, SecretsError> {
    client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            SecretsError::SecretsManager(
                aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
            )
        })?
        .secret_string
        .ok_or_else(|| SecretsError::SecretsManager("the secret has no string value".into()))
}
