//! Published once: a run beside Gu1's own webhooks for the same outcome
//! (before, after, during, while it sends), and with AWS failing, when the
//! sweeper publishes what the run left pending.

use super::*;
use crate::support::gu1::{Behaviour, api};
use crate::support::proxy::{Fault, Proxy, Rule, Service};

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
    let approved = w.approved_at_gu1_while_stale("bio-1").await;

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
    w.approved_at_gu1_while_stale("bio-1").await;
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
    let approved = w.approved_at_gu1_while_stale("bio-1").await;
    let proxy = Proxy::start(&moto().endpoint).await;
    // Under the SDK's 1.5 s attempt timeout: one send, late.
    proxy.inject(
        Rule::on(Service::Sqs, Fault::Latency(Duration::from_secs(1)))
            .only("SendMessage")
            .times(1),
    );
    let env = w.env_with_aws_at(&proxy.endpoint);

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

/// The same publish path as a delivery, failures included: SQS failing
/// leaves the reconciled outcome durable and pending, and the sweeper sends
/// it, once. DynamoDB failing ends the run before any request to Gu1, with
/// its (empty) summary still printed.
#[tokio::test]
async fn with_aws_failing_the_state_is_kept_and_the_sweeper_publishes() {
    let w = world().await;
    let approved = w.approved_at_gu1_while_stale("bio-1").await;
    let proxy = Proxy::start(&moto().endpoint).await;
    let proxied = w.env_with_aws_at(&proxy.endpoint);

    proxy.inject(Rule::on(Service::DynamoDb, Fault::Status500).only("Query"));
    let run = proxied.reconcile(&[]).await;
    failed(&run);
    assert_eq!(run.counts(), [0, 0, 0, 0, 0]);
    logged(&run, "DynamoDB Query failed");
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
