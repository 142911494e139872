//! Step 2 of a delivery: turn an authentic body into domain types, once.
//!
//! The envelope is `{event, timestamp, organizationId, payload}` and the
//! payload is Gu1's biometric session. Everything after this module works on
//! [`SessionEvent`], whose fields are already checked: a [`SessionId`] that
//! is safe as a DynamoDB key and inside SQS deduplication ids, a
//! [`SessionStatus`] that is one of the seven Gu1 documents, and the opaque
//! `decision` kept as the exact JSON Gu1 sent.
//!
//! `payload.status` is the outcome (Gu1 says so), even where it disagrees with
//! the `event` name. Unknown fields are tolerated; fields of the wrong type,
//! duplicated fields, arrays where objects belong and a `decision` that
//! consumers could not parse back are refused rather than guessed at. The
//! person's name in the entity snapshot is never read.

mod json;

use crate::session::{SessionEvent, SessionFields, SessionId, SessionStatus};
use json::{Object, decision, object, one_of, short};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Events with this prefix are ours; anything else on the same URL is
/// acknowledged and ignored.
const BIOMETRIC_PREFIX: &str = "biometric.session_";

/// Why an authentic body is not a delivery we can act on. Answered with `400`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("body is not a valid envelope: {0}")]
    InvalidEnvelope(String),
    #[error("envelope has no event")]
    MissingEvent,
    #[error("envelope has no payload")]
    MissingPayload,
    #[error("payload is invalid: {0}")]
    InvalidPayload(String),
    #[error("payload has no id")]
    MissingSessionId,
    #[error("payload.id is invalid: {}", crate::session::SESSION_ID_RULE)]
    InvalidSessionId,
    /// One event naming two entities (or organizations): whose is it?
    #[error("the event names two different {0}s")]
    MixedIdentity(&'static str),
    #[error("payload has no status")]
    MissingStatus,
    #[error("payload.status is not a known biometric session status")]
    UnknownStatus,
    #[error("payload.decision must be a readable JSON object")]
    InvalidDecision,
}

/// What an authentic body turned out to be.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per delivery and moved once; boxing would only add an allocation"
)]
pub enum Delivery {
    /// A `biometric.session_*` event: ours to store.
    Session(SessionEvent),
    /// Another Gu1 event (`kyc.*`, `entity.*`, ...) sent to the same URL.
    Ignored { event: String },
}

/// Parses an authentic body into a [`Delivery`].
pub fn parse_delivery(body: &[u8]) -> Result<Delivery, ParseError> {
    // serde also reads a struct from an array, field by field: a guess we refuse.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(ParseError::InvalidEnvelope("not a JSON object".into()));
    }
    // JSON is UTF-8 throughout, also in the fields we skip, which serde
    // would not check.
    let body = std::str::from_utf8(body)
        .map_err(|_| ParseError::InvalidEnvelope("body is not UTF-8".into()))?;
    // A well-formed delivery is read in one pass. Anything else is read
    // again, the payload apart, which says what is wrong, and lets an event
    // that is not ours carry any payload at all.
    let envelope = match serde_json::from_str::<Envelope<Object<Payload<'_>>>>(body) {
        Ok(envelope) => envelope.map_payload(|Object(payload)| Ok(payload)),
        Err(_) => serde_json::from_str::<Envelope<&RawValue>>(body)
            .map_err(|e| ParseError::InvalidEnvelope(short(&e)))?
            .map_payload(|raw| object(raw, "payload")),
    };
    let event = envelope.event.ok_or(ParseError::MissingEvent)?;
    if !event.starts_with(BIOMETRIC_PREFIX) {
        return Ok(Delivery::Ignored { event });
    }
    let payload = envelope.payload.ok_or(ParseError::MissingPayload)??;
    let session = session_event(event, envelope.timestamp, payload, envelope.organization_id)?;
    Ok(Delivery::Session(session))
}

/// The `event` of what reconciliation read from Gu1's API: the item and the
/// outcome message say so.
pub const RECONCILED_EVENT: &str = "reconcile";

/// Parses a session as Gu1's API returns it (`GET
/// /api/kyc/biometric/sessions/{id}`: the very object a webhook carries as
/// its `payload`), through the same checks as a delivery. The event is
/// [`RECONCILED_EVENT`], its timestamp the session's `updatedAt`.
pub fn parse_api_session(body: &[u8]) -> Result<SessionEvent, ParseError> {
    let body = std::str::from_utf8(body)
        .map_err(|_| ParseError::InvalidPayload("body is not UTF-8".into()))?;
    let raw: &RawValue = serde_json::from_str(body.trim_ascii())
        .map_err(|e| ParseError::InvalidPayload(short(&e)))?;
    let payload: Payload<'_> = object(raw, "the session")?;
    let updated_at = payload.updated_at.clone();
    session_event(RECONCILED_EVENT.into(), updated_at, payload, None)
}

/// The checked event from a biometric session object, wherever it came from.
fn session_event(
    event: String,
    timestamp: Option<String>,
    payload: Payload<'_>,
    envelope_organization: Option<String>,
) -> Result<SessionEvent, ParseError> {
    let session_id = SessionId::parse(&payload.id.ok_or(ParseError::MissingSessionId)?)
        .map_err(|_| ParseError::InvalidSessionId)?;
    let status = payload.status.ok_or(ParseError::MissingStatus)?;
    let status = SessionStatus::parse(&status).ok_or(ParseError::UnknownStatus)?;
    let decision = payload.decision.map(decision).transpose()?;
    let entity: Entity = match payload.entity {
        Some(raw) => object(raw, "payload.entity")?,
        None => Entity::default(),
    };
    Ok(SessionEvent {
        event,
        timestamp,
        session_id,
        status,
        fields: SessionFields {
            entity_id: one_of(payload.entity_id, entity.id, "entityId")?,
            organization_id: one_of(
                payload.organization_id,
                envelope_organization,
                "organizationId",
            )?,
            external_id: entity.external_id,
            rejection_code: payload.rejection_code,
            rejection_message: payload.rejection_message,
            completed_at: payload.completed_at,
            decision,
        },
    })
}

#[derive(Deserialize)]
struct Envelope<P> {
    event: Option<String>,
    timestamp: Option<String>,
    #[serde(rename = "organizationId")]
    organization_id: Option<String>,
    payload: Option<P>,
}

impl<P> Envelope<P> {
    fn map_payload<Q>(self, f: impl FnOnce(P) -> Q) -> Envelope<Q> {
        Envelope {
            event: self.event,
            timestamp: self.timestamp,
            organization_id: self.organization_id,
            payload: self.payload.map(f),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    id: Option<String>,
    status: Option<String>,
    entity_id: Option<String>,
    organization_id: Option<String>,
    rejection_code: Option<String>,
    rejection_message: Option<String>,
    completed_at: Option<String>,
    updated_at: Option<String>,
    decision: Option<Box<RawValue>>,
    #[serde(borrow)]
    entity: Option<&'a RawValue>,
}

/// The entity snapshot, without the person's name: we never keep it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Entity {
    id: Option<String>,
    external_id: Option<String>,
}

/// The session event in `body`, for unit tests; panics on anything else.
#[cfg(test)]
pub(crate) fn session(body: &str) -> SessionEvent {
    match parse_delivery(body.as_bytes()) {
        Ok(Delivery::Session(e)) => e,
        other => panic!("not a session event: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approved_example_keeps_every_field_we_need() {
        let e = session(
            r#"{"event":"biometric.session_approved","timestamp":"2026-06-11T14:10:00Z",
            "organizationId":"org-1","payload":{"id":"bio-1","entityId":"ent-1",
            "organizationId":"org-1","status":"approved","completedAt":"2026-06-11T14:10:00.000Z",
            "rejectionCode":null,"decision":{"face_match":{"score":99.2}},
            "entity":{"id":"ent-1","externalId":"customer-123","name":"Jane Doe","type":"person"},
            "somethingNew":[1,2,3]}}"#,
        );
        assert_eq!(e.session_id.as_str(), "bio-1");
        assert_eq!(e.status, SessionStatus::Approved);
        assert_eq!(e.fields.entity_id.as_deref(), Some("ent-1"));
        assert_eq!(e.fields.organization_id.as_deref(), Some("org-1"));
        assert_eq!(e.fields.external_id.as_deref(), Some("customer-123"));
        assert_eq!(e.fields.rejection_code, None);
        assert_eq!(e.timestamp.as_deref(), Some("2026-06-11T14:10:00Z"));
        assert_eq!(
            e.fields.decision.as_deref(),
            Some(r#"{"face_match":{"score":99.2}}"#)
        );
        assert!(!format!("{e:?}").contains("Jane"));
    }

    #[test]
    fn status_wins_over_the_event_name_and_fallbacks_apply() {
        let e = session(
            r#"{"event":"biometric.session_approved","organizationId":"org-env",
            "payload":{"id":"bio-1","status":"rejected","entity":{"id":"ent-9"}}}"#,
        );
        assert_eq!(e.status, SessionStatus::Rejected);
        assert_eq!(e.fields.organization_id.as_deref(), Some("org-env"));
        assert_eq!(e.fields.entity_id.as_deref(), Some("ent-9"));
        assert_eq!(e.timestamp, None);
    }

    /// Gu1's API returns the session object a webhook carries as its
    /// `payload`: both parse to the same session, id, status and fields.
    #[test]
    fn an_api_session_and_a_webhook_payload_are_the_same_event() {
        let payload = r#"{"id":"bio-1","entityId":"ent-1","organizationId":"org-1",
            "status":"rejected","mode":"hosted","hostedSessionId":"h-1",
            "rejectionCode":"FACE_MATCH_SCORE_LOW","rejectionMessage":"low",
            "createdAt":"2026-06-11T14:00:00.000Z","updatedAt":"2026-06-11T14:10:00.000Z",
            "completedAt":"2026-06-11T14:10:00.000Z","decision":{"face_match":{"score":41}},
            "entity":{"id":"ent-1","externalId":"customer-123","name":"Jane Doe"}}"#;
        let webhook = session(&format!(
            r#"{{"event":"biometric.session_rejected","timestamp":"2026-06-11T14:10:01Z","payload":{payload}}}"#
        ));
        let api = parse_api_session(payload.as_bytes()).expect("a session");
        assert_eq!(api.session_id, webhook.session_id);
        assert_eq!(api.status, webhook.status);
        assert_eq!(api.fields, webhook.fields);
        assert_eq!(api.event, RECONCILED_EVENT);
        assert_eq!(api.timestamp.as_deref(), Some("2026-06-11T14:10:00.000Z"));

        // The same refusals as a delivery's payload.
        for (body, error) in [
            (
                r#"{"id":"bio-1","status":"done"}"#,
                ParseError::UnknownStatus,
            ),
            (r#"{"status":"approved"}"#, ParseError::MissingSessionId),
            (
                r#"[{"id":"bio-1","status":"approved"}]"#,
                ParseError::InvalidPayload("the session is not a JSON object".into()),
            ),
        ] {
            assert_eq!(parse_api_session(body.as_bytes()), Err(error), "{body}");
        }
    }

    #[test]
    fn other_events_are_ignored_whatever_their_payload() {
        assert_eq!(
            parse_delivery(br#"{"event":"kyc.validation_approved","payload":{"x":1}}"#),
            Ok(Delivery::Ignored {
                event: "kyc.validation_approved".into()
            })
        );
    }

    #[test]
    fn bad_envelopes_say_what_is_wrong() {
        let cases: &[(&str, ParseError)] = &[
            (r#"{"payload":{}}"#, ParseError::MissingEvent),
            (
                r#"{"event":"biometric.session_approved"}"#,
                ParseError::MissingPayload,
            ),
            (
                r#"{"event":"biometric.session_approved","payload":{"status":"approved"}}"#,
                ParseError::MissingSessionId,
            ),
            (
                r#"{"event":"biometric.session_approved","payload":{"id":"","status":"approved"}}"#,
                ParseError::InvalidSessionId,
            ),
            (
                r#"{"event":"biometric.session_approved","payload":{"id":"a b","status":"approved"}}"#,
                ParseError::InvalidSessionId,
            ),
            (
                r#"{"event":"biometric.session_approved","payload":{"id":"..","status":"approved"}}"#,
                ParseError::InvalidSessionId,
            ),
            (
                r#"{"event":"biometric.session_approved","payload":{"id":"s","status":"approved",
                    "entityId":"e1","entity":{"id":"e2"}}}"#,
                ParseError::MixedIdentity("entityId"),
            ),
            (
                r#"{"event":"biometric.session_approved","organizationId":"o1",
                    "payload":{"id":"s","status":"approved","organizationId":"o2"}}"#,
                ParseError::MixedIdentity("organizationId"),
            ),
            (
                r#"{"event":"biometric.session_approved","payload":{"id":"s"}}"#,
                ParseError::MissingStatus,
            ),
            (
                r#"{"event":"biometric.session_approved","payload":{"id":"s","status":"done"}}"#,
                ParseError::UnknownStatus,
            ),
            (
                r#"{"event":"biometric.session_approved","payload":{"id":"s","status":"approved","decision":"yes"}}"#,
                ParseError::InvalidDecision,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                parse_delivery(body.as_bytes()).unwrap_err(),
                *expected,
                "{body}"
            );
        }
        for body in [
            "",
            "{",
            "[]",
            r#"{"event":1}"#,
            r#"{"event":"a","event":"b"}"#,
        ] {
            assert!(
                matches!(
                    parse_delivery(body.as_bytes()),
                    Err(ParseError::InvalidEnvelope(_))
                ),
                "{body}"
            );
        }
        assert!(matches!(
            parse_delivery(
                br#"{"event":"biometric.session_approved","payload":{"id":"s","status":"approved","entityId":7}}"#
            ),
            Err(ParseError::InvalidPayload(_))
        ));
    }

    #[test]
    fn arrays_are_not_read_as_objects_and_decisions_must_read_back() {
        for body in [
            r#"["biometric.session_approved",null,null,{"id":"s","status":"approved"}]"#,
            r#"{"event":"biometric.session_approved","payload":["s","approved",null,null,null,null,null,null,null]}"#,
            r#"{"event":"biometric.session_approved","payload":{"id":"s","status":"approved","entity":["e","x"]}}"#,
        ] {
            let err = parse_delivery(body.as_bytes()).unwrap_err();
            assert!(
                err.to_string().contains("not a JSON object"),
                "{body}: {err}"
            );
        }
        for decision in [
            r#"{"s":"\ud800"}"#,
            r#"{"n":1e999999}"#,
            &format!("{{\"d\":{}1{}}}", "[".repeat(200), "]".repeat(200)),
        ] {
            let body = format!(
                r#"{{"event":"biometric.session_approved","payload":{{"id":"s","status":"approved","decision":{decision}}}}}"#
            );
            assert_eq!(
                parse_delivery(body.as_bytes()).unwrap_err(),
                ParseError::InvalidDecision,
                "{decision}"
            );
        }
    }
}
