//! The published message schema, `schema/outcome-message.v1.json`, applied
//! to what the deployed functions put on the queue: the JSON Schema
//! keywords the file uses, and a failure for any other (so that a keyword
//! added to the schema cannot go unchecked here).

use serde_json::{Map, Value};

const SCHEMA: &str = include_str!("../../../schema/outcome-message.v1.json");

/// Keywords that describe and do not constrain.
const ANNOTATIONS: [&str; 5] = ["$schema", "$id", "title", "description", "examples"];

/// Whether `message` satisfies the published schema; what breaks it if not.
pub fn check_outcome(message: &Value) -> Result<(), String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    check(message, &schema, "message")
}

fn check(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let schema = schema.as_object().expect("a schema is an object");
    for (keyword, rule) in schema {
        match keyword.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::Array(types) => types.iter().filter_map(Value::as_str).collect(),
                    other => other.as_str().into_iter().collect(),
                };
                if !types.iter().any(|t| is_type(value, t)) {
                    return Err(format!("{at} is {value}, not of type {types:?}"));
                }
            }
            "const" if value != rule => return Err(format!("{at} is {value}, not {rule}")),
            "enum" if !rule.as_array().is_some_and(|a| a.contains(value)) => {
                return Err(format!("{at} is {value}, not one of {rule}"));
            }
            "minLength" | "maxLength" => {
                let (length, bound) = (value.as_str().map(|s| s.chars().count()), rule.as_u64());
                let out = match (length, bound) {
                    (Some(l), Some(b)) if keyword == "minLength" => (l as u64) < b,
                    (Some(l), Some(b)) => (l as u64) > b,
                    _ => false,
                };
                if out {
                    return Err(format!("{at} is {value}, breaking {keyword} {rule}"));
                }
            }
            "required" => {
                for name in rule
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if value.as_object().is_some_and(|o| !o.contains_key(name)) {
                        return Err(format!("{at} has no {name}"));
                    }
                }
            }
            "properties" => {
                let empty = Map::new();
                for (name, property) in rule.as_object().expect("properties is an object") {
                    if let Some(field) = value.as_object().unwrap_or(&empty).get(name) {
                        check(field, property, &format!("{at}.{name}"))?;
                    }
                }
            }
            "additionalProperties" if rule == &Value::Bool(true) => {}
            "const" | "enum" => {}
            other => panic!("the schema uses {other}: {at}'s check must learn it"),
        }
    }
    Ok(())
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "string" => value.is_string(),
        "null" => value.is_null(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        other => panic!("unknown JSON Schema type {other}"),
    }
}

#[test]
fn the_schema_example_passes_and_broken_messages_fail() {
    let schema: Value = serde_json::from_str(SCHEMA).expect("json");
    let example = &schema["examples"][0];
    assert_eq!(check_outcome(example), Ok(()));
    let broken = |change: &dyn Fn(&mut Map<String, Value>)| {
        let mut message = example.clone();
        change(message.as_object_mut().expect("an object"));
        check_outcome(&message)
    };
    assert!(broken(&|m| drop(m.remove("decision"))).is_err());
    assert!(broken(&|m| drop(m.insert("status".into(), "pending".into()))).is_err());
    assert!(broken(&|m| drop(m.insert("schemaVersion".into(), 2.into()))).is_err());
    assert!(broken(&|m| drop(m.insert("sessionId".into(), "".into()))).is_err());
    assert!(broken(&|m| drop(m.insert("entityId".into(), 7.into()))).is_err());
    assert_eq!(
        broken(&|m| drop(m.insert("entityId".into(), Value::Null))),
        Ok(())
    );
}
