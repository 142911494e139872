//! The review notice: what consumers hear when Gu1 reverses a terminal
//! outcome (says `rejected` after `approved`, say).
//!
//! The receiver keeps the first terminal status (statuses only move up), so
//! the outcome already on the queue stands; but a worker that onboarded the
//! person must hear that Gu1 now says something else, and a person must
//! look. A notice goes on its own queue (`ReviewsQueue` in the template),
//! never on the outcomes queue: a version 1 outcome consumer cannot receive
//! one, whatever it validates. It is also not an outcome by shape (no
//! top-level `status`; `messageType` is `reviewNotice`), so [`crate::parse`]
//! refuses one even if it were sent there.
//!
//! One notice per session and conflicting status (its FIFO deduplication id
//! says so), built once from the first event that brought that status. The
//! JSON Schema is `schema/review-notice.v1.json`.

use crate::{Decision, MAX_ID_LEN, ParseError, Status};
use serde::{Deserialize, Serialize};

/// The version of the notice schema, in the body and the `schemaVersion`
/// message attribute.
pub const REVIEW_SCHEMA_VERSION: u32 = 1;

/// The one value of a notice's `messageType` (body and message attribute).
pub const MESSAGE_TYPE: &str = "reviewNotice";

/// The SQS message attributes every notice carries.
pub mod attributes {
    /// `String`: [`MESSAGE_TYPE`](super::MESSAGE_TYPE).
    pub const MESSAGE_TYPE: &str = "messageType";
    /// `String`: the status the receiver kept (the one consumers received).
    pub const KEPT_STATUS: &str = "keptStatus";
    /// `String`: the status Gu1 reported after it.
    pub const CONFLICTING_STATUS: &str = "conflictingStatus";
    /// `Number`: [`REVIEW_SCHEMA_VERSION`](super::REVIEW_SCHEMA_VERSION).
    pub const SCHEMA_VERSION: &str = crate::attributes::SCHEMA_VERSION;
}

/// Gu1 reported a different terminal status after the one consumers got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewNotice {
    pub schema_version: u32,
    /// Always [`MESSAGE_TYPE`].
    pub message_type: String,
    pub session_id: String,
    /// The session's identity, as stored (write-once).
    pub entity_id: Option<String>,
    pub organization_id: Option<String>,
    pub external_id: Option<String>,
    /// The outcome that stands: what the outcomes queue carried.
    pub kept: Kept,
    /// What Gu1 said afterwards, refused by the receiver.
    pub conflicting: Conflicting,
    /// When the receiver recorded the conflict (RFC 3339 UTC).
    pub recorded_at: String,
}

/// The kept outcome's status and event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    pub status: Status,
    pub event: Option<String>,
    pub event_timestamp: Option<String>,
}

/// The conflicting event's status and fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflicting {
    pub status: Status,
    pub event: Option<String>,
    pub event_timestamp: Option<String>,
    pub rejection_code: Option<String>,
    pub rejection_message: Option<String>,
    pub completed_at: Option<String>,
    pub decision: Option<Decision>,
}

impl ReviewNotice {
    /// FIFO message group: the entity (else the session), as for outcomes.
    pub fn group_id(&self) -> &str {
        crate::group_id(self.entity_id.as_deref(), &self.session_id)
    }

    /// FIFO deduplication id: one notice per session and conflicting status.
    pub fn deduplication_id(&self) -> String {
        deduplication_id(&self.session_id, self.conflicting.status.as_str())
    }
}

/// The FIFO deduplication id of the notice of `session_id` for
/// `conflicting_status`.
pub fn deduplication_id(session_id: &str, conflicting_status: &str) -> String {
    format!("{session_id}:review:{conflicting_status}")
}

/// A message body to a [`ReviewNotice`], refusing another schema version,
/// another message type and a missing session id. Errors never repeat the
/// body.
pub fn parse_review(body: &str) -> Result<ReviewNotice, ParseError> {
    crate::check_version(body, REVIEW_SCHEMA_VERSION)?;
    let notice: ReviewNotice = serde_json::from_str(body)?;
    if notice.message_type != MESSAGE_TYPE {
        return Err(ParseError::MessageType);
    }
    if notice.session_id.is_empty() || notice.session_id.len() > MAX_ID_LEN {
        return Err(ParseError::SessionId);
    }
    Ok(notice)
}

#[cfg(test)]
mod tests;
