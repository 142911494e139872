//! A test's own table and queue on moto ([`Stack`]): created fresh, read
//! back (items, messages), and put into the states a test needs (aged, a
//! dead process's lease); and reading an item's attributes.

use super::{Value, unique};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_types::SdkConfig;
use gu1_webhook::local;
use std::collections::HashMap;
use std::time::Duration;

pub type Item = HashMap<String, AttributeValue>;

/// A fresh table and queues (outcomes, reviews) on moto, and clients that
/// always reach moto, for a test's own checks (whatever the receiver under
/// test is pointed at).
#[derive(Clone)]
pub struct Stack {
    pub table: String,
    pub queue_url: String,
    pub reviews_url: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Stack {
    /// A fresh table and queue (FIFO when `fifo`), reached through `config`
    /// made [`local::patient`].
    pub async fn create(config: &SdkConfig, fifo: bool) -> Stack {
        let config = local::patient(config);
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let table = unique("sessions");
        local::create_table(&dynamodb, &table)
            .await
            .expect("create table");
        let queue = |name: &str| {
            let name = if fifo {
                format!("{}.fifo", unique(name))
            } else {
                unique(name)
            };
            let sqs = sqs.clone();
            async move {
                local::create_queue(&sqs, &name)
                    .await
                    .expect("create queue")
            }
        };
        let queue_url = queue("outcomes").await;
        let reviews_url = queue("reviews").await;
        Stack {
            table,
            queue_url,
            reviews_url,
            dynamodb,
            sqs,
        }
    }

    /// The stored item of `session`, if any (strongly consistent read).
    pub async fn item(&self, session: &str) -> Option<Item> {
        self.dynamodb
            .get_item()
            .table_name(&self.table)
            .key("sessionId", AttributeValue::S(session.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Asserts that `session` is durably `status` with its outcome still
    /// pending (in the unpublished index, not marked, nothing on the queue),
    /// and returns the item.
    pub async fn assert_outcome_pending(&self, session: &str, status: &str) -> Item {
        let item = self.item(session).await.expect("the state is durable");
        assert_eq!(text(&item, "status"), Some(status));
        assert_eq!(text(&item, "pendingOutcome"), Some("PENDING"));
        assert!(!item.contains_key("outcomePublishedAt"));
        assert!(self.messages().await.is_empty(), "nothing on the queue yet");
        item
    }

    /// Makes `session`, if active, look as if nothing had moved it for
    /// `age`: its key in the stale-sessions index goes back that far (the
    /// only clock reconciliation reads), so that a run picks it while a
    /// session just delivered stays fresh, however slow the machine.
    pub async fn age(&self, session: &str, age: Duration) {
        let at = gu1_webhook::clock::now_ms() - age.as_millis() as u64;
        self.update(session)
            .update_expression("SET #checked = :at")
            .condition_expression("attribute_exists(#active)")
            .expression_attribute_names("#checked", "lastCheckedAt")
            .expression_attribute_names("#active", "activeSession")
            .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
            .send()
            .await
            .expect("an active session to age");
    }

    /// Leaves on `session` what a process that died holding the publish
    /// lease leaves (its write landed, its send never happened): the lease in
    /// another writer's name, running until `until_ms` (epoch ms; in the past
    /// for a lease that has lapsed). No test hook needed: the item is all
    /// another publisher ever sees of a dead one.
    pub async fn leave_lease_of_a_dead_process(&self, session: &str, until_ms: u64) {
        self.update(session)
            .update_expression("SET #until = :until, #holder = :holder")
            .condition_expression("attribute_exists(#pending)")
            .expression_attribute_names("#until", "publishLeaseUntil")
            .expression_attribute_names("#holder", "publishLeaseHolder")
            .expression_attribute_names("#pending", "pendingOutcome")
            .expression_attribute_values(":until", AttributeValue::N(until_ms.to_string()))
            .expression_attribute_values(":holder", AttributeValue::S("a-dead-process".into()))
            .send()
            .await
            .expect("a pending outcome to hold");
    }

    /// An update of `session`'s item, for a test to put it in a state.
    fn update(&self, session: &str) -> UpdateItemFluentBuilder {
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key("sessionId", AttributeValue::S(session.into()))
    }

    /// How many items the table holds.
    pub async fn item_count(&self) -> usize {
        self.dynamodb
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .expect("scan")
            .items()
            .len()
    }

    /// Every message on the outcomes queue (received once each, never
    /// deleted: the visibility timeout keeps them out of later receives).
    pub async fn messages(&self) -> Vec<aws_sdk_sqs::types::Message> {
        self.messages_on(&self.queue_url).await
    }

    /// Every review notice on the reviews queue, parsed (received once each).
    pub async fn review_bodies(&self) -> Vec<Value> {
        self.messages_on(&self.reviews_url)
            .await
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap_or("null")).expect("json body"))
            .collect()
    }

    /// Every message on the queue at `url`, received once each.
    pub async fn messages_on(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let mut all = Vec::new();
        loop {
            let batch = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .visibility_timeout(600)
                .message_attribute_names("All")
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive")
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                return all;
            }
            all.extend(batch);
        }
    }

    /// The message bodies, parsed.
    pub async fn outcome_bodies(&self) -> Vec<Value> {
        self.messages()
            .await
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap_or("null")).expect("json body"))
            .collect()
    }
}

/// Text attribute of an item.
pub fn text<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    item.get(attr)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// Number attribute of an item.
pub fn number(item: &Item, attr: &str) -> Option<u64> {
    item.get(attr)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}
