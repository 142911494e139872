//! No lost outcome, proven against moto: faults between the write and the
//! send, and dependencies that are down or hang. (The crowd of concurrent
//! deliveries is in `crowd.rs`.)
//!
//! Built only with `--features test-faults` (the fault point of
//! `src/faults.rs`); `scripts/test` passes `--all-features`.

use crate::support::*;
use gu1_webhook::config::DELIVERY_DEADLINE;
use gu1_webhook::sweep::{SweepReport, sweep};
use std::time::{Duration, Instant};

async fn sweep_now(app: &TestApp) -> SweepReport {
    sweep(app.receiver.publisher(), Duration::ZERO, 25)
        .await
        .expect("sweep")
}

/// Sleeps until the publish lease on `item` has lapsed.
async fn sleep_past_lease(item: &Item) {
    let until = number(item, "publishLeaseUntil").expect("a lease");
    let now = gu1_webhook::clock::now_ms();
    tokio::time::sleep(Duration::from_millis(until.saturating_sub(now) + 50)).await;
}

#[tokio::test]
async fn sqs_down_then_back_the_sweeper_publishes_exactly_once() {
    let app = TestApp::spawn().await;
    let broken = app.with_sqs_at(&closed()).await;
    let answer = broken.deliver(&seed::rejected("s-sweep")).await;
    assert_eq!(answer.status, 503);
    app.assert_outcome_pending("s-sweep", "rejected").await;

    // No redelivery: the sweeper alone publishes it, and a second sweep (or a
    // late redelivery) adds nothing.
    let report = sweep_now(&app).await;
    assert_eq!((report.published, report.failed), (1, 0));
    assert_eq!(sweep_now(&app).await, SweepReport::default());
    assert_eq!(
        app.deliver(&seed::rejected("s-sweep")).await.result(),
        "duplicate"
    );
    let bodies = app.outcome_bodies().await;
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["rejectionCode"], "FACE_MATCH_SCORE_LOW");
    let item = app.item("s-sweep").await.unwrap();
    assert!(text(&item, "outcomePublishedAt").is_some());
    assert!(!item.contains_key("pendingOutcome"));
}

#[tokio::test]
async fn a_death_between_write_and_send_is_repaired_by_the_sweeper_once_the_lease_lapses() {
    let app = TestApp::spawn_with(Options {
        lease: Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    gu1_webhook::faults::crash_after_store("s-crash");
    let (body, signature) = TestApp::signed(&seed::approved("s-crash"));
    let answer = app
        .try_request(
            "POST",
            "/webhooks/gu1",
            &[("x-webhook-signature", signature.as_str())],
            body,
        )
        .await;
    assert!(answer.is_err(), "the process died: no answer");
    let item = app.item("s-crash").await.unwrap();
    assert_eq!(text(&item, "status"), Some("approved"));
    assert!(app.messages().await.is_empty());

    // While the dead publisher's lease runs, nobody else sends.
    let early = sweep_now(&app).await;
    assert_eq!((early.published, early.skipped), (0, 1));

    sleep_past_lease(&item).await;
    let report = sweep_now(&app).await;
    assert_eq!((report.published, report.failed), (1, 0));
    assert_eq!(sweep_now(&app).await.published, 0);
    assert_eq!(app.messages().await.len(), 1);
}

#[tokio::test]
async fn a_redelivery_after_the_lease_lapses_publishes_when_the_sweeper_has_not() {
    let app = TestApp::spawn_with(Options {
        lease: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    gu1_webhook::faults::crash_after_store("s-crash-2");
    let (body, signature) = TestApp::signed(&seed::approved("s-crash-2"));
    let headers = [("x-webhook-signature", signature.as_str())];
    assert!(
        app.try_request("POST", "/webhooks/gu1", &headers, body)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        app.deliver(&seed::approved("s-crash-2")).await.result(),
        "duplicate"
    );
    assert_eq!(app.messages().await.len(), 1);
    assert_eq!(sweep_now(&app).await, SweepReport::default());
}

#[tokio::test]
async fn dynamodb_hanging_gets_a_503_within_the_deadline_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let hung = hang().await;
    let slow = app.with_dynamodb_at(&hung.endpoint).await;
    let started = Instant::now();
    let answer = slow.deliver(&seed::approved("s-slow-ddb")).await;
    let waited = started.elapsed();
    assert_eq!(answer.status, 503);
    assert!(waited < DELIVERY_DEADLINE, "answered after {waited:?}");
    assert!(app.messages().await.is_empty());
    assert_eq!(app.item_count().await, 0);
}

#[tokio::test]
async fn sqs_hanging_gets_a_503_within_the_deadline_and_the_outcome_stays_pending() {
    let app = TestApp::spawn().await;
    let hung = hang().await;
    let slow = app.with_sqs_at(&hung.endpoint).await;
    let started = Instant::now();
    let answer = slow.deliver(&seed::terminal("s-slow-sqs", "expired")).await;
    let waited = started.elapsed();
    assert_eq!(answer.status, 503);
    assert!(waited < DELIVERY_DEADLINE, "answered after {waited:?}");
    let item = app.assert_outcome_pending("s-slow-sqs", "expired").await;
    assert!(
        !item.contains_key("publishLeaseUntil"),
        "the failed publisher let go of its lease"
    );
    // Gu1's retry, with SQS back, publishes at once.
    assert_eq!(
        app.deliver(&seed::terminal("s-slow-sqs", "expired"))
            .await
            .status,
        200
    );
    assert_eq!(app.messages().await.len(), 1);
}
