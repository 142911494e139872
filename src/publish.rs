//! Step 5 of a delivery: put a terminal outcome on the SQS queue.
//!
//! Two parts, from pure to I/O:
//!
//! - [`OutcomeMessage`], the message schema (version 1, JSON Schema in
//!   `schema/outcome-message.v1.json`), built from the stored session so that
//!   every publisher — the delivery that made the session terminal, a later
//!   redelivery, the sweeper — sends the same bytes;
//! - [`OutcomeQueue`], the SQS adapter.
//!
//! That it happens once per session is the [`crate::outbox`]'s protocol.

use crate::session::{SessionRecord, SessionStatus, is_safe_id};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageAttributeValue;
use serde::Serialize;
use serde_json::value::RawValue;

/// The version of the message schema, also sent as the `schemaVersion` attribute.
pub const SCHEMA_VERSION: u32 = 1;

/// The SQS message body for one terminal outcome. Unknown values are `null`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeMessage<'a> {
    pub schema_version: u32,
    pub session_id: &'a str,
    pub entity_id: Option<&'a str>,
    pub organization_id: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub status: SessionStatus,
    pub rejection_code: Option<&'a str>,
    pub rejection_message: Option<&'a str>,
    pub completed_at: Option<&'a str>,
    /// The decision object exactly as Gu1 sent it (not a string).
    pub decision: Option<Box<RawValue>>,
    pub event: Option<&'a str>,
    pub event_timestamp: Option<&'a str>,
}

impl<'a> OutcomeMessage<'a> {
    /// The message for a stored session; `None` unless it is terminal.
    pub fn from_record(record: &'a SessionRecord) -> Option<Self> {
        let fields = &record.fields;
        record.status.is_terminal().then(|| Self {
            schema_version: SCHEMA_VERSION,
            session_id: record.session_id.as_str(),
            entity_id: fields.entity_id.as_deref(),
            organization_id: fields.organization_id.as_deref(),
            external_id: fields.external_id.as_deref(),
            status: record.status,
            rejection_code: fields.rejection_code.as_deref(),
            rejection_message: fields.rejection_message.as_deref(),
            completed_at: fields.completed_at.as_deref(),
            // Stored from a parsed object, so this only fails on a hand-edited item.
            decision: fields
                .decision
                .as_ref()
                .and_then(|d| RawValue::from_string(d.clone()).ok()),
            event: record.event.as_deref(),
            event_timestamp: record.last_event_at.as_deref(),
        })
    }

    /// FIFO message group: the entity, so that one person's outcomes stay in
    /// order; the session where the entity id is unknown or unusable.
    pub fn group_id(&self) -> &'a str {
        self.entity_id
            .filter(|id| is_safe_id(id))
            .unwrap_or(self.session_id)
    }

    /// FIFO deduplication id: one outcome per session and status.
    pub fn deduplication_id(&self) -> String {
        format!("{}:{}", self.session_id, self.status)
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
    pub async fn send(&self, message: &OutcomeMessage<'_>) -> Result<String, SendError> {
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
            .message_attributes("status", attribute("String", message.status.to_string())?)
            .message_attributes(
                "schemaVersion",
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
        let message = OutcomeMessage::from_record(&record).unwrap();
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
    }

    #[test]
    fn message_keys_are_exactly_the_published_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../schema/outcome-message.v1.json")).unwrap();
        let record = approved();
        let message = serde_json::to_value(OutcomeMessage::from_record(&record).unwrap()).unwrap();
        let mut keys: Vec<&str> = message
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        keys.sort();
        required.sort();
        assert_eq!(keys, required);
        assert_eq!(
            schema["properties"]["schemaVersion"]["const"],
            SCHEMA_VERSION
        );
    }

    #[test]
    fn fifo_keys_follow_the_entity_and_the_outcome() {
        let mut record = approved();
        let message = OutcomeMessage::from_record(&record).unwrap();
        assert_eq!(message.group_id(), "ent-1");
        assert_eq!(message.deduplication_id(), "bio-1:approved");
        record.fields.entity_id = Some("has spaces".into());
        assert_eq!(
            OutcomeMessage::from_record(&record).unwrap().group_id(),
            "bio-1"
        );
        record.fields.entity_id = None;
        assert_eq!(
            OutcomeMessage::from_record(&record).unwrap().group_id(),
            "bio-1"
        );
    }

    #[test]
    fn only_terminal_sessions_have_a_message() {
        let mut record = approved();
        record.status = SessionStatus::InProgress;
        assert!(OutcomeMessage::from_record(&record).is_none());
    }
}
