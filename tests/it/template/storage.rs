//! Storage: the sessions table's key, indexes and time to live are the
//! store's, and the default queue is FIFO with explicit deduplication (its
//! dead-letter queue too).

use super::resources::*;
use super::yaml::*;
use gu1_webhook::store;
use serde_yaml::Value;
use std::collections::BTreeSet;

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

/// The table's global secondary index named `name`.
fn index<'a>(table: &'a Value, name: &str) -> &'a Value {
    list(at(table, &["Properties", "GlobalSecondaryIndexes"]))
        .iter()
        .find(|i| text(at(i, &["IndexName"])) == name)
        .unwrap_or_else(|| panic!("no index named {name}"))
}

/// An index's projection: its type, and the attributes it adds to the keys.
fn projection(index: &Value) -> (String, Vec<String>) {
    let projection = at(index, &["Projection"]);
    let added = get(projection, "NonKeyAttributes")
        .map_or_else(Vec::new, |a| list(a).iter().map(text).collect());
    (text(at(projection, &["ProjectionType"])), added)
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

    assert_eq!(
        key_schema(index(table, store::UNPUBLISHED_INDEX)),
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

#[test]
fn the_operators_indexes_and_the_time_to_live_match_the_store() {
    let t = template();
    let table = table(&t);
    let keys_only = || (String::from("KEYS_ONLY"), Vec::new());

    // republish --since: one day's terminal sessions, in order, with their
    // status (the only attribute the index adds to the keys).
    let terminal = index(table, store::TERMINAL_INDEX);
    assert_eq!(
        key_schema(terminal),
        [
            pair(store::TERMINAL_DAY_ATTR, "HASH"),
            pair(TERMINAL_AT_ATTR, "RANGE")
        ]
    );
    assert_eq!(
        projection(terminal),
        (String::from("INCLUDE"), vec![store::STATUS_ATTR.to_owned()])
    );
    assert_eq!(attribute_type(table, store::TERMINAL_DAY_ATTR), "S");
    assert_eq!(attribute_type(table, TERMINAL_AT_ATTR), "N");

    // erase --entity and --external-id: a person's sessions, keys only.
    for (name, attribute) in [
        (store::ENTITY_INDEX, store::ENTITY_ID_ATTR),
        (store::EXTERNAL_ID_INDEX, store::EXTERNAL_ID_ATTR),
    ] {
        let index = index(table, name);
        assert_eq!(key_schema(index), [pair(attribute, "HASH")], "{name}");
        assert_eq!(projection(index), keys_only(), "{name}");
        assert_eq!(attribute_type(table, attribute), "S", "{name}");
    }
    // The sparse ones the sweeper and reconciliation query stay keys only.
    for name in [store::UNPUBLISHED_INDEX, store::STALE_INDEX] {
        assert_eq!(projection(index(table, name)), keys_only(), "{name}");
    }

    // Exactly the store's indexes, and an attribute definition only for a key.
    let indexes = list(at(table, &["Properties", "GlobalSecondaryIndexes"]));
    let names: BTreeSet<String> = indexes
        .iter()
        .map(|i| text(at(i, &["IndexName"])))
        .collect();
    let wanted: BTreeSet<String> = [
        store::UNPUBLISHED_INDEX,
        store::STALE_INDEX,
        store::TERMINAL_INDEX,
        store::ENTITY_INDEX,
        store::EXTERNAL_ID_INDEX,
    ]
    .map(String::from)
    .into();
    assert_eq!(names, wanted);
    let keys: BTreeSet<String> = std::iter::once(at(table, &["Properties"]))
        .chain(indexes)
        .flat_map(key_schema)
        .map(|(attribute, _)| attribute)
        .collect();
    let defined: BTreeSet<String> = list(at(table, &["Properties", "AttributeDefinitions"]))
        .iter()
        .map(|d| text(at(d, &["AttributeName"])))
        .collect();
    assert_eq!(
        defined, keys,
        "CloudFormation refuses a definition of a non-key"
    );

    // DynamoDB deletes an item past the attribute the store sets from
    // RETENTION_DAYS; an item without it is kept.
    let ttl = at(table, &["Properties", "TimeToLiveSpecification"]);
    assert_eq!(text(at(ttl, &["AttributeName"])), store::EXPIRES_AT_ATTR);
    assert_eq!(text(at(ttl, &["Enabled"])), "true");
}
