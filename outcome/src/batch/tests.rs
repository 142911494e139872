//! Batches built from real messages: bodies serialised from [`Outcome`] as
//! the receiver publishes them, records shaped as Lambda delivers them.

use super::*;
use crate::Status;
use std::cell::RefCell;
use std::collections::HashSet;
use std::time::Duration;

fn outcome(session: &str, entity: &str, status: Status) -> Outcome {
    let example = include_str!("../../../schema/outcome-message.v1.json");
    let schema: serde_json::Value = serde_json::from_str(example).unwrap();
    let mut outcome = parse(&schema["examples"][0].to_string()).unwrap();
    outcome.session_id = session.into();
    outcome.entity_id = Some(entity.into());
    outcome.status = status;
    outcome
}

/// A record as Lambda hands it over: FIFO records carry their group.
fn record(id: &str, body: String, fifo: bool, group: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(id.into());
    record.body = Some(body);
    if fifo {
        record
            .attributes
            .insert("MessageGroupId".into(), group.into());
    }
    record
}

fn message(id: &str, outcome: &Outcome, fifo: bool) -> SqsMessage {
    let body = serde_json::to_string(outcome).unwrap();
    record(id, body, fifo, outcome.group_id())
}

fn batch(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

fn failed_ids(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

/// A worker's store, idempotent on the session: what it recorded, in order.
#[derive(Default)]
struct Worker {
    seen: RefCell<Vec<String>>,
    recorded: RefCell<HashSet<String>>,
}

impl Worker {
    async fn handle(&self, outcome: Outcome) -> Result<(), String> {
        // Out of step with the other groups, so that groups interleave.
        let pause = outcome.session_id.len() as u64 % 3;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        self.seen.borrow_mut().push(outcome.session_id.clone());
        if outcome.session_id.contains("unlucky") {
            return Err("the onboarding API answered 500".into());
        }
        self.recorded.borrow_mut().insert(outcome.session_id);
        Ok(())
    }

    fn seen(&self) -> Vec<String> {
        self.seen.borrow().clone()
    }
}

#[tokio::test]
async fn a_poisoned_fifo_group_stops_while_the_others_go_on() {
    let records = vec![
        message("m1", &outcome("s1", "ana", Status::Approved), true),
        message("m2", &outcome("s2", "ben", Status::Rejected), true),
        record("m3", "{\"schemaVersion\":1, not json".into(), true, "ana"),
        message("m4", &outcome("s4", "ana", Status::Expired), true),
        message("m5", &outcome("s5", "ben", Status::Approved), true),
        message("m6", &outcome("s6", "cid", Status::Cancelled), true),
    ];
    let worker = Worker::default();
    let response = process_batch(batch(records), |o| worker.handle(o))
        .await
        .unwrap();
    assert_eq!(failed_ids(&response), ["m3", "m4"]);
    let seen = worker.seen();
    assert!(
        !seen.contains(&"s4".to_owned()),
        "s4 comes after the poison in ana's group"
    );
    for session in ["s1", "s2", "s5", "s6"] {
        assert!(seen.contains(&session.to_owned()), "{session}");
    }
    // ben's outcomes in the group's order, whatever the other groups did.
    let ben: Vec<&String> = seen
        .iter()
        .filter(|s| ["s2", "s5"].contains(&s.as_str()))
        .collect();
    assert_eq!(ben, ["s2", "s5"]);
}

#[tokio::test]
async fn a_handler_failure_holds_back_the_rest_of_its_group_only() {
    let records = vec![
        message("m1", &outcome("unlucky-1", "ana", Status::Approved), true),
        message("m2", &outcome("s2", "ana", Status::Rejected), true),
        message("m3", &outcome("s3", "ben", Status::Approved), true),
    ];
    let worker = Worker::default();
    let response = process_batch(batch(records), |o| worker.handle(o))
        .await
        .unwrap();
    assert_eq!(failed_ids(&response), ["m1", "m2"]);
    assert_eq!(worker.seen(), ["unlucky-1", "s3"]);
}

#[tokio::test]
async fn on_a_standard_queue_records_fail_alone() {
    let records = vec![
        message("m1", &outcome("s1", "ana", Status::Approved), false),
        record("m2", "poison".into(), false, ""),
        message("m3", &outcome("unlucky-3", "ana", Status::Rejected), false),
        message("m4", &outcome("s4", "ana", Status::Expired), false),
    ];
    let worker = Worker::default();
    let response = process_batch(batch(records), |o| worker.handle(o))
        .await
        .unwrap();
    let mut failed = failed_ids(&response);
    failed.sort();
    assert_eq!(failed, ["m2", "m3"]);
    let mut seen = worker.seen();
    seen.sort();
    assert_eq!(seen, ["s1", "s4", "unlucky-3"]);
}

/// Copies of one outcome (a redelivery, a second send) and the whole batch
/// delivered again: an idempotent handler records each session once.
#[tokio::test]
async fn duplicates_and_a_second_delivery_record_nothing_twice() {
    let approved = outcome("s1", "ana", Status::Approved);
    let records = vec![
        message("m1", &approved, true),
        message("m2", &approved, true),
        message("m3", &outcome("s3", "ben", Status::Rejected), true),
    ];
    let worker = Worker::default();
    for _ in 0..2 {
        let response = process_batch(batch(records.clone()), |o| worker.handle(o))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(worker.seen().len(), 6, "every copy was handed over");
    let mut recorded: Vec<String> = worker.recorded.borrow().iter().cloned().collect();
    recorded.sort();
    assert_eq!(recorded, ["s1", "s3"]);
}

/// Records of a group that arrive in the batch in some order are handed to
/// the handler in exactly that order, even when later groups are quicker.
#[tokio::test]
async fn a_group_is_handled_in_the_batch_order() {
    let sessions = ["a-long-session", "b", "c-mid", "d", "e-longer-still"];
    let mut records: Vec<SqsMessage> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| message(&format!("m{i}"), &outcome(s, "ana", Status::Approved), true))
        .collect();
    records.extend((0..20).map(|i| {
        message(
            &format!("other-{i}"),
            &outcome(&format!("x{i}"), &format!("entity-{i}"), Status::Approved),
            true,
        )
    }));
    let worker = Worker::default();
    process_batch(batch(records), |o| worker.handle(o))
        .await
        .unwrap();
    let ana: Vec<String> = worker
        .seen()
        .into_iter()
        .filter(|s| sessions.contains(&s.as_str()))
        .collect();
    assert_eq!(ana, sessions);
}

#[tokio::test]
async fn the_whole_batch_fails_only_when_nothing_could_be_processed() {
    let worker = Worker::default();
    let all_poison = vec![
        record("m1", "x".into(), true, "g"),
        record("m2", "y".into(), true, "h"),
    ];
    assert!(matches!(
        process_batch(batch(all_poison), |o| worker.handle(o)).await,
        Err(BatchError::NothingProcessed(2))
    ));
    let mut nameless = record("", "poison".into(), false, "");
    nameless.message_id = None;
    let records = vec![
        nameless,
        message("m2", &outcome("s2", "ana", Status::Approved), false),
    ];
    assert!(matches!(
        process_batch(batch(records), |o| worker.handle(o)).await,
        Err(BatchError::FailureWithoutId)
    ));
    let empty = process_batch(batch(vec![]), |o| worker.handle(o))
        .await
        .unwrap();
    assert!(empty.batch_item_failures.is_empty());
}

/// Lambda reads the answer as `{"batchItemFailures":[{"itemIdentifier":...}]}`.
#[tokio::test]
async fn the_answer_is_what_lambda_reads() {
    let records = vec![
        record("m1", "poison".into(), false, ""),
        message("m2", &outcome("s2", "ana", Status::Approved), false),
    ];
    let worker = Worker::default();
    let response = process_batch(batch(records), |o| worker.handle(o))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m1"}]})
    );
}

#[tokio::test]
async fn a_re_send_is_told_from_the_original_by_its_attribute() {
    use aws_lambda_events::event::sqs::SqsMessageAttribute;
    let original = outcome("s-1", "e-1", Status::Approved);
    let mut again = message("m-2", &original, true);
    let mut attribute = SqsMessageAttribute::default();
    attribute.string_value = Some("2026-12-02T07:00:00.000Z".into());
    attribute.data_type = Some("String".into());
    again
        .message_attributes
        .insert(crate::attributes::REPUBLISHED_AT.into(), attribute);
    let seen = RefCell::new(Vec::new());
    let response = process_received(
        batch(vec![message("m-1", &original, true), again]),
        |received: Received| {
            seen.borrow_mut().push(received);
            async { Ok::<(), String>(()) }
        },
    )
    .await
    .unwrap();
    assert!(failed_ids(&response).is_empty());
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].outcome, original);
    assert_eq!(seen[0].republished_at, None);
    assert_eq!(seen[1].outcome, original, "the body is the original's");
    assert_eq!(
        seen[1].republished_at.as_deref(),
        Some("2026-12-02T07:00:00.000Z")
    );
}
