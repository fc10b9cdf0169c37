//! Resource lists as quota arithmetic sees them (upstream's `quota/v1/resources.go`): sums,
//! differences, masks and comparisons over `{name: quantity}`, and their printing in
//! messages and in `status.used`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::limit_ranger::constraints::Milli;

/// A resource list: quantities by resource name, sorted by name.
pub type Usage = BTreeMap<String, Milli>;

/// A whole count (`pods=1`), printed as a decimal number.
pub fn count(n: i128) -> Milli {
    Milli {
        milli: n * 1000,
        binary: false,
    }
}

/// The resource list at `pointer` of `obj` (`status.hard`, `spec.hard`); absent or
/// unreadable entries are left out.
pub fn read(obj: &Value, pointer: &str) -> Usage {
    crate::limit_ranger::constraints::list_at(obj, pointer)
}

/// The list as JSON, each quantity in canonical form (as upstream serializes them).
pub fn to_json(u: &Usage) -> Value {
    Value::Object(
        u.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.canonical())))
            .collect::<Map<_, _>>(),
    )
}

/// `Quantity.Add`: the sum keeps the left side's format unless the left side is zero.
fn add_one(a: Milli, b: Milli) -> Milli {
    Milli {
        milli: a.milli + b.milli,
        binary: if a.milli == 0 { b.binary } else { a.binary },
    }
}

/// `quota.Add`: every name of either list, summed where both have it.
pub fn add(a: &Usage, b: &Usage) -> Usage {
    let mut out = a.clone();
    for (k, v) in b {
        out.entry(k.clone())
            .and_modify(|q| *q = add_one(*q, *v))
            .or_insert(*v);
    }
    out
}

/// `quota.SubtractWithNonNegativeResult`: `a - b` per name of `a` (names only in `b` are
/// ignored), never below zero.
pub fn subtract_non_negative(a: &Usage, b: &Usage) -> Usage {
    a.iter()
        .map(|(k, v)| {
            let milli = match b.get(k) {
                Some(o) => (v.milli - o.milli).max(0),
                None => v.milli,
            };
            (
                k.clone(),
                Milli {
                    milli,
                    binary: v.binary,
                },
            )
        })
        .collect()
}

/// `quota.Mask`: the entries of `u` whose names are in `names`.
pub fn mask<'a>(u: &Usage, names: impl IntoIterator<Item = &'a String>) -> Usage {
    let names: BTreeSet<&String> = names.into_iter().collect();
    u.iter()
        .filter(|(k, _)| names.contains(k))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// `quota.RemoveZeros`.
pub fn remove_zeros(u: &Usage) -> Usage {
    u.iter()
        .filter(|(_, v)| v.milli != 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// `quota.Equals`: the same names with equal quantities (formats aside).
pub fn equals(a: &Usage, b: &Usage) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|o| o.milli == v.milli))
}

/// `quota.LessThanOrEqual`: whether every name of `a` that `b` limits is within it, and the
/// names that are not (sorted).
pub fn exceeded(a: &Usage, b: &Usage) -> Vec<String> {
    a.iter()
        .filter(|(k, v)| b.get(*k).is_some_and(|limit| v.milli > limit.milli))
        .map(|(k, _)| k.clone())
        .collect()
}

/// The names of the entries with a negative quantity.
pub fn negative(u: &Usage) -> Vec<String> {
    u.iter()
        .filter(|(_, v)| v.milli < 0)
        .map(|(k, _)| k.clone())
        .collect()
}

/// Upstream's `prettyPrint`: `name=quantity` sorted by name, joined by commas.
pub fn pretty(u: &Usage) -> String {
    u.iter()
        .map(|(k, v)| format!("{k}={}", v.canonical()))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(v: Value) -> Usage {
        read(&json!({ "l": v }), "/l")
    }

    #[test]
    fn sums_keep_the_first_format() {
        let a = list(json!({"requests.memory": "0", "pods": "1"}));
        let b = list(json!({"requests.memory": "1Gi", "pods": 2}));
        let sum = add(&a, &b);
        assert_eq!(pretty(&sum), "pods=3,requests.memory=1Gi");
        let c = list(json!({"requests.memory": "512Mi"}));
        assert_eq!(pretty(&add(&sum, &c)), "pods=3,requests.memory=1536Mi");
        assert_eq!(to_json(&c), json!({"requests.memory": "512Mi"}));
    }

    #[test]
    fn differences_masks_and_comparisons() {
        let new = list(json!({"cpu": "500m", "pods": 1}));
        let old = list(json!({"cpu": "1", "pods": 1}));
        let delta = subtract_non_negative(&new, &old);
        assert_eq!(pretty(&delta), "cpu=0,pods=0");
        assert!(remove_zeros(&delta).is_empty());
        let names = vec!["cpu".to_string()];
        assert_eq!(pretty(&mask(&new, &names)), "cpu=500m");
        let hard = list(json!({"cpu": "400m", "pods": 5}));
        assert_eq!(exceeded(&new, &hard), vec!["cpu".to_string()]);
        assert!(equals(
            &list(json!({"cpu": "1"})),
            &list(json!({"cpu": "1000m"}))
        ));
        assert_eq!(
            negative(&list(json!({"cpu": "-1", "pods": 1}))),
            vec!["cpu"]
        );
    }
}
