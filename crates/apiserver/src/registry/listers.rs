//! Shared listers: code that reads other kinds (admission plugins, subresources such as
//! `pods/eviction` reading PodDisruptionBudgets) reads them through the installed stores'
//! watch caches, as upstream's plugins read shared informers, falling back to storage when
//! a cache does not hold the object.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use apimachinery::errors::ApiError;
use apimachinery::selectors::LabelSelector;
use serde_json::Value;

use super::list_options::ListParams;
use super::store::Store;

/// Every installed resource's store, by qualified resource (`pods`,
/// `poddisruptionbudgets.policy`), set once when the server is built.
#[derive(Default)]
pub struct Listers {
    stores: OnceLock<BTreeMap<String, Arc<Store>>>,
}

impl Listers {
    pub fn new() -> Arc<Listers> {
        Arc::new(Listers::default())
    }

    /// Installs the stores (the first call wins).
    pub fn set(&self, stores: BTreeMap<String, Arc<Store>>) {
        let _ = self.stores.set(stores);
    }

    /// The store of a resource; an internal error before installation or for a resource
    /// not served (its group disabled).
    pub fn store(&self, qualified_resource: &str) -> Result<&Arc<Store>, ApiError> {
        self.stores
            .get()
            .and_then(|s| s.get(qualified_resource))
            .ok_or_else(|| {
                ApiError::internal(&format!(
                    "the {qualified_resource} resource is not available"
                ))
            })
    }

    /// Whether a resource is installed.
    pub fn has(&self, qualified_resource: &str) -> bool {
        self.stores
            .get()
            .is_some_and(|s| s.contains_key(qualified_resource))
    }

    /// One object, from the cache when it holds it.
    pub async fn get(
        &self,
        qualified_resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        self.store(qualified_resource)?
            .get_cached(namespace, name)
            .await
    }

    /// The objects of a namespace (every namespace when empty) whose labels match
    /// `selector`, as the cache holds them (`resourceVersion=0`).
    pub async fn list(
        &self,
        qualified_resource: &str,
        namespace: &str,
        selector: Option<LabelSelector>,
    ) -> Result<Vec<Value>, ApiError> {
        self.list_at(qualified_resource, namespace, selector, Some("0"))
            .await
    }

    /// As [`list`](Self::list), but consistent: every write acknowledged before the call
    /// is seen (upstream's client lists with no resourceVersion), for code that acts on
    /// what a client just wrote (`pods/eviction` reading budgets).
    pub async fn list_current(
        &self,
        qualified_resource: &str,
        namespace: &str,
        selector: Option<LabelSelector>,
    ) -> Result<Vec<Value>, ApiError> {
        self.list_at(qualified_resource, namespace, selector, None)
            .await
    }

    async fn list_at(
        &self,
        qualified_resource: &str,
        namespace: &str,
        selector: Option<LabelSelector>,
        resource_version: Option<&str>,
    ) -> Result<Vec<Value>, ApiError> {
        let params = ListParams {
            label_selector: selector,
            resource_version: resource_version.map(str::to_string),
            ..Default::default()
        };
        let out = self
            .store(qualified_resource)?
            .list(namespace, &params)
            .await?;
        out.items
            .iter()
            .map(|b| {
                serde_json::from_slice(b)
                    .map_err(|e| ApiError::internal(&format!("decoding cached object: {e}")))
            })
            .collect()
    }
}
