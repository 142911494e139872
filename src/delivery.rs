//! The path of one delivery, start to finish:
//! verify → parse → decide → store → publish → respond (an event older
//! than the retention stops at decide: acknowledged, never stored).
//!
//! [`Receiver::handle`] is the only entry point, whichever transport brought
//! the request: the Lambda runtime or the local HTTP server of
//! [`crate::serve`].

use crate::clock::now_ms;
use crate::decide::beyond_retention;
use crate::limits::{DELIVERY_DEADLINE, WEBHOOK_MAX_BODY_BYTES};
use crate::outbox::Outbox;
use crate::parse::{Delivery, parse_delivery};
use crate::respond::{Accepted, Rejection, respond};
use crate::secrets::Keyring;
use crate::session::{SessionEvent, SessionId, WriteToken, is_safe_id};
use lambda_http::http::{HeaderMap, Method, Response};
use lambda_http::{Body, Request};
use std::time::Instant;

/// The one route.
pub const WEBHOOK_PATH: &str = "/webhooks/gu1";
/// Gu1's signature header.
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";
/// Gu1's delivery id, logged for tracing (never relied on).
pub const WEBHOOK_ID_HEADER: &str = "x-webhook-id";
/// Gu1's event name header, logged for tracing.
pub const WEBHOOK_EVENT_HEADER: &str = "x-webhook-event";

/// Everything a delivery needs, built once at start-up.
#[derive(Debug)]
pub struct Receiver {
    keyring: Keyring,
    outbox: Outbox,
}

impl Receiver {
    /// Built once per process, by [`crate::app::receiver`].
    pub fn new(keyring: impl Into<Keyring>, outbox: Outbox) -> Self {
        Self {
            keyring: keyring.into(),
            outbox,
        }
    }

    /// Answers one delivery. Never panics, never answers `2xx` before the
    /// session's state is durable, and answers within [`DELIVERY_DEADLINE`]
    /// (plus, on a `503`, the bounded give-back of its lease).
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let mut log = DeliveryLog::from_headers(request.headers());
        // This delivery's own name on what it writes: if an answer is lost
        // and the SDK retries, the retry recognises the write that landed.
        let writer = WriteToken::unique();
        let outcome =
            tokio::time::timeout(DELIVERY_DEADLINE, self.process(&request, &writer, &mut log))
                .await
                .unwrap_or(Err(Rejection::Timeout));
        if let (Err(rejection), Some(session)) = (&outcome, &log.session_id)
            && rejection.is_retryable()
        {
            // Giving up: whatever our write did, the lease it may have
            // taken goes back, so that Gu1's retry publishes at once.
            self.outbox.give_back(session, &writer).await;
        }
        log.finish(&outcome, started);
        respond(&outcome)
    }

    /// Answers a request the transport refused before it reached
    /// [`Receiver::handle`] (a body too large to read), logged the same way.
    pub fn refuse(&self, headers: &HeaderMap, rejection: Rejection) -> Response<Body> {
        let outcome = Err(rejection);
        DeliveryLog::from_headers(headers).finish(&outcome, Instant::now());
        respond(&outcome)
    }

    async fn process(
        &self,
        request: &Request,
        writer: &WriteToken,
        log: &mut DeliveryLog,
    ) -> Result<Accepted, Rejection> {
        if request.uri().path() != WEBHOOK_PATH {
            return Err(Rejection::NotFound);
        }
        if request.method() != Method::POST {
            return Err(Rejection::MethodNotAllowed);
        }
        let body = request.body().as_ref();
        if body.len() > WEBHOOK_MAX_BODY_BYTES {
            return Err(Rejection::TooLarge);
        }
        let signatures: Vec<&[u8]> = request
            .headers()
            .get_all(SIGNATURE_HEADER)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        self.keyring.verify(body, &signatures).await?;
        let delivery = parse_delivery(body)?;
        log.authentic = true;
        let event = match delivery {
            Delivery::Session(event) => event,
            Delivery::Ignored { event } => {
                log.event = Some(event);
                return Ok(Accepted::Ignored);
            }
        };
        log.session(&event);
        let retention = self.outbox.store().retention();
        if beyond_retention(event.timestamp.as_deref(), now_ms(), retention) {
            return Ok(Accepted::BeyondRetention {
                session_id: event.session_id.to_string(),
            });
        }
        self.store_and_publish(&event, writer, log).await
    }

    async fn store_and_publish(
        &self,
        event: &SessionEvent,
        writer: &WriteToken,
        log: &mut DeliveryLog,
    ) -> Result<Accepted, Rejection> {
        let written = self
            .outbox
            .record(event, log.webhook_id.as_deref(), writer)
            .await?;
        log.stored = Some(written.record.status.as_str());
        log.version = Some(written.record.version);
        self.outbox.publish_due(&written.record, writer).await?;
        Ok(Accepted::session(
            written.verdict,
            event,
            written.record.status.as_str(),
        ))
    }
}

/// The one INFO line logged per delivery. Holds ids and statuses only: never
/// a secret, a signature, the body or the person's name.
#[derive(Debug, Default)]
struct DeliveryLog {
    webhook_id: Option<String>,
    webhook_event: Option<String>,
    event: Option<String>,
    session_id: Option<SessionId>,
    incoming: Option<&'static str>,
    stored: Option<&'static str>,
    /// Signed with a configured secret and readable (not refused `401`/`400`).
    authentic: bool,
    version: Option<u64>,
}

impl DeliveryLog {
    fn from_headers(headers: &HeaderMap) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| is_safe_id(v))
                .map(str::to_owned)
        };
        Self {
            webhook_id: header(WEBHOOK_ID_HEADER),
            webhook_event: header(WEBHOOK_EVENT_HEADER),
            ..Self::default()
        }
    }

    fn session(&mut self, event: &SessionEvent) {
        self.event = Some(event.event.clone());
        self.session_id = Some(event.session_id.clone());
        self.incoming = Some(event.status.as_str());
    }

    fn finish(&self, outcome: &Result<Accepted, Rejection>, started: Instant) {
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (result, status_code, error) = match outcome {
            Ok(accepted) => (accepted.result(), 200, None),
            Err(rejection) => (
                rejection.result(),
                rejection.status_code().as_u16(),
                Some(crate::error_chain(rejection)),
            ),
        };
        crate::metrics::delivery(result);
        if self.authentic {
            crate::metrics::authentic_delivery();
        }
        tracing::info!(
            result,
            status_code,
            session_id = self.session_id.as_ref().map(SessionId::as_str),
            event = self.event.as_deref(),
            incoming_status = self.incoming,
            stored_status = self.stored,
            version = self.version,
            webhook_id = self.webhook_id.as_deref(),
            webhook_event = self.webhook_event.as_deref(),
            error = error.as_deref(),
            latency_ms,
            "delivery"
        );
    }
}
