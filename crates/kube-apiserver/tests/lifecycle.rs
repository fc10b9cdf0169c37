//! Process life cycle: restart keeps data, PKI and revisions; kill -9 loses no acknowledged
//! write; SIGTERM turns readyz red, keeps serving for the delay, then exits cleanly;
//! compaction makes old resource versions 410 Gone.

mod common;

use std::time::{Duration, Instant};

use common::{free_port, get_json, get_status, send_json, Server};
use serde_json::json;

async fn create_cm(c: &kube::Client, name: &str) -> i64 {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": name}});
    let (s, v) = send_json(
        c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        &body,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_and_kill9_keep_everything() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Server::start_in(dir.path(), port, &[]).await;
    let c = server.client().await;
    let ca = std::fs::read(dir.path().join("pki/ca.crt")).unwrap();
    let rv = create_cm(&c, "before-restart").await;

    // Graceful restart.
    server.signal("TERM");
    assert_eq!(
        server.wait_exit(Duration::from_secs(30)),
        Some(0),
        "{}",
        server.log()
    );
    let mut server = Server::start_in(dir.path(), port, &[]).await;
    let c = server.client().await;
    assert_eq!(
        std::fs::read(dir.path().join("pki/ca.crt")).unwrap(),
        ca,
        "CA must be reused"
    );
    get_json(
        &c,
        "/api/v1/namespaces/default/configmaps/before-restart",
        200,
    )
    .await;
    let rv2 = create_cm(&c, "after-restart").await;
    assert!(
        rv2 > rv,
        "revisions must keep increasing across restarts ({rv2} <= {rv})"
    );

    // Acknowledged writes survive kill -9.
    let mut names = Vec::new();
    for i in 0..50 {
        let n = format!("acked-{i}");
        create_cm(&c, &n).await;
        names.push(n);
    }
    server.kill();
    let server = Server::start_in(dir.path(), port, &[]).await;
    let c = server.client().await;
    let list = get_json(&c, "/api/v1/namespaces/default/configmaps", 200).await;
    let have: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    for n in &names {
        assert!(have.contains(&n.as_str()), "{n} lost after kill -9");
    }
    let rv3 = create_cm(&c, "after-kill").await;
    assert!(rv3 > rv2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_gracefully() {
    // The delay leaves room for the checks below on a loaded machine.
    let mut server = Server::start(&["--shutdown-delay-duration=4s"]).await;
    let c = server.client().await;
    let anon = server.anonymous_client().await.unwrap();
    // A watch open at shutdown is ended cleanly by the server.
    let watch = tokio::spawn({
        let c = c.clone();
        async move { get_status(&c, "/api/v1/namespaces?watch=true").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let start = Instant::now();
    server.signal("TERM");
    // readyz goes red at once while the server keeps serving during the delay.
    let mut red = false;
    while start.elapsed() < Duration::from_millis(3000) {
        let (s, _) = get_status(&anon, "/readyz").await.unwrap();
        if s == 500 {
            red = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(red, "readyz did not go red after SIGTERM");
    let (s, text) = get_status(&anon, "/readyz?verbose").await.unwrap();
    assert_eq!(s, 500);
    assert!(text.contains("[-]shutdown failed"), "{text}");
    assert_eq!(get_status(&c, "/api/v1/namespaces").await.unwrap().0, 200);
    assert_eq!(get_status(&anon, "/livez").await.unwrap().0, 200);

    let code = server.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{}", server.log());
    assert!(
        start.elapsed() >= Duration::from_secs(4),
        "exited before the shutdown delay"
    );
    let watched = tokio::time::timeout(Duration::from_secs(5), watch)
        .await
        .expect("watch ended")
        .unwrap();
    let (s, body) = watched.expect("watch response");
    assert_eq!(s, 200);
    assert!(body.contains("\"type\":\"ADDED\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_expires_old_versions() {
    let server = Server::start(&["--etcd-compaction-interval=1s", "--watch-cache=false"]).await;
    let c = server.client().await;
    let first = create_cm(&c, "c0").await;
    for i in 1..5 {
        create_cm(&c, &format!("c{i}")).await;
    }
    // Two compaction ticks (about 2 s) after the writes, the first revision is gone. Poll
    // rather than sleep a fixed time: a loaded machine delays the ticks.
    let base = "/api/v1/namespaces/default/configmaps";
    let exact = format!("{base}?resourceVersion={first}&resourceVersionMatch=Exact");
    let deadline = Instant::now() + Duration::from_secs(20);
    let v = loop {
        let (s, body) = get_status(&c, &exact).await.expect("request");
        if s == 410 {
            break serde_json::from_str::<serde_json::Value>(&body).expect("Status");
        }
        assert_eq!(s, 200, "{body}");
        assert!(
            Instant::now() < deadline,
            "revision {first} never compacted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(v["reason"], "Expired");
    let (s, body) = get_status(
        &c,
        &format!("{base}?watch=true&resourceVersion={first}&timeoutSeconds=2"),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    let ev: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    // Current data is intact.
    let list = get_json(&c, base, 200).await;
    let ours = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["metadata"]["name"] != "kube-root-ca.crt")
        .count();
    assert_eq!(ours, 5);
}
