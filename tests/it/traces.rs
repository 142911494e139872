//! Traces that follow an outcome. The real binary runs as Lambda runs it,
//! against a fake Runtime API that hands it an API Gateway event with an
//! X-Ray trace header: the outcome's SQS message carries that header as its
//! `AWSTraceHeader` system attribute (what an SQS-triggered worker's trace
//! continues from), and the delivery's log line carries the keys Powertools
//! users search by.

use crate::support::binary::Env;
use crate::support::runtime_api::{Invocation, RuntimeApi};
use crate::support::*;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use std::process::Stdio;
use std::time::Duration;

const TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

/// An API Gateway (HTTP API, payload 2.0) event delivering `body`, signed.
fn api_gateway_event(body: &Value) -> Value {
    let (bytes, signature) = WebhookClient::signed(body);
    json!({
        "version": "2.0",
        "routeKey": "POST /webhooks/gu1",
        "rawPath": "/webhooks/gu1",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-webhook-signature": signature},
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "local",
            "domainPrefix": "local", "requestId": "apigw-traced", "routeKey": "POST /webhooks/gu1",
            "stage": "$default", "time": "11/Jun/2026:15:00:00 +0000", "timeEpoch": 1781190000000u64,
            "http": {"method": "POST", "path": "/webhooks/gu1", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "Gu1-Webhooks/1.0"}
        },
        "body": String::from_utf8(bytes).expect("utf-8"),
        "isBase64Encoded": false
    })
}

#[tokio::test]
async fn the_invocations_trace_header_rides_on_the_outcome_message() {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let session = unique("s-traced");
    let api = RuntimeApi::start(vec![Invocation {
        request_id: "req-traced-1".into(),
        trace_id: Some(TRACE.into()),
        event: api_gateway_event(&seed::approved(&session)),
    }])
    .await;
    let receiver = Env::for_tests(&stack, &moto.endpoint)
        .command()
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "gu1-webhook-receiver")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary in Lambda mode");
    let answers = api.answers(1, Duration::from_secs(60)).await;
    let mut receiver = receiver;
    receiver.kill().expect("stop it");
    let output = receiver.wait_with_output().expect("its output");
    let logs = String::from_utf8_lossy(&output.stdout);
    assert_eq!(answers.len(), 1, "one answer: {answers:?}\n{logs}");
    assert_eq!(answers[0].0, "req-traced-1");
    assert_eq!(
        answers[0].1["response"]["statusCode"], 200,
        "{answers:?}\n{logs}"
    );

    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    let header = messages[0]
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader));
    assert_eq!(header.map(String::as_str), Some(TRACE));
}
