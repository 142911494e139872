//! The functions: the variables they set are the ones the binary reads,
//! only the receiver reads the webhook secret, every one keeps items for
//! `RetentionDays`, one route to the path the code serves, one binary with
//! the right handlers, the operator function invoked by operators only, and
//! timeouts and sweeper defaults that agree with the code.

use super::iam::{actions, statements};
use super::resources::*;
use super::yaml::*;
use gu1_webhook::{config, delivery};
use serde_yaml::Value;
use std::collections::BTreeSet;

/// Variables only the sweeper reads.
const SWEEPER_VARS: [&str; 2] = [config::SWEEP_GRACE_VAR, config::SWEEP_PAGE_SIZE_VAR];
/// The handler name that makes the binary run the sweeper (`_HANDLER`).
const SWEEP_HANDLER: &str = config::SWEEP_HANDLER;
/// The parameter every function's `RETENTION_DAYS` comes from.
const RETENTION_PARAMETER: &str = "RetentionDays";
/// API Gateway gives up on an integration after 30 s.
const API_GATEWAY_TIMEOUT_SECS: u64 = 30;

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
    let (reviews_name, _) = reviews_queue(&t);
    assert_eq!(
        env_ref(&t, receiver(&t), config::SECRETS_ARN_VAR).as_deref(),
        Some("WebhookSecretArn")
    );
    // The sweeper and the operator never verify a delivery: no secret, no
    // way to read one.
    let sweeper_env = env_names(&t, sweeper(&t));
    for function in [sweeper(&t), operator(&t)] {
        let name = resource_name(&t, function);
        assert!(!env_names(&t, function).contains(config::SECRETS_ARN_VAR));
        let granted: Vec<String> = statements(function).into_iter().flat_map(actions).collect();
        assert!(
            granted.iter().all(|a| !a.starts_with("secretsmanager:")),
            "{name}: {granted:?}"
        );
    }
    for function in [receiver(&t), sweeper(&t), operator(&t)] {
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
        assert_eq!(
            env_ref(&t, function, config::REVIEWS_QUEUE_VAR),
            Some(reviews_name.clone()),
            "{name}"
        );
    }
    assert!(
        SWEEPER_VARS.iter().all(|v| sweeper_env.contains(*v)),
        "sweeper sets {SWEEPER_VARS:?}"
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
fn every_function_keeps_items_for_the_retention_parameter() {
    let t = template();
    for (name, function) in resources_of_type(&t, "AWS::Serverless::Function") {
        assert_eq!(
            env_ref(&t, function, config::RETENTION_VAR).as_deref(),
            Some(RETENTION_PARAMETER),
            "{name} must expire items, and refuse old replays, as the others do"
        );
    }
    let parameter = at(&t, &["Parameters", RETENTION_PARAMETER]);
    assert_eq!(text(at(parameter, &["Type"])), "Number");
    // Off by default: an upgraded stack deletes nothing it kept before.
    assert_eq!(default_number(&t, RETENTION_PARAMETER), 0);
    // The template's bounds are the ones the binary accepts, and no wider.
    let bound = |name: &str| -> u64 {
        text(at(parameter, &[name]))
            .parse()
            .unwrap_or_else(|_| panic!("{name} is a number"))
    };
    let (min, max) = (bound("MinValue"), bound("MaxValue"));
    for days in [min, max] {
        assert!(
            config::parse_retention_days(&days.to_string()).is_some(),
            "{days} is in the template's range but the binary refuses it"
        );
    }
    for days in [min as i64 - 1, max as i64 + 1] {
        assert_eq!(
            config::parse_retention_days(&days.to_string()),
            None,
            "{days} is out of the template's range but the binary takes it"
        );
    }
    assert_eq!(
        config::parse_retention_days("0"),
        Some(None),
        "0 keeps forever"
    );
    // Offered with the table's other settings.
    let groups = list(at(
        &t,
        &[
            "Metadata",
            "AWS::CloudFormation::Interface",
            "ParameterGroups",
        ],
    ));
    let storage = groups
        .iter()
        .find(|g| {
            list(at(g, &["Parameters"]))
                .iter()
                .any(|p| text(p) == "TableDeletionProtection")
        })
        .expect("a parameter group with the table's settings");
    assert!(
        list(at(storage, &["Parameters"]))
            .iter()
            .any(|p| text(p) == RETENTION_PARAMETER),
        "{RETENTION_PARAMETER} is offered with TableDeletionProtection"
    );
}

#[test]
fn operators_invoke_the_operator_function_and_nothing_else_does() {
    let t = template();
    let operator = operator(&t);
    let name = resource_name(&t, operator);
    // No route, no schedule, no queue: only an operator's invocation runs it,
    // and Lambda never runs a failed command again on its own.
    assert!(events(operator).is_empty(), "{name} has an event source");
    assert_eq!(
        text(at(
            operator,
            &["Properties", "EventInvokeConfig", "MaximumRetryAttempts"]
        )),
        "0"
    );
    // The store and the queues, as the sweeper finds them, and nothing else.
    let wanted: BTreeSet<String> = [
        config::TABLE_VAR,
        config::QUEUE_VAR,
        config::REVIEWS_QUEUE_VAR,
        config::RETENTION_VAR,
        "RUST_LOG",
    ]
    .map(String::from)
    .into();
    assert_eq!(env_names(&t, operator), wanted);
    for var in [
        config::TABLE_VAR,
        config::QUEUE_VAR,
        config::REVIEWS_QUEUE_VAR,
    ] {
        assert_eq!(
            env_ref(&t, operator, var),
            env_ref(&t, sweeper(&t), var),
            "{var}"
        );
    }
    // Its own log group, kept and encrypted as the sweeper's.
    let log_group = |function: &Value| {
        let logging = at(function, &["Properties", "LoggingConfig"]);
        assert_eq!(text(at(logging, &["LogFormat"])), "JSON");
        let group = ref_target(at(logging, &["LogGroup"])).expect("!Ref <log group>");
        at(&t, &["Resources", &group]).clone()
    };
    let (ours, sweepers) = (log_group(operator), log_group(sweeper(&t)));
    assert_eq!(text(at(&ours, &["Type"])), "AWS::Logs::LogGroup");
    assert_ne!(ours, sweepers, "{name} logs to a group of its own");
    for property in ["RetentionInDays", "KmsKeyId"] {
        assert_eq!(
            at(&ours, &["Properties", property]),
            at(&sweepers, &["Properties", property]),
            "{property}"
        );
    }
    // Operators find it by the stack's output.
    assert_eq!(
        ref_target(at(&t, &["Outputs", "OperatorFunctionName", "Value"])),
        Some(name)
    );
}

#[test]
fn every_function_runs_the_one_binary_with_the_right_handler() {
    let t = template();
    assert_eq!(
        text(function_property(&t, receiver(&t), "Handler").unwrap()),
        config::RECEIVER_HANDLER
    );
    assert_eq!(
        text(function_property(&t, sweeper(&t), "Handler").unwrap()),
        SWEEP_HANDLER
    );
    assert_eq!(
        text(function_property(&t, operator(&t), "Handler").unwrap()),
        config::OPERATE_HANDLER
    );
    let functions = resources_of_type(&t, "AWS::Serverless::Function");
    assert_eq!(functions.len(), 4, "receiver, sweeper, reconcile, operator");
    for (_, function) in &functions {
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
    for (name, other) in &functions {
        assert_eq!(
            at(receiver(&t), &["Metadata"]),
            at(other, &["Metadata"]),
            "{name}"
        );
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
