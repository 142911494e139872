//! The item's `history`: each applied status and each refused conflict, in
//! order, with its event, its delivery's `X-Webhook-ID` and when, written
//! by the same `UpdateItem` as the state (no extra round trip), never an
//! identity value, and bounded however many conflicts arrive.

use super::*;
use gu1_webhook::limits::HISTORY_MAX_ENTRIES;

/// POSTs `event` signed, as delivery `webhook_id` (`X-Webhook-ID`).
async fn deliver_as(client: &WebhookClient, event: &Value, webhook_id: &str) -> Answer {
    let (bytes, signature) = WebhookClient::signed(event);
    client
        .request(
            "POST",
            "/webhooks/gu1",
            &[
                ("content-type", "application/json"),
                ("x-webhook-signature", &signature),
                ("x-webhook-id", webhook_id),
            ],
            bytes,
        )
        .await
}

/// One history entry as [`history`] reads it.
fn entry(
    status: &str,
    event: &str,
    webhook_id: &str,
    conflict: Option<&str>,
) -> [Option<String>; 4] {
    [
        Some(status.to_owned()),
        Some(format!("biometric.session_{event}")),
        Some(webhook_id.to_owned()),
        conflict.map(str::to_owned),
    ]
}

#[tokio::test]
async fn each_applied_write_and_conflict_is_in_the_history_in_order() {
    let w = world(false).await;
    let client = WebhookClient::new(&w.app.url);
    let session = unique("hist");
    let id = |n: u32| format!("{session}-wh-{n}");
    let steps = [
        (seed::created(&session), "applied", vec!["UpdateItem"]),
        (seed::in_progress(&session), "applied", vec!["UpdateItem"]),
        (
            seed::approved(&session),
            "applied",
            vec!["UpdateItem", "SendMessage", "UpdateItem"],
        ),
    ];
    for (n, (event, result, calls)) in (1..).zip(steps) {
        w.app.calls.take();
        let answer = deliver_as(&client, &event, &id(n)).await;
        assert_eq!((answer.status, answer.result()), (200, result));
        assert_eq!(w.app.calls.take(), calls, "the history costs no round trip");
    }
    let answer = deliver_as(&client, &seed::rejected(&session), &id(4)).await;
    assert_eq!(answer.result(), "conflict");
    // Another person's event for this session: refused, noted without the
    // identity it brought.
    let foreign = seed::about(seed::approved(&session), "entity-intruder");
    let answer = deliver_as(&client, &foreign, &id(5)).await;
    assert_eq!(answer.result(), "identity_conflict");

    let item = w.item(&session).await;
    assert_eq!(
        history(&item),
        [
            entry("pending", "created", &id(1), None),
            entry("in_progress", "in_progress", &id(2), None),
            entry("approved", "approved", &id(3), None),
            entry("rejected", "rejected", &id(4), Some("status")),
            entry("approved", "approved", &id(5), Some("identity")),
        ]
    );
    let times = history_times(&item);
    assert!(
        times.windows(2).all(|t| t[0] <= t[1]),
        "in order: {times:?}"
    );
    let now = gu1_webhook::clock::now_ms();
    assert!(times.iter().all(|t| now - t < 60_000), "{times:?}");
    assert_eq!(text(&item, "lastWebhookId"), Some(id(3).as_str()));
    let entries = format!("{:?}", item["history"]);
    for identity in ["entity-uuid", "entity-intruder", "customer-123", "org-uuid"] {
        assert!(!entries.contains(identity), "{identity} in {entries}");
    }
}

/// Twenty conflicting terminal events (rejected, expired) for an approved
/// session, each its own delivery: one after another, or all at once.
/// Returns the session.
async fn flood(w: &World, at_once: bool) -> String {
    let session = unique("hist-flood");
    for event in [
        seed::created(&session),
        seed::in_progress(&session),
        seed::approved(&session),
    ] {
        w.deliver(&event).await;
    }
    let mut flood = tokio::task::JoinSet::new();
    for n in 0..20 {
        let client = WebhookClient::new(&w.app.url);
        let mut event = seed::rejected(&session);
        if n % 2 == 1 {
            event["event"] = json!("biometric.session_expired");
            event["payload"]["status"] = json!("expired");
        }
        let id = format!("{session}-flood-{n}");
        flood.spawn(async move { deliver_as(&client, &event, &id).await });
        if !at_once {
            conflicted(flood.join_next().await);
        }
    }
    while let Some(answer) = flood.join_next().await {
        conflicted(Some(answer));
    }
    session
}

/// A delivery of the flood was answered as a conflict.
#[track_caller]
fn conflicted(answer: Option<Result<Answer, tokio::task::JoinError>>) {
    let answer = answer.expect("a delivery").expect("join");
    assert_eq!((answer.status, answer.result()), (200, "conflict"));
}

/// The flood's history: full to its bound and no further, the applied
/// entries first; and every conflicting status recorded all the same.
async fn assert_bounded(w: &World, session: &str) {
    let item = w.item(session).await;
    let history = history(&item);
    // Each conflict adds an entry while there is room: twenty fill it.
    assert_eq!(
        history.len(),
        HISTORY_MAX_ENTRIES,
        "{} entries: {history:?}",
        history.len()
    );
    let statuses: Vec<_> = history.iter().map(|e| e[0].as_deref()).collect();
    assert_eq!(
        statuses[..3],
        [Some("pending"), Some("in_progress"), Some("approved")],
        "the applied entries stay first"
    );
    assert!(
        history[3..]
            .iter()
            .all(|e| e[3].as_deref() == Some("status")),
        "{history:?}"
    );
    let mut conflicts = item["conflictStatuses"].as_ss().expect("a set").clone();
    conflicts.sort();
    assert_eq!(conflicts, ["expired", "rejected"]);
}

#[tokio::test]
async fn a_flood_of_conflicts_leaves_a_bounded_history() {
    let w = world(false).await;
    let session = flood(&w, false).await;
    assert_bounded(&w, &session).await;
}

#[tokio::test]
async fn a_flood_of_conflicts_at_once_leaves_a_bounded_history() {
    let w = world(false).await;
    let session = flood(&w, true).await;
    assert_bounded(&w, &session).await;
}
