//! The dashboard and the no-delivery alarm as CloudFormation made them: the
//! dashboard's body names the deployed functions and queues (its `${...}`
//! resolved, the reconciliation widgets there, as deploy-test deploys with
//! reconciliation) and only metrics the code emits; the alarm watches
//! `AuthenticDeliveries` of the receiver for `NoDeliveryAlarmHours` hours.

use super::{aws, deployed};
use gu1_webhook::metrics;
use std::collections::BTreeSet;

const CODE_METRICS: [&str; 8] = [
    metrics::DELIVERIES,
    metrics::AUTHENTIC_DELIVERIES,
    metrics::OUTCOMES_PUBLISHED,
    metrics::PUBLISH_FAILURES,
    metrics::UNPUBLISHED_OUTCOMES,
    metrics::RECONCILED,
    metrics::IDENTITY_CONFLICTS,
    metrics::OUTCOME_LATENCY,
];

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
    let functions: BTreeSet<String> = ["ReceiverFunction", "SweeperFunction", "ReconcileFunction"]
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
                    CODE_METRICS.contains(&rest[0]),
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
