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

/// Parses a Go duration (`90s`, `1m30s`, `-1.5h`), as pflag's duration flags do.
pub fn parse_go_duration(input: &str) -> Result<GoDuration, String> {
    apimachinery::duration::parse_go_duration_signed(input)
        .map(GoDuration)
        .map_err(|e| e.to_string())
}

/// Formats nanoseconds as Go's `Duration.String()` does (`1m30s`, `0s`).
pub fn format_go_duration(nanos: i64) -> String {
    apimachinery::duration::format_go_duration_signed(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MILLISECOND: u64 = 1_000_000;
    const SECOND: u64 = 1_000 * MILLISECOND;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;

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
