//! `gu1-webhook`: one binary, four ways to run and three operators' commands (and
//! `--help`, `--version`).
//!
//! - In Lambda (no arguments): the receiver under the `lambda_http` runtime,
//!   or the sweeper or reconciliation under `lambda_runtime` when the
//!   function's handler is `sweep` or `reconcile` (Lambda passes it in
//!   `_HANDLER`).
//! - `gu1-webhook serve [--listen ADDR]`: the same receiver over local HTTP.
//! - `gu1-webhook sweep [--grace-seconds N] [--page-size N]`: one sweep.
//! - `gu1-webhook reconcile [--stale-after N] [--session ID]...`: one
//!   reconciliation run against Gu1's API (in Lambda: handler `reconcile`).
//! - `gu1-webhook track`, `republish` and `erase`: the operators' commands
//!   ([`gu1_webhook::operate`]); in Lambda, handler `operate` runs them from
//!   the invocation's payload.
//!
//! The command line itself is parsed in [`gu1_webhook::cli`].

use gu1_webhook::cli::{Command, parse_args};
use gu1_webhook::config::{
    Clients, LambdaRole, ReceiverConfig, ReconcileConfig, Roots, Storage, SweepConfig,
    sdk_config_from_env, tls_config,
};
use gu1_webhook::limits::OPERATE_DEADLINE_MARGIN;
use gu1_webhook::operate::Request;
use gu1_webhook::reconcile::ReconcileReport;
use gu1_webhook::session::SessionId;
use gu1_webhook::{app, logs, serve};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use std::process::ExitCode;
use std::sync::Arc;

/// What `--version` prints and the first log line of every run carries, so
/// that a deployment can say which release it runs.
const VERSION: &str = concat!("gu1-webhook ", env!("CARGO_PKG_VERSION"));
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
            LambdaRole::Operator => lambda_operator(&roots).await,
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
        Command::Operate(request) => {
            let storage = Storage::from_env()?;
            let clients = clients(&roots).await?;
            let report = app::operator(&storage, &clients)
                .run(&request, None)
                .await?;
            println!("{}", serde_json::to_string(&report)?);
            report
                .failure()
                .map_or(Ok(()), |failure| Err(failure.into()))
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

/// The operators' commands from the invocation's payload
/// (`{"command":"erase","entity":"..."}`): the report is the answer; a
/// payload that is no command, or a run that failed, a function error.
async fn lambda_operator(roots: &Roots) -> Result<(), BoxError> {
    let storage = Storage::from_env()?;
    let clients = clients(roots).await?;
    let operator = Arc::new(app::operator(&storage, &clients));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        logs::begin_invocation(&event.context);
        let operator = Arc::clone(&operator);
        async move {
            let request = Request::from_payload(&event.payload).map_err(|reason| Diagnostic {
                error_type: "InvalidPayload".to_owned(),
                error_message: reason,
            })?;
            let report = operator
                .run(&request, operate_deadline(&event.context))
                .await
                .map_err(|e| diagnostic("OperationFailed", &e))?;
            match report.failure() {
                Some(failure) => Err(Diagnostic {
                    error_type: "OperationIncomplete".to_owned(),
                    error_message: format!("{failure}: {}", serde_json::json!(report)),
                }),
                None => Ok(report),
            }
        }
    }))
    .await
}

/// When an operator's command must stop taking sessions: the invocation's
/// deadline less [`OPERATE_DEADLINE_MARGIN`].
fn operate_deadline(context: &lambda_runtime::Context) -> gu1_webhook::operate::Deadline {
    let left_ms = context
        .deadline
        .saturating_sub(gu1_webhook::clock::now_ms());
    let left = std::time::Duration::from_millis(left_ms);
    Some(std::time::Instant::now() + left.saturating_sub(OPERATE_DEADLINE_MARGIN))
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
