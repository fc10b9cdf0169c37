//! The connect subresources: `pods/log`, `exec`, `attach`, `portforward` reach the pod's
//! node (its kubelet), `pods/proxy` and `nodes/proxy` the pod or node itself. They resolve
//! where to go as upstream does and answer upstream's errors when there is nowhere to go
//! (a pod not bound to a node, a node that does not exist or has no address) or it cannot
//! be reached. This server does not proxy the streams themselves yet: when the backend
//! answers, the request is refused with a 503 that says so.

use std::sync::Arc;
use std::time::Duration;

use apimachinery::errors::ApiError;
use apiserver::registry::{meta, ConnectRequest, Listers, RequestContext, Store, SubresourceRest};
use apiserver::request_info::query_param;
use http::{header, Response, StatusCode};
use serde_json::Value;

/// The kubelet's port when the node does not publish one (`--kubelet-port`).
const DEFAULT_KUBELET_PORT: i64 = 10250;

/// The node address types tried, in order, unless `--kubelet-preferred-address-types`
/// names others (upstream's default).
pub const PREFERRED_ADDRESS_TYPES: [&str; 5] = [
    "Hostname",
    "InternalDNS",
    "InternalIP",
    "ExternalDNS",
    "ExternalIP",
];

/// How long a backend gets to accept a connection.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Which connect subresource of pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Log,
    Exec,
    Attach,
    PortForward,
    Proxy,
}

/// Where nodes' kubelets are: nodes read through the listers, their address picked by
/// the preferred address types (`--kubelet-preferred-address-types`).
pub struct Kubelets {
    pub listers: Arc<Listers>,
    pub preferred_address_types: Vec<String>,
}

/// A connect subresource of pods.
pub struct KubeletConnect {
    target: Target,
    kubelets: Arc<Kubelets>,
}

impl KubeletConnect {
    pub fn new(target: Target, kubelets: Arc<Kubelets>) -> KubeletConnect {
        KubeletConnect { target, kubelets }
    }
}

/// A plain error as upstream's handlers answer errors that are not API statuses: 500,
/// no reason.
fn plain(message: String) -> ApiError {
    ApiError::new(500, "", &message)
}

/// Every container name of the pod: init, regular and ephemeral containers.
fn container_names(pod: &Value) -> Vec<String> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|list| {
            pod.pointer(&format!("/spec/{list}"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The container a request names, or the pod's only one (upstream's `validateContainer`).
fn container(pod: &Value, requested: Option<String>) -> Result<String, ApiError> {
    let name = meta::name(pod);
    match requested.filter(|c| !c.is_empty()) {
        Some(c) if container_names(pod).contains(&c) => Ok(c),
        Some(c) => Err(ApiError::bad_request(&format!(
            "container {c} is not valid for pod {name}"
        ))),
        None => {
            let regular = pod
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            match regular.as_slice() {
                [only] => Ok(only
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()),
                [] => Err(ApiError::bad_request(&format!(
                    "a container name must be specified for pod {name}"
                ))),
                _ => Err(ApiError::bad_request(&format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    container_names(pod).join(" ")
                ))),
            }
        }
    }
}

/// The kubelet of a node: its preferred address and port.
async fn kubelet_of(kubelets: &Kubelets, node_name: &str) -> Result<(String, i64), ApiError> {
    let node = kubelets.listers.get("nodes", "", node_name).await?;
    let addresses = node
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let host = kubelets.preferred_address_types.iter().find_map(|t| {
        addresses
            .iter()
            .find(|a| a["type"] == t.as_str())
            .and_then(|a| a["address"].as_str())
            .map(str::to_string)
    });
    let Some(host) = host else {
        let known: Vec<String> = addresses
            .iter()
            .map(|a| {
                format!(
                    "{{{} {}}}",
                    a["type"].as_str().unwrap_or(""),
                    a["address"].as_str().unwrap_or("")
                )
            })
            .collect();
        return Err(plain(format!(
            "no preferred addresses found; known addresses: [{}]",
            known.join(" ")
        )));
    };
    let port = node
        .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_i64)
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_KUBELET_PORT);
    Ok((host, port))
}

/// `host:port`, with an IPv6 host in brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Connects to a backend, describing a failure as Go's dialer does
/// (`dial tcp 10.0.0.1:10250: connect: connection refused`).
async fn dial(addr: &str) -> Result<(), String> {
    match tokio::time::timeout(DIAL_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!("dial tcp {addr}: connect: connection refused")
            }
            std::io::ErrorKind::TimedOut => format!("dial tcp {addr}: i/o timeout"),
            _ => format!("dial tcp {addr}: {e}"),
        }),
        Err(_) => Err(format!("dial tcp {addr}: i/o timeout")),
    }
}

/// The answer when the backend was reached: streams are not proxied yet.
fn not_proxied(what: &str) -> ApiError {
    ApiError::service_unavailable(&format!(
        "this server does not proxy connections to {what} yet"
    ))
}

/// Splits `[scheme:]name[:port]` as upstream's `SplitSchemeNamePort`.
pub fn split_scheme_name_port(id: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name] => ("", *name, ""),
        [name, port] => ("", *name, *port),
        [scheme, name, port] => (*scheme, *name, *port),
        _ => return None,
    };
    if name.is_empty() || !(scheme.is_empty() || scheme == "http" || scheme == "https") {
        return None;
    }
    Some((scheme.to_string(), name.to_string(), port.to_string()))
}

#[async_trait::async_trait]
impl SubresourceRest for KubeletConnect {
    fn connects(&self) -> bool {
        true
    }

    async fn connect(
        &self,
        store: &Store,
        _ctx: &RequestContext,
        namespace: &str,
        name: &str,
        req: ConnectRequest,
    ) -> Result<Response<apiserver::body::Body>, ApiError> {
        let query = req.query.as_deref();
        if self.target == Target::Proxy {
            let Some((scheme, pod_name, port)) = split_scheme_name_port(name) else {
                return Err(ApiError::bad_request(&format!(
                    "invalid pod request {}",
                    apimachinery::go_quote(name)
                )));
            };
            let pod = store.get(namespace, &pod_name).await?;
            let port = if port.is_empty() {
                pod.pointer("/spec/containers")
                    .and_then(Value::as_array)
                    .and_then(|cs| {
                        cs.iter().find_map(|c| {
                            c.pointer("/ports/0/containerPort").and_then(Value::as_i64)
                        })
                    })
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            } else {
                port
            };
            let ip = pod
                .pointer("/status/podIPs/0/ip")
                .and_then(Value::as_str)
                .unwrap_or("");
            let global = ip.parse::<std::net::IpAddr>().is_ok_and(is_global_unicast);
            if !global {
                return Err(ApiError::bad_request("address not allowed"));
            }
            let port: i64 = port
                .parse()
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            let addr = join_host_port(ip, port);
            return match dial(&addr).await {
                Err(e) => Err(plain(format!("error trying to reach service: {e}"))),
                Ok(()) => Err(not_proxied("pods")),
            };
        }
        let pod = store.get(namespace, name).await?;
        let container = match self.target {
            Target::PortForward => String::new(),
            _ => container(&pod, query_param(query, "container"))?,
        };
        let node = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if node.is_empty() {
            if self.target == Target::Log {
                // Upstream streams nothing from a pod no node runs yet.
                let mut resp = Response::new(apiserver::body::empty());
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/plain"),
                );
                *resp.status_mut() = StatusCode::OK;
                return Ok(resp);
            }
            return Err(ApiError::bad_request(&format!(
                "pod {name} does not have a host assigned"
            )));
        }
        let (host, port) = kubelet_of(&self.kubelets, &node).await?;
        let addr = join_host_port(&host, port);
        match dial(&addr).await {
            Err(e) if self.target == Target::Log => Err(plain(format!(
                "Get \"https://{addr}/containerLogs/{namespace}/{name}/{container}\": {e}"
            ))),
            Err(e) => Err(plain(format!("error dialing backend: {e}"))),
            Ok(()) => Err(not_proxied("kubelets")),
        }
    }
}

/// Go's `IP.IsGlobalUnicast`: not unspecified, loopback, multicast, link-local or the
/// IPv4 broadcast address.
fn is_global_unicast(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_multicast()
                || v4.is_link_local()
                || v4.is_broadcast())
        }
        std::net::IpAddr::V6(v6) => {
            let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
            !(v6.is_unspecified() || v6.is_loopback() || v6.is_multicast() || link_local)
        }
    }
}

/// `nodes/proxy`: the node's kubelet.
pub struct NodeProxy {
    kubelets: Arc<Kubelets>,
}

impl NodeProxy {
    pub fn new(kubelets: Arc<Kubelets>) -> NodeProxy {
        NodeProxy { kubelets }
    }
}

#[async_trait::async_trait]
impl SubresourceRest for NodeProxy {
    fn connects(&self) -> bool {
        true
    }

    async fn connect(
        &self,
        _store: &Store,
        _ctx: &RequestContext,
        _namespace: &str,
        name: &str,
        _req: ConnectRequest,
    ) -> Result<Response<apiserver::body::Body>, ApiError> {
        let Some((_, node, port)) = split_scheme_name_port(name) else {
            return Err(ApiError::bad_request(&format!(
                "invalid node request {}",
                apimachinery::go_quote(name)
            )));
        };
        let (host, kubelet_port) = kubelet_of(&self.kubelets, &node).await?;
        let port = port.parse().unwrap_or(kubelet_port);
        let addr = join_host_port(&host, port);
        match dial(&addr).await {
            Err(e) => Err(plain(format!("error trying to reach service: {e}"))),
            Ok(()) => Err(not_proxied("kubelets")),
        }
    }
}

/// `services/proxy`: one of the Service's endpoints (upstream's `ResourceLocation`): a
/// port number names the Service port it is, and the endpoints of that port name are
/// where the request would go.
pub struct ServiceProxy {
    listers: Arc<Listers>,
}

impl ServiceProxy {
    pub fn new(listers: Arc<Listers>) -> ServiceProxy {
        ServiceProxy { listers }
    }
}

#[async_trait::async_trait]
impl SubresourceRest for ServiceProxy {
    fn connects(&self) -> bool {
        true
    }

    async fn connect(
        &self,
        store: &Store,
        _ctx: &RequestContext,
        namespace: &str,
        name: &str,
        _req: ConnectRequest,
    ) -> Result<Response<apiserver::body::Body>, ApiError> {
        let Some((_, service, mut port)) = split_scheme_name_port(name) else {
            return Err(ApiError::bad_request(&format!(
                "invalid service request {}",
                apimachinery::go_quote(name)
            )));
        };
        if let Ok(number) = port.parse::<i64>() {
            let svc = store.get(namespace, &service).await?;
            let named = svc
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .and_then(|ports| {
                    ports
                        .iter()
                        .find(|p| p.get("port").and_then(Value::as_i64) == Some(number))
                })
                .map(|p| {
                    p.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                });
            match named {
                Some(n) => port = n,
                None => {
                    return Err(ApiError::service_unavailable(&format!(
                        "no service port {number} found for service {}",
                        apimachinery::go_quote(&service)
                    )))
                }
            }
        }
        let endpoints = self.listers.get("endpoints", namespace, &service).await?;
        let no_subsets = endpoints
            .get("subsets")
            .and_then(Value::as_array)
            .is_none_or(|s| s.is_empty());
        if no_subsets {
            return Err(ApiError::service_unavailable(&format!(
                "no endpoints available for service {}",
                apimachinery::go_quote(&service)
            )));
        }
        let target = endpoints
            .get("subsets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|subset| {
                let p = subset
                    .get("ports")
                    .and_then(Value::as_array)?
                    .iter()
                    .find(|p| p.get("name").and_then(Value::as_str).unwrap_or("") == port)?
                    .get("port")
                    .and_then(Value::as_i64)?;
                let ip = subset
                    .pointer("/addresses/0/ip")
                    .and_then(Value::as_str)?
                    .to_string();
                Some((ip, p))
            });
        let Some((ip, p)) = target else {
            return Err(ApiError::service_unavailable(&format!(
                "no endpoints available for service {}",
                apimachinery::go_quote(name)
            )));
        };
        let addr = join_host_port(&ip, p);
        match dial(&addr).await {
            Err(e) => Err(plain(format!("error trying to reach service: {e}"))),
            Ok(()) => Err(not_proxied("services")),
        }
    }
}
