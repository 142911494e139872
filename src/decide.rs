//! Step 3 of a delivery: what does this event do to the session?
//!
//! Pure rules, no I/O. Statuses are ranked `pending` < `in_progress` <
//! terminal, and a session only ever moves up: that one rule makes duplicate
//! and out-of-order deliveries harmless. The store enforces the same rule
//! atomically in DynamoDB's `ConditionExpression` (see [`crate::store`]); the
//! functions here classify what happened and say who must publish the outcome.

use crate::parse::{SessionEvent, SessionId, SessionStatus};

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
        }
    }
}

impl SessionRecord {
    /// Terminal, and its outcome not yet on the queue.
    pub fn outcome_pending(&self) -> bool {
        self.status.is_some_and(SessionStatus::is_terminal) && self.outcome_published_at.is_none()
    }
}

/// Who sends a terminal outcome to SQS, decided after the write.
///
/// The write that makes a session terminal also takes a short *publish
/// lease*, so that of 20 concurrent copies of one event exactly one sends.
/// Any later delivery (or the sweeper) that finds the outcome still unsent
/// once the lease has lapsed claims a new lease with a conditional write and
/// sends it: an outcome is never left waiting on a publisher that died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeDuty {
    /// Not terminal, or already published.
    None,
    /// Our write took the lease: send now.
    Publish,
    /// Unpublished and no live lease: claim one, then send.
    ClaimAndPublish,
    /// Another publisher holds a live lease; it (or, failing it, the sweeper) sends.
    HeldElsewhere,
}

/// Decides the [`OutcomeDuty`] for a delivery whose write gave `verdict` and
/// left the session as `record`, at `now_ms` (epoch milliseconds).
pub fn outcome_duty(verdict: Verdict, record: &SessionRecord, now_ms: u64) -> OutcomeDuty {
    if !record.outcome_pending() {
        OutcomeDuty::None
    } else if verdict == Verdict::Applied {
        OutcomeDuty::Publish
    } else if record
        .publish_lease_until
        .is_some_and(|until| until > now_ms)
    {
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

    fn terminal(published: bool, lease: Option<u64>) -> SessionRecord {
        SessionRecord {
            status: Some(Approved),
            outcome_published_at: published.then(|| "2026-01-01T00:00:00Z".into()),
            publish_lease_until: lease,
            ..SessionRecord::default()
        }
    }

    #[test]
    fn the_writer_publishes_and_others_wait_for_its_lease() {
        let now = 1_000;
        let t = terminal(false, Some(now + 1));
        assert_eq!(
            outcome_duty(Verdict::Applied, &t, now),
            OutcomeDuty::Publish
        );
        assert_eq!(
            outcome_duty(Verdict::Duplicate, &t, now),
            OutcomeDuty::HeldElsewhere
        );
        let lapsed = terminal(false, Some(now));
        assert_eq!(
            outcome_duty(Verdict::Stale, &lapsed, now),
            OutcomeDuty::ClaimAndPublish
        );
        assert_eq!(
            outcome_duty(Verdict::Conflict, &terminal(false, None), now),
            OutcomeDuty::ClaimAndPublish
        );
        assert_eq!(
            outcome_duty(Verdict::Duplicate, &terminal(true, None), now),
            OutcomeDuty::None
        );
        let active = SessionRecord {
            status: Some(InProgress),
            ..SessionRecord::default()
        };
        assert_eq!(
            outcome_duty(Verdict::Applied, &active, now),
            OutcomeDuty::None
        );
    }
}
