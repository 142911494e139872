//! `republish --session`: an outcome a worker consumed goes out again as a
//! new message (the original's body, `republishedAt`, its own FIFO
//! deduplication id), once per run; an outcome never sent goes out as the
//! original; an active, unknown or leased session sends nothing.

use super::*;
use gu1_webhook::clock::{now_ms, parse_ms};
use std::collections::HashMap;

const GROUP: &MessageSystemAttributeName = &MessageSystemAttributeName::MessageGroupId;
const DEDUPLICATION: &MessageSystemAttributeName =
    &MessageSystemAttributeName::MessageDeduplicationId;

/// Every message by its session id; one each.
fn by_session(messages: &[Message]) -> HashMap<String, &Message> {
    let map: HashMap<String, &Message> = messages
        .iter()
        .map(|m| {
            (
                body(m)["sessionId"].as_str().expect("a session").to_owned(),
                m,
            )
        })
        .collect();
    assert_eq!(map.len(), messages.len(), "one message per session");
    map
}

#[tokio::test]
async fn a_consumed_outcome_goes_out_again_as_a_new_marked_message_once_per_run() {
    let w = world(true).await;
    let approved = unique("rp-approved");
    let rejected = unique("rp-rejected");
    w.deliver(&seed::approved(&approved)).await;
    w.deliver(&seed::about(seed::rejected(&rejected), "entity-b"))
        .await;
    let originals = w.consume().await;
    assert_eq!(originals.len(), 2);
    let originals = by_session(&originals);

    let before = now_ms();
    let run = w
        .run(&["republish", "--session", &approved, "--session", &rejected])
        .await;
    assert_eq!(republished(run.report()), [2, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(run.report()["next"], Value::Null);
    let copies = w.consume().await;
    assert_eq!(copies.len(), 2, "exactly one new message per session");
    for (session, copy) in by_session(&copies) {
        let original = originals[&session];
        let status = body(original)["status"].as_str().unwrap().to_owned();
        assert_eq!(body(copy), body(original), "{session}: the original's body");
        assert_ne!(copy.message_id(), original.message_id());
        assert_eq!(attribute(copy, "status"), Some(status.as_str()));
        assert_eq!(attribute(original, "republishedAt"), None);
        let at = attribute(copy, "republishedAt").expect("marked as a re-send");
        let at_ms = parse_ms(at).unwrap_or_else(|| panic!("{at} is not RFC 3339"));
        assert!((before..=now_ms()).contains(&at_ms), "{at}");
        assert_eq!(
            system(copy, GROUP),
            system(original, GROUP),
            "the same group"
        );
        assert_eq!(
            system(original, DEDUPLICATION),
            Some(format!("{session}:{status}").as_str())
        );
        assert_eq!(
            system(copy, DEDUPLICATION),
            Some(format!("{session}:{status}:r1").as_str()),
            "not dropped as a copy of the original"
        );

        let item = w.item(&session).await;
        assert_eq!(number(&item, "republishCount"), Some(1));
        assert_eq!(text(&item, "lastRepublishedAt"), Some(at));
        assert_eq!(text(&item, "lastRepublishMessageId"), copy.message_id());
        assert_eq!(
            text(&item, "outcomeMessageId"),
            original.message_id(),
            "the original's record stays"
        );
        assert!(!item.contains_key("publishLeaseUntil"), "the lease is back");
        assert!(!item.contains_key("pendingOutcome"), "{item:?}");
    }

    // Again: one more, numbered r2; the other session is not touched.
    let run = w.run(&["republish", "--session", &approved]).await;
    assert_eq!(republished(run.report()), [1, 0, 0, 0, 0, 0, 0, 0]);
    let again = w.consume().await;
    assert_eq!(again.len(), 1);
    assert_eq!(body(&again[0]), body(originals[&approved]));
    assert_eq!(
        system(&again[0], DEDUPLICATION),
        Some(format!("{approved}:approved:r2").as_str())
    );
    assert_eq!(number(&w.item(&approved).await, "republishCount"), Some(2));
    assert_eq!(number(&w.item(&rejected).await, "republishCount"), Some(1));
}

#[tokio::test]
async fn an_active_or_unknown_session_sends_nothing() {
    let w = world(true).await;
    let active = unique("rp-active");
    w.deliver(&seed::in_progress(&active)).await;
    let before = w.item(&active).await;
    let unknown = unique("rp-unknown");

    let run = w
        .run(&["republish", "--session", &active, "--session", &unknown])
        .await;
    assert_eq!(republished(run.report()), [0, 0, 1, 1, 0, 0, 0, 0]);
    assert!(w.consume().await.is_empty(), "nothing sent");
    assert_eq!(
        w.item(&active).await,
        before,
        "the active session untouched"
    );
    assert_eq!(w.app.item(&unknown).await, None, "nothing created");
}

#[tokio::test]
async fn an_outcome_never_sent_goes_out_as_the_original() {
    let w = world(true).await;
    let session = unique("rp-pending");
    let sqs_down = w.app.with_sqs_at(&closed()).await;
    let answer = sqs_down.deliver(&seed::approved(&session)).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    w.app.assert_outcome_pending(&session, "approved").await;

    let run = w.run(&["republish", "--session", &session]).await;
    assert_eq!(republished(run.report()), [0, 1, 0, 0, 0, 0, 0, 0]);
    let sent = w.consume().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(body(&sent[0])["sessionId"], session.as_str());
    assert_eq!(body(&sent[0])["status"], "approved");
    assert_eq!(body(&sent[0])["event"], "biometric.session_approved");
    assert_eq!(attribute(&sent[0], "republishedAt"), None, "the original");
    assert_eq!(
        system(&sent[0], DEDUPLICATION),
        Some(format!("{session}:approved").as_str())
    );
    let item = w.item(&session).await;
    assert!(!item.contains_key("pendingOutcome"), "published: {item:?}");
    assert_eq!(text(&item, "outcomeMessageId"), sent[0].message_id());
    assert!(
        !item.contains_key("republishCount"),
        "a first send is not a republish"
    );

    // Now that it went out, the next run republishes it.
    let run = w.run(&["republish", "--session", &session]).await;
    assert_eq!(republished(run.report()), [1, 0, 0, 0, 0, 0, 0, 0]);
    let copy = w.consume().await;
    assert_eq!(copy.len(), 1);
    assert_eq!(body(&copy[0]), body(&sent[0]));
    assert_eq!(
        system(&copy[0], DEDUPLICATION),
        Some(format!("{session}:approved:r1").as_str())
    );
}

#[tokio::test]
async fn another_publishers_live_lease_is_busy_and_nothing_is_sent() {
    let w = world(true).await;
    let minute_ahead = now_ms() + 60_000;

    // Pending: a delivery died holding its lease (SQS was down).
    let pending = unique("rp-busy-pending");
    let sqs_down = w.app.with_sqs_at(&closed()).await;
    assert_eq!(
        sqs_down.deliver(&seed::approved(&pending)).await.status,
        503
    );
    w.app
        .leave_lease_of_a_dead_process(&pending, minute_ahead)
        .await;
    // Published: a republish elsewhere claimed it and is sending.
    let published = unique("rp-busy-published");
    w.deliver(&seed::about(seed::rejected(&published), "entity-b"))
        .await;
    assert_eq!(w.consume().await.len(), 1);
    w.hold_lease(&published, minute_ahead).await;
    let before = (w.item(&pending).await, w.item(&published).await);

    let run = w
        .run(&["republish", "--session", &pending, "--session", &published])
        .await;
    assert_eq!(republished(run.report()), [0, 0, 0, 0, 0, 2, 0, 0]);
    assert!(w.consume().await.is_empty(), "nothing sent");
    assert_eq!(
        (w.item(&pending).await, w.item(&published).await),
        before,
        "neither lease taken, nothing counted"
    );

    // Once the holders' leases lapse, each goes out by its own path.
    w.app.leave_lease_of_a_dead_process(&pending, 1).await;
    w.hold_lease(&published, 1).await;
    let run = w
        .run(&["republish", "--session", &pending, "--session", &published])
        .await;
    assert_eq!(republished(run.report()), [1, 1, 0, 0, 0, 0, 0, 0]);
    let sent = w.consume().await;
    let sent = by_session(&sent);
    assert_eq!(attribute(sent[&pending], "republishedAt"), None);
    assert!(attribute(sent[&published], "republishedAt").is_some());
}

/// A worker on the consumer kit tells the re-send from the original, by
/// the attribute the kit hands it (`batch::process_received`).
#[tokio::test]
async fn the_consumer_kit_tells_a_re_send_from_the_original() {
    use gu1_outcome::batch::{Received, SqsEvent, process_received};
    let w = world(true).await;
    let session = unique("bio-kit");
    w.deliver(&seed::approved(&session)).await;
    let original = w.consume().await;
    w.run(&["republish", "--session", &session]).await.report();
    let again = w.consume().await;
    let mut event = SqsEvent::default();
    event.records = original
        .iter()
        .chain(&again)
        .map(crate::consumer::record)
        .collect();
    let seen = std::sync::Mutex::new(Vec::new());
    let response = process_received(event, |received: Received| {
        seen.lock().expect("seen").push(received);
        async { Ok::<(), String>(()) }
    })
    .await
    .expect("a batch");
    assert!(response.batch_item_failures.is_empty());
    let seen = seen.into_inner().expect("seen");
    assert_eq!(seen.len(), 2, "the original and the re-send");
    assert_eq!(seen[0].outcome, seen[1].outcome, "the same outcome");
    assert_eq!(seen[0].outcome.session_id, session);
    assert_eq!(seen[0].republished_at, None, "the original");
    let at = seen[1]
        .republished_at
        .as_deref()
        .expect("the re-send is marked");
    assert!(parse_ms(at).is_some_and(|at| at <= now_ms()), "{at}");
}
