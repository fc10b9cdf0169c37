//! Resource lists (`{name: quantity}`) as limit ranges and quotas hold them: quantity
//! values and upstream's resource name rules (`pkg/apis/core/helper`).

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::{json, Value};

/// `standardResources`: names valid without a domain.
const STANDARD_RESOURCES: [&str; 20] = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

/// A quantity as written (`"500m"`, `"1Gi"`, a JSON number): its text and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub text: String,
    pub value: f64,
}

/// The quantity of a JSON value, or `None` when it is no quantity (the type check already
/// refuses those).
pub fn quantity(v: &Value) -> Option<Quantity> {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let value = parse(&text)?;
    Some(Quantity { text, value })
}

/// `resource.ParseQuantity`'s value: a signed decimal number with a binary (`Ki`..`Ei`),
/// decimal (`n`..`E`) or exponent (`e3`) suffix.
fn parse(s: &str) -> Option<f64> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(end);
    let n: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * factor)
}

/// The entries of a resource list at `field` of `obj`, in the order written.
pub fn entries<'a>(obj: &'a Value, field: &str) -> Vec<(&'a str, &'a Value)> {
    obj.get(field)
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default()
}

/// `IsHugePageResourceName`.
fn is_huge_page(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// `IsStandardResourceName`: a standard name or a quota's huge page name.
fn is_standard(name: &str) -> bool {
    STANDARD_RESOURCES.contains(&name)
        || is_huge_page(name)
        || name.starts_with("requests.hugepages-")
}

/// `IsNativeResource`: no domain, or one under `kubernetes.io/`.
pub fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `IsOvercommitAllowed`: native resources other than huge pages.
pub fn is_overcommit_allowed(name: &str) -> bool {
    is_native(name) && !is_huge_page(name)
}

/// `IsExtendedResourceName`.
fn is_extended(name: &str) -> bool {
    if is_native(name) || name.starts_with("requests.") {
        return false;
    }
    validation::is_qualified_name(&format!("requests.{name}")).is_empty()
}

/// Upstream's `validateResourceName`: a qualified name, standard when it has no domain.
pub fn validate_resource_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let errs: Vec<FieldError> = validation::is_qualified_name(name)
        .iter()
        .map(|msg| FieldError::invalid(path, json!(name), msg))
        .collect();
    if !errs.is_empty() {
        return errs;
    }
    if !name.contains('/') && !is_standard(name) {
        return vec![FieldError::invalid(
            path,
            json!(name),
            "must be a standard resource type or fully qualified",
        )];
    }
    errs
}

/// Upstream's `validateContainerResourceName`.
pub fn validate_container_resource_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = validate_resource_name(name, path);
    if !name.contains('/') {
        if !(["cpu", "memory", "ephemeral-storage"].contains(&name) || is_huge_page(name)) {
            errs.push(FieldError::invalid(
                path,
                json!(name),
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native(name) && !is_extended(name) {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "doesn't follow extended resource name standard",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_with_suffixes() {
        let v = |s: &str| quantity(&json!(s)).map(|q| q.value);
        assert_eq!(v("1Gi"), Some(1073741824.0));
        assert_eq!(v("500m"), Some(0.5));
        assert_eq!(v("2k"), Some(2000.0));
        assert_eq!(v("1e3"), Some(1000.0));
        assert_eq!(v("-1"), Some(-1.0));
        assert_eq!(quantity(&json!(3)).map(|q| q.value), Some(3.0));
        assert_eq!(v("1Xi"), None);
    }

    #[test]
    fn resource_names() {
        let p = FieldPath::new("x");
        assert!(validate_resource_name("pods", &p).is_empty());
        assert!(validate_resource_name("example.com/widgets", &p).is_empty());
        assert_eq!(
            validate_resource_name("widgets", &p)[0].detail,
            "must be a standard resource type or fully qualified"
        );
        assert!(validate_container_resource_name("cpu", &p).is_empty());
        assert_eq!(
            validate_container_resource_name("pods", &p)[0].detail,
            "must be a standard resource for containers"
        );
        assert!(is_overcommit_allowed("cpu"));
        assert!(!is_overcommit_allowed("nvidia.com/gpu"));
    }
}
