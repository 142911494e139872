#!/usr/bin/env python3
"""Writes events/*.json: API Gateway HTTP API (payload v2) events carrying
Gu1's seed example bodies, signed with the documented local secret.

Run it again after changing a body; the files are committed so that
`cargo lambda invoke --data-file` and `sam local invoke -e` work as they are.
"""
import base64
import hashlib
import hmac
import json
import pathlib

SECRET = b"gu1-local-demo-secret"
OUT = pathlib.Path(__file__).resolve().parent.parent / "events"
ENTITY = {"id": "entity-uuid", "externalId": "customer-123", "name": "Jane Doe", "type": "person"}
DECISION = {"face_match": {"status": "Approved", "score": 99.2}, "liveness": {"status": "Approved", "score": 98.5}}


def envelope(status, session, ts, org=True, **payload):
    body = {"id": session, "entityId": "entity-uuid", "status": status, "mode": "face_match"}
    body.update(payload)
    env = {"event": f"biometric.session_{status if status != 'pending' else 'created'}", "timestamp": ts}
    if org:
        env["organizationId"] = "org-uuid"
    env["payload"] = body
    return env


BODIES = {
    # The seed's four examples, as Gu1 documents them (one session).
    "01-session-created": envelope(
        "pending", "bio-session-uuid", "2026-06-11T14:00:00Z",
        organizationId="org-uuid", kycValidationId="kyc-validation-uuid",
        sessionUrl="https://verify.example.com/session/abc", hostedSessionId="hosted-session-id",
        iframeAllow="camera; microphone; fullscreen; autoplay; encrypted-media",
        rejectionCode=None, rejectionMessage=None, createdAt="2026-06-11T14:00:00.000Z",
        updatedAt="2026-06-11T14:00:00.000Z", completedAt=None, entity=ENTITY),
    "02-session-in-progress": envelope(
        "in_progress", "bio-session-uuid", "2026-06-11T14:05:00Z",
        sessionUrl="https://verify.example.com/session/abc", rejectionCode=None, rejectionMessage=None),
    "03-session-approved": envelope(
        "approved", "bio-session-uuid", "2026-06-11T14:10:00Z",
        sessionUrl="https://verify.example.com/session/abc", rejectionCode=None, rejectionMessage=None,
        completedAt="2026-06-11T14:10:00.000Z", decision=DECISION, entity=ENTITY),
    "04-session-rejected": envelope(
        "rejected", "bio-session-rejected", "2026-06-11T14:12:00Z",
        rejectionCode="FACE_MATCH_SCORE_LOW",
        rejectionMessage="Face match score 28.5 is below organization threshold 30",
        completedAt="2026-06-11T14:12:00.000Z",
        decision={"face_match": {"status": "Approved", "score": 28.5}}, entity=ENTITY),
    # The other terminal statuses, in the same shape (one session each).
    "05-session-abandoned": envelope(
        "abandoned", "bio-session-abandoned", "2026-06-11T14:30:00Z",
        rejectionCode=None, rejectionMessage=None, completedAt="2026-06-11T14:30:00.000Z", entity=ENTITY),
    "06-session-cancelled": envelope(
        "cancelled", "bio-session-cancelled", "2026-06-11T14:31:00Z",
        rejectionCode=None, rejectionMessage=None, entity=ENTITY),
    "07-session-expired": envelope(
        "expired", "bio-session-expired", "2026-06-11T15:00:00Z",
        rejectionCode=None, rejectionMessage=None, entity=ENTITY),
}


def event(name, body_bytes, signature, webhook_event, base64_body=False):
    headers = {
        "content-type": "application/json",
        "user-agent": "Gu1-Webhooks/1.0",
        "x-webhook-event": webhook_event,
        "x-webhook-id": f"wh-{name}",
        "x-webhook-timestamp": "2026-06-11T15:00:00Z",
        "x-webhook-signature": signature,
    }
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/gu1",
        "rawPath": "/webhooks/gu1",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "local.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "local",
            "http": {"method": "POST", "path": "/webhooks/gu1", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "Gu1-Webhooks/1.0"},
            "requestId": f"req-{name}",
            "routeKey": "POST /webhooks/gu1",
            "stage": "$default",
            "time": "11/Jun/2026:15:00:00 +0000",
            "timeEpoch": 1781190000000,
        },
        "body": base64.b64encode(body_bytes).decode() if base64_body else body_bytes.decode(),
        "isBase64Encoded": base64_body,
    }


def sign(body_bytes):
    return hmac.new(SECRET, body_bytes, hashlib.sha256).hexdigest()


def write(name, ev):
    (OUT / f"{name}.json").write_text(json.dumps(ev, indent=2) + "\n")


def main():
    OUT.mkdir(exist_ok=True)
    for name, body in BODIES.items():
        raw = json.dumps(body, indent=2).encode()
        write(name, event(name, raw, sign(raw), body["event"]))
    approved = json.dumps(BODIES["03-session-approved"], indent=2).encode()
    write("08-bad-signature", event("08-bad-signature", approved, "0" * 64, "biometric.session_approved"))
    b64 = json.loads(approved)
    b64["payload"]["id"] = "bio-session-base64"
    raw = json.dumps(b64, indent=2).encode()
    write("09-base64-body", event("09-base64-body", raw, "sha256=" + sign(raw), b64["event"], base64_body=True))


if __name__ == "__main__":
    main()
