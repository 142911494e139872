//! Step 1 of a delivery: is it really from Gu1?
//!
//! Gu1 signs the raw request body with HMAC-SHA256 and sends the MAC in
//! `X-Webhook-Signature`. Gu1 does not document the encoding, so we accept
//! every unambiguous one (hex in any case, base64 with or without padding,
//! an optional `sha256=` prefix); the MAC itself must still match in full.
//!
//! The header is decoded once into 32 bytes and then compared, in constant
//! time, against one MAC per configured secret: the cost grows with the
//! number of secrets, never with the number of ways the header could be read.

use crate::limits::SIGNATURE_HEADER_MAX_LEN;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 tag in bytes.
const TAG_LEN: usize = 32;

/// Why a delivery's signature was refused. Every variant is answered with `401`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Webhook-Signature header")]
    Missing,
    #[error("more than one X-Webhook-Signature header")]
    Repeated,
    #[error("malformed X-Webhook-Signature header")]
    Malformed,
    #[error("signature does not match")]
    Mismatch,
}

/// The webhook secrets, each already turned into a keyed HMAC state so that a
/// delivery pays only for hashing its body, not for re-deriving the keys.
///
/// `Debug` never shows the secrets.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<HmacSha256>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Verifier({} secrets)", self.keys.len())
    }
}

/// A configuration with no usable secret. The receiver refuses to start with
/// one: it fails closed rather than accept unsigned deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no webhook secret configured")]
pub struct NoSecrets;

impl Verifier {
    /// Builds a verifier from a comma-separated list of secrets, the format of
    /// `GU1_WEBHOOK_SECRETS` and of the Secrets Manager secret. Blank entries
    /// and surrounding whitespace are ignored.
    pub fn from_list(list: &str) -> Result<Self, NoSecrets> {
        Self::new(list.split(',').map(str::trim).filter(|s| !s.is_empty()))
    }

    /// Builds a verifier that accepts a MAC made with any of `secrets`.
    pub fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Result<Self, NoSecrets> {
        let keys: Vec<HmacSha256> = secrets
            .into_iter()
            .filter(|s| !s.as_ref().is_empty())
            .map(|s| HmacSha256::new_from_slice(s.as_ref()))
            // HMAC takes keys of any length, so this never drops a secret.
            .filter_map(Result::ok)
            .collect();
        if keys.is_empty() {
            return Err(NoSecrets);
        }
        Ok(Self { keys })
    }

    /// How many secrets this verifier accepts.
    pub fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// Checks `header` (every value of `X-Webhook-Signature` the request
    /// carried) against the raw `body`.
    pub fn verify<'h>(
        &self,
        body: &[u8],
        header: impl IntoIterator<Item = &'h [u8]>,
    ) -> Result<(), SignatureError> {
        let mut values = header.into_iter();
        let value = values.next().ok_or(SignatureError::Missing)?;
        if values.next().is_some() {
            return Err(SignatureError::Repeated);
        }
        let tag = decode_signature(value)?;
        let mut matched = false;
        for key in &self.keys {
            let mut mac = key.clone();
            mac.update(body);
            // `verify_slice` compares in constant time.
            matched |= mac.verify_slice(&tag).is_ok();
        }
        if matched {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// Decodes one header value into the 32-byte tag, or says it is malformed.
fn decode_signature(value: &[u8]) -> Result<[u8; TAG_LEN], SignatureError> {
    if value.len() > SIGNATURE_HEADER_MAX_LEN {
        return Err(SignatureError::Malformed);
    }
    let value = value.trim_ascii();
    let value = match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case(b"sha256=") => &value[7..],
        _ => value,
    };
    let mut tag = [0u8; TAG_LEN];
    if value.len() == 2 * TAG_LEN {
        for (out, pair) in tag.iter_mut().zip(value.chunks_exact(2)) {
            *out = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        return Ok(tag);
    }
    let engine = if value.ends_with(b"=") {
        &STANDARD
    } else {
        &STANDARD_NO_PAD
    };
    match engine.decode_slice(value, &mut tag) {
        Ok(TAG_LEN) => Ok(tag),
        _ => Err(SignatureError::Malformed),
    }
}

fn hex_digit(c: u8) -> Result<u8, SignatureError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(SignatureError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::sign_hex;

    const BODY: &[u8] = br#"{"event":"biometric.session_approved"}"#;

    fn tag(secret: &str) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(BODY);
        mac.finalize().into_bytes().to_vec()
    }

    fn check(v: &Verifier, header: &str) -> Result<(), SignatureError> {
        v.verify(BODY, [header.as_bytes()])
    }

    #[test]
    fn accepts_every_documented_encoding() {
        let v = Verifier::from_list("s3cret").unwrap();
        let hex = sign_hex(b"s3cret", BODY);
        let b64 = STANDARD.encode(tag("s3cret"));
        for header in [
            hex.clone(),
            hex.to_uppercase(),
            format!("sha256={hex}"),
            format!("SHA256={}", hex.to_uppercase()),
            b64.clone(),
            b64.trim_end_matches('=').to_string(),
            format!("sha256={b64}"),
            format!("  {hex} "),
        ] {
            assert_eq!(check(&v, &header), Ok(()), "{header}");
        }
    }

    #[test]
    fn accepts_any_configured_secret() {
        let v = Verifier::from_list(" first , second ,").unwrap();
        assert_eq!(v.secret_count(), 2);
        assert_eq!(check(&v, &sign_hex(b"second", BODY)), Ok(()));
        assert_eq!(
            check(&v, &sign_hex(b"third", BODY)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_to_exist_without_a_secret() {
        assert_eq!(Verifier::from_list("").unwrap_err(), NoSecrets);
        assert_eq!(Verifier::from_list(" , ,").unwrap_err(), NoSecrets);
    }

    #[test]
    fn a_changed_body_does_not_verify() {
        let v = Verifier::from_list("s3cret").unwrap();
        let header = sign_hex(b"s3cret", BODY);
        let mut body = BODY.to_vec();
        body[3] ^= 1;
        assert_eq!(
            v.verify(&body, [header.as_bytes()]),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_missing_and_repeated_headers_are_refused() {
        let v = Verifier::from_list("s3cret").unwrap();
        let good = sign_hex(b"s3cret", BODY);
        assert_eq!(v.verify(BODY, []), Err(SignatureError::Missing));
        assert_eq!(
            v.verify(BODY, [good.as_bytes(), good.as_bytes()]),
            Err(SignatureError::Repeated)
        );
        for bad in [
            String::new(),
            "sha256=".into(),
            "zz".repeat(32),
            good[..63].to_string(),
            format!("{good}00"),
            "x".repeat(4096),
            STANDARD.encode([0u8; 31]),
            format!("md5={good}"),
        ] {
            assert_eq!(check(&v, &bad), Err(SignatureError::Malformed), "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let v = Verifier::from_list("hunter2").unwrap();
        assert_eq!(format!("{v:?}"), "Verifier(1 secrets)");
    }
}
