//! A crowd: 20 sessions' full event sequences, shuffled, duplicated, both
//! delivery paths' copies of each terminal event, sent 32 at a time with the
//! sweeper running alongside. Every session must end in its terminal status
//! with exactly one message on a standard queue (no FIFO deduplication to
//! hide a double send).

use crate::support::*;
use futures::StreamExt;
use gu1_webhook::sweep::SweepReport;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crowd_of_shuffled_duplicated_deliveries_with_a_sweeper_alongside_publishes_each_outcome_once()
 {
    let app = TestApp::spawn().await;
    const TERMINALS: [&str; 5] = ["approved", "rejected", "abandoned", "cancelled", "expired"];
    let mut expected = HashMap::new();
    let mut deliveries = Vec::new();
    for i in 0..20 {
        let session = format!("s-crowd-{i}");
        let terminal = TERMINALS[i % TERMINALS.len()];
        expected.insert(session.clone(), terminal);
        let final_event = match terminal {
            "approved" => seed::approved(&session),
            "rejected" => seed::rejected(&session),
            other => seed::terminal(&session, other),
        };
        // Organization webhook: every transition, each three times.
        for event in [
            seed::created(&session),
            seed::in_progress(&session),
            final_event.clone(),
        ] {
            deliveries.extend(std::iter::repeat_n((event, SECRET), 3));
        }
        // Per-request webhookUrl: the terminal twice more, signed with the
        // other secret (Gu1 sends no cancel there).
        if terminal != "cancelled" {
            deliveries.extend(std::iter::repeat_n((final_event, SECOND_SECRET), 2));
        }
    }
    assert!(deliveries.len() >= 200, "{}", deliveries.len());
    shuffle(&mut deliveries, 0x9e37_79b9_7f4a_7c15);

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sweeper = {
        let sweeper = app.sweeper();
        let stop = std::sync::Arc::clone(&stop);
        tokio::spawn(async move {
            let mut total = SweepReport::default();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let report = sweeper.run().await.expect("sweep");
                total.published += report.published;
                total.failed += report.failed;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            total
        })
    };
    let answers: Vec<Answer> = futures::stream::iter(deliveries.iter())
        .map(|(event, secret)| {
            let bytes = serde_json::to_vec(event).expect("json");
            let signature = gu1_webhook::local::sign_hex(secret.as_bytes(), &bytes);
            let app = &app;
            async move { app.post_signed(&bytes, &signature).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swept = sweeper.await.expect("sweeper");

    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    assert_eq!(swept.failed, 0);
    for (session, terminal) in &expected {
        let item = app.item(session).await.expect("item");
        assert_eq!(text(&item, "status"), Some(*terminal), "{session}");
        assert!(text(&item, "outcomePublishedAt").is_some(), "{session}");
    }
    let mut per_session: HashMap<String, Vec<String>> = HashMap::new();
    for body in app.outcome_bodies().await {
        per_session
            .entry(body["sessionId"].as_str().unwrap().to_owned())
            .or_default()
            .push(body["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(per_session.len(), expected.len());
    for (session, statuses) in &per_session {
        assert_eq!(statuses, &[expected[session.as_str()]], "{session}");
    }
}
