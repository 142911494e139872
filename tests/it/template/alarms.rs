//! Metric alarms watch the metrics the code emits, in its namespace, with
//! the dimensions it emits them under.

use super::resources::*;
use super::yaml::*;
use gu1_webhook::decide::Verdict;
use gu1_webhook::metrics;
use serde_yaml::Value;
use std::collections::BTreeSet;

fn alarm_with_metric<'a>(t: &'a Value, metric: &str) -> &'a Value {
    resources_of_type(t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, a)| a)
        // Metric-math alarms have no MetricName of their own.
        .find(|a| a["Properties"].get("MetricName").map(text).as_deref() == Some(metric))
        .unwrap_or_else(|| panic!("no alarm on {metric}"))
}

/// An alarm's dimensions as (name, literal value or `Ref:` target).
fn dimensions(alarm: &Value) -> BTreeSet<(String, String)> {
    dimension_set(at(alarm, &["Properties", "Dimensions"]))
}

/// A `Dimensions` list as (name, literal value or `Ref:` target).
fn dimension_set(dimensions: &Value) -> BTreeSet<(String, String)> {
    list(dimensions)
        .iter()
        .map(|d| {
            let value = at(d, &["Value"]);
            let value = ref_target(value).map_or_else(|| text(value), |r| format!("Ref:{r}"));
            (text(at(d, &["Name"])), value)
        })
        .collect()
}

/// An alarm's dimensions, once its namespace is checked: the code's.
fn our_dimensions(alarm: &Value) -> BTreeSet<(String, String)> {
    assert_eq!(
        text(at(alarm, &["Properties", "Namespace"])),
        metrics::NAMESPACE
    );
    dimensions(alarm)
}

#[test]
fn metric_alarms_watch_what_the_code_emits() {
    let t = template();
    let conflicts = our_dimensions(alarm_with_metric(&t, metrics::DELIVERIES));
    let receiver = format!("Ref:{}", resource_name(&t, receiver(&t)));
    assert_eq!(
        conflicts,
        BTreeSet::from([
            pair("FunctionName", &receiver),
            pair("Result", Verdict::Conflict.as_str())
        ])
    );

    let unpublished = our_dimensions(alarm_with_metric(&t, metrics::UNPUBLISHED_OUTCOMES));
    let sweeper = format!("Ref:{}", resource_name(&t, sweeper(&t)));
    assert_eq!(
        unpublished,
        BTreeSet::from([pair("FunctionName", &sweeper)])
    );

    // The code also declares every metric per function alone (see metrics.rs).
    let failures = our_dimensions(alarm_with_metric(&t, metrics::PUBLISH_FAILURES));
    assert_eq!(failures, BTreeSet::from([pair("FunctionName", &receiver)]));

    // Identity conflicts: one alarm per function that emits them.
    let reconcile = format!("Ref:{}", resource_name(&t, reconciler(&t)));
    let watched: BTreeSet<_> = resources_of_type(&t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, a)| a)
        .filter(|a| {
            a["Properties"].get("MetricName").map(text).as_deref()
                == Some(metrics::IDENTITY_CONFLICTS)
        })
        .flat_map(our_dimensions)
        .collect();
    assert_eq!(
        watched,
        BTreeSet::from([
            pair("FunctionName", &receiver),
            pair("FunctionName", &reconcile)
        ])
    );
}

/// The refused-deliveries alarm adds the receiver's two refusal results of
/// `Deliveries` (missing data as zero), over three 5-minute periods.
#[test]
fn refused_deliveries_are_alarmed_from_the_results_the_code_emits() {
    let t = template();
    let (_, alarm) = resources_of_type(&t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .find(|(name, _)| name.as_str() == "RefusedDeliveriesAlarm")
        .expect("RefusedDeliveriesAlarm");
    let receiver = format!("Ref:{}", resource_name(&t, receiver(&t)));
    let metrics_of = list(at(alarm, &["Properties", "Metrics"]));
    let mut watched = BTreeSet::new();
    for query in metrics_of {
        if let Some(expression) = query.get("Expression") {
            assert_eq!(text(expression), "FILL(signature, 0) + FILL(unreadable, 0)");
            continue;
        }
        let metric = at(query, &["MetricStat", "Metric"]);
        assert_eq!(text(at(metric, &["Namespace"])), metrics::NAMESPACE);
        assert_eq!(text(at(metric, &["MetricName"])), metrics::DELIVERIES);
        assert_eq!(text(at(query, &["MetricStat", "Stat"])), "Sum");
        let dims = dimension_set(at(metric, &["Dimensions"]));
        assert!(dims.contains(&pair("FunctionName", &receiver)), "{dims:?}");
        watched.extend(dims.into_iter().filter(|(name, _)| name == "Result"));
    }
    assert_eq!(
        watched,
        BTreeSet::from([
            pair("Result", "bad_request"),
            pair("Result", "rejected_signature")
        ])
    );
    assert_eq!(
        ref_target(at(alarm, &["Properties", "Threshold"])).as_deref(),
        Some("RefusedDeliveriesAlarmThreshold")
    );
}
