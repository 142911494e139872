//! The receiver in process ([`TestApp`]): built as `main` builds it, served
//! over real HTTP on its own port, over its own [`Stack`], with every AWS
//! call its clients make recorded ([`Calls`]); and its sweeper.

use super::{Answer, SECOND_SECRET, SECRET, Stack, Value, WebhookClient, moto, sdk, seed, unique};
use bytes::Bytes;
use gu1_webhook::config::{Clients, ReceiverConfig, SecretsSource, Storage};
use gu1_webhook::{Receiver, serve};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to build a test app.
#[derive(Default)]
pub struct Options {
    pub fifo: bool,
    /// Where the receiver's DynamoDB client points (default: moto).
    pub dynamodb_endpoint: Option<String>,
    /// Where the receiver's SQS client points (default: moto).
    pub sqs_endpoint: Option<String>,
    /// The receiver's retention (`RETENTION_DAYS`; default none).
    pub retention: Option<Duration>,
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
                reviews_queue_url: Some(stack.reviews_url.clone()),
                retention: options.retention,
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

    /// POSTs `body` to the webhook path with the given signature header value.
    pub async fn post_signed(&self, body: &[u8], signature: &str) -> Answer {
        self.client.post_signed(body, signature).await
    }

    /// POSTs `body` signed (hex) with [`SECRET`], as Gu1 would.
    pub async fn deliver(&self, body: &Value) -> Answer {
        self.client.deliver(body).await
    }

    /// Delivers `body`, which must be applied.
    pub async fn deliver_applied(&self, body: &Value) {
        let answer = self.deliver(body).await;
        assert_eq!(
            (answer.status, answer.result()),
            (200, "applied"),
            "{answer:?}"
        );
    }

    /// Delivers one terminal outcome per `(entity, name, status)`, each
    /// about a fresh session named after `name`, and asserts each was
    /// applied; returns the session ids in order.
    pub async fn deliver_outcomes(&self, deliveries: &[(&str, &str, &str)]) -> Vec<String> {
        let mut sessions = Vec::new();
        for (entity, name, status) in deliveries {
            let session = unique(name);
            let answer = self
                .deliver(&seed::about(seed::terminal(&session, status), entity))
                .await;
            assert_eq!((answer.status, answer.result()), (200, "applied"));
            sessions.push(session);
        }
        sessions
    }
}
