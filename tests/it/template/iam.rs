//! IAM: every statement of every function names its actions and resources
//! (no wildcard), and each function may call only what its code calls.

use super::resources::*;
use super::yaml::*;
use gu1_webhook::{config, store};
use serde_yaml::Value;
use std::collections::BTreeSet;

/// The indexes that find sessions by day, by person or by customer key:
/// the operator's commands, and nothing else, query them.
const OPERATOR_ONLY_INDEXES: [&str; 3] = [
    store::TERMINAL_INDEX,
    store::ENTITY_INDEX,
    store::EXTERNAL_ID_INDEX,
];

/// Every IAM statement of a function's inline policies, both branches of
/// any `!If` included.
pub(super) fn statements(function: &Value) -> Vec<&Value> {
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

pub(super) fn actions(statement: &Value) -> Vec<String> {
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

/// Whether a statement grants a KMS action (each only under its key's
/// parameter, through one service).
fn is_kms(statement: &Value) -> bool {
    actions(statement).iter().any(|a| a.starts_with("kms:"))
}

/// Every (action, resource) a function's statements grant, its KMS grants
/// aside; a resource as written (`X.Arn`, `${X.Arn}/index/Y`).
fn grants(function: &Value) -> BTreeSet<(String, String)> {
    statements(function)
        .into_iter()
        .filter(|s| !is_kms(s))
        .flat_map(|s| {
            let resources = strings(at(s, &["Resource"]));
            actions(s)
                .into_iter()
                .flat_map(move |a| resources.clone().into_iter().map(move |r| (a.clone(), r)))
        })
        .collect()
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
    // Its writes, and the read that opens the connection during INIT.
    assert_eq!(
        receiver_dynamodb,
        ["dynamodb:UpdateItem", "dynamodb:DescribeTimeToLive"]
    );

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
fn the_operator_may_call_exactly_what_its_commands_call() {
    let t = template();
    let table = resources_of_type(&t, "AWS::DynamoDB::Table")[0].0.clone();
    let (outcomes, _) = outcomes_queue(&t);
    let (reviews, _) = reviews_queue(&t);
    let grant = |action: &str, resource: String| (action.to_owned(), resource);
    // republish claims and marks, erase writes the tombstone, track
    // registers: one UpdateItem on the table. republish finds outcomes by
    // day, erase a person's sessions: Query on those three indexes by name
    // (an outcome left unpublished is claimed by its key, not found). republish sends: SendMessage on both queues.
    // Nothing else: no GetItem, PutItem, DeleteItem or Scan, no secret.
    let mut wanted = BTreeSet::from([
        grant("dynamodb:UpdateItem", format!("{table}.Arn")),
        grant("sqs:SendMessage", format!("{outcomes}.Arn")),
        grant("sqs:SendMessage", format!("{reviews}.Arn")),
    ]);
    for index in OPERATOR_ONLY_INDEXES {
        wanted.insert(grant(
            "dynamodb:Query",
            format!("${{{table}.Arn}}/index/{index}"),
        ));
    }
    let operator = operator(&t);
    assert_eq!(grants(operator), wanted);

    // The table's and the queues' customer keys, through their services
    // only, exactly as the sweeper (the same calls on the same resources).
    fn kms(function: &Value) -> Vec<&Value> {
        statements(function)
            .into_iter()
            .filter(|s| is_kms(s))
            .collect()
    }
    assert_eq!(kms(operator), kms(sweeper(&t)));
    assert_eq!(
        kms(operator).len(),
        2,
        "the table's key and the queues' key"
    );
}

#[test]
fn only_the_operator_queries_the_indexes_of_days_and_people() {
    let t = template();
    let operator_name = resource_name(&t, operator(&t));
    for (name, function) in resources_of_type(&t, "AWS::Serverless::Function") {
        let queried: Vec<String> = dynamodb_grants(function)
            .into_iter()
            .filter(|(action, _)| action == "dynamodb:Query")
            .flat_map(|(_, resource)| strings(resource))
            .collect();
        for index in OPERATOR_ONLY_INDEXES {
            let on_index = queried
                .iter()
                .any(|r| r.ends_with(&format!("/index/{index}")));
            assert_eq!(
                on_index,
                name == operator_name,
                "{name} and the {index} index"
            );
        }
    }
    // The receiver, which faces the internet, queries nothing at all.
    assert!(
        dynamodb_grants(receiver(&t))
            .iter()
            .all(|(action, _)| action != "dynamodb:Query")
    );
}
