//! The sessions table and outcomes queue as `template.yaml` defines them,
//! created on a local emulator (moto) for the demo and the integration tests.
//! Never used by the Lambda.

use crate::store::{KEY, PENDING_ATTR, TERMINAL_AT_ATTR, UNPUBLISHED_INDEX};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Creates the sessions table: key `sessionId`, the sparse unpublished index.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), BoxError> {
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let index = GlobalSecondaryIndex::builder()
        .index_name(UNPUBLISHED_INDEX)
        .key_schema(key(PENDING_ATTR, KeyType::Hash)?)
        .key_schema(key(TERMINAL_AT_ATTR, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()?;
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(KEY, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(PENDING_ATTR, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(TERMINAL_AT_ATTR, ScalarAttributeType::N)?)
        .key_schema(key(KEY, KeyType::Hash)?)
        .global_secondary_indexes(index)
        .send()
        .await?;
    Ok(())
}

/// Creates the outcomes queue (FIFO when `name` ends in `.fifo`, with
/// content-based deduplication off, as in the template) and returns its URL.
pub async fn create_queue(client: &aws_sdk_sqs::Client, name: &str) -> Result<String, BoxError> {
    let mut request = client.create_queue().queue_name(name);
    if name.ends_with(".fifo") {
        request = request
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false");
    }
    let output = request.send().await?;
    output
        .queue_url
        .ok_or_else(|| "CreateQueue returned no URL".into())
}

/// One API Gateway HTTP API event of `events/`, as Gu1's HTTP request: its
/// headers and its body (base64-decoded where `isBase64Encoded` is set).
#[derive(Debug, Clone)]
pub struct ApiEvent {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiEvent {
    pub fn read(path: &std::path::Path) -> Result<Self, BoxError> {
        use base64::Engine as _;
        let event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let body = event["body"].as_str().unwrap_or_default();
        let body = if event["isBase64Encoded"] == true {
            base64::engine::general_purpose::STANDARD.decode(body)?
        } else {
            body.as_bytes().to_vec()
        };
        let headers = event["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
            .collect();
        Ok(Self { headers, body })
    }
}
