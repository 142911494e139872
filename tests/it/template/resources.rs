//! Finding the stack's resources: by type, the four functions (by event or
//! handler) with their events, properties and environment, and the
//! outcomes queue.

use super::yaml::{at, get, ref_target, text, untag};
use gu1_webhook::config;
use serde_yaml::Value;
use std::collections::BTreeSet;

pub(super) fn resources_of_type<'a>(t: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
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
pub(super) fn function_with_event<'a>(t: &'a Value, event_type: &str) -> &'a Value {
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

pub(super) fn receiver(t: &Value) -> &Value {
    function_with_event(t, "HttpApi")
}

pub(super) fn sweeper(t: &Value) -> &Value {
    function_with_handler(t, config::SWEEP_HANDLER)
}

pub(super) fn reconciler(t: &Value) -> &Value {
    function_with_handler(t, config::RECONCILE_HANDLER)
}

pub(super) fn operator(t: &Value) -> &Value {
    function_with_handler(t, config::OPERATE_HANDLER)
}

pub(super) fn function_with_handler<'a>(t: &'a Value, handler: &str) -> &'a Value {
    resources_of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .find(|(_, f)| text(at(f, &["Properties", "Handler"])) == handler)
        .unwrap_or_else(|| panic!("no function with handler {handler}"))
        .1
}

pub(super) fn events(function: &Value) -> Vec<&Value> {
    get(at(function, &["Properties"]), "Events")
        .and_then(Value::as_mapping)
        .map_or_else(Vec::new, |m| m.values().collect())
}

/// A function property, falling back to `Globals.Function`.
pub(super) fn function_property<'a>(
    t: &'a Value,
    function: &'a Value,
    name: &str,
) -> Option<&'a Value> {
    get(at(function, &["Properties"]), name).or_else(|| get(at(t, &["Globals", "Function"]), name))
}

/// The environment a function sees: `Globals.Function` merged with its own.
pub(super) fn env_vars<'a>(t: &'a Value, function: &'a Value) -> Vec<(String, &'a Value)> {
    let globals = get(t, "Globals").and_then(|g| get(g, "Function"));
    [globals, Some(at(function, &["Properties"]))]
        .into_iter()
        .flatten()
        .filter_map(|props| get(props, "Environment").and_then(|e| get(e, "Variables")))
        .filter_map(|vars| untag(vars).as_mapping())
        .flat_map(|vars| vars.iter().map(|(k, v)| (text(k), v)))
        .collect()
}

pub(super) fn env_names(t: &Value, function: &Value) -> BTreeSet<String> {
    env_vars(t, function)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

pub(super) fn env_ref(t: &Value, function: &Value, name: &str) -> Option<String> {
    env_vars(t, function)
        .into_iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| ref_target(v))
}

pub(super) fn resource_name(t: &Value, wanted: &Value) -> String {
    resources_of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .find(|(_, f)| std::ptr::eq(*f, wanted))
        .map(|(name, _)| name)
        .expect("function is a resource")
}

/// The queues the stack publishes to (outcomes, reviews): those with a
/// redrive policy (the other is their dead-letter queue), by name.
pub(super) fn message_queues(t: &Value) -> Vec<(String, &Value)> {
    let mut queues: Vec<_> = resources_of_type(t, "AWS::SQS::Queue")
        .into_iter()
        .filter(|(_, q)| get(at(q, &["Properties"]), "RedrivePolicy").is_some())
        .collect();
    queues.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<&str> = queues.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["OutcomesQueue", "ReviewsQueue"],
        "two queues with a dead-letter queue"
    );
    queues
}

/// The outcomes queue.
pub(super) fn outcomes_queue(t: &Value) -> (String, &Value) {
    message_queues(t).swap_remove(0)
}

/// The reviews queue.
pub(super) fn reviews_queue(t: &Value) -> (String, &Value) {
    message_queues(t).swap_remove(1)
}
