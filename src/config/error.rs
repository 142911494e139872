//! Why a command refuses to start: [`ConfigError`].

use super::{
    API_KEY_ARN_VAR, API_KEY_VAR, API_URL_RULE, API_URL_VAR, CA_DIR_VAR, CA_FILE_VAR,
    ORGANIZATION_VAR, SECRETS_ARN_VAR, SECRETS_VAR,
};

/// Why a command refuses to start. Each variant names the variable at fault
/// and carries what went wrong as data, the underlying error as its
/// `source`; a value is shown only where it cannot be a secret (never a
/// webhook secret, API key or URL, which may hold credentials).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("no webhook secret configured: set {SECRETS_VAR} or {SECRETS_ARN_VAR}")]
    NoSecrets,
    #[error(
        "reconciliation needs Gu1's API key: set {API_KEY_VAR} or {API_KEY_ARN_VAR} (and {ORGANIZATION_VAR})"
    )]
    NoApiKey,
    /// A variable whose value breaks its rule. Only variables that hold no
    /// secret are read this way (`config::env::optional`);
    /// `source` is the parse error when the value is not a number at all.
    #[error("{var} must be {rule}, not {value:?}")]
    Invalid {
        var: &'static str,
        rule: &'static str,
        value: String,
        #[source]
        source: Option<std::num::ParseIntError>,
    },
    /// `GU1_API_URL` is not a URL the client can call. Its value is not
    /// shown: a URL may carry credentials (`https://user:password@host`).
    #[error("{API_URL_VAR} must be {API_URL_RULE}")]
    ApiUrl,
    /// A CA certificate file or directory named by `SSL_CERT_FILE` or
    /// `SSL_CERT_DIR` could not be read.
    #[error("the CA certificates to trust could not be read: {}", path.display())]
    CaUnreadable {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA certificates to trust ({CA_FILE_VAR}, {CA_DIR_VAR}) are not PEM certificates")]
    CaNotPem(#[source] rustls::pki_types::pem::Error),
    #[error("no usable certificate in {CA_FILE_VAR} or {CA_DIR_VAR}")]
    NoUsableCa,
    /// The AWS clients' TLS context could not be built from the trust store.
    #[error("the CA certificates to trust could not be given to the AWS clients")]
    TrustStore(#[source] aws_smithy_http_client::HttpClientError),
    /// The TLS configuration of the calls to Gu1's API could not be built.
    #[error("the TLS configuration of the calls to Gu1's API could not be built")]
    Tls(#[source] rustls::Error),
    /// The SDK's chain found no credentials provider at all.
    #[error("no AWS credentials from any source ({CREDENTIAL_SOURCES}): no provider")]
    NoCredentialsProvider,
    /// Every source of the SDK's credentials chain failed; `source` says why.
    #[error("no AWS credentials from any source ({CREDENTIAL_SOURCES})")]
    NoCredentials(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where the SDK's credentials chain looks, for [`ConfigError::NoCredentials`].
const CREDENTIAL_SOURCES: &str = "environment, profile, web identity, container, instance";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_ca_names_its_path_and_keeps_the_io_error() {
        let missing = std::path::Path::new("/nonexistent/ca.pem");
        let err = ConfigError::CaUnreadable {
            path: missing.into(),
            source: std::fs::read(missing).unwrap_err(),
        };
        let chain = crate::error_chain(&err);
        assert!(
            chain.starts_with(
                "the CA certificates to trust could not be read: /nonexistent/ca.pem: "
            ),
            "{chain}"
        );
        assert!(std::error::Error::source(&err).is_some());
    }
}
