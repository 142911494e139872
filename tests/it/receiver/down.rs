//! A dependency down: SQS down is a 503 with the outcome kept pending (a
//! redelivery publishes it, once); DynamoDB down is a 503 with nothing sent.

use crate::support::*;

#[tokio::test]
async fn sqs_down_means_503_then_a_redelivery_publishes_once() {
    let app = TestApp::spawn().await;
    let broken = app.with_sqs_at(&closed()).await;
    let answer = broken.deliver(&seed::approved("s-sqs-down")).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.headers["retry-after"], "5");
    app.assert_outcome_pending("s-sqs-down", "approved").await;

    // SQS is back: Gu1's retry publishes the outcome, and only once.
    let retry = app.deliver(&seed::approved("s-sqs-down")).await;
    assert_eq!((retry.status, retry.result()), (200, "duplicate"));
    let again = app.deliver(&seed::approved("s-sqs-down")).await;
    assert_eq!((again.status, again.result()), (200, "duplicate"));
    assert_eq!(app.messages().await.len(), 1);
    let item = app.item("s-sqs-down").await.unwrap();
    assert!(text(&item, "outcomePublishedAt").is_some());
    assert!(!item.contains_key("pendingOutcome"));
}

#[tokio::test]
async fn dynamodb_down_means_503_and_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let broken = app.with_dynamodb_at(&closed()).await;
    let answer = broken.deliver(&seed::approved("s-ddb-down")).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.result(), "failed");
    assert!(app.messages().await.is_empty());
    assert_eq!(app.item_count().await, 0);
}
