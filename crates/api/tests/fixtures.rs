//! Upstream's round-trip fixtures against the type model and our codecs.
//!
//! Ignored by default: it needs the reference folder (`shared/reference`, beside the
//! repository, or `KUBE_REFERENCE_DIR`), which the project does not ship. Run it with
//!
//! ```sh
//! cargo test -p api --test fixtures -- --ignored --nocapture
//! ```
//!
//! For every kind with a `.json` and a `.pb` fixture it checks that decoding the protobuf
//! gives the JSON fixture's object (and, indented as the fixture is, its bytes), and that encoding the
//! JSON fixture gives the protobuf fixture's bytes, and that the type check accepts the
//! JSON fixture. It prints the counts and the kinds that
//! differ, and fails if any kind differs.

use std::path::PathBuf;

use apimachinery::protobuf;
use apimachinery::schema::MessageRef;
use serde_json::Value;

fn reference_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KUBE_REFERENCE_DIR") {
        return Some(PathBuf::from(d));
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference");
    beside.is_dir().then_some(beside)
}

/// The type of a fixture's kind: a built-in kind, or a `meta.k8s.io` type that upstream
/// registers in every group (`APIGroup`, `Status`, `WatchEvent`…).
fn message_for(group: &str, version: &str, kind: &str) -> Option<MessageRef> {
    api::kind(group, version, kind)
        .or_else(|| {
            api::message(&format!(
                "io.k8s.apimachinery.pkg.apis.meta.{version}.{kind}"
            ))
        })
        .or_else(|| api::message(&format!("io.k8s.apimachinery.pkg.apis.meta.v1.{kind}")))
}

/// The first place where two JSON values differ.
fn first_difference(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    None => return Some(format!("{path}.{k}: only in ours")),
                    Some(w) => {
                        if let Some(d) = first_difference(&format!("{path}.{k}"), v, w) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k}: only in the fixture"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(&format!("{path}[{i}]"), v, w)),
        _ if a == b => None,
        _ => Some(format!("{path}: ours {a} fixture {b}")),
    }
}

#[derive(Default)]
struct Counts {
    kinds: usize,
    same_object: usize,
    same_json_bytes: usize,
    same_pb_bytes: usize,
    exact: Vec<String>,
    problems: Vec<String>,
}

fn check(dir: &std::path::Path, stem: &str, counts: &mut Counts) {
    let parts: Vec<&str> = stem.split('.').collect();
    let k = parts.len();
    let (group, version, kind) = (parts[..k - 2].join("."), parts[k - 2], parts[k - 1]);
    let group = if group == "core" {
        String::new()
    } else {
        group
    };
    counts.kinds += 1;
    let Some(msg) = message_for(&group, version, kind) else {
        counts.problems.push(format!("{stem}: no type"));
        return;
    };
    let (Ok(json_bytes), Ok(pb)) = (
        std::fs::read(dir.join(format!("{stem}.json"))),
        std::fs::read(dir.join(format!("{stem}.pb"))),
    ) else {
        counts.problems.push(format!("{stem}: unreadable"));
        return;
    };
    let Ok(fixture) = serde_json::from_slice::<Value>(&json_bytes) else {
        counts
            .problems
            .push(format!("{stem}: JSON fixture does not parse"));
        return;
    };
    let lookup = |_: &str, _: &str| Some(msg.clone());
    let mut exact = true;
    // Upstream's fixtures are valid objects: the type check refuses none of them.
    if let Some(e) = apimachinery::typecheck::type_error(&msg, &fixture) {
        counts.problems.push(format!("{stem}: type check: {e}"));
        exact = false;
    }
    match protobuf::decode(&pb, &lookup) {
        Err(e) => {
            counts.problems.push(format!("{stem}: decode: {e}"));
            exact = false;
        }
        Ok((_, ours)) => {
            if ours == fixture {
                counts.same_object += 1;
                let ours_bytes = serde_json::to_vec_pretty(&ours).unwrap_or_default();
                let trimmed = json_bytes.trim_ascii_end();
                if ours_bytes == trimmed {
                    counts.same_json_bytes += 1;
                } else {
                    exact = false;
                    counts
                        .problems
                        .push(format!("{stem}: same object, other bytes (key order)"));
                }
            } else {
                exact = false;
                let d = first_difference("", &ours, &fixture).unwrap_or_default();
                counts
                    .problems
                    .push(format!("{stem}: decoded differs at {d}"));
            }
        }
    }
    // The envelope says what the fixture's object is (a `WatchEvent`'s JSON has no `kind`).
    let tm = protobuf::decode_envelope(&pb)
        .map(|u| u.type_meta)
        .unwrap_or_default();
    match protobuf::encode(&tm.api_version, &tm.kind, &msg, &fixture) {
        Ok(bytes) if bytes == pb => counts.same_pb_bytes += 1,
        Ok(bytes) => {
            exact = false;
            let at = bytes.iter().zip(&pb).position(|(a, b)| a != b);
            counts.problems.push(format!(
                "{stem}: encoded bytes differ (ours {} bytes, fixture {}, first difference at {at:?})",
                bytes.len(),
                pb.len()
            ));
        }
        Err(e) => {
            exact = false;
            counts.problems.push(format!("{stem}: encode: {e}"));
        }
    }
    if exact {
        counts.exact.push(stem.to_string());
    }
}

#[test]
#[ignore = "needs upstream's fixtures (shared/reference); run with --ignored"]
fn upstream_fixtures_round_trip() {
    let Some(reference) = reference_dir() else {
        println!("reference folder not found (set KUBE_REFERENCE_DIR): nothing checked");
        return;
    };
    let dir = reference.join("api-v1.36.2/testdata/HEAD");
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(String::from))
        .collect();
    stems.sort();
    let mut counts = Counts::default();
    for stem in &stems {
        check(&dir, stem, &mut counts);
    }
    for p in &counts.problems {
        println!("  {p}");
    }
    println!(
        "{} kinds: {} decode to the fixture's object ({} to its exact JSON bytes), {} encode to its exact protobuf bytes; {} round-trip exactly both ways",
        counts.kinds,
        counts.same_object,
        counts.same_json_bytes,
        counts.same_pb_bytes,
        counts.exact.len()
    );
    assert!(counts.kinds > 0, "no fixtures found in {}", dir.display());
    // Every kind round-trips exactly (185 of 185 with the v1.36.2 fixtures).
    assert!(
        counts.problems.is_empty(),
        "{} kinds differ",
        counts.problems.len()
    );
}
