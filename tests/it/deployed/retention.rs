//! `RetentionDays` as deployed (deploy-test sets it on its first deploy):
//! the table's time to live is `expiresAt`; an applied delivery sets it to
//! its time plus the retention; a delivery whose envelope `timestamp` is
//! older than the retention is acknowledged `beyond_retention` and neither
//! stored nor published. With `RetentionDays` 0 (the default), no item
//! gets `expiresAt` and an old delivery is applied.
//!
//! Where MiniStack 1.5.33 falls short: its CloudFormation drops the table's
//! `TimeToLiveSpecification` (DescribeTimeToLive says `DISABLED`, no
//! attribute). Then the deployed template's specification is checked
//! instead; a time to live on any other attribute still fails.

use super::{aws, deployed, item, sessions_and_statuses, string};
use crate::support::{Value, json, number, seed, unique};
use gu1_webhook::clock::{now_ms, rfc3339};
use std::time::Duration;

const DAY_MS: u64 = 86_400_000;

/// `event` as Gu1 sent it `days_ago` days ago (its envelope `timestamp`).
fn sent(mut event: Value, days_ago: u64) -> Value {
    event["timestamp"] = rfc3339(now_ms() - days_ago * DAY_MS).into();
    event
}

#[tokio::test]
async fn the_table_keeps_an_item_for_the_retention_and_refuses_older_events() {
    let Some(deployed) = deployed() else { return };
    let stack = deployed.clients();
    let days: u64 = deployed
        .parameter("RetentionDays")
        .parse()
        .expect("RetentionDays is a number");

    // The table's time to live: expiresAt, whatever the retention.
    let ttl = stack
        .dynamodb
        .describe_time_to_live()
        .table_name(&stack.table)
        .send()
        .await
        .expect("DescribeTimeToLive")
        .time_to_live_description
        .expect("a TimeToLiveDescription");
    let status = ttl.time_to_live_status().map(|s| s.as_str().to_owned());
    match (status.as_deref(), ttl.attribute_name()) {
        (Some("ENABLED" | "ENABLING"), Some("expiresAt")) => {
            println!(
                "   DescribeTimeToLive: expiresAt, {}",
                status.unwrap_or_default()
            );
        }
        (Some("DISABLED"), None) => {
            let template = aws(&[
                "cloudformation",
                "get-template",
                "--stack-name",
                &deployed.stack,
                "--template-stage",
                "Processed",
            ])
            .await;
            let body = &template["TemplateBody"];
            let body: Value = match body {
                Value::String(text) => serde_json::from_str(text).expect("a JSON template"),
                other => other.clone(),
            };
            let spec = &body["Resources"]["SessionsTable"]["Properties"]["TimeToLiveSpecification"];
            assert_eq!(
                spec,
                &json!({"AttributeName": "expiresAt", "Enabled": true}),
                "the deployed SessionsTable's TimeToLiveSpecification"
            );
            println!(
                "   DescribeTimeToLive: DISABLED (MiniStack drops TimeToLiveSpecification); \
                 the deployed template's: expiresAt, enabled"
            );
        }
        (status, attribute) => {
            panic!("the table's time to live is {status:?} on {attribute:?}, not expiresAt")
        }
    }

    // A delivery now: applied, kept for the retention.
    let session = unique("deploy-test-retained");
    let before = now_ms() / 1000;
    deployed.deliver(&sent(seed::approved(&session), 0)).await;
    let after = now_ms() / 1000;
    let stored = item(&stack, &session).await;
    let expires = number(&stored, "expiresAt");
    let outcomes = deployed.outcomes(&stack, 1, Duration::from_secs(15)).await;
    assert_eq!(
        sessions_and_statuses(&outcomes),
        [(session.clone(), "approved".to_owned())]
    );
    let retention = days * 86_400;
    if days == 0 {
        assert_eq!(expires, None, "{session}: expiresAt without a retention");
    } else {
        let window = before + retention..=after + retention;
        assert!(
            expires.is_some_and(|at| window.contains(&at)),
            "{session}: expiresAt {expires:?}, not now + {days} days ({window:?})"
        );
    }
    println!("   RetentionDays {days}: a delivery now, expiresAt {expires:?}");

    // A delivery sent a day longer ago than the retention (31 days ago
    // without one): not stored, nothing published.
    let old = unique("deploy-test-too-old");
    let event = sent(seed::rejected(&old), if days == 0 { 31 } else { days + 1 });
    if days == 0 {
        deployed.deliver(&event).await;
    } else {
        let answer = json!({"result": "beyond_retention", "sessionId": old});
        deployed.deliver_expecting(&event, answer).await;
        assert!(item(&stack, &old).await.is_empty(), "{old} was stored");
    }
    let expected = usize::from(days == 0);
    let outcomes = deployed
        .outcomes(&stack, expected, Duration::from_secs(5))
        .await;
    assert_eq!(
        outcomes.len(),
        expected,
        "outcomes for a delivery {} days old: {outcomes:?}",
        string(&event["timestamp"])
    );
    println!(
        "   a delivery sent {}: {}",
        string(&event["timestamp"]),
        if days == 0 {
            "applied"
        } else {
            "beyond_retention, not stored"
        }
    );
}
