//! The options object of a connect request (`PodExecOptions` of `pods/exec`), decoded from
//! its query as upstream's parameter codec decodes it, for admission: connect requests
//! are admitted (operation `CONNECT`) with their options as the object.

use apimachinery::errors::ApiError;
use apimachinery::schema::{MessageRef, Type};
use serde_json::{json, Map, Value};

use crate::admission::{Attributes, Operation};
use crate::registry::{RequestContext, Store, Subresource};
use crate::request_info::query_values;

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// One query value as a value of `ty`, or the 400 upstream's conversion gives.
fn value_of(name: &str, ty: &Type, raw: &str) -> Result<Value, ApiError> {
    let bad = |what: &str| {
        ApiError::bad_request(&format!(
            "{name}: strconv.{what}: parsing {}: invalid syntax",
            apimachinery::go_quote(raw)
        ))
    };
    Ok(match ty {
        Type::Bool => json!(parse_bool(raw).ok_or_else(|| bad("ParseBool"))?),
        Type::Int32 | Type::Int64 => json!(raw.parse::<i64>().map_err(|_| bad("ParseInt"))?),
        _ => json!(raw),
    })
}

/// The options object `kind` (of `api_version`) that `query` gives, with the path after
/// the subresource as its `path` field when it has one (the proxies' options).
pub fn decode(
    schema: &MessageRef,
    api_version: &str,
    kind: &str,
    query: Option<&str>,
    path: &str,
) -> Result<Value, ApiError> {
    let mut out = Map::new();
    out.insert("kind".into(), json!(kind));
    out.insert("apiVersion".into(), json!(api_version));
    for field in schema.json_fields() {
        let name = field.json.as_ref();
        let values = query_values(query, name);
        match &field.ty {
            Type::List(item) if !values.is_empty() => {
                let items = values
                    .iter()
                    .map(|v| value_of(name, item, v))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(name.to_string(), Value::Array(items));
            }
            Type::String | Type::Bool | Type::Int32 | Type::Int64 => {
                if let Some(v) = values.first() {
                    out.insert(name.to_string(), value_of(name, &field.ty, v)?);
                }
            }
            // Other types (a `sinceTime`) are not read from the query.
            _ => {}
        }
    }
    if !path.is_empty() && schema.field("path").is_some() {
        out.insert("path".into(), json!(path));
    }
    Ok(Value::Object(out))
}

/// Admits a connect to `sub` of `name` (upstream's connect handler): operation CONNECT,
/// the subresource's kind, and the options object the query gives as the object.
pub async fn admit(
    store: &Store,
    sub: &Subresource,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
    query: Option<&str>,
    path: &str,
) -> Result<(), ApiError> {
    let (api_version, kind) = match &sub.kind {
        Some((g, v, k)) if g.is_empty() => (v.clone(), k.clone()),
        Some((g, v, k)) => (format!("{g}/{v}"), k.clone()),
        None => (store.decl.api_version(), store.decl.kind.clone()),
    };
    let mut options = match &sub.options {
        Some(schema) => Some(decode(schema, &api_version, &kind, query, path)?),
        None => None,
    };
    store
        .admission()
        .admit(
            &Attributes {
                operation: Operation::Connect,
                resource: &store.decl,
                subresource: &sub.name,
                kind: &kind,
                namespace,
                name,
                old: None,
                options: None,
                user: &ctx.user,
                dry_run: false,
                warnings: &ctx.warnings,
            },
            options.as_mut(),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::schema::decl;

    static EXEC: decl::Message = decl::Message {
        name: "io.k8s.api.core.v1.PodExecOptions",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            decl::Field::new("stdin", 1, decl::Type::Bool),
            decl::Field::new("tty", 4, decl::Type::Bool),
            decl::Field::new("container", 5, decl::Type::String),
            decl::Field::new("command", 6, decl::Type::List(&decl::Type::String)),
        ],
    };

    fn exec_options() -> MessageRef {
        MessageRef::from_decl(&EXEC)
    }

    #[test]
    fn query_values_become_typed_fields() {
        let opts = decode(
            &exec_options(),
            "v1",
            "PodExecOptions",
            Some("command=ls&command=-l&stdin=true&container=web&other=x"),
            "",
        )
        .unwrap();
        assert_eq!(
            opts,
            json!({"kind": "PodExecOptions", "apiVersion": "v1", "stdin": true,
                   "container": "web", "command": ["ls", "-l"]})
        );
        let err = decode(
            &exec_options(),
            "v1",
            "PodExecOptions",
            Some("tty=maybe"),
            "",
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "tty: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
    }

    /// Refuses connects, recording what it saw.
    #[derive(Default)]
    struct ConnectWatcher {
        seen: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl crate::admission::AdmissionPlugin for ConnectWatcher {
        fn name(&self) -> &'static str {
            "ConnectWatcher"
        }

        async fn admit(
            &self,
            attrs: &Attributes<'_>,
            obj: Option<&mut Value>,
        ) -> Result<(), ApiError> {
            self.seen.lock().unwrap().push(format!(
                "{} {}/{} {} {}",
                attrs.operation.as_str(),
                attrs.resource.plural,
                attrs.subresource,
                attrs.kind,
                obj.map_or(Value::Null, |o| o.clone())
            ));
            Err(ApiError::forbidden("", "pods", attrs.name, "no exec"))
        }
    }

    #[tokio::test]
    async fn connects_are_admitted_with_their_options() {
        use crate::registry::{DefaultStrategy, ResourceDecl, Scope};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let backend =
            Arc::new(storage::embedded::EmbeddedStore::open(&dir.path().join("db")).unwrap());
        let watcher = Arc::new(ConnectWatcher::default());
        let decl = ResourceDecl::new(
            "",
            "v1",
            "Pod",
            "pods",
            Scope::Namespaced,
            Arc::new(DefaultStrategy),
        );
        let store = Store::new(
            Arc::new(decl),
            backend,
            "/registry",
            crate::admission::AdmissionChain::new(vec![watcher.clone()]),
        );
        let sub = Subresource::new("exec", &["create", "get"])
            .of_kind("", "v1", "PodExecOptions")
            .with_options(exec_options());
        let err = admit(
            &store,
            &sub,
            &RequestContext::default(),
            "default",
            "web",
            Some("command=ls&stdout=1"),
            "",
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, 403);
        assert_eq!(
            *watcher.seen.lock().unwrap(),
            [
                r#"CONNECT pods/exec PodExecOptions {"kind":"PodExecOptions","apiVersion":"v1","command":["ls"]}"#
            ]
        );
    }
}
