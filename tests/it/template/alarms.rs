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
        .find(|a| text(at(a, &["Properties", "MetricName"])) == metric)
        .unwrap_or_else(|| panic!("no alarm on {metric}"))
}

/// An alarm's dimensions as (name, literal value or `Ref:` target).
fn dimensions(alarm: &Value) -> BTreeSet<(String, String)> {
    list(at(alarm, &["Properties", "Dimensions"]))
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
        .filter(|a| text(at(a, &["Properties", "MetricName"])) == metrics::IDENTITY_CONFLICTS)
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
