//! Recording a conflict on the item: a different terminal status after the
//! first (and the review notice it owes consumers), or an event naming
//! another identity. What arrived is kept as a set, and in the history while
//! there is room, in the same write.

use super::item::{append_history, history_entry};
use super::update::{n, s};
use super::*;
use crate::decide::IdentityConflict;
use crate::limits::HISTORY_MAX_ENTRIES;
use crate::session::{SessionEvent, SessionId, SessionRecord, SessionStatus};

/// What [`SessionStore::record_conflict`] records.
#[derive(Debug, Clone, Copy)]
pub enum Conflict<'a> {
    /// A different terminal status after the first, and the review notice
    /// it owes consumers (`None` where no reviews queue is configured).
    Status {
        status: SessionStatus,
        notice: Option<&'a str>,
    },
    /// An event that named another identity than the session's.
    Identity(&'a [IdentityConflict]),
}

/// What one try of the conflict's write did.
enum Tried {
    /// Written: the session as it now stands when a notice became owed.
    Done(Option<Box<SessionRecord>>),
    /// Refused only because the history filled up since the event read it
    /// (a race of conflicting deliveries): to be written without the entry.
    HistoryFull,
}

impl SessionStore {
    /// Records a conflict on the item that `stored` shows: what arrived
    /// (`event`, in delivery `webhook_id`) and when, kept as a set and, while
    /// there is room ([`HISTORY_MAX_ENTRIES`]), in the history.
    ///
    /// A status conflict that brings a review `notice` also makes the
    /// notice owed (once per session and conflicting status: not if it was
    /// published already) and puts the session back in the unpublished
    /// index, in the same write; the session as it then stands is returned,
    /// for the publisher. `None` otherwise.
    ///
    /// The history's bound is in the write's condition, so that conflicting
    /// deliveries racing each other cannot pass it; the one that loses the
    /// race for the last place writes again without its entry.
    pub async fn record_conflict(
        &self,
        stored: &SessionRecord,
        (event, webhook_id): (&SessionEvent, Option<&str>),
        conflict: Conflict<'_>,
        now_ms: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let session = &stored.session_id;
        let kind = match conflict {
            Conflict::Status { .. } => "status",
            Conflict::Identity(_) => "identity",
        };
        if stored.history_len < HISTORY_MAX_ENTRIES {
            let entry = history_entry(
                Some(event.status),
                &event.event,
                webhook_id,
                Some(kind),
                now_ms,
            );
            if let Tried::Done(record) = self
                .try_conflict(session, conflict, Some(entry), now_ms)
                .await?
            {
                return Ok(record.map(|r| *r));
            }
        }
        match self.try_conflict(session, conflict, None, now_ms).await? {
            Tried::Done(record) => Ok(record.map(|r| *r)),
            Tried::HistoryFull => Err(StoreError::new(
                "UpdateItem (conflict)",
                ItemError(HISTORY_ATTR),
            )),
        }
    }

    /// One try of the conflict's write, with its history `entry` if any
    /// (appended only while the history has room).
    async fn try_conflict(
        &self,
        session: &SessionId,
        conflict: Conflict<'_>,
        entry: Option<AttributeValue>,
        now_ms: u64,
    ) -> Result<Tried, StoreError> {
        let noted = || {
            let mut update = Update::default();
            let mut condition = String::from("attribute_exists(#sessionId)");
            if let Some(entry) = &entry {
                append_history(&mut update, entry.clone());
                update.value(":historyMax", n(HISTORY_MAX_ENTRIES));
                condition.push_str(
                    " AND (attribute_not_exists(#history) OR size(#history) < :historyMax)",
                );
            }
            update.name("#sessionId", KEY);
            (update, condition)
        };
        let full = |item: &Option<Item>| {
            entry.is_some()
                && item
                    .as_ref()
                    .and_then(|item| item.get(HISTORY_ATTR)?.as_l().ok())
                    .is_some_and(|history| history.len() >= HISTORY_MAX_ENTRIES)
        };
        if let Conflict::Status {
            status,
            notice: Some(notice),
        } = conflict
        {
            let (update, condition) = noted();
            match self
                .owe_review(update, condition, session, status, notice, now_ms)
                .await?
            {
                Conditional::Done(record) => return Ok(Tried::Done(Some(Box::new(record)))),
                Conditional::Refused(item) if full(&item) => return Ok(Tried::HistoryFull),
                // Published already (or erased): the conflict is recorded below.
                Conditional::Refused(_) => {}
            }
        }
        let (at, set, entries) = match conflict {
            Conflict::Status { status, .. } => (
                CONFLICT_AT_ATTR,
                CONFLICT_STATUSES_ATTR,
                vec![status.as_str().to_owned()],
            ),
            Conflict::Identity(conflicts) => (
                IDENTITY_CONFLICT_AT_ATTR,
                IDENTITY_CONFLICTS_ATTR,
                conflicts
                    .iter()
                    .map(|c| format!("{}={}", c.field.as_str(), c.incoming))
                    .collect(),
            ),
        };
        let (mut update, condition) = noted();
        let result = update
            .set(at, s(rfc3339(now_ms)))
            .add(set, AttributeValue::Ss(entries))
            .request(&self.client, &self.table, session)
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        const OPERATION: &str = "UpdateItem (conflict)";
        match conditional(OPERATION, result)? {
            Conditional::Done(_) => Ok(Tried::Done(None)),
            Conditional::Refused(item) if full(&item) => Ok(Tried::HistoryFull),
            // The item is gone.
            Conditional::Refused(_) => Err(StoreError::new(OPERATION, ItemError(KEY))),
        }
    }

    /// The status conflict's record, and its review notice owed, under
    /// `condition` and the update's history entry: refused when that notice
    /// was published already (or the item is erased or gone).
    async fn owe_review(
        &self,
        mut update: Update,
        mut condition: String,
        session: &SessionId,
        status: SessionStatus,
        notice: &str,
        now_ms: u64,
    ) -> Result<Conditional<SessionRecord>, StoreError> {
        let set = || AttributeValue::Ss(vec![status.as_str().to_owned()]);
        let notice_attr = review_notice_attr(status);
        update
            .set(CONFLICT_AT_ATTR, s(rfc3339(now_ms)))
            .set(PENDING_ATTR, s(PENDING))
            .set_expr(
                &notice_attr,
                &format!("if_not_exists(#{notice_attr}, :{notice_attr})"),
            )
            .value(&format!(":{notice_attr}"), s(notice))
            .add(CONFLICT_STATUSES_ATTR, set())
            .add(REVIEWS_OWED_ATTR, set())
            .name("#reviewsPublished", REVIEWS_PUBLISHED_ATTR)
            .name("#erasedAt", ERASED_AT_ATTR)
            .value(":status", s(status.as_str()));
        condition.push_str(
            " AND NOT contains(#reviewsPublished, :status) AND attribute_not_exists(#erasedAt)",
        );
        let result = update
            .request(&self.client, &self.table, session)
            .condition_expression(condition)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        const OPERATION: &str = "UpdateItem (owe review)";
        Ok(match conditional(OPERATION, result)? {
            Conditional::Done(output) => {
                Conditional::Done(read(OPERATION, output.attributes.as_ref())?)
            }
            Conditional::Refused(item) => Conditional::Refused(item),
        })
    }
}
