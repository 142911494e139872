//! The local transport: the very same [`Receiver::handle`] behind a plain
//! HTTP/1.1 server, for development and for the integration tests.
//!
//! It only turns hyper's request into the `lambda_http` request the handler
//! takes (reading at most [`MAX_BODY_BYTES`]) and the answer back.

use crate::delivery::{MAX_BODY_BYTES, Receiver};
use crate::respond::Rejection;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves `receiver` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, receiver: Arc<Receiver>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let receiver = Arc::clone(&receiver);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let receiver = Arc::clone(&receiver);
                async move { Ok::<_, Infallible>(answer(&receiver, request).await) }
            });
            if let Err(err) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %err, "connection closed with an error");
            }
        });
    }
}

async fn answer(
    receiver: &Receiver,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let response = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(body) => {
            let body = lambda_http::Body::from(body.to_bytes().to_vec());
            receiver
                .handle(lambda_http::Request::from_parts(parts, body))
                .await
        }
        Err(_) => receiver.refuse(&parts.headers, Rejection::TooLarge),
    };
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, Full::new(Bytes::from(body.to_vec())))
}
