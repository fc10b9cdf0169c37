//! core/v1 Services end to end: cluster IPs and node ports reserved around writes
//! (released on delete and on failed or dry-run writes), dual-stack, the `kubernetes`
//! Service with its Endpoints and EndpointSlice, kubectl, and on real etcd two servers
//! that never hand out one address twice and a repair after a restart.

mod common;

use std::collections::HashSet;

use common::{get_json, ok, send_json, Server};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{json, Value};
use storage::etcd::testing::{TestEtcd, TestEtcdOptions};
use storage::etcd::EtcdStore;
use storage::Storage;

const SVCS: &str = "/api/v1/namespaces/default/services";

fn svc(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

async fn post(c: &kube::Client, path: &str, body: Value) -> (u16, Value) {
    send_json(c, "POST", path, "application/json", &body).await
}

fn cause(status: &Value) -> String {
    status["details"]["causes"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn address_names(c: &kube::Client) -> Vec<String> {
    let list = get_json(c, "/apis/networking.k8s.io/v1/ipaddresses", 200).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_ips_are_reserved_released_and_never_leaked() {
    let server = Server::start(&["--service-cluster-ip-range=10.0.0.0/24"]).await;
    let c = server.client().await;
    let api: Api<Service> = Api::namespaced(c.clone(), "default");
    let port = json!([{"port": 80}]);

    // A requested IP is taken; a second request for it is refused with upstream's words.
    let (s, a) = post(
        &c,
        SVCS,
        svc("a", json!({"ports": port, "clusterIP": "10.0.0.50"})),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["spec"]["clusterIPs"], json!(["10.0.0.50"]));
    assert_eq!(a["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(a["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(a["spec"]["ports"][0]["targetPort"], 80);
    assert!(address_names(&c).await.contains(&"10.0.0.50".to_string()));
    let (s, b) = post(
        &c,
        SVCS,
        svc("b", json!({"ports": port, "clusterIP": "10.0.0.50"})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["details"]["causes"][0]["field"], "spec.clusterIPs");
    assert_eq!(cause(&b), "Invalid value: [\"10.0.0.50\"]: failed to allocate IP 10.0.0.50: provided IP is already allocated");
    let (s, b) = post(
        &c,
        SVCS,
        svc("b", json!({"ports": port, "clusterIP": "10.9.0.5"})),
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        cause(&b).ends_with(
            "failed to allocate IP 10.9.0.5: the provided network does not match the current range"
        ),
        "{b}"
    );

    // Deleting releases: the address is reused at once.
    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(!address_names(&c).await.contains(&"10.0.0.50".to_string()));
    let (s, b) = post(
        &c,
        SVCS,
        svc("b", json!({"ports": port, "clusterIP": "10.0.0.50"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");

    // A create that fails validation after the reservation gives the address back.
    let (s, bad) = post(
        &c,
        SVCS,
        svc(
            "bad",
            json!({"ports": [{"port": 80, "name": "NotALabel"}], "clusterIP": "10.0.0.60"}),
        ),
    )
    .await;
    assert_eq!(s, 422, "{bad}");
    assert_eq!(bad["details"]["causes"][0]["field"], "spec.ports[0].name");
    assert!(!address_names(&c).await.contains(&"10.0.0.60".to_string()));
    let (s, _) = post(
        &c,
        SVCS,
        svc("good", json!({"ports": port, "clusterIP": "10.0.0.60"})),
    )
    .await;
    assert_eq!(s, 201);

    // A dry run reserves nothing and reports what upstream's dry-run allocator reports.
    let before = address_names(&c).await;
    let (s, dry) = post(
        &c,
        &format!("{SVCS}?dryRun=All"),
        svc("dry", json!({"type": "NodePort", "ports": port})),
    )
    .await;
    assert_eq!(s, 201, "{dry}");
    assert_eq!(dry["spec"]["clusterIP"], "10.0.0.0");
    assert_eq!(dry["spec"]["ports"][0]["nodePort"], 32769);
    assert_eq!(address_names(&c).await, before);
    assert_eq!(get_json(&c, &format!("{SVCS}/dry"), 404).await["code"], 404);

    // An update that omits the allocated IP keeps it; changing it is refused.
    let mut current = api.get("b").await.unwrap();
    current.spec.as_mut().unwrap().cluster_ip = None;
    current.spec.as_mut().unwrap().cluster_ips = None;
    let kept = api
        .replace("b", &PostParams::default(), &current)
        .await
        .unwrap();
    assert_eq!(kept.spec.unwrap().cluster_ip.as_deref(), Some("10.0.0.50"));
    let (s, changed) = send_json(
        &c,
        "PATCH",
        &format!("{SVCS}/b"),
        "application/merge-patch+json",
        &json!({"spec": {"clusterIP": "10.0.0.70", "clusterIPs": ["10.0.0.70"]}}),
    )
    .await;
    assert_eq!(s, 422, "{changed}");
    assert!(
        cause(&changed).ends_with("may not change once set"),
        "{changed}"
    );
    assert!(!address_names(&c).await.contains(&"10.0.0.70".to_string()));

    // ClusterIP to ExternalName releases the address on success; back allocates one.
    let (s, ext) = send_json(
        &c,
        "PATCH",
        &format!("{SVCS}/b"),
        "application/merge-patch+json",
        &json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}}),
    )
    .await;
    assert_eq!(s, 200, "{ext}");
    assert!(ext["spec"].get("clusterIP").is_none(), "{ext}");
    assert!(!address_names(&c).await.contains(&"10.0.0.50".to_string()));

    // Headless services get no address.
    let (s, h) = post(
        &c,
        SVCS,
        svc(
            "headless",
            json!({"clusterIP": "None", "selector": {"a": "b"}}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{h}");
    assert_eq!(h["spec"]["clusterIPs"], json!(["None"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_ports_come_from_the_range_and_conflict() {
    let server = Server::start(&["--service-node-port-range=30100-30199"]).await;
    let c = server.client().await;
    let np = |name: &str, node_port: u16| {
        svc(
            name,
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": node_port}]}),
        )
    };
    let (s, a) = post(&c, SVCS, np("a", 30150)).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["spec"]["externalTrafficPolicy"], "Cluster");
    let (s, b) = post(&c, SVCS, np("b", 30150)).await;
    assert_eq!(s, 422);
    assert_eq!(b["details"]["causes"][0]["field"], "spec.ports[0].nodePort");
    assert_eq!(
        cause(&b),
        "Invalid value: 30150: provided port is already allocated"
    );
    let (s, b) = post(&c, SVCS, np("b", 30000)).await;
    assert_eq!(s, 422);
    assert_eq!(cause(&b), "Invalid value: 30000: provided port is not in the valid range. The range of valid ports is 30100-30199");
    let (s, d) = post(
        &c,
        SVCS,
        svc(
            "dyn",
            json!({"type": "NodePort", "ports": [{"port": 80}, {"port": 81, "name": "x"}]}),
        ),
    )
    .await;
    assert_eq!(s, 422, "a second port needs a name: {d}");
    let (s, d) = post(&c, SVCS, svc("dyn", json!({"type": "NodePort", "ports": [{"port": 80, "name": "w"}, {"port": 81, "name": "x"}]}))).await;
    assert_eq!(s, 201, "{d}");
    let ports: Vec<u64> = d["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nodePort"].as_u64().unwrap())
        .collect();
    assert!(
        ports.iter().all(|p| (30100..=30199).contains(p))
            && ports[0] != ports[1]
            && !ports.contains(&30150),
        "{ports:?}"
    );

    // Turning `a` into a ClusterIP service frees its port for `b`.
    let (s, a) = send_json(
        &c,
        "PATCH",
        &format!("{SVCS}/a"),
        "application/strategic-merge-patch+json",
        &json!({"spec": {"type": "ClusterIP", "externalTrafficPolicy": null}}),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert!(a["spec"]["ports"][0].get("nodePort").is_none(), "{a}");
    let (s, b) = post(&c, SVCS, np("b", 30150)).await;
    assert_eq!(s, 201, "{b}");
    // A ClusterIP service may not name a node port.
    let (s, e) = post(
        &c,
        SVCS,
        svc("e", json!({"ports": [{"port": 80, "nodePort": 30160}]})),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(
        cause(&e),
        "Forbidden: may not be used when `type` is 'ClusterIP'"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_stack_services_get_one_address_per_family() {
    let server = Server::start(&["--service-cluster-ip-range=10.0.0.0/24,fd00:10:96::/112"]).await;
    let c = server.client().await;
    let (s, d) = post(
        &c,
        SVCS,
        svc(
            "dual",
            json!({"ports": [{"port": 80}], "ipFamilyPolicy": "RequireDualStack"}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));
    let ips = d["spec"]["clusterIPs"].as_array().unwrap();
    assert_eq!(ips.len(), 2);
    assert!(
        ips[0].as_str().unwrap().starts_with("10.0.0.")
            && ips[1].as_str().unwrap().starts_with("fd00:10:96::"),
        "{ips:?}"
    );
    let names = address_names(&c).await;
    assert!(ips
        .iter()
        .all(|ip| names.contains(&ip.as_str().unwrap().to_string())));
    let (s, v6) = post(
        &c,
        SVCS,
        svc(
            "v6",
            json!({"ports": [{"port": 80}], "ipFamilies": ["IPv6"]}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v6}");
    assert!(v6["spec"]["clusterIP"].as_str().unwrap().contains(':'));
    let cidr = get_json(
        &c,
        "/apis/networking.k8s.io/v1/servicecidrs/kubernetes",
        200,
    )
    .await;
    assert_eq!(
        cidr["spec"]["cidrs"],
        json!(["10.0.0.0/24", "fd00:10:96::/112"])
    );

    let single = Server::start(&[]).await;
    let sc = single.client().await;
    let (s, e) = post(
        &sc,
        SVCS,
        svc(
            "dual",
            json!({"ports": [{"port": 80}], "ipFamilyPolicy": "RequireDualStack"}),
        ),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(cause(&e), "Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubernetes_service_and_kubectl() {
    let server = Server::start(&["--service-cluster-ip-range=10.96.0.0/16"]).await;
    let c = server.client().await;
    let k = get_json(&c, &format!("{SVCS}/kubernetes"), 200).await;
    assert_eq!(k["spec"]["clusterIP"], "10.96.0.1");
    assert_eq!(k["spec"]["ports"][0]["name"], "https");
    assert_eq!(k["spec"]["ports"][0]["port"], 443);
    assert_eq!(k["spec"]["ports"][0]["targetPort"], server.port);
    assert_eq!(k["metadata"]["labels"]["component"], "apiserver");
    let ep = get_json(&c, "/api/v1/namespaces/default/endpoints/kubernetes", 200).await;
    let ip = ep["subsets"][0]["addresses"][0]["ip"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], server.port);
    let slice = get_json(
        &c,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes",
        200,
    )
    .await;
    assert_eq!(slice["endpoints"][0]["addresses"][0], ip.as_str());
    assert_eq!(slice["ports"][0]["port"], server.port);
    assert_eq!(
        slice["metadata"]["labels"]["kubernetes.io/service-name"],
        "kubernetes"
    );
    assert!(address_names(&c).await.contains(&"10.96.0.1".to_string()));

    ok(server.kubectl(&["create", "service", "clusterip", "web", "--tcp=80:8080"]));
    ok(server.kubectl(&["create", "service", "nodeport", "np", "--tcp=81:8081"]));
    let out = ok(server.kubectl(&["get", "svc", "-o", "wide"]));
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR"
        ]
    );
    let web = out.lines().find(|l| l.starts_with("web ")).expect(&out);
    let cells: Vec<&str> = web.split_whitespace().collect();
    assert_eq!(
        (cells[1], cells[3], cells[4], cells[6]),
        ("ClusterIP", "<none>", "80/TCP", "app=web"),
        "{out}"
    );
    assert!(cells[2].starts_with("10.96."), "{out}");
    let np = out.lines().find(|l| l.starts_with("np ")).expect(&out);
    assert!(np.contains("81:3") && np.contains("NodePort"), "{out}");
    let names = ok(server.kubectl(&[
        "get",
        "svc",
        "--field-selector",
        "spec.type=NodePort",
        "-o",
        "name",
    ]));
    assert_eq!(names.trim(), "service/np");
    let names = ok(server.kubectl(&[
        "get",
        "svc",
        "--field-selector",
        "spec.clusterIP=10.96.0.1",
        "-o",
        "name",
    ]));
    assert_eq!(names.trim(), "service/kubernetes");
    let all = ok(server.kubectl(&["get", "all", "-o", "name"]));
    assert!(all.contains("service/web"), "{all}");
    let explained = ok(server.kubectl(&["explain", "service.spec.type"]));
    assert!(
        explained.contains("ClusterIP (default), NodePort, LoadBalancer or ExternalName."),
        "{explained}"
    );
    let explained = ok(server.kubectl(&["explain", "svc.spec.ports"]));
    assert!(explained.contains("targetPort"), "{explained}");
    assert!(
        explained.contains("The ports the Service exposes"),
        "{explained}"
    );
}

async fn etcd() -> TestEtcd {
    TestEtcd::start_with(TestEtcdOptions::default())
        .await
        .unwrap_or_else(|e| panic!("etcd is required for these tests: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_etcd_never_allocate_twice() {
    let etcd = etcd().await;
    let flags = [
        format!("--etcd-servers={}", etcd.endpoint()),
        "--service-cluster-ip-range=10.0.0.0/27".into(),
        "--service-node-port-range=30000-30031".into(),
    ];
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let a = Server::start(&flags).await;
    let b = Server::start(&flags).await;
    let (ca, cb) = (a.client().await, b.client().await);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let c = if i % 2 == 0 { ca.clone() } else { cb.clone() };
        tasks.push(tokio::spawn(async move {
            post(
                &c,
                SVCS,
                svc(
                    &format!("s{i}"),
                    json!({"type": "NodePort", "ports": [{"port": 80}]}),
                ),
            )
            .await
        }));
    }
    let mut ips = HashSet::new();
    let mut ports = HashSet::new();
    for t in tasks {
        let (s, v) = t.await.unwrap();
        assert_eq!(s, 201, "{v}");
        assert!(
            ips.insert(v["spec"]["clusterIP"].as_str().unwrap().to_string()),
            "IP twice: {v}"
        );
        assert!(
            ports.insert(v["spec"]["ports"][0]["nodePort"].as_u64().unwrap()),
            "port twice: {v}"
        );
    }
    // Both servers see every allocation: 24 services plus `kubernetes`.
    assert_eq!(address_names(&cb).await.len(), 25);
    let raw = EtcdStore::connect(etcd.config()).await.unwrap();
    let bitmap = raw
        .get("/registry/ranges/servicenodeports")
        .await
        .unwrap()
        .expect("bitmap in etcd");
    // Stored as upstream stores it: protobuf in the `k8s\0` envelope.
    let stored = &bitmap.value;
    assert!(stored.starts_with(b"k8s\0"), "{stored:?}");
    let has = |needle: &[u8]| stored.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"RangeAllocation") && has(b"30000-30031"), "{stored:?}");
    assert!(raw
        .get("/registry/ipaddresses/10.0.0.1")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_repairs_the_allocations() {
    let etcd = etcd().await;
    let flag = format!("--etcd-servers={}", etcd.endpoint());
    let mut server = Server::start(&[&flag]).await;
    let c = server.client().await;
    let (s, v) = post(&c, SVCS, svc("kept", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30500}], "clusterIP": "10.0.0.77"}))).await;
    assert_eq!(s, 201, "{v}");
    server.kill();

    // Lose the allocation records behind the server's back, and leave an orphaned address.
    let raw = EtcdStore::connect(etcd.config()).await.unwrap();
    raw.delete("/registry/ipaddresses/10.0.0.77", None)
        .await
        .unwrap();
    raw.delete("/registry/ranges/servicenodeports", None)
        .await
        .unwrap();
    let orphan = json!({"apiVersion": "networking.k8s.io/v1", "kind": "IPAddress",
        "metadata": {"name": "10.0.0.88", "uid": "u", "creationTimestamp": "2020-01-01T00:00:00Z",
            "labels": {"ipaddress.kubernetes.io/ip-family": "IPv4", "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io"}},
        "spec": {"parentRef": {"resource": "services", "namespace": "default", "name": "gone"}}});
    raw.create(
        "/registry/ipaddresses/10.0.0.88",
        serde_json::to_vec(&orphan).unwrap().into(),
    )
    .await
    .unwrap();

    let server = Server::start_in(&server.data_dir.clone(), common::free_port(), &[&flag]).await;
    let c = server.client().await;
    let names = address_names(&c).await;
    assert!(names.contains(&"10.0.0.77".to_string()), "{names:?}");
    assert!(!names.contains(&"10.0.0.88".to_string()), "{names:?}");
    let (s, v) = post(
        &c,
        SVCS,
        svc(
            "again",
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30500}]}),
        ),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        cause(&v),
        "Invalid value: 30500: provided port is already allocated"
    );
    let (s, v) = post(
        &c,
        SVCS,
        svc(
            "again",
            json!({"ports": [{"port": 80}], "clusterIP": "10.0.0.88"}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_service_answers_with_it_and_removes_its_endpoints() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let (s, _) = post(&c, SVCS, svc("gone", json!({"ports": [{"port": 80}]}))).await;
    assert_eq!(s, 201);
    let ep = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "gone"},
        "subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]});
    let (s, _) = post(&c, "/api/v1/namespaces/default/endpoints", ep).await;
    assert_eq!(s, 201);
    let (s, deleted) = send_json(
        &c,
        "DELETE",
        &format!("{SVCS}/gone"),
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{deleted}");
    assert_eq!(deleted["kind"], "Service", "{deleted}");
    get_json(&c, "/api/v1/namespaces/default/endpoints/gone", 404).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_reconciler_lists_every_server_on_one_etcd() {
    let etcd = etcd().await;
    let flag = format!("--etcd-servers={}", etcd.endpoint());
    let a = Server::start(&[&flag, "--advertise-address=192.0.2.10"]).await;
    let b = Server::start(&[&flag, "--advertise-address=192.0.2.11"]).await;
    let c = a.client().await;
    // B's start-up reconcile saw A's lease; A catches up within its interval.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let ep = get_json(&c, "/api/v1/namespaces/default/endpoints/kubernetes", 200).await;
        let ips: Vec<&str> = ep["subsets"][0]["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["ip"].as_str().unwrap())
            .collect();
        if ips == ["192.0.2.10", "192.0.2.11"] {
            let slice = get_json(
                &c,
                "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes",
                200,
            )
            .await;
            assert_eq!(slice["endpoints"].as_array().unwrap().len(), 2, "{slice}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "endpoints: {ep}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A server that stops gives its lease up; the other drops it within its interval.
    let mut b = b;
    b.signal("TERM");
    b.wait_exit(std::time::Duration::from_secs(20));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let ep = get_json(&c, "/api/v1/namespaces/default/endpoints/kubernetes", 200).await;
        if ep["subsets"][0]["addresses"].as_array().unwrap().len() == 1 {
            assert_eq!(ep["subsets"][0]["addresses"][0]["ip"], "192.0.2.10");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "endpoints: {ep}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_count_reconciler_adds_each_server_up_to_the_count() {
    let etcd = etcd().await;
    let flag = format!("--etcd-servers={}", etcd.endpoint());
    let counted = |ip: &str, count: &str| {
        vec![
            flag.clone(),
            format!("--advertise-address={ip}"),
            "--endpoint-reconciler-type=master-count".to_string(),
            format!("--apiserver-count={count}"),
        ]
    };
    let args = |v: &[String]| v.iter().map(String::as_str).collect::<Vec<_>>().join(" ");
    let a_flags = counted("192.0.2.20", "2");
    let a = Server::start(&a_flags.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let c = a.client().await;
    let ips = |ep: &Value| -> Vec<String> {
        ep["subsets"][0]["addresses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|a| a["ip"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let ep = get_json(&c, "/api/v1/namespaces/default/endpoints/kubernetes", 200).await;
    assert_eq!(ips(&ep), ["192.0.2.20"], "{}: {ep}", args(&a_flags));
    // A second server adds itself at start-up: two of two.
    let b_flags = counted("192.0.2.21", "2");
    let _b = Server::start(&b_flags.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let ep = get_json(&c, "/api/v1/namespaces/default/endpoints/kubernetes", 200).await;
    assert_eq!(ips(&ep), ["192.0.2.20", "192.0.2.21"], "{ep}");
    // (Trimming a longer list to the count is unit-tested in `kubernetes_service`: with
    // servers disagreeing on the count, the list changes at each one's interval.)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_expose_a_deployment() {
    let server = Server::start(&[]).await;
    ok(server.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--port=80",
    ]));
    let out = ok(server.kubectl(&[
        "expose",
        "deployment",
        "web",
        "--port=8080",
        "--target-port=80",
    ]));
    assert!(out.contains("service/web exposed"), "{out}");
    let client = server.client().await;
    let svc = get_json(&client, "/api/v1/namespaces/default/services/web", 200).await;
    assert_eq!(svc["spec"]["selector"], json!({"app": "web"}));
    assert_eq!(svc["spec"]["ports"][0]["port"], json!(8080));
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], json!(80));
    assert!(svc["spec"]["clusterIP"]
        .as_str()
        .is_some_and(|ip| !ip.is_empty()));
    let out = ok(server.kubectl(&["get", "svc", "web", "-o", "wide", "--no-headers"]));
    assert!(out.contains("8080/TCP") && out.contains("app=web"), "{out}");
}
