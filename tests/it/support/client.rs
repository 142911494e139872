//! An HTTP client for one receiver (in process or the binary) that speaks
//! as Gu1 ([`WebhookClient`]), and what the receiver answered ([`Answer`]).

use super::{SECRET, Value};
use bytes::Bytes;
use gu1_webhook::local::sign_hex;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

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
