//! Deliveries in any order and any number: late ones never regress, copies
//! are duplicates, a second terminal is a recorded conflict, and twenty
//! racing copies publish one message.

use crate::support::*;

#[tokio::test]
async fn out_of_order_deliveries_never_regress_and_publish_once() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.deliver(&seed::approved("s-ooo")).await.result(),
        "applied"
    );
    let late = app.deliver(&seed::in_progress("s-ooo")).await;
    assert_eq!(
        late.body,
        json!({"result": "stale", "sessionId": "s-ooo", "status": "approved"})
    );
    assert_eq!(app.deliver(&seed::created("s-ooo")).await.result(), "stale");

    let item = app.item("s-ooo").await.unwrap();
    assert_eq!(text(&item, "status"), Some("approved"));
    assert_eq!(number(&item, "version"), Some(1));
    assert_eq!(app.messages().await.len(), 1);
}

#[tokio::test]
async fn a_terminal_event_delivered_three_times_is_published_once() {
    let app = TestApp::spawn().await;
    let results: Vec<String> = {
        let mut results = Vec::new();
        for _ in 0..3 {
            results.push(
                app.deliver(&seed::approved("s-3x"))
                    .await
                    .result()
                    .to_owned(),
            );
        }
        results
    };
    assert_eq!(results, ["applied", "duplicate", "duplicate"]);
    assert_eq!(app.messages().await.len(), 1);
    assert_eq!(number(&app.item("s-3x").await.unwrap(), "version"), Some(1));
}

#[tokio::test]
async fn a_different_terminal_after_a_terminal_is_a_recorded_conflict() {
    let app = TestApp::spawn().await;
    app.deliver(&seed::approved("s-conflict")).await;
    let answer = app.deliver(&seed::rejected("s-conflict")).await;
    assert_eq!(
        answer.body,
        json!({"result": "conflict", "sessionId": "s-conflict", "status": "approved"})
    );
    let item = app.item("s-conflict").await.unwrap();
    assert_eq!(
        text(&item, "status"),
        Some("approved"),
        "the first terminal is kept"
    );
    assert!(!item.contains_key("rejectionCode"));
    let conflicts = item["conflictStatuses"].as_ss().unwrap();
    assert_eq!(conflicts, &["rejected".to_string()]);
    assert!(text(&item, "lastConflictAt").is_some());
    let bodies = app.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "a conflict publishes nothing");
    assert_eq!(bodies[0]["status"], "approved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_copies_of_a_terminal_event_publish_one_message() {
    let app = TestApp::spawn().await;
    let body = seed::approved("s-race");
    let answers = futures::future::join_all((0..20).map(|_| app.deliver(&body))).await;
    let applied = answers.iter().filter(|a| a.result() == "applied").count();
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    assert_eq!(applied, 1, "exactly one copy wins the conditional write");
    assert_eq!(app.messages().await.len(), 1);
}
