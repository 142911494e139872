//! `gu1-webhook`: one binary, four ways to run (and `--help`, `--version`).
//!
//! - In Lambda (no arguments): the receiver under the `lambda_http` runtime,
//!   or the sweeper or reconciliation under `lambda_runtime` when the
//!   function's handler is `sweep` or `reconcile` (Lambda passes it in
//!   `_HANDLER`).
//! - `gu1-webhook serve [--listen ADDR]`: the same receiver over local HTTP.
//! - `gu1-webhook sweep [--grace-seconds N] [--page-size N]`: one sweep.
//! - `gu1-webhook reconcile [--stale-after N] [--session ID]...`: one
//!   reconciliation run against Gu1's API (in Lambda: handler `reconcile`).
//!
//! `--help` (or `help`) prints the usage, `COMMAND --help` (or `help
//! COMMAND`) that command's, both on stdout with exit 0; an unknown command
//! or option, a missing or invalid value exits 2 with the reason and the
//! usage on stderr, before any configuration is read. The parser is by hand:
//! clap would not fit the package budget, and lexopt would add bytes for
//! nothing these options need (measured in BENCHMARKS.md, The command line).

use gu1_webhook::config::{
    self, Clients, LambdaRole, PAGE_SIZE_RULE, ReceiverConfig, ReconcileConfig, Roots,
    SECONDS_RULE, SweepConfig, sdk_config_from_env, tls_config,
};
use gu1_webhook::reconcile::ReconcileReport;
use gu1_webhook::session::SessionId;
use gu1_webhook::{app, logs, serve};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// What `gu1-webhook --help` prints.
const USAGE: &str = "\
usage: gu1-webhook [COMMAND] [OPTIONS]

Receives Gu1's biometric-session webhooks: the state in DynamoDB, each
terminal outcome once on SQS. Without a command it runs in AWS Lambda as
the function's handler says (bootstrap: the receiver, sweep, reconcile).

commands:
  serve            the receiver over local HTTP
  sweep            one sweep: publish the outcomes a failure left pending
  reconcile        one reconciliation run against Gu1's API
  help [COMMAND]   this text, or COMMAND's

options:
  -h, --help       this text (COMMAND --help: COMMAND's)
  -V, --version    the version

Configuration comes from the environment (README.md, Configuration).
An unknown command or option exits 2.";

const SERVE_USAGE: &str = "\
usage: gu1-webhook serve [--listen ADDR]

The receiver (POST /webhooks/gu1) over plain HTTP, until interrupted.
Needs GU1_WEBHOOK_SECRETS or GU1_WEBHOOK_SECRETS_ARN, SESSIONS_TABLE,
OUTCOMES_QUEUE_URL and AWS configuration.

options:
  --listen ADDR    the address to listen on (default 127.0.0.1:3000)
  -h, --help       this text";

const SWEEP_USAGE: &str = "\
usage: gu1-webhook sweep [--grace-seconds N] [--page-size N]

One sweep: publishes the terminal outcomes a failure left unpublished and
prints {\"published\":N,\"skipped\":N,\"failed\":N}; exits 1 if any failed.
Needs SESSIONS_TABLE, OUTCOMES_QUEUE_URL and AWS configuration.

options:
  --grace-seconds N  take an outcome only once it is N seconds old
                     (default SWEEP_GRACE_SECONDS, else 17)
  --page-size N      sessions per page of the index, 1 to 1000
                     (default SWEEP_PAGE_SIZE, else 25)
  -h, --help         this text";

const RECONCILE_USAGE: &str = "\
usage: gu1-webhook reconcile [--stale-after N] [--session ID]...

One reconciliation run: reads sessions from Gu1's API and applies what
changed, as a delivery would; prints {\"checked\":N,\"applied\":N,
\"unchanged\":N,\"notFound\":N,\"failed\":N}; exits 1 if Gu1 refused the key
or any check failed. Needs GU1_API_KEY or GU1_API_KEY_ARN,
GU1_ORGANIZATION_ID, SESSIONS_TABLE, OUTCOMES_QUEUE_URL and AWS configuration.

options:
  --stale-after N  without --session: the sessions nothing moved for N
                   seconds (default RECONCILE_STALE_AFTER_SECONDS, else 1800)
  --session ID     this session, known or not (repeatable; an ID that
                   starts with '-' as --session=ID)
  -h, --help       this text";

/// Each command and its usage.
const COMMANDS: [(&str, &str); 3] = [
    ("serve", SERVE_USAGE),
    ("sweep", SWEEP_USAGE),
    ("reconcile", RECONCILE_USAGE),
];

/// What `--version` prints and the first log line of every run carries, so
/// that a deployment can say which release it runs.
const VERSION: &str = concat!("gu1-webhook ", env!("CARGO_PKG_VERSION"));

#[derive(Debug)]
enum Command {
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
}

fn main() -> ExitCode {
    gu1_webhook::logs::init();
    let command = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Command::Help(usage)) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("{VERSION}");
            return ExitCode::SUCCESS;
        }
        Ok(command) => command,
        Err(refused) => {
            eprintln!("gu1-webhook: {}\n\n{}", refused.reason, refused.usage);
            return ExitCode::from(2);
        }
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "gu1-webhook starting");
    // Lambda sends one request at a time: a single-threaded runtime starts faster.
    let runtime = match command {
        Command::Serve { .. } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    };
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(command)),
        Err(err) => Err(err.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %gu1_webhook::error_chain(&*err), "gu1-webhook stopped");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Reads the command's configuration (failing closed: without what it needs,
/// nothing starts), builds the clients once, then runs the command.
async fn run(command: Command) -> Result<(), BoxError> {
    // The CAs every HTTPS call trusts, read once.
    let roots = Roots::from_env()?;
    match command {
        Command::Help(_) | Command::Version => Ok(()),
        Command::Lambda => match LambdaRole::from_env()? {
            LambdaRole::Receiver => lambda_receiver(&roots).await,
            LambdaRole::Sweeper => lambda_sweeper(&roots).await,
            LambdaRole::Reconciler => lambda_reconciler(&roots).await,
        },
        Command::Serve { listen } => {
            let config = ReceiverConfig::from_env()?;
            let clients = clients(&roots).await?;
            let receiver = Arc::new(app::receiver(&config, &clients).await?);
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            tracing::info!(address = %listener.local_addr()?, "serving POST /webhooks/gu1");
            tokio::select! {
                served = serve::serve(listener, receiver) => served.map_err(Into::into),
                _ = tokio::signal::ctrl_c() => Ok(()),
            }
        }
        Command::Sweep { grace, page_size } => {
            let mut config = SweepConfig::from_env()?;
            config.grace = grace.unwrap_or(config.grace);
            config.page_size = page_size.unwrap_or(config.page_size);
            let clients = clients(&roots).await?;
            let report = app::sweeper(&config, &clients).run().await?;
            println!("{}", serde_json::to_string(&report)?);
            if report.failed > 0 {
                return Err(format!("{} outcomes could not be published", report.failed).into());
            }
            Ok(())
        }
        Command::Reconcile {
            stale_after,
            sessions,
        } => {
            let mut config = ReconcileConfig::from_env()?;
            config.stale_after = stale_after.unwrap_or(config.stale_after);
            let clients = clients(&roots).await?;
            let reconciler = app::reconciler(&config, &clients, &tls_config(&roots)?).await?;
            let mut report = ReconcileReport::default();
            let run = reconciler.run(&sessions, &mut report).await;
            println!("{}", serde_json::to_string(&report)?);
            reconciled(run, &report)
        }
    }
}

/// A run's verdict: an error when it stopped early or any check failed.
fn reconciled(
    run: Result<(), gu1_webhook::reconcile::ReconcileError>,
    report: &ReconcileReport,
) -> Result<(), BoxError> {
    run?;
    if report.failed > 0 {
        return Err(format!("{} sessions could not be reconciled", report.failed).into());
    }
    Ok(())
}

/// The AWS clients, built once.
async fn clients(roots: &Roots) -> Result<Clients, BoxError> {
    Ok(Clients::new(&sdk_config_from_env(roots).await?))
}

async fn lambda_receiver(roots: &Roots) -> Result<(), BoxError> {
    let config = ReceiverConfig::from_env()?;
    let clients = clients(roots).await?;
    let (receiver, ()) = tokio::join!(
        app::receiver(&config, &clients),
        app::open_connections(&config.storage, &clients)
    );
    let receiver = Arc::new(receiver?);
    lambda_http::run(lambda_http::service_fn(
        move |request: lambda_http::Request| {
            if let Some(context) = lambda_http::RequestExt::lambda_context_ref(&request) {
                logs::begin_invocation(context);
            }
            let receiver = Arc::clone(&receiver);
            async move { Ok::<_, std::convert::Infallible>(receiver.handle(request).await) }
        },
    ))
    .await
}

async fn lambda_sweeper(roots: &Roots) -> Result<(), BoxError> {
    let config = SweepConfig::from_env()?;
    let clients = clients(roots).await?;
    let sweeper = Arc::new(app::sweeper(&config, &clients));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        logs::begin_invocation(&event.context);
        let sweeper = Arc::clone(&sweeper);
        async move {
            sweeper
                .run()
                .await
                .map_err(|e| diagnostic("SweepFailed", &e))
        }
    }))
    .await
}

/// Scheduled runs take the stale sessions; `{"sessions": ["ID", ...]}` (an
/// `aws lambda invoke` by hand) takes those.
async fn lambda_reconciler(roots: &Roots) -> Result<(), BoxError> {
    let config = Arc::new(ReconcileConfig::from_env()?);
    let clients = Arc::new(clients(roots).await?);
    let tls = Arc::new(tls_config(roots)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        logs::begin_invocation(&event.context);
        let (config, clients, tls) = (Arc::clone(&config), Arc::clone(&clients), Arc::clone(&tls));
        async move {
            reconcile_once(&config, &clients, &tls, &event.payload)
                .await
                .map_err(|e| diagnostic("ReconcileFailed", &*e))
        }
    }))
    .await
}

/// One reconciliation run for the Lambda handler.
async fn reconcile_once(
    config: &ReconcileConfig,
    clients: &Clients,
    tls: &rustls::ClientConfig,
    payload: &serde_json::Value,
) -> Result<ReconcileReport, BoxError> {
    let sessions: Vec<SessionId> = payload["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|id| SessionId::parse(id.as_str().unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    let reconciler = app::reconciler(config, clients, tls).await?;
    let mut report = ReconcileReport::default();
    let run = reconciler.run(&sessions, &mut report).await;
    reconciled(run, &report).map(|()| report)
}

/// A Lambda function error with a name and the error's message chain
/// (rather than a Rust type name and a debug dump).
fn diagnostic(error_type: &str, err: &(dyn std::error::Error + 'static)) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_owned(),
        error_message: gu1_webhook::error_chain(err),
    }
}

/// A command line that cannot run: why, and the usage to show with it.
#[derive(Debug, PartialEq, Eq)]
struct Refused {
    reason: String,
    usage: &'static str,
}

/// `args` (without the program's name) as a command. `-h`/`--help` after a
/// command asks for its usage wherever it stands: no option's value can be
/// taken for it, since a value that starts with `-` must be attached
/// (`--session=-x`).
fn parse_args(args: Vec<String>) -> Result<Command, Refused> {
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
                grace = Some(config::parse_seconds(&value).ok_or_else(|| Refused {
                    reason: format!("--grace-seconds takes {SECONDS_RULE}"),
                    usage,
                })?);
            }
            "--page-size" => {
                once(page_size.is_some())?;
                page_size = Some(config::parse_page_size(&value).ok_or_else(|| Refused {
                    reason: format!("--page-size takes {PAGE_SIZE_RULE}"),
                    usage,
                })?);
            }
            "--stale-after" => {
                once(stale_after.is_some())?;
                stale_after = Some(config::parse_seconds(&value).ok_or_else(|| Refused {
                    reason: format!("--stale-after takes {SECONDS_RULE}"),
                    usage,
                })?);
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
        _ => Command::Reconcile {
            stale_after,
            sessions,
        },
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
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, Refused> {
        parse_args(args.iter().map(|a| a.to_string()).collect())
    }

    #[test]
    fn commands_and_their_options_parse() {
        assert!(matches!(parse(&[]), Ok(Command::Lambda)));
        assert!(matches!(
            parse(&["serve"]),
            Ok(Command::Serve { listen }) if listen == "127.0.0.1:3000"
        ));
        assert!(matches!(
            parse(&["serve", "--listen", "127.0.0.1:9"]),
            Ok(Command::Serve { listen }) if listen == "127.0.0.1:9"
        ));
        assert!(matches!(
            parse(&["serve", "--listen=[::1]:9"]),
            Ok(Command::Serve { listen }) if listen == "[::1]:9"
        ));
        assert!(matches!(
            parse(&["sweep", "--grace-seconds", "0", "--page-size", "5"]),
            Ok(Command::Sweep { grace: Some(grace), page_size: Some(5) }) if grace.is_zero()
        ));
        assert!(matches!(
            parse(&["sweep"]),
            Ok(Command::Sweep {
                grace: None,
                page_size: None
            })
        ));
        let Ok(Command::Reconcile {
            stale_after,
            sessions,
        }) = parse(&[
            "reconcile",
            "--session",
            "s-1",
            "--stale-after=60",
            "--session=-s-2",
        ])
        else {
            panic!("reconcile did not parse");
        };
        assert_eq!(stale_after, Some(Duration::from_secs(60)));
        let sessions: Vec<&str> = sessions.iter().map(SessionId::as_str).collect();
        assert_eq!(sessions, ["s-1", "-s-2"]);
        assert!(matches!(parse(&["--version"]), Ok(Command::Version)));
        assert!(matches!(parse(&["-V"]), Ok(Command::Version)));
    }

    #[test]
    fn help_is_the_usage_of_what_it_follows() {
        for (args, usage) in [
            (&["--help"][..], USAGE),
            (&["-h"][..], USAGE),
            (&["help"][..], USAGE),
            (&["help", "sweep"][..], SWEEP_USAGE),
            (&["serve", "--help"][..], SERVE_USAGE),
            (&["sweep", "-h"][..], SWEEP_USAGE),
            (
                &["reconcile", "--session", "s-1", "--help"][..],
                RECONCILE_USAGE,
            ),
            // Wherever it stands, even where a value was due or after a mistake.
            (&["serve", "--listen", "--help"][..], SERVE_USAGE),
            (&["sweep", "--bogus", "-h"][..], SWEEP_USAGE),
        ] {
            match parse(args) {
                Ok(Command::Help(text)) => assert_eq!(text, usage, "{args:?}"),
                other => panic!("{args:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn mistakes_are_refused_with_a_reason_and_the_usage() {
        for (args, reason, usage) in [
            (&["deploy"][..], "unknown command deploy", USAGE),
            (&["--bogus"][..], "unknown option --bogus", USAGE),
            (&["help", "deploy"][..], "unknown command deploy", USAGE),
            (
                &["serve", "--grace-seconds", "1"][..],
                "unknown option --grace-seconds for serve",
                SERVE_USAGE,
            ),
            (
                &["serve", "--version"][..],
                "unknown option --version for serve",
                SERVE_USAGE,
            ),
            (
                &["sweep", "now"][..],
                "unexpected argument now for sweep",
                SWEEP_USAGE,
            ),
            (
                &["sweep", "--grace-seconds"][..],
                "--grace-seconds needs a value",
                SWEEP_USAGE,
            ),
            (
                &["sweep", "--grace-seconds", "--page-size", "5"][..],
                "--grace-seconds needs a value",
                SWEEP_USAGE,
            ),
            (
                &["sweep", "--grace-seconds", "soon"][..],
                "--grace-seconds takes a whole number of seconds",
                SWEEP_USAGE,
            ),
            (
                &["sweep", "--page-size=0"][..],
                "--page-size takes a number from 1 to 1000",
                SWEEP_USAGE,
            ),
            (
                &["serve", "--listen", "a", "--listen", "b"][..],
                "--listen given twice",
                SERVE_USAGE,
            ),
            (
                &["reconcile", "--stale-after", "-5"][..],
                "--stale-after needs a value",
                RECONCILE_USAGE,
            ),
            (
                &["reconcile", "--session", ".."][..],
                "--session \"..\": a session id must be 1 to 100 printable ASCII characters, not only dots",
                RECONCILE_USAGE,
            ),
        ] {
            let expected = Refused {
                reason: reason.to_owned(),
                usage,
            };
            assert_eq!(parse(args).err(), Some(expected), "{args:?}");
        }
    }

    /// Every command has its usage, which names it and every option it takes.
    #[test]
    fn each_usage_names_its_command_and_options() {
        for (name, usage) in COMMANDS {
            assert!(usage.starts_with(&format!("usage: gu1-webhook {name}")));
            assert!(USAGE.contains(&format!("\n  {name} ")), "{name}");
            assert!(usage.contains("-h, --help"), "{name}");
        }
        for option in ["--listen", "--grace-seconds", "--page-size"] {
            assert!(SERVE_USAGE.contains(option) || SWEEP_USAGE.contains(option));
        }
        for option in ["--stale-after", "--session"] {
            assert!(RECONCILE_USAGE.contains(option));
        }
    }
}
