//! apps/v1 Deployments, ReplicaSets, StatefulSets, DaemonSets and batch/v1 Jobs, CronJobs
//! end to end: kube-rs typed clients see upstream's defaults, validation causes, immutable
//! fields, the status split and the scale subresource; kubectl creates, scales and lists
//! them with upstream's columns.

mod common;

use std::collections::BTreeMap;

use common::{api_err, causes, ok, table, Server};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("a valid object")
}

/// A pod template labelled `app=<app>` with one container.
fn template(app: &str, restart: Option<&str>) -> serde_json::Value {
    let mut spec = json!({"containers": [{"name": app, "image": "nginx"}]});
    if let Some(r) = restart {
        spec["restartPolicy"] = json!(r);
    }
    json!({"metadata": {"labels": {"app": app}}, "spec": spec})
}

fn deployment(name: &str) -> Deployment {
    from_json(json!({
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template(name, None)}
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_defaults_validation_status_and_scale() {
    let server = Server::start(&[]).await;
    let deployments: Api<Deployment> = Api::namespaced(server.client().await, "default");
    let created = deployments
        .create(&PostParams::default(), &deployment("web"))
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, Some(1));
    let spec = created.spec.clone().expect("spec");
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(spec.progress_deadline_seconds, Some(600));
    let strategy = spec.strategy.clone().expect("strategy");
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
    let rolling = serde_json::to_value(strategy.rolling_update).expect("json");
    assert_eq!(rolling, json!({"maxSurge": "25%", "maxUnavailable": "25%"}));
    // The pod template gets the pod defaults.
    let pod_spec = spec.template.spec.clone().expect("pod spec");
    assert_eq!(pod_spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(pod_spec.dns_policy.as_deref(), Some("ClusterFirst"));

    // A spec change moves the generation on; status written with the object is dropped.
    let mut next = created.clone();
    if let Some(s) = next.spec.as_mut() {
        s.replicas = Some(3);
    }
    next.status = Some(from_json(json!({"replicas": 5})));
    let updated = deployments
        .replace("web", &PostParams::default(), &next)
        .await
        .expect("update");
    assert_eq!(updated.metadata.generation, Some(2));
    assert_eq!(updated.status.and_then(|s| s.replicas), None);

    // The status subresource writes status only, and checks its counters.
    let status = deployments
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 9},
                "status": {"replicas": 3, "readyReplicas": 2, "availableReplicas": 2}})),
        )
        .await
        .expect("status patch");
    assert_eq!(status.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(
        status.status.as_ref().and_then(|s| s.ready_replicas),
        Some(2)
    );
    assert_eq!(status.metadata.generation, Some(2));
    let e = api_err(
        deployments
            .patch_status(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"readyReplicas": 7}})),
            )
            .await
            .expect_err("too many ready"),
    );
    assert_eq!(
        causes(&e),
        ["status.readyReplicas: Invalid value: 7: cannot be greater than status.replicas"]
    );

    // The selector is immutable in apps/v1.
    let e = api_err(
        deployments
            .patch(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {
                    "selector": {"matchLabels": {"app": "web", "tier": "x"}},
                    "template": {"metadata": {"labels": {"tier": "x"}}}}})),
            )
            .await
            .expect_err("selector change"),
    );
    assert_eq!(
        causes(&e),
        ["spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}: field is immutable"]
    );

    // A selector that does not select the template, and a bad strategy, with field paths.
    let mut bad = deployment("bad");
    if let Some(s) = bad.spec.as_mut() {
        if let Some(m) = s.template.metadata.as_mut() {
            m.labels = Some(BTreeMap::from([("app".to_string(), "other".to_string())]));
        }
        s.replicas = Some(-1);
        s.min_ready_seconds = Some(700);
    }
    let e = api_err(
        deployments
            .create(&PostParams::default(), &bad)
            .await
            .expect_err("invalid"),
    );
    assert_eq!(
        causes(&e),
        [
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`",
            "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
        ]
    );

    // The scale subresource: autoscaling/v1 Scale in, spec.replicas out.
    let scale = deployments.get_scale("web").await.expect("get scale");
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(3));
    let status = scale.status.expect("scale status");
    assert_eq!(
        (status.replicas, status.selector.as_deref()),
        (3, Some("app=web"))
    );
    let scaled = deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .expect("patch scale");
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(4));
    let after = deployments.get("web").await.expect("get");
    assert_eq!(after.spec.and_then(|s| s.replicas), Some(4));
    assert_eq!(after.metadata.generation, Some(3));
    let e = api_err(
        deployments
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": -2}})),
            )
            .await
            .expect_err("negative scale"),
    );
    assert_eq!(
        causes(&e),
        ["spec.replicas: Invalid value: -2: must be greater than or equal to 0"]
    );
    assert_eq!(e.message, "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -2: must be greater than or equal to 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_scales_and_lists_workloads() {
    let server = Server::start(&[]).await;
    ok(server.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=2",
    ]));
    ok(server.kubectl(&["scale", "deployment", "web", "--replicas=3"]));
    let (header, rows) = table(&ok(server.kubectl(&["get", "deploy"])));
    assert_eq!(header, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert_eq!(rows[0][..4], ["web", "0/3", "0", "0"]);
    let (header, rows) = table(&ok(server.kubectl(&["get", "deployments", "-o", "wide"])));
    assert_eq!(
        header,
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(rows[0][5..], ["nginx", "nginx", "app=web"]);

    ok(server.kubectl(&["create", "job", "pi", "--image=perl"]));
    ok(server.kubectl(&[
        "create",
        "cronjob",
        "nightly",
        "--image=busybox",
        "--schedule=*/5 * * * *",
    ]));
    let out = ok(server.kubectl(&["get", "job", "pi"]));
    let (header, rows) = table(&out);
    assert_eq!(header, ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    assert_eq!(rows[0][..3], ["pi", "Running", "0/1"]);
    let (header, rows) = table(&ok(server.kubectl(&["get", "cj"])));
    assert_eq!(
        header,
        [
            "NAME",
            "SCHEDULE",
            "TIMEZONE",
            "SUSPEND",
            "ACTIVE",
            "LAST SCHEDULE",
            "AGE"
        ]
    );
    assert_eq!(
        rows[0][..6],
        ["nightly", "*/5 * * * *", "<none>", "False", "0", "<none>"]
    );

    // Short names and the `all` category reach every workload kind.
    let all = ok(server.kubectl(&["get", "all", "-o", "name"]));
    for name in [
        "deployment.apps/web",
        "job.batch/pi",
        "cronjob.batch/nightly",
    ] {
        assert!(all.contains(name), "{name} not in {all}");
    }
    let listed = ok(server.kubectl(&["get", "deploy,rs,sts,ds,job,cronjob", "-o", "name"]));
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        [
            "deployment.apps/web",
            "job.batch/pi",
            "cronjob.batch/nightly"
        ]
    );
    let explained = ok(server.kubectl(&["explain", "deployment.spec.replicas"]));
    assert!(
        explained.contains("How many pods to run; defaults to 1."),
        "{explained}"
    );
    let explained = ok(server.kubectl(&["explain", "cronjob.spec.timeZone"]));
    assert!(explained.contains("IANA time zone"), "{explained}");
    let described = ok(server.kubectl(&["describe", "deployment", "web"]));
    assert!(
        described.contains("RollingUpdateStrategy:  25% max unavailable, 25% max surge"),
        "{described}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_sets_stateful_sets_and_daemon_sets() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let rs: ReplicaSet = from_json(json!({"metadata": {"name": "web-1"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}}, "template": template("web", None)}}));
    let created = sets.create(&PostParams::default(), &rs).await.expect("rs");
    assert_eq!(created.spec.as_ref().and_then(|s| s.replicas), Some(1));
    assert_eq!(created.status.as_ref().map(|s| s.replicas), Some(0));
    let zero = sets
        .list(&ListParams::default().fields("status.replicas=0"))
        .await
        .expect("field selector");
    assert_eq!(zero.items.len(), 1);
    let none = sets
        .list(&ListParams::default().fields("status.replicas=1"))
        .await
        .expect("field selector");
    assert!(none.items.is_empty());
    let mut never = rs.clone();
    never.metadata.name = Some("web-2".into());
    if let Some(s) = never.spec.as_mut() {
        s.template = from_json(template("web", Some("Never")));
    }
    let e = api_err(
        sets.create(&PostParams::default(), &never)
            .await
            .expect_err("restart policy"),
    );
    assert_eq!(
        causes(&e),
        ["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""]
    );

    let stateful: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    let sts: StatefulSet = from_json(json!({"metadata": {"name": "db"}, "spec": {
        "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
        "template": template("db", None)}}));
    let created = stateful
        .create(&PostParams::default(), &sts)
        .await
        .expect("sts");
    let spec = created.spec.clone().expect("spec");
    assert_eq!(spec.pod_management_policy.as_deref(), Some("OrderedReady"));
    assert_eq!(
        serde_json::to_value(&spec.update_strategy).expect("json"),
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        serde_json::to_value(&spec.persistent_volume_claim_retention_policy).expect("json"),
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    let e = api_err(
        stateful
            .patch(
                "db",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"serviceName": "other"}})),
            )
            .await
            .expect_err("forbidden field"),
    );
    assert_eq!(
        causes(&e),
        ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]
    );
    let scaled = stateful
        .patch_scale(
            "db",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .expect("scale");
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(2));

    let daemons: Api<DaemonSet> = Api::namespaced(client.clone(), "default");
    let ds: DaemonSet = from_json(json!({"metadata": {"name": "agent"}, "spec": {
        "selector": {"matchLabels": {"app": "agent"}}, "template": template("agent", None)}}));
    let created = daemons
        .create(&PostParams::default(), &ds)
        .await
        .expect("ds");
    let annotations = created.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get("deprecated.daemonset.template.generation")
            .map(String::as_str),
        Some("1")
    );
    assert_eq!(
        serde_json::to_value(created.spec.as_ref().map(|s| &s.update_strategy)).expect("json"),
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}})
    );
    let status = created.status.expect("status");
    assert_eq!(
        (
            status.current_number_scheduled,
            status.desired_number_scheduled
        ),
        (0, 0)
    );

    let (header, _) = table(&ok(server.kubectl(&["get", "rs"])));
    assert_eq!(header, ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    let (header, rows) = table(&ok(server.kubectl(&["get", "sts"])));
    assert_eq!(header, ["NAME", "READY", "AGE"]);
    assert_eq!(rows[0][..2], ["db", "0/2"]);
    let (header, _) = table(&ok(server.kubectl(&["get", "ds"])));
    assert_eq!(
        header,
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE SELECTOR",
            "AGE"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_cron_jobs() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    ok(server.kubectl(&["create", "job", "pi", "--image=perl", "--", "perl", "-v"]));
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let job = jobs.get("pi").await.expect("job");
    let uid = job.metadata.uid.clone().expect("uid");
    let spec = job.spec.clone().expect("spec");
    assert_eq!(
        (spec.completions, spec.parallelism, spec.backoff_limit),
        (Some(1), Some(1), Some(6))
    );
    assert_eq!(spec.completion_mode.as_deref(), Some("NonIndexed"));
    assert_eq!(spec.suspend, Some(false));
    assert_eq!(spec.manual_selector, Some(false));
    assert_eq!(
        spec.pod_replacement_policy.as_deref(),
        Some("TerminatingOrFailed")
    );
    let selector = spec
        .selector
        .clone()
        .and_then(|s| s.match_labels)
        .unwrap_or_default();
    assert_eq!(
        selector,
        BTreeMap::from([(
            "batch.kubernetes.io/controller-uid".to_string(),
            uid.clone()
        )])
    );
    let labels = spec
        .template
        .metadata
        .clone()
        .and_then(|m| m.labels)
        .unwrap_or_default();
    for (k, v) in [
        ("batch.kubernetes.io/controller-uid", uid.as_str()),
        ("controller-uid", uid.as_str()),
        ("batch.kubernetes.io/job-name", "pi"),
        ("job-name", "pi"),
    ] {
        assert_eq!(labels.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert_eq!(job.metadata.labels.clone().unwrap_or_default(), labels);

    // The template is immutable; the generated selector may not be replaced.
    let e = api_err(
        jobs.patch(
            "pi",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}})),
        )
        .await
        .expect_err("template change"),
    );
    let c = causes(&e);
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0].starts_with("spec.template: Invalid value: "), "{c:?}");
    assert!(c[0].ends_with(": field is immutable"), "{c:?}");
    // suspend may change.
    let suspended = jobs
        .patch(
            "pi",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .expect("suspend");
    assert_eq!(suspended.spec.and_then(|s| s.suspend), Some(true));
    assert_eq!(suspended.metadata.generation, Some(2));

    // A restart policy of Always is refused with upstream's wording.
    let always: Job = from_json(json!({"metadata": {"name": "always"},
        "spec": {"template": template("always", Some("Always"))}}));
    let e = api_err(
        jobs.create(&PostParams::default(), &always)
            .await
            .expect_err("restart policy"),
    );
    assert_eq!(
        causes(&e),
        ["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]
    );
    // status.successful selects.
    let counted = jobs
        .list(&ListParams::default().fields("status.successful=0"))
        .await
        .expect("field selector");
    assert_eq!(counted.items.len(), 1);

    ok(server.kubectl(&[
        "create",
        "cronjob",
        "nightly",
        "--image=busybox",
        "--schedule=@daily",
    ]));
    let cron_jobs: Api<CronJob> = Api::namespaced(client.clone(), "default");
    let cj = cron_jobs.get("nightly").await.expect("cronjob");
    let spec = cj.spec.clone();
    assert_eq!(spec.concurrency_policy.as_deref(), Some("Allow"));
    assert_eq!(
        (
            spec.suspend,
            spec.successful_jobs_history_limit,
            spec.failed_jobs_history_limit
        ),
        (Some(false), Some(3), Some(1))
    );
    let e = api_err(
        cron_jobs
            .patch(
                "nightly",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"schedule": "* * *", "timeZone": "Mars/Olympus"}})),
            )
            .await
            .expect_err("bad schedule"),
    );
    assert_eq!(
        causes(&e),
        [
            "spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]",
            "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus",
        ]
    );
    let zoned = cron_jobs
        .patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"timeZone": "Europe/Berlin", "schedule": "0 3 * * mon-fri"}}),
            ),
        )
        .await
        .expect("time zone");
    assert_eq!(zoned.spec.time_zone.as_deref(), Some("Europe/Berlin"));
    let long: CronJob = from_json(json!({"metadata": {"name": "n".repeat(53)},
        "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {
            "template": template("long", Some("OnFailure"))}}}}));
    let e = api_err(
        cron_jobs
            .create(&PostParams::default(), &long)
            .await
            .expect_err("long name"),
    );
    assert_eq!(
        causes(&e),
        [format!(
            "metadata.name: Invalid value: \"{}\": must be no more than 52 characters",
            "n".repeat(53)
        )]
    );
}
