//! The cost of managed-field tracking, measured on real kinds (ConfigMap, Node) through the
//! generated type model: the same create and update work with and without tracking, and
//! the bytes `managedFields` add to the stored object. Ignored by default; run with
//! `cargo test --release -p managedfields --test cost -- --ignored --nocapture`.

use std::time::Instant;

use managedfields::shape::Shape;
use managedfields::FieldManager;
use serde_json::{json, Value};

fn configmap(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": format!("bench-{i}"), "namespace": "default", "labels": {"app": "bench", "tier": "x"}},
           "data": {"key": "x".repeat(100), "other": "y"}})
}

fn node(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": format!("node-{i}"), "labels": {"kubernetes.io/hostname": format!("node-{i}"), "zone": "a"}},
           "spec": {"podCIDR": "10.0.0.0/24", "podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]},
           "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                      "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"},
                                     {"type": "MemoryPressure", "status": "False", "reason": "r", "message": "m"}],
                      "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "n"}]}})
}

/// Runs `n` creates and `n` updates of `make(i)` with and without tracking, the
/// serialisation a store does included in both; prints the figures.
fn measure(kind: &str, make: fn(usize) -> Value, n: usize) {
    let Some(msg) = api::kind("", "v1", kind) else {
        panic!("no type for {kind}");
    };
    let fm = FieldManager::new(Shape::root(&msg), "", "v1", kind, "");
    let now = "2026-12-03T10:00:00Z";
    let objects: Vec<Value> = (0..n).map(make).collect();
    let run = |track: bool| {
        let start = Instant::now();
        let mut bytes = 0usize;
        let mut created = Vec::with_capacity(n);
        for o in &objects {
            let mut o = o.clone();
            if track {
                fm.update(None, &mut o, "bench", now);
            }
            bytes += serde_json::to_vec(&o).map(|v| v.len()).unwrap_or(0);
            created.push(o);
        }
        let create = start.elapsed();
        let start = Instant::now();
        for live in &created {
            let mut next = live.clone();
            next["metadata"]["labels"]["rev"] = json!("2");
            if track {
                fm.update(Some(live), &mut next, "updater", now);
            }
            bytes += serde_json::to_vec(&next).map(|v| v.len()).unwrap_or(0);
        }
        (create, start.elapsed(), bytes)
    };
    let (c0, u0, _) = run(false);
    let (c1, u1, _) = run(true);
    let plain = serde_json::to_vec(&objects[0])
        .map(|v| v.len())
        .unwrap_or(0);
    let mut tracked = objects[0].clone();
    fm.update(None, &mut tracked, "bench", now);
    let with = serde_json::to_vec(&tracked).map(|v| v.len()).unwrap_or(0);
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "{kind}: create {:.1} µs → {:.1} µs, update {:.1} µs → {:.1} µs per object (n={n}); stored {plain} B → {with} B (+{} B)",
        per(c0),
        per(c1),
        per(u0),
        per(u1),
        with - plain
    );
}

#[test]
#[ignore]
fn tracking_cost() {
    measure("ConfigMap", configmap, 20_000);
    measure("Node", node, 5_000);
}
