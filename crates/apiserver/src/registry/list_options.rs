//! List and watch options from the query string, and `continue` tokens.

use apimachinery::errors::ApiError;
use apimachinery::selectors::{FieldSelector, LabelSelector};
use base64::Engine;
use serde_json::json;
use storage::Revision;

use crate::request_info::{go_bool, query_param};

/// `resourceVersionMatch`, as upstream's `metav1.ResourceVersionMatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RvMatch {
    NotOlderThan,
    Exact,
}

/// Options of a list or watch request.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub label_selector: Option<LabelSelector>,
    pub field_selector: Option<FieldSelector>,
    pub limit: usize,
    pub continue_token: Option<ContinueToken>,
    /// `resourceVersion` as sent (`None` when absent or empty).
    pub resource_version: Option<String>,
    pub rv_match: Option<RvMatch>,
    pub timeout_seconds: Option<u64>,
    pub allow_watch_bookmarks: bool,
    pub send_initial_events: Option<bool>,
}

impl ListParams {
    /// Parses the query string, with upstream's validation of the combinations.
    pub fn from_query(query: Option<&str>) -> Result<ListParams, ApiError> {
        let get = |k: &str| query_param(query, k).filter(|v| !v.is_empty());
        let mut p = ListParams::default();
        if let Some(s) = get("labelSelector") {
            p.label_selector =
                Some(LabelSelector::parse(&s).map_err(|e| ApiError::bad_request(&e.to_string()))?);
        }
        if let Some(s) = get("fieldSelector") {
            p.field_selector =
                Some(FieldSelector::parse(&s).map_err(|e| ApiError::bad_request(&e.to_string()))?);
        }
        if let Some(s) = get("limit") {
            let n: i64 = s
                .parse()
                .map_err(|_| ApiError::bad_request(&format!("invalid value for limit: {s:?}")))?;
            p.limit = n.max(0) as usize;
        }
        p.resource_version = get("resourceVersion");
        if let Some(rv) = &p.resource_version {
            parse_resource_version(rv)?;
        }
        if let Some(m) = get("resourceVersionMatch") {
            p.rv_match = Some(match m.as_str() {
                "NotOlderThan" => RvMatch::NotOlderThan,
                "Exact" => RvMatch::Exact,
                other => {
                    return Err(ApiError::bad_request(&format!(
                        "resourceVersionMatch: Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
                    )))
                }
            });
        }
        if let Some(c) = get("continue") {
            if p.resource_version.as_deref().is_some_and(|rv| rv != "0") {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            p.continue_token = Some(ContinueToken::decode(&c)?);
        }
        if p.rv_match.is_some() && p.resource_version.is_none() {
            return Err(ApiError::bad_request(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if p.rv_match == Some(RvMatch::Exact) && p.resource_version.as_deref() == Some("0") {
            return Err(ApiError::bad_request(
                "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
        if let Some(t) = get("timeoutSeconds") {
            p.timeout_seconds = Some(t.parse().map_err(|_| {
                ApiError::bad_request(&format!("invalid value for timeoutSeconds: {t:?}"))
            })?);
        }
        p.allow_watch_bookmarks = get("allowWatchBookmarks").is_some_and(|v| go_bool(&v));
        p.send_initial_events = get("sendInitialEvents").map(|v| go_bool(&v));
        Ok(p)
    }

    /// The resource version as a revision (`Ok(None)` when unset), 400 when not a number.
    pub fn revision(&self) -> Result<Option<Revision>, ApiError> {
        match self.resource_version.as_deref() {
            None => Ok(None),
            Some(rv) => parse_resource_version(rv).map(Some),
        }
    }
}

/// Parses a resourceVersion string (an unsigned integer, as upstream's versioner parses
/// it). A value that is none is a 400 BadRequest worded as upstream's field error
/// (`resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid
/// syntax`); upstream answers it with a 500 it tracks as a bug, the code its fix gives.
pub fn parse_resource_version(rv: &str) -> Result<Revision, ApiError> {
    let reason = if rv.is_empty() || !rv.bytes().all(|b| b.is_ascii_digit()) {
        "invalid syntax"
    } else {
        match rv.parse::<Revision>() {
            Ok(r) => return Ok(r),
            Err(_) => "value out of range",
        }
    };
    let quoted = apimachinery::go_quote(rv);
    Err(ApiError::bad_request(&format!(
        "resourceVersion: Invalid value: {quoted}: strconv.ParseUint: parsing {quoted}: {reason}"
    )))
}

/// A `continue` token: the revision the list is pinned to, and the key to start from
/// (relative to the resource's prefix), encoded as upstream encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContinueToken {
    pub revision: Revision,
    pub start: String,
}

impl ContinueToken {
    pub fn encode(&self) -> String {
        let body = json!({"v": "meta.k8s.io/v1", "rv": self.revision, "start": self.start});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string())
    }

    pub fn decode(token: &str) -> Result<ContinueToken, ApiError> {
        let invalid = || {
            ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        };
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| invalid())?;
        let v: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| invalid())?;
        if v.get("v").and_then(|x| x.as_str()) != Some("meta.k8s.io/v1") {
            return Err(ApiError::bad_request(
                "continue key is not valid: server does not recognize this encoded key",
            ));
        }
        let revision = v
            .get("rv")
            .and_then(|x| x.as_i64())
            .filter(|r| *r > 0)
            .ok_or_else(invalid)?;
        let start = v
            .get("start")
            .and_then(|x| x.as_str())
            .ok_or_else(invalid)?;
        if start.contains("..") || start.starts_with('/') {
            return Err(ApiError::bad_request(
                "continue key is not valid: key must be relative",
            ));
        }
        Ok(ContinueToken {
            revision,
            start: start.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trip() {
        let t = ContinueToken {
            revision: 42,
            start: "default/foo\u{0}".into(),
        };
        assert_eq!(ContinueToken::decode(&t.encode()).unwrap(), t);
        assert!(ContinueToken::decode("!!!").is_err());
    }

    #[test]
    fn query_combinations() {
        let p = ListParams::from_query(Some(
            "limit=5&labelSelector=a%3Db&resourceVersion=7&resourceVersionMatch=Exact",
        ))
        .unwrap();
        assert_eq!(p.limit, 5);
        assert_eq!(p.revision().unwrap(), Some(7));
        assert_eq!(p.rv_match, Some(RvMatch::Exact));
        assert!(ListParams::from_query(Some("resourceVersionMatch=Exact")).is_err());
        assert!(ListParams::from_query(Some("limit=x")).is_err());
        assert!(ListParams::from_query(Some("labelSelector=a%20in%20(")).is_err());
    }
}
