//! kube-apiserver command line: flags (upstream v1.36 names, defaults and
//! meanings), validation, and completion (defaulting, PKI, kubeconfig).
//!
//! Typical use from `main`:
//!
//! ```ignore
//! let opts = match options::parse_and_validate(std::env::args()) {
//!     Ok(o) => o,
//!     Err(e) => { e.print(); std::process::exit(e.exit_code()) }
//! };
//! let completed = options::complete(opts)?;
//! ```
//!
//! Upstream references: cmd/kube-apiserver/app/options/{options,validation,
//! completion}.go, pkg/controlplane/apiserver/options/*.go,
//! pkg/kubeapiserver/options/*.go and
//! staging/src/k8s.io/apiserver/pkg/server/options/*.go.

// main.rs wires this module up; until every item is used there, allow the
// public API to exist without callers.
#![allow(dead_code)]

mod admission;
mod api_enablement;
mod auth;
mod compat;
mod complete;
mod duration;
mod embedded;
mod etcd;
mod flags;
mod generic;
mod kubeconfig;
mod misc;
mod net;
mod pki;
mod secure_serving;
mod unsupported;
mod validate;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

// The public API; main.rs may not need every name yet.
#[allow(unused_imports)]
pub use admission::{AdmissionFlags, ALL_ORDERED_PLUGINS, DEFAULT_ON_PLUGINS};
#[allow(unused_imports)]
pub use api_enablement::ApiEnablementFlags;
#[allow(unused_imports)]
pub use auth::{AuthenticationFlags, AuthorizationFlags, AUTHORIZATION_MODES};
#[allow(unused_imports)]
pub use complete::{complete, CompletedOptions, EtcdOptions, PkiPaths};
#[allow(unused_imports)]
pub use duration::GoDuration;
#[allow(unused_imports)]
pub use embedded::{default_data_dir, EmbeddedFlags, DATA_DIR_ENV};
#[allow(unused_imports)]
pub use etcd::EtcdFlags;
#[allow(unused_imports)]
pub use flags::Section;
#[allow(unused_imports)]
pub use generic::GenericFlags;
#[allow(unused_imports)]
pub use misc::{FeatureFlags, GlobalFlags, LogsFlags, MiscFlags, PortRange, VersionFlag};
#[allow(unused_imports)]
pub use net::IpNet;
#[allow(unused_imports)]
pub use secure_serving::SecureServingFlags;
#[allow(unused_imports)]
pub use unsupported::{
    default_plugins_not_implemented, IMPLEMENTED_ADMISSION_PLUGINS, IMPLEMENTED_AUTHORIZATION_MODES,
};
#[allow(unused_imports)]
pub use validate::validate;

/// The Kubernetes version this server implements (what `--version` prints).
pub const KUBERNETES_VERSION: &str = "v1.36.0";

/// Everything given on the command line, typed, with upstream's defaults.
///
/// Values that failed to parse keep their default and are listed in
/// `parse_errors`, which [`validate`] reports together with every other
/// problem.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerRunOptions {
    pub generic: GenericFlags,
    pub etcd: EtcdFlags,
    pub secure_serving: SecureServingFlags,
    pub features: FeatureFlags,
    pub authentication: AuthenticationFlags,
    pub authorization: AuthorizationFlags,
    pub api_enablement: ApiEnablementFlags,
    pub admission: AdmissionFlags,
    pub logs: LogsFlags,
    pub misc: MiscFlags,
    pub embedded: EmbeddedFlags,
    pub global: GlobalFlags,
    /// Syntax and value errors from parsing (unknown flags, bad numbers...).
    pub parse_errors: Vec<String>,
    /// Deprecation notices for flags that were used (to log at startup).
    pub warnings: Vec<String>,
    /// Flags given that the server accepts but does not act on, as (name, value).
    pub ignored_flags: Vec<(String, String)>,
}

/// Every flag this binary knows, in no particular order.
pub(crate) fn all_specs() -> Vec<flags::FlagSpec> {
    let mut v = Vec::new();
    v.extend(generic::specs());
    v.extend(etcd::specs());
    v.extend(secure_serving::specs());
    v.extend(misc::feature_specs());
    v.extend(auth::authentication_specs());
    v.extend(auth::authorization_specs());
    v.extend(api_enablement::specs());
    v.extend(admission::specs());
    v.extend(misc::logs_specs());
    v.extend(misc::misc_specs());
    v.extend(embedded::specs());
    v.extend(misc::global_specs());
    v.extend(compat::specs());
    v.sort_by(|a, b| a.section.cmp(&b.section).then(a.name.cmp(b.name)));
    v
}

impl ServerRunOptions {
    /// Parse a command line. Never fails: problems are collected in
    /// `parse_errors`. The first item is taken as the program name and
    /// skipped unless it starts with `-` (so both `std::env::args()` and
    /// `std::env::args().skip(1)` work).
    pub fn parse_args<I, S>(args: I) -> ServerRunOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut args: Vec<String> = args.into_iter().map(Into::into).collect();
        if args.first().is_some_and(|a| !a.starts_with('-')) {
            args.remove(0);
        }
        let specs = all_specs();
        let lexed = flags::lex(&args, &specs);
        let raw = &lexed.raw;
        let mut o = ServerRunOptions {
            parse_errors: lexed.errors.clone(),
            warnings: lexed.warnings.clone(),
            ignored_flags: lexed.ignored.clone(),
            ..ServerRunOptions::default()
        };
        for name in compat::NOT_ACTED_ON {
            for value in raw.all(name) {
                o.ignored_flags.push((name.to_string(), value.clone()));
            }
        }
        let errs = &mut o.parse_errors;
        o.generic.apply(raw, errs);
        o.etcd.apply(raw, errs);
        o.secure_serving.apply(raw, errs);
        o.features.apply(raw, errs);
        o.authentication.apply(raw, errs);
        o.authorization.apply(raw, errs);
        o.api_enablement.apply(raw, errs);
        o.admission.apply(raw, errs);
        o.logs.apply(raw, errs);
        o.misc.apply(raw, errs);
        // The count tunes only the master-count endpoint reconciler.
        if o.misc.endpoint_reconciler_type != "master-count" {
            for value in raw.all("apiserver-count") {
                o.ignored_flags
                    .push(("apiserver-count".to_string(), value.clone()));
            }
        }
        o.embedded.apply(raw, errs);
        o.global.apply(raw, errs);
        o
    }

    /// The `--help` text.
    pub fn help_text() -> String {
        flags::render_help(&all_specs())
    }

    /// The version this server reports (`--version=vX.Y.Z` overrides it).
    pub fn reported_version(&self) -> String {
        match &self.global.version {
            VersionFlag::Override(v) => v.clone(),
            _ => KUBERNETES_VERSION.to_string(),
        }
    }

    /// What `--version` / `--version=raw` print, if requested.
    pub fn version_text(&self) -> Option<String> {
        match self.global.version {
            VersionFlag::Print => Some(format!("Kubernetes {}\n", self.reported_version())),
            VersionFlag::Raw => Some(raw_version_info(&self.reported_version())),
            _ => None,
        }
    }
}

fn raw_version_info(version: &str) -> String {
    let trimmed = version.trim_start_matches('v');
    let mut parts = trimmed.split('.');
    let major = parts.next().unwrap_or("");
    let minor = parts.next().unwrap_or("");
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!(
        "version.Info{{Major:\"{major}\", Minor:\"{minor}\", GitVersion:\"{version}\", \
         GitCommit:\"\", GitTreeState:\"\", BuildDate:\"\", GoVersion:\"\", Compiler:\"rustc\", \
         Platform:\"{}/{arch}\"}}\n",
        std::env::consts::OS
    )
}

/// Why options could not be turned into a running configuration.
///
/// `Help` and `Version` are not failures: print their text to stdout and
/// exit 0 ([`OptionsError::exit_code`]). Everything else goes to stderr with
/// exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// `--help` was given; the text to print.
    #[error("{0}")]
    Help(String),
    /// `--version` was given; the text to print.
    #[error("{0}")]
    Version(String),
    /// Every problem found in the command line.
    #[error("{}", format_problems(.0))]
    Invalid(Vec<String>),
    /// A file or directory operation failed during Complete.
    #[error("{what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Certificate / key generation or loading failed.
    #[error("{0}")]
    Pki(String),
    /// Any other defaulting failure in Complete.
    #[error("{0}")]
    Complete(String),
}

fn format_problems(errs: &[String]) -> String {
    errs.iter()
        .map(|e| format!("Error: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl OptionsError {
    /// 0 for help/version output, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            OptionsError::Help(_) | OptionsError::Version(_) => 0,
            _ => 1,
        }
    }

    /// Help/version output rather than a failure.
    pub fn is_informational(&self) -> bool {
        self.exit_code() == 0
    }

    /// Print to stdout (help/version) or stderr (errors).
    pub fn print(&self) {
        match self {
            OptionsError::Help(t) | OptionsError::Version(t) => print!("{t}"),
            other => eprintln!("{other}"),
        }
    }

    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        OptionsError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}

/// Parse and validate a command line (`std::env::args()` style; see
/// [`ServerRunOptions::parse_args`]).
///
/// Order, as upstream: `--help` wins; then flag syntax/value errors (all of
/// them, together with the validation errors); then `--version`; then
/// validation.
pub fn parse_and_validate<I, S>(args: I) -> Result<ServerRunOptions, OptionsError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let opts = ServerRunOptions::parse_args(args);
    if opts.global.help {
        return Err(OptionsError::Help(ServerRunOptions::help_text()));
    }
    if opts.parse_errors.is_empty() {
        if let Some(text) = opts.version_text() {
            return Err(OptionsError::Version(text));
        }
    }
    let errs = validate(&opts);
    if errs.is_empty() {
        Ok(opts)
    } else {
        Err(OptionsError::Invalid(errs))
    }
}
