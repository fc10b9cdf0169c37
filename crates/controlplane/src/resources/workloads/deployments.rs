//! `deployments` (apps/v1, `deploy`): declarative updates of replica sets, with upstream's
//! defaults (`SetDefaults_Deployment`), validation (`ValidateDeployment*`), status split,
//! generation (spec or annotations changed) and columns.

use std::sync::Arc;

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::common::{self, int_of, object_at, present, spec, status};
use super::{scale, template};
use crate::types::Typed;

/// The deployment strategies upstream knows.
const STRATEGY_TYPES: [&str; 2] = ["Recreate", "RollingUpdate"];

pub struct DeploymentStrategy;

/// `SetDefaults_Deployment`.
pub fn default_deployment(obj: &mut Value) {
    let spec = object_at(obj, "spec");
    common::default_field(spec, "replicas", json!(1));
    let strategy = spec.entry("strategy").or_insert_with(|| json!({}));
    if !strategy.is_object() {
        *strategy = json!({});
    }
    if let Some(s) = strategy.as_object_mut() {
        if s.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            s.insert("type".to_string(), json!("RollingUpdate"));
        }
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = s.entry("rollingUpdate").or_insert_with(|| json!({}));
            if !ru.is_object() {
                *ru = json!({});
            }
            if let Some(ru) = ru.as_object_mut() {
                common::default_field(ru, "maxUnavailable", json!("25%"));
                common::default_field(ru, "maxSurge", json!("25%"));
            }
        }
    }
    common::default_field(spec, "revisionHistoryLimit", json!(10));
    common::default_field(spec, "progressDeadlineSeconds", json!(600));
    if let Some(t) = spec.get_mut("template") {
        template::default_template(t);
    }
}

/// `ValidateDeploymentStrategy`.
fn validate_strategy(strategy: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let rolling = present(strategy, "rollingUpdate");
    match strategy.get("type").and_then(Value::as_str).unwrap_or("") {
        "Recreate" => {
            if rolling.is_some() {
                errs.push(FieldError::forbidden(
                    &path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match rolling {
            None => errs.push(FieldError::required(
                &path.child("rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let ru_path = path.child("rollingUpdate");
                let (unavailable, surge) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
                errs.extend(common::positive_int_or_percent(
                    unavailable,
                    &ru_path.child("maxUnavailable"),
                ));
                errs.extend(common::positive_int_or_percent(
                    surge,
                    &ru_path.child("maxSurge"),
                ));
                if common::int_or_percent_value(unavailable) == 0
                    && common::int_or_percent_value(surge) == 0
                {
                    errs.push(FieldError::invalid(
                        &ru_path.child("maxUnavailable"),
                        unavailable.cloned().unwrap_or(json!(0)),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                errs.extend(common::not_more_than_100_percent(
                    unavailable,
                    &ru_path.child("maxUnavailable"),
                ));
            }
        },
        _ => errs.push(FieldError::not_supported(
            path,
            strategy.clone(),
            &STRATEGY_TYPES,
        )),
    }
    errs
}

/// `ValidateDeploymentSpec`.
fn validate_spec(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let spec = spec(obj);
    let mut errs = common::nonnegatives(spec, &["replicas"], &path);
    errs.extend(common::validate_required_selector(
        spec,
        "deployment",
        "invalid label selector",
        &path,
    ));
    let template = spec.get("template").unwrap_or(&Value::Null);
    let template_path = path.child("template");
    errs.extend(template::validate_template(template, &template_path));
    errs.extend(common::validate_always_restart(
        template,
        "ReplicaSet",
        &template_path,
    ));
    errs.extend(validate_strategy(
        spec.get("strategy").unwrap_or(&Value::Null),
        &path.child("strategy"),
    ));
    errs.extend(common::nonnegatives(
        spec,
        &[
            "minReadySeconds",
            "revisionHistoryLimit",
            "progressDeadlineSeconds",
        ],
        &path,
    ));
    if let Some(deadline) = spec.get("progressDeadlineSeconds").and_then(Value::as_i64) {
        if deadline <= int_of(spec, "minReadySeconds") {
            errs.push(FieldError::invalid(
                &path.child("progressDeadlineSeconds"),
                json!(deadline),
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

/// `ValidateDeploymentStatus`.
fn validate_status(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("status");
    let status = status(obj);
    let mut errs = common::nonnegatives(
        status,
        &[
            "observedGeneration",
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
            "terminatingReplicas",
            "collisionCount",
        ],
        &path,
    );
    errs.extend(common::replica_counts(
        status,
        &["updatedReplicas", "readyReplicas", "availableReplicas"],
        Some("cannot be greater than readyReplicas"),
        &path,
    ));
    errs
}

impl Strategy for DeploymentStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        default_deployment(obj);
        common::reset_status(obj, json!({}));
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        default_deployment(new);
        common::reset_status(new, common::old_status(old, json!({})));
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_spec(obj)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validate_spec(new);
        errs.extend(common::immutable(
            spec(new).get("selector"),
            spec(old).get("selector"),
            &FieldPath::new("spec").child("selector"),
        ));
        errs
    }

    fn warnings_on_create(&self, obj: &Value) -> Vec<String> {
        common::dns_label_name_warning(obj)
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    /// Annotations move the generation on too: they are copied to the replica sets.
    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        let annotations = |o: &Value| {
            meta::meta(o)
                .and_then(|m| m.get("annotations"))
                .filter(|a| a.as_object().is_some_and(|m| !m.is_empty()))
                .cloned()
        };
        spec(new) != spec(old) || annotations(new) != annotations(old)
    }

    fn subresource_update(&self, subresource: &str, new: &Value, old: &Value) -> Option<Value> {
        (subresource == "status").then(|| common::status_update(new, old, true))
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldError> {
        if subresource != "status" {
            return Vec::new();
        }
        let mut errs = validate_status(new);
        errs.extend(common::collision_count_not_decremented(new, old));
        errs
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("Ready", "string", "Number of the pod with ready state"),
            ColumnDef::new(
                "Up-to-date",
                "string",
                "Pods that run the current template.",
            ),
            ColumnDef::new(
                "Available",
                "string",
                "Pods that have been ready for minReadySeconds.",
            ),
            ColumnDef::AGE,
        ]
        .into_iter()
        .chain(common::template_columns(Some(
            "The label query over pods the deployment manages.",
        )))
        .collect()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let (spec, status) = (spec(obj), status(obj));
        let template = spec.get("template").unwrap_or(&Value::Null);
        vec![
            Cell::Value(json!(format!(
                "{}/{}",
                int_of(status, "readyReplicas"),
                int_of(spec, "replicas")
            ))),
            Cell::Value(json!(int_of(status, "updatedReplicas"))),
            Cell::Value(json!(int_of(status, "availableReplicas"))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
        .into_iter()
        .chain(common::template_cells(
            template,
            Some(common::selector_cell(spec.get("selector"))),
        ))
        .collect()
    }
}

/// The autoscaling/v1 `Scale` of a deployment.
pub fn scale_of(obj: &Value) -> Value {
    scale::scale_of(obj)
}

/// Writes a `Scale` into a deployment (upstream's scale validation first).
pub fn apply_scale(obj: &mut Value, scale: &Value) -> Result<(), ApiError> {
    scale::apply_scale(obj, scale)
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        Scope::Namespaced,
        Arc::new(DeploymentStrategy),
    )
    .typed()
    .with_short_names(&["deploy"])
    .with_categories(&["all"])
    .with_subresources(&["status"])
    .with_subresource(scale::subresource())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(spec: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec})
    }

    fn valid_spec() -> Value {
        json!({
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}
        })
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn defaults_as_upstream() {
        let mut d = deployment(valid_spec());
        DeploymentStrategy.prepare_for_create(&mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(d["status"], json!({}));
        let mut recreate = valid_spec();
        recreate["strategy"] = json!({"type": "Recreate"});
        let mut d = deployment(recreate);
        default_deployment(&mut d);
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
        assert!(validate_spec(&d).is_empty());
    }

    #[test]
    fn spec_validation() {
        let mut d = deployment(valid_spec());
        default_deployment(&mut d);
        assert!(validate_spec(&d).is_empty(), "{:?}", validate_spec(&d));
        d["spec"]["replicas"] = json!(-1);
        d["spec"]["strategy"]["rollingUpdate"] = json!({"maxUnavailable": 0, "maxSurge": "0%"});
        d["spec"]["minReadySeconds"] = json!(700);
        d["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
        assert_eq!(
            messages(&validate_spec(&d)),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
                "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
            ]
        );
        let mut d = deployment(valid_spec());
        default_deployment(&mut d);
        d["spec"]["strategy"] = json!({"type": "Bogus"});
        d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        let msgs = messages(&validate_spec(&d));
        assert!(msgs.contains(&"spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"".to_string()), "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("spec.strategy: Unsupported value:")),
            "{msgs:?}"
        );
    }

    #[test]
    fn selector_is_immutable_and_generation_follows_annotations() {
        let s = DeploymentStrategy;
        let mut old = deployment(valid_spec());
        default_deployment(&mut old);
        let mut new = old.clone();
        new["spec"]["selector"] = json!({"matchLabels": {"app": "web", "x": "y"}});
        new["spec"]["template"]["metadata"]["labels"]["x"] = json!("y");
        let errs = s.validate_update(&new, &old);
        assert_eq!(
            messages(&errs),
            ["spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"x\":\"y\"}}: field is immutable"]
        );
        let mut annotated = old.clone();
        annotated["metadata"]["annotations"] = json!({"a": "b"});
        assert!(s.generation_changed(&annotated, &old));
        let mut relabeled = old.clone();
        relabeled["metadata"]["labels"] = json!({"a": "b"});
        assert!(!s.generation_changed(&relabeled, &old));
    }

    #[test]
    fn status_keeps_spec_and_labels() {
        let s = DeploymentStrategy;
        let mut old = deployment(valid_spec());
        old["metadata"]["labels"] = json!({"keep": "me"});
        let mut new = deployment(json!({"replicas": 9}));
        new["metadata"]["labels"] = json!({"changed": "yes"});
        new["status"] = json!({"replicas": 1, "readyReplicas": 2});
        let merged = s.subresource_update("status", &new, &old).expect("status");
        assert_eq!(merged["spec"], old["spec"]);
        assert_eq!(merged["metadata"]["labels"], json!({"keep": "me"}));
        assert_eq!(
            messages(&s.validate_subresource_update("status", &merged, &old)),
            ["status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"]
        );
    }

    #[test]
    fn table_cells_match_columns() {
        let s = DeploymentStrategy;
        let mut d = deployment(valid_spec());
        default_deployment(&mut d);
        d["status"] = json!({"readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1});
        let cells = s.table_cells(&d);
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(cells[0], Cell::Value(json!("1/1")));
        assert_eq!(cells[4], Cell::Value(json!("nginx")));
        assert_eq!(cells[6], Cell::Value(json!("app=web")));
    }
}
