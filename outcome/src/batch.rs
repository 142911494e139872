//! The consumer kit (feature `lambda`): an SQS-triggered Lambda's batch of
//! outcome messages, handled the way the queue's guarantees need.
//!
//! - Each record is parsed once; a body that is not a version 1 outcome is
//!   a failure of that record alone, logged with its message id and the
//!   reason, never the body.
//! - On a FIFO queue the records of one message group (one person) are
//!   handled in order, one at a time; after a failure, that record and every
//!   later record of the group are reported as failures (handling them
//!   would reorder the person's outcomes), while the other groups go on.
//! - On a standard queue each record is handled on its own.
//! - Groups (FIFO) or records (standard) run [`CONCURRENCY`] at a time.
//! - [`process_received`] hands the handler each outcome with the record's
//!   `republishedAt` ([`Received`]), to tell an operator's re-send.
//! - The answer is an [`SqsBatchResponse`] naming the failed records, so
//!   that SQS redelivers only those; the event source mapping must have
//!   `FunctionResponseTypes: [ReportBatchItemFailures]`. The whole batch
//!   fails (an `Err`) only when no record could be processed, or when a
//!   failed record has no message id to name.
//!
//! Messages are delivered at least once: the handler must be idempotent on
//! the outcome's `session_id` (a conditional write keyed by it, say).

use crate::{Outcome, ParseError, parse};
/// The Lambda event types the kit takes and returns, so that a worker needs
/// no `aws_lambda_events` of its own (and no version to keep in step).
pub use aws_lambda_events::event::sqs::{
    BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute,
};
use futures_util::stream::{self, StreamExt};
use std::fmt::Display;
use std::future::Future;

/// How many message groups (FIFO) or records (standard) are handled at once.
pub const CONCURRENCY: usize = 8;

/// The SQS attribute that names a FIFO record's message group.
const GROUP_ATTRIBUTE: &str = "MessageGroupId";

/// Nothing of the batch could be processed, or a failure cannot be named:
/// SQS is to redeliver the whole batch.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("none of the batch's {0} records could be processed")]
    NothingProcessed(usize),
    #[error("a failed record has no message id: the whole batch is to be redelivered")]
    FailureWithoutId,
}

/// Why one record was not processed.
#[derive(Debug)]
enum Failure<E> {
    Parse(ParseError),
    Handler(E),
    /// An earlier record of its message group failed.
    EarlierInGroup,
}

/// Handles `event`'s records with `handler`, as the module says, and names
/// the records SQS must deliver again.
pub async fn process_batch<F, Fut, E>(
    event: SqsEvent,
    handler: F,
) -> Result<SqsBatchResponse, BatchError>
where
    F: Fn(Outcome) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    process_received(event, |received| handler(received.outcome)).await
}

/// An outcome as its record brought it, for a handler that must tell an
/// operator's re-send (`gu1-webhook republish`) from the original.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub outcome: Outcome,
    /// The record's [`REPUBLISHED_AT`](crate::attributes::REPUBLISHED_AT)
    /// attribute: when an operator sent the outcome again; `None` on the
    /// original. A worker that recorded the session may take it as "do it
    /// again" (the body is the original's).
    pub republished_at: Option<String>,
}

/// [`process_batch`], with each outcome handed over as [`Received`].
pub async fn process_received<F, Fut, E>(
    event: SqsEvent,
    handler: F,
) -> Result<SqsBatchResponse, BatchError>
where
    F: Fn(Received) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let total = event.records.len();
    let handler = &handler;
    let failed: Vec<Option<String>> = stream::iter(groups(event.records))
        .map(|group| handle_group(group, handler))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    if total > 0 && failed.len() == total {
        return Err(BatchError::NothingProcessed(total));
    }
    let mut response = SqsBatchResponse::default();
    for id in failed {
        let id = id
            .filter(|id| !id.is_empty())
            .ok_or(BatchError::FailureWithoutId)?;
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

/// Runs an SQS-triggered Lambda function whose every batch goes through
/// [`process_batch`] with `handler`.
pub async fn run<F, Fut, E>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Outcome) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<SqsEvent>| async move {
            process_batch(event.payload, handler)
                .await
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}

/// The records in handling units, in the batch's order: on a FIFO queue one
/// unit per message group, otherwise one per record.
fn groups(records: Vec<SqsMessage>) -> Vec<Vec<SqsMessage>> {
    let mut groups: Vec<(Option<String>, Vec<SqsMessage>)> = Vec::new();
    for record in records {
        let group = record.attributes.get(GROUP_ATTRIBUTE).cloned();
        match groups
            .iter_mut()
            .find(|(id, _)| group.is_some() && *id == group)
        {
            Some((_, members)) => members.push(record),
            None => groups.push((group, vec![record])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// Handles one unit in order; returns the message ids of its failures.
async fn handle_group<F, Fut, E>(group: Vec<SqsMessage>, handler: &F) -> Vec<Option<String>>
where
    F: Fn(Received) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut failed = Vec::new();
    for record in group {
        let failure = if failed.is_empty() {
            match parse(record.body.as_deref().unwrap_or_default()) {
                Err(err) => Some(Failure::Parse(err)),
                Ok(outcome) => {
                    let republished_at = record
                        .message_attributes
                        .get(crate::attributes::REPUBLISHED_AT)
                        .and_then(|attribute| attribute.string_value.clone());
                    let received = Received {
                        outcome,
                        republished_at,
                    };
                    handler(received).await.err().map(Failure::Handler)
                }
            }
        } else {
            Some(Failure::EarlierInGroup)
        };
        if let Some(failure) = failure {
            log(&record, &failure);
            failed.push(record.message_id);
        }
    }
    failed
}

fn log<E: Display>(record: &SqsMessage, failure: &Failure<E>) {
    let id = record.message_id.as_deref().unwrap_or_default();
    match failure {
        Failure::Parse(err) => {
            tracing::warn!(message_id = id, error = %err, "not an outcome message")
        }
        Failure::Handler(err) => {
            tracing::warn!(message_id = id, error = %err, "the handler failed")
        }
        Failure::EarlierInGroup => tracing::info!(
            message_id = id,
            "left for redelivery: an earlier record of its message group failed"
        ),
    }
}

#[cfg(test)]
mod tests;
