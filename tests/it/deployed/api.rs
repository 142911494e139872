//! The receiver through the deployed API (MiniStack's API Gateway, the
//! Lambda proxy integration, payload v2, the real bootstrap under its role),
//! and invoked directly.

use super::{TERMINAL, deployed, item, scan, sessions_and_statuses, signed, string};
use crate::support::{Value, event_files, json, seed, text, unique};
use gu1_webhook::local::ApiEvent;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The events/ file whose signature matches no secret; every other one is
/// authentic and, sent once in order to a fresh table, applied.
const BAD_SIGNATURE: &str = "08-bad-signature";

fn event_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("events/{name}.json"))
}

/// Sends the request inside an events/ file through the deployed API.
async fn send_event(path: &Path) -> crate::support::Answer {
    let deployed = deployed().expect("deployed");
    let event: Value = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json");
    let request = ApiEvent::read(path).expect("an API Gateway event");
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(name, _)| !["host", "content-length"].contains(&name.to_lowercase().as_str()))
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let method = event["requestContext"]["http"]["method"]
        .as_str()
        .expect("method");
    let path = event["rawPath"].as_str().expect("rawPath");
    deployed.request(method, path, &headers, request.body).await
}

/// Every events/ file through the API, then the duplicate and the stale
/// one; the table holds exactly their sessions at their statuses, each
/// terminal one published, and the queue one outcome per terminal session.
#[tokio::test]
async fn events_through_the_deployed_api_are_stored_and_published_once() {
    let Some(deployed) = deployed() else { return };
    let aws = deployed.clients();
    let mut sessions = BTreeMap::new();
    for path in event_files() {
        let name = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let answer = send_event(&path).await;
        if name == BAD_SIGNATURE {
            assert_eq!(
                (answer.status, answer.result()),
                (401, "rejected_signature"),
                "{name}"
            );
        } else {
            let request = ApiEvent::read(&path).expect("event");
            let payload = &serde_json::from_slice::<Value>(&request.body).expect("json")["payload"];
            let want = json!({"result": "applied", "sessionId": payload["id"], "status": payload["status"]});
            assert_eq!((answer.status, &answer.body), (200, &want), "{name}");
            sessions.insert(string(&payload["id"]), string(&payload["status"]));
        }
        println!("   {name}: {} {}", answer.status, answer.result());
    }
    for (name, result) in [
        ("03-session-approved", "duplicate"),
        ("02-session-in-progress", "stale"),
    ] {
        let answer = send_event(&event_file(name)).await;
        assert_eq!(
            (answer.status, answer.result()),
            (200, result),
            "{name} sent again"
        );
        println!("   {name} again: 200 {result}");
    }

    // The table: one item per session (the other checks' are theirs).
    let items = scan(&aws).await;
    let stored: BTreeMap<String, &crate::support::Item> = items
        .iter()
        .map(|item| (text(item, "sessionId").unwrap_or_default().to_owned(), item))
        .filter(|(id, _)| !id.starts_with("deploy-test-"))
        .collect();
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        sessions.keys().collect::<Vec<_>>(),
        "one item per session"
    );
    for (session, status) in &sessions {
        let item = stored[session];
        assert_eq!(text(item, "status"), Some(status.as_str()), "{session}");
        if TERMINAL.contains(&status.as_str()) {
            assert!(
                item.contains_key("outcomePublishedAt") && !item.contains_key("pendingOutcome"),
                "{session}: terminal but not marked published: {:?}",
                item.keys().collect::<Vec<_>>()
            );
        }
        println!("   {session}: {status}");
    }

    // The queue: one outcome per terminal session.
    let terminal: BTreeMap<String, String> = sessions
        .into_iter()
        .filter(|(_, status)| TERMINAL.contains(&status.as_str()))
        .collect();
    let outcomes = deployed
        .outcomes(&aws, terminal.len(), Duration::from_secs(15))
        .await;
    let mut got = sessions_and_statuses(&outcomes);
    got.sort();
    assert_eq!(
        got,
        terminal.into_iter().collect::<Vec<_>>(),
        "one outcome per terminal session"
    );
    println!(
        "   {} outcomes, one per terminal session, each valid against the schema",
        got.len()
    );
}

/// API Gateway, not the function, answers what no route matches.
#[tokio::test]
async fn api_gateway_answers_other_routes_itself() {
    let Some(deployed) = deployed() else { return };
    for (method, path) in [("GET", "/webhooks/gu1"), ("POST", "/elsewhere")] {
        let answer = deployed.request(method, path, &[], b"{}".to_vec()).await;
        assert_eq!(
            (answer.status, &answer.body),
            (404, &json!({"message": "Not Found"})),
            "{method} {path} through the API: API Gateway's 404"
        );
        println!("   {method} {path}: 404 {{\"message\":\"Not Found\"}} from API Gateway");
    }
}

/// The receiver invoked directly with an API Gateway v2 event (an events/
/// file's, carrying a fresh signed delivery): the function's own answers.
#[tokio::test]
async fn the_receiver_invoked_directly_answers_405_and_404_itself() {
    let Some(deployed) = deployed() else { return };
    let aws = deployed.clients();
    let session = unique("deploy-test-direct");
    let (body, signature) = signed(&seed::created(&session));
    let template: Value =
        serde_json::from_slice(&std::fs::read(event_file("03-session-approved")).expect("read"))
            .expect("json");
    let cases = [
        ("POST", "/webhooks/gu1", 200, "applied"),
        ("GET", "/webhooks/gu1", 405, "method_not_allowed"),
        ("POST", "/elsewhere", 404, "not_found"),
    ];
    for (method, path, status, result) in cases {
        let mut event = template.clone();
        event["body"] = String::from_utf8(body.clone()).expect("utf-8").into();
        event["headers"]["x-webhook-signature"] = signature.clone().into();
        event["requestContext"]["http"]["method"] = method.into();
        event["rawPath"] = path.into();
        event["requestContext"]["http"]["path"] = path.into();
        event["routeKey"] = "$default".into();
        event["requestContext"]["routeKey"] = "$default".into();
        let invocation = deployed.invoke("ReceiverFunctionName", &event).await;
        assert!(
            !invocation.failed,
            "direct {method} {path}: the function failed: {}",
            invocation.output
        );
        let output = &invocation.output;
        let answer: Value =
            serde_json::from_str(output["body"].as_str().unwrap_or("")).unwrap_or(Value::Null);
        assert_eq!(
            (output["statusCode"].as_u64(), answer["result"].as_str()),
            (Some(status), Some(result)),
            "direct {method} {path}: {output}"
        );
        if status == 405 {
            let headers = output["headers"].as_object().into_iter().flatten();
            let allow: Vec<&Value> = headers
                .filter(|(k, _)| k.eq_ignore_ascii_case("allow"))
                .map(|(_, v)| v)
                .collect();
            assert_eq!(allow, [&json!("POST")], "direct GET: Allow");
        }
        println!("   direct {method} {path}: {status} {result}");
    }
    let stored = item(&aws, &session).await;
    assert_eq!(
        text(&stored, "status"),
        Some("pending"),
        "{session} stored by the direct POST"
    );
}
