//! Every limit and timeout, in one place, named for the side it bounds.
//!
//! They are fixed, not configured: each follows from another (the lease from
//! the deadline, the deadline from what Gu1 and API Gateway wait), and the
//! relations are stated here, where a change to one shows the others. The
//! defaults of the few settings an operator may change are in
//! [`crate::config`].

use std::time::Duration;

// --- A delivery (the webhook, whichever transport brings it) ---

/// Largest webhook body accepted (Gu1's deliveries are a few KiB).
pub const WEBHOOK_MAX_BODY_BYTES: usize = 256 * 1024;

/// Longest `X-Webhook-Signature` value worth decoding: `sha256=` plus 64 hex
/// digits, with room for whitespace.
pub const SIGNATURE_HEADER_MAX_LEN: usize = 128;

/// A whole delivery is answered (with a `503` if need be) within this long:
/// well inside API Gateway's 30 s and Gu1's 30 s.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(15);

/// Seconds Gu1 is asked to wait before retrying a `503`.
pub const RETRY_AFTER_SECONDS: u32 = 5;

// --- The AWS calls (DynamoDB, SQS, Secrets Manager) ---

/// Connecting to an AWS endpoint gives up after this long.
pub const AWS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// One attempt of an AWS call gives up after this long; the SDK then retries.
pub const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// One AWS call, retries included, gives up after this long.
pub const AWS_OPERATION_TIMEOUT: Duration = Duration::from_secs(4);

/// How long a publisher holds the right to send an outcome: the longest a
/// live holder can still be sending. Every holder takes its lease inside a
/// [`DELIVERY_DEADLINE`] (a delivery, or one sweeper publish) and is cut off
/// when it passes; a send already on the wire then lands within one more
/// attempt. A longer lease would only delay the repair of a holder that died.
pub const PUBLISH_LEASE: Duration = DELIVERY_DEADLINE.saturating_add(AWS_ATTEMPT_TIMEOUT);

/// Giving back a lease on the way to a `503` waits at most this long: the
/// answer is not held up for a courtesy (the lease lapses by itself).
pub const LEASE_RELEASE_TIMEOUT: Duration = AWS_ATTEMPT_TIMEOUT;

/// How long the receiver's INIT waits for its DynamoDB and SQS connections
/// to open (concurrently with the secret read, see `app::open_connections`):
/// past it the start goes on, and the first delivery connects as before.
pub const WARM_UP_TIMEOUT: Duration = Duration::from_millis(500);

/// A cached list of webhook secrets older than this is re-read before the
/// next delivery is checked: rotation's waiting time (docs/operations.md).
pub const SECRETS_MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// A signature that matches no cached secret re-reads the list at most once
/// per this long: six reads a minute under a flood of forged deliveries.
pub const SECRETS_REREAD_AFTER_MISS: Duration = Duration::from_secs(10);

// --- The local HTTP transport (`gu1-webhook serve`) ---

/// Connections served at once; more wait in the kernel's listen backlog
/// (queued, not refused). Each holds a descriptor and at most one body of
/// [`WEBHOOK_MAX_BODY_BYTES`], so the bound stays well under the usual soft
/// limit of 1,024 descriptors and 64 MiB of bodies, while the read timeouts
/// below free a slot held by a silent client within seconds.
pub const SERVE_MAX_CONNECTIONS: usize = 256;

/// Time a client has to send a request's headers. hyper starts the clock
/// when it waits for a request, so a connection that stays idle this long
/// (a new one, or a keep-alive one between requests) is closed too.
pub const SERVE_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Time a client has to send the body once the headers are in. The two read
/// timeouts plus [`DELIVERY_DEADLINE`] answer every request within 25 s,
/// inside the 30 s Gu1 waits.
pub const SERVE_BODY_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// First pause after a failed `accept`; it doubles with each failure in a
/// row. Short, because the usual cause (a connection reset before it was
/// accepted) is gone at once.
pub const SERVE_MIN_ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Longest pause between failed `accept`s: out of descriptors, the process
/// retries (and logs) once a second until connections close.
pub const SERVE_MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

// --- The item ---

/// The most entries a session's history holds. Applied statuses are at
/// most three (ranks only rise) and always appended; conflicts are appended
/// while the history holds fewer than this, so a flood of conflicting
/// deliveries cannot grow the item (each entry is about 100 bytes, billed
/// on every write of it).
pub const HISTORY_MAX_ENTRIES: usize = 12;

// --- The operators' commands ---

/// At most this many sessions of one person are erased per `erase` run (a
/// person has a handful; a run that finds more says so by its count, and a
/// second run takes the rest).
pub const ERASE_MAX_SESSIONS: usize = 1000;

/// In Lambda, an operator's command stops taking sessions this long before
/// the invocation's deadline: the longest one session can take (its
/// publish, within the lease) and a second to answer, so that the report
/// and a window's `next` reach the operator instead of a timeout.
pub const OPERATE_DEADLINE_MARGIN: Duration = PUBLISH_LEASE.saturating_add(Duration::from_secs(1));

// --- The sweeper ---

/// At most this many index pages per sweep, so that one run ends in bounded
/// time.
pub const SWEEP_MAX_PAGES: usize = 40;

// --- Reconciliation and Gu1's API ---

/// Connecting to Gu1's API gives up after this long (further than AWS, which
/// is in the same region).
pub const GU1_API_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One call to Gu1's API, body included, gives up after this long.
pub const GU1_API_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest session body read from Gu1's API (a session is a few KiB).
pub const GU1_API_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Requests per second to Gu1's API, at most.
pub const GU1_API_REQUESTS_PER_SECOND: u32 = 5;
/// After this many busy answers (`429`, `5xx`, no answer) in a row a
/// reconciliation run ends; the sessions left wait for the next run.
pub const GU1_API_MAX_BUSY_IN_A_ROW: u32 = 3;
/// The longest pause between two requests after busy answers.
pub const GU1_API_MAX_PAUSE: Duration = Duration::from_secs(5);
/// Sessions read per page of the stale-sessions index.
pub const RECONCILE_PAGE_SIZE: i32 = 100;
