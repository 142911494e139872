//! CloudWatch metrics as Embedded Metric Format lines on stdout: Lambda
//! ships them with the logs and CloudWatch extracts the metrics, so counting
//! costs no API call and adds nothing to a delivery's latency.
//!
//! Emitted only inside Lambda (where `AWS_LAMBDA_FUNCTION_NAME` is set);
//! local runs and tests keep stdout for logs.

use crate::clock::now_ms;
use std::sync::OnceLock;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "Gu1Webhook";
/// Deliveries, by `Result`.
pub const DELIVERIES: &str = "Deliveries";
/// Deliveries whose signature matched and whose body was read (whatever
/// then became of them): Gu1 reaches the receiver with a valid secret. A
/// count of its own, not a `Result` of [`DELIVERIES`], so that one
/// single-metric alarm (CloudWatch's missing data as breaching) can page
/// when none arrived for hours, refused ones aside.
pub const AUTHENTIC_DELIVERIES: &str = "AuthenticDeliveries";
/// Outcomes put on the queue, by `Status`.
pub const OUTCOMES_PUBLISHED: &str = "OutcomesPublished";
/// Review notices put on the reviews queue, by the conflicting `Status`:
/// Gu1 reversed a terminal outcome, and a person should look.
pub const REVIEWS_PUBLISHED: &str = "ReviewNoticesPublished";
/// Failed sends to SQS, by `Status`.
pub const PUBLISH_FAILURES: &str = "PublishFailures";
/// Outcomes the sweeper found unpublished past the grace period.
pub const UNPUBLISHED_OUTCOMES: &str = "UnpublishedOutcomes";
/// Sessions reconciliation read from Gu1's API, by `Result`.
pub const RECONCILED: &str = "Reconciled";
/// Events (delivered or read from Gu1's API) that named another identity
/// than their session's: refused, and worth a page.
pub const IDENTITY_CONFLICTS: &str = "IdentityConflicts";
/// Milliseconds from Gu1's event (its envelope `timestamp`, or the
/// session's `updatedAt` for reconciliation) to the outcome on the queue,
/// by `Status`: the latency onboarding feels.
pub const OUTCOME_LATENCY: &str = "OutcomeLatency";

/// Every metric the code emits: what the dashboard and the alarms are held
/// to (a new metric added here and nowhere on the dashboard fails its test).
pub const ALL: [&str; 9] = [
    DELIVERIES,
    AUTHENTIC_DELIVERIES,
    OUTCOMES_PUBLISHED,
    REVIEWS_PUBLISHED,
    PUBLISH_FAILURES,
    UNPUBLISHED_OUTCOMES,
    RECONCILED,
    IDENTITY_CONFLICTS,
    OUTCOME_LATENCY,
];

/// What a metric line carries: a count, or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Count(u64),
    Milliseconds(u64),
}

/// Deliveries by `Result` (`applied`, `duplicate`, `stale`, `conflict`,
/// `identity_conflict`, `ignored`, `rejected_signature`, `bad_request`, `failed`, ...).
pub fn delivery(result: &str) {
    emit(DELIVERIES, "Result", result);
}

/// One delivery that was signed with a configured secret and readable.
pub fn authentic_delivery() {
    emit_count(AUTHENTIC_DELIVERIES, None, 1);
}

/// Outcomes put on the queue, by `Status`.
pub fn outcome_published(status: &str) {
    emit(OUTCOMES_PUBLISHED, "Status", status);
}

/// Review notices put on the reviews queue, by the conflicting status.
pub fn review_published(status: &str) {
    emit(REVIEWS_PUBLISHED, "Status", status);
}

/// Sends to SQS that failed (the outcome stays pending).
pub fn publish_failed(status: &str) {
    emit(PUBLISH_FAILURES, "Status", status);
}

/// Sessions reconciliation read, by `Result` (`applied`, `unchanged`,
/// `not_found`, `failed`).
pub fn reconciled(result: &str) {
    emit(RECONCILED, "Result", result);
}

/// Outcomes the sweeper found still unpublished past the grace period.
pub fn sweep_found(count: u64) {
    emit_count(UNPUBLISHED_OUTCOMES, None, count);
}

/// One event that named another identity than its session's.
pub fn identity_conflict() {
    emit_count(IDENTITY_CONFLICTS, None, 1);
}

/// An outcome of `status` reached the queue `ms` after Gu1's event.
pub fn outcome_latency(status: &str, ms: u64) {
    emit_value(
        OUTCOME_LATENCY,
        Some(("Status", status)),
        Measure::Milliseconds(ms),
    );
}

fn emit(metric: &str, dimension: &str, value: &str) {
    emit_count(metric, Some((dimension, value)), 1);
}

fn emit_count(metric: &str, dimension: Option<(&str, &str)>, count: u64) {
    emit_value(metric, dimension, Measure::Count(count));
}

fn emit_value(metric: &str, dimension: Option<(&str, &str)>, value: Measure) {
    if let Some(function) = function_name() {
        println!("{}", emf_line(function, metric, dimension, value, now_ms()));
    }
}

fn function_name() -> Option<&'static str> {
    static NAME: OnceLock<Option<String>> = OnceLock::new();
    NAME.get_or_init(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok())
        .as_deref()
}

/// One EMF document: `value` of `metric` for `function`. With a second
/// dimension the metric is also declared per function alone, so that an
/// alarm can watch its total (e.g. publish failures of any status).
pub fn emf_line(
    function: &str,
    metric: &str,
    dimension: Option<(&str, &str)>,
    value: Measure,
    timestamp_ms: u64,
) -> String {
    let (number, unit) = match value {
        Measure::Count(n) => (n, "Count"),
        Measure::Milliseconds(ms) => (ms, "Milliseconds"),
    };
    let mut dimension_sets = vec![vec!["FunctionName"]];
    let mut doc = serde_json::json!({
        "FunctionName": function,
        metric: number,
    });
    if let Some((name, value)) = dimension {
        dimension_sets.insert(0, vec!["FunctionName", name]);
        doc[name] = value.into();
    }
    doc["_aws"] = serde_json::json!({
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": dimension_sets,
            "Metrics": [{"Name": metric, "Unit": unit}],
        }],
    });
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_declares_its_metric_and_dimensions() {
        let line = emf_line(
            "fn",
            DELIVERIES,
            Some(("Result", "applied")),
            Measure::Count(1),
            42,
        );
        let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["Deliveries"], 1);
        assert_eq!(doc["Result"], "applied");
        assert_eq!(doc["FunctionName"], "fn");
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(doc["_aws"]["Timestamp"], 42);
        assert_eq!(spec["Namespace"], NAMESPACE);
        assert_eq!(
            spec["Dimensions"],
            serde_json::json!([["FunctionName", "Result"], ["FunctionName"]])
        );
        assert_eq!(spec["Metrics"][0]["Name"], "Deliveries");
        assert_eq!(spec["Metrics"][0]["Unit"], "Count");
    }

    #[test]
    fn a_duration_is_declared_in_milliseconds() {
        let line = emf_line(
            "fn",
            OUTCOME_LATENCY,
            Some(("Status", "approved")),
            Measure::Milliseconds(1500),
            42,
        );
        let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["OutcomeLatency"], 1500);
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Metrics"][0]["Unit"], "Milliseconds");
    }
}
