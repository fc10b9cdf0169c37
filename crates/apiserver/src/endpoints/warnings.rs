//! `Warning` response headers, as upstream's warning recorder writes them: `299 - "<text>"`,
//! each text once, and once the texts pass 4096 characters in all, every warning cut to
//! 256 characters (those already written too).

use std::collections::HashSet;

use http::header::{HeaderMap, HeaderValue, WARNING};

/// Total characters of warning text written before truncation starts.
const TRUNCATE_AT_TOTAL: usize = 4 * 1024;
/// Length each warning is cut to once truncating.
const TRUNCATE_ITEM: usize = 256;

/// The warnings of one request.
#[derive(Debug, Default)]
pub struct Warnings {
    recorded: HashSet<String>,
    /// Every text added, in order (replayed, cut, when truncation starts).
    ordered: Vec<String>,
    /// The header values to write.
    headers: Vec<String>,
    written: usize,
    truncating: bool,
}

/// `299 - "text"` with `"` and `\` escaped; `None` for text with control characters, which
/// upstream refuses.
pub fn warning_header(text: &str) -> Option<String> {
    if text.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("299 - \"");
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

fn cut(text: &str) -> (&str, usize) {
    match text.char_indices().nth(TRUNCATE_ITEM) {
        Some((i, _)) => (&text[..i], TRUNCATE_ITEM),
        None => (text, text.chars().count()),
    }
}

impl Warnings {
    /// Records a warning (empty and repeated texts are ignored).
    pub fn add(&mut self, text: &str) {
        if text.is_empty() || (self.truncating && self.written >= TRUNCATE_AT_TOTAL) {
            return;
        }
        if !self.recorded.insert(text.to_string()) {
            return;
        }
        self.ordered.push(text.to_string());
        let (text, len) = if self.truncating {
            cut(text)
        } else {
            (text, text.chars().count())
        };
        let Some(header) = warning_header(text) else {
            return;
        };
        if self.truncating || self.written + len <= TRUNCATE_AT_TOTAL {
            self.written += len;
            self.headers.push(header);
            return;
        }
        // Over the limit: from now on every warning is cut, the earlier ones included.
        self.truncating = true;
        self.written = 0;
        self.headers.clear();
        for text in &self.ordered {
            let (text, len) = cut(text);
            if let Some(header) = warning_header(text) {
                self.written += len;
                self.headers.push(header);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// The header values, in order.
    pub fn values(&self) -> &[String] {
        &self.headers
    }

    /// Appends the `Warning` headers to a response's headers.
    pub fn write_to(&self, headers: &mut HeaderMap) {
        for h in &self.headers {
            // Warning texts are UTF-8, which header values carry as opaque bytes.
            if let Ok(v) = HeaderValue::from_bytes(h.as_bytes()) {
                headers.append(WARNING, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_dedup() {
        let mut w = Warnings::default();
        w.add("unknown field \"spec\"");
        w.add("unknown field \"spec\"");
        w.add("");
        w.add("a\\b");
        w.add("bad\ncontrol");
        assert_eq!(
            w.values(),
            [r#"299 - "unknown field \"spec\"""#, r#"299 - "a\\b""#]
        );
        let mut headers = HeaderMap::new();
        w.write_to(&mut headers);
        assert_eq!(headers.get_all(WARNING).iter().count(), 2);
    }

    #[test]
    fn truncation() {
        let mut w = Warnings::default();
        let long = "x".repeat(1000);
        for i in 0..4 {
            w.add(&format!("{i}{long}"));
        }
        // 4 × 1001 characters fit in 4096.
        assert_eq!(w.values().len(), 4);
        assert!(w.values().iter().all(|h| h.len() == 1001 + 8));
        w.add(&format!("4{long}"));
        assert_eq!(w.values().len(), 5);
        assert!(w.values().iter().all(|h| h.len() == 256 + 8));
        let mut w2 = Warnings::default();
        for i in 0..40 {
            w2.add(&format!("{i:02}{long}"));
        }
        // Cut warnings keep coming until 4096 characters are written again.
        assert_eq!(w2.values().len(), 16);
    }
}
