//! The real `gu1-webhook` binary, run as a user runs it: configured by
//! environment variables only, `serve` on a free loopback port, `sweep` and
//! `reconcile` once.

use super::gu1::{API_KEY, ORGANIZATION_ID};
use super::proxy::Proxy;
use super::{Answer, SECOND_SECRET, SECRET, Stack, Value, WebhookClient, free_port};
use gu1_webhook::local::ApiEvent;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The binary's environment.
#[derive(Clone)]
pub struct Env {
    pub vars: Vec<(&'static str, String)>,
}

impl Env {
    /// Everything the binary needs to serve `stack` with AWS at `endpoint`
    /// (moto, or a proxy in front of it), accepting the comma-separated
    /// webhook `secrets`.
    pub fn new(stack: &Stack, endpoint: &str, secrets: &str) -> Env {
        Env {
            vars: vec![
                ("AWS_ENDPOINT_URL", endpoint.to_owned()),
                ("AWS_REGION", "us-east-1".into()),
                ("AWS_ACCESS_KEY_ID", "test".into()),
                ("AWS_SECRET_ACCESS_KEY", "test".into()),
                ("GU1_WEBHOOK_SECRETS", secrets.to_owned()),
                ("SESSIONS_TABLE", stack.table.clone()),
                ("OUTCOMES_QUEUE_URL", stack.queue_url.clone()),
                ("REVIEWS_QUEUE_URL", stack.reviews_url.clone()),
                ("RUST_LOG", "info".into()),
                // The credential chain never reaches for instance metadata
                // (outside 127.0.0.0/8) in a test.
                ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ],
        }
    }

    /// The environment for deliveries signed as [`WebhookClient::deliver`] signs.
    pub fn for_tests(stack: &Stack, endpoint: &str) -> Env {
        Self::new(stack, endpoint, &format!("{SECRET},{SECOND_SECRET}"))
    }

    pub fn var(&self, name: &str) -> &str {
        let (_, value) = self
            .vars
            .iter()
            .find(|(k, _)| *k == name)
            .unwrap_or_else(|| panic!("{name} is not set"));
        value
    }

    /// Sets (or replaces) one variable.
    pub fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.vars.retain(|(k, _)| *k != name);
        self.vars.push((name, value.into()));
    }

    /// The binary, with exactly this environment.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gu1-webhook"));
        command
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (*k, v)));
        command
    }

    /// Runs `gu1-webhook sweep --grace-seconds 0` and returns its report,
    /// e.g. `{"published": 1, "skipped": 0, "failed": 0}`.
    pub fn sweep_now(&self) -> Value {
        let output = self
            .command()
            .args(["sweep", "--grace-seconds", "0"])
            .output()
            .expect("run gu1-webhook sweep");
        assert!(
            output.status.success(),
            "sweep failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("a JSON report")
    }
}

/// What one run of a command did.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    /// stdout, parsed (`Null` when it is not JSON).
    pub report: Value,
    pub stderr: String,
}

impl Run {
    /// The run exited 0; its report.
    #[track_caller]
    pub fn report(&self) -> &Value {
        assert!(self.status.success(), "the run failed: {self:?}");
        &self.report
    }
}

impl Env {
    /// Runs `gu1-webhook ARGS` to its end, off the test's runtime (which
    /// may serve the receiver meanwhile).
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut command = self.command();
        command.args(args);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("run gu1-webhook");
        Run {
            status: output.status,
            report: serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// What one `gu1-webhook reconcile` run did.
#[derive(Debug)]
pub struct Reconciled {
    pub status: ExitStatus,
    /// The last stdout line, parsed (`Null` when there is none or it is not
    /// JSON), e.g. `{"checked": 1, "applied": 1, ...}`.
    pub summary: Value,
    pub stdout: String,
    pub stderr: String,
}

impl Reconciled {
    /// The summary a run must print: `[checked, applied, unchanged,
    /// notFound, failed]`, with no other key.
    pub fn counts(&self) -> [u64; 5] {
        let keys = ["checked", "applied", "unchanged", "notFound", "failed"];
        let object = self
            .summary
            .as_object()
            .unwrap_or_else(|| panic!("no JSON summary line: {self:?}"));
        let mut found: Vec<&str> = object.keys().map(String::as_str).collect();
        found.sort_unstable();
        let mut expected = keys.to_vec();
        expected.sort_unstable();
        assert_eq!(found, expected, "summary keys: {}", self.summary);
        keys.map(|key| self.summary[key].as_u64().expect("a count"))
    }
}

impl Env {
    /// This environment with reconciliation configured against Gu1's API at
    /// `url` (the fake's, or a port nothing answers on).
    pub fn with_gu1_api(mut self, url: &str) -> Env {
        self.set("GU1_API_URL", url);
        self.set("GU1_API_KEY", API_KEY);
        self.set("GU1_ORGANIZATION_ID", ORGANIZATION_ID);
        self
    }

    /// Runs `gu1-webhook reconcile ARGS` to its end, off the test's runtime
    /// (which serves the fake API meanwhile). Whatever the run did, the API
    /// key must never show in its output.
    pub async fn reconcile(&self, args: &[&str]) -> Reconciled {
        let mut command = self.command();
        command.arg("reconcile").args(args);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("run gu1-webhook reconcile");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        for stream in [&stdout, &stderr] {
            assert!(!stream.contains(API_KEY), "the API key shows: {stream}");
        }
        let summary = stdout
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .and_then(|line| serde_json::from_str(line).ok())
            .unwrap_or(Value::Null);
        Reconciled {
            status: output.status,
            summary,
            stdout,
            stderr,
        }
    }
}

/// `gu1-webhook serve` on a free loopback port, killed when dropped. It
/// dereferences to a [`WebhookClient`] for it.
pub struct Server {
    process: Child,
    pub port: u16,
    client: WebhookClient,
}

impl std::ops::Deref for Server {
    type Target = WebhookClient;

    fn deref(&self) -> &WebhookClient {
        &self.client
    }
}

impl Server {
    pub async fn start(env: &Env, stderr: Stdio) -> Server {
        Self::spawn(env.command(), stderr).await
    }

    /// Starts it under `prlimit --nofile=N:N`: at most `nofile` open
    /// descriptors, as in a tight container.
    pub async fn start_with_nofile(env: &Env, stderr: Stdio, nofile: u32) -> Server {
        let mut command = Command::new("prlimit");
        command
            .arg(format!("--nofile={nofile}:{nofile}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_gu1-webhook"))
            .env_clear()
            .envs(env.vars.iter().map(|(k, v)| (*k, v)));
        Self::spawn(command, stderr).await
    }

    async fn spawn(mut command: Command, stderr: Stdio) -> Server {
        let port = free_port();
        let mut process = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start gu1-webhook serve");
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = process.try_wait() {
                panic!("gu1-webhook serve exited at start: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server {
            process,
            port,
            client: WebhookClient::new(&format!("http://127.0.0.1:{port}")),
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None))
    }

    /// Sends one committed event (`events/`) as Gu1 would.
    pub async fn send(&self, event: &ApiEvent) -> Answer {
        let headers: Vec<(&str, &str)> = event
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.client
            .request("POST", "/webhooks/gu1", &headers, event.body.clone())
            .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.process.kill().ok();
        self.process.wait().ok();
    }
}

/// The binary serving a fresh stack (standard queue: every copy of a message
/// shows) with AWS behind a fault-injecting [`Proxy`] in front of moto.
pub struct Proxied {
    pub stack: Stack,
    pub proxy: Proxy,
    pub server: Server,
    /// The same environment pointed straight at moto: for `sweep`.
    pub direct: Env,
}

impl Proxied {
    pub async fn start() -> Proxied {
        let moto = super::moto();
        let stack = Stack::create(&super::sdk(&moto.endpoint), false).await;
        let proxy = Proxy::start(&moto.endpoint).await;
        let server = Server::start(&Env::for_tests(&stack, &proxy.endpoint), Stdio::null()).await;
        let direct = Env::for_tests(&stack, &moto.endpoint);
        Proxied {
            stack,
            proxy,
            server,
            direct,
        }
    }
}
