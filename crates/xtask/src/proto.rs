//! A reader for the subset of proto2 that upstream's `generated.proto` files use: one
//! package per file, flat messages (no nesting, enums or oneofs), `optional`/`repeated`
//! fields and `map<string, V>` fields. Comments are skipped.

use std::collections::BTreeMap;

/// How a field repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    Optional,
    Repeated,
    /// `map<string, V>`: the value type is the field's type.
    Map,
}

/// One field, with its type as a scalar keyword or a definition name (`io.k8s...`).
#[derive(Debug, Clone)]
pub struct ProtoField {
    pub label: Label,
    pub ty: String,
    pub name: String,
    pub number: u32,
}

/// One message: its definition name and fields in file order.
#[derive(Debug, Clone)]
pub struct ProtoMessage {
    pub def: String,
    pub fields: Vec<ProtoField>,
}

/// The scalar type keywords upstream's files use.
pub const SCALARS: &[&str] = &["string", "int32", "int64", "bool", "bytes", "double"];

/// The definition name prefix of a proto package: `k8s.io.api.core.v1` and
/// `apimachinery.pkg.apis.meta.v1` become `io.k8s.api.core.v1` and
/// `io.k8s.apimachinery.pkg.apis.meta.v1`; `_` becomes `-` (`apiextensions-apiserver`).
pub fn def_prefix(package: &str) -> String {
    let p = package.trim_start_matches('.');
    let p = p.strip_prefix("k8s.io.").unwrap_or(p);
    format!("io.k8s.{}", p.replace('_', "-"))
}

/// Parses one file, adding its messages to `out` (keyed by definition name).
pub fn parse(text: &str, out: &mut BTreeMap<String, ProtoMessage>) -> Result<(), String> {
    let mut prefix = None::<String>;
    let mut current: Option<ProtoMessage> = None;
    let mut in_block_comment = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if in_block_comment {
            in_block_comment = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block_comment = !line.contains("*/");
            continue;
        }
        if line.starts_with("//") || line.is_empty() {
            continue;
        }
        let at = |msg: &str| format!("line {}: {msg}: {line}", n + 1);
        if let Some(p) = line.strip_prefix("package ") {
            prefix = Some(def_prefix(p.trim_end_matches(';')));
        } else if line.starts_with("syntax ")
            || line.starts_with("import ")
            || line.starts_with("option ")
        {
        } else if let Some(rest) = line.strip_prefix("message ") {
            let name = rest.trim_end_matches('{').trim();
            let prefix = prefix
                .as_ref()
                .ok_or_else(|| at("message before package"))?;
            current = Some(ProtoMessage {
                def: format!("{prefix}.{name}"),
                fields: Vec::new(),
            });
        } else if line == "}" {
            let msg = current.take().ok_or_else(|| at("unbalanced brace"))?;
            out.insert(msg.def.clone(), msg);
        } else {
            let msg = current
                .as_mut()
                .ok_or_else(|| at("field outside a message"))?;
            let prefix = prefix.as_deref().unwrap_or_default();
            msg.fields
                .push(parse_field(line, prefix).ok_or_else(|| at("unreadable field"))?);
        }
    }
    if current.is_some() {
        return Err("unterminated message".into());
    }
    Ok(())
}

fn parse_field(line: &str, prefix: &str) -> Option<ProtoField> {
    let line = line.strip_suffix(';')?;
    let (decl, number) = line.split_once('=')?;
    let number = number.trim().parse().ok()?;
    let (label, ty, name) = if let Some(rest) = decl.strip_prefix("map<") {
        let (types, name) = rest.split_once('>')?;
        let (key, value) = types.split_once(',')?;
        if key.trim() != "string" {
            return None;
        }
        (Label::Map, value.trim(), name.trim())
    } else {
        let mut words = decl.split_whitespace();
        let label = match words.next()? {
            "optional" => Label::Optional,
            "repeated" => Label::Repeated,
            _ => return None,
        };
        (label, words.next()?, words.next()?)
    };
    Some(ProtoField {
        label,
        ty: resolve(ty, prefix),
        name: name.to_string(),
        number,
    })
}

/// A type token as a scalar keyword or a definition name.
fn resolve(token: &str, prefix: &str) -> String {
    if SCALARS.contains(&token) {
        return token.to_string();
    }
    if let Some(full) = token.strip_prefix('.') {
        let (package, name) = full.rsplit_once('.').unwrap_or(("", full));
        return format!("{}.{name}", def_prefix(package));
    }
    format!("{prefix}.{token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_messages_fields_and_markers() {
        let text = "syntax = \"proto2\";\npackage k8s.io.api.core.v1;\nimport \"x\";\n\n\
            // A volume.\n// +protobuf.nullable=true\nmessage Volume {\n  // the name\n  \
            optional string name = 1;\n\n  optional VolumeSource volumeSource = 2;\n  \
            repeated .k8s.io.apimachinery.pkg.apis.meta.v1.Time times = 3;\n  \
            map<string, .k8s.io.apimachinery.pkg.api.resource.Quantity> limits = 4;\n}\n";
        let mut out = BTreeMap::new();
        parse(text, &mut out).unwrap();
        let v = &out["io.k8s.api.core.v1.Volume"];
        let f: Vec<_> = v
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.number))
            .collect();
        assert_eq!(
            f,
            [
                ("name", 1),
                ("volumeSource", 2),
                ("times", 3),
                ("limits", 4)
            ]
        );
        assert_eq!(v.fields[1].ty, "io.k8s.api.core.v1.VolumeSource");
        assert_eq!(v.fields[2].ty, "io.k8s.apimachinery.pkg.apis.meta.v1.Time");
        assert_eq!(v.fields[2].label, Label::Repeated);
        assert_eq!(
            v.fields[3].ty,
            "io.k8s.apimachinery.pkg.api.resource.Quantity"
        );
        assert_eq!(v.fields[3].label, Label::Map);
    }

    #[test]
    fn package_prefixes() {
        assert_eq!(
            def_prefix("apiextensions_apiserver.pkg.apis.apiextensions.v1"),
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"
        );
        assert_eq!(def_prefix("k8s.io.api.apps.v1"), "io.k8s.api.apps.v1");
    }
}
