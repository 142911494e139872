use super::*;
use serde_json::{Value, json};

fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/review-notice.v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the schema file")).expect("JSON")
}

fn example() -> Value {
    schema()["examples"][0].clone()
}

/// The keys of a serialised object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// A schema object's required list and property names, each sorted.
fn required_and_properties(schema: &Value) -> (Vec<String>, Vec<String>) {
    let mut required: Vec<String> = serde_json::from_value(schema["required"].clone()).unwrap();
    required.sort();
    (required, keys(&schema["properties"]))
}

#[test]
fn the_schema_example_parses_and_serialises_back_to_itself() {
    let notice = parse_review(&example().to_string()).expect("the schema's own example");
    assert_eq!(notice.kept.status, Status::Approved);
    assert_eq!(notice.conflicting.status, Status::Rejected);
    assert_eq!(serde_json::to_value(&notice).unwrap(), example());
}

/// Type → schema and schema → type, at each level: the serialised keys
/// are exactly the schema's required properties and its properties.
#[test]
fn the_type_and_the_schema_file_agree_both_ways() {
    let schema = schema();
    let notice = serde_json::to_value(parse_review(&example().to_string()).unwrap()).unwrap();
    for (value, schema) in [
        (&notice, &schema),
        (&notice["kept"], &schema["properties"]["kept"]),
        (&notice["conflicting"], &schema["properties"]["conflicting"]),
    ] {
        let (required, properties) = required_and_properties(schema);
        assert_eq!(keys(value), required);
        assert_eq!(properties, required);
    }
    let properties = &schema["properties"];
    assert_eq!(properties["schemaVersion"]["const"], REVIEW_SCHEMA_VERSION);
    assert_eq!(properties["messageType"]["const"], MESSAGE_TYPE);
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    for side in ["kept", "conflicting"] {
        assert_eq!(
            properties[side]["properties"]["status"]["enum"],
            json!(statuses)
        );
    }
}

/// Neither message can pass for the other: a v1 outcome consumer refuses a
/// notice, and a notice reader refuses an outcome.
#[test]
fn a_notice_is_never_taken_for_an_outcome_nor_the_reverse() {
    let notice = example().to_string();
    assert!(matches!(
        crate::parse(&notice),
        Err(ParseError::Json { .. })
    ));
    let outcome_schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/outcome-message.v1.json"
    );
    let outcome: Value =
        serde_json::from_str(&std::fs::read_to_string(outcome_schema).unwrap()).unwrap();
    assert!(parse_review(&outcome["examples"][0].to_string()).is_err());
    let mut other = example();
    other["messageType"] = json!("outcome");
    assert_eq!(
        parse_review(&other.to_string()),
        Err(ParseError::MessageType)
    );
    other["schemaVersion"] = json!(2);
    assert_eq!(
        parse_review(&other.to_string()),
        Err(ParseError::Version {
            found: Some(2),
            expected: REVIEW_SCHEMA_VERSION
        })
    );
}

#[test]
fn one_notice_per_session_and_conflicting_status_in_the_entitys_group() {
    let mut notice = parse_review(&example().to_string()).unwrap();
    assert_eq!(notice.group_id(), "entity-uuid");
    assert_eq!(
        notice.deduplication_id(),
        "bio-session-uuid:review:rejected"
    );
    notice.entity_id = None;
    assert_eq!(notice.group_id(), "bio-session-uuid");
    notice.conflicting.status = Status::Expired;
    assert_eq!(notice.deduplication_id(), "bio-session-uuid:review:expired");
}
