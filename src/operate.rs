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

mod request;

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
use serde::Serialize;

/// The `event` a tracked session's item carries until Gu1 moves it.
pub const TRACK_EVENT: &str = "track";

/// What `republish` did, per session. Exits 1 when any `failed`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepublishReport {
    /// Sent again, as a new message marked `republishedAt`.
    pub republished: u64,
    /// Never sent before (its outcome was still pending): sent now, as the
    /// original.
    pub first_sends: u64,
    pub not_found: u64,
    /// Not terminal: no outcome to send.
    pub not_terminal: u64,
    /// Erased: its outcome is gone with its data.
    pub erased: u64,
    /// Another publisher held a live lease: it is sending now.
    pub busy: u64,
    /// In the window but of another status than `--status`.
    pub other_status: u64,
    pub failed: u64,
    /// Where a window's next run starts (`--after`): the run stopped at its
    /// limit. `null` when the window is done.
    pub next: Option<String>,
}

/// What `erase` did, per session. Exits 1 when any is `busy`: run it again.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EraseReport {
    pub erased: u64,
    pub already_erased: u64,
    pub not_found: u64,
    /// A publisher held a live lease: not erased yet.
    pub busy: u64,
}

/// What `track` did, per session: registered as pending, already known,
/// or known with another entity (an identity conflict, recorded as one).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrackReport {
    pub tracked: u64,
    pub known: u64,
    pub conflicts: u64,
}

/// Any command's report, as the Lambda handler returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Report {
    Republish(RepublishReport),
    Erase(EraseReport),
    Track(TrackReport),
}

impl Report {
    /// Why the run is to be reported as failed, if it is.
    pub fn failure(&self) -> Option<String> {
        match self {
            Self::Republish(r) if r.failed > 0 => {
                Some(format!("{} outcomes could not be republished", r.failed))
            }
            Self::Erase(r) if r.busy > 0 => Some(format!(
                "{} sessions were being published and are not erased yet: run again",
                r.busy
            )),
            _ => None,
        }
    }
}

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

impl Operator {
    pub fn new(outbox: Outbox) -> Self {
        Self { outbox }
    }

    /// Runs one request.
    pub async fn run(&self, request: &Request) -> Result<Report, StoreError> {
        Ok(match request {
            Request::Republish(what) => Report::Republish(self.republish(what).await?),
            Request::Erase(what) => Report::Erase(self.erase(what).await?),
            Request::Track { sessions, entity } => {
                Report::Track(self.track(sessions, entity.as_deref()).await?)
            }
        })
    }

    /// `republish`: the sessions named, or a window of the terminal index.
    pub async fn republish(&self, what: &Republish) -> Result<RepublishReport, StoreError> {
        let mut report = RepublishReport::default();
        match what {
            Republish::Sessions(sessions) => {
                for session in sessions {
                    self.republish_one(session, &mut report).await;
                }
            }
            Republish::Window(window) => self.republish_window(window, &mut report).await?,
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
        report: &mut RepublishReport,
    ) -> Result<(), StoreError> {
        let until = window.until_ms.unwrap_or_else(now_ms);
        let from = window
            .after
            .as_ref()
            .map_or(window.since_ms, |c| c.terminal_at.max(window.since_ms));
        let mut start = window.after.as_ref().map(Cursor::start_key);
        let mut left = window.limit;
        let mut day = from - from % MS_PER_DAY;
        while day <= until {
            loop {
                let want = i32::try_from(left).unwrap_or(i32::MAX);
                let (entries, more) = self
                    .outbox
                    .store()
                    .terminal_on(&utc_day(day), (from, until), want, start.take())
                    .await?;
                for entry in &entries {
                    match window.status {
                        Some(wanted) if entry.status != Some(wanted) => report.other_status += 1,
                        _ => self.republish_one(&entry.session, report).await,
                    }
                }
                left -= entries.len().min(left);
                let last = entries.last();
                if left == 0 {
                    report.next = last.map(|entry| Cursor::after(entry).to_string());
                    return Ok(());
                }
                match last {
                    Some(entry) if more => start = Some(entry.start_key()),
                    _ => break,
                }
            }
            day += MS_PER_DAY;
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
    pub async fn erase(&self, what: &Erase) -> Result<EraseReport, StoreError> {
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
        for session in sessions {
            let counter = match store.erase(session, now_ms()).await? {
                Erased::Now => &mut report.erased,
                Erased::Already => &mut report.already_erased,
                Erased::NotFound => &mut report.not_found,
                Erased::Busy => &mut report.busy,
            };
            *counter += 1;
            tracing::info!(session_id = %session, "erased");
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
