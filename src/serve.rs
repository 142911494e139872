//! The local transport: the very same [`Receiver::handle`] behind a plain
//! HTTP/1.1 server, for development, containers and the integration tests.
//!
//! It only turns hyper's request into the `lambda_http` request the handler
//! takes (reading at most [`MAX_BODY_BYTES`]) and the answer back, and bounds
//! what a socket can do to the process:
//!
//! - a failed `accept` (e.g. out of descriptors) is logged and retried after
//!   a pause that grows to [`MAX_ACCEPT_BACKOFF`]; it never ends the server;
//! - at most [`MAX_CONNECTIONS`] connections are served at once, the others
//!   wait in the listen backlog;
//! - headers must arrive within [`HEADER_READ_TIMEOUT`] (an idle keep-alive
//!   connection too, or it is closed) and the body within
//!   [`BODY_READ_TIMEOUT`] (`408` otherwise);
//! - a body that cannot be read is `400`, one over 256 KiB `413`.

use crate::delivery::{MAX_BODY_BYTES, Receiver};
use crate::respond::Rejection;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections served at once; more wait in the kernel's listen backlog
/// (queued, not refused). Each holds a descriptor and at most one body of
/// 256 KiB, so the bound stays well under the usual soft limit of 1,024
/// descriptors and 64 MiB of bodies, while the read timeouts below free a
/// slot held by a silent client within seconds.
pub const MAX_CONNECTIONS: usize = 256;

/// Time a client has to send a request's headers. hyper starts the clock
/// when it waits for a request, so a connection that stays idle this long
/// (a new one, or a keep-alive one between requests) is closed too. Gu1's
/// headers are a few hundred bytes.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Time a client has to send the body once the headers are in: 256 KiB
/// take well under a second on any link Gu1 uses. The two read timeouts
/// plus the 15 s delivery deadline answer every request within 25 s,
/// inside the 30 s Gu1 waits.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// First pause after a failed `accept`; it doubles with each failure in a
/// row. Short, because the usual cause (a connection reset before it was
/// accepted) is gone at once.
pub const MIN_ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Longest pause between failed `accept`s: out of descriptors, the process
/// retries once a second (and logs once a second) until connections close.
pub const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `receiver` on `listener` until the task is dropped. Never returns
/// an error: every failed `accept` is logged and retried.
pub async fn serve(listener: TcpListener, receiver: Arc<Receiver>) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut backoff = MIN_ACCEPT_BACKOFF;
    loop {
        // The semaphore is never closed, so this only waits for a slot.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return Ok(());
        };
        match listener.accept().await {
            Ok((stream, _)) => {
                backoff = MIN_ACCEPT_BACKOFF;
                tokio::spawn(connection(stream, Arc::clone(&receiver), slot));
            }
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    retry_in_ms = crate::clock::millis(backoff),
                    "could not accept a connection"
                );
                drop(slot);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
            }
        }
    }
}

/// Serves one connection, holding `_slot` until it closes.
async fn connection(stream: TcpStream, receiver: Arc<Receiver>, _slot: OwnedSemaphorePermit) {
    let service = service_fn(move |request| {
        let receiver = Arc::clone(&receiver);
        async move { Ok::<_, Infallible>(answer(&receiver, request).await) }
    });
    if let Err(err) = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(error = %err, "connection closed with an error");
    }
}

async fn answer(
    receiver: &Receiver,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        BODY_READ_TIMEOUT,
        Limited::new(body, MAX_BODY_BYTES).collect(),
    )
    .await;
    let (response, close) = match read {
        Ok(Ok(body)) => {
            let body = lambda_http::Body::from(body.to_bytes().to_vec());
            let response = receiver
                .handle(lambda_http::Request::from_parts(parts, body))
                .await;
            (response, false)
        }
        Ok(Err(err)) if err.is::<LengthLimitError>() => {
            (receiver.refuse(&parts.headers, Rejection::TooLarge), false)
        }
        Ok(Err(err)) => {
            // hyper's reason (e.g. "invalid chunk size line") names no content.
            tracing::debug!(error = %err, "request body could not be read");
            let response = receiver.refuse(&parts.headers, Rejection::UnreadableBody);
            (response, true)
        }
        Err(_) => (
            receiver.refuse(&parts.headers, Rejection::BodyTimeout),
            true,
        ),
    };
    let (mut parts, body) = response.into_parts();
    if close {
        // The rest of the body is unread (or unreadable): the connection
        // cannot carry another request.
        parts
            .headers
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    hyper::Response::from_parts(parts, Full::new(Bytes::from(body.to_vec())))
}
