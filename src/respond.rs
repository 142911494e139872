//! Step 6 of a delivery: the answer Gu1 gets. The one place where outcomes
//! and errors become HTTP status codes.
//!
//! A `2xx` tells Gu1 to forget the delivery, so it is only given once the
//! session's state is durable; everything that might succeed later is a
//! `503` with `Retry-After`.

use crate::decide::Verdict;
use crate::limits::{RETRY_AFTER_SECONDS, SERVE_BODY_READ_TIMEOUT, WEBHOOK_MAX_BODY_BYTES};
use crate::outbox::PublishError;
use crate::parse::ParseError;
use crate::session::SessionEvent;
use crate::store::StoreError;
use crate::verify::SignatureError;
use lambda_http::Body;
use lambda_http::http::{Response, StatusCode, header};
use serde::Serialize;

/// A delivery that was accepted: the state is durable.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    Session {
        verdict: Verdict,
        session_id: String,
        /// The status the session has now.
        status: &'static str,
    },
    /// Authentic, but not a biometric-session event.
    Ignored,
    /// Authentic, but sent longer ago than the table keeps items
    /// ([`crate::decide::beyond_retention`]): acknowledged, not stored.
    BeyondRetention { session_id: String },
}

impl Accepted {
    pub fn session(verdict: Verdict, event: &SessionEvent, status: &'static str) -> Self {
        Self::Session {
            verdict,
            session_id: event.session_id.to_string(),
            status,
        }
    }

    /// The `result` of the answer and of the metrics.
    pub fn result(&self) -> &'static str {
        match self {
            Self::Session { verdict, .. } => verdict.as_str(),
            Self::Ignored => "ignored",
            Self::BeyondRetention { .. } => "beyond_retention",
        }
    }
}

/// Every way a delivery is refused or fails.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("no such path")]
    NotFound,
    #[error("only POST is allowed")]
    MethodNotAllowed,
    #[error("body is larger than {} KiB", WEBHOOK_MAX_BODY_BYTES / 1024)]
    TooLarge,
    /// `serve` only: the body broke off or its framing is invalid (e.g. a
    /// malformed chunked encoding).
    #[error("body could not be read: malformed or cut short")]
    UnreadableBody,
    /// `serve` only: the body did not arrive in time.
    #[error("body not received within {} s", SERVE_BODY_READ_TIMEOUT.as_secs())]
    BodyTimeout,
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    BadRequest(#[from] ParseError),
    #[error("state could not be stored")]
    Store(#[from] StoreError),
    #[error("outcome could not be published")]
    Publish(#[from] PublishError),
    #[error("dependencies did not answer in time")]
    Timeout,
}

impl Rejection {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnreadableBody => StatusCode::BAD_REQUEST,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Signature(_) => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Store(_) | Self::Publish(_) | Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A `503`: the delivery may succeed later, and Gu1 is asked to retry.
    pub fn is_retryable(&self) -> bool {
        self.status_code() == StatusCode::SERVICE_UNAVAILABLE
    }

    /// The `result` of the answer and of the metrics.
    pub fn result(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TooLarge => "payload_too_large",
            Self::UnreadableBody => "bad_request",
            Self::BodyTimeout => "request_timeout",
            Self::Signature(_) => "rejected_signature",
            Self::BadRequest(_) => "bad_request",
            Self::Store(_) | Self::Publish(_) | Self::Timeout => "failed",
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AnswerBody<'a> {
    result: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
}

/// The HTTP answer for a delivery's outcome.
pub fn respond(outcome: &Result<Accepted, Rejection>) -> Response<Body> {
    let (code, body) = match outcome {
        Ok(accepted) => {
            let (session_id, status) = match accepted {
                Accepted::Session {
                    session_id, status, ..
                } => (Some(session_id.as_str()), Some(*status)),
                Accepted::BeyondRetention { session_id } => (Some(session_id.as_str()), None),
                Accepted::Ignored => (None, None),
            };
            let body = AnswerBody {
                result: accepted.result(),
                reason: None,
                session_id,
                status,
            };
            (StatusCode::OK, body)
        }
        Err(rejection) => {
            let body = AnswerBody {
                result: rejection.result(),
                reason: Some(rejection.to_string()),
                session_id: None,
                status: None,
            };
            (rejection.status_code(), body)
        }
    };
    let json = serde_json::to_string(&body).unwrap_or_else(|_| r#"{"result":"failed"}"#.into());
    let mut builder = Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json");
    if code == StatusCode::SERVICE_UNAVAILABLE {
        builder = builder.header(header::RETRY_AFTER, RETRY_AFTER_SECONDS);
    }
    if code == StatusCode::METHOD_NOT_ALLOWED {
        builder = builder.header(header::ALLOW, "POST");
    }
    builder.body(Body::Text(json)).unwrap_or_else(|_| {
        let mut fallback = Response::new(Body::Empty);
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(response: &Response<Body>) -> String {
        String::from_utf8(response.body().to_vec()).unwrap()
    }

    #[test]
    fn every_rejection_has_its_code_and_reason() {
        let cases = [
            (Rejection::NotFound, 404),
            (Rejection::MethodNotAllowed, 405),
            (Rejection::TooLarge, 413),
            (Rejection::UnreadableBody, 400),
            (Rejection::BodyTimeout, 408),
            (Rejection::Signature(SignatureError::Mismatch), 401),
            (Rejection::BadRequest(ParseError::MissingEvent), 400),
            (Rejection::Timeout, 503),
        ];
        for (rejection, code) in cases {
            let reason = rejection.to_string();
            let response = respond(&Err(rejection));
            assert_eq!(response.status().as_u16(), code);
            assert!(text(&response).contains(&reason), "{}", text(&response));
        }
    }

    #[test]
    fn unavailable_says_when_to_retry_and_405_says_what_is_allowed() {
        let response = respond(&Err(Rejection::Timeout));
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        let response = respond(&Err(Rejection::MethodNotAllowed));
        assert_eq!(response.headers()[header::ALLOW], "POST");
    }

    #[test]
    fn accepted_answers_are_small_json() {
        let response = respond(&Ok(Accepted::Ignored));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(text(&response), r#"{"result":"ignored"}"#);
    }
}
