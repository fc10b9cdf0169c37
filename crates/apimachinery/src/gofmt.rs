//! Go formatting primitives that upstream messages depend on: `strconv.Quote`
//! (`%q`), `encoding/json` compact output, and `strconv.FormatFloat(f, 'g', -1, 64)`.
//!
//! These are crate-internal: they exist so that error messages and YAML output
//! match what the Go code produces byte for byte.

use serde_json::Value;
use std::fmt::Write as _;

/// Whether Go's `unicode.IsPrint` holds for `c`.
///
/// Go's definition: letters, marks, numbers, punctuation, symbols and the
/// ASCII space. Without Unicode tables this is approximated as "not a control
/// character, not a non-ASCII space/separator, not a format character, not
/// private use and not a noncharacter"; unassigned code points are treated as
/// printable.
pub(crate) fn is_go_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    // Unicode general category Cf (format) – the commonly met ranges.
    let format = matches!(u,
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0001
        | 0xE0020..=0xE007F);
    // Private use (Co) and noncharacters.
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let nonchar = (0xFDD0..=0xFDEF).contains(&u) || (u & 0xFFFE) == 0xFFFE;
    !(format || private || nonchar)
}

/// Go's `strconv.Quote` (what `%q` prints for a string).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_print(c) => out.push(c),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7F => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Appends `s` as a JSON string the way Go's `encoding/json` writes it
/// (HTML-safe: `<`, `>`, `&`, U+2028 and U+2029 are escaped).
pub(crate) fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Compact JSON as Go's `json.Marshal` would write this value (keys in the
/// order given, HTML-safe string escaping, Go's float formatting).
pub(crate) fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go_json(v, &mut out);
    out
}

fn write_go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else if let Some(f) = n.as_f64() {
                out.push_str(&go_json_float(f));
            }
        }
        Value::String(s) => go_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out);
                out.push(':');
                write_go_json(item, out);
            }
            out.push('}');
        }
    }
}

/// The shortest decimal digits of a finite, non-negative `f`, and the decimal
/// point position (`digits × 10^(dp − len)`), as Go's `decimalSlice` has them.
fn shortest_digits(f: f64) -> (Vec<u8>, i32) {
    if f == 0.0 {
        return (vec![b'0'], 1);
    }
    // `{:e}` prints the shortest representation that round-trips.
    let s = format!("{:e}", f);
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    (digits, exp + 1)
}

fn fmt_e(neg: bool, digits: &[u8], dp: i32, out: &mut String) {
    if neg {
        out.push('-');
    }
    out.push(digits[0] as char);
    if digits.len() > 1 {
        out.push('.');
        for d in &digits[1..] {
            out.push(*d as char);
        }
    }
    out.push('e');
    let exp = dp - 1;
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    let _ = write!(out, "{e}");
}

fn fmt_f(neg: bool, digits: &[u8], dp: i32, frac: usize, out: &mut String) {
    if neg {
        out.push('-');
    }
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(digits.get(i).map_or('0', |d| *d as char));
        }
    } else {
        out.push('0');
    }
    if frac > 0 {
        out.push('.');
        for i in 1..=frac {
            let idx = dp + i as i32 - 1;
            let c = if idx >= 0 {
                digits.get(idx as usize).map_or('0', |d| *d as char)
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` (also what `%v` prints).
pub(crate) fn go_format_float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = f.is_sign_negative();
    let (digits, dp) = shortest_digits(f.abs());
    let nd = digits.len() as i32;
    let exp = dp - 1;
    let mut out = String::new();
    if !(-4..6).contains(&exp) {
        fmt_e(neg, &digits, dp, &mut out);
    } else {
        fmt_f(neg, &digits, dp, (nd - dp).max(0) as usize, &mut out);
    }
    out
}

/// How Go's `encoding/json` writes a float64.
pub(crate) fn go_json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let abs = f.abs();
    let neg = f.is_sign_negative();
    let (digits, dp) = shortest_digits(abs);
    let nd = digits.len() as i32;
    let mut out = String::new();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        fmt_e(neg, &digits, dp, &mut out);
        // Go cleans up "e-07" to "e-7".
        let b = out.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            out.remove(n - 2);
        }
    } else {
        fmt_f(neg, &digits, dp, (nd - dp).max(0) as usize, &mut out);
    }
    out
}

/// The JSON kind `encoding/json` names in its type errors (`cannot unmarshal <kind> into ...`).
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quote_matches_strconv() {
        assert_eq!(go_quote("Foo"), "\"Foo\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("tab\there\n"), "\"tab\\there\\n\"");
        assert_eq!(go_quote("\u{1}\u{7f}"), "\"\\x01\\x7f\"");
        assert_eq!(go_quote("héllo ☃"), "\"héllo ☃\"");
        assert_eq!(go_quote("\u{a0}\u{200b}"), "\"\\u00a0\\u200b\"");
        assert_eq!(go_quote("\u{F0000}"), "\"\\U000f0000\"");
    }

    #[test]
    fn json_matches_encoding_json() {
        assert_eq!(
            go_json(&json!({"a": ["<x>", 1, 1.5, null, true]})),
            r#"{"a":["\u003cx\u003e",1,1.5,null,true]}"#
        );
        assert_eq!(go_json(&json!("a&b\u{1}")), r#""a\u0026b\u0001""#);
    }

    #[test]
    fn float_formats() {
        assert_eq!(go_format_float_g(1.5), "1.5");
        assert_eq!(go_format_float_g(1e6), "1e+06");
        assert_eq!(go_format_float_g(123456.0), "123456");
        assert_eq!(go_format_float_g(1234567.0), "1.234567e+06");
        assert_eq!(go_format_float_g(0.0001), "0.0001");
        assert_eq!(go_format_float_g(0.00001), "1e-05");
        assert_eq!(go_format_float_g(-2.5e-10), "-2.5e-10");
        assert_eq!(go_format_float_g(0.0), "0");
        assert_eq!(go_format_float_g(1e100), "1e+100");
        assert_eq!(go_json_float(1e6), "1000000");
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(1e-7), "1e-7");
        assert_eq!(go_json_float(0.1), "0.1");
        assert_eq!(go_json_float(-0.000001), "-0.000001");
    }
}
