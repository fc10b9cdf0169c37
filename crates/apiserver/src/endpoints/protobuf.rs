//! Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) on the resource endpoints:
//! request bodies are decoded with the kind's declaration ([`ResourceDecl::schema`]) into the
//! JSON form and then take the JSON path; responses are encoded when the client lists protobuf
//! first in `Accept`. Kinds without a declaration keep answering 415 to protobuf bodies.
//! Watch streams stay JSON (clients decode them by the response's content type).

use apimachinery::errors::ApiError;
use apimachinery::protobuf::{self, ProtoError};
use std::sync::Arc;

use apimachinery::schema::{Message, MessageRef};
use apimachinery::types::{delete_options, status};
use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::negotiate::parse_accept;
use super::render;
use crate::body::{full, Body};
use crate::registry::cacher::CachedObject;
use crate::registry::ResourceDecl;

/// The protobuf media type.
pub const PROTOBUF: &str = protobuf::CONTENT_TYPE;

/// The media type of a `Content-Type` value: lower case, without parameters.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether a request's body is protobuf.
pub fn is_protobuf_body<B>(req: &Request<B>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| media_type(ct) == PROTOBUF)
}

/// The declaration a response is protobuf-encoded with: the kind's, when it has one and the
/// first media range of `Accept` this server can produce is plain protobuf.
pub fn response_schema<'d>(accept: Option<&str>, decl: &'d ResourceDecl) -> Option<&'d MessageRef> {
    let schema = decl.schema.as_ref()?;
    for range in parse_accept(accept?) {
        match range.mime.as_str() {
            // Tables, metadata-only views and watch streams are not served as protobuf.
            PROTOBUF if range.param("as").is_none() && range.param("stream").is_none() => {
                return Some(schema)
            }
            "application/json" | "application/yaml" | "*/*" | "application/*" => return None,
            _ => {}
        }
    }
    None
}

/// [`response_schema`] for a request's `Accept` header.
pub fn request_response_schema<'d, B>(
    req: &Request<B>,
    decl: &'d ResourceDecl,
) -> Option<&'d MessageRef> {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    response_schema(accept, decl)
}

/// Go's `summarizeData`: the start of an undecodable body, for error messages.
fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    let (head, more) = if body.len() > MAX {
        (&body[..MAX], " ...")
    } else {
        (body, "")
    };
    if body.is_empty() {
        "<empty>".to_string()
    } else if body[0] == b'{' {
        format!("{}{more}", String::from_utf8_lossy(head))
    } else {
        let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}{more}")
    }
}

/// The version part of an `apiVersion`.
fn version_of(api_version: &str) -> &str {
    api_version.rsplit('/').next().unwrap_or(api_version)
}

/// Decodes a protobuf create or update body for `decl` into the JSON form (`kind` and
/// `apiVersion` first, filled from the endpoint when the envelope leaves them empty). An
/// envelope naming another kind yields only its `kind`/`apiVersion`, which the store then
/// refuses exactly as it refuses such a JSON body.
pub fn decode_object(
    decl: &ResourceDecl,
    schema: &Message,
    body: &[u8],
) -> Result<Value, ApiError> {
    let unrecognized = |e: &ProtoError| {
        ApiError::bad_request(&format!(
            "the object provided is unrecognized (must be of type {}): {e} ({})",
            decl.kind,
            summarize(body)
        ))
    };
    let unk = protobuf::decode_envelope(body).map_err(|e| unrecognized(&e))?;
    let mut tm = unk.type_meta.clone();
    if tm.api_version.is_empty() {
        tm.api_version = decl.api_version();
    }
    if tm.kind.is_empty() {
        tm.kind = decl.kind.clone();
    }
    if tm.api_version != decl.api_version() || tm.kind != decl.kind {
        return Ok(json!({"kind": tm.kind, "apiVersion": tm.api_version}));
    }
    let object = protobuf::decode_message(schema, unk.raw).map_err(|e| {
        ApiError::bad_request(&format!(
            "{} in version {:?} cannot be handled as a {}: {e}",
            tm.kind,
            version_of(&tm.api_version),
            decl.kind
        ))
    })?;
    Ok(protobuf::with_type_meta(&tm, object))
}

/// Decodes a protobuf `DeleteOptions` body into its JSON form.
pub fn decode_delete_options(body: &[u8]) -> Result<Value, ApiError> {
    let lookup = |_: &str, kind: &str| {
        (kind.is_empty() || kind == "DeleteOptions").then(|| delete_options().clone())
    };
    match protobuf::decode(body, &lookup) {
        Ok((_, value)) => Ok(value),
        Err(ProtoError::UnknownType { kind, .. }) => Err(ApiError::bad_request(&format!(
            "decoded object of kind {kind:?} cannot be used as DeleteOptions"
        ))),
        Err(e) => Err(ApiError::bad_request(&format!(
            "error decoding DeleteOptions: {e}"
        ))),
    }
}

/// Encodes a response body: the kind's objects, its list kind, or a `Status`. `None` when the
/// value is none of those or does not fit its declaration (the caller then answers in JSON,
/// which clients asking for protobuf always accept too).
pub fn encode_body(decl: &ResourceDecl, value: &Value) -> Option<Vec<u8>> {
    let schema = decl.schema.as_ref()?;
    let kind = value.get("kind").and_then(Value::as_str)?;
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let encoded = if kind == "Status" {
        protobuf::encode(api_version, kind, status(), value)
    } else if kind == decl.kind {
        protobuf::encode(api_version, kind, schema, value)
    } else if kind == decl.list_kind() {
        protobuf::encode_list(api_version, kind, schema, value)
    } else {
        return None;
    };
    encoded
        .map_err(
            |e| tracing::warn!(kind, error = %e, "protobuf encoding failed; answering in JSON"),
        )
        .ok()
}

fn protobuf_response(status: StatusCode, bytes: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(PROTOBUF),
    );
    resp
}

/// A protobuf response for `value`, when it can be encoded.
pub fn respond(status: StatusCode, decl: &ResourceDecl, value: &Value) -> Option<Response<Body>> {
    encode_body(decl, value).map(|bytes| protobuf_response(status, bytes))
}

/// A protobuf list response from the list's items and metadata. Items the watch cache
/// served are written from their cached protobuf messages (each encoded once, then shared
/// by every list); others are encoded from their JSON.
pub fn list_response(
    decl: &ResourceDecl,
    items: &[Bytes],
    cached: Option<&[Arc<CachedObject>]>,
    list_meta: &Map<String, Value>,
) -> Option<Response<Body>> {
    let schema = decl.schema.as_deref()?;
    let Some(cached) = cached else {
        let items = items
            .iter()
            .map(|i| serde_json::from_slice::<Value>(i))
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        let list = json!({
            "kind": decl.list_kind(),
            "apiVersion": decl.api_version(),
            "metadata": list_meta,
            "items": items,
        });
        return respond(StatusCode::OK, decl, &list);
    };
    let messages: Vec<Bytes> = cached
        .iter()
        .map(|o| o.protobuf(schema))
        .collect::<Option<_>>()?;
    let meta = protobuf::encode_message(
        apimachinery::types::list_meta(),
        &Value::Object(list_meta.clone()),
    )
    .ok()?;
    let size = meta.len() + messages.iter().map(|m| m.len() + 6).sum::<usize>() + 8;
    let mut raw = Vec::with_capacity(size);
    protobuf::put_bytes(&mut raw, 1, &meta);
    for m in &messages {
        protobuf::put_bytes(&mut raw, 2, m);
    }
    let bytes = protobuf::wrap(&decl.api_version(), &decl.list_kind(), &raw);
    Some(protobuf_response(StatusCode::OK, bytes))
}

/// An error as a protobuf `Status` (client-go decodes error bodies by their content type);
/// headers as [`render::error_response`] sets them.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let resp = render::error_response(err);
    match protobuf::encode("v1", "Status", status(), &err.to_status()) {
        Ok(bytes) => {
            let (mut parts, _) = resp.into_parts();
            parts.headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(PROTOBUF),
            );
            Response::from_parts(parts, full(bytes))
        }
        Err(_) => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Scope, Strategy};
    use apimachinery::schema::decl::{Field, Message, Type};
    use apimachinery::types::OBJECT_META;
    use std::sync::Arc;

    static THING: Message = Message {
        name: "test.Thing",
        description: "",
        gvks: &[("example.com", "v1", "Thing")],
        atomic: false,
        fields: &[
            Field::new("metadata", 1, Type::Message(&OBJECT_META)),
            Field::new("size", 2, Type::Int32),
        ],
    };

    struct Plain;
    impl Strategy for Plain {}

    fn decl() -> ResourceDecl {
        ResourceDecl::new(
            "example.com",
            "v1",
            "Thing",
            "things",
            Scope::Namespaced,
            Arc::new(Plain),
        )
        .with_schema(MessageRef::from_decl(&THING))
    }

    #[test]
    fn accept_order_decides() {
        let d = decl();
        let pb = "application/vnd.kubernetes.protobuf, application/json";
        assert!(response_schema(Some(pb), &d).is_some());
        assert!(response_schema(Some("application/vnd.kubernetes.protobuf"), &d).is_some());
        assert!(response_schema(
            Some("application/json, application/vnd.kubernetes.protobuf"),
            &d
        )
        .is_none());
        assert!(response_schema(
            Some("application/vnd.kubernetes.protobuf;stream=watch, application/json"),
            &d
        )
        .is_none());
        assert!(response_schema(None, &d).is_none());
        let no_schema = ResourceDecl::new(
            "example.com",
            "v1",
            "Thing",
            "things",
            Scope::Namespaced,
            Arc::new(Plain),
        );
        assert!(response_schema(Some(pb), &no_schema).is_none());
    }

    #[test]
    fn bodies_decode_and_mismatches_fall_to_the_store() {
        let d = decl();
        let obj = json!({"metadata": {"name": "a"}, "size": 3});
        let raw = protobuf::encode_message(&MessageRef::from_decl(&THING), &obj).unwrap();
        let v = decode_object(
            &d,
            &MessageRef::from_decl(&THING),
            &protobuf::wrap("example.com/v1", "Thing", &raw),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"kind": "Thing", "apiVersion": "example.com/v1", "metadata": {"name": "a"}, "size": 3})
        );
        // Empty type meta takes the endpoint's.
        let v = decode_object(
            &d,
            &MessageRef::from_decl(&THING),
            &protobuf::wrap("", "", &raw),
        )
        .unwrap();
        assert_eq!(v["apiVersion"], "example.com/v1");
        let v = decode_object(
            &d,
            &MessageRef::from_decl(&THING),
            &protobuf::wrap("v1", "Other", &raw),
        )
        .unwrap();
        assert_eq!(v, json!({"kind": "Other", "apiVersion": "v1"}));
        let e = decode_object(&d, &MessageRef::from_decl(&THING), b"{}").unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message.ends_with("(7b7d)") || e.message.ends_with("({})"),
            "{}",
            e.message
        );
        let bad = protobuf::wrap("example.com/v1", "Thing", &[0x0a, 0x05]);
        let e = decode_object(&d, &MessageRef::from_decl(&THING), &bad).unwrap_err();
        assert!(
            e.message
                .starts_with("Thing in version \"v1\" cannot be handled as a Thing: "),
            "{}",
            e.message
        );
    }

    #[test]
    fn responses_and_errors() {
        let d = decl();
        let obj =
            json!({"kind": "Thing", "apiVersion": "example.com/v1", "metadata": {"name": "a"}});
        let resp = respond(StatusCode::OK, &d, &obj).unwrap();
        assert_eq!(resp.headers()[header::CONTENT_TYPE], PROTOBUF);
        let list = json!({"kind": "ThingList", "apiVersion": "example.com/v1", "metadata": {}, "items": [obj]});
        assert!(encode_body(&d, &list).is_some());
        // A value that does not fit the declaration is answered in JSON instead.
        assert!(encode_body(&d, &json!({"kind": "Thing", "size": "big"})).is_none());
        assert!(encode_body(&d, &json!({"kind": "Table"})).is_none());
        let resp = error_response(&ApiError::not_found("example.com", "things", "a"));
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], PROTOBUF);
    }

    #[test]
    fn delete_options() {
        let raw = protobuf::encode_message(
            apimachinery::types::delete_options(),
            &json!({"preconditions": {"uid": "u"}}),
        )
        .unwrap();
        let v = decode_delete_options(&protobuf::wrap("v1", "DeleteOptions", &raw)).unwrap();
        assert_eq!(v["preconditions"]["uid"], "u");
        assert!(decode_delete_options(&protobuf::wrap("v1", "Pod", &raw)).is_err());
        assert!(decode_delete_options(b"k8s\0\xff").is_err());
    }
}
