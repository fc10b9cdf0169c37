//! Go `time.Duration` text: a parser compatible with `time.ParseDuration`
//! and a formatter like `Duration.String()`.
//!
//! Go durations are signed nanosecond counts (`i64`). Two layers are offered:
//! [`parse_go_duration`]/[`format_go_duration`] work on [`std::time::Duration`],
//! where a negative input is rejected with [`DurationError::Negative`] (whose
//! message the caller can show as is); [`parse_go_duration_signed`]/
//! [`format_go_duration_signed`] work on signed nanoseconds with Go's exact
//! semantics.

use std::fmt;
use std::time::Duration;

/// Why a duration string was rejected. `Display` gives Go's message
/// (`time: invalid duration "x"`, `time: missing unit in duration "1"`,
/// `time: unknown unit "d" in duration "1d"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Not of the form `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or out of range.
    Invalid(String),
    /// A number without a unit.
    MissingUnit(String),
    /// An unknown unit (`unit`, `input`).
    UnknownUnit(String, String),
    /// A negative duration where only non-negative ones are accepted.
    Negative(String),
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Invalid(s) => write!(f, "time: invalid duration {}", time_quote(s)),
            DurationError::MissingUnit(s) => {
                write!(f, "time: missing unit in duration {}", time_quote(s))
            }
            DurationError::UnknownUnit(u, s) => write!(
                f,
                "time: unknown unit {} in duration {}",
                time_quote(u),
                time_quote(s)
            ),
            DurationError::Negative(s) => {
                write!(f, "duration must not be negative: {}", time_quote(s))
            }
        }
    }
}

impl std::error::Error for DurationError {}

/// The `quote` helper of Go's `time` package: non-ASCII and control bytes as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1000 * NANOSECOND;
const MILLISECOND: u64 = 1000 * MICROSECOND;
const SECOND: u64 = 1000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

fn unit_value(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => NANOSECOND,
        "us" | "\u{b5}s" | "\u{3bc}s" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

const LIMIT: u64 = 1 << 63;

/// Parses a Go duration string (`300ms`, `-1.5h`, `2h45m`, `1m30s`, `0`) into
/// signed nanoseconds, exactly as `time.ParseDuration`.
pub fn parse_go_duration_signed(input: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid(input.to_string());
    let mut s = input.as_bytes();
    let mut neg = false;
    if let Some(c @ (b'-' | b'+')) = s.first() {
        neg = *c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Integer part.
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if v > LIMIT / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(s[i] - b'0');
            if v > LIMIT {
                return Err(invalid());
            }
            i += 1;
        }
        let pre = i > 0;
        s = &s[i..];
        // Fraction.
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut j = 0;
            let mut overflow = false;
            while j < s.len() && s[j].is_ascii_digit() {
                if !overflow {
                    if f > (LIMIT - 1) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[j] - b'0');
                        if y > LIMIT {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                j += 1;
            }
            post = j > 0;
            s = &s[j..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        // Unit.
        let u_len = s
            .iter()
            .position(|c| *c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if u_len == 0 {
            return Err(DurationError::MissingUnit(input.to_string()));
        }
        let unit_str = String::from_utf8_lossy(&s[..u_len]).into_owned();
        s = &s[u_len..];
        let unit = unit_value(&unit_str)
            .ok_or_else(|| DurationError::UnknownUnit(unit_str.clone(), input.to_string()))?;
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total += v;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // total <= 2^63, so the negation fits.
        return Ok((total as i64).wrapping_neg());
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

/// Parses a Go duration string into a [`Duration`]; negative values are
/// rejected with [`DurationError::Negative`] (`-0s` is zero and accepted).
pub fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    let nanos = parse_go_duration_signed(input)?;
    if nanos < 0 {
        return Err(DurationError::Negative(input.to_string()));
    }
    Ok(Duration::from_nanos(nanos as u64))
}

/// Writes `v / 10^prec` fraction digits (without trailing zeros) and returns
/// `v / 10^prec`; mirrors Go's `fmtFrac`.
fn fmt_frac(out: &mut Vec<u8>, mut v: u64, prec: u32) -> u64 {
    let mut print = false;
    let mut digits = Vec::new();
    for _ in 0..prec {
        let digit = v % 10;
        print = print || digit != 0;
        if print {
            digits.push(b'0' + digit as u8);
        }
        v /= 10;
    }
    if print {
        digits.push(b'.');
    }
    // `out` is built back to front.
    out.extend(digits);
    v
}

fn fmt_int(out: &mut Vec<u8>, mut v: u64) {
    if v == 0 {
        out.push(b'0');
        return;
    }
    while v > 0 {
        out.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
}

/// Formats signed nanoseconds like Go's `Duration.String()`:
/// `1h0m0s`, `1m30s`, `1.5s`, `500ms`, `1µs`, `0s`.
pub fn format_go_duration_signed(nanos: i64) -> String {
    // Built reversed, then flipped.
    let mut rev: Vec<u8> = Vec::with_capacity(32);
    let neg = nanos < 0;
    let mut u = nanos.unsigned_abs();
    if u < SECOND {
        let prec;
        if u == 0 {
            return "0s".to_string();
        }
        rev.push(b's');
        if u < MICROSECOND {
            prec = 0;
            rev.push(b'n');
        } else if u < MILLISECOND {
            prec = 3;
            // "µ" (U+00B5) is 0xC2 0xB5, pushed reversed.
            rev.push(0xB5);
            rev.push(0xC2);
        } else {
            prec = 6;
            rev.push(b'm');
        }
        u = fmt_frac(&mut rev, u, prec);
        fmt_int(&mut rev, u);
    } else {
        rev.push(b's');
        u = fmt_frac(&mut rev, u, 9);
        fmt_int(&mut rev, u % 60);
        u /= 60;
        if u > 0 {
            rev.push(b'm');
            fmt_int(&mut rev, u % 60);
            u /= 60;
            if u > 0 {
                rev.push(b'h');
                fmt_int(&mut rev, u);
            }
        }
    }
    if neg {
        rev.push(b'-');
    }
    rev.reverse();
    String::from_utf8(rev).unwrap_or_default()
}

/// Formats a [`Duration`] like Go's `Duration.String()` (saturating at Go's
/// maximum of 2562047h47m16.854775807s).
pub fn format_go_duration(d: Duration) -> String {
    let nanos = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    format_go_duration_signed(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        // Cases from Go's time/time_test.go parseDurationTests.
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("5s", 5 * SECOND as i64),
            ("30s", 30 * SECOND as i64),
            ("1478s", 1478 * SECOND as i64),
            ("-5s", -5 * SECOND as i64),
            ("+5s", 5 * SECOND as i64),
            ("-0", 0),
            ("+0", 0),
            ("5.0s", 5 * SECOND as i64),
            ("5.6s", 5 * SECOND as i64 + 600 * MILLISECOND as i64),
            ("5.s", 5 * SECOND as i64),
            (".5s", 500 * MILLISECOND as i64),
            ("1.0s", SECOND as i64),
            ("1.00s", SECOND as i64),
            ("1.004s", SECOND as i64 + 4 * MILLISECOND as i64),
            ("1.0040s", SECOND as i64 + 4 * MILLISECOND as i64),
            ("100.00100s", 100 * SECOND as i64 + MILLISECOND as i64),
            ("10ns", 10),
            ("11us", 11 * MICROSECOND as i64),
            ("12µs", 12 * MICROSECOND as i64),
            ("12μs", 12 * MICROSECOND as i64),
            ("13ms", 13 * MILLISECOND as i64),
            ("14s", 14 * SECOND as i64),
            ("15m", 15 * MINUTE as i64),
            ("16h", 16 * HOUR as i64),
            ("3h30m", (3 * HOUR + 30 * MINUTE) as i64),
            (
                "10.5s4m",
                (4 * MINUTE + 10 * SECOND + 500 * MILLISECOND) as i64,
            ),
            (
                "-2m3.4s",
                -((2 * MINUTE + 3 * SECOND + 400 * MILLISECOND) as i64),
            ),
            (
                "1h2m3s4ms5us6ns",
                (HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6) as i64,
            ),
            (
                "39h9m14.425s",
                (39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND) as i64,
            ),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 20 * MINUTE as i64),
            ("9007199254740993ns", (1 << 53) + 1),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("9223372036s854ms775us807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("-9223372036854775.808us", i64::MIN),
            ("-9223372036s854ms775us808ns", i64::MIN),
            ("-9223372036854775808ns", i64::MIN),
            ("-2562047.7999608s", -2_562_047_799_960_800),
            ("0.100000000000000000000h", 6 * MINUTE as i64),
            (
                "0.830103483285477580700h",
                (49 * MINUTE + 48 * SECOND + 372_539_827) as i64,
            ),
            ("300ms", 300 * MILLISECOND as i64),
            ("-1.5h", -((HOUR + 30 * MINUTE) as i64)),
            ("2h45m", (2 * HOUR + 45 * MINUTE) as i64),
            ("1m30s", 90 * SECOND as i64),
        ];
        for (s, want) in ok {
            assert_eq!(parse_go_duration_signed(s), Ok(*want), "{s}");
        }
    }

    #[test]
    fn rejects_like_go() {
        let bad: &[(&str, &str)] = &[
            ("", "time: invalid duration \"\""),
            ("3", "time: missing unit in duration \"3\""),
            ("-", "time: invalid duration \"-\""),
            ("s", "time: invalid duration \"s\""),
            (".", "time: invalid duration \".\""),
            ("-.", "time: invalid duration \"-.\""),
            (".s", "time: invalid duration \".s\""),
            ("+.s", "time: invalid duration \"+.s\""),
            ("1d", "time: unknown unit \"d\" in duration \"1d\""),
            (
                "\u{85}\u{85}",
                "time: invalid duration \"\\xc2\\x85\\xc2\\x85\"",
            ),
            ("\u{ffff}", "time: invalid duration \"\\xef\\xbf\\xbf\""),
            (
                "9223372036854775808ns",
                "time: invalid duration \"9223372036854775808ns\"",
            ),
            (
                "9223372036854775.808us",
                "time: invalid duration \"9223372036854775.808us\"",
            ),
            (
                "9223372036854ms775us808ns",
                "time: invalid duration \"9223372036854ms775us808ns\"",
            ),
            (
                "-9223372036854775809ns",
                "time: invalid duration \"-9223372036854775809ns\"",
            ),
            ("1.5x", "time: unknown unit \"x\" in duration \"1.5x\""),
            (
                "1µ",
                "time: unknown unit \"\\xc2\\xb5\" in duration \"1\\xc2\\xb5\"",
            ),
        ];
        for (s, want) in bad {
            match parse_go_duration_signed(s) {
                Err(e) => assert_eq!(e.to_string(), *want, "{s}"),
                Ok(v) => panic!("{s} parsed as {v}"),
            }
        }
    }

    #[test]
    fn std_duration() {
        assert_eq!(parse_go_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("-0s"), Ok(Duration::ZERO));
        let e = parse_go_duration("-1s").unwrap_err();
        assert_eq!(e, DurationError::Negative("-1s".into()));
        assert_eq!(e.to_string(), "duration must not be negative: \"-1s\"");
    }

    #[test]
    fn formats_like_go() {
        // Cases from Go's durationTests.
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            ((4 * MINUTE + 5 * SECOND) as i64, "4m5s"),
            ((4 * MINUTE + 5001 * MILLISECOND) as i64, "4m5.001s"),
            (
                (5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND) as i64,
                "5h6m7.001s",
            ),
            ((8 * MINUTE) as i64 + 1, "8m0.000000001s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (HOUR as i64, "1h0m0s"),
            (90 * SECOND as i64, "1m30s"),
            (500 * MILLISECOND as i64, "500ms"),
            (-1500 * MILLISECOND as i64, "-1.5s"),
        ];
        for (n, want) in cases {
            assert_eq!(format_go_duration_signed(*n), *want, "{n}");
        }
        assert_eq!(format_go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(
            format_go_duration(Duration::MAX),
            "2562047h47m16.854775807s"
        );
    }

    #[test]
    fn round_trip() {
        for s in ["1h0m0s", "1m30s", "500ms", "1.5s", "2h45m0s", "1µs", "7ns"] {
            let n = parse_go_duration_signed(s).unwrap();
            assert_eq!(format_go_duration_signed(n), s);
        }
    }
}
