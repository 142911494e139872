//! A delivery must recognise its own write (issue 8, part 1): when a write
//! lands but its answer is slow or lost, the SDK retries it, the retry's
//! condition fails against the delivery's *own* write, and the delivery
//! must still publish and answer truthfully, not `200 duplicate` with
//! nothing on the queue.
//!
//! The real binary, with DynamoDB behind the fault-injecting proxy; a
//! standard queue, so that a missing or a second message shows.

use crate::support::binary::Proxied;
use crate::support::proxy::{Fault, Rule, Service};
use crate::support::*;
use std::time::Duration;

/// Longer than the SDK's 1.5 s attempt timeout: the client has given up on
/// the write (which landed) and retries it.
const SLOWER_THAN_AN_ATTEMPT: Duration = Duration::from_millis(1700);

/// Exactly one message (of `bodies`, the queue's) for `session` approved,
/// and the item marked published.
async fn assert_published_exactly_once(
    stack: &Stack,
    session: &str,
    bodies: &[Value],
    context: &str,
) {
    assert_eq!(
        bodies.len(),
        1,
        "exactly one message: {bodies:?}; {context}"
    );
    assert_eq!(
        (&bodies[0]["sessionId"], &bodies[0]["status"]),
        (&json!(session), &json!("approved"))
    );
    let item = stack.item(session).await.expect("stored");
    assert_eq!(text(&item, "status"), Some("approved"));
    assert!(
        item.contains_key("outcomePublishedAt"),
        "{item:?}; {context}"
    );
    assert!(!item.contains_key("pendingOutcome"), "{item:?}; {context}");
}

/// A new session's terminal write (the apply) meets `fault` once.
async fn the_apply_answer_lost_or_late_still_publishes(fault: Fault) {
    let rig = Proxied::start().await;
    rig.proxy.inject(
        Rule::on(Service::DynamoDb, fault)
            .only("UpdateItem")
            .times(1),
    );
    let session = unique("s-own-apply");

    let answer = rig.server.deliver(&seed::approved(&session)).await;
    let seen = rig.proxy.seen();
    let bodies = rig.stack.outcome_bodies().await;
    let context = format!("messages: {bodies:?}; requests: {seen:?}");
    assert!(
        rig.proxy.count("UpdateItem") >= 2,
        "the premise: the SDK retried the write that had landed: {seen:?}"
    );
    assert_eq!(
        (answer.status, &answer.body),
        (
            200,
            &json!({"result": "applied", "sessionId": session, "status": "approved"})
        ),
        "{context}"
    );
    assert_published_exactly_once(&rig.stack, &session, &bodies, &context).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_to_the_terminal_write_still_publishes_and_answers_applied() {
    the_apply_answer_lost_or_late_still_publishes(Fault::SlowAnswer(SLOWER_THAN_AN_ATTEMPT)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_terminal_write_still_publishes_and_answers_applied() {
    the_apply_answer_lost_or_late_still_publishes(Fault::DropAnswer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_claim_still_publishes_the_redelivery() {
    let rig = Proxied::start().await;
    let session = unique("s-own-claim");

    // First delivery: SQS refuses, so the outcome stays pending and the
    // failed send releases the lease.
    rig.proxy
        .inject(Rule::on(Service::Sqs, Fault::Refuse).only("SendMessage"));
    let first = rig.server.deliver(&seed::approved(&session)).await;
    assert_eq!((first.status, first.result()), (503, "failed"));
    rig.stack.assert_outcome_pending(&session, "approved").await;

    // Redelivery: its first UpdateItem is the apply write (a duplicate now,
    // which takes nothing); the second claims the released lease, and that
    // answer is lost.
    rig.proxy.heal();
    rig.proxy.inject(
        Rule::on(Service::DynamoDb, Fault::DropAnswer)
            .only("UpdateItem")
            .after(1)
            .times(1),
    );
    let before = rig.proxy.seen().len();
    let answer = rig.server.deliver(&seed::approved(&session)).await;
    let redelivery = &rig.proxy.seen()[before..];
    assert!(
        redelivery
            .iter()
            .any(|s| s.fault == Some(Fault::DropAnswer)),
        "the premise: a claim's answer was lost: {redelivery:?}"
    );
    let bodies = rig.stack.outcome_bodies().await;
    let context = format!("answer: {answer:?}; requests: {redelivery:?}");
    assert_eq!(answer.status, 200, "{context}");
    assert_published_exactly_once(&rig.stack, &session, &bodies, &context).await;
}

/// The SDK's standard retry mode keeps a per-process retry quota that about
/// 50 retried timeouts empty, after which every call gets one attempt: a
/// lost answer would then be a 503 instead of a retry. The receiver turns
/// that quota off, so after a burst of 60 timeouts a call still gets its
/// retries and the README's "up to 3 attempts" holds in every state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_burst_of_timeouts_a_call_still_gets_its_retries() {
    let rig = Proxied::start().await;
    // 60 concurrent deliveries, each of whose writes hangs: every one times
    // out an attempt and retries (which costs the standard quota 10 of 500).
    rig.proxy
        .inject(Rule::on(Service::DynamoDb, Fault::Hang).only("UpdateItem"));
    let burst = (0..60).map(|i| {
        let body = seed::in_progress(&format!("s-burst-{i}"));
        let server = &rig.server;
        async move { server.deliver(&body).await.status }
    });
    let statuses = futures::future::join_all(burst).await;
    assert!(statuses.iter().all(|s| *s == 503), "{statuses:?}");
    assert!(
        rig.proxy.count("UpdateItem") >= 120,
        "each write is tried again after its timeout, the last ones too \
         (a standard retry quota refuses those: {} tries)",
        rig.proxy.count("UpdateItem")
    );

    // DynamoDB is back, but the answer to the next write is lost once.
    rig.proxy.heal();
    rig.proxy.inject(
        Rule::on(Service::DynamoDb, Fault::DropAnswer)
            .only("UpdateItem")
            .times(1),
    );
    let before = rig.proxy.count("UpdateItem");
    let session = unique("s-after-burst");
    let answer = rig.server.deliver(&seed::approved(&session)).await;
    assert_eq!(
        rig.proxy.count("UpdateItem") - before,
        3,
        "the lost write, its retry, the published mark: {:?}",
        rig.proxy.seen()
    );
    assert_eq!(
        (answer.status, answer.result()),
        (200, "applied"),
        "{:?}",
        answer.body
    );
    let bodies = rig.stack.outcome_bodies().await;
    let context = format!("requests: {:?}", rig.proxy.seen());
    assert_published_exactly_once(&rig.stack, &session, &bodies, &context).await;
}
