//! Project tasks.
//!
//! `cargo run -p xtask -- gen-types <reference dir>` reads upstream's published API facts
//! (the `shared/reference` folder: `openapi-spec-v1.36/swagger.json`, every
//! `api-v1.36.2/**/generated.proto`, and the fixture names under `testdata/HEAD`) and writes
//! the type model as Rust source:
//!
//! - `crates/apimachinery/src/types/generated/` for `io.k8s.apimachinery.*`;
//! - `crates/api/src/generated/` for every API group.
//!
//! Descriptions are not taken from upstream: they come from `crates/xtask/overlay.json`, in
//! our words, with the Go facts the documents lack (fields Go writes when zero). The output
//! is committed; the project builds without the reference folder.

mod emit;
mod join;
mod proto;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use emit::Home;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("gen-types") => match args.get(1) {
            Some(dir) => gen_types(Path::new(dir)),
            None => Err("usage: xtask gen-types <reference dir>".into()),
        },
        _ => Err("usage: xtask gen-types <reference dir>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn protos_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            protos_under(&path, out)?;
        } else if path.file_name().is_some_and(|n| n == "generated.proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn gen_types(reference: &Path) -> Result<(), String> {
    let mut files = Vec::new();
    protos_under(&reference.join("api-v1.36.2"), &mut files)?;
    files.sort();
    let mut protos = BTreeMap::new();
    for f in &files {
        proto::parse(&read(f)?, &mut protos).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    let swagger: serde_json::Value =
        serde_json::from_str(&read(&reference.join("openapi-spec-v1.36/swagger.json"))?)
            .map_err(|e| format!("swagger.json: {e}"))?;
    let definitions = swagger
        .get("definitions")
        .and_then(|d| d.as_object())
        .ok_or("swagger.json: no definitions")?;
    let fixture_dir = reference.join("api-v1.36.2/testdata/HEAD");
    let fixture_names: Vec<String> = std::fs::read_dir(&fixture_dir)
        .map_err(|e| format!("{}: {e}", fixture_dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let fixtures: BTreeSet<(String, String, String)> = fixture_names
        .iter()
        .filter_map(|n| {
            let parts: Vec<&str> = n.strip_suffix(".json")?.split('.').collect();
            let k = parts.len();
            if k < 3 {
                return None;
            }
            let group = parts[..k - 2].join(".");
            let group = if group == "core" {
                String::new()
            } else {
                group
            };
            Some((group, parts[k - 2].to_string(), parts[k - 1].to_string()))
        })
        .collect();
    let groups = join::Groups::new(definitions, &fixture_names);
    let inputs = join::Inputs {
        protos: &protos,
        definitions,
        groups: &groups,
        fixtures: &fixtures,
    };
    let defs = inputs.defs()?;

    let root = workspace_root();
    let overlay_path = root.join("crates/xtask/overlay.json");
    let overlay = emit::Overlay::new(
        serde_json::from_str(&read(&overlay_path)?).map_err(|e| format!("overlay.json: {e}"))?,
    )?;
    let unknown = overlay.unknown(&defs);
    if !unknown.is_empty() {
        return Err(format!(
            "overlay.json names what does not exist: {unknown:?}"
        ));
    }

    let mut by_home: BTreeMap<Home, BTreeMap<String, Vec<&join::Def>>> = BTreeMap::new();
    let mut idents: BTreeMap<(Home, String, String), &str> = BTreeMap::new();
    for d in &defs {
        let (home, module) = emit::module_of(&d.name);
        let ident = emit::ident_of(&d.name);
        if let Some(other) = idents.insert((home.clone(), module.clone(), ident), &d.name) {
            return Err(format!("{} and {other} have the same Rust name", d.name));
        }
        by_home
            .entry(home)
            .or_default()
            .entry(module)
            .or_default()
            .push(d);
    }
    for (home, modules) in &by_home {
        let dir = match home {
            Home::Apimachinery => root.join("crates/apimachinery/src/types/generated"),
            Home::Api => root.join("crates/api/src/generated"),
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (module, defs) in modules {
            let package = defs
                .first()
                .and_then(|d| d.name.rsplit_once('.'))
                .map(|(p, _)| p)
                .unwrap_or_default();
            let src = emit::module_source(package, defs, &overlay, home);
            write(&dir.join(format!("{module}.rs")), &src)?;
        }
        write(&dir.join("mod.rs"), &emit::mod_source(modules, home))?;
    }

    let fields: usize = defs.iter().map(|d| d.fields.len()).sum();
    let inline = defs
        .iter()
        .flat_map(|d| &d.fields)
        .filter(|f| f.inline)
        .count();
    let json_only = defs
        .iter()
        .flat_map(|d| d.fields.iter().map(move |f| (d, f)))
        .filter(|(_, f)| f.proto == 0)
        .map(|(d, f)| format!("{}.{}", d.name, f.json))
        .collect::<Vec<_>>();
    let kinds = defs.iter().filter(|d| !d.gvks.is_empty()).count();
    println!(
        "{} declarations ({kinds} kinds), {fields} fields, {inline} inline; {} proto files, {} OpenAPI definitions",
        defs.len(),
        files.len(),
        definitions.len()
    );
    println!("fields only in JSON: {}", json_only.join(", "));
    Ok(())
}

fn write(path: &Path, src: &str) -> Result<(), String> {
    std::fs::write(path, src).map_err(|e| format!("{}: {e}", path.display()))
}
