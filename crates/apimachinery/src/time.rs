//! Timestamps as `metav1.Time`/`metav1.MicroTime` marshal them, RFC 3339
//! parsing as Go's `time.Parse(time.RFC3339, …)` accepts it, and upstream's
//! `duration.HumanDuration` (the AGE column). No date/time crate: civil dates
//! are computed with days-from-civil arithmetic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1–12, day 1–31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Seconds and nanoseconds since the epoch (negative before 1970).
fn split_unix(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let (s, n) = (d.as_secs() as i64, d.subsec_nanos());
            if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - n)
            }
        }
    }
}

fn format_utc(t: SystemTime, micros: bool) -> String {
    let (secs, nanos) = split_unix(t);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    if micros {
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z",
            nanos / 1000
        )
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

/// `t` as `metav1.Time` marshals it: UTC, second precision (`2026-11-22T09:33:31Z`).
pub fn format_rfc3339(t: SystemTime) -> String {
    format_utc(t, false)
}

/// `t` as `metav1.MicroTime` marshals it: UTC, six fractional digits
/// (`2026-11-22T09:33:31.123456Z`).
pub fn format_rfc3339_micro(t: SystemTime) -> String {
    format_utc(t, true)
}

/// The current time as `metav1.Time` marshals it.
pub fn now_rfc3339() -> String {
    format_rfc3339(SystemTime::now())
}

/// The current time as `metav1.MicroTime` marshals it.
pub fn now_rfc3339_micro() -> String {
    format_rfc3339_micro(SystemTime::now())
}

/// Reads 1 or 2 digits (Go's `getnum(s, false)`) or exactly 2 (`fixed`).
fn getnum(s: &[u8], fixed: bool) -> Option<(u32, &[u8])> {
    let d0 = *s.first().filter(|c| c.is_ascii_digit())?;
    match s.get(1).filter(|c| c.is_ascii_digit()) {
        Some(d1) => Some((u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'), &s[2..])),
        None if fixed => None,
        None => Some((u32::from(d0 - b'0'), &s[1..])),
    }
}

/// Parses an RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, s)` does
/// (what `metav1.Time` unmarshalling uses): `2006-01-02T15:04:05Z07:00`, with
/// optional fractional seconds (`.` or `,`), `Z` or a `±hh:mm` offset.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year: i64 = s[..4].parse().ok()?;
    let rest = b[4..].strip_prefix(b"-")?;
    let (month, rest) = getnum(rest, true)?;
    let rest = rest.strip_prefix(b"-")?;
    let (day, rest) = getnum(rest, true)?;
    let rest = rest.strip_prefix(b"T")?;
    let (hour, rest) = getnum(rest, false)?;
    let rest = rest.strip_prefix(b":")?;
    let (minute, rest) = getnum(rest, true)?;
    let rest = rest.strip_prefix(b":")?;
    let (second, mut rest) = getnum(rest, true)?;
    if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut nanos: u64 = 0;
    if rest.len() >= 2 && (rest[0] == b'.' || rest[0] == b',') && rest[1].is_ascii_digit() {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        for (i, c) in rest[1..=digits].iter().enumerate() {
            if i < 9 {
                nanos = nanos * 10 + u64::from(c - b'0');
            }
        }
        for _ in digits..9 {
            nanos *= 10;
        }
        rest = &rest[1 + digits..];
    }
    let offset_secs: i64 = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hh, _) = getnum(&[*h1, *h2], true)?;
            let (mm, _) = getnum(&[*m1, *m2], true)?;
            if hh > 24 || mm > 60 {
                return None;
            }
            let off = i64::from(hh) * 3600 + i64::from(mm) * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second)
        - offset_secs;
    let t = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs as u64))?
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))?
    };
    t.checked_add(Duration::from_nanos(nanos))
}

/// Upstream's `duration.HumanDuration`: ~2–3 significant figures
/// (`5s`, `3m20s`, `10m`, `5h3m`, `2d5h`, `3y45d`, ...).
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        format!("{hours}h{m}m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        format!("{}d{h}h", hours / 24)
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        format!("{}y{dy}d", hours / 24 / 365)
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// Upstream's `duration.ShortHumanDuration` (one unit: `5s`, `3m`, `2h`, `4d`, `1y`).
pub fn short_human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 60 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 60 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 24 {
        format!("{hours}h")
    } else if hours < 24 * 365 {
        format!("{}d", hours / 24)
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// `HumanDuration(now − then)` including upstream's handling of clock skew:
/// `then` up to (excluding) 2s in the future gives `0s`, further gives `<invalid>`.
pub fn human_duration_since(then: SystemTime, now: SystemTime) -> String {
    match now.duration_since(then) {
        Ok(d) => human_duration(d),
        // Go truncates toward zero: -1.9s counts as -1s, which is "almost now".
        Err(e) if e.duration().as_secs() < 2 => "0s".to_string(),
        Err(_) => "<invalid>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn formats() {
        let t = at(1_795_340_011) + Duration::from_nanos(123_456_789);
        assert_eq!(format_rfc3339(t), "2026-11-22T09:33:31Z");
        assert_eq!(format_rfc3339_micro(t), "2026-11-22T09:33:31.123456Z");
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59Z"
        );
        assert_eq!(
            format_rfc3339_micro(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59.500000Z"
        );
        let now = now_rfc3339();
        assert_eq!(now.len(), 20);
        assert!(now.ends_with('Z'));
        assert_eq!(now_rfc3339_micro().len(), 27);
        assert!(parse_rfc3339(&now).is_some());
    }

    #[test]
    fn parses() {
        let t = at(1_795_340_011);
        assert_eq!(parse_rfc3339("2026-11-22T09:33:31Z"), Some(t));
        assert_eq!(parse_rfc3339("2026-11-22T10:33:31+01:00"), Some(t));
        assert_eq!(parse_rfc3339("2026-11-22T04:03:31-05:30"), Some(t));
        assert_eq!(parse_rfc3339("2026-11-22T9:33:31Z"), Some(t));
        assert_eq!(
            parse_rfc3339("2026-11-22T09:33:31.123456Z"),
            Some(t + Duration::from_micros(123_456))
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T09:33:31.1234567891Z"),
            Some(t + Duration::from_nanos(123_456_789))
        );
        assert_eq!(
            parse_rfc3339("1969-12-31T23:59:59Z"),
            Some(UNIX_EPOCH - Duration::from_secs(1))
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z")
                .map(format_rfc3339)
                .as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22 09:33:31Z",
            "2026-11-22t09:33:31Z",
            "2026-11-22T09:33:31",
            "2026-11-22T09:33:31z",
            "2026-1-22T09:33:31Z",
            "2026-13-22T09:33:31Z",
            "2023-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T09:60:00Z",
            "2026-11-22T09:33:60Z",
            "2026-11-22T09:33:31+0100",
            "2026-11-22T09:33:31Zjunk",
            "2026-11-22T09:33:31.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    const S: u64 = 1000;
    const M: u64 = 60 * S;
    const H: u64 = 60 * M;
    const D: u64 = 24 * H;
    const Y: u64 = 365 * D;

    #[test]
    fn human_durations() {
        // TestHumanDuration and TestHumanDurationBoundaries of upstream (in ms).
        let cases: &[(u64, &str)] = &[
            (S, "1s"),
            (70 * S, "70s"),
            (190 * S, "3m10s"),
            (70 * M, "70m"),
            (47 * H, "47h"),
            (49 * H, "2d1h"),
            ((8 * 24 + 2) * H, "8d"),
            (367 * D, "367d"),
            ((365 * 2 * 24 + 25) * H, "2y1d"),
            ((365 * 8 * 24 + 2) * H, "8y"),
            (0, "0s"),
            (S - 1, "0s"),
            (2 * M - 1, "119s"),
            (2 * M, "2m"),
            (2 * M + S, "2m1s"),
            (10 * M - 1, "9m59s"),
            (10 * M, "10m"),
            (10 * M + S, "10m"),
            (3 * H - 1, "179m"),
            (3 * H, "3h"),
            (3 * H + M, "3h1m"),
            (8 * H - 1, "7h59m"),
            (8 * H, "8h"),
            (8 * H + 59 * M, "8h"),
            (2 * D - 1, "47h"),
            (2 * D, "2d"),
            (2 * D + H, "2d1h"),
            (8 * D - 1, "7d23h"),
            (8 * D, "8d"),
            (8 * D + 23 * H, "8d"),
            (2 * Y - 1, "729d"),
            (2 * Y, "2y"),
            (2 * Y + 23 * H, "2y"),
            (2 * Y + 23 * H + 59 * M, "2y"),
            (2 * Y + D - 1, "2y"),
            (2 * Y + D, "2y1d"),
            (3 * Y, "3y"),
            (4 * Y, "4y"),
            (5 * Y, "5y"),
            (6 * Y, "6y"),
            (7 * Y, "7y"),
            (8 * Y - 1, "7y364d"),
            (8 * Y, "8y"),
            (8 * Y + 364 * D, "8y"),
            (9 * Y, "9y"),
        ];
        for (ms, want) in cases {
            assert_eq!(human_duration(Duration::from_millis(*ms)), *want, "{ms}ms");
        }
    }

    #[test]
    fn short_human_durations() {
        // TestShortHumanDurationBoundaries of upstream (in ms).
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (S - 1, "0s"),
            (S, "1s"),
            (2 * S - 1, "1s"),
            (M - 1, "59s"),
            (M, "1m"),
            (2 * M - 1, "1m"),
            (H - 1, "59m"),
            (H, "1h"),
            (2 * H - 1, "1h"),
            (D - 1, "23h"),
            (D, "1d"),
            (2 * D - 1, "1d"),
            (Y - 1, "364d"),
            (Y, "1y"),
            (2 * Y - 1, "1y"),
            (2 * Y, "2y"),
        ];
        for (ms, want) in cases {
            assert_eq!(
                short_human_duration(Duration::from_millis(*ms)),
                *want,
                "{ms}ms"
            );
        }
    }

    #[test]
    fn human_since() {
        let now = at(1000);
        assert_eq!(human_duration_since(at(995), now), "5s");
        assert_eq!(
            human_duration_since(now + Duration::from_millis(1900), now),
            "0s"
        );
        assert_eq!(
            human_duration_since(now + Duration::from_secs(2), now),
            "<invalid>"
        );
    }
}
