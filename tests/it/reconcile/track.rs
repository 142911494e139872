//! `track`: a session your backend created, which Gu1 never sends a webhook
//! for, is still reconciled once it is registered, and registering never
//! changes a session the table already knows.

use super::*;

/// Runs `gu1-webhook track ARGS` and returns its report.
async fn track(env: &Env, args: &[&str]) -> Value {
    let args: Vec<&str> = ["track"].into_iter().chain(args.iter().copied()).collect();
    env.run(&args).await.report().clone()
}

#[tokio::test]
async fn a_tracked_session_that_gu1_never_delivered_is_reconciled_and_published_once() {
    let w = world().await;
    let report = track(&w.env, &["--session", "bio-t", "--entity", "entity-uuid"]).await;
    assert_eq!(report, json!({"tracked": 1, "known": 0, "conflicts": 0}));
    let item = w.app.item("bio-t").await.expect("registered");
    assert_eq!(text(&item, "status"), Some("pending"));
    assert_eq!(text(&item, "event"), Some("track"));
    assert_eq!(text(&item, "entityId"), Some("entity-uuid"));
    assert_eq!(text(&item, "activeSession"), Some("ACTIVE"));
    assert!(w.app.outcome_bodies().await.is_empty());

    // Gu1 approved it and never said so: the next run finds it.
    w.gu1.put(api::approved("bio-t"));
    w.app.age("bio-t", HOUR).await;
    let run = w.env.reconcile(&[]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 1, 0, 0, 0]);
    let bodies = w.app.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(
        (&bodies[0]["sessionId"], &bodies[0]["status"]),
        (&json!("bio-t"), &json!("approved"))
    );
    assert_eq!(bodies[0]["entityId"], "entity-uuid");
}

#[tokio::test]
async fn tracking_a_known_session_changes_nothing_and_another_entity_is_a_conflict() {
    let w = world().await;
    w.deliver(&seed::approved("bio-k")).await;
    let before = w.app.item("bio-k").await.expect("stored");

    let report = track(&w.env, &["--session", "bio-k", "--session", "bio-new"]).await;
    assert_eq!(report, json!({"tracked": 1, "known": 1, "conflicts": 0}));
    assert_eq!(w.app.item("bio-k").await, Some(before));

    let report = track(
        &w.env,
        &["--session", "bio-new", "--entity", "someone-else"],
    )
    .await;
    // Known, and without an entity yet: the entity is not added (a
    // registration never changes a known session; Gu1's events will).
    assert_eq!(report, json!({"tracked": 0, "known": 1, "conflicts": 0}));
    let item = w.app.item("bio-new").await.expect("registered");
    assert!(!item.contains_key("entityId"));
    let report = track(&w.env, &["--session", "bio-k", "--entity", "someone-else"]).await;
    assert_eq!(report, json!({"tracked": 0, "known": 0, "conflicts": 1}));
    let item = w.app.item("bio-k").await.expect("stored");
    assert_eq!(text(&item, "entityId"), Some("entity-uuid"), "write-once");
    assert_eq!(text(&item, "status"), Some("approved"));
    assert_eq!(
        w.app.outcome_bodies().await.len(),
        1,
        "nothing more published"
    );
}
