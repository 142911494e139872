//! The outbox: steps 4 and 5 as one protocol over the table and the queue,
//! so that every outcome reaches the queue and, but for a lost answer, once.
//!
//! An event is recorded with one conditional write ([`Outbox::record`]); a
//! terminal status opens the outcome's pending entry under a *publish lease*
//! in the writer's name. The outcome is then sent under that lease (or one
//! claimed later, when the lease has lapsed or been given back) and marked
//! published. Whoever brings the event (a delivery, reconciliation) or finds
//! the outcome pending (a redelivery, the sweeper) goes through here, so none
//! can race or double another.
//!
//! A reversal (a different terminal status after the first) owes consumers
//! a review notice, on the reviews queue. It is owed in the write that
//! records the conflict and sent by the same protocol, under the same lease:
//! the outcome first if it is still pending, then each owed notice.

use crate::clock::{millis, now_ms, rfc3339};
use crate::decide::{OutcomeDuty, Verdict, identity_conflicts, outcome_duty};
use crate::limits::{LEASE_RELEASE_TIMEOUT, PUBLISH_LEASE};
use crate::publish::{self, Queue, SendError};
use crate::session::{OwedReview, SessionEvent, SessionId, SessionRecord, WriteToken};
use crate::store::{Conflict, Marked, SessionStore, StoreError, Written};

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
    #[error("a review notice is owed but no reviews queue is configured")]
    NoReviewsQueue,
}

/// What one attempt to publish a session's outcome did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// We sent it and marked the item.
    Sent,
    /// Someone else holds the lease or has already published.
    NotOurs,
}

/// The sessions table, the outcomes queue (and the reviews queue, where one
/// is configured), and the lease between them.
#[derive(Debug, Clone)]
pub struct Outbox {
    store: SessionStore,
    outcomes: Queue,
    reviews: Option<Queue>,
}

impl Outbox {
    /// Without a reviews queue, a reversal is recorded and alarmed but owes
    /// no notice.
    pub fn new(store: SessionStore, outcomes: Queue, reviews: Option<Queue>) -> Self {
        Self {
            store,
            outcomes,
            reviews,
        }
    }

    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// The outcomes queue, for `republish`.
    pub(crate) fn outcomes(&self) -> &Queue {
        &self.outcomes
    }

    /// When a lease taken at `now_ms` ends ([`PUBLISH_LEASE`] later).
    pub(crate) fn lease_until(now_ms: u64) -> u64 {
        now_ms.saturating_add(millis(PUBLISH_LEASE))
    }

    /// Steps 3 and 4 for one event, whoever brought it (a delivery, or
    /// reconciliation): the conditional write under `writer`'s token, and on
    /// a conflict the record of it on the item (with a status conflict's
    /// review notice owed: then the returned record is the item after it).
    pub async fn record(
        &self,
        event: &SessionEvent,
        webhook_id: Option<&str>,
        writer: &WriteToken,
    ) -> Result<Written, StoreError> {
        let now = now_ms();
        let mut written = self
            .store
            .apply(event, webhook_id, writer, now, Self::lease_until(now))
            .await?;
        let session = &event.session_id;
        match written.verdict {
            Verdict::Conflict => {
                // One notice per conflicting status: none is built (nor its
                // write tried) for one already on the reviews queue.
                let published = written.record.reviews_published.contains(&event.status);
                let notice = self
                    .reviews
                    .as_ref()
                    .filter(|_| !published)
                    .and_then(|_| publish::review_notice(&written.record, event, rfc3339(now)))
                    .map(|notice| serde_json::to_string(&notice))
                    .transpose()
                    .map_err(|e| StoreError::new("UpdateItem (conflict)", e))?;
                let conflict = Conflict::Status {
                    status: event.status,
                    notice: notice.as_deref(),
                };
                let arrived = (event, webhook_id);
                let stored = &written.record;
                let owed = self.store.record_conflict(stored, arrived, conflict, now);
                if let Some(record) = owed.await? {
                    written.record = record;
                }
                tracing::warn!(
                    session_id = %session,
                    kept = %written.record.status,
                    conflicting = %event.status,
                    "conflicting terminal status: the first one is kept"
                );
            }
            Verdict::IdentityConflict => {
                let conflicts = identity_conflicts(&written.record.fields, &event.fields);
                let conflict = Conflict::Identity(&conflicts);
                let arrived = (event, webhook_id);
                let stored = &written.record;
                self.store
                    .record_conflict(stored, arrived, conflict, now)
                    .await?;
                crate::metrics::identity_conflict();
                for c in &conflicts {
                    // Hashes, not values: an external id may be personal.
                    tracing::warn!(
                        session_id = %session,
                        field = c.field.as_str(),
                        kept = %fingerprint(&c.stored),
                        refused = %fingerprint(&c.incoming),
                        incoming_status = %event.status,
                        "an event names another identity than the session's: nothing of it is applied"
                    );
                }
            }
            Verdict::Applied | Verdict::Duplicate | Verdict::Stale | Verdict::Erased => {}
        }
        Ok(written)
    }

    /// Step 5 after [`Outbox::record`]: sends the outcome if that falls to
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
                self.publish_held(record).await?;
            }
            OutcomeDuty::ClaimAndPublish => {
                self.claim_and_publish(&record.session_id, writer).await?;
            }
        }
        Ok(())
    }

    /// Publishes what `record` owes under the lease its caller holds: the
    /// outcome if it is pending, then each owed review notice, then settles.
    /// On a failed send the lease stays: the writer gives it back when it
    /// gives up ([`Outbox::give_back`]), whatever step failed.
    async fn publish_held(&self, record: &SessionRecord) -> Result<Published, PublishError> {
        let owed = if record.outcome_pending() {
            match self.publish_outcome(record).await? {
                Marked::Settled | Marked::ByAnother => return Ok(Published::Sent),
                Marked::ReviewsOwed(owed) => owed,
            }
        } else {
            record.reviews_owed.clone()
        };
        let session = &record.session_id;
        for review in &owed {
            self.publish_review(record, review).await?;
        }
        let Some(holder) = &record.lease_holder else {
            return Ok(Published::Sent);
        };
        if !self.store.settle(session, holder).await? {
            // Owed since we read the item: the next publisher sends it.
            self.give_back(session, holder).await;
        }
        Ok(Published::Sent)
    }

    /// Sends `record`'s outcome and marks it.
    async fn publish_outcome(&self, record: &SessionRecord) -> Result<Marked, PublishError> {
        let Some(message) = publish::outcome(record) else {
            return Ok(Marked::ByAnother);
        };
        let session = &record.session_id;
        let status = message.status.as_str();
        let message_id = match self.outcomes.send_outcome(&message, None).await {
            Ok(id) => {
                crate::metrics::outcome_published(status);
                if let Some(ms) = since_event(record, now_ms()) {
                    crate::metrics::outcome_latency(status, ms);
                }
                id
            }
            Err(err) => {
                crate::metrics::publish_failed(status);
                return Err(err.into());
            }
        };
        let marked = self
            .store
            .mark_published(session, &message_id, now_ms())
            .await?;
        if marked == Marked::ByAnother {
            tracing::warn!(session_id = %session, "outcome was marked published by another publisher");
        }
        Ok(marked)
    }

    /// Sends one review notice `record` owes (the body stored when the
    /// conflict was recorded) and marks it.
    async fn publish_review(
        &self,
        record: &SessionRecord,
        review: &OwedReview,
    ) -> Result<(), PublishError> {
        let session = &record.session_id;
        let Some(queue) = &self.reviews else {
            // Owed under an earlier configuration: kept until a queue is set.
            tracing::warn!(session_id = %session, "a review notice is owed but no reviews queue is configured");
            return Err(PublishError::NoReviewsQueue);
        };
        let status = review.status.as_str();
        match queue.send_review(record, review).await {
            Ok(_) => crate::metrics::review_published(status),
            Err(err) => {
                crate::metrics::publish_failed(status);
                return Err(err.into());
            }
        }
        if !self
            .store
            .mark_review_published(session, review.status)
            .await?
        {
            tracing::warn!(session_id = %session, "review notice was marked published by another publisher");
        }
        tracing::warn!(
            session_id = %session,
            kept = %record.status,
            conflicting = status,
            "review notice published: Gu1 reversed a terminal outcome"
        );
        Ok(())
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
        match self
            .store
            .claim_outcome(session, writer, now, Self::lease_until(now))
            .await?
        {
            Some(record) => self.publish_held(&record).await,
            None => Ok(Published::NotOurs),
        }
    }

    /// Opens the table's and the queue's connections at once, so that the
    /// first write and send pay no handshake. Best-effort: a failure is
    /// logged, and that call connects as it always did.
    pub async fn open_connections(&self) {
        let (table, queue) = tokio::join!(
            self.store.open_connection(),
            self.outcomes.open_connection()
        );
        for error in [
            table.err().map(|e| crate::error_chain(&e)),
            queue.err().map(|e| crate::error_chain(&e)),
        ]
        .into_iter()
        .flatten()
        {
            tracing::warn!(
                error,
                "could not open a connection ahead of the first delivery"
            );
        }
    }

    /// Gives back the lease `writer` may hold on `session`, best-effort and
    /// conditional on its token (a lease someone else holds is untouched).
    ///
    /// Every writer calls it when it gives up (a delivery that answers
    /// `503`, a failed sweeper claim or reconciliation check): whether or
    /// not its write landed, the next delivery or the sweeper can then
    /// publish at once instead of waiting for the lease to lapse. Bounded by
    /// [`LEASE_RELEASE_TIMEOUT`]; if it fails, the lease lapses by itself.
    pub async fn give_back(&self, session: &SessionId, writer: &WriteToken) {
        let released = tokio::time::timeout(
            LEASE_RELEASE_TIMEOUT,
            self.store.release_lease(session, writer),
        )
        .await;
        let error = match released {
            Ok(Ok(())) => return,
            Ok(Err(err)) => crate::error_chain(&err),
            Err(_) => "no answer in time".to_owned(),
        };
        tracing::warn!(session_id = %session, error, "could not give back the publish lease: it lapses by itself");
    }
}

/// Milliseconds from the event that set the session's status (Gu1's
/// envelope `timestamp`, or the session's `updatedAt` that reconciliation
/// read) to `now_ms`; `None` without a readable time. A clock ahead of ours
/// counts as 0.
fn since_event(record: &SessionRecord, now_ms: u64) -> Option<u64> {
    let at_ms = crate::clock::parse_ms(record.last_event_at.as_deref()?)?;
    Some(now_ms.saturating_sub(at_ms))
}

/// A short, stable fingerprint of a value for a log line: the first 12 hex
/// digits of its SHA-256, enough to tell two values apart and to find them
/// in the table, without writing the value itself.
fn fingerprint(value: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(value.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_since_the_event_is_read_from_its_timestamp() {
        let mut record = SessionRecord::from(&crate::parse::session(
            r#"{"event":"biometric.session_approved","timestamp":"2026-06-11T14:10:00Z",
                "payload":{"id":"bio-1","status":"approved"}}"#,
        ));
        let at = 1_781_187_000_000; // 2026-06-11T14:10:00Z
        assert_eq!(since_event(&record, at + 1_500), Some(1_500));
        assert_eq!(since_event(&record, at - 1), Some(0));
        record.last_event_at = Some("2026-06-11T14:10:00.250Z".into());
        assert_eq!(since_event(&record, at + 1_500), Some(1_250));
        record.last_event_at = Some("yesterday".into());
        assert_eq!(since_event(&record, at), None);
        record.last_event_at = None;
        assert_eq!(since_event(&record, at), None);
    }

    #[test]
    fn fingerprints_tell_values_apart_without_showing_them() {
        let (a, b) = (fingerprint("customer-123"), fingerprint("customer-124"));
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
        assert_eq!(a, fingerprint("customer-123"));
        assert!(!a.contains("customer"));
    }
}
