//! The PodSecurity admission plugin: each namespace's labels choose the Pod Security
//! Standards level (privileged, baseline, restricted) and version that pods there are held
//! to, per mode (upstream's `plugin/pkg/admission/security/podsecurity` over
//! `k8s.io/pod-security-admission`).
//!
//! - enforce: pods that violate it are refused (create, and updates that change what the
//!   checks see, `pods/ephemeralcontainers` included);
//! - warn: the client gets a `Warning`, for pods and for the pod templates of workload
//!   controllers, which are never refused;
//! - audit: upstream annotates the audit event; this server has no audit log yet, so the
//!   audit level is only evaluated and counted in `pod_security_evaluations_total`.
//!
//! A `PodSecurityConfiguration` (`config.rs`) sets the policy of unlabelled namespaces and
//! exempts namespaces, users and runtime classes; without one every mode defaults to
//! privileged/latest and nothing is exempt, as upstream.

pub mod checks;
pub mod config;
pub mod metrics;
pub mod namespace;
pub mod policy;
pub mod templates;

use std::sync::Arc;

use apimachinery::errors::ApiError;
use apimachinery::go_quote;
use apiserver::admission::{AdmissionPlugin, Attributes, Operation};
use apiserver::registry::Listers;
use serde_json::Value;

use checks::{detailed, evaluate, PodView, Violation};
use config::Config;
use metrics::{Decision, Mode, PodSecurityMetrics};
use namespace::NamespaceCheck;
use policy::{labels, policy_from_labels, Level, LevelVersion, Policy};

/// Pod subresources that never change what the checks see.
const IGNORED_POD_SUBRESOURCES: [&str; 8] = [
    "exec",
    "attach",
    "binding",
    "eviction",
    "log",
    "portforward",
    "proxy",
    "status",
];

/// The plugin. It reads namespaces and pods through the shared listers.
pub struct PodSecurity {
    listers: Arc<Listers>,
    config: Config,
    metrics: Arc<PodSecurityMetrics>,
}

impl PodSecurity {
    pub fn new(listers: Arc<Listers>, config: Config) -> PodSecurity {
        PodSecurity {
            listers,
            config,
            metrics: Arc::default(),
        }
    }

    /// The plugin's counters, for `/metrics`.
    pub fn metrics(&self) -> Arc<PodSecurityMetrics> {
        self.metrics.clone()
    }

    /// The policy of the request's namespace, with whether its labels all parsed.
    async fn namespace_policy(&self, namespace: &str) -> Result<(Policy, bool), ApiError> {
        let ns = self.listers.get("namespaces", "", namespace).await?;
        let (policy, errs) = policy_from_labels(&labels(&ns), self.config.defaults);
        Ok((policy, errs.is_empty()))
    }

    /// Requests from exempt users and in exempt namespaces are not checked.
    fn exempt(&self, attrs: &Attributes<'_>) -> bool {
        self.config.exempt_namespace(attrs.namespace) || self.config.exempt_user(&attrs.user.name)
    }

    async fn validate_pod(&self, attrs: &Attributes<'_>, pod: &Value) -> Result<(), ApiError> {
        if IGNORED_POD_SUBRESOURCES.contains(&attrs.subresource) {
            return Ok(());
        }
        if self.exempt(attrs) {
            self.metrics.exemption(attrs);
            return Ok(());
        }
        let (policy, labels_ok) = match self.namespace_policy(attrs.namespace).await {
            Ok(found) => found,
            Err(_) => {
                self.metrics.error(true, attrs);
                return Err(ApiError::internal(&format!(
                    "failed to lookup namespace {}",
                    go_quote(attrs.namespace)
                )));
            }
        };
        if labels_ok && policy.fully_privileged() {
            self.metrics
                .evaluation(Decision::Allow, policy.enforce, Mode::Enforce, attrs);
            return Ok(());
        }
        if let (Operation::Update, Some(old)) = (attrs.operation, attrs.old) {
            if !templates::significant_pod_update(pod, old) {
                return Ok(());
            }
        }
        self.evaluate_pod(attrs, &policy, labels_ok, &templates::pod_view(pod), true)
    }

    async fn validate_controller(&self, attrs: &Attributes<'_>, obj: &Value, pointer: &str) {
        if !attrs.subresource.is_empty() {
            return;
        }
        if self.exempt(attrs) {
            self.metrics.exemption(attrs);
            return;
        }
        // Controllers are never refused: a namespace that cannot be read lets them through.
        let Ok((policy, labels_ok)) = self.namespace_policy(attrs.namespace).await else {
            self.metrics.error(true, attrs);
            return;
        };
        if labels_ok
            && policy.warn.level == Level::Privileged
            && policy.audit.level == Level::Privileged
        {
            return;
        }
        if let Some(view) = templates::template_view(obj, pointer) {
            // Never an error: without enforcement nothing is refused.
            let _ = self.evaluate_pod(attrs, &policy, labels_ok, &view, false);
        }
    }

    /// Upstream's `EvaluatePod`: the enforce level (when `enforce`) may refuse; the audit
    /// level is evaluated and counted (there is no audit log to annotate); the warn level
    /// warns when nothing was refused. Each level and version is evaluated once.
    fn evaluate_pod(
        &self,
        attrs: &Attributes<'_>,
        policy: &Policy,
        labels_ok: bool,
        pod: &PodView<'_>,
        enforce: bool,
    ) -> Result<(), ApiError> {
        if self.config.exempt_runtime_class(pod.spec) {
            self.metrics.exemption(attrs);
            return Ok(());
        }
        if !labels_ok {
            self.metrics.error(false, attrs);
        }
        let mut results: Vec<(LevelVersion, Vec<Violation>)> = Vec::new();
        let mut result = |lv: LevelVersion| -> Vec<Violation> {
            if let Some((_, found)) = results.iter().find(|(l, _)| *l == lv) {
                return found.clone();
            }
            let found = evaluate(lv, pod);
            results.push((lv, found.clone()));
            found
        };
        let mut refusal = None;
        if enforce {
            let violations = result(policy.enforce);
            if violations.is_empty() {
                self.metrics
                    .evaluation(Decision::Allow, policy.enforce, Mode::Enforce, attrs);
            } else {
                self.metrics
                    .evaluation(Decision::Deny, policy.enforce, Mode::Enforce, attrs);
                refusal = Some(ApiError::forbidden(
                    &attrs.resource.group,
                    &attrs.resource.plural,
                    attrs.name,
                    &format!(
                        "violates PodSecurity {}: {}",
                        go_quote(&policy.enforce.to_string()),
                        detailed(&violations)
                    ),
                ));
            }
        }
        if !result(policy.audit).is_empty() {
            self.metrics
                .evaluation(Decision::Deny, policy.audit, Mode::Audit, attrs);
        }
        if let Some(refused) = refusal {
            // No warnings for a request that is refused anyway.
            return Err(refused);
        }
        let violations = result(policy.warn);
        if !violations.is_empty() {
            self.metrics
                .evaluation(Decision::Deny, policy.warn, Mode::Warn, attrs);
            attrs.warn(format!(
                "would violate PodSecurity {}: {}",
                go_quote(&policy.warn.to_string()),
                detailed(&violations)
            ));
        }
        Ok(())
    }

    async fn validate_namespace(&self, attrs: &Attributes<'_>, ns: &Value) -> Result<(), ApiError> {
        if !attrs.subresource.is_empty() {
            return Ok(());
        }
        let old = match attrs.operation {
            Operation::Update => attrs.old,
            _ => None,
        };
        match namespace::check_namespace(ns, old, &self.config) {
            NamespaceCheck::Allow => Ok(()),
            NamespaceCheck::Warn(text) => {
                attrs.warn(text);
                Ok(())
            }
            NamespaceCheck::Invalid(errs) => Err(namespace::invalid(attrs.name, errs)),
            NamespaceCheck::CheckPods(enforce) => {
                let warnings = match self.listers.list("pods", attrs.name, None).await {
                    Ok(pods) => {
                        namespace::existing_pod_warnings(attrs.name, enforce, &pods, &self.config)
                    }
                    Err(_) => vec![
                        "failed to list pods while checking new PodSecurity enforce level"
                            .to_string(),
                    ],
                };
                attrs.warnings.add(warnings);
                Ok(())
            }
        }
    }
}

#[async_trait::async_trait]
impl AdmissionPlugin for PodSecurity {
    fn name(&self) -> &'static str {
        "PodSecurity"
    }

    fn handles(&self, operation: Operation) -> bool {
        matches!(operation, Operation::Create | Operation::Update)
    }

    async fn validate(&self, attrs: &Attributes<'_>, obj: Option<&Value>) -> Result<(), ApiError> {
        let Some(obj) = obj else {
            return Ok(());
        };
        let decl = attrs.resource;
        match (decl.group.as_str(), decl.plural.as_str()) {
            ("", "pods") => self.validate_pod(attrs, obj).await,
            ("", "namespaces") => self.validate_namespace(attrs, obj).await,
            (group, plural) => {
                if let Some(pointer) = templates::template_pointer(group, plural) {
                    self.validate_controller(attrs, obj, pointer).await;
                }
                Ok(())
            }
        }
    }
}
