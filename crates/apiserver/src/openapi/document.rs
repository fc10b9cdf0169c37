//! Assembles the documents: one Swagger 2.0 document for everything (`/openapi/v2`) and
//! one OpenAPI 3.0 document per group-version, group and root path (`/openapi/v3/...`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::paths::{self, Operation, Param, Paths};
use super::schema::{kind_schema_name, list_schema_name, Flavor, Gvk, Renderer, Universe};
use crate::registry::ResourceDecl;

const TITLE: &str = "Kubernetes";
const INFO_VERSION: &str = "unversioned";

fn bearer_token() -> Value {
    json!({
        "BearerToken": {
            "description": "Bearer Token authentication",
            "in": "header",
            "name": "authorization",
            "type": "apiKey",
        }
    })
}

/// Groups in registration order, each with its versions in registration order.
fn group_versions(decls: &[&ResourceDecl]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for d in decls {
        match out.iter_mut().find(|(g, _)| *g == d.group) {
            Some((_, versions)) => {
                if !versions.contains(&d.version) {
                    versions.push(d.version.clone());
                }
            }
            None => out.push((d.group.clone(), vec![d.version.clone()])),
        }
    }
    out
}

/// The key of a group-version in the `/openapi/v3` index (`api/v1`, `apis/apps/v1`).
pub fn gv_key(group: &str, version: &str) -> String {
    paths::gv_prefix(group, version)
        .trim_start_matches('/')
        .to_string()
}

/// `x-kubernetes-group-version-kind` of the schemas of a document serving `decls` in the
/// group-versions `gvs`: each kind and list kind, and the request and event types every
/// group-version shares (listed for the core group and each group-version served).
fn gvk_map(decls: &[&ResourceDecl], gvs: &[(String, String)]) -> BTreeMap<String, Vec<Gvk>> {
    let mut map: BTreeMap<String, Vec<Gvk>> = BTreeMap::new();
    for d in decls {
        for sub in &d.subresources {
            if let (Some(m), Some((g, v, k))) = (&sub.schema, &sub.kind) {
                map.entry(m.name.to_string())
                    .or_default()
                    .push((g.clone(), v.clone(), k.clone()));
            }
        }
        map.entry(kind_schema_name(d)).or_default().push((
            d.group.clone(),
            d.version.clone(),
            d.kind.clone(),
        ));
        map.entry(list_schema_name(d)).or_default().push((
            d.group.clone(),
            d.version.clone(),
            d.list_kind(),
        ));
    }
    for m in [
        &apimachinery::types::DELETE_OPTIONS,
        &apimachinery::types::WATCH_EVENT,
    ] {
        let Some((_, _, kind)) = m.gvks.first() else {
            continue;
        };
        let entry = map.entry(m.name.to_string()).or_default();
        entry.push((String::new(), "v1".to_string(), kind.to_string()));
        for (g, v) in gvs {
            entry.push((g.clone(), v.clone(), kind.to_string()));
        }
    }
    for gvks in map.values_mut() {
        gvks.sort();
        gvks.dedup();
    }
    map
}

fn param_json(p: &Param, flavor: Flavor) -> Value {
    let mut v = Map::new();
    v.insert("description".into(), json!(p.description));
    v.insert("in".into(), json!(p.location.as_str()));
    v.insert("name".into(), json!(p.name));
    if p.required {
        v.insert("required".into(), json!(true));
    }
    match flavor {
        Flavor::V2 => {
            v.insert("type".into(), json!(p.ty));
            v.insert("uniqueItems".into(), json!(true));
        }
        Flavor::V3 => {
            v.insert("schema".into(), json!({"type": p.ty, "uniqueItems": true}));
        }
    }
    Value::Object(v)
}

fn sorted(mut params: Vec<Param>) -> Vec<Param> {
    params.sort_by(|a, b| (&a.name, a.location).cmp(&(&b.name, b.location)));
    params
}

/// Splits the parameters of a path's operations into those every operation has (written
/// once on the path, as upstream does) and each operation's own.
fn hoist(ops: &[Operation]) -> (Vec<Param>, Vec<Vec<Param>>) {
    let common: Vec<Param> = match ops.first() {
        Some(first) => first
            .params
            .iter()
            .filter(|p| ops.iter().all(|o| o.params.contains(p)))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let own = ops
        .iter()
        .map(|o| {
            o.params
                .iter()
                .filter(|p| !common.contains(p))
                .cloned()
                .collect()
        })
        .collect();
    (sorted(common), own)
}

fn response_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        401 => "Unauthorized",
        _ => "",
    }
}

fn operation_json(
    op: &Operation,
    own: Vec<Param>,
    flavor: Flavor,
    refs: &mut BTreeSet<String>,
) -> Value {
    let mut o = Map::new();
    o.insert("description".into(), json!(op.description));
    o.insert("operationId".into(), json!(op.id));
    let mut params: Vec<Value> = Vec::new();
    if let Some(body) = &op.body {
        refs.insert(body.schema.clone());
        let schema = flavor.reference(&body.schema);
        match flavor {
            Flavor::V2 => {
                let mut p = json!({"in": "body", "name": "body", "schema": schema});
                if body.required {
                    p["required"] = json!(true);
                }
                params.push(p);
            }
            Flavor::V3 => {
                let content: Map<String, Value> = body
                    .media
                    .iter()
                    .map(|m| (m.to_string(), json!({ "schema": schema.clone() })))
                    .collect();
                let mut rb = json!({ "content": content });
                if body.required {
                    rb["required"] = json!(true);
                }
                o.insert("requestBody".into(), rb);
            }
        }
    }
    params.extend(sorted(own).iter().map(|p| param_json(p, flavor)));
    if !params.is_empty() {
        o.insert("parameters".into(), Value::Array(params));
    }
    let mut responses = Map::new();
    for (code, schema) in &op.responses {
        let mut r = json!({ "description": response_text(*code) });
        if let Some(name) = schema {
            // `string` is a plain type (connect answers), anything else a definition.
            let s = if name == "string" {
                json!({"type": "string"})
            } else {
                refs.insert(name.clone());
                flavor.reference(name)
            };
            match flavor {
                Flavor::V2 => r["schema"] = s,
                Flavor::V3 => {
                    let content: Map<String, Value> = op
                        .produces
                        .iter()
                        .map(|m| (m.to_string(), json!({ "schema": s.clone() })))
                        .collect();
                    r["content"] = Value::Object(content);
                }
            }
        }
        responses.insert(code.to_string(), r);
    }
    o.insert("responses".into(), Value::Object(responses));
    o.insert("tags".into(), json!([op.tag]));
    if flavor == Flavor::V2 {
        o.insert("consumes".into(), json!(op.consumes));
        o.insert("produces".into(), json!(op.produces));
        o.insert("schemes".into(), json!(["https"]));
    }
    if let Some(action) = op.action {
        o.insert("x-kubernetes-action".into(), json!(action));
    }
    if let Some((g, v, k)) = &op.gvk {
        o.insert(
            "x-kubernetes-group-version-kind".into(),
            json!({"group": g, "kind": k, "version": v}),
        );
    }
    Value::Object(o)
}

fn paths_json(paths: &Paths, flavor: Flavor, refs: &mut BTreeSet<String>) -> Value {
    let mut out = Map::new();
    for (path, ops) in paths {
        let (common, own) = hoist(ops);
        let mut item = Map::new();
        for (op, own) in ops.iter().zip(own) {
            item.insert(op.method.to_string(), operation_json(op, own, flavor, refs));
        }
        if !common.is_empty() {
            item.insert(
                "parameters".into(),
                Value::Array(common.iter().map(|p| param_json(p, flavor)).collect()),
            );
        }
        out.insert(path.clone(), Value::Object(item));
    }
    Value::Object(out)
}

/// Sorts the keys of every object, as upstream's documents are written.
fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.sort_keys();
            for x in m.values_mut() {
                sort_keys(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

fn v3_document(paths: &Paths, universe: &Universe, gvks: &BTreeMap<String, Vec<Gvk>>) -> Value {
    let mut refs = BTreeSet::new();
    let paths = paths_json(paths, Flavor::V3, &mut refs);
    let renderer = Renderer {
        flavor: Flavor::V3,
        gvks,
    };
    let schemas = universe.closure(refs, &renderer);
    let mut doc = json!({
        "openapi": "3.0.0",
        "info": {"title": TITLE, "version": INFO_VERSION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": bearer_token(),
        },
    });
    sort_keys(&mut doc);
    doc
}

/// The OpenAPI 3.0 documents of `/openapi/v3`, by index key: `api/v1` and
/// `apis/<group>/<version>` for every group-version served, `api`, `apis`,
/// `apis/<group>` for every named group, and `version`.
pub fn v3_documents(decls: &[&ResourceDecl]) -> BTreeMap<String, Value> {
    let universe = Universe::new(decls);
    let groups = group_versions(decls);
    let mut docs = BTreeMap::new();
    for (group, versions) in &groups {
        for version in versions {
            let in_gv: Vec<&ResourceDecl> = decls
                .iter()
                .copied()
                .filter(|d| &d.group == group && &d.version == version)
                .collect();
            let mut p = Paths::new();
            paths::add_group_version(&mut p, group, version);
            for d in &in_gv {
                paths::add_resource(&mut p, d);
            }
            let gvks = gvk_map(&in_gv, &[(group.clone(), version.clone())]);
            docs.insert(gv_key(group, version), v3_document(&p, &universe, &gvks));
        }
        if !group.is_empty() {
            let mut p = Paths::new();
            paths::add_group(&mut p, group);
            docs.insert(
                format!("apis/{group}"),
                v3_document(&p, &universe, &BTreeMap::new()),
            );
        }
    }
    let none = BTreeMap::new();
    let mut p = Paths::new();
    paths::add_core_root(&mut p);
    docs.insert("api".to_string(), v3_document(&p, &universe, &none));
    let mut p = Paths::new();
    paths::add_apis_root(&mut p);
    docs.insert("apis".to_string(), v3_document(&p, &universe, &none));
    let mut p = Paths::new();
    paths::add_version(&mut p);
    docs.insert("version".to_string(), v3_document(&p, &universe, &none));
    docs
}

/// The Swagger 2.0 document of `/openapi/v2`: every path of every group-version, group and
/// root, with the definitions they refer to.
pub fn v2_document(decls: &[&ResourceDecl]) -> Value {
    let universe = Universe::new(decls);
    let groups = group_versions(decls);
    let mut p = Paths::new();
    let mut gvs = Vec::new();
    for (group, versions) in &groups {
        for version in versions {
            paths::add_group_version(&mut p, group, version);
            gvs.push((group.clone(), version.clone()));
        }
        if !group.is_empty() {
            paths::add_group(&mut p, group);
        }
    }
    for d in decls {
        paths::add_resource(&mut p, d);
    }
    paths::add_core_root(&mut p);
    paths::add_apis_root(&mut p);
    paths::add_version(&mut p);
    let gvks = gvk_map(decls, &gvs);
    let mut refs = BTreeSet::new();
    let paths = paths_json(&p, Flavor::V2, &mut refs);
    let renderer = Renderer {
        flavor: Flavor::V2,
        gvks: &gvks,
    };
    let definitions = universe.closure(refs, &renderer);
    let mut doc = json!({
        "swagger": "2.0",
        "info": {"title": TITLE, "version": INFO_VERSION},
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": bearer_token(),
        "security": [{"BearerToken": []}],
    });
    sort_keys(&mut doc);
    doc
}
