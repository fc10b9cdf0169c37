//! Reads the current (or a named) context of a kubeconfig: server, CA, client certificate
//! and key, or bearer token. YAML (the subset kubectl and our server write) or JSON.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use crate::bail;
use crate::error::{Context, Error, Result};
use crate::yaml;

/// What a context resolves to. Files are already read; `-data` fields already decoded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub server: Option<String>,
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Vec<u8>>,
    pub token: Option<String>,
}

pub fn load(path: &Path, context: Option<&str>) -> Result<Credentials> {
    let text = std::fs::read_to_string(path)
        .context(|| format!("cannot read kubeconfig {}", path.display()))?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    resolve(&text, &dir, context).context(|| format!("kubeconfig {}", path.display()))
}

/// Resolves a kubeconfig's text; relative file paths are taken from `dir`.
pub fn resolve(text: &str, dir: &Path, context: Option<&str>) -> Result<Credentials> {
    let doc: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).context(|| "invalid JSON")?
    } else {
        yaml::parse(text)?
    };
    if !doc.is_object() {
        bail!("not a kubeconfig (expected a mapping at the top)");
    }
    let context_name = match context {
        Some(c) => c.to_string(),
        None => match string(&doc, "current-context") {
            Some(c) if !c.is_empty() => c,
            _ => bail!("no current-context set; pass --context"),
        },
    };
    let ctx = named(&doc, "contexts", "context", &context_name)?;
    let cluster_name =
        string(ctx, "cluster").context(|| format!("context {context_name} names no cluster"))?;
    let cluster = named(&doc, "clusters", "cluster", &cluster_name)?;
    let mut creds = Credentials {
        server: string(cluster, "server"),
        insecure_skip_tls_verify: boolean(cluster, "insecure-skip-tls-verify"),
        tls_server_name: string(cluster, "tls-server-name"),
        ..Credentials::default()
    };
    creds.ca_pem = data_or_file(cluster, "certificate-authority", dir)?;

    if let Some(user_name) = string(ctx, "user").filter(|u| !u.is_empty()) {
        let user = named(&doc, "users", "user", &user_name)?;
        if user.get("exec").is_some_and(|v| !v.is_null())
            || user.get("auth-provider").is_some_and(|v| !v.is_null())
        {
            bail!(
                "user {user_name} authenticates through an exec or auth-provider plugin, \
                 which kube-loadtest does not run; pass --token instead"
            );
        }
        if string(user, "username").is_some() || string(user, "password").is_some() {
            bail!("user {user_name} uses basic authentication, which is not supported");
        }
        creds.client_cert_pem = data_or_file(user, "client-certificate", dir)?;
        creds.client_key_pem = data_or_file(user, "client-key", dir)?;
        if creds.client_cert_pem.is_some() != creds.client_key_pem.is_some() {
            bail!("user {user_name} has a client certificate without a key, or a key without a certificate");
        }
        creds.token = match string(user, "token").filter(|t| !t.is_empty()) {
            Some(t) => Some(t),
            None => match string(user, "tokenFile") {
                Some(f) => {
                    let p = relative(dir, &f);
                    let t = std::fs::read_to_string(&p)
                        .context(|| format!("cannot read tokenFile {}", p.display()))?;
                    Some(t.trim().to_string())
                }
                None => None,
            },
        };
    }
    Ok(creds)
}

/// `list[name == name][inner]`, e.g. the `cluster` of the cluster called `name`.
fn named<'a>(doc: &'a Value, list: &str, inner: &str, name: &str) -> Result<&'a Value> {
    let items = doc
        .get(list)
        .and_then(Value::as_array)
        .context(|| format!("no `{list}` list"))?;
    let entry = items
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
        .context(|| format!("no entry named {name:?} in `{list}`"))?;
    match entry.get(inner) {
        Some(v) if v.is_object() => Ok(v),
        _ => bail!("entry {name:?} in `{list}` has no `{inner}` mapping"),
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn boolean(v: &Value, key: &str) -> bool {
    matches!(
        string(v, key).as_deref(),
        Some("true" | "True" | "TRUE" | "yes" | "on")
    )
}

fn relative(dir: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// `<key>-data` (base64) wins over `<key>` (a file path).
fn data_or_file(v: &Value, key: &str, dir: &Path) -> Result<Option<Vec<u8>>> {
    if let Some(data) = string(v, &format!("{key}-data")).filter(|d| !d.is_empty()) {
        let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| Error(format!("`{key}-data` is not valid base64: {e}")))?;
        return Ok(Some(bytes));
    }
    match string(v, key).filter(|f| !f.is_empty()) {
        Some(file) => {
            let p = relative(dir, &file);
            let bytes =
                std::fs::read(&p).context(|| format!("cannot read `{key}` {}", p.display()))?;
            Ok(Some(bytes))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://127.0.0.1:39479
  name: kube-apiserver
contexts:
- context:
    cluster: kube-apiserver
    user: kubernetes-admin
  name: kubernetes-admin@kube-apiserver
current-context: kubernetes-admin@kube-apiserver
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
";

    #[test]
    fn reads_our_servers_kubeconfig() {
        let c = resolve(OURS, Path::new("."), None).unwrap();
        assert_eq!(c.server.as_deref(), Some("https://127.0.0.1:39479"));
        assert_eq!(c.ca_pem.as_deref(), Some(&b"CA"[..]));
        assert_eq!(c.client_cert_pem.as_deref(), Some(&b"CERT"[..]));
        assert_eq!(c.client_key_pem.as_deref(), Some(&b"KEY"[..]));
        assert_eq!(c.token, None);
        assert!(!c.insecure_skip_tls_verify);
    }

    #[test]
    fn json_token_files_and_named_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "PEM").unwrap();
        std::fs::write(dir.path().join("tok"), "secret\n").unwrap();
        let text = r#"{"clusters":[{"name":"c","cluster":{"server":"https://h:1",
            "certificate-authority":"ca.crt","insecure-skip-tls-verify":true}}],
            "contexts":[{"name":"x","context":{"cluster":"c","user":"u"}}],
            "users":[{"name":"u","user":{"tokenFile":"tok"}}]}"#;
        assert!(resolve(text, dir.path(), None)
            .unwrap_err()
            .0
            .contains("current-context"));
        let c = resolve(text, dir.path(), Some("x")).unwrap();
        assert_eq!(c.ca_pem.as_deref(), Some(&b"PEM"[..]));
        assert_eq!(c.token.as_deref(), Some("secret"));
        assert!(c.insecure_skip_tls_verify);
    }

    #[test]
    fn clear_errors() {
        let exec = OURS.replace(
            "    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n",
            "    exec:\n      command: aws\n",
        );
        assert!(resolve(&exec, Path::new("."), None)
            .unwrap_err()
            .0
            .contains("exec"));
        let missing = OURS.replace("cluster: kube-apiserver", "cluster: other");
        assert!(resolve(&missing, Path::new("."), None)
            .unwrap_err()
            .0
            .contains("other"));
        assert!(load(Path::new("/nonexistent/kubeconfig"), None)
            .unwrap_err()
            .0
            .contains("cannot read kubeconfig"));
    }
}
