//! `gu1-webhook reconcile`, the real binary, against a fake of Gu1's REST
//! API (`support::gu1`) and moto: what it fetches, what it writes, what it
//! publishes, what it prints and how it exits, when Gu1's API answers, says
//! no, is busy, is down or is slow.
//!
//! Sessions reach the table through the receiver, as Gu1's webhooks would;
//! [`Stack::age`] then sets their place in the stale-sessions index back an
//! hour, which is what "nothing has moved it for an hour" means to a run.
//!
//! | module | what a run does |
//! |---|---|
//! | `scheduled` | reads the stale sessions, least recently checked first, within its bound |
//! | `one_session` | `--session ID`: one session by name, in the table or not |
//! | `once` | beside Gu1's own webhooks and failing AWS: each outcome published once |
//! | `refusals` | when Gu1's API refuses, is busy, down or slow, or answers nonsense |
//! | `track` | a session registered by `track` and never delivered, reconciled; a known one unchanged |
//! | `setup` | refuses to start without its key, organization or a usable URL; never shows the key |

mod once;
mod one_session;
mod refusals;
mod scheduled;
mod setup;
mod track;

use crate::support::binary::{Env, Reconciled};
use crate::support::gu1::{FakeGu1, api};
use crate::support::*;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

/// A receiver with its own table and queue (standard: every copy of a
/// message shows), the fake API, and the binary's environment for both.
struct World {
    app: TestApp,
    gu1: FakeGu1,
    env: Env,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let gu1 = FakeGu1::start().await;
    let env = Env::for_tests(&app, &moto().endpoint).with_gu1_api(&gu1.url);
    World { app, gu1, env }
}

impl World {
    /// Delivers `event` through the receiver; it must be applied.
    async fn deliver(&self, event: &Value) {
        self.app.deliver_applied(event).await;
    }

    /// Delivers `event`, then makes the session look untouched for `age`.
    async fn deliver_aged(&self, event: &Value, age: Duration) {
        self.deliver(event).await;
        let session = event["payload"]["id"].as_str().expect("an id");
        self.app.age(session, age).await;
    }

    async fn item(&self, session: &str) -> Item {
        self.app.item(session).await.expect("the session is stored")
    }

    /// Makes `session` stale here, in progress an hour ago, and approved at
    /// Gu1: returns the API's answer, which a run publishes.
    async fn approved_at_gu1_while_stale(&self, session: &str) -> Value {
        self.deliver_aged(&seed::in_progress(session), HOUR).await;
        let approved = api::approved(session);
        self.gu1.put(approved.clone());
        approved
    }

    /// The binary's environment for this world with AWS at `endpoint` (a
    /// proxy in front of moto).
    fn env_with_aws_at(&self, endpoint: &str) -> Env {
        Env::for_tests(&self.app, endpoint).with_gu1_api(&self.gu1.url)
    }

    /// The binary's environment for this world with Gu1's API at `url`.
    fn env_with_gu1_at(&self, url: &str) -> Env {
        Env::for_tests(&self.app, &moto().endpoint).with_gu1_api(url)
    }
}

/// The message a terminal session read from the API is published as.
fn outcome(session: &Value) -> Value {
    json!({
        "schemaVersion": 1,
        "sessionId": session["id"],
        "entityId": session["entityId"],
        "organizationId": session["organizationId"],
        "externalId": session["entity"]["externalId"],
        "status": session["status"],
        "rejectionCode": session["rejectionCode"],
        "rejectionMessage": session["rejectionMessage"],
        "completedAt": session["completedAt"],
        "decision": session["decision"],
        "event": "reconcile",
        "eventTimestamp": session["updatedAt"],
    })
}

/// The run exited 0.
#[track_caller]
fn succeeded(run: &Reconciled) {
    assert!(run.status.success(), "reconcile failed: {run:?}");
}

/// The run exited non-zero.
#[track_caller]
fn failed(run: &Reconciled) {
    assert!(!run.status.success(), "reconcile succeeded: {run:?}");
}

/// The run's log says `text`.
#[track_caller]
fn logged(run: &Reconciled, text: &str) {
    assert!(run.stderr.contains(text), "{}", run.stderr);
}

/// Status, event, version and place in the stale index of a stored session.
type State = (String, String, u64, Option<u64>);

async fn state(stack: &Stack, session: &str) -> State {
    let item = stack.item(session).await.expect("stored");
    (
        text(&item, "status").unwrap_or_default().to_owned(),
        text(&item, "event").unwrap_or_default().to_owned(),
        number(&item, "version").unwrap_or_default(),
        number(&item, "lastCheckedAt"),
    )
}

/// Status, event and version are as `before`; only the place in the
/// stale index may have moved.
#[track_caller]
fn unchanged(after: &State, before: &State) {
    assert_eq!(
        (&after.0, &after.1, after.2),
        (&before.0, &before.1, before.2)
    );
}
