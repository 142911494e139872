//! The local transport: the very same [`Receiver::handle`] behind a plain
//! HTTP/1.1 server, for development, containers and the integration tests.
//!
//! It only turns hyper's request into the `lambda_http` request the handler
//! takes (reading at most [`WEBHOOK_MAX_BODY_BYTES`]) and the answer back, and bounds
//! what a socket can do to the process:
//!
//! - a failed `accept` (e.g. out of descriptors) is logged and retried after
//!   a pause that grows to [`SERVE_MAX_ACCEPT_BACKOFF`]; it never ends the server;
//! - at most [`SERVE_MAX_CONNECTIONS`] connections are served at once, the others
//!   wait in the listen backlog;
//! - headers must arrive within [`SERVE_HEADER_READ_TIMEOUT`] (an idle keep-alive
//!   connection too, or it is closed) and the body within
//!   [`SERVE_BODY_READ_TIMEOUT`] (`408` otherwise);
//! - a body that cannot be read is `400`, one over [`WEBHOOK_MAX_BODY_BYTES`] `413`.

use crate::delivery::Receiver;
use crate::limits::{
    SERVE_BODY_READ_TIMEOUT, SERVE_HEADER_READ_TIMEOUT, SERVE_MAX_ACCEPT_BACKOFF,
    SERVE_MAX_CONNECTIONS, SERVE_MIN_ACCEPT_BACKOFF, WEBHOOK_MAX_BODY_BYTES,
};
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
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Serves `receiver` on `listener` until the task is dropped. Never returns
/// an error: every failed `accept` is logged and retried.
pub async fn serve(listener: TcpListener, receiver: Arc<Receiver>) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(SERVE_MAX_CONNECTIONS));
    let mut backoff = SERVE_MIN_ACCEPT_BACKOFF;
    loop {
        // The semaphore is never closed, so this only waits for a slot.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return Ok(());
        };
        match listener.accept().await {
            Ok((stream, _)) => {
                backoff = SERVE_MIN_ACCEPT_BACKOFF;
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
                backoff = (backoff * 2).min(SERVE_MAX_ACCEPT_BACKOFF);
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
        .header_read_timeout(SERVE_HEADER_READ_TIMEOUT)
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
        SERVE_BODY_READ_TIMEOUT,
        Limited::new(body, WEBHOOK_MAX_BODY_BYTES).collect(),
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
