//! Storage: the sessions table's key, indexes and time to live are the
//! store's, a stack of 0.1.0 gets the new indexes one deploy at a time, and
//! the default queue is FIFO with explicit deduplication (its dead-letter
//! queue too).

use super::resources::*;
use super::yaml::*;
use gu1_webhook::store;
use serde_yaml::Value;
use std::collections::BTreeSet;

/// The keys of the unpublished-outcomes index.
const PENDING_ATTR: &str = store::PENDING_ATTR;
const TERMINAL_AT_ATTR: &str = store::TERMINAL_AT_ATTR;

/// The indexes of a stack deployed by release 0.1.0 (its template's
/// `SessionsTable`), by the names they had then, whatever the store calls
/// them now: what the first stage of an upgrade starts from.
const INDEXES_OF_0_1_0: [&str; 2] = ["UnpublishedOutcomes", "StaleSessions"];

/// The `OperatorIndexes` values, in the order an upgrade from 0.1.0
/// deploys them (docs/deploy.md).
const UPGRADE_STAGES: [&str; 3] = ["terminal", "terminal-and-entity", "all"];

/// The type the store writes each key attribute with (S: a string, N: a
/// number); DynamoDB refuses a write whose key attribute has another.
const KEY_TYPES: [(&str, &str); 8] = [
    (store::KEY, "S"),
    (PENDING_ATTR, "S"),
    (TERMINAL_AT_ATTR, "N"),
    (store::ACTIVE_ATTR, "S"),
    (store::CHECKED_AT_ATTR, "N"),
    (store::TERMINAL_DAY_ATTR, "S"),
    (store::ENTITY_ID_ATTR, "S"),
    (store::EXTERNAL_ID_ATTR, "S"),
];

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

/// The table's global secondary indexes under `values` (`&[]`: the defaults).
fn indexes<'a>(t: &Value, table: &'a Value, values: &Values) -> Vec<&'a Value> {
    elements(
        t,
        at(table, &["Properties", "GlobalSecondaryIndexes"]),
        values,
    )
}

fn index_names(indexes: &[&Value]) -> BTreeSet<String> {
    indexes
        .iter()
        .map(|i| text(at(i, &["IndexName"])))
        .collect()
}

/// The table's global secondary index named `name`, with the defaults.
fn index<'a>(t: &Value, table: &'a Value, name: &str) -> &'a Value {
    indexes(t, table, &[])
        .into_iter()
        .find(|i| text(at(i, &["IndexName"])) == name)
        .unwrap_or_else(|| panic!("no index named {name}"))
}

/// The attributes whose types the table defines under `values`, as
/// (name, type), in order of name.
fn attribute_definitions(t: &Value, table: &Value, values: &Values) -> Vec<(String, String)> {
    let mut defined: Vec<_> = elements(
        t,
        at(table, &["Properties", "AttributeDefinitions"]),
        values,
    )
    .into_iter()
    .map(|d| {
        (
            text(at(d, &["AttributeName"])),
            text(at(d, &["AttributeType"])),
        )
    })
    .collect();
    defined.sort();
    defined
}

/// Every attribute a key of the table or of one of `indexes` uses.
fn key_attributes(table: &Value, indexes: &[&Value]) -> BTreeSet<String> {
    std::iter::once(at(table, &["Properties"]))
        .chain(indexes.iter().copied())
        .flat_map(key_schema)
        .map(|(attribute, _)| attribute)
        .collect()
}

/// An index's projection: its type, and the attributes it adds to the keys.
fn projection(index: &Value) -> (String, Vec<String>) {
    let projection = at(index, &["Projection"]);
    let added = get(projection, "NonKeyAttributes")
        .map_or_else(Vec::new, |a| list(a).iter().map(text).collect());
    (text(at(projection, &["ProjectionType"])), added)
}

/// An attribute's defined type, with the defaults.
fn attribute_type(t: &Value, table: &Value, attribute: &str) -> String {
    attribute_definitions(t, table, &[])
        .into_iter()
        .find(|(name, _)| name == attribute)
        .map(|(_, kind)| kind)
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
    assert_eq!(attribute_type(&t, table, store::KEY), "S");

    assert_eq!(
        key_schema(index(&t, table, store::UNPUBLISHED_INDEX)),
        [pair(PENDING_ATTR, "HASH"), pair(TERMINAL_AT_ATTR, "RANGE")]
    );
    assert_eq!(attribute_type(&t, table, PENDING_ATTR), "S");
    assert_eq!(attribute_type(&t, table, TERMINAL_AT_ATTR), "N");
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
    let terminal = index(&t, table, store::TERMINAL_INDEX);
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
    assert_eq!(attribute_type(&t, table, store::TERMINAL_DAY_ATTR), "S");
    assert_eq!(attribute_type(&t, table, TERMINAL_AT_ATTR), "N");

    // erase --entity and --external-id: a person's sessions, keys only.
    for (name, attribute) in [
        (store::ENTITY_INDEX, store::ENTITY_ID_ATTR),
        (store::EXTERNAL_ID_INDEX, store::EXTERNAL_ID_ATTR),
    ] {
        let index = index(&t, table, name);
        assert_eq!(key_schema(index), [pair(attribute, "HASH")], "{name}");
        assert_eq!(projection(index), keys_only(), "{name}");
        assert_eq!(attribute_type(&t, table, attribute), "S", "{name}");
    }
    // The sparse ones the sweeper and reconciliation query stay keys only.
    for name in [store::UNPUBLISHED_INDEX, store::STALE_INDEX] {
        assert_eq!(projection(index(&t, table, name)), keys_only(), "{name}");
    }

    // Exactly the store's indexes, and an attribute definition only for a key.
    let indexes = indexes(&t, table, &[]);
    assert_eq!(index_names(&indexes), all_the_stores_indexes());
    let defined: BTreeSet<String> = attribute_definitions(&t, table, &[])
        .into_iter()
        .map(|(attribute, _)| attribute)
        .collect();
    assert_eq!(
        defined,
        key_attributes(table, &indexes),
        "CloudFormation refuses a definition of a non-key"
    );

    // DynamoDB deletes an item past the attribute the store sets from
    // RETENTION_DAYS; an item without it is kept.
    let ttl = at(table, &["Properties", "TimeToLiveSpecification"]);
    assert_eq!(text(at(ttl, &["AttributeName"])), store::EXPIRES_AT_ATTR);
    assert_eq!(text(at(ttl, &["Enabled"])), "true");
}

fn all_the_stores_indexes() -> BTreeSet<String> {
    [
        store::UNPUBLISHED_INDEX,
        store::STALE_INDEX,
        store::TERMINAL_INDEX,
        store::ENTITY_INDEX,
        store::EXTERNAL_ID_INDEX,
    ]
    .map(String::from)
    .into()
}

/// DynamoDB creates or deletes at most one global secondary index per
/// update of a table (CloudFormation fails the deploy otherwise), so a stack
/// of 0.1.0 gets the three new ones through `OperatorIndexes`, one deploy
/// each; a new stack gets all of them from the default.
#[test]
fn an_upgrade_from_0_1_0_adds_one_index_per_deploy() {
    let t = template();
    let table = table(&t);
    let parameter = at(&t, &["Parameters", "OperatorIndexes"]);
    let allowed: BTreeSet<String> = list(at(parameter, &["AllowedValues"]))
        .iter()
        .map(text)
        .collect();
    assert_eq!(allowed, UPGRADE_STAGES.map(String::from).into());
    assert_eq!(text(at(parameter, &["Default"])), "all");

    let mut previous: BTreeSet<String> = INDEXES_OF_0_1_0.map(String::from).into();
    for stage in UPGRADE_STAGES {
        let values = [("OperatorIndexes", stage)];
        let indexes = indexes(&t, table, &values);
        let names = index_names(&indexes);
        let added: Vec<&String> = names.difference(&previous).collect();
        let removed: Vec<&String> = previous.difference(&names).collect();
        assert_eq!(
            (added.len(), removed.len()),
            (1, 0),
            "{stage} after {previous:?} adds {added:?} and removes {removed:?}"
        );

        // A definition for each attribute a key uses, none for another
        // (DynamoDB refuses it), each with the type the store writes.
        let wanted: Vec<(String, String)> = key_attributes(table, &indexes)
            .iter()
            .map(|attribute| {
                let (_, kind) = KEY_TYPES
                    .iter()
                    .find(|(name, _)| name == attribute)
                    .unwrap_or_else(|| panic!("{stage}: the store writes no key {attribute}"));
                pair(attribute, kind)
            })
            .collect();
        assert_eq!(attribute_definitions(&t, table, &values), wanted, "{stage}");
        previous = names;
    }
    // The last stage is the default: every index the store queries.
    assert_eq!(previous, all_the_stores_indexes());
    assert_eq!(index_names(&indexes(&t, table, &[])), previous);
}
