//! Objects read through their shape: the field set an object has, the comparison of two
//! objects, the merge of an applied configuration into a live object, and the removal of a
//! set's items. Each follows structured-merge-diff's walkers (`typed` package).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::path::{Path, PathElement};
use crate::set::Set;
use crate::shape::{ListKind, Shape};

/// What changed between two objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub added: Set,
    pub modified: Set,
    pub removed: Set,
}

impl Comparison {
    /// Whether nothing changed.
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    /// The comparison with every path outside `keep` dropped (see [`Filter`]).
    pub fn filtered(self, filter: &Filter) -> Comparison {
        Comparison {
            added: filter.apply(&self.added),
            modified: filter.apply(&self.modified),
            removed: filter.apply(&self.removed),
        }
    }
}

/// Which paths a manager may own through one endpoint (upstream's reset fields): all but
/// some subtrees, or only some subtrees.
#[derive(Debug, Clone, Default)]
pub enum Filter {
    #[default]
    All,
    /// Everything except at or below these members.
    Exclude(Set),
}

impl Filter {
    pub fn apply(&self, set: &Set) -> Set {
        match self {
            Filter::All => set.clone(),
            Filter::Exclude(prefixes) => set.recursive_difference(prefixes),
        }
    }
}

/// The path element of a list item, per the list's kind (`None` for atomic lists).
pub fn item_element(kind: &ListKind, item: &Value, index: usize) -> Option<PathElement> {
    match kind {
        ListKind::Atomic => None,
        ListKind::Set => Some(PathElement::Value(item.clone())),
        ListKind::Map(keys) => {
            let Value::Object(map) = item else {
                return Some(PathElement::Index(index as i64));
            };
            let fields: Vec<(String, Value)> = keys
                .iter()
                .filter_map(|k| {
                    map.get(k)
                        .cloned()
                        .or_else(|| key_default(k))
                        .map(|v| (k.clone(), v))
                })
                .collect();
            Some(PathElement::key(fields))
        }
    }
}

/// The default of a key field an item may omit, as the schema declares it: the built-in
/// keyed lists with such a key are the port lists, whose `protocol` defaults to `TCP`.
fn key_default(key: &str) -> Option<Value> {
    (key == "protocol").then(|| Value::String("TCP".into()))
}

fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.is_empty())
}

/// The map-like view of a shape: `None` when it is a leaf for this value.
fn granular_map<'a>(shape: &Shape, v: &'a Value) -> Option<&'a Map<String, Value>> {
    match shape {
        Shape::Struct { atomic: false, .. } | Shape::Map { atomic: false, .. } | Shape::Deduced => {
            v.as_object()
        }
        _ => None,
    }
}

/// The fields an object has (upstream's `ToFieldSet`): scalars and atomic nodes are
/// leaves, list items are members with their contents, a map's keys are members, a struct's
/// fields are members only when they are leaves (or empty).
pub fn field_set(shape: &Shape, value: &Value) -> Set {
    let mut set = Set::new();
    let mut path = Vec::new();
    walk_field_set(shape, value, &mut path, &mut set);
    set
}

fn walk_field_set(shape: &Shape, value: &Value, path: &mut Vec<PathElement>, set: &mut Set) {
    if let Some(map) = granular_map(shape, value) {
        for (k, v) in map {
            path.push(PathElement::Field(k.clone()));
            let child = shape.child(k);
            walk_field_set(&child, v, path, set);
            if v.is_null() || is_empty_object(v) || !shape.declares(k) {
                set.insert(path);
            }
            path.pop();
        }
        return;
    }
    match (shape, value) {
        (Shape::List { item, kind }, Value::Array(items)) if *kind != ListKind::Atomic => {
            let pes: Vec<Option<PathElement>> = items
                .iter()
                .enumerate()
                .map(|(i, v)| item_element(kind, v, i))
                .collect();
            let mut counts: HashMap<String, usize> = HashMap::new();
            for pe in pes.iter().flatten() {
                *counts.entry(pe.serialize()).or_default() += 1;
            }
            let mut duplicates_done = std::collections::HashSet::new();
            for (v, pe) in items.iter().zip(pes) {
                let Some(pe) = pe else { continue };
                let key = pe.serialize();
                path.push(pe);
                if counts.get(&key).copied().unwrap_or(0) > 1 {
                    // Duplicated items are owned as a whole.
                    if duplicates_done.insert(key) {
                        set.insert(path);
                    }
                } else {
                    walk_field_set(item, v, path, set);
                    set.insert(path);
                }
                path.pop();
            }
        }
        _ => set.insert(path),
    }
}

/// Compares `old` with `new` (upstream's `Compare`): leaves added, modified and removed,
/// and the nodes that appear or disappear with their contents.
pub fn compare(shape: &Shape, old: Option<&Value>, new: Option<&Value>) -> Comparison {
    let mut cmp = Comparison::default();
    let mut path = Vec::new();
    walk_compare(shape, old, new, &mut path, &mut cmp);
    cmp
}

fn walk_compare(
    shape: &Shape,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    path: &mut Vec<PathElement>,
    cmp: &mut Comparison,
) {
    let leaf = |cmp: &mut Comparison, path: &[PathElement]| match (lhs, rhs) {
        (None, _) => cmp.added.insert(path),
        (_, None) => cmp.removed.insert(path),
        (Some(l), Some(r)) if l != r => cmp.modified.insert(path),
        _ => {}
    };
    let is_leaf = match shape {
        Shape::Scalar => true,
        Shape::Struct { atomic, .. } | Shape::Map { atomic, .. } => {
            let empty = |v: Option<&Value>| v.and_then(Value::as_object).is_none_or(Map::is_empty);
            *atomic || (empty(lhs) && empty(rhs))
        }
        Shape::List { kind, .. } => {
            let empty = |v: Option<&Value>| v.and_then(Value::as_array).is_none_or(Vec::is_empty);
            *kind == ListKind::Atomic || (empty(lhs) && empty(rhs))
        }
        Shape::Deduced => {
            let obj = |v: Option<&Value>| v.is_none_or(|v| v.is_object());
            let empty = |v: Option<&Value>| v.and_then(Value::as_object).is_none_or(Map::is_empty);
            !(obj(lhs) && obj(rhs)) || (empty(lhs) && empty(rhs))
        }
    };
    if is_leaf {
        leaf(cmp, path);
        return;
    }
    match shape {
        Shape::List { item, kind } => compare_lists(item, kind, lhs, rhs, path, cmp),
        _ => {
            let empty = Map::new();
            let l = lhs.and_then(Value::as_object).unwrap_or(&empty);
            let r = rhs.and_then(Value::as_object).unwrap_or(&empty);
            for (k, lv) in l {
                path.push(PathElement::Field(k.clone()));
                walk_compare(&shape.child(k), Some(lv), r.get(k), path, cmp);
                path.pop();
            }
            for (k, rv) in r {
                if l.contains_key(k) {
                    continue;
                }
                path.push(PathElement::Field(k.clone()));
                walk_compare(&shape.child(k), None, Some(rv), path, cmp);
                path.pop();
            }
        }
    }
    if lhs.is_none() {
        cmp.added.insert(path);
    } else if rhs.is_none() {
        cmp.removed.insert(path);
    }
}

/// Items of a list grouped by path element, in first-seen order.
fn index_items<'a>(kind: &ListKind, list: Option<&'a Value>) -> Vec<(PathElement, Vec<&'a Value>)> {
    let mut out: Vec<(PathElement, Vec<&'a Value>)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, v) in list
        .and_then(Value::as_array)
        .map(|a| a.iter().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let Some(pe) = item_element(kind, v, i) else {
            continue;
        };
        let key = pe.serialize();
        match at.get(&key) {
            Some(&j) => out[j].1.push(v),
            None => {
                at.insert(key, out.len());
                out.push((pe, vec![v]));
            }
        }
    }
    out
}

fn compare_lists(
    item: &Shape,
    kind: &ListKind,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    path: &mut Vec<PathElement>,
    cmp: &mut Comparison,
) {
    let l = index_items(kind, lhs);
    let r = index_items(kind, rhs);
    let find = |items: &[(PathElement, Vec<&Value>)], pe: &PathElement| -> Vec<Value> {
        items
            .iter()
            .find(|(p, _)| p == pe)
            .map(|(_, v)| v.iter().map(|v| (*v).clone()).collect())
            .unwrap_or_default()
    };
    let mut all: Vec<PathElement> = l.iter().map(|(p, _)| p.clone()).collect();
    for (p, _) in &r {
        if !all.contains(p) {
            all.push(p.clone());
        }
    }
    for pe in all {
        let (lv, rv) = (find(&l, &pe), find(&r, &pe));
        path.push(pe);
        match (lv.len(), rv.len()) {
            (0, 0) => {}
            (a, b) if a <= 1 && b <= 1 => walk_compare(item, lv.first(), rv.first(), path, cmp),
            (a, b) if a >= 2 && b >= 2 => {
                if lv != rv {
                    cmp.modified.insert(path);
                }
            }
            (a, _) if a >= 2 => {
                if let Some(r0) = rv.first() {
                    walk_compare(item, None, Some(r0), path, cmp);
                }
                cmp.removed.insert(path);
            }
            _ => {
                if let Some(l0) = lv.first() {
                    walk_compare(item, Some(l0), None, path, cmp);
                }
                cmp.added.insert(path);
            }
        }
        path.pop();
    }
}

/// Merges an applied configuration into the live object (upstream's `Merge`): the
/// configuration's values win; granular structs and maps merge by key, sets and keyed lists
/// by item (keeping the live order where the configuration does not reorder); atomic nodes
/// are replaced. A `null` in the configuration removes the field.
pub fn merge(shape: &Shape, live: Option<&Value>, config: &Value) -> Value {
    if let (Some(c), true) = (
        granular_map(shape, config),
        !matches!(shape, Shape::Deduced) || live.is_none_or(|l| l.is_object()),
    ) {
        let mut out = live.and_then(Value::as_object).cloned().unwrap_or_default();
        for (k, cv) in c {
            if cv.is_null() {
                out.remove(k);
                continue;
            }
            let merged = merge(&shape.child(k), out.get(k), cv);
            out.insert(k.clone(), merged);
        }
        return Value::Object(out);
    }
    match (shape, config) {
        (Shape::List { item, kind }, Value::Array(_)) if *kind != ListKind::Atomic => {
            Value::Array(merge_lists(item, kind, live, config))
        }
        _ => config.clone(),
    }
}

fn merge_lists(item: &Shape, kind: &ListKind, live: Option<&Value>, config: &Value) -> Vec<Value> {
    let l = index_items(kind, live.filter(|v| v.is_array()));
    let r = index_items(kind, Some(config));
    let in_r = |pe: &PathElement| r.iter().any(|(p, _)| p == pe);
    let in_l = |pe: &PathElement| l.iter().position(|(p, _)| p == pe);
    // The items both lists have, in the configuration's order.
    let mut shared: std::collections::VecDeque<PathElement> = r
        .iter()
        .filter(|(p, _)| in_l(p).is_some())
        .map(|(p, _)| p.clone())
        .collect();
    let mut next_shared = shared.pop_front();
    let mut merged_r: Vec<PathElement> = Vec::new();
    let mut out = Vec::new();
    let merge_item = |pe: &PathElement| -> Value {
        let lv = in_l(pe).and_then(|i| l[i].1.first().copied());
        let rv = r
            .iter()
            .find(|(p, _)| p == pe)
            .and_then(|(_, v)| v.first().copied());
        match rv {
            Some(rv) => merge(item, lv, rv),
            None => lv.cloned().unwrap_or(Value::Null),
        }
    };
    let (mut li, mut ri) = (0, 0);
    while li < l.len() || ri < r.len() {
        if li < l.len() && ri < r.len() {
            let pe = &l[li].0;
            if *pe == r[ri].0 {
                merged_r.push(pe.clone());
                out.push(merge_item(pe));
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if in_r(pe) && next_shared.as_ref().is_some_and(|n| n != pe) {
                // It comes later in the configuration: placed when the configuration reaches it.
                li += 1;
                continue;
            }
        }
        if li < l.len() {
            let pe = &l[li].0;
            if !in_r(pe) {
                out.push(l[li].1[0].clone());
                li += 1;
                continue;
            } else if merged_r.contains(pe) {
                li += 1;
            }
        }
        if ri < r.len() {
            let pe = r[ri].0.clone();
            out.push(merge_item(&pe));
            ri += 1;
            if next_shared.as_ref() == Some(&pe) {
                next_shared = shared.pop_front();
            }
            merged_r.push(pe);
        }
    }
    out
}

/// Removes every item of `value` that is a member of `set` (upstream's `RemoveItems`).
/// Maps and lists emptied by the removal are dropped, as Go's `omitempty` drops them.
pub fn remove_items(shape: &Shape, value: &mut Value, set: &Set) {
    if set.is_empty() {
        return;
    }
    match shape {
        Shape::Struct { atomic: false, .. } | Shape::Map { atomic: false, .. } | Shape::Deduced => {
            let Value::Object(map) = value else { return };
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let pe = PathElement::Field(k.clone());
                if set.members.contains(&pe) {
                    map.remove(&k);
                } else if let Some(child_set) = set.children.get(&pe) {
                    let child = shape.child(&k);
                    if let Some(v) = map.get_mut(&k) {
                        let before_empty = is_empty_container(v);
                        remove_items(&child, v, child_set);
                        let droppable = matches!(child, Shape::Map { .. } | Shape::List { .. });
                        if droppable && !before_empty && is_empty_container(v) {
                            map.remove(&k);
                        }
                    }
                }
            }
        }
        Shape::List { item, kind } if *kind != ListKind::Atomic => {
            let Value::Array(items) = value else { return };
            let old = std::mem::take(items);
            for (i, mut v) in old.into_iter().enumerate() {
                match item_element(kind, &v, i) {
                    Some(pe) if set.members.contains(&pe) => {}
                    Some(pe) => {
                        if let Some(child_set) = set.children.get(&pe) {
                            remove_items(item, &mut v, child_set);
                        }
                        items.push(v);
                    }
                    None => items.push(v),
                }
            }
        }
        _ => {}
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The set with every declared struct field that has children also a member (upstream's
/// `EnsureNamedFieldsAreMembers`): owning `.spec.replicas` then also owns `.spec`.
pub fn ensure_named_fields_are_members(shape: &Shape, set: &Set) -> Set {
    let mut out = Set {
        members: set.members.clone(),
        children: Default::default(),
    };
    for (pe, child) in &set.children {
        let child_shape = match pe {
            PathElement::Field(name) => {
                if matches!(shape, Shape::Struct { .. }) && shape.declares(name) {
                    out.members.insert(pe.clone());
                }
                shape.child(name)
            }
            _ => match shape {
                Shape::List { item, .. } => (**item).clone(),
                _ => Shape::Deduced,
            },
        };
        out.children.insert(
            pe.clone(),
            ensure_named_fields_are_members(&child_shape, child),
        );
    }
    out
}

/// A path as a slice, for the set's methods.
pub fn path_slice(p: &Path) -> &[PathElement] {
    &p.0
}
