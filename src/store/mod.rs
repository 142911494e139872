//! Step 4 of a delivery: make the session's state durable in DynamoDB.
//!
//! A thin adapter: every method is one DynamoDB call, and every decision it
//! enforces lives in a `ConditionExpression`, never in a read-then-write, so
//! that concurrent deliveries of one session cannot both win. The rules
//! themselves are in [`crate::decide`]; this module only translates them.
//!
//! The item (one per session, keyed by `sessionId`; its shape is in
//! `attrs.rs` and `item.rs`, documented in docs/contract.md) carries besides
//! Gu1's fields:
//!
//! - `statusRank`, the number the apply condition compares;
//! - `pendingOutcome` + `terminalAt`, present only while something is owed to
//!   consumers (the terminal outcome, or a review notice): the keys of the sparse index [`UNPUBLISHED_INDEX`],
//!   so that finding unpublished outcomes never scans the table;
//! - `publishLeaseUntil` + `publishLeaseHolder`, the publish lease of
//!   [`crate::decide::OutcomeDuty`] and whose it is;
//! - `appliedBy`, the [`WriteToken`] of the write that set `status`;
//! - `reviewsOwed` / `reviewsPublished` and `reviewNotice_<status>`: the
//!   review notices a reversal owes consumers, and their bodies.
//!
//! The writes of the publish protocol (claim, mark, settle, give back) are
//! in `publishing.rs`.
//!
//! Every conditional write returns the stored item when its condition fails
//! (`ALL_OLD`). Besides classifying a delivery, that image carries the
//! tokens, so a writer whose request the SDK retried after a lost answer
//! recognises its own earlier write instead of mistaking it for another's.

mod attrs;
mod conflict;
mod erasure;
mod index;
mod item;
mod publishing;
mod size;
mod update;

pub use attrs::*;
pub use conflict::Conflict;
pub use erasure::{ERASE_EVENT, Erased, PERSONAL_ATTRS};
pub use index::{Page, TerminalEntry};
pub use item::{ItemError, apply_update, record_from_item};
pub use publishing::{Marked, NotRepublished, RepublishClaim};
pub use size::{WRITE_UNIT_BYTES, item_size, write_units};
pub use update::Update;

use crate::clock::{millis, rfc3339};
use crate::decide::{Verdict, identity_conflicts, verdict};
use crate::session::{SessionEvent, SessionId, SessionRecord, WriteToken};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use item::{apply_condition, identity_guard};
use std::collections::HashMap;
use std::time::Duration;
use update::n;

/// A DynamoDB item, or an index's key.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB failed (after the SDK's own retries) or answered nonsense. The
/// SDK's error is kept as the source; [`crate::error_chain`] renders it
/// where it is logged.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation} failed")]
pub struct StoreError {
    operation: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreError {
    pub(crate) fn new(
        operation: &'static str,
        err: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            operation,
            source: Box::new(err),
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

/// The sessions table. Cheap to clone: the SDK client is shared.
#[derive(Debug, Clone)]
pub struct SessionStore {
    client: Client,
    table: String,
    /// How long an item is kept after it last moved (its time to live).
    retention: Option<Duration>,
}

impl SessionStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            retention: None,
        }
    }

    /// Items that each applied write keeps for `retention` (`None`:
    /// forever).
    pub fn with_retention(mut self, retention: Option<Duration>) -> Self {
        self.retention = retention;
        self
    }

    pub fn retention(&self) -> Option<Duration> {
        self.retention
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
        let expires_at = self
            .retention
            .map(|keep| now_ms.saturating_add(millis(keep)) / 1_000);
        let mut update = apply_update(
            event,
            webhook_id,
            writer,
            (now_ms, lease_until_ms),
            expires_at,
        );
        let condition = apply_condition(&mut update, &event.fields);
        let result = update
            .request(&self.client, &self.table, &event.session_id)
            .condition_expression(condition)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        const OPERATION: &str = "UpdateItem (apply)";
        match conditional(OPERATION, result)? {
            Conditional::Done(output) => Ok(Written {
                verdict: Verdict::Applied,
                record: read(OPERATION, output.attributes.as_ref())?,
            }),
            Conditional::Refused(stored) => {
                let record = read(OPERATION, stored.as_ref())?;
                let verdict = if record.applied_by(writer) {
                    // Our own write, landed by an attempt whose answer was lost.
                    Verdict::Applied
                } else if record.is_erased() {
                    Verdict::Erased
                } else if !identity_conflicts(&record.fields, &event.fields).is_empty() {
                    Verdict::IdentityConflict
                } else {
                    // Never `Applied`: the condition failed, so the stored
                    // rank is at least the incoming one.
                    verdict(Some(record.status), event.status)
                };
                Ok(Written { verdict, record })
            }
        }
    }

    /// Opens the connection to DynamoDB (DNS, TCP, TLS) with the smallest
    /// read of the table, `DescribeTimeToLive` (`DescribeTable`'s answer
    /// is large, and its reader cost 87 KB of the package), so that a later
    /// write finds the connection in the client's pool.
    pub async fn open_connection(&self) -> Result<(), StoreError> {
        self.client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map(drop)
            .map_err(|e| StoreError::new("DescribeTimeToLive", e))
    }

    /// Notes that reconciliation checked an active session at `now_ms`, so
    /// that it goes to the back of the stale queue; with Gu1's answer, only
    /// if the stored status is not behind it and the identities agree (then
    /// Gu1 reports nothing new, and this one write is the whole check).
    /// `false`, and nothing written, if the session is terminal, gone,
    /// behind, or of another identity.
    pub async fn mark_checked(
        &self,
        session: &SessionId,
        gu1: Option<&SessionEvent>,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut update = Update::default();
        update
            .set(CHECKED_AT_ATTR, n(now_ms))
            .name("#activeSession", ACTIVE_ATTR);
        let mut condition = String::from("attribute_exists(#activeSession)");
        if let Some(event) = gu1 {
            update.bind(RANK_ATTR, n(event.status.rank()));
            condition.push_str(" AND #statusRank >= :statusRank");
            identity_guard(&mut update, &event.fields, &mut condition);
        }
        let result = update
            .request(&self.client, &self.table, session)
            .condition_expression(condition)
            .send()
            .await;
        landed("UpdateItem (mark checked)", result)
    }
}

/// What a conditional `UpdateItem` did.
enum Conditional<T> {
    /// The condition held: the write's output.
    Done(T),
    /// The condition failed: the item as it stood, when asked for (`ALL_OLD`).
    Refused(Option<Item>),
}

/// Sorts a conditional write's result: done, refused, or an error.
fn conditional<T>(
    operation: &'static str,
    result: Result<T, SdkError<UpdateItemError>>,
) -> Result<Conditional<T>, StoreError> {
    match result {
        Ok(output) => Ok(Conditional::Done(output)),
        Err(SdkError::ServiceError(context)) => match context.into_err() {
            UpdateItemError::ConditionalCheckFailedException(refused) => {
                Ok(Conditional::Refused(refused.item))
            }
            other => Err(StoreError::new(operation, other)),
        },
        Err(err) => Err(StoreError::new(operation, err)),
    }
}

/// Whether a conditional write landed: `false` when its condition failed.
fn landed<T>(
    operation: &'static str,
    result: Result<T, SdkError<UpdateItemError>>,
) -> Result<bool, StoreError> {
    Ok(matches!(
        conditional(operation, result)?,
        Conditional::Done(_)
    ))
}

/// The item a write returned, as a record.
fn read(operation: &'static str, item: Option<&Item>) -> Result<SessionRecord, StoreError> {
    let item = item
        .ok_or(ItemError(KEY))
        .map_err(|e| StoreError::new(operation, e))?;
    record_from_item(item).map_err(|e| StoreError::new(operation, e))
}
