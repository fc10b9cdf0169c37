//! One stored resource served at several versions: autoscaling/v1 and autoscaling/v2
//! HorizontalPodAutoscalers over one v2 storage, core/v1 and events.k8s.io/v1 Events over
//! one `/registry/events`. Typed kube-rs clients of each version see the writes of the
//! other, a watch on one version sees writes through the other, discovery publishes one
//! storage version hash for both, and `--runtime-config` can turn either version off.

mod common;

use std::time::Duration;

use common::{api_err, causes, get_json, get_status, ok, send_json, Server};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::autoscaling::{v1 as asv1, v2 as asv2};
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::api::events::v1 as evv1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::json;

fn v1_hpa(name: &str, cpu: Option<i32>, max: i32) -> asv1::HorizontalPodAutoscaler {
    asv1::HorizontalPodAutoscaler {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        spec: asv1::HorizontalPodAutoscalerSpec {
            scale_target_ref: asv1::CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: "web".into(),
            },
            max_replicas: max,
            target_cpu_utilization_percentage: cpu,
            ..Default::default()
        },
        status: Some(asv1::HorizontalPodAutoscalerStatus {
            current_replicas: 9,
            desired_replicas: 9,
            ..Default::default()
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hpas_are_served_at_v1_and_v2_from_one_storage() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let v1: Api<asv1::HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "default");
    let v2: Api<asv2::HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "default");

    // A v1 create: v1's defaults, the status a client sends dropped, stored as v2.
    let created = v1
        .create(&PostParams::default(), &v1_hpa("web", Some(60), 5))
        .await
        .unwrap();
    let spec = created.spec.clone();
    assert_eq!(spec.min_replicas, Some(1));
    assert_eq!(spec.target_cpu_utilization_percentage, Some(60));
    let status = created.status.clone().unwrap();
    assert_eq!((status.current_replicas, status.desired_replicas), (0, 0));
    assert!(created.metadata.annotations.is_none());

    let read = v2.get("web").await.unwrap();
    let metrics = read.spec.clone().metrics.unwrap();
    assert_eq!(metrics.len(), 1);
    let resource = metrics[0].resource.clone().unwrap();
    assert_eq!(
        (resource.name.as_str(), resource.target.average_utilization),
        ("cpu", Some(60))
    );
    assert_eq!(
        read.metadata.resource_version,
        created.metadata.resource_version
    );

    // A v2 update adds what v1 cannot say; v1 carries it in annotations...
    let mut two = read.clone();
    let spec = &mut two.spec;
    spec.metrics.as_mut().unwrap().insert(
        0,
        asv2::MetricSpec {
            type_: "Pods".into(),
            pods: Some(asv2::PodsMetricSource {
                metric: asv2::MetricIdentifier {
                    name: "qps".into(),
                    selector: None,
                },
                target: asv2::MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity(
                        "10".into(),
                    )),
                    ..Default::default()
                },
            }),
            ..Default::default()
        },
    );
    spec.behavior = Some(asv2::HorizontalPodAutoscalerBehavior {
        scale_down: Some(asv2::HPAScalingRules {
            stabilization_window_seconds: Some(60),
            ..Default::default()
        }),
        ..Default::default()
    });
    let updated = v2
        .replace("web", &PostParams::default(), &two)
        .await
        .unwrap();
    let behavior = updated.spec.clone().behavior.unwrap();
    // v2's defaults filled the rules of the behavior.
    assert_eq!(
        behavior.scale_up.unwrap().select_policy.as_deref(),
        Some("Max")
    );
    let seen = v1.get("web").await.unwrap();
    let annotations = seen.metadata.annotations.clone().unwrap_or_default();
    assert!(
        annotations["autoscaling.alpha.kubernetes.io/metrics"].contains("\"qps\""),
        "{annotations:?}"
    );
    assert!(annotations.contains_key("autoscaling.alpha.kubernetes.io/behavior"));
    assert_eq!(seen.spec.target_cpu_utilization_percentage, Some(60));

    // ...so a v1 client that writes the object back loses nothing.
    let mut back = seen.clone();
    back.spec.max_replicas = 8;
    v1.replace("web", &PostParams::default(), &back)
        .await
        .unwrap();
    let after = v2.get("web").await.unwrap();
    let spec = after.spec;
    assert_eq!(spec.max_replicas, 8);
    assert_eq!(spec.metrics.unwrap().len(), 2);
    assert_eq!(
        spec.behavior
            .unwrap()
            .scale_down
            .unwrap()
            .stabilization_window_seconds,
        Some(60)
    );
    assert!(after.metadata.annotations.is_none());

    // A patch is applied in the request's version.
    let patched = v1
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"targetCPUUtilizationPercentage": 75}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.target_cpu_utilization_percentage, Some(75));
    let metrics = v2.get("web").await.unwrap().spec.metrics.unwrap();
    assert_eq!(
        metrics[1]
            .resource
            .as_ref()
            .unwrap()
            .target
            .average_utilization,
        Some(75)
    );

    // Status through v1's status subresource lands in v2's status.
    let (code, body) = send_json(
        &client,
        "PATCH",
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web/status",
        "application/merge-patch+json",
        &json!({"status": {"currentReplicas": 3, "desiredReplicas": 4, "currentCPUUtilizationPercentage": 41}}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let status = v2.get_status("web").await.unwrap().status.unwrap();
    assert_eq!(
        (status.current_replicas, status.desired_replicas),
        (Some(3), 4)
    );

    // Validation is the hub's, so its field paths name v2's fields, as upstream's do.
    let err = api_err(
        v1.create(&PostParams::default(), &v1_hpa("bad", Some(0), 0))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        causes(&err),
        [
            "spec.maxReplicas: Invalid value: 0: must be greater than 0",
            "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`",
            "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
        ]
    );
    assert_eq!(err.details.unwrap().group, "autoscaling");

    // Lists at either version; a body of the other version is refused.
    assert_eq!(
        v1.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );
    assert_eq!(
        v2.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );
    let (code, body) = send_json(
        &client,
        "POST",
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
        "application/json",
        &json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"}, "spec": {"maxReplicas": 1, "scaleTargetRef": {"kind": "D", "name": "d"}}}),
    )
    .await;
    assert_eq!(code, 400, "{body}");

    // kubectl prints upstream's columns, whichever version it reads.
    let out = ok(server.kubectl(&["get", "hpa"]));
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ]
    );
    assert!(out.contains("Deployment/web"), "{out}");
    // Current values pair with targets by position, as upstream prints them: the one
    // current metric (CPU, from v1's status) sits beside the first target (pods).
    assert!(out.contains("<unknown>/10, cpu: <unknown>/75%"), "{out}");
    let out = ok(server.kubectl(&["get", "horizontalpodautoscalers.v1.autoscaling"]));
    assert!(out.contains("<unknown>/10, cpu: <unknown>/75%"), "{out}");
    let explain = ok(server.kubectl(&["explain", "hpa.spec", "--api-version=autoscaling/v1"]));
    assert!(
        explain.contains("targetCPUUtilizationPercentage"),
        "{explain}"
    );
    assert!(explain.contains("VERSION:    v1"), "{explain}");
    assert!(
        explain.contains("The average CPU use, as a percentage of requests, to aim for."),
        "{explain}"
    );
    let explain = ok(server.kubectl(&["explain", "hpa.spec.behavior.scaleUp"]));
    assert!(explain.contains("VERSION:    v2"), "{explain}");
    assert!(explain.contains("Rules for scaling up"), "{explain}");
    assert!(explain.contains("stabilizationWindowSeconds"), "{explain}");

    // Deleted through one version, gone from both.
    v1.delete("web", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_err(v2.get("web").await.unwrap_err()).code, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_and_openapi_publish_each_version() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let group = get_json(&client, "/apis/autoscaling", 200).await;
    assert_eq!(group["preferredVersion"]["version"], "v2");
    assert_eq!(group["versions"][1]["version"], "v1");
    let hash = |doc: &serde_json::Value, name: &str| {
        doc["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["name"] == name))
            .map(|r| r["storageVersionHash"].clone())
            .unwrap_or_default()
    };
    let one = get_json(&client, "/apis/autoscaling/v1", 200).await;
    let two = get_json(&client, "/apis/autoscaling/v2", 200).await;
    // Upstream's hash of autoscaling/v2 HorizontalPodAutoscaler, for both versions.
    assert_eq!(hash(&one, "horizontalpodautoscalers"), "qwQve8ut294=");
    assert_eq!(hash(&two, "horizontalpodautoscalers"), "qwQve8ut294=");
    assert!(hash(&one, "horizontalpodautoscalers/status").is_null());
    let core = get_json(&client, "/api/v1", 200).await;
    let events = get_json(&client, "/apis/events.k8s.io/v1", 200).await;
    assert_eq!(hash(&core, "events"), hash(&events, "events"));
    assert_eq!(hash(&core, "events"), "r2yiGXH7wu8=");

    let (code, _, body) = common::raw(
        &client,
        "GET",
        "/apis",
        &[(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        )],
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(code, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let autoscaling = doc["items"]
        .as_array()
        .and_then(|i| i.iter().find(|g| g["metadata"]["name"] == "autoscaling"))
        .cloned()
        .unwrap_or_default();
    let versions: Vec<&str> = autoscaling["versions"]
        .as_array()
        .map(|v| v.iter().filter_map(|v| v["version"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(versions, ["v2", "v1"]);
    assert_eq!(
        autoscaling["versions"][1]["resources"][0]["responseKind"]["version"],
        "v1"
    );

    for (path, schema) in [
        (
            "/openapi/v3/apis/autoscaling/v1",
            "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
        ),
        (
            "/openapi/v3/apis/autoscaling/v2",
            "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        ),
        (
            "/openapi/v3/apis/events.k8s.io/v1",
            "io.k8s.api.events.v1.Event",
        ),
    ] {
        let doc = get_json(&client, path, 200).await;
        assert!(doc["components"]["schemas"][schema].is_object(), "{path}");
    }
    let (code, v2doc) = get_status(&client, "/openapi/v2").await.unwrap();
    assert_eq!(code, 200);
    assert!(v2doc.contains("/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers"));
    assert!(v2doc.contains("/apis/events.k8s.io/v1/namespaces/{namespace}/events"));
}

fn v1_event(name: &str) -> evv1::Event {
    evv1::Event {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        event_time: Some(MicroTime(
            "2026-12-01T10:00:00.000000Z".parse().expect("time"),
        )),
        reporting_controller: Some("example.com/scaler".into()),
        reporting_instance: Some("scaler-1".into()),
        action: Some("Scale".into()),
        reason: Some("Scaled".into()),
        type_: Some("Normal".into()),
        note: Some("scaled web".into()),
        regarding: Some(corev1::ObjectReference {
            kind: Some("Deployment".into()),
            name: Some("web".into()),
            namespace: Some("default".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_served_as_core_v1_and_events_k8s_io_v1() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let new: Api<evv1::Event> = Api::namespaced(client.clone(), "default");
    let old: Api<corev1::Event> = Api::namespaced(client.clone(), "default");

    // A watch on the new API, started before a write through the old one.
    let start = new.list(&ListParams::default()).await.unwrap();
    let rv = start.metadata.resource_version.unwrap_or_default();
    let mut stream = new
        .watch(&WatchParams::default().timeout(20), &rv)
        .await
        .unwrap()
        .boxed();
    let legacy = corev1::Event {
        metadata: ObjectMeta {
            name: Some("legacy".into()),
            ..Default::default()
        },
        involved_object: corev1::ObjectReference {
            kind: Some("Pod".into()),
            name: Some("p1".into()),
            namespace: Some("default".into()),
            ..Default::default()
        },
        reason: Some("Started".into()),
        message: Some("started p1".into()),
        source: Some(corev1::EventSource {
            component: Some("kubelet".into()),
            host: None,
        }),
        count: Some(2),
        ..Default::default()
    };
    old.create(&PostParams::default(), &legacy).await.unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(ev) = stream.try_next().await.unwrap() {
            if let WatchEvent::Added(e) = ev {
                return e;
            }
        }
        panic!("watch ended");
    })
    .await
    .expect("the watch on events.k8s.io saw the core write");
    assert_eq!(seen.note.as_deref(), Some("started p1"));
    assert_eq!(seen.deprecated_count, Some(2));
    assert_eq!(
        seen.deprecated_source.and_then(|s| s.component).as_deref(),
        Some("kubelet")
    );
    assert_eq!(seen.regarding.and_then(|r| r.name).as_deref(), Some("p1"));

    // A write through the new API reads back through the old one, fields mapped.
    let created = new
        .create(&PostParams::default(), &v1_event("scaled"))
        .await
        .unwrap();
    assert_eq!(created.note.as_deref(), Some("scaled web"));
    let core = old.get("scaled").await.unwrap();
    assert_eq!(core.message.as_deref(), Some("scaled web"));
    assert_eq!(
        core.reporting_component.as_deref(),
        Some("example.com/scaler")
    );
    assert_eq!(core.involved_object.name.as_deref(), Some("web"));
    assert_eq!(
        core.metadata.resource_version,
        created.metadata.resource_version
    );

    // The strict rules apply only to writes through events.k8s.io/v1.
    let mut bad = v1_event("bad");
    bad.type_ = Some("Odd".into());
    bad.deprecated_count = Some(3);
    bad.event_time = None;
    let err = api_err(new.create(&PostParams::default(), &bad).await.unwrap_err());
    assert_eq!(
        causes(&err),
        [
            "eventTime: Required value",
            "type: Invalid value: \"\": has invalid value: Odd",
            "count: Invalid value: \"\": needs to be unset",
        ]
    );
    // Upstream's new API may not change what an event reports.
    let err = api_err(
        new.patch(
            "scaled",
            &PatchParams::default(),
            &Patch::Merge(json!({"note": "changed"})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        causes(&err),
        ["message: Invalid value: \"changed\": field is immutable"]
    );
    // The old API may.
    old.patch(
        "scaled",
        &PatchParams::default(),
        &Patch::Merge(json!({"message": "changed"})),
    )
    .await
    .unwrap();
    assert_eq!(
        new.get("scaled").await.unwrap().note.as_deref(),
        Some("changed")
    );

    // Field selectors are the version's: only metadata fields on events.k8s.io/v1.
    let (code, body) = get_status(
        &client,
        "/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=reason%3DStarted",
    )
    .await
    .unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains(r#"\"reason\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""#),
        "{body}"
    );
    let named = new
        .list(&ListParams::default().fields("metadata.name=legacy"))
        .await
        .unwrap();
    assert_eq!(named.items.len(), 1);
    let by_reason = old
        .list(&ListParams::default().fields("reason=Started"))
        .await
        .unwrap();
    assert_eq!(by_reason.items.len(), 1);

    // kubectl reads the new API with the events' columns.
    let out = ok(server.kubectl(&["get", "events.v1.events.k8s.io"]));
    assert!(out.starts_with("LAST SEEN"), "{out}");
    assert!(
        out.contains("deployment/web") && out.contains("pod/p1"),
        "{out}"
    );
    let out = ok(server.kubectl(&[
        "get",
        "events.v1.events.k8s.io",
        "scaled",
        "-o",
        "jsonpath={.note}",
    ]));
    assert_eq!(out, "changed");

    new.delete("legacy", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(api_err(old.get("legacy").await.unwrap_err()).code, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_config_turns_one_version_off_and_leaves_the_other() {
    let server =
        Server::start(&["--runtime-config=autoscaling/v2=false,events.k8s.io/v1=false"]).await;
    let client = server.client().await;
    let v1: Api<asv1::HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "default");
    v1.create(&PostParams::default(), &v1_hpa("web", None, 3))
        .await
        .unwrap();
    // Without a target, v1 stands for v2's default CPU metric.
    let read = v1.get("web").await.unwrap();
    assert_eq!(read.spec.target_cpu_utilization_percentage, Some(80));
    let group = get_json(&client, "/apis/autoscaling", 200).await;
    assert_eq!(group["preferredVersion"]["version"], "v1");
    let (code, _) = get_status(
        &client,
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
    )
    .await
    .unwrap();
    assert_eq!(code, 404);
    let (code, _) = get_status(&client, "/apis/events.k8s.io/v1").await.unwrap();
    assert_eq!(code, 404);
    // The storage version stays v2 when only v1 is served.
    let one = get_json(&client, "/apis/autoscaling/v1", 200).await;
    assert_eq!(one["resources"][0]["storageVersionHash"], "qwQve8ut294=");
    drop(server);

    let server = Server::start(&["--runtime-config=autoscaling/v1=false"]).await;
    let client = server.client().await;
    let (code, _) = get_status(&client, "/apis/autoscaling/v1").await.unwrap();
    assert_eq!(code, 404);
    let v2: Api<asv2::HorizontalPodAutoscaler> = Api::namespaced(client, "default");
    assert!(v2
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_are_stored_at_the_storage_version_in_etcd() {
    use storage::etcd::testing::{TestEtcd, TestEtcdOptions};
    use storage::etcd::EtcdStore;
    use storage::Storage;
    let etcd = TestEtcd::start_with(TestEtcdOptions::default())
        .await
        .unwrap_or_else(|e| panic!("etcd is required for this test: {e}"));
    let flag = format!("--etcd-servers={}", etcd.endpoint());
    let server = Server::start(&[&flag]).await;
    let client = server.client().await;
    let v1: Api<asv1::HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "default");
    v1.create(&PostParams::default(), &v1_hpa("web", Some(50), 4))
        .await
        .unwrap();
    let new: Api<evv1::Event> = Api::namespaced(client, "default");
    new.create(&PostParams::default(), &v1_event("scaled"))
        .await
        .unwrap();

    let raw = EtcdStore::connect(etcd.config()).await.unwrap();
    let text = |kv: Option<storage::KeyValue>| {
        String::from_utf8_lossy(&kv.expect("key in etcd").value).into_owned()
    };
    let hpa = text(
        raw.get("/registry/horizontalpodautoscalers/default/web")
            .await
            .unwrap(),
    );
    assert!(hpa.contains("autoscaling/v2"), "{hpa}");
    // The object is v2's; only its creator's managed fields, recorded at the version it
    // wrote at (v1, as upstream records them), name the v1 field.
    assert!(
        !hpa.replace("f:targetCPUUtilizationPercentage", "")
            .contains("targetCPUUtilizationPercentage"),
        "{hpa}"
    );
    assert!(hpa.contains("f:targetCPUUtilizationPercentage"), "{hpa}");
    let event = text(raw.get("/registry/events/default/scaled").await.unwrap());
    // A core v1 Event; only its creator's managed fields entry names the version it
    // wrote at (events.k8s.io/v1).
    assert!(event.contains("\n\u{2}v1\u{12}\u{5}Event"), "{event}");
    assert_eq!(event.matches("events.k8s.io").count(), 1, "{event}");
    assert!(event.contains("f:deprecatedSource"), "{event}");
    assert!(event.contains("example.com/scaler"), "{event}");
}
