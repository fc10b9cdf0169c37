//! The Priority admission plugin: a new pod's `priorityClassName` (or the global default
//! class, when it names none) gives it `priority` and `preemptionPolicy`; a pod may not
//! state values that differ from its class's; an update keeps what creation set; and only
//! one PriorityClass may be the global default.

use std::sync::Arc;

use apimachinery::errors::ApiError;
use apiserver::admission::{AdmissionPlugin, Attributes, Operation};
use apiserver::registry::Listers;
use serde_json::{json, Value};

const CLASSES: &str = "priorityclasses.scheduling.k8s.io";

/// The plugin. It reads PriorityClasses through the shared listers.
pub struct Priority {
    listers: Arc<Listers>,
}

/// What a pod gets from its class.
struct Resolved {
    name: String,
    value: i64,
    preemption: Option<String>,
}

impl Priority {
    pub fn new(listers: Arc<Listers>) -> Priority {
        Priority { listers }
    }

    /// The global default class (the lowest valued one, should a race have made several).
    async fn default_class(&self) -> Result<Option<Value>, ApiError> {
        let classes = self.listers.list(CLASSES, "", None).await?;
        Ok(classes
            .into_iter()
            .filter(|c| c.get("globalDefault").and_then(Value::as_bool) == Some(true))
            .min_by_key(|c| c.get("value").and_then(Value::as_i64).unwrap_or(0)))
    }

    async fn resolve(&self, attrs: &Attributes<'_>, pod: &Value) -> Result<Resolved, ApiError> {
        let of = |class: &Value| Resolved {
            name: class
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            value: class.get("value").and_then(Value::as_i64).unwrap_or(0),
            preemption: class
                .get("preemptionPolicy")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let named = pod
            .pointer("/spec/priorityClassName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if named.is_empty() {
            return Ok(self
                .default_class()
                .await?
                .map(|c| of(&c))
                .unwrap_or(Resolved {
                    name: String::new(),
                    value: 0,
                    preemption: None,
                }));
        }
        match self.listers.get(CLASSES, "", named).await {
            Ok(class) => Ok(of(&class)),
            Err(e) if e.code == 404 => Err(forbidden(
                attrs,
                pod,
                &format!("no PriorityClass with name {named} was found"),
            )),
            Err(e) => Err(ApiError::internal(&format!(
                "failed to get PriorityClass with name {named}: {}",
                e.message
            ))),
        }
    }
}

/// Upstream's `admission.NewForbidden` naming (request name, else the object's name or
/// generateName, else `Unknown`).
fn forbidden(attrs: &Attributes<'_>, obj: &Value, msg: &str) -> ApiError {
    let meta = |f: &str| {
        obj.pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let name = Some(attrs.name)
        .filter(|n| !n.is_empty())
        .or_else(|| meta("name"))
        .or_else(|| meta("generateName"))
        .unwrap_or("Unknown");
    ApiError::forbidden(&attrs.resource.group, &attrs.resource.plural, name, msg)
}

#[async_trait::async_trait]
impl AdmissionPlugin for Priority {
    fn name(&self) -> &'static str {
        "Priority"
    }

    fn handles(&self, operation: Operation) -> bool {
        matches!(operation, Operation::Create | Operation::Update)
    }

    async fn admit(&self, attrs: &Attributes<'_>, obj: Option<&mut Value>) -> Result<(), ApiError> {
        let decl = attrs.resource;
        let Some(pod) = obj else {
            return Ok(());
        };
        if !attrs.subresource.is_empty() || !decl.group.is_empty() || decl.plural != "pods" {
            return Ok(());
        }
        if attrs.operation == Operation::Update {
            // Creation set these; a client that leaves them out keeps them.
            let Some(old) = attrs.old.and_then(|o| o.get("spec")) else {
                return Ok(());
            };
            if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
                for field in ["priority", "preemptionPolicy"] {
                    if spec.get(field).is_none_or(Value::is_null) {
                        if let Some(v) = old.get(field) {
                            spec.insert(field.to_string(), v.clone());
                        }
                    }
                }
            }
            return Ok(());
        }
        let resolved = self.resolve(attrs, pod).await?;
        let spec_value = |f: &str| pod.pointer(&format!("/spec/{f}")).cloned();
        if let Some(given) = spec_value("priority").and_then(|v| v.as_i64()) {
            if given != resolved.value {
                return Err(forbidden(attrs, pod, &format!(
                    "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {} from the given PriorityClass name",
                    resolved.value
                )));
            }
        }
        if let Some(policy) = &resolved.preemption {
            if let Some(given) =
                spec_value("preemptionPolicy").and_then(|v| v.as_str().map(str::to_string))
            {
                if &given != policy {
                    return Err(forbidden(attrs, pod, &format!(
                        "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
                    )));
                }
            }
        }
        let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        if !resolved.name.is_empty() {
            spec.insert("priorityClassName".to_string(), json!(resolved.name));
        }
        spec.insert("priority".to_string(), json!(resolved.value));
        if let Some(policy) = resolved.preemption {
            spec.insert("preemptionPolicy".to_string(), json!(policy));
        }
        Ok(())
    }

    async fn validate(&self, attrs: &Attributes<'_>, obj: Option<&Value>) -> Result<(), ApiError> {
        let decl = attrs.resource;
        let Some(class) = obj else {
            return Ok(());
        };
        if !attrs.subresource.is_empty()
            || decl.group != "scheduling.k8s.io"
            || decl.plural != "priorityclasses"
            || class.get("globalDefault").and_then(Value::as_bool) != Some(true)
        {
            return Ok(());
        }
        let Some(existing) = self.default_class().await? else {
            return Ok(());
        };
        let existing_name = existing
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = class
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if attrs.operation == Operation::Create || existing_name != name {
            return Err(forbidden(attrs, class, &format!(
                "PriorityClass {existing_name} is already marked as default. Only one default can exist"
            )));
        }
        Ok(())
    }
}
