//! The operators' commands and what the receiver keeps for them, through
//! the real `gu1-webhook` binary against moto: sessions reach the table
//! through the receiver (in process, or `serve`), as Gu1's webhooks would;
//! the commands run as an operator runs them, and every check reads the
//! table and the queues back.
//!
//! | module | what it shows |
//! |---|---|
//! | `republish` | `--session`: one new message per session, the original's body, marked; first sends, refusals, busy |
//! | `window` | `--since`/`--until`: exactly the sessions made terminal in the window; `--status`; `--limit` and `--after` walk it once |
//! | `erase` | by entity, external id or session: no personal field left, a tombstone; a replay stores and sends nothing |
//! | `retention` | `RETENTION_DAYS`: each write's time to live; a delivery older than it acknowledged, never stored |
//! | `history` | each applied write and conflict in order, with its delivery id; bounded under a flood |
//! | `lambda` | handler `operate`: a payload runs the command, the report is the answer |

mod erase;
mod history;
mod lambda;
mod republish;
mod retention;
mod window;

use crate::support::binary::{Env, Run};
use crate::support::*;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};

/// The attributes an erasure removes (besides every `reviewNotice_*`):
/// what identifies the person or describes their biometrics, and what
/// would make a publisher or reconciliation touch the session again.
pub(crate) const ERASED_ATTRS: [&str; 11] = [
    "entityId",
    "externalId",
    "rejectionMessage",
    "decision",
    "identityConflicts",
    "pendingOutcome",
    "reviewsOwed",
    "activeSession",
    "lastCheckedAt",
    "publishLeaseUntil",
    "publishLeaseHolder",
];

/// A receiver with its own table and queues, and the binary's environment
/// for them.
struct World {
    app: TestApp,
    env: Env,
}

async fn world(fifo: bool) -> World {
    let app = TestApp::spawn_with(Options {
        fifo,
        ..Options::default()
    })
    .await;
    let env = Env::for_tests(&app, &moto().endpoint);
    World { app, env }
}

impl World {
    /// Runs `gu1-webhook ARGS` ([`Env::run`]).
    async fn run(&self, args: &[&str]) -> Run {
        self.env.run(args).await
    }

    /// Delivers `event` through the receiver; it must be applied.
    async fn deliver(&self, event: &Value) {
        self.app.deliver_applied(event).await;
    }

    async fn item(&self, session: &str) -> Item {
        self.app.item(session).await.expect("the session is stored")
    }

    /// Receives every message on the outcomes queue and deletes each, as a
    /// worker that processed them does (on a FIFO queue, what lets the next
    /// message of a group through).
    async fn consume(&self) -> Vec<Message> {
        let messages = self.app.messages().await;
        for message in &messages {
            self.app
                .sqs
                .delete_message()
                .queue_url(&self.app.queue_url)
                .receipt_handle(message.receipt_handle().expect("a receipt handle"))
                .send()
                .await
                .expect("delete message");
        }
        messages
    }

    /// Leaves on `session` a publish lease in another process's name until
    /// `until_ms`, whatever the item owes: what a `republish` that died
    /// between its claim and its send leaves on a published outcome. (The
    /// support's [`Stack::leave_lease_of_a_dead_process`] only takes a
    /// pending outcome, as a delivery leaves it.)
    async fn hold_lease(&self, session: &str, until_ms: u64) {
        self.app
            .dynamodb
            .update_item()
            .table_name(&self.app.table)
            .key("sessionId", AttributeValue::S(session.into()))
            .update_expression("SET publishLeaseUntil = :until, publishLeaseHolder = :holder")
            .condition_expression("attribute_exists(sessionId)")
            .expression_attribute_values(":until", AttributeValue::N(until_ms.to_string()))
            .expression_attribute_values(":holder", AttributeValue::S("another-process".into()))
            .send()
            .await
            .expect("a stored session to hold");
    }
}

/// The counts of a `republish` report in order: `[republished, firstSends,
/// notFound, notTerminal, erased, busy, otherStatus, failed]`, after
/// checking it has exactly these keys, `next`, and `unfinished` at 0 (a
/// run without a deadline tries every session).
#[track_caller]
fn republished(report: &Value) -> [u64; 8] {
    let keys = [
        "republished",
        "firstSends",
        "notFound",
        "notTerminal",
        "erased",
        "busy",
        "otherStatus",
        "failed",
    ];
    let mut found: Vec<&str> = report
        .as_object()
        .unwrap_or_else(|| panic!("not a report: {report}"))
        .keys()
        .map(String::as_str)
        .collect();
    found.sort_unstable();
    let mut expected = keys.to_vec();
    expected.extend(["next", "unfinished"]);
    assert_eq!(report["unfinished"], 0, "{report}");
    expected.sort_unstable();
    assert_eq!(found, expected, "{report}");
    keys.map(|key| report[key].as_u64().expect("a count"))
}

/// A message's body, parsed.
fn body(message: &Message) -> Value {
    serde_json::from_str(message.body().expect("a body")).expect("a JSON body")
}

/// A message attribute's string value.
fn attribute<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .message_attributes()
        .and_then(|attributes| attributes.get(name))
        .and_then(|value| value.string_value())
}

/// A system attribute of a message (group id, deduplication id).
fn system<'a>(message: &'a Message, name: &MessageSystemAttributeName) -> Option<&'a str> {
    message
        .attributes()
        .and_then(|attributes| attributes.get(name))
        .map(String::as_str)
}

/// The `sessionId`s of `messages`, sorted.
fn sessions_in(messages: &[Message]) -> Vec<String> {
    let mut sessions: Vec<String> = messages
        .iter()
        .map(|m| body(m)["sessionId"].as_str().expect("a session").to_owned())
        .collect();
    sessions.sort();
    sessions
}

/// `event` about the person `entity` whose key with you is `external`.
fn person(event: Value, entity: &str, external: &str) -> Value {
    let mut event = seed::about(event, entity);
    event["payload"]["entity"]["externalId"] = external.into();
    event
}

/// One history entry: `[at, status, event, webhookId, conflict]`, each
/// absent when the entry has none.
type Entry = [Option<String>; 5];

/// The item's history entries in order, each one line
/// (`AT STATUS EVENT WEBHOOK_ID [conflict=KIND]`, `-` for none).
fn entries(item: &Item) -> Vec<Entry> {
    let Some(entries) = item.get("history") else {
        return Vec::new();
    };
    let entries = entries.as_l().expect("history is a list");
    entries.iter().map(read_entry).collect()
}

fn read_entry(entry: &AttributeValue) -> Entry {
    let line = entry.as_s().expect("an entry is a line");
    let mut words = line.split(' ');
    let mut word = || {
        words
            .next()
            .filter(|w| *w != "-")
            .map(|w| w.strip_prefix("conflict=").unwrap_or(w).to_owned())
    };
    let entry = [word(), word(), word(), word(), word()];
    assert_eq!(words.next(), None, "{line}");
    entry
}

/// The item's history, as `[status, event, webhookId, conflict]` per entry.
fn history(item: &Item) -> Vec<[Option<String>; 4]> {
    entries(item)
        .into_iter()
        .map(|[_, status, event, webhook_id, conflict]| [status, event, webhook_id, conflict])
        .collect()
}

/// The `at` of each history entry, as epoch milliseconds.
fn history_times(item: &Item) -> Vec<u64> {
    entries(item)
        .into_iter()
        .map(|[at, ..]| {
            let at = at.expect("each entry has its time");
            gu1_webhook::clock::parse_ms(&at).unwrap_or_else(|| panic!("{at} is not RFC 3339"))
        })
        .collect()
}
