//! Step 5 of a delivery: put a terminal outcome on the SQS queue.
//!
//! Two parts, from pure to I/O:
//!
//! - [`outcome`]: the message for a stored session, a [`gu1_outcome::Outcome`]
//!   (the crate that owns the message schema, which consumers depend on too),
//!   built from the stored session so that every publisher — the delivery
//!   that made the session terminal, a later redelivery, the sweeper — sends
//!   the same bytes;
//! - [`OutcomeQueue`], the SQS adapter.
//!
//! That it happens once per session is the [`crate::outbox`]'s protocol.

use crate::session::{SessionRecord, SessionStatus};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageAttributeValue;
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

/// SQS failed (after the SDK's own retries), or the message could not be
/// built. The cause is kept as the source.
#[derive(Debug, thiserror::Error)]
#[error("SQS SendMessage failed")]
pub struct SendError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl SendError {
    fn new(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(err))
    }
}

/// The outcomes queue. A URL ending in `.fifo` gets group and deduplication
/// ids; a standard queue gets neither.
#[derive(Debug, Clone)]
pub struct OutcomeQueue {
    client: Client,
    url: String,
}

impl OutcomeQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn is_fifo(&self) -> bool {
        self.url.ends_with(".fifo")
    }

    /// Sends one message; returns its SQS message id.
    pub async fn send(&self, message: &Outcome) -> Result<String, SendError> {
        let body = serde_json::to_string(message).map_err(SendError::new)?;
        let attribute = |data_type: &str, value: String| {
            MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .map_err(SendError::new)
        };
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_attributes(
                attributes::STATUS,
                attribute("String", message.status.to_string())?,
            )
            .message_attributes(
                attributes::SCHEMA_VERSION,
                attribute("Number", message.schema_version.to_string())?,
            );
        if self.is_fifo() {
            request = request
                .message_group_id(message.group_id())
                .message_deduplication_id(message.deduplication_id());
        }
        let output = request.send().await.map_err(SendError::new)?;
        Ok(output.message_id.unwrap_or_default())
    }
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
    fn only_terminal_sessions_have_a_message() {
        let mut record = approved();
        record.status = SessionStatus::InProgress;
        assert!(outcome(&record).is_none());
    }
}
