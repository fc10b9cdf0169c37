//! Serving `/openapi/v2`, `/openapi/v3` and `/openapi/v3/<path>`, with upstream's caching
//! protocol: an `ETag` on every document (and `304 Not Modified` for a matching
//! `If-None-Match`); on `/openapi/v3/<path>?hash=<hash>`, `Cache-Control: public, immutable`
//! when the hash is current and a `301` to the current URL when it is not.
//!
//! Documents are generated once per snapshot of the [`ResourceRegistry`] (which is replaced
//! whenever a resource is registered), on the first request that needs them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::document::{v2_document, v3_documents};
use super::proto_v2;
use crate::body::{empty, full, Body};
use crate::discovery::ResourceRegistry;
use crate::endpoints::negotiate::parse_accept;
use crate::registry::{ResourceDecl, Store};

/// Snapshots kept (one per registry; several only when one process runs several servers).
const MAX_ENTRIES: usize = 8;

/// A serialized document and its hash (the `ETag` and the `hash` of `/openapi/v3` URLs).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub hash: String,
    pub content_type: &'static str,
}

impl Rendered {
    fn new(doc: &Value) -> Rendered {
        let body = Bytes::from(serde_json::to_vec(doc).unwrap_or_default());
        Rendered::from_bytes(body, "application/json")
    }

    fn from_bytes(body: Bytes, content_type: &'static str) -> Rendered {
        let hash = content_hash(&body);
        Rendered {
            body,
            hash,
            content_type,
        }
    }

    fn etag(&self) -> String {
        format!("\"{}\"", self.hash)
    }
}

/// 128-bit FNV-1a of `data`, in upper-case hex: a stable content hash (upstream uses
/// SHA-512; clients treat the value as opaque).
pub fn content_hash(data: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;
    let mut h = OFFSET;
    for b in data {
        h ^= u128::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032X}")
}

struct V3Set {
    index: Rendered,
    docs: BTreeMap<String, Rendered>,
}

struct Snapshot {
    /// The registry snapshot the documents describe (held, so that its address identifies it).
    stores: Arc<Vec<Arc<Store>>>,
    generated_at: SystemTime,
    v2: OnceLock<V2Pair>,
    v3: OnceLock<V3Set>,
}

/// The Swagger 2.0 document as JSON and as gnostic protobuf.
struct V2Pair {
    json: Rendered,
    proto: Rendered,
}

impl Snapshot {
    fn decls(&self) -> Vec<&ResourceDecl> {
        self.stores.iter().map(|s| s.decl.as_ref()).collect()
    }
}

/// The OpenAPI endpoints, with documents cached per registry snapshot.
#[derive(Default)]
pub struct OpenApiService {
    /// `(registry address, snapshot)`, most recent last.
    entries: Mutex<Vec<(usize, Arc<Snapshot>)>>,
    generations: AtomicU64,
}

impl OpenApiService {
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide service `CoreRoutes` serves from.
    pub fn shared() -> &'static OpenApiService {
        static SHARED: OnceLock<OpenApiService> = OnceLock::new();
        SHARED.get_or_init(OpenApiService::new)
    }

    /// How many documents sets (the v2 document, or all v3 documents) were generated.
    pub fn generations(&self) -> u64 {
        self.generations.load(Ordering::Relaxed)
    }

    fn snapshot(&self, registry: &ResourceRegistry) -> Arc<Snapshot> {
        let key = registry as *const ResourceRegistry as usize;
        let stores = registry.all();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pos) = entries.iter().position(|(k, _)| *k == key) {
            if Arc::ptr_eq(&entries[pos].1.stores, &stores) {
                return entries[pos].1.clone();
            }
            entries.remove(pos);
        }
        let snapshot = Arc::new(Snapshot {
            stores,
            generated_at: SystemTime::now(),
            v2: OnceLock::new(),
            v3: OnceLock::new(),
        });
        entries.push((key, snapshot.clone()));
        if entries.len() > MAX_ENTRIES {
            entries.remove(0);
        }
        snapshot
    }

    fn v2<'a>(&self, s: &'a Snapshot) -> &'a V2Pair {
        s.v2.get_or_init(|| {
            self.generations.fetch_add(1, Ordering::Relaxed);
            let doc = v2_document(&s.decls());
            let proto = Bytes::from(proto_v2::encode_document(&doc));
            V2Pair {
                json: Rendered::new(&doc),
                proto: Rendered::from_bytes(proto, proto_v2::PROTO_CONTENT_TYPE),
            }
        })
    }

    fn v3<'a>(&self, s: &'a Snapshot) -> &'a V3Set {
        s.v3.get_or_init(|| {
            self.generations.fetch_add(1, Ordering::Relaxed);
            let docs: BTreeMap<String, Rendered> = v3_documents(&s.decls())
                .iter()
                .map(|(k, d)| (k.clone(), Rendered::new(d)))
                .collect();
            let paths: Map<String, Value> = docs
                .iter()
                .map(|(k, r)| (k.clone(), json!({"serverRelativeURL": v3_url(k, &r.hash)})))
                .collect();
            V3Set {
                index: Rendered::new(&json!({ "paths": paths })),
                docs,
            }
        })
    }

    /// Serves an OpenAPI path; `None` when `req` is for another path.
    pub fn serve<B>(
        &self,
        registry: &ResourceRegistry,
        req: &Request<B>,
    ) -> Option<Response<Body>> {
        let path = req.uri().path();
        if path == "/openapi/v2" {
            let Some(format) = v2_format(req.headers()) else {
                return Some(status_only(StatusCode::NOT_ACCEPTABLE));
            };
            let s = self.snapshot(registry);
            let pair = self.v2(&s);
            let doc = match format {
                V2Format::Json => &pair.json,
                V2Format::Proto => &pair.proto,
            };
            return Some(document(req, doc, s.generated_at, None));
        }
        if path == "/openapi/v3" {
            let s = self.snapshot(registry);
            return Some(document(req, &self.v3(&s).index, s.generated_at, None));
        }
        let key = path.strip_prefix("/openapi/v3/")?;
        if !accepts_json(req.headers()) {
            return Some(status_only(StatusCode::NOT_ACCEPTABLE));
        }
        let s = self.snapshot(registry);
        let Some(doc) = self.v3(&s).docs.get(key) else {
            return Some(crate::server::not_found());
        };
        Some(document(
            req,
            doc,
            s.generated_at,
            Some((key, query_hash(req))),
        ))
    }
}

/// `/openapi/v3/<key>?hash=<hash>`.
fn v3_url(key: &str, hash: &str) -> String {
    format!("/openapi/v3/{key}?hash={hash}")
}

/// The `hash` query parameter, when given and not empty.
fn query_hash<B>(req: &Request<B>) -> Option<String> {
    req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "hash")
            .map(|(_, v)| v.to_string())
            .filter(|v| !v.is_empty())
    })
}

/// The representations of `/openapi/v2`.
enum V2Format {
    Json,
    Proto,
}

/// The first representation of `/openapi/v2` the client accepts (JSON without `Accept`).
fn v2_format(headers: &HeaderMap) -> Option<V2Format> {
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|a| !a.trim().is_empty())
    else {
        return Some(V2Format::Json);
    };
    parse_accept(accept)
        .iter()
        .find_map(|r| match r.mime.as_str() {
            "application/json" | "application/*" | "*/*" => Some(V2Format::Json),
            m if proto_v2::PROTO_MIME_TYPES.contains(&m) => Some(V2Format::Proto),
            _ => None,
        })
}

/// Whether the client takes JSON (no `Accept`, or a range matching `application/json`).
/// The v3 documents are not served as protobuf.
fn accepts_json(headers: &HeaderMap) -> bool {
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|a| !a.trim().is_empty())
    else {
        return true;
    };
    parse_accept(accept).iter().any(|r| {
        matches!(
            r.mime.as_str(),
            "application/json" | "application/*" | "*/*"
        )
    })
}

fn status_only(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(empty());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    resp
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// A document response. `v3` is `(key, hash query)` for `/openapi/v3/<key>`.
fn document<B>(
    req: &Request<B>,
    doc: &Rendered,
    generated_at: SystemTime,
    v3: Option<(&str, Option<String>)>,
) -> Response<Body> {
    let etag = doc.etag();
    let mut headers = HeaderMap::new();
    insert(&mut headers, header::ETAG, &etag);
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    if let Some((key, Some(hash))) = &v3 {
        if *hash != doc.hash {
            // An outdated hash: send the client to the current document.
            let mut resp = Response::new(empty());
            *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
            insert(&mut headers, header::LOCATION, &v3_url(key, &doc.hash));
            *resp.headers_mut() = headers;
            return resp;
        }
        // The URL names this exact content: it may be cached for good.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
        insert(
            &mut headers,
            header::EXPIRES,
            &http_date(SystemTime::now() + Duration::from_secs(365 * 24 * 3600)),
        );
    }
    insert(
        &mut headers,
        header::LAST_MODIFIED,
        &http_date(generated_at),
    );
    if not_modified(req.headers(), &etag) {
        let mut resp = Response::new(empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        *resp.headers_mut() = headers;
        return resp;
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(doc.content_type),
    );
    let mut resp = Response::new(full(doc.body.clone()));
    *resp.headers_mut() = headers;
    resp
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = apimachinery::time::civil_from_days(days);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month as usize).saturating_sub(1) % 12],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn hashes() {
        assert_eq!(content_hash(b"").len(), 32);
        assert_ne!(content_hash(b"a"), content_hash(b"b"));
        assert_eq!(content_hash(b"abc"), content_hash(b"abc"));
    }

    #[test]
    fn etag_matching() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"X\", W/\"ABC\""),
        );
        assert!(not_modified(&h, "\"ABC\""));
        assert!(!not_modified(&h, "\"AB\""));
    }
}
