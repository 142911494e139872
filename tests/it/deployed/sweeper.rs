//! The sweeper function under its role: an outcome a delivery stored but
//! could not publish (SQS down, say) is published by it, once.

use super::{deployed, item, scheduled_event, sessions_and_statuses};
use crate::support::{seed, unique};
use aws_sdk_dynamodb::types::AttributeValue;
use std::time::Duration;

#[tokio::test]
async fn the_sweeper_publishes_an_outcome_left_pending() {
    let Some(deployed) = deployed() else { return };
    let aws = deployed.clients();
    // What a failed send leaves: the item of a rejected session delivered
    // (and published) here, copied under a new id (never sent: a FIFO queue
    // would drop a second send of one session and status) with the pending
    // mark, no publication and an old terminalAt (past the sweeper's grace).
    let delivered = unique("deploy-test-delivered");
    deployed.deliver(&seed::rejected(&delivered)).await;
    let published = deployed.outcomes(&aws, 1, Duration::from_secs(15)).await;
    let rejected = |session: &str| [(session.to_owned(), "rejected".to_owned())];
    assert_eq!(sessions_and_statuses(&published), rejected(&delivered));
    let session = unique("deploy-test-swept");
    let mut left = item(&aws, &delivered).await;
    for attribute in [
        "outcomePublishedAt",
        "outcomeMessageId",
        "publishLeaseUntil",
        "publishLeaseHolder",
    ] {
        left.remove(attribute);
    }
    let long_ago = gu1_webhook::clock::now_ms() - 10 * 60 * 1000;
    left.insert("sessionId".into(), AttributeValue::S(session.clone()));
    left.insert("pendingOutcome".into(), AttributeValue::S("PENDING".into()));
    left.insert("terminalAt".into(), AttributeValue::N(long_ago.to_string()));
    aws.dynamodb
        .put_item()
        .table_name(&aws.table)
        .set_item(Some(left))
        .send()
        .await
        .expect("an outcome left pending");

    let invocation = deployed
        .invoke("SweeperFunctionName", &scheduled_event())
        .await;
    assert!(
        !invocation.failed,
        "the sweeper failed: {}",
        invocation.output
    );
    assert_eq!(
        invocation.output["failed"], 0,
        "a sweep report with failed 0: {}",
        invocation.output
    );
    let swept = item(&aws, &session).await;
    assert!(
        swept.contains_key("outcomePublishedAt") && !swept.contains_key("pendingOutcome"),
        "the sweeper left {session} unpublished: {:?}",
        swept.keys().collect::<Vec<_>>()
    );
    let outcomes = deployed.outcomes(&aws, 1, Duration::from_secs(15)).await;
    assert_eq!(sessions_and_statuses(&outcomes), rejected(&session));
    // The stack's own schedule may have taken it just before.
    let by = if invocation.output["published"] == 1 {
        "this run"
    } else {
        "the scheduled run, just before"
    };
    println!(
        "   invoked: {}; {session} published once (by {by})",
        invocation.output
    );
}
