//! Go-compatible durations (`time.ParseDuration` / `time.Duration.String`).
//!
//! Flags such as `--request-timeout=1m30s` use Go's duration syntax: an
//! optional sign followed by one or more `<number><unit>` parts, where the
//! number may have a fraction and the unit is one of `ns`, `us` (`µs`,
//! `μs`), `ms`, `s`, `m`, `h`. The bare string `0` is also accepted.
//! Values are kept as signed nanoseconds (like Go's `time.Duration`) so that
//! validation can report negative values instead of failing to parse them.

use std::fmt;
use std::time::Duration;

/// A signed duration in nanoseconds, parsed and printed the way Go does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(pub i64);

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// Largest magnitude Go accepts while accumulating (1<<63 for the negative case).
const LIMIT: u64 = 1 << 63;

impl GoDuration {
    pub const ZERO: GoDuration = GoDuration(0);

    pub const fn from_secs(secs: i64) -> Self {
        GoDuration(secs.saturating_mul(1_000_000_000))
    }

    pub fn nanos(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The std duration, or `None` when negative.
    pub fn to_std(self) -> Option<Duration> {
        u64::try_from(self.0).ok().map(Duration::from_nanos)
    }

    /// Parse a Go duration string. The error text mirrors Go's messages.
    pub fn parse(input: &str) -> Result<Self, String> {
        parse_go_duration(input)
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_go_duration(self.0))
    }
}

impl std::str::FromStr for GoDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_go_duration(s)
    }
}

fn unit_nanos(unit: &[u8]) -> Option<u64> {
    Some(match unit {
        b"ns" => NANOSECOND,
        b"us" => MICROSECOND,
        // U+00B5 micro sign and U+03BC greek small letter mu.
        [0xC2, 0xB5, b's'] | [0xCE, 0xBC, b's'] => MICROSECOND,
        b"ms" => MILLISECOND,
        b"s" => SECOND,
        b"m" => MINUTE,
        b"h" => HOUR,
        _ => return None,
    })
}

/// Parse a duration with Go's `time.ParseDuration` rules.
pub fn parse_go_duration(input: &str) -> Result<GoDuration, String> {
    let invalid = || format!("time: invalid duration \"{input}\"");
    let mut s = input.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(GoDuration(0));
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
            if v > (LIMIT - 1) / 10 {
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
        // Fraction part.
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut j = 0;
            let mut overflow = false;
            while j < s.len() && s[j].is_ascii_digit() {
                if !overflow {
                    if frac > (LIMIT - 1) / 10 {
                        overflow = true;
                    } else {
                        let y = frac * 10 + u64::from(s[j] - b'0');
                        if y > LIMIT {
                            overflow = true;
                        } else {
                            frac = y;
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
        let mut k = 0;
        while k < s.len() && !(s[k] == b'.' || s[k].is_ascii_digit()) {
            k += 1;
        }
        if k == 0 {
            return Err(format!("time: missing unit in duration \"{input}\""));
        }
        let unit_bytes = &s[..k];
        s = &s[k..];
        let Some(unit) = unit_nanos(unit_bytes) else {
            return Err(format!(
                "time: unknown unit \"{}\" in duration \"{input}\"",
                String::from_utf8_lossy(unit_bytes)
            ));
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if frac > 0 {
            // Same float arithmetic as Go: float64(f) * (float64(unit) / scale).
            let add = (frac as f64) * (unit as f64 / scale);
            v = v.saturating_add(add as u64);
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.saturating_add(v);
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // total <= 1<<63 here, so the negation fits.
        return Ok(GoDuration((total as i128).wrapping_neg() as i64));
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(GoDuration(total as i64))
}

/// Format fractional digits of `v / 10^prec`, without trailing zeros.
fn frac_digits(v: u64, prec: u32) -> (String, u64) {
    let div = 10u64.pow(prec);
    let frac = v % div;
    let mut out = String::new();
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = prec as usize);
        let trimmed = digits.trim_end_matches('0');
        out.push('.');
        out.push_str(trimmed);
    }
    (out, v / div)
}

/// Format nanoseconds the way Go's `time.Duration.String()` does
/// (`0s`, `300ms`, `1.5s`, `1m30s`, `1h0m0s`).
pub fn format_go_duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < SECOND {
        if u == 0 {
            return "0s".to_string();
        }
        let (prec, unit) = if u < MICROSECOND {
            (0, "ns")
        } else if u < MILLISECOND {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (frac, int) = frac_digits(u, prec);
        out.push_str(&int.to_string());
        out.push_str(&frac);
        out.push_str(unit);
    } else {
        let (frac, mut rest) = frac_digits(u, 9);
        let secs = rest % 60;
        rest /= 60;
        let mut s = format!("{secs}{frac}s");
        if rest > 0 {
            let mins = rest % 60;
            rest /= 60;
            s = format!("{mins}m{s}");
            if rest > 0 {
                s = format!("{rest}h{s}");
            }
        }
        out.push_str(&s);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> i64 {
        parse_go_duration(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .0
    }

    #[test]
    fn parses_go_forms() {
        assert_eq!(p("0"), 0);
        assert_eq!(p("90s"), 90 * SECOND as i64);
        assert_eq!(p("1m30s"), 90 * SECOND as i64);
        assert_eq!(p("300ms"), 300 * MILLISECOND as i64);
        assert_eq!(p("1h"), HOUR as i64);
        assert_eq!(p("1.5h"), (HOUR + 30 * MINUTE) as i64);
        assert_eq!(p("-1.5s"), -1_500_000_000);
        assert_eq!(p("+5s"), 5 * SECOND as i64);
        assert_eq!(p("2h45m"), (2 * HOUR + 45 * MINUTE) as i64);
        assert_eq!(p("10us"), 10_000);
        assert_eq!(p("10µs"), 10_000);
        assert_eq!(p("10μs"), 10_000);
        assert_eq!(p("7ns"), 7);
        assert_eq!(p(".5s"), 500 * MILLISECOND as i64);
        assert_eq!(p("1.s"), SECOND as i64);
        assert_eq!(p("-0"), 0);
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in [
            "", "5", "5x", "s", "-", ".", "1h-2m", "1..5s", " 5s", "5s ", "0x10s",
        ] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?} should fail");
        }
        assert!(parse_go_duration("5").unwrap_err().contains("missing unit"));
        assert!(parse_go_duration("5x")
            .unwrap_err()
            .contains("unknown unit"));
        // Overflow.
        assert!(parse_go_duration("9223372036854775808ns").is_err());
        assert_eq!(p("9223372036854775807ns"), i64::MAX);
        assert_eq!(p("-9223372036854775808ns"), i64::MIN);
        assert!(parse_go_duration("3000000h").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(60 * SECOND as i64), "1m0s");
        assert_eq!(format_go_duration(5 * MINUTE as i64), "5m0s");
        assert_eq!(format_go_duration(HOUR as i64), "1h0m0s");
        assert_eq!(format_go_duration(90 * SECOND as i64), "1m30s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(300 * MILLISECOND as i64), "300ms");
        assert_eq!(format_go_duration(1_500), "1.5µs");
        assert_eq!(format_go_duration(7), "7ns");
        assert_eq!(format_go_duration(-90 * SECOND as i64), "-1m30s");
        assert_eq!(format_go_duration(i64::MIN), "-2562047h47m16.854775808s");
        for s in ["1m0s", "1h0m0s", "1.5s", "300ms", "2h45m0s"] {
            assert_eq!(format_go_duration(p(s)), s);
        }
    }
}
