//! The request path up to the decision, on arbitrary bytes: verify, parse,
//! decide, build the DynamoDB update and the outcome message. Nothing may
//! panic, a body signed right always verifies, and the outcome message is
//! JSON that a consumer can read back.
//!
//! The first byte decides how the rest is signed:
//! - even: the rest is the body, signed with [`SECRET`] (the encoding picked
//!   by the byte's other bits), so the parser sees authentic bodies;
//! - odd: `byte >> 1` bytes of the rest are the signature header, the others
//!   the body: the header decoder sees arbitrary values.
#![no_main]

use gu1_webhook::decide::{Verdict, outcome_duty, verdict};
use gu1_webhook::local::{record_after_apply, sign_hex};
use gu1_webhook::parse::{Delivery, parse_delivery};
use gu1_webhook::publish;
use gu1_webhook::session::{SessionEvent, SessionRecord, SessionStatus, WriteToken};
use gu1_webhook::store::apply_update;
use gu1_webhook::verify::Verifier;
use libfuzzer_sys::fuzz_target;

/// The local demo secret, so that the committed `events/` verify as seeds.
const SECRET: &[u8] = b"gu1-local-demo-secret";
const NOW_MS: u64 = 1_781_190_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let (header, body) = if first & 1 == 0 {
        (signed_header(first >> 1, rest), rest)
    } else {
        let (header, body) = rest.split_at(usize::from(first >> 1).min(rest.len()));
        (header.to_vec(), body)
    };
    let verifier = Verifier::new([SECRET]).expect("a secret");
    let verified = verifier.verify(body, [header.as_slice()]);
    if first & 1 == 0 {
        assert_eq!(verified, Ok(()), "a right signature was refused");
    }
    if verified.is_err() {
        return;
    }
    if let Ok(Delivery::Session(event)) = parse_delivery(body) {
        decide_and_build(&event);
    }
});

/// The right MAC of `body`, in one of the encodings Gu1 might use.
fn signed_header(encoding: u8, body: &[u8]) -> Vec<u8> {
    let hex = sign_hex(SECRET, body);
    match encoding % 4 {
        0 => hex,
        1 => hex.to_uppercase(),
        2 => format!("sha256={hex}"),
        _ => format!(" SHA256={hex} "),
    }
    .into_bytes()
}

/// What the receiver does with a parsed event, against every stored status.
fn decide_and_build(event: &SessionEvent) {
    let lease_until = NOW_MS + 30_000;
    let writer = WriteToken::unique();
    let update = apply_update(event, Some("wh-fuzz"), &writer, NOW_MS, lease_until);
    assert!(!update.expression().is_empty());

    for stored in std::iter::once(None).chain(SessionStatus::ALL.map(Some)) {
        let verdict = verdict(stored, event.status);
        // Applied: the event's status; otherwise the item stays as it was.
        let status = match stored {
            Some(stored) if verdict != Verdict::Applied => stored,
            _ => event.status,
        };
        let record = SessionRecord {
            status,
            ..record_after_apply(event, &writer, lease_until)
        };
        let _ = (verdict, outcome_duty(&record, &writer, NOW_MS));
    }

    let record = record_after_apply(event, &writer, lease_until);
    let message = publish::outcome(&record);
    assert_eq!(message.is_some(), event.status.is_terminal());
    if let Some(message) = message {
        assert!(message.deduplication_id().len() <= 128, "SQS limit");
        let _ = message.group_id();
        let json = serde_json::to_string(&message).expect("the message serializes");
        // The consumers read it back with an ordinary JSON parser.
        if let Err(err) = serde_json::from_str::<serde_json::Value>(&json) {
            panic!("the outcome message is not readable JSON ({err}): {json:.300}");
        }
    }
}
