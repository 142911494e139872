//! The operators' commands: `republish`, `erase` and `track`, from the
//! command line or a Lambda payload (handler `operate`), parsed once into a
//! [`Request`] (in `operate/request.rs`).
//!
//! Each goes through the same conditional writes and publish lease as a
//! delivery ([`crate::outbox`]), so none can race or double a live
//! publisher:
//!
//! - `republish` sends a published outcome again, under a lease it claims,
//!   as a new message consumers can tell (`republishedAt`); an outcome never
//!   sent goes out by the usual protocol. Sessions by id, or those made
//!   terminal in a window, read from the terminal outcomes' index a bounded
//!   number at a time, with a cursor to go on.
//! - `erase` removes a person's personal fields, found by session, entity or
//!   external id through an index, and leaves a tombstone that no delivery,
//!   reconciliation or publisher fills again.
//! - `track` registers sessions a backend created as `pending`, so that
//!   reconciliation finds them.

mod report;
mod request;

pub use report::{EraseReport, Report, RepublishReport, TrackReport};
pub use request::{
    Cursor, DEFAULT_LIMIT, Erase, MAX_LIMIT, MAX_WINDOW_DAYS, Options, Republish, Request, Window,
};

use crate::clock::{MS_PER_DAY, now_ms, rfc3339, utc_day};
use crate::decide::Verdict;
use crate::limits::{DELIVERY_DEADLINE, ERASE_MAX_SESSIONS};
use crate::outbox::{Outbox, PublishError, Published};
use crate::publish::{self, Resend};
use crate::session::{SessionEvent, SessionFields, SessionId, SessionStatus, WriteToken};
use crate::store::{
    ENTITY_ID_ATTR, EXTERNAL_ID_ATTR, Erased, NotRepublished, RepublishClaim, StoreError,
    TerminalEntry,
};
use std::time::Instant;

/// The `event` a tracked session's item carries until Gu1 moves it.
pub const TRACK_EVENT: &str = "track";

/// What one session's republish did.
enum Resent {
    Again,
    First,
    Not(NotRepublished),
}

/// The operators' commands over the outbox.
#[derive(Debug, Clone)]
pub struct Operator {
    outbox: Outbox,
}

/// When a run must stop taking sessions (`None`: never): in Lambda, the
/// invocation's deadline less
/// [`OPERATE_DEADLINE_MARGIN`](crate::limits::OPERATE_DEADLINE_MARGIN), so that the
/// report (and a window's `next`) reaches the operator.
pub type Deadline = Option<Instant>;

impl Operator {
    pub fn new(outbox: Outbox) -> Self {
        Self { outbox }
    }

    /// Runs one request, taking sessions until `deadline`. Each command
    /// makes progress: at least one session per run.
    pub async fn run(&self, request: &Request, deadline: Deadline) -> Result<Report, StoreError> {
        Ok(match request {
            Request::Republish(what) => Report::Republish(self.republish(what, deadline).await?),
            Request::Erase(what) => Report::Erase(self.erase(what, deadline).await?),
            Request::Track { sessions, entity } => {
                Report::Track(self.track(sessions, entity.as_deref()).await?)
            }
        })
    }

    /// `republish`: the sessions named, or a window of the terminal index.
    pub async fn republish(
        &self,
        what: &Republish,
        deadline: Deadline,
    ) -> Result<RepublishReport, StoreError> {
        let mut report = RepublishReport::default();
        match what {
            Republish::Sessions(sessions) => {
                for (done, session) in sessions.iter().enumerate() {
                    if done > 0 && past(deadline) {
                        report.unfinished = (sessions.len() - done) as u64;
                        break;
                    }
                    self.republish_one(session, &mut report).await;
                }
            }
            Republish::Window(window) => {
                self.republish_window(window, deadline, &mut report).await?;
            }
        }
        tracing::info!(
            republished = report.republished,
            first_sends = report.first_sends,
            failed = report.failed,
            "republish"
        );
        Ok(report)
    }

    /// The sessions made terminal in `window`, day by day from the index,
    /// at most `window.limit`; `report.next` says where to go on.
    async fn republish_window(
        &self,
        window: &Window,
        deadline: Deadline,
        report: &mut RepublishReport,
    ) -> Result<(), StoreError> {
        let until = window.until_ms.unwrap_or_else(now_ms);
        let from = window
            .after
            .as_ref()
            .map_or(window.since_ms, |c| c.terminal_at.max(window.since_ms));
        // Where the run is: after this session (the `after` given, then the
        // last one taken), which is where a next run would go on.
        let mut at = window.after.clone();
        let mut left = window.limit;
        let mut day = from - from % MS_PER_DAY;
        while left > 0 && day <= until {
            // Within `at`'s day, the query resumes after it.
            let start = at
                .as_ref()
                .filter(|c| c.terminal_at - c.terminal_at % MS_PER_DAY == day)
                .map(Cursor::start_key);
            let want = i32::try_from(left).unwrap_or(i32::MAX);
            let store = self.outbox.store();
            let (entries, more) = store
                .terminal_on(&utc_day(day), (from, until), want, start)
                .await?;
            for entry in &entries {
                // At least one per run, so that each run goes on.
                if left < window.limit && past(deadline) {
                    report.next = at.map(|c| c.to_string());
                    return Ok(());
                }
                match window.status {
                    Some(wanted) if entry.status != Some(wanted) => report.other_status += 1,
                    _ => self.republish_one(&entry.session, report).await,
                }
                at = Some(Cursor::after(entry));
                left -= 1;
            }
            if !more || entries.is_empty() {
                day += MS_PER_DAY;
            }
        }
        if left == 0 {
            report.next = at.map(|c| c.to_string());
        }
        Ok(())
    }

    /// Republishes one session, within [`DELIVERY_DEADLINE`] (the bound
    /// every lease holder keeps); on a failure the lease goes back.
    async fn republish_one(&self, session: &SessionId, report: &mut RepublishReport) {
        let writer = WriteToken::unique();
        let resent = tokio::time::timeout(DELIVERY_DEADLINE, self.resend(session, &writer))
            .await
            .unwrap_or(Err(PublishError::Timeout));
        let counter = match resent {
            Ok(Resent::Again) => &mut report.republished,
            Ok(Resent::First) => &mut report.first_sends,
            Ok(Resent::Not(NotRepublished::NotFound)) => &mut report.not_found,
            Ok(Resent::Not(NotRepublished::NotTerminal)) => &mut report.not_terminal,
            Ok(Resent::Not(NotRepublished::Erased)) => &mut report.erased,
            Ok(Resent::Not(NotRepublished::Busy)) => &mut report.busy,
            Err(err) => {
                let error = crate::error_chain(&err);
                tracing::warn!(session_id = %session, error, "could not republish the outcome");
                self.outbox.give_back(session, &writer).await;
                &mut report.failed
            }
        };
        *counter += 1;
    }

    /// Sends `session`'s outcome again under a lease `writer` claims, or
    /// for the first time if it never went out.
    async fn resend(
        &self,
        session: &SessionId,
        writer: &WriteToken,
    ) -> Result<Resent, PublishError> {
        let now = now_ms();
        let store = self.outbox.store();
        let (record, count) = match store
            .claim_republish(session, writer, now, Outbox::lease_until(now))
            .await?
        {
            RepublishClaim::Claimed { record, count } => (record, count),
            RepublishClaim::Unpublished => {
                return Ok(
                    match self.outbox.claim_and_publish(session, writer).await? {
                        Published::Sent => Resent::First,
                        Published::NotOurs => Resent::Not(NotRepublished::Busy),
                    },
                );
            }
            RepublishClaim::Refused(why) => return Ok(Resent::Not(why)),
        };
        let Some(message) = publish::outcome(&record) else {
            return Ok(Resent::Not(NotRepublished::NotTerminal));
        };
        let resend = Resend {
            at: rfc3339(now_ms()),
            count,
        };
        let id = self
            .outbox
            .outcomes()
            .send_outcome(&message, Some(&resend))
            .await?;
        store
            .mark_republished(session, writer, &id, &resend.at)
            .await?;
        tracing::info!(session_id = %session, status = %record.status, count, "outcome republished");
        Ok(Resent::Again)
    }

    /// `erase`: the sessions named, or every session of one person (at most
    /// [`ERASE_MAX_SESSIONS`]), found through the entity or external-id index.
    pub async fn erase(&self, what: &Erase, deadline: Deadline) -> Result<EraseReport, StoreError> {
        let store = self.outbox.store();
        let found;
        let sessions = match what {
            Erase::Sessions(sessions) => sessions,
            Erase::Entity(id) => {
                found = store
                    .sessions_of(ENTITY_ID_ATTR, id, ERASE_MAX_SESSIONS)
                    .await?;
                &found
            }
            Erase::ExternalId(id) => {
                found = store
                    .sessions_of(EXTERNAL_ID_ATTR, id, ERASE_MAX_SESSIONS)
                    .await?;
                &found
            }
        };
        let mut report = EraseReport::default();
        for (done, session) in sessions.iter().enumerate() {
            if done > 0 && past(deadline) {
                report.unfinished = (sessions.len() - done) as u64;
                break;
            }
            let (counter, result) = match store.erase(session, now_ms()).await? {
                Erased::Now => (&mut report.erased, "erased"),
                Erased::Already => (&mut report.already_erased, "already_erased"),
                Erased::NotFound => (&mut report.not_found, "not_found"),
                Erased::Busy => (&mut report.busy, "busy"),
            };
            *counter += 1;
            tracing::info!(session_id = %session, result, "erase");
        }
        Ok(report)
    }

    /// `track`: registers `sessions` that your backend created as `pending`
    /// (with `entity`, if given), so that reconciliation reads them from
    /// Gu1's API even if Gu1 never sends a webhook for them. Each goes
    /// through the same conditional write as a delivery
    /// ([`Outbox::record`], event [`TRACK_EVENT`]): a session already known
    /// is left as it is, and one known with another entity is an identity
    /// conflict.
    pub async fn track(
        &self,
        sessions: &[SessionId],
        entity: Option<&str>,
    ) -> Result<TrackReport, StoreError> {
        let mut report = TrackReport::default();
        for session in sessions {
            let event = SessionEvent {
                event: TRACK_EVENT.to_owned(),
                timestamp: None,
                session_id: session.clone(),
                status: SessionStatus::Pending,
                fields: SessionFields {
                    entity_id: entity.map(str::to_owned),
                    ..SessionFields::default()
                },
            };
            let written = self
                .outbox
                .record(&event, None, &WriteToken::unique())
                .await?;
            let counter = match written.verdict {
                Verdict::Applied => &mut report.tracked,
                Verdict::IdentityConflict => &mut report.conflicts,
                Verdict::Duplicate | Verdict::Stale | Verdict::Conflict | Verdict::Erased => {
                    &mut report.known
                }
            };
            *counter += 1;
        }
        Ok(report)
    }
}

/// Whether `deadline` has passed.
fn past(deadline: Deadline) -> bool {
    deadline.is_some_and(|at| Instant::now() >= at)
}

impl Cursor {
    /// The cursor after `entry`: the next run starts past it.
    fn after(entry: &TerminalEntry) -> Self {
        Self {
            terminal_at: entry.terminal_at,
            session: entry.session.clone(),
        }
    }

    fn start_key(&self) -> crate::store::Item {
        TerminalEntry {
            session: self.session.clone(),
            terminal_at: self.terminal_at,
            status: None,
        }
        .start_key()
    }
}
