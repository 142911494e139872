//! The outcome message that `gu1-webhook` puts on SQS, as a type: the
//! receiver serialises it, onboarding workers parse it, and both depend on
//! this one definition.
//!
//! - [`Outcome`]: one session's terminal outcome (schema version 1, the JSON
//!   Schema in the repository's `schema/outcome-message.v1.json`);
//! - [`parse`]: a message body to an [`Outcome`], refusing what a version 1
//!   consumer must not take for one (another `schemaVersion`, a status that
//!   is not terminal, a missing session id);
//! - the FIFO rules: [`Outcome::group_id`] (one person's outcomes in order)
//!   and [`Outcome::deduplication_id`] (one message per session and status);
//! - [`review::ReviewNotice`]: what a reversal (a different terminal status
//!   after the first) tells consumers, on its own queue;
//! - with the `lambda` feature, [`batch::process_batch`]: an SQS-triggered
//!   Lambda's batch handled in FIFO order per group, with partial batch
//!   failures.
//!
//! Without features it depends on serde alone, so a worker compiles it in
//! seconds. The crate's major version moves with the schema version: a
//! schema 2 is a new major version of this crate.

#[cfg(feature = "lambda")]
pub mod batch;
pub mod review;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt;

/// The version of the message schema, in the body and the `schemaVersion`
/// message attribute.
pub const SCHEMA_VERSION: u32 = 1;

/// The names of the SQS message attributes every outcome carries, so that
/// a subscription can filter without parsing the body.
pub mod attributes {
    /// `String`: the outcome's [`Status`](crate::Status).
    pub const STATUS: &str = "status";
    /// `Number`: [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
    pub const SCHEMA_VERSION: &str = "schemaVersion";
    /// `String` (RFC 3339), only on an outcome an operator sent again
    /// (`gu1-webhook republish`): when. The body is the original's; on a
    /// FIFO queue the deduplication id is `sessionId:status:rN`.
    pub const REPUBLISHED_AT: &str = "republishedAt";
}

/// The longest session id (and FIFO id) the receiver accepts.
pub const MAX_ID_LEN: usize = 100;

/// A session's terminal status: the only statuses a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Approved,
    Rejected,
    Abandoned,
    Cancelled,
    Expired,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Approved,
        Status::Rejected,
        Status::Abandoned,
        Status::Cancelled,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Abandoned => "abandoned",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The provider's decision object exactly as Gu1 sent it: kept as JSON text,
/// so that nothing is lost or reordered between Gu1 and the worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Decision(Box<RawValue>);

impl Decision {
    /// A decision from JSON text; `None` unless it is a JSON object.
    pub fn from_json(text: String) -> Option<Self> {
        let raw = RawValue::from_string(text).ok()?;
        raw.get().trim_start().starts_with('{').then_some(Self(raw))
    }

    /// The JSON text, byte for byte.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The decision read as `T` (a `serde_json::Value`, or your own type).
    pub fn read<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        serde_json::from_str(self.0.get())
    }
}

impl PartialEq for Decision {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

/// One session's terminal outcome: the body of each message. Unknown values
/// are `null`; fields added by a later minor version are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub schema_version: u32,
    /// Gu1's biometric session id: what consumers deduplicate on.
    pub session_id: String,
    /// Gu1's person entity id.
    pub entity_id: Option<String>,
    pub organization_id: Option<String>,
    /// Your own customer key, from Gu1's entity snapshot.
    pub external_id: Option<String>,
    pub status: Status,
    /// For rejected sessions, e.g. `FACE_MATCH_SCORE_LOW`.
    pub rejection_code: Option<String>,
    pub rejection_message: Option<String>,
    /// Gu1's completion time (ISO-8601), when sent.
    pub completed_at: Option<String>,
    pub decision: Option<Decision>,
    /// The Gu1 event that set the status (`biometric.session_approved`), or
    /// `reconcile` when reconciliation read it from Gu1's API.
    pub event: Option<String>,
    /// That event's timestamp (ISO-8601 UTC).
    pub event_timestamp: Option<String>,
}

impl Outcome {
    /// FIFO message group: the entity, so that one person's outcomes stay in
    /// order; the session where the entity id is unknown or not a valid id.
    pub fn group_id(&self) -> &str {
        group_id(self.entity_id.as_deref(), &self.session_id)
    }

    /// FIFO deduplication id: one message per session and status (an
    /// operator's re-send adds `:rN`, see
    /// [`attributes::REPUBLISHED_AT`]).
    pub fn deduplication_id(&self) -> String {
        format!("{}:{}", self.session_id, self.status)
    }
}

/// The FIFO group of a session's messages (outcome and review notices): its
/// entity, or the session itself where the entity is unknown or not a valid
/// FIFO id.
pub fn group_id<'a>(entity_id: Option<&'a str>, session_id: &'a str) -> &'a str {
    entity_id.filter(|id| is_fifo_id(id)).unwrap_or(session_id)
}

/// True for 1 to [`MAX_ID_LEN`] printable ASCII characters without spaces:
/// what SQS allows in group and deduplication ids.
pub fn is_fifo_id(s: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Why a body is not a version 1 outcome (or review notice). The message says where, never
/// what: a worker logs it, and a body may hold personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a valid message: {category} at line {line}, column {column}")]
    Json {
        category: &'static str,
        line: usize,
        column: usize,
    },
    #[error("schemaVersion is {found:?}, not {expected}: another version of the message")]
    Version { found: Option<u64>, expected: u32 },
    #[error("sessionId must be 1 to {MAX_ID_LEN} characters")]
    SessionId,
    #[error("messageType is not {}", review::MESSAGE_TYPE)]
    MessageType,
}

impl From<serde_json::Error> for ParseError {
    fn from(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        ParseError::Json {
            category: match err.classify() {
                Category::Io => "unreadable",
                Category::Syntax => "invalid JSON",
                Category::Data => "a field missing or of the wrong type or value",
                Category::Eof => "JSON cut short",
            },
            line: err.line(),
            column: err.column(),
        }
    }
}

/// A message body to an [`Outcome`]. The schema version is checked first,
/// so that a message of another version is refused as such.
pub fn parse(body: &str) -> Result<Outcome, ParseError> {
    check_version(body, SCHEMA_VERSION)?;
    let outcome: Outcome = serde_json::from_str(body)?;
    if outcome.session_id.is_empty() || outcome.session_id.len() > MAX_ID_LEN {
        return Err(ParseError::SessionId);
    }
    Ok(outcome)
}

/// Refuses a body whose `schemaVersion` is not `expected`, before anything
/// else is read, so that another version is refused as such.
fn check_version(body: &str, expected: u32) -> Result<(), ParseError> {
    #[derive(Deserialize)]
    struct Version {
        #[serde(rename = "schemaVersion")]
        schema_version: Option<serde_json::Value>,
    }
    let version: Version = serde_json::from_str(body)?;
    let found = version.schema_version.as_ref().and_then(|v| v.as_u64());
    if found == Some(u64::from(expected)) {
        Ok(())
    } else {
        Err(ParseError::Version { found, expected })
    }
}

#[cfg(test)]
mod tests;
