//! hclog-compatible JSON logging on stderr, and a panic hook Terraform recognises.
//!
//! Terraform reads a plugin's stderr line by line. A line that parses as JSON is treated as an
//! hclog entry: `@level`, `@message` and `@timestamp` are taken from it (they must be JSON
//! strings, and the timestamp must have exactly six fractional digits, or the whole line is
//! demoted to raw DEBUG output); every other key is shown as a key/value pair. Terraform then
//! filters again with its own `TF_LOG_PROVIDER`/`TF_LOG`, but filtering here first keeps the
//! provider quiet (and cheap) when logging is off.
//!
//! Nothing here ever writes to stdout: its first line is the plugin handshake.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, Local, Offset};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Root hclog module name Terraform expects for provider log lines.
pub const ROOT_MODULE: &str = "provider";

/// Crate targets whose events are logged at the configured level. Everything else (tonic,
/// hyper, h2, rustls) is capped at WARN: their debug/trace output is transport noise, not
/// provider logs, and would drown Terraform's own log.
const PROVIDER_TARGETS: [&str; 2] = ["dbaas", "terraform_provider_dbaas"];

/// Installs the global tracing subscriber that writes hclog JSON lines to stderr.
///
/// The level comes from the first non-empty of `TF_LOG_PROVIDER_<NAME>`, `TF_LOG_PROVIDER`
/// and `TF_LOG` (see [`level_from_env`]); when none is set nothing is logged at all.
/// Stderr (fd 2) is duplicated here, at init, so later redirections cannot divert the log.
/// Calling it again is harmless: the first subscriber stays.
pub fn init(provider_name: &str) {
    let level = level_from_env(provider_name, |key| std::env::var(key).ok());
    let layer = HclogLayer::new(captured_stderr()).with_filter(provider_filter(level));
    // An error only means a subscriber is already installed, which is fine.
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// The per-target filter used by [`init`]: the provider's own targets at `level`, the
/// dependencies at `level` but never more verbose than WARN.
pub fn provider_filter(level: LevelFilter) -> Targets {
    let mut targets = Targets::new().with_default(level.min(LevelFilter::WARN));
    for target in PROVIDER_TARGETS {
        targets = targets.with_target(target, level);
    }
    targets
}

/// The names of the environment variables consulted, most specific first.
pub fn level_env_vars(provider_name: &str) -> [String; 3] {
    let suffix: String = provider_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    [
        format!("TF_LOG_PROVIDER_{suffix}"),
        "TF_LOG_PROVIDER".to_owned(),
        "TF_LOG".to_owned(),
    ]
}

/// Reads the log level through `lookup` (an environment getter, injectable for tests).
/// The first variable of [`level_env_vars`] with a non-blank value wins; none means OFF.
pub fn level_from_env(provider_name: &str, lookup: impl Fn(&str) -> Option<String>) -> LevelFilter {
    level_env_vars(provider_name)
        .iter()
        .filter_map(|key| lookup(key))
        .find(|value| !value.trim().is_empty())
        .map_or(LevelFilter::OFF, |value| parse_level(&value))
}

/// Maps a `TF_LOG` word to a level the way Terraform does: TRACE DEBUG INFO WARN ERROR OFF
/// (any case); `JSON` means TRACE; an unknown word also means TRACE.
pub fn parse_level(value: &str) -> LevelFilter {
    match value.trim().to_ascii_uppercase().as_str() {
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        // "TRACE", "JSON" and anything unrecognised.
        _ => LevelFilter::TRACE,
    }
}

/// hclog's lowercase level names, which Terraform parses with `hclog.LevelFromString`.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Formats a timestamp as hclog does (`2006-01-02T15:04:05.000000Z07:00` in Go terms):
/// exactly six fractional digits, then `Z` for UTC or `±hh:mm`. Terraform rejects any other
/// precision.
pub fn format_timestamp(timestamp: &DateTime<FixedOffset>) -> String {
    let base = timestamp.format("%Y-%m-%dT%H:%M:%S%.6f");
    if timestamp.offset().local_minus_utc() == 0 {
        format!("{base}Z")
    } else {
        format!("{base}{}", timestamp.format("%:z"))
    }
}

/// The hclog module for a tracing target: `provider` for the crate roots, otherwise
/// `provider.<last path segment>` (e.g. `dbaas::tfplugin::serve` → `provider.serve`).
pub fn module_for_target(target: &str) -> String {
    let last = target.rsplit("::").next().unwrap_or(target);
    if last.is_empty() || PROVIDER_TARGETS.contains(&last) {
        ROOT_MODULE.to_owned()
    } else {
        format!("{ROOT_MODULE}.{last}")
    }
}

/// One log entry before serialisation; [`format_line`] turns it into the JSON line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// Severity, written as `@level`.
    pub level: Level,
    /// The event's message, written as `@message`.
    pub message: String,
    /// When the event happened, written as `@timestamp` with microsecond precision.
    pub timestamp: DateTime<FixedOffset>,
    /// hclog logger name, written as `@module`, so Terraform can tell sub-loggers apart.
    pub module: String,
    /// `file:line` of the call site, written as `@caller` when known.
    pub caller: Option<String>,
    /// Structured fields of the event and its enclosing spans, written as extra keys.
    pub fields: Map<String, Value>,
}

/// Serialises a record as one hclog JSON line (no trailing newline). The `@` keys come
/// first and are always JSON strings; a field can never overwrite them.
pub fn format_line(record: &LogRecord) -> String {
    let mut object = Map::new();
    object.insert(
        "@level".into(),
        Value::String(level_name(record.level).into()),
    );
    object.insert("@message".into(), Value::String(record.message.clone()));
    object.insert("@module".into(), Value::String(record.module.clone()));
    object.insert(
        "@timestamp".into(),
        Value::String(format_timestamp(&record.timestamp)),
    );
    if let Some(caller) = &record.caller {
        object.insert("@caller".into(), Value::String(caller.clone()));
    }
    for (key, value) in &record.fields {
        object.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(object).to_string()
}

/// Duplicates fd 2 so the log keeps its destination even if stderr is redirected later
/// (go-plugin servers swap stderr; Terraform expects logs on the original one).
fn captured_stderr() -> Box<dyn Write + Send> {
    use std::os::fd::AsFd;
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(std::io::stderr()),
    }
}

/// A tracing layer that writes each event as one hclog JSON line.
pub struct HclogLayer {
    /// Destination of the lines; a mutex so concurrent events never interleave bytes.
    writer: Mutex<Box<dyn Write + Send>>,
}

impl fmt::Debug for HclogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HclogLayer").finish_non_exhaustive()
    }
}

impl HclogLayer {
    /// A layer writing to `writer` (stderr in production, a buffer in tests).
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Self {
            writer: Mutex::new(Box::new(writer)),
        }
    }

    fn write_line(&self, line: &str) {
        let mut buffer = Vec::with_capacity(line.len() + 1);
        buffer.extend_from_slice(line.as_bytes());
        buffer.push(b'\n');
        let mut writer = match self.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Logging must never fail the provider; a closed stderr just loses the line.
        let _ = writer.write_all(&buffer);
        let _ = writer.flush();
    }
}

/// Fields recorded on a span, stored in its extensions so events inside it can include them.
#[derive(Debug, Default)]
struct SpanFields(Map<String, Value>);

/// Collects tracing fields as JSON values; `message` is kept apart for `@message`.
#[derive(Default)]
struct JsonVisitor {
    message: Option<String>,
    fields: Map<String, Value>,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            let text = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            self.message = Some(text);
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for JsonVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let json = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.put(field, json);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let json =
            i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.put(field, json);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let json =
            u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.put(field, json);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.put(field, Value::String(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

impl<S> Layer<S> for HclogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = JsonVisitor::default();
        attrs.record(&mut visitor);
        let mut fields = visitor.fields;
        if let Some(message) = visitor.message {
            fields.insert("message".into(), Value::String(message));
        }
        span.extensions_mut().insert(SpanFields(fields));
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = JsonVisitor::default();
        values.record(&mut visitor);
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(SpanFields(fields)) => fields.extend(visitor.fields),
            None => extensions.insert(SpanFields(visitor.fields)),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let mut visitor = JsonVisitor::default();
        event.record(&mut visitor);

        // Events bridged from the `log` crate carry their call site as `log.*` fields.
        let metadata = event.metadata();
        let mut log_file = None;
        let mut log_line = None;
        for (key, value) in visitor.fields {
            match key.as_str() {
                "log.file" => log_file = value.as_str().map(str::to_owned),
                "log.line" => log_line = value.as_u64(),
                "log.target" | "log.module_path" => {}
                _ => {
                    fields.insert(key, value);
                }
            }
        }
        let caller = match (metadata.file(), metadata.line()) {
            (Some(file), Some(line)) => Some(format!("{file}:{line}")),
            (Some(file), None) => Some(file.to_owned()),
            (None, _) => log_file.map(|file| match log_line {
                Some(line) => format!("{file}:{line}"),
                None => file,
            }),
        };

        let now = Local::now();
        let record = LogRecord {
            level: *metadata.level(),
            message: visitor.message.unwrap_or_default(),
            timestamp: now.with_timezone(&now.offset().fix()),
            module: module_for_target(metadata.target()),
            caller,
            fields,
        };
        self.write_line(&format_line(&record));
    }
}

/// A cloneable in-memory writer, handy for capturing log output in tests.
#[derive(Debug, Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// Everything written so far, as UTF-8 (lossy).
    pub fn contents(&self) -> String {
        let bytes = match self.0.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut guard) => guard.extend_from_slice(buf),
            Err(poisoned) => poisoned.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a panic hook that writes `panic: <message>`, the location and a backtrace to
/// stderr as plain text. Terraform's crash detector looks for lines starting with
/// `panic: ` (Rust's default "thread 'main' panicked at" is not recognised) and then shows
/// "The plugin crashed!" with the text that follows.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        let thread = std::thread::current();
        let backtrace = std::backtrace::Backtrace::force_capture();
        let report = panic_report(
            &message,
            location.as_deref(),
            thread.name(),
            &backtrace.to_string(),
        );
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(report.as_bytes());
        let _ = stderr.flush();
    }));
}

/// The text of a panic payload (`&str` or `String`; anything else is described).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// The plain-text crash report written by the panic hook; its first line starts `panic: `.
pub fn panic_report(
    message: &str,
    location: Option<&str>,
    thread: Option<&str>,
    backtrace: &str,
) -> String {
    let mut report = format!("panic: {message}\n\n");
    if let Some(location) = location {
        report.push_str(&format!("location: {location}\n"));
    }
    report.push_str(&format!(
        "thread: {}\n\nbacktrace:\n",
        thread.unwrap_or("<unnamed>")
    ));
    report.push_str(backtrace);
    if !report.ends_with('\n') {
        report.push('\n');
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn record_at(timestamp: DateTime<FixedOffset>) -> LogRecord {
        LogRecord {
            level: Level::INFO,
            message: "hello \"world\"\nsecond line".into(),
            timestamp,
            module: "provider".into(),
            caller: Some("src/x.rs:7".into()),
            fields: Map::from_iter([
                ("tf_rpc".to_owned(), Value::String("ReadResource".into())),
                ("count".to_owned(), Value::from(3)),
                ("@level".to_owned(), Value::String("spoofed".into())),
            ]),
        }
    }

    fn utc(micros: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(0)
            .and_then(|tz| tz.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).single())
            .map(|t| t + chrono::Duration::microseconds(i64::from(micros)))
            .expect("valid timestamp")
    }

    #[test]
    fn format_line_is_one_json_object_with_string_keys() {
        let line = format_line(&record_at(utc(123_456)));
        assert!(!line.contains('\n'), "one line only: {line}");
        let parsed: Value = serde_json::from_str(&line).expect("line is JSON");
        assert_eq!(parsed["@level"], "info");
        assert_eq!(parsed["@message"], "hello \"world\"\nsecond line");
        assert_eq!(parsed["@module"], "provider");
        assert_eq!(parsed["@caller"], "src/x.rs:7");
        assert_eq!(parsed["@timestamp"], "2026-03-04T05:06:07.123456Z");
        assert_eq!(parsed["tf_rpc"], "ReadResource");
        assert_eq!(parsed["count"], 3);
    }

    #[test]
    fn format_line_fields_cannot_overwrite_at_keys() {
        let parsed: Value =
            serde_json::from_str(&format_line(&record_at(utc(0)))).expect("line is JSON");
        assert_eq!(parsed["@level"], "info");
    }

    #[test]
    fn format_timestamp_always_has_six_fraction_digits() {
        assert_eq!(format_timestamp(&utc(0)), "2026-03-04T05:06:07.000000Z");
        assert_eq!(format_timestamp(&utc(5)), "2026-03-04T05:06:07.000005Z");
        let with_nanos = utc(0) + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(format_timestamp(&with_nanos), "2026-03-04T05:06:07.123456Z");
    }

    #[test]
    fn format_timestamp_writes_numeric_offsets() {
        let plus_two = FixedOffset::east_opt(2 * 3600)
            .and_then(|tz| tz.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single())
            .expect("valid");
        assert_eq!(
            format_timestamp(&plus_two),
            "2026-01-02T03:04:05.000000+02:00"
        );
        let minus = FixedOffset::west_opt(4 * 3600 + 30 * 60)
            .and_then(|tz| tz.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single())
            .expect("valid");
        assert_eq!(format_timestamp(&minus), "2026-01-02T03:04:05.000000-04:30");
    }

    #[test]
    fn level_name_maps_every_level() {
        assert_eq!(level_name(Level::TRACE), "trace");
        assert_eq!(level_name(Level::DEBUG), "debug");
        assert_eq!(level_name(Level::INFO), "info");
        assert_eq!(level_name(Level::WARN), "warn");
        assert_eq!(level_name(Level::ERROR), "error");
    }

    #[test]
    fn parse_level_follows_terraform_words() {
        assert_eq!(parse_level("TRACE"), LevelFilter::TRACE);
        assert_eq!(parse_level("debug"), LevelFilter::DEBUG);
        assert_eq!(parse_level(" Info "), LevelFilter::INFO);
        assert_eq!(parse_level("warn"), LevelFilter::WARN);
        assert_eq!(parse_level("ERROR"), LevelFilter::ERROR);
        assert_eq!(parse_level("off"), LevelFilter::OFF);
        assert_eq!(parse_level("JSON"), LevelFilter::TRACE);
        assert_eq!(parse_level("loud"), LevelFilter::TRACE);
    }

    #[test]
    fn level_from_env_prefers_the_most_specific_variable() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(level_from_env("dbaas", env(&[])), LevelFilter::OFF);
        assert_eq!(
            level_from_env("dbaas", env(&[("TF_LOG", "info")])),
            LevelFilter::INFO
        );
        assert_eq!(
            level_from_env(
                "dbaas",
                env(&[("TF_LOG", "info"), ("TF_LOG_PROVIDER", "error")])
            ),
            LevelFilter::ERROR
        );
        assert_eq!(
            level_from_env(
                "dbaas",
                env(&[
                    ("TF_LOG", "info"),
                    ("TF_LOG_PROVIDER", "error"),
                    ("TF_LOG_PROVIDER_DBAAS", "debug"),
                ])
            ),
            LevelFilter::DEBUG
        );
        // A blank value counts as unset.
        assert_eq!(
            level_from_env(
                "dbaas",
                env(&[("TF_LOG_PROVIDER_DBAAS", " "), ("TF_LOG", "warn")])
            ),
            LevelFilter::WARN
        );
    }

    #[test]
    fn level_env_vars_uppercase_the_provider_name() {
        assert_eq!(level_env_vars("my-db")[0], "TF_LOG_PROVIDER_MY_DB");
    }

    #[test]
    fn module_for_target_uses_the_last_segment() {
        assert_eq!(module_for_target("dbaas"), "provider");
        assert_eq!(module_for_target("terraform_provider_dbaas"), "provider");
        assert_eq!(
            module_for_target("dbaas::tfplugin::serve"),
            "provider.serve"
        );
        assert_eq!(module_for_target("h2::codec"), "provider.codec");
    }

    #[test]
    fn provider_filter_caps_dependencies_at_warn() {
        let filter = provider_filter(LevelFilter::TRACE);
        assert!(filter.would_enable("dbaas::tfplugin::serve", &Level::TRACE));
        assert!(filter.would_enable("terraform_provider_dbaas", &Level::DEBUG));
        assert!(!filter.would_enable("h2::proto", &Level::DEBUG));
        assert!(filter.would_enable("h2::proto", &Level::WARN));

        let off = provider_filter(LevelFilter::OFF);
        assert!(!off.would_enable("dbaas", &Level::ERROR));
        assert!(!off.would_enable("h2", &Level::ERROR));

        let error_only = provider_filter(LevelFilter::ERROR);
        assert!(!error_only.would_enable("h2", &Level::WARN));
        assert!(error_only.would_enable("dbaas::x", &Level::ERROR));
    }

    #[test]
    fn layer_writes_events_with_span_fields() {
        let buffer = SharedBuffer::default();
        let subscriber = tracing_subscriber::registry()
            .with(HclogLayer::new(buffer.clone()).with_filter(provider_filter(LevelFilter::DEBUG)));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(target: "dbaas::rpc", "rpc", tf_rpc = "ApplyResourceChange", tf_req_id = 7_u64);
            let _entered = span.enter();
            tracing::debug!(target: "dbaas::tfplugin::serve", attempts = 2, ok = true, ratio = 0.5, "created {}", "db1");
            tracing::trace!(target: "dbaas::tfplugin::serve", "filtered out");
            tracing::debug!(target: "hyper::proto", "dependency noise");
            tracing::warn!(target: "hyper::proto", "dependency warning");
        });
        let output = buffer.contents();
        let lines: Vec<Value> = output
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2, "output: {output}");

        let event = &lines[0];
        assert_eq!(event["@level"], "debug");
        assert_eq!(event["@message"], "created db1");
        assert_eq!(event["@module"], "provider.serve");
        assert!(
            event["@caller"]
                .as_str()
                .is_some_and(|c| c.starts_with("src/tfplugin/log.rs:"))
        );
        assert_eq!(event["tf_rpc"], "ApplyResourceChange");
        assert_eq!(event["tf_req_id"], 7);
        assert_eq!(event["attempts"], 2);
        assert_eq!(event["ok"], true);
        assert_eq!(event["ratio"], 0.5);
        let timestamp = event["@timestamp"].as_str().expect("timestamp is a string");
        let fraction = timestamp
            .split('.')
            .nth(1)
            .expect("has a fraction")
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        assert_eq!(fraction, 6, "timestamp {timestamp}");
        assert!(
            DateTime::parse_from_rfc3339(timestamp).is_ok(),
            "timestamp {timestamp}"
        );

        assert_eq!(lines[1]["@level"], "warn");
        assert_eq!(lines[1]["@message"], "dependency warning");
    }

    #[test]
    fn layer_records_errors_with_their_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);

        let buffer = SharedBuffer::default();
        let subscriber = tracing_subscriber::registry().with(HclogLayer::new(buffer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let error = Outer(std::io::Error::other("inner"));
            tracing::error!(
                error = &error as &(dyn std::error::Error + 'static),
                "failed"
            );
        });
        let line: Value = serde_json::from_str(buffer.contents().trim()).expect("JSON");
        assert_eq!(line["error"], "outer: inner");
        assert_eq!(line["@level"], "error");
    }

    #[test]
    fn panic_report_starts_with_panic_prefix() {
        let report = panic_report("boom", Some("src/main.rs:3:5"), Some("main"), "0: frame\n");
        assert!(report.starts_with("panic: boom\n"));
        assert!(report.contains("location: src/main.rs:3:5"));
        assert!(report.contains("thread: main"));
        assert!(report.ends_with("0: frame\n"));
    }

    #[test]
    fn panic_message_reads_str_and_string_payloads() {
        let text: Box<dyn std::any::Any + Send> = Box::new("static text");
        assert_eq!(panic_message(text.as_ref()), "static text");
        let owned: Box<dyn std::any::Any + Send> = Box::new(String::from("owned text"));
        assert_eq!(panic_message(owned.as_ref()), "owned text");
        let other: Box<dyn std::any::Any + Send> = Box::new(42_u8);
        assert_eq!(panic_message(other.as_ref()), "Box<dyn Any>");
    }
}
