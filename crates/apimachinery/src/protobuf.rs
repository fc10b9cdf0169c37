//! Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) to and from the JSON form the
//! server keeps objects in, driven by the type declarations of [`crate::schema`].
//!
//! The wire format is upstream's:
//!
//! - a body is the 4-byte magic `k8s\0` followed by a `runtime.Unknown` message
//!   `{typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType = 4}`
//!   whose `raw` holds the object's own message ([`decode`], [`encode`]);
//! - messages are proto2; fields are written in field-number order, map entries sorted by key,
//!   repeated scalars unpacked (both packed and unpacked are read);
//! - `Time`/`MicroTime` are `{seconds = 1, nanos = 2}` (an empty message is the zero time),
//!   `Quantity` is `{string = 1}`, `IntOrString` is `{type = 1, intVal = 2, strVal = 3}`, and free-form
//!   JSON ([`Type::RawJson`]: `runtime.RawExtension`, `FieldsV1`, apiextensions `JSON`) is a
//!   message whose field 1 holds the JSON text;
//! - a list nested directly in a map value or in another list is wrapped in a message
//!   `{items = 1}`, as upstream does for named slice types;
//! - every list kind is `{metadata = 1 (ListMeta), items = 2 (repeated item)}`
//!   ([`encode_list`], [`decode_list`]).
//!
//! Decoding produces the JSON upstream's JSON encoder would write for the decoded Go struct:
//! int64 as numbers, bytes as base64, times in RFC 3339, map keys sorted, and zero scalars left
//! out unless the field is declared `required` (what Go's `omitempty` does). Nested messages
//! present on the wire are kept even when empty (Go's non-pointer structs). Unknown field
//! numbers are skipped. Malformed input is an error, never a panic.
//!
//! Encoding writes the fields present (and not `null`) in the JSON; JSON keys without a declared
//! field (`apiVersion`, `kind`, unknown ones) are ignored. Go's encoder also writes zero-valued
//! non-pointer scalars; that difference decodes to the same object.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use serde_json::{Map, Number, Value};

use crate::schema::{Field, Message, MessageRef, Type};
use crate::types::list_meta;

/// The prefix of every Kubernetes protobuf body.
pub const MAGIC: [u8; 4] = *b"k8s\0";

/// The media type of Kubernetes protobuf bodies.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Deepest nesting of messages (and groups) accepted.
pub const MAX_DEPTH: usize = 100;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `apiVersion` and `kind` as the envelope carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeMeta {
    pub api_version: String,
    pub kind: String,
}

/// The envelope of a protobuf body (`runtime.Unknown`), borrowing the object's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unknown<'a> {
    pub type_meta: TypeMeta,
    /// The object's message.
    pub raw: &'a [u8],
    pub content_encoding: String,
    pub content_type: String,
}

/// What is wrong at a place in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("unexpected end of data")]
    UnexpectedEof,
    #[error("varint longer than 10 bytes")]
    VarintOverflow,
    #[error("illegal tag {0}")]
    IllegalTag(u64),
    #[error("wrong wire type {0}")]
    WrongWireType(u8),
    #[error("unbalanced group")]
    Group,
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("a map directly inside a list or a map has no protobuf form")]
    Unsupported,
    /// A value that does not fit its declared type.
    #[error("{0}")]
    Value(String),
}

/// Errors of the protobuf codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("empty body")]
    Empty,
    #[error(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    )]
    MissingPrefix,
    #[error("no type is declared for kind {kind:?} in version {api_version:?}")]
    UnknownType { api_version: String, kind: String },
    /// A problem at `path` (JSON field path, `metadata.labels[app]`; empty at the top).
    #[error("{}{problem}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    At { path: String, problem: Problem },
}

impl ProtoError {
    fn at(problem: Problem) -> ProtoError {
        ProtoError::At {
            path: String::new(),
            problem,
        }
    }

    fn value(message: impl Into<String>) -> ProtoError {
        ProtoError::at(Problem::Value(message.into()))
    }

    /// Prefixes the path with a field name (`name`) or an index/key (`[3]`).
    fn within(self, segment: &str) -> ProtoError {
        match self {
            ProtoError::At { path, problem } => {
                let path = if path.is_empty() {
                    segment.to_string()
                } else if path.starts_with('[') {
                    format!("{segment}{path}")
                } else {
                    format!("{segment}.{path}")
                };
                ProtoError::At { path, problem }
            }
            other => other,
        }
    }
}

impl From<Problem> for ProtoError {
    fn from(p: Problem) -> Self {
        ProtoError::at(p)
    }
}

type Result<T, E = ProtoError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------
// Wire reading
// ---------------------------------------------------------------------------

const WT_VARINT: u8 = 0;
const WT_FIXED64: u8 = 1;
const WT_BYTES: u8 = 2;
const WT_START_GROUP: u8 = 3;
const WT_END_GROUP: u8 = 4;
const WT_FIXED32: u8 = 5;

/// One field occurrence's payload.
#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    /// Fixed 32-bit values: no declared type uses them; they are read and skipped.
    Fixed32,
    Bytes(&'a [u8]),
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn varint(&mut self) -> Result<u64, Problem> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = *self.buf.get(i).ok_or(Problem::UnexpectedEof)?;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.buf = &self.buf[i + 1..];
                return Ok(v);
            }
        }
        Err(Problem::VarintOverflow)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Problem> {
        if n > self.buf.len() {
            return Err(Problem::UnexpectedEof);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn fixed64(&mut self) -> Result<u64, Problem> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn fixed32(&mut self) -> Result<u32, Problem> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }

    fn length_delimited(&mut self) -> Result<&'a [u8], Problem> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| Problem::UnexpectedEof)?;
        self.take(n)
    }

    /// A field key: `(field number, wire type)`.
    fn key(&mut self) -> Result<(u32, u8), Problem> {
        let k = self.varint()?;
        let number = k >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(Problem::IllegalTag(k));
        }
        Ok((number as u32, (k & 7) as u8))
    }

    /// Reads the payload of a field with a non-group wire type.
    fn wire(&mut self, wire_type: u8) -> Result<Wire<'a>, Problem> {
        match wire_type {
            WT_VARINT => Ok(Wire::Varint(self.varint()?)),
            WT_FIXED64 => Ok(Wire::Fixed64(self.fixed64()?)),
            WT_BYTES => Ok(Wire::Bytes(self.length_delimited()?)),
            WT_FIXED32 => self.fixed32().map(|_| Wire::Fixed32),
            other => Err(Problem::WrongWireType(other)),
        }
    }

    /// Skips an unknown field (groups included).
    fn skip(&mut self, number: u32, wire_type: u8, depth: usize) -> Result<(), Problem> {
        match wire_type {
            WT_START_GROUP => {
                if depth >= MAX_DEPTH {
                    return Err(Problem::TooDeep);
                }
                loop {
                    let (n, wt) = self.key()?;
                    if wt == WT_END_GROUP {
                        return if n == number {
                            Ok(())
                        } else {
                            Err(Problem::Group)
                        };
                    }
                    self.skip(n, wt, depth + 1)?;
                }
            }
            WT_END_GROUP => Err(Problem::Group),
            wt => self.wire(wt).map(|_| ()),
        }
    }
}

// ---------------------------------------------------------------------------
// Wire writing
// ---------------------------------------------------------------------------

/// Writes a base-128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Writes a field key (number and wire type).
fn put_key(out: &mut Vec<u8>, number: u32, wire_type: u8) {
    put_varint(out, (u64::from(number) << 3) | u64::from(wire_type));
}

/// Writes a length-delimited field (bytes, a string, or an encoded message).
pub fn put_bytes(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_key(out, number, WT_BYTES);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Writes a varint field (`int32`, `int64`, `bool`; negative numbers take ten bytes).
pub fn put_int(out: &mut Vec<u8>, number: u32, v: i64) {
    put_key(out, number, WT_VARINT);
    put_varint(out, v as u64);
}

/// Writes a `double` field.
pub fn put_double(out: &mut Vec<u8>, number: u32, v: f64) {
    put_key(out, number, WT_FIXED64);
    out.extend_from_slice(&v.to_le_bytes());
}

// ---------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------

fn utf8(bytes: &[u8]) -> String {
    // Go converts bytes to strings unchecked; its JSON encoder then writes invalid UTF-8 as U+FFFD.
    String::from_utf8_lossy(bytes).into_owned()
}

fn expect_bytes<'a>(wire: Wire<'a>, wire_type: u8) -> Result<&'a [u8], Problem> {
    match wire {
        Wire::Bytes(b) => Ok(b),
        _ => Err(Problem::WrongWireType(wire_type)),
    }
}

fn read_type_meta(into: &mut TypeMeta, bytes: &[u8]) -> Result<(), Problem> {
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        let (n, wt) = r.key()?;
        match n {
            1 | 2 if wt == WT_BYTES => {
                let s = utf8(r.length_delimited()?);
                if n == 1 {
                    into.api_version = s;
                } else {
                    into.kind = s;
                }
            }
            1 | 2 => return Err(Problem::WrongWireType(wt)),
            _ => r.skip(n, wt, 0)?,
        }
    }
    Ok(())
}

/// Reads the envelope of a protobuf body (magic and `runtime.Unknown`).
pub fn decode_envelope(bytes: &[u8]) -> Result<Unknown<'_>> {
    if bytes.is_empty() {
        return Err(ProtoError::Empty);
    }
    let Some(body) = bytes.strip_prefix(&MAGIC[..]) else {
        return Err(ProtoError::MissingPrefix);
    };
    if body.is_empty() {
        return Err(ProtoError::Empty);
    }
    let mut unk = Unknown::default();
    let mut r = Reader::new(body);
    while !r.is_empty() {
        let (n, wt) = r.key()?;
        if !(1..=4).contains(&n) {
            r.skip(n, wt, 0)?;
            continue;
        }
        let segment = ["typeMeta", "raw", "contentEncoding", "contentType"][n as usize - 1];
        let b =
            (|| expect_bytes(r.wire(wt)?, wt))().map_err(|p| ProtoError::at(p).within(segment))?;
        match n {
            1 => read_type_meta(&mut unk.type_meta, b)
                .map_err(|p| ProtoError::at(p).within(segment))?,
            2 => unk.raw = b,
            3 => unk.content_encoding = utf8(b),
            _ => unk.content_type = utf8(b),
        }
    }
    Ok(unk)
}

/// Wraps an object's message in the envelope, as upstream writes it.
pub fn wrap(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = Vec::with_capacity(api_version.len() + kind.len() + 4);
    put_bytes(&mut type_meta, 1, api_version.as_bytes());
    put_bytes(&mut type_meta, 2, kind.as_bytes());
    let mut out = Vec::with_capacity(raw.len() + type_meta.len() + 16);
    out.extend_from_slice(&MAGIC);
    put_bytes(&mut out, 1, &type_meta);
    put_bytes(&mut out, 2, raw);
    put_bytes(&mut out, 3, b"");
    put_bytes(&mut out, 4, b"");
    out
}

/// Decodes a protobuf body: the envelope, then its object with the message `lookup` declares
/// for the envelope's `(apiVersion, kind)`. The JSON object starts with the envelope's `kind`
/// and `apiVersion` (those not empty), as a JSON body would.
pub fn decode(
    bytes: &[u8],
    lookup: &dyn Fn(&str, &str) -> Option<MessageRef>,
) -> Result<(TypeMeta, Value)> {
    let unk = decode_envelope(bytes)?;
    let tm = unk.type_meta;
    let Some(msg) = lookup(&tm.api_version, &tm.kind) else {
        return Err(ProtoError::UnknownType {
            api_version: tm.api_version,
            kind: tm.kind,
        });
    };
    let fields = decode_fields(&msg, unk.raw, 0)?;
    Ok((tm.clone(), with_type_meta(&tm, Value::Object(fields))))
}

/// An object's fields preceded by `kind` and `apiVersion` (the order of Go's `TypeMeta`),
/// those not empty. A value that is not an object is returned as it is.
pub fn with_type_meta(tm: &TypeMeta, object: Value) -> Value {
    let Value::Object(fields) = object else {
        return object;
    };
    let mut out = Map::with_capacity(fields.len() + 2);
    if !tm.kind.is_empty() {
        out.insert("kind".into(), Value::String(tm.kind.clone()));
    }
    if !tm.api_version.is_empty() {
        out.insert("apiVersion".into(), Value::String(tm.api_version.clone()));
    }
    for (k, v) in fields {
        if k != "kind" && k != "apiVersion" {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// Decodes a protobuf body as [`decode`] does, but keeps every scalar present on the wire,
/// zero or not. Go's encoder writes a pointer field (`replicas: 0`,
/// `automountServiceAccountToken: false`) only when it is set and its JSON keeps it even
/// when zero, while the type model cannot tell pointer fields from the others: bytes this
/// server wrote (only what the JSON held) read back exactly this way, and bytes upstream
/// wrote read with their non-pointer zero fields spelled out, which Go reads the same.
pub fn decode_keeping_zeros(
    bytes: &[u8],
    lookup: &dyn Fn(&str, &str) -> Option<MessageRef>,
) -> Result<(TypeMeta, Value)> {
    KEEP_ZEROS.with(|k| k.set(true));
    let out = decode(bytes, lookup);
    KEEP_ZEROS.with(|k| k.set(false));
    out
}

thread_local! {
    /// Set while [`decode_keeping_zeros`] runs (decoding is synchronous).
    static KEEP_ZEROS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Encodes an object with the envelope.
pub fn encode(api_version: &str, kind: &str, msg: &Message, value: &Value) -> Result<Vec<u8>> {
    Ok(wrap(api_version, kind, &encode_message(msg, value)?))
}

/// Encodes a list (`{metadata, items}`) of `item` objects with the envelope.
pub fn encode_list(
    api_version: &str,
    kind: &str,
    item: &Message,
    value: &Value,
) -> Result<Vec<u8>> {
    Ok(wrap(api_version, kind, &encode_list_message(item, value)?))
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// Decodes an object's message (without envelope) into its JSON form.
pub fn decode_message(msg: &Message, bytes: &[u8]) -> Result<Value> {
    decode_fields(msg, bytes, 0).map(Value::Object)
}

/// Decodes a list message (`{metadata = 1, items = 2}`) of `item` objects.
pub fn decode_list(item: &Message, bytes: &[u8]) -> Result<Value> {
    let mut metadata: Vec<&[u8]> = Vec::new();
    let mut items = Vec::new();
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        let (n, wt) = r.key()?;
        match n {
            1 => metadata.push(
                expect_bytes(r.wire(wt)?, wt).map_err(|p| ProtoError::at(p).within("metadata"))?,
            ),
            2 => {
                let segment = format!("items[{}]", items.len());
                let b = expect_bytes(r.wire(wt)?, wt)
                    .map_err(|p| ProtoError::at(p).within(&segment))?;
                items.push(Value::Object(
                    decode_fields(item, b, 1).map_err(|e| e.within(&segment))?,
                ));
            }
            _ => r.skip(n, wt, 0)?,
        }
    }
    let metadata =
        decode_fields(list_meta(), &concat(metadata), 1).map_err(|e| e.within("metadata"))?;
    let mut out = Map::new();
    out.insert("metadata".into(), Value::Object(metadata));
    out.insert("items".into(), Value::Array(items));
    Ok(Value::Object(out))
}

/// What has been read for one field.
enum Slot<'a> {
    Empty,
    Scalar(Value),
    /// Occurrences of a singular message field: merged by concatenation, as protobuf merges.
    Chunks(Vec<&'a [u8]>),
    Items(Vec<Value>),
    Entries(BTreeMap<String, Value>),
}

fn concat(chunks: Vec<&[u8]>) -> Cow<'_, [u8]> {
    match chunks.len() {
        0 => Cow::Borrowed(&[][..]),
        1 => Cow::Borrowed(chunks[0]),
        _ => Cow::Owned(chunks.concat()),
    }
}

fn is_scalar(ty: &Type) -> bool {
    ty.is_scalar()
}

fn is_packable(ty: &Type) -> bool {
    matches!(ty, Type::Bool | Type::Int32 | Type::Int64 | Type::Double)
}

fn number(n: i64) -> Value {
    Value::Number(Number::from(n))
}

/// A scalar from one occurrence.
fn decode_scalar(ty: &Type, wire: Wire<'_>) -> Result<Value, Problem> {
    Ok(match (ty, wire) {
        (Type::String, Wire::Bytes(b)) => Value::String(utf8(b)),
        (Type::Bytes, Wire::Bytes(b)) => Value::String(B64.encode(b)),
        (Type::Bool, Wire::Varint(v)) => Value::Bool(v != 0),
        (Type::Int32, Wire::Varint(v)) => number(i64::from(v as i32)),
        (Type::Int64, Wire::Varint(v)) => number(v as i64),
        (Type::Double, Wire::Fixed64(v)) => float(f64::from_bits(v))?,
        (_, w) => return Err(Problem::WrongWireType(wire_type_of(w))),
    })
}

fn wire_type_of(w: Wire<'_>) -> u8 {
    match w {
        Wire::Varint(_) => WT_VARINT,
        Wire::Fixed64(_) => WT_FIXED64,
        Wire::Bytes(_) => WT_BYTES,
        Wire::Fixed32 => WT_FIXED32,
    }
}

/// A float as Go's JSON writes it: integral values without a fraction.
fn float(f: f64) -> Result<Value, Problem> {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Ok(number(f as i64));
    }
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| Problem::Value(format!("unsupported value: {f}")))
}

/// Reads packed scalars.
fn decode_packed(ty: &Type, bytes: &[u8], items: &mut Vec<Value>) -> Result<(), Problem> {
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        let wire = match ty {
            Type::Double => Wire::Fixed64(r.fixed64()?),
            _ => Wire::Varint(r.varint()?),
        };
        items.push(decode_scalar(ty, wire)?);
    }
    Ok(())
}

/// Adds one occurrence of a field to its slot.
fn collect<'a>(slot: &mut Slot<'a>, ty: &Type, wire: Wire<'a>, depth: usize) -> Result<()> {
    match ty {
        t if is_scalar(t) => *slot = Slot::Scalar(decode_scalar(t, wire)?),
        Type::List(inner) => {
            if !matches!(slot, Slot::Items(_)) {
                *slot = Slot::Items(Vec::new());
            }
            let Slot::Items(items) = slot else {
                return Ok(());
            };
            let index = items.len();
            match wire {
                Wire::Bytes(b) if is_packable(inner) => decode_packed(inner, b, items)?,
                _ => items.push(
                    decode_item(inner, wire, depth).map_err(|e| e.within(&format!("[{index}]")))?,
                ),
            }
        }
        Type::Map(inner) => {
            let b = expect_bytes(wire, wire_type_of(wire))?;
            let (k, v) = decode_entry(inner, b, depth)?;
            if !matches!(slot, Slot::Entries(_)) {
                *slot = Slot::Entries(BTreeMap::new());
            }
            if let Slot::Entries(entries) = slot {
                entries.insert(k, v);
            }
        }
        _ => {
            let b = expect_bytes(wire, wire_type_of(wire))?;
            match slot {
                Slot::Chunks(chunks) => chunks.push(b),
                _ => *slot = Slot::Chunks(vec![b]),
            }
        }
    }
    Ok(())
}

/// One map entry `{key = 1, value = 2}`.
fn decode_entry(ty: &Type, bytes: &[u8], depth: usize) -> Result<(String, Value)> {
    let mut key = String::new();
    let mut value: Slot<'_> = Slot::Empty;
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        let (n, wt) = r.key()?;
        match n {
            1 => key = utf8(expect_bytes(r.wire(wt)?, wt)?),
            2 => {
                let wire = r.wire(wt)?;
                // Scalars: last wins; messages: occurrences merge.
                match (ty, wire) {
                    (t, w) if is_scalar(t) => value = Slot::Scalar(decode_scalar(t, w)?),
                    (_, Wire::Bytes(b)) => match &mut value {
                        Slot::Chunks(c) => c.push(b),
                        _ => value = Slot::Chunks(vec![b]),
                    },
                    (_, w) => return Err(Problem::WrongWireType(wire_type_of(w)).into()),
                }
            }
            _ => r.skip(n, wt, depth)?,
        }
    }
    let value = match value {
        Slot::Scalar(v) => Ok(v),
        Slot::Chunks(c) => decode_composite(ty, &concat(c), depth),
        _ => Ok(zero_value(ty, depth)),
    };
    value
        .map(|v| (key.clone(), v))
        .map_err(|e| e.within(&format!("[{key}]")))
}

/// One list item (or map value) from one occurrence.
fn decode_item(ty: &Type, wire: Wire<'_>, depth: usize) -> Result<Value> {
    if is_scalar(ty) {
        return Ok(decode_scalar(ty, wire)?);
    }
    let b = expect_bytes(wire, wire_type_of(wire))?;
    decode_composite(ty, b, depth)
}

/// A message-encoded value: a message, a time, a quantity, an int-or-string, raw JSON, or a
/// list wrapped in `{items = 1}`.
fn decode_composite(ty: &Type, bytes: &[u8], depth: usize) -> Result<Value> {
    if depth >= MAX_DEPTH {
        return Err(Problem::TooDeep.into());
    }
    match ty {
        Type::Message(m) => decode_fields(m, bytes, depth + 1).map(Value::Object),
        Type::Time | Type::MicroTime => decode_time(bytes, matches!(ty, Type::MicroTime)),
        Type::Quantity => {
            let mut s = String::new();
            each_field(bytes, depth, |n, w| {
                if n == 1 {
                    s = utf8(expect_bytes(w, wire_type_of(w))?);
                }
                Ok(())
            })?;
            Ok(Value::String(s))
        }
        Type::IntOrString => {
            let (mut kind, mut int_val, mut str_val) = (0i64, 0i32, String::new());
            each_field(bytes, depth, |n, w| {
                match (n, w) {
                    (1, Wire::Varint(v)) => kind = v as i64,
                    (2, Wire::Varint(v)) => int_val = v as i32,
                    (3, Wire::Bytes(b)) => str_val = utf8(b),
                    (1..=3, w) => return Err(Problem::WrongWireType(wire_type_of(w))),
                    _ => {}
                }
                Ok(())
            })?;
            Ok(if kind == 1 {
                Value::String(str_val)
            } else {
                number(i64::from(int_val))
            })
        }
        Type::RawJson => {
            let mut raw: &[u8] = &[];
            each_field(bytes, depth, |n, w| {
                if n == 1 {
                    raw = expect_bytes(w, wire_type_of(w))?;
                }
                Ok(())
            })?;
            if raw.is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_slice(raw).map_err(|e| ProtoError::value(format!("invalid JSON: {e}")))
        }
        Type::List(_) => {
            let mut slot = Slot::Items(Vec::new());
            let mut r = Reader::new(bytes);
            while !r.is_empty() {
                let (n, wt) = r.key()?;
                if n == 1 {
                    collect(&mut slot, ty, r.wire(wt)?, depth + 1)?;
                } else {
                    r.skip(n, wt, depth)?;
                }
            }
            match slot {
                Slot::Items(items) => Ok(Value::Array(items)),
                _ => Ok(Value::Array(Vec::new())),
            }
        }
        Type::Map(_) => Err(Problem::Unsupported.into()),
        // Scalars never arrive here (they are read from their own wire values).
        _ => Err(Problem::WrongWireType(WT_BYTES).into()),
    }
}

/// Calls `f` with every field of a small fixed message, skipping groups.
fn each_field<'a>(
    bytes: &'a [u8],
    depth: usize,
    mut f: impl FnMut(u32, Wire<'a>) -> Result<(), Problem>,
) -> Result<(), Problem> {
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        let (n, wt) = r.key()?;
        if wt == WT_START_GROUP || wt == WT_END_GROUP {
            r.skip(n, wt, depth)?;
            continue;
        }
        f(n, r.wire(wt)?)?;
    }
    Ok(())
}

/// Earliest and latest seconds a `Time` may have (years 0000 to 9999), as RFC 3339 allows.
const MIN_SECONDS: i64 = -62_167_219_200;
const MAX_SECONDS: i64 = 253_402_300_799;

fn decode_time(bytes: &[u8], micro: bool) -> Result<Value> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let (mut seconds, mut nanos) = (0i64, 0i32);
    each_field(bytes, 0, |n, w| {
        match (n, w) {
            (1, Wire::Varint(v)) => seconds = v as i64,
            (2, Wire::Varint(v)) => nanos = v as i32,
            (1 | 2, w) => return Err(Problem::WrongWireType(wire_type_of(w))),
            _ => {}
        }
        Ok(())
    })?;
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err(ProtoError::value(format!(
            "time out of range: {seconds} seconds"
        )));
    }
    // `Time` keeps seconds only; `MicroTime` truncates to microseconds.
    let micros = if micro {
        let total = i128::from(seconds) * 1_000_000 + i128::from(nanos) / 1000;
        seconds = total.div_euclid(1_000_000) as i64;
        Some(total.rem_euclid(1_000_000) as u32)
    } else {
        None
    };
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err(ProtoError::value(format!(
            "time out of range: {seconds} seconds"
        )));
    }
    Ok(Value::String(format_time(seconds, micros)))
}

fn format_time(seconds: i64, micros: Option<u32>) -> String {
    let (y, mo, d) = crate::time::civil_from_days(seconds.div_euclid(86_400));
    let sod = seconds.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    match micros {
        Some(us) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z"),
        None => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
    }
}

/// The JSON Go writes for a field's zero value (a required field absent from the wire).
fn zero_value(ty: &Type, depth: usize) -> Value {
    match ty {
        Type::String => Value::String(String::new()),
        Type::Quantity => Value::String("0".into()),
        Type::Bool => Value::Bool(false),
        Type::Int32 | Type::Int64 | Type::Double | Type::IntOrString => number(0),
        Type::Message(m) if depth < MAX_DEPTH => decode_fields(m, &[], depth + 1)
            .map(Value::Object)
            .unwrap_or_else(|_| Value::Object(Map::new())),
        Type::Message(_) => Value::Object(Map::new()),
        Type::Bytes
        | Type::Time
        | Type::MicroTime
        | Type::RawJson
        | Type::List(_)
        | Type::Map(_) => Value::Null,
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
    }
}

/// The final JSON of a field, or `None` when Go's `omitempty` would leave it out.
fn finish(field: &Field, slot: Slot<'_>, depth: usize) -> Result<Option<Value>> {
    let v = match slot {
        Slot::Empty if field.emit_zero => return Ok(Some(zero_value(&field.ty, depth))),
        Slot::Empty => return Ok(None),
        Slot::Scalar(v) => v,
        Slot::Chunks(chunks) => {
            let v = decode_composite(&field.ty, &concat(chunks), depth)?;
            // What is present on the wire stays (Go's `omitempty` never drops structs), except
            // a zero time or an empty raw extension, which Go writes as null.
            if v.is_null() && !field.emit_zero {
                return Ok(None);
            }
            return Ok(Some(v));
        }
        Slot::Items(items) => Value::Array(items),
        Slot::Entries(entries) => Value::Object(entries.into_iter().collect()),
    };
    if is_zero(&v) && !field.emit_zero && !KEEP_ZEROS.with(std::cell::Cell::get) {
        return Ok(None);
    }
    Ok(Some(v))
}

fn decode_fields(msg: &Message, bytes: &[u8], depth: usize) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    decode_fields_into(msg, bytes, depth, &mut out)?;
    Ok(out)
}

/// Decodes a message's fields into `out`; an inline field's message adds its fields to `out`
/// itself, as Go's JSON flattens embedded structs.
fn decode_fields_into(
    msg: &Message,
    bytes: &[u8],
    depth: usize,
    out: &mut Map<String, Value>,
) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Err(Problem::TooDeep.into());
    }
    let mut slots: Vec<Slot<'_>> = msg.fields.iter().map(|_| Slot::Empty).collect();
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        let (n, wt) = r.key()?;
        let Some(index) = msg.fields.iter().position(|f| f.proto == n) else {
            r.skip(n, wt, depth)?;
            continue;
        };
        let field = &msg.fields[index];
        let wire = r
            .wire(wt)
            .map_err(|p| ProtoError::at(p).within(&field.json))?;
        collect(&mut slots[index], &field.ty, wire, depth).map_err(|e| e.within(&field.json))?;
    }
    for (field, slot) in msg.fields.iter().zip(slots) {
        if field.inline {
            if let Type::Message(m) = &field.ty {
                let bytes = match slot {
                    Slot::Chunks(chunks) => concat(chunks),
                    _ => Cow::Borrowed(&[][..]),
                };
                decode_fields_into(m, &bytes, depth + 1, out)?;
                continue;
            }
        }
        if let Some(v) = finish(field, slot, depth).map_err(|e| e.within(&field.json))? {
            out.insert(field.json.to_string(), v);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// Encodes an object (its JSON form) as its message, without envelope.
pub fn encode_message(msg: &Message, value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_fields(msg, value, &mut out, 0)?;
    Ok(out)
}

/// Encodes a list (`{metadata, items}`) of `item` objects, without envelope.
pub fn encode_list_message(item: &Message, value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let empty = Value::Null;
    let metadata = value.get("metadata").unwrap_or(&empty);
    let mut meta = Vec::new();
    encode_fields(list_meta(), metadata, &mut meta, 1).map_err(|e| e.within("metadata"))?;
    put_bytes(&mut out, 1, &meta);
    match value.get("items") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, it) in items.iter().enumerate() {
                let mut buf = Vec::new();
                encode_fields(item, it, &mut buf, 1)
                    .map_err(|e| e.within(&format!("items[{i}]")))?;
                put_bytes(&mut out, 2, &buf);
            }
        }
        Some(_) => return Err(ProtoError::value("expected an array").within("items")),
    }
    Ok(out)
}

fn encode_fields(msg: &Message, value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Err(Problem::TooDeep.into());
    }
    let map = match value {
        Value::Object(m) => m,
        Value::Null => return Ok(()),
        _ => return Err(ProtoError::value("expected an object")),
    };
    let mut fields: Vec<&Field> = msg.fields.iter().filter(|f| f.proto != 0).collect();
    fields.sort_by_key(|f| f.proto);
    for f in fields {
        if f.inline {
            // An embedded struct: its fields are this object's; Go always writes it.
            if let Type::Message(m) = &f.ty {
                let mut inner = Vec::new();
                encode_fields(m, value, &mut inner, depth + 1)?;
                put_bytes(out, f.proto, &inner);
                continue;
            }
        }
        match map.get(&*f.json) {
            None | Some(Value::Null) => {}
            Some(v) => {
                encode_field(f.proto, &f.ty, v, out, depth).map_err(|e| e.within(&f.json))?
            }
        }
    }
    Ok(())
}

/// All occurrences of one field.
fn encode_field(number: u32, ty: &Type, v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    match ty {
        Type::List(inner) => {
            let Value::Array(items) = v else {
                return Err(ProtoError::value("expected an array"));
            };
            if matches!(**inner, Type::Map(_)) {
                return Err(Problem::Unsupported.into());
            }
            for (i, item) in items.iter().enumerate() {
                encode_one(number, inner, item, out, depth)
                    .map_err(|e| e.within(&format!("[{i}]")))?;
            }
            Ok(())
        }
        Type::Map(inner) => {
            let Value::Object(map) = v else {
                return Err(ProtoError::value("expected an object"));
            };
            if matches!(**inner, Type::Map(_)) {
                return Err(Problem::Unsupported.into());
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                let mut entry = Vec::new();
                put_bytes(&mut entry, 1, k.as_bytes());
                encode_one(2, inner, &map[k.as_str()], &mut entry, depth)
                    .map_err(|e| e.within(&format!("[{k}]")))?;
                put_bytes(out, number, &entry);
            }
            Ok(())
        }
        _ => encode_one(number, ty, v, out, depth),
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Null => Some(0),
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

fn as_str(v: &Value) -> Result<&str> {
    match v {
        Value::String(s) => Ok(s),
        Value::Null => Ok(""),
        _ => Err(ProtoError::value("expected a string")),
    }
}

/// Seconds and nanoseconds of an RFC 3339 time.
fn parse_time(s: &str) -> Result<(i64, i32)> {
    let t = crate::time::parse_rfc3339(s)
        .ok_or_else(|| ProtoError::value(format!("invalid time {s:?}")))?;
    Ok(match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos() as i32),
        Err(e) => {
            let d: Duration = e.duration();
            let (s, n) = (d.as_secs() as i64, d.subsec_nanos() as i32);
            if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - n)
            }
        }
    })
}

/// One occurrence of a (non-repeated) value; `null` writes the type's zero value.
fn encode_one(number: u32, ty: &Type, v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    match ty {
        Type::String => put_bytes(out, number, as_str(v)?.as_bytes()),
        Type::Bytes => {
            let b = B64
                .decode(as_str(v)?)
                .map_err(|e| ProtoError::value(format!("invalid base64: {e}")))?;
            put_bytes(out, number, &b);
        }
        Type::Bool => match v {
            Value::Bool(b) => put_int(out, number, i64::from(*b)),
            Value::Null => put_int(out, number, 0),
            _ => return Err(ProtoError::value("expected a boolean")),
        },
        Type::Int32 => {
            let n = as_int(v)
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| ProtoError::value("expected a 32-bit integer"))?;
            put_int(out, number, i64::from(n));
        }
        Type::Int64 => {
            let n = as_int(v).ok_or_else(|| ProtoError::value("expected an integer"))?;
            put_int(out, number, n);
        }
        Type::Double => {
            let f = match v {
                Value::Number(n) => n.as_f64().unwrap_or(0.0),
                Value::Null => 0.0,
                _ => return Err(ProtoError::value("expected a number")),
            };
            put_key(out, number, WT_FIXED64);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Type::Time | Type::MicroTime => {
            let s = as_str(v)?;
            let mut m = Vec::new();
            if !s.is_empty() {
                let (seconds, nanos) = parse_time(s)?;
                put_int(&mut m, 1, seconds);
                // `Time` keeps whole seconds only.
                let nanos = if matches!(ty, Type::MicroTime) {
                    nanos
                } else {
                    0
                };
                put_int(&mut m, 2, i64::from(nanos));
            }
            put_bytes(out, number, &m);
        }
        Type::Quantity => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Null => "0".to_string(),
                _ => return Err(ProtoError::value("expected a quantity")),
            };
            let mut m = Vec::new();
            put_bytes(&mut m, 1, s.as_bytes());
            put_bytes(out, number, &m);
        }
        Type::IntOrString => {
            let mut m = Vec::new();
            match v {
                Value::String(s) => {
                    put_int(&mut m, 1, 1);
                    put_int(&mut m, 2, 0);
                    put_bytes(&mut m, 3, s.as_bytes());
                }
                _ => {
                    let n = as_int(v)
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| ProtoError::value("expected an integer or a string"))?;
                    put_int(&mut m, 1, 0);
                    put_int(&mut m, 2, i64::from(n));
                    put_bytes(&mut m, 3, b"");
                }
            }
            put_bytes(out, number, &m);
        }
        Type::RawJson => {
            let mut m = Vec::new();
            if !v.is_null() {
                let raw = serde_json::to_vec(v).map_err(|e| ProtoError::value(e.to_string()))?;
                put_bytes(&mut m, 1, &raw);
            }
            put_bytes(out, number, &m);
        }
        Type::Message(msg) => {
            let mut m = Vec::new();
            encode_fields(msg, v, &mut m, depth + 1)?;
            put_bytes(out, number, &m);
        }
        Type::List(_) => {
            // A list inside a list or map: wrapped in `{items = 1}`.
            if depth >= MAX_DEPTH {
                return Err(Problem::TooDeep.into());
            }
            let mut m = Vec::new();
            if !v.is_null() {
                encode_field(1, ty, v, &mut m, depth + 1)?;
            }
            put_bytes(out, number, &m);
        }
        Type::Map(_) => return Err(Problem::Unsupported.into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::decl::{Field, Message, Type};
    use crate::schema::MessageRef;

    /// The run-time form of a test declaration.
    fn rt(d: &'static Message) -> MessageRef {
        MessageRef::from_decl(d)
    }
    use crate::types::{DELETE_OPTIONS, OBJECT_META, OWNER_REFERENCE, STATUS};
    use serde_json::json;

    /// core/v1 ConfigMap, as upstream's generated.proto numbers it.
    static CONFIG_MAP: Message = Message {
        name: "test.ConfigMap",
        description: "",
        gvks: &[("", "v1", "ConfigMap")],
        atomic: false,
        fields: &[
            Field::new("metadata", 1, Type::Message(&OBJECT_META)),
            Field::new("immutable", 4, Type::Bool),
            Field::new("data", 2, Type::Map(&Type::String)),
            Field::new("binaryData", 3, Type::Map(&Type::Bytes)),
        ],
    };

    /// Every kind of field, for round trips.
    static ALL: Message = Message {
        name: "test.All",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            Field::new("s", 1, Type::String),
            Field::new("b", 2, Type::Bytes),
            Field::new("flag", 3, Type::Bool),
            Field::new("i32", 4, Type::Int32),
            Field::new("i64", 5, Type::Int64),
            Field::new("f", 6, Type::Double),
            Field::new("t", 7, Type::Time),
            Field::new("mt", 8, Type::MicroTime),
            Field::new("q", 9, Type::Quantity),
            Field::new("ios", 10, Type::IntOrString),
            Field::new("iosStr", 11, Type::IntOrString),
            Field::new("raw", 12, Type::RawJson),
            Field::new("child", 13, Type::Message(&ALL)),
            Field::new("children", 14, Type::List(&Type::Message(&ALL))),
            Field::new("strings", 15, Type::List(&Type::String)),
            Field::new("ints", 16, Type::List(&Type::Int64)),
            Field::new("labels", 17, Type::Map(&Type::String)),
            Field::new("blobs", 18, Type::Map(&Type::Bytes)),
            Field::new("extra", 19, Type::Map(&Type::List(&Type::String))),
            Field::new("nested", 20, Type::List(&Type::List(&Type::Int32))),
            Field::new("quantities", 21, Type::Map(&Type::Quantity)),
            Field::new("times", 22, Type::List(&Type::Time)),
            Field::new("kept", 23, Type::String).required(),
            Field::new("doubles", 24, Type::List(&Type::Double)),
        ],
    };

    fn lookup(api_version: &str, kind: &str) -> Option<MessageRef> {
        match (api_version, kind) {
            ("v1", "ConfigMap") => Some(rt(&CONFIG_MAP)),
            _ => None,
        }
    }

    /// What kubectl 1.32 (client-go's generated marshaller) sends for
    /// `kubectl create configmap x --from-literal=a=b`: every non-pointer scalar of
    /// ObjectMeta is written even when empty, and a zero creationTimestamp is an empty message.
    fn kubectl_configmap() -> Vec<u8> {
        let mut b = b"k8s\0".to_vec();
        // Unknown.typeMeta {apiVersion "v1", kind "ConfigMap"}
        b.extend([0x0a, 0x0f, 0x0a, 0x02, b'v', b'1', 0x12, 0x09]);
        b.extend(b"ConfigMap");
        // Unknown.raw: ConfigMap
        b.extend([0x12, 0x1b]);
        // metadata: name "x", then generateName, namespace, selfLink, uid, resourceVersion
        // (empty strings), generation 0, creationTimestamp (empty message)
        b.extend([
            0x0a, 0x11, 0x0a, 0x01, b'x', 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00,
        ]);
        b.extend([0x32, 0x00, 0x38, 0x00, 0x42, 0x00]);
        // data {a: b}
        b.extend([0x12, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'b']);
        // contentEncoding "", contentType ""
        b.extend([0x1a, 0x00, 0x22, 0x00]);
        b
    }

    #[test]
    fn decodes_what_kubectl_sends() {
        let (tm, v) = decode(&kubectl_configmap(), &lookup).unwrap();
        assert_eq!(
            tm,
            TypeMeta {
                api_version: "v1".into(),
                kind: "ConfigMap".into()
            }
        );
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"},"data":{"a":"b"}}"#
        );
    }

    #[test]
    fn encodes_like_upstream() {
        let v = json!({
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {"name": "x", "labels": {"z": "1", "a": "2"}},
            "data": {"b": "2", "a": "1"},
            "binaryData": {"bin": "AAE="},
            "immutable": true,
        });
        let bytes = encode("v1", "ConfigMap", &rt(&CONFIG_MAP), &v).unwrap();
        let mut want = b"k8s\0".to_vec();
        want.extend([0x0a, 0x0f, 0x0a, 0x02, b'v', b'1', 0x12, 0x09]);
        want.extend(b"ConfigMap");
        let mut raw = vec![0x0a, 0x13, 0x0a, 0x01, b'x'];
        raw.extend([0x5a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'2']); // labels, sorted
        raw.extend([0x5a, 0x06, 0x0a, 0x01, b'z', 0x12, 0x01, b'1']);
        raw.extend([0x12, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'1']); // data, sorted
        raw.extend([0x12, 0x06, 0x0a, 0x01, b'b', 0x12, 0x01, b'2']);
        raw.extend([
            0x1a, 0x09, 0x0a, 0x03, b'b', b'i', b'n', 0x12, 0x02, 0x00, 0x01,
        ]);
        raw.extend([0x20, 0x01]); // immutable
        want.push(0x12);
        want.push(raw.len() as u8);
        want.extend(&raw);
        want.extend([0x1a, 0x00, 0x22, 0x00]);
        assert_eq!(bytes, want);
        // And back, in Go's JSON field order.
        let (_, back) = decode(&bytes, &lookup).unwrap();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","labels":{"a":"2","z":"1"}},"immutable":true,"data":{"a":"1","b":"2"},"binaryData":{"bin":"AAE="}}"#
        );
    }

    fn full_value() -> Value {
        json!({
            "s": "héllo",
            "b": "AAECAwQ=",
            "flag": true,
            "i32": -5,
            "i64": 9_007_199_254_740_993_i64,
            "f": 1.5,
            "t": "2024-01-02T03:04:05Z",
            "mt": "2024-01-02T03:04:05.123456Z",
            "q": "500m",
            "ios": 8080,
            "iosStr": "http",
            "raw": {"x": [1, "two", null], "y": {"z": true}},
            "child": {"s": "inner", "kept": "k"},
            "children": [{"i32": 1, "kept": ""}, {"s": "two", "kept": ""}],
            "strings": ["a", "", "c"],
            "ints": [1, -2, 3],
            "labels": {"a": "", "b": "x"},
            "blobs": {"k": ""},
            "extra": {"groups": ["g1", "g2"], "none": []},
            "nested": [[1, 2], [], [-3]],
            "quantities": {"cpu": "1"},
            "times": ["1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z"],
            "kept": "",
            "doubles": [0.25, 2],
        })
    }

    #[test]
    fn round_trip_every_type() {
        let v = full_value();
        let bytes = encode_message(&rt(&ALL), &v).unwrap();
        let back = decode_message(&rt(&ALL), &bytes).unwrap();
        assert_eq!(back, v);
        // Keys come out in declaration order.
        let keys: Vec<&String> = back.as_object().unwrap().keys().collect();
        let declared: Vec<&str> = ALL.fields.iter().map(|f| f.json).collect();
        assert_eq!(keys, declared);
        // Re-encoding is stable.
        assert_eq!(encode_message(&rt(&ALL), &back).unwrap(), bytes);
    }

    #[test]
    fn zero_values_follow_omitempty() {
        // Everything zero: Go's JSON omits them all, except the required field.
        let mut wire = Vec::new();
        put_bytes(&mut wire, 1, b"");
        put_int(&mut wire, 3, 0);
        put_int(&mut wire, 4, 0);
        put_int(&mut wire, 5, 0);
        put_bytes(&mut wire, 7, b""); // zero time
        put_bytes(&mut wire, 12, b""); // empty RawExtension
        put_bytes(&mut wire, 13, b""); // an empty nested message is kept
        let v = decode_message(&rt(&ALL), &wire).unwrap();
        assert_eq!(v, json!({"child": {"kept": ""}, "kept": ""}));
        // Raw JSON that is present stays, even when it is a JSON zero.
        let mut raw = Vec::new();
        put_bytes(&mut raw, 1, b"false");
        let mut wire = Vec::new();
        put_bytes(&mut wire, 12, &raw);
        assert_eq!(
            decode_message(&rt(&ALL), &wire).unwrap()["raw"],
            json!(false)
        );
        // Required fields of OwnerReference are written even when absent.
        let v = decode_message(&rt(&OWNER_REFERENCE), &[]).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "", "kind": "", "name": "", "uid": ""})
        );
    }

    #[test]
    fn times() {
        let mut m = Vec::new();
        put_int(&mut m, 1, 1_704_164_645);
        put_int(&mut m, 2, 123_456_789);
        let mut wire = Vec::new();
        put_bytes(&mut wire, 7, &m);
        put_bytes(&mut wire, 8, &m);
        let v = decode_message(&rt(&ALL), &wire).unwrap();
        assert_eq!(v["t"], "2024-01-02T03:04:05Z");
        assert_eq!(v["mt"], "2024-01-02T03:04:05.123456Z");
        // Before the epoch.
        let mut m = Vec::new();
        put_int(&mut m, 1, -1);
        put_int(&mut m, 2, 500_000_000);
        let mut wire = Vec::new();
        put_bytes(&mut wire, 8, &m);
        assert_eq!(
            decode_message(&rt(&ALL), &wire).unwrap()["mt"],
            "1969-12-31T23:59:59.500000Z"
        );
        // Out of range.
        let mut m = Vec::new();
        put_int(&mut m, 1, i64::MAX);
        let mut wire = Vec::new();
        put_bytes(&mut wire, 7, &m);
        assert!(decode_message(&rt(&ALL), &wire).is_err());
        // Time drops sub-second precision on encode; MicroTime keeps it.
        let bytes = encode_message(&rt(&ALL), &json!({"t": "2024-01-02T03:04:05.9Z"})).unwrap();
        assert_eq!(
            decode_message(&rt(&ALL), &bytes).unwrap()["t"],
            "2024-01-02T03:04:05Z"
        );
    }

    #[test]
    fn packed_and_unpacked_repeated_scalars() {
        let mut packed_body = Vec::new();
        for n in [1i64, -2, 300] {
            put_varint(&mut packed_body, n as u64);
        }
        let mut wire = Vec::new();
        put_bytes(&mut wire, 16, &packed_body);
        put_int(&mut wire, 16, 7); // unpacked occurrences append
        let mut doubles = Vec::new();
        doubles.extend(0.5f64.to_bits().to_le_bytes());
        doubles.extend(3.0f64.to_bits().to_le_bytes());
        put_bytes(&mut wire, 24, &doubles);
        let v = decode_message(&rt(&ALL), &wire).unwrap();
        assert_eq!(v["ints"], json!([1, -2, 300, 7]));
        assert_eq!(v["doubles"], json!([0.5, 3]));
        // A packed payload that ends mid-varint.
        let mut wire = Vec::new();
        put_bytes(&mut wire, 16, &[0x80]);
        assert!(decode_message(&rt(&ALL), &wire).is_err());
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let mut wire = Vec::new();
        put_int(&mut wire, 99, 12345);
        put_key(&mut wire, 98, WT_FIXED64);
        wire.extend([0; 8]);
        put_key(&mut wire, 97, WT_FIXED32);
        wire.extend([0; 4]);
        put_bytes(&mut wire, 96, b"whatever");
        put_key(&mut wire, 95, WT_START_GROUP);
        put_int(&mut wire, 1, 1);
        put_key(&mut wire, 95, WT_END_GROUP);
        put_bytes(&mut wire, 1, b"name");
        let v = decode_message(&rt(&ALL), &wire).unwrap();
        assert_eq!(v, json!({"s": "name", "kept": ""}));
        // An unbalanced group is an error.
        let mut wire = Vec::new();
        put_key(&mut wire, 95, WT_START_GROUP);
        put_key(&mut wire, 94, WT_END_GROUP);
        assert!(decode_message(&rt(&ALL), &wire).is_err());
    }

    #[test]
    fn repeated_messages_merge_and_scalars_take_the_last() {
        let mut a = Vec::new();
        put_bytes(&mut a, 1, b"first");
        put_int(&mut a, 4, 1);
        let mut b = Vec::new();
        put_int(&mut b, 4, 2);
        let mut wire = Vec::new();
        put_bytes(&mut wire, 13, &a);
        put_bytes(&mut wire, 13, &b);
        put_bytes(&mut wire, 1, b"one");
        put_bytes(&mut wire, 1, b"two");
        let v = decode_message(&rt(&ALL), &wire).unwrap();
        assert_eq!(v["s"], "two");
        assert_eq!(v["child"], json!({"s": "first", "i32": 2, "kept": ""}));
    }

    #[test]
    fn wrong_wire_types_are_errors() {
        let mut wire = Vec::new();
        put_int(&mut wire, 1, 5); // string field as varint
        let err = decode_message(&rt(&ALL), &wire).unwrap_err();
        assert_eq!(err.to_string(), "s: wrong wire type 0");
        let mut wire = Vec::new();
        put_bytes(&mut wire, 4, b"x"); // int32 field as bytes
        assert!(decode_message(&rt(&ALL), &wire).is_err());
        let mut inner = Vec::new();
        put_int(&mut inner, 1, 5);
        let mut wire = Vec::new();
        put_bytes(&mut wire, 13, &inner);
        assert_eq!(
            decode_message(&rt(&ALL), &wire).unwrap_err().to_string(),
            "child.s: wrong wire type 0"
        );
    }

    #[test]
    fn envelope_errors() {
        assert_eq!(decode(b"", &lookup).unwrap_err(), ProtoError::Empty);
        assert_eq!(decode(b"k8s\0", &lookup).unwrap_err(), ProtoError::Empty);
        assert_eq!(
            decode(b"{\"kind\":1}", &lookup).unwrap_err(),
            ProtoError::MissingPrefix
        );
        assert_eq!(
            decode(b"k8s", &lookup).unwrap_err(),
            ProtoError::MissingPrefix
        );
        let other = wrap("v1", "Secret", b"");
        assert_eq!(
            decode(&other, &lookup).unwrap_err(),
            ProtoError::UnknownType {
                api_version: "v1".into(),
                kind: "Secret".into()
            }
        );
        let unk = decode_envelope(&other).unwrap();
        assert_eq!(unk.type_meta.kind, "Secret");
        assert_eq!(unk.raw, b"");
    }

    #[test]
    fn status_and_delete_options() {
        let status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "configmaps \"x\" not found",
            "reason": "NotFound",
            "details": {"name": "x", "kind": "configmaps", "causes": [{"reason": "FieldValueInvalid", "field": "a"}]},
            "code": 404,
        });
        let bytes = encode("v1", "Status", &rt(&STATUS), &status).unwrap();
        let (_, back) = decode(&bytes, &|_, k| (k == "Status").then(|| rt(&STATUS))).unwrap();
        assert_eq!(back, status);
        let opts = json!({"gracePeriodSeconds": 0, "preconditions": {"uid": "u"}, "propagationPolicy": "Background", "dryRun": ["All"]});
        let bytes = encode_message(&rt(&DELETE_OPTIONS), &opts).unwrap();
        // gracePeriodSeconds 0 is written, but reads back as Go's JSON shows it: omitted.
        let back = decode_message(&rt(&DELETE_OPTIONS), &bytes).unwrap();
        assert_eq!(
            back,
            json!({"preconditions": {"uid": "u"}, "propagationPolicy": "Background", "dryRun": ["All"]})
        );
    }

    #[test]
    fn lists() {
        let list = json!({
            "metadata": {"resourceVersion": "12", "continue": "tok", "remainingItemCount": 3},
            "items": [
                {"metadata": {"name": "a", "namespace": "default"}, "data": {"k": "v"}},
                {"metadata": {"name": "b", "namespace": "default"}},
            ],
        });
        let bytes = encode_list("v1", "ConfigMapList", &rt(&CONFIG_MAP), &list).unwrap();
        let unk = decode_envelope(&bytes).unwrap();
        assert_eq!(unk.type_meta.kind, "ConfigMapList");
        assert_eq!(decode_list(&rt(&CONFIG_MAP), unk.raw).unwrap(), list);
        let empty =
            encode_list_message(&rt(&CONFIG_MAP), &json!({"metadata": {}, "items": []})).unwrap();
        assert_eq!(empty, vec![0x0a, 0x00]);
        assert_eq!(
            decode_list(&rt(&CONFIG_MAP), &empty).unwrap(),
            json!({"metadata": {}, "items": []})
        );
    }

    #[test]
    fn encode_errors_name_the_field() {
        let err = encode_message(&rt(&ALL), &json!({"child": {"i32": "x"}})).unwrap_err();
        assert_eq!(err.to_string(), "child.i32: expected a 32-bit integer");
        let err = encode_message(&rt(&ALL), &json!({"i32": 1_i64 << 40})).unwrap_err();
        assert_eq!(err.to_string(), "i32: expected a 32-bit integer");
        let err = encode_message(&rt(&ALL), &json!({"blobs": {"k": "not base64!"}})).unwrap_err();
        assert!(
            err.to_string().starts_with("blobs[k]: invalid base64"),
            "{err}"
        );
        let err =
            encode_message(&rt(&ALL), &json!({"children": [{}, {"t": "yesterday"}]})).unwrap_err();
        assert_eq!(err.to_string(), "children[1].t: invalid time \"yesterday\"");
        assert!(encode_message(&rt(&ALL), &json!([1])).is_err());
        assert!(encode_message(&rt(&ALL), &json!({"strings": "a"})).is_err());
        // Unknown keys and nulls are ignored.
        assert_eq!(
            encode_message(&rt(&ALL), &json!({"zzz": 1, "s": null})).unwrap(),
            Vec::<u8>::new()
        );
    }

    /// A message that nests itself, to check depth limits.
    static DEEP: Message = Message {
        name: "test.Deep",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[Field::new("d", 1, Type::Message(&DEEP))],
    };

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut wire = Vec::new();
        for _ in 0..10_000 {
            let mut outer = Vec::new();
            put_bytes(&mut outer, 1, &wire);
            wire = outer;
        }
        assert!(matches!(
            decode_message(&rt(&DEEP), &wire),
            Err(ProtoError::At {
                problem: Problem::TooDeep,
                ..
            })
        ));
        // Nested groups in unknown fields too.
        let mut wire = Vec::new();
        for _ in 0..10_000 {
            put_key(&mut wire, 5, WT_START_GROUP);
        }
        assert!(decode_message(&rt(&DEEP), &wire).is_err());
        let mut v = json!({});
        for _ in 0..200 {
            v = json!({ "d": v });
        }
        assert!(encode_message(&rt(&DEEP), &v).is_err());
    }

    /// xorshift64*: deterministic pseudo-random bytes.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    fn try_everything(bytes: &[u8]) {
        let _ = decode(bytes, &lookup);
        let _ = decode_message(&rt(&ALL), bytes);
        let _ = decode_message(&rt(&CONFIG_MAP), bytes);
        let _ = decode_message(&rt(&STATUS), bytes);
        let _ = decode_list(&rt(&CONFIG_MAP), bytes);
        let _ = decode_message(&rt(&DEEP), bytes);
    }

    #[test]
    fn truncated_input_never_panics() {
        let full = encode_message(&rt(&ALL), &full_value()).unwrap();
        for n in 0..full.len() {
            try_everything(&full[..n]);
        }
        let envelope = kubectl_configmap();
        for n in 0..envelope.len() {
            let r = decode(&envelope[..n], &lookup);
            // Only cuts between the envelope's fields leave valid protobuf.
            let boundary = [21, 50, 52].contains(&n);
            assert_eq!(r.is_ok(), boundary, "prefix of {n} bytes");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let valid = encode_message(&rt(&ALL), &full_value()).unwrap();
        for round in 0..20_000 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                let len = (rng.next() % 64) as usize;
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                // Valid input with a few bytes changed.
                let mut b = valid.clone();
                for _ in 0..1 + rng.next() % 4 {
                    let i = (rng.next() as usize) % b.len();
                    b[i] = rng.next() as u8;
                }
                b
            };
            try_everything(&bytes);
            let mut prefixed = MAGIC.to_vec();
            prefixed.extend(&bytes);
            try_everything(&prefixed);
        }
    }
}
