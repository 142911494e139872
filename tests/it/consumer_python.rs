//! The Python consumer of `docs/consumers.md` (`examples/python/consumer.py`:
//! Powertools' batch processors and the JSON Schema) run, as its own
//! process, on a Lambda SQS event built from the receiver's real messages on
//! moto, with one poison record; its answer, `{"batchItemFailures": [...]}`,
//! must name the poison and what follows it in its group, nothing else.

use crate::support::*;
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

/// The consumer venv's python: `CONSUMER_PYTHON` (what scripts/test
/// exports), else the default venv's.
fn consumer_python() -> String {
    let python = std::env::var("CONSUMER_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/consumer/bin/python", env!("CARGO_MANIFEST_DIR")));
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} not found: run scripts/test (it installs scripts/requirements/consumer.txt), \
         or set CONSUMER_PYTHON to a python that has them"
    );
    python
}

/// What the consumer printed: its answer (stdout) and its lines (stderr).
struct Run {
    answer: Value,
    log: String,
}

impl Run {
    /// The `itemIdentifier`s of `batchItemFailures`, in the answer's order.
    fn failures(&self) -> Vec<String> {
        self.answer["batchItemFailures"]
            .as_array()
            .unwrap_or_else(|| panic!("no batchItemFailures in {}", self.answer))
            .iter()
            .map(|f| {
                f["itemIdentifier"]
                    .as_str()
                    .expect("itemIdentifier")
                    .to_owned()
            })
            .collect()
    }

    /// The sessions of the log lines starting with `word`.
    fn sessions(&self, word: &str) -> BTreeSet<String> {
        self.log
            .lines()
            .filter_map(|l| l.strip_prefix(word)?.strip_prefix(' '))
            .map(|rest| rest.split(' ').next().unwrap_or_default().to_owned())
            .collect()
    }
}

/// Runs `examples/python/consumer.py` as a script on `event`.
async fn run_consumer(event: Value) -> Run {
    let python = consumer_python();
    let script = format!("{}/examples/python/consumer.py", env!("CARGO_MANIFEST_DIR"));
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("start {python}: {err}"));
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&serde_json::to_vec(&event).expect("json"))
            .expect("write the event");
        let output = child.wait_with_output().expect("the consumer");
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "consumer.py failed: {log}");
        let answer = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "consumer.py printed no JSON ({err}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        });
        Run { answer, log }
    })
    .await
    .expect("the consumer's thread")
}

/// The queue's ARN, as Lambda names it in each record's `eventSourceARN`.
async fn queue_arn(app: &TestApp) -> String {
    app.sqs
        .get_queue_attributes()
        .queue_url(&app.queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("QueueArn")
        .clone()
}

/// The Lambda SQS record Lambda would hand over for `message`.
fn record(message: &aws_sdk_sqs::types::Message, arn: &str) -> Value {
    let attributes: serde_json::Map<String, Value> = message
        .attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_str().into()))
        .collect();
    let message_attributes: serde_json::Map<String, Value> = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let attribute = json!({
                "stringValue": value.string_value(),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.data_type(),
            });
            (name.clone(), attribute)
        })
        .collect();
    json!({
        "messageId": message.message_id().expect("message id"),
        "receiptHandle": message.receipt_handle().expect("receipt handle"),
        "body": message.body().expect("body"),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    })
}

/// The records of the queue's messages, and the message id of each session.
async fn records(app: &TestApp, sessions: &[String]) -> (Vec<Value>, Vec<String>) {
    let arn = queue_arn(app).await;
    let messages = app.messages().await;
    assert_eq!(messages.len(), sessions.len(), "one message per outcome");
    let records: Vec<Value> = messages.iter().map(|m| record(m, &arn)).collect();
    let ids = sessions
        .iter()
        .map(|session| {
            let record = records
                .iter()
                .find(|r| {
                    serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["sessionId"]
                        == *session
                })
                .unwrap_or_else(|| panic!("no message for {session}"));
            record["messageId"].as_str().unwrap().to_owned()
        })
        .collect();
    (records, ids)
}

/// A poison record made from `like`: the same group, but a body of another
/// schema version, which a version 1 consumer must refuse.
fn poison(like: &Value) -> Value {
    let mut poison = like.clone();
    let mut body: Value = serde_json::from_str(like["body"].as_str().unwrap()).unwrap();
    body["schemaVersion"] = 2.into();
    body["sessionId"] = "poison-session".into();
    poison["body"] = body.to_string().into();
    poison["messageId"] = "poison-message-id".into();
    if let Some(dedup) = poison["attributes"].get_mut("MessageDeduplicationId") {
        *dedup = "poison-session:approved".into();
    }
    poison
}

fn position(records: &[Value], id: &str) -> usize {
    records
        .iter()
        .position(|r| r["messageId"] == id)
        .expect("the record")
}

fn set(sessions: &[&String]) -> BTreeSet<String> {
    sessions.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn the_python_consumer_holds_back_the_poisoned_fifo_group_only() {
    let app = TestApp::spawn_with(Options {
        fifo: true,
        ..Options::default()
    })
    .await;
    // Ana has three outcomes, Ben two, Cid one; their messages interleave.
    let s = app
        .deliver_outcomes(&[
            ("ana", "py-ana-1", "approved"),
            ("ben", "py-ben-1", "rejected"),
            ("ana", "py-ana-2", "expired"),
            ("cid", "py-cid-1", "abandoned"),
            ("ben", "py-ben-2", "approved"),
            ("ana", "py-ana-3", "cancelled"),
        ])
        .await;
    let (mut records, ids) = records(&app, &s).await;
    for record in &records {
        assert!(
            record["attributes"]["MessageGroupId"].is_string(),
            "moto gave the FIFO attributes: {record}"
        );
    }
    // Ben's first outcome a second time (a copy SQS may deliver), at the
    // end; the poison in Ana's group right after her first outcome.
    let mut copy = records[position(&records, &ids[1])].clone();
    copy["messageId"] = "copy-of-ben-1".into();
    records.push(copy);
    let first = position(&records, &ids[0]);
    let poisoned = poison(&records[first]);
    assert_eq!(poisoned["attributes"]["MessageGroupId"], "ana");
    records.insert(first + 1, poisoned);

    let run = run_consumer(json!({ "Records": records })).await;

    assert_eq!(
        run.failures(),
        vec![
            "poison-message-id".to_owned(),
            ids[2].clone(),
            ids[5].clone()
        ],
        "the poison and Ana's later outcomes, in order, and nothing of Ben's or Cid's; log:\n{}",
        run.log
    );
    assert_eq!(
        run.sessions("handled"),
        set(&[&s[0], &s[1], &s[3], &s[4]]),
        "Ana's first, Ben's and Cid's outcomes; log:\n{}",
        run.log
    );
    assert_eq!(
        run.sessions("duplicate"),
        set(&[&s[1]]),
        "log:\n{}",
        run.log
    );
    assert_eq!(
        run.sessions("not-an-outcome"),
        ["poison-message-id".to_owned()].into(),
        "refused by the schema, logged by message id; log:\n{}",
        run.log
    );
    assert!(
        run.log.contains("schemaVersion fails the schema's 'const'"),
        "and by where the body fails the schema:\n{}",
        run.log
    );
    assert!(
        !run.log.contains("poison-session"),
        "a refused body is never logged:\n{}",
        run.log
    );
}

#[tokio::test]
async fn the_python_consumer_fails_the_poisoned_record_alone_on_a_standard_queue() {
    let app = TestApp::spawn().await;
    let s = app
        .deliver_outcomes(&[
            ("ana", "py-std-ana-1", "approved"),
            ("ana", "py-std-ana-2", "rejected"),
            ("ben", "py-std-ben-1", "expired"),
        ])
        .await;
    let (mut records, ids) = records(&app, &s).await;
    for record in &records {
        assert!(record["attributes"].get("MessageGroupId").is_none());
    }
    let first = position(&records, &ids[0]);
    let poisoned = poison(&records[first]);
    records.insert(first + 1, poisoned);

    let run = run_consumer(json!({ "Records": records })).await;

    assert_eq!(
        run.failures(),
        vec!["poison-message-id".to_owned()],
        "no order on a standard queue: the poison alone; log:\n{}",
        run.log
    );
    assert_eq!(
        run.sessions("handled"),
        set(&[&s[0], &s[1], &s[2]]),
        "log:\n{}",
        run.log
    );
}

/// The code blocks of `docs/consumers.md` are the tested examples, quoted
/// as they are.
#[test]
fn the_guide_quotes_the_examples_as_they_are() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
    let guide = read("docs/consumers.md");
    for (language, example) in [
        ("rust", read("outcome/examples/worker.rs")),
        ("python", read("examples/python/consumer.py")),
    ] {
        let fence = format!("```{language}\n");
        let blocks: Vec<&str> = guide
            .split(fence.as_str())
            .skip(1)
            .map(|rest| rest.split("```").next().unwrap_or_default())
            .collect();
        assert!(!blocks.is_empty(), "no {language} block in the guide");
        for block in blocks {
            assert!(
                example.contains(block),
                "docs/consumers.md quotes {language} that its example does not hold:\n{block}"
            );
        }
    }
}
