//! Secret rotation against moto's Secrets Manager: putting "new,old" into the
//! secret is the whole rotation; a warm receiver learns it on first use.

use crate::support::*;
use gu1_webhook::local::sign_hex;
use gu1_webhook::secrets::{Keyring, RefreshPolicy};
use gu1_webhook::verify::SignatureError;
use std::time::Duration;

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
    let keyring = Keyring::with_policy(client.clone(), &name, policy)
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
    let keyring = Keyring::with_policy(client.clone(), &name, policy)
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
    let keyring = Keyring::with_policy(client.clone(), &name, policy)
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
    assert!(Keyring::from_secrets_manager(client, &name).await.is_err());
}

/// The README's rotation, under a flood of forged deliveries that keeps the
/// re-read-on-miss slot used up (`after_miss` is an hour here): a new secret
/// put next to the old one is accepted once `max_age` has passed, and the
/// old one keeps working all along. The one-step shortcut (sign with the new
/// secret right after the put) is what the forgeries can break.
#[tokio::test]
async fn two_phase_rotation_holds_under_forged_traffic() {
    let (client, name) = secret("old-secret").await;
    let policy = RefreshPolicy {
        after_miss: Duration::from_secs(3600),
        max_age: Duration::from_millis(500),
    };
    let keyring = Keyring::with_policy(client.clone(), &name, policy)
        .await
        .expect("keyring");
    let forge = || check(&keyring, "forged-by-anyone");

    // Before the rotation: forgeries are refused, and the first one uses up
    // the re-read-on-miss slot for the next hour.
    assert_eq!(forge().await, Err(SignatureError::Mismatch));
    assert_eq!(check(&keyring, "old-secret").await, Ok(()));

    // Phase 1: the new secret next to the old one. Gu1 still signs with the
    // old one, and nothing it sends is refused meanwhile.
    rotate(&client, &name, "old-secret,new-secret").await;
    assert_eq!(forge().await, Err(SignatureError::Mismatch));
    assert_eq!(check(&keyring, "old-secret").await, Ok(()));
    assert_eq!(
        check(&keyring, "new-secret").await,
        Err(SignatureError::Mismatch),
        "signing with the new secret before the wait is the blind window"
    );

    // Phase 2, after max_age: Gu1 signs with the new secret, accepted at
    // once although forgeries keep coming.
    tokio::time::sleep(policy.max_age).await;
    assert_eq!(forge().await, Err(SignatureError::Mismatch));
    assert_eq!(check(&keyring, "new-secret").await, Ok(()));
    assert_eq!(forge().await, Err(SignatureError::Mismatch));
    assert_eq!(check(&keyring, "new-secret").await, Ok(()));

    // Phase 3: the old secret retired; refused once max_age has passed.
    rotate(&client, &name, "new-secret").await;
    tokio::time::sleep(policy.max_age).await;
    assert_eq!(
        check(&keyring, "old-secret").await,
        Err(SignatureError::Mismatch)
    );
    assert_eq!(check(&keyring, "new-secret").await, Ok(()));
}

/// A failed re-read (Secrets Manager down) is retried `after_miss` later,
/// not only after another `max_age`.
#[tokio::test]
async fn a_failed_re_read_is_retried_soon() {
    let (client, name) = secret("old-secret").await;
    let policy = RefreshPolicy {
        after_miss: Duration::from_millis(200),
        max_age: Duration::from_millis(800),
    };
    let keyring = Keyring::with_policy(client.clone(), &name, policy)
        .await
        .expect("keyring");
    // The secret is briefly unreadable when the list goes stale.
    client
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("delete");
    tokio::time::sleep(policy.max_age).await;
    assert_eq!(check(&keyring, "old-secret").await, Ok(()), "cached list");
    client
        .create_secret()
        .name(&name)
        .secret_string("new-secret")
        .send()
        .await
        .expect("re-create");
    // Well before another max_age, the old secret (still in the cached list,
    // so no miss either) is refused: the list was re-read.
    tokio::time::sleep(policy.after_miss).await;
    assert_eq!(
        check(&keyring, "old-secret").await,
        Err(SignatureError::Mismatch),
        "re-read after the failure"
    );
}
