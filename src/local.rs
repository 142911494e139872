//! Local-only helpers, for the demo, the tests, the benchmarks and the fuzz
//! target; compiled only with the `test-util` feature, never into the Lambda.
//!
//! - the sessions table and outcomes queue as `template.yaml` defines them,
//!   created on a local emulator (moto);
//! - [`ApiEvent`], one API Gateway event of `events/`;
//! - [`sign`] and [`sign_hex`], Gu1's signature of a body;
//! - [`record_after_apply`], DynamoDB's answer to a new session's apply write.

use crate::session::{SessionEvent, SessionRecord, WriteToken};
use crate::store::{
    ACTIVE_ATTR, CHECKED_AT_ATTR, ENTITY_ID_ATTR, ENTITY_INDEX, EXPIRES_AT_ATTR, EXTERNAL_ID_ATTR,
    EXTERNAL_ID_INDEX, KEY, PENDING_ATTR, STALE_INDEX, STATUS_ATTR, TERMINAL_AT_ATTR,
    TERMINAL_DAY_ATTR, TERMINAL_INDEX, UNPUBLISHED_INDEX,
};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use hmac::{Hmac, KeyInit, Mac};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `config` with the patience of a tool that sets up and inspects (the
/// demo, the bench, the tests' own clients), longer than the receiver's
/// 4 s per call: a busy machine, or an emulator loading a service on its
/// first call, must not fail the setup before the receiver is even asked.
pub fn patient(config: &aws_types::SdkConfig) -> aws_types::SdkConfig {
    use std::time::Duration;
    config
        .to_builder()
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(90))
                .build(),
        )
        .build()
}

/// Creates the sessions table as the template does: key `sessionId`, its
/// five indexes and its time to live. A
/// table of that name that already exists is taken as made: moto loads its
/// DynamoDB backend on the first call, which on a busy machine can outlast
/// an attempt, and the SDK's retry then finds the table the first attempt
/// made.
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
    // The template's indexes: (name, partition key, sort key, what they
    // project beyond the keys: the terminal one `status`, for `--status`).
    let indexes = [
        (
            UNPUBLISHED_INDEX,
            PENDING_ATTR,
            Some(TERMINAL_AT_ATTR),
            None,
        ),
        (STALE_INDEX, ACTIVE_ATTR, Some(CHECKED_AT_ATTR), None),
        (
            TERMINAL_INDEX,
            TERMINAL_DAY_ATTR,
            Some(TERMINAL_AT_ATTR),
            Some(STATUS_ATTR),
        ),
        (ENTITY_INDEX, ENTITY_ID_ATTR, None, None),
        (EXTERNAL_ID_INDEX, EXTERNAL_ID_ATTR, None, None),
    ];
    let (s, n) = (ScalarAttributeType::S, ScalarAttributeType::N);
    let keys = [
        (KEY, s.clone()),
        (PENDING_ATTR, s.clone()),
        (TERMINAL_AT_ATTR, n.clone()),
        (ACTIVE_ATTR, s.clone()),
        (CHECKED_AT_ATTR, n),
        (TERMINAL_DAY_ATTR, s.clone()),
        (ENTITY_ID_ATTR, s.clone()),
        (EXTERNAL_ID_ATTR, s),
    ];
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(KEY, KeyType::Hash)?);
    for (attr, kind) in keys {
        request = request.attribute_definitions(attribute(attr, kind)?);
    }
    for (index, partition, sort, include) in indexes {
        let projection = match include {
            Some(attr) => Projection::builder()
                .projection_type(ProjectionType::Include)
                .non_key_attributes(attr),
            None => Projection::builder().projection_type(ProjectionType::KeysOnly),
        };
        let mut index = GlobalSecondaryIndex::builder()
            .index_name(index)
            .key_schema(key(partition, KeyType::Hash)?)
            .projection(projection.build());
        if let Some(sort) = sort {
            index = index.key_schema(key(sort, KeyType::Range)?);
        }
        request = request.global_secondary_indexes(index.build()?);
    }
    let created = request.send().await;
    match created {
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        other => other.map(drop)?,
    }
    // The template's time to live: DynamoDB deletes an item past `expiresAt`.
    let ttl = aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
        .attribute_name(EXPIRES_AT_ATTR)
        .enabled(true)
        .build()?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(ttl)
        .send()
        .await?;
    Ok(())
}

/// Creates the outcomes queue (FIFO when `name` ends in `.fifo`, with
/// content-based deduplication off and high throughput on, as in the
/// template) and returns its URL.
pub async fn create_queue(client: &aws_sdk_sqs::Client, name: &str) -> Result<String, BoxError> {
    let mut request = client.create_queue().queue_name(name);
    if name.ends_with(".fifo") {
        request = request
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
            .attributes(QueueAttributeName::DeduplicationScope, "messageGroup")
            .attributes(QueueAttributeName::FifoThroughputLimit, "perMessageGroupId");
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

/// The HMAC-SHA256 of `body`: the signature Gu1 would send, as bytes.
pub fn sign(secret: &[u8], body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The signature in lower-case hex, as Gu1 sends it.
pub fn sign_hex(secret: &[u8], body: &[u8]) -> String {
    hex(&sign(secret, body))
}

/// `bytes` in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session as the apply write leaves it for a new session written by
/// `writer` (DynamoDB's `ALL_NEW` answer), for code that runs without
/// DynamoDB: the benchmarks and the fuzz target.
pub fn record_after_apply(
    event: &SessionEvent,
    writer: &WriteToken,
    lease_until_ms: u64,
) -> SessionRecord {
    let terminal = event.status.is_terminal();
    SessionRecord {
        applied_by: Some(writer.clone()),
        reviews_owed: Vec::new(),
        reviews_published: Vec::new(),
        publish_lease_until: terminal.then_some(lease_until_ms),
        lease_holder: terminal.then(|| writer.clone()),
        ..SessionRecord::from(event)
    }
}
