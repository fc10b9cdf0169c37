//! Sets of field paths, as a tree: the members of a node are the paths that end there, its
//! children the nodes below it. The FieldsV1 JSON form writes the tree with `"."` for a node
//! that is itself a member and has children.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::gojson;
use crate::path::{Path, PathElement, PathError};

/// A set of paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    pub members: BTreeSet<PathElement>,
    pub children: BTreeMap<PathElement, Set>,
}

/// FieldsV1 that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldsError {
    #[error("{0}")]
    Json(String),
    #[error("parsing key as path element: {0}")]
    Path(#[from] PathError),
    #[error("managedFields parsing: expected an object")]
    NotObject,
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    /// A set of these paths.
    pub fn from_paths<I: IntoIterator<Item = Path>>(paths: I) -> Set {
        let mut s = Set::new();
        for p in paths {
            s.insert(&p.0);
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds a path (the empty path adds nothing).
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut node = self;
        for pe in parents {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.members.insert(last.clone());
    }

    /// Whether the path is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        let mut node = self;
        for pe in parents {
            match node.children.get(pe) {
                Some(n) => node = n,
                None => return false,
            }
        }
        node.members.contains(last)
    }

    /// The node below `pe`, if any.
    pub fn child(&self, pe: &PathElement) -> Option<&Set> {
        self.children.get(pe)
    }

    /// Every path in either set.
    pub fn union(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.union_with(other);
        out
    }

    fn union_with(&mut self, other: &Set) {
        self.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            self.children
                .entry(pe.clone())
                .or_default()
                .union_with(child);
        }
    }

    /// The paths of `self` that are not members of `other` (paths below a member of
    /// `other` stay).
    pub fn difference(&self, other: &Set) -> Set {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            let c = match other.children.get(pe) {
                Some(o) => child.difference(o),
                None => child.clone(),
            };
            if !c.is_empty() {
                children.insert(pe.clone(), c);
            }
        }
        Set { members, children }
    }

    /// The paths of `self` that are neither members of `other` nor below one.
    pub fn recursive_difference(&self, other: &Set) -> Set {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            if other.members.contains(pe) {
                continue;
            }
            let c = match other.children.get(pe) {
                Some(o) => child.recursive_difference(o),
                None => child.clone(),
            };
            if !c.is_empty() {
                children.insert(pe.clone(), c);
            }
        }
        Set { members, children }
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &Set) -> Set {
        let members = self.members.intersection(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let c = child.intersection(o);
                if !c.is_empty() {
                    children.insert(pe.clone(), c);
                }
            }
        }
        Set { members, children }
    }

    /// The members of `self` that are at or below a member of `prefixes` (a filter that
    /// keeps whole subtrees).
    pub fn within(&self, prefixes: &Set) -> Set {
        let mut out = Set::new();
        for pe in &prefixes.members {
            if self.members.contains(pe) {
                out.members.insert(pe.clone());
            }
            if let Some(c) = self.children.get(pe) {
                out.children.insert(pe.clone(), c.clone());
            }
        }
        for (pe, p) in &prefixes.children {
            if prefixes.members.contains(pe) {
                continue;
            }
            if let Some(c) = self.children.get(pe) {
                let w = c.within(p);
                if !w.is_empty() {
                    out.children.insert(pe.clone(), w);
                }
            }
        }
        out
    }

    /// Every member, as a path, in order (a node before the nodes below it).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.push_paths(&mut Vec::new(), &mut out);
        out
    }

    fn push_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>) {
        // Members and children in one sorted walk, as upstream iterates.
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(self.children.keys());
        for pe in keys {
            prefix.push(pe.clone());
            if self.members.contains(pe) {
                out.push(Path(prefix.clone()));
            }
            if let Some(c) = self.children.get(pe) {
                c.push_paths(prefix, out);
            }
            prefix.pop();
        }
    }

    /// The leaves: members that have no members below them.
    pub fn leaves(&self) -> Set {
        let mut out = Set::new();
        for pe in &self.members {
            if !self.children.contains_key(pe) {
                out.members.insert(pe.clone());
            }
        }
        for (pe, c) in &self.children {
            let l = c.leaves();
            if !l.is_empty() {
                out.children.insert(pe.clone(), l);
            }
        }
        out
    }

    /// The FieldsV1 JSON of this set, byte for byte as upstream writes it.
    pub fn to_fields_v1(&self) -> String {
        let mut out = String::from("{");
        self.write_contents(false, &mut out);
        out.push('}');
        out
    }

    fn write_contents(&self, include_self: bool, out: &mut String) {
        let mut first = true;
        let mut sep = |out: &mut String| {
            if !first {
                out.push(',');
            }
            first = false;
        };
        if include_self && !self.is_empty() {
            sep(out);
            out.push_str("\".\":{}");
        }
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(self.children.keys());
        for pe in keys {
            sep(out);
            gojson::write_string(out, &pe.serialize());
            out.push(':');
            match self.children.get(pe) {
                None => out.push_str("{}"),
                Some(c) => {
                    out.push('{');
                    c.write_contents(self.members.contains(pe), out);
                    out.push('}');
                }
            }
        }
    }

    /// Reads FieldsV1 JSON.
    pub fn from_fields_v1(value: &Value) -> Result<Set, FieldsError> {
        match read_node(value)? {
            (Some(s), _) => Ok(s),
            (None, _) => Ok(Set::new()),
        }
    }

    /// Reads FieldsV1 JSON text.
    pub fn from_fields_v1_str(text: &str) -> Result<Set, FieldsError> {
        let v: Value = serde_json::from_str(text).map_err(|e| FieldsError::Json(e.to_string()))?;
        Set::from_fields_v1(&v)
    }
}

/// One node of FieldsV1: its children (none for `{}`) and whether it is a member itself.
fn read_node(value: &Value) -> Result<(Option<Set>, bool), FieldsError> {
    let Value::Object(map) = value else {
        return Err(FieldsError::NotObject);
    };
    let mut is_member = false;
    let mut children: Option<Set> = None;
    for (key, v) in map {
        if key == "." {
            is_member = true;
            continue;
        }
        let Some(pe) = PathElement::deserialize(key)? else {
            continue;
        };
        let (grandchildren, child_is_member) = read_node(v)?;
        if child_is_member {
            children
                .get_or_insert_with(Set::new)
                .members
                .insert(pe.clone());
        }
        if let Some(g) = grandchildren {
            children
                .get_or_insert_with(Set::new)
                .children
                .entry(pe)
                .or_default()
                .union_with(&g);
        }
    }
    if children.is_none() {
        is_member = true;
    }
    Ok((children, is_member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::Field(name.into())
    }

    fn p(elems: &[PathElement]) -> Path {
        Path(elems.to_vec())
    }

    fn key(name: &str) -> PathElement {
        PathElement::key(vec![("name".into(), json!(name))])
    }

    fn sample() -> Set {
        Set::from_paths([
            p(&[f("spec"), f("replicas")]),
            p(&[f("spec"), f("containers"), key("a")]),
            p(&[f("spec"), f("containers"), key("a"), f("name")]),
            p(&[f("spec"), f("containers"), key("a"), f("image")]),
            p(&[f("metadata"), f("labels"), f("app")]),
            p(&[f("spec"), f("finalizers"), PathElement::Value(json!("x"))]),
        ])
    }

    #[test]
    fn fields_v1_is_upstreams_bytes_and_reads_back() {
        let s = sample();
        let text = s.to_fields_v1();
        assert_eq!(
            text,
            r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{},"f:name":{}}},"f:finalizers":{"v:\"x\"":{}},"f:replicas":{}}}"#
        );
        assert_eq!(Set::from_fields_v1_str(&text), Ok(s));
        assert_eq!(Set::new().to_fields_v1(), "{}");
        // Unknown element types are skipped; bad elements are errors.
        assert_eq!(
            Set::from_fields_v1_str(r#"{"f:a":{},"z:q":{}}"#),
            Ok(Set::from_paths([p(&[f("a")])]))
        );
        assert!(Set::from_fields_v1_str(r#"{"i:x":{}}"#).is_err());
        assert!(Set::from_fields_v1_str(r#"{"f:a":1}"#).is_err());
    }

    #[test]
    fn a_node_with_only_a_dot_is_a_member() {
        let s = Set::from_fields_v1_str(r#"{"f:a":{".":{}},"f:b":{".":{},"f:c":{}}}"#)
            .unwrap_or_default();
        assert!(s.has(&[f("a")]));
        assert!(s.has(&[f("b")]));
        assert!(s.has(&[f("b"), f("c")]));
        assert_eq!(s.to_fields_v1(), r#"{"f:a":{},"f:b":{".":{},"f:c":{}}}"#);
    }

    #[test]
    fn algebra() {
        let a = Set::from_paths([p(&[f("a")]), p(&[f("b"), f("c")]), p(&[f("b"), f("d")])]);
        let b = Set::from_paths([p(&[f("b"), f("c")]), p(&[f("e")]), p(&[f("b")])]);
        assert_eq!(
            a.union(&b).paths(),
            [
                p(&[f("a")]),
                p(&[f("b")]),
                p(&[f("b"), f("c")]),
                p(&[f("b"), f("d")]),
                p(&[f("e")])
            ]
        );
        assert_eq!(a.intersection(&b).paths(), [p(&[f("b"), f("c")])]);
        assert_eq!(
            a.difference(&b).paths(),
            [p(&[f("a")]), p(&[f("b"), f("d")])]
        );
        // Recursive difference drops everything below a member of the other set.
        assert_eq!(a.recursive_difference(&b).paths(), [p(&[f("a")])]);
        assert_eq!(b.leaves().paths(), [p(&[f("b"), f("c")]), p(&[f("e")])]);
        assert!(a.difference(&a).is_empty());
        let prefixes = Set::from_paths([p(&[f("b")])]);
        assert_eq!(
            a.within(&prefixes).paths(),
            [p(&[f("b"), f("c")]), p(&[f("b"), f("d")])]
        );
    }
}
