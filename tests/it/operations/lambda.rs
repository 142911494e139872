//! Handler `operate`: the real binary as Lambda runs it (a fake Runtime
//! API hands it payloads), each payload one operator's command; the
//! invocation's answer is the command's report, and a payload that is no
//! command a function error that says why, changing nothing.

use super::*;
use crate::support::runtime_api::{Invocation, RuntimeApi};
use std::process::Stdio;

fn invocation(request_id: &str, event: Value) -> Invocation {
    Invocation {
        request_id: request_id.into(),
        trace_id: None,
        event,
    }
}

#[tokio::test]
async fn a_payload_runs_its_command_and_the_report_is_the_answer() {
    let w = world(false).await;
    let entity = unique("ent-lambda");
    let (first, second) = (unique("lam-1"), unique("lam-2"));
    w.deliver(&seed::about(seed::approved(&first), &entity))
        .await;
    w.deliver(&seed::about(seed::in_progress(&second), &entity))
        .await;
    let kept = unique("lam-kept");
    w.deliver(&seed::approved(&kept)).await;
    assert_eq!(w.app.messages().await.len(), 2, "the originals");

    let api = RuntimeApi::start(vec![
        invocation("req-nonsense", json!({"command": "launch"})),
        invocation("req-empty-erase", json!({"command": "erase"})),
        invocation("req-erase", json!({"command": "erase", "entity": entity})),
        invocation(
            "req-republish",
            json!({"command": "republish", "sessions": [kept, first]}),
        ),
    ])
    .await;
    let mut env = w.env.clone();
    env.set("_HANDLER", "operate");
    let process = api
        .command(&env, "gu1-webhook-operate")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary in Lambda mode");
    let (answers, logs) = api.answers_of(process, 4).await;
    let answers: Vec<&Value> = answers.iter().map(|(_, answer)| answer).collect();
    assert_eq!(answers.len(), 4, "{answers:?}\n{logs}");

    for refused in &answers[..2] {
        assert_eq!(refused["error"]["errorType"], "InvalidPayload", "{refused}");
    }
    let reason = answers[1]["error"]["errorMessage"].as_str().unwrap_or("");
    assert!(
        reason.contains("one of sessions, entity or external id"),
        "{reason}"
    );
    assert_eq!(
        answers[2],
        &json!({"response": {
            "erased": 2, "alreadyErased": 0, "notFound": 0, "busy": 0, "unfinished": 0
        }}),
        "{logs}"
    );
    assert_eq!(
        answers[3],
        &json!({"response": {
            "republished": 1, "firstSends": 0, "notFound": 0, "notTerminal": 0,
            "erased": 1, "busy": 0, "otherStatus": 0, "failed": 0, "unfinished": 0,
            "next": null
        }}),
        "{logs}"
    );
    for session in [&first, &second] {
        let item = w.item(session).await;
        assert!(item.contains_key("erasedAt"), "{item:?}");
        assert!(!item.contains_key("entityId"), "{item:?}");
    }
    let sent = w.app.messages().await;
    assert_eq!(sessions_in(&sent), [kept], "only the kept one again");
    assert!(attribute(&sent[0], "republishedAt").is_some());
}
