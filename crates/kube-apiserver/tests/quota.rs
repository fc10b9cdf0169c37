//! ResourceQuota end to end: the admission plugin charges creates and updates to the
//! namespace's quotas and refuses what would exceed them with upstream's 403 messages;
//! the in-server quota controller fills `status.hard` and recounts `status.used` (deletes
//! release quota). Driven with kube-rs typed clients and kubectl.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{ok, Server};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, Namespace, Pod, PodSpec, ResourceQuota, ResourceRequirements,
    ServiceAccount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::core::ObjectMeta;
use kube::Client;

fn named(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        ..Default::default()
    }
}

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: named(name),
        ..Default::default()
    }
}

fn quantities(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Quantity>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
            .collect(),
    )
}

/// A pod of one container `web` with the given requests and limits.
fn pod(name: &str, requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Pod {
    let resources = (!requests.is_empty() || !limits.is_empty()).then(|| ResourceRequirements {
        requests: (!requests.is_empty())
            .then(|| quantities(requests))
            .flatten(),
        limits: (!limits.is_empty()).then(|| quantities(limits)).flatten(),
        ..Default::default()
    });
    Pod {
        metadata: named(name),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "web".to_string(),
                image: Some("nginx".to_string()),
                resources,
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The API error of a failed request.
fn api_err(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Asserts a 403 Forbidden with exactly `message`.
fn assert_forbidden<T: std::fmt::Debug>(r: Result<T, kube::Error>, message: &str) {
    let s = api_err(r.expect_err("the request must be refused"));
    assert_eq!(
        (s.code, s.reason.as_str(), s.message.as_str()),
        (403, "Forbidden", message)
    );
}

/// Waits (up to 10 s) until `check` holds for the quota, returning the quota.
async fn wait_quota(
    quotas: &Api<ResourceQuota>,
    name: &str,
    what: &str,
    check: impl Fn(&ResourceQuota) -> bool,
) -> ResourceQuota {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let q = quotas.get(name).await.expect("get quota");
        if check(&q) {
            return q;
        }
        assert!(
            Instant::now() < deadline,
            "quota {name}: {what}; last: {q:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The quota's `status.used` as strings.
fn used(q: &ResourceQuota) -> BTreeMap<String, String> {
    q.status
        .as_ref()
        .and_then(|s| s.used.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect()
}

fn hard(q: &ResourceQuota) -> BTreeMap<String, String> {
    q.status
        .as_ref()
        .and_then(|s| s.hard.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Creates a namespace and waits for what the server gives every namespace (its
/// `default` ServiceAccount and `kube-root-ca.crt` ConfigMap), which quotas count too.
async fn namespace(client: &Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: named(name),
                ..Default::default()
            },
        )
        .await
        .expect("create namespace");
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), name);
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), name);
    let deadline = Instant::now() + Duration::from_secs(10);
    while accounts.get_opt("default").await.expect("get sa").is_none()
        || maps
            .get_opt("kube-root-ca.crt")
            .await
            .expect("get cm")
            .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "namespace {name} got no defaults"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_counts_are_charged_enforced_and_released() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    namespace(&client, "counts").await;
    ok(server.kubectl(&[
        "create",
        "quota",
        "q",
        "--hard=pods=2,configmaps=3",
        "-n",
        "counts",
    ]));
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "counts");
    // The controller fills the status: the namespace's kube-root-ca.crt counts.
    let q = wait_quota(&quotas, "q", "status filled", |q| !used(q).is_empty()).await;
    assert_eq!(hard(&q), map(&[("configmaps", "3"), ("pods", "2")]));
    assert_eq!(used(&q), map(&[("configmaps", "1"), ("pods", "0")]));

    // Creates are charged as they are admitted.
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "counts");
    for name in ["c1", "c2"] {
        maps.create(&PostParams::default(), &config_map(name))
            .await
            .expect("create within quota");
    }
    let q = quotas.get("q").await.expect("get");
    assert_eq!(used(&q), map(&[("configmaps", "3"), ("pods", "0")]));
    // The status writes carry the managers upstream's would: the controller's and the
    // admission plugin's (the server's loopback client).
    let managers: Vec<(String, String)> = q
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .map(|m| {
            (
                m.manager.clone().unwrap_or_default(),
                m.subresource.clone().unwrap_or_default(),
            )
        })
        .collect();
    for manager in ["kube-controller-manager", "kube-apiserver"] {
        assert!(
            managers.contains(&(manager.to_string(), "status".to_string())),
            "{managers:?}"
        );
    }
    assert_forbidden(
        maps.create(&PostParams::default(), &config_map("c3")).await,
        "configmaps \"c3\" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=3, limited: configmaps=3",
    );
    let out = server.kubectl(&["create", "configmap", "c4", "-n", "counts"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "configmaps \"c4\" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=3, limited: configmaps=3"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = table(&ok(server.kubectl(&["get", "quota", "-n", "counts"])));
    assert_eq!(header, ["NAME", "AGE", "REQUEST", "LIMIT"]);
    assert_eq!(rows[0][2], "configmaps: 3/3, pods: 0/2");
    let described = ok(server.kubectl(&["describe", "quota", "q", "-n", "counts"]));
    let lines: Vec<Vec<&str>> = described
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for want in [
        ["Resource", "Used", "Hard"],
        ["configmaps", "3", "3"],
        ["pods", "0", "2"],
    ] {
        assert!(lines.iter().any(|l| l == &want), "{described}");
    }

    // Deletes release quota (the controller recounts).
    maps.delete("c2", &DeleteParams::default())
        .await
        .expect("delete");
    wait_quota(&quotas, "q", "the delete released", |q| {
        used(q) == map(&[("configmaps", "2"), ("pods", "0")])
    })
    .await;

    // A dry run is checked but not charged.
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    maps.create(&dry, &config_map("d1"))
        .await
        .expect("dry run within quota");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let q = quotas.get("q").await.expect("get");
    assert_eq!(used(&q), map(&[("configmaps", "2"), ("pods", "0")]));
    maps.create(&PostParams::default(), &config_map("c5"))
        .await
        .expect("the dry run left room");
    assert_forbidden(
        maps.create(&dry, &config_map("d2")).await,
        "configmaps \"d2\" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=3, limited: configmaps=3",
    );

    // Pods: two fit, the third is refused; a delete makes room again.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "counts");
    for name in ["p1", "p2"] {
        pods.create(&PostParams::default(), &pod(name, &[], &[]))
            .await
            .expect("pod within quota");
    }
    assert_forbidden(
        pods.create(&PostParams::default(), &pod("p3", &[], &[])).await,
        "pods \"p3\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2",
    );
    pods.delete("p1", &DeleteParams::default())
        .await
        .expect("delete pod");
    wait_quota(&quotas, "q", "the pod delete released", |q| {
        used(q).get("pods").map(String::as_str) == Some("1")
    })
    .await;
    pods.create(&PostParams::default(), &pod("p3", &[], &[]))
        .await
        .expect("room after the delete");

    // Raising the limit: the controller copies it into status.hard.
    quotas
        .patch(
            "q",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"hard": {"pods": "5"}}})),
        )
        .await
        .expect("patch quota");
    let q = wait_quota(&quotas, "q", "status.hard follows the spec", |q| {
        hard(q).get("pods").map(String::as_str) == Some("5")
    })
    .await;
    assert_eq!(used(&q), map(&[("configmaps", "3"), ("pods", "2")]));
    pods.create(&PostParams::default(), &pod("p4", &[], &[]))
        .await
        .expect("room under the new limit");

    // A pod that finished uses no quota (the controller recounts on the status change).
    pods.patch_status(
        "p2",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"status": {"phase": "Succeeded"}})),
    )
    .await
    .expect("pod status");
    wait_quota(&quotas, "q", "the finished pod released", |q| {
        used(q).get("pods").map(String::as_str) == Some("2")
    })
    .await;

    // A limit taken out of the spec leaves the status, and stops limiting.
    quotas
        .patch(
            "q",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"hard": {"configmaps": null}}})),
        )
        .await
        .expect("patch quota");
    let q = wait_quota(&quotas, "q", "configmaps no longer limited", |q| {
        hard(q) == map(&[("pods", "5")])
    })
    .await;
    assert_eq!(used(&q), map(&[("pods", "2")]));
    maps.create(&PostParams::default(), &config_map("free"))
        .await
        .expect("configmaps are not limited any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_quotas_need_requests_and_scopes_select_pods() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    namespace(&client, "compute").await;
    ok(server.kubectl(&[
        "create",
        "quota",
        "compute",
        "--hard=requests.cpu=1,limits.memory=1Gi",
        "-n",
        "compute",
    ]));
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "compute");
    wait_quota(&quotas, "compute", "status filled", |q| {
        used(q) == map(&[("limits.memory", "0"), ("requests.cpu", "0")])
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "compute");
    assert_forbidden(
        pods.create(&PostParams::default(), &pod("bare", &[], &[])).await,
        "pods \"bare\" is forbidden: failed quota: compute: must specify limits.memory for: web; requests.cpu for: web",
    );
    assert_forbidden(
        pods.create(
            &PostParams::default(),
            &pod("half", &[("cpu", "100m")], &[]),
        )
        .await,
        "pods \"half\" is forbidden: failed quota: compute: must specify limits.memory for: web",
    );
    let sized = |name: &str, cpu: &str| pod(name, &[("cpu", cpu)], &[("memory", "512Mi")]);
    pods.create(&PostParams::default(), &sized("a", "600m"))
        .await
        .expect("within quota");
    let q = quotas.get("compute").await.expect("get");
    assert_eq!(
        used(&q),
        map(&[("limits.memory", "512Mi"), ("requests.cpu", "600m")])
    );
    assert_forbidden(
        pods.create(&PostParams::default(), &sized("b", "600m")).await,
        "pods \"b\" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1",
    );
    pods.create(&PostParams::default(), &sized("c", "400m"))
        .await
        .expect("exactly at the limit");
    let q = quotas.get("compute").await.expect("get");
    assert_eq!(
        used(&q),
        map(&[("limits.memory", "1Gi"), ("requests.cpu", "1")])
    );
    pods.delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    wait_quota(&quotas, "compute", "the delete released", |q| {
        used(q) == map(&[("limits.memory", "512Mi"), ("requests.cpu", "400m")])
    })
    .await;

    // An in-place resize is charged the difference, and refused past the limit.
    let resize = |cpu: &str| {
        Patch::Strategic(serde_json::json!({"spec": {"containers": [
            {"name": "web", "resources": {"requests": {"cpu": cpu}}}
        ]}}))
    };
    assert_forbidden(
        pods.patch_subresource("resize", "c", &PatchParams::default(), &resize("1200m"))
            .await,
        "pods \"c\" is forbidden: exceeded quota: compute, requested: requests.cpu=800m, used: requests.cpu=400m, limited: requests.cpu=1",
    );
    pods.patch_subresource("resize", "c", &PatchParams::default(), &resize("900m"))
        .await
        .expect("resize within quota");
    let q = quotas.get("compute").await.expect("get");
    assert_eq!(
        used(&q),
        map(&[("limits.memory", "512Mi"), ("requests.cpu", "900m")])
    );

    // A BestEffort quota counts only pods without requests or limits.
    namespace(&client, "scoped").await;
    ok(server.kubectl(&[
        "create",
        "quota",
        "be",
        "--hard=pods=1",
        "--scopes=BestEffort",
        "-n",
        "scoped",
    ]));
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "scoped");
    wait_quota(&quotas, "be", "status filled", |q| {
        used(q) == map(&[("pods", "0")])
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "scoped");
    pods.create(&PostParams::default(), &pod("be1", &[], &[]))
        .await
        .expect("first best-effort pod");
    assert_forbidden(
        pods.create(&PostParams::default(), &pod("be2", &[], &[])).await,
        "pods \"be2\" is forbidden: exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1",
    );
    pods.create(&PostParams::default(), &sized("burstable", "100m"))
        .await
        .expect("not in the quota's scope");
    let q = quotas.get("be").await.expect("get");
    assert_eq!(used(&q), map(&[("pods", "1")]));
}

/// A kubectl table: the header's columns and each row's cells (split on 2+ spaces).
fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let split = |line: &str| -> Vec<String> {
        line.split("  ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut lines = text.lines();
    let header = lines.next().map(split).unwrap_or_default();
    (header, lines.map(split).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_never_exceed_the_quota() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    namespace(&client, "burst").await;
    ok(server.kubectl(&[
        "create",
        "quota",
        "q",
        "--hard=configmaps=10,count/secrets=0,count/leases.coordination.k8s.io=1",
        "-n",
        "burst",
    ]));
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "burst");
    let counts = |cms: &'static str, leases: &'static str| {
        map(&[
            ("configmaps", cms),
            ("count/leases.coordination.k8s.io", leases),
            ("count/secrets", "0"),
        ])
    };
    wait_quota(&quotas, "q", "status filled", |q| {
        used(q) == counts("1", "0")
    })
    .await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "burst");
    let results = futures::future::join_all((0..20).map(|i| {
        let maps = maps.clone();
        async move {
            maps.create(&PostParams::default(), &config_map(&format!("m{i}")))
                .await
        }
    }))
    .await;
    let admitted = results.iter().filter(|r| r.is_ok()).count();
    for r in results.into_iter().filter(|r| r.is_err()) {
        let s = api_err(r.expect_err("refused"));
        assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"), "{s:?}");
        assert!(s.message.contains("exceeded quota: q, requested: configmaps=1, used: configmaps=10, limited: configmaps=10"), "{s:?}");
    }
    assert_eq!(admitted, 9);
    let q = quotas.get("q").await.expect("get");
    assert_eq!(used(&q), counts("10", "0"));
    let stored = maps
        .list(&kube::api::ListParams::default())
        .await
        .expect("list");
    assert_eq!(stored.items.len(), 10);

    // Generic object counts, of any group: no secret may be created, one lease.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), "burst");
    assert_forbidden(
        secrets
            .create(&PostParams::default(), &k8s_openapi::api::core::v1::Secret {
                metadata: named("s"),
                ..Default::default()
            })
            .await,
        "secrets \"s\" is forbidden: exceeded quota: q, requested: count/secrets=1, used: count/secrets=0, limited: count/secrets=0",
    );
    use k8s_openapi::api::coordination::v1::Lease;
    let leases: Api<Lease> = Api::namespaced(client, "burst");
    let lease = |name: &str| Lease {
        metadata: named(name),
        ..Default::default()
    };
    leases
        .create(&PostParams::default(), &lease("l1"))
        .await
        .expect("first lease");
    assert_forbidden(
        leases.create(&PostParams::default(), &lease("l2")).await,
        "leases.coordination.k8s.io \"l2\" is forbidden: exceeded quota: q, requested: count/leases.coordination.k8s.io=1, used: count/leases.coordination.k8s.io=1, limited: count/leases.coordination.k8s.io=1",
    );
    leases
        .delete("l1", &DeleteParams::default())
        .await
        .expect("delete lease");
    wait_quota(&quotas, "q", "the lease delete released", |q| {
        used(q) == counts("10", "0")
    })
    .await;
    leases
        .create(&PostParams::default(), &lease("l2"))
        .await
        .expect("room after the delete");
}

/// Two API servers on one etcd charge the same quota: compare-and-swap on its status keeps
/// their concurrent creates within it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_etcd_share_a_quota() {
    use storage::etcd::testing::{TestEtcd, TestEtcdOptions};
    let etcd = TestEtcd::start_with(TestEtcdOptions::default())
        .await
        .unwrap_or_else(|e| panic!("etcd is required for this test: {e}"));
    let flag = format!("--etcd-servers={}", etcd.endpoint());
    let a = Server::start(&[&flag]).await;
    let b = Server::start(&[&flag]).await;
    let (ca, cb) = (a.client().await, b.client().await);
    namespace(&ca, "shared").await;
    ok(a.kubectl(&[
        "create",
        "quota",
        "q",
        "--hard=configmaps=6",
        "-n",
        "shared",
    ]));
    let quotas: Api<ResourceQuota> = Api::namespaced(cb.clone(), "shared");
    wait_quota(&quotas, "q", "status filled", |q| {
        used(q) == map(&[("configmaps", "1")])
    })
    .await;
    let creates = (0..12).map(|i| {
        let client = if i % 2 == 0 { ca.clone() } else { cb.clone() };
        async move {
            let maps: Api<ConfigMap> = Api::namespaced(client, "shared");
            maps.create(&PostParams::default(), &config_map(&format!("m{i}")))
                .await
        }
    });
    let results = futures::future::join_all(creates).await;
    // Each is admitted, refused (403), or lost its status write to the other server too
    // often (409, as upstream answers then); never is the quota exceeded.
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        let kube::Error::Api(s) = r else {
            panic!("expected an API error, got {r:?}");
        };
        assert!(s.code == 403 || s.code == 409, "{s:?}");
    }
    let admitted = results.iter().filter(|r| r.is_ok()).count();
    assert!((1..=5).contains(&admitted), "{admitted} admitted");
    // Filling the rest one at a time ends at the limit exactly.
    let maps: Api<ConfigMap> = Api::namespaced(ca, "shared");
    for i in admitted..5 {
        maps.create(&PostParams::default(), &config_map(&format!("n{i}")))
            .await
            .expect("room left");
    }
    assert_forbidden(
        maps.create(&PostParams::default(), &config_map("last")).await,
        "configmaps \"last\" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=6, limited: configmaps=6",
    );
    let stored = maps
        .list(&kube::api::ListParams::default())
        .await
        .expect("list");
    assert_eq!(stored.items.len(), 6);
    let q = quotas.get("q").await.expect("get");
    assert_eq!(used(&q), map(&[("configmaps", "6")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_count_node_ports_on_create_and_update() {
    use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
    let server = Server::start(&[]).await;
    let client = server.client().await;
    namespace(&client, "svc").await;
    ok(server.kubectl(&[
        "create",
        "quota",
        "q",
        "--hard=services=3,services.nodeports=1,services.loadbalancers=0",
        "-n",
        "svc",
    ]));
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "svc");
    wait_quota(&quotas, "q", "status filled", |q| !used(q).is_empty()).await;
    let services: Api<Service> = Api::namespaced(client, "svc");
    let service = |name: &str, kind: &str| Service {
        metadata: named(name),
        spec: Some(ServiceSpec {
            type_: Some(kind.to_string()),
            ports: Some(vec![ServicePort {
                port: 80,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    services
        .create(&PostParams::default(), &service("np1", "NodePort"))
        .await
        .expect("first node port");
    assert_forbidden(
        services
            .create(&PostParams::default(), &service("np2", "NodePort"))
            .await,
        "services \"np2\" is forbidden: exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1",
    );
    assert_forbidden(
        services
            .create(&PostParams::default(), &service("lb", "LoadBalancer"))
            .await,
        "services \"lb\" is forbidden: exceeded quota: q, requested: services.loadbalancers=1,services.nodeports=1, used: services.loadbalancers=0,services.nodeports=1, limited: services.loadbalancers=0,services.nodeports=1",
    );
    services
        .create(&PostParams::default(), &service("plain", "ClusterIP"))
        .await
        .expect("a ClusterIP service");
    // An update that turns it into a NodePort service is charged the port.
    assert_forbidden(
        services
            .patch(
                "plain",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"type": "NodePort"}})),
            )
            .await,
        "services \"plain\" is forbidden: exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1",
    );
    let q = quotas.get("q").await.expect("get");
    assert_eq!(
        used(&q),
        map(&[
            ("services", "2"),
            ("services.loadbalancers", "0"),
            ("services.nodeports", "1")
        ])
    );
    // Turning the NodePort service into a ClusterIP one releases its port.
    services
        .patch(
            "np1",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"type": "ClusterIP"}})),
        )
        .await
        .expect("to ClusterIP");
    wait_quota(&quotas, "q", "the node port released", |q| {
        used(q).get("services.nodeports").map(String::as_str) == Some("0")
    })
    .await;
    services
        .patch(
            "plain",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"type": "NodePort"}})),
        )
        .await
        .expect("the released port is free for another service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priority_class_scope_selectors_pick_their_pods() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    namespace(&client, "prio").await;
    ok(server.kubectl(&["create", "priorityclass", "high", "--value=1000"]));
    ok(server.kubectl_stdin(
        &["apply", "-f", "-"],
        r#"apiVersion: v1
kind: ResourceQuota
metadata:
  name: high
  namespace: prio
spec:
  hard:
    pods: "1"
  scopeSelector:
    matchExpressions:
    - scopeName: PriorityClass
      operator: In
      values: ["high"]
"#,
    ));
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "prio");
    wait_quota(&quotas, "high", "status filled", |q| {
        used(q) == map(&[("pods", "0")])
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(client, "prio");
    let with_class = |name: &str| {
        let mut p = pod(name, &[], &[]);
        if let Some(spec) = p.spec.as_mut() {
            spec.priority_class_name = Some("high".to_string());
        }
        p
    };
    pods.create(&PostParams::default(), &with_class("h1"))
        .await
        .expect("first high-priority pod");
    assert_forbidden(
        pods.create(&PostParams::default(), &with_class("h2")).await,
        "pods \"h2\" is forbidden: exceeded quota: high, requested: pods=1, used: pods=1, limited: pods=1",
    );
    for name in ["plain1", "plain2"] {
        pods.create(&PostParams::default(), &pod(name, &[], &[]))
            .await
            .expect("pods of no class are out of scope");
    }
    let q = quotas.get("high").await.expect("get");
    assert_eq!(used(&q), map(&[("pods", "1")]));
}
