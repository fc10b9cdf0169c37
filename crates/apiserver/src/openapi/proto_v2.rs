//! The Swagger 2.0 document as protobuf: gnostic's `openapi.v2.Document`, which upstream
//! serves at `/openapi/v2` for `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`.
//! client-go asks for nothing else there; kubectl validates with it whatever OpenAPI v3 does
//! not cover (the items of a `kind: List` file, in particular).
//!
//! The encoder walks the JSON document with a table per gnostic message (JSON key → field
//! number and kind). Free-form values (`default`, `enum`, `example`, `x-*` extensions) are
//! gnostic `Any`s holding the value as YAML text, which is what readers parse; JSON text is
//! valid YAML, so the value's JSON is written.

use apimachinery::protobuf::{put_bytes, put_double, put_int};
use serde_json::{Map, Value};

/// The media types a client may ask the protobuf document for: client-go's (with an `@`,
/// which is not valid in a `Content-Type`) and the one the answer is labelled with.
pub const PROTO_MIME_TYPES: [&str; 2] = [
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    PROTO_CONTENT_TYPE,
];

/// The `Content-Type` of the protobuf document, as upstream labels it.
pub const PROTO_CONTENT_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

type Encode = fn(&Value, &mut Vec<u8>);

/// How one JSON value is written.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Double,
    Int,
    /// A string, or an array of strings, as a repeated string.
    Strings,
    /// A free-form value (gnostic `Any`).
    Any,
    /// An array of free-form values.
    Anys,
    /// A nested message.
    Msg(Encode),
    /// An array of messages.
    Msgs(Encode),
}

/// A gnostic message: its fields by JSON key, and where `x-` keys go (if anywhere).
struct Spec {
    fields: &'static [(&'static str, u32, Kind)],
    vendor_extension: Option<u32>,
}

/// Encodes a Swagger 2.0 document (as generated for `/openapi/v2`).
pub fn encode_document(doc: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    message(&DOCUMENT, doc, &mut out);
    out
}

fn message(spec: &Spec, v: &Value, out: &mut Vec<u8>) {
    let Some(obj) = v.as_object() else {
        return;
    };
    for &(key, number, kind) in spec.fields {
        if let Some(value) = obj.get(key) {
            field(number, kind, value, out);
        }
    }
    if let Some(number) = spec.vendor_extension {
        for (k, value) in obj.iter().filter(|(k, _)| k.starts_with("x-")) {
            put_message(out, number, |o| named(o, k, |o| any(value, o)));
        }
    }
}

fn field(number: u32, kind: Kind, v: &Value, out: &mut Vec<u8>) {
    match kind {
        Kind::Str => {
            if let Some(s) = v.as_str() {
                put_bytes(out, number, s.as_bytes());
            }
        }
        Kind::Bool => {
            if let Some(b) = v.as_bool() {
                put_int(out, number, i64::from(b));
            }
        }
        Kind::Double => {
            if let Some(n) = v.as_f64() {
                put_double(out, number, n);
            }
        }
        Kind::Int => {
            if let Some(n) = v.as_i64() {
                put_int(out, number, n);
            }
        }
        Kind::Strings => match v {
            Value::String(s) => put_bytes(out, number, s.as_bytes()),
            Value::Array(items) => {
                for s in items.iter().filter_map(Value::as_str) {
                    put_bytes(out, number, s.as_bytes());
                }
            }
            _ => {}
        },
        Kind::Any => put_message(out, number, |o| any(v, o)),
        Kind::Anys => {
            for item in v.as_array().into_iter().flatten() {
                put_message(out, number, |o| any(item, o));
            }
        }
        Kind::Msg(encode) => put_message(out, number, |o| encode(v, o)),
        Kind::Msgs(encode) => {
            for item in v.as_array().into_iter().flatten() {
                put_message(out, number, |o| encode(item, o));
            }
        }
    }
}

/// Writes a length-delimited message field built by `body`.
fn put_message(out: &mut Vec<u8>, number: u32, body: impl FnOnce(&mut Vec<u8>)) {
    let mut buf = Vec::new();
    body(&mut buf);
    put_bytes(out, number, &buf);
}

/// A gnostic `Named*` entry: `name = 1`, `value = 2`.
fn named(out: &mut Vec<u8>, name: &str, value: impl FnOnce(&mut Vec<u8>)) {
    put_bytes(out, 1, name.as_bytes());
    put_message(out, 2, value);
}

/// A JSON object as gnostic's ordered map: repeated `Named*` entries at `number`.
fn named_map(v: &Value, out: &mut Vec<u8>, number: u32, value: Encode) {
    for (k, item) in v.as_object().into_iter().flatten() {
        put_message(out, number, |o| named(o, k, |o| value(item, o)));
    }
}

/// gnostic `Any`: `yaml = 2`.
fn any(v: &Value, out: &mut Vec<u8>) {
    let text = serde_json::to_string(v).unwrap_or_default();
    put_bytes(out, 2, text.as_bytes());
}

// ---------------------------------------------------------------------------
// Messages, in gnostic's field numbers
// ---------------------------------------------------------------------------

static DOCUMENT: Spec = Spec {
    fields: &[
        ("swagger", 1, Kind::Str),
        ("info", 2, Kind::Msg(info)),
        ("host", 3, Kind::Str),
        ("basePath", 4, Kind::Str),
        ("schemes", 5, Kind::Strings),
        ("consumes", 6, Kind::Strings),
        ("produces", 7, Kind::Strings),
        ("paths", 8, Kind::Msg(paths)),
        ("definitions", 9, Kind::Msg(named_schemas)),
        ("parameters", 10, Kind::Msg(parameter_definitions)),
        ("responses", 11, Kind::Msg(response_definitions)),
        ("security", 12, Kind::Msgs(security_requirement)),
        ("securityDefinitions", 13, Kind::Msg(security_definitions)),
        ("tags", 14, Kind::Msgs(tag)),
        ("externalDocs", 15, Kind::Msg(external_docs)),
    ],
    vendor_extension: Some(16),
};

fn info(v: &Value, out: &mut Vec<u8>) {
    static INFO: Spec = Spec {
        fields: &[
            ("title", 1, Kind::Str),
            ("version", 2, Kind::Str),
            ("description", 3, Kind::Str),
            ("termsOfService", 4, Kind::Str),
        ],
        vendor_extension: Some(7),
    };
    message(&INFO, v, out);
}

fn external_docs(v: &Value, out: &mut Vec<u8>) {
    static EXTERNAL_DOCS: Spec = Spec {
        fields: &[("description", 1, Kind::Str), ("url", 2, Kind::Str)],
        vendor_extension: Some(3),
    };
    message(&EXTERNAL_DOCS, v, out);
}

fn tag(v: &Value, out: &mut Vec<u8>) {
    static TAG: Spec = Spec {
        fields: &[
            ("name", 1, Kind::Str),
            ("description", 2, Kind::Str),
            ("externalDocs", 3, Kind::Msg(external_docs)),
        ],
        vendor_extension: Some(4),
    };
    message(&TAG, v, out);
}

/// `Paths`: `x-` keys at 1, `NamedPathItem`s at 2.
fn paths(v: &Value, out: &mut Vec<u8>) {
    let Some(obj) = v.as_object() else {
        return;
    };
    for (k, item) in obj {
        if k.starts_with("x-") {
            put_message(out, 1, |o| named(o, k, |o| any(item, o)));
        } else {
            put_message(out, 2, |o| named(o, k, |o| path_item(item, o)));
        }
    }
}

fn path_item(v: &Value, out: &mut Vec<u8>) {
    static PATH_ITEM: Spec = Spec {
        fields: &[
            ("$ref", 1, Kind::Str),
            ("get", 2, Kind::Msg(operation)),
            ("put", 3, Kind::Msg(operation)),
            ("post", 4, Kind::Msg(operation)),
            ("delete", 5, Kind::Msg(operation)),
            ("options", 6, Kind::Msg(operation)),
            ("head", 7, Kind::Msg(operation)),
            ("patch", 8, Kind::Msg(operation)),
            ("parameters", 9, Kind::Msgs(parameters_item)),
        ],
        vendor_extension: Some(10),
    };
    message(&PATH_ITEM, v, out);
}

fn operation(v: &Value, out: &mut Vec<u8>) {
    static OPERATION: Spec = Spec {
        fields: &[
            ("tags", 1, Kind::Strings),
            ("summary", 2, Kind::Str),
            ("description", 3, Kind::Str),
            ("externalDocs", 4, Kind::Msg(external_docs)),
            ("operationId", 5, Kind::Str),
            ("produces", 6, Kind::Strings),
            ("consumes", 7, Kind::Strings),
            ("parameters", 8, Kind::Msgs(parameters_item)),
            ("responses", 9, Kind::Msg(responses)),
            ("schemes", 10, Kind::Strings),
            ("deprecated", 11, Kind::Bool),
            ("security", 12, Kind::Msgs(security_requirement)),
        ],
        vendor_extension: Some(13),
    };
    message(&OPERATION, v, out);
}

/// `ParametersItem`: a `$ref` (`json_reference = 2`) or a `Parameter` (1).
fn parameters_item(v: &Value, out: &mut Vec<u8>) {
    if v.get("$ref").is_some() {
        put_message(out, 2, |o| json_reference(v, o));
    } else {
        put_message(out, 1, |o| parameter(v, o));
    }
}

fn json_reference(v: &Value, out: &mut Vec<u8>) {
    static JSON_REFERENCE: Spec = Spec {
        fields: &[("$ref", 1, Kind::Str), ("description", 2, Kind::Str)],
        vendor_extension: None,
    };
    message(&JSON_REFERENCE, v, out);
}

/// `Parameter`: a body parameter (1) or a non-body one (2), by where it goes.
fn parameter(v: &Value, out: &mut Vec<u8>) {
    static BODY: Spec = Spec {
        fields: &[
            ("description", 1, Kind::Str),
            ("name", 2, Kind::Str),
            ("in", 3, Kind::Str),
            ("required", 4, Kind::Bool),
            ("schema", 5, Kind::Msg(schema)),
        ],
        vendor_extension: Some(6),
    };
    match v.get("in").and_then(Value::as_str) {
        Some("body") => put_message(out, 1, |o| message(&BODY, v, o)),
        place => put_message(out, 2, |o| non_body_parameter(place, v, o)),
    }
}

/// The validation keywords every non-body parameter shares, from `type` on, numbered from
/// `first` (gnostic numbers them consecutively after the fields that differ).
macro_rules! simple_schema_fields {
    ($($head:expr),* ; $first:expr) => {
        &[
            $($head,)*
            ("type", $first, Kind::Str),
            ("format", $first + 1, Kind::Str),
            ("items", $first + 2, Kind::Msg(primitives_items)),
            ("collectionFormat", $first + 3, Kind::Str),
            ("default", $first + 4, Kind::Any),
            ("maximum", $first + 5, Kind::Double),
            ("exclusiveMaximum", $first + 6, Kind::Bool),
            ("minimum", $first + 7, Kind::Double),
            ("exclusiveMinimum", $first + 8, Kind::Bool),
            ("maxLength", $first + 9, Kind::Int),
            ("minLength", $first + 10, Kind::Int),
            ("pattern", $first + 11, Kind::Str),
            ("maxItems", $first + 12, Kind::Int),
            ("minItems", $first + 13, Kind::Int),
            ("uniqueItems", $first + 14, Kind::Bool),
            ("enum", $first + 15, Kind::Anys),
            ("multipleOf", $first + 16, Kind::Double),
        ]
    };
}

/// `NonBodyParameter`: header (1), formData (2), query (3) or path (4) sub-schemas.
fn non_body_parameter(place: Option<&str>, v: &Value, out: &mut Vec<u8>) {
    // Query and form parameters can be sent empty; header and path ones cannot.
    static WITH_EMPTY_VALUE: Spec = Spec {
        fields: simple_schema_fields!(
            ("required", 1, Kind::Bool),
            ("in", 2, Kind::Str),
            ("description", 3, Kind::Str),
            ("name", 4, Kind::Str),
            ("allowEmptyValue", 5, Kind::Bool);
            6
        ),
        vendor_extension: Some(23),
    };
    static WITHOUT_EMPTY_VALUE: Spec = Spec {
        fields: simple_schema_fields!(
            ("required", 1, Kind::Bool),
            ("in", 2, Kind::Str),
            ("description", 3, Kind::Str),
            ("name", 4, Kind::Str);
            5
        ),
        vendor_extension: Some(22),
    };
    let (number, spec) = match place {
        Some("header") => (1, &WITHOUT_EMPTY_VALUE),
        Some("formData") => (2, &WITH_EMPTY_VALUE),
        Some("path") => (4, &WITHOUT_EMPTY_VALUE),
        _ => (3, &WITH_EMPTY_VALUE),
    };
    put_message(out, number, |o| message(spec, v, o));
}

fn primitives_items(v: &Value, out: &mut Vec<u8>) {
    static PRIMITIVES_ITEMS: Spec = Spec {
        fields: simple_schema_fields!(; 1),
        vendor_extension: Some(18),
    };
    message(&PRIMITIVES_ITEMS, v, out);
}

/// `Responses`: `NamedResponseValue`s at 1, `x-` keys at 2.
fn responses(v: &Value, out: &mut Vec<u8>) {
    let Some(obj) = v.as_object() else {
        return;
    };
    for (k, item) in obj {
        if k.starts_with("x-") {
            put_message(out, 2, |o| named(o, k, |o| any(item, o)));
        } else {
            put_message(out, 1, |o| named(o, k, |o| response_value(item, o)));
        }
    }
}

/// `ResponseValue`: a `Response` (1) or a `$ref` (2).
fn response_value(v: &Value, out: &mut Vec<u8>) {
    if v.get("$ref").is_some() {
        put_message(out, 2, |o| json_reference(v, o));
    } else {
        put_message(out, 1, |o| response(v, o));
    }
}

fn response(v: &Value, out: &mut Vec<u8>) {
    static RESPONSE: Spec = Spec {
        fields: &[
            ("description", 1, Kind::Str),
            ("schema", 2, Kind::Msg(schema_item)),
            ("examples", 4, Kind::Msg(examples)),
        ],
        vendor_extension: Some(5),
    };
    message(&RESPONSE, v, out);
}

fn examples(v: &Value, out: &mut Vec<u8>) {
    named_map(v, out, 1, any);
}

/// `SchemaItem`: a `Schema` (1), or a `FileSchema` (2) for `type: file`.
fn schema_item(v: &Value, out: &mut Vec<u8>) {
    static FILE_SCHEMA: Spec = Spec {
        fields: &[
            ("format", 1, Kind::Str),
            ("title", 2, Kind::Str),
            ("description", 3, Kind::Str),
            ("default", 4, Kind::Any),
            ("required", 5, Kind::Strings),
            ("type", 6, Kind::Str),
            ("readOnly", 7, Kind::Bool),
            ("externalDocs", 8, Kind::Msg(external_docs)),
            ("example", 9, Kind::Any),
        ],
        vendor_extension: Some(10),
    };
    if v.get("type").and_then(Value::as_str) == Some("file") {
        put_message(out, 2, |o| message(&FILE_SCHEMA, v, o));
    } else {
        put_message(out, 1, |o| schema(v, o));
    }
}

/// gnostic `Schema`.
fn schema(v: &Value, out: &mut Vec<u8>) {
    static SCHEMA: Spec = Spec {
        fields: &[
            ("$ref", 1, Kind::Str),
            ("format", 2, Kind::Str),
            ("title", 3, Kind::Str),
            ("description", 4, Kind::Str),
            ("default", 5, Kind::Any),
            ("multipleOf", 6, Kind::Double),
            ("maximum", 7, Kind::Double),
            ("exclusiveMaximum", 8, Kind::Bool),
            ("minimum", 9, Kind::Double),
            ("exclusiveMinimum", 10, Kind::Bool),
            ("maxLength", 11, Kind::Int),
            ("minLength", 12, Kind::Int),
            ("pattern", 13, Kind::Str),
            ("maxItems", 14, Kind::Int),
            ("minItems", 15, Kind::Int),
            ("uniqueItems", 16, Kind::Bool),
            ("maxProperties", 17, Kind::Int),
            ("minProperties", 18, Kind::Int),
            ("required", 19, Kind::Strings),
            ("enum", 20, Kind::Anys),
            ("additionalProperties", 21, Kind::Msg(additional_properties)),
            ("type", 22, Kind::Msg(type_item)),
            ("items", 23, Kind::Msg(items_item)),
            ("allOf", 24, Kind::Msgs(schema)),
            ("properties", 25, Kind::Msg(named_schemas)),
            ("discriminator", 26, Kind::Str),
            ("readOnly", 27, Kind::Bool),
            ("externalDocs", 29, Kind::Msg(external_docs)),
            ("example", 30, Kind::Any),
        ],
        vendor_extension: Some(31),
    };
    message(&SCHEMA, v, out);
}

/// `AdditionalPropertiesItem`: a `Schema` (1) or a boolean (2).
fn additional_properties(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Bool(b) => put_int(out, 2, i64::from(*b)),
        other => put_message(out, 1, |o| schema(other, o)),
    }
}

/// `TypeItem`: `repeated string value = 1`.
fn type_item(v: &Value, out: &mut Vec<u8>) {
    field(1, Kind::Strings, v, out);
}

/// `ItemsItem`: `repeated Schema schema = 1` (one schema, or a tuple of them).
fn items_item(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Array(_) => field(1, Kind::Msgs(schema), v, out),
        other => put_message(out, 1, |o| schema(other, o)),
    }
}

/// `Definitions` and `Properties`: `NamedSchema`s at 1.
fn named_schemas(v: &Value, out: &mut Vec<u8>) {
    named_map(v, out, 1, schema);
}

fn parameter_definitions(v: &Value, out: &mut Vec<u8>) {
    named_map(v, out, 1, parameter);
}

fn response_definitions(v: &Value, out: &mut Vec<u8>) {
    named_map(v, out, 1, response);
}

/// `SecurityRequirement`: `NamedStringArray`s (`StringArray` = `repeated string value = 1`).
fn security_requirement(v: &Value, out: &mut Vec<u8>) {
    named_map(v, out, 1, |scopes, o| field(1, Kind::Strings, scopes, o));
}

/// `SecurityDefinitions`: `NamedSecurityDefinitionsItem`s, each one of six schemes.
fn security_definitions(v: &Value, out: &mut Vec<u8>) {
    named_map(v, out, 1, security_definitions_item);
}

fn security_definitions_item(v: &Value, out: &mut Vec<u8>) {
    static BASIC: Spec = Spec {
        fields: &[("type", 1, Kind::Str), ("description", 2, Kind::Str)],
        vendor_extension: Some(3),
    };
    static API_KEY: Spec = Spec {
        fields: &[
            ("type", 1, Kind::Str),
            ("name", 2, Kind::Str),
            ("in", 3, Kind::Str),
            ("description", 4, Kind::Str),
        ],
        vendor_extension: Some(5),
    };
    static OAUTH2_IMPLICIT: Spec = Spec {
        fields: &[
            ("type", 1, Kind::Str),
            ("flow", 2, Kind::Str),
            ("scopes", 3, Kind::Msg(oauth2_scopes)),
            ("authorizationUrl", 4, Kind::Str),
            ("description", 5, Kind::Str),
        ],
        vendor_extension: Some(6),
    };
    static OAUTH2_TOKEN_URL: Spec = Spec {
        fields: &[
            ("type", 1, Kind::Str),
            ("flow", 2, Kind::Str),
            ("scopes", 3, Kind::Msg(oauth2_scopes)),
            ("tokenUrl", 4, Kind::Str),
            ("description", 5, Kind::Str),
        ],
        vendor_extension: Some(6),
    };
    static OAUTH2_ACCESS_CODE: Spec = Spec {
        fields: &[
            ("type", 1, Kind::Str),
            ("flow", 2, Kind::Str),
            ("scopes", 3, Kind::Msg(oauth2_scopes)),
            ("authorizationUrl", 4, Kind::Str),
            ("tokenUrl", 5, Kind::Str),
            ("description", 6, Kind::Str),
        ],
        vendor_extension: Some(7),
    };
    let ty = v.get("type").and_then(Value::as_str);
    let flow = v.get("flow").and_then(Value::as_str);
    let (number, spec) = match (ty, flow) {
        (Some("basic"), _) => (1, &BASIC),
        (Some("apiKey"), _) => (2, &API_KEY),
        (Some("oauth2"), Some("implicit")) => (3, &OAUTH2_IMPLICIT),
        (Some("oauth2"), Some("password")) => (4, &OAUTH2_TOKEN_URL),
        (Some("oauth2"), Some("application")) => (5, &OAUTH2_TOKEN_URL),
        (Some("oauth2"), Some("accessCode")) => (6, &OAUTH2_ACCESS_CODE),
        _ => return,
    };
    put_message(out, number, |o| message(spec, v, o));
}

fn oauth2_scopes(v: &Value, out: &mut Vec<u8>) {
    for (k, scope) in v.as_object().unwrap_or(&Map::new()) {
        put_message(out, 1, |o| {
            put_bytes(o, 1, k.as_bytes());
            if let Some(s) = scope.as_str() {
                put_bytes(o, 2, s.as_bytes());
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A minimal protobuf reader for the tests: the fields of one message, in order.
    fn fields(mut b: &[u8]) -> Vec<(u32, Vec<u8>)> {
        fn varint(b: &mut &[u8]) -> u64 {
            let mut v = 0u64;
            let mut shift = 0;
            loop {
                let byte = b[0];
                *b = &b[1..];
                v |= u64::from(byte & 0x7f) << shift;
                shift += 7;
                if byte < 0x80 {
                    return v;
                }
            }
        }
        let mut out = Vec::new();
        while !b.is_empty() {
            let key = varint(&mut b);
            let (number, wire) = ((key >> 3) as u32, key & 7);
            let value = match wire {
                0 => varint(&mut b).to_le_bytes().to_vec(),
                1 => {
                    let (v, rest) = b.split_at(8);
                    b = rest;
                    v.to_vec()
                }
                2 => {
                    let len = varint(&mut b) as usize;
                    let (v, rest) = b.split_at(len);
                    b = rest;
                    v.to_vec()
                }
                other => panic!("wire type {other}"),
            };
            out.push((number, value));
        }
        out
    }

    fn field_of(b: &[u8], number: u32) -> Vec<Vec<u8>> {
        fields(b)
            .into_iter()
            .filter(|(n, _)| *n == number)
            .map(|(_, v)| v)
            .collect()
    }

    fn text(b: &[u8]) -> &str {
        std::str::from_utf8(b).expect("utf-8")
    }

    #[test]
    fn document_definitions_and_extensions() {
        let doc = json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.36.0"},
            "definitions": {
                "io.k8s.api.core.v1.ConfigMap": {
                    "description": "cm",
                    "type": "object",
                    "required": ["metadata"],
                    "properties": {
                        "data": {"type": "object", "additionalProperties": {"type": "string"}},
                        "metadata": {"$ref": "#/definitions/meta", "description": "m"},
                        "items": {"type": "array", "items": {"type": "string"}},
                        "open": {"type": "object", "additionalProperties": true},
                    },
                    "x-kubernetes-group-version-kind": [{"group": "", "kind": "ConfigMap", "version": "v1"}],
                }
            },
        });
        let bytes = encode_document(&doc);
        assert_eq!(text(&field_of(&bytes, 1)[0]), "2.0");
        let info = &field_of(&bytes, 2)[0];
        assert_eq!(text(&field_of(info, 1)[0]), "Kubernetes");
        assert_eq!(text(&field_of(info, 2)[0]), "v1.36.0");
        let defs = &field_of(&bytes, 9)[0];
        let entry = &field_of(defs, 1)[0];
        assert_eq!(text(&field_of(entry, 1)[0]), "io.k8s.api.core.v1.ConfigMap");
        let schema = &field_of(entry, 2)[0];
        assert_eq!(text(&field_of(schema, 4)[0]), "cm");
        assert_eq!(text(&field_of(&field_of(schema, 22)[0], 1)[0]), "object");
        assert_eq!(text(&field_of(schema, 19)[0]), "metadata");
        // The GVK extension: a NamedAny whose Any holds the value as YAML (JSON) text.
        let ext = &field_of(schema, 31)[0];
        assert_eq!(
            text(&field_of(ext, 1)[0]),
            "x-kubernetes-group-version-kind"
        );
        let yaml = &field_of(&field_of(ext, 2)[0], 2)[0];
        let parsed: Value = serde_json::from_slice(yaml).expect("json");
        assert_eq!(parsed[0]["kind"], "ConfigMap");
        // Properties in document order, each a NamedSchema.
        let props = &field_of(schema, 25)[0];
        let names: Vec<String> = field_of(props, 1)
            .iter()
            .map(|p| text(&field_of(p, 1)[0]).to_string())
            .collect();
        assert_eq!(names, ["data", "metadata", "items", "open"]);
        let prop = |i: usize| field_of(&field_of(props, 1)[i], 2)[0].clone();
        // additionalProperties as a schema, then as a boolean.
        let data_ap = &field_of(&prop(0), 21)[0];
        let inner = &field_of(data_ap, 1)[0];
        assert_eq!(text(&field_of(&field_of(inner, 22)[0], 1)[0]), "string");
        assert_eq!(
            fields(&field_of(&prop(3), 21)[0]),
            [(2, 1u64.to_le_bytes().to_vec())]
        );
        assert_eq!(text(&field_of(&prop(1), 1)[0]), "#/definitions/meta");
        let items = &field_of(&prop(2), 23)[0];
        assert_eq!(field_of(items, 1).len(), 1);
    }

    #[test]
    fn parameters_by_place_and_security() {
        let doc = json!({
            "paths": {
                "/api/v1/namespaces/{namespace}/configmaps": {
                    "get": {
                        "operationId": "listCoreV1NamespacedConfigMap",
                        "parameters": [
                            {"name": "limit", "in": "query", "type": "integer", "uniqueItems": true},
                            {"name": "body", "in": "body", "required": true, "schema": {"$ref": "#/definitions/x"}},
                        ],
                        "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/x"}}},
                    },
                    "parameters": [{"name": "namespace", "in": "path", "required": true, "type": "string"}],
                }
            },
            "security": [{"BearerToken": []}],
            "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header"}},
        });
        let bytes = encode_document(&doc);
        let paths = &field_of(&bytes, 8)[0];
        let named = &field_of(paths, 2)[0];
        let item = &field_of(named, 2)[0];
        let get = &field_of(item, 2)[0];
        assert_eq!(text(&field_of(get, 5)[0]), "listCoreV1NamespacedConfigMap");
        let params = field_of(get, 8);
        // query: ParametersItem.parameter → Parameter.non_body → query sub-schema (3).
        let query = &field_of(&field_of(&field_of(&params[0], 1)[0], 2)[0], 3)[0];
        assert_eq!(text(&field_of(query, 4)[0]), "limit");
        assert_eq!(text(&field_of(query, 6)[0]), "integer");
        assert_eq!(field_of(query, 20).len(), 1);
        // body: Parameter.body_parameter (1) with its schema at 5.
        let body = &field_of(&field_of(&params[1], 1)[0], 1)[0];
        assert_eq!(text(&field_of(body, 3)[0]), "body");
        assert_eq!(field_of(body, 5).len(), 1);
        // path-level path parameter: sub-schema 4, type at 5.
        let path_param = &field_of(&field_of(&field_of(item, 9)[0], 1)[0], 2)[0];
        let path = &field_of(path_param, 4)[0];
        assert_eq!(text(&field_of(path, 5)[0]), "string");
        // responses: NamedResponseValue → ResponseValue.response → schema item → schema.
        let responses = &field_of(get, 9)[0];
        let ok = &field_of(responses, 1)[0];
        assert_eq!(text(&field_of(ok, 1)[0]), "200");
        let response = &field_of(&field_of(ok, 2)[0], 1)[0];
        assert_eq!(text(&field_of(response, 1)[0]), "OK");
        // security: a requirement naming BearerToken; the definition is an apiKey (2).
        let req = &field_of(&bytes, 12)[0];
        assert_eq!(text(&field_of(&field_of(req, 1)[0], 1)[0]), "BearerToken");
        let defs = &field_of(&bytes, 13)[0];
        let def = &field_of(&field_of(defs, 1)[0], 2)[0];
        let api_key = &field_of(def, 2)[0];
        assert_eq!(text(&field_of(api_key, 2)[0]), "authorization");
    }
}
