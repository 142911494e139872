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
