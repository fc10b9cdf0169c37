//! Volume validation (upstream's `ValidateVolumes` and `validateVolumeSource`): names, one
//! source per volume, and the checks of the sources users write most (emptyDir, hostPath,
//! secret, configMap, persistentVolumeClaim, downwardAPI, projected).

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use serde_json::{json, Value};

use super::super::fields::{array, str_of};
use super::super::netcheck;
use super::super::resourcelists;
use super::containers;

/// The pod's valid volumes: name → the JSON name of its source (`secret`, `emptyDir`).
pub type VolumeKinds = BTreeMap<String, String>;

const FILE_MODE_ERROR_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// Every volume source of `VolumeSource`, in upstream's order.
const SOURCES: [&str; 29] = [
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "quobyte",
    "cinder",
    "cephfs",
    "downwardAPI",
    "fc",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "csi",
    "configMap",
    "projected",
    "scaleIO",
    "storageos",
    "ephemeral",
    "image",
];

const HOST_PATH_TYPES: [&str; 8] = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

const VOLUME_FIELD_PATHS: [&str; 5] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];

/// `ValidateVolumes`: the errors, and the volumes that passed (what mounts may name).
pub fn validate_volumes(volumes: &[Value], path: &FieldPath) -> (VolumeKinds, Vec<FieldError>) {
    let mut kinds = VolumeKinds::new();
    let mut errs = Vec::new();
    for (i, volume) in volumes.iter().enumerate() {
        let at = path.index(i);
        let (kind, mut el) = validate_volume_source(volume, &at);
        let name = str_of(volume, "name");
        if name.is_empty() {
            el.push(FieldError::required(&at.child("name"), ""));
        } else {
            el.extend(netcheck::dns1123_label(name, &at.child("name")));
        }
        if kinds.contains_key(name) {
            el.push(FieldError::duplicate(&at.child("name"), json!(name)));
        }
        if el.is_empty() {
            kinds.insert(name.to_string(), kind.unwrap_or_default());
        } else {
            errs.extend(el);
        }
    }
    (kinds, errs)
}

fn source<'a>(volume: &'a Value, name: &str) -> Option<&'a Value> {
    volume.get(name).filter(|v| !v.is_null())
}

/// `validateVolumeSource`: exactly one source, and that source valid.
fn validate_volume_source(volume: &Value, path: &FieldPath) -> (Option<String>, Vec<FieldError>) {
    let mut errs = Vec::new();
    let mut kind = None;
    for name in SOURCES {
        let Some(src) = source(volume, name) else {
            continue;
        };
        if kind.is_some() {
            errs.push(FieldError::forbidden(
                &path.child(name),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        kind = Some(name.to_string());
        errs.extend(validate_source(name, src, &path.child(name)));
    }
    if kind.is_none() {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
    (kind, errs)
}

fn validate_source(kind: &str, src: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match kind {
        "emptyDir" => {
            let negative = src
                .get("sizeLimit")
                .and_then(resourcelists::quantity)
                .is_some_and(|q| q.value < 0.0);
            if negative {
                errs.push(FieldError::forbidden(
                    &path.child("sizeLimit"),
                    "SizeLimit field must be a valid resource quantity",
                ));
            }
        }
        "hostPath" => {
            let p = str_of(src, "path");
            if p.is_empty() {
                errs.push(FieldError::required(&path.child("path"), ""));
                return errs;
            }
            errs.extend(path_no_backsteps(p, &path.child("path")));
            if let Some(t) = src.get("type").and_then(Value::as_str) {
                if !HOST_PATH_TYPES.contains(&t) {
                    errs.push(FieldError::not_supported(
                        &path.child("type"),
                        json!(t),
                        &HOST_PATH_TYPES,
                    ));
                }
            }
        }
        "secret" | "configMap" => {
            let name_field = if kind == "secret" {
                "secretName"
            } else {
                "name"
            };
            if str_of(src, name_field).is_empty() {
                errs.push(FieldError::required(&path.child(name_field), ""));
            }
            errs.extend(validate_mode(src, "defaultMode", path));
            for (i, item) in array(src, "items").iter().enumerate() {
                errs.extend(validate_key_to_path(item, &path.child("items").index(i)));
            }
        }
        "persistentVolumeClaim" if str_of(src, "claimName").is_empty() => {
            errs.push(FieldError::required(&path.child("claimName"), ""));
        }
        "downwardAPI" => {
            errs.extend(validate_mode(src, "defaultMode", path));
            for (i, item) in array(src, "items").iter().enumerate() {
                errs.extend(validate_downward_file(item, &path.child("items").index(i)));
            }
        }
        "projected" => {
            errs.extend(validate_mode(src, "defaultMode", path));
        }
        _ => {}
    }
    errs
}

fn validate_mode(obj: &Value, field: &str, path: &FieldPath) -> Vec<FieldError> {
    match obj.get(field).and_then(Value::as_i64) {
        Some(mode) if !(0..=0o777).contains(&mode) => vec![FieldError::invalid(
            &path.child(field),
            json!(mode),
            FILE_MODE_ERROR_MSG,
        )],
        _ => Vec::new(),
    }
}

/// `validateKeyToPath`: a key, a relative path inside the volume, a valid mode.
fn validate_key_to_path(item: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if str_of(item, "key").is_empty() {
        errs.push(FieldError::required(&path.child("key"), ""));
    }
    let p = str_of(item, "path");
    if p.is_empty() {
        errs.push(FieldError::required(&path.child("path"), ""));
    }
    errs.extend(validate_local_non_reserved_path(p, &path.child("path")));
    errs.extend(validate_mode(item, "mode", path));
    errs
}

/// `validateDownwardAPIVolumeFile`.
fn validate_downward_file(item: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let p = str_of(item, "path");
    if p.is_empty() {
        errs.push(FieldError::required(&path.child("path"), ""));
    }
    errs.extend(validate_local_non_reserved_path(p, &path.child("path")));
    let field_ref = source(item, "fieldRef");
    let resource_ref = source(item, "resourceFieldRef");
    if let Some(f) = field_ref {
        errs.extend(containers::validate_object_field_selector(
            f,
            &VOLUME_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
        if resource_ref.is_some() {
            errs.push(FieldError::invalid(
                path,
                json!("resource"),
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ));
        }
    } else if let Some(r) = resource_ref {
        errs.extend(containers::validate_resource_field_selector(
            r,
            true,
            &path.child("resourceFieldRef"),
        ));
    } else {
        errs.push(FieldError::required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        ));
    }
    errs.extend(validate_mode(item, "mode", path));
    errs
}

fn path_no_backsteps(p: &str, path: &FieldPath) -> Vec<FieldError> {
    if p.split('/').any(|s| s == "..") {
        return vec![FieldError::invalid(path, json!(p), "must not contain '..'")];
    }
    Vec::new()
}

/// `validateLocalDescendingPath`: relative, without `..` steps.
pub fn validate_local_descending_path(p: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if p.starts_with('/') {
        errs.push(FieldError::invalid(
            path,
            json!(p),
            "must be a relative path",
        ));
    }
    errs.extend(path_no_backsteps(p, path));
    errs
}

/// `validateLocalNonReservedPath`: also not starting with `..`.
fn validate_local_non_reserved_path(p: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = validate_local_descending_path(p, path);
    if p.starts_with("..") {
        errs.push(FieldError::invalid(
            path,
            json!(p),
            "must not start with '..'",
        ));
    }
    errs
}
