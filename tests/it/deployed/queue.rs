//! The queue's trust boundary, with real calls under assumed roles
//! (MiniStack enforces queue policies on every SQS call, as SQS does; its
//! policy simulator ignores them, so only a real call proves the deny).
//!
//! - A role outside the stack that IAM lets send (`sqs:SendMessage` on both
//!   queues in its own policy, which the simulator confirms) is refused by
//!   the queues' policies: no forged outcome, nothing on the dead-letter
//!   queue. It cannot receive either: it is not a consumer.
//! - The workers' role deploy-test names in `ConsumerPrincipalArns` (no IAM
//!   policy of its own: the queue's policy is its only grant) receives an
//!   outcome the receiver published under the policy, changes its
//!   visibility and deletes it; it cannot send.

use super::{aws, deployed, required, string};
use crate::support::{self, json, seed, unique};
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_sqs::error::ProvideErrorMetadata as _;
use std::time::{Duration, Instant};

/// An SQS client under a session of `role`.
async fn sqs_as(role: &str) -> aws_sdk_sqs::Client {
    let session = aws(&[
        "sts",
        "assume-role",
        "--role-arn",
        role,
        "--role-session-name",
        "deploy-test-queue",
    ])
    .await;
    let credentials = &session["Credentials"];
    let credentials = Credentials::new(
        string(&credentials["AccessKeyId"]),
        string(&credentials["SecretAccessKey"]),
        Some(string(&credentials["SessionToken"])),
        None,
        "deploy-test-assumed-role",
    );
    let config = gu1_webhook::config::sdk_config(
        Region::new("us-east-1"),
        credentials,
        Some(required("AWS_ENDPOINT_URL")),
    );
    aws_sdk_sqs::Client::new(&support::patient(&config))
}

/// A role of the account that `account`'s root may assume, with `policy`
/// (if any) as its own IAM policy; its ARN.
async fn role(name: &str, account: &str, policy: Option<String>) -> String {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let created = aws(&[
        "iam",
        "create-role",
        "--role-name",
        name,
        "--assume-role-policy-document",
        &trust,
    ])
    .await;
    if let Some(policy) = policy {
        aws(&[
            "iam",
            "put-role-policy",
            "--role-name",
            name,
            "--policy-name",
            "send",
            "--policy-document",
            &policy,
        ])
        .await;
    }
    string(&created["Role"]["Arn"])
}

/// A send of a forged outcome to `queue_url`: `Err(code)` when refused.
async fn send(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<(), String> {
    let mut request = sqs
        .send_message()
        .queue_url(queue_url)
        .message_body(r#"{"sessionId":"forged","status":"approved"}"#);
    if queue_url.ends_with(".fifo") {
        request = request
            .message_group_id("forged")
            .message_deduplication_id(unique("forged"));
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(err) => Err(err
            .as_service_error()
            .and_then(|e| e.code())
            .map_or_else(|| format!("{err:?}"), str::to_owned)),
    }
}

/// Receives from `queue_url` as `sqs` until `find` picks a message, or
/// fails after 15 s saying `what` never reached the workers' role.
async fn receive_until<T>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    what: &str,
    find: impl Fn(&aws_sdk_sqs::types::Message) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let batch = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap_or_else(|err| panic!("the workers' role may not receive {what}: {err:?}"))
            .messages
            .unwrap_or_default();
        if let Some(found) = batch.iter().find_map(&find) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never reached the workers' role"
        );
    }
}

fn refused(result: Result<(), String>, what: &str) {
    match result {
        Err(code) if code.starts_with("AccessDenied") => {}
        Err(other) => panic!("{what}: refused, but with {other}, not AccessDenied"),
        Ok(()) => panic!("{what}: the message was accepted"),
    }
}

#[tokio::test]
async fn only_the_stacks_roles_send_and_the_listed_workers_receive() {
    let Some(deployed) = deployed() else { return };
    let queue = deployed.output("OutcomesQueueArn").to_owned();
    let queue_url = deployed.output("OutcomesQueueUrl").to_owned();
    let dlq = deployed.output("OutcomesDeadLetterQueueArn").to_owned();
    let dlq_url = deployed.output("OutcomesDeadLetterQueueUrl").to_owned();
    let reviews = deployed.output("ReviewsQueueArn").to_owned();
    let reviews_url = deployed.output("ReviewsQueueUrl").to_owned();
    let account = queue.split(':').nth(4).expect("an account in the ARN");

    // An outsider IAM lets send to every queue: the queues' policies refuse.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sqs:SendMessage","Resource":["{queue}","{reviews}","{dlq}"]}}]}}"#
    );
    let outsider = role(&unique("deploy-test-outsider"), account, Some(policy)).await;
    for resource in [&queue, &reviews, &dlq] {
        let simulated = aws(&[
            "iam",
            "simulate-principal-policy",
            "--policy-source-arn",
            &outsider,
            "--action-names",
            "sqs:SendMessage",
            "--resource-arns",
            resource,
        ])
        .await;
        assert_eq!(
            string(&simulated["EvaluationResults"][0]["EvalDecision"]),
            "allowed",
            "the outsider's own IAM policy should allow sqs:SendMessage on {resource}"
        );
    }
    let as_outsider = sqs_as(&outsider).await;
    refused(
        send(&as_outsider, &queue_url).await,
        "an outsider's send to the outcomes queue",
    );
    refused(
        send(&as_outsider, &reviews_url).await,
        "an outsider's send to the reviews queue",
    );
    refused(
        send(&as_outsider, &dlq_url).await,
        "an outsider's send to the dead-letter queue",
    );
    let received = as_outsider
        .receive_message()
        .queue_url(&queue_url)
        .send()
        .await;
    assert!(
        received.is_err(),
        "the outsider is no consumer, yet it may receive"
    );
    println!(
        "   a role outside the stack with sqs:SendMessage in its IAM policy: refused by all three queues"
    );

    // The listed workers' role: receives what the receiver published.
    let listed = deployed.parameter("ConsumerPrincipalArns").to_owned();
    let consumer = listed
        .split(',')
        .next()
        .filter(|arn| !arn.is_empty())
        .expect("deploy-test lists a workers' role in ConsumerPrincipalArns");
    let as_consumer = sqs_as(consumer).await;
    let session = unique("deploy-test-consumer");
    deployed.deliver(&seed::approved(&session)).await;
    let message = receive_until(
        &as_consumer,
        &queue_url,
        &format!("the outcome of {session}"),
        |m| {
            m.body()
                .is_some_and(|b| b.contains(&session))
                .then(|| m.clone())
        },
    )
    .await;
    let handle = message.receipt_handle().unwrap_or_default();
    as_consumer
        .change_message_visibility()
        .queue_url(&queue_url)
        .receipt_handle(handle)
        .visibility_timeout(60)
        .send()
        .await
        .unwrap_or_else(|err| panic!("the workers' role may not change visibility: {err:?}"));
    as_consumer
        .delete_message()
        .queue_url(&queue_url)
        .receipt_handle(handle)
        .send()
        .await
        .unwrap_or_else(|err| panic!("the workers' role may not delete: {err:?}"));
    refused(
        send(&as_consumer, &queue_url).await,
        "the workers' role's send to the outcomes queue",
    );
    println!(
        "   the workers' role (ConsumerPrincipalArns): received, changed visibility, deleted; its send refused"
    );

    // A reversal of that outcome: one review notice, on the reviews queue.
    deployed
        .deliver_expecting(
            &seed::rejected(&session),
            json!({"result": "conflict", "sessionId": session, "status": "approved"}),
        )
        .await;
    let notice = receive_until(
        &as_consumer,
        &reviews_url,
        &format!("the review notice of {session}"),
        |m| {
            gu1_outcome::review::parse_review(m.body()?)
                .ok()
                .filter(|notice| notice.session_id == session)
        },
    )
    .await;
    assert_eq!(
        (
            notice.kept.status.as_str(),
            notice.conflicting.status.as_str()
        ),
        ("approved", "rejected")
    );
    refused(
        send(&as_consumer, &reviews_url).await,
        "the workers' role's send to the reviews queue",
    );
    println!(
        "   a reversal: one review notice on the reviews queue, received by the workers' role"
    );
}
