//! A reader for the small subset of YAML that kubeconfig files use, into `serde_json::Value`.
//!
//! Supported: block mappings and sequences by indentation (including sequences written at
//! their parent key's indentation, as kubectl writes them), `- key: value` items, plain,
//! single- and double-quoted scalars, `{}` / `[]` and JSON-style flow collections, comments,
//! and a leading `---`. Scalars stay strings (the kubeconfig reader interprets booleans).
//! Not supported, with a clear error: block scalars (`|`, `>`), anchors and aliases, tags,
//! several documents.

use serde_json::{Map, Value};

use crate::bail;
use crate::error::{Error, Result};

struct Line {
    indent: usize,
    text: String,
    number: usize,
}

/// Parses one YAML document.
pub fn parse(input: &str) -> Result<Value> {
    let mut lines = Vec::new();
    let mut started = false;
    for (n, raw) in input.lines().enumerate() {
        let number = n + 1;
        let content = strip_comment(raw).trim_end();
        if content.trim().is_empty() {
            continue;
        }
        let text = content.trim_start();
        let indent = content.len() - text.len();
        if content[..indent].contains('\t') {
            bail!("line {number}: tabs are not allowed for indentation in YAML");
        }
        if indent == 0 && text.starts_with("---") && text[3..].trim().is_empty() {
            if started {
                bail!("line {number}: several YAML documents in one file are not supported");
            }
            continue;
        }
        if indent == 0 && text == "..." {
            break;
        }
        started = true;
        lines.push(Line {
            indent,
            text: text.to_string(),
            number,
        });
    }
    if lines.is_empty() {
        return Ok(Value::Null);
    }
    let mut parser = Parser { lines, pos: 0 };
    let first = parser.lines[0].indent;
    let value = parser.block(first)?;
    if let Some(line) = parser.lines.get(parser.pos) {
        bail!(
            "line {}: unexpected content `{}` (bad indentation?)",
            line.number,
            line.text
        );
    }
    Ok(value)
}

/// Removes a `#` comment that starts a line or follows whitespace outside quotes.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(b'"') => {
                if c == b'\\' {
                    i += 1;
                } else if c == b'"' {
                    quote = None;
                }
            }
            Some(_) => {
                if c == b'\'' {
                    quote = None;
                }
            }
            None => {
                let at_token_start = i == 0 || bytes[i - 1].is_ascii_whitespace();
                if (c == b'"' || c == b'\'') && at_token_start {
                    quote = Some(c);
                } else if c == b'#' && at_token_start {
                    return &line[..i];
                }
            }
        }
        i += 1;
    }
    line
}

struct Parser {
    lines: Vec<Line>,
    pos: usize,
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

impl Parser {
    fn block(&mut self, indent: usize) -> Result<Value> {
        match self.lines.get(self.pos) {
            Some(line) if is_item(&line.text) => self.sequence(indent),
            Some(_) => self.mapping(indent),
            None => Ok(Value::Null),
        }
    }

    fn sequence(&mut self, indent: usize) -> Result<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.pos) {
            if line.indent != indent || !is_item(&line.text) {
                if line.indent > indent {
                    bail!("line {}: unexpected indentation in a sequence", line.number);
                }
                break;
            }
            let rest = line.text[1..].trim_start().to_string();
            let offset = indent + (line.text.len() - rest.len());
            if rest.is_empty() {
                self.pos += 1;
                match self.lines.get(self.pos) {
                    Some(next) if next.indent > indent => {
                        let next_indent = next.indent;
                        items.push(self.block(next_indent)?);
                    }
                    _ => items.push(Value::Null),
                }
            } else if is_item(&rest) || split_key(&rest, line.number)?.is_some() {
                // `- key: value` opens a mapping (or `- - x` a sequence) at the item's column.
                let line = &mut self.lines[self.pos];
                line.indent = offset;
                line.text = rest;
                items.push(self.block(offset)?);
            } else {
                let number = line.number;
                self.pos += 1;
                items.push(scalar(&rest, number)?);
            }
        }
        Ok(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize) -> Result<Value> {
        let mut map = Map::new();
        while let Some(line) = self.lines.get(self.pos) {
            if line.indent < indent || (line.indent == indent && is_item(&line.text)) {
                break;
            }
            if line.indent > indent {
                bail!("line {}: unexpected indentation", line.number);
            }
            let number = line.number;
            let Some((key, rest)) = split_key(&line.text, number)? else {
                bail!(
                    "line {number}: expected `key: value`, found `{}`",
                    line.text
                );
            };
            let rest = rest.to_string();
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.lines.get(self.pos) {
                    Some(next) if next.indent > indent => {
                        let next_indent = next.indent;
                        self.block(next_indent)?
                    }
                    Some(next) if next.indent == indent && is_item(&next.text) => {
                        self.sequence(indent)?
                    }
                    _ => Value::Null,
                }
            } else {
                scalar(&rest, number)?
            };
            if map.insert(key.clone(), value).is_some() {
                bail!("line {number}: duplicate key `{key}`");
            }
        }
        Ok(Value::Object(map))
    }
}

/// Splits `key: value` (or `key:`); `None` when the text is not a mapping entry.
fn split_key(text: &str, number: usize) -> Result<Option<(String, &str)>> {
    if text.starts_with('"') || text.starts_with('\'') {
        let (key, used) = quoted(text, number)?;
        let rest = &text[used..];
        return Ok(match rest.strip_prefix(':') {
            Some(value) if value.is_empty() || value.starts_with(' ') => {
                Some((key, value.trim_start()))
            }
            _ => None,
        });
    }
    if text.starts_with('{') || text.starts_with('[') {
        return Ok(None);
    }
    let colon = text
        .find(": ")
        .or_else(|| text.strip_suffix(':').map(|k| k.len()));
    Ok(colon.map(|i| (text[..i].trim_end().to_string(), text[i + 1..].trim_start())))
}

/// Reads a quoted scalar at the start of `text`; returns it and the bytes consumed.
fn quoted(text: &str, number: usize) -> Result<(String, usize)> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    let Some((_, q)) = chars.next() else {
        bail!("line {number}: empty quoted string");
    };
    while let Some((i, c)) = chars.next() {
        if q == '\'' {
            if c == '\'' {
                if text[i + 1..].starts_with('\'') {
                    out.push('\'');
                    chars.next();
                    continue;
                }
                return Ok((out, i + 1));
            }
            out.push(c);
        } else if c == '"' {
            return Ok((out, i + 1));
        } else if c == '\\' {
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '/' => out.push('/'),
                ' ' => out.push(' '),
                'u' => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    let ch = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| Error(format!("line {number}: bad \\u escape")))?;
                    out.push(ch);
                }
                other => bail!("line {number}: unsupported escape `\\{other}`"),
            }
        } else {
            out.push(c);
        }
    }
    bail!("line {number}: unterminated quoted string")
}

fn scalar(text: &str, number: usize) -> Result<Value> {
    let text = text.trim();
    if text.starts_with('"') || text.starts_with('\'') {
        let (s, used) = quoted(text, number)?;
        if !text[used..].trim().is_empty() {
            bail!("line {number}: unexpected text after a quoted string");
        }
        return Ok(Value::String(s));
    }
    if text.starts_with('{') || text.starts_with('[') {
        return serde_json::from_str(text).map_err(|_| {
            Error(format!(
                "line {number}: flow collection `{text}` is not supported (only JSON-style)"
            ))
        });
    }
    if text.starts_with('|') || text.starts_with('>') {
        bail!("line {number}: block scalars (`|`, `>`) are not supported; use a one-line value");
    }
    if text.starts_with('&') || text.starts_with('*') || text.starts_with('!') {
        bail!("line {number}: anchors, aliases and tags are not supported");
    }
    if text == "~" || text == "null" || text == "Null" || text == "NULL" {
        return Ok(Value::Null);
    }
    Ok(Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubectl_style() {
        let doc = r#"apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: QUJD
    server: https://127.0.0.1:6443   # comment
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    namespace: "team #1"
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    token: 'it''s'
"#;
        let v = parse(doc).unwrap();
        assert_eq!(
            v,
            json!({
                "apiVersion": "v1",
                "clusters": [{"cluster": {"certificate-authority-data": "QUJD",
                    "server": "https://127.0.0.1:6443"}, "name": "kind-kind"}],
                "contexts": [{"context": {"cluster": "kind-kind", "namespace": "team #1",
                    "user": "kind-kind"}, "name": "kind-kind"}],
                "current-context": "kind-kind",
                "kind": "Config",
                "preferences": {},
                "users": [{"name": "kind-kind", "user": {"token": "it's"}}],
            })
        );
    }

    #[test]
    fn indented_sequences_and_scalars() {
        let doc = "---\na:\n  - x\n  - \"y\\n\"\n  -\n    k: v\nb: [1, 2]\nc: ~\nd:\n";
        let v = parse(doc).unwrap();
        assert_eq!(
            v,
            json!({"a": ["x", "y\n", {"k": "v"}], "b": [1, 2], "c": null, "d": null})
        );
    }

    #[test]
    fn errors_are_reported_with_lines() {
        assert!(parse("a: |\n  x\n").unwrap_err().0.contains("line 1"));
        assert!(parse("a: b\n   c: d\n").unwrap_err().0.contains("line 2"));
        assert!(parse("a: \"open\n").is_err());
        assert!(parse("a: 1\na: 2\n").unwrap_err().0.contains("duplicate"));
        assert!(parse("a:\n\tb: c\n").is_err());
        assert_eq!(parse("").unwrap(), Value::Null);
    }
}
