//! A YAML emitter for JSON values that reproduces what upstream writes
//! (`sigs.k8s.io/yaml.JSONToYAML`, i.e. go-yaml v2's libyaml emitter): block
//! style, two-space indentation, sequences under a mapping key not indented
//! (`items:\n- name: a`), empty collections as `{}`/`[]`, and go-yaml's
//! scalar styles:
//!
//! - strings that would read back as something else (`""`, `true`, `no`, `~`,
//!   `null`, `0755`, `1e3`, `1_000`, `12:30`, timestamps such as
//!   `2026-01-02T03:04:05Z`) are double-quoted;
//! - strings a plain scalar cannot carry (leading/trailing space, `: `, ` #`,
//!   indicator first characters) are single-quoted;
//! - strings with a newline use literal block style (`|`, `|-`, `|+`) unless
//!   that cannot represent them, then double quotes with escapes;
//! - non-printable characters (tab, control characters, characters outside the
//!   Basic Multilingual Plane) force double quotes with `\t`, `\x..`,
//!   `\u....`, `\U........` escapes;
//! - long plain and quoted scalars are folded at spaces past column 80.
//!
//! [`to_yaml`] keeps keys in the order given; [`to_yaml_sorted`] orders them as
//! go-yaml does, giving byte-identical output to the apiserver's
//! `application/yaml` responses and `kubectl get -o yaml`.
//!
//! [`from_yaml`] reads one YAML document into JSON, as upstream's YAML decoder converts a
//! request body before decoding it as JSON.

use crate::gofmt::go_format_float_g;
use serde_json::{Map, Value};

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: usize = 80;

/// Why a YAML document could not be read.
#[derive(Debug, thiserror::Error)]
#[error("error converting YAML to JSON: yaml: {0}")]
pub struct YamlError(String);

/// Reads one YAML document into a JSON value (`sigs.k8s.io/yaml.YAMLToJSON`): mapping
/// keys that are not strings become their text, nesting is bounded and anchors may not
/// expand past a small multiple of the input ("repetition limit exceeded").
pub fn from_yaml(input: &[u8]) -> Result<Value, YamlError> {
    serde_saphyr::from_slice(input).map_err(|e| YamlError(e.to_string()))
}

/// Reads one YAML document as upstream's lenient decoding does (`sigs.k8s.io/yaml.Unmarshal`):
/// a key repeated in one mapping keeps its last value. Also answers the repeated keys as
/// its strict decoding words them (`line 10: key "paused" already set in map`), for the
/// callers that report them (`fieldValidation`).
pub fn from_yaml_lenient(input: &[u8]) -> Result<(Value, Vec<String>), YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    let value = serde_saphyr::from_slice_with_options(input, options)
        .map_err(|e| YamlError(e.to_string()))?;
    let text = std::str::from_utf8(input).map_err(|e| YamlError(e.to_string()))?;
    Ok((value, duplicate_keys(text)))
}

/// The keys repeated within one mapping of `text`, each as go-yaml's strict decoding
/// reports it: the 1-based line of the repeated key and the key as Go's `%#v` prints it.
fn duplicate_keys(text: &str) -> Vec<String> {
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
    use std::collections::HashSet;

    /// A collection being read: a sequence, or a mapping with the keys seen so far and
    /// whether its next node is a key.
    enum Frame {
        Sequence,
        Mapping { seen: HashSet<String>, at_key: bool },
    }
    /// A node ended: in a mapping, keys and values alternate.
    fn node_done(stack: &mut [Frame]) {
        if let Some(Frame::Mapping { at_key, .. }) = stack.last_mut() {
            *at_key = !*at_key;
        }
    }

    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else {
            break;
        };
        match event {
            Event::Scalar(value, style, _, _) => {
                if let Some(Frame::Mapping { seen, at_key: true }) = stack.last_mut() {
                    let key = go_key(&value, style == ScalarStyle::Plain);
                    if !seen.insert(key.clone()) {
                        out.push(format!(
                            "line {}: key {key} already set in map",
                            span.start.line()
                        ));
                    }
                }
                node_done(&mut stack);
            }
            Event::Alias(_) => node_done(&mut stack),
            Event::MappingStart(..) => stack.push(Frame::Mapping {
                seen: HashSet::new(),
                at_key: true,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Sequence),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                node_done(&mut stack);
            }
            _ => {}
        }
    }
    out
}

/// A mapping key as Go's `%#v` prints what go-yaml resolved it to: plain integers and
/// booleans bare, anything else a quoted string.
fn go_key(value: &str, plain: bool) -> String {
    if plain {
        if let Ok(n) = value.parse::<i64>() {
            return n.to_string();
        }
        if matches!(value, "true" | "false") {
            return value.to_string();
        }
    }
    crate::gofmt::go_quote(value)
}

/// Renders a JSON value as YAML, keys in the order given (serde_json's
/// `preserve_order`), ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    render(value, false)
}

/// Renders a JSON value as YAML with keys in go-yaml's order, which makes the
/// output byte-identical to upstream's `sigs.k8s.io/yaml.Marshal`.
pub fn to_yaml_sorted(value: &Value) -> String {
    render(value, true)
}

fn render(value: &Value, sort: bool) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        sort,
    };
    e.emit_node(value, Ctx::default());
    // Document end.
    e.write_indent();
    e.out
}

// ---------------------------------------------------------------------------
// Character classes (libyaml's, on code points).
// ---------------------------------------------------------------------------

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_blankz(c: char) -> bool {
    is_blank(c) || is_break(c) || c == '\0'
}

// ---------------------------------------------------------------------------
// go-yaml's implicit typing (resolve.go): would a plain scalar read back as a
// non-string?
// ---------------------------------------------------------------------------

const RESOLVE_MAP: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no", "No",
    "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null", "NULL", ".nan",
    ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
];

fn all_digits_in(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// Go's `strconv.ParseInt(s, 0, 64)` succeeds (or `ParseUint` when `unsigned`).
fn go_parses_int_base0(s: &str, unsigned: bool) -> bool {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') if !unsigned => (false, &s[1..]),
        Some(b'-') if !unsigned => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if !all_digits_in(digits, radix) {
        return false;
    }
    let Ok(mag) = u128::from_str_radix(digits, radix) else {
        return false;
    };
    if unsigned {
        mag <= u128::from(u64::MAX)
    } else if neg {
        mag <= 1u128 << 63
    } else {
        mag < 1u128 << 63
    }
}

/// Go's `strconv.ParseInt(s, 2, 64)` (sign allowed) or `ParseUint(s, 2, 64)`.
fn go_parses_binary(s: &str) -> bool {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if !all_digits_in(body, 2) {
        return false;
    }
    match u128::from_str_radix(body, 2) {
        Ok(m) if neg => m <= 1u128 << 63,
        Ok(m) => m <= u128::from(u64::MAX),
        Err(_) => false,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn matches_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `ParseFloat` succeeds on a string matching the float syntax: it only
/// fails on overflow.
fn float_in_range(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            // Two digits starting above 5: the regex takes one digit only when
            // another group or the end follows.
            2 => {
                i = start + 1;
                if !matches!(b.get(i), None | Some(b':' | b'.')) {
                    return false;
                }
            }
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// Reads 1–2 digits (Go's `getnum(s, false)`).
fn getnum(s: &[u8]) -> Option<(u32, &[u8])> {
    let d0 = *s.first().filter(|c| c.is_ascii_digit())?;
    match s.get(1).filter(|c| c.is_ascii_digit()) {
        Some(d1) => Some((u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'), &s[2..])),
        None => Some((u32::from(d0 - b'0'), &s[1..])),
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        _ => 28,
    }
}

/// go-yaml's `parseTimestamp`: `time.Parse` with `2006-1-2T15:4:5.999999999Z07:00`,
/// the same with `t`, `2006-1-2 15:4:5.999999999` or `2006-1-2`.
fn is_yaml_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: u32 = b[..4].iter().fold(0, |a, d| a * 10 + u32::from(d - b'0'));
    let Some((month, rest)) = getnum(&b[5..]) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(b"-") else {
        return false;
    };
    let Some((day, rest)) = getnum(rest) else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let (rest, zoned) = match rest[0] {
        b'T' | b't' => (&rest[1..], true),
        // A space in a Go layout matches one or more spaces.
        b' ' => {
            let n = rest.iter().take_while(|c| **c == b' ').count();
            (&rest[n..], false)
        }
        _ => return false,
    };
    let time = || -> Option<&[u8]> {
        let (h, r) = getnum(rest)?;
        let r = r.strip_prefix(b":")?;
        let (m, r) = getnum(r)?;
        let r = r.strip_prefix(b":")?;
        let (sec, mut r) = getnum(r)?;
        if h > 23 || m > 59 || sec > 59 {
            return None;
        }
        if r.len() >= 2 && (r[0] == b'.' || r[0] == b',') && r[1].is_ascii_digit() {
            let n = r[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            r = &r[1 + n..];
        }
        Some(r)
    };
    let Some(rest) = time() else {
        return false;
    };
    if !zoned {
        return rest.is_empty();
    }
    match rest {
        b"Z" => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
                && (h1 - b'0') * 10 + (h2 - b'0') <= 24
                && (m1 - b'0') * 10 + (m2 - b'0') <= 60
        }
        _ => false,
    }
}

/// Whether go-yaml would resolve this plain scalar to a non-string tag (or
/// quote it anyway as a base-60 float).
fn needs_quoting(s: &str) -> bool {
    let Some(first) = s.as_bytes().first() else {
        return true; // "" is null
    };
    let hint = match first {
        b'+' | b'-' => 'S',
        b'0'..=b'9' => 'D',
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => 'M',
        b'.' => '.',
        _ => return false,
    };
    if RESOLVE_MAP.contains(&s) {
        return true;
    }
    let resolved = match hint {
        '.' => {
            // strconv.ParseFloat on ".5", ".5e3", ...
            matches_yaml_float(s) && float_in_range(s)
        }
        'D' | 'S' => {
            if is_yaml_timestamp(s) {
                return true;
            }
            let plain = s.replace('_', "");
            go_parses_int_base0(&plain, false)
                || go_parses_int_base0(&plain, true)
                || (matches_yaml_float(&plain) && float_in_range(&plain))
                || plain.strip_prefix("0b").is_some_and(go_parses_binary)
                || plain
                    .strip_prefix("-0b")
                    .is_some_and(|r| go_parses_binary(&format!("-{r}")))
        }
        _ => false,
    };
    resolved || is_base60_float(s)
}

// ---------------------------------------------------------------------------
// Key order (go-yaml's keyList.Less for string keys).
// ---------------------------------------------------------------------------

fn key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let digit = |c: char| c.is_numeric();
        let val = |c: char| i64::from(c as u32) - i64::from(b'0');
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && digit(ar[ai]) {
            an = an.wrapping_mul(10).wrapping_add(val(ar[ai]));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && digit(br[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(val(br[bi]));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// A merge sort driven by a `less` function only (no total-order assumption).
fn sort_keys(keys: &mut Vec<&String>) {
    if keys.len() <= 1 {
        return;
    }
    let mut right = keys.split_off(keys.len() / 2);
    sort_keys(keys);
    sort_keys(&mut right);
    let left = std::mem::take(keys);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if key_less(right[j], left[i]) {
            keys.push(right[j]);
            j += 1;
        } else {
            keys.push(left[i]);
            i += 1;
        }
    }
    keys.extend_from_slice(&left[i..]);
    keys.extend_from_slice(&right[j..]);
}

// ---------------------------------------------------------------------------
// Numbers as the JSON → YAML round trip prints them.
// ---------------------------------------------------------------------------

fn format_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // encoding/json writes integral floats below 1e21 as integers, which the
    // YAML decoder then reads as int/uint when they fit.
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
        if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
            return (f as i64).to_string();
        }
        if (0.0..1.844_674_407_370_955_2e19).contains(&f) {
            return (f as u64).to_string();
        }
    }
    go_format_float_g(f)
}

// ---------------------------------------------------------------------------
// The emitter.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

#[derive(Debug, Clone, Copy)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml's `yaml_emitter_analyze_scalar`, keeping what block context needs
/// (flow-context indicators never matter here).
fn analyze(v: &[char]) -> Analysis {
    if v.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;

    if v.len() >= 3 && (v[..3] == ['-', '-', '-'] || v[..3] == ['.', '.', '.']) {
        block_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    for (i, &c) in v.iter().enumerate() {
        let followed_by_whitespace = i + 1 >= v.len() || is_blank(v[i + 1]);
        // Indicators that would make a plain scalar misread in block context.
        let indicator = if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => true,
                '?' | ':' | '-' => followed_by_whitespace,
                _ => false,
            }
        } else {
            match c {
                ':' => followed_by_whitespace,
                '#' => preceded_by_whitespace,
                _ => false,
            }
        };
        block_indicators |= indicator;
        if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == v.len() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == v.len() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(c);
    }

    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.block_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

struct Emitter {
    out: String,
    column: usize,
    indent: i32,
    indents: Vec<i32>,
    whitespace: bool,
    indention: bool,
    sort: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn emit_node(&mut self, v: &Value, ctx: Ctx) {
        match v {
            Value::Null => self.emit_scalar("null", Style::Plain, ctx),
            Value::Bool(b) => {
                self.emit_scalar(if *b { "true" } else { "false" }, Style::Plain, ctx)
            }
            Value::Number(n) => self.emit_scalar(&format_number(n), Style::Plain, ctx),
            Value::String(s) => self.emit_string(s, ctx),
            Value::Array(items) => self.emit_sequence(items, ctx),
            Value::Object(map) => self.emit_mapping(map),
        }
    }

    /// go-yaml's `stringv`: the requested style before the emitter's checks.
    fn emit_string(&mut self, s: &str, ctx: Ctx) {
        let style = if s.contains('\n') {
            Style::Literal
        } else if !needs_quoting(s) {
            Style::Plain
        } else {
            Style::DoubleQuoted
        };
        self.emit_scalar(s, style, ctx);
    }

    fn emit_scalar(&mut self, s: &str, requested: Style, ctx: Ctx) {
        let v: Vec<char> = s.chars().collect();
        let a = analyze(&v);
        let style = self.select_style(requested, &a, v.is_empty(), ctx);
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(&v, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(&v, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(&v, allow_breaks),
            Style::Literal => self.write_literal(&v),
        }
        self.pop_indent();
    }

    fn select_style(&self, requested: Style, a: &Analysis, empty: bool, ctx: Ctx) -> Style {
        let mut style = requested;
        if ctx.simple_key && a.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain {
            // Scalars are only ever emitted in block context (flow level 0).
            if !a.block_plain_allowed {
                style = Style::SingleQuoted;
            }
            if empty && ctx.simple_key {
                style = Style::SingleQuoted;
            }
        }
        if style == Style::SingleQuoted && !a.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!a.block_allowed || ctx.simple_key) {
            style = Style::DoubleQuoted;
        }
        style
    }

    fn emit_sequence(&mut self, items: &[Value], ctx: Ctx) {
        if items.is_empty() {
            // Flow style, which go-yaml uses only for empty collections.
            self.write_indicator("[", true, true, false);
            self.write_indicator("]", false, false, false);
            return;
        }
        self.increase_indent(false, ctx.mapping && !self.indention);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.emit_node(item, Ctx::default());
        }
        self.pop_indent();
    }

    fn emit_mapping(&mut self, map: &Map<String, Value>) {
        if map.is_empty() {
            self.write_indicator("{", true, true, false);
            self.write_indicator("}", false, false, false);
            return;
        }
        self.increase_indent(false, false);
        let mut keys: Vec<&String> = map.keys().collect();
        if self.sort {
            sort_keys(&mut keys);
        }
        for key in keys {
            let value = &map[key.as_str()];
            self.write_indent();
            let chars: Vec<char> = key.chars().collect();
            let simple = !analyze(&chars).multiline && key.len() <= 128;
            let value_ctx = Ctx {
                mapping: true,
                simple_key: false,
            };
            if simple {
                self.emit_string(
                    key,
                    Ctx {
                        mapping: true,
                        simple_key: true,
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.emit_string(key, value_ctx);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.emit_node(value, value_ctx);
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, v: &[char], allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in v.iter().enumerate() {
            if c == ' ' {
                let next_is_space = v.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, v: &[char], allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in v.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < v.len()
                    && v[i + 1] != ' '
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, v: &[char], allow_breaks: bool) {
        let starts_with_bom = v.first() == Some(&'\u{FEFF}');
        let mut spaces = false;
        self.write_indicator("\"", true, false, false);
        for (i, &c) in v.iter().enumerate() {
            if !is_printable(c) || starts_with_bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let u = c as u32;
                match u {
                    0x00 => self.put('0'),
                    0x07 => self.put('a'),
                    0x08 => self.put('b'),
                    0x09 => self.put('t'),
                    0x0A => self.put('n'),
                    0x0B => self.put('v'),
                    0x0C => self.put('f'),
                    0x0D => self.put('r'),
                    0x1B => self.put('e'),
                    0x22 => self.put('"'),
                    0x5C => self.put('\\'),
                    0x85 => self.put('N'),
                    0xA0 => self.put('_'),
                    0x2028 => self.put('L'),
                    0x2029 => self.put('P'),
                    _ => {
                        let (prefix, width) = if u <= 0xFF {
                            ('x', 2)
                        } else if u <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(prefix);
                        for k in (0..width).rev() {
                            let digit = (u >> (k * 4)) & 0xF;
                            let ch = char::from_digit(digit, 16)
                                .unwrap_or('0')
                                .to_ascii_uppercase();
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < v.len() {
                    self.write_indent();
                    if v[i + 1] == ' ' {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_scalar_hints(&mut self, v: &[char]) {
        if v.first().is_some_and(|c| *c == ' ' || is_break(*c)) {
            self.write_indicator("2", false, false, false);
        }
        let chomp = match v {
            [] => Some("-"),
            [.., last] if !is_break(*last) => Some("-"),
            [_] => Some("+"),
            [.., prev, _] if is_break(*prev) => Some("+"),
            _ => None,
        };
        if let Some(ch) = chomp {
            self.write_indicator(ch, false, false, false);
        }
    }

    fn write_literal(&mut self, v: &[char]) {
        self.write_indicator("|", true, false, false);
        self.write_block_scalar_hints(v);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in v {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod from_yaml_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_documents_as_json() {
        let v = from_yaml(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: \"1\"\n  1: b\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "1", "1": "b"}})
        );
        assert!(from_yaml(b"a: [\n")
            .unwrap_err()
            .to_string()
            .starts_with("error converting YAML to JSON: yaml: "));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(from_yaml(bomb.as_bytes()).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_reading_keeps_the_last_value_and_names_repeated_keys() {
        // JSON with tabs is YAML (flow style); lines count from 1.
        let body = "{\n\t\"spec\": {\n\t\t\"paused\": false,\n\t\t\"paused\": true,\n\t\t\"x\": [{\"a\": 1, \"a\": 2}]\n\t}\n}";
        let (value, dups) = from_yaml_lenient(body.as_bytes()).expect("valid YAML");
        assert_eq!(value, json!({"spec": {"paused": true, "x": [{"a": 2}]}}));
        assert_eq!(
            dups,
            [
                "line 4: key \"paused\" already set in map",
                "line 5: key \"a\" already set in map"
            ]
        );
        let block = "metadata:\n  name: a\n  name: b\nspec:\n  1: x\n  1: y\n  '1': z\n";
        let (value, dups) = from_yaml_lenient(block.as_bytes()).expect("valid YAML");
        assert_eq!(value["metadata"]["name"], "b");
        assert_eq!(
            dups,
            [
                "line 3: key \"name\" already set in map",
                "line 6: key 1 already set in map"
            ]
        );
        let (_, none) = from_yaml_lenient(b"a: {b: 1}\nc: [d, {b: 2}]\n").expect("valid YAML");
        assert!(none.is_empty());
    }

    #[test]
    fn block_structure() {
        let v = json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {"name": "a", "ports": [80, 443]},
                {"name": "b", "empty": {}, "none": [], "nested": [[1, 2], []]}
            ],
            "metadata": {"labels": {"app": "web"}, "annotations": {}}
        });
        assert_eq!(
            to_yaml(&v),
            "apiVersion: v1\nkind: List\nitems:\n- name: a\n  ports:\n  - 80\n  - 443\n- name: b\n  empty: {}\n  none: []\n  nested:\n  - - 1\n    - 2\n  - []\nmetadata:\n  labels:\n    app: web\n  annotations: {}\n"
        );
    }

    #[test]
    fn roots() {
        assert_eq!(to_yaml(&json!({})), "{}\n");
        assert_eq!(to_yaml(&json!([])), "[]\n");
        assert_eq!(to_yaml(&json!(null)), "null\n");
        assert_eq!(to_yaml(&json!("x")), "x\n");
        assert_eq!(to_yaml(&json!(["a", {"b": 1}])), "- a\n- b: 1\n");
    }

    #[test]
    fn scalars_and_numbers() {
        let v = json!({"t": true, "f": false, "n": null, "i": -3, "u": 18446744073709551615u64,
            "x": 1.5, "big": 1e6, "tiny": 1e-7, "huge": 1e21, "third": 0.3333333333333333, "neg": -2.5e-10});
        assert_eq!(
            to_yaml(&v),
            "t: true\nf: false\n\"n\": null\ni: -3\nu: 18446744073709551615\nx: 1.5\nbig: 1000000\ntiny: 1e-07\nhuge: 1e+21\nthird: 0.3333333333333333\nneg: -2.5e-10\n"
        );
        assert_eq!(to_yaml(&json!({"a": 1234567.5})), "a: 1.2345675e+06\n");
        assert_eq!(to_yaml(&json!({"a": 1e20})), "a: 1e+20\n");
    }

    #[test]
    fn quoting_of_ambiguous_strings() {
        let cases: &[(&str, &str)] = &[
            ("", "\"\""),
            ("true", "\"true\""),
            ("False", "\"False\""),
            ("yes", "\"yes\""),
            ("y", "\"y\""),
            ("N", "\"N\""),
            ("on", "\"on\""),
            ("off", "\"off\""),
            ("null", "\"null\""),
            ("~", "\"~\""),
            ("0755", "\"0755\""),
            ("08", "\"08\""),
            ("123", "\"123\""),
            ("-1", "\"-1\""),
            ("+1", "\"+1\""),
            ("1e3", "\"1e3\""),
            ("1.5", "\"1.5\""),
            (".5", "\".5\""),
            ("1_000", "\"1_000\""),
            ("0x1F", "\"0x1F\""),
            ("0b101", "\"0b101\""),
            ("0o17", "\"0o17\""),
            (".inf", "\".inf\""),
            ("-.Inf", "\"-.Inf\""),
            (".nan", "\".nan\""),
            ("12:30", "\"12:30\""),
            ("190:20:30", "\"190:20:30\""),
            ("2026-11-22T09:33:31Z", "\"2026-11-22T09:33:31Z\""),
            (
                "2026-11-22T09:33:31.123456Z",
                "\"2026-11-22T09:33:31.123456Z\"",
            ),
            ("2026-11-22T10:33:31+01:00", "\"2026-11-22T10:33:31+01:00\""),
            ("2026-11-22", "\"2026-11-22\""),
            ("2026-1-2", "\"2026-1-2\""),
            ("2026-11-22 09:33:31", "\"2026-11-22 09:33:31\""),
            ("1e400", "1e400"),
            ("2026-13-01", "2026-13-01"),
            ("2023-02-29", "2023-02-29"),
            ("1.2.3", "1.2.3"),
            ("12:70", "12:70"),
            ("-", "'-'"),
            ("- a", "'- a'"),
            ("-a", "-a"),
            ("a: b", "'a: b'"),
            ("a:b", "a:b"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("#x", "'#x'"),
            ("@x", "'@x'"),
            ("*", "'*'"),
            ("&a", "'&a'"),
            ("!x", "'!x'"),
            ("%x", "'%x'"),
            ("`x", "'`x'"),
            ("{a}", "'{a}'"),
            ("[a]", "'[a]'"),
            ("a[0]", "a[0]"),
            ("? x", "'? x'"),
            ("?x", "?x"),
            (":x", ":x"),
            ("x:", "'x:'"),
            (" lead", "' lead'"),
            ("trail ", "'trail '"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            ("\"q\"", "'\"q\"'"),
            ("---", "'---'"),
            ("...", "'...'"),
            ("tab\there", "\"tab\\there\""),
            ("bell\u{7}", "\"bell\\a\""),
            ("ctrl\u{1}", "\"ctrl\\x01\""),
            ("nel\u{85}", "\"nel\\N\""),
            ("emoji 😀", "\"emoji \\U0001F600\""),
            ("zwsp\u{200b}", "zwsp\u{200b}"),
            ("héllo wörld", "héllo wörld"),
            ("cr\r", "\"cr\\r\""),
            ("Yes please", "Yes please"),
            ("nullable", "nullable"),
            ("v1", "v1"),
            ("1.0.0-rc1", "1.0.0-rc1"),
            ("10Gi", "10Gi"),
            ("100m", "100m"),
            ("/usr/bin", "/usr/bin"),
            ("http://x:80/a?b=c#d", "http://x:80/a?b=c#d"),
        ];
        for (input, want) in cases {
            let got = to_yaml(&json!({ "k": input }));
            assert_eq!(got, format!("k: {want}\n"), "input {input:?}");
        }
    }

    #[test]
    fn quoted_keys() {
        assert_eq!(
            to_yaml(&json!({"": 1, "on": 2, "8080": 3, "a b": 4, "a: b": 5})),
            "\"\": 1\n\"on\": 2\n\"8080\": 3\na b: 4\n'a: b': 5\n"
        );
        let long = "k".repeat(129);
        assert_eq!(
            to_yaml(&json!({ long.clone(): "v" })),
            format!("? {long}\n: v\n")
        );
        assert_eq!(to_yaml(&json!({ "a\nb": "v" })), "? |-\n  a\n  b\n: v\n");
        assert_eq!(
            to_yaml(&json!({ long.clone(): ["x"] })),
            format!("? {long}\n: - x\n")
        );
    }

    #[test]
    fn literal_blocks() {
        assert_eq!(to_yaml(&json!({"s": "a\nb"})), "s: |-\n  a\n  b\n");
        assert_eq!(to_yaml(&json!({"s": "a\nb\n"})), "s: |\n  a\n  b\n");
        assert_eq!(to_yaml(&json!({"s": "a\n\n"})), "s: |+\n  a\n\n");
        assert_eq!(to_yaml(&json!({"s": "\n"})), "s: |2+\n\n");
        assert_eq!(to_yaml(&json!({"s": "a\n\nb"})), "s: |-\n  a\n\n  b\n");
        assert_eq!(to_yaml(&json!({"s": " a\nb"})), "s: |2-\n   a\n  b\n");
        assert_eq!(to_yaml(&json!({"s": "\na"})), "s: |2-\n\n  a\n");
        assert_eq!(
            to_yaml(&json!({"items": [{"script": "#!/bin/sh\necho hi\n"}]})),
            "items:\n- script: |\n    #!/bin/sh\n    echo hi\n"
        );
        assert_eq!(to_yaml(&json!(["x\ny"])), "- |-\n  x\n  y\n");
        // Not representable as a literal block: double quotes with escapes.
        assert_eq!(to_yaml(&json!({"s": "a \nb"})), "s: \"a \\nb\"\n");
        assert_eq!(to_yaml(&json!({"s": "a\nb "})), "s: \"a\\nb \"\n");
        assert_eq!(to_yaml(&json!({"s": "a\n\tb"})), "s: \"a\\n\\tb\"\n");
        assert_eq!(to_yaml(&json!({"s": "a\n b"})), "s: |-\n  a\n   b\n");
    }

    #[test]
    fn folding_long_lines() {
        let words: Vec<String> = (0..30).map(|i| format!("word{i}")).collect();
        let s = words.join(" ");
        let got = to_yaml(&json!({ "message": s }));
        assert_eq!(
            got,
            "message: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11\n  word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23\n  word24 word25 word26 word27 word28 word29\n"
        );
        // Folding happens only at single spaces past column 80.
        let single = format!("'{}' {}", "x".repeat(90), "tail");
        assert_eq!(
            to_yaml(&json!({ "m": single })),
            format!("m: '''{}''\n  tail'\n", "x".repeat(90))
        );
        let quoted = format!("{}: {}", "y".repeat(85), "z");
        assert_eq!(
            to_yaml(&json!({ "m": quoted })),
            format!("m: '{}:\n  z'\n", "y".repeat(85))
        );
        let dq = format!("{}\t  b", "w".repeat(85));
        assert_eq!(
            to_yaml(&json!({ "m": dq })),
            format!("m: \"{}\\t\n  \\ b\"\n", "w".repeat(85))
        );
        let dq2 = format!("\t{}  b", "w".repeat(85));
        assert_eq!(
            to_yaml(&json!({ "m": dq2 })),
            format!("m: \"\\t{}\n  \\ b\"\n", "w".repeat(85))
        );
        // Keys are never folded.
        let key = format!("{} {}", "k".repeat(100), "x");
        assert_eq!(to_yaml(&json!({ key.clone(): 1 })), format!("{key}: 1\n"));
        // A long word is never broken.
        let word = "a".repeat(200);
        assert_eq!(
            to_yaml(&json!({ "m": word.clone() })),
            format!("m: {word}\n")
        );
    }

    #[test]
    fn sorted_keys_like_go_yaml() {
        let v = json!({"status": {}, "spec": {}, "metadata": {"name": "x", "creationTimestamp": null}, "kind": "Pod", "apiVersion": "v1"});
        assert_eq!(
            to_yaml_sorted(&v),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: null\n  name: x\nspec: {}\nstatus: {}\n"
        );
        let keys = [
            "b", "a10", "a2", "A", "_x", "a", "1", "10", "2", "a-b", "a.b", "ab", "a02", "a1",
        ];
        let mut m = Map::new();
        for k in keys {
            m.insert(k.to_string(), json!(0));
        }
        let out = to_yaml_sorted(&Value::Object(m));
        let order: Vec<&str> = out
            .lines()
            .map(|l| l.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            order,
            vec![
                "_x", "\"1\"", "\"2\"", "\"10\"", "A", "a", "a-b", "a.b", "a1", "a2", "a02", "a10",
                "ab", "b"
            ]
        );
        assert!(key_less("a", "b") && !key_less("b", "a"));
        assert!(key_less("x2", "x10"));
        assert!(key_less("abc", "abcd"));
    }

    #[test]
    fn round_trip_by_hand() {
        // A ConfigMap as kubectl shows it.
        let cm = json!({
            "apiVersion": "v1",
            "data": {"config.yaml": "a: 1\nb: [x]\n", "port": "8080", "enabled": "true", "motd": "hello world"},
            "kind": "ConfigMap",
            "metadata": {
                "creationTimestamp": "2026-11-22T09:33:31Z",
                "name": "cfg",
                "namespace": "default",
                "resourceVersion": "42",
                "uid": "6f1b7a1e-0000-4000-8000-000000000000"
            }
        });
        assert_eq!(
            to_yaml_sorted(&cm),
            "apiVersion: v1\ndata:\n  config.yaml: |\n    a: 1\n    b: [x]\n  enabled: \"true\"\n  motd: hello world\n  port: \"8080\"\nkind: ConfigMap\nmetadata:\n  creationTimestamp: \"2026-11-22T09:33:31Z\"\n  name: cfg\n  namespace: default\n  resourceVersion: \"42\"\n  uid: 6f1b7a1e-0000-4000-8000-000000000000\n"
        );
    }

    #[test]
    fn go_yaml_encode_tests() {
        // Expectations from go-yaml v2.4.3's encode_test.go.
        let cases: &[(Value, &str)] = &[
            (json!({"v": "hi"}), "v: hi\n"),
            (json!({"v": "true"}), "v: \"true\"\n"),
            (json!({"v": "false"}), "v: \"false\"\n"),
            (json!({"v": true}), "v: true\n"),
            (json!({"v": 10}), "v: 10\n"),
            (json!({"v": -10}), "v: -10\n"),
            (json!({"v": 4294967296u64}), "v: 4294967296\n"),
            (json!({"v": "10"}), "v: \"10\"\n"),
            (json!({"v": 0.1}), "v: 0.1\n"),
            (json!({"v": -0.1}), "v: -0.1\n"),
            (json!({"v": null}), "v: null\n"),
            (json!({"v": ""}), "v: \"\"\n"),
            (json!({"v": ["A", "B"]}), "v:\n- A\n- B\n"),
            (json!({"v": ["A", "B\nC"]}), "v:\n- A\n- |-\n  B\n  C\n"),
            (json!({"v": ["A", 1, {"B": [2, 3]}]}), "v:\n- A\n- 1\n- B:\n  - 2\n  - 3\n"),
            (json!({"a": {"b": "c"}}), "a:\n  b: c\n"),
            (json!({"a": "-"}), "a: '-'\n"),
            (json!({"a": "<foo>"}), "a: <foo>\n"),
            (json!({"a": "1:1"}), "a: \"1:1\"\n"),
            (json!({"a": "\u{0}"}), "a: \"\\0\"\n"),
            (json!({"a": "你好"}), "a: 你好\n"),
            (json!({"a": "2015-02-24T18:19:39Z"}), "a: \"2015-02-24T18:19:39Z\"\n"),
            (json!({"a": "b: c"}), "a: 'b: c'\n"),
            (json!({"a": "Hello #comment"}), "a: 'Hello #comment'\n"),
            (json!({"a": "你好 #comment"}), "a: '你好 #comment'\n"),
            (json!({"a": 100.5}), "a: 100.5\n"),
            (
                json!({"a": "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 "}),
                "a: 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 abcdefghijklmnopqrstuvwxyz\n  ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 '\n",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(to_yaml_sorted(v), *want, "{v}");
        }
    }

    #[test]
    fn resolver_helpers() {
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("-1_0:5:59.5"));
        assert!(!is_base60_float("1:60"));
        assert!(!is_base60_float("1:"));
        assert!(is_yaml_timestamp("2001-12-14t21:59:43.10-05:00"));
        assert!(is_yaml_timestamp("2001-12-14   21:59:43.10"));
        assert!(!is_yaml_timestamp("2001-12-14 21:59:43.10 -5"));
        assert!(!is_yaml_timestamp("2001-12-14T21:59:43"));
        assert!(!is_yaml_timestamp("20011-12-14"));
        assert!(needs_quoting("0b-1"));
        assert!(needs_quoting("-0b1"));
        assert!(!needs_quoting("0x"));
        assert!(!needs_quoting("+"));
        assert!(!needs_quoting("<<"));
    }
}
