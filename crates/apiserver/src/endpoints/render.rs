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
/// holds a second copy of the whole list; other representations parse the items.
pub fn render_list(
    decl: &ResourceDecl,
    items: Vec<bytes::Bytes>,
    list_meta: Value,
    target: Target,
    include: IncludeObject,
    pretty: bool,
) -> Result<(Body, &'static str), ApiError> {
    match target {
        Target::Json if !pretty => {
            let head = json!({"kind": decl.list_kind(), "apiVersion": decl.api_version(), "metadata": list_meta});
            let mut head = serde_json::to_vec(&head).unwrap_or_default();
            // `{...,"metadata":{...}` then `,"items":[`, the items, `]}`.
            head.pop();
            head.extend_from_slice(b",\"items\":[");
            Ok((
                stream_list(head, items, decl.list_items_omit_type_meta),
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

/// Streams `head`, the items separated by commas (without type meta when asked), and `]}`.
fn stream_list(head: Vec<u8>, items: Vec<bytes::Bytes>, omit_type_meta: bool) -> Body {
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
        let mut buf = bytes::BytesMut::with_capacity(LIST_CHUNK + 4096);
        if let Some(h) = st.head.take() {
            buf.extend_from_slice(&h);
        }
        while buf.len() < LIST_CHUNK {
            let Some(item) = st.items.next() else {
                buf.extend_from_slice(b"]}");
                st.done = true;
                break;
            };
            if !st.first {
                buf.extend_from_slice(b",");
            }
            st.first = false;
            match crate::registry::encoding::type_meta_end(&item) {
                Some(start) if omit_type_meta => {
                    buf.extend_from_slice(b"{");
                    buf.extend_from_slice(&item[start..]);
                }
                _ => buf.extend_from_slice(&item),
            }
        }
        Some((
            Ok::<_, crate::body::BodyError>(http_body::Frame::data(buf.freeze())),
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
                        m.remove("kind");
                        m.remove("apiVersion");
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
