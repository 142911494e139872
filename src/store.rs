//! Step 4 of a delivery: make the session's state durable in DynamoDB.
//!
//! A thin adapter: every method is one DynamoDB call, and every decision it
//! enforces lives in a `ConditionExpression`, never in a read-then-write, so
//! that concurrent deliveries of one session cannot both win. The rules
//! themselves are in [`crate::decide`]; this module only translates them.
//!
//! The item (one per session, keyed by `sessionId`) is documented in the
//! README. Besides Gu1's fields it carries:
//!
//! - `statusRank`, the number the apply condition compares;
//! - `pendingOutcome` + `terminalAt`, present only while a terminal outcome is
//!   not yet on the queue: the keys of the sparse index [`UNPUBLISHED_INDEX`],
//!   so that finding unpublished outcomes never scans the table;
//! - `publishLeaseUntil` + `publishLeaseHolder`, the publish lease of
//!   [`crate::decide::OutcomeDuty`] and whose it is;
//! - `appliedBy`, the [`WriteToken`] of the write that set `status`.
//!
//! Every conditional write returns the stored item when its condition fails
//! (`ALL_OLD`). Besides classifying a delivery, that image carries the
//! tokens, so a writer whose request the SDK retried after a lost answer
//! recognises its own earlier write instead of mistaking it for another's.

use crate::decide::{SessionRecord, Verdict, WriteToken, verdict};
use crate::parse::{SessionEvent, SessionId, SessionStatus};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Partition key of the sessions table.
pub const KEY: &str = "sessionId";
/// Sparse global secondary index over unpublished terminal outcomes:
/// partition key `pendingOutcome` (always [`PENDING`]), sort key `terminalAt`.
pub const UNPUBLISHED_INDEX: &str = "UnpublishedOutcomes";
/// Index partition key: present (always [`PENDING`]) only while the
/// outcome is unpublished.
pub const PENDING_ATTR: &str = "pendingOutcome";
/// Index sort key: epoch milliseconds when the terminal status was written.
pub const TERMINAL_AT_ATTR: &str = "terminalAt";
/// The one value of `pendingOutcome`.
pub const PENDING: &str = "PENDING";
/// Epoch milliseconds until which the lease holder may send the outcome.
pub const LEASE_UNTIL_ATTR: &str = "publishLeaseUntil";
/// The [`WriteToken`] of the lease holder.
pub const LEASE_HOLDER_ATTR: &str = "publishLeaseHolder";
/// The [`WriteToken`] of the write that set `status`.
pub const APPLIED_BY_ATTR: &str = "appliedBy";

type Item = HashMap<String, AttributeValue>;

/// DynamoDB failed (after the SDK's own retries) or answered nonsense.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation} failed: {detail}")]
pub struct StoreError {
    operation: &'static str,
    detail: String,
}

impl StoreError {
    fn new(operation: &'static str, err: impl std::error::Error) -> Self {
        Self {
            operation,
            detail: DisplayErrorContext(err).to_string(),
        }
    }
}

/// The result of applying one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub verdict: Verdict,
    /// The item after the write (applied) or as it stood (not applied).
    pub record: SessionRecord,
}

/// A page of the unpublished-outcomes index.
#[derive(Debug, Default)]
pub struct UnpublishedPage {
    pub sessions: Vec<SessionId>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Item>,
}

/// The sessions table. Cheap to clone: the SDK client is shared.
#[derive(Debug, Clone)]
pub struct SessionStore {
    client: Client,
    table: String,
}

impl SessionStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Applies `event` if it moves the session forward, in one conditional
    /// `UpdateItem` signed by `writer`. A terminal status also opens the
    /// outcome's pending entry and takes the publish lease for `writer` until
    /// `lease_until_ms`.
    ///
    /// When the condition fails, DynamoDB returns the stored item
    /// (`ALL_OLD`), which tells duplicate, stale and conflict apart without a
    /// second read, and tells a retried request that its first attempt
    /// landed (`appliedBy` is `writer`): that is `Applied` too.
    pub async fn apply(
        &self,
        event: &SessionEvent,
        webhook_id: Option<&str>,
        writer: &WriteToken,
        now_ms: u64,
        lease_until_ms: u64,
    ) -> Result<Written, StoreError> {
        let mut update = apply_update(event, webhook_id, writer, now_ms, lease_until_ms);
        let result = update
            .request(&self.client, &self.table, &event.session_id)
            .condition_expression("attribute_not_exists(#sessionId) OR #statusRank < :statusRank")
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Written {
                verdict: Verdict::Applied,
                record: record_from_item(output.attributes.as_ref()),
            }),
            Err(err) => {
                let Some(stored) = conditional_item(&err) else {
                    return Err(StoreError::new("UpdateItem (apply)", err));
                };
                let record = record_from_item(Some(stored));
                let verdict = if record.applied_by(writer) {
                    // Our own write, landed by an attempt whose answer was lost.
                    Verdict::Applied
                } else {
                    // Never `Applied`: the condition failed, so the stored
                    // rank is at least the incoming one.
                    verdict(record.status, event.status)
                };
                Ok(Written { verdict, record })
            }
        }
    }

    /// Records on the item that a different terminal status arrived after the
    /// first one. Idempotent: statuses are kept as a set.
    pub async fn record_conflict(
        &self,
        session: &SessionId,
        status: SessionStatus,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let mut update = Update::default();
        update
            .set("lastConflictAt", s(rfc3339(now_ms)))
            .add(
                "conflictStatuses",
                AttributeValue::Ss(vec![status.as_str().into()]),
            )
            .name("#sessionId", KEY)
            .request(&self.client, &self.table, session)
            .condition_expression("attribute_exists(#sessionId)")
            .send()
            .await
            .map(drop)
            .map_err(|e| StoreError::new("UpdateItem (conflict)", e))
    }

    /// Takes the publish lease of an unpublished outcome whose lease has
    /// lapsed (or was released), for `writer`. Returns the session as it now
    /// stands, or `None` when someone else holds the lease or has published.
    /// A retried claim whose first attempt landed finds `writer` holding the
    /// lease and returns the session too.
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
        match result {
            Ok(output) => Ok(Some(record_from_item(output.attributes.as_ref()))),
            Err(err) => match conditional_item(&err) {
                Some(stored) => {
                    let record = record_from_item(Some(stored));
                    Ok(record.lease_held_by(writer, now_ms).then_some(record))
                }
                None if is_condition_failure(&err) => Ok(None),
                None => Err(StoreError::new("UpdateItem (claim)", err)),
            },
        }
    }

    /// Marks the outcome as on the queue and drops it from the unpublished
    /// index. Returns `false` if another publisher had already marked it (a
    /// retry of our own mark, whose first attempt landed, is `true`).
    pub async fn mark_published(
        &self,
        session: &SessionId,
        message_id: &str,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut update = Update::default();
        let result = update
            .set("outcomePublishedAt", s(rfc3339(now_ms)))
            .set("outcomeMessageId", s(message_id))
            .remove(PENDING_ATTR)
            .remove(LEASE_UNTIL_ATTR)
            .remove(LEASE_HOLDER_ATTR)
            .request(&self.client, &self.table, session)
            .condition_expression("attribute_not_exists(#outcomePublishedAt)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => match conditional_item(&err) {
                Some(stored) => Ok(stored
                    .get("outcomeMessageId")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|id| id == message_id)),
                None if is_condition_failure(&err) => Ok(false),
                None => Err(StoreError::new("UpdateItem (mark published)", err)),
            },
        }
    }

    /// Gives up the lease `writer` holds, after a failed send, so that the
    /// next redelivery can publish at once instead of waiting for it to lapse.
    pub async fn release_lease(
        &self,
        session: &SessionId,
        writer: &WriteToken,
    ) -> Result<(), StoreError> {
        let mut update = Update::default();
        let result = update
            .remove(LEASE_UNTIL_ATTR)
            .remove(LEASE_HOLDER_ATTR)
            .value(":holder", s(writer.as_str()))
            .request(&self.client, &self.table, session)
            .condition_expression("#publishLeaseHolder = :holder")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(StoreError::new("UpdateItem (release lease)", err)),
        }
    }

    /// One page of sessions whose terminal outcome is unpublished and was
    /// written at or before `cutoff_ms`, oldest first, from the sparse index.
    pub async fn unpublished(
        &self,
        cutoff_ms: u64,
        page_size: i32,
        start: Option<Item>,
    ) -> Result<UnpublishedPage, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(UNPUBLISHED_INDEX)
            .key_condition_expression("#p = :pending AND #t <= :cutoff")
            .expression_attribute_names("#p", PENDING_ATTR)
            .expression_attribute_names("#t", TERMINAL_AT_ATTR)
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":cutoff", n(cutoff_ms))
            .limit(page_size)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| StoreError::new("Query (unpublished)", e))?;
        let sessions = output
            .items()
            .iter()
            .filter_map(|item| item.get(KEY)?.as_s().ok())
            .filter_map(|id| SessionId::parse(id).ok())
            .collect();
        Ok(UnpublishedPage {
            sessions,
            next: output.last_evaluated_key,
        })
    }
}

/// The `UpdateItem` that applies `event`: every field the event carries, the
/// new rank and version, `writer`'s token, and for a terminal status the
/// pending-outcome entry and `writer`'s publish lease. Public for the
/// benchmarks; pure.
pub fn apply_update(
    event: &SessionEvent,
    webhook_id: Option<&str>,
    writer: &WriteToken,
    now_ms: u64,
    lease_until_ms: u64,
) -> Update {
    let mut update = Update::default();
    update
        .set("status", s(event.status.as_str()))
        .set("statusRank", n(event.status.rank()))
        .set("event", s(&event.event))
        .set(APPLIED_BY_ATTR, s(writer.as_str()))
        .set("updatedAt", s(rfc3339(now_ms)))
        .set_expr("firstSeenAt", "if_not_exists(#firstSeenAt, :updatedAt)")
        .set_expr("version", "if_not_exists(#version, :zero) + :one")
        .value(":zero", n(0))
        .value(":one", n(1));
    // Absent fields are left alone: a later event that lacks one never
    // erases what an earlier event stored.
    for (attr, value) in [
        ("lastEventAt", &event.timestamp),
        ("entityId", &event.entity_id),
        ("organizationId", &event.organization_id),
        ("externalId", &event.external_id),
        ("rejectionCode", &event.rejection_code),
        ("rejectionMessage", &event.rejection_message),
        ("completedAt", &event.completed_at),
    ] {
        if let Some(value) = value {
            update.set(attr, s(value));
        }
    }
    if let Some(decision) = &event.decision {
        update.set("decision", s(decision));
    }
    if let Some(id) = webhook_id {
        update.set("lastWebhookId", s(id));
    }
    if event.status.is_terminal() {
        update
            .set(PENDING_ATTR, s(PENDING))
            .set(TERMINAL_AT_ATTR, n(now_ms))
            .set(LEASE_UNTIL_ATTR, n(lease_until_ms))
            .set(LEASE_HOLDER_ATTR, s(writer.as_str()));
    }
    update.name("#sessionId", KEY);
    update
}

/// An `UpdateItem` expression under construction. Attribute `x` is always
/// written through the name `#x` and the value `:x`, so expressions read like
/// the item they change.
#[derive(Debug)]
pub struct Update {
    set: String,
    remove: String,
    add: String,
    names: HashMap<String, String>,
    values: Item,
}

impl Default for Update {
    /// Sized for the apply update, the largest (about 20 attributes): it is
    /// built on every delivery, so no rehashing and few allocations.
    fn default() -> Self {
        Self {
            set: String::with_capacity(512),
            remove: String::new(),
            add: String::new(),
            names: HashMap::with_capacity(24),
            values: HashMap::with_capacity(24),
        }
    }
}

impl Update {
    fn set(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        append(&mut self.set, &["#", attr, " = :", attr]);
        self.values.insert(sigil(':', attr), value);
        self.name_attr(attr)
    }

    fn set_expr(&mut self, attr: &str, expr: &str) -> &mut Self {
        append(&mut self.set, &["#", attr, " = ", expr]);
        self.name_attr(attr)
    }

    fn add(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        append(&mut self.add, &["#", attr, " :", attr]);
        self.values.insert(sigil(':', attr), value);
        self.name_attr(attr)
    }

    fn remove(&mut self, attr: &str) -> &mut Self {
        append(&mut self.remove, &["#", attr]);
        self.name_attr(attr)
    }

    /// The update expression: `SET ...`, `REMOVE ...`, `ADD ...` clauses.
    pub fn expression(&self) -> String {
        let mut expression =
            String::with_capacity(self.set.len() + self.remove.len() + self.add.len() + 24);
        for (keyword, parts) in [
            ("SET ", &self.set),
            ("REMOVE ", &self.remove),
            ("ADD ", &self.add),
        ] {
            if !parts.is_empty() {
                if !expression.is_empty() {
                    expression.push(' ');
                }
                expression.push_str(keyword);
                expression.push_str(parts);
            }
        }
        expression
    }

    /// Names `attr` as `#attr`.
    fn name_attr(&mut self, attr: &str) -> &mut Self {
        self.name(sigil('#', attr), attr)
    }

    fn name(&mut self, placeholder: impl Into<String>, attr: &str) -> &mut Self {
        self.names.insert(placeholder.into(), attr.into());
        self
    }

    fn value(&mut self, placeholder: &str, value: AttributeValue) -> &mut Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// The expression, names and values on an `UpdateItem` for `session`.
    /// DynamoDB refuses unused names and values, so a condition may only use
    /// the ones the update (or an explicit `name`/`value`) brought in.
    fn request(
        &mut self,
        client: &Client,
        table: &str,
        session: &SessionId,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        client
            .update_item()
            .table_name(table)
            .key(KEY, s(session.as_str()))
            .update_expression(self.expression())
            .set_expression_attribute_names(Some(std::mem::take(&mut self.names)))
            .set_expression_attribute_values(
                Some(std::mem::take(&mut self.values)).filter(|v| !v.is_empty()),
            )
    }
}

/// Appends one comma-separated part, made of `pieces`, to a clause.
fn append(clause: &mut String, pieces: &[&str]) {
    if !clause.is_empty() {
        clause.push_str(", ");
    }
    for piece in pieces {
        clause.push_str(piece);
    }
}

/// `#attr` or `:attr`.
fn sigil(sigil: char, attr: &str) -> String {
    let mut placeholder = String::with_capacity(attr.len() + 1);
    placeholder.push(sigil);
    placeholder.push_str(attr);
    placeholder
}

fn conditional_item(err: &SdkError<UpdateItemError>) -> Option<&Item> {
    match err.as_service_error()? {
        UpdateItemError::ConditionalCheckFailedException(e) => e.item(),
        _ => None,
    }
}

fn is_condition_failure(err: &SdkError<UpdateItemError>) -> bool {
    matches!(
        err.as_service_error(),
        Some(UpdateItemError::ConditionalCheckFailedException(_))
    )
}

/// The item in domain types. Attributes of the wrong type read as absent.
pub fn record_from_item(item: Option<&Item>) -> SessionRecord {
    let Some(item) = item else {
        return SessionRecord::default();
    };
    let text = |attr: &str| item.get(attr).and_then(|v| v.as_s().ok()).cloned();
    let number = |attr: &str| {
        item.get(attr)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
    };
    SessionRecord {
        session_id: text(KEY).and_then(|id| SessionId::parse(&id).ok()),
        status: text("status").and_then(|st| SessionStatus::parse(&st)),
        event: text("event"),
        last_event_at: text("lastEventAt"),
        entity_id: text("entityId"),
        organization_id: text("organizationId"),
        external_id: text("externalId"),
        rejection_code: text("rejectionCode"),
        rejection_message: text("rejectionMessage"),
        completed_at: text("completedAt"),
        decision: text("decision"),
        version: number("version").unwrap_or(0),
        outcome_published_at: text("outcomePublishedAt"),
        publish_lease_until: number(LEASE_UNTIL_ATTR),
        lease_holder: text(LEASE_HOLDER_ATTR).map(WriteToken::from_stored),
        applied_by: text(APPLIED_BY_ATTR).map(WriteToken::from_stored),
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Milliseconds since the Unix epoch, the unit of leases and `terminalAt`.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// RFC 3339 UTC, the format of every timestamp we write.
fn rfc3339(ms: u64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(ms);
    DateTime::from(time)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::session as event;

    #[test]
    fn apply_sets_only_what_the_event_carries() {
        let update = apply_update(
            &event(
                r#"{"event":"biometric.session_in_progress","payload":{"id":"s1","status":"in_progress"}}"#,
            ),
            None,
            &WriteToken::random(),
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
            "REMOVE",
        ] {
            assert!(!expression.contains(absent), "{absent} in {expression}");
        }
        assert_eq!(update.values[":statusRank"], AttributeValue::N("1".into()));
    }

    #[test]
    fn a_terminal_status_opens_the_pending_outcome_under_our_lease() {
        let writer = WriteToken::random();
        let update = apply_update(
            &event(
                r#"{"event":"biometric.session_expired","payload":{"id":"s1","status":"expired","entityId":"e1"}}"#,
            ),
            Some("wh-1"),
            &writer,
            1_000,
            31_000,
        );
        assert_eq!(
            update.values[":pendingOutcome"],
            AttributeValue::S(PENDING.into())
        );
        assert_eq!(
            update.values[":terminalAt"],
            AttributeValue::N("1000".into())
        );
        assert_eq!(
            update.values[":publishLeaseUntil"],
            AttributeValue::N("31000".into())
        );
        for attr in [":publishLeaseHolder", ":appliedBy"] {
            assert_eq!(update.values[attr], AttributeValue::S(writer.to_string()));
        }
        assert_eq!(update.values[":entityId"], AttributeValue::S("e1".into()));
        assert_eq!(
            update.values[":lastWebhookId"],
            AttributeValue::S("wh-1".into())
        );
        assert_eq!(
            update.values[":updatedAt"],
            AttributeValue::S("1970-01-01T00:00:01Z".into())
        );
    }

    #[test]
    fn items_read_back_into_records() {
        let item: Item = [
            (KEY, AttributeValue::S("s1".into())),
            ("status", AttributeValue::S("rejected".into())),
            ("version", AttributeValue::N("3".into())),
            ("publishLeaseUntil", AttributeValue::N("99".into())),
            ("externalId", AttributeValue::N("7".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let record = record_from_item(Some(&item));
        assert_eq!(
            record.session_id.as_ref().map(SessionId::as_str),
            Some("s1")
        );
        assert_eq!(record.status, Some(SessionStatus::Rejected));
        assert_eq!(record.version, 3);
        assert_eq!(record.publish_lease_until, Some(99));
        assert_eq!(record.external_id, None);
        assert!(record.outcome_pending());
    }
}
