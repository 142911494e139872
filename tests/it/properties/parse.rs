//! `parse`: never panics on bytes, JSON-ish text or envelopes with fields
//! of any type, and whatever it accepts is safe to store and send.

use super::config;
use gu1_webhook::parse::{Delivery, parse_delivery};
use gu1_webhook::session::{SessionStatus, is_safe_id};
use proptest::prelude::*;
use serde_json::{Value, json};

/// What `parse_delivery` promises about a `Session` it returns.
fn check_parsed(body: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(Delivery::Session(event)) = parse_delivery(body) {
        prop_assert!(event.event.starts_with("biometric.session_"));
        prop_assert!(is_safe_id(event.session_id.as_str()));
        prop_assert_eq!(
            SessionStatus::parse(event.status.as_str()),
            Some(event.status)
        );
        if let Some(decision) = &event.fields.decision {
            prop_assert!(decision.starts_with('{'), "decision {}", decision);
        }
    }
    Ok(())
}

/// Fragments that JSON (and the envelope) is made of.
fn json_token() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        " ",
        "\"",
        "\\",
        "\\u0000",
        "\\ud800",
        "null",
        "true",
        "-",
        "0",
        "1e999",
        "\"event\"",
        "\"payload\"",
        "\"id\"",
        "\"status\"",
        "\"decision\"",
        "\"entity\"",
        "\"externalId\"",
        "\"entityId\"",
        "\"timestamp\"",
        "\"organizationId\"",
        "\"biometric.session_approved\"",
        "\"kyc.validation_approved\"",
        "\"approved\"",
        "\"pending\"",
        "\"s-1\"",
        "\"\"",
        "\u{e9}",
        "\u{0}",
    ])
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        proptest::sample::select(vec!["approved", "pending", "APPROVED", "s-1", "a b", ""])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An envelope of the right shape whose fields hold anything (or are absent).
fn envelope() -> impl Strategy<Value = Value> {
    let field = || proptest::option::of(json_value());
    let well_typed = |s: &'static str| proptest::option::of(Just(Value::from(s)));
    (
        prop_oneof![well_typed("biometric.session_approved"), field()],
        field(),
        prop_oneof![well_typed("s-1"), field()],
        prop_oneof![well_typed("approved"), well_typed("pending"), field()],
        field(),
        field(),
        field(),
    )
        .prop_map(|(event, timestamp, id, status, decision, entity, extra)| {
            let mut payload = serde_json::Map::new();
            for (key, value) in [
                ("id", id),
                ("status", status),
                ("decision", decision),
                ("entity", entity),
                ("somethingNew", extra),
            ] {
                if let Some(value) = value {
                    payload.insert(key.into(), value);
                }
            }
            let mut envelope = json!({"payload": payload});
            if let Some(event) = event {
                envelope["event"] = event;
            }
            if let Some(timestamp) = timestamp {
                envelope["timestamp"] = timestamp;
            }
            envelope
        })
}

// Generating bytes and JSON values is what costs here, not parsing them:
// fewer cases for those, to keep the whole file within a few seconds.
proptest! {
    #![proptest_config(config(2_000, 0x6775_315f_6279_7465))]

    #[test]
    fn parse_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_parsed(&body)?;
    }
}

proptest! {
    #![proptest_config(config(10_000, 0x6775_315f_7061_7273))]

    #[test]
    fn parse_never_panics_on_json_ish_text(
        tokens in proptest::collection::vec(json_token(), 0..64),
    ) {
        check_parsed(tokens.concat().as_bytes())?;
    }
}

proptest! {
    #![proptest_config(config(2_000, 0x6775_315f_656e_7665))]

    #[test]
    fn parse_never_panics_on_envelopes_with_fields_of_any_type(envelope in envelope()) {
        let body = serde_json::to_vec(&envelope).expect("json");
        check_parsed(&body)?;
        // A well-typed envelope of ours is always accepted.
        let payload = &envelope["payload"];
        let well_typed = envelope["event"] == "biometric.session_approved"
            && envelope.get("timestamp").is_none_or(|t| t.is_string() || t.is_null())
            && payload["id"] == "s-1"
            && (payload["status"] == "approved" || payload["status"] == "pending")
            && payload.get("decision").is_none_or(|d| d.is_object() || d.is_null())
            && payload.get("entity").is_none_or(|e| e.is_null()
                || (e.is_object()
                    && e.get("id").is_none_or(|v| v.is_string() || v.is_null())
                    && e.get("externalId").is_none_or(|v| v.is_string() || v.is_null())));
        if well_typed {
            prop_assert!(
                matches!(parse_delivery(&body), Ok(Delivery::Session(_))),
                "{:?}: {}", parse_delivery(&body), envelope
            );
        }
    }
}
