//! `poddisruptionbudgets` (policy/v1): how many pods of a set voluntary disruptions may take.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields;
use crate::types::Typed;

/// The values of `spec.unhealthyPodEvictionPolicy`.
const EVICTION_POLICIES: [&str; 2] = ["AlwaysAllow", "IfHealthyBudget"];
const PERCENT_ERR_MSG: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";

/// Upstream's PodDisruptionBudget strategy: `status` is the disruption controller's.
pub struct PodDisruptionBudgetStrategy;

/// `IsValidPercent`: matches `[0-9]+%`.
fn percent_errors(s: &str) -> Vec<String> {
    let digits = s.strip_suffix('%').unwrap_or("");
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    vec![validation::regex_error(
        PERCENT_ERR_MSG,
        "[0-9]+%",
        &["1%", "93%"],
    )]
}

/// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent` of apps' validation.
pub(crate) fn validate_int_or_percent(v: &Value, path: &FieldPath, errs: &mut Vec<FieldError>) {
    match v {
        Value::String(s) => {
            let msgs = percent_errors(s);
            let valid = msgs.is_empty();
            for msg in msgs {
                errs.push(FieldError::invalid(path, json!(s), &msg));
            }
            let over = valid
                && s.trim_end_matches('%')
                    .parse::<u64>()
                    .map_or(true, |n| n > 100);
            if over {
                errs.push(FieldError::invalid(
                    path,
                    json!(s),
                    "must not be greater than 100%",
                ));
            }
        }
        Value::Number(n) if n.as_i64().is_some_and(|n| n < 0) => {
            errs.push(FieldError::invalid(
                path,
                v.clone(),
                validation::IS_NEGATIVE_ERROR_MSG,
            ));
        }
        Value::Number(_) => {}
        _ => errs.push(FieldError::invalid(
            path,
            v.clone(),
            "must be an integer or percentage (e.g '5%')",
        )),
    }
}

/// `ValidateLabelSelector` of meta/v1: `check_values` is false where upstream allows invalid
/// label values (an update of an object that already had them).
pub(crate) fn validate_label_selector(
    selector: &Value,
    check_values: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        errs.extend(validation::validate_labels(
            labels,
            &path.child("matchLabels"),
        ));
    }
    for (i, expr) in fields::array(selector, "matchExpressions")
        .iter()
        .enumerate()
    {
        let p = path.child("matchExpressions").index(i);
        let values = fields::array(expr, "values");
        match fields::str_of(expr, "operator") {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                &p.child("values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                &p.child("values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            op => errs.push(FieldError::invalid(
                &p.child("operator"),
                json!(op),
                "not a valid selector operator",
            )),
        }
        errs.extend(validation::validate_label_name(
            fields::str_of(expr, "key"),
            &p.child("key"),
        ));
        if check_values {
            for (j, value) in values.iter().enumerate() {
                let value = value.as_str().unwrap_or("");
                for msg in validation::is_valid_label_value(value) {
                    errs.push(FieldError::invalid(
                        &p.child("values").index(j),
                        json!(value),
                        &msg,
                    ));
                }
            }
        }
    }
    errs
}

/// Whether a selector has a match expression value that is no valid label value.
fn has_invalid_label_values(selector: &Value) -> bool {
    fields::array(selector, "matchExpressions").iter().any(|e| {
        fields::array(e, "values")
            .iter()
            .any(|v| !validation::is_valid_label_value(v.as_str().unwrap_or("")).is_empty())
    })
}

fn spec_field<'a>(obj: &'a Value, field: &str) -> Option<&'a Value> {
    obj.get("spec")
        .and_then(|s| s.get(field))
        .filter(|v| !v.is_null())
}

/// Upstream's `ValidatePodDisruptionBudgetSpec`.
fn validate_spec(obj: &Value, check_values: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let path = FieldPath::new("spec");
    let min = spec_field(obj, "minAvailable");
    let max = spec_field(obj, "maxUnavailable");
    if min.is_some() && max.is_some() {
        errs.push(FieldError::invalid(
            &path,
            obj.get("spec").cloned().unwrap_or(Value::Null),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    if let Some(v) = min {
        validate_int_or_percent(v, &path.child("minAvailable"), &mut errs);
    }
    if let Some(v) = max {
        validate_int_or_percent(v, &path.child("maxUnavailable"), &mut errs);
    }
    if let Some(selector) = spec_field(obj, "selector") {
        errs.extend(validate_label_selector(
            selector,
            check_values,
            &path.child("selector"),
        ));
    }
    if let Some(policy) = spec_field(obj, "unhealthyPodEvictionPolicy") {
        let policy = policy.as_str().unwrap_or("");
        if !EVICTION_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                &path.child("unhealthyPodEvictionPolicy"),
                json!(policy),
                &EVICTION_POLICIES,
            ));
        }
    }
    errs
}

/// Upstream's `ValidatePodDisruptionBudgetStatusUpdate` for policy/v1 (the counters).
fn validate_status(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("status");
    let status = obj.get("status").unwrap_or(&Value::Null);
    [
        "disruptionsAllowed",
        "currentHealthy",
        "desiredHealthy",
        "expectedPods",
    ]
    .into_iter()
    .filter_map(|f| {
        let v = status.get(f)?;
        v.as_i64().filter(|n| *n < 0).map(|_| {
            FieldError::invalid(&path.child(f), v.clone(), validation::IS_NEGATIVE_ERROR_MSG)
        })
    })
    .collect()
}

/// The empty status upstream writes on create (its counters are not omitted when zero).
fn empty_status() -> Value {
    json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})
}

/// An int-or-percent cell: the value as printed, or `N/A` when unset.
fn int_or_percent_cell(obj: &Value, field: &str) -> Cell {
    let text = match spec_field(obj, field) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "N/A".to_string(),
    };
    Cell::Value(json!(text))
}

impl Strategy for PodDisruptionBudgetStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        obj["status"] = empty_status();
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        new["status"] = old.get("status").cloned().unwrap_or_else(empty_status);
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_spec(obj, true)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let old_invalid = spec_field(old, "selector").is_some_and(has_invalid_label_values);
        validate_spec(new, !old_invalid)
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        _old: &Value,
    ) -> Vec<FieldError> {
        if subresource == "status" {
            validate_status(new)
        } else {
            Vec::new()
        }
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "Min Available",
                "string",
                "The minimum number of pods that must be available.",
            ),
            ColumnDef::new(
                "Max Unavailable",
                "string",
                "The maximum number of pods that may be unavailable.",
            ),
            ColumnDef::new(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let allowed = obj
            .pointer("/status/disruptionsAllowed")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        vec![
            int_or_percent_cell(obj, "minAvailable"),
            int_or_percent_cell(obj, "maxUnavailable"),
            Cell::Value(json!(allowed)),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        Scope::Namespaced,
        Arc::new(PodDisruptionBudgetStrategy),
    )
    .typed()
    .with_short_names(&["pdb"])
    .with_subresources(&["status"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdb(spec: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.error_body()))
            .collect()
    }

    #[test]
    fn min_and_max_are_exclusive_ints_or_percents() {
        assert!(validate_spec(&pdb(json!({"minAvailable": 1})), true).is_empty());
        assert!(validate_spec(&pdb(json!({"maxUnavailable": "100%"})), true).is_empty());
        let errs = validate_spec(&pdb(json!({"minAvailable": 1, "maxUnavailable": 1})), true);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec");
        assert_eq!(
            errs[0].detail,
            "minAvailable and maxUnavailable cannot be both set"
        );
        assert_eq!(
            messages(&validate_spec(&pdb(json!({"minAvailable": -1})), true)),
            ["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"]
        );
        assert_eq!(
            messages(&validate_spec(
                &pdb(json!({"maxUnavailable": "101%"})),
                true
            )),
            ["spec.maxUnavailable: Invalid value: \"101%\": must not be greater than 100%"]
        );
        assert_eq!(
            messages(&validate_spec(&pdb(json!({"minAvailable": "x"})), true)),
            ["spec.minAvailable: Invalid value: \"x\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]
        );
    }

    #[test]
    fn selector_and_eviction_policy() {
        let errs = validate_spec(
            &pdb(json!({"selector": {"matchExpressions": [
                {"key": "a", "operator": "In"},
                {"key": "b", "operator": "Exists", "values": ["x"]},
                {"key": "c", "operator": "Near", "values": ["x"]},
                {"key": "d", "operator": "In", "values": ["-bad"]},
            ]}, "unhealthyPodEvictionPolicy": "Never"})),
            true,
        );
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.selector.matchExpressions[0].values",
                "spec.selector.matchExpressions[1].values",
                "spec.selector.matchExpressions[2].operator",
                "spec.selector.matchExpressions[3].values[0]",
                "spec.unhealthyPodEvictionPolicy",
            ]
        );
        let errs = validate_spec(&pdb(json!({"selector": {"matchLabels": {"-": "x"}}})), true);
        assert_eq!(errs[0].field, "spec.selector.matchLabels");
    }

    #[test]
    fn status_is_split_and_validated() {
        let s = PodDisruptionBudgetStrategy;
        let mut created = pdb(json!({"minAvailable": 1}));
        created["status"] = json!({"disruptionsAllowed": 5});
        s.prepare_for_create(&mut created);
        assert_eq!(created["status"], empty_status());
        let mut old = created.clone();
        old["status"]["disruptionsAllowed"] = json!(2);
        let mut new = created.clone();
        s.prepare_for_update(&mut new, &old);
        assert_eq!(new["status"]["disruptionsAllowed"], 2);
        let mut status = pdb(json!({"minAvailable": 3}));
        status["status"] = json!({"disruptionsAllowed": -1});
        let merged = s
            .subresource_update("status", &status, &old)
            .unwrap_or_default();
        assert_eq!(merged["spec"]["minAvailable"], 1);
        assert_eq!(
            messages(&s.validate_subresource_update("status", &merged, &old)),
            ["status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"]
        );
    }

    #[test]
    fn table_cells() {
        let s = PodDisruptionBudgetStrategy;
        let mut p = pdb(json!({"minAvailable": "50%"}));
        p["status"] = json!({"disruptionsAllowed": 2});
        let cells = s.table_cells(&p);
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(cells[0], Cell::Value(json!("50%")));
        assert_eq!(cells[1], Cell::Value(json!("N/A")));
        assert_eq!(cells[2], Cell::Value(json!(2)));
        let cells = s.table_cells(&pdb(json!({"maxUnavailable": 1})));
        assert_eq!(cells[1], Cell::Value(json!("1")));
    }
}
