//! `--admission-control-config-file`: the `AdmissionConfiguration` file
//! (`apiserver.config.k8s.io/v1`, YAML or JSON) that gives admission plugins their
//! configuration, each inline (`configuration`) or in a file of its own (`path`, relative to
//! the configuration file's directory), as upstream's `ReadAdmissionConfiguration` reads it.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The `apiVersion`s upstream reads the file at.
const API_VERSIONS: [&str; 3] = [
    "apiserver.config.k8s.io/v1",
    "apiserver.config.k8s.io/v1alpha1",
    "apiserver.k8s.io/v1alpha1",
];

/// Why the file (or a plugin's file) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionConfigError {
    #[error("unable to read admission control configuration from {path:?} [{reason}]")]
    Read { path: String, reason: String },
    #[error("couldn't open admission plugin configuration {path}: {reason}")]
    ReadPlugin { path: String, reason: String },
    #[error("{0}")]
    Decode(String),
}

/// Where one plugin's configuration is.
#[derive(Debug, Clone)]
enum Source {
    Inline(Value),
    File(PathBuf),
}

/// The plugins' configurations, by plugin name.
#[derive(Debug, Clone, Default)]
pub struct AdmissionConfig {
    plugins: Vec<(String, Option<Source>)>,
}

impl AdmissionConfig {
    /// Reads and decodes the file at `path`.
    pub fn load(path: &Path) -> Result<AdmissionConfig, AdmissionConfigError> {
        let shown = path.display().to_string();
        let data = std::fs::read(path).map_err(|e| AdmissionConfigError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_bytes(&data, &shown, base)
    }

    /// Decodes a file's contents; relative plugin paths are taken from `base`.
    pub fn from_bytes(
        data: &[u8],
        shown: &str,
        base: &Path,
    ) -> Result<AdmissionConfig, AdmissionConfigError> {
        let value = apimachinery::yaml::from_yaml(data)
            .map_err(|e| AdmissionConfigError::Decode(format!("{shown}: {e}")))?;
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        if kind.is_empty() {
            return Err(AdmissionConfigError::Decode(format!(
                "Object 'Kind' is missing in {shown:?}"
            )));
        }
        if kind != "AdmissionConfiguration" || !API_VERSIONS.contains(&api_version) {
            return Err(AdmissionConfigError::Decode(format!(
                "no kind {kind:?} is registered for version {api_version:?}"
            )));
        }
        let mut plugins = Vec::new();
        for entry in value
            .get("plugins")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let source = match (
                entry.get("configuration").filter(|v| !v.is_null()),
                entry
                    .get("path")
                    .and_then(Value::as_str)
                    .filter(|p| !p.is_empty()),
            ) {
                (Some(inline), _) => Some(Source::Inline(inline.clone())),
                (None, Some(path)) => Some(Source::File(base.join(path))),
                (None, None) => None,
            };
            plugins.push((name, source));
        }
        Ok(AdmissionConfig { plugins })
    }

    /// The plugins the file names.
    pub fn plugin_names(&self) -> impl Iterator<Item = &str> {
        self.plugins.iter().map(|(n, _)| n.as_str())
    }

    /// A plugin's configuration object (an inline one, or its file decoded), `None` when
    /// the file gives it none.
    pub fn plugin(&self, name: &str) -> Result<Option<Value>, AdmissionConfigError> {
        let Some((_, source)) = self.plugins.iter().find(|(n, _)| n == name) else {
            return Ok(None);
        };
        match source {
            None => Ok(None),
            Some(Source::Inline(v)) => Ok(Some(v.clone())),
            Some(Source::File(path)) => {
                let shown = path.display().to_string();
                let data = std::fs::read(path).map_err(|e| AdmissionConfigError::ReadPlugin {
                    path: shown.clone(),
                    reason: e.to_string(),
                })?;
                if data.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                apimachinery::yaml::from_yaml(&data)
                    .map(Some)
                    .map_err(|e| AdmissionConfigError::Decode(format!("{shown}: {e}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_file_configurations() {
        let dir = std::env::temp_dir().join(format!("admission-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("psa.yaml"), "kind: PodSecurityConfiguration\n").expect("write");
        let file = "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  path: psa.yaml\n- name: EventRateLimit\n  configuration:\n    kind: Configuration\n- name: Bare\n";
        let config = AdmissionConfig::from_bytes(file.as_bytes(), "f", &dir).expect("decode");
        assert_eq!(
            config.plugin_names().collect::<Vec<_>>(),
            ["PodSecurity", "EventRateLimit", "Bare"]
        );
        let psa = config.plugin("PodSecurity").expect("read").expect("some");
        assert_eq!(psa["kind"], "PodSecurityConfiguration");
        let erl = config
            .plugin("EventRateLimit")
            .expect("read")
            .expect("some");
        assert_eq!(erl["kind"], "Configuration");
        assert!(config.plugin("Bare").expect("read").is_none());
        assert!(config.plugin("Other").expect("read").is_none());
        let _ = std::fs::remove_dir_all(&dir);

        let err = AdmissionConfig::from_bytes(b"plugins: []\n", "f", &dir).unwrap_err();
        assert_eq!(err.to_string(), "Object 'Kind' is missing in \"f\"");
    }
}
