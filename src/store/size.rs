//! What an item costs: its size as DynamoDB bills it, and the write units a
//! write of it takes. Every delivery rewrites the session's item, so each
//! attribute it carries is paid on every delivery (BENCHMARKS.md has the
//! figures for the `events/` sessions).
//!
//! The rules are DynamoDB's documented ones ("Item sizes and formats"): an
//! attribute is its name's UTF-8 bytes plus its value's size; a string its
//! UTF-8 bytes, binary its bytes, a number about one byte per two
//! significant digits plus one, a boolean or null one byte; a list or map 3
//! bytes plus one byte per element (a map's element also pays its name); a
//! set the sum of its elements.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// DynamoDB bills a standard write per started kilobyte of the item.
pub const WRITE_UNIT_BYTES: usize = 1024;

/// The size of an item, in bytes, as DynamoDB counts it.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// Write units of a write that leaves (or finds) an item of `bytes`; an
/// update pays for the larger of the item before and after.
pub fn write_units(bytes: usize) -> usize {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1)
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        // A type this SDK version does not know: count its debug form, so
        // that it is never free.
        other => format!("{other:?}").len(),
    }
}

/// One byte per two significant digits (leading and trailing zeros and the
/// sign and point do not count), plus one.
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.into())
    }

    /// Worked by hand:
    /// `sessionId` 9 + `bio-1` 5 = 14; `status` 6 + `approved` 8 = 14;
    /// `statusRank` 10 + `4` (1 digit: 1 + 1) = 12; `version` 7 + `12`
    /// (2 digits: 1 + 1) = 9; `terminalAt` 10 + `1781187000000` (13 digits,
    /// 6 trailing zeros: 7 significant, 4 + 1) = 15. Total 64.
    #[test]
    fn a_small_item_counts_as_worked_by_hand() {
        let item = HashMap::from([
            ("sessionId".to_owned(), s("bio-1")),
            ("status".to_owned(), s("approved")),
            ("statusRank".to_owned(), n("4")),
            ("version".to_owned(), n("12")),
            ("terminalAt".to_owned(), n("1781187000000")),
        ]);
        assert_eq!(item_size(&item), 64);
        assert_eq!(write_units(item_size(&item)), 1);
    }

    /// Worked by hand: `conflictStatuses` 16 + {`rejected` 8, `expired` 7}
    /// = 31; `decision` 8 + `{"score":98.5}` 14 = 22; `flags` 5 + map 3 +
    /// (1 + `ok` 2 + true 1) + (1 + `n` 1 + null 1) = 15; `tags` 4 + list 3
    /// + (1 + `a` 1) + (1 + `-0.50` 1 significant digit: 2) = 12. Total 80.
    #[test]
    fn sets_maps_and_lists_count_as_worked_by_hand() {
        let item = HashMap::from([
            (
                "conflictStatuses".to_owned(),
                AttributeValue::Ss(vec!["rejected".into(), "expired".into()]),
            ),
            ("decision".to_owned(), s(r#"{"score":98.5}"#)),
            (
                "flags".to_owned(),
                AttributeValue::M(HashMap::from([
                    ("ok".to_owned(), AttributeValue::Bool(true)),
                    ("n".to_owned(), AttributeValue::Null(true)),
                ])),
            ),
            (
                "tags".to_owned(),
                AttributeValue::L(vec![s("a"), n("-0.50")]),
            ),
        ]);
        assert_eq!(item_size(&item), 80);
    }

    #[test]
    fn a_write_pays_per_started_kilobyte() {
        assert_eq!(write_units(0), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
        assert_eq!(write_units(4000), 4);
    }
}
