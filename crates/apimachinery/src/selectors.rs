//! Label selectors (`k8s.io/apimachinery/pkg/labels`) and field selectors
//! (`k8s.io/apimachinery/pkg/fields`) with upstream's grammar, canonical
//! string forms and error messages.

use crate::errors::{aggregate_message, FieldError, FieldPath};
use crate::gofmt::go_quote;
use crate::validation::{is_qualified_name, is_valid_label_value};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;

// ---------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------

/// A label requirement operator (`selection.Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `=`
    Equals,
    /// `==`
    DoubleEquals,
    /// `!=`
    NotEquals,
    /// `in`
    In,
    /// `notin`
    NotIn,
    /// `key`
    Exists,
    /// `!key`
    DoesNotExist,
    /// `gt` (`>`)
    GreaterThan,
    /// `lt` (`<`)
    LessThan,
}

impl Operator {
    /// Upstream's string for the operator (`=`, `notin`, `exists`, `gt`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

/// One requirement of a label selector (`labels.Requirement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// The operator.
    pub operator: Operator,
    /// The values (sorted and deduplicated when parsed).
    pub values: Vec<String>,
}

impl Requirement {
    /// `labels.NewRequirement`: validates the key, the values and their count
    /// for the operator; the error is upstream's aggregate message.
    pub fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Requirement, String> {
        let path = FieldPath::nil();
        let mut errs: Vec<FieldError> = Vec::new();
        if let Some(e) = validate_label_key(key, &path.child("key")) {
            errs.push(e);
        }
        let value_path = path.child("values");
        let values_json =
            || Value::Array(values.iter().map(|v| Value::String(v.clone())).collect());
        match operator {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errs.push(FieldError::invalid(
                        &value_path,
                        values_json(),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        &value_path,
                        values_json(),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errs.push(FieldError::invalid(
                        &value_path,
                        values_json(),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        &value_path,
                        values_json(),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(FieldError::invalid(
                            &value_path.index(i),
                            v.as_str(),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            let msgs = is_valid_label_value(v);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(
                    &value_path.index(i).key(key),
                    v.as_str(),
                    &msgs.join("; "),
                ));
            }
        }
        match aggregate_message(&errs) {
            Some(msg) => Err(msg),
            None => Ok(Requirement {
                key: key.to_string(),
                operator,
                values,
            }),
        }
    }

    /// Whether the labels satisfy this requirement.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                get(&self.key).is_some_and(|v| self.values.iter().any(|x| x == v))
            }
            Operator::NotIn | Operator::NotEquals => {
                get(&self.key).is_none_or(|v| !self.values.iter().any(|x| x == v))
            }
            Operator::Exists => labels.contains_key(&self.key),
            Operator::DoesNotExist => !labels.contains_key(&self.key),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(Ok(have)) = get(&self.key).map(str::parse::<i64>) else {
                    return false;
                };
                let [want] = self.values.as_slice() else {
                    return false;
                };
                let Ok(want) = want.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        if self.values.len() == 1 {
            f.write_str(&self.values[0])?;
        } else {
            let mut sorted = self.values.clone();
            sorted.sort();
            f.write_str(&sorted.join(","))?;
        }
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

fn validate_label_key(key: &str, path: &FieldPath) -> Option<FieldError> {
    let msgs = is_qualified_name(key);
    (!msgs.is_empty()).then(|| FieldError::invalid(path, key, &msgs.join("; ")))
}

/// A label selector (`labels.Selector`): requirements that must all hold,
/// sorted by key. The empty selector matches everything; [`LabelSelector::nothing`]
/// matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl LabelSelector {
    /// The selector that matches everything (`labels.Everything()`).
    pub fn everything() -> LabelSelector {
        LabelSelector::default()
    }

    /// The selector that matches nothing (`labels.Nothing()`).
    pub fn nothing() -> LabelSelector {
        LabelSelector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Parses the query-string form (`labels.Parse`): `a=b`, `a==b`, `a!=b`,
    /// `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma-separated.
    /// Errors carry upstream's exact message.
    pub fn parse(selector: &str) -> Result<LabelSelector, String> {
        let items = lex_all(selector);
        let mut p = Parser { items, pos: 0 };
        let mut requirements = p.parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// A selector requiring every label of the set (`labels.SelectorFromSet`,
    /// without validation).
    pub fn from_set(set: &Map<String, Value>) -> LabelSelector {
        let mut requirements: Vec<Requirement> = set
            .iter()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                operator: Operator::Equals,
                values: vec![v.as_str().unwrap_or_default().to_string()],
            })
            .collect();
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector {
            requirements,
            nothing: false,
        }
    }

    /// Adds requirements, keeping them sorted by key (`Selector.Add`).
    pub fn add(&mut self, reqs: impl IntoIterator<Item = Requirement>) {
        self.requirements.extend(reqs);
        self.requirements.sort_by(|a, b| a.key.cmp(&b.key));
    }

    /// Whether the labels (a JSON `metadata.labels` object) satisfy the selector.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether this selector has no requirements (and so matches everything).
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// Whether this is the matches-nothing selector.
    pub fn matches_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// The single value `label` must have, if the selector pins it
    /// (`RequiresExactMatch`).
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == label)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [v]) => Some(v.as_str()),
            _ => None,
        }
    }
}

impl fmt::Display for LabelSelector {
    /// The canonical form (`Selector.String()`): requirements joined by `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Converts a `metav1.LabelSelector` JSON object (`matchLabels`,
/// `matchExpressions`) as `metav1.LabelSelectorAsSelector`: `null`/absent
/// matches nothing, `{}` matches everything.
pub fn label_selector_from_json(selector: Option<&Value>) -> Result<LabelSelector, String> {
    let Some(sel) = selector.filter(|v| !v.is_null()) else {
        return Ok(LabelSelector::nothing());
    };
    let match_labels = sel.get("matchLabels").and_then(Value::as_object);
    let exprs = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut out = LabelSelector::everything();
    let mut reqs = Vec::new();
    for (k, v) in match_labels.into_iter().flatten() {
        let value = v.as_str().unwrap_or_default().to_string();
        reqs.push(Requirement::new(k, Operator::Equals, vec![value])?);
    }
    for e in exprs {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let op_str = e
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let op = match op_str {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            other => {
                return Err(format!(
                    "{} is not a valid label selector operator",
                    go_quote(other)
                ))
            }
        };
        let values: Vec<String> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        reqs.push(Requirement::new(key, op, values)?);
    }
    out.add(reqs);
    Ok(out)
}

// --- lexer / parser (labels.Lexer / labels.Parser) ---

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn keyword(s: &[u8]) -> Option<Token> {
    Some(match s {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn lex_all(s: &str) -> Vec<(Token, String)> {
    let b = s.as_bytes();
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        while pos < b.len() && is_whitespace(b[pos]) {
            pos += 1;
        }
        // Go's lexer reads a NUL byte as end of input.
        if pos >= b.len() || b[pos] == 0 {
            out.push((Token::EndOfString, String::new()));
            return out;
        }
        if is_special(b[pos]) {
            let start = pos;
            let mut last: Option<(Token, usize)> = None;
            let mut hit_nul = false;
            loop {
                if pos >= b.len() || b[pos] == 0 {
                    hit_nul = pos < b.len();
                    break;
                }
                if !is_special(b[pos]) {
                    break;
                }
                if let Some(t) = keyword(&b[start..=pos]) {
                    last = Some((t, pos + 1));
                } else if last.is_some() {
                    break;
                }
                pos += 1;
            }
            match last {
                Some((t, end)) => {
                    // Go's reader consumes a NUL that ends the symbol.
                    pos = if hit_nul && pos == end { end + 1 } else { end };
                    out.push((t, s[start..end].to_string()));
                }
                None => {
                    out.push((
                        Token::Error,
                        format!("error expected: keyword found '{}'", &s[start..pos]),
                    ));
                }
            }
        } else {
            let start = pos;
            while pos < b.len() && b[pos] != 0 && !is_special(b[pos]) && !is_whitespace(b[pos]) {
                pos += 1;
            }
            let lit = String::from_utf8_lossy(&b[start..pos]).into_owned();
            // Go's reader consumes a NUL that ends the identifier.
            if pos < b.len() && b[pos] == 0 {
                pos += 1;
            }
            let tok = keyword(lit.as_bytes()).unwrap_or(Token::Identifier);
            out.push((tok, lit));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    KeyAndOperator,
    Values,
}

struct Parser {
    items: Vec<(Token, String)>,
    pos: usize,
}

impl Parser {
    fn item(&self, i: usize, ctx: Ctx) -> (Token, String) {
        let (mut tok, lit) = self
            .items
            .get(i)
            .cloned()
            .unwrap_or((Token::EndOfString, String::new()));
        if ctx == Ctx::Values && matches!(tok, Token::In | Token::NotIn) {
            tok = Token::Identifier;
        }
        (tok, lit)
    }

    fn lookahead(&self, ctx: Ctx) -> (Token, String) {
        self.item(self.pos, ctx)
    }

    fn consume(&mut self, ctx: Ctx) -> (Token, String) {
        let it = self.item(self.pos, ctx);
        if self.pos < self.items.len() {
            self.pos += 1;
        }
        it
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut reqs = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Ctx::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self
                        .parse_requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    reqs.push(r);
                    let (t, l) = self.consume(Ctx::Values);
                    match t {
                        Token::EndOfString => return Ok(reqs),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Ctx::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(format!(
                                    "found '{l2}', expected: identifier after ','"
                                ));
                            }
                        }
                        _ => return Err(format!("found '{l}', expected: ',' or 'end of string'")),
                    }
                }
                Token::EndOfString => return Ok(reqs),
                _ => {
                    return Err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    ))
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, op) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = op {
            return Requirement::new(&key, op, Vec::new());
        }
        let op = self.parse_operator()?;
        let values = match op {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new(&key, op, values.into_iter().collect())
    }

    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut op = None;
        let (mut tok, mut lit) = self.consume(Ctx::Values);
        if tok == Token::DoesNotExist {
            op = Some(Operator::DoesNotExist);
            (tok, lit) = self.consume(Ctx::Values);
        }
        if tok != Token::Identifier {
            return Err(format!("found '{lit}', expected: identifier"));
        }
        if let Some(e) = validate_label_key(&lit, &FieldPath::nil()) {
            return Err(e.to_string());
        }
        let (t, _) = self.lookahead(Ctx::Values);
        if (t == Token::EndOfString || t == Token::Comma) && op != Some(Operator::DoesNotExist) {
            op = Some(Operator::Exists);
        }
        Ok((lit, op))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (tok, lit) = self.consume(Ctx::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return Err(format!("found '{lit}', expected: {BINARY_OPERATORS}")),
        })
    }

    fn parse_values(&mut self) -> Result<BTreeSet<String>, String> {
        let (tok, lit) = self.consume(Ctx::Values);
        if tok != Token::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Ctx::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let s = self.parse_identifiers_list()?;
                let (t, _) = self.consume(Ctx::Values);
                if t != Token::ClosedPar {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(s)
            }
            Token::ClosedPar => {
                self.consume(Ctx::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, String> {
        let mut s = BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Ctx::Values);
            match tok {
                Token::Identifier => {
                    s.insert(lit);
                    let (t2, l2) = self.lookahead(Ctx::Values);
                    match t2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(s),
                        _ => return Err(format!("found '{l2}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    if s.is_empty() {
                        s.insert(String::new());
                    }
                    let (t2, _) = self.lookahead(Ctx::Values);
                    if t2 == Token::ClosedPar {
                        s.insert(String::new());
                        return Ok(s);
                    }
                    if t2 == Token::Comma {
                        s.insert(String::new());
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, String> {
        let mut s = BTreeSet::new();
        let (tok, _) = self.lookahead(Ctx::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            s.insert(String::new());
            return Ok(s);
        }
        let (tok, lit) = self.consume(Ctx::Values);
        if tok == Token::Identifier {
            s.insert(lit);
            return Ok(s);
        }
        Err(format!("found '{lit}', expected: identifier"))
    }
}

// ---------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------

/// A field selector operator. `==` parses as [`FieldOperator::Equals`], as upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `=` or `==`
    Equals,
    /// `!=`
    NotEquals,
}

impl FieldOperator {
    /// The operator as written in the canonical form (`=` or `!=`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        }
    }
}

impl fmt::Display for FieldOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field selector (`fields.Selector`): terms that must all hold; a missing
/// field compares as the empty string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<(String, FieldOperator, String)>,
}

/// Escapes `\`, `,` and `=` in a field selector value (`fields.EscapeValue`).
pub fn escape_field_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Unescapes a field selector value (`fields.UnescapeValue`), with upstream's errors.
pub fn unescape_field_value(s: &str) -> Result<String, String> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                _ => {
                    return Err(format!(
                        "invalid field selector: invalid escape sequence: \\{c}"
                    ))
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Go prints the rune with %v, i.e. its code point.
            ',' | '=' => {
                return Err(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                ))
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

/// Splits on unescaped commas (`splitTerms`).
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Splits a term at its first operator (`!=`, `==` or `=`, tried in that order
/// at each position).
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, kind) in [
            ("!=", FieldOperator::NotEquals),
            ("==", FieldOperator::Equals),
            ("=", FieldOperator::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], kind, value));
            }
        }
    }
    None
}

impl FieldSelector {
    /// The selector that matches everything.
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// Parses `a=b,c!=d,e==f` with `\`-escaping of `\`, `,` and `=` in values
    /// (`fields.ParseSelector`). Terms are sorted; errors are upstream's.
    pub fn parse(selector: &str) -> Result<FieldSelector, String> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                ));
            };
            let value = unescape_field_value(rhs)?;
            // Upstream's transform step drops terms with neither field nor value.
            if lhs.is_empty() && value.is_empty() {
                continue;
            }
            terms.push((lhs.to_string(), op, value));
        }
        Ok(FieldSelector { terms })
    }

    /// A selector of `field=value` terms, in the order given.
    pub fn from_terms<'a>(terms: impl IntoIterator<Item = (&'a str, &'a str)>) -> FieldSelector {
        FieldSelector {
            terms: terms
                .into_iter()
                .map(|(f, v)| (f.to_string(), FieldOperator::Equals, v.to_string()))
                .collect(),
        }
    }

    /// The selector with each field label replaced by `f`'s (upstream's `Transform` with a
    /// field label conversion); the first error stops it.
    pub fn map_fields<E>(&self, f: impl Fn(&str) -> Result<String, E>) -> Result<FieldSelector, E> {
        let terms = self
            .terms
            .iter()
            .map(|(field, op, value)| Ok((f(field)?, *op, value.clone())))
            .collect::<Result<_, E>>()?;
        Ok(FieldSelector { terms })
    }

    /// The terms as `(field, operator, value)`, values unescaped.
    pub fn requirements(&self) -> &[(String, FieldOperator, String)] {
        &self.terms
    }

    /// Whether the selector has no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether an object passes: `get` returns a field's value, `None` (missing)
    /// comparing as the empty string.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|(field, op, value)| {
            let have = get(field).unwrap_or_default();
            match op {
                FieldOperator::Equals => &have == value,
                FieldOperator::NotEquals => &have != value,
            }
        })
    }

    /// The value `field` must equal, if an `=` term pins it (`RequiresExactMatch`).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|(f, op, _)| f == field && *op == FieldOperator::Equals)
            .map(|(_, _, v)| v.as_str())
    }
}

impl fmt::Display for FieldSelector {
    /// The canonical form (`Selector.String()`), values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, op, value)) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{field}{op}{}", escape_field_value(value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn parse_good_strings() {
        // TestSelectorParse: the canonical form equals the input without spaces.
        for s in [
            "x=a,y=b,z=c",
            "",
            "x!=a,y=b",
            "x=",
            "x= ",
            "x=,z= ",
            "x= ,z= ",
            "!x",
            "x>1",
            "x>1,z<5",
        ] {
            let sel = LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(sel.to_string(), s.replace(' ', ""), "{s}");
        }
        for s in ["x=a||y=b", "x==a==b", "!x=a", "x<a"] {
            assert!(LabelSelector::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(
            LabelSelector::parse("x=a,a=x").unwrap().to_string(),
            "a=x,x=a"
        );
        assert_eq!(
            LabelSelector::parse(" x in ( c , b,a ) ")
                .unwrap()
                .to_string(),
            "x in (a,b,c)"
        );
        assert_eq!(
            LabelSelector::parse("x notin (a)").unwrap().to_string(),
            "x notin (a)"
        );
        assert_eq!(
            LabelSelector::parse("x in ()").unwrap().requirements()[0].values,
            vec![""]
        );
        assert_eq!(
            LabelSelector::parse("x in (,a)").unwrap().requirements()[0].values,
            vec!["", "a"]
        );
        assert_eq!(LabelSelector::parse("a==b").unwrap().to_string(), "a==b");
        assert_eq!(
            LabelSelector::parse("\tenv\n!= prod").unwrap().to_string(),
            "env!=prod"
        );
        // "in" and "notin" are identifiers where a value is expected.
        assert_eq!(
            LabelSelector::parse("notin=in").unwrap().to_string(),
            "notin=in"
        );
        assert!(LabelSelector::parse("").unwrap().is_empty());
    }

    #[test]
    fn parse_errors() {
        let err = |s: &str| LabelSelector::parse(s).unwrap_err();
        // '|' is not special: "a||y" is one identifier, an invalid label value.
        assert!(err("x=a||y=b").starts_with("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": a valid label must be"));
        assert_eq!(
            err("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(err("a=b c"), "found 'c', expected: ',' or 'end of string'");
        assert_eq!(err("x,"), "found '', expected: identifier after ','");
        assert_eq!(
            err("=a"),
            "found '=', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err("x in a"),
            "unable to parse requirement: found 'a' expected: '('"
        );
        assert_eq!(
            err("x in (a"),
            "unable to parse requirement: found '', expected: ',' or ')'"
        );
        assert_eq!(
            err("x in (a b)"),
            "unable to parse requirement: found 'b', expected: ',' or ')'"
        );
        assert_eq!(
            err("x in (=)"),
            "unable to parse requirement: found '=', expected: ',', ')' or identifier"
        );
        assert_eq!(
            err("x (a)"),
            "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"
        );
        // "!x" is complete before "=", as in upstream's parser.
        assert_eq!(err("!x=a"), "found '=', expected: ',' or 'end of string'");
        assert_eq!(
            err("x=(a"),
            "unable to parse requirement: found '(', expected: identifier"
        );
        assert_eq!(
            err("x=!=a"),
            "unable to parse requirement: found '!=', expected: identifier"
        );
        assert_eq!(
            err("x<a"),
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
        assert_eq!(
            err("x=a$b"),
            "unable to parse requirement: values[0][x]: Invalid value: \"a$b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        assert_eq!(
            err("a/b/c=d"),
            "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        );
        assert_eq!(
            err("x=a=b").as_str(),
            "found '=', expected: ',' or 'end of string'"
        );
        assert_eq!(
            err("x!a"),
            "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(
            err("x)"),
            "unable to parse requirement: found ')', expected: in, notin, =, ==, !=, gt, lt"
        );
    }

    #[test]
    fn lexer_special_symbols() {
        assert_eq!(
            lex_all("x!=a"),
            vec![
                (Token::Identifier, "x".into()),
                (Token::NotEquals, "!=".into()),
                (Token::Identifier, "a".into()),
                (Token::EndOfString, String::new())
            ]
        );
        assert_eq!(lex_all("=!")[0], (Token::Equals, "=".into()));
        assert_eq!(
            lex_all("(("),
            vec![
                (Token::OpenPar, "(".into()),
                (Token::OpenPar, "(".into()),
                (Token::EndOfString, String::new())
            ]
        );
    }

    #[test]
    fn matching() {
        let ls = labels(json!({"x": "y", "z": "w", "n": "5"}));
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(&ls);
        assert!(m(""));
        assert!(m("x=y"));
        assert!(m("x==y,z=w"));
        assert!(!m("x=z"));
        assert!(m("x!=z"));
        assert!(m("missing!=a"));
        assert!(m("x in (a,y)"));
        assert!(!m("x notin (a,y)"));
        assert!(m("missing notin (a)"));
        assert!(m("x"));
        assert!(!m("missing"));
        assert!(m("!missing"));
        assert!(!m("!x"));
        assert!(m("n>4"));
        assert!(!m("n>5"));
        assert!(m("n<6"));
        assert!(!m("x>1"));
        assert!(!m("missing<1"));
        assert!(LabelSelector::parse("x=")
            .unwrap()
            .matches(&labels(json!({"x": ""}))));
        assert!(!LabelSelector::nothing().matches(&ls));
        assert!(!LabelSelector::nothing().is_empty());
        assert!(LabelSelector::everything().matches(&ls));
    }

    #[test]
    fn exact_match() {
        let sel = LabelSelector::parse("a=b,c in (d),e in (f,g),h!=i").unwrap();
        assert_eq!(sel.requires_exact_match("a"), Some("b"));
        assert_eq!(sel.requires_exact_match("c"), Some("d"));
        assert_eq!(sel.requires_exact_match("e"), None);
        assert_eq!(sel.requires_exact_match("h"), None);
        assert_eq!(sel.requires_exact_match("zz"), None);
    }

    #[test]
    fn from_json() {
        let sel = label_selector_from_json(Some(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["b", "a"]},
                {"key": "env", "operator": "DoesNotExist"}
            ]
        })))
        .unwrap();
        assert_eq!(sel.to_string(), "app=web,!env,tier in (a,b)");
        assert!(sel.matches(&labels(json!({"app": "web", "tier": "a"}))));
        assert!(!sel.matches(&labels(json!({"app": "web", "tier": "a", "env": "x"}))));
        assert!(label_selector_from_json(Some(&json!({})))
            .unwrap()
            .is_empty());
        assert!(label_selector_from_json(None).unwrap().matches_nothing());
        assert!(label_selector_from_json(Some(&Value::Null))
            .unwrap()
            .matches_nothing());
        assert_eq!(
            label_selector_from_json(Some(
                &json!({"matchExpressions": [{"key": "a", "operator": "Foo"}]})
            ))
            .unwrap_err(),
            "\"Foo\" is not a valid label selector operator"
        );
        assert_eq!(
            label_selector_from_json(Some(
                &json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})
            ))
            .unwrap_err(),
            "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            label_selector_from_json(Some(&json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}))).unwrap_err(),
            "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"
        );
        assert_eq!(
            label_selector_from_json(Some(&json!({"matchLabels": {"-a": "b"}}))).unwrap_err(),
            "key: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        );
        let two = Requirement::new("-a", Operator::Equals, vec![]).unwrap_err();
        assert!(two.starts_with("[key: Invalid value: \"-a\""));
        assert!(two.ends_with(
            ", values: Invalid value: []: exact-match compatibility requires one single value]"
        ));
    }

    #[test]
    fn field_selectors() {
        let sel = FieldSelector::parse("metadata.name=foo,status.phase!=Running").unwrap();
        assert_eq!(
            sel.requirements(),
            &[
                (
                    "metadata.name".to_string(),
                    FieldOperator::Equals,
                    "foo".to_string()
                ),
                (
                    "status.phase".to_string(),
                    FieldOperator::NotEquals,
                    "Running".to_string()
                ),
            ]
        );
        let get = |f: &str| match f {
            "metadata.name" => Some("foo".to_string()),
            "status.phase" => Some("Pending".to_string()),
            _ => None,
        };
        assert!(sel.matches(get));
        assert!(!FieldSelector::parse("metadata.name==bar")
            .unwrap()
            .matches(get));
        assert!(FieldSelector::parse("spec.nodeName=").unwrap().matches(get));
        assert!(!FieldSelector::parse("spec.nodeName!=")
            .unwrap()
            .matches(get));
        assert!(FieldSelector::parse("").unwrap().is_empty());
        assert_eq!(
            FieldSelector::parse("b=1,a==2").unwrap().to_string(),
            "a=2,b=1"
        );
        assert_eq!(sel.requires_exact_match("metadata.name"), Some("foo"));
        assert_eq!(sel.requires_exact_match("status.phase"), None);
    }

    #[test]
    fn field_selector_escaping() {
        let sel = FieldSelector::parse(r"a=x\,y\=z\\w,b=c").unwrap();
        assert_eq!(sel.requirements()[0].2, r"x,y=z\w");
        assert_eq!(sel.to_string(), r"a=x\,y\=z\\w,b=c");
        assert_eq!(escape_field_value(r"a,b=c\d"), r"a\,b\=c\\d");
        assert_eq!(unescape_field_value("plain"), Ok("plain".to_string()));
        assert_eq!(
            FieldSelector::parse(r"a=b\c").unwrap_err(),
            r"invalid field selector: invalid escape sequence: \c"
        );
        assert_eq!(
            FieldSelector::parse(r"a=b\").unwrap_err(),
            r"invalid field selector: invalid escape sequence: \"
        );
        assert_eq!(
            FieldSelector::parse("a=b=c").unwrap_err(),
            "invalid field selector: unescaped character in value: 61"
        );
        assert_eq!(
            FieldSelector::parse("a=b,c").unwrap_err(),
            "invalid selector: 'a=b,c'; can't understand 'c'"
        );
        assert_eq!(
            FieldSelector::parse("a!=b").unwrap().requirements()[0].1,
            FieldOperator::NotEquals
        );
        // "=" alone selects everything, as upstream's transform drops it.
        assert!(FieldSelector::parse("=").unwrap().is_empty());
        assert!(FieldSelector::parse(",,").unwrap().is_empty());
    }
}
