//! The functions: the variables they set are the ones the binary reads,
//! only the receiver reads the webhook secret, one route to the path the
//! code serves, one binary with the right handlers, and timeouts and
//! sweeper defaults that agree with the code.

use super::iam::{actions, statements};
use super::resources::*;
use super::yaml::*;
use gu1_webhook::{config, delivery};
use std::collections::BTreeSet;

/// Variables only the sweeper reads.
const SWEEPER_VARS: [&str; 2] = [config::SWEEP_GRACE_VAR, config::SWEEP_PAGE_SIZE_VAR];
/// The handler name that makes the binary run the sweeper (`_HANDLER`).
const SWEEP_HANDLER: &str = config::SWEEP_HANDLER;
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
