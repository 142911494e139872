//! The example worker (`outcome/examples/worker.rs`), which deploy-test
//! deploys with `examples/worker/template.yaml` on the stack's outcomes
//! queue once the other checks are done (it takes every outcome off the
//! queue). Skipped unless `GU1_DEPLOYED_WORKER_TABLE` (its table) and
//! `GU1_DEPLOYED_WORKER_FUNCTION` (its function) are set too.
//!
//! - A signed delivery through the deployed API: its outcome reaches the
//!   worker's table through the queue and the SQS event source mapping, and
//!   leaves the queue (the batch reported no failure).
//! - A copy with another status, invoked directly as the mapping would:
//!   answered without failures, and the item keeps the first status.

use super::{deployed, invoke, required};
use crate::support::{self, Item, json, seed, text, unique};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use std::time::{Duration, Instant};

/// The worker's item of `session` (strongly consistent), if any.
async fn recorded(aws: &support::Stack, table: &str, session: &str) -> Option<Item> {
    aws.dynamodb
        .get_item()
        .table_name(table)
        .key("sessionId", AttributeValue::S(session.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item on the worker's table")
        .item
}

#[tokio::test]
async fn the_example_worker_records_a_signed_delivery_once() {
    let Some(deployed) = deployed() else { return };
    let Ok(table) = std::env::var("GU1_DEPLOYED_WORKER_TABLE") else {
        println!(
            "skipped: GU1_DEPLOYED_WORKER_TABLE not set (deploy-test sets it once the worker is deployed)"
        );
        return;
    };
    let function = required("GU1_DEPLOYED_WORKER_FUNCTION");
    let aws_clients = deployed.clients();
    let session = unique("deploy-test-worker");
    let started = Instant::now();
    deployed.deliver(&seed::approved(&session)).await;
    println!("   {session}: approved, delivered signed through the deployed API");

    // Bounded: the mapping invokes the worker within a second or two.
    let deadline = started + Duration::from_secs(30);
    let item = loop {
        if let Some(item) = recorded(&aws_clients, &table, &session).await {
            break item;
        }
        assert!(
            Instant::now() < deadline,
            "30 s after the delivery, the worker's table {table} has no item for {session}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let took = started.elapsed();
    assert_eq!(
        (text(&item, "status"), text(&item, "externalId")),
        (Some("approved"), Some("customer-123")),
        "the worker's item for {session}: {item:?}"
    );

    // The mapping deleted the message: nothing visible, nothing in flight.
    loop {
        let attributes = aws_clients
            .sqs
            .get_queue_attributes()
            .queue_url(&aws_clients.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("get_queue_attributes")
            .attributes
            .unwrap_or_default();
        let left: Vec<&String> = attributes.values().filter(|n| *n != "0").collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the outcome of {session} stays on the queue after the worker recorded it: {attributes:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "   in the example worker's table {:.1}s later (approved, customer-123); the queue is empty",
        took.as_secs_f64()
    );

    // A copy, with another status: a no-op, not a failure.
    let copy = json!({"schemaVersion": 1, "sessionId": session, "entityId": "entity-uuid",
                      "externalId": "customer-123", "status": "rejected"});
    let event = json!({"Records": [{
        "messageId": "deploy-test-copy", "receiptHandle": "deploy-test-copy",
        "body": copy.to_string(), "attributes": {"MessageGroupId": "entity-uuid"},
        "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": deployed.output("OutcomesQueueArn"), "awsRegion": "us-east-1"}]});
    let answer = invoke(&function, &event).await;
    assert!(
        !answer.failed
            && answer.output["batchItemFailures"]
                .as_array()
                .is_some_and(Vec::is_empty),
        "the worker's answer to a copy: {:?}",
        answer.output
    );
    let item = recorded(&aws_clients, &table, &session)
        .await
        .unwrap_or_default();
    assert_eq!(
        text(&item, "status"),
        Some("approved"),
        "a copy changed the worker's item"
    );
    println!("   a copy with another status: no failure, the first status kept");
}
