//! Storage: the sessions table's key and unpublished-outcomes index are the
//! store's, and the default queue is FIFO with explicit deduplication (its
//! dead-letter queue too).

use super::resources::*;
use super::yaml::*;
use gu1_webhook::store;
use serde_yaml::Value;

/// The keys of the unpublished-outcomes index.
const PENDING_ATTR: &str = store::PENDING_ATTR;
const TERMINAL_AT_ATTR: &str = store::TERMINAL_AT_ATTR;

fn table(t: &Value) -> &Value {
    let tables = resources_of_type(t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "one DynamoDB table");
    tables[0].1
}

/// The resource a queue's `RedrivePolicy.deadLetterTargetArn` (`!GetAtt X.Arn`) names.
fn dead_letter_target(queue_props: &Value) -> String {
    let target = at(queue_props, &["RedrivePolicy", "deadLetterTargetArn"]);
    match intrinsic(target) {
        // `!GetAtt X.Arn` or `Fn::GetAtt: [X, Arn]`
        Some((name, arg)) if name == "GetAtt" => match untag(arg) {
            Value::Sequence(parts) => text(&parts[0]),
            other => text(other).split('.').next().unwrap_or_default().to_owned(),
        },
        _ => panic!("deadLetterTargetArn should be !GetAtt <queue>.Arn"),
    }
}

fn key_schema(value: &Value) -> Vec<(String, String)> {
    list(at(value, &["KeySchema"]))
        .iter()
        .map(|k| (text(at(k, &["AttributeName"])), text(at(k, &["KeyType"]))))
        .collect()
}

fn attribute_type(table: &Value, attribute: &str) -> String {
    list(at(table, &["Properties", "AttributeDefinitions"]))
        .iter()
        .find(|d| text(at(d, &["AttributeName"])) == attribute)
        .map(|d| text(at(d, &["AttributeType"])))
        .unwrap_or_else(|| panic!("no attribute definition for {attribute}"))
}

#[test]
fn sessions_table_matches_the_store() {
    let t = template();
    let table = table(&t);
    assert_eq!(
        key_schema(at(table, &["Properties"])),
        [pair(store::KEY, "HASH")]
    );
    assert_eq!(attribute_type(table, store::KEY), "S");

    let indexes = list(at(table, &["Properties", "GlobalSecondaryIndexes"]));
    let index = indexes
        .iter()
        .find(|i| text(at(i, &["IndexName"])) == store::UNPUBLISHED_INDEX)
        .unwrap_or_else(|| panic!("no index named {}", store::UNPUBLISHED_INDEX));
    assert_eq!(
        key_schema(index),
        [pair(PENDING_ATTR, "HASH"), pair(TERMINAL_AT_ATTR, "RANGE")]
    );
    assert_eq!(attribute_type(table, PENDING_ATTR), "S");
    assert_eq!(attribute_type(table, TERMINAL_AT_ATTR), "N");
}

#[test]
fn default_queue_is_fifo_with_explicit_deduplication() {
    let t = template();
    assert_eq!(
        text(at(&t, &["Parameters", "QueueType", "Default"])),
        "fifo"
    );
    for (name, queue) in message_queues(&t) {
        let props = at(queue, &["Properties"]);
        let property = |key| text(with_defaults(&t, at(props, &[key])));
        assert_eq!(property("FifoQueue"), "true", "{name}");
        // The publisher sends MessageDeduplicationId = sessionId:status
        // (sessionId:review:status for a notice).
        assert_eq!(property("ContentBasedDeduplication"), "false", "{name}");
        // High throughput: per message group (the entity, else the session).
        assert_eq!(property("DeduplicationScope"), "messageGroup", "{name}");
        assert_eq!(
            property("FifoThroughputLimit"),
            "perMessageGroupId",
            "{name}"
        );
        // The code decides FIFO by the queue URL ending in `.fifo`.
        assert!(sub_text(with_defaults(&t, at(props, &["QueueName"]))).ends_with(".fifo"));

        // A FIFO queue needs a FIFO dead-letter queue.
        let dlq = dead_letter_target(props);
        let dlq_props = at(&t, &["Resources", &dlq, "Properties"]);
        assert_eq!(
            text(with_defaults(&t, at(dlq_props, &["FifoQueue"]))),
            "true",
            "{name}"
        );
    }
}
