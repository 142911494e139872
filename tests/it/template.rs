//! The deployment wiring no other test can see: `template.yaml` checked
//! against the names the code uses. Each test fails if the template and the
//! code drift apart (a renamed variable, index, route or handler).
//!
//! CloudFormation short tags (`!Ref`, `!GetAtt`, `!Sub`, `!If`, ...) parse as
//! `serde_yaml::Value::Tagged`; [`intrinsic`] reads them and their long forms
//! (`Ref:`, `Fn::If:`, ...) alike.

use gu1_webhook::decide::Verdict;
use gu1_webhook::{config, delivery, metrics, store};
use serde_yaml::Value;
use std::collections::BTreeSet;

/// Variables only the sweeper reads.
const SWEEPER_VARS: [&str; 2] = [config::SWEEP_GRACE_VAR, config::SWEEP_PAGE_SIZE_VAR];
/// The handler name that makes the binary run the sweeper (`_HANDLER`).
const SWEEP_HANDLER: &str = config::SWEEP_HANDLER;
/// The keys of the unpublished-outcomes index.
const PENDING_ATTR: &str = store::PENDING_ATTR;
const TERMINAL_AT_ATTR: &str = store::TERMINAL_AT_ATTR;
/// API Gateway gives up on an integration after 30 s.
const API_GATEWAY_TIMEOUT_SECS: u64 = 30;

// ------------------------------------------------------------------ helpers

fn template() -> Value {
    serde_yaml::from_str(include_str!("../../template.yaml")).expect("template.yaml is valid YAML")
}

/// `map[key]`, looking through tags; `None` if absent.
fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    untag(value).as_mapping()?.get(key)
}

/// `value[k1][k2]...`, panicking with the path when something is missing.
fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |v, key| {
        get(v, key).unwrap_or_else(|| panic!("template has no {}", path.join(".")))
    })
}

fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    }
}

/// A CloudFormation intrinsic as (`"Ref"` | `"If"` | `"Sub"` | ..., argument),
/// from either `!If [...]` or `Fn::If: [...]`.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => Some((
            tagged.tag.to_string().trim_start_matches('!').into(),
            &tagged.value,
        )),
        Value::Mapping(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next()?;
            let key = key.as_str()?;
            let name = key.strip_prefix("Fn::").or((key == "Ref").then_some(key))?;
            Some((name.into(), arg))
        }
        _ => None,
    }
}

/// A scalar as text (`true`, `60`, `fifo`), for comparisons.
fn text(value: &Value) -> String {
    match untag(value) {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("expected a scalar, found {other:?}"),
    }
}

fn list(value: &Value) -> &[Value] {
    untag(value).as_sequence().map_or(&[], Vec::as_slice)
}

/// The resource a `!Ref` names.
fn ref_target(value: &Value) -> Option<String> {
    match intrinsic(value)? {
        (name, arg) if name == "Ref" => Some(text(arg)),
        _ => None,
    }
}

fn resources_of_type<'a>(t: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    let resources = at(t, &["Resources"])
        .as_mapping()
        .expect("Resources is a map");
    resources
        .iter()
        .filter(|(_, r)| get(r, "Type").map(text).as_deref() == Some(kind))
        .map(|(name, r)| (text(name), r))
        .collect()
}

/// The one function with an event of `event_type` (`HttpApi`, `Schedule`).
fn function_with_event<'a>(t: &'a Value, event_type: &str) -> &'a Value {
    let matching: Vec<_> = resources_of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, f)| {
            events(f)
                .iter()
                .any(|e| text(at(e, &["Type"])) == event_type)
        })
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "exactly one function has a {event_type} event"
    );
    matching[0].1
}

fn receiver(t: &Value) -> &Value {
    function_with_event(t, "HttpApi")
}

fn sweeper(t: &Value) -> &Value {
    function_with_handler(t, config::SWEEP_HANDLER)
}

fn reconciler(t: &Value) -> &Value {
    function_with_handler(t, config::RECONCILE_HANDLER)
}

fn function_with_handler<'a>(t: &'a Value, handler: &str) -> &'a Value {
    resources_of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .find(|(_, f)| text(at(f, &["Properties", "Handler"])) == handler)
        .unwrap_or_else(|| panic!("no function with handler {handler}"))
        .1
}

fn events(function: &Value) -> Vec<&Value> {
    get(at(function, &["Properties"]), "Events")
        .and_then(Value::as_mapping)
        .map_or_else(Vec::new, |m| m.values().collect())
}

/// A function property, falling back to `Globals.Function`.
fn function_property<'a>(t: &'a Value, function: &'a Value, name: &str) -> Option<&'a Value> {
    get(at(function, &["Properties"]), name).or_else(|| get(at(t, &["Globals", "Function"]), name))
}

/// The environment a function sees: `Globals.Function` merged with its own.
fn env_vars<'a>(t: &'a Value, function: &'a Value) -> Vec<(String, &'a Value)> {
    let globals = get(t, "Globals").and_then(|g| get(g, "Function"));
    [globals, Some(at(function, &["Properties"]))]
        .into_iter()
        .flatten()
        .filter_map(|props| get(props, "Environment").and_then(|e| get(e, "Variables")))
        .filter_map(|vars| untag(vars).as_mapping())
        .flat_map(|vars| vars.iter().map(|(k, v)| (text(k), v)))
        .collect()
}

fn env_names(t: &Value, function: &Value) -> BTreeSet<String> {
    env_vars(t, function)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

fn env_ref(t: &Value, function: &Value, name: &str) -> Option<String> {
    env_vars(t, function)
        .into_iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| ref_target(v))
}

/// Whether a named condition holds when every parameter has its default.
fn condition_holds(t: &Value, name: &str) -> bool {
    evaluate(t, at(t, &["Conditions", name]))
}

fn evaluate(t: &Value, condition: &Value) -> bool {
    let (function, args) = intrinsic(condition).expect("a condition is an intrinsic");
    let args = list(args);
    match function.as_str() {
        "Equals" => resolve_scalar(t, &args[0]) == resolve_scalar(t, &args[1]),
        "Not" => !evaluate(t, &args[0]),
        "Or" => args.iter().any(|c| evaluate(t, c)),
        "And" => args.iter().all(|c| evaluate(t, c)),
        "Condition" => condition_holds(t, &text(condition)),
        other => panic!("unsupported condition function {other}"),
    }
}

/// A literal, or a parameter's default.
fn resolve_scalar(t: &Value, value: &Value) -> String {
    match ref_target(value) {
        Some(parameter) => text(at(t, &["Parameters", &parameter, "Default"])),
        None => text(value),
    }
}

/// Picks the branch of `!If` the default parameters select; other values
/// pass through.
fn with_defaults<'a>(t: &Value, value: &'a Value) -> &'a Value {
    match intrinsic(value) {
        Some((name, args)) if name == "If" => {
            let args = list(args);
            let branch = if condition_holds(t, &text(&args[0])) {
                &args[1]
            } else {
                &args[2]
            };
            with_defaults(t, branch)
        }
        _ => value,
    }
}

/// A `!Sub` string, or a plain string.
fn sub_text(value: &Value) -> String {
    match intrinsic(value) {
        Some((name, arg)) if name == "Sub" => text(arg),
        _ => text(value),
    }
}

/// Every IAM statement of a function's inline policies, both branches of
/// any `!If` included.
fn statements(function: &Value) -> Vec<&Value> {
    let policies = list(at(function, &["Properties", "Policies"]));
    policies
        .iter()
        .flat_map(|policy| {
            let body = get(policy, "Statement")
                .unwrap_or_else(|| panic!("only inline Statement policies, found {policy:?}"));
            list(body).iter().flat_map(if_branches)
        })
        .collect()
}

fn if_branches(value: &Value) -> Vec<&Value> {
    match intrinsic(value) {
        Some((name, args)) if name == "If" => {
            list(args)[1..].iter().flat_map(if_branches).collect()
        }
        Some((name, _)) if name == "Ref" => Vec::new(), // AWS::NoValue
        _ => vec![value],
    }
}

fn actions(statement: &Value) -> Vec<String> {
    let action = at(statement, &["Action"]);
    match untag(action) {
        Value::Sequence(items) => items.iter().map(text).collect(),
        _ => vec![text(action)],
    }
}

/// Every DynamoDB action a function may call, with the resource it may call it on.
fn dynamodb_grants(function: &Value) -> Vec<(String, &Value)> {
    statements(function)
        .into_iter()
        .flat_map(|s| {
            actions(s)
                .into_iter()
                .map(move |a| (a, at(s, &["Resource"])))
        })
        .filter(|(action, _)| action.starts_with("dynamodb:"))
        .collect()
}

/// Every string inside a value, tags and nested intrinsics included.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Tagged(tagged) => strings(&tagged.value),
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        Value::Mapping(map) => map
            .iter()
            .flat_map(|(k, v)| [strings(k), strings(v)].concat())
            .collect(),
        _ => Vec::new(),
    }
}

fn table(t: &Value) -> &Value {
    let tables = resources_of_type(t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "one DynamoDB table");
    tables[0].1
}

/// The outcomes queue: the queue with a redrive policy (the other is its DLQ).
fn outcomes_queue(t: &Value) -> (String, &Value) {
    let queues: Vec<_> = resources_of_type(t, "AWS::SQS::Queue")
        .into_iter()
        .filter(|(_, q)| get(at(q, &["Properties"]), "RedrivePolicy").is_some())
        .collect();
    assert_eq!(queues.len(), 1, "one queue with a dead-letter queue");
    queues[0].clone()
}

/// The resource a queue's `RedrivePolicy.deadLetterTargetArn` (`!GetAtt X.Arn`) names.
fn dead_letter_target(queue_props: &Value) -> String {
    let target = at(queue_props, &["RedrivePolicy", "deadLetterTargetArn"]);
    match intrinsic(target) {
        // `!GetAtt X.Arn` or `Fn::GetAtt: [X, Arn]`
        Some((name, arg)) if name == "GetAtt" => match untag(arg) {
            Value::Sequence(parts) => text(&parts[0]),
            other => text(other).split('.').next().unwrap_or_default().to_owned(),
        },
        _ => panic!("deadLetterTargetArn should be !GetAtt <queue>.Arn"),
    }
}

fn key_schema(value: &Value) -> Vec<(String, String)> {
    list(at(value, &["KeySchema"]))
        .iter()
        .map(|k| (text(at(k, &["AttributeName"])), text(at(k, &["KeyType"]))))
        .collect()
}

fn attribute_type(table: &Value, attribute: &str) -> String {
    list(at(table, &["Properties", "AttributeDefinitions"]))
        .iter()
        .find(|d| text(at(d, &["AttributeName"])) == attribute)
        .map(|d| text(at(d, &["AttributeType"])))
        .unwrap_or_else(|| panic!("no attribute definition for {attribute}"))
}

fn pair(name: &str, kind: &str) -> (String, String) {
    (name.into(), kind.into())
}

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

fn resource_name(t: &Value, wanted: &Value) -> String {
    resources_of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .find(|(_, f)| std::ptr::eq(*f, wanted))
        .map(|(name, _)| name)
        .expect("function is a resource")
}

fn default_number(t: &Value, parameter: &str) -> u64 {
    text(at(t, &["Parameters", parameter, "Default"]))
        .parse()
        .expect("a number")
}

// ------------------------------------------------------------------ tests

#[test]
fn functions_set_only_variables_the_binary_reads() {
    let t = template();
    let known: BTreeSet<String> = config::ALL_VARS
        .iter()
        .chain(&["RUST_LOG"])
        .map(|v| v.to_string())
        .collect();
    for (name, function) in resources_of_type(&t, "AWS::Serverless::Function") {
        let unknown: Vec<_> = env_names(&t, function)
            .difference(&known)
            .cloned()
            .collect();
        assert!(
            unknown.is_empty(),
            "{name} sets variables the binary never reads: {unknown:?}"
        );
    }
}

#[test]
fn only_the_receiver_reads_the_secret_and_both_find_table_and_queue() {
    let t = template();
    let table_name = resources_of_type(&t, "AWS::DynamoDB::Table")[0].0.clone();
    let (queue_name, _) = outcomes_queue(&t);
    assert_eq!(
        env_ref(&t, receiver(&t), config::SECRETS_ARN_VAR).as_deref(),
        Some("WebhookSecretArn")
    );
    // The sweeper never verifies a delivery: no secret, no way to read it.
    let sweeper_env = env_names(&t, sweeper(&t));
    assert!(!sweeper_env.contains(config::SECRETS_ARN_VAR));
    let sweeper_actions: Vec<String> = statements(sweeper(&t))
        .into_iter()
        .flat_map(actions)
        .collect();
    assert!(
        sweeper_actions
            .iter()
            .all(|a| !a.starts_with("secretsmanager:")),
        "{sweeper_actions:?}"
    );
    for function in [receiver(&t), sweeper(&t)] {
        let name = resource_name(&t, function);
        let env = env_names(&t, function);
        assert!(
            !env.contains(config::SECRETS_VAR),
            "{name} must never carry plaintext secrets"
        );
        assert_eq!(
            env_ref(&t, function, config::TABLE_VAR),
            Some(table_name.clone()),
            "{name}"
        );
        assert_eq!(
            env_ref(&t, function, config::QUEUE_VAR),
            Some(queue_name.clone()),
            "{name}"
        );
    }
    assert!(
        SWEEPER_VARS.iter().all(|v| sweeper_env.contains(*v)),
        "sweeper sets {SWEEPER_VARS:?}"
    );
}

#[test]
fn sessions_table_matches_the_store() {
    let t = template();
    let table = table(&t);
    assert_eq!(
        key_schema(at(table, &["Properties"])),
        [pair(store::KEY, "HASH")]
    );
    assert_eq!(attribute_type(table, store::KEY), "S");

    let indexes = list(at(table, &["Properties", "GlobalSecondaryIndexes"]));
    let index = indexes
        .iter()
        .find(|i| text(at(i, &["IndexName"])) == store::UNPUBLISHED_INDEX)
        .unwrap_or_else(|| panic!("no index named {}", store::UNPUBLISHED_INDEX));
    assert_eq!(
        key_schema(index),
        [pair(PENDING_ATTR, "HASH"), pair(TERMINAL_AT_ATTR, "RANGE")]
    );
    assert_eq!(attribute_type(table, PENDING_ATTR), "S");
    assert_eq!(attribute_type(table, TERMINAL_AT_ATTR), "N");
}

#[test]
fn default_queue_is_fifo_with_explicit_deduplication() {
    let t = template();
    assert_eq!(
        text(at(&t, &["Parameters", "QueueType", "Default"])),
        "fifo"
    );
    let (_, queue) = outcomes_queue(&t);
    let props = at(queue, &["Properties"]);
    let property = |name| text(with_defaults(&t, at(props, &[name])));
    assert_eq!(property("FifoQueue"), "true");
    // The publisher sends MessageDeduplicationId = sessionId:status.
    assert_eq!(property("ContentBasedDeduplication"), "false");
    // High throughput: per message group (the entity, else the session).
    assert_eq!(property("DeduplicationScope"), "messageGroup");
    assert_eq!(property("FifoThroughputLimit"), "perMessageGroupId");
    // The code decides FIFO by the queue URL ending in `.fifo`.
    assert!(sub_text(with_defaults(&t, at(props, &["QueueName"]))).ends_with(".fifo"));

    // A FIFO queue needs a FIFO dead-letter queue.
    let dlq = dead_letter_target(props);
    let dlq_props = at(&t, &["Resources", &dlq, "Properties"]);
    assert_eq!(
        text(with_defaults(&t, at(dlq_props, &["FifoQueue"]))),
        "true"
    );
}

#[test]
fn the_one_route_is_the_path_the_code_serves() {
    let t = template();
    let routes: Vec<_> = resources_of_type(&t, "AWS::Serverless::Function")
        .into_iter()
        .flat_map(|(_, f)| events(f))
        .filter(|e| text(at(e, &["Type"])) == "HttpApi")
        .collect();
    assert_eq!(routes.len(), 1, "exactly one route");
    assert_eq!(
        text(at(routes[0], &["Properties", "Path"])),
        delivery::WEBHOOK_PATH
    );
    assert_eq!(
        text(at(routes[0], &["Properties", "Method"])).to_uppercase(),
        "POST"
    );

    // The code compares the path exactly: only the $default stage passes it unprefixed.
    for (name, api) in resources_of_type(&t, "AWS::Serverless::HttpApi") {
        let stage = get(at(api, &["Properties"]), "StageName").map(text);
        assert!(
            matches!(stage.as_deref(), None | Some("$default")),
            "{name} must use the $default stage"
        );
    }
}

#[test]
fn both_functions_run_the_one_binary_with_the_right_handler() {
    let t = template();
    assert_eq!(
        text(function_property(&t, receiver(&t), "Handler").unwrap()),
        "bootstrap"
    );
    assert_eq!(
        text(function_property(&t, sweeper(&t), "Handler").unwrap()),
        SWEEP_HANDLER
    );
    for function in [receiver(&t), sweeper(&t), reconciler(&t)] {
        assert_eq!(
            text(at(function, &["Metadata", "BuildMethod"])),
            "rust-cargolambda"
        );
        // The crate's one binary has the package's name.
        assert_eq!(
            text(at(function, &["Metadata", "BuildProperties", "Binary"])),
            env!("CARGO_PKG_NAME")
        );
    }
    // Same metadata: SAM builds the binary once for all.
    for other in [sweeper(&t), reconciler(&t)] {
        assert_eq!(at(receiver(&t), &["Metadata"]), at(other, &["Metadata"]));
    }
}

#[test]
fn timeouts_and_sweeper_defaults_agree_with_the_code() {
    let t = template();
    let timeout: u64 = text(function_property(&t, receiver(&t), "Timeout").unwrap())
        .parse()
        .unwrap();
    assert!(
        timeout > gu1_webhook::limits::DELIVERY_DEADLINE.as_secs(),
        "the receiver must outlive its own deadline"
    );
    assert!(
        timeout < API_GATEWAY_TIMEOUT_SECS,
        "the receiver must finish before API Gateway gives up"
    );

    assert_eq!(
        default_number(&t, "SweepGraceSeconds"),
        config::DEFAULT_SWEEP_GRACE.as_secs()
    );
    assert_eq!(
        default_number(&t, "SweepPageSize"),
        config::DEFAULT_SWEEP_PAGE_SIZE as u64
    );
    let min_grace: u64 = text(at(&t, &["Parameters", "SweepGraceSeconds", "MinValue"]))
        .parse()
        .unwrap();
    assert!(
        u128::from(min_grace) * 1000 >= gu1_webhook::limits::PUBLISH_LEASE.as_millis(),
        "the grace period must outlast the publish lease"
    );
}

#[test]
fn iam_grants_only_what_the_code_calls_on_named_resources() {
    let t = template();
    for (name, function) in resources_of_type(&t, "AWS::Serverless::Function") {
        for statement in statements(function) {
            for resource in strings(at(statement, &["Resource"])) {
                assert!(
                    !resource.contains('*'),
                    "{name} grants a wildcard resource: {resource}"
                );
            }
            for action in actions(statement) {
                assert!(
                    !action.contains('*'),
                    "{name} grants a wildcard action: {action}"
                );
            }
        }
    }
    let receiver_dynamodb: Vec<_> = dynamodb_grants(receiver(&t))
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(receiver_dynamodb, ["dynamodb:UpdateItem"]);

    // The sweeper queries the sparse index, and only it.
    let query = dynamodb_grants(sweeper(&t))
        .into_iter()
        .find(|(action, _)| action == "dynamodb:Query")
        .expect("the sweeper may query the index")
        .1;
    assert!(sub_text(query).ends_with(&format!("/index/{}", store::UNPUBLISHED_INDEX)));

    // Reconciliation queries the stale-sessions index, and reads the API
    // key's secret, never the webhook secret.
    let reconcile = reconciler(&t);
    let query = dynamodb_grants(reconcile)
        .into_iter()
        .find(|(action, _)| action == "dynamodb:Query")
        .expect("reconciliation may query the index")
        .1;
    assert!(sub_text(query).ends_with(&format!("/index/{}", store::STALE_INDEX)));
    let secrets: Vec<String> = statements(reconcile)
        .into_iter()
        .filter(|s| actions(s).iter().any(|a| a.starts_with("secretsmanager:")))
        .flat_map(|s| strings(at(s, &["Resource"])))
        .collect();
    assert_eq!(secrets, ["Gu1ApiKeySecretArn"]);
    assert_eq!(
        env_ref(&t, reconcile, config::API_KEY_ARN_VAR).as_deref(),
        Some("Gu1ApiKeySecretArn")
    );
    assert_eq!(
        text(at(reconcile, &["Condition"])),
        "HasReconcile",
        "no reconciliation without an API key"
    );
}

#[test]
fn metric_alarms_watch_what_the_code_emits() {
    let t = template();
    let conflicts = alarm_with_metric(&t, metrics::DELIVERIES);
    assert_eq!(
        text(at(conflicts, &["Properties", "Namespace"])),
        metrics::NAMESPACE
    );
    let receiver = format!("Ref:{}", resource_name(&t, receiver(&t)));
    assert_eq!(
        dimensions(conflicts),
        BTreeSet::from([
            pair("FunctionName", &receiver),
            pair("Result", Verdict::Conflict.as_str())
        ])
    );

    let unpublished = alarm_with_metric(&t, metrics::UNPUBLISHED_OUTCOMES);
    assert_eq!(
        text(at(unpublished, &["Properties", "Namespace"])),
        metrics::NAMESPACE
    );
    let sweeper = format!("Ref:{}", resource_name(&t, sweeper(&t)));
    assert_eq!(
        dimensions(unpublished),
        BTreeSet::from([pair("FunctionName", &sweeper)])
    );

    // The code also declares every metric per function alone (see metrics.rs).
    let failures = alarm_with_metric(&t, metrics::PUBLISH_FAILURES);
    assert_eq!(
        text(at(failures, &["Properties", "Namespace"])),
        metrics::NAMESPACE
    );
    assert_eq!(
        dimensions(failures),
        BTreeSet::from([pair("FunctionName", &receiver)])
    );

    // Identity conflicts: one alarm per function that emits them.
    let reconcile = format!("Ref:{}", resource_name(&t, reconciler(&t)));
    let watched: BTreeSet<_> = resources_of_type(&t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, a)| a)
        .filter(|a| text(at(a, &["Properties", "MetricName"])) == metrics::IDENTITY_CONFLICTS)
        .inspect(|a| {
            assert_eq!(
                text(at(a, &["Properties", "Namespace"])),
                metrics::NAMESPACE
            )
        })
        .flat_map(dimensions)
        .collect();
    assert_eq!(
        watched,
        BTreeSet::from([
            pair("FunctionName", &receiver),
            pair("FunctionName", &reconcile)
        ])
    );
}
