//! The `timeouts { create = "40m" … }` block, in the format of Terraform's other providers: Go
//! duration strings, checked at plan time, read back from state at apply time.

use std::time::Duration;

use super::diag::Diagnostics;
use super::path::AttributePath;
use super::schema::{Attribute, Block, NestedBlock};
use super::value::{Type, Value};

/// Name of the block.
pub const TIMEOUTS_BLOCK: &str = "timeouts";

/// The block for the given operations (`create`, `update`, `delete`, `read`), each with its default
/// shown in the description so the docs say it from the code.
pub fn block(operations: &[(&str, Duration)]) -> NestedBlock {
    let mut inner = Block::new(
        "How long to wait for each operation, as a duration such as `30s`, `10m` or `1h30m`.",
    );
    for (operation, default) in operations {
        inner = inner.attribute(
            Attribute::new(*operation, Type::String)
                .optional()
                .description(format!(
                    "How long {operation} may take before it fails. Default: `{}`.",
                    format_duration(*default)
                )),
        );
    }
    NestedBlock::single(TIMEOUTS_BLOCK, inner)
}

/// The timeout of `operation` from a state or configuration value, or `default` when unset.
/// Values were validated at plan time, so a bad one here falls back to the default.
pub fn get(value: &Value, operation: &str, default: Duration) -> Duration {
    value
        .attr(TIMEOUTS_BLOCK)
        .attr(operation)
        .as_str()
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}

/// Checks every known duration in the block.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let Value::Object(fields) = config.attr(TIMEOUTS_BLOCK) else {
        return;
    };
    for (operation, value) in fields {
        let Some(text) = value.as_str() else { continue };
        if let Err(problem) = parse_duration(text) {
            diags.attribute_error(
                AttributePath::attr(TIMEOUTS_BLOCK).with_attr(operation),
                "Invalid Timeout",
                format!(
                    "timeouts.{operation} = \"{text}\" is not a duration: {problem}. Use a number \
                     with a unit, such as \"30s\", \"10m\", \"1h30m\" (units: {}).",
                    crate::duration::UNITS
                ),
            );
        }
    }
}

/// Parses a Go-style duration (`1h30m`, `45s`, `1.5h`, `500ms`; see [`crate::duration`]).
/// Zero is refused: a wait needs time.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match crate::duration::parse(text)? {
        Duration::ZERO => Err("it must be greater than zero".into()),
        duration => Ok(duration),
    }
}

/// Formats a duration the way users write it (`20m`, `1h30m`, `45s`).
pub fn format_duration(duration: Duration) -> String {
    let total = duration.as_secs();
    let (hours, minutes, seconds) = (total / 3600, total % 3600 / 60, total % 60);
    let mut text = String::new();
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || text.is_empty() {
        text.push_str(&format!("{seconds}s"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_duration_accepts_go_forms() {
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn parse_duration_refuses_bad_text() {
        for bad in ["", "10", "m", "10x", "0s", "1h-5m", "ten minutes"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn format_duration_round_trips() {
        for text in ["20m", "1h30m", "45s", "3h"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn validate_names_the_attribute() {
        let config = Value::object([(
            TIMEOUTS_BLOCK,
            Value::object([("create", Value::string("soon"))]),
        )]);
        let mut diags = Diagnostics::default();
        validate(&config, &mut diags);
        let diag = diags.iter().next().expect("one diagnostic");
        assert_eq!(diag.path.as_ref().unwrap().to_string(), "timeouts.create");
        assert!(diag.detail.contains("\"soon\""));
    }

    #[test]
    fn validate_refuses_huge_timeouts_with_a_diagnostic() {
        // Both once panicked the provider ("cannot convert float seconds to Duration").
        for huge in [
            "9999999999999999h".to_owned(),
            format!("{}s", "9".repeat(400)),
        ] {
            let config = Value::object([(
                TIMEOUTS_BLOCK,
                Value::object([("create", Value::string(&huge))]),
            )]);
            let mut diags = Diagnostics::default();
            validate(&config, &mut diags);
            let diag = diags.iter().next().expect("one diagnostic");
            assert_eq!(diag.path.as_ref().unwrap().to_string(), "timeouts.create");
            assert!(diag.detail.contains("longer than"), "{}", diag.detail);
            assert_eq!(
                get(&config, "create", Duration::from_secs(60)),
                Duration::from_secs(60)
            );
        }
    }
}
