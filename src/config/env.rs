//! Reading one variable: set or not (a blank value is not set), parsed by
//! its rule, and the rules themselves (shared with the command line's
//! flags). A value out of its rule is an error that shows the value; only
//! variables that hold no secret are read that way.

use super::ConfigError;
use std::time::Duration;

/// What a number of seconds must be (a grace period, a stale-after; also
/// the rule of `--grace-seconds` and `--stale-after`).
pub const SECONDS_RULE: &str = "a whole number of seconds";
/// What a page size must be (also the `--page-size` rule).
pub const PAGE_SIZE_RULE: &str = "a number from 1 to 1000";

/// What a retention must be (`RETENTION_DAYS`): days, 0 for none.
pub const RETENTION_RULE: &str = "a whole number of days from 0 (keep forever) to 3650";

/// What [`ReconcileConfig::max_sessions`](super::ReconcileConfig::max_sessions) must be.
pub(super) const MAX_SESSIONS_RULE: &str = "a positive number";

/// A duration in whole seconds.
pub fn parse_seconds(value: &str) -> Option<Duration> {
    seconds(value).ok().flatten()
}

/// A page size from 1 to 1000 (DynamoDB's `Limit`).
pub fn parse_page_size(value: &str) -> Option<i32> {
    page_size(value).ok().flatten()
}

/// A number parsed from a variable's value: `Err` when it is no number,
/// `Ok(None)` when it is one out of the rule's range.
pub(super) type Parsed<T> = Result<Option<T>, std::num::ParseIntError>;

/// [`SECONDS_RULE`].
pub(super) fn seconds(value: &str) -> Parsed<Duration> {
    Ok(Some(Duration::from_secs(value.trim().parse()?)))
}

/// [`PAGE_SIZE_RULE`].
pub(super) fn page_size(value: &str) -> Parsed<i32> {
    Ok(Some(value.trim().parse()?).filter(|n| (1..=1000).contains(n)))
}

/// A retention by [`RETENTION_RULE`]: `Some(None)` for 0 (keep forever),
/// `None` out of the rule.
pub fn parse_retention_days(value: &str) -> Option<Option<Duration>> {
    retention_days(value).ok().flatten()
}

/// [`RETENTION_RULE`]: `Some(None)` for 0, no retention.
pub(super) fn retention_days(value: &str) -> Parsed<Option<Duration>> {
    let days: u64 = value.trim().parse()?;
    Ok((days <= 3650).then(|| (days > 0).then(|| Duration::from_secs(days * 86_400))))
}

/// [`MAX_SESSIONS_RULE`].
pub(super) fn max_sessions(value: &str) -> Parsed<usize> {
    Ok(Some(value.trim().parse()?).filter(|n| *n > 0))
}

/// What [`ReconcileConfig::api_url`](super::ReconcileConfig::api_url) must be.
pub const API_URL_RULE: &str = "an https:// URL without query or fragment, e.g. \
     https://api.gu1.ai (http:// only to a loopback host: the API key must not travel in clear)";

/// Gu1's API base URL, without a trailing `/`: a URL the client can call
/// (a mistake here stops the command at start, not once per session).
pub fn parse_api_url(value: &str) -> Option<String> {
    let url = value.trim().trim_end_matches('/');
    let uri: hyper::Uri = url.parse().ok()?;
    let host = uri.host().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let callable = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => loopback,
        _ => false,
    } && !host.is_empty()
        && uri.query().is_none()
        && !url.contains('#');
    callable.then(|| url.to_owned())
}

/// The variable `name`, which must be set.
pub(super) fn required(name: &'static str) -> Result<String, ConfigError> {
    var(name).ok_or(ConfigError::Missing(name))
}

/// The variable `name` parsed by `parse`, `None` when it is not set: only
/// for variables that hold no secret (see [`checked`]).
pub(super) fn optional<T>(
    name: &'static str,
    rule: &'static str,
    parse: fn(&str) -> Parsed<T>,
) -> Result<Option<T>, ConfigError> {
    var(name)
        .map(|value| checked(name, rule, value, parse))
        .transpose()
}

/// `value` of the variable `name` parsed by `parse`, or
/// [`ConfigError::Invalid`], which shows the value.
fn checked<T>(
    name: &'static str,
    rule: &'static str,
    value: String,
    parse: fn(&str) -> Parsed<T>,
) -> Result<T, ConfigError> {
    match parse(&value) {
        Ok(Some(parsed)) => Ok(parsed),
        broken => Err(ConfigError::Invalid {
            var: name,
            rule,
            value,
            source: broken.err(),
        }),
    }
}

/// The variable `name`, `None` when unset or blank.
pub(super) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MAX_SESSIONS_VAR, STALE_AFTER_VAR, SWEEP_PAGE_SIZE_VAR};

    #[test]
    fn api_urls_must_be_callable() {
        for (value, url) in [
            ("https://api.gu1.ai", "https://api.gu1.ai"),
            (" https://api.gu1.ai/ ", "https://api.gu1.ai"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:8080/", "http://localhost:8080"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("https://gw.example.com/gu1/", "https://gw.example.com/gu1"),
        ] {
            assert_eq!(parse_api_url(value).as_deref(), Some(url), "{value}");
        }
        for value in [
            "api.gu1.ai",
            "ftp://api.gu1.ai",
            "https://",
            "https://api.gu1.ai/x y",
            "https://api.gu1.ai/?org=1",
            "https://api.gu1.ai/#top",
            "http://api.gu1.ai",
            "http://10.0.0.1:8080",
        ] {
            assert_eq!(parse_api_url(value), None, "{value}");
        }
    }

    #[test]
    fn a_value_out_of_its_rule_is_named_with_its_variable() {
        let err = checked(SWEEP_PAGE_SIZE_VAR, PAGE_SIZE_RULE, "0".into(), page_size).unwrap_err();
        assert!(matches!(
            &err,
            ConfigError::Invalid { var: SWEEP_PAGE_SIZE_VAR, value, source: None, .. } if value == "0"
        ));
        assert_eq!(
            err.to_string(),
            "SWEEP_PAGE_SIZE must be a number from 1 to 1000, not \"0\""
        );

        // Not a number at all: the parse error is its source.
        let err = checked(STALE_AFTER_VAR, SECONDS_RULE, "1h".into(), seconds).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                source: Some(_),
                ..
            }
        ));
        assert_eq!(
            crate::error_chain(&err),
            "RECONCILE_STALE_AFTER_SECONDS must be a whole number of seconds, not \"1h\": \
             invalid digit found in string"
        );
        assert_eq!(
            checked(
                MAX_SESSIONS_VAR,
                MAX_SESSIONS_RULE,
                " 7 ".into(),
                max_sessions
            )
            .unwrap(),
            7
        );
        assert!(
            checked(
                MAX_SESSIONS_VAR,
                MAX_SESSIONS_RULE,
                "0".into(),
                max_sessions
            )
            .is_err()
        );
    }
}
