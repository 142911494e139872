//! `gu1-webhook reconcile`, the real binary, against a fake of Gu1's REST
//! API (`support::gu1`) and moto: what it fetches, what it writes, what it
//! publishes, what it prints and how it exits, when Gu1's API answers, says
//! no, is busy, is down or is slow.
//!
//! Sessions reach the table through the receiver, as Gu1's webhooks would;
//! [`Stack::age`] then sets their place in the stale-sessions index back an
//! hour, which is what "nothing has moved it for an hour" means to a run.

use crate::support::binary::{Env, Reconciled, Server};
use crate::support::gu1::{API_KEY, Behaviour, FakeGu1, ORGANIZATION_ID, api};
use crate::support::proxy::{Fault, Proxy, Rule, Service};
use crate::support::*;
use std::process::Stdio;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

/// A receiver with its own table and queue (standard: every copy of a
/// message shows), the fake API, and the binary's environment for both.
struct World {
    app: TestApp,
    gu1: FakeGu1,
    env: Env,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let gu1 = FakeGu1::start().await;
    let env = Env::for_tests(&app, &moto().endpoint).with_gu1_api(&gu1.url);
    World { app, gu1, env }
}

impl World {
    /// Delivers `event` through the receiver; it must be applied.
    async fn deliver(&self, event: &Value) {
        let answer = self.app.deliver(event).await;
        assert_eq!(
            (answer.status, answer.result()),
            (200, "applied"),
            "{answer:?}"
        );
    }

    /// Delivers `event`, then makes the session look untouched for `age`.
    async fn deliver_aged(&self, event: &Value, age: Duration) {
        self.deliver(event).await;
        let session = event["payload"]["id"].as_str().expect("an id");
        self.app.age(session, age).await;
    }

    async fn item(&self, session: &str) -> Item {
        self.app.item(session).await.expect("the session is stored")
    }
}

/// The message a terminal session read from the API is published as.
fn outcome(session: &Value) -> Value {
    json!({
        "schemaVersion": 1,
        "sessionId": session["id"],
        "entityId": session["entityId"],
        "organizationId": session["organizationId"],
        "externalId": session["entity"]["externalId"],
        "status": session["status"],
        "rejectionCode": session["rejectionCode"],
        "rejectionMessage": session["rejectionMessage"],
        "completedAt": session["completedAt"],
        "decision": session["decision"],
        "event": "reconcile",
        "eventTimestamp": session["updatedAt"],
    })
}

/// The run exited 0.
#[track_caller]
fn succeeded(run: &Reconciled) {
    assert!(run.status.success(), "reconcile failed: {run:?}");
}

/// The run exited non-zero.
#[track_caller]
fn failed(run: &Reconciled) {
    assert!(!run.status.success(), "reconcile succeeded: {run:?}");
}

/// Status, event, version and place in the stale index of a stored session.
async fn state(stack: &Stack, session: &str) -> (String, String, u64, Option<u64>) {
    let item = stack.item(session).await.expect("stored");
    (
        text(&item, "status").unwrap_or_default().to_owned(),
        text(&item, "event").unwrap_or_default().to_owned(),
        number(&item, "version").unwrap_or_default(),
        number(&item, "lastCheckedAt"),
    )
}

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
    assert_eq!(
        (&still_after.0, &still_after.1, still_after.2),
        (&still_before.0, &still_before.1, still_before.2)
    );
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
    let proxied = Env::for_tests(&w.app, &proxy.endpoint).with_gu1_api(&w.gu1.url);

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
    assert_eq!(
        (&after.0, &after.1, after.2),
        (&before.0, &before.1, before.2)
    );
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
async fn an_outcome_the_webhook_brought_first_is_not_published_again() {
    let w = world().await;
    w.deliver(&seed::approved("bio-1")).await;
    w.gu1.put(api::approved("bio-1"));
    let before = state(&w.app, "bio-1").await;

    // Terminal: not stale, whatever the age.
    let run = w.env.reconcile(&["--stale-after", "0"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [0, 0, 0, 0, 0]);

    // Asked for by name: read, found the same, nothing written or sent.
    let run = w.env.reconcile(&["--session", "bio-1"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 0, 1, 0, 0]);
    assert_eq!(w.gu1.fetched(), ["bio-1"]);
    assert_eq!(state(&w.app, "bio-1").await, before);
    let bodies = w.app.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["event"], "biometric.session_approved");
}

#[tokio::test]
async fn an_outcome_reconciled_first_is_not_published_again_by_the_late_webhook() {
    let w = world().await;
    w.deliver_aged(&seed::in_progress("bio-1"), HOUR).await;
    let approved = api::approved("bio-1");
    w.gu1.put(approved.clone());

    let run = w.env.reconcile(&[]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 1, 0, 0, 0]);

    // Gu1's delivery of the same outcome, late: a duplicate, acknowledged.
    let answer = w.app.deliver(&seed::approved("bio-1")).await;
    assert_eq!((answer.status, answer.result()), (200, "duplicate"));
    // And a second run: the session is terminal now, never read again.
    let run = w.env.reconcile(&["--stale-after", "0"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [0, 0, 0, 0, 0]);

    assert_eq!(w.app.outcome_bodies().await, [outcome(&approved)]);
    assert_eq!(text(&w.item("bio-1").await, "event"), Some("reconcile"));
}

/// The fake holds its answer until the webhook for the same outcome has been
/// applied and published, then lets the run apply what it read.
#[tokio::test]
async fn an_outcome_the_webhook_brings_during_the_run_is_published_once() {
    let w = world().await;
    w.deliver_aged(&seed::in_progress("bio-1"), HOUR).await;
    w.gu1.put(api::approved("bio-1"));
    w.gu1.answer("bio-1", Behaviour::Hold);

    let (run, answer) = tokio::join!(w.env.reconcile(&[]), async {
        w.gu1.wait_for_request("bio-1").await;
        let answer = w.app.deliver(&seed::approved("bio-1")).await;
        w.gu1.release();
        answer
    });

    assert_eq!((answer.status, answer.result()), (200, "applied"));
    succeeded(&run);
    assert_eq!(run.counts(), [1, 0, 1, 0, 0]);
    let bodies = w.app.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["event"], "biometric.session_approved");
    let item = w.item("bio-1").await;
    assert_eq!(text(&item, "event"), Some("biometric.session_approved"));
    assert_eq!(number(&item, "version"), Some(2));
}

/// The other side of "during": the run has applied the outcome and is
/// sending it (SQS held back a second by the proxy) when Gu1's webhook for
/// the same outcome arrives. The run holds the publish lease, so the
/// webhook is acknowledged as a duplicate and sends nothing.
#[tokio::test]
async fn a_webhook_arriving_while_the_run_publishes_adds_no_second_message() {
    let w = world().await;
    w.deliver_aged(&seed::in_progress("bio-1"), HOUR).await;
    let approved = api::approved("bio-1");
    w.gu1.put(approved.clone());
    let proxy = Proxy::start(&moto().endpoint).await;
    // Under the SDK's 1.5 s attempt timeout: one send, late.
    proxy.inject(
        Rule::on(Service::Sqs, Fault::Latency(Duration::from_secs(1)))
            .only("SendMessage")
            .times(1),
    );
    let env = Env::for_tests(&w.app, &proxy.endpoint).with_gu1_api(&w.gu1.url);

    let (run, answer) = tokio::join!(env.reconcile(&[]), async {
        while proxy.count("SendMessage") == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        w.app.deliver(&seed::approved("bio-1")).await
    });

    assert_eq!((answer.status, answer.result()), (200, "duplicate"));
    succeeded(&run);
    assert_eq!(run.counts(), [1, 1, 0, 0, 0]);
    assert_eq!(proxy.count("SendMessage"), 1);
    assert_eq!(w.app.outcome_bodies().await, [outcome(&approved)]);
    assert_eq!(text(&w.item("bio-1").await, "event"), Some("reconcile"));
}

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

#[tokio::test]
async fn refused_credentials_stop_the_run_at_once() {
    let w = world().await;
    // Oldest first: bio-1 is read first.
    for (id, hours) in [("bio-1", 3), ("bio-2", 2), ("bio-3", 1)] {
        w.deliver_aged(&seed::created(id), HOUR * hours).await;
        w.gu1.put(api::approved(id));
    }
    let before = state(&w.app, "bio-1").await;
    w.gu1.answer_all(Behaviour::Status(401));

    let run = w.env.reconcile(&[]).await;

    failed(&run);
    assert_eq!(run.counts(), [1, 0, 0, 0, 1]);
    assert_eq!(w.gu1.fetched(), ["bio-1"], "nothing read after the refusal");
    assert!(
        run.stderr
            .contains("Gu1's API refused our credentials (401)"),
        "{}",
        run.stderr
    );
    assert_eq!(state(&w.app, "bio-1").await, before, "still stale");

    w.gu1.answer_all(Behaviour::Status(403));
    let run = w
        .env
        .reconcile(&["--session", "bio-3", "--session", "bio-2"])
        .await;
    failed(&run);
    assert_eq!(run.counts(), [1, 0, 0, 0, 1]);
    assert_eq!(w.gu1.fetched(), ["bio-1", "bio-3"]);
    assert!(run.stderr.contains("(403)"), "{}", run.stderr);
    assert!(w.app.messages().await.is_empty());
}

#[tokio::test]
async fn with_gu1_down_the_run_fails_and_the_session_stays_stale_for_the_next() {
    let w = world().await;
    w.deliver_aged(&seed::in_progress("bio-1"), HOUR).await;
    let approved = api::approved("bio-1");
    w.gu1.put(approved.clone());
    let before = state(&w.app, "bio-1").await;

    let down = Env::for_tests(&w.app, &moto().endpoint).with_gu1_api(&closed());
    let run = down.reconcile(&[]).await;

    failed(&run);
    assert_eq!(run.counts(), [1, 0, 0, 0, 1]);
    assert!(
        run.stderr.contains("Gu1's API did not answer"),
        "{}",
        run.stderr
    );
    assert_eq!(state(&w.app, "bio-1").await, before);

    // Gu1 is back: the next run finds the session still stale.
    let run = w.env.reconcile(&[]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 1, 0, 0, 0]);
    assert_eq!(w.app.outcome_bodies().await, [outcome(&approved)]);
}

/// Unreachable is as good as busy: a run does not knock on a closed door
/// once for every stale session (each could cost the 10 s call timeout).
#[tokio::test]
async fn with_gu1_down_three_failures_in_a_row_end_the_run() {
    let w = world().await;
    let ids = ["bio-1", "bio-2", "bio-3", "bio-4", "bio-5"];
    for (i, id) in ids.iter().enumerate() {
        w.deliver_aged(&seed::created(id), HOUR * (10 - i as u32))
            .await;
    }
    let down = Env::for_tests(&w.app, &moto().endpoint).with_gu1_api(&closed());

    let run = down.reconcile(&[]).await;

    failed(&run);
    assert_eq!(run.counts(), [3, 0, 0, 0, 3]);
    for id in ids {
        assert_eq!(text(&w.item(id).await, "status"), Some("pending"));
    }
}

/// An API that answers after the 10 s call timeout: this session fails (the
/// run takes those 10 s), the next one is still read.
#[tokio::test]
async fn a_slow_answer_times_out_and_the_run_goes_on() {
    let w = world().await;
    w.deliver_aged(&seed::in_progress("bio-slow"), HOUR * 2)
        .await;
    w.deliver_aged(&seed::in_progress("bio-quick"), HOUR).await;
    w.gu1.put(api::approved("bio-slow"));
    let quick = api::approved("bio-quick");
    w.gu1.put(quick.clone());
    w.gu1.answer(
        "bio-slow",
        Behaviour::Delay(gu1_webhook::limits::GU1_API_CALL_TIMEOUT * 2),
    );
    let before = state(&w.app, "bio-slow").await;

    let run = w.env.reconcile(&[]).await;

    failed(&run);
    assert_eq!(run.counts(), [2, 1, 0, 0, 1]);
    assert_eq!(w.gu1.fetched(), ["bio-slow", "bio-quick"]);
    assert!(
        run.stderr.contains("did not answer within"),
        "{}",
        run.stderr
    );
    assert_eq!(state(&w.app, "bio-slow").await, before, "still stale");
    assert_eq!(w.app.outcome_bodies().await, [outcome(&quick)]);
}

/// What Gu1 should never answer is refused, counted as failed, and changes
/// nothing: the session waits for the next run.
#[tokio::test]
async fn an_answer_that_is_not_the_session_asked_for_changes_nothing() {
    let w = world().await;
    let mut other = api::approved("bio-other");
    let answers = [
        serde_json::to_string(&other).unwrap(),
        {
            other["id"] = json!("bio-unknown-status");
            other["status"] = json!("done");
            serde_json::to_string(&other).unwrap()
        },
        r#"{"success":true,"data":{"id":"bio-wrapped","status":"approved"}}"#.to_owned(),
        "null".to_owned(),
        "<html>maintenance</html>".to_owned(),
    ];
    let mut ids = Vec::new();
    for (i, body) in answers.into_iter().enumerate() {
        let id = format!("bio-{i}");
        w.deliver_aged(&seed::in_progress(&id), HOUR).await;
        w.gu1.answer(&id, Behaviour::Body(200, body));
        ids.push(id);
    }
    // An unexpected status is no busy answer: the run goes on.
    w.deliver_aged(&seed::in_progress("bio-teapot"), HOUR).await;
    w.gu1.answer("bio-teapot", Behaviour::Status(418));
    let before = state(&w.app, "bio-0").await;

    let run = w.env.reconcile(&[]).await;

    failed(&run);
    assert_eq!(run.counts(), [6, 0, 0, 0, 6]);
    assert!(
        run.stderr
            .contains("another session than the one asked for"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("answered 418"), "{}", run.stderr);
    for id in &ids {
        assert_eq!(text(&w.item(id).await, "status"), Some("in_progress"));
    }
    assert_eq!(state(&w.app, "bio-0").await, before, "still stale");
    assert!(w.app.item("bio-other").await.is_none());
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

#[tokio::test]
async fn busy_answers_back_off_and_three_in_a_row_end_the_run() {
    let w = world().await;
    let ids = ["bio-1", "bio-2", "bio-3", "bio-4", "bio-5", "bio-6"];
    for (i, id) in ids.iter().enumerate() {
        w.deliver_aged(&seed::created(id), HOUR * (10 - i as u32))
            .await;
        w.gu1.put(api::approved(id));
    }
    w.gu1.answer_all(Behaviour::Status(429));

    let run = w.env.reconcile(&[]).await;

    failed(&run);
    assert_eq!(run.counts(), [3, 0, 0, 0, 3]);
    assert_eq!(w.gu1.fetched(), ids[..3]);
    // Each busy answer doubles the pause before the next request (from
    // 200 ms at 5 requests a second): lower bounds, never upper ones.
    let seen = w.gu1.seen();
    assert!(seen[1].at - seen[0].at >= Duration::from_millis(400));
    assert!(seen[2].at - seen[1].at >= Duration::from_millis(800));
    for id in ids {
        assert_eq!(text(&w.item(id).await, "status"), Some("pending"));
    }

    // Only busy answers in a row end it; 5xx are busy too.
    w.gu1.answer_all(Behaviour::Serve);
    w.gu1.answer("bio-1", Behaviour::Status(429));
    w.gu1.answer("bio-2", Behaviour::Status(500));
    w.gu1.answer("bio-4", Behaviour::Status(503));
    w.gu1.answer("bio-5", Behaviour::Status(429));
    w.gu1.answer("bio-6", Behaviour::Status(429));
    let run = w.env.reconcile(&[]).await;
    failed(&run);
    assert_eq!(run.counts(), [6, 1, 0, 0, 5]);
    assert_eq!(w.gu1.fetched()[3..], ids);
    let bodies = w.app.outcome_bodies().await;
    assert_eq!(bodies, [outcome(&api::approved("bio-3"))]);

    // Any answer that is not busy breaks the row, a refusal of its own too.
    w.gu1.answer("bio-2", Behaviour::Status(429));
    w.gu1.answer("bio-4", Behaviour::Status(418));
    let run = w.env.reconcile(&[]).await;
    failed(&run);
    assert_eq!(run.counts(), [5, 0, 0, 0, 5]);
    assert_eq!(
        w.gu1.fetched()[9..],
        ["bio-1", "bio-2", "bio-4", "bio-5", "bio-6"]
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
    assert_eq!(
        (&open_now.0, &open_now.1, open_now.2),
        (&open.0, &open.1, open.2)
    );
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

/// Every run through [`Env::reconcile`] checks that the key never shows;
/// here with every log line the binary and its libraries can write.
#[tokio::test]
async fn the_api_key_never_shows_even_in_trace_logs() {
    let mut w = world().await;
    w.env.set("RUST_LOG", "trace");
    w.deliver_aged(&seed::created("bio-1"), HOUR).await;
    w.gu1.put(api::approved("bio-1"));

    w.gu1.answer_all(Behaviour::Status(401));
    let refused = w.env.reconcile(&[]).await;
    failed(&refused);
    w.gu1.answer_all(Behaviour::Serve);
    let applied = w.env.reconcile(&[]).await;
    succeeded(&applied);
    assert_eq!(applied.counts(), [1, 1, 0, 0, 0]);

    let seen = w.gu1.seen();
    assert_eq!(seen.len(), 2);
    for seen in seen {
        assert_eq!(seen.authorization, Some(format!("Bearer {API_KEY}")));
    }
    for run in [&refused, &applied] {
        assert!(run.stderr.lines().count() > 5, "trace logs: {}", run.stderr);
        assert!(!run.stdout.contains(API_KEY) && !run.stderr.contains(API_KEY));
    }
}

#[tokio::test]
async fn without_an_api_key_reconcile_refuses_to_start_and_serve_and_sweep_still_work() {
    let stack = Stack::create(&sdk(&moto().endpoint), false).await;
    let gu1 = FakeGu1::start().await;
    let mut env = Env::for_tests(&stack, &moto().endpoint);
    env.set("GU1_API_URL", &gu1.url);
    env.set("GU1_ORGANIZATION_ID", ORGANIZATION_ID);

    let run = env.reconcile(&["--session", "bio-1"]).await;
    failed(&run);
    assert_eq!(run.summary, Value::Null, "no summary: {}", run.stdout);
    assert!(
        run.stderr
            .contains("reconciliation needs Gu1's API key: set GU1_API_KEY or GU1_API_KEY_ARN"),
        "{}",
        run.stderr
    );
    // An empty key is no key.
    env.set("GU1_API_KEY", " ");
    let run = env.reconcile(&[]).await;
    failed(&run);
    assert!(run.stderr.contains("needs Gu1's API key"), "{}", run.stderr);
    // Nor without the organization.
    let mut no_org = Env::for_tests(&stack, &moto().endpoint).with_gu1_api(&gu1.url);
    no_org
        .vars
        .retain(|(name, _)| *name != "GU1_ORGANIZATION_ID");
    let run = no_org.reconcile(&[]).await;
    failed(&run);
    assert!(
        run.stderr.contains("GU1_ORGANIZATION_ID is not set"),
        "{}",
        run.stderr
    );
    assert!(gu1.seen().is_empty());

    // The receiver and the sweeper never needed it.
    env.vars.retain(|(name, _)| *name != "GU1_API_KEY");
    let server = Server::start(&env, Stdio::null()).await;
    let answer = server.deliver(&seed::approved("bio-1")).await;
    assert_eq!((answer.status, answer.result()), (200, "applied"));
    drop(server);
    assert_eq!(
        env.sweep_now(),
        json!({"published": 0, "skipped": 0, "failed": 0})
    );
    assert_eq!(stack.messages().await.len(), 1);
}

/// A URL the client could never call is a configuration mistake: refused
/// at start, like a missing key, not found out once per session.
#[tokio::test]
async fn a_malformed_api_url_is_refused_at_start() {
    let w = world().await;
    w.deliver_aged(&seed::created("bio-1"), HOUR).await;
    for url in [
        "api.gu1.ai",
        "ftp://api.gu1.ai",
        "https://api.gu1.ai/x y",
        "https://api.gu1.ai/?org=1",
        // Plain HTTP beyond loopback would send the key in clear.
        "http://api.gu1.ai",
    ] {
        let mut env = Env::for_tests(&w.app, &moto().endpoint).with_gu1_api(&w.gu1.url);
        env.set("GU1_API_URL", url);
        let run = env.reconcile(&[]).await;
        failed(&run);
        assert_eq!(run.summary, Value::Null, "{url}: {}", run.stdout);
        assert!(
            run.stderr.contains("GU1_API_URL must be an https:// URL"),
            "{url}: {}",
            run.stderr
        );
    }
    // A trailing slash is no mistake.
    let mut env = w.env.clone();
    env.set("GU1_API_URL", format!("{}/", w.gu1.url));
    let run = env.reconcile(&[]).await;
    assert_eq!(run.counts(), [1, 0, 0, 1, 0]);
    assert_eq!(w.gu1.seen()[0].path, "/api/kyc/biometric/sessions/bio-1");
}

/// The same publish path as a delivery, failures included: SQS failing
/// leaves the reconciled outcome durable and pending, and the sweeper sends
/// it, once. DynamoDB failing ends the run before any request to Gu1, with
/// its (empty) summary still printed.
#[tokio::test]
async fn with_aws_failing_the_state_is_kept_and_the_sweeper_publishes() {
    let w = world().await;
    w.deliver_aged(&seed::in_progress("bio-1"), HOUR).await;
    let approved = api::approved("bio-1");
    w.gu1.put(approved.clone());
    let proxy = Proxy::start(&moto().endpoint).await;
    let proxied = Env::for_tests(&w.app, &proxy.endpoint).with_gu1_api(&w.gu1.url);

    proxy.inject(Rule::on(Service::DynamoDb, Fault::Status500).only("Query"));
    let run = proxied.reconcile(&[]).await;
    failed(&run);
    assert_eq!(run.counts(), [0, 0, 0, 0, 0]);
    assert!(
        run.stderr.contains("DynamoDB Query failed"),
        "{}",
        run.stderr
    );
    assert!(w.gu1.seen().is_empty());

    proxy.heal();
    proxy.inject(Rule::on(Service::Sqs, Fault::Status500).only("SendMessage"));
    let run = proxied.reconcile(&[]).await;
    failed(&run);
    assert_eq!(run.counts(), [1, 0, 0, 0, 1]);
    let item = w.app.assert_outcome_pending("bio-1", "approved").await;
    assert_eq!(text(&item, "event"), Some("reconcile"));

    assert_eq!(
        w.env.sweep_now(),
        json!({"published": 1, "skipped": 0, "failed": 0})
    );
    assert_eq!(w.app.outcome_bodies().await, [outcome(&approved)]);
    let run = w.env.reconcile(&["--session", "bio-1"]).await;
    succeeded(&run);
    assert_eq!(run.counts(), [1, 0, 1, 0, 0]);
    assert!(w.app.messages().await.is_empty(), "nothing new");
}
