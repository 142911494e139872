//! `erase`: every session of a person, found by entity or external id (or
//! named), keeps no personal field: no attribute of the erased kinds, and
//! no value anywhere that holds their ids, Gu1's message or the decision.
//! A tombstone (status, history, `erasedAt`) stays, which no replayed
//! delivery, new event or sweep fills again; another person is untouched.

use super::*;
use gu1_webhook::clock::{now_ms, parse_ms};

/// `item` is a tombstone of `status`: none of the erased attributes, no
/// value containing any of `secrets`, its status and history kept, the
/// erasure last in the history.
#[track_caller]
fn assert_tombstone(item: &Item, status: &str, secrets: &[&str]) {
    for name in item.keys() {
        assert!(
            !ERASED_ATTRS.contains(&name.as_str()) && !name.starts_with("reviewNotice_"),
            "{name} survived the erasure: {item:?}"
        );
    }
    let everything = format!("{item:?}");
    for secret in secrets {
        assert!(!everything.contains(secret), "{secret:?} is left: {item:?}");
    }
    assert_eq!(text(item, "status"), Some(status));
    let erased_at = text(item, "erasedAt").expect("erasedAt");
    assert!(parse_ms(erased_at).is_some(), "{erased_at}");
    let history = history(item);
    assert!(history.len() >= 2, "what happened is kept: {history:?}");
    assert_eq!(
        history.last().map(|entry| entry[1].as_deref()),
        Some(Some("erase"))
    );
}

/// The counts of an `erase` report: `[erased, alreadyErased, notFound,
/// busy]`, with `unfinished` at 0 (a run without a deadline tries each).
#[track_caller]
fn erased(report: &Value) -> [u64; 4] {
    let keys = ["erased", "alreadyErased", "notFound", "busy"];
    assert_eq!(report.as_object().map(|o| o.len()), Some(5), "{report}");
    assert_eq!(report["unfinished"], 0, "{report}");
    keys.map(|key| report[key].as_u64().unwrap_or_else(|| panic!("{report}")))
}

#[tokio::test]
async fn erasing_an_entity_leaves_tombstones_that_no_replay_fills_again() {
    let w = world(false).await;
    let (entity, external) = (unique("ent-erased"), unique("cust-erased"));
    let (approved, rejected, active) = (unique("er-1"), unique("er-2"), unique("er-3"));
    // Approved, then reversed: a review notice on the item.
    let approved_event = person(seed::approved(&approved), &entity, &external);
    w.deliver(&approved_event).await;
    let reversal = person(seed::rejected(&approved), &entity, &external);
    assert_eq!(w.app.deliver(&reversal).await.result(), "conflict");
    // Rejected, then an event naming another customer key.
    w.deliver(&person(seed::rejected(&rejected), &entity, &external))
        .await;
    let foreign = person(seed::rejected(&rejected), &entity, "cust-foreign");
    assert_eq!(w.app.deliver(&foreign).await.result(), "identity_conflict");
    // Still in progress.
    w.deliver(&person(seed::in_progress(&active), &entity, &external))
        .await;
    // Another person.
    let other = unique("er-other");
    w.deliver(&person(seed::approved(&other), "ent-other", "cust-other"))
        .await;
    let other_before = w.item(&other).await;

    let (first, second, third) = (
        w.item(&approved).await,
        w.item(&rejected).await,
        w.item(&active).await,
    );
    assert!(first.contains_key("reviewNotice_rejected"), "{first:?}");
    assert!(second.contains_key("identityConflicts"), "{second:?}");
    assert!(third.contains_key("activeSession"), "{third:?}");
    let decision = text(&first, "decision").expect("a decision").to_owned();
    let message = text(&second, "rejectionMessage").expect("a message");
    let secrets = [
        &entity,
        &external,
        &decision,
        message,
        "cust-foreign",
        "score",
    ];
    assert_eq!(w.app.messages().await.len(), 3, "the originals");
    assert_eq!(w.app.review_bodies().await.len(), 1, "the review notice");

    let run = w.run(&["erase", "--entity", &entity]).await;
    assert_eq!(erased(run.report()), [3, 0, 0, 0]);
    let tombstones = [
        (approved.as_str(), "approved"),
        (rejected.as_str(), "rejected"),
        (active.as_str(), "in_progress"),
    ];
    let mut erased_items = Vec::new();
    for (session, status) in tombstones {
        let item = w.item(session).await;
        assert_tombstone(&item, status, &secrets);
        erased_items.push(item);
    }
    assert_eq!(
        w.item(&other).await,
        other_before,
        "another person untouched"
    );

    // Gu1 replays the approval, byte for byte, and says more of the others.
    let (bytes, signature) = WebhookClient::signed(&approved_event);
    let answer = w.app.post_signed(&bytes, &signature).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        (answer.result(), answer.body["sessionId"].as_str()),
        ("erased", Some(approved.as_str()))
    );
    let later = [
        reversal,
        person(seed::approved(&active), &entity, &external),
        person(seed::terminal(&rejected, "expired"), &entity, &external),
    ];
    for event in &later {
        let answer = w.app.deliver(event).await;
        assert_eq!((answer.status, answer.result()), (200, "erased"), "{event}");
    }
    assert_eq!(w.env.sweep_now()["published"], 0);
    for ((session, _), before) in tombstones.iter().zip(&erased_items) {
        assert_eq!(&w.item(session).await, before, "{session}: nothing stored");
    }
    assert!(w.app.messages().await.is_empty(), "nothing published");
    assert!(w.app.review_bodies().await.is_empty(), "no notice either");

    // The person is gone from the indexes; by name, each is a tombstone.
    let run = w.run(&["erase", "--entity", &entity]).await;
    assert_eq!(erased(run.report()), [0, 0, 0, 0]);
    let run = w
        .run(&["erase", "--session", &approved, "--session", &rejected])
        .await;
    assert_eq!(erased(run.report()), [0, 2, 0, 0]);
    let again = w.item(&approved).await;
    assert_tombstone(&again, "approved", &secrets);
    assert_eq!(
        text(&again, "erasedAt"),
        text(&erased_items[0], "erasedAt"),
        "the first erasure's time"
    );
}

#[tokio::test]
async fn erasing_by_external_id_or_session_takes_exactly_those() {
    let w = world(false).await;
    let (entity, external) = (unique("ent-ext"), unique("cust-ext"));
    let (first, second) = (unique("ex-1"), unique("ex-2"));
    w.deliver(&person(seed::approved(&first), &entity, &external))
        .await;
    w.deliver(&person(seed::rejected(&second), &entity, &external))
        .await;
    let (kept, named) = (unique("ex-kept"), unique("ex-named"));
    w.deliver(&person(seed::approved(&kept), "ent-kept", "cust-kept"))
        .await;
    w.deliver(&person(seed::rejected(&named), "ent-named", "cust-named"))
        .await;
    let kept_before = w.item(&kept).await;

    let run = w.run(&["erase", "--external-id", &external]).await;
    assert_eq!(erased(run.report()), [2, 0, 0, 0]);
    let secrets = [entity.as_str(), external.as_str(), "score", "Face match"];
    assert_tombstone(&w.item(&first).await, "approved", &secrets);
    assert_tombstone(&w.item(&second).await, "rejected", &secrets);
    assert_eq!(w.item(&kept).await, kept_before);

    let unknown = unique("ex-unknown");
    let run = w
        .run(&["erase", "--session", &named, "--session", &unknown])
        .await;
    assert_eq!(erased(run.report()), [1, 0, 1, 0]);
    let secrets = ["ent-named", "cust-named", "score", "Face match"];
    assert_tombstone(&w.item(&named).await, "rejected", &secrets);
    assert_eq!(w.app.item(&unknown).await, None, "nothing created");
    assert_eq!(w.item(&kept).await, kept_before);
}

#[tokio::test]
async fn a_session_being_published_is_busy_until_its_lease_ends() {
    let w = world(false).await;
    let session = unique("er-busy");
    let sqs_down = w.app.with_sqs_at(&closed()).await;
    let event = person(seed::approved(&session), "ent-busy", "cust-busy");
    assert_eq!(sqs_down.deliver(&event).await.status, 503);
    w.app
        .leave_lease_of_a_dead_process(&session, now_ms() + 60_000)
        .await;
    let before = w.item(&session).await;

    let run = w.run(&["erase", "--session", &session]).await;
    assert!(!run.status.success(), "busy exits non-zero: {run:?}");
    assert_eq!(erased(&run.report), [0, 0, 0, 1]);
    assert!(run.stderr.contains("run again"), "{}", run.stderr);
    assert_eq!(w.item(&session).await, before, "not erased yet");

    w.app.leave_lease_of_a_dead_process(&session, 1).await;
    let run = w.run(&["erase", "--session", &session]).await;
    assert_eq!(erased(run.report()), [1, 0, 0, 0]);
    let secrets = ["ent-busy", "cust-busy", "score"];
    assert_tombstone(&w.item(&session).await, "approved", &secrets);
    // The outcome it owed is gone with the data: no publisher sends it.
    assert_eq!(w.env.sweep_now()["published"], 0);
    assert!(w.app.messages().await.is_empty());
}
