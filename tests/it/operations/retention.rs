//! `RETENTION_DAYS`, through the binary's `serve`: each applied write sets
//! the item's time to live (`expiresAt`, epoch seconds) that far ahead, and
//! a delivery whose envelope is older than that is acknowledged and
//! dropped, stored nowhere and sent nowhere. Without the setting, the same
//! old delivery is stored, with no time to live.

use crate::support::binary::{Env, Server};
use crate::support::*;
use gu1_webhook::clock::{MS_PER_DAY, now_ms, rfc3339};
use std::process::Stdio;

/// `event` as if Gu1 had sent it `days_ago` days ago.
fn sent_days_ago(mut event: Value, days_ago: u64) -> Value {
    event["timestamp"] = rfc3339(now_ms() - days_ago * MS_PER_DAY).into();
    event
}

#[tokio::test]
async fn a_thirty_day_retention_sets_each_items_expiry_and_drops_older_deliveries() {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let mut env = Env::for_tests(&stack, &moto.endpoint);
    env.set("RETENTION_DAYS", "30");
    let server = Server::start(&env, Stdio::null()).await;
    let (fresh, recent, old) = (unique("ret-now"), unique("ret-29d"), unique("ret-31d"));

    let before = now_ms() / 1000;
    for (session, days_ago) in [(&fresh, 0), (&recent, 29)] {
        let answer = server
            .deliver(&sent_days_ago(seed::approved(session), days_ago))
            .await;
        assert_eq!((answer.status, answer.result()), (200, "applied"));
    }
    let after = now_ms() / 1000;
    let thirty_days = 30 * 86_400;
    for session in [&fresh, &recent] {
        let item = stack.item(session).await.expect("stored");
        let expires = number(&item, "expiresAt").expect("a time to live");
        assert!(
            (before + thirty_days - 60..=after + thirty_days + 60).contains(&expires),
            "{session}: expiresAt {expires}, now {before}..{after}"
        );
    }

    let answer = server
        .deliver(&sent_days_ago(seed::approved(&old), 31))
        .await;
    assert_eq!(answer.status, 200, "acknowledged: {answer:?}");
    assert_eq!(
        answer.body,
        json!({"result": "beyond_retention", "sessionId": old})
    );
    assert_eq!(stack.item(&old).await, None, "nothing stored");
    let mut sent: Vec<String> = stack
        .outcome_bodies()
        .await
        .iter()
        .map(|body| body["sessionId"].as_str().unwrap().to_owned())
        .collect();
    sent.sort();
    let mut expected = vec![fresh, recent];
    expected.sort();
    assert_eq!(sent, expected, "nothing sent for the old delivery");
}

#[tokio::test]
async fn without_a_retention_an_old_delivery_is_stored_and_never_expires() {
    let app = TestApp::spawn().await;
    let session = unique("ret-off");
    let answer = app
        .deliver(&sent_days_ago(seed::approved(&session), 31))
        .await;
    assert_eq!((answer.status, answer.result()), (200, "applied"));
    let item = app.item(&session).await.expect("stored");
    assert!(!item.contains_key("expiresAt"), "{item:?}");
    assert_eq!(app.outcome_bodies().await.len(), 1);
}
