//! No lost outcome, proven against moto: a process that died between the
//! write and the send (its lease left on the item, as a dead process leaves
//! it), and dependencies that are down or hang. (The crowd of concurrent
//! deliveries is in `crowd.rs`; the real binary behind a failing proxy in
//! `outages.rs`.)

use crate::support::*;
use gu1_webhook::clock::now_ms;
use gu1_webhook::limits::DELIVERY_DEADLINE;
use gu1_webhook::sweep::SweepReport;
use std::time::Instant;

#[tokio::test]
async fn sqs_down_then_back_the_sweeper_publishes_exactly_once() {
    let app = TestApp::spawn().await;
    let broken = app.with_sqs_at(&closed()).await;
    let answer = broken.deliver(&seed::rejected("s-sweep")).await;
    assert_eq!(answer.status, 503);
    app.assert_outcome_pending("s-sweep", "rejected").await;

    // No redelivery: the sweeper alone publishes it, and a second sweep (or a
    // late redelivery) adds nothing.
    let report = app.sweep_now().await;
    assert_eq!((report.published, report.failed), (1, 0));
    assert_eq!(app.sweep_now().await, SweepReport::default());
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

/// An approved session whose publisher died after its write: SQS was down
/// for the delivery (so nothing was sent), then the item is left holding a
/// dead process's lease until `until_ms`.
async fn died_after_the_write(app: &TestApp, session: &str, until_ms: u64) {
    let broken = app.with_sqs_at(&closed()).await;
    assert_eq!(broken.deliver(&seed::approved(session)).await.status, 503);
    app.leave_lease_of_a_dead_process(session, until_ms).await;
    app.assert_outcome_pending(session, "approved").await;
}

#[tokio::test]
async fn a_dead_publishers_lease_is_respected_then_the_sweeper_repairs_it_once() {
    let app = TestApp::spawn().await;
    died_after_the_write(&app, "s-crash", now_ms() + 60_000).await;

    // While the dead publisher's lease runs, nobody else sends: not the
    // sweeper, not a redelivery.
    let early = app.sweep_now().await;
    assert_eq!((early.published, early.skipped), (0, 1));
    assert_eq!(
        app.deliver(&seed::approved("s-crash")).await.result(),
        "duplicate"
    );
    assert!(app.messages().await.is_empty());

    // Once it has lapsed, the sweeper sends it, once.
    app.leave_lease_of_a_dead_process("s-crash", now_ms() - 1)
        .await;
    let report = app.sweep_now().await;
    assert_eq!((report.published, report.failed), (1, 0));
    assert_eq!(app.sweep_now().await, SweepReport::default());
    assert_eq!(app.messages().await.len(), 1);
}

#[tokio::test]
async fn a_redelivery_after_a_dead_publishers_lease_lapsed_publishes_at_once() {
    let app = TestApp::spawn().await;
    died_after_the_write(&app, "s-crash-2", now_ms() - 1).await;
    assert_eq!(
        app.deliver(&seed::approved("s-crash-2")).await.result(),
        "duplicate"
    );
    assert_eq!(app.messages().await.len(), 1);
    assert_eq!(app.sweep_now().await, SweepReport::default());
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
    // The deadline, plus the bounded give-back of a lease the write may
    // have taken.
    let bound = DELIVERY_DEADLINE + gu1_webhook::limits::LEASE_RELEASE_TIMEOUT;
    assert!(waited < bound, "answered after {waited:?}");
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
