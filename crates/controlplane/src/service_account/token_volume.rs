//! The projected volume that gives a pod's containers its service account's token, the
//! cluster's CA bundle and its namespace.

use serde_json::{json, Map, Value};

use super::ROOT_CA_CONFIGMAP;

/// Where containers find the token.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The token volume's name is this prefix and a random suffix.
pub const VOLUME_PREFIX: &str = "kube-api-access-";

/// The token's lifetime: an hour and a few seconds (the kubelet refreshes it; the extra
/// seconds mark tokens that are only warned about when used after an hour).
pub const EXPIRATION_SECONDS: i64 = 3607;

/// The projected volume source (with the mode defaulting would give, written explicitly).
fn volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": EXPIRATION_SECONDS, "path": "token"}},
                {"configMap": {"name": ROOT_CA_CONFIGMAP, "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
        },
    })
}

/// A random suffix of 5 characters from the alphabet generated names use.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let hex: String = apimachinery::uid::new_uid()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let mut n = u128::from_str_radix(&hex, 16).unwrap_or_default();
    let base = ALPHABET.len() as u128;
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % base) as usize] as char;
            n /= base;
            c
        })
        .collect()
}

/// Mounts the token volume read-only at [`TOKEN_MOUNT_PATH`] in every init container and
/// container that mounts nothing there, adding the volume when one of them needed it and
/// the pod has no `kube-api-access-` volume yet.
pub fn mount(spec: &mut Map<String, Value>) {
    let existing = spec
        .get("volumes")
        .and_then(Value::as_array)
        .and_then(|vols| {
            vols.iter()
                .filter_map(|v| v.get("name").and_then(Value::as_str))
                .find(|n| n.starts_with(VOLUME_PREFIX))
                .map(str::to_string)
        });
    let name = existing
        .clone()
        .unwrap_or_else(|| format!("{VOLUME_PREFIX}{}", random_suffix()));
    let mount = json!({"name": name, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH});
    let mut needed = false;
    for field in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            let mounts = container
                .entry("volumeMounts")
                .or_insert_with(|| Value::Array(Vec::new()));
            if !mounts.is_array() {
                *mounts = Value::Array(Vec::new());
            }
            let Some(mounts) = mounts.as_array_mut() else {
                continue;
            };
            let taken = mounts
                .iter()
                .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH));
            if !taken {
                mounts.push(mount.clone());
                needed = true;
            }
        }
    }
    if existing.is_none() && needed {
        let volumes = spec
            .entry("volumes")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !volumes.is_array() {
            *volumes = Value::Array(Vec::new());
        }
        if let Some(volumes) = volumes.as_array_mut() {
            volumes.push(volume(&name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn mounts_in_every_container_and_adds_one_volume() {
        let mut s = spec(json!({
            "initContainers": [{"name": "init"}],
            "containers": [{"name": "a"}, {"name": "b", "volumeMounts": [{"name": "own", "mountPath": TOKEN_MOUNT_PATH}]}],
        }));
        mount(&mut s);
        let vols = s["volumes"].as_array().cloned().unwrap_or_default();
        assert_eq!(vols.len(), 1);
        let name = vols[0]["name"].as_str().unwrap_or("").to_string();
        assert!(name.starts_with(VOLUME_PREFIX) && name.len() == VOLUME_PREFIX.len() + 5);
        assert_eq!(
            vols[0]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            json!(3607)
        );
        let want = json!([{"name": name, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH}]);
        assert_eq!(s["initContainers"][0]["volumeMounts"], want);
        assert_eq!(s["containers"][0]["volumeMounts"], want);
        // A container with its own mount at the path keeps it.
        assert_eq!(
            s["containers"][1]["volumeMounts"].as_array().map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn reuses_an_existing_token_volume() {
        let mut s = spec(json!({
            "containers": [{"name": "a"}],
            "volumes": [{"name": "kube-api-access-abcde", "emptyDir": {}}],
        }));
        mount(&mut s);
        assert_eq!(s["volumes"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            s["containers"][0]["volumeMounts"][0]["name"],
            json!("kube-api-access-abcde")
        );
    }
}
