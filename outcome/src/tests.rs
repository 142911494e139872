use super::*;
use serde_json::{Value, json};

fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/outcome-message.v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the schema file")).expect("JSON")
}

fn example() -> String {
    schema()["examples"][0].to_string()
}

#[test]
fn the_schema_example_parses_and_serialises_back_to_itself() {
    let outcome = parse(&example()).expect("the schema's own example");
    assert_eq!(outcome.status, Status::Approved);
    assert_eq!(outcome.entity_id.as_deref(), Some("entity-uuid"));
    let back: Value = serde_json::to_value(&outcome).unwrap();
    assert_eq!(back, schema()["examples"][0]);
}

/// Type → schema and schema → type: the serialised keys are exactly the
/// schema's required properties, its properties are exactly those, and its
/// constants and enums are the type's.
#[test]
fn the_type_and_the_schema_file_agree_both_ways() {
    let schema = schema();
    let outcome = parse(&example()).unwrap();
    let serialised = serde_json::to_value(&outcome).unwrap();
    let mut keys: Vec<&String> = serialised.as_object().unwrap().keys().collect();
    keys.sort();
    let mut required: Vec<String> = serde_json::from_value(schema["required"].clone()).unwrap();
    required.sort();
    let mut properties: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    properties.sort();
    assert_eq!(keys, required.iter().collect::<Vec<_>>());
    assert_eq!(properties, required.iter().collect::<Vec<_>>());
    assert_eq!(
        schema["properties"]["schemaVersion"]["const"],
        SCHEMA_VERSION
    );
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(schema["properties"]["status"]["enum"], json!(statuses));
    for status in Status::ALL {
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    assert_eq!(
        schema["properties"]["sessionId"]["maxLength"],
        MAX_ID_LEN as u64
    );
}

#[test]
fn unknown_fields_and_nulls_are_taken() {
    let mut message = schema()["examples"][0].clone();
    message["addedInAMinorVersion"] = json!({"x": 1});
    for key in ["entityId", "decision", "completedAt", "event"] {
        message[key] = Value::Null;
    }
    let outcome = parse(&message.to_string()).unwrap();
    assert_eq!(outcome.group_id(), "bio-session-uuid");
    assert_eq!((outcome.entity_id, outcome.decision), (None, None));
}

#[test]
fn what_a_version_1_consumer_must_not_take_is_refused() {
    let with = |key: &str, value: Value| {
        let mut message = schema()["examples"][0].clone();
        message[key] = value;
        parse(&message.to_string())
    };
    assert_eq!(
        with("schemaVersion", json!(2)),
        Err(ParseError::Version {
            found: Some(2),
            expected: 1
        })
    );
    assert_eq!(
        with("schemaVersion", Value::Null),
        Err(ParseError::Version {
            found: None,
            expected: 1
        })
    );
    assert_eq!(with("sessionId", json!("")), Err(ParseError::SessionId));
    assert_eq!(
        with("sessionId", json!("x".repeat(101))),
        Err(ParseError::SessionId)
    );
    for status in ["in_progress", "pending", "APPROVED", "reversed"] {
        assert!(
            matches!(with("status", json!(status)), Err(ParseError::Json { .. })),
            "{status}"
        );
    }
    assert!(matches!(parse("not json"), Err(ParseError::Json { .. })));
    assert!(matches!(parse("[1]"), Err(ParseError::Json { .. })));
    assert!(matches!(
        parse(r#"{"schemaVersion":1"#),
        Err(ParseError::Json { .. })
    ));
}

/// A worker logs the error: it says where the body went wrong, never what
/// the body holds (a name, an external id).
#[test]
fn a_parse_error_never_repeats_the_body() {
    let mut message = schema()["examples"][0].clone();
    message["status"] = json!("Jane-Doe-customer-123");
    message["externalId"] = json!(["customer-123"]);
    let error = parse(&message.to_string()).unwrap_err().to_string();
    assert!(error.starts_with("not a valid message"), "{error}");
    assert!(
        !error.contains("Jane") && !error.contains("customer-123"),
        "{error}"
    );
}

#[test]
fn fifo_ids_follow_the_entity_and_the_outcome() {
    let mut outcome = parse(&example()).unwrap();
    assert_eq!(outcome.group_id(), "entity-uuid");
    assert_eq!(outcome.deduplication_id(), "bio-session-uuid:approved");
    outcome.entity_id = Some("has spaces".into());
    assert_eq!(outcome.group_id(), "bio-session-uuid");
    outcome.entity_id = Some("e".repeat(MAX_ID_LEN + 1));
    assert_eq!(outcome.group_id(), "bio-session-uuid");
    outcome.entity_id = None;
    assert_eq!(outcome.group_id(), "bio-session-uuid");
}

#[test]
fn the_decision_travels_byte_for_byte() {
    let text = r#"{"z": 1,  "a": {"score": 98.50}}"#;
    let decision = Decision::from_json(text.to_owned()).unwrap();
    let mut outcome = parse(&example()).unwrap();
    outcome.decision = Some(decision);
    let body = serde_json::to_string(&outcome).unwrap();
    assert!(body.contains(text), "{body}");
    let back = parse(&body).unwrap();
    assert_eq!(back.decision.as_ref().unwrap().json(), text);
    let value: Value = back.decision.unwrap().read().unwrap();
    assert_eq!(value["a"]["score"], 98.5);
    assert!(Decision::from_json(" {\"a\": 1}".into()).is_some());
    assert!(Decision::from_json("[1]".into()).is_none());
    assert!(Decision::from_json("not json".into()).is_none());
}
