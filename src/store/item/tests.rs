//! The item's shape, both directions, without I/O.

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
        (1_000, 31_000),
        None,
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
        (1_000, 31_000),
        None,
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
    let update = apply_update(&event, None, &writer, (1_000, 31_000), None);
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
    let mut update = apply_update(&event, None, &WriteToken::unique(), (1_000, 31_000), None);
    let condition = apply_condition(&mut update, &event.fields);
    assert_eq!(
        condition,
        "(attribute_not_exists(#sessionId) OR #statusRank < :statusRank) \
         AND attribute_not_exists(#erasedAt) \
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

#[test]
fn the_apply_write_appends_its_history_entry_and_sets_the_day_and_time_to_live() {
    let update = apply_update(
        &event(
            r#"{"event":"biometric.session_rejected","payload":{"id":"s1","status":"rejected","entityId":"e1"}}"#,
        ),
        Some("wh-7"),
        &WriteToken::unique(),
        (1_796_165_643_710, 1_796_165_660_000),
        Some(1_798_757_643),
    );
    assert!(
        update
            .expression()
            .contains("#history = list_append(if_not_exists(#history, :noHistory), :history)"),
        "{}",
        update.expression()
    );
    assert_eq!(
        value(&update, ":history"),
        &AttributeValue::L(vec![AttributeValue::S(
            "2026-12-01T22:54:03.710Z rejected biometric.session_rejected wh-7".into()
        )]),
        "never the entity"
    );
    assert_eq!(
        history_entry(None, "erase", None, Some("status"), 0),
        AttributeValue::S("1970-01-01T00:00:00.000Z - erase - conflict=status".into())
    );
    assert_eq!(
        value(&update, ":terminalDay"),
        &AttributeValue::S("2026-12-01".into())
    );
    assert_eq!(
        value(&update, ":expiresAt"),
        &AttributeValue::N("1798757643".into())
    );
}
