//! `--session ID`: a session asked for by name, whether the table has it
//! (created from the API, published), Gu1 does not know it (not found, not an
//! error), or its id holds URL characters (one path segment).

use super::*;
use crate::support::gu1::api;

#[tokio::test]
async fn a_session_never_delivered_is_created_from_the_api_and_published() {
    let w = world().await;
    let rejected = api::rejected("bio-lost");
    w.gu1.put(rejected.clone());

    let run = w.env.reconcile(&["--session", "bio-lost"]).await;

    succeeded(&run);
    assert_eq!(run.counts(), [1, 1, 0, 0, 0]);
    assert_eq!(w.gu1.fetched(), ["bio-lost"]);
    let item = w.item("bio-lost").await;
    assert_eq!(text(&item, "status"), Some("rejected"));
    assert_eq!(text(&item, "event"), Some("reconcile"));
    assert_eq!(text(&item, "entityId"), Some("entity-uuid"));
    let decision: Value = serde_json::from_str(text(&item, "decision").unwrap()).unwrap();
    assert_eq!(decision, rejected["decision"]);
    assert_eq!(number(&item, "version"), Some(1));
    assert_eq!(w.app.outcome_bodies().await, [outcome(&rejected)]);

    // Asked again: nothing new.
    let run = w.env.reconcile(&["--session", "bio-lost"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 0, 1, 0, 0]);
    assert_eq!(w.app.item_count().await, 1);
}

#[tokio::test]
async fn a_session_gu1_does_not_know_is_counted_not_found_and_not_an_error() {
    let w = world().await;
    w.deliver_aged(&seed::created("bio-gone"), HOUR).await;
    let before = state(&w.app, "bio-gone").await;

    let run = w.env.reconcile(&["--session", "bio-ghost"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 0, 0, 1, 0]);
    assert!(w.app.item("bio-ghost").await.is_none(), "nothing created");

    let run = w.env.reconcile(&[]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 0, 0, 1, 0]);
    assert_eq!(w.gu1.fetched(), ["bio-ghost", "bio-gone"]);
    // Unchanged, but to the back of the queue: not read again at once.
    let after = state(&w.app, "bio-gone").await;
    assert_eq!((&after.0, after.2), (&before.0, before.2));
    assert!(after.3 > before.3);
    let run = w.env.reconcile(&[]).await;
    assert_eq!(run.counts(), [0, 0, 0, 0, 0]);
    assert!(w.app.messages().await.is_empty());
}

/// A session id may hold any printable character: it travels as one path
/// segment, percent-encoded, and comes back as itself.
#[tokio::test]
async fn a_session_id_with_url_characters_is_one_path_segment() {
    let w = world().await;
    let id = "bio/1?x=%2F#frag";
    let approved = api::approved(id);
    w.gu1.put(approved.clone());

    let run = w.env.reconcile(&["--session", id]).await;

    succeeded(&run);
    assert_eq!(run.counts(), [1, 1, 0, 0, 0]);
    let seen = w.gu1.seen();
    assert_eq!(
        seen[0].path,
        "/api/kyc/biometric/sessions/bio%2F1%3Fx%3D%252F%23frag"
    );
    assert_eq!(seen[0].session.as_deref(), Some(id));
    assert_eq!(w.app.outcome_bodies().await, [outcome(&approved)]);
}
