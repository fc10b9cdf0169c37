//! "Authentication flags" and "Authorization flags": upstream's
//! pkg/kubeapiserver/options/authentication.go and authorization.go.
//!
//! Authorization: in current upstream the `--authorization-mode` default is
//! empty and `Complete` turns it into `AlwaysAllow` when no
//! `--authorization-config` is given; we turn it into `RBAC` (the bootstrap
//! policy) instead, and say so in `--help`.

use super::duration::GoDuration;
use super::flags::{FlagSpec, RawArgs, Section};

pub const AUTHORIZATION_MODES: [&str; 6] = [
    "AlwaysAllow",
    "AlwaysDeny",
    "ABAC",
    "Webhook",
    "RBAC",
    "Node",
];
/// Used when neither `--authorization-mode` nor `--authorization-config` is given.
/// Upstream's default is AlwaysAllow; ours is the bootstrap RBAC policy, so that a
/// server started with no flags is not open to every client.
pub const DEFAULT_AUTHORIZATION_MODE: &str = "RBAC";
/// Issuer used when `--service-account-issuer` is not given (upstream
/// requires the flag; kubeadm passes this value).
pub const DEFAULT_SERVICE_ACCOUNT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

#[derive(Clone, Debug, PartialEq)]
pub struct AuthenticationFlags {
    pub anonymous_auth: bool,
    pub api_audiences: Vec<String>,
    pub authentication_config: Option<String>,
    pub client_ca_file: Option<String>,
    pub enable_bootstrap_token_auth: bool,
    pub token_auth_file: Option<String>,
    pub service_account_issuer: Vec<String>,
    pub service_account_key_file: Vec<String>,
    pub service_account_lookup: bool,
    pub service_account_extend_token_expiration: bool,
    pub service_account_max_token_expiration: GoDuration,
    pub service_account_jwks_uri: Option<String>,
    pub requestheader_client_ca_file: Option<String>,
    pub requestheader_allowed_names: Vec<String>,
    pub requestheader_username_headers: Vec<String>,
    pub requestheader_uid_headers: Vec<String>,
    pub requestheader_group_headers: Vec<String>,
    pub requestheader_extra_headers_prefix: Vec<String>,
}

impl Default for AuthenticationFlags {
    fn default() -> Self {
        AuthenticationFlags {
            anonymous_auth: true,
            api_audiences: Vec::new(),
            authentication_config: None,
            client_ca_file: None,
            enable_bootstrap_token_auth: false,
            token_auth_file: None,
            service_account_issuer: Vec::new(),
            service_account_key_file: Vec::new(),
            service_account_lookup: true,
            service_account_extend_token_expiration: true,
            service_account_max_token_expiration: GoDuration::ZERO,
            service_account_jwks_uri: None,
            requestheader_client_ca_file: None,
            requestheader_allowed_names: Vec::new(),
            requestheader_username_headers: Vec::new(),
            requestheader_uid_headers: Vec::new(),
            requestheader_group_headers: Vec::new(),
            requestheader_extra_headers_prefix: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuthorizationFlags {
    /// As given; empty means "default" (RBAC unless --authorization-config).
    pub modes: Vec<String>,
    pub config: Option<String>,
    pub policy_file: Option<String>,
    pub webhook_config_file: Option<String>,
    pub webhook_version: String,
    pub webhook_cache_authorized_ttl: GoDuration,
    pub webhook_cache_unauthorized_ttl: GoDuration,
    /// Whether any of --authorization-mode / --authorization-webhook-* was given.
    pub legacy_flags_set: bool,
}

impl Default for AuthorizationFlags {
    fn default() -> Self {
        AuthorizationFlags {
            modes: Vec::new(),
            config: None,
            policy_file: None,
            webhook_config_file: None,
            webhook_version: "v1beta1".to_string(),
            webhook_cache_authorized_ttl: GoDuration::from_secs(5 * 60),
            webhook_cache_unauthorized_ttl: GoDuration::from_secs(30),
            legacy_flags_set: false,
        }
    }
}

pub(crate) fn authentication_specs() -> Vec<FlagSpec> {
    let s = Section::Authentication;
    vec![
        FlagSpec::boolean(s, "anonymous-auth", true,
            "Allow anonymous requests to the secure port. Requests not rejected by another \
             authenticator are treated as anonymous, with user name system:anonymous and group \
             system:unauthenticated."),
        FlagSpec::value(s, "api-audiences", "strings", "",
            "Identifiers of this API. Service account tokens must be bound to at least one of \
             them. Defaults to the --service-account-issuer values."),
        FlagSpec::value(s, "authentication-config", "string", "",
            "File with an AuthenticationConfiguration for the JWT and anonymous authenticators. \
             Not supported yet: start-up fails when it is given."),
        FlagSpec::value(s, "client-ca-file", "string", "",
            "Requests presenting a client certificate signed by one of the CAs in this file are \
             authenticated as the certificate's CommonName (groups from Organization). Defaults to \
             the CA generated in --cert-dir."),
        FlagSpec::boolean(s, "enable-bootstrap-token-auth", false,
            "Allow secrets of type 'bootstrap.kubernetes.io/token' in the 'kube-system' namespace \
             to be used for TLS bootstrapping authentication. Not supported yet: start-up fails \
             when it is true."),
        FlagSpec::value(s, "requestheader-allowed-names", "strings", "",
            "Client certificate common names allowed to supply the --requestheader-username-headers; \
             any name is allowed when empty."),
        FlagSpec::value(s, "requestheader-client-ca-file", "string", "",
            "Root certificates used to verify client certificates before trusting user names from \
             --requestheader-username-headers."),
        FlagSpec::value(s, "requestheader-extra-headers-prefix", "strings", "",
            "Request header prefixes to inspect for extra user information (X-Remote-Extra- is \
             suggested)."),
        FlagSpec::value(s, "requestheader-group-headers", "strings", "",
            "Request headers to inspect for groups (X-Remote-Group is suggested)."),
        FlagSpec::value(s, "requestheader-uid-headers", "strings", "",
            "Request headers to inspect for the UID (X-Remote-Uid is suggested)."),
        FlagSpec::value(s, "requestheader-username-headers", "strings", "",
            "Request headers to inspect for the user name (X-Remote-User is common)."),
        FlagSpec::boolean(s, "service-account-extend-token-expiration", true,
            "Extend the lifetime of projected service account tokens during token generation, to \
             help moving from legacy tokens to bound ones."),
        FlagSpec::value(s, "service-account-issuer", "stringArray", "",
            "Identifier of the service account token issuer, placed in the 'iss' claim. Repeat the \
             flag to accept several issuers; the first one issues new tokens. Defaults to \
             https://kubernetes.default.svc.cluster.local (upstream requires this flag)."),
        FlagSpec::value(s, "service-account-jwks-uri", "string", "",
            "Overrides the URI of the JSON web key set in the discovery document at \
             /.well-known/openid-configuration; must be https."),
        FlagSpec::value(s, "service-account-key-file", "stringArray", "",
            "File with PEM-encoded public (or private) keys used to verify service account tokens. \
             May be repeated. Not supported yet (service account tokens are not authenticated): \
             start-up fails when it is given."),
        FlagSpec::boolean(s, "service-account-lookup", true,
            "Check that service accounts referenced by tokens still exist in storage."),
        FlagSpec::value(s, "service-account-max-token-expiration", "duration", "",
            "Maximum validity of tokens created by the service account token issuer; longer \
             requests are capped. 0 means no limit."),
        FlagSpec::value(s, "token-auth-file", "string", "",
            "File with static bearer tokens (CSV: token,user,uid,\"group1,group2\") used to \
             authenticate requests to the secure port."),
    ]
}

pub(crate) fn authorization_specs() -> Vec<FlagSpec> {
    let s = Section::Authorization;
    vec![
        FlagSpec::value(s, "authorization-config", "string", "",
            "File with an AuthorizationConfiguration describing the authorizer chain; cannot be \
             combined with --authorization-mode or the --authorization-webhook-* flags. Not \
             supported yet: start-up fails when it is given."),
        FlagSpec::value(s, "authorization-mode", "strings", DEFAULT_AUTHORIZATION_MODE,
            "Authorizers for the secure port, asked in order until one allows or denies the \
             request. Comma-delimited list of: AlwaysAllow, AlwaysDeny, RBAC (the bootstrap \
             policy), Node (node identities; nodes and pods are not served, so it grants only \
             what the node role needs of the resources served); ABAC and Webhook are not \
             supported yet and make start-up fail. Upstream defaults to AlwaysAllow, which here \
             must be asked for; clusters usually run Node,RBAC. AlwaysAllow turns off \
             --anonymous-auth, as upstream."),
        FlagSpec::value(s, "authorization-policy-file", "string", "",
            "File with an authorization policy in JSON-lines format, for --authorization-mode=ABAC. \
             Not supported yet: start-up fails when it is given."),
        FlagSpec::value(s, "authorization-webhook-cache-authorized-ttl", "duration", "5m0s",
            "How long to cache 'authorized' answers from the webhook authorizer."),
        FlagSpec::value(s, "authorization-webhook-cache-unauthorized-ttl", "duration", "30s",
            "How long to cache 'unauthorized' answers from the webhook authorizer."),
        FlagSpec::value(s, "authorization-webhook-config-file", "string", "",
            "kubeconfig-format file describing the webhook to query for authorization, for \
             --authorization-mode=Webhook. Not supported yet: start-up fails when it is given."),
        FlagSpec::value(s, "authorization-webhook-version", "string", "v1beta1",
            "authorization.k8s.io SubjectAccessReview version sent to and expected from the webhook."),
    ]
}

impl AuthenticationFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.bool("anonymous-auth", &mut self.anonymous_auth, errs);
        raw.list("api-audiences", &mut self.api_audiences);
        raw.opt_string("authentication-config", &mut self.authentication_config);
        raw.opt_string("client-ca-file", &mut self.client_ca_file);
        raw.bool(
            "enable-bootstrap-token-auth",
            &mut self.enable_bootstrap_token_auth,
            errs,
        );
        raw.list(
            "requestheader-allowed-names",
            &mut self.requestheader_allowed_names,
        );
        raw.opt_string(
            "requestheader-client-ca-file",
            &mut self.requestheader_client_ca_file,
        );
        raw.list(
            "requestheader-extra-headers-prefix",
            &mut self.requestheader_extra_headers_prefix,
        );
        raw.list(
            "requestheader-group-headers",
            &mut self.requestheader_group_headers,
        );
        raw.list(
            "requestheader-uid-headers",
            &mut self.requestheader_uid_headers,
        );
        raw.list(
            "requestheader-username-headers",
            &mut self.requestheader_username_headers,
        );
        raw.bool(
            "service-account-extend-token-expiration",
            &mut self.service_account_extend_token_expiration,
            errs,
        );
        // Upstream keeps empty strings here so that it can reject them.
        if raw.is_set("service-account-issuer") {
            self.service_account_issuer = raw.all("service-account-issuer").to_vec();
        }
        raw.opt_string(
            "service-account-jwks-uri",
            &mut self.service_account_jwks_uri,
        );
        raw.array(
            "service-account-key-file",
            &mut self.service_account_key_file,
        );
        raw.bool(
            "service-account-lookup",
            &mut self.service_account_lookup,
            errs,
        );
        raw.duration(
            "service-account-max-token-expiration",
            &mut self.service_account_max_token_expiration,
            errs,
        );
        raw.opt_string("token-auth-file", &mut self.token_auth_file);
    }

    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        let mut seen = std::collections::BTreeSet::new();
        for issuer in &self.service_account_issuer {
            if issuer.is_empty() {
                errs.push("service-account-issuer should not be an empty string".into());
                continue;
            }
            if issuer.contains(':') && !looks_like_url(issuer) {
                errs.push(format!(
                    "service-account-issuer {issuer:?} contained a ':' but was not a valid URL"
                ));
                continue;
            }
            if !seen.insert(issuer.as_str()) {
                errs.push(format!(
                    "service-account-issuer {issuer:?} is already specified"
                ));
            }
        }
        if let Some(uri) = &self.service_account_jwks_uri {
            if !uri.starts_with("https://") || !looks_like_url(uri) {
                errs.push(format!(
                    "service-account-jwks-uri requires https scheme, parsed as: {uri}"
                ));
            }
        }
        let max = self.service_account_max_token_expiration;
        if max.nanos() != 0
            && (max < GoDuration::from_secs(3600) || max > GoDuration::from_secs(1i64 << 32))
        {
            errs.push(
                "the service-account-max-token-expiration must be between 1 hour and 2^32 seconds"
                    .into(),
            );
        }
        check_file(errs, "--client-ca-file", self.client_ca_file.as_deref());
        check_file(errs, "--token-auth-file", self.token_auth_file.as_deref());
        check_file(
            errs,
            "--authentication-config",
            self.authentication_config.as_deref(),
        );
        check_file(
            errs,
            "--requestheader-client-ca-file",
            self.requestheader_client_ca_file.as_deref(),
        );
        for f in &self.service_account_key_file {
            check_file(errs, "--service-account-key-file", Some(f));
        }
    }
}

impl AuthorizationFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.opt_string("authorization-config", &mut self.config);
        raw.list("authorization-mode", &mut self.modes);
        raw.opt_string("authorization-policy-file", &mut self.policy_file);
        raw.duration(
            "authorization-webhook-cache-authorized-ttl",
            &mut self.webhook_cache_authorized_ttl,
            errs,
        );
        raw.duration(
            "authorization-webhook-cache-unauthorized-ttl",
            &mut self.webhook_cache_unauthorized_ttl,
            errs,
        );
        raw.opt_string(
            "authorization-webhook-config-file",
            &mut self.webhook_config_file,
        );
        raw.string("authorization-webhook-version", &mut self.webhook_version);
        self.legacy_flags_set = [
            "authorization-mode",
            "authorization-webhook-config-file",
            "authorization-webhook-version",
            "authorization-webhook-cache-authorized-ttl",
            "authorization-webhook-cache-unauthorized-ttl",
        ]
        .iter()
        .any(|f| raw.is_set(f));
    }

    /// The modes after upstream's `Complete` defaulting.
    pub fn effective_modes(&self) -> Vec<String> {
        if self.modes.is_empty() && self.config.is_none() {
            vec![DEFAULT_AUTHORIZATION_MODE.to_string()]
        } else {
            self.modes.clone()
        }
    }

    /// Upstream `BuiltInAuthorizationOptions.Validate` (after Complete).
    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        if let Some(cfg) = &self.config {
            if self.legacy_flags_set {
                errs.push(
                    "--authorization-config can not be specified when --authorization-mode or \
                     --authorization-webhook-* flags are defined"
                        .into(),
                );
            }
            check_file(errs, "--authorization-config", Some(cfg));
            return;
        }
        let modes = self.effective_modes();
        if modes.is_empty() {
            errs.push("at least one authorization-mode must be passed".into());
        }
        for mode in &modes {
            if !AUTHORIZATION_MODES.contains(&mode.as_str()) {
                errs.push(format!("authorization-mode {mode:?} is not a valid mode"));
            }
            if mode == "ABAC" && self.policy_file.is_none() {
                errs.push("authorization-mode ABAC's authorization policy file not passed".into());
            }
            if mode == "Webhook" && self.webhook_config_file.is_none() {
                errs.push(
                    "authorization-mode Webhook's authorization config file not passed".into(),
                );
            }
        }
        if self.policy_file.is_some() && !modes.iter().any(|m| m == "ABAC") {
            errs.push("cannot specify --authorization-policy-file without mode ABAC".into());
        }
        if self.webhook_config_file.is_some() && !modes.iter().any(|m| m == "Webhook") {
            errs.push(
                "cannot specify --authorization-webhook-config-file without mode Webhook".into(),
            );
        }
        let unique: std::collections::BTreeSet<&String> = modes.iter().collect();
        if unique.len() != modes.len() {
            errs.push(format!(
                "authorization-mode {:?} has mode specified more than once",
                modes
            ));
        }
        for (flag, d) in [
            (
                "--authorization-webhook-cache-authorized-ttl",
                self.webhook_cache_authorized_ttl,
            ),
            (
                "--authorization-webhook-cache-unauthorized-ttl",
                self.webhook_cache_unauthorized_ttl,
            ),
        ] {
            if d.is_negative() {
                errs.push(format!("{flag} can not be negative value"));
            }
        }
        check_file(
            errs,
            "--authorization-policy-file",
            self.policy_file.as_deref(),
        );
        check_file(
            errs,
            "--authorization-webhook-config-file",
            self.webhook_config_file.as_deref(),
        );
    }
}

/// `scheme://rest` with a non-empty scheme made of URL scheme characters.
pub(crate) fn looks_like_url(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !rest.is_empty()
                && !rest.chars().any(char::is_whitespace)
        }
        // Go's url.Parse also accepts "scheme:opaque" forms.
        None => s.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }),
    }
}

/// Report a flag whose file does not exist or is not a regular file.
pub(crate) fn check_file(errs: &mut Vec<String>, flag: &str, path: Option<&str>) {
    let Some(path) = path else { return };
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => errs.push(format!("{flag} {path:?} is not a regular file")),
        Err(e) => errs.push(format!("{flag} {path:?} cannot be read: {e}")),
    }
}
