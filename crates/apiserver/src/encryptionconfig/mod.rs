//! `--encryption-provider-config`: the `EncryptionConfiguration` file
//! (`apiserver.config.k8s.io/v1`, YAML or JSON) read, checked with upstream's rules and
//! messages, and turned into one encryption transformer per resource
//! ([`EncryptionConfig::transformer_for`]).
//!
//! Each entry of `resources` names resources (`secrets`, `deployments.apps`, `*.apps`, `*.`
//! for the core group, `*.*` for all) and an ordered list of providers: the first provider
//! (its first key) encrypts every write, and all of them, with all their keys, read. A
//! resource named by no entry is stored as it is.

mod file;
mod validation;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use storage::encrypt::aes::{AesCbc, AesGcm};
use storage::encrypt::secretbox::Secretbox;
use storage::encrypt::{Cipher, Encryption, Identity, Prefixed, PrefixedCiphers};
use storage::transform::ValueTransformer;

use file::{Key, ProviderConfig};

/// Why the file could not be used; the texts are upstream's.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionConfigError {
    /// Reading, decoding or validating the file failed.
    #[error("error while parsing file: {0}")]
    Parse(String),
    /// A provider could not be set up from a valid file.
    #[error("error while building transformers: {0}")]
    Build(String),
}

/// A group and a resource, `*` standing for any.
type GroupResource = (String, String);

/// The encryption of every resource the file names.
pub struct EncryptionConfig {
    by_resource: HashMap<GroupResource, Arc<dyn Cipher>>,
}

impl EncryptionConfig {
    /// Reads, checks and builds the file at `path`.
    pub fn load(path: &Path) -> Result<Self, EncryptionConfigError> {
        let shown = path.display().to_string();
        let data = std::fs::read(path).map_err(|e| {
            EncryptionConfigError::Parse(format!(
                "error while loading file: error reading encryption provider configuration \
                 file {shown:?}: {e}"
            ))
        })?;
        if data.is_empty() {
            return Err(EncryptionConfigError::Parse(format!(
                "error while loading file: encryption provider configuration file {shown:?} is \
                 empty"
            )));
        }
        Self::from_bytes(&data, &shown)
    }

    /// Checks and builds a file's contents (`shown` names it in errors).
    pub fn from_bytes(data: &[u8], shown: &str) -> Result<Self, EncryptionConfigError> {
        let config = file::decode(data).map_err(|e| {
            EncryptionConfigError::Parse(format!(
                "error decoding encryption provider configuration file {shown:?}: {e}"
            ))
        })?;
        if let Some(message) = validation::validate(&config) {
            return Err(EncryptionConfigError::Parse(message));
        }
        let mut layers: HashMap<GroupResource, Vec<Prefixed>> = HashMap::new();
        for (i, entry) in config.resources.iter().enumerate() {
            for resource in &entry.resources {
                let gr = parse_group_resource(resource);
                for mask in [(gr.0.clone(), "*".to_string()), any()] {
                    if layers.contains_key(&mask) {
                        return Err(EncryptionConfigError::Build(format!(
                            "resource {:?} is masked by earlier rule {:?}",
                            yaml_string(&gr),
                            yaml_string(&mask)
                        )));
                    }
                }
                let providers = entry
                    .providers
                    .iter()
                    .enumerate()
                    .map(|(j, p)| provider(p, i, j))
                    .collect::<Result<Vec<_>, _>>()?;
                layers.entry(gr).or_default().extend(providers);
            }
        }
        let by_resource = layers
            .into_iter()
            .map(|(gr, layers)| {
                let cipher: Arc<dyn Cipher> =
                    Arc::new(PrefixedCiphers::new(layers, "no matching prefix found"));
                (gr, cipher)
            })
            .collect();
        Ok(EncryptionConfig { by_resource })
    }

    /// The transformer of a resource (`group` empty for the core group), `None` when the file
    /// names it by no rule (its values are stored as they are).
    pub fn transformer_for(
        &self,
        group: &str,
        resource: &str,
    ) -> Option<Arc<dyn ValueTransformer>> {
        let exact = (group.to_string(), resource.to_string());
        let in_group = (group.to_string(), "*".to_string());
        [exact, in_group, any()]
            .iter()
            .find_map(|gr| self.by_resource.get(gr))
            .map(|c| Arc::new(Encryption::new(c.clone())) as Arc<dyn ValueTransformer>)
    }
}

fn any() -> GroupResource {
    ("*".to_string(), "*".to_string())
}

/// `resource.group` split at the first dot (upstream's `ParseGroupResource`).
fn parse_group_resource(s: &str) -> GroupResource {
    match s.split_once('.') {
        Some((resource, group)) => (group.to_string(), resource.to_string()),
        None => (String::new(), s.to_string()),
    }
}

/// How upstream prints a group-resource in these errors (`*.` for the core group's `*`).
fn yaml_string(gr: &GroupResource) -> String {
    match (gr.0.as_str(), gr.1.as_str()) {
        ("", "*") => "*.".to_string(),
        ("", r) => r.to_string(),
        (g, r) => format!("{r}.{g}"),
    }
}

const AESCBC_PREFIX: &str = "k8s:enc:aescbc:v1:";
const AESGCM_PREFIX: &str = "k8s:enc:aesgcm:v1:";
const SECRETBOX_PREFIX: &str = "k8s:enc:secretbox:v1:";

/// One provider's layer: its prefix, then one layer per key named `<key name>:`.
fn provider(p: &ProviderConfig, i: usize, j: usize) -> Result<Prefixed, EncryptionConfigError> {
    let build = |e: String| EncryptionConfigError::Build(e);
    if let Some(aes) = &p.aesgcm {
        let keys = keyed(&aes.keys, "aes", |name, key| {
            AesGcm::new(key)
                .map(|c| Arc::new(c) as Arc<dyn Cipher>)
                .map_err(|e| format!("error while creating cipher for named key {name}: {e}"))
        })
        .map_err(build)?;
        return Ok(Prefixed::new(
            AESGCM_PREFIX,
            Arc::new(PrefixedCiphers::new(
                keys,
                "no matching key was found for the provided AES transformer",
            )),
        ));
    }
    if let Some(aes) = &p.aescbc {
        let keys = keyed(&aes.keys, "aes", |name, key| {
            AesCbc::new(key)
                .map(|c| Arc::new(c) as Arc<dyn Cipher>)
                .map_err(|e| format!("error while creating cipher for named key {name}: {e}"))
        })
        .map_err(build)?;
        return Ok(Prefixed::new(
            AESCBC_PREFIX,
            Arc::new(PrefixedCiphers::new(
                keys,
                "no matching key was found for the provided AES transformer",
            )),
        ));
    }
    if let Some(sb) = &p.secretbox {
        let keys = keyed(&sb.keys, "secretbox", |_, key| {
            let key: [u8; 32] = key.try_into().map_err(|_| {
                format!(
                    "expected key size 32 for secretbox provider, got {}",
                    key.len()
                )
            })?;
            Ok(Arc::new(Secretbox::new(&key)) as Arc<dyn Cipher>)
        })
        .map_err(build)?;
        return Ok(Prefixed::new(
            SECRETBOX_PREFIX,
            Arc::new(PrefixedCiphers::new(
                keys,
                "no matching key was found for the provided Secretbox transformer",
            )),
        ));
    }
    if p.identity.is_some() {
        return Ok(Prefixed::new("", Arc::new(Identity)));
    }
    if p.kms.is_some() {
        return Err(build(format!(
            "resources[{i}].providers[{j}].kms: the kms provider is not supported by this \
             server; use aescbc, aesgcm, secretbox or identity"
        )));
    }
    Err(build(
        "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, \
         Secretbox, Identity"
            .to_string(),
    ))
}

/// One layer per key, named `<name>:`, built by `cipher` from the decoded secret.
fn keyed(
    keys: &[Key],
    what: &str,
    cipher: impl Fn(&str, &[u8]) -> Result<Arc<dyn Cipher>, String>,
) -> Result<Vec<Prefixed>, String> {
    if keys.is_empty() {
        return Err(format!("{what} provider has no valid keys"));
    }
    for key in keys {
        if key.name.is_empty() {
            return Err("key with invalid name provided".to_string());
        }
        if key.secret.is_empty() {
            return Err(format!("key {} has no provided secret", key.name));
        }
    }
    keys.iter()
        .map(|key| {
            let secret = base64::engine::general_purpose::STANDARD
                .decode(&key.secret)
                .map_err(|e| format!("could not obtain secret for named key {}: {e}", key.name))?;
            Ok(Prefixed::new(
                format!("{}:", key.name),
                cipher(&key.name, &secret)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests;
