//! Scheduled runs: the stale sessions are read, least recently checked
//! first and at most the run's bound; fresh and terminal ones are not; a
//! session Gu1 has moved goes forward through the webhook's own path, one it
//! has not costs one write, and a second run with nothing new changes nothing.

use super::*;
use crate::support::gu1::{API_KEY, ORGANIZATION_ID, api};
use crate::support::proxy::Proxy;

#[tokio::test]
async fn stale_sessions_are_fetched_and_moved_forward_through_the_same_path_as_a_webhook() {
    let w = world().await;
    w.deliver_aged(&seed::created("bio-approved"), HOUR).await;
    w.deliver_aged(&seed::in_progress("bio-rejected"), HOUR)
        .await;
    w.deliver_aged(&seed::created("bio-started"), HOUR).await;
    w.deliver_aged(&seed::in_progress("bio-still"), HOUR).await;
    let (approved, rejected) = (api::approved("bio-approved"), api::rejected("bio-rejected"));
    w.gu1.put(approved.clone());
    w.gu1.put(rejected.clone());
    w.gu1.put(api::active("bio-started", "in_progress"));
    w.gu1.put(api::active("bio-still", "in_progress"));
    let still_before = state(&w.app, "bio-still").await;

    // The default stale age (30 minutes): every session here is older.
    let run = w.env.reconcile(&[]).await;

    succeeded(&run);
    assert_eq!(run.counts(), [4, 3, 1, 0, 0]);
    let mut fetched = w.gu1.fetched();
    fetched.sort();
    assert_eq!(
        fetched,
        ["bio-approved", "bio-rejected", "bio-started", "bio-still"]
    );
    for seen in w.gu1.seen() {
        assert_eq!(seen.method, "GET");
        assert_eq!(
            seen.path,
            format!("/api/kyc/biometric/sessions/{}", seen.session.unwrap())
        );
        assert_eq!(seen.authorization, Some(format!("Bearer {API_KEY}")));
        assert_eq!(seen.organization.as_deref(), Some(ORGANIZATION_ID));
        assert_eq!(seen.accept.as_deref(), Some("application/json"));
    }

    // Terminal: written as a webhook would (status, fields, out of the
    // stale index), marked as reconciliation's, published once.
    let item = w.item("bio-approved").await;
    assert_eq!(text(&item, "status"), Some("approved"));
    assert_eq!(text(&item, "event"), Some("reconcile"));
    assert_eq!(text(&item, "lastEventAt"), Some("2026-06-11T14:10:00.000Z"));
    assert_eq!(text(&item, "externalId"), Some("customer-123"));
    assert_eq!(number(&item, "version"), Some(2));
    assert!(item.contains_key("outcomePublishedAt"));
    assert!(!item.contains_key("pendingOutcome"));
    assert!(!item.contains_key("activeSession"));
    assert!(!item.contains_key("lastCheckedAt"));
    let item = w.item("bio-rejected").await;
    assert_eq!(text(&item, "status"), Some("rejected"));
    assert_eq!(text(&item, "rejectionCode"), Some("FACE_MATCH_SCORE_LOW"));
    assert_eq!(text(&item, "event"), Some("reconcile"));

    // Active, moved forward: no message, still in the stale index, fresh.
    let (status, event, version, checked) = state(&w.app, "bio-started").await;
    assert_eq!(
        (status.as_str(), event.as_str(), version),
        ("in_progress", "reconcile", 2)
    );
    assert!(checked.unwrap() > gu1_webhook::clock::now_ms() - HOUR.as_millis() as u64 / 2);

    // Active, not moved: unchanged, but to the back of the stale queue.
    let still_after = state(&w.app, "bio-still").await;
    unchanged(&still_after, &still_before);
    assert!(still_after.3 > still_before.3);

    let mut bodies = w.app.outcome_bodies().await;
    bodies.sort_by_key(|b| b["sessionId"].to_string());
    assert_eq!(bodies, [outcome(&approved), outcome(&rejected)]);
}

/// A session Gu1 reports where it is, or behind, costs one write, the
/// `lastCheckedAt` that sends it to the back of the queue; one Gu1 has moved
/// forward costs that refused write and the apply.
#[tokio::test]
async fn a_session_gu1_has_not_moved_costs_one_write() {
    let w = world().await;
    w.deliver_aged(&seed::in_progress("bio-same"), HOUR).await;
    w.deliver_aged(&seed::in_progress("bio-behind"), HOUR).await;
    w.deliver_aged(&seed::created("bio-ahead"), HOUR).await;
    w.gu1.put(api::active("bio-same", "in_progress"));
    w.gu1.put(api::active("bio-behind", "pending"));
    w.gu1.put(api::active("bio-ahead", "in_progress"));
    let before = state(&w.app, "bio-same").await;
    let proxy = Proxy::start(&moto().endpoint).await;
    let proxied = w.env_with_aws_at(&proxy.endpoint);

    for (session, writes, counts) in [
        ("bio-same", 1, [1, 0, 1, 0, 0]),
        ("bio-behind", 1, [1, 0, 1, 0, 0]),
        ("bio-ahead", 2, [1, 1, 0, 0, 0]),
    ] {
        let already = proxy.count("UpdateItem");
        let run = proxied.reconcile(&["--session", session]).await;
        succeeded(&run);
        assert_eq!(run.counts(), counts, "{session}");
        assert_eq!(proxy.count("UpdateItem") - already, writes, "{session}");
    }
    let after = state(&w.app, "bio-same").await;
    unchanged(&after, &before);
    assert!(after.3 > before.3, "to the back of the queue");
    assert_eq!(state(&w.app, "bio-behind").await.0, "in_progress");
    assert_eq!(state(&w.app, "bio-ahead").await.0, "in_progress");
}

#[tokio::test]
async fn fresh_and_terminal_sessions_are_not_fetched() {
    let w = world().await;
    w.deliver(&seed::created("bio-fresh")).await;
    w.deliver(&seed::in_progress("bio-fresh-too")).await;
    w.deliver(&seed::approved("bio-done")).await;
    w.deliver(&seed::terminal("bio-expired", "expired")).await;
    for id in ["bio-fresh", "bio-fresh-too", "bio-done", "bio-expired"] {
        w.gu1.put(api::active(id, "in_progress"));
    }

    let run = w.env.reconcile(&["--stale-after", "600"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [0, 0, 0, 0, 0]);
    assert!(w.gu1.seen().is_empty(), "{:?}", w.gu1.seen());

    // Only their age kept the active ones out; terminal ones never come.
    let run = w.env.reconcile(&["--stale-after", "0"]).await;
    succeeded(&run);
    let mut fetched = w.gu1.fetched();
    fetched.sort();
    assert_eq!(fetched, ["bio-fresh", "bio-fresh-too"]);
    assert_eq!(run.counts(), [2, 1, 1, 0, 0]);
    assert_eq!(
        w.app.messages().await.len(),
        2,
        "the two webhooks' outcomes"
    );
}

#[tokio::test]
async fn a_second_run_with_nothing_new_changes_nothing() {
    let w = world().await;
    w.deliver_aged(&seed::created("bio-done"), HOUR).await;
    w.deliver_aged(&seed::in_progress("bio-open"), HOUR).await;
    w.gu1.put(api::approved("bio-done"));
    w.gu1.put(api::active("bio-open", "in_progress"));

    let run = w.env.reconcile(&["--stale-after", "0"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [2, 1, 1, 0, 0]);
    let done = state(&w.app, "bio-done").await;
    let open = state(&w.app, "bio-open").await;

    let run = w.env.reconcile(&["--stale-after", "0"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 0, 1, 0, 0], "only the active one is read");
    let run = w
        .env
        .reconcile(&["--session", "bio-done", "--session", "bio-open"])
        .await;
    succeeded(&run);
    assert_eq!(run.counts(), [2, 0, 2, 0, 0]);

    assert_eq!(state(&w.app, "bio-done").await, done);
    let open_now = state(&w.app, "bio-open").await;
    unchanged(&open_now, &open);
    let bodies = w.app.outcome_bodies().await;
    assert_eq!(bodies, [outcome(&api::approved("bio-done"))]);
}

#[tokio::test]
async fn a_run_reads_at_most_its_bound_and_the_rest_come_next() {
    let mut w = world().await;
    for (id, hours) in [("bio-1", 3), ("bio-2", 2), ("bio-3", 1)] {
        w.deliver_aged(&seed::in_progress(id), HOUR * hours).await;
        w.gu1.put(api::active(id, "in_progress"));
    }
    w.env.set("RECONCILE_MAX_SESSIONS", "2");

    let run = w.env.reconcile(&[]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [2, 0, 2, 0, 0]);
    assert_eq!(w.gu1.fetched(), ["bio-1", "bio-2"], "least recently first");

    // Those two went to the back of the queue: the third is read next.
    let run = w.env.reconcile(&[]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 0, 1, 0, 0]);
    assert_eq!(w.gu1.fetched()[2..], ["bio-3"]);
}
