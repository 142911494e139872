//! Reconciliation: what Gu1 never delivered is still found, through its API.
//!
//! Gu1 documents no retry policy, so a delivery it gives up on (our outage,
//! a misconfigured secret, a bug on its side) would leave a session
//! `pending` or `in_progress` for ever. A run reads from Gu1's API
//! ([`crate::gu1_api`]) the sessions that nothing has moved for
//! `stale_after` (found in the sparse [`crate::store::STALE_INDEX`], never a
//! scan), or the sessions it is asked about, and puts each through the very
//! path of a delivery after its parse: the same conditional write, the same
//! lease, the same publish ([`Outbox::record`], [`Outbox::publish_due`]).
//! A status that is not newer changes nothing; the session then goes to the
//! back of the stale queue (one conditional write, the whole check for most
//! sessions), so a run's bound never starves the others.
//!
//! A good API client: at most [`GU1_API_REQUESTS_PER_SECOND`]; a `429` or `5xx`,
//! or no answer at all (refused, reset, timed out), slows the run down and
//! leaves the session for the next one, and a few in a row end the run; a
//! `401`/`403` ends it at once (a configuration error).

use crate::clock::{millis, now_ms};
use crate::decide::Verdict;
use crate::gu1_api::{ApiError, Gu1Api};
use crate::limits::{
    GU1_API_MAX_BUSY_IN_A_ROW, GU1_API_MAX_PAUSE, GU1_API_REQUESTS_PER_SECOND, RECONCILE_PAGE_SIZE,
};
use crate::outbox::Outbox;
use crate::session::{SessionEvent, SessionId, WriteToken};
use crate::store::{StoreError, Written};
use serde::Serialize;
use std::time::Duration;

/// What one run did: its summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    /// Sessions read from Gu1's API (or tried).
    pub checked: u64,
    /// Sessions the API's answer moved forward.
    pub applied: u64,
    /// Sessions where the API said nothing newer.
    pub unchanged: u64,
    /// Sessions Gu1 does not know.
    pub not_found: u64,
    /// Sessions that could not be read or written; left for the next run.
    pub failed: u64,
}

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Our credentials were refused: nothing more can be read.
    #[error(transparent)]
    Unauthorized(ApiError),
    /// The stale-sessions index could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The reconcile command, built by [`crate::app::reconciler`].
#[derive(Debug, Clone)]
pub struct Reconciler {
    outbox: Outbox,
    api: Gu1Api,
    stale_after: Duration,
    max_sessions: usize,
}

impl Reconciler {
    pub fn new(outbox: Outbox, api: Gu1Api, stale_after: Duration, max_sessions: usize) -> Self {
        Self {
            outbox,
            api,
            stale_after,
            max_sessions,
        }
    }

    /// One run over `sessions`, or, when empty, over the stale sessions.
    /// The report counts what was done before an early end too.
    pub async fn run(
        &self,
        sessions: &[SessionId],
        report: &mut ReconcileReport,
    ) -> Result<(), ReconcileError> {
        let sessions = if sessions.is_empty() {
            self.stale_sessions().await?
        } else {
            sessions.to_vec()
        };
        let base = Duration::from_secs(1) / GU1_API_REQUESTS_PER_SECOND;
        let mut pause = Duration::ZERO;
        let mut busy_in_a_row = 0;
        let mut refused = None;
        for session in &sessions {
            tokio::time::sleep(pause).await;
            pause = base;
            report.checked += 1;
            let result = match self.check(session).await {
                Ok(result) => {
                    busy_in_a_row = 0;
                    result
                }
                Err(Failure::Api(ApiError::Unauthorized(code))) => {
                    refused = Some(code);
                    Checked::Failed
                }
                Err(failure) => {
                    tracing::warn!(session_id = %session, error = %crate::error_chain(&failure), "could not reconcile");
                    if matches!(&failure, Failure::Api(error) if error.is_busy()) {
                        busy_in_a_row += 1;
                        pause = (base * 2u32.pow(busy_in_a_row)).min(GU1_API_MAX_PAUSE);
                    } else {
                        // Gu1 answered (what we could not use): not busy.
                        busy_in_a_row = 0;
                    }
                    Checked::Failed
                }
            };
            let counter = match result {
                Checked::Applied => &mut report.applied,
                Checked::Unchanged => &mut report.unchanged,
                Checked::NotFound => &mut report.not_found,
                Checked::Failed => &mut report.failed,
            };
            *counter += 1;
            crate::metrics::reconciled(result.as_str());
            if refused.is_some() {
                break;
            }
            if busy_in_a_row >= GU1_API_MAX_BUSY_IN_A_ROW {
                tracing::warn!(
                    left = sessions.len() as u64 - report.checked,
                    "Gu1's API is busy or out of reach: the rest waits for the next run"
                );
                break;
            }
        }
        tracing::info!(
            checked = report.checked,
            applied = report.applied,
            unchanged = report.unchanged,
            not_found = report.not_found,
            failed = report.failed,
            "reconcile"
        );
        match refused {
            Some(code) => Err(ReconcileError::Unauthorized(ApiError::Unauthorized(code))),
            None => Ok(()),
        }
    }

    /// Active sessions nothing has moved or checked for `stale_after`,
    /// least recently first, at most `max_sessions`.
    async fn stale_sessions(&self) -> Result<Vec<SessionId>, StoreError> {
        let cutoff = now_ms().saturating_sub(millis(self.stale_after));
        let mut sessions = Vec::new();
        let mut start = None;
        while sessions.len() < self.max_sessions {
            let want =
                (self.max_sessions - sessions.len()).min(RECONCILE_PAGE_SIZE as usize) as i32;
            let page = self.outbox.store().stale(cutoff, want, start).await?;
            sessions.extend(page.sessions);
            start = page.next;
            if start.is_none() {
                break;
            }
        }
        sessions.truncate(self.max_sessions);
        Ok(sessions)
    }

    /// Reads one session from Gu1 and applies what it says.
    async fn check(&self, session: &SessionId) -> Result<Checked, Failure> {
        let store = self.outbox.store();
        let event = match self.api.session(session).await? {
            Some(event) => event,
            None => {
                tracing::info!(session_id = %session, "Gu1 does not know this session");
                store.mark_checked(session, None, now_ms()).await?;
                return Ok(Checked::NotFound);
            }
        };
        // Most stale sessions are where Gu1 says: one write checks them off.
        if store.mark_checked(session, Some(&event), now_ms()).await? {
            return Ok(Checked::Unchanged);
        }
        // Gu1 is ahead, or the session is terminal or new here, or of
        // another identity: the same write as a webhook's.
        let writer = WriteToken::unique();
        let written = match self.apply(&event, &writer).await {
            Ok(written) => written,
            Err(failure) => {
                self.outbox.give_back(session, &writer).await;
                return Err(failure);
            }
        };
        if written.verdict == Verdict::IdentityConflict {
            // Recorded on the item and counted; for a person to look at.
            store.mark_checked(session, None, now_ms()).await?;
            return Err(Failure::IdentityConflict);
        }
        if written.verdict == Verdict::Applied {
            tracing::info!(
                session_id = %session,
                status = %written.record.status,
                "reconciled: Gu1's API moved the session forward"
            );
            return Ok(Checked::Applied);
        }
        if !written.record.status.is_terminal() {
            // Another write got there first: checked all the same.
            store.mark_checked(session, None, now_ms()).await?;
        }
        Ok(Checked::Unchanged)
    }
}

impl Reconciler {
    /// Records Gu1's answer as `writer` and publishes an outcome that is
    /// pending (whoever wrote it), as a delivery would.
    async fn apply(&self, event: &SessionEvent, writer: &WriteToken) -> Result<Written, Failure> {
        let written = self.outbox.record(event, None, writer).await?;
        self.outbox
            .publish_due(&written.record, writer)
            .await
            .map_err(|e| Failure::Publish(e.into()))?;
        Ok(written)
    }
}

/// What one check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    Applied,
    Unchanged,
    NotFound,
    Failed,
}

impl Checked {
    fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Unchanged => "unchanged",
            Self::NotFound => "not_found",
            Self::Failed => "failed",
        }
    }
}

/// Why one session could not be reconciled.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(Box<crate::outbox::PublishError>),
    #[error("Gu1's API names another identity than the session has: nothing applied")]
    IdentityConflict,
}
