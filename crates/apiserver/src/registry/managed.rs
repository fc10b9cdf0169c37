//! `metadata.managedFields` on every write of a declared kind: the bridge between the
//! Store and the `managedfields` crate. A write's manager comes from the request
//! ([`RequestContext::field_manager`](super::RequestContext)); what each endpoint may own
//! follows upstream's reset fields: the resource does not own `status` when the kind has a
//! status subresource, and the `status` subresource does not own `spec`. The managers of
//! a `scale` subresource live on the parent object ([`scale_view`], [`scale_back`]).

use apimachinery::errors::ApiError;
use managedfields::entries;
pub use managedfields::scale::ScaleHandler;
use managedfields::shape::Shape;
use managedfields::typed::Filter;
use managedfields::{FieldManager, Path, Set, VersionConverter};
use serde_json::Value;
use std::sync::Arc;

use super::resource::ResourceDecl;

/// The field manager of one endpoint of a kind; `None` for kinds without a declared type.
pub fn field_manager(decl: &ResourceDecl, subresource: &str) -> Option<FieldManager> {
    field_manager_with(decl, subresource, None)
}

/// [`field_manager`] of a kind served at several versions: `converter` compares each
/// manager's fields at the version it wrote them (`Store::version_converter`).
pub fn field_manager_with(
    decl: &ResourceDecl,
    subresource: &str,
    converter: Option<Arc<dyn VersionConverter>>,
) -> Option<FieldManager> {
    let schema = decl.schema.as_ref()?;
    let mut fm = FieldManager::new(
        Shape::root(schema),
        &decl.group,
        &decl.version,
        &decl.kind,
        subresource,
    );
    let reset = match subresource {
        "" if decl.subresource("status").is_some() => Some("status"),
        "status" => Some("spec"),
        _ => None,
    };
    if let Some(field) = reset {
        fm.filter = Filter::Exclude(Set::from_paths([Path::fields(&[field])]));
    }
    fm.converter = converter;
    Some(fm)
}

/// The declaration of the version a request was made at, when a view serves it over
/// another version's storage (`RequestContext::field_version`).
#[derive(Clone)]
pub struct RequestVersion(pub Arc<ResourceDecl>);

impl std::fmt::Debug for RequestVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequestVersion({})", self.0.api_version())
    }
}

/// Where a write's managers are recorded: the stored kind's declaration, the version the
/// request was made at when it is another (upstream's field manager runs at the request's
/// version), and the kind's versions (`Store::version_converter`).
pub struct Tracking<'a> {
    pub decl: &'a ResourceDecl,
    pub at: Option<&'a ResourceDecl>,
    pub converter: Option<Arc<dyn VersionConverter>>,
}

impl Tracking<'_> {
    /// Records a create by `manager` on `obj`. Kinds without a declared type carry no
    /// managed fields.
    pub fn create(&self, obj: &mut Value, manager: &str) {
        let now = apimachinery::time::now_rfc3339();
        if let Some((fm, from, to)) = self.at_request_version("") {
            if let Some(mut at) = self.convert(obj, &from, &to) {
                fm.update(None, &mut at, manager, &now);
                return copy_managed_fields(&at, obj);
            }
        }
        match field_manager_with(self.decl, "", self.converter.clone()) {
            Some(fm) => fm.update(None, obj, manager, &now),
            None => {
                if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("managedFields");
                }
            }
        }
    }

    /// Records an update or patch of `old` into `new` by `manager` (through
    /// `subresource`).
    pub fn update(&self, subresource: &str, old: &Value, new: &mut Value, manager: &str) {
        let now = apimachinery::time::now_rfc3339();
        if let Some((fm, from, to)) = self.at_request_version(subresource) {
            let converted = self
                .convert(old, &from, &to)
                .zip(self.convert(new, &from, &to));
            if let Some((old_at, mut new_at)) = converted {
                fm.update(Some(&old_at), &mut new_at, manager, &now);
                return copy_managed_fields(&new_at, new);
            }
        }
        match field_manager_with(self.decl, subresource, self.converter.clone()) {
            Some(fm) => fm.update(Some(old), new, manager, &now),
            None => {
                let kept = old.pointer("/metadata/managedFields").cloned();
                super::meta::set_meta(new, "managedFields", kept);
            }
        }
    }

    /// The field manager at the request's version, with the stored and the request's API
    /// versions, when the request was made at another version than the stored one.
    fn at_request_version(&self, subresource: &str) -> Option<(FieldManager, String, String)> {
        let at = self.at?;
        let (from, to) = (self.decl.api_version(), at.api_version());
        if from == to {
            return None;
        }
        let fm = field_manager_with(at, subresource, self.converter.clone())?;
        Some((fm, from, to))
    }

    fn convert(&self, obj: &Value, from: &str, to: &str) -> Option<Value> {
        self.converter.as_ref()?.convert(obj, from, to)
    }
}

fn copy_managed_fields(from: &Value, to: &mut Value) {
    let entries = from.pointer("/metadata/managedFields").cloned();
    super::meta::set_meta(to, "managedFields", entries);
}

/// The manager a request names: `fieldManager`, else the User-Agent up to its first `/`
/// (printable characters, at most 128), as upstream's handlers take it.
pub fn manager_from_request(field_manager: &str, user_agent: &str) -> String {
    if !field_manager.is_empty() {
        return field_manager.to_string();
    }
    let prefix = user_agent.split('/').next().unwrap_or("");
    let mut out = String::new();
    for c in prefix.chars() {
        if c.is_control() {
            continue;
        }
        if out.len() >= 128 {
            break;
        }
        out.push(c);
    }
    out
}

/// The `managedFields` a `scale` write sees on the `Scale` of `parent` (see
/// [`managedfields::scale`]); `None` when no manager owns the parent's replicas.
pub fn scale_view(handler: &ScaleHandler, parent: &Value) -> Result<Option<Value>, ApiError> {
    let managers = entries::decode(parent).map_err(decode_error)?;
    Ok(entries::encode(&handler.to_subresource(&managers)))
}

/// The parent's `managedFields` after a `scale` write left `scale` (with its managers).
pub fn scale_back(
    handler: &ScaleHandler,
    parent: &Value,
    scale: &Value,
) -> Result<Option<Value>, ApiError> {
    let parent_managers = entries::decode(parent).map_err(decode_error)?;
    let scale_managers = entries::decode(scale).map_err(decode_error)?;
    Ok(entries::encode(
        &handler.to_parent(&parent_managers, &scale_managers),
    ))
}

fn decode_error(e: entries::EntryError) -> ApiError {
    ApiError::internal(&format!("failed to decode managed fields: {e}"))
}

/// Records a write's managers as upstream does, before mutating admission: its handlers run
/// the field manager on the object as the request made it (decoded and defaulted), so what
/// admission adds belongs to no manager. `before` is the object before admission when
/// admission changed it; `obj` is the object admission and the strategy left. The managers
/// are then recorded on `before` put through the same strategy step (`prepare`: the
/// defaults and preparation `obj` had) and copied onto `obj`; with no `before`, on `obj`
/// itself. `track` records the managers on the object it is given.
pub fn track_before_admission(
    before: Option<Value>,
    obj: &mut Value,
    prepare: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    track: impl Fn(&mut Value),
) {
    let Some(mut basis) = before else {
        return track(obj);
    };
    // The system fields the store set after admission (a strategy may read them).
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "generation",
    ] {
        let value = obj.pointer(&format!("/metadata/{field}")).cloned();
        super::meta::set_meta(&mut basis, field, value);
    }
    if prepare(&mut basis).is_err() {
        return track(obj);
    }
    track(&mut basis);
    super::meta::set_meta(
        obj,
        "managedFields",
        basis.pointer("/metadata/managedFields").cloned(),
    );
}
