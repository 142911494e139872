//! Reading the dashboard's body: its widgets as JSON, with the template's
//! `${...}` placeholders made readable, and a metric widget's lines.

use super::resources::*;
use super::yaml::*;
use serde_json::Value as Json;
use serde_yaml::Value;
use std::collections::BTreeMap;

/// The body's `${X}` placeholders as the test reads them: `Ref:X`,
/// `GetAtt:X.Y`, pseudo parameters (`AWS::Region`) as they are, and the
/// body's own variables (one: the reconciliation widgets, under
/// `HasReconcile`) as the text of the branch `with_reconcile` selects.
pub(super) fn widgets(t: &Value, with_reconcile: bool) -> Vec<Json> {
    let (id, dashboard) = dashboard(t);
    let (function, args) = intrinsic(at(dashboard, &["Properties", "DashboardBody"]))
        .unwrap_or_else(|| panic!("{id}'s body is a !Sub"));
    assert_eq!(function, "Sub");
    let (body, variables) = match list(args) {
        [body, variables] => (text(body), untag(variables).as_mapping().cloned()),
        _ => (text(args), None),
    };
    let mut fragments = BTreeMap::new();
    for (name, value) in variables.iter().flatten() {
        let (function, args) = intrinsic(value).expect("a variable is an !If");
        assert_eq!(function, "If", "{}: an !If", text(name));
        let args = list(args);
        assert_eq!(
            text(&args[0]),
            "HasReconcile",
            "{}: on HasReconcile",
            text(name)
        );
        let branch = if with_reconcile { &args[1] } else { &args[2] };
        fragments.insert(text(name), substitute(&sub_text(branch), &BTreeMap::new()));
    }
    let json = substitute(&body, &fragments);
    let body: Json = serde_json::from_str(&json).unwrap_or_else(|e| {
        panic!("{id}'s body (reconciliation {with_reconcile}) is JSON: {e}\n{json}")
    });
    body["widgets"]
        .as_array()
        .expect("a list of widgets")
        .clone()
}

pub(super) fn dashboard(t: &Value) -> (String, &Value) {
    let dashboards = resources_of_type(t, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one dashboard");
    dashboards[0].clone()
}

fn substitute(text: &str, fragments: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${...}") + start;
        let name = &rest[start + 2..end];
        match fragments.get(name) {
            Some(fragment) => out.push_str(fragment),
            None if name.contains("::") => out.push_str(name),
            None if name.contains('.') => out.push_str(&format!("GetAtt:{name}")),
            None => out.push_str(&format!("Ref:{name}")),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// One line of a metric widget: a metric with its dimensions and options.
#[derive(Debug)]
pub(super) struct Line {
    pub namespace: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
    pub options: Json,
}

/// A metric widget's lines, and its expressions (id, expression).
pub(super) fn lines(widget: &Json) -> (Vec<Line>, Vec<(String, String)>) {
    let mut lines = Vec::new();
    let mut expressions = Vec::new();
    for entry in widget["properties"]["metrics"].as_array().expect("metrics") {
        let entry = entry.as_array().expect("a metric is a list");
        if let [options] = entry.as_slice()
            && let Some(expression) = options.get("expression")
        {
            let id = options["id"].as_str().expect("an expression has an id");
            expressions.push((id.to_owned(), expression.as_str().unwrap().to_owned()));
            continue;
        }
        let (options, names) = match entry.last() {
            Some(last @ Json::Object(_)) => (last.clone(), &entry[..entry.len() - 1]),
            _ => (Json::Null, &entry[..]),
        };
        let names: Vec<&str> = names
            .iter()
            .map(|n| n.as_str().expect("a name (no \".\" shorthand)"))
            .collect();
        assert!(
            names.len() >= 2 && names.len().is_multiple_of(2),
            "{names:?}"
        );
        let dimensions = names[2..]
            .chunks(2)
            .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
            .collect();
        lines.push(Line {
            namespace: names[0].to_owned(),
            name: names[1].to_owned(),
            dimensions,
            options,
        });
    }
    (lines, expressions)
}
