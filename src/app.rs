//! Each command built from its configuration and the shared clients, once.
//!
//! `main` and the integration tests call these same functions, so what the
//! tests serve is what Lambda runs; each command gets only what it uses (the
//! sweeper never reads the webhook secret).

use crate::config::{ApiKeySource, Clients, ReceiverConfig, ReconcileConfig, Storage, SweepConfig};
use crate::delivery::Receiver;
use crate::gu1_api::{ApiKey, Gu1Api};
use crate::limits::WARM_UP_TIMEOUT;
use crate::operate::Operator;
use crate::outbox::Outbox;
use crate::publish::Queue;
use crate::reconcile::Reconciler;
use crate::secrets::{Keyring, SecretsError};
use crate::store::SessionStore;
use crate::sweep::Sweeper;

/// The receiver: the webhook secrets (read from Secrets Manager now, if that
/// is where they are) and the outbox.
pub async fn receiver(
    config: &ReceiverConfig,
    clients: &Clients,
) -> Result<Receiver, SecretsError> {
    let keyring = Keyring::load(&config.secrets, clients).await?;
    Ok(Receiver::new(keyring, outbox(&config.storage, clients)))
}

/// Opens the receiver's connections to DynamoDB and SQS while its INIT
/// reads the secrets (run it beside [`receiver`]), so that the first
/// delivery, which Lambda runs at the CPU share the function's memory buys,
/// pays no TLS handshake. Bounded by [`WARM_UP_TIMEOUT`]; past it, or on a
/// failure, the start goes on and the first delivery connects as before.
pub async fn open_connections(storage: &Storage, clients: &Clients) {
    let outbox = outbox(storage, clients);
    if tokio::time::timeout(WARM_UP_TIMEOUT, outbox.open_connections())
        .await
        .is_err()
    {
        tracing::info!(
            "connections not open within the warm-up bound: the first delivery opens them"
        );
    }
}

/// The operators' commands (`republish`, `erase`, `track`) over the outbox.
pub fn operator(storage: &Storage, clients: &Clients) -> Operator {
    Operator::new(outbox(storage, clients))
}

/// The sweeper: the outbox, the grace period and the page size.
pub fn sweeper(config: &SweepConfig, clients: &Clients) -> Sweeper {
    Sweeper::new(
        outbox(&config.storage, clients),
        config.grace,
        config.page_size,
    )
}

/// The table, the queues and the lease protocol between them.
fn outbox(storage: &Storage, clients: &Clients) -> Outbox {
    let queue = |url: &String| Queue::new(clients.sqs.clone(), url);
    Outbox::new(
        SessionStore::new(clients.dynamodb.clone(), &storage.sessions_table)
            .with_retention(storage.retention),
        queue(&storage.outcomes_queue_url),
        storage.reviews_queue_url.as_ref().map(queue),
    )
}

/// Reconciliation: Gu1's API key (read from Secrets Manager now, if that is
/// where it is: a Lambda reads it for each run, so a rotated key is used at
/// once), the API client over `tls` (built once per process), and the
/// outbox.
pub async fn reconciler(
    config: &ReconcileConfig,
    clients: &Clients,
    tls: &rustls::ClientConfig,
) -> Result<Reconciler, BoxError> {
    let api_key = match &config.api_key {
        ApiKeySource::Key(key) => key.clone(),
        ApiKeySource::SecretsManager { secret_id } => {
            ApiKey::new(crate::secrets::fetch(clients.secrets(), secret_id).await?)
        }
    };
    let api = Gu1Api::new(
        &config.api_url,
        api_key,
        &config.organization_id,
        tls.clone(),
    );
    Ok(Reconciler::new(
        outbox(&config.storage, clients),
        api,
        config.stale_after,
        config.max_sessions,
    ))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
