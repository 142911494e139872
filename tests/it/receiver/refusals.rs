//! What the receiver refuses or ignores, storing nothing: signatures
//! (every encoding of either secret accepted, anything else 401), bodies
//! that are not an envelope (400), other events (ignored), other paths,
//! methods and sizes.

use crate::support::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gu1_webhook::local::{hex, sign, sign_hex};

#[tokio::test]
async fn the_second_of_two_secrets_is_accepted() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&seed::approved("s-second")).unwrap();
    let answer = app
        .post_signed(&body, &sign_hex(SECOND_SECRET.as_bytes(), &body))
        .await;
    assert_eq!((answer.status, answer.result()), (200, "applied"));
}

#[tokio::test]
async fn every_signature_encoding_is_accepted() {
    let app = TestApp::spawn().await;
    // Each encoding of the same MAC (given as bytes).
    type Encode = fn(&[u8]) -> String;
    let encodings: [(&str, Encode); 5] = [
        ("hex", |mac| hex(mac)),
        ("HEX", |mac| hex(mac).to_uppercase()),
        ("sha256=hex", |mac| format!("sha256={}", hex(mac))),
        ("base64", |mac| STANDARD.encode(mac)),
        ("sha256=base64", |mac| {
            format!("sha256={}", STANDARD.encode(mac))
        }),
    ];
    for (name, encode) in encodings {
        let session = format!("s-enc-{}", name.replace('=', "-"));
        let body = serde_json::to_vec(&seed::created(&session)).unwrap();
        let mac = sign(SECRET.as_bytes(), &body);
        assert_eq!(hex(&mac), sign_hex(SECRET.as_bytes(), &body));
        let answer = app.post_signed(&body, &encode(&mac)).await;
        assert_eq!((answer.status, answer.result()), (200, "applied"), "{name}");
        assert!(app.item(&session).await.is_some(), "{name}");
    }
}

#[tokio::test]
async fn a_body_changed_by_one_byte_is_refused_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&seed::approved("s-tamper")).unwrap();
    let signature = sign_hex(SECRET.as_bytes(), &body);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|&b| b == b'9').unwrap();
    tampered[at] = b'1';
    let answer = app.post_signed(&tampered, &signature).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body,
        json!({"result": "rejected_signature", "reason": "signature does not match"})
    );
    assert_eq!(app.item_count().await, 0);
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn missing_and_malformed_signatures_are_401() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&seed::approved("s-unsigned")).unwrap();
    let unsigned = app
        .request("POST", "/webhooks/gu1", &[], body.clone())
        .await;
    assert_eq!(unsigned.status, 401);
    assert_eq!(
        unsigned.body["reason"],
        "missing X-Webhook-Signature header"
    );
    let malformed = app.post_signed(&body, "not-a-signature").await;
    assert_eq!(malformed.status, 401);
    assert_eq!(
        malformed.body["reason"],
        "malformed X-Webhook-Signature header"
    );
    let other_secret = app
        .post_signed(&body, &sign_hex(b"not-configured", &body))
        .await;
    assert_eq!(other_secret.status, 401);
    assert_eq!(app.item_count().await, 0);
}

#[tokio::test]
async fn other_gu1_events_are_acknowledged_and_ignored() {
    let app = TestApp::spawn().await;
    let answer = app
        .deliver(&json!({
            "event": "kyc.validation_approved",
            "timestamp": "2026-06-11T14:10:00Z",
            "organizationId": "org-uuid",
            "payload": {"id": "kyc-1", "status": "approved"}
        }))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({"result": "ignored"}));
    assert_eq!(app.item_count().await, 0);
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn invalid_envelopes_are_400_with_a_reason() {
    let app = TestApp::spawn().await;
    let cases = [
        ("not json", "body is not a valid envelope"),
        (
            r#"{"payload":{"id":"s","status":"approved"}}"#,
            "envelope has no event",
        ),
        (
            r#"{"event":"biometric.session_approved","payload":{"status":"approved"}}"#,
            "payload has no id",
        ),
        (
            r#"{"event":"biometric.session_approved","payload":{"id":"s"}}"#,
            "payload has no status",
        ),
        (
            r#"{"event":"biometric.session_approved","payload":{"id":"s","status":"finished"}}"#,
            "payload.status is not a known biometric session status",
        ),
    ];
    for (body, reason) in cases {
        let answer = app
            .post_signed(
                body.as_bytes(),
                &sign_hex(SECRET.as_bytes(), body.as_bytes()),
            )
            .await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.result(), "bad_request");
        assert!(
            answer.body["reason"].as_str().unwrap().starts_with(reason),
            "{body}: {:?}",
            answer.body
        );
    }
    assert_eq!(app.item_count().await, 0);
}

#[tokio::test]
async fn other_paths_methods_and_sizes_get_their_codes() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.request("POST", "/webhooks/other", &[], "{}")
            .await
            .status,
        404
    );
    let get = app.request("GET", "/webhooks/gu1", &[], "").await;
    assert_eq!(get.status, 405);
    assert_eq!(get.headers["allow"], "POST");

    let mut big = seed::approved("s-big");
    big["payload"]["padding"] = json!("x".repeat(256 * 1024));
    let answer = app.deliver(&big).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.result(), "payload_too_large");
    assert_eq!(app.item_count().await, 0);
}
