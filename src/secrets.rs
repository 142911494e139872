//! Where the webhook secrets live at run time: a [`Keyring`] around the pure
//! [`Verifier`].
//!
//! Secrets come from `GU1_WEBHOOK_SECRETS` or, in the deployed stack, from a
//! Secrets Manager secret read at start-up. Two rules keep the cached list
//! fresh:
//!
//! - **age**: a list older than [`RefreshPolicy::max_age`] is re-read before
//!   the next delivery is checked. This is what rotation relies on: a secret
//!   added to the list is accepted by every instance `max_age` after the put,
//!   whatever traffic came meanwhile, and a retired one is refused by then.
//! - **miss**: a signature that matches none of the cached secrets re-reads
//!   the list (at most once per [`RefreshPolicy::after_miss`]) and tries
//!   again, so a new secret is usually picked up on its first use. Anyone can
//!   send a forged delivery and use up that slot, which is why rotation must
//!   not depend on it (docs/operations.md's two-phase rotation waits `max_age`).

use crate::config::{Clients, SecretsSource};
use crate::limits::{SECRETS_MAX_AGE, SECRETS_REREAD_AFTER_MISS};
use crate::verify::{NoSecrets, SignatureError, Verifier};
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
    /// One `GetSecretValue` per busy instance every 5 minutes, and at most
    /// six a minute more under a flood of forged deliveries.
    fn default() -> Self {
        Self {
            after_miss: SECRETS_REREAD_AFTER_MISS,
            max_age: SECRETS_MAX_AGE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(transparent)]
    NoSecrets(#[from] NoSecrets),
    #[error("could not read {secret_id} from Secrets Manager")]
    SecretsManager {
        secret_id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
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
    /// From then on the list is too old: `max_age` after the last successful
    /// read, or `after_miss` after a failed one (retried, not hammered).
    stale_at: Instant,
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
    pub async fn load(source: &SecretsSource, clients: &Clients) -> Result<Self, SecretsError> {
        match source {
            SecretsSource::List(list) => Ok(Verifier::from_list(list)?.into()),
            SecretsSource::SecretsManager { secret_id } => {
                Self::from_secrets_manager(clients.secrets().clone(), secret_id).await
            }
        }
    }

    /// A keyring over a Secrets Manager secret, re-read as the default
    /// [`RefreshPolicy`] says (the only policy a deployment runs).
    pub async fn from_secrets_manager(
        client: aws_sdk_secretsmanager::Client,
        secret_id: &str,
    ) -> Result<Self, SecretsError> {
        Self::read(client, secret_id, RefreshPolicy::default()).await
    }

    /// The same with a shorter policy, so that tests need not wait minutes.
    #[cfg(any(test, feature = "test-util"))]
    pub async fn with_policy(
        client: aws_sdk_secretsmanager::Client,
        secret_id: &str,
        policy: RefreshPolicy,
    ) -> Result<Self, SecretsError> {
        Self::read(client, secret_id, policy).await
    }

    /// Reads the secret once now, then keeps it fresh as `policy` says.
    async fn read(
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
                    stale_at: Instant::now() + policy.max_age,
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
        let policy = &source.policy;
        {
            let mut reads = source.reads.lock().ok()?;
            let now = Instant::now();
            let due = match reason {
                Reason::Age => now >= reads.stale_at,
                Reason::Miss => reads
                    .last_for_miss
                    .is_none_or(|at| now.duration_since(at) >= policy.after_miss),
            };
            if !due {
                return None;
            }
            match reason {
                // Should this read fail, the next is due `after_miss` from now.
                Reason::Age => reads.stale_at = now + policy.after_miss,
                Reason::Miss => reads.last_for_miss = Some(now),
            }
        }
        let fresh = match fetch(&source.client, &source.secret_id).await {
            Ok(list) => Arc::new(Verifier::from_list(&list).ok()?),
            Err(err) => {
                tracing::warn!(error = %crate::error_chain(&err), "could not refresh the webhook secrets");
                return None;
            }
        };
        if let Ok(mut reads) = source.reads.lock() {
            reads.stale_at = Instant::now() + policy.max_age;
        }
        tracing::info!(secrets = fresh.secret_count(), "webhook secrets re-read");
        if let Ok(mut current) = self.current.write() {
            *current = Arc::clone(&fresh);
        }
        Some(fresh)
    }
}

/// The string value of a Secrets Manager secret (the webhook secrets here,
/// Gu1's API key for reconciliation).
pub async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, SecretsError> {
    client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| SecretsError::SecretsManager {
            secret_id: secret_id.to_owned(),
            source: Box::new(e),
        })?
        .secret_string
        .ok_or_else(|| SecretsError::SecretsManager {
            secret_id: secret_id.to_owned(),
            source: "it has no string value".into(),
        })
}
