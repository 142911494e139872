//! The command line: the commands, their options and usage texts, parsed
//! once into a [`Command`].
//!
//! `--help` (or `help`) prints the usage, `COMMAND --help` (or `help
//! COMMAND`) that command's, both on stdout with exit 0; an unknown command
//! or option, a missing or invalid value exits 2 with the reason and the
//! usage on stderr, before any configuration is read. The parser is by hand:
//! clap would not fit the package budget, and lexopt would add bytes for
//! nothing these options need (measured in BENCHMARKS.md, The command line).

use crate::config::{self, PAGE_SIZE_RULE, SECONDS_RULE};
use crate::operate::{Options, Request};
use crate::session::SessionId;
use std::time::Duration;

mod usage;

pub use usage::*;

/// Each command and its usage.
const COMMANDS: [(&str, &str); 6] = [
    ("serve", SERVE_USAGE),
    ("sweep", SWEEP_USAGE),
    ("reconcile", RECONCILE_USAGE),
    ("track", TRACK_USAGE),
    ("republish", REPUBLISH_USAGE),
    ("erase", ERASE_USAGE),
];

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Print this usage.
    Help(&'static str),
    Version,
    /// In Lambda: the receiver or the sweeper, as the function's handler says.
    Lambda,
    Serve {
        listen: String,
    },
    /// One sweep; each option overrides its environment variable.
    Sweep {
        grace: Option<Duration>,
        page_size: Option<i32>,
    },
    /// One reconciliation run: these sessions, or the stale ones.
    Reconcile {
        stale_after: Option<Duration>,
        sessions: Vec<SessionId>,
    },
    /// An operator's command: `track`, `republish` or `erase`.
    Operate(Request),
}

/// A command line that cannot run: why, and the usage to show with it.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub reason: String,
    pub usage: &'static str,
}

/// `args` (without the program's name) as a command. `-h`/`--help` after a
/// command asks for its usage wherever it stands: no option's value can be
/// taken for it, since a value that starts with `-` must be attached
/// (`--session=-x`).
pub fn parse_args(args: Vec<String>) -> Result<Command, Refused> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return Ok(Command::Lambda);
    };
    let (command, usage) = match first.as_str() {
        "-h" | "--help" => return Ok(Command::Help(USAGE)),
        "-V" | "--version" => return Ok(Command::Version),
        "help" => {
            return match args.next() {
                None => Ok(Command::Help(USAGE)),
                Some(name) => match usage_of(&name) {
                    Some(usage) => Ok(Command::Help(usage)),
                    None => refuse(format!("unknown command {name}"), USAGE),
                },
            };
        }
        name => match usage_of(name) {
            Some(usage) => (name, usage),
            None if name.starts_with('-') => {
                return refuse(format!("unknown option {name}"), USAGE);
            }
            None => return refuse(format!("unknown command {name}"), USAGE),
        },
    };
    let args: Vec<String> = args.collect();
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        return Ok(Command::Help(usage));
    }
    let mut args = args.into_iter();
    let (mut listen, mut grace, mut page_size, mut stale_after) = (None, None, None, None);
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        let (flag, attached) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if !flag.starts_with('-') {
            return refuse(format!("unexpected argument {flag} for {command}"), usage);
        }
        let known = matches!(
            (command, flag.as_str()),
            ("serve", "--listen")
                | ("sweep", "--grace-seconds" | "--page-size")
                | ("reconcile", "--stale-after" | "--session")
                | ("track", "--session" | "--entity")
                | (
                    "republish",
                    "--session" | "--since" | "--until" | "--status" | "--limit" | "--after"
                )
                | ("erase", "--session" | "--entity" | "--external-id")
        );
        if !known {
            return refuse(format!("unknown option {flag} for {command}"), usage);
        }
        let value = match attached.or_else(|| args.next().filter(|v| !v.starts_with('-'))) {
            Some(value) => value,
            None => return refuse(format!("{flag} needs a value"), usage),
        };
        let once = |given: bool| {
            if given {
                return refuse(format!("{flag} given twice"), usage);
            }
            Ok(())
        };
        match flag.as_str() {
            "--listen" => {
                once(listen.is_some())?;
                listen = Some(value);
            }
            "--grace-seconds" | "--stale-after" => {
                let slot = if flag == "--grace-seconds" {
                    &mut grace
                } else {
                    &mut stale_after
                };
                once(slot.is_some())?;
                *slot = Some(parsed(
                    &flag,
                    &value,
                    config::parse_seconds,
                    SECONDS_RULE,
                    usage,
                )?);
            }
            "--page-size" => {
                once(page_size.is_some())?;
                page_size = Some(parsed(
                    &flag,
                    &value,
                    config::parse_page_size,
                    PAGE_SIZE_RULE,
                    usage,
                )?);
            }
            "--limit" => {
                once(options.limit.is_some())?;
                options.limit = Some(parsed(
                    &flag,
                    &value,
                    |v| v.parse().ok(),
                    "a number",
                    usage,
                )?);
            }
            "--session" => options.sessions.push(value),
            _ => {
                let slot = match flag.as_str() {
                    "--since" => &mut options.since,
                    "--until" => &mut options.until,
                    "--status" => &mut options.status,
                    "--after" => &mut options.after,
                    "--entity" => &mut options.entity,
                    _ => &mut options.external_id,
                };
                once(slot.is_some())?;
                *slot = Some(value);
            }
        }
    }
    let operate = |build: fn(Options) -> Result<Request, String>, options| {
        build(options)
            .map(Command::Operate)
            .map_err(|reason| Refused { reason, usage })
    };
    Ok(match command {
        "serve" => Command::Serve {
            listen: listen.unwrap_or_else(|| String::from("127.0.0.1:3000")),
        },
        "sweep" => Command::Sweep { grace, page_size },
        "track" => operate(Request::track, options)?,
        "republish" => operate(Request::republish, options)?,
        "erase" => operate(Request::erase, options)?,
        _ => Command::Reconcile {
            stale_after,
            sessions: options
                .sessions
                .iter()
                .map(|id| {
                    SessionId::parse(id).map_err(|e| Refused {
                        reason: format!("--session {id:?}: {e}"),
                        usage,
                    })
                })
                .collect::<Result<_, _>>()?,
        },
    })
}

/// `value` of option `flag` read by `parse`, or a refusal that states its
/// `rule`.
fn parsed<T>(
    flag: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    rule: &str,
    usage: &'static str,
) -> Result<T, Refused> {
    parse(value).ok_or_else(|| Refused {
        reason: format!("{flag} takes {rule}"),
        usage,
    })
}

/// A refusal of the command line, with `usage` to show.
fn refuse<T>(reason: String, usage: &'static str) -> Result<T, Refused> {
    Err(Refused { reason, usage })
}

/// The usage of the command called `name`.
fn usage_of(name: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(command, _)| *command == name)
        .map(|(_, usage)| *usage)
}

#[cfg(test)]
mod tests;
