//! The domain: a Gu1 biometric session, as an event brings it and as the
//! table keeps it.
//!
//! Everything here is checked once, at the edge ([`crate::parse`] for
//! deliveries, [`crate::store`] for items), so the rest of the receiver never
//! re-validates: a [`SessionId`] is always a safe key, a [`SessionStatus`]
//! one of the seven Gu1 documents, and a [`SessionRecord`] always has both.

use std::fmt;

/// True for 1 to 100 printable ASCII characters without spaces: the
/// characters SQS allows in group and deduplication ids, and short enough
/// to keep `sessionId:status` inside their 128. The message's crate owns the
/// rule, since its FIFO ids follow it.
pub use gu1_outcome::is_fifo_id as is_safe_id;

/// The status of a Gu1 biometric session, as `payload.status` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SessionStatus {
    Pending,
    InProgress,
    Approved,
    Rejected,
    Abandoned,
    Cancelled,
    Expired,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 7] = [
        Self::Pending,
        Self::InProgress,
        Self::Approved,
        Self::Rejected,
        Self::Abandoned,
        Self::Cancelled,
        Self::Expired,
    ];

    /// The status as Gu1 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Abandoned => "abandoned",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// Parses Gu1's spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// A terminal status is an outcome: it is final and goes to SQS.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending | Self::InProgress)
    }

    /// The order statuses move in: 0 pending, 1 in progress, 2 terminal.
    /// All terminal statuses share a rank, so none replaces another.
    pub fn rank(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::InProgress => 1,
            _ => 2,
        }
    }
}

impl serde::Serialize for SessionStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Gu1's biometric session id (`payload.id`): the DynamoDB partition key.
///
/// The rule, stated once: 1 to 100 printable ASCII characters, no spaces,
/// and not made of dots alone. So an id is safe in a DynamoDB key, in an SQS
/// deduplication id and in a log line, and it is always one path segment of
/// Gu1's API: `.` and `..` are dot-segments that a URL resolves away (and a
/// proxy decodes back even when percent-encoded), so
/// `/sessions/..` would read another resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(String);

/// A session id that breaks the rule of [`SessionId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{SESSION_ID_RULE}")]
pub struct InvalidSessionId;

/// The rule of [`SessionId`], as the README and every refusal state it.
pub const SESSION_ID_RULE: &str =
    "a session id must be 1 to 100 printable ASCII characters, not only dots";

impl SessionId {
    pub fn parse(s: &str) -> Result<Self, InvalidSessionId> {
        if is_safe_id(s) && !s.bytes().all(|b| b == b'.') {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidSessionId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What Gu1 says about a session besides its id and status: carried by an
/// event, kept on the item (a later event that lacks one never erases it),
/// and sent in the outcome message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionFields {
    /// `payload.entityId`, else the entity snapshot's `id`.
    pub entity_id: Option<String>,
    /// `payload.organizationId`, else the envelope's.
    pub organization_id: Option<String>,
    /// The entity snapshot's `externalId`: the customer's own key.
    pub external_id: Option<String>,
    pub rejection_code: Option<String>,
    pub rejection_message: Option<String>,
    pub completed_at: Option<String>,
    /// `payload.decision`, the provider's opaque JSON object, byte for byte.
    pub decision: Option<String>,
}

/// The fields that say whose session it is. A session belongs to one
/// entity and one organization for its whole life, so on the item these are
/// write-once: the first value stored stays, and an event that says
/// otherwise is a conflict ([`crate::decide::identity_conflicts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityField {
    EntityId,
    OrganizationId,
    ExternalId,
}

impl IdentityField {
    pub const ALL: [IdentityField; 3] = [Self::EntityId, Self::OrganizationId, Self::ExternalId];

    /// The field's name in the item and the outcome message.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EntityId => "entityId",
            Self::OrganizationId => "organizationId",
            Self::ExternalId => "externalId",
        }
    }

    /// This field's value in `fields`.
    pub fn of(self, fields: &SessionFields) -> Option<&str> {
        match self {
            Self::EntityId => fields.entity_id.as_deref(),
            Self::OrganizationId => fields.organization_id.as_deref(),
            Self::ExternalId => fields.external_id.as_deref(),
        }
    }
}

/// One biometric-session event, parsed and checked: what the rest of the
/// receiver works on.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvent {
    /// The envelope's `event`, e.g. `biometric.session_approved`.
    pub event: String,
    /// The envelope's `timestamp`, as Gu1 sent it.
    pub timestamp: Option<String>,
    pub session_id: SessionId,
    pub status: SessionStatus,
    pub fields: SessionFields,
}

/// A unique 128-bit id that one writer (a delivery, or one sweeper claim)
/// stores next to what its conditional write changes.
///
/// Why: when a write lands but its answer is lost or late, the SDK retries the
/// same request, and the retry's condition fails against the writer's *own*
/// earlier write. The token in the returned `ALL_OLD` image tells "my write
/// landed" from "someone else's did", without an extra read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriteToken(String);

impl WriteToken {
    /// A token no other writer holds: 64 random bits drawn once per
    /// process, then a counter. So tokens never repeat within a process and, across
    /// processes, only if two drew the same 64 bits; and a delivery pays no
    /// system call for it. The bits come from the standard library's
    /// randomly keyed hasher, which the OS seeds.
    pub fn unique() -> Self {
        use base64::Engine as _;
        use std::hash::{BuildHasher, RandomState};
        use std::sync::atomic::{AtomicU64, Ordering};
        static PROCESS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let process = *PROCESS.get_or_init(|| RandomState::new().hash_one(std::process::id()));
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&process.to_le_bytes());
        bytes[8..].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token read back from the item.
    pub fn from_stored(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WriteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The session as stored: the DynamoDB item in domain types. It always has
/// an id and a status; an item without them is refused when read.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub session_id: SessionId,
    pub status: SessionStatus,
    /// Name of the event that set `status`.
    pub event: Option<String>,
    /// Envelope timestamp of the event that set `status`.
    pub last_event_at: Option<String>,
    pub fields: SessionFields,
    pub version: u64,
    /// Set once the outcome is on the queue.
    pub outcome_published_at: Option<String>,
    /// Until when (epoch milliseconds) one publisher holds the right to send
    /// the outcome. See [`crate::decide::OutcomeDuty`].
    pub publish_lease_until: Option<u64>,
    /// Who holds that lease.
    pub lease_holder: Option<WriteToken>,
    /// The writer whose write set `status`.
    pub applied_by: Option<WriteToken>,
    /// Review notices owed to consumers: conflicting terminal statuses whose
    /// notice is not yet on the reviews queue.
    pub reviews_owed: Vec<OwedReview>,
    /// Conflicting statuses whose notice is on the reviews queue: never owed
    /// again.
    pub reviews_published: Vec<SessionStatus>,
    /// When the session's personal fields were erased: a tombstone, which
    /// no event fills again and which owes consumers nothing.
    pub erased_at: Option<String>,
    /// How many entries the session's history holds.
    pub history_len: usize,
}

/// A review notice a session owes: Gu1 reported `status` after a different
/// terminal one. `notice` is the message body, built once when the first
/// event with that status arrived (only then are its fields known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedReview {
    pub status: SessionStatus,
    pub notice: String,
}

impl From<&SessionEvent> for SessionRecord {
    /// The record a new session holds after its first event: what the apply
    /// write stores (version 1, unpublished, no lease, writer unknown).
    fn from(event: &SessionEvent) -> Self {
        Self {
            session_id: event.session_id.clone(),
            status: event.status,
            event: Some(event.event.clone()),
            last_event_at: event.timestamp.clone(),
            fields: event.fields.clone(),
            version: 1,
            outcome_published_at: None,
            publish_lease_until: None,
            lease_holder: None,
            applied_by: None,
            reviews_owed: Vec::new(),
            reviews_published: Vec::new(),
            erased_at: None,
            history_len: 1,
        }
    }
}

impl SessionRecord {
    /// Terminal, and its outcome not yet on the queue (nor erased).
    pub fn outcome_pending(&self) -> bool {
        self.status.is_terminal() && self.outcome_published_at.is_none() && !self.is_erased()
    }

    /// Something is owed to consumers: the outcome, or a review notice.
    pub fn owes_messages(&self) -> bool {
        self.outcome_pending() || (!self.reviews_owed.is_empty() && !self.is_erased())
    }

    /// A tombstone: the personal fields were erased.
    pub fn is_erased(&self) -> bool {
        self.erased_at.is_some()
    }

    /// `writer`'s write set the stored status: how a writer whose request was
    /// retried recognises its own write in the `ALL_OLD` image.
    pub fn applied_by(&self, writer: &WriteToken) -> bool {
        self.applied_by.as_ref() == Some(writer)
    }

    /// `writer` holds a publish lease that is still running at `now_ms`.
    pub fn lease_held_by(&self, writer: &WriteToken, now_ms: u64) -> bool {
        self.lease_holder.as_ref() == Some(writer) && self.lease_live(now_ms)
    }

    /// Someone holds a publish lease that is still running at `now_ms`.
    pub fn lease_live(&self, now_ms: u64) -> bool {
        self.publish_lease_until.is_some_and(|until| until > now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_outcomes_are_terminal() {
        for status in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.is_terminal(), status.rank() == 2, "{status}");
        }
        let terminal = SessionStatus::ALL.iter().filter(|s| s.is_terminal());
        assert_eq!(terminal.count(), 5);
        assert!(SessionStatus::Pending.rank() < SessionStatus::InProgress.rank());
    }

    #[test]
    fn session_ids_are_safe_keys() {
        assert!(SessionId::parse("bio-session-uuid").is_ok());
        for bad in [
            "",
            "has space",
            "tab\t",
            "é",
            &"x".repeat(101),
            ".",
            "..",
            "...",
        ] {
            assert_eq!(SessionId::parse(bad), Err(InvalidSessionId), "{bad:?}");
        }
        assert!(SessionId::parse(&"x".repeat(100)).is_ok());
        // Dots are fine beside other characters: only dot-segments are refused.
        for good in ["a.b", "..a", "v1..2"] {
            assert!(SessionId::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn tokens_are_distinct_and_printable() {
        let tokens: std::collections::HashSet<_> =
            (0..1_000).map(|_| WriteToken::unique()).collect();
        assert_eq!(tokens.len(), 1_000);
        for token in &tokens {
            assert_eq!(token.as_str().len(), 22);
            assert!(is_safe_id(token.as_str()));
        }
    }
}
