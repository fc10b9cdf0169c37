//! "Admission flags": upstream pkg/kubeapiserver/options/admission.go,
//! staging/src/k8s.io/apiserver/pkg/server/options/admission.go and the
//! plugin list in pkg/kubeapiserver/options/plugins.go.

use super::auth::check_file;
use super::flags::{FlagSpec, RawArgs, Section};

/// Upstream's `AllOrderedPlugins` (the order plugins run in).
pub const ALL_ORDERED_PLUGINS: [&str; 36] = [
    "AlwaysAdmit",
    "NamespaceAutoProvision",
    "NamespaceLifecycle",
    "NamespaceExists",
    "LimitPodHardAntiAffinityTopology",
    "LimitRanger",
    "ServiceAccount",
    "NodeRestriction",
    "TaintNodesByCondition",
    "AlwaysPullImages",
    "ImagePolicyWebhook",
    "PodSecurity",
    "PodNodeSelector",
    "Priority",
    "DefaultTolerationSeconds",
    "PodTolerationRestriction",
    "EventRateLimit",
    "ExtendedResourceToleration",
    "DefaultStorageClass",
    "StorageObjectInUseProtection",
    "OwnerReferencesPermissionEnforcement",
    "PersistentVolumeClaimResize",
    "RuntimeClass",
    "CertificateApproval",
    "CertificateSigning",
    "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction",
    "DefaultIngressClass",
    "DenyServiceExternalIPs",
    "DisableServiceLinks",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
    "AlwaysDeny",
];

/// Plugins enabled when neither list mentions them (upstream's
/// `DefaultOffAdmissionPlugins` complement).
pub const DEFAULT_ON_PLUGINS: [&str; 21] = [
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
    "DefaultStorageClass",
    "PersistentVolumeClaimResize",
    "DefaultTolerationSeconds",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
    "StorageObjectInUseProtection",
    "Priority",
    "TaintNodesByCondition",
    "RuntimeClass",
    "CertificateApproval",
    "CertificateSigning",
    "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction",
    "DefaultIngressClass",
    "PodSecurity",
    "ValidatingAdmissionPolicy",
    "MutatingAdmissionPolicy",
];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdmissionFlags {
    pub enable_plugins: Vec<String>,
    pub disable_plugins: Vec<String>,
    pub config_file: Option<String>,
    /// Deprecated `--admission-control` (replaces the default set).
    pub admission_control: Vec<String>,
}

pub(crate) fn specs() -> Vec<FlagSpec> {
    let s = Section::Admission;
    let all = ALL_ORDERED_PLUGINS.join(", ");
    vec![
        FlagSpec::value(s, "admission-control", "strings", "",
            format!("Admission plug-ins to run; replaces the default set (every other plug-in \
                     is disabled). Comma-delimited list of: {all}."))
            .deprecated("Use --enable-admission-plugins or --disable-admission-plugins instead. Will be removed in a future version."),
        FlagSpec::value(s, "admission-control-config-file", "string", "",
            "File with the admission control configuration (an AdmissionConfiguration). Of the \
             plug-ins here only PodSecurity takes configuration; entries for others are named \
             in the start-up log."),
        FlagSpec::value(s, "disable-admission-plugins", "strings", "",
            format!("Admission plug-ins to disable even if they are on by default. Comma-delimited \
                     list of: {all}. The order of plug-ins in this flag does not matter.")),
        FlagSpec::value(s, "enable-admission-plugins", "strings", "",
            format!("Admission plug-ins to enable in addition to the default ones ({}). \
                     Comma-delimited list of: {all}. The order of plug-ins in this flag does not \
                     matter. Implemented: {}; enabling any other makes start-up fail, and the \
                     default ones not implemented are listed in the start-up log.",
                     DEFAULT_ON_PLUGINS.join(", "),
                     super::unsupported::IMPLEMENTED_ADMISSION_PLUGINS.join(", "))),
    ]
}

impl AdmissionFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, _errs: &mut Vec<String>) {
        raw.list("admission-control", &mut self.admission_control);
        raw.opt_string("admission-control-config-file", &mut self.config_file);
        raw.list("disable-admission-plugins", &mut self.disable_plugins);
        raw.list("enable-admission-plugins", &mut self.enable_plugins);
    }

    /// Upstream `AdmissionOptions.Validate`.
    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        if !self.admission_control.is_empty()
            && (!self.enable_plugins.is_empty() || !self.disable_plugins.is_empty())
        {
            errs.push(
                "admission-control and enable-admission-plugins/disable-admission-plugins flags \
                 are mutually exclusive"
                    .into(),
            );
        }
        for (flag, list) in [
            ("enable-admission-plugins", &self.enable_plugins),
            ("disable-admission-plugins", &self.disable_plugins),
            ("admission-control", &self.admission_control),
        ] {
            for name in list {
                if !ALL_ORDERED_PLUGINS.contains(&name.as_str()) {
                    errs.push(format!("{flag} plugin {name:?} is unknown"));
                }
            }
        }
        let mut overlap: Vec<&String> = self
            .enable_plugins
            .iter()
            .filter(|p| self.disable_plugins.contains(p))
            .collect();
        overlap.sort();
        overlap.dedup();
        if !overlap.is_empty() {
            errs.push(format!(
                "{overlap:?} in enable-admission-plugins and disable-admission-plugins overlapped"
            ));
        }
        check_file(
            errs,
            "--admission-control-config-file",
            self.config_file.as_deref(),
        );
    }

    /// The plugins that end up enabled, in upstream's execution order.
    pub fn enabled_plugins(&self) -> Vec<String> {
        ALL_ORDERED_PLUGINS
            .iter()
            .filter(|p| {
                let p = p.to_string();
                if !self.admission_control.is_empty() {
                    return self.admission_control.contains(&p);
                }
                if self.disable_plugins.contains(&p) {
                    return false;
                }
                self.enable_plugins.contains(&p) || DEFAULT_ON_PLUGINS.contains(&p.as_str())
            })
            .map(|p| p.to_string())
            .collect()
    }
}
