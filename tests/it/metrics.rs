//! The metrics alarms and dashboards read, as the real binary emits them in
//! Lambda's environment (EMF lines on stdout, under the names the code
//! exports in `gu1_webhook::metrics`).

use crate::support::binary::Proxied;
use crate::support::proxy::{Fault, Rule, Service};
use crate::support::*;
use gu1_webhook::metrics::{NAMESPACE, OUTCOME_LATENCY, OUTCOMES_PUBLISHED};

/// An outcome Gu1 decided 5 s ago, which SQS refused at delivery and the
/// sweeper published: its `OutcomeLatency` is the time from Gu1's event to
/// the queue (at least those 5 s), in milliseconds, by status.
#[tokio::test]
async fn the_time_from_gu1_to_the_queue_is_a_metric_of_each_published_outcome() {
    let rig = Proxied::start().await;
    rig.proxy
        .inject(Rule::on(Service::Sqs, Fault::Refuse).only("SendMessage"));
    let session = unique("s-latency");
    let decided_at = gu1_webhook::clock::now_ms() - 5_000;
    let mut event = seed::approved(&session);
    event["timestamp"] = gu1_webhook::clock::rfc3339(decided_at).into();
    assert_eq!(rig.server.deliver(&event).await.status, 503);
    rig.stack.assert_outcome_pending(&session, "approved").await;

    let output = rig
        .direct
        .command()
        .env("AWS_LAMBDA_FUNCTION_NAME", "gu1-webhook-sweeper")
        .args(["sweep", "--grace-seconds", "0"])
        .output()
        .expect("run gu1-webhook sweep");
    let sent_by = gu1_webhook::clock::now_ms();
    assert!(output.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let metric = |name: &str| {
        lines
            .iter()
            .find(|l| l.get(name).is_some())
            .unwrap_or_else(|| panic!("no {name} line in {lines:?}"))
            .clone()
    };
    let latency = metric(OUTCOME_LATENCY);
    let spec = &latency["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(spec["Namespace"], NAMESPACE);
    assert_eq!(
        spec["Metrics"][0],
        json!({"Name": "OutcomeLatency", "Unit": "Milliseconds"})
    );
    assert_eq!(
        (&latency["Status"], &latency["FunctionName"]),
        (&json!("approved"), &json!("gu1-webhook-sweeper"))
    );
    let ms = latency[OUTCOME_LATENCY].as_u64().expect("milliseconds");
    assert!(
        (5_000..=sent_by - decided_at).contains(&ms),
        "{ms} ms: not between Gu1's event and the sweep's end"
    );
    assert_eq!(metric(OUTCOMES_PUBLISHED)["Status"], "approved");
    assert_eq!(
        lines.last(),
        Some(&json!({"published": 1, "skipped": 0, "failed": 0})),
        "the report stays the last line"
    );
}
