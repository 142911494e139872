//! The seed examples of Gu1's page, for one session id.

use super::{Value, json};

/// `event` as Gu1 would send it about another person (entity).
pub fn about(mut event: Value, entity: &str) -> Value {
    event["payload"]["entityId"] = entity.into();
    event["payload"]["entity"]["id"] = entity.into();
    event
}

pub fn created(session: &str) -> Value {
    json!({
        "event": "biometric.session_created",
        "timestamp": "2026-06-11T14:00:00Z",
        "organizationId": "org-uuid",
        "payload": {
            "id": session, "entityId": "entity-uuid", "organizationId": "org-uuid",
            "kycValidationId": "kyc-validation-uuid", "status": "pending", "mode": "face_match",
            "sessionUrl": "https://verify.example.com/session/abc",
            "hostedSessionId": "hosted-session-id",
            "iframeAllow": "camera; microphone; fullscreen; autoplay; encrypted-media",
            "rejectionCode": null, "rejectionMessage": null,
            "createdAt": "2026-06-11T14:00:00.000Z", "updatedAt": "2026-06-11T14:00:00.000Z",
            "completedAt": null,
            "entity": {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
        }
    })
}

pub fn in_progress(session: &str) -> Value {
    json!({
        "event": "biometric.session_in_progress",
        "timestamp": "2026-06-11T14:05:00Z",
        "organizationId": "org-uuid",
        "payload": {
            "id": session, "entityId": "entity-uuid", "status": "in_progress", "mode": "face_match",
            "sessionUrl": "https://verify.example.com/session/abc",
            "rejectionCode": null, "rejectionMessage": null
        }
    })
}

pub fn approved(session: &str) -> Value {
    json!({
        "event": "biometric.session_approved",
        "timestamp": "2026-06-11T14:10:00Z",
        "organizationId": "org-uuid",
        "payload": {
            "id": session, "entityId": "entity-uuid", "status": "approved", "mode": "face_match",
            "sessionUrl": "https://verify.example.com/session/abc",
            "rejectionCode": null, "rejectionMessage": null,
            "completedAt": "2026-06-11T14:10:00.000Z",
            "decision": {"face_match": {"status": "Approved", "score": 99.2},
                         "liveness": {"status": "Approved", "score": 98.5}},
            "entity": {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
        }
    })
}

pub fn rejected(session: &str) -> Value {
    json!({
        "event": "biometric.session_rejected",
        "timestamp": "2026-06-11T14:12:00Z",
        "organizationId": "org-uuid",
        "payload": {
            "id": session, "entityId": "entity-uuid", "status": "rejected", "mode": "face_match",
            "rejectionCode": "FACE_MATCH_SCORE_LOW",
            "rejectionMessage": "Face match score 28.5 is below organization threshold 30",
            "completedAt": "2026-06-11T14:12:00.000Z",
            "decision": {"face_match": {"status": "Approved", "score": 28.5}},
            "entity": {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
        }
    })
}

/// A terminal event without decision or rejection, for the statuses the
/// seed has no example of (abandoned, cancelled, expired).
pub fn terminal(session: &str, status: &str) -> Value {
    json!({
        "event": format!("biometric.session_{status}"),
        "timestamp": "2026-06-11T15:00:00Z",
        "organizationId": "org-uuid",
        "payload": {
            "id": session, "entityId": "entity-uuid", "status": status, "mode": "face_match",
            "rejectionCode": null, "rejectionMessage": null,
            "entity": {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
        }
    })
}
