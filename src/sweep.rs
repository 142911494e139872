//! The sweeper: publishes terminal outcomes that no delivery managed to
//! publish (SQS was down, or the process died between the write and the send).
//!
//! It reads only the sparse [`crate::store::UNPUBLISHED_INDEX`], never the
//! table, and publishes each outcome through the same lease protocol as a
//! delivery ([`Publisher::claim_and_publish`]), so a sweeper racing a
//! redelivery or another sweeper never sends twice.

use crate::config::{DELIVERY_DEADLINE, PUBLISH_LEASE};
use crate::decide::WriteToken;
use crate::publish::{PublishError, Published, Publisher};
use crate::store::{StoreError, now_ms};
use serde::Serialize;
use std::time::Duration;

/// The Lambda `Handler` that runs the sweeper instead of the receiver
/// (Lambda passes it to the binary in `_HANDLER`).
pub const HANDLER: &str = "sweep";
/// Environment variable of the scheduled sweeper's grace period, in seconds.
pub const GRACE_VAR: &str = "SWEEP_GRACE_SECONDS";
/// Environment variable of the scheduled sweeper's page size.
pub const PAGE_SIZE_VAR: &str = "SWEEP_PAGE_SIZE";

/// Default age an unpublished outcome must reach before the sweeper takes it:
/// the publish lease rounded up to whole seconds. Younger outcomes are still
/// under the lease of the delivery that wrote them (a claim would fail).
pub const DEFAULT_GRACE: Duration =
    Duration::from_secs(PUBLISH_LEASE.as_millis().div_ceil(1000) as u64);
/// Default number of sessions read per index page.
pub const DEFAULT_PAGE_SIZE: i32 = 25;
/// At most this many pages per run, so that one run ends in bounded time.
pub const MAX_PAGES: usize = 40;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Outcomes this run put on the queue.
    pub published: u64,
    /// Outcomes another publisher held or had already published.
    pub skipped: u64,
    /// Outcomes whose publication failed; they stay pending for the next run.
    pub failed: u64,
}

/// Publishes every outcome unpublished for longer than `grace`.
pub async fn sweep(
    publisher: &Publisher,
    grace: Duration,
    page_size: i32,
) -> Result<SweepReport, StoreError> {
    let cutoff = now_ms().saturating_sub(u64::try_from(grace.as_millis()).unwrap_or(u64::MAX));
    let mut report = SweepReport::default();
    let mut start = None;
    for _ in 0..MAX_PAGES {
        let page = publisher
            .store()
            .unpublished(cutoff, page_size.max(1), start)
            .await?;
        for session in &page.sessions {
            let writer = WriteToken::random();
            // Bounded like a delivery, so that the lease outlasts it.
            let claimed = tokio::time::timeout(
                DELIVERY_DEADLINE,
                publisher.claim_and_publish(session, &writer),
            )
            .await
            .unwrap_or(Err(PublishError::Timeout));
            match claimed {
                Ok(Published::Sent) => report.published += 1,
                Ok(Published::NotOurs) => report.skipped += 1,
                Err(err) => {
                    report.failed += 1;
                    tracing::warn!(session_id = %session, error = %err, "sweeper could not publish");
                }
            }
        }
        start = page.next;
        if start.is_none() {
            break;
        }
    }
    crate::metrics::sweep_found(report.published + report.failed);
    tracing::info!(
        published = report.published,
        skipped = report.skipped,
        failed = report.failed,
        "sweep"
    );
    Ok(report)
}
