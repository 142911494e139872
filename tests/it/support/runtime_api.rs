//! A fake of Lambda's Runtime API, in the test process, on a free loopback
//! port: the real binary, started with `AWS_LAMBDA_RUNTIME_API` pointing
//! here, runs exactly as in Lambda. Each queued invocation is handed out
//! once by `GET .../invocation/next`, with the headers Lambda sets (request
//! id, deadline, function ARN, X-Ray trace header); with none queued, `next`
//! waits for one ([`RuntimeApi::invoke`]), as Lambda's does between
//! invocations. Requests for `next` are counted and answers recorded.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One invocation to hand out.
pub struct Invocation {
    pub request_id: String,
    pub trace_id: Option<String>,
    pub event: Value,
}

#[derive(Default)]
struct State {
    queued: VecDeque<Invocation>,
    /// How many times the process asked for its next invocation.
    nexts: usize,
    /// `(request id, {"response": ...} or {"error": ...})`, in order.
    answers: Vec<(String, Value)>,
}

pub struct RuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves `invocations`, in order.
    pub async fn start(invocations: Vec<Invocation>) -> RuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let state = Arc::new(Mutex::new(State {
            queued: invocations.into(),
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(Arc::clone(&state), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RuntimeApi {
            address,
            state,
            task,
        }
    }

    /// The binary with `env`, as Lambda starts the function `function`
    /// against this Runtime API.
    pub fn command(&self, env: &super::binary::Env, function: &str) -> std::process::Command {
        let mut command = env.command();
        command
            .env("AWS_LAMBDA_RUNTIME_API", &self.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        command
    }

    /// Queues one more invocation.
    pub fn invoke(&self, invocation: Invocation) {
        self.state
            .lock()
            .expect("state")
            .queued
            .push_back(invocation);
    }

    /// Waits (up to `within`) until the process asked for its `count`th
    /// invocation (the first: its INIT is over); whether it did.
    pub async fn wait_for_next(&self, count: usize, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if self.state.lock().expect("state").nexts >= count {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Waits (up to `within`) until `count` invocations were answered, and
    /// returns the answers.
    pub async fn answers(&self, count: usize, within: Duration) -> Vec<(String, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let answers = self.state.lock().expect("state").answers.clone();
            if answers.len() >= count || tokio::time::Instant::now() > deadline {
                return answers;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (up to a minute) until `process`, a function started with
    /// [`RuntimeApi::command`], answered `count` invocations; then stops it.
    /// The answers, and what it wrote (its logs on stderr).
    pub async fn answers_of(
        &self,
        mut process: std::process::Child,
        count: usize,
    ) -> (Vec<(String, Value)>, String) {
        let answers = self.answers(count, Duration::from_secs(60)).await;
        process.kill().expect("stop the function");
        let output = process.wait_with_output().expect("its output");
        (
            answers,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = request.uri().path().to_owned();
    if path.ends_with("/invocation/next") {
        state.lock().expect("state").nexts += 1;
        let invocation = loop {
            let queued = state.lock().expect("state").queued.pop_front();
            match queued {
                Some(invocation) => break invocation,
                // No work yet: Lambda would freeze the process here.
                None => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let deadline = gu1_webhook::clock::now_ms() + 30_000;
        let mut response = Response::builder()
            .header("lambda-runtime-aws-request-id", &invocation.request_id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:gu1-webhook-receiver",
            );
        if let Some(trace) = &invocation.trace_id {
            response = response.header("lambda-runtime-trace-id", trace);
        }
        let body = Full::new(Bytes::from(invocation.event.to_string()));
        return Ok(response.body(body).expect("response"));
    }
    let body = request.into_body().collect().await?.to_bytes();
    let answered = |suffix| path.strip_suffix(suffix).and_then(|p| p.rsplit('/').next());
    if let Some((id, kind)) = answered("/response")
        .map(|id| (id, "response"))
        .or_else(|| answered("/error").map(|id| (id, "error")))
    {
        let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let value = serde_json::json!({ kind: value });
        state
            .lock()
            .expect("state")
            .answers
            .push((id.to_owned(), value));
    }
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .expect("response"))
}

/// An API Gateway (HTTP API, payload 2.0) event delivering `body`, signed.
pub fn api_gateway_event(body: &Value) -> Value {
    let (bytes, signature) = super::WebhookClient::signed(body);
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
