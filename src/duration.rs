//! Go-style durations, the crate's one parser of them: `timeouts`, the provider's
//! `poll_interval` and `request_timeout`, and dbaas-local's `--provision-delay` all read the
//! format Terraform users know from every other provider (Go's `time.ParseDuration`).
//!
//! A duration is a sequence of decimal numbers, each with an optional fraction and a unit:
//! `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`, as in `300ms`, `1.5h` or `2h45m`. `0` alone means
//! zero. Arithmetic is integer and checked: anything longer than Go's range (about 292 years)
//! is refused with a message, never wrapped or turned into a panic. Negative durations are
//! refused: nothing here can wait a negative time.

use std::time::Duration;

/// The longest duration accepted: Go's `time.Duration` range (`i64::MAX` nanoseconds).
pub const MAX: Duration = Duration::from_nanos(i64::MAX as u64);

/// The units, as a phrase for messages.
pub const UNITS: &str = "ns, us, ms, s, m, h";

/// Parses a Go-style duration; the error says what is wrong, in a phrase that fits after
/// "… is not a duration: ".
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let unsigned = match text.strip_prefix('-') {
        Some(_) => return Err("it is negative".to_owned()),
        None => text.strip_prefix('+').unwrap_or(text),
    };
    if unsigned.is_empty() {
        return Err("it is empty".to_owned());
    }
    if unsigned == "0" {
        return Ok(Duration::ZERO);
    }
    let too_long = || {
        format!(
            "it is longer than the longest duration, {}h",
            MAX.as_secs() / 3600
        )
    };
    let mut total: u128 = 0;
    let mut rest = unsigned;
    while !rest.is_empty() {
        let whole_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let fraction = match rest.strip_prefix('.') {
            Some(after) => {
                let len = after
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len());
                rest = &after[len..];
                &after[..len]
            }
            None => "",
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(format!("expected a number at \"{rest}\""));
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(format!(
                    "\"{whole}{}{fraction}\" has no unit",
                    if fraction.is_empty() { "" } else { "." }
                ));
            }
            other => return Err(format!("unknown unit \"{other}\" (units: {UNITS})")),
        };
        rest = &rest[unit_len..];
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_long())?
        };
        // The fraction's digits past nanosecond precision of an hour cannot change the result.
        let fraction = &fraction[..fraction.len().min(24)];
        let fraction_nanos = if fraction.is_empty() {
            0
        } else {
            let digits: u128 = fraction.parse().map_err(|_| too_long())?;
            digits * nanos_per_unit / 10u128.pow(fraction.len() as u32)
        };
        total = whole
            .checked_mul(nanos_per_unit)
            .and_then(|nanos| nanos.checked_add(fraction_nanos))
            .and_then(|nanos| nanos.checked_add(total))
            .filter(|nanos| *nanos <= MAX.as_nanos())
            .ok_or_else(too_long)?;
    }
    u64::try_from(total)
        .map(Duration::from_nanos)
        .map_err(|_| too_long())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parse_reads_go_durations() {
        for (text, expected) in [
            ("45s", Duration::from_secs(45)),
            ("1h30m", Duration::from_secs(5400)),
            ("1.5h", Duration::from_secs(5400)),
            ("250ms", Duration::from_millis(250)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            (".5s", Duration::from_millis(500)),
            ("1.s", Duration::from_secs(1)),
            ("+2m", Duration::from_secs(120)),
            (" 2h45m ", Duration::from_secs(9900)),
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("2562047h", Duration::from_secs(2_562_047 * 3600)),
        ] {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn parse_refuses_what_is_not_a_duration() {
        for (text, reason) in [
            ("", "empty"),
            ("10", "no unit"),
            ("1.5", "no unit"),
            ("m", "expected a number"),
            ("10x", "unknown unit \"x\""),
            ("10d", "unknown unit"),
            ("1h-5m", "unknown unit \"h-\""),
            ("-1s", "negative"),
            ("ten minutes", "expected a number"),
            ("5 s", "unknown unit \" s\""),
            (".s", "expected a number"),
            ("9999999999999999h", "longer than"),
            ("2562048h", "longer than"),
        ] {
            let problem = parse(text).unwrap_err();
            assert!(problem.contains(reason), "{text:?}: {problem}");
        }
        let digits = format!("{}s", "9".repeat(400));
        assert!(parse(&digits).unwrap_err().contains("longer than"));
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_duration_like_text(
            text in "[+-]?([0-9]{0,30}(\\.[0-9]{0,30})?(ns|us|µs|ms|s|m|h|x)?){1,4}"
        ) {
            if let Ok(duration) = parse(&text) {
                prop_assert!(duration <= MAX);
            }
        }

        #[test]
        fn parse_reads_what_seconds_say(seconds in 0u64..=MAX.as_secs()) {
            prop_assert_eq!(parse(&format!("{seconds}s")), Ok(Duration::from_secs(seconds)));
        }
    }
}
