//! The erasure of a session's personal fields: one conditional `UpdateItem`
//! that leaves a tombstone (`erasedAt`, with the session id, its status and
//! history), which the apply write's condition then refuses to fill again.

use super::item::{append_history, history_entry};
use super::update::{n, s};
use super::*;
use crate::session::{SessionId, SessionStatus};
use aws_sdk_dynamodb::types::AttributeValue;

/// The attributes that identify a person or describe their biometrics,
/// removed by an erasure: the ids, Gu1's free-text message, the provider's
/// decision (scores, media keys), the identities a conflict brought, and
/// the review notices (which carry all of these). The status, rejection
/// code, times and history stay: they say what happened, not to whom.
pub const PERSONAL_ATTRS: [&str; 5] = [
    ENTITY_ID_ATTR,
    EXTERNAL_ID_ATTR,
    REJECTION_MESSAGE_ATTR,
    DECISION_ATTR,
    IDENTITY_CONFLICTS_ATTR,
];

/// What [`SessionStore::erase`] did to one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    /// The personal fields are gone; a tombstone stays.
    Now,
    /// A tombstone already; erased again all the same.
    Already,
    /// No such session.
    NotFound,
    /// A publisher holds a live lease on it: erasing now could race a send
    /// of its data. Run again once the lease ends (seconds).
    Busy,
}

impl SessionStore {
    /// Erases `session`'s personal fields ([`PERSONAL_ATTRS`], and every
    /// review notice), drops whatever it still owed consumers and its place
    /// in the stale-sessions index, and marks it `erasedAt` (the first
    /// erasure's time), with a history entry, in one write. Refused while a
    /// publisher holds a live lease.
    pub async fn erase(&self, session: &SessionId, now_ms: u64) -> Result<Erased, StoreError> {
        let mut update = Update::default();
        update
            .set_expr(ERASED_AT_ATTR, "if_not_exists(#erasedAt, :erasedAt)")
            .value(":erasedAt", s(rfc3339(now_ms)));
        let status = SessionStatus::ALL;
        for attr in PERSONAL_ATTRS
            .into_iter()
            .map(str::to_owned)
            .chain(status.into_iter().map(review_notice_attr))
            .chain(
                [
                    PENDING_ATTR,
                    REVIEWS_OWED_ATTR,
                    ACTIVE_ATTR,
                    CHECKED_AT_ATTR,
                    LEASE_UNTIL_ATTR,
                    LEASE_HOLDER_ATTR,
                ]
                .map(str::to_owned),
            )
        {
            update.remove(&attr);
        }
        append_history(&mut update, erasure_entry(now_ms));
        let result = update
            .name("#sessionId", KEY)
            .value(":now", n(now_ms))
            .request(&self.client, &self.table, session)
            .condition_expression(
                "attribute_exists(#sessionId) AND \
                 (attribute_not_exists(#publishLeaseUntil) OR #publishLeaseUntil <= :now)",
            )
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        const OPERATION: &str = "UpdateItem (erase)";
        let erased = match conditional(OPERATION, result)? {
            Conditional::Done(old) => {
                let old = read(OPERATION, old.attributes.as_ref())?;
                if old.is_erased() {
                    Erased::Already
                } else {
                    Erased::Now
                }
            }
            Conditional::Refused(None) => Erased::NotFound,
            Conditional::Refused(Some(_)) => Erased::Busy,
        };
        Ok(erased)
    }
}

/// The erasure's entry in the history: when, and `event` [`ERASE_EVENT`].
fn erasure_entry(now_ms: u64) -> AttributeValue {
    history_entry(None, ERASE_EVENT, None, None, now_ms)
}

/// The `event` of an erasure's history entry.
pub const ERASE_EVENT: &str = "erase";
