//! Strategic merge patch (`application/strategic-merge-patch+json`), applied as upstream's
//! apiserver applies it (`StrategicMergeMapPatch` with parallel lists merged and unmatched
//! nulls ignored), with every list's merge behaviour taken from the type declarations
//! ([`ListMerge`]), never from the kind.
//!
//! - Objects merge key by key; `null` removes a key.
//! - A list whose `patch_strategy` contains `merge` merges: lists of objects element by
//!   element on the `patch_merge_key`, lists of primitives as sets. Every other list is
//!   replaced, as is an object field whose strategy is `replace`.
//! - Merged lists are ordered as upstream orders them: the patch's elements in the order
//!   the patch (or its `$setElementOrder/<list>`) gives, interleaved with the elements only
//!   the original has, in their original order. An original-only element goes before a
//!   patch element only if the original had both and had it first, so elements new to the
//!   list come before the original-only elements not yet placed: `["b"]` merged into
//!   `["a"]` gives `["b", "a"]`, as upstream's does.
//! - Directives: `$patch: replace | delete` in objects and in list elements (`merge` and any
//!   other value are refused), `$retainKeys`, `$deleteFromPrimitiveList/<list>` and
//!   `$setElementOrder/<list>`. Other keys starting with `$` are ordinary keys (the type
//!   decoding that follows drops them from messages, as upstream's does).
//! - Where nothing is declared (free-form `RawJson` fields, fields the message does not
//!   declare) the patch merges as a JSON merge patch (RFC 7386) does.
//!
//! One deliberate difference: a patch value with no counterpart in the original (a new key,
//! or a value of another JSON type) is applied to an empty value rather than stored as sent,
//! so its directives are consumed and its `null`s dropped. Upstream stores such values
//! verbatim, which leaves `$patch` keys in maps and turns `{"labels":{"x":null}}` on an
//! object without labels into a label `x: ""` (kubernetes/kubernetes#105689).
//!
//! Errors carry upstream's messages and map onto upstream's statuses through
//! [`PatchError::to_api_error`]: malformed directive lists are 400, lists of lists 422, and
//! everything upstream reports as a plain Go error (unknown `$patch` values, missing merge
//! keys, `$setElementOrder` lists that contradict the patch) 500 with an empty reason.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::fieldvalidation::go_sprint;
use crate::gofmt::json_kind;
use crate::schema::{ListMerge, Message, Type};

/// `$patch`: replace, delete (or merge) the object or list it appears in.
const DIRECTIVE: &str = "$patch";
/// `$retainKeys`: the keys of the original object that survive the patch.
const RETAIN_KEYS: &str = "$retainKeys";
/// `$deleteFromPrimitiveList/<list>`: values to remove from a merged primitive list.
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
/// `$setElementOrder/<list>`: the order of a merged list after the patch.
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Go's name for the type of `map[string]interface{}` values, as its errors print it.
const GO_MAP: &str = "map[string]interface {}";
/// Go's name for the type of `[]interface{}` values.
const GO_SLICE: &str = "[]interface {}";

/// Why a strategic merge patch could not be applied. Messages are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch body is JSON but not an object (its kind: `array`, `string`, ...).
    #[error("json: cannot unmarshal {0} into Go value of type map[string]interface {{}}")]
    NotAnObject(&'static str),
    /// A `$deleteFromPrimitiveList` key without `/<list>`.
    #[error("invalid patch format of primitive list")]
    BadPrimitiveListFormat,
    /// `$retainKeys` is not a list, or the patch sets a key it does not list.
    #[error("invalid patch format of retainKeys")]
    BadRetainKeysFormat,
    /// A `$setElementOrder` key without `/<list>`.
    #[error("invalid patch format of setElementOrder list")]
    BadSetElementOrderFormat,
    /// A merged list whose elements are lists.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// `$patch` with a value other than `replace` or `delete` in an object.
    #[error("unknown patch type: {directive} in map: {map}")]
    UnknownDirective { directive: String, map: String },
    /// `$patch: merge` as a list element.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// An element of a list merged by key lacks the key.
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey { map: String, key: String },
    /// A value of the wrong JSON type where the patch needs an object or a list.
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        expected: &'static str,
        actual: &'static str,
    },
    /// The patch's elements are not in the order `$setElementOrder` gives.
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n")]
    OrderMismatch { patch: String, order: String },
    /// A merged list mixes element types.
    #[error("list element types are not identical: {0}")]
    MixedElementTypes(String),
    /// An element of a `$setElementOrder` or patch list (at this index) is not an object.
    #[error("value for key {0} is not a map.")]
    NotAMap(usize),
    /// Objects in a merged list that declares no merge key (the element's Go kind).
    #[error("cannot merge lists without merge key for {0}")]
    NoMergeKeyDeclared(&'static str),
}

impl PatchError {
    /// The HTTP status upstream's apiserver answers with.
    pub fn code(&self) -> u16 {
        match self {
            PatchError::NotAnObject(_)
            | PatchError::BadPrimitiveListFormat
            | PatchError::BadRetainKeysFormat
            | PatchError::BadSetElementOrderFormat => 400,
            PatchError::ListOfLists => 422,
            _ => 500,
        }
    }

    /// The `Status` upstream sends: `BadRequest` for malformed directives, its generic 422
    /// for lists of lists, and for the rest the bare message with code 500 and no reason
    /// (upstream returns those as plain errors).
    pub fn to_api_error(&self) -> ApiError {
        let message = self.to_string();
        match self.code() {
            400 => ApiError::bad_request(&message),
            422 => ApiError::generic_server_response(422, "", "", "", "", &message, 0, false),
            code => ApiError::new(code, "", &message),
        }
    }
}

/// Applies `patch` to `original`, a `schema` object. A `null` patch changes nothing.
pub fn apply(original: &Value, patch: &Value, schema: &Message) -> Result<Value, PatchError> {
    let patch = match patch {
        Value::Object(p) => p.clone(),
        Value::Null => return Ok(original.clone()),
        other => return Err(PatchError::NotAnObject(json_kind(other))),
    };
    let original = match original {
        Value::Object(o) => o.clone(),
        other => {
            return Err(PatchError::BadArgType {
                expected: GO_MAP,
                actual: go_type(other),
            })
        }
    };
    merge_map(original, patch, Container::Message(schema)).map(Value::Object)
}

/// What an object is declared as, which says how its keys are looked up.
#[derive(Debug, Clone, Copy)]
enum Container<'s> {
    /// A message: keys are its declared fields.
    Message(&'s Message),
    /// A map: every value has this type.
    Map(&'s Type),
    /// Free-form or undeclared: JSON merge patch.
    Untyped,
}

impl<'s> Container<'s> {
    fn of(ty: Option<&'s Type>) -> Container<'s> {
        match ty {
            Some(Type::Message(m)) => Container::Message(m),
            Some(Type::Map(v)) => Container::Map(v),
            _ => Container::Untyped,
        }
    }

    /// The declaration of the value under `key`.
    fn slot(self, key: &str) -> Slot<'s> {
        match self {
            Container::Message(m) => match m.field(key) {
                Some(f) => Slot {
                    ty: Some(&f.ty),
                    merge: &f.merge,
                },
                None => Slot::UNDECLARED,
            },
            Container::Map(v) => Slot {
                ty: Some(v),
                merge: &NO_MERGE,
            },
            Container::Untyped => Slot::UNDECLARED,
        }
    }
}

/// A value's declaration: its type and list merge facts (`ty` is `None` when undeclared).
#[derive(Debug, Clone, Copy)]
struct Slot<'s> {
    ty: Option<&'s Type>,
    merge: &'s ListMerge,
}

/// The merge facts of an undeclared value.
static NO_MERGE: ListMerge = ListMerge {
    list_type: None,
    map_keys: Vec::new(),
    patch_strategy: None,
    patch_merge_key: None,
    map_type: None,
};

impl<'s> Slot<'s> {
    const UNDECLARED: Slot<'static> = Slot {
        ty: None,
        merge: &NO_MERGE,
    };

    fn has_strategy(&self, name: &str) -> bool {
        self.merge
            .patch_strategy
            .as_deref()
            .is_some_and(|s| s.split(',').any(|p| p.trim() == name))
    }

    /// The element type, for a declared list.
    fn element(&self) -> Option<&'s Type> {
        match self.ty {
            Some(Type::List(e)) => Some(e),
            _ => None,
        }
    }

    /// A declared list that merges (rather than being replaced).
    fn merging_list(&self) -> Option<&'s Type> {
        self.element().filter(|_| self.has_strategy("merge"))
    }

    /// The merge key, or `""` (as upstream passes "no key").
    fn merge_key(&self) -> &'s str {
        self.merge.patch_merge_key.as_deref().unwrap_or("")
    }
}

/// Merges `patch` into `original`, both objects declared as `container`.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    container: Container,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.shift_remove(DIRECTIVE);
                merge_map(Map::new(), patch, container)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(PatchError::UnknownDirective {
                directive: go_sprint_s(directive),
                map: go_sprint(&Value::Object(patch)),
            }),
        };
    }

    if let Some(retain) = patch.shift_remove(RETAIN_KEYS) {
        let Value::Array(retain) = retain else {
            return Err(PatchError::BadRetainKeysFormat);
        };
        let retain: HashSet<&str> = retain.iter().filter_map(Value::as_str).collect();
        let retained = |k: &str| retain.contains(k);
        for (k, v) in &patch {
            if v.is_null()
                || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
                || k.starts_with(SET_ELEMENT_ORDER)
            {
                continue;
            }
            if !retained(k) {
                return Err(PatchError::BadRetainKeysFormat);
            }
        }
        original.retain(|k, _| retained(k));
    }

    apply_element_orders(&mut original, &mut patch, container)?;

    for (key, patch_value) in patch {
        let (key, delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            let list = directive_target(&key, DELETE_FROM_PRIMITIVE_LIST)
                .ok_or(PatchError::BadPrimitiveListFormat)?;
            (list.to_string(), true)
        } else {
            (key, false)
        };
        if patch_value.is_null() {
            original.shift_remove(&key);
            continue;
        }
        let slot = container.slot(&key);
        let Some(current) = original.get_mut(&key) else {
            if !delete_list {
                original.insert(key, fresh(patch_value, slot)?);
            }
            continue;
        };
        if go_type(current) != go_type(&patch_value) {
            if !delete_list {
                *current = fresh(patch_value, slot)?;
            }
            continue;
        }
        *current = match (std::mem::take(current), patch_value) {
            (Value::Object(o), Value::Object(p)) => merge_field_map(o, p, slot)?,
            (Value::Array(o), Value::Array(p)) => merge_field_list(o, p, slot, delete_list)?,
            (_, p) => p,
        };
    }
    Ok(original)
}

/// The list a `$deleteFromPrimitiveList/<list>` or `$setElementOrder/<list>` key names.
fn directive_target<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    match key.split_once('/') {
        Some((head, list)) if head == prefix => Some(list),
        _ => None,
    }
}

/// Merges an object field.
fn merge_field_map(
    original: Map<String, Value>,
    patch: Map<String, Value>,
    slot: Slot,
) -> Result<Value, PatchError> {
    if slot.has_strategy("replace") {
        return fresh(Value::Object(patch), slot);
    }
    match Container::of(slot.ty) {
        Container::Untyped => {
            let mut doc = Value::Object(original);
            json_patch::merge(&mut doc, &Value::Object(patch));
            Ok(doc)
        }
        container => merge_map(original, patch, container).map(Value::Object),
    }
}

/// Merges a list field: by key or as a set when it merges, else the patch replaces it (a
/// `$deleteFromPrimitiveList` of a list that does not merge replaces it too, as upstream).
fn merge_field_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    slot: Slot,
    delete_list: bool,
) -> Result<Value, PatchError> {
    match slot.merging_list() {
        Some(elem) => {
            merge_list(original, patch, elem, slot.merge_key(), delete_list).map(Value::Array)
        }
        None => fresh(Value::Array(patch), slot),
    }
}

/// A patch value with nothing to merge with: applied to an empty value of its type, so its
/// directives are consumed and (in objects) its `null`s dropped. Free-form values follow
/// JSON merge patch; scalars and undeclared lists are taken as they are.
fn fresh(value: Value, slot: Slot) -> Result<Value, PatchError> {
    match value {
        Value::Object(m) => match Container::of(slot.ty) {
            Container::Untyped => {
                let mut doc = Value::Null;
                json_patch::merge(&mut doc, &Value::Object(m));
                Ok(doc)
            }
            container => merge_map(Map::new(), m, container).map(Value::Object),
        },
        Value::Array(items) => fresh_list(items, slot).map(Value::Array),
        other => Ok(other),
    }
}

/// The elements of a list with nothing to merge with. In a list that merges by key,
/// `$patch: delete` and `$patch: replace` elements have nothing to act on and are dropped.
fn fresh_list(items: Vec<Value>, slot: Slot) -> Result<Vec<Value>, PatchError> {
    let Some(elem) = slot.element() else {
        return Ok(items);
    };
    let elem_slot = Slot {
        ty: Some(elem),
        merge: &NO_MERGE,
    };
    let merging = slot.merging_list().is_some();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if merging {
            if let Some(directive) = item.get(DIRECTIVE) {
                match directive.as_str() {
                    Some("delete" | "replace") => continue,
                    Some("merge") => return Err(PatchError::MergeDirectiveInList),
                    _ => {
                        return Err(PatchError::UnknownDirective {
                            directive: go_sprint_s(directive),
                            map: go_sprint(&item),
                        })
                    }
                }
            }
        }
        out.push(fresh(item, elem_slot)?);
    }
    Ok(out)
}

/// Upstream's `mergeSlice`: merges a list that merges, elements of type `elem`.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    elem: &Type,
    merge_key: &str,
    delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&original, &patch)?;
    if kind != Some(GoType::Map) {
        if delete_list {
            let doomed: HashSet<String> = patch.iter().map(identity).collect();
            return Ok(original
                .into_iter()
                .filter(|v| !doomed.contains(&identity(v)))
                .collect());
        }
        let mut seen = HashSet::new();
        let merged: Vec<Value> = original
            .iter()
            .chain(patch.iter())
            .filter(|v| seen.insert(identity(v)))
            .cloned()
            .collect();
        let (in_patch, server_only) = partition(merged, &patch, merge_key)?;
        return normalize_element_order(in_patch, server_only, &patch, &original, merge_key, kind);
    }
    if merge_key.is_empty() {
        return Err(PatchError::NoMergeKeyDeclared(go_kind(elem)));
    }
    let elem_slot = Slot {
        ty: Some(elem),
        merge: &NO_MERGE,
    };

    // Elements carrying `$patch` act on the original and are then taken out of the patch.
    let mut plain = Vec::with_capacity(patch.len());
    let mut doomed = HashSet::new();
    let mut replace = false;
    for item in patch {
        let Some(directive) = item.get(DIRECTIVE) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(value) = item.get(merge_key) else {
                    return Err(no_merge_key(&item, merge_key));
                };
                doomed.insert(identity(value));
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(PatchError::MergeDirectiveInList),
            _ => {
                return Err(PatchError::UnknownDirective {
                    directive: go_sprint_s(directive),
                    map: go_sprint(&item),
                })
            }
        }
    }
    let mut original = original;
    if !doomed.is_empty() {
        // Every element with a deleted key goes, duplicates included.
        original.retain(|o| {
            o.get(merge_key)
                .is_none_or(|v| !doomed.contains(&identity(v)))
        });
    }
    let (original, patch) = if replace {
        let replaced = plain
            .into_iter()
            .map(|v| fresh(v, elem_slot))
            .collect::<Result<Vec<_>, _>>()?;
        (replaced, Vec::new())
    } else {
        (original, plain)
    };

    // Elements with a merge key the original has merge into it; the others are added.
    let mut merged = original.clone();
    let mut positions = Positions::new(&merged, merge_key, true);
    for item in &patch {
        let Some(value) = item.get(merge_key) else {
            return Err(no_merge_key(item, merge_key));
        };
        match (positions.find(Some(value)), item) {
            (Some(i), Value::Object(p)) => {
                let current = match std::mem::take(&mut merged[i]) {
                    Value::Object(o) => o,
                    _ => Map::new(),
                };
                merged[i] = merge_field_map(current, p.clone(), elem_slot)?;
            }
            _ => {
                positions.add(Some(value), merged.len());
                merged.push(fresh(item.clone(), elem_slot)?);
            }
        }
    }
    let (in_patch, server_only) = partition(merged, &patch, merge_key)?;
    normalize_element_order(in_patch, server_only, &patch, &original, merge_key, kind)
}

/// Upstream's `mergePatchIntoOriginal`: for every `$setElementOrder/<list>`, merges the list
/// (if the patch has it) and orders it: the listed elements as listed, the others where
/// the original had them. The list is then taken out of the patch.
fn apply_element_orders(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    container: Container,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in keys {
        let Some(order) = patch.shift_remove(&key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(PatchError::BadArgType {
                expected: GO_SLICE,
                actual: go_type(&order),
            });
        };
        let list = directive_target(&key, SET_ELEMENT_ORDER)
            .ok_or(PatchError::BadSetElementOrderFormat)?
            .to_string();
        let as_list = |v: Option<&Value>| match v {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            Some(other) => Err(PatchError::BadArgType {
                expected: GO_SLICE,
                actual: go_type(other),
            }),
        };
        let original_list = as_list(original.get(&list))?;
        let patch_list = as_list(patch.get(&list))?;
        let slot = container.slot(&list);
        let merge_key = slot.merge_key();
        check_patch_order(patch_list.as_deref().unwrap_or(&[]), &order, merge_key)?;

        let merged = match (&original_list, patch_list) {
            (None, None) => continue,
            (Some(o), None) => o.clone(),
            (None, Some(p)) => fresh_list(p, slot)?,
            (Some(o), Some(p)) => match merge_field_list(o.clone(), p, slot, false)? {
                Value::Array(m) => m,
                _ => Vec::new(),
            },
        };
        patch.shift_remove(&list);
        let server_order = original_list.unwrap_or_default();
        // A list with no elements has no order (upstream fails on it, unable to tell the
        // elements' type).
        if merged.is_empty() {
            original.insert(list, Value::Array(merged));
            continue;
        }
        let kind = element_kind(&server_order, &merged)?;
        let (in_order, server_only) = partition(merged, &order, merge_key)?;
        let ordered = normalize_element_order(
            in_order,
            server_only,
            &order,
            &server_order,
            merge_key,
            kind,
        )?;
        original.insert(list, Value::Array(ordered));
    }
    Ok(())
}

/// Upstream's `validatePatchWithSetOrderList`: the patch's elements (but deletions) must
/// appear in the `$setElementOrder` list, in its order.
fn check_patch_order(patch: &[Value], order: &[Value], merge_key: &str) -> Result<(), PatchError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut kept: Vec<&Value> = Vec::with_capacity(patch.len());
    for item in patch {
        if !merge_key.is_empty() {
            if !item.is_object() {
                return Err(PatchError::BadArgType {
                    expected: GO_MAP,
                    actual: go_type(item),
                });
            }
            if item.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                continue;
            }
        }
        kept.push(item);
    }
    let (mut p, mut o) = (0, 0);
    while p < kept.len() && o < order.len() {
        if kept[p].get(DIRECTIVE).is_some() {
            p += 1;
            continue;
        }
        if merge_key_value_equal(kept[p], &order[o], merge_key)? {
            p += 1;
        }
        o += 1;
    }
    if p < kept.len() && o >= order.len() {
        return Err(PatchError::OrderMismatch {
            patch: go_sprint(&Value::Array(patch.to_vec())),
            order: go_sprint(&Value::Array(order.to_vec())),
        });
    }
    Ok(())
}

/// Whether two elements are the same element: equal primitives, or objects with equal
/// merge keys (which both must have).
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool, PatchError> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    for side in [left, right] {
        if !side.is_object() {
            return Err(PatchError::BadArgType {
                expected: GO_MAP,
                actual: go_type(side),
            });
        }
        if side.get(merge_key).is_none() {
            return Err(no_merge_key(side, merge_key));
        }
    }
    Ok(left.get(merge_key) == right.get(merge_key))
}

/// Splits `items` into those `by` has (same value, or same merge key) and the others.
fn partition(
    items: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let by_key = !merge_key.is_empty();
    // Elements of `by` without the merge key match nothing.
    let known: HashSet<String> = by
        .iter()
        .filter(|b| !by_key || b.get(merge_key).is_some())
        .map(|b| key_identity(b, merge_key, by_key))
        .collect();
    let not_a_map = by.iter().position(|b| by_key && !b.is_object());
    let mut present = Vec::with_capacity(items.len());
    let mut absent = Vec::with_capacity(items.len());
    for item in items {
        if by_key {
            if !item.is_object() {
                return Err(PatchError::BadArgType {
                    expected: GO_MAP,
                    actual: go_type(&item),
                });
            }
            if item.get(merge_key).is_none() {
                return Err(no_merge_key(&item, merge_key));
            }
            if let Some(i) = not_a_map {
                return Err(PatchError::NotAMap(i));
            }
        }
        if known.contains(&key_identity(&item, merge_key, by_key)) {
            present.push(item);
        } else {
            absent.push(item);
        }
    }
    Ok((present, absent))
}

/// Upstream's `normalizeElementOrder`: the patch's elements sorted by `patch_order`, the
/// original-only ones by `server_order`, then interleaved.
fn normalize_element_order(
    in_patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: Option<GoType>,
) -> Result<Vec<Value>, PatchError> {
    let in_patch = sort_by_order(in_patch, patch_order, merge_key, kind)?;
    let server_only = sort_by_order(server_only, server_order, merge_key, kind)?;
    Ok(interleave(
        server_only,
        in_patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// Sorts `items` by where `order` has them (stable; elements `order` lacks keep their
/// relative order after the others). For objects every element must carry the merge key,
/// and `$patch: delete` elements go last.
fn sort_by_order(
    items: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: Option<GoType>,
) -> Result<Vec<Value>, PatchError> {
    let mut deletions = Vec::new();
    let mut items = items;
    if kind == Some(GoType::Map) {
        for v in items.iter().chain(order.iter()) {
            if !v.is_object() {
                return Err(PatchError::BadArgType {
                    expected: GO_MAP,
                    actual: go_type(v),
                });
            }
            if v.get(merge_key).is_none() {
                return Err(no_merge_key(v, merge_key));
            }
        }
        let (keep, delete): (Vec<Value>, Vec<Value>) = items
            .into_iter()
            .partition(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"));
        items = keep;
        deletions = delete;
    }
    let positions = Positions::new(order, merge_key, kind == Some(GoType::Map));
    let mut keyed: Vec<(usize, Value)> = items
        .into_iter()
        .map(|v| (positions.index(&v).unwrap_or(usize::MAX), v))
        .collect();
    keyed.sort_by_key(|(i, _)| *i);
    let mut out: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    out.extend(deletions);
    Ok(out)
}

/// Upstream's `mergeSortedSlice`: inserts the original-only elements (`left`) among the
/// patch's (`right`); a left element goes first only when the original has both and had it
/// first.
fn interleave(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: Option<GoType>,
) -> Vec<Value> {
    let positions = Positions::new(server_order, merge_key, kind == Some(GoType::Map));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => match (positions.index(l), positions.index(r)) {
                (Some(li), Some(ri)) => li < ri,
                _ => false,
            },
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// Where the elements of a list are: by value, or for objects by merge key value (objects
/// without the key all sit where the first of them is, as upstream compares Go `nil`s).
struct Positions {
    by_key: bool,
    merge_key: String,
    first: HashMap<String, usize>,
}

impl Positions {
    fn new(list: &[Value], merge_key: &str, by_key: bool) -> Positions {
        let mut first = HashMap::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            first.entry(key_identity(v, merge_key, by_key)).or_insert(i);
        }
        Positions {
            by_key,
            merge_key: merge_key.to_string(),
            first,
        }
    }

    fn index(&self, item: &Value) -> Option<usize> {
        self.first
            .get(&key_identity(item, &self.merge_key, self.by_key))
            .copied()
    }

    /// The first element whose merge key value is `value`.
    fn find(&self, value: Option<&Value>) -> Option<usize> {
        self.first
            .get(&value.map(identity).unwrap_or_default())
            .copied()
    }

    fn add(&mut self, value: Option<&Value>, at: usize) {
        self.first
            .entry(value.map(identity).unwrap_or_default())
            .or_insert(at);
    }
}

/// A string equal for equal values (compact JSON; never empty).
fn identity(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// [`identity`] of the element, or of its merge key value (`""` when it has none).
fn key_identity(v: &Value, merge_key: &str, by_key: bool) -> String {
    if by_key {
        v.get(merge_key).map(identity).unwrap_or_default()
    } else {
        identity(v)
    }
}

/// The JSON types Go tells apart in decoded JSON (integers decode as int64, other numbers
/// as float64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoType {
    Nil,
    Bool,
    Int64,
    Float64,
    String,
    Slice,
    Map,
}

fn go_type_of(v: &Value) -> GoType {
    match v {
        Value::Null => GoType::Nil,
        Value::Bool(_) => GoType::Bool,
        Value::Number(n) if n.is_i64() => GoType::Int64,
        Value::Number(_) => GoType::Float64,
        Value::String(_) => GoType::String,
        Value::Array(_) => GoType::Slice,
        Value::Object(_) => GoType::Map,
    }
}

/// Go's name of a decoded JSON value's type (`%s` of its `reflect.Type`).
fn go_type(v: &Value) -> &'static str {
    match go_type_of(v) {
        GoType::Nil => "%!s(<nil>)",
        GoType::Bool => "bool",
        GoType::Int64 => "int64",
        GoType::Float64 => "float64",
        GoType::String => "string",
        GoType::Slice => GO_SLICE,
        GoType::Map => GO_MAP,
    }
}

/// Go's kind name of a declared element type (upstream names it in one error).
fn go_kind(t: &Type) -> &'static str {
    match t {
        Type::String | Type::Quantity => "string",
        Type::Bytes | Type::List(_) => "slice",
        Type::Bool => "bool",
        Type::Int32 => "int32",
        Type::Int64 => "int64",
        Type::Double => "float64",
        Type::Map(_) => "map",
        Type::Time | Type::MicroTime | Type::IntOrString | Type::RawJson | Type::Message(_) => {
            "struct"
        }
    }
}

/// The common element type of two lists (`None` when both are empty); upstream's
/// `sliceElementType`.
fn element_kind(a: &[Value], b: &[Value]) -> Result<Option<GoType>, PatchError> {
    let mut kind = None;
    for v in a.iter().chain(b.iter()) {
        let t = go_type_of(v);
        match kind {
            None if t == GoType::Slice => return Err(PatchError::ListOfLists),
            None => kind = Some(t),
            Some(k) if k != t => {
                let both = Value::Array(vec![Value::Array(a.to_vec()), Value::Array(b.to_vec())]);
                return Err(PatchError::MixedElementTypes(go_sprint(&both)));
            }
            Some(_) => {}
        }
    }
    Ok(kind)
}

fn no_merge_key(item: &Value, merge_key: &str) -> PatchError {
    PatchError::NoMergeKey {
        map: go_sprint(item),
        key: merge_key.to_string(),
    }
}

/// Go's `%s` of a decoded JSON value (what upstream prints for a `$patch` value).
fn go_sprint_s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "%!s(<nil>)".to_string(),
        Value::Bool(b) => format!("%!s(bool={b})"),
        Value::Number(_) => format!("%!s({}={})", go_type(v), go_sprint(v)),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_sprint_s).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_sprint_s(&m[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::decl::{Field, ListMerge, Message, Type};
    use crate::schema::MessageRef;

    /// The run-time form of a test declaration.
    fn rt(d: &'static Message) -> MessageRef {
        MessageRef::from_decl(d)
    }
    use crate::types::OBJECT_META;
    use serde_json::json;

    const BY_NAME: ListMerge = ListMerge {
        list_type: Some("map"),
        map_keys: &["name"],
        patch_strategy: Some("merge"),
        patch_merge_key: Some("name"),
        map_type: None,
    };
    const SET: ListMerge = ListMerge {
        list_type: Some("set"),
        map_keys: &[],
        patch_strategy: Some("merge"),
        patch_merge_key: None,
        map_type: None,
    };
    const ATOMIC: ListMerge = ListMerge {
        list_type: Some("atomic"),
        map_keys: &[],
        patch_strategy: None,
        patch_merge_key: None,
        map_type: None,
    };

    static PORT: Message = Message {
        name: "test.Port",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            Field::new("name", 1, Type::String),
            Field::new("number", 2, Type::Int32),
        ],
    };

    static ENTRY: Message = Message {
        name: "test.Entry",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            Field::new("name", 1, Type::String),
            Field::new("value", 2, Type::String),
            Field::new("other", 3, Type::String),
            Field::new("ports", 4, Type::List(&Type::Message(&PORT))).merge(BY_NAME),
            Field::new("aliases", 5, Type::List(&Type::String)).merge(ATOMIC),
        ],
    };

    static CHOICE: Message = Message {
        name: "test.Choice",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            Field::new("kind", 1, Type::String),
            Field::new("fast", 2, Type::Message(&PORT)),
            Field::new("slow", 3, Type::String),
        ],
    };

    static SPEC: Message = Message {
        name: "test.Spec",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            Field::new("entries", 1, Type::List(&Type::Message(&ENTRY))).merge(BY_NAME),
            Field::new("volumes", 2, Type::List(&Type::Message(&ENTRY))).merge(ListMerge {
                list_type: Some("map"),
                map_keys: &["name"],
                patch_strategy: Some("merge,retainKeys"),
                patch_merge_key: Some("name"),
                map_type: None,
            }),
            Field::new("plain", 3, Type::List(&Type::Message(&ENTRY))),
            Field::new("numbers", 4, Type::List(&Type::Int32)).merge(SET),
            Field::new("settings", 5, Type::Map(&Type::String)),
            Field::new("choice", 6, Type::Message(&CHOICE)).merge(ListMerge {
                list_type: None,
                map_keys: &[],
                patch_strategy: Some("retainKeys"),
                patch_merge_key: None,
                map_type: None,
            }),
            Field::new("replaced", 7, Type::Message(&ENTRY)).merge(ListMerge {
                list_type: None,
                map_keys: &[],
                patch_strategy: Some("replace"),
                patch_merge_key: None,
                map_type: None,
            }),
            Field::new("raw", 8, Type::RawJson),
            Field::new("grid", 9, Type::List(&Type::List(&Type::Int32))).merge(SET),
        ],
    };

    /// A kind shaped like the built-in ones: metadata, a spec, a string map.
    static WIDGET: Message = Message {
        name: "test.Widget",
        description: "",
        gvks: &[("test", "v1", "Widget")],
        atomic: false,
        fields: &[
            Field::new("metadata", 1, Type::Message(&OBJECT_META)),
            Field::new("spec", 2, Type::Message(&SPEC)),
            Field::new("data", 3, Type::Map(&Type::String)),
        ],
    };

    fn patch(original: Value, p: Value) -> Value {
        apply(&original, &p, &rt(&WIDGET)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn patch_err(original: Value, p: Value) -> PatchError {
        match apply(&original, &p, &rt(&WIDGET)) {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e,
        }
    }

    fn spec(s: Value) -> Value {
        json!({"spec": s})
    }

    fn meta(m: Value) -> Value {
        json!({"metadata": m})
    }

    /// Keys starting with `$` anywhere in `v`.
    fn directive_keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if k.starts_with('$') {
                        out.push(k.clone());
                    }
                    directive_keys(child, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| directive_keys(i, out)),
            _ => {}
        }
    }

    #[test]
    fn objects_merge_and_null_removes() {
        let got = patch(
            json!({
                "apiVersion": "test/v1",
                "kind": "Widget",
                "metadata": {"name": "w", "labels": {"app": "shop", "stage": "beta"}},
                "data": {"colour": "red"},
            }),
            json!({
                "metadata": {"labels": {"stage": null, "owner": "ops"}},
                "data": {"size": "L"},
            }),
        );
        assert_eq!(
            got,
            json!({
                "apiVersion": "test/v1",
                "kind": "Widget",
                "metadata": {"name": "w", "labels": {"app": "shop", "owner": "ops"}},
                "data": {"colour": "red", "size": "L"},
            })
        );
    }

    #[test]
    fn null_for_an_absent_key_adds_nothing() {
        // Upstream would store the label with an empty value (kubernetes#105689).
        let got = patch(
            meta(json!({"name": "w"})),
            json!({"metadata": {"labels": {"gone": null}, "annotations": null}}),
        );
        assert_eq!(got, meta(json!({"name": "w", "labels": {}})));
    }

    #[test]
    fn primitive_lists_that_merge_are_sets() {
        // New values come before the original's, as upstream orders them.
        let got = patch(
            meta(json!({"finalizers": ["a"]})),
            meta(json!({"finalizers": ["b"]})),
        );
        assert_eq!(got, meta(json!({"finalizers": ["b", "a"]})));
        let got = patch(
            meta(json!({"finalizers": ["p", "q"]})),
            meta(json!({"finalizers": ["q", "r", "r"]})),
        );
        assert_eq!(got, meta(json!({"finalizers": ["p", "q", "r"]})));
        let got = patch(
            spec(json!({"numbers": [1, 2, 3]})),
            spec(json!({"numbers": [3, 1]})),
        );
        assert_eq!(got, spec(json!({"numbers": [2, 3, 1]})));
    }

    #[test]
    fn delete_from_primitive_list() {
        let got = patch(
            meta(json!({"finalizers": ["x", "y", "x", "z"]})),
            meta(json!({"$deleteFromPrimitiveList/finalizers": ["x", "absent"]})),
        );
        assert_eq!(got, meta(json!({"finalizers": ["y", "z"]})));
        // Nothing to delete from: nothing is created.
        let got = patch(
            meta(json!({"name": "w"})),
            meta(json!({"$deleteFromPrimitiveList/finalizers": ["x"]})),
        );
        assert_eq!(got, meta(json!({"name": "w"})));
    }

    #[test]
    fn set_element_order_of_primitive_lists() {
        let got = patch(
            meta(json!({"finalizers": ["k1", "k2", "k3"]})),
            meta(json!({"$setElementOrder/finalizers": ["k3", "k1", "k2"]})),
        );
        assert_eq!(got, meta(json!({"finalizers": ["k3", "k1", "k2"]})));
        // Added and removed at once, as `kubectl apply` sends it.
        let got = patch(
            meta(json!({"finalizers": ["old", "kept"]})),
            meta(json!({
                "$setElementOrder/finalizers": ["kept", "new"],
                "$deleteFromPrimitiveList/finalizers": ["old"],
                "finalizers": ["new"],
            })),
        );
        assert_eq!(got, meta(json!({"finalizers": ["kept", "new"]})));
        // Elements only the server has stay where they were.
        let got = patch(
            meta(json!({"finalizers": ["s1", "mine", "s2"]})),
            meta(
                json!({"$setElementOrder/finalizers": ["mine", "extra"], "finalizers": ["extra"]}),
            ),
        );
        assert_eq!(
            got,
            meta(json!({"finalizers": ["s1", "mine", "extra", "s2"]}))
        );
    }

    #[test]
    fn lists_of_objects_merge_by_key() {
        let got = patch(
            spec(json!({"entries": [
                {"name": "alpha", "value": "1", "ports": [{"name": "http", "number": 80}]},
                {"name": "beta", "value": "2"},
            ]})),
            spec(json!({"entries": [
                {"name": "alpha", "ports": [{"name": "http", "number": 8080}, {"name": "dns", "number": 53}]},
                {"name": "beta", "value": null, "other": "o"},
                {"name": "gamma", "value": "3"},
            ]})),
        );
        assert_eq!(
            got,
            spec(json!({"entries": [
                {"name": "alpha", "value": "1", "ports": [
                    {"name": "http", "number": 8080},
                    {"name": "dns", "number": 53},
                ]},
                {"name": "beta", "other": "o"},
                {"name": "gamma", "value": "3"},
            ]}))
        );
    }

    #[test]
    fn patch_order_decides_without_set_element_order() {
        let got = patch(
            spec(json!({"entries": [
                {"name": "x"},
                {"name": "y", "value": "why"},
                {"name": "z"},
            ]})),
            spec(json!({"entries": [
                {"name": "z", "value": "zed"},
                {"name": "x", "value": "ex"},
            ]})),
        );
        assert_eq!(
            got,
            spec(json!({"entries": [
                {"name": "y", "value": "why"},
                {"name": "z", "value": "zed"},
                {"name": "x", "value": "ex"},
            ]}))
        );
    }

    #[test]
    fn delete_directive_removes_every_match() {
        let got = patch(
            spec(json!({"entries": [
                {"name": "dup", "value": "1"},
                {"name": "keep"},
                {"name": "dup", "value": "2"},
            ]})),
            spec(json!({"entries": [{"$patch": "delete", "name": "dup"}]})),
        );
        assert_eq!(got, spec(json!({"entries": [{"name": "keep"}]})));

        let err = patch_err(
            spec(json!({"entries": [{"name": "keep"}]})),
            spec(json!({"entries": [{"$patch": "delete", "value": "v"}]})),
        );
        assert_eq!(
            err.to_string(),
            "map: map[$patch:delete value:v] does not contain declared merge key: name"
        );
        assert_eq!(err.code(), 500);
    }

    #[test]
    fn replace_directive_in_lists() {
        let got = patch(
            spec(json!({"entries": [{"name": "a", "value": "1"}, {"name": "b"}]})),
            spec(json!({"entries": [{"name": "c", "value": "3"}, {"$patch": "replace"}]})),
        );
        assert_eq!(got, spec(json!({"entries": [{"name": "c", "value": "3"}]})));
        let got = patch(
            spec(json!({"entries": [{"name": "a"}]})),
            spec(json!({"entries": [{"$patch": "replace"}]})),
        );
        assert_eq!(got, spec(json!({"entries": []})));
    }

    #[test]
    fn replace_and_delete_directives_in_objects() {
        let got = patch(
            spec(json!({"settings": {"a": "1", "b": "2"}, "choice": {"kind": "x", "slow": "s"}})),
            spec(json!({
                "settings": {"$patch": "replace", "c": "3"},
                "choice": {"$patch": "delete"},
            })),
        );
        assert_eq!(got, spec(json!({"settings": {"c": "3"}, "choice": {}})));
        // The whole object.
        let got = patch(
            json!({"metadata": {"name": "w"}, "data": {"a": "1"}}),
            json!({"$patch": "replace", "metadata": {"name": "v"}}),
        );
        assert_eq!(got, json!({"metadata": {"name": "v"}}));
        // A new map with a directive: the directive is applied, not stored.
        let got = patch(
            meta(json!({"name": "w"})),
            meta(json!({"labels": {"$patch": "replace", "tier": "db"}})),
        );
        assert_eq!(got, meta(json!({"name": "w", "labels": {"tier": "db"}})));
    }

    #[test]
    fn unknown_and_merge_directives_are_refused() {
        let err = patch_err(
            meta(json!({"labels": {"a": "1"}})),
            meta(json!({"labels": {"$patch": "merge", "b": "2"}})),
        );
        assert_eq!(
            err.to_string(),
            "unknown patch type: merge in map: map[$patch:merge b:2]"
        );
        assert_eq!(err.code(), 500);
        let err = patch_err(
            meta(json!({"labels": {"a": "1"}})),
            meta(json!({"labels": {"$patch": 7}})),
        );
        assert_eq!(
            err.to_string(),
            "unknown patch type: %!s(int64=7) in map: map[$patch:7]"
        );
        let err = patch_err(
            spec(json!({"entries": [{"name": "a"}]})),
            spec(json!({"entries": [{"$patch": "merge", "name": "a"}]})),
        );
        assert_eq!(err, PatchError::MergeDirectiveInList);
        assert_eq!(
            err.to_string(),
            "merging lists cannot yet be specified in the patch"
        );
        let err = patch_err(
            spec(json!({"entries": [{"name": "a"}]})),
            spec(json!({"entries": [{"$patch": "squash", "name": "a"}]})),
        );
        assert_eq!(
            err.to_string(),
            "unknown patch type: squash in map: map[$patch:squash name:a]"
        );
    }

    #[test]
    fn retain_keys_clears_what_it_does_not_list() {
        let got = patch(
            spec(json!({"choice": {"kind": "fast", "fast": {"name": "f", "number": 1}}})),
            spec(json!({"choice": {"$retainKeys": ["kind", "slow"], "kind": "slow", "slow": "s"}})),
        );
        assert_eq!(got, spec(json!({"choice": {"kind": "slow", "slow": "s"}})));
        // Inside an element of a list merged by key.
        let got = patch(
            spec(json!({"volumes": [{"name": "v", "value": "1", "other": "o"}, {"name": "w"}]})),
            spec(
                json!({"volumes": [{"name": "v", "$retainKeys": ["name", "value"], "value": "2"}]}),
            ),
        );
        assert_eq!(
            got,
            spec(json!({"volumes": [{"name": "v", "value": "2"}, {"name": "w"}]}))
        );
        // Every key the patch sets must be listed; the list must be a list.
        for bad in [
            json!({"$retainKeys": ["kind"], "kind": "slow", "slow": "s"}),
            json!({"$retainKeys": "kind", "kind": "slow"}),
        ] {
            let err = patch_err(
                spec(json!({"choice": {"kind": "fast"}})),
                spec(json!({"choice": bad})),
            );
            assert_eq!(err, PatchError::BadRetainKeysFormat);
            assert_eq!(err.to_string(), "invalid patch format of retainKeys");
            assert_eq!(err.code(), 400);
        }
    }

    #[test]
    fn set_element_order_of_object_lists() {
        let got = patch(
            spec(json!({"entries": [{"name": "a"}, {"name": "b"}, {"name": "c", "value": "3"}]})),
            spec(json!({
                "$setElementOrder/entries": [{"name": "c"}, {"name": "a"}, {"name": "b"}, {"name": "d"}],
                "entries": [{"name": "d", "value": "4"}],
            })),
        );
        assert_eq!(
            got,
            spec(json!({"entries": [
                {"name": "c", "value": "3"},
                {"name": "a"},
                {"name": "b"},
                {"name": "d", "value": "4"},
            ]}))
        );
        // Deleting one element and reordering the rest.
        let got = patch(
            spec(json!({"entries": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})),
            spec(json!({
                "$setElementOrder/entries": [{"name": "c"}, {"name": "a"}],
                "entries": [{"$patch": "delete", "name": "b"}],
            })),
        );
        assert_eq!(
            got,
            spec(json!({"entries": [{"name": "c"}, {"name": "a"}]}))
        );

        let err = patch_err(
            spec(json!({"entries": [{"name": "a"}, {"name": "b"}]})),
            spec(json!({
                "$setElementOrder/entries": [{"name": "b"}, {"name": "a"}],
                "entries": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}],
            })),
        );
        assert_eq!(
            err.to_string(),
            "The order in patch list:\n[map[name:a value:1] map[name:b value:2]]\n doesn't match \
             $setElementOrder list:\n[map[name:b] map[name:a]]\n"
        );
        assert_eq!(err.code(), 500);
    }

    #[test]
    fn malformed_directive_keys() {
        let cases = [
            (
                meta(json!({"$setElementOrder": ["a"]})),
                "invalid patch format of setElementOrder list",
                400,
            ),
            (
                meta(json!({"$deleteFromPrimitiveListX/finalizers": ["a"]})),
                "invalid patch format of primitive list",
                400,
            ),
            (
                meta(json!({"$deleteFromPrimitiveList": ["a"]})),
                "invalid patch format of primitive list",
                400,
            ),
            (
                meta(json!({"$setElementOrder/finalizers": "a"})),
                "expected a []interface {}, but received a string",
                500,
            ),
            (
                meta(json!({"$setElementOrder/finalizers": ["a"], "finalizers": null})),
                "expected a []interface {}, but received a %!s(<nil>)",
                500,
            ),
        ];
        for (p, message, code) in cases {
            let err = patch_err(meta(json!({"finalizers": ["a"]})), p);
            assert_eq!(err.to_string(), message);
            assert_eq!(err.code(), code);
        }
    }

    #[test]
    fn lists_that_do_not_merge_are_replaced() {
        let got = patch(
            spec(json!({"plain": [{"name": "a", "value": "1"}, {"name": "b"}]})),
            spec(json!({"plain": [{"name": "a", "other": "o"}]})),
        );
        assert_eq!(got, spec(json!({"plain": [{"name": "a", "other": "o"}]})));
        let got = patch(
            spec(json!({"entries": [{"name": "e", "aliases": ["x", "y"]}]})),
            spec(json!({"entries": [{"name": "e", "aliases": ["z"]}]})),
        );
        assert_eq!(
            got,
            spec(json!({"entries": [{"name": "e", "aliases": ["z"]}]}))
        );
        let got = patch(
            meta(json!({"managedFields": [{"manager": "a"}, {"manager": "b"}]})),
            meta(json!({"managedFields": [{"manager": "c"}]})),
        );
        assert_eq!(got, meta(json!({"managedFields": [{"manager": "c"}]})));
    }

    #[test]
    fn replace_strategy_replaces_objects() {
        let got = patch(
            spec(json!({"replaced": {"name": "r", "value": "1"}})),
            spec(json!({"replaced": {"other": "o"}})),
        );
        assert_eq!(got, spec(json!({"replaced": {"other": "o"}})));
    }

    #[test]
    fn undeclared_values_merge_as_json_merge_patch() {
        let got = patch(
            json!({"spec": {"raw": {"a": {"b": 1, "c": 2}, "l": [1, 2]}}, "extra": {"k": 1}}),
            json!({
                "spec": {"raw": {"a": {"c": null, "$patch": "delete"}, "l": [3], "n": {"x": null, "y": 1}}},
                "extra": {"k": null, "j": [null]},
            }),
        );
        assert_eq!(
            got,
            json!({
                "spec": {"raw": {"a": {"b": 1, "$patch": "delete"}, "l": [3], "n": {"y": 1}}},
                "extra": {"j": [null]},
            })
        );
    }

    #[test]
    fn lists_of_lists_are_unprocessable() {
        let err = patch_err(spec(json!({"grid": [[1]]})), spec(json!({"grid": [[2]]})));
        assert_eq!(err, PatchError::ListOfLists);
        let status = err.to_api_error();
        assert_eq!(status.code, 422);
        assert_eq!(status.reason, "Invalid");
        assert_eq!(
            status.message,
            "the server rejected our request due to an error in our request"
        );
    }

    #[test]
    fn element_types_must_agree() {
        let err = patch_err(
            meta(json!({"finalizers": ["a"]})),
            meta(json!({"finalizers": [1]})),
        );
        assert_eq!(
            err.to_string(),
            "list element types are not identical: [[a] [1]]"
        );
        let err = patch_err(
            meta(json!({"finalizers": []})),
            meta(json!({"finalizers": [{"name": "x"}]})),
        );
        assert_eq!(
            err.to_string(),
            "cannot merge lists without merge key for string"
        );
    }

    #[test]
    fn patch_elements_need_the_merge_key() {
        let err = patch_err(
            spec(json!({"entries": [{"name": "a"}]})),
            spec(json!({"entries": [{"value": "v"}]})),
        );
        assert_eq!(
            err.to_string(),
            "map: map[value:v] does not contain declared merge key: name"
        );
    }

    #[test]
    fn kubectl_apply_of_a_changed_manifest() {
        // A ConfigMap-like object after `kubectl apply` created it: labels app/tier,
        // finalizers a and b. The manifest then drops tier and a, and adds env and c;
        // client-side apply sends the three-way patch below.
        let live = json!({
            "apiVersion": "test/v1",
            "kind": "Widget",
            "metadata": {
                "name": "cfg",
                "namespace": "default",
                "uid": "0b6c4d4e",
                "resourceVersion": "12",
                "labels": {"app": "web", "tier": "front"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...1}"},
                "finalizers": ["example.com/a", "example.com/b"],
            },
            "data": {"k": "v"},
        });
        let sent = json!({
            "metadata": {
                "$setElementOrder/finalizers": ["example.com/b", "example.com/c"],
                "$deleteFromPrimitiveList/finalizers": ["example.com/a"],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...2}"},
                "finalizers": ["example.com/c"],
                "labels": {"env": "prod", "tier": null},
            },
        });
        let got = patch(live, sent);
        assert_eq!(
            got["metadata"]["labels"],
            json!({"app": "web", "env": "prod"})
        );
        assert_eq!(
            got["metadata"]["finalizers"],
            json!(["example.com/b", "example.com/c"])
        );
        assert_eq!(
            got["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
            "{...2}"
        );
        assert_eq!(got["data"], json!({"k": "v"}));
        let mut dollars = Vec::new();
        directive_keys(&got, &mut dollars);
        assert!(dollars.is_empty(), "{dollars:?} in {got}");
    }

    #[test]
    fn kubectl_patch_of_finalizers_and_owner_references() {
        let got = patch(
            meta(json!({"name": "w", "finalizers": ["a"]})),
            json!({"metadata": {"finalizers": ["b"]}}),
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["b", "a"]));

        let owner = |uid: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "name": format!("o-{uid}"), "uid": uid});
        let got = patch(
            meta(json!({"ownerReferences": [owner("u1")]})),
            meta(json!({"ownerReferences": [owner("u2"), {"uid": "u1", "controller": true}]})),
        );
        let mut u1 = owner("u1");
        u1["controller"] = json!(true);
        assert_eq!(got, meta(json!({"ownerReferences": [owner("u2"), u1]})));
        let got = patch(
            got,
            meta(json!({"ownerReferences": [{"$patch": "delete", "uid": "u2"}]})),
        );
        assert_eq!(got["metadata"]["ownerReferences"], json!([u1]));
    }

    #[test]
    fn new_lists_consume_their_directives() {
        let got = patch(
            json!({"spec": {}}),
            spec(json!({"entries": [
                {"name": "a", "ports": [{"name": "p", "number": 1}, {"$patch": "delete", "name": "q"}]},
                {"$patch": "delete", "name": "b"},
            ]})),
        );
        assert_eq!(
            got,
            spec(json!({"entries": [{"name": "a", "ports": [{"name": "p", "number": 1}]}]}))
        );
    }

    #[test]
    fn patch_must_be_an_object() {
        for (p, kind) in [
            (json!([1]), "array"),
            (json!("x"), "string"),
            (json!(5), "number"),
            (json!(true), "bool"),
        ] {
            let err = patch_err(json!({}), p);
            assert_eq!(
                err.to_string(),
                format!(
                    "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
                )
            );
            let status = err.to_api_error();
            assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));
        }
        let original = meta(json!({"name": "w"}));
        assert_eq!(patch(original.clone(), Value::Null), original);
    }

    #[test]
    fn plain_errors_are_bare_500s() {
        let status = PatchError::MergeDirectiveInList.to_api_error();
        assert_eq!(status.code, 500);
        assert_eq!(status.reason, "");
        assert_eq!(
            status.message,
            "merging lists cannot yet be specified in the patch"
        );
        assert!(status.details.is_none());
    }

    #[test]
    fn long_lists_merge_in_linear_time() {
        // Quadratic merging would take minutes here; hashing keeps it well under a second.
        const N: usize = 40_000;
        let old: Vec<Value> = (0..N).map(|i| json!(format!("f{i}"))).collect();
        let new: Vec<Value> = (N / 2..N + N / 2)
            .rev()
            .map(|i| json!(format!("f{i}")))
            .collect();
        let order: Vec<Value> = (0..N + N / 2)
            .rev()
            .map(|i| json!(format!("f{i}")))
            .collect();
        let got = patch(
            meta(json!({"finalizers": old})),
            meta(json!({"finalizers": new, "$setElementOrder/finalizers": order.clone()})),
        );
        assert_eq!(got["metadata"]["finalizers"], Value::Array(order));

        let refs = |range: std::ops::Range<usize>| -> Vec<Value> {
            range
                .map(|i| json!({"apiVersion": "v1", "kind": "K", "name": "n", "uid": format!("u{i}")}))
                .collect()
        };
        let mut deletions: Vec<Value> = (0..N / 4)
            .map(|i| json!({"$patch": "delete", "uid": format!("u{i}")}))
            .collect();
        deletions.extend(refs(N..N + N / 4));
        let got = patch(
            meta(json!({"ownerReferences": refs(0..N)})),
            meta(json!({"ownerReferences": deletions})),
        );
        let uids: Vec<&str> = got["metadata"]["ownerReferences"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["uid"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(uids.len(), N);
        assert_eq!(uids[0], format!("u{N}"));
        assert_eq!(uids[N - 1], format!("u{}", N - 1));
    }

    /// A small deterministic generator of awkward JSON.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }

        fn value(&mut self, depth: u32) -> Value {
            const KEYS: &[&str] = &[
                "$patch",
                "$retainKeys",
                "$setElementOrder/finalizers",
                "$setElementOrder/entries",
                "$setElementOrder/ownerReferences",
                "$deleteFromPrimitiveList/finalizers",
                "$deleteFromPrimitiveList/numbers",
                "$deleteFromPrimitiveList",
                "$setElementOrder",
                "metadata",
                "finalizers",
                "ownerReferences",
                "managedFields",
                "labels",
                "uid",
                "spec",
                "entries",
                "volumes",
                "plain",
                "numbers",
                "settings",
                "choice",
                "replaced",
                "raw",
                "grid",
                "ports",
                "name",
                "value",
                "kind",
            ];
            const WORDS: &[&str] = &["replace", "delete", "merge", "a", "b", "name", "uid"];
            let pick = if depth == 0 {
                self.next(5)
            } else {
                self.next(8)
            };
            match pick {
                0 => Value::Null,
                1 => json!(self.next(3)),
                2 => json!(WORDS[self.next(WORDS.len() as u64) as usize]),
                3 => json!(self.next(2) == 0),
                4 => json!(0.5),
                5 | 6 => {
                    let mut m = Map::new();
                    for _ in 0..self.next(5) {
                        let k = KEYS[self.next(KEYS.len() as u64) as usize];
                        m.insert(k.to_string(), self.value(depth - 1));
                    }
                    Value::Object(m)
                }
                _ => Value::Array((0..self.next(4)).map(|_| self.value(depth - 1)).collect()),
            }
        }
    }

    #[test]
    fn never_panics() {
        let mut g = Gen(7);
        let mut applied = 0;
        for _ in 0..20_000 {
            let mut original = g.value(5);
            if !original.is_object() {
                original = json!({"metadata": original});
            }
            let p = g.value(5);
            if let Ok(v) = apply(&original, &p, &rt(&WIDGET)) {
                assert!(v.is_object());
                applied += 1;
            } else if let Err(e) = apply(&original, &p, &rt(&WIDGET)) {
                let status = e.to_api_error();
                assert!(matches!(status.code, 400 | 422 | 500), "{e}");
            }
        }
        assert!(applied > 1000, "only {applied} patches applied");
    }
}
