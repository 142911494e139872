//! The real `gu1-webhook` binary, as a newcomer runs it: `serve` with its
//! configuration from the environment, the committed `events/` sent through
//! it, then `sweep`. Its log output must carry no secret, no signature, no
//! body and no name.

mod support;

use gu1_webhook::local::ApiEvent;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

const LOCAL_SECRET: &str = "gu1-local-demo-secret";
const OTHER_SECRET: &str = "second-secret-for-the-log-test";

struct Env {
    vars: Vec<(&'static str, String)>,
}

async fn environment() -> Env {
    let endpoint = moto().endpoint.clone();
    let config = sdk(&endpoint).await;
    let table = unique("binary-sessions");
    gu1_webhook::local::create_table(&aws_sdk_dynamodb::Client::new(&config), &table)
        .await
        .expect("table");
    let queue = gu1_webhook::local::create_queue(
        &aws_sdk_sqs::Client::new(&config),
        &format!("{}.fifo", unique("binary-outcomes")),
    )
    .await
    .expect("queue");
    Env {
        vars: vec![
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            (
                "GU1_WEBHOOK_SECRETS",
                format!("{LOCAL_SECRET},{OTHER_SECRET}"),
            ),
            ("SESSIONS_TABLE", table),
            ("OUTCOMES_QUEUE_URL", queue),
            ("RUST_LOG", "info".into()),
        ],
    }
}

fn binary(env: &Env) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gu1-webhook"));
    command
        .env_clear()
        .envs(env.vars.iter().map(|(k, v)| (*k, v)));
    command
}

/// The committed events, in file-name order.
fn events() -> Vec<ApiEvent> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| ApiEvent::read(path).unwrap())
        .collect()
}

#[tokio::test]
async fn serve_and_sweep_log_one_clean_line_per_delivery() {
    let env = environment().await;
    let port = free_port();
    let log = std::env::temp_dir().join(unique("gu1-webhook-log"));
    let mut server = binary(&env)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start gu1-webhook serve");
    let url = format!("http://127.0.0.1:{port}/webhooks/gu1");
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let events = events();
    let mut codes = Vec::new();
    for event in &events {
        let mut request = hyper::Request::post(&url);
        for (name, value) in &event.headers {
            request = request.header(name, value);
        }
        let response = http
            .request(request.body(event.body.clone().into()).unwrap())
            .await
            .expect("answer");
        codes.push(response.status().as_u16());
    }
    server.kill().ok();
    server.wait().ok();
    assert_eq!(codes, [200, 200, 200, 200, 200, 200, 200, 401, 200]);

    let sweep = binary(&env)
        .args(["sweep", "--grace-seconds", "0"])
        .output()
        .expect("run gu1-webhook sweep");
    assert!(sweep.status.success());
    let report: Value = serde_json::from_slice(&sweep.stdout).expect("a JSON report");
    assert_eq!(report, json!({"published": 0, "skipped": 0, "failed": 0}));

    let output = std::fs::read_to_string(&log).unwrap() + &String::from_utf8_lossy(&sweep.stderr);
    std::fs::remove_file(&log).ok();
    let lines: Vec<Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}")))
        .collect();
    let deliveries: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "delivery")
        .collect();
    assert_eq!(deliveries.len(), events.len(), "one line per delivery");
    assert_eq!(deliveries[2]["session_id"], "bio-session-uuid");
    assert_eq!(deliveries[2]["result"], "applied");
    assert_eq!(deliveries[2]["stored_status"], "approved");
    assert_eq!(deliveries[2]["webhook_id"], "wh-03-session-approved");
    assert!(deliveries[2]["latency_ms"].as_f64().is_some());
    assert_eq!(deliveries[7]["result"], "rejected_signature");
    assert_eq!(deliveries[7]["status_code"], 401);

    let mut forbidden = vec![
        LOCAL_SECRET.to_owned(),
        OTHER_SECRET.to_owned(),
        "Jane".to_owned(),
        "Doe".to_owned(),
        "verify.example.com".to_owned(),
        "face_match".to_owned(),
    ];
    for event in &events {
        for (name, value) in &event.headers {
            if name == "x-webhook-signature" {
                forbidden.push(value.trim_start_matches("sha256=").to_owned());
            }
        }
    }
    for needle in &forbidden {
        assert!(
            !output.contains(needle.as_str()),
            "the log contains {needle:?}"
        );
    }
}

#[test]
fn without_a_secret_the_binary_refuses_to_start() {
    let output = Command::new(env!("CARGO_BIN_EXE_gu1-webhook"))
        .env_clear()
        .env("SESSIONS_TABLE", "t")
        .env("OUTCOMES_QUEUE_URL", "http://127.0.0.1:9/q")
        .env("AWS_REGION", "us-east-1")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no webhook secret configured"), "{stderr}");
}
