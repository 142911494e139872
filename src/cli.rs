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
use crate::session::SessionId;
use std::time::Duration;

/// What `gu1-webhook --help` prints.
pub const USAGE: &str = "\
usage: gu1-webhook [COMMAND] [OPTIONS]

Receives Gu1's biometric-session webhooks: the state in DynamoDB, each
terminal outcome once on SQS. Without a command it runs in AWS Lambda as
the function's handler says (bootstrap: the receiver, sweep, reconcile).

commands:
  serve            the receiver over local HTTP
  sweep            one sweep: publish the outcomes a failure left pending
  reconcile        one reconciliation run against Gu1's API
  track            register sessions your backend created, for reconciliation
  help [COMMAND]   this text, or COMMAND's

options:
  -h, --help       this text (COMMAND --help: COMMAND's)
  -V, --version    the version

Configuration comes from the environment (README.md, Configuration).
An unknown command or option exits 2.";

pub const SERVE_USAGE: &str = "\
usage: gu1-webhook serve [--listen ADDR]

The receiver (POST /webhooks/gu1) over plain HTTP, until interrupted.
Needs GU1_WEBHOOK_SECRETS or GU1_WEBHOOK_SECRETS_ARN, SESSIONS_TABLE,
OUTCOMES_QUEUE_URL (REVIEWS_QUEUE_URL for review notices) and AWS
configuration.

options:
  --listen ADDR    the address to listen on (default 127.0.0.1:3000)
  -h, --help       this text";

pub const SWEEP_USAGE: &str = "\
usage: gu1-webhook sweep [--grace-seconds N] [--page-size N]

One sweep: publishes the terminal outcomes a failure left unpublished and
prints {\"published\":N,\"skipped\":N,\"failed\":N}; exits 1 if any failed.
Needs SESSIONS_TABLE, OUTCOMES_QUEUE_URL (REVIEWS_QUEUE_URL for review notices) and AWS
configuration.

options:
  --grace-seconds N  take an outcome only once it is N seconds old
                     (default SWEEP_GRACE_SECONDS, else 17)
  --page-size N      sessions per page of the index, 1 to 1000
                     (default SWEEP_PAGE_SIZE, else 25)
  -h, --help         this text";

pub const RECONCILE_USAGE: &str = "\
usage: gu1-webhook reconcile [--stale-after N] [--session ID]...

One reconciliation run: reads sessions from Gu1's API and applies what
changed, as a delivery would; prints {\"checked\":N,\"applied\":N,
\"unchanged\":N,\"notFound\":N,\"failed\":N}; exits 1 if Gu1 refused the key
or any check failed. Needs GU1_API_KEY or GU1_API_KEY_ARN,
GU1_ORGANIZATION_ID, SESSIONS_TABLE, OUTCOMES_QUEUE_URL (REVIEWS_QUEUE_URL for review notices) and AWS
configuration.

options:
  --stale-after N  without --session: the sessions nothing moved for N
                   seconds (default RECONCILE_STALE_AFTER_SECONDS, else 1800)
  --session ID     this session, known or not (repeatable; an ID that
                   starts with '-' as --session=ID)
  -h, --help       this text";

pub const TRACK_USAGE: &str = "\
usage: gu1-webhook track --session ID... [--entity ID]

Registers sessions your backend created as pending, through the same
conditional write as a delivery, so that reconciliation reads them from
Gu1's API even if Gu1 never sends a webhook for them; a session already
known is left as it is. Prints {\"tracked\":N,\"known\":N,\"conflicts\":N}
(conflicts: the session has another entity). Needs SESSIONS_TABLE,
OUTCOMES_QUEUE_URL and AWS configuration.

options:
  --session ID     a session to register (repeatable; an ID that starts
                   with '-' as --session=ID)
  --entity ID      the person's Gu1 entity id, stored with each session
  -h, --help       this text";

/// Each command and its usage.
const COMMANDS: [(&str, &str); 4] = [
    ("serve", SERVE_USAGE),
    ("sweep", SWEEP_USAGE),
    ("reconcile", RECONCILE_USAGE),
    ("track", TRACK_USAGE),
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
    /// Register these sessions as pending (with this entity).
    Track {
        sessions: Vec<SessionId>,
        entity: Option<String>,
    },
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
    let mut entity = None;
    let mut sessions = Vec::new();
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
            "--grace-seconds" => {
                once(grace.is_some())?;
                grace = Some(parsed(
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
            "--stale-after" => {
                once(stale_after.is_some())?;
                stale_after = Some(parsed(
                    &flag,
                    &value,
                    config::parse_seconds,
                    SECONDS_RULE,
                    usage,
                )?);
            }
            "--entity" => {
                once(entity.is_some())?;
                // The same rule as a session id: an id the table can hold.
                SessionId::parse(&value).map_err(|e| Refused {
                    reason: format!("--entity {value:?}: {e}"),
                    usage,
                })?;
                entity = Some(value);
            }
            _ => sessions.push(SessionId::parse(&value).map_err(|e| Refused {
                reason: format!("--session {value:?}: {e}"),
                usage,
            })?),
        }
    }
    Ok(match command {
        "serve" => Command::Serve {
            listen: listen.unwrap_or_else(|| String::from("127.0.0.1:3000")),
        },
        "sweep" => Command::Sweep { grace, page_size },
        "track" if sessions.is_empty() => return refuse("track needs --session".into(), usage),
        "track" => Command::Track { sessions, entity },
        _ => Command::Reconcile {
            stale_after,
            sessions,
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
