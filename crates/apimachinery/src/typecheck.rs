//! The type check Go's decoder makes when a body is decoded into its declared type: a
//! number where a string belongs, a string where an object belongs, an `int32` out of
//! range, and the values of types that decode themselves: `[]byte` must be base64,
//! `Time` and `MicroTime` RFC 3339 as `time.Parse` reads it, `Quantity` a quantity,
//! `IntOrString` a string or an `int32`. [`type_error`] finds the error upstream reports
//! and words it the same way: `json: cannot unmarshal number into Go struct field
//! ConfigMap.data of type string`, `illegal base64 data at input byte 3`, `parsing time
//! ...`. Before any of this the universal deserializer reads `apiVersion` and `kind` as
//! strings ([`TypeError::TypeMeta`]).
//!
//! As in Go, a plain type mismatch (or bad base64) is remembered and decoding goes on,
//! while the first error of a self-decoding type stops it: that one wins. Unknown fields
//! are the business of [`crate::fieldvalidation`]; `null` is accepted everywhere, as Go
//! leaves the zero value.

use serde_json::Value;

use crate::gofmt::json_kind;
use crate::schema::{Message, Type};

/// Why a body does not decode into its declared type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// `apiVersion` or `kind` is not a string: the object's type cannot even be read
    /// (upstream then answers "the object provided is unrecognized").
    #[error("couldn't get version/kind; json parse error: {0}")]
    TypeMeta(String),
    /// A value that does not decode into its field's type, as Go's decoder words it.
    #[error("{0}")]
    Value(String),
}

/// The error upstream's decoder reports for `value` (an object decoded as `msg`), if any.
pub fn type_error(msg: &Message, value: &Value) -> Option<TypeError> {
    if let Some(e) = type_meta_error(value) {
        return Some(TypeError::TypeMeta(e));
    }
    let mut saved = None;
    let mut path = Vec::new();
    match check_fields(msg, value, &mut path, &mut saved) {
        Err(fatal) => Some(TypeError::Value(fatal)),
        Ok(()) => saved.map(TypeError::Value),
    }
}

/// `apiVersion` and `kind` read into an anonymous struct of two strings, as the
/// universal deserializer does first (`encoding/json`: keys match case-insensitively).
fn type_meta_error(value: &Value) -> Option<String> {
    let obj = match value {
        Value::Object(obj) => obj,
        Value::Null => return None,
        other => {
            return Some(format!(
                r#"json: cannot unmarshal {} into Go value of type struct {{ APIVersion string "json:\"apiVersion,omitempty\""; Kind string "json:\"kind,omitempty\"" }}"#,
                json_kind(other)
            ))
        }
    };
    obj.iter().find_map(|(key, v)| {
        let name = ["apiVersion", "kind"]
            .into_iter()
            .find(|n| n.eq_ignore_ascii_case(key))?;
        (!v.is_string() && !v.is_null()).then(|| {
            format!(
                "json: cannot unmarshal {} into Go struct field .{name} of type string",
                json_kind(v)
            )
        })
    })
}

/// The Go type name (`ConfigMap` in `v1.ConfigMap`) of a declared message.
fn struct_name(msg: &Message) -> &str {
    msg.short_name()
}

/// The Go type as `reflect` prints it: `v1.ObjectMeta`, `[]string`, `map[string][]uint8`.
fn go_type(ty: &Type) -> String {
    match ty {
        Type::String => "string".into(),
        Type::Bytes => "[]uint8".into(),
        Type::Bool => "bool".into(),
        Type::Int32 => "int32".into(),
        Type::Int64 => "int64".into(),
        Type::Double => "float64".into(),
        Type::Time => "v1.Time".into(),
        Type::MicroTime => "v1.MicroTime".into(),
        Type::Quantity => "resource.Quantity".into(),
        Type::IntOrString => "intstr.IntOrString".into(),
        Type::RawJson => "runtime.RawExtension".into(),
        Type::Message(m) => {
            let mut parts = m.name.rsplit('.');
            let name = parts.next().unwrap_or(&m.name);
            match parts.next() {
                Some(package) => format!("{package}.{name}"),
                None => name.to_string(),
            }
        }
        Type::List(item) => format!("[]{}", go_type(item)),
        Type::Map(value) => format!("map[string]{}", go_type(value)),
    }
}

/// A fatal error: decoding stops there (a self-decoding type refused its value).
type Fatal = Result<(), String>;

fn check_fields<'m>(
    msg: &'m Message,
    value: &Value,
    path: &mut Vec<&'m str>,
    saved: &mut Option<String>,
) -> Fatal {
    let Some(obj) = value.as_object() else {
        return Ok(());
    };
    for (key, child) in obj {
        let Some(field) = msg.field(key) else {
            continue;
        };
        path.push(&field.json);
        let found = check(&field.ty, child, struct_name(msg), path, saved);
        path.pop();
        found?;
    }
    Ok(())
}

/// Checks `v` against `ty`; `owner` is the struct whose field (at `path`) holds it. A
/// mismatch Go's decoder goes on after is kept in `saved` (the first one only).
fn check<'m>(
    ty: &'m Type,
    v: &Value,
    owner: &str,
    path: &mut Vec<&'m str>,
    saved: &mut Option<String>,
) -> Fatal {
    if v.is_null() {
        return Ok(());
    }
    let unmarshal = |value_kind: &str, go_type: &str| {
        format!(
            "json: cannot unmarshal {value_kind} into Go struct field {owner}.{} of type {go_type}",
            path.join(".")
        )
    };
    let mut save = |e: String| {
        saved.get_or_insert(e);
    };
    match ty {
        Type::String | Type::Bool | Type::Double | Type::Int32 | Type::Int64 => {
            if let Some(kind) = scalar_mismatch(ty, v) {
                save(unmarshal(&kind, &go_type(ty)));
            }
        }
        Type::Bytes => match v {
            Value::String(s) => {
                if let Err(at) = go::base64_check(s.as_bytes()) {
                    save(format!("illegal base64 data at input byte {at}"));
                }
            }
            _ => save(unmarshal(json_kind(v), &go_type(ty))),
        },
        // `metav1.Time` and `MicroTime` read a string, then `time.Parse` it.
        Type::Time | Type::MicroTime => match v {
            Value::String(s) => go::parse_time(s, matches!(ty, Type::MicroTime))?,
            _ => return Err(unmarshal(json_kind(v), "string")),
        },
        // `resource.Quantity` parses the literal, quotes stripped, whatever its JSON type.
        Type::Quantity => {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            go::parse_quantity(text.trim()).map_err(str::to_string)?;
        }
        // `intstr.IntOrString`: a string, else decoded as an `int32`.
        Type::IntOrString => {
            if let Some(kind) = scalar_mismatch(&Type::Int32, v).filter(|_| !v.is_string()) {
                return Err(unmarshal(&kind, "int32"));
            }
        }
        Type::RawJson => {}
        Type::Message(m) => match v {
            Value::Object(_) => check_fields(m, v, path, saved)?,
            _ => save(unmarshal(json_kind(v), &go_type(ty))),
        },
        Type::List(item) => match v {
            Value::Array(items) => {
                for i in items {
                    check(item, i, owner, path, saved)?;
                }
            }
            _ => save(unmarshal(json_kind(v), &go_type(ty))),
        },
        Type::Map(value) => match v {
            Value::Object(map) => {
                for x in map.values() {
                    check(value, x, owner, path, saved)?;
                }
            }
            _ => save(unmarshal(json_kind(v), &go_type(ty))),
        },
    }
    Ok(())
}

/// What Go names a non-null `v` that does not decode into the scalar `ty` (`string`,
/// `number 1.5`), or `None` when it does.
fn scalar_mismatch(ty: &Type, v: &Value) -> Option<String> {
    let fits = match (ty, v) {
        (Type::String, Value::String(_))
        | (Type::Bool, Value::Bool(_))
        | (Type::Double, Value::Number(_)) => true,
        (Type::Int32 | Type::Int64, Value::Number(n)) => {
            let fits = match (ty, n.as_i64()) {
                (Type::Int32, Some(i)) => i32::try_from(i).is_ok(),
                (_, Some(_)) => true,
                (_, None) => false,
            };
            if !fits {
                return Some(format!("number {n}"));
            }
            true
        }
        _ => false,
    };
    (!fits).then(|| json_kind(v).to_string())
}

/// How Go's standard library reads the values of self-decoding types, and words its errors.
mod go {
    /// Where `encoding/base64`'s `StdEncoding.Decode` finds `s` corrupt (padding
    /// required, `\r` and `\n` skipped anywhere, trailing bits not checked).
    pub(super) fn base64_check(s: &[u8]) -> Result<(), usize> {
        let alphabet = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
        let newline = |c: u8| c == b'\n' || c == b'\r';
        let mut si = 0;
        loop {
            // One quantum of four characters.
            let mut j = 0;
            while j < 4 {
                if si == s.len() {
                    return match j {
                        0 => Ok(()),
                        _ => Err(si - j),
                    };
                }
                let c = s[si];
                si += 1;
                if alphabet(c) {
                    j += 1;
                    continue;
                }
                if newline(c) {
                    continue;
                }
                if c != b'=' || j < 2 {
                    return Err(si - 1);
                }
                if j == 2 {
                    // A second `=` must follow.
                    while si < s.len() && newline(s[si]) {
                        si += 1;
                    }
                    if si == s.len() {
                        return Err(s.len());
                    }
                    if s[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                while si < s.len() && newline(s[si]) {
                    si += 1;
                }
                return if si < s.len() { Err(si) } else { Ok(()) };
            }
        }
    }

    /// `time`'s quoting of values in its errors: `"` and `\` escaped, bytes outside
    /// printable ASCII as `\xNN`.
    fn quote(s: &[u8]) -> String {
        let mut out = String::from("\"");
        for &b in s {
            match b {
                b'"' | b'\\' => {
                    out.push('\\');
                    out.push(b as char);
                }
                b' '..=0x7f => out.push(b as char),
                _ => out.push_str(&format!("\\x{b:02x}")),
            }
        }
        out.push('"');
        out
    }

    /// One element of a Go time layout.
    #[derive(Clone, Copy)]
    enum Elem {
        Lit(u8),
        Year,
        Month,
        Day,
        Hour,
        Minute,
        Second,
        Micros,
        Zone,
    }

    impl Elem {
        fn layout(self) -> &'static str {
            match self {
                Elem::Lit(b'-') => "-",
                Elem::Lit(b'T') => "T",
                Elem::Lit(_) => ":",
                Elem::Year => "2006",
                Elem::Month => "01",
                Elem::Day => "02",
                Elem::Hour => "15",
                Elem::Minute => "04",
                Elem::Second => "05",
                Elem::Micros => ".000000",
                Elem::Zone => "Z07:00",
            }
        }
    }

    fn digit(s: &[u8], i: usize) -> bool {
        s.get(i).is_some_and(u8::is_ascii_digit)
    }

    /// Go's `getnum`: one or (`fixed`: exactly) two digits.
    fn getnum(s: &[u8], fixed: bool) -> Option<(u32, &[u8])> {
        if !digit(s, 0) {
            return None;
        }
        if !digit(s, 1) {
            return (!fixed).then(|| (u32::from(s[0] - b'0'), &s[1..]));
        }
        Some((
            u32::from(s[0] - b'0') * 10 + u32::from(s[1] - b'0'),
            &s[2..],
        ))
    }

    /// Go's `time.atoi`: an optional sign, then only digits.
    fn atoi(s: &[u8]) -> Option<i64> {
        let (neg, digits) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let mut x: i64 = 0;
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            x = x.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
        }
        Some(if neg { -x } else { x })
    }

    fn days_in(month: u32, year: i64) -> u32 {
        match month {
            2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// `time.Parse(time.RFC3339, s)` (or `metav1.RFC3339Micro` when `micro`), keeping
    /// only its error, worded as `time.ParseError` words it.
    pub(super) fn parse_time(s: &str, micro: bool) -> Result<(), String> {
        use Elem::*;
        let layout: &[Elem] = if micro {
            &[
                Year,
                Lit(b'-'),
                Month,
                Lit(b'-'),
                Day,
                Lit(b'T'),
                Hour,
                Lit(b':'),
                Minute,
                Lit(b':'),
                Second,
                Micros,
                Zone,
            ]
        } else {
            &[
                Year,
                Lit(b'-'),
                Month,
                Lit(b'-'),
                Day,
                Lit(b'T'),
                Hour,
                Lit(b':'),
                Minute,
                Lit(b':'),
                Second,
                Zone,
            ]
        };
        let full: String = layout.iter().map(|e| e.layout()).collect();
        let cannot = |rest: &[u8], elem: Elem| {
            format!(
                "parsing time {} as {}: cannot parse {} as {}",
                quote(s.as_bytes()),
                quote(full.as_bytes()),
                quote(rest),
                quote(elem.layout().as_bytes())
            )
        };
        let out_of_range =
            |what: &str| format!("parsing time {}: {what} out of range", quote(s.as_bytes()));
        let (mut year, mut month, mut day) = (0i64, 0u32, 0u32);
        let mut value = s.as_bytes();
        for &elem in layout {
            let hold = value;
            let mut range = None;
            let parsed: Option<&[u8]> = match elem {
                Lit(c) => match value.first() {
                    Some(&b) if b == c => Some(&value[1..]),
                    _ => return Err(cannot(value, elem)),
                },
                Year => (value.len() >= 4 && digit(value, 0))
                    .then(|| atoi(&value[..4]))
                    .flatten()
                    .map(|y| {
                        year = y;
                        &value[4..]
                    }),
                Month => getnum(value, true).map(|(m, rest)| {
                    month = m;
                    if !(1..=12).contains(&m) {
                        range = Some("month");
                    }
                    rest
                }),
                Day => getnum(value, true).map(|(d, rest)| {
                    day = d;
                    rest
                }),
                Hour => getnum(value, false).map(|(h, rest)| {
                    if h >= 24 {
                        range = Some("hour");
                    }
                    rest
                }),
                Minute => getnum(value, true).map(|(m, rest)| {
                    if m >= 60 {
                        range = Some("minute");
                    }
                    rest
                }),
                Second => getnum(value, true).map(|(sec, mut rest)| {
                    if sec >= 60 {
                        range = Some("second");
                    } else if !micro
                        && rest.len() >= 2
                        && matches!(rest[0], b'.' | b',')
                        && digit(rest, 1)
                    {
                        // Fractional seconds the layout does not name: any number of digits.
                        let n = 2 + rest[2..].iter().take_while(|c| c.is_ascii_digit()).count();
                        rest = &rest[n..];
                    }
                    rest
                }),
                Micros => (value.len() >= 7 && matches!(value[0], b'.' | b','))
                    .then(|| atoi(&value[1..7]))
                    .flatten()
                    .map(|ns| {
                        if ns < 0 {
                            range = Some("fractional second");
                        }
                        &value[7..]
                    }),
                Zone => zone(value, &mut range),
            };
            if let Some(what) = range {
                return Err(out_of_range(what));
            }
            match parsed {
                Some(rest) => value = rest,
                None => return Err(cannot(hold, elem)),
            }
        }
        if !value.is_empty() {
            return Err(format!(
                "parsing time {}: extra text: {}",
                quote(s.as_bytes()),
                quote(value)
            ));
        }
        if day < 1 || day > days_in(month, year) {
            return Err(out_of_range("day"));
        }
        Ok(())
    }

    /// An ISO 8601 zone with a colon: `Z` or `±hh:mm`.
    fn zone<'a>(value: &'a [u8], range: &mut Option<&'static str>) -> Option<&'a [u8]> {
        if value.first() == Some(&b'Z') {
            return Some(&value[1..]);
        }
        if value.len() < 6 || value[3] != b':' {
            return None;
        }
        let hh = getnum(&value[1..3], true);
        let mm = hh.and(getnum(&value[4..6], true));
        if hh.is_some_and(|(h, _)| h > 24) {
            *range = Some("time zone offset hour");
        }
        if mm.is_some_and(|(m, _)| m > 60) {
            *range = Some("time zone offset minute");
        }
        (mm.is_some() && matches!(value[0], b'+' | b'-')).then(|| &value[6..])
    }

    /// `resource.ErrFormatWrong`.
    const FORMAT_WRONG: &str = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    /// `resource.ParseQuantity(s)` (`s` already trimmed), keeping only its error.
    pub(super) fn parse_quantity(s: &str) -> Result<(), &'static str> {
        if s.is_empty() {
            return Err(FORMAT_WRONG);
        }
        let b = s.as_bytes();
        let digits =
            |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        let mut pos = usize::from(matches!(b[0], b'+' | b'-'));
        if b[pos..].iter().all(|&c| c == b'0') {
            return Ok(());
        }
        // The number: digits, then an optional `.` and digits.
        let num_end = digits(pos);
        let mut has_digits = num_end > pos;
        pos = num_end;
        if b.get(pos) == Some(&b'.') {
            let end = digits(pos + 1);
            has_digits |= end > pos + 1;
            pos = end;
        }
        let suffix = &s[pos..];
        // The suffix: letters of the set, then an optional sign and digits, to the end.
        let letters = pos
            + b[pos..]
                .iter()
                .take_while(|c| b"eEinumkKMGTP".contains(c))
                .count();
        let mut end = letters;
        if matches!(b.get(end), Some(b'+' | b'-')) {
            end += 1;
        }
        if digits(end) != b.len() {
            return Err(FORMAT_WRONG);
        }
        let scale = match suffix {
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => return Ok(()),
            "" | "k" | "M" | "G" | "T" | "P" | "E" => 0,
            "n" => -9,
            "u" => -6,
            "m" => -3,
            _ => match suffix.strip_prefix(['e', 'E']).map(str::parse::<i64>) {
                Some(Ok(exponent)) => exponent,
                _ => return Err("unable to parse quantity's suffix"),
            },
        };
        // Without a digit only the integer fast path (to nano scale) reads the number.
        if !has_digits && scale < -9 {
            return Err("unable to parse numeric part of quantity");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::decl::{Field, Message, Type};
    use crate::schema::MessageRef;

    /// The run-time form of a test declaration.
    fn rt(d: &'static Message) -> MessageRef {
        MessageRef::from_decl(d)
    }
    use crate::types::OBJECT_META;
    use serde_json::json;

    static SOURCE: Message = Message {
        name: "io.k8s.api.core.v1.EventSource",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[Field::new("component", 1, Type::String)],
    };

    static THING: Message = Message {
        name: "io.k8s.api.core.v1.Thing",
        description: "",
        gvks: &[("", "v1", "Thing")],
        atomic: false,
        fields: &[
            Field::new("metadata", 1, Type::Message(&OBJECT_META)),
            Field::new("data", 2, Type::Map(&Type::String)),
            Field::new("count", 3, Type::Int32),
            Field::new("source", 4, Type::Message(&SOURCE)),
            Field::new("sources", 5, Type::List(&Type::Message(&SOURCE))),
            Field::new("when", 6, Type::Time),
            Field::new("at", 7, Type::MicroTime),
            Field::new("blob", 8, Type::Map(&Type::Bytes)),
            Field::new("size", 9, Type::Quantity),
            Field::new("port", 10, Type::IntOrString),
            Field::new("raw", 11, Type::RawJson),
        ],
    };

    #[test]
    fn words_errors_as_encoding_json() {
        let err = |v: Value| type_error(&rt(&THING), &v).map(|e| e.to_string());
        assert_eq!(
            err(json!({"data": {"a": "x", "b": 1}})).as_deref(),
            Some("json: cannot unmarshal number into Go struct field Thing.data of type string")
        );
        assert_eq!(
            err(json!({"data": ["a"]})).as_deref(),
            Some("json: cannot unmarshal array into Go struct field Thing.data of type map[string]string")
        );
        assert_eq!(
            err(json!({"count": "3"})).as_deref(),
            Some("json: cannot unmarshal string into Go struct field Thing.count of type int32")
        );
        assert_eq!(
            err(json!({"count": 3_000_000_000u64})).as_deref(),
            Some("json: cannot unmarshal number 3000000000 into Go struct field Thing.count of type int32")
        );
        assert_eq!(
            err(json!({"count": 1.5})).as_deref(),
            Some(
                "json: cannot unmarshal number 1.5 into Go struct field Thing.count of type int32"
            )
        );
        // Nested structs name the innermost struct and the whole path, without indices.
        assert_eq!(
            err(json!({"metadata": {"labels": {"a": true}}})).as_deref(),
            Some("json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string")
        );
        assert_eq!(
            err(json!({"sources": [{"component": "a"}, {"component": 2}]})).as_deref(),
            Some("json: cannot unmarshal number into Go struct field EventSource.sources.component of type string")
        );
        assert_eq!(
            err(json!({"source": "kubelet"})).as_deref(),
            Some("json: cannot unmarshal string into Go struct field Thing.source of type v1.EventSource")
        );
    }

    #[test]
    fn accepts_what_go_accepts() {
        let ok = |v: Value| assert_eq!(type_error(&rt(&THING), &v), None, "{v}");
        ok(json!({"apiVersion": "v1", "kind": "Thing", "unknown": 5}));
        ok(json!({"data": null, "count": null, "source": null, "metadata": {"labels": null}}));
        ok(json!({"count": -2147483648i64, "data": {"a": "b"}, "sources": []}));
        ok(json!({"when": null, "at": null, "blob": {"a": null}, "size": null, "port": null}));
        ok(json!({"raw": {"any": ["thing", 1]}, "port": "http", "size": 5}));
        ok(json!({"port": 8080, "port2": true}));
        // Every RFC 3339 form `time.Parse` reads: fractions (`.` or `,`), offsets, a
        // one-digit hour, leap days.
        for t in [
            "2026-12-03T08:00:00Z",
            "2026-12-03T08:00:00.5Z",
            "2026-12-03T08:00:00,123456789123+01:00",
            "2026-12-03T8:00:00-05:30",
            "2024-02-29T23:59:59+24:00",
        ] {
            ok(json!({"when": t}));
        }
        for t in [
            "2026-12-03T08:00:00.000000Z",
            "2026-12-03T08:00:00.123456+02:00",
        ] {
            ok(json!({"at": t, "when": t}));
        }
        for b in ["", "YQ==", "YWI=", "YWJj", "YW\nJj", "YWJ\r\njZA==\n"] {
            ok(json!({"blob": {"k": b}}));
        }
        for q in [
            "1", "+1.5Gi", "-2e3", "100m", "0.5", "1E-9", ".5", "+", "0Ki", " 3k ", "12n",
        ] {
            ok(json!({"size": q}));
        }
    }

    #[test]
    fn self_decoding_types_word_their_errors() {
        let err = |v: Value| type_error(&rt(&THING), &v).map(|e| e.to_string());
        let time = |t: &str, layout: &str, rest: &str, elem: &str| {
            format!(r#"parsing time "{t}" as "{layout}": cannot parse "{rest}" as "{elem}""#)
        };
        const RFC3339: &str = "2006-01-02T15:04:05Z07:00";
        assert_eq!(
            err(json!({"when": "yesterday"})),
            Some(time("yesterday", RFC3339, "yesterday", "2006"))
        );
        assert_eq!(
            err(json!({"when": "2026-12-03 08:00:00Z"})),
            Some(time("2026-12-03 08:00:00Z", RFC3339, " 08:00:00Z", "T"))
        );
        assert_eq!(
            err(json!({"when": "2026-12-03T08:00:00"})),
            Some(time("2026-12-03T08:00:00", RFC3339, "", "Z07:00"))
        );
        assert_eq!(
            err(json!({"when": "2026-13-03T08:00:00Z"})).as_deref(),
            Some(r#"parsing time "2026-13-03T08:00:00Z": month out of range"#)
        );
        assert_eq!(
            err(json!({"when": "2026-02-30T08:00:00Z"})).as_deref(),
            Some(r#"parsing time "2026-02-30T08:00:00Z": day out of range"#)
        );
        assert_eq!(
            err(json!({"when": "2026-12-03T08:00:00Zjunk"})).as_deref(),
            Some(r#"parsing time "2026-12-03T08:00:00Zjunk": extra text: "junk""#)
        );
        assert_eq!(
            err(json!({"when": "2026-12-03T08:00:00+25:00"})).as_deref(),
            Some(r#"parsing time "2026-12-03T08:00:00+25:00": time zone offset hour out of range"#)
        );
        assert_eq!(
            err(json!({"when": "\"é"})),
            Some(time("\\\"\\xc3\\xa9", RFC3339, "\\\"\\xc3\\xa9", "2006"))
        );
        // MicroTime wants exactly six fractional digits.
        const MICRO: &str = "2006-01-02T15:04:05.000000Z07:00";
        assert_eq!(
            err(json!({"at": "2026-12-03T08:00:00Z"})),
            Some(time("2026-12-03T08:00:00Z", MICRO, "Z", ".000000"))
        );
        assert_eq!(
            err(json!({"at": "2026-12-03T08:00:00.1234567Z"})),
            Some(time("2026-12-03T08:00:00.1234567Z", MICRO, "7Z", "Z07:00"))
        );
        // A time that is not a string: the error of decoding it into a string.
        assert_eq!(
            err(json!({"when": 5})).as_deref(),
            Some("json: cannot unmarshal number into Go struct field Thing.when of type string")
        );
        // Base64 as `encoding/base64` reads it.
        for (b, at) in [
            ("a", 0),
            ("YQ", 0),
            ("YQ=", 3),
            ("Y===", 1),
            ("YQ==x", 4),
            ("Y*==", 1),
            ("not base64", 3),
        ] {
            assert_eq!(
                err(json!({"blob": {"k": b}})),
                Some(format!("illegal base64 data at input byte {at}")),
                "{b}"
            );
        }
        // Quantities as `resource.ParseQuantity` reads them, whatever the JSON type.
        let format = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
        for q in [
            json!("12abc"),
            json!(""),
            json!(true),
            json!({"a": 1}),
            json!("1.5.5"),
            json!("1KiB"),
        ] {
            assert_eq!(err(json!({"size": q})).as_deref(), Some(format), "{q}");
        }
        for q in ["1e", "1Kii", "1m5"] {
            assert_eq!(
                err(json!({"size": q})).as_deref(),
                Some("unable to parse quantity's suffix"),
                "{q}"
            );
        }
        assert_eq!(
            err(json!({"size": ".e-10"})).as_deref(),
            Some("unable to parse numeric part of quantity")
        );
        // IntOrString: a string, else an int32.
        assert_eq!(
            err(json!({"port": true})).as_deref(),
            Some("json: cannot unmarshal bool into Go struct field Thing.port of type int32")
        );
        assert_eq!(
            err(json!({"port": 1.5})).as_deref(),
            Some("json: cannot unmarshal number 1.5 into Go struct field Thing.port of type int32")
        );
        assert_eq!(
            err(json!({"port": [80]})).as_deref(),
            Some("json: cannot unmarshal array into Go struct field Thing.port of type int32")
        );
    }

    #[test]
    fn a_self_decoding_error_wins_over_an_earlier_mismatch() {
        let err = |v: Value| type_error(&rt(&THING), &v).map(|e| e.to_string());
        // Go goes on after a mismatch (or bad base64) and stops at an unmarshaler's error.
        assert_eq!(
            err(json!({"count": "x", "when": "now"})).as_deref(),
            Some(
                r#"parsing time "now" as "2006-01-02T15:04:05Z07:00": cannot parse "now" as "2006""#
            )
        );
        assert_eq!(
            err(json!({"blob": {"k": "!"}, "count": "x"})).as_deref(),
            Some("illegal base64 data at input byte 0")
        );
    }

    #[test]
    fn type_meta_is_read_first() {
        let err = |v: Value| type_error(&rt(&THING), &v);
        assert_eq!(
            err(json!({"count": "x", "kind": ["Thing"]})),
            Some(TypeError::TypeMeta(
                "json: cannot unmarshal array into Go struct field .kind of type string".into()
            ))
        );
        assert_eq!(
            err(json!({"APIVERSION": 1})).map(|e| e.to_string()).as_deref(),
            Some("couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .apiVersion of type string")
        );
        assert_eq!(err(json!({"kind": null, "apiVersion": "v1"})), None);
        assert_eq!(
            err(json!([1])).map(|e| e.to_string()).as_deref(),
            Some(
                r#"couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\"apiVersion,omitempty\""; Kind string "json:\"kind,omitempty\"" }"#
            )
        );
    }
}
