//! Gu1's REST API, read side: one biometric session by id, for
//! reconciliation ([`crate::reconcile`]).
//!
//! `GET {GU1_API_URL}/api/kyc/biometric/sessions/{id}` answers the session
//! object itself, the shape of a webhook's `payload`, which goes through the
//! same parse as a delivery ([`crate::parse::parse_api_session`]). A good
//! client: a timeout on connecting and on the whole call, a bounded body,
//! the API key in the `Authorization` header only (never in a log or a
//! `Debug`), and every answer sorted into what the caller does next.

use crate::limits::{GU1_API_CALL_TIMEOUT, GU1_API_CONNECT_TIMEOUT, GU1_API_MAX_BODY_BYTES};
use crate::parse::{ParseError, parse_api_session};
use crate::session::{SessionEvent, SessionId};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Gu1's API key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into().trim().to_owned())
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Why a session could not be read. Only [`ApiError::Unauthorized`] stops a
/// run; the others leave the session for the next run.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Gu1's API refused our credentials ({0}): check the API key and organization id")]
    Unauthorized(u16),
    #[error("Gu1's API is busy or failing ({0})")]
    Unavailable(u16),
    #[error("Gu1's API answered {0}")]
    Unexpected(u16),
    #[error("Gu1's API did not answer")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("Gu1's API did not answer within {GU1_API_CALL_TIMEOUT:?}")]
    Timeout,
    #[error("Gu1's API answered a session we cannot read: {0}")]
    Invalid(#[from] ParseError),
    #[error("Gu1's API answered another session than the one asked for")]
    WrongSession,
    /// The answer is about another organization than the one we asked as
    /// (`X-Organization-ID`): nothing of it may be applied.
    #[error("Gu1's API answered a session of another organization than GU1_ORGANIZATION_ID")]
    WrongOrganization,
}

impl ApiError {
    /// Gu1's API is busy, failing or out of reach: the session waits for
    /// the next run, and the run slows down (and, after a few in a row,
    /// ends) rather than knock once per stale session on a door that may
    /// cost [`GU1_API_CALL_TIMEOUT`] each time.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Self::Unavailable(_) | Self::Timeout | Self::Transport(_)
        )
    }
}

/// A client of Gu1's API for one organization.
#[derive(Debug, Clone)]
pub struct Gu1Api {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    base_url: String,
    api_key: ApiKey,
    organization_id: String,
}

impl Gu1Api {
    /// `tls` is the configuration of every HTTPS call (the AWS calls' roots);
    /// a plain `http://` URL is accepted too, for a local stand-in.
    pub fn new(
        base_url: &str,
        api_key: ApiKey,
        organization_id: &str,
        tls: rustls::ClientConfig,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(GU1_API_CONNECT_TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            organization_id: organization_id.to_owned(),
        }
    }

    /// Reads one session; `None` when Gu1 does not know it (`404`).
    pub async fn session(&self, id: &SessionId) -> Result<Option<SessionEvent>, ApiError> {
        tokio::time::timeout(GU1_API_CALL_TIMEOUT, self.get_session(id))
            .await
            .unwrap_or(Err(ApiError::Timeout))
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<SessionEvent>, ApiError> {
        let uri = format!(
            "{}/api/kyc/biometric/sessions/{}",
            self.base_url,
            path_segment(id.as_str())
        );
        let request = hyper::Request::get(uri)
            .header("authorization", format!("Bearer {}", self.api_key.0))
            .header("x-organization-id", &self.organization_id)
            .header("accept", "application/json")
            .body(Empty::new())
            .map_err(|e| ApiError::Transport(e.into()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| ApiError::Transport(e.into()))?;
        let status = response.status().as_u16();
        match status {
            200 => {}
            404 => return Ok(None),
            401 | 403 => return Err(ApiError::Unauthorized(status)),
            429 | 500..=599 => return Err(ApiError::Unavailable(status)),
            _ => return Err(ApiError::Unexpected(status)),
        }
        let body = Limited::new(response.into_body(), GU1_API_MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(ApiError::Transport)?
            .to_bytes();
        let event = parse_api_session(&body)?;
        if &event.session_id != id {
            return Err(ApiError::WrongSession);
        }
        if event
            .fields
            .organization_id
            .as_ref()
            .is_some_and(|org| *org != self.organization_id)
        {
            return Err(ApiError::WrongOrganization);
        }
        Ok(Some(event))
    }
}

/// `segment` percent-encoded for a URL path: a session id may hold any
/// printable character, `/`, `?` and `%` included.
fn path_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_one_path_segment() {
        assert_eq!(path_segment("bio-session_1.a~"), "bio-session_1.a~");
        assert_eq!(path_segment("a/b?c#d%e"), "a%2Fb%3Fc%23d%25e");
    }

    #[test]
    fn the_api_key_never_shows() {
        let key = ApiKey::new(" sk_live_123 \n");
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        assert_eq!(key.0, "sk_live_123");
    }
}
