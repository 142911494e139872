//! The operator function (handler `operate`) under its role, invoked as
//! docs/operations.md's day-two requests say (`aws lambda invoke` with a
//! JSON payload): `republish` of a session whose outcome a worker already
//! consumed, and of a window (by status, a page at a time); `erase` of a
//! person by entity id, then by external id, and a replay of an erased
//! session's delivery; a payload that is no command.

use super::messages::Received;
use super::{Deployed, deployed, item};
use crate::operations::ERASED_ATTRS;
use crate::support::{Item, Stack, Value, json, number, seed, text, unique};
use gu1_webhook::clock::{now_ms, parse_ms, rfc3339};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

/// The attributes of `item` that erase must have removed.
fn personal(item: &Item) -> Vec<&str> {
    let mut found: Vec<&str> = item
        .keys()
        .map(String::as_str)
        .filter(|name| ERASED_ATTRS.contains(name) || name.starts_with("reviewNotice_"))
        .collect();
    found.sort_unstable();
    found
}

/// `event` sent now (its envelope time: within any retention), about
/// `entity` with external id `external`.
fn event(event: Value, entity: &str, external: &str) -> Value {
    let mut event = seed::about(event, entity);
    event["timestamp"] = rfc3339(now_ms()).into();
    event["payload"]["entity"]["externalId"] = external.into();
    event
}

/// Invokes the operator with `payload`; its report must be `want`: the
/// counts and `next` given, every other count 0 and `next` null.
async fn operate(deployed: &Deployed, payload: Value, want: Value) {
    let invocation = deployed.invoke("OperatorFunctionName", &payload).await;
    let report = &invocation.output;
    assert!(!invocation.failed, "{payload}: a function error: {report}");
    let (got, wanted) = (report.as_object(), want.as_object().expect("counts"));
    let got = got.unwrap_or_else(|| panic!("{payload}: the report is {report}"));
    let missing: Vec<&String> = wanted.keys().filter(|k| !got.contains_key(*k)).collect();
    assert!(missing.is_empty(), "{payload}: {report} has no {missing:?}");
    for (key, value) in got {
        let unnamed = if value.is_number() {
            json!(0)
        } else {
            Value::Null
        };
        let expected = wanted.get(key).unwrap_or(&unnamed);
        assert_eq!(value, expected, "{payload}: {key} of {report}");
    }
    println!("   {payload}: {report}");
}

/// Delivers `event` through the API and takes its outcome off the queue, as
/// a worker would: the original, consumed.
async fn consumed(deployed: &Deployed, aws: &Stack, event: &Value) -> Received {
    deployed.deliver(event).await;
    let mut messages = deployed.outcome_messages(aws, 1, WAIT).await;
    let session = &event["payload"]["id"];
    assert_eq!(messages.len(), 1, "one outcome for {session}: {messages:?}");
    let original = messages.remove(0);
    assert_eq!(&original.json["sessionId"], session);
    assert!(
        !original.attributes.contains_key("republishedAt"),
        "the original outcome of {session} is marked republished: {:?}",
        original.attributes
    );
    original
}

/// Takes exactly one message off the queue: `original` again, sent after
/// `since_ms` as the `times`th republish, and recorded so on its item.
async fn resent(deployed: &Deployed, aws: &Stack, original: &Received, since_ms: u64, times: u64) {
    let session = original.json["sessionId"].as_str().expect("a session id");
    let messages = deployed.outcome_messages(aws, 1, WAIT).await;
    let ids: Vec<&Value> = messages.iter().map(|m| &m.json["sessionId"]).collect();
    assert_eq!(ids, [session], "exactly one new message, for {session}");
    let message = &messages[0];
    assert_eq!(message.body, original.body, "the republished body");
    assert_ne!(message.message_id, original.message_id, "a new message");
    let at = message.attributes.get("republishedAt").map(String::as_str);
    let sent = at.and_then(parse_ms);
    assert!(
        sent.is_some_and(|sent| (since_ms..=now_ms()).contains(&sent)),
        "{session}'s republishedAt {at:?}: a time since the command ran"
    );
    let stored = item(aws, session).await;
    assert_eq!(
        (
            number(&stored, "republishCount"),
            text(&stored, "lastRepublishedAt"),
            text(&stored, "lastRepublishMessageId"),
        ),
        (Some(times), at, Some(message.message_id.as_str())),
        "{session}'s item records the republish"
    );
}

#[tokio::test]
async fn republish_sends_a_consumed_outcome_again() {
    let Some(deployed) = deployed() else { return };
    let aws = deployed.clients();
    let session = unique("deploy-test-republish");
    let delivered = event(seed::approved(&session), "entity-uuid", "customer-123");
    let original = consumed(deployed, &aws, &delivered).await;

    let asked = now_ms();
    let payload = json!({"command": "republish", "sessions": [session]});
    operate(deployed, payload, json!({"republished": 1})).await;
    resent(deployed, &aws, &original, asked, 1).await;
    println!("     one new message: the original's body, republishedAt, on the item");
}

#[tokio::test]
async fn republish_a_window_by_status_and_page() {
    let Some(deployed) = deployed() else { return };
    let aws = deployed.clients();
    let since = rfc3339(now_ms());
    let (a, b) = (unique("deploy-test-window"), unique("deploy-test-window"));
    let approved = consumed(
        deployed,
        &aws,
        &event(seed::approved(&a), "entity-uuid", "customer-123"),
    )
    .await;
    let rejected = consumed(
        deployed,
        &aws,
        &event(seed::rejected(&b), "entity-uuid", "customer-123"),
    )
    .await;
    let until = rfc3339(now_ms());
    let window = |more: Value| {
        let mut payload = json!({"command": "republish", "since": since, "until": until});
        for (key, value) in more.as_object().expect("options") {
            payload[key.as_str()] = value.clone();
        }
        payload
    };

    // By status: the approved one; the rejected one is counted, not sent.
    let asked = now_ms();
    let want = json!({"republished": 1, "otherStatus": 1});
    operate(deployed, window(json!({"status": "approved"})), want).await;
    resent(deployed, &aws, &approved, asked, 1).await;

    // A page of one, oldest first, then the rest after its cursor.
    let asked = now_ms();
    let terminal_at = number(&item(&aws, &a).await, "terminalAt").expect("terminalAt");
    let next = format!("{terminal_at}:{a}");
    let want = json!({"republished": 1, "next": next});
    operate(deployed, window(json!({"limit": 1})), want).await;
    resent(deployed, &aws, &approved, asked, 2).await;
    let asked = now_ms();
    let want = json!({"republished": 1});
    operate(deployed, window(json!({"after": next})), want).await;
    resent(deployed, &aws, &rejected, asked, 1).await;
    println!("     {since} to {until}: by status, then a page of one and the rest");
}

#[tokio::test]
async fn erase_removes_a_persons_fields_for_good() {
    let Some(deployed) = deployed() else { return };
    let aws = deployed.clients();
    let (entity, other) = (unique("deploy-test-entity"), unique("deploy-test-entity"));
    let (external, other_external) = (
        unique("deploy-test-customer"),
        unique("deploy-test-customer"),
    );
    let (s1, s2, s3) = (
        unique("deploy-test-erase"),
        unique("deploy-test-erase"),
        unique("deploy-test-kept"),
    );
    let events = [
        event(seed::approved(&s1), &entity, &external),
        event(seed::rejected(&s2), &entity, &external),
        event(seed::approved(&s3), &other, &other_external),
    ];
    for delivered in &events {
        consumed(deployed, &aws, delivered).await;
    }
    let rejected = item(&aws, &s2).await;
    assert_eq!(
        personal(&rejected),
        ["decision", "entityId", "externalId", "rejectionMessage"],
        "{s2} as delivered holds the person's fields"
    );
    let kept = item(&aws, &s3).await;

    let erasing = now_ms();
    let erased = json!({"erased": 2});
    operate(
        deployed,
        json!({"command": "erase", "entity": entity}),
        erased,
    )
    .await;
    let mut tombstones = Vec::new();
    for (session, status) in [(&s1, "approved"), (&s2, "rejected")] {
        let stored = item(&aws, session).await;
        assert_eq!(personal(&stored), Vec::<&str>::new(), "{session} erased");
        let at = text(&stored, "erasedAt").and_then(parse_ms);
        assert!(
            at.is_some_and(|at| (erasing..=now_ms()).contains(&at)),
            "{session}: erasedAt {:?}",
            text(&stored, "erasedAt")
        );
        assert_eq!(
            text(&stored, "status"),
            Some(status),
            "{session}'s status stays"
        );
        tombstones.push(stored);
    }
    assert_eq!(
        item(&aws, &s3).await,
        kept,
        "another person's {s3} untouched"
    );

    // Gu1 delivers an erased session again: acknowledged, nothing stored or sent.
    let answer = json!({"result": "erased", "sessionId": s1, "status": "approved"});
    deployed.deliver_expecting(&events[0], answer).await;
    assert_eq!(
        item(&aws, &s1).await,
        tombstones[0],
        "{s1} after the replay"
    );
    let sent = deployed
        .outcome_messages(&aws, 0, Duration::from_secs(3))
        .await;
    assert!(sent.is_empty(), "the replay published {sent:?}");
    println!("     {s1}, {s2}: no personal field, erasedAt; {s3} untouched; a replay: erased");

    // The other person, by external id.
    let by_external = json!({"command": "erase", "externalId": other_external});
    let erased = json!({"erased": 1});
    operate(deployed, by_external, erased).await;
    let stored = item(&aws, &s3).await;
    assert_eq!(personal(&stored), Vec::<&str>::new(), "{s3} erased");
    assert!(stored.contains_key("erasedAt"), "{s3} has no erasedAt");
}

#[tokio::test]
async fn a_payload_that_is_no_command_is_a_function_error() {
    let Some(deployed) = deployed() else { return };
    let aws = deployed.clients();
    for payload in [
        json!({"command": "drop"}),
        json!({"command": "republish"}),
        json!({"command": "erase", "entity": "e", "externalId": "x"}),
    ] {
        let invocation = deployed.invoke("OperatorFunctionName", &payload).await;
        assert!(
            invocation.failed,
            "{payload}: no function error: {}",
            invocation.output
        );
        assert_eq!(
            invocation.output["errorType"], "InvalidPayload",
            "{payload}: {}",
            invocation.output
        );
        println!("   {payload}: {}", invocation.output);
    }
    let sent = deployed
        .outcome_messages(&aws, 0, Duration::from_secs(2))
        .await;
    assert!(sent.is_empty(), "a refused command published {sent:?}");
}
