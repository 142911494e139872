//! Taking the outcomes off the deployed queue, as a worker would: each
//! message received, checked against the published schema and its `status`
//! attribute, and deleted.

use super::{Deployed, schema};
use crate::support::{self, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One outcome message, taken off the queue (and deleted).
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    /// The body as sent, byte for byte.
    pub body: String,
    pub json: Value,
    /// The message attributes' string values, by name.
    pub attributes: BTreeMap<String, String>,
}

impl Deployed {
    /// Receives (and deletes) outcomes until `expected` arrived and the
    /// queue came back empty once more, or `wait` passed. Each must satisfy
    /// schema/outcome-message.v1.json and carry its status as an attribute.
    pub async fn outcomes(
        &self,
        aws: &support::Stack,
        expected: usize,
        wait: Duration,
    ) -> Vec<Value> {
        let messages = self.outcome_messages(aws, expected, wait).await;
        messages.into_iter().map(|message| message.json).collect()
    }

    /// [`Deployed::outcomes`], with each message's id, body and attributes.
    pub async fn outcome_messages(
        &self,
        aws: &support::Stack,
        expected: usize,
        wait: Duration,
    ) -> Vec<Received> {
        let deadline = Instant::now() + wait;
        let (mut received, mut empty) = (Vec::new(), false);
        while Instant::now() < deadline && (received.len() < expected || !empty) {
            let batch = aws
                .sqs
                .receive_message()
                .queue_url(&aws.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive")
                .messages
                .unwrap_or_default();
            empty = batch.is_empty();
            for message in batch {
                let body = message.body().unwrap_or_default().to_owned();
                let json: Value = serde_json::from_str(&body).expect("a JSON body");
                if let Err(err) = schema::check_outcome(&json) {
                    panic!(
                        "the message for {} breaks the schema: {err}",
                        json["sessionId"]
                    );
                }
                let attributes: BTreeMap<String, String> = message
                    .message_attributes()
                    .into_iter()
                    .flatten()
                    .filter_map(|(name, value)| {
                        Some((name.clone(), value.string_value()?.to_owned()))
                    })
                    .collect();
                assert_eq!(
                    attributes.get("status").map(String::as_str),
                    json["status"].as_str(),
                    "the status attribute of {json}"
                );
                aws.sqs
                    .delete_message()
                    .queue_url(&aws.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
                received.push(Received {
                    message_id: message.message_id().unwrap_or_default().to_owned(),
                    body,
                    json,
                    attributes,
                });
            }
        }
        received
    }
}
