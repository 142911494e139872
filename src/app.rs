//! Each command built from its configuration and the shared clients, once.
//!
//! `main` and the integration tests call these same functions, so what the
//! tests serve is what Lambda runs; each command gets only what it uses (the
//! sweeper never reads the webhook secret).

use crate::config::{Clients, ReceiverConfig, Storage, SweepConfig};
use crate::delivery::Receiver;
use crate::publish::{OutcomeQueue, Publisher};
use crate::secrets::{Keyring, SecretsError};
use crate::store::SessionStore;
use crate::sweep::Sweeper;

/// The receiver: the webhook secrets (read from Secrets Manager now, if that
/// is where they are) and the publisher.
pub async fn receiver(
    config: &ReceiverConfig,
    clients: &Clients,
) -> Result<Receiver, SecretsError> {
    let keyring = Keyring::load(&config.secrets, &clients.secrets).await?;
    Ok(Receiver::new(keyring, publisher(&config.storage, clients)))
}

/// The sweeper: the publisher, the grace period and the page size.
pub fn sweeper(config: &SweepConfig, clients: &Clients) -> Sweeper {
    Sweeper::new(
        publisher(&config.storage, clients),
        config.grace,
        config.page_size,
    )
}

/// The table, the queue and the lease protocol between them.
fn publisher(storage: &Storage, clients: &Clients) -> Publisher {
    Publisher::new(
        SessionStore::new(clients.dynamodb.clone(), &storage.sessions_table),
        OutcomeQueue::new(clients.sqs.clone(), &storage.outcomes_queue_url),
        storage.publish_lease,
    )
}
