//! The `scale` subresource of replicated workloads: the autoscaling/v1 `Scale` built from an
//! object, and a `Scale` written back to it, as upstream's `ScaleREST`s do.

use std::sync::Arc;

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apimachinery::validation;
use apiserver::admission::{AdmissionView, AdmittedAs};
use apiserver::registry::managed::{self, ScaleHandler};
use apiserver::registry::{
    meta, RequestContext, Store, Subresource, SubresourceRest, UpdatedObject,
};
use serde_json::{json, Map, Value};

use super::common::{int_of, spec, status};

/// The `Scale` of `obj`: its identity, `spec.replicas`, `status.replicas` and its selector
/// in query form (`status.selector`).
pub fn scale_of(obj: &Value) -> Value {
    let mut metadata = Map::new();
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta::meta(obj).and_then(|m| m.get(field)) {
            metadata.insert(field.to_string(), v.clone());
        }
    }
    let mut scale_spec = Map::new();
    let replicas = int_of(spec(obj), "replicas");
    if replicas != 0 {
        scale_spec.insert("replicas".to_string(), json!(replicas));
    }
    let mut scale_status = Map::new();
    scale_status.insert(
        "replicas".to_string(),
        json!(int_of(status(obj), "replicas")),
    );
    let selector = super::common::selector_cell(spec(obj).get("selector"));
    if !selector.is_empty() {
        scale_status.insert("selector".to_string(), json!(selector));
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": scale_spec,
        "status": scale_status,
    })
}

/// Upstream's `ValidateScale`: the scale's metadata and a replica count that is not negative.
fn validate_scale(scale: &Value) -> Vec<FieldError> {
    let empty = json!({});
    let mut errs = validation::validate_object_meta(
        scale.get("metadata").unwrap_or(&empty),
        true,
        &validation::name_is_dns_subdomain,
        &FieldPath::new("metadata"),
    );
    let replicas = int_of(spec(scale), "replicas");
    if replicas < 0 {
        errs.push(FieldError::invalid(
            &FieldPath::new("spec").child("replicas"),
            json!(replicas),
            validation::IS_NEGATIVE_ERROR_MSG,
        ));
    }
    errs
}

/// Writes `scale` into `obj`: `spec.replicas`, and the scale's `resourceVersion` (a
/// precondition of the write) when it has one. An invalid scale is a 422 of kind `Scale`.
pub fn apply_scale(obj: &mut Value, scale: &Value) -> Result<(), ApiError> {
    let errs = validate_scale(scale);
    if !errs.is_empty() {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            meta::name(obj),
            errs,
        ));
    }
    let rv = meta::resource_version(scale).to_string();
    if !rv.is_empty() {
        meta::set_meta(obj, "resourceVersion", Some(json!(rv)));
    }
    let replicas = int_of(spec(scale), "replicas");
    super::common::object_at(obj, "spec").insert("replicas".to_string(), json!(replicas));
    Ok(())
}

/// The API versions of the apps kinds, all of which keep their replicas at
/// `.spec.replicas` (upstream's `ReplicasPathMappings`; only `apps/v1` is served here).
const APPS_VERSIONS: &[&str] = &["apps/v1beta1", "apps/v1beta2", "apps/v1"];

/// The REST storage of `*/scale`: reads are the object's `Scale`, writes set its replicas
/// through the resource's own update (its validation, its generation), as upstream's
/// `ScaleREST` writes through the resource's store. A write sees the managers of the
/// object's replicas as the `Scale`'s, and its own managers are kept on the object
/// (upstream's `scaleUpdatedObjectInfo` with its `ScaleHandler`).
struct ScaleRest;

#[async_trait::async_trait]
impl SubresourceRest for ScaleRest {
    async fn get(&self, store: &Store, namespace: &str, name: &str) -> Result<Value, ApiError> {
        Ok(scale_of(&store.get(namespace, name).await?))
    }

    async fn update(
        &self,
        store: &Store,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        updated: &UpdatedObject<'_>,
    ) -> Result<Value, ApiError> {
        // Admission sees the request as made: a `Scale` of `<resource>/scale`.
        let ctx = ctx.admitted_as(AdmittedAs {
            resource: store.decl.clone(),
            subresource: "scale".to_string(),
            kind: "Scale".to_string(),
            view: Some(Arc::new(ScaleView)),
        });
        let handler = ScaleHandler::spec_replicas(&store.decl.api_version(), APPS_VERSIONS);
        let updated = store
            .patch(&ctx, namespace, name, "", &|current: &Value| {
                let mut old_scale = scale_of(current);
                meta::set_meta(
                    &mut old_scale,
                    "managedFields",
                    managed::scale_view(&handler, current)?,
                );
                let scale = updated(&old_scale)?;
                let mut obj = current.clone();
                apply_scale(&mut obj, &scale)?;
                let entries = managed::scale_back(&handler, current, &scale)?;
                meta::set_meta(&mut obj, "managedFields", entries);
                Ok(obj)
            })
            .await?;
        Ok(scale_of(&updated))
    }
}

/// The `Scale` admission sees for a write of a scalable resource.
struct ScaleView;

impl AdmissionView for ScaleView {
    fn view(&self, obj: &Value) -> Value {
        scale_of(obj)
    }

    fn apply(&self, obj: &mut Value, scale: &Value) -> Result<(), ApiError> {
        apply_scale(obj, scale)
    }
}

/// The `scale` subresource declaration (kind autoscaling/v1 `Scale`).
pub fn subresource() -> Subresource {
    Subresource::new("scale", &["get", "patch", "update"])
        .of_kind("autoscaling", "v1", "Scale")
        .with_schema(crate::types::of("autoscaling", "v1", "Scale"))
        .served_by(Arc::new(ScaleRest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1",
                "resourceVersion": "7", "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"x": "y"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}},
            "status": {"replicas": 2}
        })
    }

    #[test]
    fn scale_carries_identity_counts_and_selector() {
        let scale = scale_of(&deployment());
        assert_eq!(
            scale,
            json!({
                "kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {"name": "web", "namespace": "default", "uid": "u1",
                    "resourceVersion": "7", "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {"replicas": 3},
                "status": {"replicas": 2, "selector": "app=web,tier in (a,b)"}
            })
        );
        let mut zero = deployment();
        zero["spec"]["replicas"] = json!(0);
        zero["status"] = json!({});
        let scale = scale_of(&zero);
        assert_eq!(scale["spec"], json!({}));
        assert_eq!(scale["status"]["replicas"], 0);
    }

    #[test]
    fn apply_sets_replicas_and_precondition() {
        let mut d = deployment();
        let mut scale = scale_of(&d);
        scale["spec"]["replicas"] = json!(5);
        scale["metadata"]["resourceVersion"] = json!("6");
        apply_scale(&mut d, &scale).expect("valid");
        assert_eq!(d["spec"]["replicas"], 5);
        assert_eq!(d["metadata"]["resourceVersion"], "6");
    }

    #[test]
    fn negative_replicas_are_invalid() {
        let mut d = deployment();
        let mut scale = scale_of(&d);
        scale["spec"]["replicas"] = json!(-1);
        let err = apply_scale(&mut d, &scale).expect_err("invalid");
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(d["spec"]["replicas"], 3);
    }

    /// Refuses scales above 10 and records what it saw, as a webhook would.
    #[derive(Default)]
    struct ScaleWatcher {
        seen: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl apiserver::admission::AdmissionPlugin for ScaleWatcher {
        fn name(&self) -> &'static str {
            "ScaleWatcher"
        }

        async fn admit(
            &self,
            attrs: &apiserver::admission::Attributes<'_>,
            obj: Option<&mut Value>,
        ) -> Result<(), ApiError> {
            let obj = obj.expect("an object");
            self.seen.lock().unwrap().push(format!(
                "mutate {}/{} {} {} old={}",
                attrs.resource.plural,
                attrs.subresource,
                attrs.kind,
                obj["kind"],
                attrs
                    .old
                    .map_or(Value::Null, |o| o["spec"]["replicas"].clone()),
            ));
            if obj["spec"]["replicas"] == json!(7) {
                obj["spec"]["replicas"] = json!(8);
            }
            Ok(())
        }

        async fn validate(
            &self,
            attrs: &apiserver::admission::Attributes<'_>,
            obj: Option<&Value>,
        ) -> Result<(), ApiError> {
            let obj = obj.expect("an object");
            self.seen.lock().unwrap().push(format!(
                "validate {} {} replicas={}",
                attrs.kind, obj["kind"], obj["spec"]["replicas"]
            ));
            if obj["spec"]["replicas"].as_i64() > Some(10) {
                return Err(ApiError::forbidden(
                    "apps",
                    "deployments",
                    attrs.name,
                    "too many",
                ));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn admission_of_a_scale_write_sees_the_scale() {
        let dir = tempfile::tempdir().unwrap();
        let backend =
            Arc::new(storage::embedded::EmbeddedStore::open(&dir.path().join("s.db")).unwrap());
        let watcher = Arc::new(ScaleWatcher::default());
        let store = Store::new(
            Arc::new(super::super::deployments::decl()),
            backend,
            "/registry",
            apiserver::admission::AdmissionChain::new(vec![watcher.clone()]),
        );
        let ctx = RequestContext::default();
        let mut d = deployment();
        for field in ["uid", "resourceVersion", "creationTimestamp"] {
            d["metadata"].as_object_mut().unwrap().remove(field);
        }
        d["spec"]["template"] = json!({"metadata": {"labels": {"app": "web", "tier": "a"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        d.as_object_mut().unwrap().remove("status");
        store.create(&ctx, "default", d).await.expect("created");
        watcher.seen.lock().unwrap().clear();

        let scale = |n: i64| {
            json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": n}})
        };
        // A PUT hands the storage its body as the new Scale.
        let put = |n: i64| move |_: &Value| Ok(scale(n));
        let out = ScaleRest
            .update(&store, &ctx, "default", "web", &put(7))
            .await
            .expect("scaled");
        // Mutating admission changed the Scale; the change reached the Deployment.
        assert_eq!(out["spec"]["replicas"], 8);
        assert_eq!(
            store.get("default", "web").await.unwrap()["spec"]["replicas"],
            8
        );
        assert_eq!(
            *watcher.seen.lock().unwrap(),
            [
                "mutate deployments/scale Scale \"Scale\" old=3",
                "validate Scale \"Scale\" replicas=8",
            ]
        );
        let refused = ScaleRest
            .update(&store, &ctx, "default", "web", &put(11))
            .await
            .expect_err("refused by validating admission");
        assert_eq!(refused.code, 403);
        assert_eq!(
            store.get("default", "web").await.unwrap()["spec"]["replicas"],
            8
        );
    }
}
