//! Indented JSON made from compact JSON bytes without parsing them: what a pretty response
//! (`?pretty=true`, curl, browsers) needs, written straight from the bytes the watch cache
//! keeps. The output is byte for byte what `serde_json::to_vec_pretty` (and Go's
//! `json.Indent` with two spaces) writes for the same value: a newline and two spaces per
//! level after `{`, `[` and `,`, `": "` between keys and values, and empty objects and
//! arrays as `{}` and `[]`.

/// Writes `compact` into `out` indented, as a value nested `depth` levels deep (its inner
/// lines are indented by `depth + 1` levels; its first line is not indented). Whitespace
/// outside strings is dropped; strings are copied as they are.
pub fn indent_into(out: &mut Vec<u8>, compact: &[u8], depth: usize) {
    out.reserve(compact.len() + compact.len() / 4);
    let mut level = depth;
    let mut i = 0;
    while i < compact.len() {
        let b = compact[i];
        match b {
            b'"' => {
                // Copy the string whole: up to its closing quote, past escapes.
                let mut j = i + 1;
                while j < compact.len() {
                    match compact[j] {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                let end = (j + 1).min(compact.len());
                out.extend_from_slice(&compact[i..end]);
                i = end;
                continue;
            }
            b'{' | b'[' => {
                out.push(b);
                let close = if b == b'{' { b'}' } else { b']' };
                match next_significant(compact, i + 1) {
                    Some(j) if compact[j] == close => {
                        out.push(close);
                        i = j;
                    }
                    _ => {
                        level += 1;
                        newline(out, level);
                    }
                }
            }
            b'}' | b']' => {
                level = level.saturating_sub(1);
                newline(out, level);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(out, level);
            }
            b':' => out.extend_from_slice(b": "),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                // A number or a literal: copy up to the next structural byte.
                let mut j = i + 1;
                while j < compact.len()
                    && !matches!(
                        compact[j],
                        b'"' | b'{'
                            | b'}'
                            | b'['
                            | b']'
                            | b','
                            | b':'
                            | b' '
                            | b'\t'
                            | b'\n'
                            | b'\r'
                    )
                {
                    j += 1;
                }
                out.extend_from_slice(&compact[i..j]);
                i = j;
                continue;
            }
        }
        i += 1;
    }
}

/// Spaces for the deepest indentation written in one step; deeper levels take several.
const SPACES: &[u8; 64] = b"                                                                ";

/// Writes a newline and `level` indentation steps.
pub fn newline(out: &mut Vec<u8>, level: usize) {
    out.push(b'\n');
    let mut spaces = level * 2;
    while spaces > 0 {
        let n = spaces.min(SPACES.len());
        out.extend_from_slice(&SPACES[..n]);
        spaces -= n;
    }
}

fn next_significant(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len()).find(|&j| !matches!(bytes[j], b' ' | b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn indented(v: &Value, depth: usize) -> String {
        let mut out = Vec::new();
        indent_into(&mut out, &serde_json::to_vec(v).unwrap(), depth);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_serde_pretty() {
        let values = [
            json!({}),
            json!([]),
            json!(null),
            json!("a{b}[c],:\"d\\"),
            json!({"a": {}, "b": [], "c": [[], [1, [2, {}]], {"x": null}], "d": "é\u{1}"}),
            json!({"kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "b"}},
                   "data": {"k": "v: {not json}", "q": "\\\"", "n": 1.5, "t": true}}),
            json!([{"a": [{"b": [{"c": {}}]}]}, -3, 1e300]),
            json!({"a\\": "b\\", "c": ["\\\"", "\u{2028}"]}),
            (0..40).fold(
                json!({"deep": true}),
                |v, i| json!({ format!("l{i}"): [v] }),
            ),
        ];
        for v in values {
            assert_eq!(
                indented(&v, 0),
                String::from_utf8(serde_json::to_vec_pretty(&v).unwrap()).unwrap(),
                "{v}"
            );
        }
    }

    #[test]
    fn nested_values_indent_their_inner_lines() {
        assert_eq!(indented(&json!({"a": 1}), 2), "{\n      \"a\": 1\n    }");
        assert_eq!(indented(&json!({}), 2), "{}");
        let mut out = Vec::new();
        indent_into(&mut out, b" { \"a\" : [ 1 , 2 ] } ", 0);
        assert_eq!(out, b"{\n  \"a\": [\n    1,\n    2\n  ]\n}");
    }
}
