//! What the storage codec costs per object: the work a write and a watch-cache read add when
//! objects are stored as protobuf instead of JSON, for a ConfigMap like the benchmarks' (a
//! generated name, one 100-byte value). `cargo run --release -p api --example
//! storage_codec_cost [ROUNDS]`; figures are in docs/benchmarks.md.

use std::time::Instant;

use apimachinery::protobuf;
use serde_json::{json, Value};

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let schema = api::kind("", "v1", "ConfigMap").expect("ConfigMap");
    let object = json!({
        "kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "bench-x7k2p", "generateName": "bench-", "namespace": "bench",
                     "uid": "6f9a1c4e-0000-4000-8000-000000000001",
                     "creationTimestamp": "2026-12-03T10:00:00Z"},
        "data": {"value": "x".repeat(100)},
    });
    let lookup = |_: &str, _: &str| Some(schema.clone());
    let time = |name: &str, f: &mut dyn FnMut() -> usize| {
        let start = Instant::now();
        let mut bytes = 0;
        for _ in 0..rounds {
            bytes = f();
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        println!("{name}: {per:.2} µs per object ({bytes} bytes)");
    };
    // Before: a write serializes JSON once, and the watch cache keeps the bytes it reads.
    time("JSON write (serialize)", &mut || {
        serde_json::to_vec(&object).map(|v| v.len()).unwrap_or(0)
    });
    // Now: the codec parses that JSON and encodes protobuf ...
    let json_bytes = serde_json::to_vec(&object).unwrap_or_default();
    time("protobuf write (parse JSON, encode protobuf)", &mut || {
        let v: Value = serde_json::from_slice(&json_bytes).unwrap_or(Value::Null);
        protobuf::encode("v1", "ConfigMap", &schema, &v)
            .map(|b| b.len())
            .unwrap_or(0)
    });
    // ... and every read from storage (the watch cache's event, a paginated list's item)
    // decodes it back to JSON.
    let pb = protobuf::encode("v1", "ConfigMap", &schema, &object).unwrap_or_default();
    time("protobuf read (decode, serialize JSON)", &mut || {
        protobuf::decode_keeping_zeros(&pb, &lookup)
            .ok()
            .and_then(|(_, v)| serde_json::to_vec(&v).ok())
            .map(|v| v.len())
            .unwrap_or(0)
    });
}
