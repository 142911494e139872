//! The log lines: one JSON object per line on stderr (Lambda collects both
//! streams; stdout stays free for EMF metric lines and command reports).
//!
//! Inside Lambda, every line of an invocation also carries the keys that
//! Powertools users search by: `function_request_id`, `cold_start` and,
//! when the invocation is traced, `xray_trace_id`. They are top-level keys,
//! as Powertools writes them, so the same Logs Insights queries work on
//! this function's logs (the runtime's own span nests its `requestId` under
//! `span`, where such a query does not look).

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Json, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent};
use tracing_subscriber::registry::LookupSpan;

/// The current invocation's keys, rendered once as `,"key":value...`.
static INVOCATION: Mutex<String> = Mutex::new(String::new());
/// Until the first invocation begins.
static COLD: AtomicBool = AtomicBool::new(true);

/// Installs the subscriber; the level comes from `RUST_LOG` (a level,
/// `error` ... `trace`; anything else, or nothing, is `info`).
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|level| {
            level
                .trim()
                .parse::<tracing_subscriber::filter::LevelFilter>()
                .ok()
        })
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    let json = tracing_subscriber::fmt::format()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false);
    tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(WithInvocation(json))
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Marks the start of a Lambda invocation: until the next one begins, each
/// line carries its request id, whether it is the process's first, and its
/// X-Ray trace id (the `Root` of the trace header), if any.
pub fn begin_invocation(context: &lambda_runtime::Context) {
    let cold_start = COLD.swap(false, Ordering::Relaxed);
    let keys = invocation_keys(
        &context.request_id,
        cold_start,
        context.xray_trace_id.as_deref(),
    );
    if let Ok(mut current) = INVOCATION.lock() {
        *current = keys;
    }
}

/// `,"function_request_id":"...","cold_start":true[,"xray_trace_id":"1-..."]`.
fn invocation_keys(request_id: &str, cold_start: bool, trace_header: Option<&str>) -> String {
    let mut keys = serde_json::Map::new();
    keys.insert("function_request_id".into(), request_id.into());
    keys.insert("cold_start".into(), cold_start.into());
    let root = trace_header.and_then(|header| {
        header
            .split(';')
            .find_map(|part| part.strip_prefix("Root="))
    });
    if let Some(root) = root {
        keys.insert("xray_trace_id".into(), root.into());
    }
    let object = serde_json::Value::Object(keys).to_string();
    // `{...}` → `,...`: the keys, ready to append to another object.
    format!(",{}", &object[1..object.len() - 1])
}

/// Writes `line` (one JSON object and a newline) to `out` with `keys` added
/// to the object, in pieces: no copy of the line.
fn write_with_keys(out: &mut impl fmt::Write, line: &str, keys: &str) -> fmt::Result {
    match line.rfind('}') {
        Some(end) if !keys.is_empty() => {
            out.write_str(&line[..end])?;
            out.write_str(keys)?;
            out.write_str(&line[end..])
        }
        _ => out.write_str(line),
    }
}

/// The JSON format, plus the current invocation's keys.
struct WithInvocation<T>(Format<Json, T>);

impl<S, T> FormatEvent<S, JsonFields> for WithInvocation<T>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    Format<Json, T>: FormatEvent<S, JsonFields>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.0
            .format_event(context, Writer::new(&mut line), event)?;
        // The keys are read in place and written around the line (the
        // formatter writes into a buffer, not to the stream): no copy per line.
        let keys = INVOCATION.lock();
        let keys = keys.as_ref().map_or("", |k| k.as_str());
        write_with_keys(&mut writer, &line, keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_keys(line: &str, keys: &str) -> String {
        let mut out = String::new();
        write_with_keys(&mut out, line, keys).expect("a String takes it");
        out
    }

    #[test]
    fn an_invocations_keys_join_each_line_as_powertools_names_them() {
        let keys = invocation_keys(
            "req-1",
            true,
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
        );
        let line = with_keys("{\"level\":\"INFO\",\"message\":\"delivery\"}\n", &keys);
        assert!(line.ends_with("}\n"), "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).expect("still one JSON object");
        assert_eq!(value["message"], "delivery");
        assert_eq!(value["function_request_id"], "req-1");
        assert_eq!(value["cold_start"], true);
        assert_eq!(
            value["xray_trace_id"],
            "1-5759e988-bd862e3fe1be46a994272793"
        );

        let untraced = invocation_keys("req-\"2\"", false, None);
        let value: serde_json::Value =
            serde_json::from_str(&with_keys("{\"a\":1}", &untraced)).expect("JSON");
        assert_eq!(value["function_request_id"], "req-\"2\"");
        assert_eq!(value["cold_start"], false);
        assert!(value.get("xray_trace_id").is_none());
        // Outside an invocation, lines are left as they are.
        assert_eq!(with_keys("{\"a\":1}\n", ""), "{\"a\":1}\n");
    }
}
