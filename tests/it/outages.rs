//! The real binary with one AWS service failing at a time, through the
//! fault-injecting proxy of the test support (no test-only code in the
//! receiver): SQS refused, failing, hanging or losing its answers; DynamoDB
//! throttling. Each test checks the answer, the item and the exact messages
//! on the (standard) queue, where every copy shows.

use crate::support::binary::Proxied;
use crate::support::proxy::{Fault, Rule, Service};
use crate::support::*;

/// The answer to a delivery that could not publish: try again later.
fn assert_unavailable(answer: &Answer) {
    assert_eq!(
        (answer.status, answer.result()),
        (503, "failed"),
        "{answer:?}"
    );
    assert_eq!(answer.headers["retry-after"], "5");
}

/// `session` approved, published, and nothing left pending.
async fn assert_published(stack: &Stack, session: &str) {
    let item = stack.item(session).await.expect("stored");
    assert_eq!(text(&item, "status"), Some("approved"));
    assert!(item.contains_key("outcomePublishedAt"), "{item:?}");
    assert!(!item.contains_key("pendingOutcome"), "{item:?}");
}

/// SQS fails every send: the delivery gets a `503`, the approved state is
/// durable with its outcome pending, and one `sweep` publishes it once.
async fn sqs_failing_leaves_the_outcome_to_the_sweeper(fault: Fault) {
    let rig = Proxied::start().await;
    rig.proxy
        .inject(Rule::on(Service::Sqs, fault).only("SendMessage"));
    let session = unique("s-sqs");

    assert_unavailable(&rig.server.deliver(&seed::approved(&session)).await);
    rig.stack.assert_outcome_pending(&session, "approved").await;
    assert!(
        rig.proxy.count("SendMessage") >= 1,
        "{:?}",
        rig.proxy.seen()
    );

    let report = rig.direct.sweep_now();
    assert_eq!(report, json!({"published": 1, "skipped": 0, "failed": 0}));
    let bodies = rig.stack.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(
        (&bodies[0]["sessionId"], &bodies[0]["status"]),
        (&json!(session), &json!("approved"))
    );
    assert_published(&rig.stack, &session).await;
    assert_eq!(
        rig.direct.sweep_now(),
        json!({"published": 0, "skipped": 0, "failed": 0}),
        "nothing left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_refusing_connections_is_503_then_the_sweeper_publishes_once() {
    sqs_failing_leaves_the_outcome_to_the_sweeper(Fault::Refuse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_answering_500_is_503_then_the_sweeper_publishes_once() {
    sqs_failing_leaves_the_outcome_to_the_sweeper(Fault::Status500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_hanging_is_503_then_the_sweeper_publishes_once() {
    sqs_failing_leaves_the_outcome_to_the_sweeper(Fault::Hang).await;
}

/// Every send lands but its answer is lost: the receiver cannot know the
/// message left, so it answers `503` and leaves the outcome pending; each
/// attempt the SDK made is a copy on the queue, and the sweeper adds one
/// more. This is the "send succeeded, answer lost" case consumers
/// deduplicate on `sessionId` for (a FIFO queue drops the copies).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_losing_every_answer_is_503_and_each_landed_send_is_a_copy() {
    let rig = Proxied::start().await;
    rig.proxy
        .inject(Rule::on(Service::Sqs, Fault::DropAnswer).only("SendMessage"));
    let session = unique("s-sqs-drop");

    assert_unavailable(&rig.server.deliver(&seed::approved(&session)).await);
    let item = rig.stack.item(&session).await.expect("durable");
    assert_eq!(text(&item, "status"), Some("approved"));
    assert_eq!(text(&item, "pendingOutcome"), Some("PENDING"));
    assert!(!item.contains_key("outcomePublishedAt"));
    let landed = rig.proxy.count("SendMessage");
    let copies = rig.stack.outcome_bodies().await;
    assert!(landed >= 1);
    assert_eq!(copies.len(), landed, "one copy per send that reached SQS");
    assert!(copies.iter().all(|m| m["sessionId"] == session.as_str()));

    let report = rig.direct.sweep_now();
    assert_eq!(report, json!({"published": 1, "skipped": 0, "failed": 0}));
    let after = rig.stack.outcome_bodies().await;
    assert_eq!(after.len(), 1, "the sweeper sends one more: {after:?}");
    assert_eq!(after[0], copies[0], "the same message");
    assert_published(&rig.stack, &session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_throttling_is_503_then_a_redelivery_publishes_once() {
    let rig = Proxied::start().await;
    rig.proxy
        .inject(Rule::on(Service::DynamoDb, Fault::Throttle));
    let session = unique("s-throttled");

    assert_unavailable(&rig.server.deliver(&seed::approved(&session)).await);
    assert!(
        rig.proxy.count("UpdateItem") >= 2,
        "the SDK retried the throttled write: {:?}",
        rig.proxy.seen()
    );
    assert_eq!(rig.stack.item(&session).await, None, "nothing stored");
    assert!(rig.stack.messages().await.is_empty(), "nothing sent");

    rig.proxy.heal();
    let answer = rig.server.deliver(&seed::approved(&session)).await;
    assert_eq!(
        (answer.status, &answer.body),
        (
            200,
            &json!({"result": "applied", "sessionId": session, "status": "approved"})
        )
    );
    let bodies = rig.stack.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["sessionId"], session.as_str());
    assert_published(&rig.stack, &session).await;
}
