//! The writes of the publish protocol ([`crate::outbox`]): claim the lease,
//! mark what went on the queue, settle, give the lease back. Each is one
//! conditional `UpdateItem` on the session's item.
//!
//! `pendingOutcome` means "something is owed to consumers": the outcome, or
//! a review notice that a reversal owes ([`REVIEWS_OWED_ATTR`]). It leaves
//! the item (and the sweeper's index) only when nothing is: with the mark of
//! the outcome when no notice is owed (the usual case, one write), else with
//! [`SessionStore::settle`] once the last notice is out.

use super::update::{n, s};
use super::*;
use crate::session::{OwedReview, SessionId, SessionRecord, SessionStatus, WriteToken};

/// What [`SessionStore::mark_published`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Marked {
    /// Marked, and nothing else owed: the session left the index.
    Settled,
    /// Marked, but these review notices are owed too: the session stays
    /// pending until they are out.
    ReviewsOwed(Vec<OwedReview>),
    /// Another publisher had marked the outcome already.
    ByAnother,
}

impl SessionStore {
    /// Takes the publish lease of an unpublished outcome whose lease has
    /// lapsed (or was released), for `writer`. Returns the session as it now
    /// stands, or `None` when someone else holds the lease or nothing is
    /// owed. A retried claim whose first attempt landed finds `writer`
    /// holding the lease and returns the session too.
    pub async fn claim_outcome(
        &self,
        session: &SessionId,
        writer: &WriteToken,
        now_ms: u64,
        lease_until_ms: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut update = Update::default();
        let result = update
            .set(LEASE_UNTIL_ATTR, n(lease_until_ms))
            .set(LEASE_HOLDER_ATTR, s(writer.as_str()))
            .name("#pendingOutcome", PENDING_ATTR)
            .value(":now", n(now_ms))
            .request(&self.client, &self.table, session)
            .condition_expression(
                "attribute_exists(#pendingOutcome) AND \
                 (attribute_not_exists(#publishLeaseUntil) OR #publishLeaseUntil <= :now)",
            )
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        const OPERATION: &str = "UpdateItem (claim)";
        match conditional(OPERATION, result)? {
            Conditional::Done(output) => Ok(Some(read(OPERATION, output.attributes.as_ref())?)),
            Conditional::Refused(stored) => {
                let record = read(OPERATION, stored.as_ref())?;
                Ok(record.lease_held_by(writer, now_ms).then_some(record))
            }
        }
    }

    /// Marks the outcome as on the queue. When no review notice is owed, the
    /// same write drops the session from the unpublished index and ends the
    /// lease ([`Marked::Settled`]); when one is, the outcome is marked alone
    /// and the lease kept for the notices. A retry of our own mark, whose
    /// first attempt landed, is not [`Marked::ByAnother`].
    pub async fn mark_published(
        &self,
        session: &SessionId,
        message_id: &str,
        now_ms: u64,
    ) -> Result<Marked, StoreError> {
        let result = outcome_mark(message_id, now_ms)
            .remove(PENDING_ATTR)
            .remove(LEASE_UNTIL_ATTR)
            .remove(LEASE_HOLDER_ATTR)
            .name("#reviewsOwed", REVIEWS_OWED_ATTR)
            .request(&self.client, &self.table, session)
            .condition_expression(
                "attribute_not_exists(#outcomePublishedAt) AND attribute_not_exists(#reviewsOwed)",
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let stored = match conditional("UpdateItem (mark published)", result)? {
            Conditional::Done(_) => return Ok(Marked::Settled),
            Conditional::Refused(stored) => stored.unwrap_or_default(),
        };
        match stored.get(MESSAGE_ID_ATTR).and_then(|id| id.as_s().ok()) {
            Some(id) if id == message_id => Ok(Marked::Settled),
            Some(_) => Ok(Marked::ByAnother),
            None if stored.contains_key(REVIEWS_OWED_ATTR) => {
                self.mark_outcome_only(session, message_id, now_ms).await
            }
            // The item is gone: nothing to mark.
            None => Ok(Marked::ByAnother),
        }
    }

    /// The outcome's mark alone, leaving the pending entry and the lease for
    /// the review notices that are owed too.
    async fn mark_outcome_only(
        &self,
        session: &SessionId,
        message_id: &str,
        now_ms: u64,
    ) -> Result<Marked, StoreError> {
        let result = outcome_mark(message_id, now_ms)
            .request(&self.client, &self.table, session)
            .condition_expression("attribute_not_exists(#outcomePublishedAt)")
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        const OPERATION: &str = "UpdateItem (mark outcome)";
        match conditional(OPERATION, result)? {
            Conditional::Done(output) => Ok(Marked::ReviewsOwed(
                read(OPERATION, output.attributes.as_ref())?.reviews_owed,
            )),
            Conditional::Refused(_) => Ok(Marked::ByAnother),
        }
    }

    /// Moves the review notice of `status` from owed to published. `false`
    /// if it was not owed (already marked by another publisher).
    pub async fn mark_review_published(
        &self,
        session: &SessionId,
        status: SessionStatus,
    ) -> Result<bool, StoreError> {
        let set = || AttributeValue::Ss(vec![status.as_str().to_owned()]);
        let mut update = Update::default();
        let result = update
            .delete(REVIEWS_OWED_ATTR, set())
            .add(REVIEWS_PUBLISHED_ATTR, set())
            .value(":status", s(status.as_str()))
            .request(&self.client, &self.table, session)
            .condition_expression("contains(#reviewsOwed, :status)")
            .send()
            .await;
        landed("UpdateItem (mark review published)", result)
    }

    /// Drops the session from the unpublished index and ends `holder`'s
    /// lease, if nothing is owed any more. `false` when something is (a
    /// notice owed since the holder read the item) or the lease is not
    /// `holder`'s: then the session stays pending for the next publisher.
    pub async fn settle(
        &self,
        session: &SessionId,
        holder: &WriteToken,
    ) -> Result<bool, StoreError> {
        let mut update = Update::default();
        let result = update
            .remove(PENDING_ATTR)
            .remove(LEASE_UNTIL_ATTR)
            .remove(LEASE_HOLDER_ATTR)
            .name("#reviewsOwed", REVIEWS_OWED_ATTR)
            .name("#outcomePublishedAt", PUBLISHED_AT_ATTR)
            .value(":holder", s(holder.as_str()))
            .request(&self.client, &self.table, session)
            .condition_expression(
                "attribute_not_exists(#reviewsOwed) AND attribute_exists(#outcomePublishedAt) \
                 AND #publishLeaseHolder = :holder",
            )
            .send()
            .await;
        landed("UpdateItem (settle)", result)
    }

    /// Gives up the lease `writer` holds (if it holds one), so that the next
    /// redelivery can publish at once instead of waiting for it to lapse.
    pub async fn release_lease(
        &self,
        session: &SessionId,
        writer: &WriteToken,
    ) -> Result<(), StoreError> {
        let operation = "UpdateItem (release lease)";
        self.end_lease(Update::default(), session, writer, operation)
            .await
    }

    /// `update`, and the end of `holder`'s lease, in one write. Refused when
    /// the lease is no longer the holder's (it lapsed and another took it):
    /// then there is nothing to give up, and what the holder sent stands.
    async fn end_lease(
        &self,
        mut update: Update,
        session: &SessionId,
        holder: &WriteToken,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        let result = update
            .remove(LEASE_UNTIL_ATTR)
            .remove(LEASE_HOLDER_ATTR)
            .value(":holder", s(holder.as_str()))
            .request(&self.client, &self.table, session)
            .condition_expression("#publishLeaseHolder = :holder")
            .send()
            .await;
        conditional(operation, result).map(drop)
    }
}

/// The outcome's mark: when it went on the queue, and its message id.
fn outcome_mark(message_id: &str, now_ms: u64) -> Update {
    let mut update = Update::default();
    update
        .set(PUBLISHED_AT_ATTR, s(rfc3339(now_ms)))
        .set(MESSAGE_ID_ATTR, s(message_id));
    update
}

/// What [`SessionStore::claim_republish`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum RepublishClaim {
    /// Ours: the session (terminal, its outcome published) under our lease,
    /// and how many times it has been republished, this time included.
    Claimed {
        record: Box<SessionRecord>,
        count: u64,
    },
    /// Terminal but its outcome never went out: the usual protocol sends it.
    Unpublished,
    /// Not sent, and why.
    Refused(NotRepublished),
}

/// Why a session's outcome is not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRepublished {
    NotFound,
    /// Not terminal: there is no outcome.
    NotTerminal,
    /// Erased: its outcome is gone with its data.
    Erased,
    /// Another publisher holds a live lease (a delivery, the sweeper, a
    /// republish): it is sending now.
    Busy,
}

impl SessionStore {
    /// Takes the publish lease of a terminal session whose outcome is on
    /// the queue already, to send it again, and counts the republish, in
    /// one conditional write: never for an active or erased session, nor
    /// while another publisher's lease is live.
    pub async fn claim_republish(
        &self,
        session: &SessionId,
        writer: &WriteToken,
        now_ms: u64,
        lease_until_ms: u64,
    ) -> Result<RepublishClaim, StoreError> {
        let mut update = Update::default();
        let result = update
            .set(LEASE_UNTIL_ATTR, n(lease_until_ms))
            .set(LEASE_HOLDER_ATTR, s(writer.as_str()))
            .add(REPUBLISH_COUNT_ATTR, n(1))
            .bind(RANK_ATTR, n(SessionStatus::Approved.rank()))
            .name("#outcomePublishedAt", PUBLISHED_AT_ATTR)
            .name("#erasedAt", ERASED_AT_ATTR)
            .value(":now", n(now_ms))
            .request(&self.client, &self.table, session)
            .condition_expression(
                "#statusRank = :statusRank AND attribute_exists(#outcomePublishedAt) \
                 AND attribute_not_exists(#erasedAt) \
                 AND (attribute_not_exists(#publishLeaseUntil) OR #publishLeaseUntil <= :now)",
            )
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        const OPERATION: &str = "UpdateItem (claim republish)";
        let stored = match conditional(OPERATION, result)? {
            Conditional::Done(output) => {
                let item = output.attributes.unwrap_or_default();
                let count = item
                    .get(REPUBLISH_COUNT_ATTR)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                let record = read(OPERATION, Some(&item))?;
                return Ok(RepublishClaim::Claimed {
                    record: Box::new(record),
                    count,
                });
            }
            Conditional::Refused(None) => {
                return Ok(RepublishClaim::Refused(NotRepublished::NotFound));
            }
            Conditional::Refused(Some(stored)) => read(OPERATION, Some(&stored))?,
        };
        Ok(if stored.is_erased() {
            RepublishClaim::Refused(NotRepublished::Erased)
        } else if !stored.status.is_terminal() {
            RepublishClaim::Refused(NotRepublished::NotTerminal)
        } else if stored.outcome_published_at.is_none() {
            RepublishClaim::Unpublished
        } else {
            RepublishClaim::Refused(NotRepublished::Busy)
        })
    }

    /// Records a republished outcome (when, and its message id) and gives
    /// `holder`'s lease back, in one write.
    pub async fn mark_republished(
        &self,
        session: &SessionId,
        holder: &WriteToken,
        message_id: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        let mut update = Update::default();
        update
            .set(REPUBLISHED_AT_ATTR, s(at))
            .set(REPUBLISHED_MESSAGE_ID_ATTR, s(message_id));
        let operation = "UpdateItem (mark republished)";
        self.end_lease(update, session, holder, operation).await
    }
}
