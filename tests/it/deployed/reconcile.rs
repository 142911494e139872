//! The reconcile function under its role, against the fake Gu1 API (the
//! tests' own, `support::gu1`) on the loopback port its `Gu1ApiUrl` names:
//! a one-off run for a session and a second that changes nothing, one for
//! a session never delivered, a scheduled run over the stale sessions and a
//! second that finds none, and a refused API key.

use super::{Deployed, deployed, item, scheduled_event, sessions_and_statuses};
use crate::support::gu1::{Behaviour, FakeGu1, api};
use crate::support::{Item, Stack, Value, json, number, seed, text, unique};
use std::time::Duration;

/// The fake Gu1 API where the deployed function looks for it.
async fn fake_gu1(deployed: &Deployed) -> FakeGu1 {
    assert!(
        deployed.outputs.contains_key("ReconcileFunctionName"),
        "the stack has no reconcile function: deploy it with Gu1ApiKeySecretArn"
    );
    FakeGu1::start_on(deployed.gu1_api_port).await
}

/// Invokes the reconcile function; its report must be `want` (the counts
/// not named are 0).
async fn reconcile(deployed: &Deployed, what: &str, payload: &Value, want: Value) -> Value {
    let invocation = deployed.invoke("ReconcileFunctionName", payload).await;
    let mut expected =
        json!({"checked": 0, "applied": 0, "unchanged": 0, "notFound": 0, "failed": 0});
    for (key, value) in want.as_object().expect("counts") {
        expected[key.as_str()] = value.clone();
    }
    assert!(
        !invocation.failed,
        "{what}: a function error: {}",
        invocation.output
    );
    assert_eq!(invocation.output, expected, "{what}: the report");
    invocation.output
}

/// Gu1's API says `session` is approved; a one-off run for it applies that
/// (`checked 1, applied 1`): the item is approved by `reconcile`, published
/// once and pending nothing, and the outcome is on the queue. Returns the
/// run's payload, its report and the item.
async fn approved_by_a_one_off_run(
    deployed: &Deployed,
    aws: &Stack,
    gu1: &FakeGu1,
    session: &str,
    what: &str,
) -> (Value, Value, Item) {
    gu1.put(api::approved(session));
    let payload = json!({"sessions": [session]});
    let report = reconcile(
        deployed,
        what,
        &payload,
        json!({"checked": 1, "applied": 1}),
    )
    .await;
    let stored = item(aws, session).await;
    assert_eq!(
        (text(&stored, "status"), text(&stored, "event")),
        (Some("approved"), Some("reconcile"))
    );
    assert!(
        stored.contains_key("outcomePublishedAt")
            && !stored.contains_key("pendingOutcome")
            && !stored.contains_key("activeSession"),
        "{session}: approved by reconciliation but not published, or still active: {:?}",
        stored.keys().collect::<Vec<_>>()
    );
    let outcomes = deployed.outcomes(aws, 1, Duration::from_secs(15)).await;
    assert_eq!(
        sessions_and_statuses(&outcomes),
        [(session.to_owned(), "approved".to_owned())]
    );
    (payload, report, stored)
}

#[tokio::test]
async fn a_one_off_run_applies_what_gu1_says_once() {
    let Some(deployed) = deployed() else { return };
    let (aws, gu1) = (deployed.clients(), fake_gu1(deployed).await);
    let session = unique("deploy-test-reconciled");
    // Delivered pending; Gu1's API says approved.
    deployed.deliver(&seed::created(&session)).await;
    let before = item(&aws, &session).await;
    assert_eq!(
        text(&before, "activeSession"),
        Some("ACTIVE"),
        "{session}: in the StaleSessions index"
    );
    let (payload, report, stored) =
        approved_by_a_one_off_run(deployed, &aws, &gu1, &session, "a one-off run").await;
    // Gu1's API was asked once, with the key from the secret and the organization.
    let key = deployed
        .secrets()
        .get_secret_value()
        .secret_id(deployed.parameter("Gu1ApiKeySecretArn"))
        .send()
        .await
        .expect("the API key's secret")
        .secret_string
        .expect("a string");
    let seen = gu1.seen();
    assert_eq!(
        gu1.fetched(),
        std::slice::from_ref(&session),
        "Gu1's API asked once"
    );
    assert!(
        seen[0].authorization.as_deref() == Some(format!("Bearer {key}").as_str()),
        "Gu1's API did not get the key from the secret (Authorization {})",
        if seen[0].authorization.is_some() {
            "set, to something else"
        } else {
            "missing"
        }
    );
    assert_eq!(
        seen[0].organization.as_deref(),
        Some(deployed.parameter("Gu1OrganizationId"))
    );
    println!("   {session}: pending, Gu1 says approved; {payload}: {report}");
    println!(
        "     approved, event reconcile, published once; Gu1's API got the secret's key and X-Organization-ID"
    );

    // Again: nothing changes, nothing is published.
    let again = reconcile(
        deployed,
        "again",
        &payload,
        json!({"checked": 1, "unchanged": 1}),
    )
    .await;
    let after = item(&aws, &session).await;
    assert_eq!(
        (number(&after, "version"), text(&after, "outcomeMessageId")),
        (
            number(&stored, "version"),
            text(&stored, "outcomeMessageId")
        ),
        "{session} again: the item changed"
    );
    assert_eq!(
        deployed.outcomes(&aws, 0, Duration::from_secs(3)).await,
        Vec::<Value>::new()
    );
    assert_eq!(
        gu1.fetched(),
        [session.clone(), session.clone()],
        "asked once more"
    );
    println!("   again: {again}; the item as it was, nothing new on the queue");
}

#[tokio::test]
async fn a_one_off_run_creates_a_session_never_delivered() {
    let Some(deployed) = deployed() else { return };
    let (aws, gu1) = (deployed.clients(), fake_gu1(deployed).await);
    let session = unique("deploy-test-never-delivered");
    let (_, report, _) =
        approved_by_a_one_off_run(deployed, &aws, &gu1, &session, "never delivered").await;
    assert_eq!(
        gu1.fetched(),
        std::slice::from_ref(&session),
        "Gu1's API asked once"
    );
    println!(
        "   {session} (never delivered, Gu1 says approved): {report}; stored and published once"
    );
}

/// What nothing has moved for ReconcileStaleAfterSeconds, found through the
/// StaleSessions index (made stale here by moving its clock back), and
/// only that.
#[tokio::test]
async fn a_scheduled_run_reads_the_stale_sessions() {
    let Some(deployed) = deployed() else { return };
    let (aws, gu1) = (deployed.clients(), fake_gu1(deployed).await);
    let stale_after: u64 = deployed
        .parameter("ReconcileStaleAfterSeconds")
        .parse()
        .expect("seconds");
    let (stale, unknown) = (
        unique("deploy-test-stale"),
        unique("deploy-test-unknown-to-gu1"),
    );
    deployed.deliver(&seed::in_progress(&stale)).await;
    deployed.deliver(&seed::created(&unknown)).await;
    let age = Duration::from_secs(stale_after + 600);
    let long_ago = gu1_webhook::clock::now_ms() - age.as_millis() as u64;
    for session in [&stale, &unknown] {
        aws.age(session, age).await;
    }
    gu1.put(api::rejected(&stale));
    let report = reconcile(
        deployed,
        "a scheduled run",
        &scheduled_event(),
        json!({"checked": 2, "applied": 1, "notFound": 1}),
    )
    .await;
    let mut fetched = gu1.fetched();
    fetched.sort();
    let mut want = vec![stale.clone(), unknown.clone()];
    want.sort();
    assert_eq!(
        fetched, want,
        "Gu1's API asked for the stale sessions, and only them"
    );
    let stored = item(&aws, &stale).await;
    assert_eq!(
        (
            text(&stored, "status"),
            text(&stored, "event"),
            text(&stored, "rejectionCode")
        ),
        (
            Some("rejected"),
            Some("reconcile"),
            Some("FACE_MATCH_SCORE_LOW")
        )
    );
    assert!(
        stored.contains_key("outcomePublishedAt"),
        "{stale}: not published"
    );
    let left = item(&aws, &unknown).await;
    assert_eq!(
        text(&left, "status"),
        Some("pending"),
        "{unknown}: Gu1's 404 changes nothing"
    );
    assert!(
        number(&left, "lastCheckedAt").is_some_and(|at| at > long_ago),
        "{unknown}: not marked checked (back of the stale queue)"
    );
    let outcomes = deployed.outcomes(&aws, 1, Duration::from_secs(15)).await;
    assert_eq!(
        sessions_and_statuses(&outcomes),
        [(stale.clone(), "rejected".to_owned())]
    );
    println!("   a scheduled run ({stale} in progress, {unknown} pending, both stale): {report}");
    println!(
        "     {stale}: rejected by reconcile, published once; {unknown}: Gu1's 404, still pending"
    );

    let again = reconcile(
        deployed,
        "a scheduled run again",
        &scheduled_event(),
        json!({}),
    )
    .await;
    assert_eq!(
        gu1.fetched().len(),
        2,
        "a scheduled run again: Gu1's API was asked again"
    );
    println!("   again: {again}, nothing asked of Gu1's API");
}

/// A refused key: the function fails, naming it. The key is read for each
/// run, so a new value counts at once.
#[tokio::test]
async fn a_refused_key_fails_the_run() {
    let Some(deployed) = deployed() else { return };
    let gu1 = fake_gu1(deployed).await;
    let secrets = deployed.secrets();
    let key_arn = deployed.parameter("Gu1ApiKeySecretArn");
    let key = secrets
        .get_secret_value()
        .secret_id(key_arn)
        .send()
        .await
        .expect("the key");
    let key = key.secret_string().expect("a string").to_owned();
    let put = |value: String| {
        secrets
            .put_secret_value()
            .secret_id(key_arn)
            .secret_string(value)
            .send()
    };
    put("not-the-key".into()).await.expect("a wrong key");
    gu1.answer_all(Behaviour::Status(401));
    let invocation = deployed
        .invoke(
            "ReconcileFunctionName",
            &json!({"sessions": [unique("deploy-test-refused")]}),
        )
        .await;
    put(key).await.expect("the key back");
    let message = invocation.output["errorMessage"]
        .as_str()
        .unwrap_or_default();
    assert!(
        invocation.failed && message.contains("refused our credentials (401)"),
        "a wrong API key: expected a function error saying the credentials were refused, got {invocation:?}"
    );
    let seen = gu1.seen();
    assert_eq!(seen.len(), 1, "Gu1's API asked once");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Bearer not-the-key"),
        "the key read anew"
    );
    println!("   a wrong API key: function error \"{message}\"");
}
