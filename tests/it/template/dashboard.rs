//! The dashboard reads only what exists: every `Gu1Webhook` metric under a
//! name the code exports and the dimensions its EMF lines carry (each by
//! `FunctionName`, of a function that emits it, and by the `Result` or
//! `Status` it is emitted with), every AWS metric of one of the stack's
//! functions or queues, and the receiver's `platform.report` log records.
//! The reconciliation widgets exist only with reconciliation.

use super::resources::*;
use super::widgets::{Line, dashboard, lines, widgets};
use super::yaml::*;
use gu1_webhook::decide::Verdict;
use gu1_webhook::metrics;
use gu1_webhook::respond::{Accepted, Rejection};
use gu1_webhook::session::SessionStatus;
use gu1_webhook::verify::SignatureError;
use serde_json::Value as Json;
use serde_yaml::Value;
use std::collections::BTreeSet;

/// The results the receiver emits `Deliveries` with in Lambda (API Gateway
/// answers other paths and methods itself; the body timeout is `serve`'s).
fn delivery_results() -> BTreeSet<&'static str> {
    let beyond = Accepted::BeyondRetention {
        session_id: String::new(),
    };
    let rejections = [
        Rejection::Signature(SignatureError::Mismatch),
        Rejection::UnreadableBody,
        Rejection::TooLarge,
        Rejection::Timeout,
    ];
    Verdict::ALL
        .map(Verdict::as_str)
        .into_iter()
        .chain([Accepted::Ignored.result(), beyond.result()])
        .chain(rejections.iter().map(Rejection::result))
        .collect()
}

/// What the code emits under each `Gu1Webhook` name: its second dimension
/// and values, and the functions (logical ids) that emit it.
fn emitted(
    t: &Value,
    metric: &str,
) -> (Option<(&'static str, BTreeSet<&'static str>)>, Vec<String>) {
    let id = |f: &Value| resource_name(t, f);
    let (receiver, sweeper, reconcile) = (id(receiver(t)), id(sweeper(t)), id(reconciler(t)));
    let statuses: BTreeSet<&str> = SessionStatus::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .map(SessionStatus::as_str)
        .collect();
    let every = vec![receiver.clone(), sweeper.clone(), reconcile.clone()];
    match metric {
        metrics::DELIVERIES => (Some(("Result", delivery_results())), vec![receiver]),
        metrics::AUTHENTIC_DELIVERIES => (None, vec![receiver]),
        metrics::OUTCOMES_PUBLISHED
        | metrics::REVIEWS_PUBLISHED
        | metrics::PUBLISH_FAILURES
        | metrics::OUTCOME_LATENCY => (Some(("Status", statuses)), every),
        metrics::UNPUBLISHED_OUTCOMES => (None, vec![sweeper]),
        // metrics::reconciled's results.
        metrics::RECONCILED => (
            Some((
                "Result",
                BTreeSet::from(["applied", "unchanged", "not_found", "failed"]),
            )),
            vec![reconcile],
        ),
        metrics::IDENTITY_CONFLICTS => (None, vec![receiver, reconcile]),
        other => panic!("the dashboard reads Gu1Webhook {other}, which the code never emits"),
    }
}

/// Durations, the only metrics a percentile means something for.
const MILLISECONDS: [&str; 2] = [metrics::OUTCOME_LATENCY, "Duration"];

fn check_line(t: &Value, widget: &Json, line: &Line) {
    let title = &widget["properties"]["title"];
    let resources = |kind: &str| -> BTreeSet<String> {
        resources_of_type(t, kind)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    };
    let functions = resources("AWS::Serverless::Function");
    let names: BTreeSet<&str> = line.dimensions.keys().map(String::as_str).collect();
    match line.namespace.as_str() {
        metrics::NAMESPACE => {
            let (second, emitters) = emitted(t, &line.name);
            let function = &line.dimensions["FunctionName"];
            assert!(
                emitters.iter().any(|e| *function == format!("Ref:{e}")),
                "{title}: {} is emitted by {emitters:?}, not {function}",
                line.name
            );
            match second {
                Some((dimension, values)) if names.len() == 2 => {
                    assert_eq!(
                        names,
                        BTreeSet::from(["FunctionName", dimension]),
                        "{title}"
                    );
                    let value = line.dimensions[dimension].as_str();
                    assert!(
                        values.contains(value),
                        "{title}: {} has no {dimension} {value} (the code emits {values:?})",
                        line.name
                    );
                }
                _ => assert_eq!(names, BTreeSet::from(["FunctionName"]), "{title}"),
            }
        }
        "AWS/Lambda" => {
            assert!(
                ["Errors", "Throttles", "Duration", "Invocations"].contains(&line.name.as_str())
            );
            assert_eq!(names, BTreeSet::from(["FunctionName"]), "{title}");
            let function = line.dimensions["FunctionName"].strip_prefix("Ref:");
            assert!(
                function.is_some_and(|f| functions.contains(f)),
                "{title}: {line:?}"
            );
        }
        "AWS/SQS" => {
            let sqs = [
                "ApproximateNumberOfMessagesVisible",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateAgeOfOldestMessage",
            ];
            assert!(sqs.contains(&line.name.as_str()), "{title}: {line:?}");
            assert_eq!(names, BTreeSet::from(["QueueName"]), "{title}");
            let queue = line.dimensions["QueueName"]
                .strip_prefix("GetAtt:")
                .and_then(|q| q.strip_suffix(".QueueName"));
            assert!(
                queue.is_some_and(|q| resources("AWS::SQS::Queue").contains(q)),
                "{title}: {line:?}"
            );
        }
        other => panic!("{title}: namespace {other} is none the stack's"),
    }
    let stat = line.options["stat"]
        .as_str()
        .or(widget["properties"]["stat"].as_str())
        .unwrap_or_else(|| panic!("{title}: {line:?} has no statistic"));
    if let Some(percentile) = stat.strip_prefix('p') {
        assert!(percentile.parse::<f64>().is_ok(), "{title}: {stat}");
        assert!(
            MILLISECONDS.contains(&line.name.as_str()),
            "{title}: {stat} of a count"
        );
    } else {
        assert!(
            ["Sum", "Maximum", "Minimum", "Average", "SampleCount"].contains(&stat),
            "{stat}"
        );
    }
}

/// The log group a log widget reads (`SOURCE '${Group}'`): one a function
/// logs to in JSON, where Lambda's report is a `platform.report` record.
fn check_log_widget(t: &Value, widget: &Json) {
    let query = widget["properties"]["query"].as_str().expect("a query");
    let group = query
        .strip_prefix("SOURCE 'Ref:")
        .and_then(|q| q.split_once('\''))
        .map(|(group, _)| group)
        .unwrap_or_else(|| panic!("a query on one of the stack's log groups: {query}"));
    let logging = resources_of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .filter_map(|(_, f)| get(at(f, &["Properties"]), "LoggingConfig"))
        .find(|l| ref_target(at(l, &["LogGroup"])).as_deref() == Some(group))
        .unwrap_or_else(|| panic!("no function logs to {group}"));
    assert_eq!(text(at(logging, &["LogFormat"])), "JSON");
    assert!(
        query.contains("filter type = \"platform.report\""),
        "{query}"
    );
}

#[test]
fn the_dashboard_reads_only_metrics_the_stack_emits() {
    let t = template();
    let (_, dashboard) = dashboard(&t);
    let name = at(dashboard, &["Properties", "DashboardName"]);
    assert_eq!(ref_target(name).as_deref(), Some("AWS::StackName"));

    for with_reconcile in [false, true] {
        let widgets = widgets(&t, with_reconcile);
        let mut read = BTreeSet::new();
        for widget in &widgets {
            let properties = &widget["properties"];
            let (x, width) = (
                widget["x"].as_u64().unwrap(),
                widget["width"].as_u64().unwrap(),
            );
            assert!(
                x + width <= 24,
                "{}: within the 24 columns",
                properties["title"]
            );
            if widget["type"] == "log" {
                check_log_widget(&t, widget);
                continue;
            }
            assert_eq!(widget["type"], "metric");
            let (lines, expressions) = lines(widget);
            let ids: BTreeSet<&str> = lines
                .iter()
                .filter_map(|l| l.options["id"].as_str())
                .collect();
            for (id, expression) in &expressions {
                let names = expression.split(|c: char| !c.is_alphanumeric() && c != '_');
                for name in names.filter(|n| n.starts_with(|c: char| c.is_ascii_lowercase())) {
                    assert!(
                        ids.contains(name),
                        "{id}: {expression} reads {name}, no metric of its widget"
                    );
                }
            }
            for line in &lines {
                check_line(&t, widget, line);
                read.insert((line.namespace.clone(), line.name.clone()));
                let reconcile = format!("Ref:{}", resource_name(&t, reconciler(&t)));
                assert!(
                    with_reconcile || !line.dimensions.values().any(|v| *v == reconcile),
                    "the reconcile function exists only with reconciliation"
                );
            }
        }
        if with_reconcile {
            let ours: BTreeSet<&str> = read
                .iter()
                .filter(|(ns, _)| ns == metrics::NAMESPACE)
                .map(|(_, name)| name.as_str())
                .collect();
            assert_eq!(
                ours,
                BTreeSet::from(metrics::ALL),
                "every metric the code emits"
            );
        }
    }
}

/// What the issue asks to see, each on the dashboard under the defaults.
#[test]
fn the_dashboard_shows_deliveries_outcomes_queues_and_functions() {
    let t = template();
    let widgets = widgets(&t, false);
    let receiver = format!("Ref:{}", resource_name(&t, receiver(&t)));
    let sweeper = format!("Ref:{}", resource_name(&t, sweeper(&t)));
    let all: Vec<(Json, Line)> = widgets
        .iter()
        .filter(|w| w["type"] == "metric")
        .flat_map(|w| lines(w).0.into_iter().map(move |l| (w.clone(), l)))
        .collect();
    let shown = |namespace: &str, name: &str, dimension: (&str, &str), stat: Option<&str>| {
        all.iter().any(|(w, l)| {
            let line_stat = l.options["stat"]
                .as_str()
                .or(w["properties"]["stat"].as_str());
            l.namespace == namespace
                && l.name == name
                && l.dimensions.get(dimension.0).map(String::as_str) == Some(dimension.1)
                && stat.is_none_or(|s| line_stat == Some(s))
        })
    };
    for result in delivery_results() {
        let result = ("Result", result);
        assert!(
            shown(metrics::NAMESPACE, metrics::DELIVERIES, result, Some("Sum")),
            "{result:?}"
        );
    }
    for stat in ["p50", "p99"] {
        assert!(shown(
            "AWS/Lambda",
            "Duration",
            ("FunctionName", &receiver),
            Some(stat)
        ));
        assert!(shown(
            metrics::NAMESPACE,
            metrics::OUTCOME_LATENCY,
            ("FunctionName", &receiver),
            Some(stat)
        ));
        assert!(shown(
            metrics::NAMESPACE,
            metrics::OUTCOME_LATENCY,
            ("FunctionName", &sweeper),
            Some(stat)
        ));
    }
    assert!(shown(
        metrics::NAMESPACE,
        metrics::UNPUBLISHED_OUTCOMES,
        ("FunctionName", &sweeper),
        None
    ));
    assert!(shown(
        metrics::NAMESPACE,
        metrics::AUTHENTIC_DELIVERIES,
        ("FunctionName", &receiver),
        Some("Sum")
    ));
    for function in [&receiver, &sweeper] {
        assert!(shown(
            metrics::NAMESPACE,
            metrics::OUTCOMES_PUBLISHED,
            ("FunctionName", function),
            Some("Sum")
        ));
    }
    // Every function's failures; reconciliation's in its own widgets.
    let operator = format!("Ref:{}", resource_name(&t, operator(&t)));
    for function in [&receiver, &sweeper, &operator] {
        for name in ["Errors", "Throttles"] {
            assert!(
                shown("AWS/Lambda", name, ("FunctionName", function), Some("Sum")),
                "{name}"
            );
        }
    }
    let (queue, properties) = outcomes_queue(&t);
    let dead_letters = text(at(
        properties,
        &["Properties", "RedrivePolicy", "deadLetterTargetArn"],
    ));
    let dead_letters = dead_letters
        .strip_suffix(".Arn")
        .expect("!GetAtt Queue.Arn");
    let depth = [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    ];
    for (queue, names) in [(queue.as_str(), &depth[..]), (dead_letters, &depth[..1])] {
        for name in names {
            let queue = ("QueueName", format!("GetAtt:{queue}.QueueName"));
            assert!(
                shown("AWS/SQS", name, (queue.0, &queue.1), Some("Maximum")),
                "{queue:?} {name}"
            );
        }
    }

    // The refused share: 401s and 400s over every delivery of the receiver.
    let (lines, expressions) = widgets
        .iter()
        .filter(|w| w["type"] == "metric")
        .map(lines)
        .find(|(_, e)| !e.is_empty())
        .expect("a widget with the refused share");
    let read: BTreeSet<Option<&str>> = expressions[0]
        .1
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter_map(|name| lines.iter().find(|l| l.options["id"] == name))
        .map(|l| {
            assert_eq!(
                (l.name.as_str(), l.dimensions["FunctionName"].as_str()),
                (metrics::DELIVERIES, receiver.as_str())
            );
            l.dimensions.get("Result").map(String::as_str)
        })
        .collect();
    let refused = [
        Rejection::Signature(SignatureError::Mismatch).result(),
        Rejection::UnreadableBody.result(),
    ];
    assert_eq!(
        read,
        BTreeSet::from([Some(refused[0]), Some(refused[1]), None])
    );
    assert!(widgets.iter().any(|w| w["type"] == "log"), "init duration");
}
