//! What each command did, as it prints it (and the Lambda handler answers
//! it): counts per session, camelCase JSON.

use serde::Serialize;

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
    /// Sessions named but not tried: the run's time was up (in Lambda, its
    /// deadline). Run it again for them.
    pub unfinished: u64,
    /// Where a window's next run starts (`--after`): the run stopped at its
    /// limit, or its time was up. `null` when the window is done.
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
    /// Not tried: the run's time was up. Run it again.
    pub unfinished: u64,
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
            Self::Republish(r) if r.failed + r.unfinished > 0 => Some(format!(
                "{} outcomes could not be republished and {} were not tried",
                r.failed, r.unfinished
            )),
            Self::Erase(r) if r.busy + r.unfinished > 0 => Some(format!(
                "{} sessions are not erased yet (a publisher held {} of them): run again",
                r.busy + r.unfinished,
                r.busy
            )),
            _ => None,
        }
    }
}
