//! "API enablement flags" (`--runtime-config`), upstream
//! staging/src/k8s.io/apiserver/pkg/server/options/api_enablement.go and
//! staging/src/k8s.io/apiserver/pkg/server/resourceconfig/helpers.go.

use std::collections::BTreeMap;

use super::flags::{parse_go_bool, FlagSpec, RawArgs, Section};

/// Keys that address groups of versions rather than one group/version.
pub const VERSION_MATCHERS: [&str; 4] = ["api/all", "api/ga", "api/beta", "api/alpha"];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiEnablementFlags {
    pub runtime_config: BTreeMap<String, String>,
}

pub(crate) fn specs() -> Vec<FlagSpec> {
    vec![FlagSpec::value(
        Section::ApiEnablement,
        "runtime-config",
        "mapStringString",
        "",
        "key=value pairs that switch built-in APIs on or off:\n\
           v1=true|false for the core API group\n\
           <group>/<version>=true|false for one API group and version (e.g. apps/v1=true)\n\
           <group>/<version>/<resource>=true|false for one resource\n\
           api/all=true|false for all API versions\n\
           api/ga=true|false for all versions of the form v[0-9]+\n\
           api/beta=true|false for all versions of the form v[0-9]+beta[0-9]+\n\
           api/alpha=true|false for all versions of the form v[0-9]+alpha[0-9]+\n\
           api/legacy is deprecated and ignored",
    )]
}

impl ApiEnablementFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, _errs: &mut Vec<String>) {
        raw.map_string("runtime-config", &mut self.runtime_config);
    }

    /// Upstream `APIEnablementOptions.Validate` + value checks from
    /// `MergeAPIResourceConfigs` (which upstream runs later, at startup).
    /// Unknown API groups are not checked here: that needs the registry.
    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        let rc = &self.runtime_config;
        if rc.len() == 1 && rc.get("api/all").map(String::as_str) == Some("false") {
            errs.push("invalid key with only api/all=false".into());
        }
        for (key, value) in rc {
            if VERSION_MATCHERS.contains(&key.as_str()) {
                if value != "true" && value != "false" {
                    errs.push(format!("--runtime-config: invalid value {key}={value}"));
                }
                continue;
            }
            if key == "api/legacy" {
                continue;
            }
            let key_ok = if is_core_v1_alias(key) {
                true
            } else {
                let tokens: Vec<&str> = key.split('/').collect();
                (tokens.len() == 2 || tokens.len() == 3)
                    && !tokens[1].is_empty()
                    && (tokens.len() == 2 || !tokens[2].is_empty())
            };
            if !key_ok {
                errs.push(format!("runtime-config invalid key {key}"));
                continue;
            }
            let tokens: Vec<&str> = key.split('/').collect();
            if tokens.len() == 3 && tokens[2].to_lowercase() != tokens[2] {
                errs.push(format!(
                    "invalid key {key}: group/version/resource and resource is always lowercase \
                     plural, not {:?}",
                    tokens[2]
                ));
            }
            if !value.is_empty() && parse_go_bool(value).is_none() {
                errs.push(format!(
                    "invalid value of {key}: {value}, must be true or false"
                ));
            }
        }
    }
}

/// Keys upstream rewrites to `/v1` in Complete.
fn is_core_v1_alias(key: &str) -> bool {
    key == "v1" || key.starts_with("v1/") || key == "api/v1" || key.starts_with("api/v1/")
}

/// Upstream's Complete step for runtime-config: `v1`, `v1/...`, `api/v1`,
/// `api/v1/...` become `/v1`; `api/legacy` is dropped.
pub fn normalize_runtime_config(rc: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (key, value) in rc {
        if key == "api/legacy" {
            continue;
        }
        if is_core_v1_alias(key) {
            out.insert("/v1".to_string(), value.clone());
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}
