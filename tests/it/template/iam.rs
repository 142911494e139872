//! IAM: every statement of every function names its actions and resources
//! (no wildcard), and each function may call only what its code calls.

use super::resources::*;
use super::yaml::*;
use gu1_webhook::{config, store};
use serde_yaml::Value;

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
