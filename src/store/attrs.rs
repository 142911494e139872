//! The item's vocabulary, in one place: every attribute and index name the
//! code writes or reads (docs/contract.md documents the same names;
//! `tests/it/template.rs` holds the template's indexes to them).

/// Partition key of the sessions table.
pub const KEY: &str = "sessionId";
/// Gu1's status of the session.
pub const STATUS_ATTR: &str = "status";
/// [`SessionStatus::rank`](crate::session::SessionStatus::rank) of `status`: what the apply and check conditions
/// compare.
pub const RANK_ATTR: &str = "statusRank";
/// The name of the event that set `status`.
pub const EVENT_ATTR: &str = "event";
/// The envelope timestamp of the event that set `status`.
pub const LAST_EVENT_AT_ATTR: &str = "lastEventAt";
/// When `status` was last written (RFC 3339, UTC).
pub const UPDATED_AT_ATTR: &str = "updatedAt";
/// When the first event of the session was written.
pub const FIRST_SEEN_AT_ATTR: &str = "firstSeenAt";
/// How many writes moved the session.
pub const VERSION_ATTR: &str = "version";
/// The `X-Webhook-ID` of the delivery that set `status`, for tracing.
pub const WEBHOOK_ID_ATTR: &str = "lastWebhookId";
/// The [`WriteToken`](crate::session::WriteToken) of the write that set `status`.
pub const APPLIED_BY_ATTR: &str = "appliedBy";
/// Identity: the person (entity) the session verifies. Write-once.
pub const ENTITY_ID_ATTR: &str = "entityId";
/// Identity: the Gu1 organization. Write-once.
pub const ORGANIZATION_ID_ATTR: &str = "organizationId";
/// Identity: the customer's own key for the person. Write-once.
pub const EXTERNAL_ID_ATTR: &str = "externalId";
pub const REJECTION_CODE_ATTR: &str = "rejectionCode";
pub const REJECTION_MESSAGE_ATTR: &str = "rejectionMessage";
pub const COMPLETED_AT_ATTR: &str = "completedAt";
/// Gu1's `decision` object, as the exact JSON text it sent.
pub const DECISION_ATTR: &str = "decision";
/// Sparse global secondary index over unpublished terminal outcomes:
/// partition key [`PENDING_ATTR`] (always [`PENDING`]), sort key
/// [`TERMINAL_AT_ATTR`].
pub const UNPUBLISHED_INDEX: &str = "UnpublishedOutcomes";
/// Index partition key: present (always [`PENDING`]) only while the
/// outcome is unpublished.
pub const PENDING_ATTR: &str = "pendingOutcome";
/// Index sort key: epoch milliseconds when the terminal status was written.
pub const TERMINAL_AT_ATTR: &str = "terminalAt";
/// The one value of `pendingOutcome`.
pub const PENDING: &str = "PENDING";
/// Sparse global secondary index over active (pending or in progress)
/// sessions, for reconciliation: partition key [`ACTIVE_ATTR`] (always
/// [`ACTIVE`]), sort key [`CHECKED_AT_ATTR`].
pub const STALE_INDEX: &str = "StaleSessions";
/// Index partition key: present (always [`ACTIVE`]) only while the session
/// is not terminal.
pub const ACTIVE_ATTR: &str = "activeSession";
/// Index sort key: epoch milliseconds when the session last moved, or when
/// reconciliation last found it unchanged.
pub const CHECKED_AT_ATTR: &str = "lastCheckedAt";
/// The one value of `activeSession`.
pub const ACTIVE: &str = "ACTIVE";
/// Epoch milliseconds until which the lease holder may send the outcome.
pub const LEASE_UNTIL_ATTR: &str = "publishLeaseUntil";
/// The [`WriteToken`](crate::session::WriteToken) of the lease holder.
pub const LEASE_HOLDER_ATTR: &str = "publishLeaseHolder";
/// When the outcome went on the queue; set once.
pub const PUBLISHED_AT_ATTR: &str = "outcomePublishedAt";
/// The SQS message id of the outcome.
pub const MESSAGE_ID_ATTR: &str = "outcomeMessageId";
/// When a different terminal status last arrived after the first.
pub const CONFLICT_AT_ATTR: &str = "lastConflictAt";
/// The different terminal statuses that arrived (a set).
pub const CONFLICT_STATUSES_ATTR: &str = "conflictStatuses";
/// When an event last disagreed with the stored identity.
pub const IDENTITY_CONFLICT_AT_ATTR: &str = "lastIdentityConflictAt";
/// What such events said, as `field=value` (a set).
pub const IDENTITY_CONFLICTS_ATTR: &str = "identityConflicts";
/// Conflicting terminal statuses whose review notice is owed (a set;
/// absent when none is).
pub const REVIEWS_OWED_ATTR: &str = "reviewsOwed";
/// Conflicting terminal statuses whose review notice is on the reviews
/// queue (a set): a notice goes out once per session and status.
pub const REVIEWS_PUBLISHED_ATTR: &str = "reviewsPublished";

/// The attribute holding the review notice owed for `status`
/// (`reviewNotice_rejected`): the body, built when the first event with
/// that status arrived.
pub fn review_notice_attr(status: crate::session::SessionStatus) -> String {
    format!("reviewNotice_{}", status.as_str())
}

/// Global secondary index over terminal sessions by the day they became
/// terminal, for `republish --since`: partition key [`TERMINAL_DAY_ATTR`],
/// sort key [`TERMINAL_AT_ATTR`]; it projects `status` too.
pub const TERMINAL_INDEX: &str = "TerminalOutcomes";
/// Index partition key: the UTC day (`2026-12-01`) of `terminalAt`, set
/// with it, so that one day's outcomes are one query.
pub const TERMINAL_DAY_ATTR: &str = "terminalDay";
/// Sparse global secondary index over the sessions of one person (Gu1's
/// entity id), keys only: how `erase --entity` finds them.
pub const ENTITY_INDEX: &str = "SessionsByEntity";
/// Sparse global secondary index over the sessions of one customer key
/// (`externalId`), keys only: how `erase --external-id` finds them.
pub const EXTERNAL_ID_INDEX: &str = "SessionsByExternalId";
/// The table's time-to-live attribute (epoch seconds), set on each applied
/// write when a retention is configured: DynamoDB deletes the item after it.
pub const EXPIRES_AT_ATTR: &str = "expiresAt";
/// When the session's personal fields were erased: the mark of a
/// tombstone, which no later event, reconciliation or publisher may fill
/// again.
pub const ERASED_AT_ATTR: &str = "erasedAt";
/// The session's history: a bounded list of what moved it (each applied
/// status) and what conflicted with it, appended by the same write, one
/// line per entry (`store::item::history_entry`).
pub const HISTORY_ATTR: &str = "history";
/// How many times `republish` sent the outcome again.
pub const REPUBLISH_COUNT_ATTR: &str = "republishCount";
/// When `republish` last sent the outcome again.
pub const REPUBLISHED_AT_ATTR: &str = "lastRepublishedAt";
/// The SQS message id of the last republished outcome.
pub const REPUBLISHED_MESSAGE_ID_ATTR: &str = "lastRepublishMessageId";
