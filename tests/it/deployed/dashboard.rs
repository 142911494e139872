//! The dashboard and the no-delivery alarm as CloudFormation made them: the
//! dashboard's body names the deployed functions and queues (its `${...}`
//! resolved, the reconciliation widgets there, as deploy-test deploys with
//! reconciliation) and only metrics the code emits; the alarm watches
//! `AuthenticDeliveries` of the receiver for `NoDeliveryAlarmHours` hours;
//! every alarm is in CloudWatch, on the code's metrics and the stack's
//! functions and queues, the refusal alarms on the receiver's refused
//! `Deliveries`.

use super::{aws, deployed};
use gu1_webhook::metrics;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

#[tokio::test]
async fn the_dashboard_reads_the_deployed_functions_and_queues() {
    let Some(stack) = deployed() else { return };
    let name = stack.output("DashboardName");
    assert_eq!(name, stack.stack, "named after the stack");
    assert!(
        stack
            .output("DashboardUrl")
            .ends_with(&format!("#dashboards/dashboard/{name}"))
    );
    let got = aws(&["cloudwatch", "get-dashboard", "--dashboard-name", name]).await;
    let body: serde_json::Value =
        serde_json::from_str(got["DashboardBody"].as_str().expect("a body")).expect("JSON");

    let physical = |id: &str| stack.resources[id].0.clone();
    let functions: BTreeSet<String> = [
        "ReceiverFunction",
        "SweeperFunction",
        "ReconcileFunction",
        "OperatorFunction",
    ]
    .into_iter()
    .map(physical)
    .collect();
    // A queue's physical id is its URL; the metrics name it by its name.
    let queues: BTreeSet<String> = ["OutcomesQueue", "OutcomesDeadLetterQueue"]
        .into_iter()
        .map(|id| physical(id).rsplit('/').next().unwrap().to_owned())
        .collect();
    let mut named = BTreeSet::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        let properties = &widget["properties"];
        if widget["type"] == "log" {
            let group = physical("ReceiverLogs");
            let query = properties["query"].as_str().unwrap();
            assert!(query.starts_with(&format!("SOURCE '{group}'")), "{query}");
            continue;
        }
        for line in properties["metrics"].as_array().expect("metrics") {
            let names: Vec<&str> = line
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            let Some((namespace, rest)) = names.split_first() else {
                continue; // an expression
            };
            let dimensions: Vec<(&str, &str)> = rest[1..].chunks(2).map(|p| (p[0], p[1])).collect();
            if *namespace == metrics::NAMESPACE {
                assert!(
                    metrics::ALL.contains(&rest[0]),
                    "{} is no metric of the code",
                    rest[0]
                );
            }
            for (dimension, value) in dimensions {
                let known = match dimension {
                    "FunctionName" => functions.contains(value),
                    "QueueName" => queues.contains(value),
                    _ => true,
                };
                assert!(
                    known,
                    "{}: {dimension} {value} is none of the stack's",
                    properties["title"]
                );
                named.insert(value.to_owned());
            }
        }
    }
    for resource in functions.iter().chain(&queues) {
        assert!(
            named.contains(resource),
            "the dashboard shows nothing of {resource}"
        );
    }
}

#[tokio::test]
async fn no_delivery_alarm_watches_authentic_deliveries_of_the_receiver() {
    let Some(stack) = deployed() else { return };
    let hours = &stack.parameters["NoDeliveryAlarmHours"];
    let (alarm, _) = &stack.resources["NoDeliveryAlarm"];
    let got = aws(&["cloudwatch", "describe-alarms", "--alarm-names", alarm]).await;
    let alarm = &got["MetricAlarms"][0];
    assert_eq!(alarm["Namespace"], metrics::NAMESPACE);
    assert_eq!(alarm["MetricName"], metrics::AUTHENTIC_DELIVERIES);
    assert_eq!(
        alarm["Dimensions"],
        serde_json::json!([{"Name": "FunctionName", "Value": stack.resources["ReceiverFunction"].0}])
    );
    assert_eq!(alarm["EvaluationPeriods"].to_string(), *hours);
    assert_eq!(alarm["Period"], 3600);
    assert_eq!(alarm["TreatMissingData"], "breaching");
    assert_eq!(alarm["ComparisonOperator"], "LessThanThreshold");
}

/// Every alarm of the stack is in CloudWatch; each on the code's namespace
/// watches a metric the code emits, each on a function or queue names one
/// of the stack's; the refusal alarms count the receiver's `Deliveries` of
/// their `Result` against `RefusedDeliveriesAlarmThreshold`.
#[tokio::test]
async fn every_alarm_is_in_cloudwatch_on_the_code_s_metrics() {
    let Some(stack) = deployed() else { return };
    println!(); // after the harness's "test ... " line
    let mut alarms: Vec<(&String, &String)> = stack
        .resources
        .iter()
        .filter(|(_, (_, kind))| kind == "AWS::CloudWatch::Alarm")
        .map(|(id, (name, _))| (id, name))
        .collect();
    alarms.sort();
    let mut args = vec!["cloudwatch", "describe-alarms", "--alarm-names"];
    args.extend(alarms.iter().map(|(_, name)| name.as_str()));
    let got = aws(&args).await;
    let described: HashMap<&str, &Value> = got["MetricAlarms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|alarm| (alarm["AlarmName"].as_str().unwrap_or_default(), alarm))
        .collect();
    let physical = |id: &str| stack.resources[id].0.clone();
    let functions = [
        "ReceiverFunction",
        "SweeperFunction",
        "ReconcileFunction",
        "OperatorFunction",
    ];
    let functions: BTreeSet<String> = functions.into_iter().map(physical).collect();
    let queues: BTreeSet<String> = ["OutcomesQueue", "OutcomesDeadLetterQueue", "ReviewsQueue"]
        .into_iter()
        .map(|id| physical(id).rsplit('/').next().unwrap().to_owned())
        .collect();

    for (id, name) in &alarms {
        let alarm = described
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{id} ({name}) is not in CloudWatch"));
        if alarm["Namespace"] == metrics::NAMESPACE {
            let metric = alarm["MetricName"].as_str().unwrap_or_default();
            assert!(
                metrics::ALL.contains(&metric),
                "{id}: {metric} is no metric of the code"
            );
        }
        for dimension in alarm["Dimensions"].as_array().into_iter().flatten() {
            let value = dimension["Value"].as_str().unwrap_or_default().to_owned();
            let known = match dimension["Name"].as_str() {
                Some("FunctionName") => functions.contains(&value),
                Some("QueueName") => queues.contains(&value),
                _ => true,
            };
            assert!(known, "{id}: {dimension} is none of the stack's");
        }
    }
    let threshold: f64 = stack.parameters["RefusedDeliveriesAlarmThreshold"]
        .parse()
        .expect("a number");
    let receiver = physical("ReceiverFunction");
    for (id, result) in [
        ("SignatureRefusalsAlarm", "rejected_signature"),
        ("UnreadableDeliveriesAlarm", "bad_request"),
    ] {
        let alarm = described[physical(id).as_str()];
        assert_eq!(
            (&alarm["Namespace"], &alarm["MetricName"]),
            (&json!(metrics::NAMESPACE), &json!(metrics::DELIVERIES)),
            "{id}"
        );
        let dimensions: BTreeSet<String> = alarm["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                format!(
                    "{}={}",
                    d["Name"].as_str().unwrap(),
                    d["Value"].as_str().unwrap()
                )
            })
            .collect();
        let expected = [
            format!("FunctionName={receiver}"),
            format!("Result={result}"),
        ];
        assert_eq!(dimensions, BTreeSet::from(expected), "{id}");
        assert_eq!(alarm["Threshold"].as_f64(), Some(threshold), "{id}");
    }
    println!(
        "   {} alarms in CloudWatch, on the code's metrics and the stack's functions and queues",
        alarms.len()
    );
}
