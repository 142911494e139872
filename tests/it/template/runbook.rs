//! The runbook and the alarms agree: every `AWS::CloudWatch::Alarm` of
//! `template.yaml` has one entry in the Alarms table of `docs/operations.md`
//! (its logical id, in backticks, first in the row, then what it means, what
//! to check and what to do), and every entry names an alarm that exists.

use super::resources::*;
use super::yaml::*;
use std::collections::{BTreeMap, BTreeSet};

const OPERATIONS: &str = include_str!("../../../docs/operations.md");

/// The columns every entry fills.
const COLUMNS: [&str; 4] = ["Alarm", "Means", "Check", "Do"];

/// How an entry marks an alarm that exists only under a template condition.
const CONDITION_MARKS: [(&str, &str); 2] = [
    ("HasReconcile", "*with reconciliation*"),
    ("HasNoDeliveryAlarm", "*with `NoDeliveryAlarmHours`*"),
];

/// The text of the `## title` section of a Markdown document, up to the
/// next `## ` heading.
fn section<'a>(doc: &'a str, title: &str) -> &'a str {
    let heading = format!("## {title}\n");
    let start = doc
        .find(&heading)
        .unwrap_or_else(|| panic!("docs/operations.md has no section {heading:?}"))
        + heading.len();
    let rest = &doc[start..];
    rest.find("\n## ").map_or(rest, |end| &rest[..end])
}

/// A table row's cells, trimmed; `\|` inside a cell is not a separator.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_owned()).collect()
}

/// The entries of the Alarms table: the alarm each names, and its row's
/// first cell. Panics on a row that is not a whole entry.
fn runbook_entries(doc: &str) -> BTreeMap<String, String> {
    let rows: Vec<Vec<String>> = section(doc, "Alarms")
        .lines()
        .filter(|l| l.trim_start().starts_with('|'))
        .map(cells)
        .collect();
    let (header, rows) = rows.split_first().expect("the Alarms section has a table");
    assert_eq!(header, &COLUMNS, "the Alarms table's columns");
    let (separator, rows) = rows.split_first().expect("the table has a separator");
    assert!(separator.iter().all(|c| c.chars().all(|c| c == '-')));

    let mut entries = BTreeMap::new();
    for row in rows {
        assert_eq!(
            row.len(),
            COLUMNS.len(),
            "an entry has every column: {row:?}"
        );
        for (column, cell) in COLUMNS.iter().zip(row) {
            assert!(!cell.is_empty(), "{column} is empty in {row:?}");
        }
        let name = row[0]
            .strip_prefix('`')
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_owned())
            .unwrap_or_else(|| panic!("an entry starts with the alarm's `id`: {:?}", row[0]));
        let first = entries.insert(name.clone(), row[0].clone());
        assert!(first.is_none(), "two entries for {name}");
    }
    entries
}

#[test]
fn every_alarm_has_a_runbook_entry_and_every_entry_an_alarm() {
    let t = template();
    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    let entries = runbook_entries(OPERATIONS);

    let alarm_ids: BTreeSet<&str> = alarms.iter().map(|(id, _)| id.as_str()).collect();
    let entry_ids: BTreeSet<&str> = entries.keys().map(String::as_str).collect();
    let missing: Vec<_> = alarm_ids.difference(&entry_ids).collect();
    assert!(
        missing.is_empty(),
        "alarms of template.yaml without an entry in docs/operations.md's Alarms table: {missing:?}"
    );
    let unknown: Vec<_> = entry_ids.difference(&alarm_ids).collect();
    assert!(
        unknown.is_empty(),
        "entries in docs/operations.md's Alarms table naming no alarm of template.yaml: {unknown:?}"
    );

    // An alarm that exists only under a condition says so in its entry.
    for (id, alarm) in &alarms {
        let Some(condition) = get(alarm, "Condition").map(text) else {
            continue;
        };
        let (_, mark) = CONDITION_MARKS
            .iter()
            .find(|(c, _)| *c == condition)
            .unwrap_or_else(|| panic!("{id}: no runbook mark for condition {condition}"));
        assert!(
            entries[id.as_str()].contains(mark),
            "{id} exists only under {condition}: its entry should say {mark}"
        );
    }
}

#[test]
fn the_runbook_reader_sees_every_entry() {
    let doc = "## Alarms\n\nText.\n\n| Alarm | Means | Check | Do |\n|---|---|---|---|\n\
               | `A` (x) | means | `a \\| b` | do |\n| `B` | m | c | d |\n\n## Next\n\n| `C` | m | c | d |\n";
    let entries = runbook_entries(doc);
    assert_eq!(
        entries.keys().map(String::as_str).collect::<Vec<_>>(),
        ["A", "B"]
    );
    assert_eq!(cells("| `A` | `a \\| b` |"), ["`A`", "`a | b`"]);
}
