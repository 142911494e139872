//! The metrics alarms and dashboards read, as the real binary emits them in
//! Lambda's environment (EMF lines on stdout, under the names the code
//! exports in `gu1_webhook::metrics`).

use crate::support::binary::{Env, Proxied};
use crate::support::proxy::{Fault, Rule, Service};
use crate::support::*;
use gu1_webhook::metrics::{
    AUTHENTIC_DELIVERIES, DELIVERIES, NAMESPACE, OUTCOME_LATENCY, OUTCOMES_PUBLISHED,
};
use std::process::Stdio;
use std::time::Duration;

/// The JSON lines a process wrote.
fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect()
}

/// The receiver as Lambda names it counts every delivery in `Deliveries` by
/// `Result`, and the authentic ones (signed with a configured secret and
/// readable) once more in `AuthenticDeliveries`, which the no-delivery alarm
/// watches: never a delivery refused `401` or `400`.
#[tokio::test]
async fn only_signed_readable_deliveries_count_as_authentic() {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let port = free_port();
    let mut receiver = Env::for_tests(&stack, &moto.endpoint)
        .command()
        .env("AWS_LAMBDA_FUNCTION_NAME", "gu1-webhook-receiver")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gu1-webhook serve");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = WebhookClient::new(&format!("http://127.0.0.1:{port}"));
    let session = unique("s-authentic");
    assert_eq!(client.deliver(&seed::created(&session)).await.status, 200);
    let (body, _) = WebhookClient::signed(&seed::approved(&session));
    assert_eq!(client.post_signed(&body, &"0".repeat(64)).await.status, 401);
    let mut unreadable = seed::approved(&session);
    unreadable["payload"]["status"] = "no_such_status".into();
    assert_eq!(client.deliver(&unreadable).await.status, 400);
    // Each metric line is written before its answer: all are out by now.
    receiver.kill().expect("stop gu1-webhook serve");
    let output = receiver.wait_with_output().expect("its output");

    let lines = json_lines(&output.stdout);
    let results: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get(DELIVERIES).is_some())
        .map(|l| &l["Result"])
        .collect();
    assert_eq!(
        results,
        [
            &json!("applied"),
            &json!("rejected_signature"),
            &json!("bad_request")
        ]
    );
    let authentic: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get(AUTHENTIC_DELIVERIES).is_some())
        .collect();
    assert_eq!(authentic.len(), 1, "one authentic delivery in {lines:?}");
    let spec = &authentic[0]["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(spec["Namespace"], NAMESPACE);
    assert_eq!(spec["Dimensions"], json!([["FunctionName"]]));
    assert_eq!(
        spec["Metrics"][0],
        json!({"Name": "AuthenticDeliveries", "Unit": "Count"})
    );
    assert_eq!(authentic[0]["FunctionName"], "gu1-webhook-receiver");
    assert_eq!(authentic[0][AUTHENTIC_DELIVERIES], 1);
}

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
    let lines = json_lines(&output.stdout);
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
