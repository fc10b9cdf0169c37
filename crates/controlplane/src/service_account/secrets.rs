//! The secrets a pod refers to: what a service account with
//! `kubernetes.io/enforce-mountable-secrets: "true"` limits, and what mirror pods may not
//! refer to at all.

use serde_json::Value;

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Checks the containers of `field` (`initContainers`, `containers`,
/// `ephemeralContainers`) refer only to secrets `allowed` admits, in upstream's words.
pub fn check_container_refs(
    spec: &Value,
    field: &str,
    what: &str,
    account: &str,
    allowed: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    for c in items(spec, field) {
        let cname = str_at(c, "/name").unwrap_or("");
        for env in items(c, "env") {
            if let Some(secret) = str_at(env, "/valueFrom/secretKeyRef/name") {
                if !allowed(secret) {
                    let env_name = str_at(env, "/name").unwrap_or("");
                    return Err(format!(
                        "{what} {cname} with envVar {env_name} referencing secret.secretName=\"{secret}\" is not allowed because service account {account} does not reference that secret"
                    ));
                }
            }
        }
        for from in items(c, "envFrom") {
            if let Some(secret) = str_at(from, "/secretRef/name") {
                if !allowed(secret) {
                    return Err(format!(
                        "{what} {cname} with envFrom referencing secret.secretName=\"{secret}\" is not allowed because service account {account} does not reference that secret"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks a pod's volumes, containers and image pull secrets refer only to the secrets and
/// pull secrets its service account lists.
pub fn check_mountable(spec: &Value, account: &Value) -> Result<(), String> {
    let name = str_at(account, "/metadata/name").unwrap_or("");
    let listed =
        |key: &str, secret: &str| items(account, key).any(|s| str_at(s, "/name") == Some(secret));
    let mountable = |secret: &str| listed("secrets", secret);
    for volume in items(spec, "volumes") {
        if let Some(secret) = str_at(volume, "/secret/secretName") {
            if !mountable(secret) {
                return Err(format!(
                    "volume with secret.secretName=\"{secret}\" is not allowed because service account {name} does not reference that secret"
                ));
            }
        }
    }
    check_container_refs(spec, "initContainers", "init container", name, &mountable)?;
    check_container_refs(spec, "containers", "container", name, &mountable)?;
    for (i, pull) in items(spec, "imagePullSecrets").enumerate() {
        let secret = str_at(pull, "/name").unwrap_or("");
        if !listed("imagePullSecrets", secret) {
            return Err(format!(
                "imagePullSecrets[{i}].name=\"{secret}\" is not allowed because service account {name} does not reference that imagePullSecret"
            ));
        }
    }
    Ok(())
}

/// The volume source fields that name a secret (`secretRef`, the CSI node publish secret,
/// Azure File's `secretName`).
const VOLUME_SECRET_POINTERS: [&str; 3] =
    ["secretRef/name", "nodePublishSecretRef/name", "secretName"];

/// Whether a pod refers to any secret (pull secrets, container environments, volumes).
pub fn refers_to_secrets(spec: &Value) -> bool {
    if items(spec, "imagePullSecrets").next().is_some() {
        return true;
    }
    let any_container = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|f| items(spec, f))
        .any(|c| {
            items(c, "env").any(|e| e.pointer("/valueFrom/secretKeyRef").is_some())
                || items(c, "envFrom").any(|e| e.get("secretRef").is_some())
        });
    if any_container {
        return true;
    }
    items(spec, "volumes").any(|v| {
        let Some(sources) = v.as_object() else {
            return false;
        };
        sources.iter().any(|(key, source)| match key.as_str() {
            "name" => false,
            "secret" => true,
            "projected" => items(source, "sources").any(|s| s.get("secret").is_some()),
            _ => VOLUME_SECRET_POINTERS
                .iter()
                .any(|p| source.pointer(&format!("/{p}")).is_some()),
        })
    })
}

/// Whether a pod has a projected service account token volume.
pub fn projects_tokens(spec: &Value) -> bool {
    items(spec, "volumes").any(|v| {
        v.get("projected")
            .is_some_and(|p| items(p, "sources").any(|s| s.get("serviceAccountToken").is_some()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mountable_secrets_are_those_the_account_lists() {
        let account = json!({"metadata": {"name": "sa"}, "secrets": [{"name": "ok"}], "imagePullSecrets": [{"name": "pull"}]});
        let spec = json!({"volumes": [{"name": "v", "secret": {"secretName": "ok"}}], "imagePullSecrets": [{"name": "pull"}],
            "containers": [{"name": "c", "env": [{"name": "E", "valueFrom": {"secretKeyRef": {"name": "ok", "key": "k"}}}]}]});
        assert_eq!(check_mountable(&spec, &account), Ok(()));
        let spec = json!({"volumes": [{"name": "v", "secret": {"secretName": "other"}}]});
        assert_eq!(
            check_mountable(&spec, &account),
            Err("volume with secret.secretName=\"other\" is not allowed because service account sa does not reference that secret".to_string())
        );
        let spec =
            json!({"initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "x"}}]}]});
        assert_eq!(
            check_mountable(&spec, &account),
            Err("init container i with envFrom referencing secret.secretName=\"x\" is not allowed because service account sa does not reference that secret".to_string())
        );
        let spec = json!({"imagePullSecrets": [{"name": "pull"}, {"name": "nope"}]});
        assert_eq!(
            check_mountable(&spec, &account),
            Err("imagePullSecrets[1].name=\"nope\" is not allowed because service account sa does not reference that imagePullSecret".to_string())
        );
    }

    #[test]
    fn secret_references_of_mirror_pods() {
        assert!(!refers_to_secrets(
            &json!({"volumes": [{"name": "v", "emptyDir": {}}], "containers": [{"name": "c"}]})
        ));
        assert!(refers_to_secrets(
            &json!({"volumes": [{"name": "v", "secret": {"secretName": "s"}}]})
        ));
        assert!(refers_to_secrets(
            &json!({"volumes": [{"name": "v", "csi": {"driver": "d", "nodePublishSecretRef": {"name": "s"}}}]})
        ));
        assert!(refers_to_secrets(
            &json!({"containers": [{"name": "c", "envFrom": [{"secretRef": {"name": "s"}}]}]})
        ));
        assert!(projects_tokens(
            &json!({"volumes": [{"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}]})
        ));
    }
}
