//! scheduling.k8s.io/v1 (`k8s.io/api/scheduling/v1`).

use apimachinery::schema::{Field, Message, Type};
use apimachinery::types::OBJECT_META;

/// `PriorityClass`: a name for a pod priority value.
pub static PRIORITY_CLASS: Message = Message {
    name: "io.k8s.api.scheduling.v1.PriorityClass",
    description: "Maps a priority class name to the integer priority pods of that class receive.",
    gvk: Some(("scheduling.k8s.io", "v1", "PriorityClass")),
    fields: &[
        Field::new("metadata", 1, Type::Message(&OBJECT_META)).doc("Standard object metadata."),
        // Go writes `value` even when 0 (no `omitempty`); upstream's OpenAPI does not list it
        // as required.
        Field::new("value", 2, Type::Int32)
            .doc("The priority pods of this class receive; higher is more important.")
            .emit_zero(),
        Field::new("globalDefault", 3, Type::Bool).doc(
            "Whether pods without a priority class get this one. At most one class may set it.",
        ),
        Field::new("description", 4, Type::String).doc("Free text saying when to use this class."),
        Field::new("preemptionPolicy", 5, Type::String)
            .doc("`Never` or `PreemptLowerPriority` (the default)."),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::protobuf;
    use serde_json::json;

    #[test]
    fn zero_value_is_kept() {
        // value 0 and globalDefault false, as Go writes them.
        let raw = [
            0x0a, 0x04, 0x0a, 0x02, b'p', b'c', 0x10, 0x00, 0x18, 0x00, 0x22, 0x00,
        ];
        assert_eq!(
            protobuf::decode_message(&PRIORITY_CLASS, &raw).unwrap(),
            json!({"metadata": {"name": "pc"}, "value": 0})
        );
    }
}
