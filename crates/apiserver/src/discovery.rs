//! Discovery documents, built from the registered resource declarations: the legacy
//! `/api`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>` forms and aggregated
//! discovery (`apidiscovery.k8s.io/v2`).

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use serde_json::{json, Value};

use crate::registry::{ResourceDecl, Store};

/// Content type of aggregated discovery responses.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Every resource served, in registration order; changes at run time (CRDs).
#[derive(Default)]
pub struct ResourceRegistry {
    stores: RwLock<Arc<Vec<Arc<Store>>>>,
}

impl ResourceRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the store of a resource.
    pub fn register(&self, store: Arc<Store>) {
        let mut guard = self.stores.write().unwrap_or_else(|p| p.into_inner());
        let mut next: Vec<Arc<Store>> = guard.iter().cloned().collect();
        let d = &store.decl;
        next.retain(|s| {
            !(s.decl.group == d.group && s.decl.version == d.version && s.decl.plural == d.plural)
        });
        next.push(store);
        *guard = Arc::new(next);
    }

    /// A snapshot of all stores.
    pub fn all(&self) -> Arc<Vec<Arc<Store>>> {
        self.stores
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The store serving `group/version/plural`.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Store>> {
        self.all()
            .iter()
            .find(|s| s.decl.group == group && s.decl.version == version && s.decl.plural == plural)
            .cloned()
    }

    /// Groups in registration order, each with its versions in registration order.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for s in self.all().iter() {
            let d = &s.decl;
            match out.iter_mut().find(|(g, _)| *g == d.group) {
                Some((_, versions)) => {
                    if !versions.contains(&d.version) {
                        versions.push(d.version.clone());
                    }
                }
                None => out.push((d.group.clone(), vec![d.version.clone()])),
            }
        }
        out
    }

    fn decls(&self, group: &str, version: &str) -> Vec<Arc<ResourceDecl>> {
        self.all()
            .iter()
            .filter(|s| s.decl.group == group && s.decl.version == version)
            .map(|s| s.decl.clone())
            .collect()
    }

    /// `/api`: the core group's versions.
    pub fn api_versions(&self, server_address: SocketAddr) -> Value {
        let versions: Vec<String> = self
            .groups()
            .into_iter()
            .find(|(g, _)| g.is_empty())
            .map(|(_, v)| v)
            .unwrap_or_default();
        json!({
            "kind": "APIVersions",
            "versions": versions,
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address.to_string()}
            ],
        })
    }

    fn group_json(group: &str, versions: &[String]) -> Value {
        let gvs: Vec<Value> = versions
            .iter()
            .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
            .collect();
        json!({
            "name": group,
            "versions": gvs,
            "preferredVersion": gvs.first().cloned().unwrap_or(Value::Null),
        })
    }

    /// `/apis`: every named group.
    pub fn api_group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .groups()
            .iter()
            .filter(|(g, _)| !g.is_empty())
            .map(|(g, v)| Self::group_json(g, v))
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `/apis/<group>`.
    pub fn api_group(&self, group: &str) -> Option<Value> {
        self.groups()
            .iter()
            .find(|(g, _)| g == group && !g.is_empty())
            .map(|(g, v)| {
                let mut doc = Self::group_json(g, v);
                doc["kind"] = json!("APIGroup");
                doc["apiVersion"] = json!("v1");
                doc
            })
    }

    /// `/api/v1` or `/apis/<group>/<version>`: the resources of one group-version.
    pub fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let decls = self.decls(group, version);
        if decls.is_empty() {
            return None;
        }
        let mut resources = Vec::new();
        for d in &decls {
            let mut r = json!({
                "name": d.plural,
                "singularName": d.singular,
                "namespaced": d.namespaced(),
                "kind": d.kind,
                "verbs": d.verbs,
            });
            if !d.short_names.is_empty() {
                r["shortNames"] = json!(d.short_names);
            }
            if !d.categories.is_empty() {
                r["categories"] = json!(d.categories);
            }
            if d.review.is_none() {
                let (g, v, k) = d.storage_version();
                r["storageVersionHash"] = json!(storage_version_hash(g, v, k));
            }
            resources.push(r);
            for sub in &d.subresources {
                let mut r = json!({
                    "name": format!("{}/{}", d.plural, sub.name),
                    "singularName": "",
                    "namespaced": d.namespaced(),
                    "kind": d.kind,
                    "verbs": sub.verbs,
                });
                if let Some((g, v, k)) = &sub.kind {
                    r["group"] = json!(g);
                    r["version"] = json!(v);
                    r["kind"] = json!(k);
                }
                resources.push(r);
            }
        }
        let gv = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv,
            "resources": resources,
        }))
    }

    /// Aggregated discovery: the core group (`legacy`) or every named group.
    pub fn aggregated(&self, legacy: bool) -> Value {
        let items: Vec<Value> = self
            .groups()
            .iter()
            .filter(|(g, _)| g.is_empty() == legacy)
            .map(|(g, versions)| {
                let versions: Vec<Value> = versions
                    .iter()
                    .map(|v| {
                        let resources: Vec<Value> = self
                            .decls(g, v)
                            .iter()
                            .map(|d| aggregated_resource(d))
                            .collect();
                        json!({"version": v, "resources": resources, "freshness": "Current"})
                    })
                    .collect();
                let mut metadata = json!({"creationTimestamp": null});
                if !g.is_empty() {
                    metadata["name"] = json!(g);
                }
                json!({"metadata": metadata, "versions": versions})
            })
            .collect();
        json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": items,
        })
    }
}

/// Upstream's storage version hash: the first 8 bytes of SHA-256 of `group/version/kind`
/// (of the version objects are stored at), base64. Every version served over one storage
/// publishes the same hash, so clients can tell when the stored form changes.
pub fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
    use base64::Engine;
    let gvk = format!("{group}/{version}/{kind}");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, gvk.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest.as_ref()[..8])
}

fn aggregated_resource(d: &ResourceDecl) -> Value {
    let kind = json!({"group": d.group, "version": d.version, "kind": d.kind});
    let mut r = json!({
        "resource": d.plural,
        "responseKind": kind,
        "scope": if d.namespaced() { "Namespaced" } else { "Cluster" },
        "singularResource": d.singular,
        "verbs": d.verbs,
    });
    if !d.short_names.is_empty() {
        r["shortNames"] = json!(d.short_names);
    }
    if !d.categories.is_empty() {
        r["categories"] = json!(d.categories);
    }
    if !d.subresources.is_empty() {
        r["subresources"] = json!(d
            .subresources
            .iter()
            .map(|s| {
                let kind = match &s.kind {
                    Some((g, v, k)) => json!({"group": g, "version": v, "kind": k}),
                    None => kind.clone(),
                };
                json!({"subresource": s.name, "responseKind": kind, "verbs": s.verbs})
            })
            .collect::<Vec<_>>());
    }
    r
}

/// Whether an `Accept` header asks for aggregated discovery (v2; v2beta1 is answered as v2).
pub fn wants_aggregated(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        crate::endpoints::negotiate::parse_accept(a)
            .iter()
            .any(|r| {
                r.param("g") == Some("apidiscovery.k8s.io")
                    && r.param("as") == Some("APIGroupDiscoveryList")
                    && r.param("v") == Some("v2")
            })
    })
}
