//! The generic Store's write path: admission in upstream's two phases around the
//! strategy, strategy hooks with the request's context, and graceful deletion.

use std::sync::{Arc, Mutex};

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apiserver::admission::{AdmissionChain, AdmissionPlugin, Attributes, Operation};
use apiserver::auth::UserInfo;
use apiserver::registry::{
    DeleteOptions, DeleteOutcome, RequestContext, ResourceDecl, Scope, Store, Strategy,
    WriteContext,
};
use serde_json::{json, Value};
use storage::embedded::EmbeddedStore;

/// Records what each phase saw, in order.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl AdmissionPlugin for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    async fn admit(&self, attrs: &Attributes<'_>, obj: Option<&mut Value>) -> Result<(), ApiError> {
        let mut seen = self.seen.lock().unwrap();
        seen.push(format!(
            "mutate {} prepared={} old={} options={}",
            attrs.operation.as_str(),
            obj.as_ref().is_some_and(|o| o.get("prepared").is_some()),
            attrs.old.is_some(),
            attrs
                .options
                .and_then(|o| o["kind"].as_str())
                .unwrap_or("-"),
        ));
        if let Some(obj) = obj {
            obj["mutated"] = json!(true);
        }
        Ok(())
    }

    async fn validate(&self, attrs: &Attributes<'_>, obj: Option<&Value>) -> Result<(), ApiError> {
        self.seen.lock().unwrap().push(format!(
            "validate {} prepared={} mutated={}",
            attrs.operation.as_str(),
            obj.is_some_and(|o| o.get("prepared").is_some()),
            obj.is_some_and(|o| o.get("mutated").is_some()),
        ));
        if obj.is_some_and(|o| o["spec"]["refuse"] == json!(true)) {
            return Err(ApiError::forbidden(
                "example.com",
                "widgets",
                attrs.name,
                "refused",
            ));
        }
        Ok(())
    }
}

/// A kind whose preparation reads the user, refuses a spec, and which deletes gracefully
/// (30 s unless asked otherwise, at once when `spec.quick`).
struct Widget;

impl Strategy for Widget {
    fn prepare(&self, ctx: &WriteContext<'_>, obj: &mut Value) -> Result<(), ApiError> {
        if obj["spec"]["bad"] == json!(true) {
            return Err(ApiError::bad_request("bad widget"));
        }
        obj["prepared"] = json!(ctx.user.name);
        if ctx.operation == Operation::Update {
            assert!(ctx.old.is_some());
        }
        Ok(())
    }

    fn validate_in_context(&self, ctx: &WriteContext<'_>, obj: &Value) -> Vec<FieldError> {
        if ctx.dry_run && obj["spec"]["noDryRun"] == json!(true) {
            return vec![FieldError::forbidden(&FieldPath::new("spec"), "no dry run")];
        }
        Vec::new()
    }

    fn graceful_delete_period(&self, obj: &Value, requested: Option<i64>) -> Option<i64> {
        if obj["spec"]["quick"] == json!(true) {
            return Some(0);
        }
        Some(requested.unwrap_or(30))
    }
}

fn ctx(user: &str) -> RequestContext {
    RequestContext {
        user: UserInfo {
            name: user.to_string(),
            ..Default::default()
        },
        options: Some(json!({"kind": "CreateOptions"})),
        ..Default::default()
    }
}

fn store(dir: &tempfile::TempDir, recorder: Arc<Recorder>) -> Store {
    let backend = Arc::new(EmbeddedStore::open(&dir.path().join("db")).unwrap());
    let decl = ResourceDecl::new(
        "example.com",
        "v1",
        "Widget",
        "widgets",
        Scope::Namespaced,
        Arc::new(Widget),
    );
    Store::new(
        Arc::new(decl),
        backend,
        "/registry",
        AdmissionChain::new(vec![recorder]),
    )
}

fn widget(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_runs_mutating_before_and_validating_after_the_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let store = store(&dir, recorder.clone());

    let created = store
        .create(&ctx("alice"), "ns", widget("w", json!({})))
        .await
        .unwrap();
    assert_eq!(created["prepared"], json!("alice"), "prepare sees the user");
    assert_eq!(created["mutated"], json!(true));
    let mut update = created.clone();
    update["spec"]["size"] = json!(2);
    store
        .update(&ctx("bob"), "ns", "w", "", update)
        .await
        .unwrap();
    assert_eq!(
        *recorder.seen.lock().unwrap(),
        vec![
            "mutate CREATE prepared=false old=false options=CreateOptions",
            "validate CREATE prepared=true mutated=true",
            "mutate UPDATE prepared=true old=true options=CreateOptions",
            "validate UPDATE prepared=true mutated=true",
        ]
    );

    // Validating admission refuses what it sees; nothing is stored.
    let err = store
        .create(&ctx("alice"), "ns", widget("r", json!({"refuse": true})))
        .await
        .unwrap_err();
    assert_eq!(err.code, 403);
    assert_eq!(store.get("ns", "r").await.unwrap_err().code, 404);
    // A strategy may refuse in its preparation, and validate with the request's context.
    let err = store
        .create(&ctx("alice"), "ns", widget("b", json!({"bad": true})))
        .await
        .unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (400, "bad widget"));
    let mut dry = ctx("alice");
    dry.dry_run = true;
    let err = store
        .create(&dry, "ns", widget("d", json!({"noDryRun": true})))
        .await
        .unwrap_err();
    assert_eq!(err.code, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_deletion_sets_a_grace_period_and_may_only_shorten_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, Arc::new(Recorder::default()));
    let c = ctx("alice");
    store
        .create(&c, "ns", widget("slow", json!({})))
        .await
        .unwrap();
    store
        .create(&c, "ns", widget("quick", json!({"quick": true})))
        .await
        .unwrap();

    // A period of zero deletes at once.
    let out = store
        .delete(&c, "ns", "quick", &DeleteOptions::default())
        .await
        .unwrap();
    assert!(matches!(out, DeleteOutcome::Deleted(_)));

    // Otherwise the object stays, marked with its grace period.
    let DeleteOutcome::Pending(marked) = store
        .delete(&c, "ns", "slow", &DeleteOptions::default())
        .await
        .unwrap()
    else {
        panic!("a graceful delete keeps the object");
    };
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], json!(30));
    let first = marked["metadata"]["deletionTimestamp"]
        .as_str()
        .unwrap()
        .to_string();
    let at = apimachinery::time::parse_rfc3339(&first).unwrap();
    let ahead = at.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(
        ahead.as_secs() >= 28,
        "deletionTimestamp is now + 30 s, got +{ahead:?}"
    );

    // A longer period changes nothing; a shorter one moves the timestamp earlier.
    let longer = DeleteOptions {
        grace_period_seconds: Some(60),
        ..Default::default()
    };
    let DeleteOutcome::Pending(same) = store.delete(&c, "ns", "slow", &longer).await.unwrap()
    else {
        panic!("still pending");
    };
    assert_eq!(
        same["metadata"]["resourceVersion"],
        marked["metadata"]["resourceVersion"]
    );
    let shorter = DeleteOptions {
        grace_period_seconds: Some(10),
        ..Default::default()
    };
    let DeleteOutcome::Pending(short) = store.delete(&c, "ns", "slow", &shorter).await.unwrap()
    else {
        panic!("still pending");
    };
    assert_eq!(short["metadata"]["deletionGracePeriodSeconds"], json!(10));
    let moved =
        apimachinery::time::parse_rfc3339(short["metadata"]["deletionTimestamp"].as_str().unwrap())
            .unwrap();
    assert_eq!(at.duration_since(moved).unwrap().as_secs(), 20);

    // An update while the grace period runs does not finish the deletion.
    let mut labelled = short.clone();
    labelled["metadata"]["labels"] = json!({"a": "b"});
    store.update(&c, "ns", "slow", "", labelled).await.unwrap();
    assert!(store.get("ns", "slow").await.is_ok());

    // Zero (what the kubelet sends once the object stopped) deletes it.
    let now = DeleteOptions {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    let out = store.delete(&c, "ns", "slow", &now).await.unwrap();
    assert!(matches!(out, DeleteOutcome::Deleted(_)));
    assert_eq!(store.get("ns", "slow").await.unwrap_err().code, 404);
}

/// Records the resource, version and kind admission is told of.
#[derive(Default)]
struct VersionRecorder {
    seen: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl AdmissionPlugin for VersionRecorder {
    fn name(&self) -> &'static str {
        "VersionRecorder"
    }

    async fn validate(&self, attrs: &Attributes<'_>, obj: Option<&Value>) -> Result<(), ApiError> {
        self.seen.lock().unwrap().push(format!(
            "{} {}/{} {} {} object={}",
            attrs.operation.as_str(),
            attrs.resource.group,
            attrs.resource.version,
            attrs.resource.plural,
            attrs.kind,
            obj.map_or("-".to_string(), |o| o["apiVersion"].to_string()),
        ));
        Ok(())
    }
}

/// `v1beta1` Widgets keep their spec's `size` as `count`.
struct Beta;

impl apiserver::registry::Conversion for Beta {
    fn hub_of(&self, mut obj: Value) -> Result<Value, ApiError> {
        obj["apiVersion"] = json!("example.com/v1");
        if let Some(count) = obj["spec"].as_object_mut().and_then(|s| s.remove("count")) {
            obj["spec"]["size"] = count;
        }
        Ok(obj)
    }

    fn version_of(&self, mut obj: Value) -> Result<Value, ApiError> {
        obj["apiVersion"] = json!("example.com/v1beta1");
        if let Some(size) = obj["spec"].as_object_mut().and_then(|s| s.remove("size")) {
            obj["spec"]["count"] = size;
        }
        Ok(obj)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_is_told_the_version_a_write_was_made_at() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(EmbeddedStore::open(&dir.path().join("db")).unwrap());
    let recorder = Arc::new(VersionRecorder::default());
    let decl = |version: &str| {
        Arc::new(ResourceDecl::new(
            "example.com",
            version,
            "Widget",
            "widgets",
            Scope::Namespaced,
            Arc::new(Widget),
        ))
    };
    let hub = Store::new(
        decl("v1"),
        backend,
        "/registry",
        AdmissionChain::new(vec![recorder.clone()]),
    );
    let beta = Store::served_at(&hub, decl("v1beta1"), Arc::new(Beta));

    let body = json!({"apiVersion": "example.com/v1beta1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"count": 1}});
    let created = beta.create(&ctx("alice"), "ns", body).await.unwrap();
    assert_eq!(created["spec"]["count"], 1);
    hub.create(&ctx("alice"), "ns", widget("h", json!({})))
        .await
        .unwrap();
    beta.delete(&ctx("alice"), "ns", "w", &DeleteOptions::default())
        .await
        .unwrap();
    // Admission sees the request's version; the object is the stored version's (as
    // upstream's in-tree plugins see the internal one).
    assert_eq!(
        *recorder.seen.lock().unwrap(),
        vec![
            "CREATE example.com/v1beta1 widgets Widget object=\"example.com/v1\"",
            "CREATE example.com/v1 widgets Widget object=\"example.com/v1\"",
            "DELETE example.com/v1beta1 widgets Widget object=-",
        ]
    );
}

/// Records the namespace admission is told of.
#[derive(Default)]
struct NamespaceRecorder {
    seen: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl AdmissionPlugin for NamespaceRecorder {
    fn name(&self) -> &'static str {
        "NamespaceRecorder"
    }

    async fn admit(&self, attrs: &Attributes<'_>, _: Option<&mut Value>) -> Result<(), ApiError> {
        self.seen.lock().unwrap().push(format!(
            "{} {}/{}",
            attrs.operation.as_str(),
            attrs.namespace,
            attrs.name
        ));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_is_admitted_in_itself() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(EmbeddedStore::open(&dir.path().join("db")).unwrap());
    let recorder = Arc::new(NamespaceRecorder::default());
    let decl = ResourceDecl::new(
        "",
        "v1",
        "Namespace",
        "namespaces",
        Scope::Cluster,
        Arc::new(apiserver::registry::DefaultStrategy),
    );
    let store = Store::new(
        Arc::new(decl),
        backend,
        "/registry",
        AdmissionChain::new(vec![recorder.clone()]),
    );
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
    let created = store.create(&ctx("alice"), "", ns).await.unwrap();
    store
        .update(&ctx("alice"), "", "team", "", created)
        .await
        .unwrap();
    store
        .delete(&ctx("alice"), "", "team", &DeleteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        *recorder.seen.lock().unwrap(),
        ["CREATE team/team", "UPDATE team/team", "DELETE team/team"]
    );
}
