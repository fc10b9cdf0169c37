//! Name, label, annotation and object-metadata validation with upstream's
//! messages (`k8s.io/apimachinery/pkg/util/validation`,
//! `pkg/api/validate/content` and `pkg/api/validation/objectmeta.go` of v1.36).
//!
//! Note that upstream words length limits differently in two packages: the
//! DNS-name and config-key checks say `must be no more than 63 characters`,
//! label keys and values (and a label key's DNS prefix) say `... bytes`.

use crate::errors::{FieldError, FieldPath};
use crate::gofmt::go_quote;
use crate::time::parse_rfc3339;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Maximum length of a DNS-1123 label.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Maximum length of a DNS-1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Maximum length of a DNS-1035 label.
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;
/// Maximum length of a label value (and of a label key's name part).
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Maximum total size of an object's annotations (keys plus values), in bytes.
pub const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES: usize = 256 * 1024;
/// Upstream's message for changed immutable fields.
pub const FIELD_IMMUTABLE_ERROR_MSG: &str = "field is immutable";
/// Upstream's message for negative values of non-negative fields.
pub const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";
/// Maximum length of a field manager name.
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;
/// Maximum length of a managedFields entry's subresource.
pub const MAX_SUBRESOURCE_NAME_LENGTH: usize = 256;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

/// `MaxLenError` of `util/validation`: `must be no more than N characters`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// `MaxLenError` of `api/validate/content` (label keys and values):
/// `must be no more than N bytes`.
fn content_max_len_error(length: usize) -> String {
    format!("must be no more than {length} bytes")
}

/// `RegexError`: `<msg> (e.g. 'a' or 'b', regex used for validation is '<fmt>')`.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push('\'');
        s.push_str(e);
        s.push_str("', ");
    }
    s.push_str("regex used for validation is '");
    s.push_str(fmt);
    s.push_str("')");
    s
}

/// `EmptyError`: `must be non-empty`.
pub fn empty_error() -> &'static str {
    "must be non-empty"
}

/// `InclusiveRangeError`: `must be between lo and hi, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Matches `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_lower_alnum(b[0])
        && is_lower_alnum(b[b.len() - 1])
        && b.iter().all(|c| is_lower_alnum(*c) || *c == b'-')
}

/// Matches the DNS-1123 subdomain regex.
fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

/// Matches `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn matches_label_key_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `IsDNS1123Label`: a lowercase RFC 1123 label (e.g. a namespace name).
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `IsDNS1123Subdomain`: a lowercase RFC 1123 subdomain (most object names).
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    dns1123_subdomain(value, max_len_error)
}

fn dns1123_subdomain(value: &str, max_len: fn(usize) -> String) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `IsDNS1035Label`: a DNS-1035 label (e.g. a Service name).
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    let b = value.as_bytes();
    let ok = !b.is_empty()
        && b[0].is_ascii_lowercase()
        && is_lower_alnum(b[b.len() - 1])
        && b.iter().all(|c| is_lower_alnum(*c) || *c == b'-');
    if !ok {
        errs.push(regex_error(
            DNS1035_LABEL_ERR_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `IsQualifiedName` (= `content.IsLabelKey`): a label or annotation key, an
/// optional DNS-subdomain prefix and `/`, then a name of at most 63 bytes.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                for msg in dns1123_subdomain(prefix, content_max_len_error) {
                    errs.push(format!("prefix part {msg}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_ERR_MSG, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            content_max_len_error(LABEL_VALUE_MAX_LENGTH)
        ));
    }
    if !matches_label_key_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                LABEL_KEY_ERR_MSG,
                LABEL_KEY_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `IsValidLabelValue` (= `content.IsLabelValue`): empty, or at most 63 bytes
/// of alphanumerics, `-`, `_`, `.` starting and ending alphanumeric.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(content_max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_label_key_name(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `IsConfigMapKey`: a key of ConfigMap/Secret `data`.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'));
    if !ok {
        errs.push(regex_error(
            CONFIG_MAP_KEY_ERR_MSG,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if value == "." {
        errs.push("must not be '.'".to_string());
    } else if value == ".." {
        errs.push("must not be '..'".to_string());
    } else if value.starts_with("..") {
        errs.push("must not start with '..'".to_string());
    }
    errs
}

/// For a `generateName` prefix: a trailing dash is masked (as upstream's
/// `maskTrailingDash`, which replaces the last *two* bytes with `a`).
fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') {
        // The last two bytes are ASCII ('-' and whatever precedes it, unless a
        // multi-byte character does); cut at a char boundary in any case.
        let mut cut = name.len() - 2;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}a", &name[..cut])
    } else {
        name.to_string()
    }
}

/// `NameIsDNSSubdomain`: names that must be DNS subdomains; `prefix` is true
/// for a `generateName`.
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1123_subdomain(&mask_trailing_dash(name))
    } else {
        is_dns1123_subdomain(name)
    }
}

/// `NameIsDNSLabel`: names that must be DNS-1123 labels.
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1123_label(&mask_trailing_dash(name))
    } else {
        is_dns1123_label(name)
    }
}

/// `NameIsDNS1035Label`: names that must be DNS-1035 labels (Services).
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1035_label(&mask_trailing_dash(name))
    } else {
        is_dns1035_label(name)
    }
}

/// `ValidatePathSegmentName`: the loosest name rule, for kinds whose names need only be
/// usable in a URL path (events): not `.` or `..`, no `/` or `%`.
pub fn name_is_path_segment(name: &str, prefix: bool) -> Vec<String> {
    if !prefix {
        if let Some(bad) = [".", ".."].into_iter().find(|bad| name == *bad) {
            return vec![format!("may not be '{bad}'")];
        }
    }
    ["/", "%"]
        .into_iter()
        .filter(|bad| name.contains(bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

/// `ValidateNamespaceName` (= [`name_is_dns_label`]).
pub fn validate_namespace_name(name: &str, prefix: bool) -> Vec<String> {
    name_is_dns_label(name, prefix)
}

/// `ValidateLabelName`: one error per problem with a label key, at `path`.
pub fn validate_label_name(key: &str, path: &FieldPath) -> Vec<FieldError> {
    is_qualified_name(key)
        .iter()
        .map(|m| FieldError::invalid(path, key, m))
        .collect()
}

/// `ValidateLabels`: keys and values of a labels map (errors at `path` itself,
/// not keyed, as upstream). Non-string values are reported as type errors.
pub fn validate_labels(labels: &Map<String, Value>, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels {
        errs.extend(validate_label_name(k, path));
        match v {
            Value::String(s) => {
                for m in is_valid_label_value(s) {
                    errs.push(FieldError::invalid(path, s.as_str(), &m));
                }
            }
            other => errs.push(FieldError::type_invalid(
                &path.key(k),
                other.clone(),
                "must be a string",
            )),
        }
    }
    errs
}

/// `ValidateAnnotations`: keys (case-insensitively qualified names) and the
/// total size limit of 256 KiB.
pub fn validate_annotations(annotations: &Map<String, Value>, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total: usize = 0;
    for (k, v) in annotations {
        for m in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, k.as_str(), &m));
        }
        total += k.len();
        match v {
            Value::String(s) => total += s.len(),
            other => errs.push(FieldError::type_invalid(
                &path.key(k),
                other.clone(),
                "must be a string",
            )),
        }
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES {
        errs.push(FieldError::too_long(
            path,
            "",
            TOTAL_ANNOTATION_SIZE_LIMIT_BYTES,
        ));
    }
    errs
}

/// `ValidateFinalizers`: qualified names, and not both `orphan` and `foregroundDeletion`.
pub fn validate_finalizers(finalizers: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut orphan = false;
    let mut foreground = false;
    for f in finalizers {
        let Some(s) = f.as_str() else {
            errs.push(FieldError::type_invalid(
                path,
                f.clone(),
                "must be a string",
            ));
            continue;
        };
        for m in is_qualified_name(s) {
            errs.push(FieldError::invalid(path, s, &m));
        }
        orphan |= s == "orphan";
        foreground |= s == "foregroundDeletion";
    }
    if orphan && foreground {
        errs.push(FieldError::invalid(
            path,
            Value::Array(finalizers.to_vec()),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Splits an apiVersion into (group, version) as `schema.ParseGroupVersion`,
/// `None` when it has more than one `/`.
fn parse_group_version(api_version: &str) -> Option<(&str, &str)> {
    if api_version.is_empty() || api_version == "/" {
        return Some(("", ""));
    }
    match api_version.matches('/').count() {
        0 => Some(("", api_version)),
        1 => api_version.split_once('/'),
        _ => None,
    }
}

/// An ownerReference re-serialised in `metav1.OwnerReference` field order, as
/// upstream prints it in messages.
fn owner_reference_value(r: &Value) -> Value {
    let mut m = Map::new();
    for k in ["apiVersion", "kind", "name", "uid"] {
        m.insert(k.into(), json!(str_field(r, k)));
    }
    for k in ["controller", "blockOwnerDeletion"] {
        if let Some(b) = r.get(k).filter(|v| !v.is_null()) {
            m.insert(k.into(), b.clone());
        }
    }
    Value::Object(m)
}

/// `ValidateOwnerReferences`: apiVersion/kind/name/uid present, no Event owners,
/// at most one controller.
pub fn validate_owner_references(refs: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut first_controller: Option<String> = None;
    for r in refs {
        let api_version = str_field(r, "apiVersion");
        let kind = str_field(r, "kind");
        let (group, version) = parse_group_version(api_version).unwrap_or(("", ""));
        if version.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        if kind.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("kind"),
                kind,
                "must not be empty",
            ));
        }
        let name = str_field(r, "name");
        if name.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("name"),
                name,
                "must not be empty",
            ));
        }
        let uid = str_field(r, "uid");
        if uid.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("uid"),
                uid,
                "must not be empty",
            ));
        }
        if group.is_empty() && version == "v1" && kind == "Event" {
            errs.push(FieldError::invalid(
                path,
                owner_reference_value(r),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{name}");
            match &first_controller {
                Some(first) => errs.push(FieldError::invalid(
                    path,
                    Value::Array(refs.iter().map(owner_reference_value).collect()),
                    &format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errs
}

/// `ValidateFieldManager`: at most 128 bytes, printable characters only.
pub fn validate_field_manager(manager: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if manager.len() > FIELD_MANAGER_MAX_LENGTH {
        errs.push(FieldError::too_long(path, "", FIELD_MANAGER_MAX_LENGTH));
    }
    for (i, c) in manager.char_indices() {
        if !crate::gofmt::is_go_print(c) {
            // Go's %#U of a non-printable rune is just "U+XXXX".
            errs.push(FieldError::invalid(
                path,
                manager,
                &format!("invalid character U+{:04X} (at position {i})", c as u32),
            ));
        }
    }
    errs
}

/// `ValidateDryRun`: every value must be `All` (the bad value shown is the whole list).
pub fn validate_dry_run(values: &[String], path: &FieldPath) -> Vec<FieldError> {
    if values.iter().all(|v| v == "All") {
        return Vec::new();
    }
    vec![FieldError::not_supported(path, json!(values), &["All"])]
}

/// `ValidateManagedFields`: operation, fieldsType, manager and subresource.
pub fn validate_managed_fields(entries: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let p = path.index(i);
        let op = str_field(e, "operation");
        if op != "Apply" && op != "Update" {
            errs.push(FieldError::invalid(
                &p.child("operation"),
                op,
                "must be `Apply` or `Update`",
            ));
        }
        let ft = str_field(e, "fieldsType");
        if !ft.is_empty() && ft != "FieldsV1" {
            errs.push(FieldError::invalid(
                &p.child("fieldsType"),
                ft,
                "must be `FieldsV1`",
            ));
        }
        errs.extend(validate_field_manager(
            str_field(e, "manager"),
            &p.child("manager"),
        ));
        if str_field(e, "subresource").len() > MAX_SUBRESOURCE_NAME_LENGTH {
            errs.push(FieldError::too_long(
                &p.child("subresource"),
                "",
                MAX_SUBRESOURCE_NAME_LENGTH,
            ));
        }
    }
    errs
}

fn object_field<'a>(meta: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    meta.get(key).and_then(Value::as_object)
}

fn array_field<'a>(meta: &'a Value, key: &str) -> &'a [Value] {
    meta.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The parts of object-meta validation shared by create and update
/// (`validateObjectMetaAccessorWithOptsCommon`).
fn validate_object_meta_common(
    meta: &Value,
    namespaced: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let namespace = str_field(meta, "namespace");
    if namespaced {
        if namespace.is_empty() {
            errs.push(FieldError::required(&path.child("namespace"), ""));
        } else {
            for m in validate_namespace_name(namespace, false) {
                errs.push(FieldError::invalid(&path.child("namespace"), namespace, &m));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("namespace"),
            "not allowed on this type",
        ));
    }
    if let Some(g) = meta.get("generation").and_then(Value::as_i64) {
        if g < 0 {
            errs.push(FieldError::invalid(
                &path.child("generation"),
                g,
                IS_NEGATIVE_ERROR_MSG,
            ));
        }
    }
    if let Some(labels) = object_field(meta, "labels") {
        errs.extend(validate_labels(labels, &path.child("labels")));
    }
    if let Some(annotations) = object_field(meta, "annotations") {
        errs.extend(validate_annotations(
            annotations,
            &path.child("annotations"),
        ));
    }
    errs.extend(validate_owner_references(
        array_field(meta, "ownerReferences"),
        &path.child("ownerReferences"),
    ));
    errs.extend(validate_finalizers(
        array_field(meta, "finalizers"),
        &path.child("finalizers"),
    ));
    errs.extend(validate_managed_fields(
        array_field(meta, "managedFields"),
        &path.child("managedFields"),
    ));
    errs
}

/// `ValidateObjectMeta` on a JSON `metadata` object at creation (after name
/// generation): generateName and name (via `name_fn`, whose `bool` is true for
/// the generateName prefix), namespace required/forbidden, generation,
/// labels, annotations, ownerReferences, finalizers and managedFields.
pub fn validate_object_meta(
    meta: &Value,
    namespaced: bool,
    name_fn: &dyn Fn(&str, bool) -> Vec<String>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let generate_name = str_field(meta, "generateName");
    if !generate_name.is_empty() {
        for m in name_fn(generate_name, true) {
            errs.push(FieldError::invalid(
                &path.child("generateName"),
                generate_name,
                &m,
            ));
        }
    }
    let name = str_field(meta, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for m in name_fn(name, false) {
            errs.push(FieldError::invalid(&path.child("name"), name, &m));
        }
    }
    errs.extend(validate_object_meta_common(meta, namespaced, path));
    errs
}

/// A timestamp field that is set (not absent, `null` or empty).
fn present_time(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null() && v.as_str() != Some(""))
}

/// Semantic equality of two optional timestamps (`metav1.Time` compares instants).
fn same_time(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (present_time(a), present_time(b)) {
        (None, None) => true,
        (Some(x), Some(y)) => match (
            x.as_str().and_then(parse_rfc3339),
            y.as_str().and_then(parse_rfc3339),
        ) {
            (Some(tx), Some(ty)) => tx == ty,
            _ => x == y,
        },
        _ => false,
    }
}

/// The value printed for an immutable optional field: the JSON value or `null`.
fn or_null(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or(Value::Null)
}

/// `ValidateObjectMetaUpdate` on JSON `metadata` objects: no new finalizers
/// while deleting, resourceVersion present, generation not decremented,
/// immutable name/namespace/uid/creationTimestamp/deletionTimestamp/
/// deletionGracePeriodSeconds, then labels, annotations, ownerReferences and
/// managedFields of the new object.
pub fn validate_object_meta_update(
    new_meta: &Value,
    old_meta: &Value,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();

    let deleting = old_meta
        .get("deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    if deleting {
        let old: BTreeSet<&str> = array_field(old_meta, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let extra: BTreeSet<&str> = array_field(new_meta, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .filter(|f| !old.contains(f))
            .collect();
        if !extra.is_empty() {
            let listed: Vec<String> = extra.iter().map(|s| go_quote(s)).collect();
            errs.push(FieldError::forbidden(
                &path.child("finalizers"),
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    listed.join(", ")
                ),
            ));
        }
    }

    let rv = str_field(new_meta, "resourceVersion");
    if rv.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("resourceVersion"),
            rv,
            "must be specified for an update",
        ));
    }

    let new_gen = new_meta
        .get("generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let old_gen = old_meta
        .get("generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if new_gen < old_gen {
        errs.push(FieldError::invalid(
            &path.child("generation"),
            new_gen,
            "must not be decremented",
        ));
    }

    for key in ["name", "namespace", "uid"] {
        let (n, o) = (str_field(new_meta, key), str_field(old_meta, key));
        if n != o {
            errs.push(FieldError::invalid(
                &path.child(key),
                n,
                FIELD_IMMUTABLE_ERROR_MSG,
            ));
        }
    }
    for key in ["creationTimestamp", "deletionTimestamp"] {
        let (n, o) = (new_meta.get(key), old_meta.get(key));
        if !same_time(n, o) {
            errs.push(FieldError::invalid(
                &path.child(key),
                or_null(n),
                FIELD_IMMUTABLE_ERROR_MSG,
            ));
        }
    }
    let grace = "deletionGracePeriodSeconds";
    let norm = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    if norm(new_meta.get(grace)) != norm(old_meta.get(grace)) {
        errs.push(FieldError::invalid(
            &path.child(grace),
            or_null(new_meta.get(grace)),
            FIELD_IMMUTABLE_ERROR_MSG,
        ));
    }

    if let Some(labels) = object_field(new_meta, "labels") {
        errs.extend(validate_labels(labels, &path.child("labels")));
    }
    if let Some(annotations) = object_field(new_meta, "annotations") {
        errs.extend(validate_annotations(
            annotations,
            &path.child("annotations"),
        ));
    }
    errs.extend(validate_owner_references(
        array_field(new_meta, "ownerReferences"),
        &path.child("ownerReferences"),
    ));
    errs.extend(validate_managed_fields(
        array_field(new_meta, "managedFields"),
        &path.child("managedFields"),
    ));
    errs
}

#[cfg(test)]
mod tests {

    use super::*;

    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    #[test]
    fn path_segment_names() {
        assert!(name_is_path_segment("c1.17a8f2e3b0c1d2e3", false).is_empty());
        assert!(name_is_path_segment("Upper_Case ok", false).is_empty());
        assert_eq!(name_is_path_segment("..", false), ["may not be '..'"]);
        assert!(name_is_path_segment("..", true).is_empty());
        assert_eq!(
            name_is_path_segment("a/b%c", false),
            ["may not contain '/'", "may not contain '%'"]
        );
    }

    fn meta_path() -> FieldPath {
        FieldPath::new("metadata")
    }

    #[test]
    fn regex_error_format() {
        // RegexError writes "', " after every example, so the second one
        // follows "', " and " or ": this is upstream's exact text.
        assert_eq!(
            regex_error("m", "f", &["a", "b"]),
            "m (e.g. 'a',  or 'b', regex used for validation is 'f')"
        );
        assert_eq!(
            regex_error("m", "f", &[]),
            "m (regex used for validation is 'f')"
        );
    }

    #[test]
    fn dns_label() {
        assert!(is_dns1123_label("my-name").is_empty());
        assert!(is_dns1123_label("0").is_empty());
        assert_eq!(is_dns1123_label("My-name"), vec![LABEL_MSG]);
        assert_eq!(
            is_dns1123_label("a.b"),
            vec!["must not contain dots".to_string()]
        );
        assert_eq!(is_dns1123_label(""), vec![LABEL_MSG]);
        let long = "a".repeat(64);
        assert_eq!(
            is_dns1123_label(&long),
            vec!["must be no more than 63 characters".to_string()]
        );
        assert!(is_dns1123_label(&"a".repeat(63)).is_empty());
    }

    #[test]
    fn dns_subdomain() {
        assert!(is_dns1123_subdomain("example.com").is_empty());
        assert!(is_dns1123_subdomain("a-b.c").is_empty());
        for bad in ["", "-a", "a-", "a..b", ".a", "a.", "A", "a_b"] {
            assert_eq!(
                is_dns1123_subdomain(bad),
                vec![SUBDOMAIN_MSG.to_string()],
                "{bad}"
            );
        }
        let long = format!("{}.b", "a".repeat(252));
        assert_eq!(
            is_dns1123_subdomain(&long),
            vec!["must be no more than 253 characters".to_string()]
        );
    }

    #[test]
    fn dns1035() {
        assert!(is_dns1035_label("abc-123").is_empty());
        assert_eq!(
            is_dns1035_label("1abc"),
            vec!["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]
        );
    }

    #[test]
    fn qualified_names() {
        for ok in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "prefix/name",
            "example.com/MyName",
            "a.b",
            "A_b.c-D",
        ] {
            assert!(is_qualified_name(ok).is_empty(), "{ok}");
        }
        let name_msg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            .to_string();
        assert_eq!(is_qualified_name("-bad"), vec![name_msg.clone()]);
        assert_eq!(
            is_qualified_name(""),
            vec!["name part must be non-empty".to_string(), name_msg.clone()]
        );
        assert_eq!(
            is_qualified_name("/x"),
            vec!["prefix part must be non-empty".to_string()]
        );
        assert_eq!(
            is_qualified_name("Example.com/x"),
            vec![format!("prefix part {SUBDOMAIN_MSG}")]
        );
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            vec!["name part must be no more than 63 bytes".to_string()]
        );
        assert_eq!(
            is_qualified_name(&format!("{}/a", "a".repeat(254))),
            vec!["prefix part must be no more than 253 bytes".to_string()]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec!["a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string()]
        );
    }

    #[test]
    fn label_values() {
        for ok in [
            "",
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "end-with-num-1",
            "a_b.c",
        ] {
            assert!(is_valid_label_value(ok).is_empty(), "{ok}");
        }
        let msg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        assert_eq!(is_valid_label_value("-x"), vec![msg.to_string()]);
        assert_eq!(is_valid_label_value("a b"), vec![msg.to_string()]);
        assert_eq!(
            is_valid_label_value(&"a".repeat(64)),
            vec!["must be no more than 63 bytes".to_string()]
        );
    }

    #[test]
    fn config_map_keys() {
        for ok in ["a", "key.name", "KEY_NAME", "key-name", ".dot", "a..b"] {
            assert!(is_config_map_key(ok).is_empty(), "{ok}");
        }
        let msg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
        assert_eq!(is_config_map_key("a b"), vec![msg.to_string()]);
        assert_eq!(is_config_map_key(""), vec![msg.to_string()]);
        assert_eq!(is_config_map_key("."), vec!["must not be '.'".to_string()]);
        assert_eq!(
            is_config_map_key(".."),
            vec!["must not be '..'".to_string()]
        );
        assert_eq!(
            is_config_map_key("..a"),
            vec!["must not start with '..'".to_string()]
        );
        assert_eq!(
            is_config_map_key(&"a".repeat(254)),
            vec!["must be no more than 253 characters".to_string()]
        );
    }

    #[test]
    fn generate_name_prefix() {
        assert!(name_is_dns_subdomain("foo-", true).is_empty());
        assert!(!name_is_dns_subdomain("foo-", false).is_empty());
        assert!(name_is_dns_label("x-", true).is_empty());
        assert!(!name_is_dns_subdomain("Foo-", true).is_empty());
        // "-" alone is not masked (length 1).
        assert!(!name_is_dns_subdomain("-", true).is_empty());
        assert!(validate_namespace_name("default", false).is_empty());
    }

    fn ok_name(name: &str, prefix: bool) -> Vec<String> {
        name_is_dns_subdomain(name, prefix)
    }

    fn msgs(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn object_meta_create() {
        let errs = validate_object_meta(
            &json!({"namespace": "default"}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec!["metadata.name: Required value: name or generateName is required"]
        );

        let errs = validate_object_meta(
            &json!({"name": "Foo", "namespace": "default"}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec![format!(
                "metadata.name: Invalid value: \"Foo\": {SUBDOMAIN_MSG}"
            )]
        );

        let errs = validate_object_meta(&json!({"name": "a"}), true, &ok_name, &meta_path());
        assert_eq!(msgs(&errs), vec!["metadata.namespace: Required value"]);

        let errs = validate_object_meta(
            &json!({"name": "a", "namespace": "x"}),
            false,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );

        let errs = validate_object_meta(
            &json!({"name": "a", "namespace": "a.b"}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec!["metadata.namespace: Invalid value: \"a.b\": must not contain dots"]
        );

        let errs = validate_object_meta(
            &json!({"name": "a", "generateName": "Bad-", "namespace": "ns"}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec![format!(
                "metadata.generateName: Invalid value: \"Bad-\": {SUBDOMAIN_MSG}"
            )]
        );

        let errs = validate_object_meta(
            &json!({"name": "a", "namespace": "ns", "generation": -1}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec!["metadata.generation: Invalid value: -1: must be greater than or equal to 0"]
        );

        let errs = validate_object_meta(
            &json!({"name": "a", "namespace": "ns", "labels": {"a b": "c", "ok": "-x"}}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "metadata.labels");
        assert!(errs[0]
            .to_string()
            .starts_with("metadata.labels: Invalid value: \"a b\": name part must consist"));
        assert!(errs[1]
            .to_string()
            .starts_with("metadata.labels: Invalid value: \"-x\": a valid label must be"));

        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES);
        let errs = validate_object_meta(
            &json!({"name": "a", "namespace": "ns", "annotations": {"k": big, "Example.COM/Key": "v"}}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec!["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );

        let errs = validate_object_meta(
            &json!({"name": "a", "namespace": "ns", "finalizers": ["orphan", "foregroundDeletion", "bad/x/y"]}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[1].to_string(),
            "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\",\"bad/x/y\"]: finalizer orphan and foregroundDeletion cannot be both set"
        );

        let errs = validate_object_meta(
            &json!({"name": "a", "namespace": "ns", "ownerReferences": [
                {"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "u"},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r", "uid": "1", "controller": true},
                {"apiVersion": "", "kind": "", "name": "", "uid": "", "controller": true}
            ]}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec![
                "metadata.ownerReferences: Invalid value: {\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"e\",\"uid\":\"u\"}: /v1, Kind=Event is disallowed from being an owner".to_string(),
                "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty".to_string(),
                "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty".to_string(),
                "metadata.ownerReferences.name: Invalid value: \"\": must not be empty".to_string(),
                "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty".to_string(),
                "metadata.ownerReferences: Invalid value: [{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"e\",\"uid\":\"u\"},{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"r\",\"uid\":\"1\",\"controller\":true},{\"apiVersion\":\"\",\"kind\":\"\",\"name\":\"\",\"uid\":\"\",\"controller\":true}]: Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/r and /".to_string(),
            ]
        );

        let errs = validate_object_meta(
            &json!({"name": "a", "namespace": "ns", "managedFields": [{"manager": "m", "operation": "Bad", "fieldsType": "X"}]}),
            true,
            &ok_name,
            &meta_path(),
        );
        assert_eq!(
            msgs(&errs),
            vec![
                "metadata.managedFields[0].operation: Invalid value: \"Bad\": must be `Apply` or `Update`",
                "metadata.managedFields[0].fieldsType: Invalid value: \"X\": must be `FieldsV1`",
            ]
        );
    }

    #[test]
    fn object_meta_update() {
        let old = json!({"name": "a", "namespace": "ns", "uid": "1", "resourceVersion": "5",
            "creationTimestamp": "2024-01-01T00:00:00Z", "generation": 3});
        let mut new = old.clone();
        assert!(validate_object_meta_update(&new, &old, &meta_path()).is_empty());

        new["name"] = json!("b");
        new["uid"] = json!("2");
        new["creationTimestamp"] = json!("2024-01-02T00:00:00Z");
        new["generation"] = json!(2);
        new["resourceVersion"] = json!("");
        assert_eq!(
            msgs(&validate_object_meta_update(&new, &old, &meta_path())),
            vec![
                "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
                "metadata.generation: Invalid value: 2: must not be decremented",
                "metadata.name: Invalid value: \"b\": field is immutable",
                "metadata.uid: Invalid value: \"2\": field is immutable",
                "metadata.creationTimestamp: Invalid value: \"2024-01-02T00:00:00Z\": field is immutable",
            ]
        );

        // Same instant written differently is not a change.
        let mut same = old.clone();
        same["creationTimestamp"] = json!("2024-01-01T01:00:00+01:00");
        assert!(validate_object_meta_update(&same, &old, &meta_path()).is_empty());

        let mut gone = old.clone();
        gone.as_object_mut().unwrap().remove("creationTimestamp");
        gone["deletionGracePeriodSeconds"] = json!(30);
        assert_eq!(
            msgs(&validate_object_meta_update(&gone, &old, &meta_path())),
            vec![
                "metadata.creationTimestamp: Invalid value: null: field is immutable",
                "metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable",
            ]
        );

        let mut deleting = old.clone();
        deleting["deletionTimestamp"] = json!("2024-01-03T00:00:00Z");
        deleting["finalizers"] = json!(["a"]);
        let mut next = deleting.clone();
        next["finalizers"] = json!(["a", "c", "b"]);
        assert_eq!(
            msgs(&validate_object_meta_update(&next, &deleting, &meta_path())),
            vec!["metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"b\", \"c\"}"]
        );
    }
}
