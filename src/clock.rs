//! The one clock: epoch milliseconds for leases and the index's sort key,
//! RFC 3339 for every timestamp written on the item.

use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `ms` (epoch milliseconds) as RFC 3339 UTC, e.g. `2026-11-25T21:04:34.018Z`.
pub fn rfc3339(ms: u64) -> String {
    DateTime::from(UNIX_EPOCH + Duration::from_millis(ms))
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

/// `duration` in whole milliseconds, saturating.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_000), "1970-01-01T00:00:01Z");
        assert_eq!(rfc3339(1_795_640_674_018), "2026-11-25T21:04:34.018Z");
        assert!(now_ms() > 1_795_640_674_018);
    }
}
