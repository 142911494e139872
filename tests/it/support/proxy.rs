//! A fault-injecting HTTP/1.1 proxy in front of moto, so that tests can
//! drive the real binary (`AWS_ENDPOINT_URL` pointed here) through one AWS
//! service failing at a time, with no test-only code in the receiver.
//!
//! Requests are told apart by their `X-Amz-Target` header (every service the
//! receiver calls speaks AWS JSON). A [`Rule`] gives the next N matching
//! requests (or all of them) a [`Fault`]; the rest are forwarded untouched.
//! Every request is recorded, so a test can say "UpdateItem was sent twice".

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    DynamoDb,
    Sqs,
    SecretsManager,
    Other,
}

/// What the proxy does to a request a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection without an answer; nothing is forwarded.
    Refuse,
    /// Answer `500` without forwarding.
    Status500,
    /// Answer the service's throttling error without forwarding.
    Throttle,
    /// Never answer; nothing is forwarded.
    Hang,
    /// Wait this long, then forward.
    Latency(Duration),
    /// Forward (the request takes effect), then wait this long before
    /// answering: past the SDK's 1.5 s attempt timeout, the client has gone.
    SlowAnswer(Duration),
    /// Forward (the request takes effect), then close without answering.
    DropAnswer,
}

impl Fault {
    /// Whether a request meeting this fault reaches moto.
    pub fn forwards(self) -> bool {
        matches!(
            self,
            Self::Latency(_) | Self::SlowAnswer(_) | Self::DropAnswer
        )
    }
}

/// Which requests get a fault, and how many of them.
#[derive(Debug, Clone)]
pub struct Rule {
    service: Service,
    operation: Option<String>,
    fault: Fault,
    /// Matching requests let through before the fault starts.
    skip: usize,
    /// `None`: every matching request.
    left: Option<usize>,
}

impl Rule {
    /// Every request to `service` meets `fault` (narrow with [`Rule::only`]
    /// and [`Rule::times`]).
    pub fn on(service: Service, fault: Fault) -> Self {
        Self {
            service,
            operation: None,
            fault,
            skip: 0,
            left: None,
        }
    }

    /// Only this operation, e.g. `"UpdateItem"`.
    pub fn only(mut self, operation: &str) -> Self {
        self.operation = Some(operation.to_owned());
        self
    }

    /// Lets the next `n` matching requests through first.
    pub fn after(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.left = Some(n);
        self
    }
}

/// One request the proxy received, and the fault it met (`None`: forwarded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub service: Service,
    pub operation: String,
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
    /// TCP connections accepted.
    connections: usize,
}

/// The proxy; stops (and drops every connection) when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`: the `AWS_ENDPOINT_URL` to give the binary.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// A proxy to `upstream` (moto's endpoint) on a free loopback port.
    pub async fn start(upstream: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let upstream = upstream.to_owned();
        let client = Client::builder(TokioExecutor::new()).build_http();
        let task = tokio::spawn(async move {
            // Owned here, so that aborting this task ends every connection.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                shared.lock().expect("state").connections += 1;
                while connections.try_join_next().is_some() {}
                let (state, client, upstream) =
                    (Arc::clone(&shared), client.clone(), upstream.clone());
                let service = service_fn(move |request| {
                    handle(
                        Arc::clone(&state),
                        client.clone(),
                        upstream.clone(),
                        request,
                    )
                });
                connections.spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Proxy {
            endpoint,
            state,
            task,
        }
    }

    /// Adds a rule; rules are tried in the order they were added.
    pub fn inject(&self, rule: Rule) {
        self.state.lock().expect("state").rules.push(rule);
    }

    /// Removes every rule: the services are healthy again.
    pub fn heal(&self) {
        self.state.lock().expect("state").rules.clear();
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("state").seen.clone()
    }

    /// How many `operation` requests arrived (retries included).
    pub fn count(&self, operation: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.operation == operation)
            .count()
    }

    /// How many connections the clients opened to the proxy.
    pub fn connections(&self) -> usize {
        self.state.lock().expect("state").connections
    }

    /// The operations that arrived, in order, e.g. `["UpdateItem", "SendMessage"]`.
    pub fn operations(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.operation).collect()
    }
}

/// The connection ends without an answer.
#[derive(Debug)]
struct NoAnswer;

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer")
    }
}

impl std::error::Error for NoAnswer {}

type Upstream = Client<HttpConnector, Full<Bytes>>;

async fn handle(
    state: Arc<Mutex<State>>,
    client: Upstream,
    upstream: String,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, NoAnswer> {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (prefix, operation) = target.split_once('.').unwrap_or(("", target));
    let service = match prefix {
        "DynamoDB_20120810" => Service::DynamoDb,
        "AmazonSQS" => Service::Sqs,
        "secretsmanager" => Service::SecretsManager,
        _ => Service::Other,
    };
    let operation = operation.to_owned();
    let fault = {
        let mut state = state.lock().expect("state");
        let rule = state.rules.iter_mut().find(|r| {
            r.service == service
                && r.operation.as_ref().is_none_or(|o| *o == operation)
                && r.left != Some(0)
        });
        let fault = rule.and_then(|rule| {
            if rule.skip > 0 {
                rule.skip -= 1;
                return None;
            }
            rule.left = rule.left.map(|n| n - 1);
            Some(rule.fault)
        });
        state.seen.push(Seen {
            service,
            operation,
            fault,
        });
        fault
    };
    let (mut parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| NoAnswer)?.to_bytes();
    let uri = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    parts.uri = uri.parse().map_err(|_| NoAnswer)?;
    let forward = async {
        let answer = client
            .request(Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|_| NoAnswer)?;
        let (mut parts, body) = answer.into_parts();
        let body = body.collect().await.map_err(|_| NoAnswer)?.to_bytes();
        // Hop-by-hop: moto closes every connection (`Connection: close`),
        // AWS keeps them open; between the clients and the proxy, as AWS.
        parts.headers.remove(hyper::header::CONNECTION);
        Ok(Response::from_parts(parts, Full::new(body)))
    };
    match fault {
        None => forward.await,
        Some(Fault::Refuse) => Err(NoAnswer),
        Some(Fault::Status500) => Ok(error(service, 500, "InternalFailure")),
        Some(Fault::Throttle) => Ok(error(service, 400, throttling_code(service))),
        Some(Fault::Hang) => std::future::pending().await,
        Some(Fault::Latency(delay)) => {
            tokio::time::sleep(delay).await;
            forward.await
        }
        Some(Fault::SlowAnswer(delay)) => {
            let answer = forward.await;
            tokio::time::sleep(delay).await;
            answer
        }
        Some(Fault::DropAnswer) => {
            forward.await?;
            Err(NoAnswer)
        }
    }
}

/// The error code each service throttles with, as the SDK reads it (all are
/// in `aws_runtime::retries::classifiers::THROTTLING_ERRORS`).
fn throttling_code(service: Service) -> &'static str {
    match service {
        Service::DynamoDb => "com.amazonaws.dynamodb.v20120810#ThrottlingException",
        // SQS's JSON protocol: the SDK takes the code from `x-amzn-query-error`.
        Service::Sqs => "com.amazonaws.sqs#RequestThrottled",
        Service::SecretsManager | Service::Other => "ThrottlingException",
    }
}

/// An AWS JSON error answer.
fn error(service: Service, status: u16, code: &str) -> Response<Full<Bytes>> {
    let body = format!(r#"{{"__type":"{code}","message":"injected by the test proxy"}}"#);
    let mut answer = Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0");
    if service == Service::Sqs && status == 400 {
        let short = code.rsplit('#').next().unwrap_or(code);
        answer = answer.header("x-amzn-query-error", format!("{short};Sender"));
    }
    answer.body(Full::new(Bytes::from(body))).expect("response")
}
