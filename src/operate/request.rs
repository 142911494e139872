//! An operator's request, parsed once with one set of rules, whether it
//! comes from the command line or from a Lambda payload such as
//! `{"command":"erase","entity":"ent-1"}`.

use crate::clock::{MS_PER_DAY, now_ms, parse_ms};
use crate::session::{SessionId, SessionStatus};
use std::fmt;

/// The widest window `republish --since` reads, in days: one run walks it
/// a day (one query) at a time.
pub const MAX_WINDOW_DAYS: u64 = 400;
/// Sessions one `republish --since` run takes unless told (`--limit`).
pub const DEFAULT_LIMIT: usize = 100;
/// The most sessions one run may take.
pub const MAX_LIMIT: usize = 1000;

/// One operator's command.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Republish(Republish),
    Erase(Erase),
    /// Register these sessions as pending (with this entity).
    Track {
        sessions: Vec<SessionId>,
        entity: Option<String>,
    },
}

/// Which outcomes to send again.
#[derive(Debug, Clone, PartialEq)]
pub enum Republish {
    Sessions(Vec<SessionId>),
    Window(Window),
}

/// The sessions made terminal from `since_ms` to `until_ms` (default: now),
/// of `status` if given, at most `limit`, after `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub since_ms: u64,
    pub until_ms: Option<u64>,
    pub status: Option<SessionStatus>,
    pub limit: usize,
    pub after: Option<Cursor>,
}

/// Whose personal fields to erase.
#[derive(Debug, Clone, PartialEq)]
pub enum Erase {
    Sessions(Vec<SessionId>),
    /// Every session of Gu1's entity (the person).
    Entity(String),
    /// Every session of your own customer key.
    ExternalId(String),
}

/// Where a `republish --since` run stopped: the last session it read, as
/// `terminalAtMs:sessionId` (the `next` of its report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub terminal_at: u64,
    pub session: SessionId,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.terminal_at, self.session)
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let refused = || format!("{text:?} is not a cursor (a report's next)");
        let (at, session) = text.split_once(':').ok_or_else(refused)?;
        Ok(Self {
            terminal_at: at.parse().map_err(|_| refused())?,
            session: SessionId::parse(session).map_err(|_| refused())?,
        })
    }
}

/// A request's options as given, before their rules: the command line's
/// flags and the payload's fields are the same names (`externalId` in a
/// payload is `--external-id`).
#[derive(Debug, Default, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Options {
    #[serde(default)]
    pub sessions: Vec<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub after: Option<String>,
    pub entity: Option<String>,
    pub external_id: Option<String>,
}

/// A Lambda payload: `command` and that command's options.
#[derive(serde::Deserialize)]
#[serde(tag = "command", rename_all = "lowercase")]
enum Payload {
    Republish(Options),
    Erase(Options),
    Track(Options),
}

impl Request {
    /// The request a Lambda payload makes, or why it makes none.
    pub fn from_payload(payload: &serde_json::Value) -> Result<Self, String> {
        let payload = Payload::deserialize(payload).map_err(|e| {
            format!("not a command (republish, erase or track with its options): {e}")
        })?;
        match payload {
            Payload::Republish(options) => Self::republish(options),
            Payload::Erase(options) => Self::erase(options),
            Payload::Track(options) => Self::track(options),
        }
    }

    /// `republish`: `sessions`, or a window from `since`.
    pub fn republish(options: Options) -> Result<Self, String> {
        let Some(since) = &options.since else {
            options.only("republish without since", &["sessions"])?;
            return Ok(Self::Republish(Republish::Sessions(session_ids(
                options.sessions,
            )?)));
        };
        if !options.sessions.is_empty() {
            return Err("give sessions or since, not both".into());
        }
        options.only(
            "republish with since",
            &["since", "until", "status", "limit", "after"],
        )?;
        let since_ms = instant("since", since)?;
        let until_ms = options
            .until
            .as_deref()
            .map(|until| instant("until", until))
            .transpose()?;
        let end = until_ms.unwrap_or_else(now_ms);
        if end < since_ms {
            return Err("until is before since".into());
        }
        if end - since_ms > MAX_WINDOW_DAYS * MS_PER_DAY {
            return Err(format!("a window is at most {MAX_WINDOW_DAYS} days"));
        }
        let status = match &options.status {
            None => None,
            Some(text) => Some(
                SessionStatus::parse(text)
                    .filter(|s| s.is_terminal())
                    .ok_or_else(|| format!("status {text:?} is not a terminal status"))?,
            ),
        };
        let limit = options.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(format!("limit is a number from 1 to {MAX_LIMIT}"));
        }
        Ok(Self::Republish(Republish::Window(Window {
            since_ms,
            until_ms,
            status,
            limit,
            after: options.after.map(|text| text.parse()).transpose()?,
        })))
    }

    /// `erase`: exactly one of `sessions`, `entity` and `externalId`.
    pub fn erase(options: Options) -> Result<Self, String> {
        options.only("erase", &["sessions", "entity", "externalId"])?;
        let Options {
            sessions,
            entity,
            external_id,
            ..
        } = options;
        match (sessions.is_empty(), entity, external_id) {
            (false, None, None) => Ok(Self::Erase(Erase::Sessions(session_ids(sessions)?))),
            (true, Some(entity), None) => Ok(Self::Erase(Erase::Entity(identity(entity)?))),
            (true, None, Some(id)) => Ok(Self::Erase(Erase::ExternalId(identity(id)?))),
            _ => Err("erase takes one of sessions, entity or external id".into()),
        }
    }

    /// `track`: `sessions`, with `entity` if given.
    pub fn track(options: Options) -> Result<Self, String> {
        options.only("track", &["sessions", "entity"])?;
        if let Some(entity) = &options.entity {
            // The same rule as a session id: an id the table can hold.
            SessionId::parse(entity).map_err(|e| format!("entity {entity:?}: {e}"))?;
        }
        Ok(Self::Track {
            sessions: session_ids(options.sessions)?,
            entity: options.entity,
        })
    }
}

impl Options {
    /// Refuses the first option given that `command` does not take (its
    /// payload name: the command line's flag is `--` and its kebab case).
    fn only(&self, command: &str, takes: &[&str]) -> Result<(), String> {
        let given = [
            ("sessions", !self.sessions.is_empty()),
            ("since", self.since.is_some()),
            ("until", self.until.is_some()),
            ("status", self.status.is_some()),
            ("limit", self.limit.is_some()),
            ("after", self.after.is_some()),
            ("entity", self.entity.is_some()),
            ("externalId", self.external_id.is_some()),
        ];
        match given
            .into_iter()
            .find(|(name, set)| *set && !takes.contains(name))
        {
            Some((name, _)) => Err(format!("{name} is not an option of {command}")),
            None => Ok(()),
        }
    }
}

/// At least one session id, each by its rule.
fn session_ids(sessions: Vec<String>) -> Result<Vec<SessionId>, String> {
    if sessions.is_empty() {
        return Err("give at least one session".into());
    }
    sessions
        .iter()
        .map(|id| SessionId::parse(id).map_err(|e| format!("session {id:?}: {e}")))
        .collect()
}

/// An entity or external id to look up: what the table's index can hold.
fn identity(value: String) -> Result<String, String> {
    if value.is_empty() || value.len() > 1024 || value.chars().any(char::is_control) {
        return Err(
            "an entity or external id is 1 to 1024 characters, no control characters".into(),
        );
    }
    Ok(value)
}

/// An RFC 3339 instant.
fn instant(name: &str, text: &str) -> Result<u64, String> {
    parse_ms(text).ok_or_else(|| {
        format!("{name} {text:?} is not an RFC 3339 time, e.g. 2026-12-01T14:00:00Z")
    })
}

use serde::Deserialize as _;

#[cfg(test)]
mod tests;
