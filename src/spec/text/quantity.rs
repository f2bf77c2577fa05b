//! Sizes (`"1.5g"`, `"512mb"`) and durations (`"1h30m"`, `"1.5s"`, `"500us"`) as Docker and Go read them.

use std::time::Duration;

/// Parses a memory size as `docker run -m` and compose's `mem_limit` do
/// (Docker's go-units): a number, whole or with a fraction, then an optional
/// unit `b`, `k`, `m`, `g`, `t`, `p`, each a power of 1024, case-insensitive,
/// with an optional `i` and `b` after it (`"1.5g"`, `"512mb"`, `"64MiB"`,
/// `"1 GB"`). A bare number is bytes. A fraction of a byte is dropped
/// (`"1.5k"` is 1536, `"0.3k"` is 307).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let not_a_size = || format!("{text:?} is not a size such as \"64m\", \"1.5g\" or \"512mb\"");
    let trimmed = text.trim();
    let number_end = trimmed
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (number.contains('.') && !digits(fraction)) {
        return Err(not_a_size());
    }
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let power = match unit.as_str() {
        "" | "b" => 0,
        "k" | "kb" | "ki" | "kib" => 1,
        "m" | "mb" | "mi" | "mib" => 2,
        "g" | "gb" | "gi" | "gib" => 3,
        "t" | "tb" | "ti" | "tib" => 4,
        "p" | "pb" | "pi" | "pib" => 5,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in size {text:?} (use b, k, m, g, t or p, powers of 1024)"
            ));
        }
    };
    let factor = 1u64 << (10 * power);
    let too_large = || format!("size {text:?} is too large");
    let whole: u64 = whole.parse().map_err(|_| too_large())?;
    whole
        .checked_mul(factor)
        .and_then(|bytes| bytes.checked_add(fraction_of(fraction, factor)))
        .ok_or_else(too_large)
}

/// Nanoseconds per duration unit, as Go's `time.ParseDuration` names them.
const UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a duration as Go's `time.ParseDuration` (and so Docker and
/// compose) do: one or more `<number><unit>` parts, each number whole or
/// with a fraction, with units `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`
/// (`"100ms"`, `"1.5s"`, `"1h30m"`, `"500us"`). A bare `"0"` is zero; any
/// other number needs a unit, and a unit Go does not know (`"10S"`,
/// `"2d"`, `"5min"`) is refused with the one to write instead. A fraction
/// of a nanosecond is dropped. A total past what a [`Duration`] holds is
/// an error, never a panic or a silently shortened value; how long each
/// setting may be is validation's call.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration such as \"100ms\", \"1.5s\" or \"1h30m\"");
    let too_long = || format!("{text:?} is too long a duration");
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    if trimmed.starts_with('-') {
        return Err(format!("{text:?} is negative; a duration is 0 or more"));
    }
    if trimmed.is_empty() {
        return Err(bad());
    }
    let mut nanos: u128 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(bad());
        }
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let unit = &after[..unit_end];
        let Some(&(_, per_unit)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(unit_problem(text, trimmed, number, unit).unwrap_or_else(bad));
        };
        // Only digits: the one way this fails is a number past u128.
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_long())?
        };
        let part = whole
            .checked_mul(u128::from(per_unit))
            .and_then(|part| part.checked_add(u128::from(fraction_of(fraction, per_unit))));
        nanos = part
            .and_then(|part| nanos.checked_add(part))
            .ok_or_else(too_long)?;
        rest = &after[unit_end..];
    }
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| too_long())?;
    // Below 10^9: fits.
    let subsec = (nanos % 1_000_000_000) as u32;
    Ok(Duration::new(secs, subsec))
}

/// What to write instead of `unit` (after `number`) in the duration `text`
/// (`trimmed`), when there is something better to say than "not a duration".
fn unit_problem(text: &str, trimmed: &str, number: &str, unit: &str) -> Option<String> {
    const KNOWN: &str = "ns, us, ms, s, m or h";
    if unit.is_empty() {
        let hint = if number == trimmed {
            format!("add one: \"{number}s\"")
        } else {
            format!("add one, such as \"{trimmed}s\"")
        };
        return Some(format!("{text:?} has a number without a unit; {hint}"));
    }
    let lower = unit.to_lowercase();
    let instead = match lower.as_str() {
        "d" | "day" | "days" => {
            let hours = number
                .parse::<u64>()
                .ok()
                .and_then(|days| days.checked_mul(24));
            let example = hours.map_or_else(|| "48h".to_string(), |hours| format!("{hours}h"));
            return Some(format!(
                "{text:?}: days are not a unit of Docker's durations; write hours: \"{example}\""
            ));
        }
        "sec" | "secs" | "second" | "seconds" => "s",
        "min" | "mins" | "minute" | "minutes" => "m",
        "hr" | "hrs" | "hour" | "hours" => "h",
        "msec" | "msecs" | "millis" => "ms",
        "usec" | "usecs" | "micros" => "us",
        "nsec" | "nsecs" | "nanos" => "ns",
        other if UNITS.iter().any(|(name, _)| *name == other) => {
            return Some(format!(
                "unknown unit {unit:?} in duration {text:?}: units are lower-case ({KNOWN}); \"{number}{lower}\"{}",
                if lower == "m" { " is minutes" } else { "" }
            ));
        }
        _ if unit.starts_with(char::is_whitespace)
            && UNITS.iter().any(|(name, _)| *name == unit.trim_start()) =>
        {
            return Some(format!(
                "{text:?} has a space before its unit; write \"{number}{}\"",
                unit.trim_start()
            ));
        }
        _ => {
            return Some(format!(
                "unknown unit {unit:?} in duration {text:?} (use {KNOWN})"
            ));
        }
    };
    Some(format!(
        "unknown unit {unit:?} in duration {text:?}; write \"{number}{instead}\""
    ))
}

/// `0.<digits>` × `factor`, rounded down, exactly, however many digits
/// there are: `digits` × `factor` with its last `digits.len()` digits (the
/// fraction of the result) dropped. Below `factor`.
fn fraction_of(digits: &str, factor: u64) -> u64 {
    // Schoolbook multiplication from the last digit: each step keeps one
    // digit (of the fraction) and carries the rest. What is carried out of
    // the first digit is the whole part; it stays below `factor`, so the
    // carry never exceeds 10 × `factor`.
    let factor = u128::from(factor);
    let mut carry: u128 = 0;
    for digit in digits.bytes().rev() {
        carry = (u128::from(digit - b'0') * factor + carry) / 10;
    }
    // Below `factor`, a u64.
    carry as u64
}

/// Prints a duration in the form [`parse_duration`] reads, exactly: in whole
/// seconds when it is, else in the largest of `ms`, `us` and `ns` that holds
/// it whole (`"1500ms"`, `"1500us"`, `"1ns"`).
pub fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    for (unit, per) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        if nanos.is_multiple_of(per) {
            return format!("{}{unit}", nanos / per);
        }
    }
    format!("{nanos}ns")
}
