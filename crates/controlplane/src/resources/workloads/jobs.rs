//! `jobs` (batch/v1): pods run to completion, with upstream's defaults (`SetDefaults_Job`),
//! the generated selector (`controller-uid` labels unless `manualSelector`), validation
//! (`ValidateJob*`: an immutable template, except scheduling directives of a suspended job
//! that never started), status split, the `status.successful` field selector and columns.

use std::sync::Arc;
use std::time::SystemTime;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::selectors::label_selector_from_json;
use apimachinery::time::{human_duration, parse_rfc3339};
use apimachinery::validation;
use apiserver::registry::{
    meta, Cell, ColumnDef, DefaultStrategy, GcPolicy, ResourceDecl, Scope, Strategy,
};
use serde_json::{json, Map, Value};

use super::common::{self, int_of, object_at, present, spec, status};
use super::template;
use crate::resources::fields::{array, str_of};
use crate::types::Typed;

pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
pub const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
pub const LEGACY_JOB_NAME_LABEL: &str = "job-name";

const MAX_PARALLELISM_FOR_INDEXED: i64 = 100_000;
const MAX_FAILED_INDEXES: i64 = 100_000;
const COMPLETION_MODES: [&str; 2] = ["NonIndexed", "Indexed"];
const REPLACEMENT_POLICIES: [&str; 2] = ["Failed", "TerminatingOrFailed"];
const FAILURE_ACTIONS: [&str; 4] = ["Count", "FailIndex", "FailJob", "Ignore"];
const EXIT_CODE_OPERATORS: [&str; 2] = ["In", "NotIn"];
const CONDITION_STATUSES: [&str; 3] = ["False", "True", "Unknown"];

pub struct JobStrategy;

/// `SetDefaults_Job` (and the `manualSelector: false` a v1 Job reads back with).
pub fn default_job(obj: &mut Value) {
    let template_labels = spec(obj)
        .pointer("/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned();
    let spec = object_at(obj, "spec");
    default_job_spec(spec);
    common::default_field(spec, "manualSelector", json!(false));
    if let Some(labels) = template_labels {
        copy_template_labels(obj, labels);
    }
}

/// The defaults of a job spec (`SetDefaults_Job` without the labels).
fn default_job_spec(spec: &mut Map<String, Value>) {
    let unset = |s: &Map<String, Value>, f: &str| s.get(f).is_none_or(Value::is_null);
    if unset(spec, "completions") && unset(spec, "parallelism") {
        spec.insert("completions".to_string(), json!(1));
    }
    common::default_field(spec, "parallelism", json!(1));
    let per_index = !unset(spec, "backoffLimitPerIndex");
    common::default_field(
        spec,
        "backoffLimit",
        json!(if per_index { i32::MAX as i64 } else { 6 }),
    );
    common::default_field(spec, "completionMode", json!("NonIndexed"));
    common::default_field(spec, "suspend", json!(false));
    let has_failure_policy = !unset(spec, "podFailurePolicy");
    if let Some(rules) = spec
        .get_mut("podFailurePolicy")
        .and_then(|p| p.get_mut("rules"))
        .and_then(Value::as_array_mut)
    {
        for rule in rules {
            let patterns = rule
                .get_mut("onPodConditions")
                .and_then(Value::as_array_mut);
            for pattern in patterns.into_iter().flatten() {
                if let Some(p) = pattern.as_object_mut() {
                    if p.get("status")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .is_empty()
                    {
                        p.insert("status".to_string(), json!("True"));
                    }
                }
            }
        }
    }
    common::default_field(
        spec,
        "podReplacementPolicy",
        json!(if has_failure_policy {
            "Failed"
        } else {
            "TerminatingOrFailed"
        }),
    );
    if let Some(t) = spec.get_mut("template") {
        template::default_template(t);
    }
}

/// A job without labels of its own takes its template's.
fn copy_template_labels(obj: &mut Value, labels: Map<String, Value>) {
    if meta::labels(obj).is_empty() && !labels.is_empty() {
        meta::set_meta(obj, "labels", Some(Value::Object(labels)));
    }
}

/// `generateSelector`: the template gets the job's name and uid as labels (unless set), and
/// the selector requires the uid.
fn generate_selector(obj: &mut Value) {
    let name = meta::name(obj).to_string();
    let uid = meta::uid(obj).to_string();
    let spec = object_at(obj, "spec");
    let template = spec.entry("template").or_insert_with(|| json!({}));
    let labels = object_at(object_at_value(template, "metadata"), "labels");
    for (label, value) in [
        (LEGACY_JOB_NAME_LABEL, &name),
        (JOB_NAME_LABEL, &name),
        (LEGACY_CONTROLLER_UID_LABEL, &uid),
        (CONTROLLER_UID_LABEL, &uid),
    ] {
        labels
            .entry(label.to_string())
            .or_insert_with(|| json!(value));
    }
    let selector = spec.entry("selector").or_insert_with(|| json!({}));
    let match_labels = object_at(selector, "matchLabels");
    match_labels
        .entry(CONTROLLER_UID_LABEL.to_string())
        .or_insert_with(|| json!(uid));
}

/// The value at `field` of an object, made an object when it is not one.
fn object_at_value<'a>(v: &'a mut Value, field: &str) -> &'a mut Value {
    object_at(v, field);
    v.get_mut(field).expect("made above")
}

fn manual_selector(obj: &Value) -> bool {
    spec(obj)
        .get("manualSelector")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `ValidateHasLabel` on the template's labels.
fn has_label(obj: &Value, key: &str, expected: &str, errs: &mut Vec<FieldError>) {
    let path = FieldPath::new("spec")
        .child("template")
        .child("metadata")
        .child("labels")
        .key(key);
    let template = spec(obj).get("template").unwrap_or(&Value::Null);
    let labels = common::template_labels(template);
    let msg = format!("must be '{expected}'");
    match labels.get(key).and_then(Value::as_str) {
        None => errs.push(FieldError::required(&path, &msg)),
        Some(v) if v != expected => errs.push(FieldError::invalid(
            &path,
            Value::Object(labels.clone()),
            &msg,
        )),
        Some(_) => {}
    }
}

/// `validateGeneratedSelector`: with a generated selector, the template carries the job's
/// labels and the selector selects them.
fn validate_generated_selector(obj: &Value, prefixed: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(selector) = present(spec(obj), "selector") else {
        return errs;
    };
    if manual_selector(obj) {
        return errs;
    }
    let (name, uid) = (meta::name(obj), meta::uid(obj));
    if uid.is_empty() {
        errs.push(FieldError::required(
            &FieldPath::new("metadata").child("uid"),
            "",
        ));
    }
    has_label(obj, LEGACY_CONTROLLER_UID_LABEL, uid, &mut errs);
    has_label(obj, LEGACY_JOB_NAME_LABEL, name, &mut errs);
    let mut expected = Map::new();
    if prefixed {
        has_label(obj, CONTROLLER_UID_LABEL, uid, &mut errs);
        has_label(obj, JOB_NAME_LABEL, name, &mut errs);
        expected.insert(CONTROLLER_UID_LABEL.to_string(), json!(uid));
        expected.insert(JOB_NAME_LABEL.to_string(), json!(name));
    }
    expected.insert(LEGACY_CONTROLLER_UID_LABEL.to_string(), json!(uid));
    expected.insert(LEGACY_JOB_NAME_LABEL.to_string(), json!(name));
    if let Ok(sel) = label_selector_from_json(Some(selector)) {
        if !sel.matches(&expected) {
            errs.push(FieldError::invalid(
                &FieldPath::new("spec").child("selector"),
                selector.clone(),
                "`selector` not auto-generated",
            ));
        }
    }
    errs
}

/// `validatePodFailurePolicy`.
fn validate_pod_failure_policy(spec: &Value, policy: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let rules_path = path.child("rules");
    let rules = array(policy, "rules");
    if rules.len() > 20 {
        errs.push(FieldError::too_many(
            &rules_path,
            Some(rules.len() as i64),
            20,
        ));
    }
    let containers: Vec<&str> = ["containers", "initContainers"]
        .iter()
        .flat_map(|f| {
            spec.pointer("/template/spec")
                .map(|s| array(s, f))
                .unwrap_or(&[])
        })
        .map(|c| str_of(c, "name"))
        .collect();
    let per_index = present(spec, "backoffLimitPerIndex").is_some();
    for (i, rule) in rules.iter().enumerate() {
        let rule_path = rules_path.index(i);
        let action_path = rule_path.child("action");
        match str_of(rule, "action") {
            "" => errs.push(FieldError::required(
                &action_path,
                &format!("valid values: [{}]", quoted(&FAILURE_ACTIONS)),
            )),
            "FailIndex" if !per_index => errs.push(FieldError::invalid(
                &action_path,
                json!("FailIndex"),
                "requires the backoffLimitPerIndex to be set",
            )),
            a if !FAILURE_ACTIONS.contains(&a) => errs.push(FieldError::not_supported(
                &action_path,
                json!(a),
                &FAILURE_ACTIONS,
            )),
            _ => {}
        }
        let on_exit = present(rule, "onExitCodes");
        let on_conditions = array(rule, "onPodConditions");
        if let Some(exit) = on_exit {
            errs.extend(validate_on_exit_codes(
                exit,
                &rule_path.child("onExitCodes"),
                &containers,
            ));
        }
        for (j, pattern) in on_conditions.iter().enumerate() {
            let p = rule_path.child("onPodConditions").index(j);
            let kind = str_of(pattern, "type");
            for msg in validation::is_qualified_name(kind) {
                errs.push(FieldError::invalid(&p.child("type"), json!(kind), &msg));
            }
            match str_of(pattern, "status") {
                "" => errs.push(FieldError::required(
                    &p.child("status"),
                    &format!("valid values: [{}]", quoted(&CONDITION_STATUSES)),
                )),
                s if !CONDITION_STATUSES.contains(&s) => errs.push(FieldError::not_supported(
                    &p.child("status"),
                    json!(s),
                    &CONDITION_STATUSES,
                )),
                _ => {}
            }
        }
        if on_exit.is_some() && !on_conditions.is_empty() {
            errs.push(omitted_invalid(
                &rule_path,
                "specifying both OnExitCodes and OnPodConditions is not supported",
            ));
        }
        if on_exit.is_none() && on_conditions.is_empty() {
            errs.push(omitted_invalid(
                &rule_path,
                "specifying one of OnExitCodes and OnPodConditions is required",
            ));
        }
    }
    errs
}

/// An `Invalid` error whose value is omitted (`field.OmitValueType`).
fn omitted_invalid(path: &FieldPath, detail: &str) -> FieldError {
    let mut e = FieldError::invalid(path, Value::Null, detail);
    e.bad_value = None;
    e
}

/// Go's `%q` of a string slice's elements, space separated.
fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `validatePodFailurePolicyRuleOnExitCodes`.
fn validate_on_exit_codes(exit: &Value, path: &FieldPath, containers: &[&str]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let operator = str_of(exit, "operator");
    match operator {
        "" => errs.push(FieldError::required(
            &path.child("operator"),
            &format!("valid values: [{}]", quoted(&EXIT_CODE_OPERATORS)),
        )),
        o if !EXIT_CODE_OPERATORS.contains(&o) => errs.push(FieldError::not_supported(
            &path.child("operator"),
            json!(o),
            &EXIT_CODE_OPERATORS,
        )),
        _ => {}
    }
    if let Some(name) = exit.get("containerName").and_then(Value::as_str) {
        if !containers.contains(&name) {
            errs.push(FieldError::invalid(
                &path.child("containerName"),
                json!(name),
                "must be one of the container or initContainer names in the pod template",
            ));
        }
    }
    let values_path = path.child("values");
    let values: Vec<i64> = array(exit, "values")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    if values.is_empty() {
        errs.push(FieldError::invalid(
            &values_path,
            json!(values),
            "at least one value is required",
        ));
    } else if values.len() > 255 {
        errs.push(FieldError::too_many(
            &values_path,
            Some(values.len() as i64),
            255,
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (j, v) in values.iter().enumerate() {
        if operator == "In" && *v == 0 {
            errs.push(FieldError::invalid(
                &values_path.index(j),
                json!(v),
                "must not be 0 for the In operator",
            ));
        }
        if !seen.insert(*v) {
            errs.push(FieldError::duplicate(&values_path.index(j), json!(v)));
        }
    }
    if values.windows(2).any(|w| w[0] > w[1]) {
        errs.push(FieldError::invalid(
            &values_path,
            json!(values),
            "must be ordered",
        ));
    }
    errs
}

/// `validateJobSpec`: the checks a job spec and a cron job's job template share.
pub fn validate_job_spec(spec: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = common::nonnegatives(
        spec,
        &[
            "parallelism",
            "completions",
            "activeDeadlineSeconds",
            "backoffLimit",
            "ttlSecondsAfterFinished",
            "backoffLimitPerIndex",
            "maxFailedIndexes",
        ],
        path,
    );
    let completions = spec.get("completions").and_then(Value::as_i64);
    let max_failed = spec.get("maxFailedIndexes").and_then(Value::as_i64);
    let per_index = spec.get("backoffLimitPerIndex").and_then(Value::as_i64);
    if max_failed.is_some() && per_index.is_none() {
        errs.push(FieldError::required(
            &path.child("backoffLimitPerIndex"),
            "when maxFailedIndexes is specified",
        ));
    }
    let mode = spec.get("completionMode").and_then(Value::as_str);
    if let Some(m) = mode {
        if !COMPLETION_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                &path.child("completionMode"),
                json!(m),
                &COMPLETION_MODES,
            ));
        }
    }
    if mode == Some("Indexed") {
        if completions.is_none() {
            errs.push(FieldError::required(
                &path.child("completions"),
                "when completion mode is Indexed",
            ));
        }
        if let Some(p) = spec
            .get("parallelism")
            .and_then(Value::as_i64)
            .filter(|p| *p > MAX_PARALLELISM_FOR_INDEXED)
        {
            errs.push(FieldError::invalid(
                &path.child("parallelism"),
                json!(p),
                "must be less than or equal to 100000 when completion mode is Indexed",
            ));
        }
        if let (Some(c), Some(m)) = (completions, max_failed) {
            if m > c {
                errs.push(FieldError::invalid(
                    &path.child("maxFailedIndexes"),
                    json!(m),
                    "must be less than or equal to completions",
                ));
            }
        }
        if let Some(m) = max_failed.filter(|m| *m > MAX_FAILED_INDEXES) {
            errs.push(FieldError::invalid(
                &path.child("maxFailedIndexes"),
                json!(m),
                "must be less than or equal to 100000",
            ));
        }
    }
    if mode.is_none() || mode == Some("NonIndexed") {
        if let Some(b) = per_index {
            errs.push(FieldError::invalid(
                &path.child("backoffLimitPerIndex"),
                json!(b),
                "requires indexed completion mode",
            ));
        }
        if let Some(m) = max_failed {
            errs.push(FieldError::invalid(
                &path.child("maxFailedIndexes"),
                json!(m),
                "requires indexed completion mode",
            ));
        }
    }
    let failure_policy = present(spec, "podFailurePolicy");
    if let Some(policy) = failure_policy {
        errs.extend(validate_pod_failure_policy(
            spec,
            policy,
            &path.child("podFailurePolicy"),
        ));
    }
    if let Some(success) = present(spec, "successPolicy") {
        if mode != Some("Indexed") {
            errs.push(FieldError::invalid(
                &path.child("successPolicy"),
                success.clone(),
                "requires indexed completion mode",
            ));
        } else if array(success, "rules").is_empty() {
            errs.push(FieldError::required(
                &path.child("successPolicy").child("rules"),
                "at least one rules must be specified when the successPolicy is specified",
            ));
        }
    }
    if let Some(policy) = spec.get("podReplacementPolicy").and_then(Value::as_str) {
        let replacement_path = path.child("podReplacementPolicy");
        if failure_policy.is_some() {
            if policy != "Failed" {
                errs.push(FieldError::not_supported(
                    &replacement_path,
                    json!(policy),
                    &["Failed"],
                ));
            }
        } else if !REPLACEMENT_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                &replacement_path,
                json!(policy),
                &REPLACEMENT_POLICIES,
            ));
        }
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    let template_path = path.child("template");
    errs.extend(template::validate_template(template, &template_path));
    let restart_path = template_path.child("spec").child("restartPolicy");
    let restart = template
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("");
    match restart {
        "" | "Always" => errs.push(FieldError::required(
            &restart_path,
            "valid values: \"OnFailure\", \"Never\"",
        )),
        "OnFailure" | "Never" => {
            if failure_policy.is_some() && restart != "Never" {
                errs.push(FieldError::invalid(
                    &restart_path,
                    json!(restart),
                    "only \"Never\" is supported when podFailurePolicy is specified",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            &restart_path,
            json!(other),
            &["OnFailure", "Never"],
        )),
    }
    errs
}

/// `ValidateJob` beyond metadata; `prefixed` asks for the `batch.kubernetes.io/` labels too.
fn validate_job(obj: &Value, prefixed: bool, check_values: bool) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let spec = spec(obj);
    let mut errs = validate_generated_selector(obj, prefixed);
    errs.extend(validate_job_spec(spec, &path));
    let selector = present(spec, "selector");
    match selector {
        None => errs.push(FieldError::required(&path.child("selector"), "")),
        Some(sel) => errs.extend(
            crate::resources::poddisruptionbudgets::validate_label_selector(
                sel,
                check_values,
                &path.child("selector"),
            ),
        ),
    }
    if let Ok(sel) = label_selector_from_json(selector) {
        let template = spec.get("template").unwrap_or(&Value::Null);
        if !sel.matches(&common::template_labels(template)) {
            errs.push(common::selector_mismatch(&path.child("template"), template));
        }
    }
    let indexed = spec.get("completionMode").and_then(Value::as_str) == Some("Indexed");
    if let Some(c) = spec
        .get("completions")
        .and_then(Value::as_i64)
        .filter(|c| indexed && *c > 0)
    {
        let hostname = format!("{}-{}", meta::name(obj), c - 1);
        if !validation::is_dns1123_label(&hostname).is_empty() {
            errs.push(FieldError::invalid(
                &FieldPath::new("metadata").child("name"),
                json!(meta::name(obj)),
                &format!("will not able to create pod with invalid DNS label: {hostname}"),
            ));
        }
    }
    errs
}

/// Whether the old job's template had both prefixed labels (then updates must keep them).
fn had_prefixed_labels(old: &Value) -> bool {
    let labels = common::template_labels(spec(old).get("template").unwrap_or(&Value::Null));
    labels.contains_key(JOB_NAME_LABEL) && labels.contains_key(CONTROLLER_UID_LABEL)
}

/// The template as far as an update must leave it: for a suspended job that never started,
/// its scheduling directives, labels and annotations may change.
fn comparable_template(new: &Value, old: &Value) -> Value {
    let old_template = spec(old).get("template").cloned().unwrap_or(Value::Null);
    let suspended = spec(old).get("suspend").and_then(Value::as_bool) == Some(true);
    let never_started = present(status(old), "startTime").is_none();
    if !(suspended && never_started) {
        return old_template;
    }
    let new_template = spec(new).get("template").unwrap_or(&Value::Null);
    let mut t = old_template;
    let copy = |t: &mut Value, part: &str, field: &str| {
        let value = new_template.get(part).and_then(|p| p.get(field)).cloned();
        let target = object_at(t, part);
        match value {
            Some(v) => {
                target.insert(field.to_string(), v);
            }
            None => {
                target.remove(field);
            }
        }
    };
    for field in ["nodeSelector", "tolerations", "schedulingGates"] {
        copy(&mut t, "spec", field);
    }
    for field in ["labels", "annotations"] {
        copy(&mut t, "metadata", field);
    }
    let new_affinity = new_template
        .pointer("/spec/affinity")
        .filter(|a| !a.is_null());
    let spec_part = object_at(&mut t, "spec");
    let old_affinity = spec_part.get("affinity").filter(|a| !a.is_null()).cloned();
    match (new_affinity, old_affinity) {
        (None, Some(mut a)) => {
            if let Some(m) = a.as_object_mut() {
                m.remove("nodeAffinity");
            }
            if a.as_object().is_some_and(Map::is_empty) {
                spec_part.remove("affinity");
            } else {
                spec_part.insert("affinity".to_string(), a);
            }
        }
        (Some(n), None) => {
            let node = n.get("nodeAffinity").cloned();
            let mut a = Map::new();
            if let Some(node) = node {
                a.insert("nodeAffinity".to_string(), node);
            }
            spec_part.insert("affinity".to_string(), Value::Object(a));
        }
        (Some(n), Some(mut a)) => {
            if let Some(m) = a.as_object_mut() {
                match n.get("nodeAffinity") {
                    Some(node) => {
                        m.insert("nodeAffinity".to_string(), node.clone());
                    }
                    None => {
                        m.remove("nodeAffinity");
                    }
                }
            }
            spec_part.insert("affinity".to_string(), a);
        }
        (None, None) => {}
    }
    t
}

/// `ValidateJobSpecUpdate` beyond the spec's own checks: what may not change.
fn validate_spec_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let (n, o) = (spec(new), spec(old));
    let mut errs = Vec::new();
    let indexed = n.get("completionMode").and_then(Value::as_str) == Some("Indexed");
    let completions = n.get("completions").filter(|c| !c.is_null());
    if !indexed {
        errs.extend(common::immutable(
            completions,
            o.get("completions"),
            &path.child("completions"),
        ));
    } else if let Some(c) = completions.filter(|c| Some(*c) != o.get("completions")) {
        if Some(c) != n.get("parallelism") {
            errs.push(FieldError::invalid(
                &path.child("completions"),
                c.clone(),
                "can only be modified in tandem with spec.parallelism",
            ));
        }
    }
    errs.extend(common::immutable(
        n.get("selector"),
        o.get("selector"),
        &path.child("selector"),
    ));
    errs.extend(common::immutable(
        n.get("template"),
        Some(&comparable_template(new, old)),
        &path.child("template"),
    ));
    for field in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        errs.extend(common::immutable(
            n.get(field),
            o.get(field),
            &path.child(field),
        ));
    }
    errs
}

/// The non-negative counters and uncounted pods of a job's status.
fn validate_status(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("status");
    let status = status(obj);
    let mut errs = common::nonnegatives(
        status,
        &["active", "succeeded", "failed", "ready", "terminating"],
        &path,
    );
    if let Some(uncounted) = present(status, "uncountedTerminatedPods") {
        let mut seen = std::collections::BTreeSet::new();
        for part in ["succeeded", "failed"] {
            for (i, uid) in array(uncounted, part).iter().enumerate() {
                let p = path.child("uncountedTerminatedPods").child(part).index(i);
                let uid = uid.as_str().unwrap_or("");
                if uid.is_empty() {
                    errs.push(FieldError::invalid(&p, json!(uid), "must not be empty"));
                } else if !seen.insert(uid) {
                    errs.push(FieldError::duplicate(&p, json!(uid)));
                }
            }
        }
    }
    errs
}

/// Whether a condition of `kind` is `True`.
fn condition(obj: &Value, kind: &str) -> bool {
    array(status(obj), "conditions")
        .iter()
        .any(|c| str_of(c, "type") == kind && str_of(c, "status") == "True")
}

/// The `STATUS` cell.
fn status_cell(obj: &Value) -> &'static str {
    if condition(obj, "Complete") {
        "Complete"
    } else if condition(obj, "Failed") {
        "Failed"
    } else if meta::deletion_started(obj) {
        "Terminating"
    } else if condition(obj, "Suspended") {
        "Suspended"
    } else if condition(obj, "FailureTarget") {
        "FailureTarget"
    } else if condition(obj, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

/// The `COMPLETIONS` cell: `succeeded/completions`, or `/1` (with the parallelism) for a job
/// that needs one success.
fn completions_cell(obj: &Value) -> String {
    let succeeded = int_of(status(obj), "succeeded");
    match spec(obj).get("completions").and_then(Value::as_i64) {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let parallelism = int_of(spec(obj), "parallelism");
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}")
            } else {
                format!("{succeeded}/1")
            }
        }
    }
}

/// The `DURATION` cell: from start to completion, or to now while running.
fn duration_cell(obj: &Value) -> String {
    let time = |f: &str| {
        status(obj)
            .get(f)
            .and_then(Value::as_str)
            .and_then(parse_rfc3339)
    };
    let Some(start) = time("startTime") else {
        return String::new();
    };
    let end = time("completionTime").unwrap_or_else(SystemTime::now);
    human_duration(end.duration_since(start).unwrap_or_default())
}

impl Strategy for JobStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        default_job(obj);
        if !manual_selector(obj) {
            generate_selector(obj);
        }
        common::reset_status(obj, json!({}));
        // Read back, a job without labels shows its (now generated) template labels.
        if let Some(labels) = spec(obj)
            .pointer("/template/metadata/labels")
            .and_then(Value::as_object)
            .cloned()
        {
            copy_template_labels(obj, labels);
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        default_job(new);
        common::reset_status(new, common::old_status(old, json!({})));
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_job(obj, true, true)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let old_invalid = present(spec(old), "selector").is_some_and(|s| {
            array(s, "matchExpressions").iter().any(|e| {
                array(e, "values")
                    .iter()
                    .any(|v| !validation::is_valid_label_value(v.as_str().unwrap_or("")).is_empty())
            })
        });
        let mut errs = validate_job(new, had_prefixed_labels(old), !old_invalid);
        errs.extend(validate_spec_update(new, old));
        errs
    }

    fn warnings_on_create(&self, obj: &Value) -> Vec<String> {
        common::dns_label_name_warning(obj)
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        spec(new) != spec(old)
    }

    /// batch/v1 orphans a job's pods unless the delete says otherwise, as upstream.
    fn gc_policy(&self) -> GcPolicy {
        GcPolicy::OrphanDependents
    }

    fn subresource_update(&self, subresource: &str, new: &Value, old: &Value) -> Option<Value> {
        (subresource == "status").then(|| common::status_update(new, old, false))
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        _old: &Value,
    ) -> Vec<FieldError> {
        if subresource != "status" {
            return Vec::new();
        }
        validate_status(new)
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("Status", "string", "Status of the job."),
            ColumnDef::new(
                "Completions",
                "string",
                "Pods that succeeded out of those asked for.",
            ),
            ColumnDef::new("Duration", "string", "Time required to complete the job."),
            ColumnDef::AGE,
        ]
        .into_iter()
        .chain(common::template_columns(Some(
            "The label query over pods the job counts.",
        )))
        .collect()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let spec = spec(obj);
        let template = spec.get("template").unwrap_or(&Value::Null);
        vec![
            Cell::Value(json!(status_cell(obj))),
            Cell::Value(json!(completions_cell(obj))),
            Cell::Value(json!(duration_cell(obj))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
        .into_iter()
        .chain(common::template_cells(
            template,
            Some(common::selector_cell(spec.get("selector"))),
        ))
        .collect()
    }

    fn selectable_fields(&self) -> &[&'static str] {
        &["status.successful"]
    }

    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        match field {
            "status.successful" => Some(int_of(status(obj), "succeeded").to_string()),
            other => DefaultStrategy.field_value(obj, other),
        }
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "batch",
        "v1",
        "Job",
        "jobs",
        Scope::Namespaced,
        Arc::new(JobStrategy),
    )
    .typed()
    .with_categories(&["all"])
    .with_subresources(&["status"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(spec: Value) -> Value {
        json!({"metadata": {"name": "pi", "namespace": "default", "uid": "u-1"}, "spec": spec})
    }

    fn created() -> Value {
        let mut j = job(json!({"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}}));
        JobStrategy.prepare_for_create(&mut j);
        j
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn defaults_and_generated_selector() {
        let j = created();
        let spec = &j["spec"];
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["manualSelector"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(
            spec["selector"],
            json!({"matchLabels": {CONTROLLER_UID_LABEL: "u-1"}})
        );
        let want = json!({CONTROLLER_UID_LABEL: "u-1", JOB_NAME_LABEL: "pi",
            "controller-uid": "u-1", "job-name": "pi"});
        assert_eq!(spec["template"]["metadata"]["labels"], want);
        assert_eq!(j["metadata"]["labels"], want);
        assert_eq!(j["status"], json!({}));
        assert!(
            JobStrategy.validate(&j).is_empty(),
            "{:?}",
            JobStrategy.validate(&j)
        );
    }

    #[test]
    fn parallel_and_per_index_defaults() {
        let mut j = job(json!({"parallelism": 3, "completionMode": "Indexed",
            "completions": 5, "backoffLimitPerIndex": 1,
            "podFailurePolicy": {"rules": [{"action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget"}]}]}}));
        default_job(&mut j);
        assert!(j["spec"].get("completions").is_some());
        assert_eq!(j["spec"]["backoffLimit"], i32::MAX as i64);
        assert_eq!(j["spec"]["podReplacementPolicy"], "Failed");
        assert_eq!(
            j["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
            "True"
        );
        let mut only_parallel = job(json!({"parallelism": 3}));
        default_job(&mut only_parallel);
        assert!(only_parallel["spec"].get("completions").is_none());
    }

    #[test]
    fn restart_policy_and_selector_rules() {
        let mut j = created();
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        assert_eq!(
            messages(&JobStrategy.validate(&j)),
            ["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]
        );
        let mut j = created();
        j["spec"]["selector"] = json!({"matchLabels": {"app": "x"}});
        let msgs = messages(&JobStrategy.validate(&j));
        assert!(
            msgs.contains(&"spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"x\"}}: `selector` not auto-generated".to_string()),
            "{msgs:?}"
        );
        let mut manual = job(json!({"manualSelector": true,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}},
                "spec": {"restartPolicy": "OnFailure",
                    "containers": [{"name": "c", "image": "busybox"}]}}}));
        JobStrategy.prepare_for_create(&mut manual);
        assert!(JobStrategy.validate(&manual).is_empty());
        assert!(manual["spec"]["template"]["metadata"]["labels"]
            .get(CONTROLLER_UID_LABEL)
            .is_none());
    }

    #[test]
    fn template_is_immutable_unless_suspended_and_not_started() {
        let old = created();
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["nodeSelector"] = json!({"zone": "a"});
        let msgs = messages(&validate_spec_update(&new, &old));
        assert_eq!(msgs.len(), 1);
        assert!(
            msgs[0].starts_with("spec.template: Invalid value:"),
            "{msgs:?}"
        );
        assert!(msgs[0].ends_with("field is immutable"));
        let mut suspended = old.clone();
        suspended["spec"]["suspend"] = json!(true);
        let mut new = suspended.clone();
        new["spec"]["template"]["spec"]["nodeSelector"] = json!({"zone": "a"});
        assert!(validate_spec_update(&new, &suspended).is_empty());
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("other");
        assert_eq!(validate_spec_update(&new, &suspended).len(), 1);
        let mut completions = old.clone();
        completions["spec"]["completions"] = json!(3);
        assert_eq!(
            messages(&validate_spec_update(&completions, &old)),
            ["spec.completions: Invalid value: 3: field is immutable"]
        );
    }

    #[test]
    fn status_cells_and_field_selector() {
        let s = JobStrategy;
        let mut j = created();
        j["status"] = json!({"succeeded": 1, "startTime": "2026-01-01T00:00:00Z",
            "completionTime": "2026-01-01T00:00:30Z",
            "conditions": [{"type": "Complete", "status": "True"}]});
        let cells = s.table_cells(&j);
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(cells[0], Cell::Value(json!("Complete")));
        assert_eq!(cells[1], Cell::Value(json!("1/1")));
        assert_eq!(cells[2], Cell::Value(json!("30s")));
        assert_eq!(s.field_value(&j, "status.successful").as_deref(), Some("1"));
        let merged = s
            .subresource_update("status", &json!({"spec": {}, "status": {"active": -1}}), &j)
            .expect("status");
        assert_eq!(merged["spec"], j["spec"]);
        assert_eq!(
            messages(&s.validate_subresource_update("status", &merged, &j)),
            ["status.active: Invalid value: -1: must be greater than or equal to 0"]
        );
    }
}
