//! A reversal reaches consumers: Gu1 saying another terminal status after
//! the first owes one review notice per conflicting status, on the reviews
//! queue, while the outcomes queue keeps carrying only outcomes.

use crate::support::*;
use gu1_outcome::review::parse_review;

#[tokio::test]
async fn a_reversal_sends_one_review_notice_per_conflicting_status() {
    let app = TestApp::spawn_with(Options {
        fifo: true,
        ..Options::default()
    })
    .await;
    let session = "s-reversed";
    app.deliver(&seed::approved(session)).await;
    for _ in 0..3 {
        let answer = app.deliver(&seed::rejected(session)).await;
        assert_eq!(
            answer.body,
            json!({"result": "conflict", "sessionId": session, "status": "approved"})
        );
    }
    let mut expired = seed::approved(session);
    expired["event"] = json!("biometric.session_expired");
    expired["payload"]["status"] = json!("expired");
    assert_eq!(app.deliver(&expired).await.result(), "conflict");

    // A v1 outcome consumer sees one message, an outcome, and nothing else.
    let outcomes = app.messages().await;
    assert_eq!(outcomes.len(), 1);
    let outcome = gu1_outcome::parse(outcomes[0].body().unwrap()).expect("an outcome");
    assert_eq!(outcome.status, gu1_outcome::Status::Approved);

    let mut notices: Vec<_> = app
        .review_bodies()
        .await
        .iter()
        .map(|body| parse_review(&body.to_string()).expect("a review notice"))
        .collect();
    notices.sort_by_key(|n| n.conflicting.status.as_str());
    let statuses: Vec<_> = notices
        .iter()
        .map(|n| n.conflicting.status.as_str())
        .collect();
    assert_eq!(
        statuses,
        ["expired", "rejected"],
        "one per conflicting status"
    );
    let rejected = &notices[1];
    assert!(notices.iter().all(|n| n.kept.status.as_str() == "approved"));
    assert_eq!(
        (
            rejected.kept.event_timestamp.as_deref(),
            rejected.conflicting.event_timestamp.as_deref()
        ),
        (Some("2026-06-11T14:10:00Z"), Some("2026-06-11T14:12:00Z"))
    );
    assert_eq!(
        rejected.conflicting.rejection_code.as_deref(),
        Some("FACE_MATCH_SCORE_LOW")
    );
    let decision: Value = rejected
        .conflicting
        .decision
        .as_ref()
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(decision["face_match"]["score"], 28.5);
    assert_eq!(
        (
            rejected.entity_id.as_deref(),
            rejected.external_id.as_deref()
        ),
        (Some("entity-uuid"), Some("customer-123"))
    );
    assert_eq!(
        rejected.group_id(),
        outcome.group_id(),
        "the person's group"
    );

    // Nothing owed any more: out of the sweeper's index, and a sweep and a
    // fourth copy send nothing.
    let item = app.item(session).await.unwrap();
    assert!(!item.contains_key("pendingOutcome"), "{item:?}");
    assert!(!item.contains_key("reviewsOwed"), "{item:?}");
    let mut published = item["reviewsPublished"].as_ss().unwrap().clone();
    published.sort();
    assert_eq!(published, ["expired", "rejected"]);
    assert_eq!(app.sweep_now().await.published, 0);
    app.calls.take();
    assert_eq!(
        app.deliver(&seed::rejected(session)).await.result(),
        "conflict"
    );
    assert_eq!(
        app.calls.take(),
        ["UpdateItem", "UpdateItem"],
        "the refused apply and the conflict's record, no notice tried again"
    );
    assert!(app.review_bodies().await.is_empty(), "no second notice");
    assert!(app.messages().await.is_empty(), "no second outcome");
}

/// A reversal that arrives while the outcome itself is still unpublished
/// (its send failed): the next publisher sends both, the outcome first.
#[tokio::test]
async fn an_unpublished_outcome_and_its_reversal_are_sent_together() {
    let app = TestApp::spawn().await;
    let session = "s-reversed-early";
    let unreachable = app.with_sqs_at(&closed()).await;
    let answer = unreachable.deliver(&seed::approved(session)).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    let answer = unreachable.deliver(&seed::rejected(session)).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    let item = app.item(session).await.unwrap();
    assert_eq!(text(&item, "pendingOutcome"), Some("PENDING"));
    assert_eq!(
        item["reviewsOwed"].as_ss().unwrap(),
        &["rejected".to_string()]
    );

    let report = app.sweep_now().await;
    assert_eq!((report.published, report.failed), (1, 0), "{report:?}");
    let outcomes = app.outcome_bodies().await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["status"], "approved");
    let notices = app.review_bodies().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0]["conflicting"]["status"], "rejected");
    let item = app.item(session).await.unwrap();
    assert!(!item.contains_key("pendingOutcome"), "{item:?}");
    assert!(item.contains_key("outcomePublishedAt"));
}
