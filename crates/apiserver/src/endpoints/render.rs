//! Writes objects, lists, tables and `Status` errors as HTTP responses.

use std::time::SystemTime;

use apimachinery::errors::ApiError;
use http::{header, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::negotiate::Target;
use crate::body::{full, Body};
use crate::registry::{meta, Cell, ColumnDef, ResourceDecl};

/// Content type of JSON responses.
pub const JSON: &str = "application/json";
/// Content type of YAML responses.
pub const YAML: &str = "application/yaml";

/// Serializes a value as the target asks (`pretty` indents JSON, as upstream does for curl).
pub fn encode(value: &Value, target: Target, pretty: bool) -> (Vec<u8>, &'static str) {
    match target {
        Target::Yaml => (apimachinery::yaml::to_yaml_sorted(value).into_bytes(), YAML),
        _ => {
            let bytes = if pretty {
                serde_json::to_vec_pretty(value)
            } else {
                serde_json::to_vec(value)
            };
            (bytes.unwrap_or_default(), JSON)
        }
    }
}

/// A response carrying `value` with `status`.
pub fn respond(status: StatusCode, value: &Value, target: Target, pretty: bool) -> Response<Body> {
    let (bytes, content_type) = encode(value, target, pretty);
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    resp
}

/// A response carrying already-encoded bytes.
pub fn bytes_response(
    status: StatusCode,
    bytes: Vec<u8>,
    content_type: &'static str,
) -> Response<Body> {
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    resp
}

/// A `Status` error response, always JSON, as upstream writes them.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = respond(status, &err.to_status(), Target::Json, false);
    if let Some(secs) = err.details.as_ref().and_then(|d| d.retry_after_seconds) {
        if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// A plain-text response (health checks and the like).
pub fn text_response(status: StatusCode, text: impl Into<String>) -> Response<Body> {
    let mut resp = Response::new(full(text.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp.headers_mut().insert(
        header::HeaderName::from_static("x-content-type-options"),
        header::HeaderValue::from_static("nosniff"),
    );
    resp
}

/// `includeObject` of a Table request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn from_query(v: Option<&str>) -> Result<Self, ApiError> {
        match v {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(other) => Err(ApiError::bad_request(&format!(
                "includeObject: Unsupported value: {other:?}: supported values: \"Metadata\", \"None\", \"Object\""
            ))),
        }
    }
}

/// Seconds since an RFC 3339 timestamp, as upstream's `HumanDuration` shows it.
fn age(timestamp: &str, now: SystemTime) -> String {
    match apimachinery::time::parse_rfc3339(timestamp) {
        Some(t) => apimachinery::time::human_duration(now.duration_since(t).unwrap_or_default()),
        None => "<unknown>".to_string(),
    }
}

/// The column definitions of a kind's table.
pub fn table_columns(decl: &ResourceDecl) -> Vec<Value> {
    let name = decl
        .strategy
        .table_leads_with_name()
        .then_some(ColumnDef::NAME);
    name.into_iter()
        .chain(decl.strategy.table_columns())
        .map(|c| c.to_json())
        .collect()
}

/// One table row for an object.
pub fn table_row(
    decl: &ResourceDecl,
    obj: &Value,
    include: IncludeObject,
    now: SystemTime,
) -> Value {
    let mut cells = Vec::new();
    if decl.strategy.table_leads_with_name() {
        cells.push(json!(meta::name(obj)));
    }
    cells.extend(decl.strategy.table_cells(obj).into_iter().map(|c| match c {
        Cell::Value(v) => v,
        Cell::Age(ts) => json!(age(&ts, now)),
    }));
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array(cells));
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row.insert("object".into(), meta::partial_object_metadata(obj));
        }
        IncludeObject::Object => {
            row.insert("object".into(), obj.clone());
        }
    }
    Value::Object(row)
}

/// A `Table` of objects.
pub fn table(
    decl: &ResourceDecl,
    objects: &[Value],
    list_meta: Value,
    include: IncludeObject,
    with_columns: bool,
) -> Value {
    let now = SystemTime::now();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| table_row(decl, o, include, now))
        .collect();
    let mut t = Map::new();
    t.insert("kind".into(), json!("Table"));
    t.insert("apiVersion".into(), json!("meta.k8s.io/v1"));
    t.insert("metadata".into(), list_meta);
    if with_columns {
        t.insert(
            "columnDefinitions".into(),
            Value::Array(table_columns(decl)),
        );
    } else {
        t.insert("columnDefinitions".into(), Value::Null);
    }
    t.insert("rows".into(), Value::Array(rows));
    Value::Object(t)
}

/// Renders one object for the target (a single-row table, metadata only, or itself).
pub fn render_object(
    decl: &ResourceDecl,
    obj: Value,
    target: Target,
    include: IncludeObject,
) -> Value {
    match target {
        Target::Table => {
            let list_meta = json!({"resourceVersion": meta::resource_version(&obj)});
            table(decl, std::slice::from_ref(&obj), list_meta, include, true)
        }
        Target::PartialMetadata => meta::partial_object_metadata(&obj),
        Target::Json | Target::Yaml => obj,
    }
}

/// Parses wire JSON (for the representations that need the object as a value).
pub fn parse_wire(wire: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(wire)
        .map_err(|e| ApiError::internal(&format!("decoding stored object: {e}")))
}

/// Size of the chunks a streamed list is written in.
const LIST_CHUNK: usize = 64 * 1024;

/// A list's body. For JSON the items' bytes are written as they are (serialized once, when
/// stored), streamed in chunks made as the connection takes them, so a large LIST never
/// holds a second copy of the whole list; pretty JSON is indented from the same bytes
/// as it streams. Other representations parse the items.
pub fn render_list(
    decl: &ResourceDecl,
    items: Vec<bytes::Bytes>,
    list_meta: Value,
    target: Target,
    include: IncludeObject,
    pretty: bool,
) -> Result<(Body, &'static str), ApiError> {
    match target {
        Target::Json => {
            let head = json!({"kind": decl.list_kind(), "apiVersion": decl.api_version(), "metadata": list_meta});
            let head = if pretty {
                // `{\n  ...\n  "metadata": {...}` then `,\n  "items": [`.
                let mut head = serde_json::to_vec_pretty(&head).unwrap_or_default();
                head.truncate(head.len().saturating_sub(2));
                head.extend_from_slice(b",\n  \"items\": [");
                head
            } else {
                // `{...,"metadata":{...}` then `,"items":[`.
                let mut head = serde_json::to_vec(&head).unwrap_or_default();
                head.pop();
                head.extend_from_slice(b",\"items\":[");
                head
            };
            Ok((
                stream_list(head, items, decl.list_items_omit_type_meta, pretty),
                JSON,
            ))
        }
        _ => {
            let objects = items
                .iter()
                .map(|i| parse_wire(i))
                .collect::<Result<Vec<_>, _>>()?;
            let value = render_list_value(decl, objects, list_meta, target, include);
            let (bytes, content_type) = encode(&value, target, pretty);
            Ok((full(bytes), content_type))
        }
    }
}

/// Streams `head`, the items separated by commas (without type meta when asked), and the
/// list's end; `pretty` indents each item as the second level of the list.
fn stream_list(
    head: Vec<u8>,
    items: Vec<bytes::Bytes>,
    omit_type_meta: bool,
    pretty: bool,
) -> Body {
    struct State {
        head: Option<Vec<u8>>,
        items: std::vec::IntoIter<bytes::Bytes>,
        first: bool,
        done: bool,
    }
    let state = State {
        head: Some(head),
        items: items.into_iter(),
        first: true,
        done: false,
    };
    let stream = futures::stream::unfold(state, move |mut st| async move {
        if st.done {
            return None;
        }
        let mut buf: Vec<u8> = Vec::with_capacity(LIST_CHUNK + 4096);
        if let Some(h) = st.head.take() {
            buf.extend_from_slice(&h);
        }
        while buf.len() < LIST_CHUNK {
            let Some(item) = st.items.next() else {
                match (pretty, st.first) {
                    (false, _) => buf.extend_from_slice(b"]}"),
                    (true, true) => buf.extend_from_slice(b"]\n}"),
                    (true, false) => buf.extend_from_slice(b"\n  ]\n}"),
                }
                st.done = true;
                break;
            };
            if !st.first {
                buf.extend_from_slice(b",");
            }
            st.first = false;
            let start = crate::registry::encoding::type_meta_end(&item).filter(|_| omit_type_meta);
            if pretty {
                super::indent::newline(&mut buf, 2);
                match start {
                    Some(start) => {
                        // `{` and the object's members from `metadata` on (its closing brace
                        // ends the third level).
                        buf.push(b'{');
                        super::indent::newline(&mut buf, 3);
                        super::indent::indent_into(&mut buf, &item[start..], 3);
                    }
                    None => super::indent::indent_into(&mut buf, &item, 2),
                }
                continue;
            }
            match start {
                Some(start) => {
                    buf.extend_from_slice(b"{");
                    buf.extend_from_slice(&item[start..]);
                }
                None => buf.extend_from_slice(&item),
            }
        }
        Some((
            Ok::<_, crate::body::BodyError>(http_body::Frame::data(bytes::Bytes::from(buf))),
            st,
        ))
    });
    http_body_util::BodyExt::boxed_unsync(http_body_util::StreamBody::new(stream))
}

/// Renders a list of parsed objects for the target.
pub fn render_list_value(
    decl: &ResourceDecl,
    mut items: Vec<Value>,
    list_meta: Value,
    target: Target,
    include: IncludeObject,
) -> Value {
    match target {
        Target::Table => table(decl, &items, list_meta, include, true),
        Target::PartialMetadata => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": list_meta,
            "items": items.iter().map(meta::partial_object_metadata).collect::<Vec<_>>(),
        }),
        Target::Json | Target::Yaml => {
            if decl.list_items_omit_type_meta {
                for item in &mut items {
                    if let Some(m) = item.as_object_mut() {
                        // Keeps the order of the other keys, as the streamed list does.
                        m.shift_remove("kind");
                        m.shift_remove("apiVersion");
                    }
                }
            }
            json!({
                "kind": decl.list_kind(),
                "apiVersion": decl.api_version(),
                "metadata": list_meta,
                "items": items,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http_body_util::BodyExt;

    use super::*;
    use crate::registry::encoding::encode_canonical;
    use crate::registry::{DefaultStrategy, Scope};

    async fn body_bytes(body: Body) -> Vec<u8> {
        body.collect().await.expect("body").to_bytes().to_vec()
    }

    #[tokio::test]
    async fn streamed_lists_match_whole_list_encodings() {
        let mut decl = ResourceDecl::new(
            "",
            "v1",
            "ConfigMap",
            "configmaps",
            Scope::Namespaced,
            Arc::new(DefaultStrategy),
        );
        // Enough items for several chunks, with nested, empty and tricky values.
        let objects: Vec<Value> = (0..400)
            .map(|i| {
                json!({"kind": "ConfigMap", "apiVersion": "v1",
                       "metadata": {"name": format!("cm-{i}"), "labels": {}, "resourceVersion": "7"},
                       "data": {"k": "v{},[]:\"", "big": "x".repeat(300)},
                       "list": [[], {}, [1, {"a": null}]]})
            })
            .collect();
        let items: Vec<bytes::Bytes> = objects.iter().map(encode_canonical).collect();
        let parsed: Vec<Value> = items.iter().map(|i| parse_wire(i).unwrap()).collect();
        for omit in [false, true] {
            decl.list_items_omit_type_meta = omit;
            for count in [0, 1, parsed.len()] {
                let meta = json!({"resourceVersion": "9"});
                let want = render_list_value(
                    &decl,
                    parsed[..count].to_vec(),
                    meta.clone(),
                    Target::Json,
                    IncludeObject::Metadata,
                );
                for pretty in [false, true] {
                    let (body, _) = render_list(
                        &decl,
                        items[..count].to_vec(),
                        meta.clone(),
                        Target::Json,
                        IncludeObject::Metadata,
                        pretty,
                    )
                    .unwrap();
                    let got = body_bytes(body).await;
                    let (expected, _) = encode(&want, Target::Json, pretty);
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(&expected),
                        "omit {omit}, {count} items, pretty {pretty}"
                    );
                }
            }
        }
    }
}
