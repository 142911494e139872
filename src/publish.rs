//! Step 5 of a delivery: put a terminal outcome on the SQS queue, once.
//!
//! Three parts, from pure to I/O:
//!
//! - [`OutcomeMessage`], the message schema (version 1, JSON Schema in
//!   `schema/outcome-message.v1.json`), built from the stored session so that
//!   every publisher — the delivery that made the session terminal, a later
//!   redelivery, the sweeper — sends the same bytes;
//! - [`OutcomeQueue`], the SQS adapter;
//! - [`Publisher`], the protocol that makes "once" hold: send under a publish
//!   lease taken by a conditional write, then mark the item published.

use crate::clock::{millis, now_ms};
use crate::decide::{OutcomeDuty, Verdict, outcome_duty};
use crate::session::{
    SessionEvent, SessionId, SessionRecord, SessionStatus, WriteToken, is_safe_id,
};
use crate::store::{SessionStore, StoreError, Written};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageAttributeValue;
use serde::Serialize;
use serde_json::value::RawValue;
use std::time::Duration;

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

/// SQS failed (after the SDK's own retries), or the message could not be built.
#[derive(Debug, thiserror::Error)]
#[error("SQS SendMessage failed: {0}")]
pub struct SendError(String);

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
        let body = serde_json::to_string(message).map_err(|e| SendError(e.to_string()))?;
        let attribute = |data_type: &str, value: String| {
            MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .map_err(|e| SendError(e.to_string()))
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
        let output = request
            .send()
            .await
            .map_err(|e| SendError(crate::error_chain(&e)))?;
        Ok(output.message_id.unwrap_or_default())
    }
}

/// Why an outcome could not be published. The state is durable either way;
/// the outcome stays pending for a redelivery or the sweeper.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("publishing did not finish within the deadline")]
    Timeout,
}

/// What one attempt to publish a session's outcome did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// We sent it and marked the item.
    Sent,
    /// Someone else holds the lease or has already published.
    NotOurs,
}

/// Sends outcomes under the publish lease and marks them published.
#[derive(Debug, Clone)]
pub struct Publisher {
    store: SessionStore,
    queue: OutcomeQueue,
    lease: Duration,
}

impl Publisher {
    /// `lease` must outlast one send (the SDK's operation timeout): a lease
    /// that lapses mid-send lets a second publisher in.
    pub fn new(store: SessionStore, queue: OutcomeQueue, lease: Duration) -> Self {
        Self {
            store,
            queue,
            lease,
        }
    }

    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// When a lease taken at `now_ms` ends.
    pub fn lease_until(&self, now_ms: u64) -> u64 {
        now_ms.saturating_add(millis(self.lease))
    }

    /// Steps 3 and 4 for one event, whoever brought it (a delivery, or
    /// reconciliation): the conditional write under `writer`'s token, and on
    /// a conflict the record of it on the item.
    pub async fn record(
        &self,
        event: &SessionEvent,
        webhook_id: Option<&str>,
        writer: &WriteToken,
    ) -> Result<Written, StoreError> {
        let now = now_ms();
        let written = self
            .store
            .apply(event, webhook_id, writer, now, self.lease_until(now))
            .await?;
        if written.verdict == Verdict::Conflict {
            self.store
                .record_conflict(&event.session_id, event.status, now)
                .await?;
            tracing::warn!(
                session_id = %event.session_id,
                kept = %written.record.status,
                conflicting = %event.status,
                "conflicting terminal status: the first one is kept"
            );
        }
        Ok(written)
    }

    /// Step 5 after [`Publisher::record`]: sends the outcome if that falls to
    /// `writer` ([`outcome_duty`]): under the lease its write took, or under
    /// one it claims now. Nothing to do for an active or published session,
    /// or while another publisher holds a live lease.
    pub async fn publish_due(
        &self,
        record: &SessionRecord,
        writer: &WriteToken,
    ) -> Result<(), PublishError> {
        match outcome_duty(record, writer, now_ms()) {
            OutcomeDuty::None | OutcomeDuty::HeldElsewhere => {}
            OutcomeDuty::Publish => {
                self.publish_held(record, writer).await?;
            }
            OutcomeDuty::ClaimAndPublish => {
                self.claim_and_publish(&record.session_id, writer).await?;
            }
        }
        Ok(())
    }

    /// Publishes `record`'s outcome under the lease `writer` holds. On a
    /// failed send the lease is released, so that a redelivery need not wait
    /// for it to lapse.
    pub async fn publish_held(
        &self,
        record: &SessionRecord,
        writer: &WriteToken,
    ) -> Result<Published, PublishError> {
        let Some(message) = OutcomeMessage::from_record(record) else {
            return Ok(Published::NotOurs);
        };
        let session = &record.session_id;
        let status = message.status.as_str();
        let message_id = match self.queue.send(&message).await {
            Ok(id) => {
                crate::metrics::outcome_published(status);
                id
            }
            Err(err) => {
                crate::metrics::publish_failed(status);
                if let Err(release) = self.store.release_lease(session, writer).await {
                    tracing::warn!(session_id = %session, error = %release, "could not release publish lease");
                }
                return Err(err.into());
            }
        };
        if !self
            .store
            .mark_published(session, &message_id, now_ms())
            .await?
        {
            tracing::warn!(session_id = %session, "outcome was marked published by another publisher");
        }
        Ok(Published::Sent)
    }

    /// Claims the lease of `session`'s unpublished outcome for `writer`,
    /// then publishes it. `NotOurs` when another publisher holds the lease or
    /// has published.
    pub async fn claim_and_publish(
        &self,
        session: &SessionId,
        writer: &WriteToken,
    ) -> Result<Published, PublishError> {
        let now = now_ms();
        let lease_until = self.lease_until(now);
        match self
            .store
            .claim_outcome(session, writer, now, lease_until)
            .await?
        {
            Some(record) => self.publish_held(&record, writer).await,
            None => Ok(Published::NotOurs),
        }
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
