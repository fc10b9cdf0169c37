//! The ServiceAccount admission plugin: a pod created without a service account runs as
//! `default`; its service account must exist; its containers get the account's token
//! volume unless the pod or the account opts out; it inherits the account's image pull
//! secrets; and an account annotated `kubernetes.io/enforce-mountable-secrets: "true"`
//! limits the secrets the pod (and its ephemeral containers) may refer to. Mirror pods may
//! refer to no service account, no secret and no token projection.

use std::sync::Arc;
use std::time::Duration;

use apimachinery::errors::ApiError;
use apiserver::admission::{AdmissionPlugin, Attributes, Operation};
use apiserver::registry::Listers;
use serde_json::{json, Value};

use super::{secrets, token_volume, DEFAULT_SERVICE_ACCOUNT};

/// The annotation that marks a mirror pod (a static pod's copy, written by its kubelet).
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The service account annotation that limits the secrets its pods may refer to.
pub const ENFORCE_MOUNTABLE_SECRETS: &str = "kubernetes.io/enforce-mountable-secrets";

/// Live lookups of the `default` account, which a controller may be about to create.
const DEFAULT_ACCOUNT_ATTEMPTS: usize = 10;

/// The plugin. It reads service accounts through the shared listers.
pub struct ServiceAccount {
    listers: Arc<Listers>,
}

impl ServiceAccount {
    pub fn new(listers: Arc<Listers>) -> ServiceAccount {
        ServiceAccount { listers }
    }

    /// The account, from the cache, else from storage (several times, a little apart, for
    /// `default`); refused in upstream's words when it does not exist.
    async fn account(
        &self,
        attrs: &Attributes<'_>,
        pod: &Value,
        name: &str,
    ) -> Result<Value, ApiError> {
        let lookup_failed = |detail: &str| {
            forbidden(
                attrs,
                pod,
                &format!(
                    "error looking up service account {}/{name}: {detail}",
                    attrs.namespace
                ),
            )
        };
        match self
            .listers
            .get("serviceaccounts", attrs.namespace, name)
            .await
        {
            Ok(account) => return Ok(account),
            Err(e) if e.code != 404 => return Err(lookup_failed(&e.message)),
            Err(_) => {}
        }
        let store = self.listers.store("serviceaccounts")?;
        let attempts = if name == DEFAULT_SERVICE_ACCOUNT {
            DEFAULT_ACCOUNT_ATTEMPTS
        } else {
            1
        };
        let pause = Duration::from_millis(100 + u64::from(rand_byte()) % 100);
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(pause).await;
            }
            match store.get(attrs.namespace, name).await {
                Ok(account) => return Ok(account),
                Err(e) if e.code != 404 => return Err(lookup_failed(&e.message)),
                Err(_) => {}
            }
        }
        Err(lookup_failed(&format!(
            "serviceaccount \"{name}\" not found"
        )))
    }

    /// The validating checks (also run at the end of the mutating phase, as upstream).
    async fn check(&self, attrs: &Attributes<'_>, pod: &Value) -> Result<(), ApiError> {
        let spec = pod.get("spec").unwrap_or(&Value::Null);
        let account_name = spec
            .get("serviceAccountName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if attrs.operation == Operation::Update && attrs.subresource == "ephemeralcontainers" {
            if account_name.is_empty() {
                return Err(no_account(attrs, pod));
            }
            let account = self.account(attrs, pod, account_name).await?;
            if enforces_mountable_secrets(&account) {
                let allowed = |secret: &str| lists_secret(&account, secret);
                secrets::check_container_refs(
                    spec,
                    "ephemeralContainers",
                    "ephemeral container",
                    account_name,
                    &allowed,
                )
                .map_err(|e| forbidden(attrs, pod, &e))?;
            }
            return Ok(());
        }
        if attrs.operation != Operation::Create {
            return Ok(());
        }
        if is_mirror_pod(pod) {
            let refusal = if !account_name.is_empty() {
                Some("a mirror pod may not reference service accounts")
            } else if secrets::refers_to_secrets(spec) {
                Some("a mirror pod may not reference secrets")
            } else if secrets::projects_tokens(spec) {
                Some("a mirror pod may not use ServiceAccountToken volume projections")
            } else {
                None
            };
            return match refusal {
                Some(msg) => Err(forbidden(attrs, pod, msg)),
                None => Ok(()),
            };
        }
        if account_name.is_empty() {
            return Err(no_account(attrs, pod));
        }
        let account = self.account(attrs, pod, account_name).await?;
        if enforces_mountable_secrets(&account) {
            secrets::check_mountable(spec, &account).map_err(|e| forbidden(attrs, pod, &e))?;
        }
        Ok(())
    }
}

/// One random byte (for the retry pause).
fn rand_byte() -> u8 {
    apimachinery::uid::new_uid()
        .bytes()
        .fold(0u8, |acc, b| acc.rotate_left(3) ^ b)
}

fn is_mirror_pod(pod: &Value) -> bool {
    pod.pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION))
}

fn enforces_mountable_secrets(account: &Value) -> bool {
    account
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(ENFORCE_MOUNTABLE_SECRETS))
        .and_then(Value::as_str)
        .is_some_and(parse_go_bool)
}

/// Go's `strconv.ParseBool` for true (a value it cannot parse counts as false).
fn parse_go_bool(s: &str) -> bool {
    matches!(s, "1" | "t" | "T" | "TRUE" | "true" | "True")
}

fn lists_secret(account: &Value, secret: &str) -> bool {
    account
        .get("secrets")
        .and_then(Value::as_array)
        .is_some_and(|l| {
            l.iter()
                .any(|s| s.get("name").and_then(Value::as_str) == Some(secret))
        })
}

/// Whether the pod's token is mounted: the pod's choice, else the account's, else yes.
fn should_automount(account: &Value, pod: &Value) -> bool {
    pod.pointer("/spec/automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or_else(|| {
            account
                .get("automountServiceAccountToken")
                .and_then(Value::as_bool)
        })
        .unwrap_or(true)
}

/// Upstream's `admission.NewForbidden`: the request's name, else the object's name or
/// generateName (no name is generated yet), else `Unknown`.
fn forbidden(attrs: &Attributes<'_>, pod: &Value, msg: &str) -> ApiError {
    let meta = |field: &str| {
        pod.pointer(&format!("/metadata/{field}"))
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

fn no_account(attrs: &Attributes<'_>, pod: &Value) -> ApiError {
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    forbidden(
        attrs,
        pod,
        &format!(
            "no service account specified for pod {}/{pod_name}",
            attrs.namespace
        ),
    )
}

/// Whether the request is one the plugin looks at: pods and their ephemeral containers.
fn applies(attrs: &Attributes<'_>) -> bool {
    let decl = attrs.resource;
    decl.group.is_empty()
        && decl.plural == "pods"
        && (attrs.subresource.is_empty() || attrs.subresource == "ephemeralcontainers")
}

#[async_trait::async_trait]
impl AdmissionPlugin for ServiceAccount {
    fn name(&self) -> &'static str {
        "ServiceAccount"
    }

    fn handles(&self, operation: Operation) -> bool {
        matches!(operation, Operation::Create | Operation::Update)
    }

    async fn admit(&self, attrs: &Attributes<'_>, obj: Option<&mut Value>) -> Result<(), ApiError> {
        let Some(pod) = obj else {
            return Ok(());
        };
        if !applies(attrs) || attrs.operation != Operation::Create {
            return Ok(());
        }
        if is_mirror_pod(pod) {
            return self.check(attrs, pod).await;
        }
        let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        // The deprecated `serviceAccount` names the account when `serviceAccountName` does
        // not (upstream's decoding does this before admission).
        let named = ["serviceAccountName", "serviceAccount"]
            .iter()
            .find_map(|f| {
                spec.get(*f)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or(DEFAULT_SERVICE_ACCOUNT)
            .to_string();
        spec.insert("serviceAccountName".to_string(), json!(named));
        let account = self.account(attrs, pod, &named).await?;
        if should_automount(&account, pod) {
            if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
                token_volume::mount(spec);
            }
        }
        let pulls = account
            .get("imagePullSecrets")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .map(|s| json!({"name": s.get("name").cloned().unwrap_or(json!(""))}))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
            let has_pulls = spec
                .get("imagePullSecrets")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            if !has_pulls && !pulls.is_empty() {
                spec.insert("imagePullSecrets".to_string(), Value::Array(pulls));
            }
        }
        self.check(attrs, pod).await
    }

    async fn validate(&self, attrs: &Attributes<'_>, obj: Option<&Value>) -> Result<(), ApiError> {
        match obj {
            Some(pod) if applies(attrs) => self.check(attrs, pod).await,
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automount_prefers_the_pod_then_the_account() {
        let yes = json!({"automountServiceAccountToken": true});
        let no = json!({"automountServiceAccountToken": false});
        assert!(should_automount(&json!({}), &json!({"spec": {}})));
        assert!(!should_automount(&no, &json!({"spec": {}})));
        assert!(should_automount(&no, &json!({"spec": yes.clone()})));
        assert!(!should_automount(&yes, &json!({"spec": no})));
    }

    #[test]
    fn mountable_secrets_annotation_reads_as_go_bools() {
        let account =
            |v: &str| json!({"metadata": {"annotations": {ENFORCE_MOUNTABLE_SECRETS: v}}});
        assert!(enforces_mountable_secrets(&account("true")));
        assert!(enforces_mountable_secrets(&account("1")));
        assert!(!enforces_mountable_secrets(&account("yes")));
        assert!(!enforces_mountable_secrets(&json!({})));
    }
}
