//! The receiver's INIT as Lambda runs it: the real binary against a fake
//! Runtime API, its AWS calls through the counting proxy. INIT opens the
//! DynamoDB and SQS connections (alongside the secret read), so the first
//! delivery, which Lambda runs at a fraction of a core, opens none; a
//! warm-up that cannot connect does not stop the start.

use crate::support::binary::Env;
use crate::support::proxy::Proxy;
use crate::support::runtime_api::{Invocation, RuntimeApi, api_gateway_event};
use crate::support::*;
use std::process::Stdio;
use std::time::Duration;

const RECEIVER: &str = "gu1-webhook-receiver";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_opens_the_connections_the_first_delivery_uses() {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let proxy = Proxy::start(&moto.endpoint).await;
    let api = RuntimeApi::start(Vec::new()).await;
    let receiver = api
        .command(&Env::for_tests(&stack, &proxy.endpoint), RECEIVER)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary in Lambda mode");
    assert!(
        api.wait_for_next(1, Duration::from_secs(60)).await,
        "INIT never asked for an invocation"
    );
    let mut warm_up = proxy.operations();
    warm_up.sort();
    assert_eq!(warm_up, ["DescribeTimeToLive", "GetQueueAttributes"]);
    let opened = proxy.connections();
    assert!(opened >= 1);

    let session = unique("s-first");
    api.invoke(Invocation {
        request_id: "req-first".into(),
        trace_id: None,
        event: api_gateway_event(&seed::approved(&session)),
    });
    let (answers, logs) = api.answers_of(receiver, 1).await;
    assert_eq!(answers.len(), 1, "{answers:?}\n{logs}");
    assert_eq!(answers[0].1["response"]["statusCode"], 200, "{answers:?}");
    assert_eq!(
        proxy.operations()[2..],
        ["UpdateItem", "SendMessage", "UpdateItem"]
    );
    assert_eq!(
        proxy.connections(),
        opened,
        "the first delivery reused INIT's connections:\n{logs}"
    );
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_up_that_cannot_connect_does_not_stop_the_start() {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let api = RuntimeApi::start(Vec::new()).await;
    let mut env = Env::for_tests(&stack, &moto.endpoint);
    env.set("AWS_ENDPOINT_URL_DYNAMODB", closed());
    let mut receiver = api
        .command(&env, RECEIVER)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary in Lambda mode");
    let started = api.wait_for_next(1, Duration::from_secs(60)).await;
    receiver.kill().expect("stop it");
    let output = receiver.wait_with_output().expect("its output");
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(started, "INIT never asked for an invocation:\n{logs}");
    // Refused at once, or retried past the warm-up's bound: either way said.
    assert!(
        logs.contains("could not open a connection ahead of the first delivery")
            || logs.contains("connections not open within the warm-up bound"),
        "{logs}"
    );
}
