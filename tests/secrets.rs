//! Secret rotation against moto's Secrets Manager: putting "new,old" into the
//! secret is the whole rotation; a warm receiver learns it on first use.

mod support;

use gu1_webhook::secrets::{Keyring, RefreshPolicy};
use gu1_webhook::verify::{SignatureError, sign_hex};
use std::time::Duration;
use support::*;

const BODY: &[u8] = br#"{"event":"biometric.session_approved"}"#;

async fn secret(value: &str) -> (aws_sdk_secretsmanager::Client, String) {
    let client = aws_sdk_secretsmanager::Client::new(&sdk(&moto().endpoint));
    let name = unique("gu1-webhook-secrets");
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret");
    (client, name)
}

async fn rotate(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) {
    client
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .expect("put secret value");
}

async fn check(keyring: &Keyring, secret: &str) -> Result<(), SignatureError> {
    let signature = sign_hex(secret.as_bytes(), BODY);
    keyring.verify(BODY, &[signature.as_bytes()]).await
}

#[tokio::test]
async fn a_rotated_secret_is_accepted_by_a_running_keyring() {
    let (client, name) = secret("old-secret").await;
    let policy = RefreshPolicy {
        after_miss: Duration::ZERO,
        max_age: Duration::from_secs(3600),
    };
    let keyring = Keyring::from_secrets_manager(client.clone(), &name, policy)
        .await
        .expect("keyring");
    assert_eq!(check(&keyring, "old-secret").await, Ok(()));
    assert_eq!(
        check(&keyring, "new-secret").await,
        Err(SignatureError::Mismatch)
    );

    rotate(&client, &name, "new-secret,old-secret").await;
    assert_eq!(check(&keyring, "new-secret").await, Ok(()));
    assert_eq!(
        check(&keyring, "old-secret").await,
        Ok(()),
        "both during the rotation"
    );

    // Retiring the old secret: a cached list that still holds it keeps
    // accepting it until the list's maximum age (see the next test).
    rotate(&client, &name, "new-secret").await;
    assert_eq!(check(&keyring, "old-secret").await, Ok(()));
}

#[tokio::test]
async fn a_retired_secret_is_refused_once_the_cache_is_too_old() {
    let (client, name) = secret("new-secret,old-secret").await;
    let policy = RefreshPolicy {
        after_miss: Duration::from_secs(3600),
        max_age: Duration::ZERO,
    };
    let keyring = Keyring::from_secrets_manager(client.clone(), &name, policy)
        .await
        .expect("keyring");
    assert_eq!(check(&keyring, "old-secret").await, Ok(()));
    rotate(&client, &name, "new-secret").await;
    assert_eq!(
        check(&keyring, "old-secret").await,
        Err(SignatureError::Mismatch)
    );
    assert_eq!(check(&keyring, "new-secret").await, Ok(()));
}

#[tokio::test]
async fn misses_re_read_the_secret_at_most_once_per_interval() {
    let (client, name) = secret("old-secret").await;
    let policy = RefreshPolicy {
        after_miss: Duration::from_secs(3600),
        max_age: Duration::from_secs(3600),
    };
    let keyring = Keyring::from_secrets_manager(client.clone(), &name, policy)
        .await
        .expect("keyring");
    // The first miss reads the secret at once, even on a fresh instance...
    rotate(&client, &name, "new-secret").await;
    assert_eq!(check(&keyring, "new-secret").await, Ok(()));
    // ...later misses wait for the interval: forged deliveries cannot make
    // the keyring hammer Secrets Manager.
    rotate(&client, &name, "newer-secret").await;
    assert_eq!(
        check(&keyring, "newer-secret").await,
        Err(SignatureError::Mismatch)
    );
    assert_eq!(check(&keyring, "new-secret").await, Ok(()));
}

#[tokio::test]
async fn a_secret_with_no_usable_value_refuses_to_start() {
    let (client, name) = secret(" , ").await;
    assert!(
        Keyring::from_secrets_manager(client, &name, RefreshPolicy::default())
            .await
            .is_err()
    );
}
