//! What a delivery leaves: the item with every field (and none of the
//! person's name), the outcome message and its attributes, FIFO group and
//! deduplication ids, the fewest round trips, and the committed `events/`
//! played through the Lambda transport.

use crate::support::*;
use gu1_webhook::session::SessionRecord;

#[tokio::test]
async fn the_seed_sequence_ends_approved_with_every_field_and_one_message() {
    let app = TestApp::spawn().await;
    for (body, result, status) in [
        (seed::created("s-1"), "applied", "pending"),
        (seed::in_progress("s-1"), "applied", "in_progress"),
        (seed::approved("s-1"), "applied", "approved"),
    ] {
        let answer = app.deliver(&body).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(
            answer.body,
            json!({"result": result, "sessionId": "s-1", "status": status})
        );
    }

    let item = app.item("s-1").await.expect("item");
    assert_eq!(text(&item, "status"), Some("approved"));
    assert_eq!(text(&item, "entityId"), Some("entity-uuid"));
    assert_eq!(text(&item, "organizationId"), Some("org-uuid"));
    assert_eq!(text(&item, "externalId"), Some("customer-123"));
    assert_eq!(text(&item, "completedAt"), Some("2026-06-11T14:10:00.000Z"));
    assert_eq!(text(&item, "lastEventAt"), Some("2026-06-11T14:10:00Z"));
    assert_eq!(text(&item, "event"), Some("biometric.session_approved"));
    assert_eq!(number(&item, "version"), Some(3));
    assert!(text(&item, "outcomePublishedAt").is_some());
    assert!(
        !item.contains_key("pendingOutcome"),
        "published outcomes leave the index"
    );
    assert!(
        !item.contains_key("rejectionCode"),
        "absent values are absent"
    );
    let decision: Value = serde_json::from_str(text(&item, "decision").unwrap()).unwrap();
    assert_eq!(decision["liveness"]["score"], 98.5);
    assert!(
        !format!("{item:?}").contains("Jane"),
        "the person's name is never stored"
    );

    let messages = app.messages().await;
    assert_eq!(messages.len(), 1);
    let attributes = messages[0].message_attributes().unwrap();
    assert_eq!(attributes["status"].string_value(), Some("approved"));
    assert_eq!(attributes["schemaVersion"].string_value(), Some("1"));
    let body: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({
            "schemaVersion": 1,
            "sessionId": "s-1",
            "entityId": "entity-uuid",
            "organizationId": "org-uuid",
            "externalId": "customer-123",
            "status": "approved",
            "rejectionCode": null,
            "rejectionMessage": null,
            "completedAt": "2026-06-11T14:10:00.000Z",
            "decision": {"face_match": {"status": "Approved", "score": 99.2},
                         "liveness": {"status": "Approved", "score": 98.5}},
            "event": "biometric.session_approved",
            "eventTimestamp": "2026-06-11T14:10:00Z"
        })
    );
    assert_eq!(
        text(&item, "outcomeMessageId"),
        messages[0].message_id(),
        "the item records which message carried the outcome"
    );
}

/// The bench and the fuzz target stand in for DynamoDB's answer with
/// `SessionRecord::from(&event)`: it must be what the first write stores.
#[tokio::test]
async fn a_first_event_is_stored_as_its_session_record() {
    let app = TestApp::spawn().await;
    for (session, body) in [
        ("s-record-1", seed::created("s-record-1")),
        ("s-record-2", seed::in_progress("s-record-2")),
    ] {
        assert_eq!(app.deliver(&body).await.result(), "applied");
        let item = app.item(session).await.expect("stored");
        let stored = gu1_webhook::store::record_from_item(&item).expect("a session");
        let Ok(gu1_webhook::parse::Delivery::Session(event)) =
            gu1_webhook::parse::parse_delivery(body.to_string().as_bytes())
        else {
            panic!("{body} is a session event");
        };
        // All of it but the random token of the delivery that wrote it.
        assert!(stored.applied_by.is_some(), "{session}");
        let stored = SessionRecord {
            applied_by: None,
            reviews_owed: Vec::new(),
            reviews_published: Vec::new(),
            ..stored
        };
        assert_eq!(stored, SessionRecord::from(&event), "{session}");
    }
}

#[tokio::test]
async fn each_delivery_makes_the_fewest_round_trips() {
    let app = TestApp::spawn().await;
    let cases = [
        (seed::created("s-rt"), vec!["UpdateItem"]),
        (seed::in_progress("s-rt"), vec!["UpdateItem"]),
        (seed::in_progress("s-rt"), vec!["UpdateItem"]), // duplicate: no follow-up read
        (seed::created("s-rt"), vec!["UpdateItem"]),     // stale: no follow-up read
        (
            seed::approved("s-rt"),
            vec!["UpdateItem", "SendMessage", "UpdateItem"], // write, send, marker
        ),
        (seed::approved("s-rt"), vec!["UpdateItem"]), // duplicate of a published outcome
    ];
    for (body, expected) in cases {
        app.calls.take();
        let answer = app.deliver(&body).await;
        assert_eq!(answer.status, 200);
        assert_eq!(app.calls.take(), expected, "{}", answer.result());
    }
    let ignored = app
        .deliver(&json!({"event": "entity.updated", "payload": {}}))
        .await;
    assert_eq!(ignored.result(), "ignored");
    assert!(
        app.calls.take().is_empty(),
        "an ignored event touches nothing"
    );
}

#[tokio::test]
async fn the_rejected_example_carries_its_reason_to_the_queue() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.deliver(&seed::rejected("s-rej")).await.result(),
        "applied"
    );
    let item = app.item("s-rej").await.unwrap();
    assert_eq!(text(&item, "rejectionCode"), Some("FACE_MATCH_SCORE_LOW"));
    let bodies = app.outcome_bodies().await;
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["status"], "rejected");
    assert_eq!(bodies[0]["rejectionCode"], "FACE_MATCH_SCORE_LOW");
    assert_eq!(
        bodies[0]["rejectionMessage"],
        "Face match score 28.5 is below organization threshold 30"
    );
    assert_eq!(bodies[0]["decision"]["face_match"]["score"], 28.5);
}

#[tokio::test]
async fn every_terminal_status_is_published_once_with_its_attribute() {
    let app = TestApp::spawn().await;
    for status in ["abandoned", "cancelled", "expired"] {
        let session = format!("s-{status}");
        let answer = app.deliver(&seed::terminal(&session, status)).await;
        assert_eq!((answer.status, answer.result()), (200, "applied"));
    }
    let mut statuses: Vec<String> = app
        .messages()
        .await
        .iter()
        .map(|m| {
            m.message_attributes().unwrap()["status"]
                .string_value()
                .unwrap()
                .to_owned()
        })
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["abandoned", "cancelled", "expired"]);
}

#[tokio::test]
async fn fields_a_later_event_lacks_are_kept() {
    let app = TestApp::spawn().await;
    app.deliver(&seed::created("s-keep")).await;
    app.deliver(&seed::in_progress("s-keep")).await;
    let item = app.item("s-keep").await.unwrap();
    assert_eq!(text(&item, "status"), Some("in_progress"));
    assert_eq!(text(&item, "organizationId"), Some("org-uuid"));
    assert_eq!(text(&item, "externalId"), Some("customer-123"));
    assert_eq!(text(&item, "lastEventAt"), Some("2026-06-11T14:05:00Z"));

    // The terminal event of the per-request path lacks the entity snapshot.
    let mut expired = seed::terminal("s-keep", "expired");
    expired["payload"].as_object_mut().unwrap().remove("entity");
    app.deliver(&expired).await;
    let bodies = app.outcome_bodies().await;
    assert_eq!(bodies[0]["externalId"], "customer-123");
    assert_eq!(bodies[0]["organizationId"], "org-uuid");
}

#[tokio::test]
async fn a_fifo_queue_gets_group_and_deduplication_ids() {
    let app = TestApp::spawn_with(Options {
        fifo: true,
        ..Options::default()
    })
    .await;
    app.deliver(&seed::approved("s-fifo")).await;
    let messages = app.messages().await;
    assert_eq!(messages.len(), 1);
    let attributes = messages[0].attributes().unwrap();
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    assert_eq!(
        attributes.get(&A::MessageGroupId).map(String::as_str),
        Some("entity-uuid")
    );
    assert_eq!(
        attributes
            .get(&A::MessageDeduplicationId)
            .map(String::as_str),
        Some("s-fifo:approved")
    );
}

/// The committed `events/` files, through the Lambda transport's own event
/// parsing (`lambda_http`), base64 decoding included.
#[tokio::test]
async fn the_events_folder_plays_through_the_lambda_transport() {
    let app = TestApp::spawn().await;
    // The events are signed with the documented local secret.
    let receiver = app.receiver_accepting("gu1-local-demo-secret").await;
    let files = event_files();
    let mut answers = Vec::new();
    for file in &files {
        let event = std::fs::read_to_string(file).unwrap();
        let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
        let response = receiver.handle(request).await;
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        answers.push((
            file.file_stem().unwrap().to_string_lossy().into_owned(),
            response.status().as_u16(),
            body["result"].as_str().unwrap_or("").to_owned(),
        ));
    }
    let expected: Vec<(String, u16, String)> = [
        ("01-session-created", 200, "applied"),
        ("02-session-in-progress", 200, "applied"),
        ("03-session-approved", 200, "applied"),
        ("04-session-rejected", 200, "applied"),
        ("05-session-abandoned", 200, "applied"),
        ("06-session-cancelled", 200, "applied"),
        ("07-session-expired", 200, "applied"),
        ("08-bad-signature", 401, "rejected_signature"),
        ("09-base64-body", 200, "applied"),
    ]
    .into_iter()
    .map(|(f, c, r)| (f.to_owned(), c, r.to_owned()))
    .collect();
    assert_eq!(answers, expected);
    assert_eq!(
        app.messages().await.len(),
        6,
        "six sessions reached a terminal status"
    );
    assert!(app.item("bio-session-base64").await.is_some());
}
