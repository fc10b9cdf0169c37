//! Cluster IPs and node ports reserved around Service writes (upstream's service REST
//! storage: `initIPFamilyFields`, `allocateCreate`, `allocateUpdate`,
//! `releaseAllocatedResources`). A dry run reserves nothing and reports what upstream's
//! dry-run allocators report: the network address of the range for a dynamic cluster IP,
//! ports from 32769 up for dynamic node ports; requested values are still checked.

use std::net::IpAddr;
use std::sync::Arc;

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apiserver::registry::{RequestContext, Reservation, Reserver};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::super::fields::{array, str_of};
use super::super::netcheck::parse_ip_sloppy;
use super::validation::cluster_ips_related;
use super::{
    cluster_ips, ip_families, is_headless, needs_health_check, node_ports, service_type, spec,
    CLUSTER_IP_NONE,
};
use crate::allocators::cidr::Family;
use crate::allocators::ip::IpAllocator;
use crate::allocators::ports::PortAllocator;
use crate::allocators::{AllocError, Owner};

/// The cluster's allocators: one per configured family (the primary first) and the node
/// port range.
pub struct ServiceAllocators {
    pub ips: Vec<IpAllocator>,
    pub ports: PortAllocator,
}

impl ServiceAllocators {
    pub fn ip(&self, family: Family) -> Option<&IpAllocator> {
        self.ips.iter().find(|a| a.cidr.family() == family)
    }

    fn primary_family(&self) -> Family {
        self.ips.first().map_or(Family::V4, |a| a.cidr.family())
    }

    fn dual_stack(&self) -> bool {
        self.ips.len() >= 2
    }

    /// The allocator of `ip`'s family, if configured.
    pub fn ip_for(&self, ip: &IpAddr) -> Option<&IpAllocator> {
        self.ip(Family::of(ip))
    }

    /// Releases what a Service holds.
    pub async fn release_service(&self, svc: &Value) {
        for ip in cluster_ips(svc) {
            if let Some(ip) = parse_ip_sloppy(&ip) {
                if let Some(a) = self.ip_for(&ip) {
                    a.release(&ip).await;
                }
            }
        }
        let ports = node_ports(svc);
        if !ports.is_empty() {
            if let Err(e) = self.ports.release(&ports).await {
                tracing::warn!("releasing node ports {ports:?}: {e}");
            }
        }
    }
}

/// Reserves for `services`; after a delete it also removes the Service's Endpoints (as
/// upstream's `afterDelete` does, so that a Service of the same name starts clean).
pub struct ServiceReserver {
    pub allocators: Arc<ServiceAllocators>,
    /// The `endpoints` store, set once the stores are built.
    pub endpoints: Arc<std::sync::OnceLock<Arc<apiserver::registry::Store>>>,
}

/// What one Service write reserved, and what it gives up once stored.
struct ServiceReservation {
    allocators: Arc<ServiceAllocators>,
    dry_run: bool,
    taken_ips: Vec<IpAddr>,
    taken_ports: Vec<u32>,
    release_ips: Vec<IpAddr>,
    release_ports: Vec<u32>,
    /// Ports a dry run reported, so that one request does not report one twice.
    dry_ports: Vec<u32>,
}

impl ServiceReservation {
    fn new(allocators: Arc<ServiceAllocators>, dry_run: bool) -> Self {
        ServiceReservation {
            allocators,
            dry_run,
            taken_ips: Vec::new(),
            taken_ports: Vec::new(),
            release_ips: Vec::new(),
            release_ports: Vec::new(),
            dry_ports: Vec::new(),
        }
    }

    async fn give_back(&mut self, ips: Vec<IpAddr>, ports: Vec<u32>) {
        if self.dry_run {
            return;
        }
        for ip in ips {
            if let Some(a) = self.allocators.ip_for(&ip) {
                a.release(&ip).await;
            }
        }
        if !ports.is_empty() {
            if let Err(e) = self.allocators.ports.release(&ports).await {
                tracing::warn!("releasing node ports {ports:?}: {e}");
            }
        }
    }

    /// Rolls back after a failure inside begin_*.
    async fn abort(mut self, err: ApiError) -> ApiError {
        let (ips, ports) = (
            std::mem::take(&mut self.taken_ips),
            std::mem::take(&mut self.taken_ports),
        );
        self.give_back(ips, ports).await;
        err
    }

    async fn take_ip(
        &mut self,
        family: Family,
        requested: &str,
        owner: &Owner,
        all: &[String],
        name: &str,
    ) -> Result<String, ApiError> {
        let Some(alloc) = self.allocators.ip(family) else {
            return Err(ApiError::internal(&format!(
                "failed to allocate a serviceIP: {} is not configured on this cluster",
                family.name()
            )));
        };
        if requested.is_empty() {
            let ip = alloc
                .allocate_next(owner, self.dry_run)
                .await
                .map_err(|e| ApiError::internal(&format!("failed to allocate a serviceIP: {e}")))?;
            if !self.dry_run {
                self.taken_ips.push(ip);
            }
            return Ok(ip.to_string());
        }
        let invalid = |e: &dyn std::fmt::Display| {
            ApiError::invalid(
                "",
                "Service",
                name,
                vec![FieldError::invalid(
                    &FieldPath::new("spec").child("clusterIPs"),
                    json!(all),
                    &format!("failed to allocate IP {requested}: {e}"),
                )],
            )
        };
        let ip = parse_ip_sloppy(requested).ok_or_else(|| invalid(&"invalid IP"))?;
        alloc
            .allocate(ip, owner, self.dry_run)
            .await
            .map_err(|e| invalid(&e))?;
        if !self.dry_run {
            self.taken_ips.push(ip);
        }
        Ok(requested.to_string())
    }

    async fn take_port(&mut self, port: u32) -> Result<(), AllocError> {
        if self.dry_run {
            if !self.allocators.ports.range.contains(port) {
                return Err(AllocError::PortNotInRange(
                    self.allocators.ports.range.to_string(),
                ));
            }
            if self.dry_ports.contains(&port) || self.allocators.ports.has(port).await? {
                return Err(AllocError::PortAllocated);
            }
            self.dry_ports.push(port);
            return Ok(());
        }
        self.allocators.ports.allocate(port).await?;
        self.taken_ports.push(port);
        Ok(())
    }

    async fn take_next_port(&mut self) -> Result<u32, AllocError> {
        if self.dry_run {
            let port = self.dry_ports.iter().max().map_or(32769, |p| p + 1);
            self.dry_ports.push(port);
            return Ok(port);
        }
        let port = self.allocators.ports.allocate_next().await?;
        self.taken_ports.push(port);
        Ok(port)
    }
}

#[async_trait]
impl Reservation for ServiceReservation {
    async fn commit(mut self: Box<Self>) {
        let (ips, ports) = (
            std::mem::take(&mut self.release_ips),
            std::mem::take(&mut self.release_ports),
        );
        self.give_back(ips, ports).await;
    }

    async fn rollback(mut self: Box<Self>) {
        let (ips, ports) = (
            std::mem::take(&mut self.taken_ips),
            std::mem::take(&mut self.taken_ports),
        );
        self.give_back(ips, ports).await;
    }
}

fn spec_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    if !obj.get("spec").is_some_and(Value::is_object) {
        obj["spec"] = json!({});
    }
    match obj.get_mut("spec").and_then(Value::as_object_mut) {
        Some(spec) => spec,
        None => unreachable!("spec was made an object above"),
    }
}

fn policy(obj: &Value) -> Option<String> {
    spec(obj)
        .get("ipFamilyPolicy")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn invalid(name: &str, errs: Vec<FieldError>) -> ApiError {
    ApiError::invalid("", "Service", name, errs)
}

/// `initIPFamilyFields`: defaults `ipFamilyPolicy` and `ipFamilies` from the cluster's
/// families and checks they can be served.
fn init_ip_families(
    al: &ServiceAllocators,
    svc: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    if service_type(svc) == "ExternalName" {
        return Ok(());
    }
    let name = super::meta::name(svc).to_string();
    if let Some(old) = old {
        let prefer = |s: &Value| policy(s).as_deref() == Some("PreferDualStack");
        if prefer(old)
            && prefer(svc)
            && cluster_ips(old) == cluster_ips(svc)
            && ip_families(old) == ip_families(svc)
        {
            return Ok(());
        }
    }
    let headless_selectorless = str_of(spec(svc), "clusterIP") == CLUSTER_IP_NONE
        && spec(svc)
            .get("selector")
            .and_then(Value::as_object)
            .is_none_or(|m| m.is_empty());
    if policy(svc).is_none() {
        let p = match old.and_then(policy) {
            Some(p) => p,
            None if headless_selectorless => "RequireDualStack".to_string(),
            None => "SingleStack".to_string(),
        };
        spec_mut(svc).insert("ipFamilyPolicy".into(), json!(p));
    }
    let errs = cluster_ips_related(svc);
    if !errs.is_empty() {
        return Err(invalid(&name, errs));
    }
    let policy_path = FieldPath::new("spec").child("ipFamilyPolicy");
    let policy_value = json!(policy(svc));
    let single = policy(svc).as_deref() == Some("SingleStack");
    let mut errs = Vec::new();
    if let Some(old) = old {
        let same_ips = cluster_ips(old) == cluster_ips(svc);
        let same_fams = ip_families(old) == ip_families(svc);
        if single {
            if same_ips && cluster_ips(svc).len() > 1 {
                let ips = cluster_ips(svc)[..1].to_vec();
                spec_mut(svc).insert("clusterIPs".into(), json!(ips));
            }
            if same_fams && ip_families(svc).len() > 1 {
                let fams = ip_families(svc)[..1].to_vec();
                spec_mut(svc).insert("ipFamilies".into(), json!(fams));
            }
        } else {
            if cluster_ips(svc).len() < cluster_ips(old).len() {
                errs.push(FieldError::invalid(
                    &policy_path,
                    policy_value.clone(),
                    "must be 'SingleStack' to release the secondary cluster IP",
                ));
            }
            if ip_families(svc).len() < ip_families(old).len() {
                errs.push(FieldError::invalid(
                    &policy_path,
                    policy_value.clone(),
                    "must be 'SingleStack' to release the secondary IP family",
                ));
            }
        }
    }
    if single {
        if cluster_ips(svc).len() == 2 {
            errs.push(FieldError::invalid(&policy_path, policy_value.clone(), "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
        }
        if ip_families(svc).len() == 2 {
            errs.push(FieldError::invalid(&policy_path, policy_value.clone(), "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
        }
    }
    let ips = cluster_ips(svc);
    let mut families = ip_families(svc);
    for (i, ip) in ips.iter().enumerate() {
        if ip == CLUSTER_IP_NONE {
            break;
        }
        let Some(fam) = parse_ip_sloppy(ip).map(|ip| Family::of(&ip)) else {
            continue;
        };
        if i >= families.len() {
            if al.ip(fam).is_none() {
                errs.push(FieldError::invalid(
                    &FieldPath::new("spec").child("clusterIPs").index(i),
                    json!(ips),
                    &format!("{} is not configured on this cluster", fam.name()),
                ));
            } else {
                families.push(fam.name().to_string());
            }
        }
    }
    if !errs.is_empty() {
        return Err(invalid(&name, errs));
    }
    if headless_selectorless {
        if families.is_empty() {
            families.push(al.primary_family().name().to_string());
        }
        if families.len() < 2 && !single {
            let first = Family::from_name(&families[0]).unwrap_or(Family::V4);
            families.push(first.other().name().to_string());
        }
        spec_mut(svc).insert("ipFamilies".into(), json!(families));
        return Ok(());
    }
    if policy(svc).as_deref() == Some("RequireDualStack") && !al.dual_stack() {
        errs.push(FieldError::invalid(
            &policy_path,
            policy_value,
            "this cluster is not configured for dual-stack services",
        ));
    }
    for (i, f) in families.iter().enumerate() {
        if Family::from_name(f).and_then(|f| al.ip(f)).is_none() {
            errs.push(FieldError::invalid(
                &FieldPath::new("spec").child("ipFamilies").index(i),
                json!(f),
                "not configured on this cluster",
            ));
        }
    }
    if !errs.is_empty() {
        return Err(invalid(&name, errs));
    }
    if families.is_empty() {
        families.push(al.primary_family().name().to_string());
    }
    if !single && families.len() == 1 && al.dual_stack() {
        let first = Family::from_name(&families[0]).unwrap_or(Family::V4);
        families.push(first.other().name().to_string());
    }
    spec_mut(svc).insert("ipFamilies".into(), json!(families));
    Ok(())
}

/// Allocates every family's cluster IP still missing (`allocClusterIPs`).
async fn alloc_cluster_ips(
    r: &mut ServiceReservation,
    svc: &mut Value,
    owner: &Owner,
    from: usize,
) -> Result<(), ApiError> {
    if service_type(svc) == "ExternalName" || is_headless(svc) {
        return Ok(());
    }
    let name = owner.name.clone();
    let families = ip_families(svc);
    let mut ips = cluster_ips(svc);
    for (i, fam) in families.iter().enumerate().skip(from) {
        let Some(family) = Family::from_name(fam) else {
            continue;
        };
        if ips.len() <= i {
            ips.push(String::new());
        }
        let all = ips.clone();
        let ip = r
            .take_ip(family, &ips[i].clone(), owner, &all, &name)
            .await?;
        ips[i] = ip;
    }
    if let Some(first) = ips.first() {
        let first = first.clone();
        let s = spec_mut(svc);
        s.insert("clusterIP".into(), json!(first));
        s.insert("clusterIPs".into(), json!(ips));
    }
    Ok(())
}

fn should_allocate_node_ports(svc: &Value) -> bool {
    match service_type(svc) {
        "NodePort" => true,
        "LoadBalancer" => spec(svc)
            .get("allocateLoadBalancerNodePorts")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        _ => false,
    }
}

fn port_error(name: &str, i: usize, value: i64, e: AllocError) -> ApiError {
    invalid(
        name,
        vec![FieldError::invalid(
            &FieldPath::new("spec")
                .child("ports")
                .index(i)
                .child("nodePort"),
            json!(value),
            &e.to_string(),
        )],
    )
}

fn set_node_port(svc: &mut Value, i: usize, port: u32) {
    if let Some(p) = spec_mut(svc)
        .get_mut("ports")
        .and_then(|p| p.get_mut(i))
        .and_then(Value::as_object_mut)
    {
        p.insert("nodePort".into(), json!(port));
    }
}

/// `initNodePorts`: requested ports are reserved, missing ones allocated; ports of the
/// same number share one node port.
async fn init_node_ports(
    r: &mut ServiceReservation,
    svc: &mut Value,
    name: &str,
) -> Result<(), ApiError> {
    let ports = array(spec(svc), "ports").to_vec();
    let allocate = should_allocate_node_ports(svc);
    let mut by_port: Vec<(i64, u32)> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
        let node_port = port.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
        if node_port == 0 && !allocate {
            continue;
        }
        match by_port
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, np)| *np)
        {
            None => {
                let requested = ports[i..]
                    .iter()
                    .filter(|p| p.get("port").and_then(Value::as_i64) == Some(number))
                    .find_map(|p| {
                        p.get("nodePort")
                            .and_then(Value::as_i64)
                            .filter(|np| *np != 0)
                    });
                let np = match requested {
                    Some(np) => {
                        r.take_port(np as u32)
                            .await
                            .map_err(|e| port_error(name, i, np, e))?;
                        np as u32
                    }
                    None => r.take_next_port().await.map_err(|e| {
                        ApiError::internal(&format!("failed to allocate a nodePort: {e}"))
                    })?,
                };
                set_node_port(svc, i, np);
                by_port.push((number, np));
            }
            Some(shared) if node_port == 0 => set_node_port(svc, i, shared),
            Some(shared) if node_port as u32 != shared => {
                r.take_port(node_port as u32)
                    .await
                    .map_err(|e| port_error(name, i, node_port, e))?;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

async fn alloc_health_check_port(
    r: &mut ServiceReservation,
    svc: &mut Value,
) -> Result<(), ApiError> {
    let hc = spec(svc)
        .get("healthCheckNodePort")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if hc != 0 {
        r.take_port(hc as u32).await.map_err(|e| {
            ApiError::internal(&format!(
                "failed to allocate requested HealthCheck NodePort {hc}: {e}"
            ))
        })?;
    } else {
        let port = r.take_next_port().await.map_err(|e| {
            ApiError::internal(&format!("failed to allocate a HealthCheck NodePort 0: {e}"))
        })?;
        spec_mut(svc).insert("healthCheckNodePort".into(), json!(port));
    }
    Ok(())
}

fn owner_of(svc: &Value) -> Owner {
    Owner {
        namespace: super::meta::namespace(svc).to_string(),
        name: super::meta::name(svc).to_string(),
    }
}

impl ServiceReserver {
    async fn create(&self, r: &mut ServiceReservation, svc: &mut Value) -> Result<(), ApiError> {
        let owner = owner_of(svc);
        init_ip_families(&self.allocators, svc, None)?;
        alloc_cluster_ips(r, svc, &owner, 0).await?;
        if matches!(service_type(svc), "NodePort" | "LoadBalancer") {
            init_node_ports(r, svc, &owner.name).await?;
        }
        if needs_health_check(svc) {
            alloc_health_check_port(r, svc).await?;
        }
        Ok(())
    }

    async fn update(
        &self,
        r: &mut ServiceReservation,
        svc: &mut Value,
        old: &Value,
    ) -> Result<(), ApiError> {
        let owner = owner_of(svc);
        init_ip_families(&self.allocators, svc, Some(old))?;
        self.update_cluster_ips(r, svc, old, &owner).await?;
        self.update_node_ports(r, svc, old, &owner.name).await
    }

    /// `updateClusterIPs`: type changes to and from ExternalName, dual-stack upgrades and
    /// downgrades.
    async fn update_cluster_ips(
        &self,
        r: &mut ServiceReservation,
        svc: &mut Value,
        old: &Value,
        owner: &Owner,
    ) -> Result<(), ApiError> {
        let prefer = |s: &Value| policy(s).as_deref() == Some("PreferDualStack");
        if prefer(old)
            && prefer(svc)
            && cluster_ips(old) == cluster_ips(svc)
            && ip_families(old) == ip_families(svc)
        {
            return Ok(());
        }
        let (old_ext, new_ext) = (
            service_type(old) == "ExternalName",
            service_type(svc) == "ExternalName",
        );
        if old_ext && !new_ext {
            return alloc_cluster_ips(r, svc, owner, 0).await;
        }
        if is_headless(old) {
            return Ok(());
        }
        let parsed = |ips: Vec<String>| -> Vec<IpAddr> {
            ips.iter().filter_map(|ip| parse_ip_sloppy(ip)).collect()
        };
        if !old_ext && new_ext {
            r.release_ips.extend(parsed(cluster_ips(old)));
            return Ok(());
        }
        let (old_fams, new_fams) = (ip_families(old).len(), ip_families(svc).len());
        if old_fams == 1 && new_fams == 2 {
            return alloc_cluster_ips(r, svc, owner, 1).await;
        }
        if old_fams == 2 && new_fams == 1 {
            r.release_ips
                .extend(parsed(cluster_ips(old).into_iter().skip(1).collect()));
        }
        Ok(())
    }

    /// `txnUpdateNodePorts`: new ports reserved, ports no longer used released on commit.
    async fn update_node_ports(
        &self,
        r: &mut ServiceReservation,
        svc: &mut Value,
        old: &Value,
        name: &str,
    ) -> Result<(), ApiError> {
        let old_ports = node_ports(old);
        let old_hc = spec(old)
            .get("healthCheckNodePort")
            .and_then(Value::as_u64)
            .unwrap_or(0) as u32;
        let old_service_ports: Vec<u32> = old_ports
            .iter()
            .copied()
            .filter(|p| *p != old_hc || !needs_health_check(old))
            .collect();
        let needs = matches!(service_type(svc), "NodePort" | "LoadBalancer");
        if super::needs_node_ports(old) && !needs {
            r.release_ports.extend(old_service_ports.iter().copied());
        }
        if needs {
            let allocate = should_allocate_node_ports(svc);
            let ports = array(spec(svc), "ports").to_vec();
            let mut reserved: Vec<u32> = Vec::new();
            for (i, port) in ports.iter().enumerate() {
                let np = port.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
                if np == 0 && !allocate {
                    continue;
                }
                if np != 0 {
                    let np32 = np as u32;
                    if !old_service_ports.contains(&np32) && !reserved.contains(&np32) {
                        r.take_port(np32)
                            .await
                            .map_err(|e| port_error(name, i, np, e))?;
                        reserved.push(np32);
                    }
                } else {
                    let p = r.take_next_port().await.map_err(|e| {
                        ApiError::internal(&format!("failed to allocate a nodePort: {e}"))
                    })?;
                    set_node_port(svc, i, p);
                }
            }
            let now: Vec<u32> = array(spec(svc), "ports")
                .iter()
                .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
                .map(|p| p as u32)
                .collect();
            r.release_ports.extend(
                old_service_ports
                    .iter()
                    .copied()
                    .filter(|p| !now.contains(p)),
            );
        }
        match (needs_health_check(old), needs_health_check(svc)) {
            (false, true) => alloc_health_check_port(r, svc).await?,
            (true, false) if old_hc != 0 => r.release_ports.push(old_hc),
            _ => {}
        }
        Ok(())
    }
}

#[async_trait]
impl Reserver for ServiceReserver {
    async fn begin_create(
        &self,
        ctx: &RequestContext,
        obj: &mut Value,
    ) -> Result<Box<dyn Reservation>, ApiError> {
        let mut r = ServiceReservation::new(self.allocators.clone(), ctx.dry_run);
        match self.create(&mut r, obj).await {
            Ok(()) => Ok(Box::new(r)),
            Err(e) => Err(r.abort(e).await),
        }
    }

    async fn begin_update(
        &self,
        ctx: &RequestContext,
        new: &mut Value,
        old: &Value,
    ) -> Result<Box<dyn Reservation>, ApiError> {
        let mut r = ServiceReservation::new(self.allocators.clone(), ctx.dry_run);
        match self.update(&mut r, new, old).await {
            Ok(()) => Ok(Box::new(r)),
            Err(e) => Err(r.abort(e).await),
        }
    }

    async fn after_delete(&self, obj: &Value) {
        if let Some(endpoints) = self.endpoints.get() {
            let (ns, name) = (super::meta::namespace(obj), super::meta::name(obj));
            let ctx = crate::bootstrap::system_context();
            if let Err(e) = endpoints.delete(&ctx, ns, name, &Default::default()).await {
                if e.code != 404 {
                    tracing::warn!(
                        "deleting the endpoints of service {ns}/{name}: {}",
                        e.message
                    );
                }
            }
        }
        self.allocators.release_service(obj).await;
    }
}
