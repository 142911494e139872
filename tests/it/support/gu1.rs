//! A fake of Gu1's REST API (read side), in the test process, on a free
//! loopback port: `GET /api/kyc/biometric/sessions/{id}` answers the session
//! object the test put there (the shape of a webhook's `payload`), `404` for
//! an id it does not hold. A test can make it answer a status, hang, wait,
//! or hold an answer until released, for every session or for one; every
//! request is recorded with the headers a test asserts on.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The API key every test configures; it must never show in any output.
pub const API_KEY: &str = "gu1_test_key_9f3c2a7e5b1d";
/// The organization every test configures.
pub const ORGANIZATION_ID: &str = "org-uuid";

/// The path prefix of a session.
pub const SESSIONS_PATH: &str = "/api/kyc/biometric/sessions/";

/// How the fake answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// The session object, or `404` when it holds none.
    Serve,
    /// This status, with a small JSON error body.
    Status(u16),
    /// This status and body, whatever was asked.
    Body(u16, String),
    /// Never answers.
    Hang,
    /// Waits this long, then serves.
    Delay(Duration),
    /// Serves once [`FakeGu1::release`] is called.
    Hold,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The session id, percent-decoded, when the path is a session's.
    pub session: Option<String>,
    pub authorization: Option<String>,
    pub organization: Option<String>,
    pub accept: Option<String>,
    /// When it arrived (for lower bounds on pauses only).
    pub at: Instant,
}

#[derive(Default)]
struct State {
    sessions: HashMap<String, Value>,
    everyone: Option<Behaviour>,
    per_session: HashMap<String, Behaviour>,
    seen: Vec<Seen>,
}

/// The fake API; stops (and drops every connection) when dropped.
pub struct FakeGu1 {
    /// `http://127.0.0.1:PORT`: the `GU1_API_URL` to give the binary.
    pub url: String,
    state: Arc<Mutex<State>>,
    released: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGu1 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGu1 {
    /// The fake on a free loopback port, holding no session.
    pub async fn start() -> FakeGu1 {
        Self::start_on(0).await
    }

    /// The fake on loopback port `port` (0: a free one), holding no
    /// session: on a fixed port for a deployed function whose `Gu1ApiUrl`
    /// names it.
    pub async fn start_on(port: u16) -> FakeGu1 {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|err| panic!("bind 127.0.0.1:{port}: {err}"));
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let (released, watcher) = watch::channel(false);
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            // Owned here, so that aborting this task ends every connection.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                while connections.try_join_next().is_some() {}
                let (state, watcher) = (Arc::clone(&shared), watcher.clone());
                let service =
                    service_fn(move |request| handle(Arc::clone(&state), watcher.clone(), request));
                connections.spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeGu1 {
            url,
            state,
            released,
            task,
        }
    }

    /// Serves `session` (a session object, with its `id`) from now on.
    pub fn put(&self, session: Value) {
        let id = session["id"].as_str().expect("a session id").to_owned();
        self.state().sessions.insert(id, session);
    }

    /// Every request meets `behaviour` (unless its session has its own).
    pub fn answer_all(&self, behaviour: Behaviour) {
        self.state().everyone = Some(behaviour);
    }

    /// Requests for `session` meet `behaviour`.
    pub fn answer(&self, session: &str, behaviour: Behaviour) {
        self.state()
            .per_session
            .insert(session.to_owned(), behaviour);
    }

    /// Answers every request held by [`Behaviour::Hold`], now and later.
    pub fn release(&self) {
        self.released.send_replace(true);
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state().seen.clone()
    }

    /// The sessions asked for, in order.
    pub fn fetched(&self) -> Vec<String> {
        self.seen().into_iter().filter_map(|s| s.session).collect()
    }

    /// Waits (without a deadline of its own: the test's timeout bounds it)
    /// until `session` has been asked for.
    pub async fn wait_for_request(&self, session: &str) {
        while !self.fetched().iter().any(|s| s == session) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("state")
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    mut released: watch::Receiver<bool>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let path = request.uri().path().to_owned();
    let session = path
        .strip_prefix(SESSIONS_PATH)
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map(percent_decode);
    let seen = Seen {
        method: request.method().to_string(),
        path: path.clone(),
        session: session.clone(),
        authorization: header("authorization"),
        organization: header("x-organization-id"),
        accept: header("accept"),
        at: Instant::now(),
    };
    let (behaviour, stored) = {
        let mut state = state.lock().expect("state");
        state.seen.push(seen);
        let behaviour = session
            .as_ref()
            .and_then(|id| state.per_session.get(id))
            .or(state.everyone.as_ref())
            .cloned()
            .unwrap_or(Behaviour::Serve);
        let stored = session
            .as_ref()
            .and_then(|id| state.sessions.get(id))
            .cloned();
        (behaviour, stored)
    };
    match behaviour {
        Behaviour::Serve => {}
        Behaviour::Status(code) => return Ok(json(code, &error_body(code))),
        Behaviour::Body(code, body) => return Ok(json(code, &body)),
        Behaviour::Hang => std::future::pending().await,
        Behaviour::Delay(delay) => tokio::time::sleep(delay).await,
        Behaviour::Hold => {
            // Err: the fake is gone; answer anyway.
            let _ = released.wait_for(|released| *released).await;
        }
    }
    if request.method() != hyper::Method::GET || session.is_none() {
        return Ok(json(404, &error_body(404)));
    }
    Ok(match stored {
        Some(session) => json(200, &session.to_string()),
        None => json(404, &error_body(404)),
    })
}

fn error_body(code: u16) -> String {
    serde_json::json!({"success": false, "error": format!("fake Gu1 answered {code}")}).to_string()
}

fn json(status: u16, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("response")
}

/// `%XX` sequences decoded (the client encodes every byte outside
/// `A-Za-z0-9-._~`).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Session objects as Gu1's API returns them: the very `payload` of the
/// seed deliveries (Gu1 says so), with the organization and `updatedAt`
/// the API adds.
pub mod api {
    use crate::support::seed;
    use serde_json::Value;

    /// The session `id` as Gu1 holds it with `status`, no decision yet.
    pub fn active(id: &str, status: &str) -> Value {
        let mut session = session(seed::created(id), "2026-06-11T14:05:00.000Z");
        session["status"] = status.into();
        session
    }

    pub fn approved(id: &str) -> Value {
        session(seed::approved(id), "2026-06-11T14:10:00.000Z")
    }

    pub fn rejected(id: &str) -> Value {
        session(seed::rejected(id), "2026-06-11T14:12:00.000Z")
    }

    /// A delivery's payload as the API would answer it.
    fn session(delivery: Value, updated_at: &str) -> Value {
        let mut session = delivery["payload"].clone();
        session["organizationId"] = delivery["organizationId"].clone();
        session["updatedAt"] = updated_at.into();
        session
    }
}
