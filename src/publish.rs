//! Step 5 of a delivery: put a terminal outcome on the SQS queue (and a
//! reversal's review notice on the reviews queue).
//!
//! From pure to I/O:
//!
//! - [`outcome`]: the message for a stored session, a [`gu1_outcome::Outcome`]
//!   (the crate that owns the message schema, which consumers depend on too),
//!   built from the stored session so that every publisher — the delivery
//!   that made the session terminal, a later redelivery, the sweeper — sends
//!   the same bytes;
//! - [`review_notice`]: the notice for a conflicting terminal event, built
//!   once when it arrives (its fields are never stored otherwise);
//! - [`Queue`], the SQS adapter.
//!
//! That it happens once per session is the [`crate::outbox`]'s protocol.

use crate::session::{OwedReview, SessionEvent, SessionRecord, SessionStatus};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeNameForSends, MessageSystemAttributeValue,
};
use gu1_outcome::review::{self, Conflicting, Kept, REVIEW_SCHEMA_VERSION, ReviewNotice};
use gu1_outcome::{Decision, Outcome, SCHEMA_VERSION, Status, attributes};

/// The message for a stored session; `None` unless it is terminal.
pub fn outcome(record: &SessionRecord) -> Option<Outcome> {
    let fields = &record.fields;
    Some(Outcome {
        schema_version: SCHEMA_VERSION,
        session_id: record.session_id.as_str().to_owned(),
        entity_id: fields.entity_id.clone(),
        organization_id: fields.organization_id.clone(),
        external_id: fields.external_id.clone(),
        status: terminal(record.status)?,
        rejection_code: fields.rejection_code.clone(),
        rejection_message: fields.rejection_message.clone(),
        completed_at: fields.completed_at.clone(),
        // Stored from a parsed object, so this only fails on a hand-edited item.
        decision: fields.decision.clone().and_then(Decision::from_json),
        event: record.event.clone(),
        event_timestamp: record.last_event_at.clone(),
    })
}

/// The review notice for `event`, a different terminal status than the
/// stored session's, recorded at `recorded_at`; `None` unless both are
/// terminal. The identity is the session's (write-once), never the event's.
pub fn review_notice(
    record: &SessionRecord,
    event: &SessionEvent,
    recorded_at: String,
) -> Option<ReviewNotice> {
    let (fields, conflicting) = (&record.fields, &event.fields);
    Some(ReviewNotice {
        schema_version: REVIEW_SCHEMA_VERSION,
        message_type: review::MESSAGE_TYPE.to_owned(),
        session_id: record.session_id.as_str().to_owned(),
        entity_id: fields.entity_id.clone(),
        organization_id: fields.organization_id.clone(),
        external_id: fields.external_id.clone(),
        kept: Kept {
            status: terminal(record.status)?,
            event: record.event.clone(),
            event_timestamp: record.last_event_at.clone(),
        },
        conflicting: Conflicting {
            status: terminal(event.status)?,
            event: Some(event.event.clone()),
            event_timestamp: event.timestamp.clone(),
            rejection_code: conflicting.rejection_code.clone(),
            rejection_message: conflicting.rejection_message.clone(),
            completed_at: conflicting.completed_at.clone(),
            decision: conflicting.decision.clone().and_then(Decision::from_json),
        },
        recorded_at,
    })
}

/// The message's status for a terminal session status.
fn terminal(status: SessionStatus) -> Option<Status> {
    match status {
        SessionStatus::Pending | SessionStatus::InProgress => None,
        SessionStatus::Approved => Some(Status::Approved),
        SessionStatus::Rejected => Some(Status::Rejected),
        SessionStatus::Abandoned => Some(Status::Abandoned),
        SessionStatus::Cancelled => Some(Status::Cancelled),
        SessionStatus::Expired => Some(Status::Expired),
    }
}

/// An outcome sent again by `republish`: when, and the how-manieth time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resend {
    /// RFC 3339, the `republishedAt` message attribute.
    pub at: String,
    pub count: u64,
}

/// SQS failed (after the SDK's own retries), or the message could not be
/// built or read back. The cause is kept as the source.
#[derive(Debug, thiserror::Error)]
#[error("SQS SendMessage failed")]
pub struct SendError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl SendError {
    pub(crate) fn new(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(err))
    }
}

/// One of the stack's queues (outcomes, or review notices). A URL ending
/// in `.fifo` gets group and deduplication ids; a standard queue gets
/// neither.
#[derive(Debug, Clone)]
pub struct Queue {
    client: Client,
    url: String,
}

impl Queue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn is_fifo(&self) -> bool {
        self.url.ends_with(".fifo")
    }

    /// Opens the connection to SQS (DNS, TCP, TLS) with the cheapest call
    /// on the queue, `GetQueueAttributes` (its ARN), so that a later send
    /// finds it in the client's pool. Every queue of a region shares it.
    pub async fn open_connection(&self) -> Result<(), SendError> {
        self.client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map(drop)
            .map_err(SendError::new)
    }

    /// Sends one outcome; returns its SQS message id. A `resend` (an
    /// operator's `republish`) carries the `republishedAt` attribute, and on
    /// a FIFO queue its own deduplication id (`sessionId:status:rN`, N the
    /// republish's count), so the queue does not drop it as a copy of the
    /// original.
    pub async fn send_outcome(
        &self,
        message: &Outcome,
        resend: Option<&Resend>,
    ) -> Result<String, SendError> {
        let body = serde_json::to_string(message).map_err(SendError::new)?;
        let version = message.schema_version.to_string();
        let mut attributes = vec![
            (attributes::STATUS, "String", message.status.as_str()),
            (attributes::SCHEMA_VERSION, "Number", version.as_str()),
        ];
        let mut deduplication = message.deduplication_id();
        if let Some(resend) = resend {
            attributes.push((attributes::REPUBLISHED_AT, "String", &resend.at));
            deduplication = format!("{deduplication}:r{}", resend.count);
        }
        self.send(body, &attributes, (message.group_id(), deduplication))
            .await
    }

    /// Sends one review notice that `record` owes: the body stored when the
    /// conflict was recorded, byte for byte. Returns its SQS message id.
    pub async fn send_review(
        &self,
        record: &SessionRecord,
        review: &OwedReview,
    ) -> Result<String, SendError> {
        use review::attributes as names;
        let (session, conflicting) = (record.session_id.as_str(), review.status.as_str());
        let attributes = [
            (names::MESSAGE_TYPE, "String", review::MESSAGE_TYPE),
            (names::KEPT_STATUS, "String", record.status.as_str()),
            (names::CONFLICTING_STATUS, "String", conflicting),
            (
                names::SCHEMA_VERSION,
                "Number",
                &REVIEW_SCHEMA_VERSION.to_string(),
            ),
        ];
        let group = gu1_outcome::group_id(record.fields.entity_id.as_deref(), session);
        let fifo = (group, review::deduplication_id(session, conflicting));
        self.send(review.notice.clone(), &attributes, fifo).await
    }

    /// Sends `body` with string or number `attributes` (name, type, value)
    /// and, on a FIFO queue, the `(group, deduplication)` ids.
    async fn send(
        &self,
        body: String,
        attributes: &[(&str, &str, &str)],
        (group, deduplication): (&str, String),
    ) -> Result<String, SendError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body);
        for (name, data_type, value) in attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type(*data_type)
                .string_value(*value)
                .build()
                .map_err(SendError::new)?;
            request = request.message_attributes(*name, attribute);
        }
        if self.is_fifo() {
            request = request
                .message_group_id(group)
                .message_deduplication_id(deduplication);
        }
        if let Some(header) = trace_header() {
            let value = MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(header)
                .build()
                .map_err(SendError::new)?;
            request = request.message_system_attributes(
                MessageSystemAttributeNameForSends::AwsTraceHeader,
                value,
            );
        }
        let output = request.send().await.map_err(SendError::new)?;
        Ok(output.message_id.unwrap_or_default())
    }
}

/// The variable the Lambda runtime sets to the invocation's X-Ray trace
/// header (`Root=1-...;Parent=...;Sampled=1`) before each invocation.
pub const TRACE_ID_VAR: &str = "_X_AMZN_TRACE_ID";

/// The current invocation's trace header, for the message's `AWSTraceHeader`
/// system attribute: a consumer's trace (an SQS-triggered Lambda continues
/// it by itself) links to the delivery, sweep or reconciliation that sent
/// the message. `None` outside Lambda, or for a value SQS would refuse.
fn trace_header() -> Option<String> {
    let header = std::env::var(TRACE_ID_VAR).ok()?;
    let plausible = header.starts_with("Root=")
        && header.len() <= 256
        && header.bytes().all(|b| b.is_ascii_graphic());
    plausible.then_some(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approved() -> SessionRecord {
        SessionRecord::from(&crate::parse::session(
            r#"{"event":"biometric.session_approved","timestamp":"2026-06-11T14:10:00Z",
                "payload":{"id":"bio-1","status":"approved","entityId":"ent-1",
                "decision":{"liveness":{"score":98.5}}}}"#,
        ))
    }

    #[test]
    fn message_carries_the_schema_with_nulls_and_the_decision_as_an_object() {
        let record = approved();
        let message = outcome(&record).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&message).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "schemaVersion": 1,
                "sessionId": "bio-1",
                "entityId": "ent-1",
                "organizationId": null,
                "externalId": null,
                "status": "approved",
                "rejectionCode": null,
                "rejectionMessage": null,
                "completedAt": null,
                "decision": {"liveness": {"score": 98.5}},
                "event": "biometric.session_approved",
                "eventTimestamp": "2026-06-11T14:10:00Z"
            })
        );
        // What a consumer parses is what was stored.
        assert_eq!(gu1_outcome::parse(&json.to_string()), Ok(message));
    }

    #[test]
    fn every_terminal_status_has_its_message_status_and_no_other() {
        for status in SessionStatus::ALL {
            let message = terminal(status);
            assert_eq!(message.is_some(), status.is_terminal(), "{status}");
            if let Some(message) = message {
                assert_eq!(message.as_str(), status.to_string());
            }
        }
    }

    #[test]
    fn a_review_notice_keeps_the_sessions_identity_and_the_conflicting_events_fields() {
        let record = approved();
        let conflicting = crate::parse::session(
            r#"{"event":"biometric.session_rejected","timestamp":"2026-06-11T14:12:00Z",
                "payload":{"id":"bio-1","status":"rejected","entityId":"ent-1",
                "rejectionCode":"CROSS_ENTITY","decision":{"face_match":{"score":12}}}}"#,
        );
        let notice = review_notice(&record, &conflicting, "2026-06-11T14:12:01.000Z".into())
            .expect("both terminal");
        assert_eq!(notice.session_id, "bio-1");
        assert_eq!(notice.entity_id.as_deref(), Some("ent-1"));
        assert_eq!(notice.kept.status, Status::Approved);
        assert_eq!(
            notice.kept.event_timestamp.as_deref(),
            Some("2026-06-11T14:10:00Z")
        );
        assert_eq!(notice.conflicting.status, Status::Rejected);
        assert_eq!(
            notice.conflicting.rejection_code.as_deref(),
            Some("CROSS_ENTITY")
        );
        assert_eq!(
            notice.conflicting.decision.as_ref().map(Decision::json),
            Some(r#"{"face_match":{"score":12}}"#)
        );
        // What the reviews queue carries parses back to the same notice.
        let body = serde_json::to_string(&notice).unwrap();
        assert_eq!(gu1_outcome::review::parse_review(&body), Ok(notice));
        // Not a reversal unless both statuses are terminal.
        let active = crate::parse::session(
            r#"{"event":"biometric.session_in_progress","payload":{"id":"bio-1","status":"in_progress"}}"#,
        );
        assert!(review_notice(&record, &active, String::new()).is_none());
    }

    #[test]
    fn only_terminal_sessions_have_a_message() {
        let mut record = approved();
        record.status = SessionStatus::InProgress;
        assert!(outcome(&record).is_none());
    }
}
