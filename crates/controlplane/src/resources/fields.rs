//! Reading fields of JSON objects in strategies, with Go's zero values for what is absent.

use serde_json::Value;

/// The array at `field`, or an empty one.
pub fn array<'a>(obj: &'a Value, field: &str) -> &'a [Value] {
    obj.get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The string at `field`, or `""`.
pub fn str_of<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get(field).and_then(Value::as_str).unwrap_or("")
}
