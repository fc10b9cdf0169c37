//! CronJob schedules and time zones, checked as upstream checks them: the standard five-field
//! cron syntax (with `@hourly`-style descriptors and `@every <duration>`) worded as the cron
//! library upstream uses words its errors, and IANA time zone names looked up in the
//! system's zone database.

use std::path::Path;

/// Where the IANA time zone database is read from.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// One field of a schedule: its bounds and, for months and days of the week, names.
struct Bounds {
    min: i64,
    max: i64,
    names: &'static [(&'static str, i64)],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DAYS_OF_MONTH: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DAYS_OF_WEEK: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// The descriptors that stand for a whole schedule.
const DESCRIPTORS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Go's `strconv.Atoi` error text for `s`.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

/// A non-negative number.
fn must_parse_int(expr: &str) -> Result<i64, String> {
    let n = atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {expr}"));
    }
    Ok(n)
}

fn parse_int_or_name(expr: &str, bounds: &Bounds) -> Result<i64, String> {
    let lower = expr.to_ascii_lowercase();
    if let Some((_, n)) = bounds.names.iter().find(|(name, _)| *name == lower) {
        return Ok(*n);
    }
    must_parse_int(expr)
}

/// One comma-separated part of a field: `*`, `?`, `n`, `a-b`, each optionally `/step`.
fn check_range(expr: &str, bounds: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (bounds.min, bounds.max)
    } else {
        let start = parse_int_or_name(low_and_high[0], bounds)?;
        let end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], bounds)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            if single {
                end = bounds.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < bounds.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        ));
    }
    if end > bounds.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

/// Go's `%s` of a string slice: `[a b c]`.
fn go_slice(fields: &[&str]) -> String {
    format!("[{}]", fields.join(" "))
}

/// Checks a schedule as upstream's `cron.ParseStandard` does, returning its error text.
pub fn parse_standard(schedule: &str) -> Result<(), String> {
    if schedule.is_empty() {
        return Err("empty spec string".to_string());
    }
    let mut spec = schedule;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let eq = spec.find('=').unwrap_or(0);
        let Some(space) = spec.find(' ') else {
            return Err(format!(
                "provided bad location {}: unknown time zone",
                &spec[eq + 1..]
            ));
        };
        let zone = &spec[eq + 1..space];
        if let Err(e) = load_location(zone) {
            return Err(format!("provided bad location {zone}: {e}"));
        }
        spec = spec[space..].trim();
    }
    if spec.starts_with('@') {
        if DESCRIPTORS.contains(&spec) {
            return Ok(());
        }
        if let Some(duration) = spec.strip_prefix("@every ") {
            return apimachinery::duration::parse_go_duration_signed(duration)
                .map(|_| ())
                .map_err(|e| format!("failed to parse duration {spec}: {e}"));
        }
        return Err(format!("unrecognized descriptor: {spec}"));
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: {}",
            fields.len(),
            go_slice(&fields)
        ));
    }
    for (field, bounds) in
        fields
            .iter()
            .zip([&MINUTES, &HOURS, &DAYS_OF_MONTH, &MONTHS, &DAYS_OF_WEEK])
    {
        for part in field.split(',').filter(|p| !p.is_empty()) {
            check_range(part, bounds)?;
        }
    }
    Ok(())
}

/// Go's `time.LoadLocation`: `UTC` and `Local`, else a TZif file of the zone database.
pub fn load_location(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "UTC" || name == "Local" {
        return Ok(());
    }
    let bad = name.contains("..") || name.starts_with('/') || name.contains('\\');
    if bad {
        return Err("time: invalid location name".to_string());
    }
    let path = Path::new(ZONEINFO).join(name);
    let is_tzif = std::fs::read(&path)
        .map(|bytes| bytes.starts_with(b"TZif"))
        .unwrap_or(false);
    if is_tzif {
        Ok(())
    } else {
        Err(format!("unknown time zone {name}"))
    }
}

/// A component of a time zone name as upstream allows it (`[A-Za-z.\-_0-9+]{1,14}`).
fn valid_zone_component(part: &str) -> bool {
    (1..=14).contains(&part.len())
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
}

/// Upstream's `validateTimeZone`: the error details for `zone`, in its order.
pub fn time_zone_errors(zone: &str) -> Vec<String> {
    if zone.is_empty() {
        return vec!["timeZone must be nil or non-empty string".to_string()];
    }
    let bad_part = zone
        .split('/')
        .any(|p| p == "." || p == ".." || p.starts_with('-') || !valid_zone_component(p));
    if bad_part {
        return vec![format!("unknown time zone {zone}")];
    }
    let mut errs = Vec::new();
    if zone.eq_ignore_ascii_case("local") {
        errs.push(
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
                .to_string(),
        );
    }
    if let Err(e) = load_location(zone) {
        errs.push(e);
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_schedules_and_descriptors() {
        for ok in [
            "*/5 * * * *",
            "0 0 1 jan,JUL mon-fri",
            "15 3 * * ?",
            "@hourly",
            "@every 1h30m",
            "0 9-17/2 * * 1-5",
            "TZ=UTC 0 * * * *",
        ] {
            assert_eq!(parse_standard(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn errors_as_the_cron_library_words_them() {
        let cases = [
            ("", "empty spec string"),
            ("* * *", "expected exactly 5 fields, found 3: [* * *]"),
            ("60 * * * *", "end of range (60) above maximum (59): 60"),
            ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
            (
                "x * * * *",
                "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            (
                "5-1 * * * *",
                "beginning of range (5) beyond end of range (1): 5-1",
            ),
            (
                "*/0 * * * *",
                "step of range should be a positive number: */0",
            ),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("@fortnightly", "unrecognized descriptor: @fortnightly"),
            (
                "@every x",
                "failed to parse duration @every x: time: invalid duration \"x\"",
            ),
        ];
        for (schedule, want) in cases {
            assert_eq!(
                parse_standard(schedule),
                Err(want.to_string()),
                "{schedule}"
            );
        }
    }

    #[test]
    fn time_zones() {
        assert!(time_zone_errors("America/New_York").is_empty());
        assert!(time_zone_errors("UTC").is_empty());
        assert_eq!(
            time_zone_errors(""),
            ["timeZone must be nil or non-empty string"]
        );
        assert_eq!(
            time_zone_errors("Mars/Olympus"),
            ["unknown time zone Mars/Olympus"]
        );
        assert_eq!(time_zone_errors("../etc"), ["unknown time zone ../etc"]);
        assert_eq!(
            time_zone_errors("Local"),
            ["timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"]
        );
        assert_eq!(time_zone_errors("local").len(), 2);
    }
}
