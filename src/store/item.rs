//! The item's shape: the write that applies an event (and the condition
//! that guards it), and the reading of an item back into a
//! [`SessionRecord`], both over the names of [`super::attrs`]. Both
//! directions are pure and unit-tested here.

use super::Item;
use super::attrs::*;
use super::update::{Update, n, s};
use crate::clock::rfc3339;
use crate::session::{
    IdentityField, OwedReview, SessionEvent, SessionFields, SessionId, SessionRecord,
    SessionStatus, WriteToken,
};

/// An item that is not a session: no usable `sessionId` or `status`. Only a
/// hand-edited item can be one; it is reported, never guessed at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored item has no valid {0}")]
pub struct ItemError(pub(super) &'static str);

/// The `UpdateItem` that applies `event`: every field the event carries, the
/// new rank and version, `writer`'s token, and for a terminal status the
/// pending-outcome entry and `writer`'s publish lease.
pub fn apply_update(
    event: &SessionEvent,
    webhook_id: Option<&str>,
    writer: &WriteToken,
    now_ms: u64,
    lease_until_ms: u64,
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
    if event.status.is_terminal() {
        update
            .set(PENDING_ATTR, s(PENDING))
            .set(TERMINAL_AT_ATTR, n(now_ms))
            .set(LEASE_UNTIL_ATTR, n(lease_until_ms))
            .set(LEASE_HOLDER_ATTR, s(writer.as_str()))
            .remove(ACTIVE_ATTR)
            .remove(CHECKED_AT_ATTR);
    } else {
        update
            .set(ACTIVE_ATTR, s(ACTIVE))
            .set(CHECKED_AT_ATTR, n(now_ms));
    }
    update.name("#sessionId", KEY);
    update
}

/// The condition of the apply write: the session is new or behind the
/// event, and the event agrees with its identity (each identity field it
/// carries is absent on the item, or equal).
pub(super) fn apply_condition(update: &mut Update, fields: &SessionFields) -> String {
    let mut condition =
        String::from("(attribute_not_exists(#sessionId) OR #statusRank < :statusRank)");
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
mod tests {
    use super::*;
    use crate::parse::session as event;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn value<'a>(update: &'a Update, placeholder: &str) -> &'a AttributeValue {
        update
            .value_of(placeholder)
            .unwrap_or_else(|| panic!("{placeholder} is not set"))
    }

    #[test]
    fn apply_sets_only_what_the_event_carries() {
        let update = apply_update(
            &event(
                r#"{"event":"biometric.session_in_progress","payload":{"id":"s1","status":"in_progress"}}"#,
            ),
            None,
            &WriteToken::unique(),
            1_000,
            31_000,
        );
        let expression = update.expression();
        assert!(
            expression.starts_with("SET #status = :status"),
            "{expression}"
        );
        for absent in [
            "entityId",
            "organizationId",
            "externalId",
            "decision",
            "pendingOutcome",
            "publishLease",
            "REMOVE",
        ] {
            assert!(!expression.contains(absent), "{absent} in {expression}");
        }
        // Active: in the stale-sessions index, as of this write.
        assert_eq!(
            value(&update, ":activeSession"),
            &AttributeValue::S(ACTIVE.into())
        );
        assert_eq!(
            value(&update, ":lastCheckedAt"),
            &AttributeValue::N("1000".into())
        );
        assert_eq!(
            value(&update, ":statusRank"),
            &AttributeValue::N("1".into())
        );
    }

    #[test]
    fn a_terminal_status_opens_the_pending_outcome_under_our_lease() {
        let writer = WriteToken::unique();
        let update = apply_update(
            &event(
                r#"{"event":"biometric.session_expired","payload":{"id":"s1","status":"expired","entityId":"e1"}}"#,
            ),
            Some("wh-1"),
            &writer,
            1_000,
            31_000,
        );
        for (placeholder, expected) in [
            (":pendingOutcome", AttributeValue::S(PENDING.into())),
            (":terminalAt", AttributeValue::N("1000".into())),
            (":publishLeaseUntil", AttributeValue::N("31000".into())),
            (":publishLeaseHolder", AttributeValue::S(writer.to_string())),
            (":appliedBy", AttributeValue::S(writer.to_string())),
            (":entityId", AttributeValue::S("e1".into())),
            (":lastWebhookId", AttributeValue::S("wh-1".into())),
            (
                ":updatedAt",
                AttributeValue::S("1970-01-01T00:00:01.000Z".into()),
            ),
        ] {
            assert_eq!(value(&update, placeholder), &expected, "{placeholder}");
        }
        // Out of the stale-sessions index: nothing left to reconcile.
        assert!(
            update
                .expression()
                .ends_with("REMOVE #activeSession, #lastCheckedAt"),
            "{}",
            update.expression()
        );
    }

    /// What the apply write sets is what the reader reads back: the two
    /// lists of Gu1's fields cannot drift apart.
    #[test]
    fn every_field_written_reads_back() {
        let event = event(
            r#"{"event":"biometric.session_rejected","timestamp":"2026-06-11T14:10:00Z","payload":{
                "id":"s1","status":"rejected","entityId":"e1","organizationId":"o1",
                "rejectionCode":"C","rejectionMessage":"M","completedAt":"2026-06-11T14:10:00Z",
                "decision":{"a":1},"entity":{"externalId":"x1"}}}"#,
        );
        let writer = WriteToken::unique();
        let update = apply_update(&event, None, &writer, 1_000, 31_000);
        let mut item: Item = [(KEY.to_string(), AttributeValue::S("s1".into()))].into();
        for (attr, _) in field_attributes(&event.fields) {
            item.insert(attr.into(), value(&update, &format!(":{attr}")).clone());
        }
        for attr in ["status", "event", "lastEventAt", APPLIED_BY_ATTR] {
            item.insert(attr.into(), value(&update, &format!(":{attr}")).clone());
        }
        let record = record_from_item(&item).expect("a session");
        assert_eq!(record.fields, event.fields);
        assert!(record.fields.external_id.is_some() && record.fields.decision.is_some());
        assert_eq!(record.last_event_at, event.timestamp);
        assert!(record.applied_by(&writer));
    }

    #[test]
    fn the_apply_condition_guards_each_identity_field_the_event_carries() {
        let event = event(
            r#"{"event":"biometric.session_approved","payload":{"id":"s1","status":"approved",
                "entityId":"e1","entity":{"externalId":"x1"}}}"#,
        );
        let mut update = apply_update(&event, None, &WriteToken::unique(), 1_000, 31_000);
        let condition = apply_condition(&mut update, &event.fields);
        assert_eq!(
            condition,
            "(attribute_not_exists(#sessionId) OR #statusRank < :statusRank) \
             AND (attribute_not_exists(#entityId) OR #entityId = :entityId) \
             AND (attribute_not_exists(#externalId) OR #externalId = :externalId)"
        );
        assert_eq!(value(&update, ":entityId"), &AttributeValue::S("e1".into()));
        // The identity fields' names are their attributes'.
        let names = IdentityField::ALL.map(IdentityField::as_str);
        assert_eq!(
            names,
            [ENTITY_ID_ATTR, ORGANIZATION_ID_ATTR, EXTERNAL_ID_ATTR]
        );
    }

    #[test]
    fn items_read_back_into_records_and_a_session_needs_id_and_status() {
        let mut item: Item = [
            (KEY, AttributeValue::S("s1".into())),
            ("status", AttributeValue::S("rejected".into())),
            ("version", AttributeValue::N("3".into())),
            ("publishLeaseUntil", AttributeValue::N("99".into())),
            ("externalId", AttributeValue::N("7".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let record = record_from_item(&item).expect("a session");
        assert_eq!(record.session_id.as_str(), "s1");
        assert_eq!(record.status, SessionStatus::Rejected);
        assert_eq!(record.version, 3);
        assert_eq!(record.publish_lease_until, Some(99));
        assert_eq!(
            record.fields.external_id, None,
            "wrong type reads as absent"
        );
        assert!(record.outcome_pending());

        item.insert("status".into(), AttributeValue::S("finished".into()));
        assert_eq!(record_from_item(&item), Err(ItemError("status")));
        item.remove(KEY);
        assert_eq!(record_from_item(&item), Err(ItemError(KEY)));
    }
}
