//! JSON patch (RFC 6902) with upstream's bounds: at most [`MAX_OPERATIONS`] operations
//! (the apiserver's `maxJSONPatchOperations`), and a limit on the bytes `copy` operations
//! may add in total (json-patch's `AccumulatedCopySizeLimit`, which the apiserver sets from
//! `JSONPatchMaxCopyBytes`). A patch of a few `copy` operations that each double the
//! object thus fails after a few megabytes instead of growing it to gigabytes.

use std::io;

use json_patch::PatchOperation;
use serde_json::Value;

use crate::errors::ApiError;

/// Most operations one JSON patch may hold (upstream's `maxJSONPatchOperations`).
pub const MAX_OPERATIONS: usize = 10_000;

/// Why a JSON patch was not applied.
#[derive(Debug, thiserror::Error)]
pub enum JsonPatchError {
    /// The body is not a list of operations.
    #[error("{0}")]
    Decode(String),
    /// More operations than [`MAX_OPERATIONS`].
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations { max: usize, got: usize },
    /// The `copy` operations together would add more than the limit.
    #[error("Unable to complete the copy, the accumulated size increase of copy is {accumulated}, exceeding the limit {limit}")]
    CopyTooLarge { accumulated: u64, limit: u64 },
    /// An operation failed (a `test` that did not match, a path that does not exist).
    #[error(transparent)]
    Operation(#[from] json_patch::PatchError),
}

impl JsonPatchError {
    /// The error as upstream's patch handler answers it: 400 for a body that is no patch,
    /// 413 for too many operations, 422 for a patch that cannot be applied.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            JsonPatchError::Decode(m) => ApiError::bad_request(m),
            JsonPatchError::TooManyOperations { .. } => {
                ApiError::request_entity_too_large(&self.to_string())
            }
            JsonPatchError::CopyTooLarge { .. } | JsonPatchError::Operation(_) => {
                ApiError::unprocessable(&format!(
                    "the server rejected our request due to an error in our request: {self}"
                ))
            }
        }
    }
}

/// Decodes a JSON patch from its JSON form, refusing more than [`MAX_OPERATIONS`].
pub fn decode(patch: &Value) -> Result<Vec<PatchOperation>, JsonPatchError> {
    let got = patch.as_array().map_or(0, Vec::len);
    if got > MAX_OPERATIONS {
        return Err(JsonPatchError::TooManyOperations {
            max: MAX_OPERATIONS,
            got,
        });
    }
    serde_json::from_value(patch.clone())
        .map_err(|e| JsonPatchError::Decode(format!("error decoding patch: {e}")))
}

/// Applies `ops` to `doc` in order; `copy` operations may add at most `max_copy_bytes`
/// (their values' JSON size) in total. On error `doc` may be partly patched.
pub fn apply(
    doc: &mut Value,
    ops: &[PatchOperation],
    max_copy_bytes: u64,
) -> Result<(), JsonPatchError> {
    let mut copied = 0u64;
    for op in ops {
        if let PatchOperation::Copy(copy) = op {
            if let Some(value) = doc.pointer(copy.from.as_str()) {
                copied = copied.saturating_add(json_size(value));
                if copied > max_copy_bytes {
                    return Err(JsonPatchError::CopyTooLarge {
                        accumulated: copied,
                        limit: max_copy_bytes,
                    });
                }
            }
        }
        json_patch::patch_unsafe(doc, std::slice::from_ref(op))?;
    }
    Ok(())
}

/// Deepest nesting a patched object may have: the depth up to which serde_json reads
/// JSON back, so that an object stored after a patch can always be read again. Request
/// bodies cannot exceed it; `add` and `copy` operations could.
pub const MAX_DEPTH: usize = 128;

/// How deeply `value` nests objects and arrays (a scalar is 0, `{}` is 1), counted without
/// recursion and giving up past `limit` (returning `limit + 1`).
pub fn nesting_depth(value: &Value, limit: usize) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Object(m) => Box::new(m.values()),
            Value::Array(a) => Box::new(a.iter()),
            _ => continue,
        };
        let depth = depth + 1;
        if depth > limit {
            return limit + 1;
        }
        deepest = deepest.max(depth);
        stack.extend(children.map(|c| (c, depth)));
    }
    deepest
}

/// The size of `value` as compact JSON, counted without building it.
fn json_size(value: &Value) -> u64 {
    struct Counter(u64);
    impl io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn too_many_operations_is_413() {
        let ops: Vec<Value> = (0..=MAX_OPERATIONS)
            .map(|_| json!({"op": "test", "path": "", "value": {}}))
            .collect();
        let e = decode(&Value::Array(ops)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The allowed maximum operations in a JSON patch is 10000, got 10001"
        );
        assert_eq!(e.to_api_error().code, 413);
        assert_eq!(e.to_api_error().reason, "RequestEntityTooLarge");
    }

    #[test]
    fn doubling_copies_stop_at_the_limit() {
        let mut doc = json!({"a": "x".repeat(1000)});
        let mut ops = vec![json!({"op": "add", "path": "/b", "value": ["y"]})];
        for _ in 0..22 {
            ops.push(json!({"op": "copy", "from": "/a", "path": "/c"}));
            ops.push(json!({"op": "copy", "from": "", "path": "/a"}));
        }
        let ops = decode(&Value::Array(ops)).unwrap();
        let e = apply(&mut doc, &ops, 1 << 20).unwrap_err();
        assert!(matches!(e, JsonPatchError::CopyTooLarge { limit, .. } if limit == 1 << 20));
        assert!(e
            .to_string()
            .starts_with("Unable to complete the copy, the accumulated size increase of copy is "));
        assert_eq!(e.to_api_error().code, 422);
        // The document never grew much past the limit.
        assert!(json_size(&doc) < 4 << 20);
    }

    #[test]
    fn nesting_depth_is_counted_and_bounded() {
        assert_eq!(nesting_depth(&json!("x"), 10), 0);
        assert_eq!(nesting_depth(&json!({"a": [1, {"b": {}}], "c": 2}), 10), 4);
        let mut deep = json!({});
        for _ in 0..500 {
            deep = json!({ "a": deep });
        }
        assert_eq!(nesting_depth(&deep, MAX_DEPTH), MAX_DEPTH + 1);
    }

    #[test]
    fn ordinary_patches_apply() {
        let mut doc = json!({"a": 1, "l": [1, 2]});
        let ops = decode(&json!([
            {"op": "copy", "from": "/a", "path": "/b"},
            {"op": "add", "path": "/l/-", "value": 3},
            {"op": "test", "path": "/b", "value": 1},
        ]))
        .unwrap();
        apply(&mut doc, &ops, 10).unwrap();
        assert_eq!(doc, json!({"a": 1, "b": 1, "l": [1, 2, 3]}));
        let ops = decode(&json!([{"op": "test", "path": "/a", "value": 2}])).unwrap();
        assert_eq!(
            apply(&mut doc, &ops, 10).unwrap_err().to_api_error().code,
            422
        );
        assert_eq!(
            decode(&json!({"op": "add"}))
                .unwrap_err()
                .to_api_error()
                .code,
            400
        );
    }
}
