//! When Gu1's API does not give a session: it refuses our credentials (the
//! run stops), is busy (backs off, three in a row end the run), is down or
//! slow, or answers something that is not the session asked for. The
//! session is left stale for the next run.

use super::*;
use crate::support::gu1::{Behaviour, api};

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
    logged(&run, "Gu1's API refused our credentials (401)");
    assert_eq!(state(&w.app, "bio-1").await, before, "still stale");

    w.gu1.answer_all(Behaviour::Status(403));
    let run = w
        .env
        .reconcile(&["--session", "bio-3", "--session", "bio-2"])
        .await;
    failed(&run);
    assert_eq!(run.counts(), [1, 0, 0, 0, 1]);
    assert_eq!(w.gu1.fetched(), ["bio-1", "bio-3"]);
    logged(&run, "(403)");
    assert!(w.app.messages().await.is_empty());
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
async fn with_gu1_down_the_run_fails_and_the_session_stays_stale_for_the_next() {
    let w = world().await;
    let approved = w.approved_at_gu1_while_stale("bio-1").await;
    let before = state(&w.app, "bio-1").await;

    let down = w.env_with_gu1_at(&closed());
    let run = down.reconcile(&[]).await;

    failed(&run);
    assert_eq!(run.counts(), [1, 0, 0, 0, 1]);
    logged(&run, "Gu1's API did not answer");
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
    let down = w.env_with_gu1_at(&closed());

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
    logged(&run, "did not answer within");
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
    logged(&run, "another session than the one asked for");
    logged(&run, "answered 418");
    for id in &ids {
        assert_eq!(text(&w.item(id).await, "status"), Some("in_progress"));
    }
    assert_eq!(state(&w.app, "bio-0").await, before, "still stale");
    assert!(w.app.item("bio-other").await.is_none());
    assert!(w.app.messages().await.is_empty());
}
