//! What a run needs to start: Gu1's API key (never shown, even in trace
//! logs), the organization, a URL it can call. Without them reconciliation
//! refuses to start, and the receiver and the sweeper still work.

use super::*;
use crate::support::binary::Server;
use crate::support::gu1::{API_KEY, Behaviour, ORGANIZATION_ID, api};
use std::process::Stdio;

/// Every run through [`Env::reconcile`] checks that the key never shows;
/// here with every log line the binary and its libraries can write.
#[tokio::test]
async fn the_api_key_never_shows_even_in_trace_logs() {
    let mut w = world().await;
    w.env.set("RUST_LOG", "trace");
    w.deliver_aged(&seed::created("bio-1"), HOUR).await;
    w.gu1.put(api::approved("bio-1"));

    w.gu1.answer_all(Behaviour::Status(401));
    let refused = w.env.reconcile(&[]).await;
    failed(&refused);
    w.gu1.answer_all(Behaviour::Serve);
    let applied = w.env.reconcile(&[]).await;
    succeeded(&applied);
    assert_eq!(applied.counts(), [1, 1, 0, 0, 0]);

    let seen = w.gu1.seen();
    assert_eq!(seen.len(), 2);
    for seen in seen {
        assert_eq!(seen.authorization, Some(format!("Bearer {API_KEY}")));
    }
    for run in [&refused, &applied] {
        assert!(run.stderr.lines().count() > 5, "trace logs: {}", run.stderr);
        assert!(!run.stdout.contains(API_KEY) && !run.stderr.contains(API_KEY));
    }
}

#[tokio::test]
async fn without_an_api_key_reconcile_refuses_to_start_and_serve_and_sweep_still_work() {
    let stack = Stack::create(&sdk(&moto().endpoint), false).await;
    let gu1 = FakeGu1::start().await;
    let mut env = Env::for_tests(&stack, &moto().endpoint);
    env.set("GU1_API_URL", &gu1.url);
    env.set("GU1_ORGANIZATION_ID", ORGANIZATION_ID);

    let run = env.reconcile(&["--session", "bio-1"]).await;
    failed(&run);
    assert_eq!(run.summary, Value::Null, "no summary: {}", run.stdout);
    logged(
        &run,
        "reconciliation needs Gu1's API key: set GU1_API_KEY or GU1_API_KEY_ARN",
    );
    // An empty key is no key.
    env.set("GU1_API_KEY", " ");
    let run = env.reconcile(&[]).await;
    failed(&run);
    logged(&run, "needs Gu1's API key");
    // Nor without the organization.
    let mut no_org = Env::for_tests(&stack, &moto().endpoint).with_gu1_api(&gu1.url);
    no_org
        .vars
        .retain(|(name, _)| *name != "GU1_ORGANIZATION_ID");
    let run = no_org.reconcile(&[]).await;
    failed(&run);
    logged(&run, "GU1_ORGANIZATION_ID is not set");
    assert!(gu1.seen().is_empty());

    // The receiver and the sweeper never needed it.
    env.vars.retain(|(name, _)| *name != "GU1_API_KEY");
    let server = Server::start(&env, Stdio::null()).await;
    let answer = server.deliver(&seed::approved("bio-1")).await;
    assert_eq!((answer.status, answer.result()), (200, "applied"));
    drop(server);
    assert_eq!(
        env.sweep_now(),
        json!({"published": 0, "skipped": 0, "failed": 0})
    );
    assert_eq!(stack.messages().await.len(), 1);
}

/// A URL the client could never call is a configuration mistake: refused
/// at start, like a missing key, not found out once per session.
#[tokio::test]
async fn a_malformed_api_url_is_refused_at_start() {
    let w = world().await;
    w.deliver_aged(&seed::created("bio-1"), HOUR).await;
    for url in [
        "api.gu1.ai",
        "ftp://api.gu1.ai",
        "https://api.gu1.ai/x y",
        "https://api.gu1.ai/?org=1",
        // Plain HTTP beyond loopback would send the key in clear.
        "http://api.gu1.ai",
    ] {
        let mut env = w.env.clone();
        env.set("GU1_API_URL", url);
        let run = env.reconcile(&[]).await;
        failed(&run);
        assert_eq!(run.summary, Value::Null, "{url}: {}", run.stdout);
        assert!(
            run.stderr.contains("GU1_API_URL must be an https:// URL"),
            "{url}: {}",
            run.stderr
        );
    }
    // A trailing slash is no mistake.
    let mut env = w.env.clone();
    env.set("GU1_API_URL", format!("{}/", w.gu1.url));
    let run = env.reconcile(&[]).await;
    assert_eq!(run.counts(), [1, 0, 0, 1, 0]);
    assert_eq!(w.gu1.seen()[0].path, "/api/kyc/biometric/sessions/bio-1");
}
