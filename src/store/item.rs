//! The item's shape: the write that applies an event (and the condition
//! that guards it), and the reading of an item back into a
//! [`SessionRecord`], both over the names of [`super::attrs`]. Both
//! directions are pure and unit-tested here.

use super::Item;
use super::attrs::*;
use super::update::{Update, n, s};
use crate::clock::{rfc3339, utc_day};
use crate::session::{
    IdentityField, OwedReview, SessionEvent, SessionFields, SessionId, SessionRecord,
    SessionStatus, WriteToken,
};
use aws_sdk_dynamodb::types::AttributeValue;

/// An item that is not a session: no usable `sessionId` or `status`. Only a
/// hand-edited item can be one; it is reported, never guessed at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored item has no valid {0}")]
pub struct ItemError(pub(super) &'static str);

/// The `UpdateItem` that applies `event`: every field the event carries, the
/// new rank and version, `writer`'s token, the history's entry, the time to
/// live (`expires_at`, epoch seconds, with a retention), and for a terminal
/// status the pending-outcome entry (with its day, for the terminal index)
/// and `writer`'s publish lease.
pub fn apply_update(
    event: &SessionEvent,
    webhook_id: Option<&str>,
    writer: &WriteToken,
    (now_ms, lease_until_ms): (u64, u64),
    expires_at: Option<u64>,
) -> Update {
    let mut update = Update::default();
    update
        .set(STATUS_ATTR, s(event.status.as_str()))
        .set(RANK_ATTR, n(event.status.rank()))
        .set(EVENT_ATTR, s(&event.event))
        .set(APPLIED_BY_ATTR, s(writer.as_str()))
        .set(UPDATED_AT_ATTR, s(rfc3339(now_ms)))
        .set_expr(
            FIRST_SEEN_AT_ATTR,
            "if_not_exists(#firstSeenAt, :updatedAt)",
        )
        .set_expr(VERSION_ATTR, "if_not_exists(#version, :zero) + :one")
        .value(":zero", n(0))
        .value(":one", n(1));
    // Absent fields are left alone: a later event that lacks one never
    // erases what an earlier event stored.
    let timestamp = (LAST_EVENT_AT_ATTR, event.timestamp.as_ref());
    for (attr, value) in field_attributes(&event.fields)
        .into_iter()
        .chain([timestamp])
    {
        if let Some(value) = value {
            update.set(attr, s(value));
        }
    }
    if let Some(id) = webhook_id {
        update.set(WEBHOOK_ID_ATTR, s(id));
    }
    if let Some(at) = expires_at {
        update.set(EXPIRES_AT_ATTR, n(at));
    }
    let entry = history_entry(Some(event.status), &event.event, webhook_id, None, now_ms);
    append_history(&mut update, entry);
    if event.status.is_terminal() {
        update
            .set(PENDING_ATTR, s(PENDING))
            .set(TERMINAL_AT_ATTR, n(now_ms))
            .set(TERMINAL_DAY_ATTR, s(utc_day(now_ms)))
            .set(LEASE_UNTIL_ATTR, n(lease_until_ms))
            .set(LEASE_HOLDER_ATTR, s(writer.as_str()))
            .remove(ACTIVE_ATTR)
            .remove(CHECKED_AT_ATTR);
    } else {
        update
            .set(ACTIVE_ATTR, s(ACTIVE))
            .set(CHECKED_AT_ATTR, n(now_ms));
    }
    update
        .name("#sessionId", KEY)
        .name("#erasedAt", ERASED_AT_ATTR);
    update
}

/// One entry of the session's history, one line: when, what `status`
/// arrived, in which event and delivery (`X-Webhook-ID`, `-` without one),
/// and for a `conflict` (`status` or `identity`) that it was refused:
/// `2026-12-01T22:54:03.710Z rejected biometric.session_rejected wh_3
/// conflict=status`. Never an identity value. A line, not a map: a map's
/// names would cost about 25 more bytes on every later write of the item.
pub(super) fn history_entry(
    status: Option<SessionStatus>,
    event: &str,
    webhook_id: Option<&str>,
    conflict: Option<&str>,
    now_ms: u64,
) -> AttributeValue {
    let mut line = format!(
        "{} {} {event} {}",
        rfc3339(now_ms),
        status.map_or("-", SessionStatus::as_str),
        webhook_id.unwrap_or("-")
    );
    if let Some(kind) = conflict {
        line.push_str(" conflict=");
        line.push_str(kind);
    }
    s(line)
}

/// Appends `entry` to the history (made on the first write) in `update`'s
/// `SET`: no extra round trip.
pub(super) fn append_history(update: &mut Update, entry: AttributeValue) {
    update
        .set_expr(
            HISTORY_ATTR,
            "list_append(if_not_exists(#history, :noHistory), :history)",
        )
        .value(":history", AttributeValue::L(vec![entry]))
        .value(":noHistory", AttributeValue::L(Vec::new()));
}

/// The condition of the apply write: the session is new or behind the
/// event, not erased, and the event agrees with its identity (each
/// identity field it carries is absent on the item, or equal).
pub(super) fn apply_condition(update: &mut Update, fields: &SessionFields) -> String {
    let mut condition = String::from(
        "(attribute_not_exists(#sessionId) OR #statusRank < :statusRank) \
         AND attribute_not_exists(#erasedAt)",
    );
    identity_guard(update, fields, &mut condition);
    condition
}

/// Appends to `condition` the write-once rule of each identity field that
/// `fields` carries (absent on the item, or equal), binding its name and
/// value on `update`. The field's name is its attribute's. This is
/// [`crate::decide::identity_conflicts`] as a condition; the property in
/// `tests/it/trust.rs` holds the two together.
pub(super) fn identity_guard(update: &mut Update, fields: &SessionFields, condition: &mut String) {
    for field in IdentityField::ALL {
        if let Some(value) = field.of(fields) {
            let attr = field.as_str();
            update.bind(attr, s(value));
            condition.push_str(&format!(
                " AND (attribute_not_exists(#{attr}) OR #{attr} = :{attr})"
            ));
        }
    }
}

/// The item in domain types. Optional attributes of the wrong type read as
/// absent; a missing or invalid id or status is an [`ItemError`].
pub fn record_from_item(item: &Item) -> Result<SessionRecord, ItemError> {
    let text = |attr: &str| item.get(attr).and_then(|v| v.as_s().ok()).cloned();
    let number = |attr: &str| {
        item.get(attr)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
    };
    let session_id = text(KEY)
        .and_then(|id| SessionId::parse(&id).ok())
        .ok_or(ItemError(KEY))?;
    let status = text(STATUS_ATTR)
        .and_then(|status| SessionStatus::parse(&status))
        .ok_or(ItemError(STATUS_ATTR))?;
    Ok(SessionRecord {
        session_id,
        status,
        event: text(EVENT_ATTR),
        last_event_at: text(LAST_EVENT_AT_ATTR),
        fields: SessionFields {
            entity_id: text(ENTITY_ID_ATTR),
            organization_id: text(ORGANIZATION_ID_ATTR),
            external_id: text(EXTERNAL_ID_ATTR),
            rejection_code: text(REJECTION_CODE_ATTR),
            rejection_message: text(REJECTION_MESSAGE_ATTR),
            completed_at: text(COMPLETED_AT_ATTR),
            decision: text(DECISION_ATTR),
        },
        version: number(VERSION_ATTR).unwrap_or(0),
        outcome_published_at: text(PUBLISHED_AT_ATTR),
        publish_lease_until: number(LEASE_UNTIL_ATTR),
        lease_holder: text(LEASE_HOLDER_ATTR).map(WriteToken::from_stored),
        applied_by: text(APPLIED_BY_ATTR).map(WriteToken::from_stored),
        reviews_owed: reviews_owed(item),
        reviews_published: item
            .get(REVIEWS_PUBLISHED_ATTR)
            .and_then(|v| v.as_ss().ok())
            .into_iter()
            .flatten()
            .filter_map(|status| SessionStatus::parse(status))
            .collect(),
        erased_at: text(ERASED_AT_ATTR),
        history_len: item
            .get(HISTORY_ATTR)
            .and_then(|v| v.as_l().ok())
            .map_or(0, Vec::len),
    })
}

/// The review notices `item` owes, in a stable order. An owed status
/// without its notice (only a hand edit makes one) is not owed: there is
/// nothing to send.
fn reviews_owed(item: &Item) -> Vec<OwedReview> {
    let Some(owed) = item.get(REVIEWS_OWED_ATTR).and_then(|v| v.as_ss().ok()) else {
        return Vec::new();
    };
    let mut reviews: Vec<OwedReview> = owed
        .iter()
        .filter_map(|status| SessionStatus::parse(status))
        .filter_map(|status| {
            let notice = item.get(&review_notice_attr(status))?.as_s().ok()?;
            Some(OwedReview {
                status,
                notice: notice.clone(),
            })
        })
        .collect();
    reviews.sort_by_key(|review| review.status.as_str());
    reviews
}

/// Gu1's fields and the attributes that keep them, as
/// [`record_from_item`] reads them back (a unit test holds the two together).
fn field_attributes(fields: &SessionFields) -> [(&'static str, Option<&String>); 7] {
    [
        (ENTITY_ID_ATTR, fields.entity_id.as_ref()),
        (ORGANIZATION_ID_ATTR, fields.organization_id.as_ref()),
        (EXTERNAL_ID_ATTR, fields.external_id.as_ref()),
        (REJECTION_CODE_ATTR, fields.rejection_code.as_ref()),
        (REJECTION_MESSAGE_ATTR, fields.rejection_message.as_ref()),
        (COMPLETED_AT_ATTR, fields.completed_at.as_ref()),
        (DECISION_ATTR, fields.decision.as_ref()),
    ]
}

#[cfg(test)]
mod tests;
