//! Step 3 of a delivery: what does this event do to the session?
//!
//! Pure rules, no I/O. Statuses are ranked `pending` < `in_progress` <
//! terminal, and a session only ever moves up: that one rule makes duplicate
//! and out-of-order deliveries harmless. The store enforces the same rule
//! atomically in DynamoDB's `ConditionExpression` (see [`crate::store`]); the
//! functions here classify what happened and say who must publish the outcome.

use crate::parse::{SessionEvent, SessionId, SessionStatus};
use base64::Engine as _;
use std::fmt;

impl SessionStatus {
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

/// What one event did to the stored session; the `result` of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The event moved the session forward (or created it).
    Applied,
    /// The session already has this status.
    Duplicate,
    /// The session is already further along.
    Stale,
    /// A different terminal status after a terminal one: the first is kept.
    Conflict,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Stale => "stale",
            Self::Conflict => "conflict",
        }
    }
}

/// Classifies an incoming status against the stored one (`None`: new session).
///
/// `Applied` exactly when the store's condition
/// `attribute_not_exists(sessionId) OR statusRank < :rank` holds.
pub fn verdict(stored: Option<SessionStatus>, incoming: SessionStatus) -> Verdict {
    let Some(stored) = stored else {
        return Verdict::Applied;
    };
    match incoming.rank().cmp(&stored.rank()) {
        std::cmp::Ordering::Greater => Verdict::Applied,
        std::cmp::Ordering::Less => Verdict::Stale,
        std::cmp::Ordering::Equal if incoming == stored => Verdict::Duplicate,
        std::cmp::Ordering::Equal => Verdict::Conflict,
    }
}

/// A random 128-bit id that one writer (a delivery, or one sweeper claim)
/// stores next to what its conditional write changes.
///
/// Why: when a write lands but its answer is lost or late, the SDK retries the
/// same request, and the retry's condition fails against the writer's *own*
/// earlier write. The token in the returned `ALL_OLD` image tells "my write
/// landed" from "someone else's did", without an extra read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriteToken(String);

impl WriteToken {
    /// A fresh token from the operating system's random source (the same one
    /// rustls draws from). Unique, not secret.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        if getrandom::getrandom(&mut bytes).is_err() {
            // Never seen on Linux; fall back to a clock-and-counter id, still
            // unique within the process and very unlikely to repeat across.
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes[..8].copy_from_slice(&n.to_le_bytes());
            bytes[8..].copy_from_slice(&(t as u64 ^ u64::from(std::process::id())).to_le_bytes());
        }
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

/// The session as stored: the DynamoDB item in domain types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionRecord {
    pub session_id: Option<SessionId>,
    pub status: Option<SessionStatus>,
    /// Name of the event that set `status`.
    pub event: Option<String>,
    /// Envelope timestamp of the event that set `status`.
    pub last_event_at: Option<String>,
    pub entity_id: Option<String>,
    pub organization_id: Option<String>,
    pub external_id: Option<String>,
    pub rejection_code: Option<String>,
    pub rejection_message: Option<String>,
    pub completed_at: Option<String>,
    /// The decision JSON object, as text.
    pub decision: Option<String>,
    pub version: u64,
    /// Set once the outcome is on the queue.
    pub outcome_published_at: Option<String>,
    /// Until when (epoch milliseconds) one publisher holds the right to send
    /// the outcome. See [`OutcomeDuty`].
    pub publish_lease_until: Option<u64>,
    /// Who holds that lease.
    pub lease_holder: Option<WriteToken>,
    /// The writer whose write set `status`.
    pub applied_by: Option<WriteToken>,
}

impl From<&SessionEvent> for SessionRecord {
    /// The record a new session holds after its first event: what the apply
    /// write stores (version 1, unpublished, no lease yet).
    fn from(event: &SessionEvent) -> Self {
        Self {
            session_id: Some(event.session_id.clone()),
            status: Some(event.status),
            event: Some(event.event.clone()),
            last_event_at: event.timestamp.clone(),
            entity_id: event.entity_id.clone(),
            organization_id: event.organization_id.clone(),
            external_id: event.external_id.clone(),
            rejection_code: event.rejection_code.clone(),
            rejection_message: event.rejection_message.clone(),
            completed_at: event.completed_at.clone(),
            decision: event.decision.clone(),
            version: 1,
            outcome_published_at: None,
            publish_lease_until: None,
            lease_holder: None,
            applied_by: None,
        }
    }
}

impl SessionRecord {
    /// Terminal, and its outcome not yet on the queue.
    pub fn outcome_pending(&self) -> bool {
        self.status.is_some_and(SessionStatus::is_terminal) && self.outcome_published_at.is_none()
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

    fn lease_live(&self, now_ms: u64) -> bool {
        self.publish_lease_until.is_some_and(|until| until > now_ms)
    }
}

/// Who sends a terminal outcome to SQS, decided after the write.
///
/// The write that makes a session terminal also takes a short *publish
/// lease* in the writer's name ([`WriteToken`]), so that of 20 concurrent
/// copies of one event exactly one sends. Any later delivery (or the sweeper)
/// that finds the outcome still unsent once the lease has lapsed claims a new
/// lease with a conditional write and sends it: an outcome is never left
/// waiting on a publisher that died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeDuty {
    /// Not terminal, or already published.
    None,
    /// We hold the live lease (our write took it): send now.
    Publish,
    /// Unpublished and no live lease: claim one, then send.
    ClaimAndPublish,
    /// Another publisher holds a live lease; it (or, failing it, the sweeper) sends.
    HeldElsewhere,
}

/// Decides the [`OutcomeDuty`] of `writer`, whose write left the session as
/// `record` (or found it so), at `now_ms` (epoch milliseconds).
///
/// It depends on whose lease it is, never on whether this request's answer
/// said "applied": a write whose answer was lost still holds its lease.
pub fn outcome_duty(record: &SessionRecord, writer: &WriteToken, now_ms: u64) -> OutcomeDuty {
    if !record.outcome_pending() {
        OutcomeDuty::None
    } else if record.lease_held_by(writer, now_ms) {
        OutcomeDuty::Publish
    } else if record.lease_live(now_ms) {
        OutcomeDuty::HeldElsewhere
    } else {
        OutcomeDuty::ClaimAndPublish
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionStatus::*;

    #[test]
    fn sessions_only_move_up() {
        assert_eq!(verdict(None, Approved), Verdict::Applied);
        assert_eq!(verdict(None, Pending), Verdict::Applied);
        assert_eq!(verdict(Some(Pending), InProgress), Verdict::Applied);
        assert_eq!(verdict(Some(InProgress), Cancelled), Verdict::Applied);
        assert_eq!(verdict(Some(Approved), Approved), Verdict::Duplicate);
        assert_eq!(verdict(Some(Pending), Pending), Verdict::Duplicate);
        assert_eq!(verdict(Some(Approved), InProgress), Verdict::Stale);
        assert_eq!(verdict(Some(InProgress), Pending), Verdict::Stale);
        assert_eq!(verdict(Some(Approved), Rejected), Verdict::Conflict);
    }

    #[test]
    fn verdict_applies_exactly_when_the_store_condition_holds() {
        for stored in SessionStatus::ALL {
            for incoming in SessionStatus::ALL {
                let condition = incoming.rank() > stored.rank();
                assert_eq!(
                    verdict(Some(stored), incoming) == Verdict::Applied,
                    condition,
                    "{stored} -> {incoming}"
                );
            }
        }
    }

    fn terminal(published: bool, lease: Option<(u64, &WriteToken)>) -> SessionRecord {
        SessionRecord {
            status: Some(Approved),
            outcome_published_at: published.then(|| "2026-01-01T00:00:00Z".into()),
            publish_lease_until: lease.map(|(until, _)| until),
            lease_holder: lease.map(|(_, holder)| holder.clone()),
            ..SessionRecord::default()
        }
    }

    #[test]
    fn the_lease_holder_publishes_and_others_wait_for_its_lease() {
        let now = 1_000;
        let (us, them) = (WriteToken::random(), WriteToken::random());
        let ours = terminal(false, Some((now + 1, &us)));
        assert_eq!(outcome_duty(&ours, &us, now), OutcomeDuty::Publish);
        assert_eq!(outcome_duty(&ours, &them, now), OutcomeDuty::HeldElsewhere);
        let lapsed = terminal(false, Some((now, &them)));
        assert_eq!(
            outcome_duty(&lapsed, &us, now),
            OutcomeDuty::ClaimAndPublish
        );
        // Our own lease, lapsed: claimed again like anyone's, never sent under
        // a lease someone else may have claimed meanwhile.
        let our_lapsed = terminal(false, Some((now, &us)));
        assert_eq!(
            outcome_duty(&our_lapsed, &us, now),
            OutcomeDuty::ClaimAndPublish
        );
        assert_eq!(
            outcome_duty(&terminal(false, None), &us, now),
            OutcomeDuty::ClaimAndPublish
        );
        assert_eq!(
            outcome_duty(&terminal(true, Some((now + 1, &us))), &us, now),
            OutcomeDuty::None
        );
        let active = SessionRecord {
            status: Some(InProgress),
            ..SessionRecord::default()
        };
        assert_eq!(outcome_duty(&active, &us, now), OutcomeDuty::None);
    }

    #[test]
    fn tokens_are_distinct_and_printable() {
        let tokens: std::collections::HashSet<_> =
            (0..1_000).map(|_| WriteToken::random()).collect();
        assert_eq!(tokens.len(), 1_000);
        for token in &tokens {
            assert_eq!(token.as_str().len(), 22);
            assert!(crate::parse::is_safe_id(token.as_str()));
        }
    }
}
