//! `verify`: every encoding of the right MAC passes; any flipped bit, of
//! the MAC or of the body, fails.

use super::config;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use gu1_webhook::local::{hex, sign};
use gu1_webhook::verify::{SignatureError, Verifier};
use proptest::prelude::*;

/// Every header encoding the receiver documents, of one MAC.
fn encodings(tag: &[u8]) -> Vec<String> {
    let hex = hex(tag);
    vec![
        hex.clone(),
        hex.to_uppercase(),
        format!("sha256={hex}"),
        format!("SHA256={}", hex.to_uppercase()),
        STANDARD.encode(tag),
        STANDARD_NO_PAD.encode(tag),
        format!("sha256={}", STANDARD.encode(tag)),
        format!(" {hex}\t"),
    ]
}

proptest! {
    #![proptest_config(config(1_000, 0x6775_315f_7665_7269))]

    #[test]
    fn a_right_mac_verifies_in_every_encoding_and_one_flipped_bit_does_not(
        body in proptest::collection::vec(any::<u8>(), 0..1024),
        secret in proptest::collection::vec(any::<u8>(), 1..100),
        other in proptest::collection::vec(any::<u8>(), 1..100),
        body_bit in any::<usize>(),
        tag_bit in 0..256usize,
    ) {
        // The secret may be anywhere in the list of configured secrets.
        let verifier = Verifier::new([other.as_slice(), secret.as_slice()]).expect("secrets");
        let tag = sign(&secret, &body);
        for header in encodings(&tag) {
            prop_assert_eq!(verifier.verify(&body, [header.as_bytes()]), Ok(()), "{}", header);
        }

        let mut flipped_tag = tag.clone();
        flipped_tag[tag_bit / 8] ^= 1 << (tag_bit % 8);
        for header in encodings(&flipped_tag) {
            prop_assert_eq!(
                verifier.verify(&body, [header.as_bytes()]),
                Err(SignatureError::Mismatch),
                "{}", header
            );
        }

        if !body.is_empty() {
            let bit = body_bit % (body.len() * 8);
            let mut flipped_body = body.clone();
            flipped_body[bit / 8] ^= 1 << (bit % 8);
            let header = hex(&tag);
            prop_assert_eq!(
                verifier.verify(&flipped_body, [header.as_bytes()]),
                Err(SignatureError::Mismatch)
            );
        }
    }
}
