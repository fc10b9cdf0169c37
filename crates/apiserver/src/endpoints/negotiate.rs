//! Content negotiation: which representation the client asked for in `Accept`.

use apimachinery::errors::ApiError;

/// What a response body should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Json,
    Yaml,
    /// `as=Table;g=meta.k8s.io` (what `kubectl get` asks for).
    Table,
    /// `as=PartialObjectMetadata` / `as=PartialObjectMetadataList`.
    PartialMetadata,
}

/// One media range of an `Accept` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    pub mime: String,
    pub params: Vec<(String, String)>,
}

impl MediaRange {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses an `Accept` header into media ranges in the client's order (q=0 ranges dropped).
pub fn parse_accept(accept: &str) -> Vec<MediaRange> {
    accept
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let mime = pieces.next()?.trim().to_ascii_lowercase();
            if mime.is_empty() {
                return None;
            }
            let params: Vec<(String, String)> = pieces
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
                })
                .collect();
            let range = MediaRange { mime, params };
            (range.param("q") != Some("0")).then_some(range)
        })
        .collect()
}

/// The media types this server can produce, for 406 messages.
const SUPPORTED: &str = "application/json, application/yaml";

/// Chooses the representation for a resource response. `list` tells whether the response
/// is a list (which wants `PartialObjectMetadataList` rather than `PartialObjectMetadata`).
pub fn negotiate(accept: Option<&str>, list: bool) -> Result<Target, ApiError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Target::Json);
    };
    for range in parse_accept(accept) {
        let json_like = matches!(
            range.mime.as_str(),
            "application/json" | "*/*" | "application/*"
        );
        if let Some(as_) = range.param("as") {
            if range.mime != "application/json" && range.mime != "application/yaml" {
                continue;
            }
            let group_ok = range.param("g") == Some("meta.k8s.io")
                && matches!(range.param("v"), Some("v1") | Some("v1beta1"));
            if !group_ok {
                continue;
            }
            match as_ {
                "Table" => return Ok(Target::Table),
                "PartialObjectMetadata" if !list => return Ok(Target::PartialMetadata),
                "PartialObjectMetadataList" if list => return Ok(Target::PartialMetadata),
                _ => continue,
            }
        }
        if json_like {
            return Ok(Target::Json);
        }
        if range.mime == "application/yaml" {
            return Ok(Target::Yaml);
        }
    }
    Err(ApiError::not_acceptable(&format!(
        "only the following media types are accepted: {SUPPORTED}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_asks_for_table() {
        let a = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(a), true).unwrap(), Target::Table);
    }

    #[test]
    fn fallbacks() {
        assert_eq!(negotiate(None, false).unwrap(), Target::Json);
        assert_eq!(
            negotiate(Some("application/yaml"), false).unwrap(),
            Target::Yaml
        );
        assert_eq!(
            negotiate(
                Some("application/vnd.kubernetes.protobuf, application/json"),
                false
            )
            .unwrap(),
            Target::Json
        );
        assert_eq!(
            negotiate(
                Some("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"),
                true
            )
            .unwrap(),
            Target::PartialMetadata
        );
        assert!(negotiate(
            Some("application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"),
            true
        )
        .is_err());
        assert_eq!(negotiate(Some("text/html"), false).unwrap_err().code, 406);
    }
}
