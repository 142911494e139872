//! The real `gu1-webhook` binary, as a newcomer runs it: `serve` with its
//! configuration from the environment, the committed `events/` sent through
//! it, then `sweep`. Its log output must carry no secret, no signature, no
//! body and no name.

use crate::support::binary::{Env, Server};
use crate::support::*;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_types::SdkConfig;
use gu1_webhook::local::ApiEvent;
use std::process::{Command, Stdio};

const LOCAL_SECRET: &str = "gu1-local-demo-secret";
const OTHER_SECRET: &str = "second-secret-for-the-log-test";

/// A fresh table and FIFO queue at `endpoint` (reached with `config`), and
/// the binary's environment for them.
async fn environment(endpoint: &str, config: &SdkConfig) -> Env {
    let stack = Stack::create(config, true).await;
    Env::new(&stack, endpoint, &format!("{LOCAL_SECRET},{OTHER_SECRET}"))
}

fn binary(env: &Env) -> Command {
    env.command()
}

fn events_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// The committed events, in file-name order.
fn events() -> Vec<ApiEvent> {
    event_files()
        .iter()
        .map(|path| ApiEvent::read(path).unwrap())
        .collect()
}

#[tokio::test]
async fn serve_and_sweep_log_one_clean_line_per_delivery() {
    let endpoint = &moto().endpoint;
    let env = environment(endpoint, &sdk(endpoint)).await;
    let log = std::env::temp_dir().join(unique("gu1-webhook-log"));
    let server = Server::start(&env, std::fs::File::create(&log).unwrap().into()).await;

    let events = events();
    let mut codes = Vec::new();
    for event in &events {
        codes.push(server.send(event).await.status);
    }
    drop(server);
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

/// Every other test speaks plain HTTP to moto; AWS speaks only HTTPS. Here
/// moto serves TLS with a certificate from its own CA, which the binary
/// trusts the way a user trusts a private CA (`SSL_CERT_FILE`), so that a
/// terminal delivery crosses the receiver's real TLS stack (rustls on ring)
/// to DynamoDB and to SQS.
#[tokio::test]
async fn serve_reaches_dynamodb_and_sqs_over_tls() {
    let dir = std::env::temp_dir().join(unique("gu1-webhook-tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let moto = Moto::start(Some(&dir));
    let ca = dir.join("ca.pem");
    let trusting_ca = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(
                    TrustStore::empty().with_pem_certificate(std::fs::read(&ca).unwrap()),
                )
                .build()
                .unwrap(),
        )
        .build_https();
    let config = sdk(&moto.endpoint)
        .into_builder()
        .http_client(trusting_ca)
        .build();
    let mut env = environment(&moto.endpoint, &config).await;
    let queue_url = env.var("OUTCOMES_QUEUE_URL").to_owned();
    env.vars.push(("SSL_CERT_FILE", ca.display().to_string()));

    let server = Server::start(&env, Stdio::null()).await;
    let approved = ApiEvent::read(&events_dir().join("03-session-approved.json")).unwrap();
    let answer = server.send(&approved).await;
    assert_eq!((answer.status, answer.result()), (200, "applied"));

    let messages = aws_sdk_sqs::Client::new(&config)
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive over TLS")
        .messages
        .unwrap_or_default();
    let bodies: Vec<Value> = messages
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap_or("null")).unwrap())
        .collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["sessionId"], "bio-session-uuid");
    assert_eq!(bodies[0]["status"], "approved");
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn without_any_required_variable_the_binary_refuses_to_start() {
    // No instance metadata: the credential chain's last source would ask
    // 169.254.169.254, which a test never does.
    let outside = [("AWS_EC2_METADATA_DISABLED", "true")];
    let complete = [
        ("GU1_WEBHOOK_SECRETS", "s"),
        ("SESSIONS_TABLE", "t"),
        ("OUTCOMES_QUEUE_URL", "http://127.0.0.1:9/q"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "k"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ];
    let no_credentials = "no AWS credentials from any source";
    for (missing, error) in [
        ("GU1_WEBHOOK_SECRETS", "no webhook secret configured"),
        ("SESSIONS_TABLE", "SESSIONS_TABLE is not set"),
        ("OUTCOMES_QUEUE_URL", "OUTCOMES_QUEUE_URL is not set"),
        ("AWS_REGION", "AWS_REGION is not set"),
        ("AWS_ACCESS_KEY_ID", no_credentials),
        ("AWS_SECRET_ACCESS_KEY", no_credentials),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_gu1-webhook"))
            .env_clear()
            .envs(outside)
            .envs(
                complete
                    .iter()
                    .filter(|(name, _)| *name != missing)
                    .copied(),
            )
            .args(["serve", "--listen", "127.0.0.1:0"])
            .output()
            .expect("run");
        assert!(!output.status.success(), "started without {missing}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(error), "without {missing}: {stderr}");
    }
}

/// The SDK's per-service endpoint variables are honoured: with SQS alone
/// pointed at a closed port, a terminal delivery is stored in DynamoDB and
/// answered 503, and the outcome waits, pending, for a working SQS.
#[tokio::test]
async fn a_per_service_endpoint_variable_points_that_service_alone_elsewhere() {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let mut env = Env::for_tests(&stack, &moto.endpoint);
    env.set("AWS_ENDPOINT_URL_SQS", closed());
    let server = Server::start(&env, Stdio::null()).await;
    let answer = server.deliver(&seed::approved("s-per-service")).await;
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    stack
        .assert_outcome_pending("s-per-service", "approved")
        .await;

    // The other way round: DynamoDB unreachable, nothing stored, nothing sent.
    let mut env = Env::for_tests(&stack, &moto.endpoint);
    env.set("AWS_ENDPOINT_URL_DYNAMODB", closed());
    let server = Server::start(&env, Stdio::null()).await;
    let answer = server.deliver(&seed::approved("s-per-service-2")).await;
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    assert!(stack.item("s-per-service-2").await.is_none());
    assert!(stack.messages().await.is_empty());
}

/// `sweep` run as a user runs it from a laptop: region, credentials and the
/// endpoint from a named profile in the shared config files, nothing in the
/// environment but `AWS_PROFILE` and where the files are.
#[tokio::test]
async fn sweep_takes_region_credentials_and_endpoint_from_a_profile() {
    let published = sweep_with_profile("s-profile", "us-east-1", &[]).await;
    assert_eq!(published, ["s-profile"]);
}

/// The environment comes first in the SDK's chains, as it does without the
/// start-up shortcut that skips building them when the environment answers
/// (`config::aws`): a region there wins over the profile's (whose region has
/// no table), and half a pair of keys there does not stop the chain from
/// taking the profile's credentials.
#[tokio::test]
async fn the_environment_comes_before_the_profile_as_in_the_sdk_chain() {
    let published = sweep_with_profile(
        "s-env-first",
        "eu-west-3",
        &[("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "half")],
    )
    .await;
    assert_eq!(published, ["s-env-first"]);
}

/// Leaves `session`'s outcome pending (SQS down during its delivery), then
/// runs `sweep` with only a profile (region `profile_region`, moto's
/// endpoint, keys) and `extra` variables; the session ids the queue got.
async fn sweep_with_profile(
    session: &str,
    profile_region: &str,
    extra: &[(&str, &str)],
) -> Vec<String> {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let mut down = Env::for_tests(&stack, &moto.endpoint);
    down.set("AWS_ENDPOINT_URL_SQS", closed());
    let server = Server::start(&down, Stdio::null()).await;
    assert_eq!(server.deliver(&seed::rejected(session)).await.status, 503);

    let dir = std::env::temp_dir().join(unique("gu1-profile"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("config");
    let credentials = dir.join("credentials");
    std::fs::write(
        &config,
        format!(
            "[profile gu1-local]\nregion = {profile_region}\nendpoint_url = {}\n",
            moto.endpoint
        ),
    )
    .expect("config file");
    std::fs::write(
        &credentials,
        "[gu1-local]\naws_access_key_id = from-profile\naws_secret_access_key = from-profile\n",
    )
    .expect("credentials file");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gu1-webhook"))
        .env_clear()
        .envs([
            ("AWS_PROFILE", "gu1-local"),
            ("AWS_CONFIG_FILE", &config.to_string_lossy()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                &credentials.to_string_lossy(),
            ),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("SESSIONS_TABLE", &stack.table),
            ("OUTCOMES_QUEUE_URL", &stack.queue_url),
        ])
        .envs(extra.iter().copied())
        .args(["sweep", "--grace-seconds", "0"])
        .output()
        .expect("run sweep");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("a report");
    assert_eq!(report["published"], 1, "{report}");
    stack
        .outcome_bodies()
        .await
        .iter()
        .map(|body| body["sessionId"].as_str().unwrap_or_default().to_owned())
        .collect()
}
