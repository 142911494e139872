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
    let receiver = format!("Ref:{}", resource_name(&t, receiver(&t)));
    // Deliveries: the receiver's conflicts, and its two refusals (401 and
    // 400), which nothing else would page for.
    let deliveries: BTreeSet<BTreeSet<(String, String)>> =
        resources_of_type(&t, "AWS::CloudWatch::Alarm")
            .into_iter()
            .map(|(_, a)| a)
            .filter(|a| {
                a["Properties"].get("MetricName").map(text).as_deref() == Some(metrics::DELIVERIES)
            })
            .map(our_dimensions)
            .collect();
    let on_receiver =
        |result: &str| BTreeSet::from([pair("FunctionName", &receiver), pair("Result", result)]);
    assert_eq!(
        deliveries,
        BTreeSet::from([
            on_receiver(Verdict::Conflict.as_str()),
            on_receiver("rejected_signature"),
            on_receiver("bad_request"),
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

    // No authentic delivery for NoDeliveryAlarmHours hours: off by default;
    // an hour with no data at all is an hour without one.
    let silence = alarm_with_metric(&t, metrics::AUTHENTIC_DELIVERIES);
    assert_eq!(
        our_dimensions(silence),
        BTreeSet::from([pair("FunctionName", &receiver)])
    );
    assert_eq!(default_number(&t, "NoDeliveryAlarmHours"), 0);
    let condition = text(at(silence, &["Condition"]));
    assert!(
        !condition_holds(&t, &condition),
        "{condition} is off by default"
    );
    let properties = at(silence, &["Properties"]);
    for (key, value) in [
        ("Period", "3600"),
        ("Threshold", "1"),
        ("ComparisonOperator", "LessThanThreshold"),
        ("TreatMissingData", "breaching"),
    ] {
        assert_eq!(text(at(properties, &[key])), value, "{key}");
    }
    for key in ["EvaluationPeriods", "DatapointsToAlarm"] {
        assert_eq!(
            ref_target(at(properties, &[key])).as_deref(),
            Some("NoDeliveryAlarmHours")
        );
    }
    // CloudWatch evaluates at most a day.
    let hours = at(&t, &["Parameters", "NoDeliveryAlarmHours"]);
    assert!(text(at(hours, &["MaxValue"])).parse::<u64>().unwrap() * 3600 <= 86_400);

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

/// Every function has an alarm on its Lambda `Errors`, that exists exactly
/// when the function does (reconciliation's only with it).
#[test]
fn every_function_has_an_errors_alarm() {
    let t = template();
    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    for (name, function) in resources_of_type(&t, "AWS::Serverless::Function") {
        let on_errors: Vec<&Value> = alarms
            .iter()
            .map(|(_, a)| *a)
            .filter(|a| {
                let properties = at(a, &["Properties"]);
                get(properties, "Namespace").map(text).as_deref() == Some("AWS/Lambda")
                    && get(properties, "MetricName").map(text).as_deref() == Some("Errors")
                    && dimensions(a)
                        == BTreeSet::from([pair("FunctionName", &format!("Ref:{name}"))])
            })
            .collect();
        assert_eq!(on_errors.len(), 1, "one Errors alarm on {name}");
        let properties = at(on_errors[0], &["Properties"]);
        for (key, value) in [
            ("Statistic", "Sum"),
            ("Threshold", "0"),
            ("ComparisonOperator", "GreaterThanThreshold"),
        ] {
            assert_eq!(text(at(properties, &[key])), value, "{name}: {key}");
        }
        assert_eq!(
            get(on_errors[0], "Condition").map(text),
            get(function, "Condition").map(text),
            "{name}'s alarm exists when it does"
        );
    }
}
