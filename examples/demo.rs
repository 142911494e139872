//! The local demo's driver (run by `scripts/demo`; see the README).
//!
//! - `demo setup TABLE QUEUE`: creates the table and the queue on the
//!   emulator named by `AWS_ENDPOINT_URL` and prints the queue URL.
//! - `demo play RECEIVER_URL TABLE QUEUE_URL EVENT.json...`: sends each API
//!   Gateway event's body and headers to the receiver as Gu1 would, prints
//!   each answer, then each session's DynamoDB item and the SQS messages.

use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use gu1_webhook::local::ApiEvent;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::collections::BTreeSet;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let roots = gu1_webhook::config::Roots::from_env()?;
    let sdk = gu1_webhook::local::patient(&gu1_webhook::config::sdk_config_from_env(&roots).await?);
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["setup", table, queue] => {
            gu1_webhook::local::create_table(&aws_sdk_dynamodb::Client::new(&sdk), table).await?;
            let url =
                gu1_webhook::local::create_queue(&aws_sdk_sqs::Client::new(&sdk), queue).await?;
            println!("{url}");
            Ok(())
        }
        ["play", receiver, table, queue_url, events @ ..] => {
            play(&sdk, receiver, table, queue_url, events).await
        }
        _ => Err(
            "usage: demo setup TABLE QUEUE | demo play RECEIVER_URL TABLE QUEUE_URL EVENT.json..."
                .into(),
        ),
    }
}

async fn play(
    sdk: &aws_types::SdkConfig,
    receiver: &str,
    table: &str,
    queue_url: &str,
    events: &[&str],
) -> Result<(), BoxError> {
    let http = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut sessions = BTreeSet::new();
    println!("== deliveries");
    for path in events {
        let ApiEvent { headers, body } = ApiEvent::read(std::path::Path::new(path))?;
        if let Some(id) = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|b| b["payload"]["id"].as_str().map(str::to_owned))
        {
            sessions.insert(id);
        }
        let mut request = hyper::Request::post(format!("{receiver}/webhooks/gu1"));
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let response = http
            .request(request.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = response.status();
        let answer = response.into_body().collect().await?.to_bytes();
        let name = std::path::Path::new(path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "{name:<24} {} {}",
            status.as_u16(),
            String::from_utf8_lossy(&answer)
        );
    }

    println!("\n== DynamoDB items ({table})");
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    for id in &sessions {
        let item = dynamodb
            .get_item()
            .table_name(table)
            .key("sessionId", AttributeValue::S(id.clone()))
            .consistent_read(true)
            .send()
            .await?
            .item
            .unwrap_or_default();
        let item: serde_json::Map<String, Value> =
            item.into_iter().map(|(k, v)| (k, plain(&v))).collect();
        println!("{}", serde_json::to_string_pretty(&item)?);
    }

    println!("\n== SQS messages ({queue_url})");
    let sqs = aws_sdk_sqs::Client::new(sdk);
    loop {
        let messages = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await?
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let body: Value = serde_json::from_str(message.body().unwrap_or("null"))?;
            println!("{}", serde_json::to_string_pretty(&body)?);
            if let Some(handle) = message.receipt_handle() {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await?;
            }
        }
    }
    Ok(())
}

/// A DynamoDB attribute as plain JSON, for printing.
fn plain(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => serde_json::from_str(n).unwrap_or(Value::Null),
        AttributeValue::Ss(set) => set.iter().cloned().map(Value::String).collect(),
        AttributeValue::Bool(b) => Value::Bool(*b),
        other => Value::String(format!("{other:?}")),
    }
}
