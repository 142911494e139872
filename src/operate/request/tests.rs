//! A Lambda payload makes the same requests, by the same rules, as the
//! command line (whose own tests are in `cli/tests.rs`).

use super::*;
use serde_json::json;

fn request(payload: serde_json::Value) -> Result<Request, String> {
    Request::from_payload(&payload)
}

#[test]
fn payloads_make_the_commands_requests() {
    assert_eq!(
        request(json!({"command": "erase", "externalId": "customer-42"})),
        Ok(Request::Erase(Erase::ExternalId("customer-42".into())))
    );
    assert_eq!(
        request(json!({"command": "republish", "sessions": ["s-1"]})),
        Ok(Request::Republish(Republish::Sessions(vec![
            SessionId::parse("s-1").unwrap()
        ])))
    );
    let Ok(Request::Republish(Republish::Window(window))) = request(json!({
        "command": "republish", "since": "2026-12-01T14:00:00Z", "limit": 3
    })) else {
        panic!("a window");
    };
    assert_eq!((window.since_ms, window.limit), (1_796_133_600_000, 3));
    assert_eq!(window.until_ms, None);
    assert_eq!(
        request(json!({"command": "track", "sessions": ["s-1"], "entity": "e-1"})),
        Ok(Request::Track {
            sessions: vec![SessionId::parse("s-1").unwrap()],
            entity: Some("e-1".into())
        })
    );
}

#[test]
fn a_payload_that_is_no_command_is_refused_with_the_reason() {
    for (payload, reason) in [
        (json!({}), "not a command"),
        (json!({"command": "drop"}), "not a command"),
        (
            json!({"command": "erase", "entity": "e", "sessionz": []}),
            "unknown field",
        ),
        (
            json!({"command": "erase", "since": "2026-12-01T14:00:00Z"}),
            "since is not an option of erase",
        ),
        (
            json!({"command": "erase", "entity": ""}),
            "an entity or external id is 1 to 1024",
        ),
        (
            json!({"command": "republish", "sessions": [".."]}),
            "session \"..\"",
        ),
        (
            json!({"command": "republish", "since": "2025-01-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}),
            "at most 400 days",
        ),
        (
            json!({"command": "track", "sessions": []}),
            "give at least one session",
        ),
    ] {
        let refused = request(payload.clone()).expect_err(&payload.to_string());
        assert!(refused.contains(reason), "{payload}: {refused}");
    }
}

#[test]
fn cursors_read_back() {
    let cursor: Cursor = "1796133600000:s:with:colons".parse().unwrap();
    assert_eq!(cursor.terminal_at, 1_796_133_600_000);
    assert_eq!(cursor.session.as_str(), "s:with:colons");
    assert_eq!(cursor.to_string(), "1796133600000:s:with:colons");
    for bad in ["", "s-1", "x:s-1", "1:"] {
        assert!(bad.parse::<Cursor>().is_err(), "{bad:?}");
    }
}
