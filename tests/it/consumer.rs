//! The other side of the queue: a worker written with the consumer kit
//! (`gu1_outcome::batch`) takes a batch of the receiver's real messages, as
//! Lambda hands them over from the FIFO queue, with one poison record.

use crate::support::*;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use gu1_outcome::Outcome;
use gu1_outcome::batch::{SqsBatchResponse, SqsEvent, SqsMessage, process_batch};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A Lambda SQS record for a message received from the queue, with its
/// system and message attributes.
pub(crate) fn record(message: &aws_sdk_sqs::types::Message) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = message.message_id().map(str::to_owned);
    record.receipt_handle = message.receipt_handle().map(str::to_owned);
    record.body = message.body().map(str::to_owned);
    record.attributes = message
        .attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
        .collect();
    record.message_attributes = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let mut attribute = gu1_outcome::batch::SqsMessageAttribute::default();
            attribute.string_value = value.string_value().map(str::to_owned);
            attribute.data_type = Some(value.data_type().to_owned());
            (name.clone(), attribute)
        })
        .collect();
    record
}

/// An onboarding worker: records each session's outcome once in its own
/// table (a conditional put keyed by the session), and counts the puts
/// that landed.
struct Worker {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    recorded: AtomicUsize,
}

impl Worker {
    async fn handle(&self, outcome: Outcome) -> Result<(), String> {
        let put = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .item(
                "sessionId",
                aws_sdk_dynamodb::types::AttributeValue::S(outcome.session_id.clone()),
            )
            .item(
                "status",
                aws_sdk_dynamodb::types::AttributeValue::S(outcome.status.to_string()),
            )
            .condition_expression("attribute_not_exists(sessionId)")
            .send()
            .await;
        match put {
            Ok(_) => {
                self.recorded.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            // Already recorded: a copy, or the batch delivered again.
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(err) => Err(format!("the worker's table refused: {err}")),
        }
    }

    async fn status_of(&self, session: &str) -> Option<String> {
        let item = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key(
                "sessionId",
                aws_sdk_dynamodb::types::AttributeValue::S(session.into()),
            )
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item?;
        text(&item, "status").map(str::to_owned)
    }
}

fn failed(response: &SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn a_worker_on_the_kit_takes_a_poisoned_fifo_batch_group_by_group() {
    let app = TestApp::spawn_with(Options {
        fifo: true,
        ..Options::default()
    })
    .await;
    // Ana has three outcomes, Ben and Cid one each.
    let deliveries = [
        ("ana", "s-ana-1", "approved"),
        ("ben", "s-ben-1", "rejected"),
        ("ana", "s-ana-2", "expired"),
        ("cid", "s-cid-1", "approved"),
        ("ana", "s-ana-3", "cancelled"),
    ];
    let sessions: Vec<(&str, String)> = deliveries
        .iter()
        .map(|(entity, _, _)| *entity)
        .zip(app.deliver_outcomes(&deliveries).await)
        .collect();
    let messages = app.messages().await;
    assert_eq!(messages.len(), 5, "one message per outcome");
    let mut records: Vec<SqsMessage> = messages.iter().map(record).collect();
    let position = |session: &str| {
        records
            .iter()
            .position(|r| r.body.as_deref().is_some_and(|b| b.contains(session)))
            .expect("its message")
    };
    // A poison record in Ana's group, right after her first outcome.
    let mut poison = records[position(&sessions[0].1)].clone();
    poison.message_id = Some("poison-message-id".into());
    poison.body = Some("{\"schemaVersion\": 1, \"sessionId\": ".into());
    let after_first = position(&sessions[0].1) + 1;
    records.insert(after_first, poison);
    let mut event = SqsEvent::default();
    event.records = records;

    let table = unique("worker-outcomes");
    gu1_webhook::local::create_table(&app.dynamodb, &table)
        .await
        .expect("the worker's table");
    let worker = Worker {
        dynamodb: app.dynamodb.clone(),
        table,
        recorded: AtomicUsize::new(0),
    };

    let id_of = |session: &str| {
        messages
            .iter()
            .find(|m| m.body().is_some_and(|b| b.contains(session)))
            .and_then(|m| m.message_id())
            .expect("message id")
            .to_owned()
    };
    let held_back = vec![
        "poison-message-id".to_owned(),
        id_of(&sessions[2].1),
        id_of(&sessions[4].1),
    ];
    for delivery in ["first", "second"] {
        let response = process_batch(event.clone(), |o| worker.handle(o))
            .await
            .expect("a partial failure, not a whole one");
        let mut got = failed(&response);
        got.sort();
        let mut want = held_back.clone();
        want.sort();
        assert_eq!(
            got, want,
            "{delivery} delivery: the poison and what follows it in Ana's group"
        );
        assert_eq!(
            worker.recorded.load(Ordering::SeqCst),
            3,
            "{delivery} delivery: Ana's first, Ben's and Cid's outcomes, each recorded once"
        );
    }
    for (i, status) in [
        (0, Some("approved")),
        (1, Some("rejected")),
        (2, None),
        (3, Some("approved")),
        (4, None),
    ] {
        assert_eq!(
            worker.status_of(&sessions[i].1).await.as_deref(),
            status,
            "{}",
            sessions[i].1
        );
    }

    // SQS redelivers the reported records; the poison goes to the DLQ in
    // the end, and Ana's later outcomes are recorded in order.
    let mut redelivery = SqsEvent::default();
    redelivery.records = event
        .records
        .into_iter()
        .filter(|r| {
            held_back.contains(r.message_id.as_ref().expect("id"))
                && r.message_id.as_deref() != Some("poison-message-id")
        })
        .collect();
    let response = process_batch(redelivery, |o| worker.handle(o))
        .await
        .expect("processed");
    assert!(failed(&response).is_empty());
    assert_eq!(worker.recorded.load(Ordering::SeqCst), 5);
    assert_eq!(
        worker.status_of(&sessions[4].1).await.as_deref(),
        Some("cancelled")
    );
}
