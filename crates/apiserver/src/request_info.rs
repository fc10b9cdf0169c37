//! Resolves what a request is about (upstream's `RequestInfoFactory`), once, at the start of
//! the filter chain. Later filters and handlers read it from the request's extensions.

use http::Method;

/// Path prefixes under which resource requests live, and whether they carry an API group.
const API_PREFIXES: [(&str, bool); 2] = [("api", false), ("apis", true)];

/// Subresources of a namespace reached as `/namespaces/<name>/<subresource>`.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// What a request is about, as upstream's `request.RequestInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Whether this is a request for an API resource (as opposed to e.g. `/healthz`).
    pub is_resource_request: bool,
    /// The URL path.
    pub path: String,
    /// The Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection;
    /// for non-resource requests the lower-cased HTTP method.
    pub verb: String,
    /// `api` or `apis` for resource requests.
    pub api_prefix: String,
    pub api_group: String,
    pub api_version: String,
    pub namespace: String,
    /// Whether the path named the resource under `/namespaces/<namespace>/` (upstream
    /// registers only namespaced resources there). `/api/v1/namespaces/<name>` itself
    /// sets `namespace` but not this.
    pub namespaced_path: bool,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// The path segments from the resource on.
    pub parts: Vec<String>,
}

impl RequestInfo {
    /// Resolves a request from its method, path and query string.
    pub fn resolve(method: &Method, path: &str, query: Option<&str>) -> RequestInfo {
        let mut info = RequestInfo {
            path: path.to_string(),
            verb: method.as_str().to_ascii_lowercase(),
            ..RequestInfo::default()
        };
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let Some((prefix, has_group)) = API_PREFIXES
            .iter()
            .find(|(p, _)| segments.first() == Some(p))
            .copied()
        else {
            return info;
        };
        let mut rest = &segments[1..];
        let group = if has_group {
            match rest.split_first() {
                Some((g, tail)) => {
                    rest = tail;
                    (*g).to_string()
                }
                None => return info,
            }
        } else {
            String::new()
        };
        let Some((version, tail)) = rest.split_first() else {
            return info;
        };
        rest = tail;
        if rest.is_empty() || rest[0].is_empty() {
            // `/api/v1` and `/apis/g/v`: discovery, not a resource request.
            return info;
        }
        info.is_resource_request = true;
        info.api_prefix = prefix.to_string();
        info.api_group = group;
        info.api_version = (*version).to_string();

        info.verb = match *method {
            Method::POST => "create",
            Method::GET | Method::HEAD => "get",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE => "delete",
            _ => "",
        }
        .to_string();
        if rest[0] == "watch" {
            // The deprecated `/watch/` path form.
            info.verb = "watch".to_string();
            rest = &rest[1..];
        }
        if rest.first() == Some(&"namespaces") {
            if let Some(ns) = rest.get(1) {
                info.namespace = (*ns).to_string();
                if rest.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&rest[2]) {
                    rest = &rest[2..];
                    info.namespaced_path = true;
                }
            }
        }
        info.parts = rest.iter().map(|s| (*s).to_string()).collect();
        if let Some(r) = rest.first() {
            info.resource = (*r).to_string();
        }
        if let Some(n) = rest.get(1) {
            info.name = (*n).to_string();
        }
        if let Some(s) = rest.get(2) {
            info.subresource = (*s).to_string();
        }
        if info.name.is_empty() {
            match info.verb.as_str() {
                "get" => {
                    info.verb = if query_flag(query, "watch") {
                        "watch"
                    } else {
                        "list"
                    }
                    .to_string()
                }
                "delete" => info.verb = "deletecollection".to_string(),
                _ => {}
            }
        }
        info
    }

    /// Whether the verb changes state (counts against the mutating in-flight limit).
    pub fn is_mutating(&self) -> bool {
        !matches!(
            self.verb.as_str(),
            "get" | "list" | "watch" | "head" | "options"
        )
    }

    /// Whether the request is long-running (exempt from the request timeout): watches and
    /// the connect-style subresources.
    pub fn is_long_running(&self) -> bool {
        self.verb == "watch"
            || matches!(
                self.subresource.as_str(),
                "proxy" | "log" | "exec" | "attach" | "portforward"
            )
    }
}

/// Whether a boolean query parameter is set, read as upstream's parameter codec reads
/// booleans: present and neither `0` nor `false` (`watch=notabool` is a watch).
pub fn query_flag(query: Option<&str>, key: &str) -> bool {
    query_param(query, key).is_some_and(|v| go_bool(&v))
}

/// A query value as upstream's parameter codec converts it to a boolean: false only for
/// `0` and (in any case) `false`, true for anything else.
pub fn go_bool(value: &str) -> bool {
    !(value == "0" || value.eq_ignore_ascii_case("false"))
}

/// The first value of a query parameter, percent-decoded.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    values_of(query, key).next()
}

/// Every value of a query parameter, in order, percent-decoded (`dryRun=All&dryRun=All`).
pub fn query_values(query: Option<&str>, key: &str) -> Vec<String> {
    values_of(query, key).collect()
}

fn values_of<'a>(query: Option<&'a str>, key: &'a str) -> impl Iterator<Item = String> + 'a {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(move |pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == key).then(|| percent_decode(v))
        })
}

/// Decodes `%XX` escapes and `+` (as a space) in a query component.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, path: &str, query: Option<&str>) -> RequestInfo {
        RequestInfo::resolve(&method, path, query)
    }

    #[test]
    fn namespaced_resources() {
        let i = r(
            Method::GET,
            "/api/v1/namespaces/default/configmaps/foo",
            None,
        );
        assert!(i.is_resource_request);
        assert_eq!(
            (
                i.verb.as_str(),
                i.namespace.as_str(),
                i.resource.as_str(),
                i.name.as_str()
            ),
            ("get", "default", "configmaps", "foo")
        );
        let i = r(Method::GET, "/api/v1/namespaces/default/configmaps", None);
        assert_eq!(i.verb, "list");
        let i = r(
            Method::GET,
            "/api/v1/namespaces/default/configmaps",
            Some("watch=true"),
        );
        assert_eq!(i.verb, "watch");
        let i = r(
            Method::DELETE,
            "/api/v1/namespaces/default/configmaps",
            None,
        );
        assert_eq!(i.verb, "deletecollection");
        let i = r(
            Method::GET,
            "/api/v1/watch/namespaces/default/configmaps",
            None,
        );
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str()),
            ("watch", "configmaps")
        );
    }

    #[test]
    fn namespaces_and_groups() {
        let i = r(Method::GET, "/api/v1/namespaces/foo", None);
        assert_eq!(
            (i.resource.as_str(), i.name.as_str(), i.namespace.as_str()),
            ("namespaces", "foo", "foo")
        );
        assert!(!i.namespaced_path);
        let i = r(
            Method::DELETE,
            "/api/v1/namespaces/default/namespaces/victim",
            None,
        );
        assert_eq!(
            (i.resource.as_str(), i.name.as_str(), i.namespaced_path),
            ("namespaces", "victim", true)
        );
        let i = r(Method::PUT, "/api/v1/namespaces/foo/status", None);
        assert_eq!(
            (i.resource.as_str(), i.subresource.as_str(), i.verb.as_str()),
            ("namespaces", "status", "update")
        );
        let i = r(
            Method::POST,
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            None,
        );
        assert_eq!(
            (
                i.api_group.as_str(),
                i.api_version.as_str(),
                i.verb.as_str()
            ),
            ("scheduling.k8s.io", "v1", "create")
        );
    }

    #[test]
    fn non_resource() {
        for p in [
            "/healthz",
            "/api",
            "/api/v1",
            "/apis/apps",
            "/apis/apps/v1",
            "/",
        ] {
            let i = r(Method::GET, p, None);
            assert!(!i.is_resource_request, "{p}");
            assert_eq!(i.verb, "get");
        }
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            query_param(Some("labelSelector=a%3Db%2Cc+in+(x)&x=1"), "labelSelector").as_deref(),
            Some("a=b,c in (x)")
        );
        assert_eq!(query_param(Some("x=1"), "y"), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert!(query_flag(Some("watch=notabool"), "watch"));
        assert!(query_flag(Some("watch=1"), "watch"));
        assert!(!query_flag(Some("watch=FALSE"), "watch"));
        assert!(!query_flag(Some("watch=0"), "watch"));
        assert!(!query_flag(None, "watch"));
    }
}
