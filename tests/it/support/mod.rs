//! Spawn-the-app test support: one moto server per test binary (started on a
//! free loopback port, stopped when the binary exits), and per test a fresh
//! table, a fresh queue and the receiver served over real HTTP with the real
//! SDK clients.
#![allow(dead_code)]

pub mod binary;
pub mod gu1;
pub mod proxy;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_types::SdkConfig;
use bytes::Bytes;
use gu1_webhook::config::{Clients, ReceiverConfig, SecretsSource, Storage};
use gu1_webhook::local::sign_hex;
use gu1_webhook::{Receiver, local, serve};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub use serde_json::{Value, json};

/// The secrets every test app accepts; deliveries are signed with the first.
pub const SECRET: &str = "test-secret-one";
pub const SECOND_SECRET: &str = "test-secret-two";

pub type Item = HashMap<String, AttributeValue>;

/// The moto server of this test binary.
pub struct Moto {
    pub endpoint: String,
    _process: Mutex<Child>,
}

/// The moto server of this test binary, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| Moto::start(None))
}

impl Moto {
    /// Starts moto through `moto_server.py` (see there); over HTTPS when
    /// given a directory, where it writes the `ca.pem` to trust. It runs
    /// under a shell that stops it when our end of its stdin closes, i.e.
    /// when this value is dropped or the test binary exits.
    pub fn start(tls: Option<&std::path::Path>) -> Moto {
        let python = std::env::var("MOTO_PYTHON")
            .unwrap_or_else(|_| format!("{}/.venv/moto/bin/python", env!("CARGO_MANIFEST_DIR")));
        assert!(
            std::path::Path::new(&python).exists(),
            "{python} not found: run scripts/test (it installs moto), or set MOTO_PYTHON"
        );
        let script = format!(
            "{}/tests/it/support/moto_server.py",
            env!("CARGO_MANIFEST_DIR")
        );
        let port = free_port();
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid"#)
            .arg(&python)
            .arg(&script)
            .arg("127.0.0.1")
            .arg(port.to_string())
            .args(tls)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start moto");
        let scheme = match tls {
            None => {
                wait_for_http(port);
                "http"
            }
            Some(dir) => {
                wait_for_tls(port, &dir.join("ca.pem"));
                "https"
            }
        };
        Moto {
            endpoint: format!("{scheme}://127.0.0.1:{port}"),
            _process: Mutex::new(child),
        }
    }
}

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_http(port: u16) {
    for _ in 0..300 {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write;
            let mut stream = stream;
            let _ = stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: localhost\r\n\r\n");
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_ok() && line.starts_with("HTTP/") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("moto did not start on port {port}");
}

/// The HTTPS moto writes its CA before it listens: wait for both.
fn wait_for_tls(port: u16, ca: &std::path::Path) {
    for _ in 0..300 {
        if ca.exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("moto did not start over TLS on port {port}");
}

/// SDK configuration for one endpoint, built as the receiver builds its own.
pub fn sdk(endpoint: &str) -> SdkConfig {
    gu1_webhook::config::sdk_config(
        Region::new("us-east-1"),
        Credentials::new("test", "test", None, None, "tests"),
        Some(endpoint.to_owned()),
    )
}

/// A small deterministic shuffle (xorshift), so a failure replays exactly.
pub fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// A unique name per call, so tests sharing a moto server never collide.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// How to build a test app.
#[derive(Default)]
pub struct Options {
    pub fifo: bool,
    /// Where the receiver's DynamoDB client points (default: moto).
    pub dynamodb_endpoint: Option<String>,
    /// Where the receiver's SQS client points (default: moto).
    pub sqs_endpoint: Option<String>,
}

/// The AWS operations the receiver's clients sent, in order (one entry per
/// HTTP request, retries included), e.g. `["UpdateItem", "SendMessage"]`.
#[derive(Debug, Default)]
pub struct Calls(Mutex<Vec<String>>);

impl Calls {
    /// The calls so far, emptying the record.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("calls"))
    }
}

/// Records each request's operation (from its `X-Amz-Target` header).
#[derive(Debug)]
struct CountCalls(Arc<Calls>);

impl aws_sdk_dynamodb::config::Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("?");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        self.0.0.lock().expect("calls").push(operation);
        Ok(())
    }
}

/// An endpoint on a loopback port nothing listens on: a dependency that is down.
pub fn closed() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A listener on a free loopback port that accepts connections and never
/// answers: a dependency that hangs. Stops when dropped.
pub struct Hang {
    pub endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hang {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn hang() -> Hang {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Hang { endpoint, task }
}

/// A fresh table and queue on moto, and clients that always reach moto, for
/// a test's own checks (whatever the receiver under test is pointed at).
#[derive(Clone)]
pub struct Stack {
    pub table: String,
    pub queue_url: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
}

/// One receiver on its own port, with its own table and queue (the
/// [`Stack`] it dereferences to).
pub struct TestApp {
    pub url: String,
    stack: Stack,
    pub receiver: Arc<Receiver>,
    /// Every call the receiver's own clients made.
    pub calls: Arc<Calls>,
    clients: Clients,
    storage: Storage,
    client: WebhookClient,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl std::ops::Deref for TestApp {
    type Target = Stack;

    fn deref(&self) -> &Stack {
        &self.stack
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What the receiver answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn result(&self) -> &str {
        self.body["result"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> Self {
        let stack = Stack::create(&sdk(&moto().endpoint), options.fifo).await;
        Self::serve(stack, options).await
    }

    /// A receiver over the same table and queue but other endpoints: the
    /// same deployment after a dependency came back (or went away).
    pub async fn sibling(&self, options: Options) -> TestApp {
        Self::serve(self.stack.clone(), options).await
    }

    /// The same deployment with SQS at `endpoint` (see [`closed`], [`hang`]).
    pub async fn with_sqs_at(&self, endpoint: &str) -> TestApp {
        self.sibling(Options {
            sqs_endpoint: Some(endpoint.to_owned()),
            ..Options::default()
        })
        .await
    }

    /// The same deployment with DynamoDB at `endpoint`.
    pub async fn with_dynamodb_at(&self, endpoint: &str) -> TestApp {
        self.sibling(Options {
            dynamodb_endpoint: Some(endpoint.to_owned()),
            ..Options::default()
        })
        .await
    }

    async fn serve(stack: Stack, options: Options) -> TestApp {
        let moto = moto();
        let dynamodb_sdk = sdk(options
            .dynamodb_endpoint
            .as_deref()
            .unwrap_or(&moto.endpoint));
        let sqs_sdk = sdk(options.sqs_endpoint.as_deref().unwrap_or(&moto.endpoint));
        let calls = Arc::new(Calls::default());
        // The receiver's own clients, as `main` builds them, plus the counter.
        let sqs_clients = Clients::new(&sqs_sdk);
        let mut clients = Clients::new(&dynamodb_sdk);
        clients.dynamodb = aws_sdk_dynamodb::Client::from_conf(
            clients
                .dynamodb
                .config()
                .to_builder()
                .interceptor(CountCalls(Arc::clone(&calls)))
                .build(),
        );
        clients.sqs = aws_sdk_sqs::Client::from_conf(
            sqs_clients
                .sqs
                .config()
                .to_builder()
                .interceptor(CountCalls(Arc::clone(&calls)))
                .build(),
        );
        let config = ReceiverConfig {
            secrets: SecretsSource::List(format!("{SECRET},{SECOND_SECRET}")),
            storage: Storage {
                sessions_table: stack.table.clone(),
                outcomes_queue_url: stack.queue_url.clone(),
            },
        };
        let receiver = Arc::new(
            gu1_webhook::app::receiver(&config, &clients)
                .await
                .expect("receiver"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(serve::serve(listener, Arc::clone(&receiver)));
        TestApp {
            client: WebhookClient::new(&url),
            url,
            stack,
            receiver,
            calls,
            clients,
            storage: config.storage,
            server,
        }
    }

    /// This deployment's sweeper, built as `main` builds it, with no grace
    /// period (so a test need not wait for one).
    pub fn sweeper(&self) -> gu1_webhook::sweep::Sweeper {
        let config = gu1_webhook::config::SweepConfig {
            storage: self.storage.clone(),
            grace: Duration::ZERO,
            page_size: 10,
        };
        gu1_webhook::app::sweeper(&config, &self.clients)
    }

    /// One sweep of this deployment, as [`TestApp::sweeper`] runs it.
    pub async fn sweep_now(&self) -> gu1_webhook::sweep::SweepReport {
        self.sweeper().run().await.expect("sweep")
    }

    /// Another receiver of this deployment, accepting only `secrets`
    /// (comma-separated), for driving it in process.
    pub async fn receiver_accepting(&self, secrets: &str) -> Receiver {
        let config = ReceiverConfig {
            secrets: SecretsSource::List(secrets.to_owned()),
            storage: self.storage.clone(),
        };
        gu1_webhook::app::receiver(&config, &self.clients)
            .await
            .expect("receiver")
    }

    /// Sends a raw request.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        self.client.request(method, path, headers, body).await
    }

    /// Sends a raw request; `Err` when the connection ends without an answer.
    pub async fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Answer, hyper_util::client::legacy::Error> {
        self.client.try_request(method, path, headers, body).await
    }

    /// The signed request Gu1 would send for `body`.
    pub fn signed(body: &Value) -> (Vec<u8>, String) {
        WebhookClient::signed(body)
    }

    /// POSTs `body` to the webhook path with the given signature header value.
    pub async fn post_signed(&self, body: &[u8], signature: &str) -> Answer {
        self.client.post_signed(body, signature).await
    }

    /// POSTs `body` signed (hex) with [`SECRET`], as Gu1 would.
    pub async fn deliver(&self, body: &Value) -> Answer {
        self.client.deliver(body).await
    }
}

/// An HTTP client for one receiver (in process or the binary), speaking as Gu1.
#[derive(Clone)]
pub struct WebhookClient {
    /// `http://127.0.0.1:PORT`, without a path.
    pub url: String,
    http: HttpClient<HttpConnector, Full<Bytes>>,
}

impl WebhookClient {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            http: HttpClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends a raw request.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        self.try_request(method, path, headers, body)
            .await
            .expect("an answer")
    }

    /// Sends a raw request; `Err` when the connection ends without an answer.
    pub async fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Answer, hyper_util::client::legacy::Error> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.url, path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body.into())).expect("request");
        let response = self.http.request(request).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// The signed request Gu1 would send for `body`.
    pub fn signed(body: &Value) -> (Vec<u8>, String) {
        let bytes = serde_json::to_vec(body).expect("json");
        let signature = sign_hex(SECRET.as_bytes(), &bytes);
        (bytes, signature)
    }

    /// POSTs `body` to the webhook path with the given signature header value.
    pub async fn post_signed(&self, body: &[u8], signature: &str) -> Answer {
        self.request(
            "POST",
            "/webhooks/gu1",
            &[
                ("content-type", "application/json"),
                ("x-webhook-signature", signature),
            ],
            Bytes::copy_from_slice(body),
        )
        .await
    }

    /// POSTs `body` signed (hex) with [`SECRET`], as Gu1 would.
    pub async fn deliver(&self, body: &Value) -> Answer {
        let (bytes, signature) = Self::signed(body);
        self.post_signed(&bytes, &signature).await
    }
}

impl Stack {
    /// A fresh table and queue (FIFO when `fifo`), reached through `config`.
    ///
    /// The test's own clients wait longer than the receiver's: they set up
    /// and inspect, and a busy machine (moto loads each backend on its first
    /// call) must not fail a test before the receiver is even asked.
    pub async fn create(config: &SdkConfig, fifo: bool) -> Stack {
        let config = config
            .to_builder()
            .timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .operation_timeout(Duration::from_secs(90))
                    .build(),
            )
            .build();
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let table = unique("sessions");
        if let Err(err) = local::create_table(&dynamodb, &table).await {
            // An attempt can still outlast its timeout: the SDK's retry then
            // finds the table its first attempt made (names are unique).
            assert!(
                format!("{err:?}").contains("ResourceInUseException"),
                "create table: {err:?}"
            );
        }
        let queue_name = if fifo {
            format!("{}.fifo", unique("outcomes"))
        } else {
            unique("outcomes")
        };
        let queue_url = local::create_queue(&sqs, &queue_name)
            .await
            .expect("create queue");
        Stack {
            table,
            queue_url,
            dynamodb,
            sqs,
        }
    }

    /// The stored item of `session`, if any (strongly consistent read).
    pub async fn item(&self, session: &str) -> Option<Item> {
        self.dynamodb
            .get_item()
            .table_name(&self.table)
            .key("sessionId", AttributeValue::S(session.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Asserts that `session` is durably `status` with its outcome still
    /// pending (in the unpublished index, not marked, nothing on the queue),
    /// and returns the item.
    pub async fn assert_outcome_pending(&self, session: &str, status: &str) -> Item {
        let item = self.item(session).await.expect("the state is durable");
        assert_eq!(text(&item, "status"), Some(status));
        assert_eq!(text(&item, "pendingOutcome"), Some("PENDING"));
        assert!(!item.contains_key("outcomePublishedAt"));
        assert!(self.messages().await.is_empty(), "nothing on the queue yet");
        item
    }

    /// Makes `session`, if active, look as if nothing had moved it for
    /// `age`: its key in the stale-sessions index goes back that far (the
    /// only clock reconciliation reads), so that a run picks it while a
    /// session just delivered stays fresh, however slow the machine.
    pub async fn age(&self, session: &str, age: Duration) {
        let at = gu1_webhook::clock::now_ms() - age.as_millis() as u64;
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key("sessionId", AttributeValue::S(session.into()))
            .update_expression("SET #checked = :at")
            .condition_expression("attribute_exists(#active)")
            .expression_attribute_names("#checked", "lastCheckedAt")
            .expression_attribute_names("#active", "activeSession")
            .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
            .send()
            .await
            .expect("an active session to age");
    }

    /// Leaves on `session` what a process that died holding the publish
    /// lease leaves (its write landed, its send never happened): the lease in
    /// another writer's name, running until `until_ms` (epoch ms; in the past
    /// for a lease that has lapsed). No test hook needed: the item is all
    /// another publisher ever sees of a dead one.
    pub async fn leave_lease_of_a_dead_process(&self, session: &str, until_ms: u64) {
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key("sessionId", AttributeValue::S(session.into()))
            .update_expression("SET #until = :until, #holder = :holder")
            .condition_expression("attribute_exists(#pending)")
            .expression_attribute_names("#until", "publishLeaseUntil")
            .expression_attribute_names("#holder", "publishLeaseHolder")
            .expression_attribute_names("#pending", "pendingOutcome")
            .expression_attribute_values(":until", AttributeValue::N(until_ms.to_string()))
            .expression_attribute_values(":holder", AttributeValue::S("a-dead-process".into()))
            .send()
            .await
            .expect("a pending outcome to hold");
    }

    /// How many items the table holds.
    pub async fn item_count(&self) -> usize {
        self.dynamodb
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .expect("scan")
            .items()
            .len()
    }

    /// Every message on the queue (received once each, never deleted:
    /// the visibility timeout keeps them out of later receives).
    pub async fn messages(&self) -> Vec<aws_sdk_sqs::types::Message> {
        let mut all = Vec::new();
        loop {
            let batch = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(600)
                .message_attribute_names("All")
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive")
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                return all;
            }
            all.extend(batch);
        }
    }

    /// The message bodies, parsed.
    pub async fn outcome_bodies(&self) -> Vec<Value> {
        self.messages()
            .await
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap_or("null")).expect("json body"))
            .collect()
    }
}

/// Text attribute of an item.
pub fn text<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    item.get(attr)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// Number attribute of an item.
pub fn number(item: &Item, attr: &str) -> Option<u64> {
    item.get(attr)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// The seed examples of Gu1's page, for one session id.
pub mod seed {
    use super::{Value, json};

    pub fn created(session: &str) -> Value {
        json!({
            "event": "biometric.session_created",
            "timestamp": "2026-06-11T14:00:00Z",
            "organizationId": "org-uuid",
            "payload": {
                "id": session, "entityId": "entity-uuid", "organizationId": "org-uuid",
                "kycValidationId": "kyc-validation-uuid", "status": "pending", "mode": "face_match",
                "sessionUrl": "https://verify.example.com/session/abc",
                "hostedSessionId": "hosted-session-id",
                "iframeAllow": "camera; microphone; fullscreen; autoplay; encrypted-media",
                "rejectionCode": null, "rejectionMessage": null,
                "createdAt": "2026-06-11T14:00:00.000Z", "updatedAt": "2026-06-11T14:00:00.000Z",
                "completedAt": null,
                "entity": {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
            }
        })
    }

    pub fn in_progress(session: &str) -> Value {
        json!({
            "event": "biometric.session_in_progress",
            "timestamp": "2026-06-11T14:05:00Z",
            "organizationId": "org-uuid",
            "payload": {
                "id": session, "entityId": "entity-uuid", "status": "in_progress", "mode": "face_match",
                "sessionUrl": "https://verify.example.com/session/abc",
                "rejectionCode": null, "rejectionMessage": null
            }
        })
    }

    pub fn approved(session: &str) -> Value {
        json!({
            "event": "biometric.session_approved",
            "timestamp": "2026-06-11T14:10:00Z",
            "organizationId": "org-uuid",
            "payload": {
                "id": session, "entityId": "entity-uuid", "status": "approved", "mode": "face_match",
                "sessionUrl": "https://verify.example.com/session/abc",
                "rejectionCode": null, "rejectionMessage": null,
                "completedAt": "2026-06-11T14:10:00.000Z",
                "decision": {"face_match": {"status": "Approved", "score": 99.2},
                             "liveness": {"status": "Approved", "score": 98.5}},
                "entity": {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
            }
        })
    }

    pub fn rejected(session: &str) -> Value {
        json!({
            "event": "biometric.session_rejected",
            "timestamp": "2026-06-11T14:12:00Z",
            "organizationId": "org-uuid",
            "payload": {
                "id": session, "entityId": "entity-uuid", "status": "rejected", "mode": "face_match",
                "rejectionCode": "FACE_MATCH_SCORE_LOW",
                "rejectionMessage": "Face match score 28.5 is below organization threshold 30",
                "completedAt": "2026-06-11T14:12:00.000Z",
                "decision": {"face_match": {"status": "Approved", "score": 28.5}},
                "entity": {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
            }
        })
    }

    /// A terminal event without decision or rejection, for the statuses the
    /// seed has no example of (abandoned, cancelled, expired).
    pub fn terminal(session: &str, status: &str) -> Value {
        json!({
            "event": format!("biometric.session_{status}"),
            "timestamp": "2026-06-11T15:00:00Z",
            "organizationId": "org-uuid",
            "payload": {
                "id": session, "entityId": "entity-uuid", "status": status, "mode": "face_match",
                "rejectionCode": null, "rejectionMessage": null,
                "entity": {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
            }
        })
    }
}
