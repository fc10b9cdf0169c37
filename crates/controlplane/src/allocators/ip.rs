//! Cluster IPs from one Service CIDR, each allocation an `IPAddress` object
//! (upstream's `ipallocator.Allocator` over the `networking.k8s.io/v1` API).

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use apiserver::registry::{DeleteOptions, Store};
use serde_json::{json, Value};

use super::cidr::{Cidr, Family};
use super::{random_below, AllocError, Owner};
use crate::bootstrap::system_context;

/// The label naming an `IPAddress`'s family.
pub const LABEL_IP_FAMILY: &str = "ipaddress.kubernetes.io/ip-family";
/// The label naming who manages an `IPAddress`.
pub const LABEL_MANAGED_BY: &str = "ipaddress.kubernetes.io/managed-by";
/// The manager of the `IPAddress` objects of Services.
pub const MANAGER: &str = "ipallocator.k8s.io";

/// Addresses tried, per band, before a dynamic allocation reports a full range (bounds the
/// work on the huge IPv6 ranges; a range this crowded is full in practice).
const MAX_PROBES: u64 = 1 << 16;

/// The `ipaddresses` store, set once the stores are built.
pub type AddressStore = Arc<OnceLock<Arc<Store>>>;

/// Allocates from one CIDR.
pub struct IpAllocator {
    pub cidr: Cidr,
    addresses: AddressStore,
}

/// The `IPAddress` object recording that `ip` belongs to `owner`.
pub fn address_object(ip: &IpAddr, owner: &Owner) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IPAddress",
        "metadata": {
            "name": ip.to_string(),
            "labels": {
                LABEL_IP_FAMILY: Family::of(ip).name(),
                LABEL_MANAGED_BY: MANAGER,
            },
        },
        "spec": {"parentRef": {
            "resource": "services",
            "namespace": owner.namespace,
            "name": owner.name,
        }},
    })
}

impl IpAllocator {
    pub fn new(cidr: Cidr, addresses: AddressStore) -> Self {
        IpAllocator { cidr, addresses }
    }

    fn store(&self) -> Result<&Arc<Store>, AllocError> {
        self.addresses.get().ok_or(AllocError::NotReady)
    }

    /// Reserves `ip` for `owner`. A dry run only checks the range, as upstream's.
    pub async fn allocate(
        &self,
        ip: IpAddr,
        owner: &Owner,
        dry_run: bool,
    ) -> Result<(), AllocError> {
        if !self.cidr.contains(&ip) {
            return Err(AllocError::MismatchedNetwork);
        }
        if self.cidr.usable_index(&ip).is_none() {
            return Err(AllocError::IpNotInRange(ip));
        }
        if dry_run {
            return Ok(());
        }
        self.create(&ip, owner).await
    }

    async fn create(&self, ip: &IpAddr, owner: &Owner) -> Result<(), AllocError> {
        let store = self.store()?;
        match store
            .create(&system_context(), "", address_object(ip, owner))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == 409 => Err(AllocError::IpAllocated),
            Err(e) => Err(AllocError::Storage(e.message.clone())),
        }
    }

    /// Reserves a free address for `owner`: from a random place in the upper part of the
    /// range first, then in the band kept for static requests. A dry run reserves nothing
    /// and reports the network address, as upstream's.
    pub async fn allocate_next(&self, owner: &Owner, dry_run: bool) -> Result<IpAddr, AllocError> {
        if dry_run {
            return Ok(self.cidr.network());
        }
        let usable = self.cidr.usable();
        let band = self.cidr.static_band().min(usable);
        for (low, high) in [(band, usable), (0, band)] {
            let size = high - low;
            if size == 0 {
                continue;
            }
            let start = random_below(size);
            for probe in 0..size.min(MAX_PROBES) {
                let index = low + (start + probe) % size;
                let Some(ip) = self.cidr.nth_usable(index) else {
                    continue;
                };
                match self.create(&ip, owner).await {
                    Ok(()) => return Ok(ip),
                    Err(AllocError::IpAllocated) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Err(AllocError::Full)
    }

    /// Gives `ip` back (errors are logged: an address already gone is released).
    pub async fn release(&self, ip: &IpAddr) {
        let Ok(store) = self.store() else {
            return;
        };
        let name = ip.to_string();
        if let Err(e) = store
            .delete(&system_context(), "", &name, &DeleteOptions::default())
            .await
        {
            if e.code != 404 {
                tracing::warn!("releasing cluster IP {name}: {}", e.message);
            }
        }
    }
}
