//! Flags upstream acts on that this server cannot honour yet. Rather than accept them
//! and run without what they ask for, start-up fails naming each one (reported together
//! with every other validation error).

use super::admission::DEFAULT_ON_PLUGINS;
use super::ServerRunOptions;

/// Admission plugins this server implements (upstream's names).
pub const IMPLEMENTED_ADMISSION_PLUGINS: &[&str] = controlplane::ADMISSION_PLUGINS;

/// Authorization modes this server implements.
pub const IMPLEMENTED_AUTHORIZATION_MODES: [&str; 4] =
    ["AlwaysAllow", "AlwaysDeny", "RBAC", "Node"];

fn not_supported(errs: &mut Vec<String>, what: &str, why: &str) {
    errs.push(format!("{what} is not supported yet: {why}"));
}

/// Reports every given flag whose meaning this server does not implement.
pub(crate) fn validate(opts: &ServerRunOptions, errs: &mut Vec<String>) {
    if opts.etcd.encryption_provider_config_automatic_reload {
        not_supported(
            errs,
            "--encryption-provider-config-automatic-reload",
            "the file given by --encryption-provider-config is read once at start-up",
        );
    }
    let authn = &opts.authentication;
    if !authn.service_account_key_file.is_empty() {
        not_supported(
            errs,
            "--service-account-key-file",
            "service account tokens are not authenticated by this server",
        );
    }
    if authn.authentication_config.is_some() {
        not_supported(
            errs,
            "--authentication-config",
            "structured authentication configuration is not implemented",
        );
    }
    if authn.enable_bootstrap_token_auth {
        not_supported(
            errs,
            "--enable-bootstrap-token-auth",
            "bootstrap tokens are not authenticated by this server",
        );
    }

    let authz = &opts.authorization;
    if authz.config.is_some() {
        not_supported(
            errs,
            "--authorization-config",
            "structured authorization configuration is not implemented",
        );
    }
    for mode in &authz.modes {
        if super::auth::AUTHORIZATION_MODES.contains(&mode.as_str())
            && !IMPLEMENTED_AUTHORIZATION_MODES.contains(&mode.as_str())
        {
            not_supported(
                errs,
                &format!("--authorization-mode {mode}"),
                &format!(
                    "implemented modes are {}",
                    IMPLEMENTED_AUTHORIZATION_MODES.join(", ")
                ),
            );
        }
    }
    if authz.webhook_config_file.is_some() {
        not_supported(
            errs,
            "--authorization-webhook-config-file",
            "the Webhook authorizer is not implemented",
        );
    }
    if authz.policy_file.is_some() {
        not_supported(
            errs,
            "--authorization-policy-file",
            "the ABAC authorizer is not implemented",
        );
    }

    // `--admission-control-config-file` is read at start-up (`server::admission_configuration`).
    let adm = &opts.admission;
    for (flag, list) in [
        ("--enable-admission-plugins", &adm.enable_plugins),
        ("--admission-control", &adm.admission_control),
    ] {
        for name in list {
            if super::admission::ALL_ORDERED_PLUGINS.contains(&name.as_str())
                && !IMPLEMENTED_ADMISSION_PLUGINS.contains(&name.as_str())
            {
                not_supported(
                    errs,
                    &format!("{flag} plugin {name:?}"),
                    &format!(
                        "implemented plugins are {}",
                        IMPLEMENTED_ADMISSION_PLUGINS.join(", ")
                    ),
                );
            }
        }
    }
}

/// Plugins upstream enables by default that this server does not implement (logged at
/// start-up: their absence is not an error, as a default start must work).
pub fn default_plugins_not_implemented(enabled: &[String]) -> Vec<&'static str> {
    DEFAULT_ON_PLUGINS
        .iter()
        .copied()
        .filter(|p| enabled.iter().any(|e| e == p) && !IMPLEMENTED_ADMISSION_PLUGINS.contains(p))
        .collect()
}
