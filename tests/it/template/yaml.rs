//! Reading `template.yaml`. CloudFormation short tags (`!Ref`, `!GetAtt`,
//! `!Sub`, `!If`, ...) parse as `serde_yaml::Value::Tagged`; [`intrinsic`]
//! reads them and their long forms (`Ref:`, `Fn::If:`, ...) alike.
//! Conditions and `!If` are read as the default parameters select, or as
//! given parameter values ([`Values`]) and the defaults of the others select.

use serde_yaml::Value;

pub(super) fn template() -> Value {
    serde_yaml::from_str(include_str!("../../../template.yaml"))
        .expect("template.yaml is valid YAML")
}

/// `map[key]`, looking through tags; `None` if absent.
pub(super) fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    untag(value).as_mapping()?.get(key)
}

/// `value[k1][k2]...`, panicking with the path when something is missing.
pub(super) fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |v, key| {
        get(v, key).unwrap_or_else(|| panic!("template has no {}", path.join(".")))
    })
}

pub(super) fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    }
}

/// A CloudFormation intrinsic as (`"Ref"` | `"If"` | `"Sub"` | ..., argument),
/// from either `!If [...]` or `Fn::If: [...]`.
pub(super) fn intrinsic(value: &Value) -> Option<(String, &Value)> {
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
pub(super) fn text(value: &Value) -> String {
    match untag(value) {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("expected a scalar, found {other:?}"),
    }
}

pub(super) fn list(value: &Value) -> &[Value] {
    untag(value).as_sequence().map_or(&[], Vec::as_slice)
}

/// The resource a `!Ref` names.
pub(super) fn ref_target(value: &Value) -> Option<String> {
    match intrinsic(value)? {
        (name, arg) if name == "Ref" => Some(text(arg)),
        _ => None,
    }
}

/// Parameter values as a deploy gives them, `(name, value)`; a parameter
/// not named has its default. `&[]`: every default.
pub(super) type Values<'a> = [(&'a str, &'a str)];

/// Whether a named condition holds when every parameter has its default.
pub(super) fn condition_holds(t: &Value, name: &str) -> bool {
    condition_holds_with(t, name, &[])
}

fn condition_holds_with(t: &Value, name: &str, values: &Values) -> bool {
    evaluate(t, at(t, &["Conditions", name]), values)
}

pub(super) fn evaluate(t: &Value, condition: &Value, values: &Values) -> bool {
    let (function, args) = intrinsic(condition).expect("a condition is an intrinsic");
    let args = list(args);
    let holds = |c| evaluate(t, c, values);
    match function.as_str() {
        "Equals" => resolve_scalar(t, &args[0], values) == resolve_scalar(t, &args[1], values),
        "Not" => !holds(&args[0]),
        "Or" => args.iter().any(holds),
        "And" => args.iter().all(holds),
        "Condition" => condition_holds_with(t, &text(condition), values),
        other => panic!("unsupported condition function {other}"),
    }
}

/// A literal, a parameter's value (given, else its default), or a `!Join`
/// of them (a `CommaDelimitedList` parameter's default joins as its text).
pub(super) fn resolve_scalar(t: &Value, value: &Value, values: &Values) -> String {
    if let Some((name, args)) = intrinsic(value)
        && name == "Join"
    {
        let args = list(args);
        let parts = match list(&args[1]) {
            [] => vec![resolve_scalar(t, &args[1], values)],
            parts => parts.iter().map(|p| resolve_scalar(t, p, values)).collect(),
        };
        return parts.join(&text(&args[0]));
    }
    match ref_target(value) {
        Some(parameter) => match values.iter().find(|(name, _)| *name == parameter) {
            Some((_, given)) => (*given).to_owned(),
            None => text(at(t, &["Parameters", &parameter, "Default"])),
        },
        None => text(value),
    }
}

/// Picks the branch of `!If` the default parameters select; other values
/// pass through.
pub(super) fn with_defaults<'a>(t: &Value, value: &'a Value) -> &'a Value {
    with_values(t, value, &[])
}

fn with_values<'a>(t: &Value, value: &'a Value, values: &Values) -> &'a Value {
    match intrinsic(value) {
        Some((name, args)) if name == "If" => {
            let args = list(args);
            let branch = if condition_holds_with(t, &text(&args[0]), values) {
                &args[1]
            } else {
                &args[2]
            };
            with_values(t, branch, values)
        }
        _ => value,
    }
}

/// A list's elements as CloudFormation sees them under `values`: each
/// `!If` element replaced by the branch its condition selects, and
/// `!Ref AWS::NoValue` dropped.
pub(super) fn elements<'a>(t: &Value, value: &'a Value, values: &Values) -> Vec<&'a Value> {
    list(value)
        .iter()
        .map(|element| with_values(t, element, values))
        .filter(|element| ref_target(element).as_deref() != Some("AWS::NoValue"))
        .collect()
}

/// A `!Sub` string, or a plain string.
pub(super) fn sub_text(value: &Value) -> String {
    match intrinsic(value) {
        Some((name, arg)) if name == "Sub" => text(arg),
        _ => text(value),
    }
}

/// Every string inside a value, tags and nested intrinsics included.
pub(super) fn strings(value: &Value) -> Vec<String> {
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

pub(super) fn default_number(t: &Value, parameter: &str) -> u64 {
    text(at(t, &["Parameters", parameter, "Default"]))
        .parse()
        .expect("a number")
}

pub(super) fn pair(name: &str, kind: &str) -> (String, String) {
    (name.into(), kind.into())
}
