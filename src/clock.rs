//! The one clock: epoch milliseconds for leases and the index's sort key,
//! RFC 3339 for every timestamp written on the item.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last instant [`rfc3339`] tells apart, `9999-12-31T23:59:59.999Z`
/// (RFC 3339 has four digits for the year); later ones are written as it.
pub const RFC3339_MAX_MS: u64 = 253_402_300_799_999;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `ms` (epoch milliseconds) as RFC 3339 UTC with exactly three fraction
/// digits, e.g. `2026-12-01T22:54:03.710Z` or `2026-12-01T22:54:03.000Z`:
/// always 24 characters, so that string order is time order (a query by
/// range on the item's timestamps is right at the edges). Beyond
/// [`RFC3339_MAX_MS`], that instant.
pub fn rfc3339(ms: u64) -> String {
    let ms = ms.min(RFC3339_MAX_MS);
    let (secs, milli) = (ms / 1_000, ms % 1_000);
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (of_day / 3_600, of_day % 3_600 / 60, of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
}

/// The UTC day of `ms` (`2026-12-01`): the partition of the terminal
/// outcomes' index, so that a day's outcomes are one query.
pub fn utc_day(ms: u64) -> String {
    let mut text = rfc3339(ms);
    text.truncate(10);
    text
}

/// Epoch milliseconds of `MS_PER_DAY` days.
pub const MS_PER_DAY: u64 = 86_400_000;

/// An RFC 3339 timestamp (Gu1's envelope `timestamp`, an operator's
/// `--since`) as epoch milliseconds, read by the SDK's own parser; `None`
/// for anything else, or an instant before 1970.
pub fn parse_ms(text: &str) -> Option<u64> {
    use aws_smithy_types::date_time::{DateTime, Format};
    let at = DateTime::from_str(text, Format::DateTime).ok()?;
    u64::try_from(at.to_millis().ok()?).ok()
}

/// Days since 1970-01-01 as a (proleptic Gregorian) year, month and day:
/// Howard Hinnant's `civil_from_days`, for days on or after the epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Count from 0000-03-01, so that a leap day ends its year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

/// `duration` in whole milliseconds, saturating.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The instant a timestamp names, read by the SDK's own RFC 3339 parser.
    fn read_back(text: &str) -> u64 {
        parse_ms(text).expect(text)
    }

    #[test]
    fn days_and_parsed_timestamps() {
        assert_eq!(utc_day(1_796_165_643_710), "2026-12-01");
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(parse_ms("2026-12-01T22:54:03.71Z"), Some(1_796_165_643_710));
        assert_eq!(parse_ms("2026-12-01T22:54:03Z"), Some(1_796_165_643_000));
        for bad in ["", "yesterday", "2026-12-01", "1969-12-31T23:59:59Z"] {
            assert_eq!(parse_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timestamps_have_three_fraction_digits() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1, "1970-01-01T00:00:00.001Z"),
            (1_000, "1970-01-01T00:00:01.000Z"),
            (1_796_165_643_710, "2026-12-01T22:54:03.710Z"),
            (1_796_165_643_000, "2026-12-01T22:54:03.000Z"),
            (1_796_165_643_007, "2026-12-01T22:54:03.007Z"),
            (1_796_165_643_070, "2026-12-01T22:54:03.070Z"),
            (1_795_640_674_018, "2026-11-25T21:04:34.018Z"),
            // Leap days: every fourth year, and 2000 (divisible by 400).
            (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
            (951_825_600_000, "2000-02-29T12:00:00.000Z"),
            // 2100 is no leap year: February's last day, then March.
            (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            // A year's, a day's last millisecond and the next.
            (946_684_799_999, "1999-12-31T23:59:59.999Z"),
            (946_684_800_000, "2000-01-01T00:00:00.000Z"),
            (RFC3339_MAX_MS, "9999-12-31T23:59:59.999Z"),
            // Beyond four year digits: the last instant, never a wrong string.
            (RFC3339_MAX_MS + 1, "9999-12-31T23:59:59.999Z"),
            (u64::MAX, "9999-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(rfc3339(ms), text, "{ms}");
        }
        assert!(now_ms() > 1_795_640_674_018);
    }

    /// Instants anywhere in the range written, and near the present (where
    /// the items' timestamps are), where the carries happen.
    fn instant() -> impl Strategy<Value = u64> {
        prop_oneof![
            0..=RFC3339_MAX_MS,
            1_700_000_000_000u64..1_900_000_000_000,
            (0..=RFC3339_MAX_MS / 1_000).prop_map(|s| s * 1_000),
            (0..=RFC3339_MAX_MS / 86_400_000, 0..3u64)
                .prop_map(|(d, k)| (d * 86_400_000 + k).saturating_sub(1)),
        ]
        .prop_map(|ms| ms.min(RFC3339_MAX_MS))
    }

    proptest! {
        /// String order is time order over the whole range written.
        #[test]
        fn string_order_is_time_order(a in instant(), b in instant()) {
            prop_assert_eq!(rfc3339(a).cmp(&rfc3339(b)), a.cmp(&b));
        }

        /// One instant, one fixed-width string, which RFC 3339 readers read
        /// back to the same millisecond.
        #[test]
        fn every_timestamp_is_fixed_width_rfc3339(ms in instant()) {
            let text = rfc3339(ms);
            prop_assert_eq!(text.len(), 24);
            prop_assert_eq!(read_back(&text), ms);
        }

        /// Neighbours sort apart: the next millisecond is a greater string.
        #[test]
        fn the_next_millisecond_sorts_after(ms in 0..RFC3339_MAX_MS) {
            prop_assert!(rfc3339(ms) < rfc3339(ms + 1));
        }
    }
}
