//! One test per built-in kind beyond the first ones: kube-rs typed clients drive it end to
//! end (create, get, list with a selector, update, delete, a 422 with its causes) and
//! `kubectl get` shows upstream's columns.

mod common;

use std::collections::BTreeMap;

use common::{api_err, causes, ok, table, Server};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::core::ObjectMeta;

fn meta(name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..Default::default()
    }
}

/// Names in a list.
fn names<K: kube::Resource>(items: &[K]) -> Vec<String> {
    items.iter().filter_map(|i| i.meta().name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_end_to_end() {
    use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
    let server = Server::start(&[]).await;
    let leases: Api<Lease> = Api::namespaced(server.client().await, "default");
    let lease = |name: &str, holder: &str, app: &str| Lease {
        metadata: meta(name, &[("app", app)]),
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_string()),
            lease_duration_seconds: Some(15),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    let created = leases
        .create(&PostParams::default(), &lease("a", "node-1", "x"))
        .await
        .expect("create");
    assert_eq!(
        created
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref()),
        Some("node-1")
    );
    leases
        .create(&PostParams::default(), &lease("b", "node-2", "y"))
        .await
        .expect("create b");

    // Without the CoordinatedLeaderElection gate, strategy and preferred holder are dropped.
    let mut gated = lease("c", "node-3", "y");
    if let Some(s) = gated.spec.as_mut() {
        s.strategy = Some("OldestEmulationVersion".into());
        s.preferred_holder = Some("node-9".into());
    }
    let c = leases
        .create(&PostParams::default(), &gated)
        .await
        .expect("create c");
    let spec = c.spec.unwrap_or_default();
    assert_eq!((spec.strategy, spec.preferred_holder), (None, None));

    let got = leases.get("a").await.expect("get");
    let selected = leases
        .list(&ListParams::default().labels("app=y"))
        .await
        .expect("list");
    assert_eq!(names(&selected.items), ["b", "c"]);
    let by_name = leases
        .list(&ListParams::default().fields("metadata.name=a"))
        .await
        .expect("list by name");
    assert_eq!(names(&by_name.items), ["a"]);

    // Update: a new holder; an invalid duration is a 422 naming the field.
    let mut next = got.clone();
    if let Some(s) = next.spec.as_mut() {
        s.holder_identity = Some("node-2".into());
        s.lease_transitions = Some(1);
    }
    let updated = leases
        .replace("a", &PostParams::default(), &next)
        .await
        .expect("update");
    assert_eq!(
        updated.spec.as_ref().and_then(|s| s.lease_transitions),
        Some(1)
    );
    let mut bad = updated.clone();
    if let Some(s) = bad.spec.as_mut() {
        s.lease_duration_seconds = Some(0);
        s.lease_transitions = Some(-1);
    }
    let e = api_err(
        leases
            .replace("a", &PostParams::default(), &bad)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        causes(&e),
        [
            "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
            "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
        ]
    );
    // Leases need a resourceVersion on update, as upstream.
    let mut unconditional = updated.clone();
    unconditional.metadata.resource_version = None;
    let e = api_err(
        leases
            .replace("a", &PostParams::default(), &unconditional)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422, "{e:?}");

    let (header, rows) = table(&ok(server.kubectl(&["get", "leases", "-n", "default"])));
    assert_eq!(header, ["NAME", "HOLDER", "AGE"]);
    assert_eq!(rows[0][..2], ["a".to_string(), "node-2".to_string()]);

    leases
        .delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(leases.get_opt("a").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serviceaccounts_end_to_end() {
    use k8s_openapi::api::core::v1::{ObjectReference, ServiceAccount};
    let server = Server::start(&[]).await;
    let sas: Api<ServiceAccount> = Api::namespaced(server.client().await, "default");
    let sa = |name: &str, app: &str, secrets: &[&str]| ServiceAccount {
        metadata: meta(name, &[("app", app)]),
        secrets: Some(
            secrets
                .iter()
                .map(|s| ObjectReference {
                    name: Some(s.to_string()),
                    namespace: Some("elsewhere".into()),
                    kind: Some("Secret".into()),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    };
    let created = sas
        .create(
            &PostParams::default(),
            &sa("builder", "ci", &["token-a", "token-b"]),
        )
        .await
        .expect("create");
    // Secret references keep only their names, as upstream's strategy leaves them.
    let refs = created.secrets.unwrap_or_default();
    assert_eq!(refs.len(), 2);
    assert!(refs
        .iter()
        .all(|r| r.namespace.is_none() && r.kind.is_none()));
    sas.create(&PostParams::default(), &sa("deployer", "cd", &[]))
        .await
        .expect("create deployer");

    let got = sas.get("builder").await.expect("get");
    let selected = sas
        .list(&ListParams::default().labels("app=cd"))
        .await
        .expect("list");
    assert_eq!(names(&selected.items), ["deployer"]);

    let mut next = got.clone();
    next.secrets = Some(vec![ObjectReference {
        name: Some("token-c".into()),
        ..Default::default()
    }]);
    next.automount_service_account_token = Some(false);
    let updated = sas
        .replace("builder", &PostParams::default(), &next)
        .await
        .expect("update");
    assert_eq!(updated.automount_service_account_token, Some(false));

    let e = api_err(
        sas.create(&PostParams::default(), &sa("Not_A_Name", "x", &[]))
            .await
            .unwrap_err(),
    );
    let c = causes(&e);
    assert!(
        c.len() == 1 && c[0].starts_with("metadata.name: Invalid value: \"Not_A_Name\""),
        "{c:?}"
    );

    // The deprecated mountable-secrets annotation draws upstream's warning.
    let out = server.kubectl_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: legacy\n  namespace: default\n  annotations:\n    kubernetes.io/enforce-mountable-secrets: \"true\"\n",
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Warning: metadata.annotations[kubernetes.io/enforce-mountable-secrets]: deprecated in v1.32+; prefer separate namespaces to isolate access to mounted secrets"),
        "{out:?}"
    );
    ok(out);
    sas.delete("legacy", &DeleteParams::default())
        .await
        .expect("delete legacy");

    let (header, rows) = table(&ok(server.kubectl(&["get", "sa", "-n", "default"])));
    assert_eq!(header, ["NAME", "SECRETS", "AGE"]);
    let cells: Vec<&[String]> = rows.iter().map(|r| &r[..2]).collect();
    assert_eq!(
        cells,
        [
            &["builder".to_string(), "1".to_string()][..],
            // Created by the server for every namespace (upstream: the controller manager).
            &["default".to_string(), "0".to_string()][..],
            &["deployer".to_string(), "0".to_string()][..]
        ]
    );

    sas.delete("builder", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(sas.get_opt("builder").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_end_to_end() {
    use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, EndpointSubset, Endpoints};
    let server = Server::start(&[]).await;
    let eps: Api<Endpoints> = Api::namespaced(server.client().await, "default");
    let addr = |ip: &str| EndpointAddress {
        ip: ip.to_string(),
        ..Default::default()
    };
    let port = |name: Option<&str>, number: i32| EndpointPort {
        name: name.map(str::to_string),
        port: number,
        ..Default::default()
    };
    let web = Endpoints {
        metadata: meta("web", &[("app", "web")]),
        subsets: Some(vec![EndpointSubset {
            addresses: Some(vec![addr("10.0.0.1"), addr("10.0.0.2")]),
            ports: Some(vec![port(None, 8080)]),
            ..Default::default()
        }]),
    };
    let created = eps
        .create(&PostParams::default(), &web)
        .await
        .expect("create");
    // The protocol defaults to TCP.
    let ports = created.subsets.unwrap_or_default()[0]
        .ports
        .clone()
        .unwrap_or_default();
    assert_eq!(ports[0].protocol.as_deref(), Some("TCP"));
    eps.create(
        &PostParams::default(),
        &Endpoints {
            metadata: meta("empty", &[("app", "none")]),
            subsets: None,
        },
    )
    .await
    .expect("create empty");

    let got = eps.get("web").await.expect("get");
    let selected = eps
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("list");
    assert_eq!(names(&selected.items), ["web"]);

    let mut next = got.clone();
    if let Some(s) = next.subsets.as_mut() {
        s[0].addresses = Some(vec![
            addr("10.0.0.1"),
            addr("10.0.0.2"),
            addr("10.0.0.3"),
            addr("10.0.0.4"),
        ]);
    }
    eps.replace("web", &PostParams::default(), &next)
        .await
        .expect("update");

    let mut bad = next.clone();
    bad.metadata.resource_version = None;
    bad.subsets = Some(vec![EndpointSubset {
        addresses: Some(vec![addr("127.0.0.1")]),
        ports: Some(vec![port(Some("a"), 80), port(None, 0)]),
        ..Default::default()
    }]);
    let e = api_err(
        eps.replace("web", &PostParams::default(), &bad)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        causes(&e),
        [
            "subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
            "subsets[0].ports[1].name: Required value",
            "subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        ]
    );

    // Addresses in a non-standard form draw upstream's warning.
    let out = server.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: zeros\n  namespace: default\nsubsets:\n- addresses:\n  - ip: 010.0.0.5\n",
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Warning: subsets[0].addresses[0].ip: non-standard IP address \"010.0.0.5\" will be considered invalid in a future Kubernetes release: use \"10.0.0.5\""),
        "{out:?}"
    );
    ok(out);
    eps.delete("zeros", &DeleteParams::default())
        .await
        .expect("delete zeros");

    let out = server.kubectl(&["get", "ep", "-n", "default"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"
        ),
        "{out:?}"
    );
    let (header, rows) = table(&ok(out));
    // The API server's own `kubernetes` endpoints are there too, as upstream's.
    let rows: Vec<_> = rows.into_iter().filter(|r| r[0] != "kubernetes").collect();
    assert_eq!(header, ["NAME", "ENDPOINTS", "AGE"]);
    assert_eq!(rows[0][..2], ["empty".to_string(), "<none>".to_string()]);
    assert_eq!(
        rows[1][..2],
        [
            "web".to_string(),
            "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more...".to_string()
        ]
    );

    eps.delete("web", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(eps.get_opt("web").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpointslices_end_to_end() {
    use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
    let server = Server::start(&[]).await;
    let slices: Api<EndpointSlice> = Api::namespaced(server.client().await, "default");
    let slice = |name: &str, service: &str, addresses: &[&str]| EndpointSlice {
        metadata: meta(name, &[("kubernetes.io/service-name", service)]),
        address_type: "IPv4".into(),
        endpoints: Some(vec![Endpoint {
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        }]),
        ports: Some(vec![EndpointPort {
            name: Some("http".into()),
            port: Some(8080),
            ..Default::default()
        }]),
    };
    let created = slices
        .create(
            &PostParams::default(),
            &slice("web-abc", "web", &["10.0.0.1", "10.0.0.2"]),
        )
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, Some(1));
    let ports = created.ports.clone().unwrap_or_default();
    assert_eq!(ports[0].protocol.as_deref(), Some("TCP"));
    slices
        .create(
            &PostParams::default(),
            &slice("db-xyz", "db", &["10.0.1.1"]),
        )
        .await
        .expect("create db");

    let selected = slices
        .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
        .await
        .expect("list");
    assert_eq!(names(&selected.items), ["web-abc"]);

    let mut next = slices.get("web-abc").await.expect("get");
    if let Some(e) = next.endpoints.as_mut() {
        e[0].addresses.push("10.0.0.3".into());
        e[0].addresses.push("10.0.0.4".into());
    }
    let updated = slices
        .replace("web-abc", &PostParams::default(), &next)
        .await
        .expect("update");
    assert_eq!(updated.metadata.generation, Some(2));
    // A change of labels moves the generation on too, as upstream.
    let mut relabelled = updated.clone();
    relabelled
        .metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert("tier".into(), "front".into());
    let updated = slices
        .replace("web-abc", &PostParams::default(), &relabelled)
        .await
        .expect("relabel");
    assert_eq!(updated.metadata.generation, Some(3));

    // addressType is immutable; an endpoint needs an address.
    let mut bad = updated.clone();
    bad.address_type = "IPv6".into();
    if let Some(e) = bad.endpoints.as_mut() {
        e.push(Endpoint::default());
    }
    let e = api_err(
        slices
            .replace("web-abc", &PostParams::default(), &bad)
            .await
            .unwrap_err(),
    );
    let c = causes(&e);
    assert!(
        c.contains(
            &"endpoints[1].addresses: Required value: must contain at least 1 address".to_string()
        ) && c.contains(&"addressType: Invalid value: \"IPv6\": field is immutable".to_string()),
        "{c:?}"
    );

    let (header, rows) = table(&ok(server.kubectl(&[
        "get",
        "endpointslices",
        "-n",
        "default",
    ])));
    let rows: Vec<_> = rows.into_iter().filter(|r| r[0] != "kubernetes").collect();
    assert_eq!(header, ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]);
    assert_eq!(
        rows[1][..4],
        [
            "web-abc".to_string(),
            "IPv4".to_string(),
            "8080".to_string(),
            "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...".to_string()
        ]
    );
    let out = ok(server.kubectl(&[
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=db",
        "-o",
        "name",
    ]));
    assert_eq!(out.trim(), "endpointslice.discovery.k8s.io/db-xyz");

    slices
        .delete("web-abc", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(slices.get_opt("web-abc").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_end_to_end() {
    use k8s_openapi::api::core::v1::{
        Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo, Taint,
    };
    let server = Server::start(&[]).await;
    let nodes: Api<Node> = Api::all(server.client().await);
    let pp = PostParams::default();
    let node = |name: &str, labels: &[(&str, &str)]| Node {
        metadata: meta(name, labels),
        spec: Some(NodeSpec {
            pod_cidr: Some("10.244.1.0/24".into()),
            provider_id: Some(format!("test://{name}")),
            ..Default::default()
        }),
        status: None,
    };
    let created = nodes
        .create(
            &pp,
            &node("worker-1", &[("node-role.kubernetes.io/worker", "")]),
        )
        .await
        .expect("create");
    // The lone podCIDR becomes the list, as upstream's conversion does.
    assert_eq!(
        created.spec.as_ref().and_then(|s| s.pod_cidrs.clone()),
        Some(vec!["10.244.1.0/24".to_string()])
    );
    nodes
        .create(
            &pp,
            &node("cp-1", &[("node-role.kubernetes.io/control-plane", "")]),
        )
        .await
        .expect("create cp-1");

    // A status write sets conditions and nodeInfo and keeps the spec.
    let mut with_status = nodes.get("worker-1").await.expect("get");
    if let Some(s) = with_status.spec.as_mut() {
        s.unschedulable = Some(true);
    }
    with_status.status = Some(NodeStatus {
        conditions: Some(vec![NodeCondition {
            type_: "Ready".into(),
            status: "True".into(),
            reason: Some("KubeletReady".into()),
            ..Default::default()
        }]),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: "10.0.0.11".into(),
            },
            NodeAddress {
                type_: "ExternalIP".into(),
                address: "203.0.113.11".into(),
            },
        ]),
        node_info: Some(NodeSystemInfo {
            kubelet_version: "v1.36.0".into(),
            os_image: "Debian GNU/Linux 13 (trixie)".into(),
            kernel_version: "6.12.0".into(),
            container_runtime_version: "containerd://2.1.0".into(),
            architecture: "amd64".into(),
            operating_system: "linux".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    let after = nodes
        .replace_status("worker-1", &pp, &with_status)
        .await
        .expect("status update");
    assert_eq!(after.spec.as_ref().and_then(|s| s.unschedulable), None);
    let status = after.status.clone().unwrap_or_default();
    assert_eq!(
        status.node_info.map(|i| i.kubelet_version).as_deref(),
        Some("v1.36.0")
    );
    assert_eq!(status.conditions.map(|c| c.len()), Some(1));

    // The kubelet's strategic merge patch of status merges conditions by type.
    let patch = serde_json::json!({"status": {"conditions": [
        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"}
    ]}});
    let after = nodes
        .patch_status(
            "worker-1",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Strategic(patch),
        )
        .await
        .expect("status patch");
    let mut types: Vec<String> = after
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .map(|c| c.iter().map(|c| c.type_.clone()).collect())
        .unwrap_or_default();
    types.sort();
    assert_eq!(types, ["MemoryPressure", "Ready"]);

    // A spec write keeps the status.
    let mut cordon = after.clone();
    if let Some(s) = cordon.spec.as_mut() {
        s.unschedulable = Some(true);
    }
    cordon.status = None;
    let cordoned = nodes
        .replace("worker-1", &pp, &cordon)
        .await
        .expect("cordon");
    assert_eq!(
        cordoned.spec.as_ref().and_then(|s| s.unschedulable),
        Some(true)
    );
    assert_eq!(cordoned.status, after.status);

    // Field selectors: spec.unschedulable (false when unset) and metadata.name.
    let unschedulable = nodes
        .list(&ListParams::default().fields("spec.unschedulable=true"))
        .await
        .expect("list unschedulable");
    assert_eq!(names(&unschedulable.items), ["worker-1"]);
    let schedulable = nodes
        .list(&ListParams::default().fields("spec.unschedulable=false"))
        .await
        .expect("list schedulable");
    assert_eq!(names(&schedulable.items), ["cp-1"]);
    let by_name = nodes
        .list(&ListParams::default().fields("metadata.name=cp-1"))
        .await
        .expect("list by name");
    assert_eq!(names(&by_name.items), ["cp-1"]);

    // Taints: a valid update, then a duplicate key and effect and an unknown effect.
    let taint = |key: &str, effect: &str| Taint {
        key: key.into(),
        effect: effect.into(),
        ..Default::default()
    };
    let mut tainted = cordoned.clone();
    if let Some(s) = tainted.spec.as_mut() {
        s.taints = Some(vec![
            taint("dedicated", "NoSchedule"),
            taint("dedicated", "NoExecute"),
        ]);
    }
    let tainted = nodes
        .replace("worker-1", &pp, &tainted)
        .await
        .expect("taints");
    assert_eq!(
        tainted
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .map(Vec::len),
        Some(2)
    );
    let mut bad = tainted.clone();
    if let Some(s) = bad.spec.as_mut() {
        s.taints = Some(vec![
            taint("dedicated", "NoSchedule"),
            taint("dedicated", "NoSchedule"),
            taint("other", "Sometimes"),
        ]);
        s.provider_id = Some("test://elsewhere".into());
        s.pod_cidrs = Some(vec!["10.244.9.0/24".into()]);
        s.pod_cidr = Some("10.244.9.0/24".into());
    }
    let e = api_err(nodes.replace("worker-1", &pp, &bad).await.unwrap_err());
    let got = causes(&e);
    for want in [
        "metadata.taints[1]: Duplicate value:",
        "metadata.taints[2].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
        "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid",
        "spec.providerID: Forbidden: node updates may not change providerID except from \"\" to valid",
    ] {
        assert!(got.iter().any(|c| c.starts_with(want)), "{want}: {got:?}");
    }

    // Create: a name that is no DNS subdomain, and two CIDRs of one family.
    let mut invalid = node("Bad_Name", &[]);
    if let Some(s) = invalid.spec.as_mut() {
        s.pod_cidrs = Some(vec!["10.1.0.0/24".into(), "10.2.0.0/24".into()]);
        s.pod_cidr = Some("10.1.0.0/24".into());
    }
    let e = api_err(nodes.create(&pp, &invalid).await.unwrap_err());
    let got = causes(&e);
    assert!(
        got.iter()
            .any(|c| c.starts_with("metadata.name: Invalid value: \"Bad_Name\"")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|c| c.starts_with("spec.podCIDRs: Invalid value:")
                && c.ends_with("may specify no more than one CIDR for each IP family")),
        "{got:?}"
    );

    // kubectl: upstream's columns, the wide ones with -o wide; `no` is the short name.
    let (header, rows) = table(&ok(server.kubectl(&["get", "nodes"])));
    assert_eq!(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert_eq!(rows[0][..3], ["cp-1", "Unknown", "control-plane"]);
    assert_eq!(
        rows[1][..3],
        ["worker-1", "Ready,SchedulingDisabled", "worker"]
    );
    assert_eq!(rows[1][4], "v1.36.0");
    let (header, rows) = table(&ok(server.kubectl(&["get", "no", "worker-1", "-o", "wide"])));
    assert_eq!(
        header,
        [
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME"
        ]
    );
    assert_eq!(
        rows[0][4..],
        [
            "v1.36.0",
            "10.0.0.11",
            "203.0.113.11",
            "Debian GNU/Linux 13 (trixie)",
            "6.12.0",
            "containerd://2.1.0"
        ]
    );

    // kubectl cordon and taint patch the spec.
    ok(server.kubectl(&["cordon", "cp-1"]));
    ok(server.kubectl(&["taint", "nodes", "cp-1", "dedicated=infra:NoSchedule"]));
    let cp = nodes.get("cp-1").await.expect("get cp-1");
    let spec = cp.spec.unwrap_or_default();
    assert_eq!(spec.unschedulable, Some(true));
    assert_eq!(
        spec.taints
            .unwrap_or_default()
            .iter()
            .map(|t| format!(
                "{}={}:{}",
                t.key,
                t.value.as_deref().unwrap_or(""),
                t.effect
            ))
            .collect::<Vec<_>>(),
        ["dedicated=infra:NoSchedule"]
    );
    let out = server.kubectl(&["taint", "nodes", "cp-1", "other=x:Sometimes"]);
    assert!(!out.status.success());

    nodes
        .delete("worker-1", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(nodes.get_opt("worker-1").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poddisruptionbudgets_end_to_end() {
    use k8s_openapi::api::policy::v1::{
        PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let server = Server::start(&[]).await;
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(server.client().await, "default");
    let pdb =
        |name: &str, min: Option<IntOrString>, max: Option<IntOrString>| PodDisruptionBudget {
            metadata: meta(name, &[("app", name)]),
            spec: Some(PodDisruptionBudgetSpec {
                min_available: min,
                max_unavailable: max,
                selector: Some(LabelSelector {
                    match_labels: Some(BTreeMap::from([("app".to_string(), name.to_string())])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: None,
        };
    let created = pdbs
        .create(
            &PostParams::default(),
            &pdb("a", Some(IntOrString::Int(1)), None),
        )
        .await
        .expect("create");
    // The status a client sends on create is the controller's: upstream starts it empty.
    let status = created.status.clone().unwrap_or_default();
    assert_eq!(
        (status.disruptions_allowed, status.expected_pods),
        (Some(0), Some(0))
    );
    assert_eq!(created.metadata.generation, Some(1));
    pdbs.create(
        &PostParams::default(),
        &pdb("b", None, Some(IntOrString::String("25%".into()))),
    )
    .await
    .expect("create b");
    let got = pdbs.get("a").await.expect("get");
    let listed = pdbs
        .list(&ListParams::default().labels("app=b"))
        .await
        .expect("list");
    assert_eq!(names(&listed.items), ["b"]);

    // A status write keeps the spec; a spec write keeps the status.
    let mut status_write = got.clone();
    status_write.status = Some(PodDisruptionBudgetStatus {
        disruptions_allowed: Some(3),
        current_healthy: Some(4),
        desired_healthy: Some(1),
        expected_pods: Some(4),
        ..Default::default()
    });
    if let Some(s) = status_write.spec.as_mut() {
        s.min_available = Some(IntOrString::Int(9));
    }
    let written = pdbs
        .replace_status("a", &PostParams::default(), &status_write)
        .await
        .expect("status update");
    assert_eq!(
        written.spec.as_ref().and_then(|s| s.min_available.clone()),
        Some(IntOrString::Int(1))
    );
    assert_eq!(
        written.status.as_ref().and_then(|s| s.disruptions_allowed),
        Some(3)
    );
    let mut next = written.clone();
    if let Some(s) = next.spec.as_mut() {
        s.min_available = Some(IntOrString::String("50%".into()));
    }
    next.status = None;
    let updated = pdbs
        .replace("a", &PostParams::default(), &next)
        .await
        .expect("update");
    assert_eq!(
        updated.status.as_ref().and_then(|s| s.disruptions_allowed),
        Some(3)
    );
    assert_eq!(updated.metadata.generation, Some(2));

    let mut bad = updated.clone();
    if let Some(s) = bad.spec.as_mut() {
        s.min_available = Some(IntOrString::String("150%".into()));
        s.max_unavailable = Some(IntOrString::Int(-1));
    }
    let e = api_err(
        pdbs.replace("a", &PostParams::default(), &bad)
            .await
            .unwrap_err(),
    );
    let c = causes(&e);
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(c[0].starts_with("spec: Invalid value: "), "{c:?}");
    assert!(c[0].ends_with(": minAvailable and maxUnavailable cannot be both set"));
    assert_eq!(
        c[1..],
        [
            "spec.minAvailable: Invalid value: \"150%\": must not be greater than 100%",
            "spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0",
        ]
    );

    let (header, rows) = table(&ok(server.kubectl(&["get", "pdb", "-n", "default"])));
    assert_eq!(
        header,
        [
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE"
        ]
    );
    assert_eq!(rows[0][..4], ["a", "50%", "N/A", "3"].map(String::from));
    assert_eq!(rows[1][..4], ["b", "N/A", "25%", "0"].map(String::from));

    pdbs.delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(pdbs.get_opt("a").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limitranges_end_to_end() {
    use k8s_openapi::api::core::v1::{LimitRange, LimitRangeItem, LimitRangeSpec};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    let server = Server::start(&[]).await;
    let ranges: Api<LimitRange> = Api::namespaced(server.client().await, "default");
    let list = |pairs: &[(&str, &str)]| {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let range = |name: &str, max: &str| LimitRange {
        metadata: meta(name, &[("app", name)]),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".into(),
                max: list(&[("cpu", max)]),
                min: list(&[("cpu", "100m")]),
                ..Default::default()
            }],
        }),
    };
    let created = ranges
        .create(&PostParams::default(), &range("a", "2"))
        .await
        .expect("create");
    // Defaults: the default limit is the max, the default request the default limit.
    let item = &created.spec.as_ref().expect("spec").limits[0];
    assert_eq!(item.default, list(&[("cpu", "2")]));
    assert_eq!(item.default_request, list(&[("cpu", "2")]));
    ranges
        .create(&PostParams::default(), &range("b", "1"))
        .await
        .expect("create b");
    let got = ranges.get("a").await.expect("get");
    let listed = ranges
        .list(&ListParams::default().labels("app=b"))
        .await
        .expect("list");
    assert_eq!(names(&listed.items), ["b"]);

    let mut next = got.clone();
    if let Some(s) = next.spec.as_mut() {
        s.limits[0].max = list(&[("cpu", "4")]);
    }
    let updated = ranges
        .replace("a", &PostParams::default(), &next)
        .await
        .expect("update");
    assert_eq!(
        updated.spec.as_ref().map(|s| s.limits[0].max.clone()),
        Some(list(&[("cpu", "4")]))
    );

    let mut bad = updated.clone();
    if let Some(s) = bad.spec.as_mut() {
        s.limits[0].min = list(&[("cpu", "8")]);
        s.limits[0].max_limit_request_ratio = list(&[("cpu", "500m")]);
        s.limits.push(LimitRangeItem {
            type_: "Pod".into(),
            default: list(&[("cpu", "1")]),
            ..Default::default()
        });
    }
    let e = api_err(
        ranges
            .replace("a", &PostParams::default(), &bad)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        causes(&e),
        [
            "spec.limits[0].min[cpu]: Invalid value: \"8\": min value 8 is greater than max value 4",
            "spec.limits[0].defaultRequest[cpu]: Invalid value: \"2\": min value 8 is greater than default request value 2",
            "spec.limits[0].default[cpu]: Invalid value: \"8\": min value 8 is greater than default value 2",
            "spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: \"500m\": ratio 500m is less than 1",
            "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
        ]
    );

    let (header, rows) = table(&ok(server.kubectl(&["get", "limits", "-n", "default"])));
    assert_eq!(header, ["NAME", "CREATED AT"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "a");
    assert!(rows[0][1].ends_with('Z'), "{rows:?}");

    ranges
        .delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(ranges.get_opt("a").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resourcequotas_end_to_end() {
    use k8s_openapi::api::core::v1::{ResourceQuota, ResourceQuotaSpec, ResourceQuotaStatus};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    let server = Server::start(&[]).await;
    let quotas: Api<ResourceQuota> = Api::namespaced(server.client().await, "default");
    let list = |pairs: &[(&str, &str)]| {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let quota = |name: &str, pods: &str| ResourceQuota {
        metadata: meta(name, &[("app", name)]),
        spec: Some(ResourceQuotaSpec {
            hard: list(&[("pods", pods), ("requests.cpu", "1"), ("limits.cpu", "2")]),
            ..Default::default()
        }),
        status: Some(ResourceQuotaStatus {
            used: list(&[("pods", "100")]),
            ..Default::default()
        }),
    };
    let created = quotas
        .create(&PostParams::default(), &quota("a", "10"))
        .await
        .expect("create");
    // The status is the quota controller's: a create starts it empty.
    assert_eq!(created.status.and_then(|s| s.used), None);
    quotas
        .create(&PostParams::default(), &quota("b", "5"))
        .await
        .expect("create b");
    let got = quotas.get("a").await.expect("get");
    let listed = quotas
        .list(&ListParams::default().labels("app=b"))
        .await
        .expect("list");
    assert_eq!(names(&listed.items), ["b"]);

    // A status write keeps the spec; a spec write keeps the status.
    let mut status_write = got.clone();
    status_write.status = Some(ResourceQuotaStatus {
        hard: list(&[("pods", "10"), ("requests.cpu", "1"), ("limits.cpu", "2")]),
        used: list(&[("pods", "3"), ("limits.cpu", "500m")]),
    });
    if let Some(s) = status_write.spec.as_mut() {
        s.hard = list(&[("pods", "99")]);
    }
    let written = quotas
        .replace_status("a", &PostParams::default(), &status_write)
        .await
        .expect("status update");
    assert_eq!(
        written.spec.as_ref().and_then(|s| s.hard.clone()),
        got.spec.as_ref().and_then(|s| s.hard.clone())
    );
    let mut next = written.clone();
    if let Some(s) = next.spec.as_mut() {
        s.hard = list(&[("pods", "20"), ("requests.cpu", "1"), ("limits.cpu", "2")]);
    }
    next.status = None;
    let updated = quotas
        .replace("a", &PostParams::default(), &next)
        .await
        .expect("update");
    assert_eq!(
        updated.status.as_ref().and_then(|s| s.used.clone()),
        list(&[("pods", "3"), ("limits.cpu", "500m")])
    );

    let mut bad = updated.clone();
    if let Some(s) = bad.spec.as_mut() {
        s.hard = list(&[("pods", "-1"), ("secrets", "1500m")]);
        s.scopes = Some(vec!["Terminating".into(), "NotTerminating".into()]);
    }
    let e = api_err(
        quotas
            .replace("a", &PostParams::default(), &bad)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        causes(&e),
        [
            "spec.hard[pods]: Invalid value: \"-1\": must be greater than or equal to 0",
            "spec.hard[secrets]: Invalid value: \"1500m\": must be an integer",
            // Once, though both scopes reject it: identical causes are reported once.
            "spec.scopes: Invalid value: [\"Terminating\",\"NotTerminating\"]: unsupported scope applied to resource",
            "spec.scopes: Invalid value: [\"Terminating\",\"NotTerminating\"]: conflicting scopes",
            "spec.scopes: Invalid value: [\"Terminating\",\"NotTerminating\"]: field is immutable",
        ]
    );

    let (header, rows) = table(&ok(server.kubectl(&["get", "quota", "-n", "default"])));
    assert_eq!(header, ["NAME", "AGE", "REQUEST", "LIMIT"]);
    assert_eq!(rows[0][0], "a");
    assert_eq!(
        rows[0][2..],
        [
            "pods: 3/10, requests.cpu: 0/1".to_string(),
            "limits.cpu: 500m/2".to_string()
        ]
    );

    quotas
        .delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(quotas.get_opt("a").await.expect("get").is_none());
}
