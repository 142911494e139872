//! Traces that follow an outcome. The real binary runs as Lambda runs it,
//! against a fake Runtime API that hands it an API Gateway event with an
//! X-Ray trace header: the outcome's SQS message carries that header as its
//! `AWSTraceHeader` system attribute (what an SQS-triggered worker's trace
//! continues from), and each invocation's log lines carry the keys
//! Powertools users search by.

use crate::support::binary::Env;
use crate::support::runtime_api::{Invocation, RuntimeApi, api_gateway_event};
use crate::support::*;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use std::process::Stdio;

const TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

#[tokio::test]
async fn the_trace_header_rides_on_the_message_and_the_log_keys_on_each_line() {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let session = unique("s-traced");
    let event = api_gateway_event(&seed::approved(&session));
    let api = RuntimeApi::start(vec![
        Invocation {
            request_id: "req-traced-1".into(),
            trace_id: Some(TRACE.into()),
            event: event.clone(),
        },
        Invocation {
            request_id: "req-untraced-2".into(),
            trace_id: None,
            event,
        },
    ])
    .await;
    let receiver = api
        .command(
            &Env::for_tests(&stack, &moto.endpoint),
            "gu1-webhook-receiver",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary in Lambda mode");
    let (answers, logs) = api.answers_of(receiver, 2).await;
    let ids: Vec<&str> = answers.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["req-traced-1", "req-untraced-2"],
        "{answers:?}\n{logs}"
    );
    for (_, answer) in &answers {
        assert_eq!(answer["response"]["statusCode"], 200, "{answer}\n{logs}");
    }

    // Each invocation's line carries its keys, as Powertools names them.
    let deliveries: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .filter(|line: &Value| line["message"] == "delivery")
        .collect();
    assert_eq!(deliveries.len(), 2, "{logs}");
    let keys = |line: &Value| {
        (
            line["function_request_id"].clone(),
            line["cold_start"].clone(),
            line["xray_trace_id"].clone(),
        )
    };
    assert_eq!(
        keys(&deliveries[0]),
        (
            json!("req-traced-1"),
            json!(true),
            json!("1-5759e988-bd862e3fe1be46a994272793")
        )
    );
    assert_eq!(
        keys(&deliveries[1]),
        (json!("req-untraced-2"), json!(false), Value::Null)
    );
    assert_eq!(deliveries[1]["result"], "duplicate");

    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    let header = messages[0]
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader));
    assert_eq!(header.map(String::as_str), Some(TRACE));
}
