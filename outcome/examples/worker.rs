//! An onboarding worker: an SQS-triggered Lambda function on the outcomes
//! queue, built on `gu1_outcome::batch::run` (FIFO order per person, partial
//! batch failures), that records each outcome in a DynamoDB table of its own
//! (`TABLE_NAME`, key `sessionId`). SQS delivers at least once, so the write
//! is conditional: the first copy of a session's outcome writes the item,
//! any later copy finds it there and changes nothing. Deployed by
//! `examples/worker/template.yaml` (docs/consumers.md, "Deploy the example
//! worker").
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use gu1_outcome::{Outcome, batch};

async fn onboard(db: &Client, table: &str, outcome: Outcome) -> Result<(), String> {
    // The work goes here (open the account of outcome.external_id when
    // approved, ...): idempotent, or in one transaction with the write below.
    let external_id = outcome.external_id.unwrap_or_default(); // "" when unknown
    let written = db
        .put_item()
        .table_name(table)
        .item("sessionId", AttributeValue::S(outcome.session_id))
        .item("status", AttributeValue::S(outcome.status.to_string()))
        .item("externalId", AttributeValue::S(external_id))
        .condition_expression("attribute_not_exists(sessionId)")
        .send()
        .await;
    match written.map_err(|err| err.into_service_error()) {
        Ok(_) => Ok(()),
        // A copy of an outcome already recorded, or a later status (that
        // never overwrites the first: reversals come as review notices).
        Err(PutItemError::ConditionalCheckFailedException(_)) => Ok(()),
        // This record and the rest of its group come back after the
        // visibility timeout.
        Err(err) => Err(DisplayErrorContext(err).to_string()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt().without_time().init();
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    // The SDK's HTTPS client on rustls with ring (the trimmed SDK has none of its own).
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .load()
        .await;
    let db = Client::new(&config);
    batch::run(|outcome| onboard(&db, &table, outcome)).await
}
