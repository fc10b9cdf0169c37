//! What a write does to an object's managers, as upstream's field manager chain does it:
//! create, update and patch record an `Update` entry for their manager; apply merges the
//! configuration, owns exactly what it sent, prunes what it sent before and dropped, and
//! refuses to change what others own unless forced.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::entries::{self, Identity, Managers, VersionedSet};
use crate::path::{Path, PathElement};
use crate::set::Set;
use crate::shape::Shape;
use crate::typed::{self, Comparison, Filter};

/// Upstream's cap on `Update` managers; older ones fold into [`ANCIENT_CHANGES`].
pub const DEFAULT_MAX_UPDATE_MANAGERS: usize = 10;

/// The manager that takes the fields of the oldest `Update` managers beyond the cap.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

/// The manager that owns what an object had before its first apply.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// kubectl's client-side apply annotation.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The operation of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Apply,
    Update,
}

/// One field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: Identity,
    pub path: Path,
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The configuration is not acceptable (a 400 with this message).
    #[error("{0}")]
    BadRequest(String),
    /// Fields owned by others would change (a 409).
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The live object's managed fields do not decode (a 500).
    #[error("failed to decode managed fields: {0}")]
    Decode(String),
}

/// Upstream's message for apply conflicts.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.manager.describe(),
            only.path
        );
    }
    let mut managers: Vec<&Identity> = conflicts.iter().map(|c| &c.manager).collect();
    managers.sort_by_key(|m| m.describe());
    managers.dedup();
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {}:", m.describe()));
        for c in conflicts.iter().filter(|c| &c.manager == m) {
            lines.push(format!("- {}", c.path));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Converts objects of a kind between the API versions it is served at, so that a
/// manager's fields are compared at the version it wrote them (upstream's version
/// converter): a change made at one version is a change of whatever field holds it at
/// another.
pub trait VersionConverter: Send + Sync + std::fmt::Debug {
    /// The shape of the kind at `api_version`; `None` when the kind is not served at it.
    fn shape(&self, api_version: &str) -> Option<Shape>;

    /// `obj`, an object at `from`, as an object at `to`.
    fn convert(&self, obj: &Value, from: &str, to: &str) -> Option<Value>;
}

/// The field manager of one endpoint of a kind (the resource or one of its subresources).
#[derive(Debug, Clone)]
pub struct FieldManager {
    pub shape: Shape,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub subresource: String,
    /// The fields this endpoint may not own (upstream's reset fields).
    pub filter: Filter,
    pub max_update_managers: usize,
    /// The kind's other served versions, when it has some: other managers' fields are
    /// compared at their own version. Without it every manager is compared at this one.
    pub converter: Option<Arc<dyn VersionConverter>>,
}

/// What a write changed, seen at each version a manager wrote at.
struct Changes<'a> {
    fm: &'a FieldManager,
    live: &'a Value,
    new: &'a Value,
    own: Comparison,
    others: HashMap<String, Comparison>,
}

impl<'a> Changes<'a> {
    fn new(fm: &'a FieldManager, live: &'a Value, new: &'a Value) -> Self {
        let own = typed::compare(&fm.shape, Some(live), Some(new)).filtered(&fm.filter);
        Changes {
            fm,
            live,
            new,
            own,
            others: HashMap::new(),
        }
    }

    /// The changes at `api_version`: the objects converted to it and compared there (at
    /// this endpoint's version when it cannot be converted).
    fn at(&mut self, api_version: &str) -> &Comparison {
        let own_version = self.fm.api_version();
        let Some(converter) = self
            .fm
            .converter
            .as_ref()
            .filter(|_| api_version != own_version)
        else {
            return &self.own;
        };
        if !self.others.contains_key(api_version) {
            let cmp = self
                .compare_at(converter.as_ref(), &own_version, api_version)
                .unwrap_or_else(|| self.own.clone());
            self.others.insert(api_version.to_string(), cmp);
        }
        &self.others[api_version]
    }

    /// The objects converted from `own_version` to `api_version` and compared there.
    fn compare_at(
        &self,
        converter: &dyn VersionConverter,
        own_version: &str,
        api_version: &str,
    ) -> Option<Comparison> {
        let shape = converter.shape(api_version)?;
        let live = converter.convert(self.live, own_version, api_version)?;
        let new = converter.convert(self.new, own_version, api_version)?;
        Some(typed::compare(&shape, Some(&live), Some(&new)).filtered(&self.fm.filter))
    }
}

/// Fields never tracked (upstream's strip set: type meta and system metadata).
fn strip_set() -> Set {
    let mut s = Set::from_paths([
        Path::fields(&["apiVersion"]),
        Path::fields(&["kind"]),
        Path::fields(&["metadata"]),
    ]);
    for f in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        s.insert(&Path::fields(&["metadata", f]).0);
    }
    s
}

fn remove_managed_fields(obj: &mut Value) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
}

fn set_managed_fields(obj: &mut Value, managers: &Managers) {
    let encoded = entries::encode(managers);
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        match encoded {
            Some(list) => {
                m.insert("managedFields".into(), list);
            }
            None => {
                m.remove("managedFields");
            }
        }
    }
}

impl FieldManager {
    /// The field manager of a kind's endpoint, with upstream's cap on managers.
    pub fn new(shape: Shape, group: &str, version: &str, kind: &str, subresource: &str) -> Self {
        FieldManager {
            shape,
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            subresource: subresource.to_string(),
            filter: Filter::All,
            max_update_managers: DEFAULT_MAX_UPDATE_MANAGERS,
            converter: None,
        }
    }

    /// The API version managers of this kind write at (`v1`, `apps/v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn identity(&self, manager: &str, op: Operation) -> Identity {
        Identity {
            manager: if manager.is_empty() {
                "unknown".into()
            } else {
                manager.to_string()
            },
            operation: match op {
                Operation::Apply => "Apply".into(),
                Operation::Update => "Update".into(),
            },
            api_version: match op {
                Operation::Apply => String::new(),
                Operation::Update => self.api_version(),
            },
            subresource: self.subresource.clone(),
        }
    }

    /// What a new object of the kind holds before anything is written: the struct fields Go
    /// always writes (`metadata`, `spec`, `status`) empty.
    pub fn empty_object(&self) -> Value {
        let mut m = Map::new();
        if let Shape::Struct { message, .. } = &self.shape {
            for name in ["metadata", "spec", "status"] {
                if message
                    .field(name)
                    .is_some_and(|f| matches!(f.ty, apimachinery::schema::Type::Message(_)))
                {
                    m.insert(name.into(), json!({}));
                }
            }
        }
        Value::Object(m)
    }

    /// Records a create (`live` is `None`), update or patch by `manager` on `new`, at `now`
    /// (RFC 3339): its `managedFields` are set to the result. Managed fields the request
    /// sent replace the live ones when they decode (not for subresources); `[]` or `[{}]`
    /// stops tracking.
    pub fn update(&self, live: Option<&Value>, new: &mut Value, manager: &str, now: &str) {
        let decoded_live = || {
            live.map(entries::decode)
                .transpose()
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let managers = if !self.subresource.is_empty() {
            decoded_live()
        } else if entries::is_reset(new) {
            Managers::new()
        } else {
            match entries::decode(new) {
                Ok(m) if !m.is_empty() => m,
                _ => decoded_live(),
            }
        };
        remove_managed_fields(new);
        // An existing object nobody tracks stays untracked (upstream skips it).
        if managers.is_empty() && live.is_some() {
            return;
        }
        let empty = self.empty_object();
        let live = live.unwrap_or(&empty);
        let managers = self.record_update(live, new, managers, manager, now);
        set_managed_fields(new, &managers);
    }

    /// Drops the managers at versions the kind is not served at, as upstream drops a
    /// manager whose version the converter does not know.
    fn drop_unserved(&self, managers: &mut Managers) {
        let Some(conv) = &self.converter else {
            return;
        };
        let own = self.api_version();
        managers.retain(|_, vs| vs.api_version == own || conv.shape(&vs.api_version).is_some());
    }

    fn record_update(
        &self,
        live: &Value,
        new: &Value,
        mut managers: Managers,
        manager: &str,
        now: &str,
    ) -> Managers {
        self.drop_unserved(&mut managers);
        let mut changes = Changes::new(self, live, new);
        for vs in managers.values_mut() {
            let cmp = changes.at(&vs.api_version);
            let changed = cmp.modified.union(&cmp.added);
            vs.set = vs
                .set
                .difference(&vs.set.intersection(&changed))
                .difference(&cmp.removed);
        }
        managers.retain(|_, vs| !vs.set.is_empty());
        let changed = changes.own.modified.union(&changes.own.added);
        let own = self.filter.apply(&changed).difference(&strip_set());
        if !own.is_empty() {
            let id = self.identity(manager, Operation::Update);
            let previous = managers.remove(&id).map(|v| v.set).unwrap_or_default();
            managers.insert(
                id,
                VersionedSet {
                    set: own.union(&previous),
                    api_version: self.api_version(),
                    applied: false,
                    time: Some(now.to_string()),
                },
            );
        }
        self.cap_update_managers(&mut managers);
        managers
    }

    /// Folds the oldest `Update` managers beyond the cap into `ancient-changes` (one per
    /// API version), as upstream does.
    fn cap_update_managers(&self, managers: &mut Managers) {
        let mut updaters: Vec<Identity> = managers
            .iter()
            .filter(|(_, v)| !v.applied)
            .map(|(k, _)| k.clone())
            .collect();
        if updaters.len() <= self.max_update_managers {
            return;
        }
        updaters.sort_by(|a, b| {
            let t = |i: &Identity| managers[i].time.clone().unwrap_or_default();
            t(a).cmp(&t(b)).then_with(|| a.cmp(b))
        });
        let mut first_of_version: std::collections::HashMap<String, Identity> = Default::default();
        let mut length = updaters.len();
        for id in updaters {
            if length <= self.max_update_managers {
                break;
            }
            let Some(vs) = managers.get(&id).cloned() else {
                continue;
            };
            let bucket = Identity {
                manager: ANCIENT_CHANGES.into(),
                operation: "Update".into(),
                api_version: vs.api_version.clone(),
                subresource: String::new(),
            };
            match first_of_version.get(&vs.api_version) {
                Some(first) => {
                    if !managers.contains_key(&bucket) {
                        if let Some(s) = managers.remove(first) {
                            managers.insert(bucket.clone(), s);
                        }
                    }
                    let union = managers
                        .get(&bucket)
                        .map(|b| b.set.union(&vs.set))
                        .unwrap_or_else(|| vs.set.clone());
                    managers.remove(&id);
                    managers.insert(
                        bucket,
                        VersionedSet {
                            set: union,
                            api_version: vs.api_version.clone(),
                            applied: false,
                            time: vs.time.clone(),
                        },
                    );
                    length -= 1;
                }
                None => {
                    first_of_version.insert(vs.api_version.clone(), id);
                }
            }
        }
    }

    /// Applies `config` by `manager` to `live` (`None`: the object does not exist yet) at
    /// `now`; returns the new object with its `managedFields`.
    ///
    /// kubectl's own applies (manager `kubectl`) may take over, without conflict, the
    /// fields its client-side apply annotation says it set and that still hold those
    /// values: the upgrade from client-side to server-side apply.
    pub fn apply(
        &self,
        live: Option<&Value>,
        config: &Value,
        manager: &str,
        force: bool,
        now: &str,
    ) -> Result<Value, ApplyError> {
        let result = self.apply_once(live, config, manager, force, now);
        let (Some(live), "kubectl", Err(ApplyError::Conflicts(conflicts))) =
            (live, manager, &result)
        else {
            return result;
        };
        let Some(allowed) = self.allowed_by_last_applied(live) else {
            return result;
        };
        let remaining: Vec<Conflict> = conflicts
            .iter()
            .filter(|c| !allowed.has(&c.path.0))
            .cloned()
            .collect();
        if !remaining.is_empty() {
            return Err(ApplyError::Conflicts(remaining));
        }
        self.apply_once(Some(live), config, manager, true, now)
    }

    /// The fields the live object's client-side apply annotation set that still hold the
    /// values it gave them.
    fn allowed_by_last_applied(&self, live: &Value) -> Option<Set> {
        let text = live
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(LAST_APPLIED))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        let last: Value = serde_json::from_str(text).ok()?;
        if last.get("apiVersion").and_then(Value::as_str) != Some(self.api_version().as_str()) {
            return None;
        }
        let set = typed::field_set(&self.shape, &last);
        let cmp = typed::compare(&self.shape, Some(&last), Some(live));
        Some(
            set.difference(&cmp.modified)
                .difference(&cmp.added)
                .difference(&cmp.removed),
        )
    }

    fn apply_once(
        &self,
        live: Option<&Value>,
        config: &Value,
        manager: &str,
        force: bool,
        now: &str,
    ) -> Result<Value, ApplyError> {
        let s = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or("");
        let (group, version) = match s("apiVersion").rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", s("apiVersion")),
        };
        if group != self.group || version != self.version || s("kind") != self.kind {
            return Err(ApplyError::BadRequest(format!(
                "invalid object type: {group}/{version}, Kind={}",
                s("kind")
            )));
        }
        if config.pointer("/metadata/managedFields").is_some() {
            return Err(ApplyError::BadRequest(
                "metadata.managedFields must be nil".into(),
            ));
        }
        let empty = self.empty_object();
        let exists = live.is_some();
        let mut live = live.cloned().unwrap_or_else(|| empty.clone());
        let mut managers = entries::decode(&live).map_err(|e| ApplyError::Decode(e.to_string()))?;
        self.drop_unserved(&mut managers);
        remove_managed_fields(&mut live);
        if managers.is_empty() && exists {
            // What the object holds so far belongs to a manager of its own.
            managers = self.record_update(&empty, &live, managers, BEFORE_FIRST_APPLY, now);
        }
        let id = self.identity(manager, Operation::Apply);
        let mut merged = typed::merge(&self.shape, Some(&live), config);
        // What this manager applied before: at this version it is compared here; at
        // another, the object is pruned at that version (below).
        let previous = managers.get(&id).filter(|v| !v.set.is_empty()).cloned();
        let last = previous
            .as_ref()
            .filter(|v| v.api_version == self.api_version())
            .map(|v| v.set.clone());
        let applied = self.filter.apply(&typed::field_set(&self.shape, config));
        managers.insert(
            id.clone(),
            VersionedSet {
                set: applied.clone(),
                api_version: self.api_version(),
                applied: true,
                time: managers.get(&id).and_then(|v| v.time.clone()),
            },
        );
        if let Some(last) = last.filter(|l| !l.is_empty()) {
            // Drop what this manager applied before and no longer does, unless it is
            // still owned (by anyone, this apply included).
            let mut owned = Set::new();
            for vs in managers.values() {
                owned = owned.union(&vs.set);
            }
            let owned = typed::ensure_named_fields_are_members(&self.shape, &owned);
            let last = typed::ensure_named_fields_are_members(&self.shape, &last);
            typed::remove_items(&self.shape, &mut merged, &last.difference(&owned));
        }
        if let Some(prev) = previous.filter(|v| v.api_version != self.api_version()) {
            if let Some(pruned) = self.prune_at_version(&merged, &managers, &prev) {
                merged = pruned;
            }
        }
        let mut changes = Changes::new(self, &live, &merged);
        let mut conflicts = Vec::new();
        for (other, vs) in managers.iter_mut() {
            if *other == id {
                continue;
            }
            let cmp = changes.at(&vs.api_version);
            let clash = vs.set.intersection(&cmp.modified.union(&cmp.added));
            if !force {
                for path in clash.paths() {
                    conflicts.push(Conflict {
                        manager: other.clone(),
                        path,
                    });
                }
            }
            vs.set = vs.set.difference(&clash).difference(&cmp.removed);
        }
        if !conflicts.is_empty() {
            return Err(ApplyError::Conflicts(conflicts));
        }
        managers.retain(|_, vs| !vs.set.is_empty());
        let changed_object = merged != live;
        if let Some(vs) = managers.get_mut(&id) {
            vs.set = vs.set.difference(&strip_set());
            if changed_object {
                vs.time = Some(now.to_string());
            }
        }
        managers.retain(|_, vs| !vs.set.is_empty());
        let mut out = if changed_object { merged } else { live };
        if manager == "kubectl" && has_last_applied(&out) {
            set_last_applied(&mut out, config);
        }
        set_managed_fields(&mut out, &managers);
        Ok(out)
    }
}

impl FieldManager {
    /// Removes from `merged` (at this version) what the applier applied last time at
    /// another version (`last`) and applies no more, unless some manager owns it, as
    /// structured-merge-diff's `prune` does: the object is converted to `last`'s version,
    /// `last` removed there, what each version's managers own added back (at each of
    /// their versions), and only what `last` held stays removed. `None` when a version
    /// cannot be converted to (nothing is pruned then).
    fn prune_at_version(
        &self,
        merged: &Value,
        managers: &Managers,
        last: &VersionedSet,
    ) -> Option<Value> {
        let conv = self.converter.as_ref()?;
        let this = self.api_version();
        let at_last = last.api_version.as_str();
        let shape_last = conv.shape(at_last)?;
        let merged_last = conv.convert(merged, &this, at_last)?;
        let mut pruned = merged_last.clone();
        typed::remove_items(
            &shape_last,
            &mut pruned,
            &typed::ensure_named_fields_are_members(&shape_last, &last.set),
        );
        // What the managers at each version own comes back.
        let mut owned: std::collections::BTreeMap<&str, Set> = Default::default();
        for vs in managers.values() {
            let set = owned.entry(vs.api_version.as_str()).or_default();
            *set = set.union(&vs.set);
        }
        let (mut merged_v, mut version) = (merged_last.clone(), at_last.to_string());
        for (at, managed) in owned {
            let shape = conv.shape(at)?;
            merged_v = conv.convert(&merged_v, &version, at)?;
            let pruned_v = conv.convert(&pruned, &version, at)?;
            version = at.to_string();
            let ensure = |set: &Set| typed::ensure_named_fields_are_members(&shape, set);
            let merged_set = ensure(&typed::field_set(&shape, &merged_v));
            let keep = ensure(&typed::field_set(&shape, &pruned_v)).union(&ensure(&managed));
            pruned = merged_v.clone();
            typed::remove_items(&shape, &mut pruned, &merged_set.difference(&keep));
        }
        // Only what `last` held is dropped from the object at its version.
        let pruned_last = conv.convert(&pruned, &version, at_last)?;
        let ensure = |set: &Set| typed::ensure_named_fields_are_members(&shape_last, set);
        let dropped = ensure(&typed::field_set(&shape_last, &merged_last))
            .difference(&ensure(&typed::field_set(&shape_last, &pruned_last)))
            .intersection(&ensure(&last.set));
        let mut out = merged_last;
        typed::remove_items(&shape_last, &mut out, &dropped);
        conv.convert(&out, at_last, &this)
    }
}

fn has_last_applied(obj: &Value) -> bool {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

/// kubectl's annotation set to the applied configuration (without the annotation), as Go's
/// JSON encoder writes it (sorted keys, a final newline).
fn set_last_applied(obj: &mut Value, config: &Value) {
    let mut config = config.clone();
    if let Some(a) = config
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(LAST_APPLIED);
    }
    let text = format!("{}\n", crate::gojson::to_string(&config));
    if let Some(a) = obj
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.insert(LAST_APPLIED.into(), Value::String(text));
    }
}

/// A path element for a struct field (shorthand for callers building filters).
pub fn field(name: &str) -> PathElement {
    PathElement::Field(name.to_string())
}
