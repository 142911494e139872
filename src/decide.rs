//! Step 3 of a delivery: what does this event do to the session?
//!
//! Pure rules, no I/O. Statuses are ranked `pending` < `in_progress` <
//! terminal, and a session only ever moves up: that one rule makes duplicate
//! and out-of-order deliveries harmless. The store enforces the same rule
//! atomically in DynamoDB's `ConditionExpression` (see [`crate::store`]); the
//! functions here classify what happened and say who must publish the outcome.

use std::time::Duration;

use crate::session::{IdentityField, SessionFields, SessionRecord, SessionStatus, WriteToken};

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
    /// The event names another entity, organization or external id than
    /// the session has: nothing of it is applied ([`identity_conflicts`]).
    IdentityConflict,
    /// The session was erased: nothing of the event is stored, and nothing
    /// is published.
    Erased,
}

impl Verdict {
    /// Every verdict: the `Result` values a delivery's metric may carry.
    pub const ALL: [Verdict; 6] = [
        Self::Applied,
        Self::Duplicate,
        Self::Stale,
        Self::Conflict,
        Self::IdentityConflict,
        Self::Erased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Stale => "stale",
            Self::Conflict => "conflict",
            Self::IdentityConflict => "identity_conflict",
            Self::Erased => "erased",
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

/// Whether an event Gu1 sent at `timestamp` (its envelope's, RFC 3339) is
/// older than the table keeps items (`retention`), at `now_ms`.
///
/// Such a delivery is a replay of something the table may have let expire:
/// storing it would bring an expired (or erased and expired) session back
/// and publish its outcome again, so it is acknowledged and dropped. An
/// event without a readable time, or without a retention, is never too old
/// (and without a retention, its time is not even read).
pub fn beyond_retention(timestamp: Option<&str>, now_ms: u64, retention: Option<Duration>) -> bool {
    let Some(keep) = retention else {
        return false;
    };
    timestamp
        .and_then(crate::clock::parse_ms)
        .is_some_and(|sent| now_ms.saturating_sub(sent) > crate::clock::millis(keep))
}

/// One identity field on which an event disagrees with the stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConflict {
    pub field: IdentityField,
    /// The value the session has kept.
    pub stored: String,
    /// The value the event brought, refused.
    pub incoming: String,
}

/// The identity fields on which `incoming` disagrees with `stored`.
///
/// A session belongs to one entity and one organization for its whole life:
/// the first value stored for each [`IdentityField`] is the only one. An
/// event that lacks a field agrees with anything (later events often carry
/// less); one that names another value is not applied at all, neither its
/// identity nor its status, so no outcome can go out with a mixed identity
/// or under another person's name. The store enforces the same rule in the
/// apply write's condition.
pub fn identity_conflicts(
    stored: &SessionFields,
    incoming: &SessionFields,
) -> Vec<IdentityConflict> {
    IdentityField::ALL
        .into_iter()
        .filter_map(|field| match (field.of(stored), field.of(incoming)) {
            (Some(stored), Some(incoming)) if stored != incoming => Some(IdentityConflict {
                field,
                stored: stored.to_owned(),
                incoming: incoming.to_owned(),
            }),
            _ => None,
        })
        .collect()
}

/// Who sends a terminal outcome (and any review notice a reversal owes) to
/// SQS, decided after the write.
///
/// The write that makes a session terminal also takes a short *publish
/// lease* in the writer's name ([`WriteToken`]), so that of 20 concurrent
/// copies of one event exactly one sends. Any later delivery (or the sweeper)
/// that finds the outcome still unsent once the lease has lapsed claims a new
/// lease with a conditional write and sends it: an outcome is never left
/// waiting on a publisher that died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeDuty {
    /// Nothing owed: not terminal, or the outcome (and every review
    /// notice) already published.
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
    if !record.owes_messages() {
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
    fn identity_is_write_once_and_a_missing_field_agrees() {
        let fields =
            |entity: Option<&str>, org: Option<&str>, external: Option<&str>| SessionFields {
                entity_id: entity.map(Into::into),
                organization_id: org.map(Into::into),
                external_id: external.map(Into::into),
                ..SessionFields::default()
            };
        let stored = fields(Some("e1"), Some("o1"), None);
        assert!(identity_conflicts(&stored, &stored).is_empty());
        assert!(identity_conflicts(&stored, &fields(None, None, None)).is_empty());
        // Not yet stored: the first value is taken, no conflict.
        assert!(identity_conflicts(&stored, &fields(None, None, Some("x9"))).is_empty());
        assert_eq!(
            identity_conflicts(&stored, &fields(Some("e2"), Some("o1"), Some("x9"))),
            [IdentityConflict {
                field: IdentityField::EntityId,
                stored: "e1".into(),
                incoming: "e2".into()
            }]
        );
        let both = identity_conflicts(&stored, &fields(Some("e2"), Some("o2"), None));
        let names: Vec<_> = both.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["entityId", "organizationId"]);
    }

    #[test]
    fn only_a_dated_event_older_than_the_retention_is_beyond_it() {
        let day = Some(Duration::from_secs(86_400));
        let now = 1_796_165_643_710; // 2026-12-01T22:54:03.710Z
        assert!(beyond_retention(Some("2026-11-30T22:54:03.709Z"), now, day));
        assert!(!beyond_retention(
            Some("2026-11-30T22:54:03.710Z"),
            now,
            day
        ));
        // A clock ahead of ours, no readable time, no retention: kept.
        assert!(!beyond_retention(Some("2026-12-01T22:55:00Z"), now, day));
        assert!(!beyond_retention(Some("yesterday"), now, day));
        assert!(!beyond_retention(None, now, day));
        assert!(!beyond_retention(Some("2020-01-01T00:00:00Z"), now, None));
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
        let mut record = SessionRecord::from(&crate::parse::session(
            r#"{"event":"biometric.session_approved","payload":{"id":"s1","status":"approved"}}"#,
        ));
        record.outcome_published_at = published.then(|| "2026-01-01T00:00:00Z".into());
        record.publish_lease_until = lease.map(|(until, _)| until);
        record.lease_holder = lease.map(|(_, holder)| holder.clone());
        record
    }

    #[test]
    fn the_lease_holder_publishes_and_others_wait_for_its_lease() {
        let now = 1_000;
        let (us, them) = (WriteToken::unique(), WriteToken::unique());
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
        // Published, but a reversal owes a review notice: the same lease
        // protocol sends it.
        let mut reversed = terminal(true, None);
        reversed.reviews_owed.push(crate::session::OwedReview {
            status: Rejected,
            notice: "{}".into(),
        });
        assert_eq!(
            outcome_duty(&reversed, &us, now),
            OutcomeDuty::ClaimAndPublish
        );
        reversed.publish_lease_until = Some(now + 1);
        reversed.lease_holder = Some(them.clone());
        assert_eq!(
            outcome_duty(&reversed, &us, now),
            OutcomeDuty::HeldElsewhere
        );
        let active = SessionRecord {
            status: InProgress,
            ..terminal(false, None)
        };
        assert_eq!(outcome_duty(&active, &us, now), OutcomeDuty::None);
    }
}
