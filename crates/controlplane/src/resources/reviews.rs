//! The review APIs kubectl's `auth` commands use: `selfsubjectreviews`
//! (authentication.k8s.io/v1, `kubectl auth whoami`) and `selfsubjectaccessreviews`
//! and `selfsubjectrulesreviews` (authorization.k8s.io/v1, `kubectl auth can-i`, with
//! `--list`). Each create is answered from the request's
//! user and the server's authorizer; nothing is stored.

use std::sync::Arc;

use crate::types::Typed;
use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apiserver::auth::{Authorizer, Decision, UserInfo};
use apiserver::registry::{meta, DefaultStrategy, RequestContext, ResourceDecl, Review, Scope};
use apiserver::request_info::RequestInfo;
use serde_json::{json, Map, Value};

/// A review answered from the request's user alone.
trait UserReview: Send + Sync + 'static {
    /// The answer to `obj` (the object posted, its status filled in) for `user`.
    fn review(&self, user: &UserInfo, namespace: &str, obj: Value) -> Result<Value, ApiError>;
}

/// A [`UserReview`] served as a [`Review`].
struct ByUser<T>(T);

#[async_trait::async_trait]
impl<T: UserReview> Review for ByUser<T> {
    async fn answer(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        obj: Value,
    ) -> Result<Value, ApiError> {
        self.0.review(&ctx.user, namespace, obj)
    }
}

/// `SelfSubjectReview`: who the server takes the caller to be.
pub struct SelfSubjectReview;

impl UserReview for SelfSubjectReview {
    fn review(&self, user: &UserInfo, _namespace: &str, mut obj: Value) -> Result<Value, ApiError> {
        let mut info = Map::new();
        info.insert("username".into(), json!(user.name));
        if !user.uid.is_empty() {
            info.insert("uid".into(), json!(user.uid));
        }
        if !user.groups.is_empty() {
            info.insert("groups".into(), json!(user.groups));
        }
        if !user.extra.is_empty() {
            info.insert("extra".into(), json!(user.extra));
        }
        // Upstream stamps the review with the time it was made.
        let now = apimachinery::time::now_rfc3339();
        meta::set_meta(&mut obj, "creationTimestamp", Some(json!(now)));
        obj["status"] = json!({ "userInfo": info });
        Ok(obj)
    }
}

/// `SelfSubjectAccessReview`: whether the caller may do something, as the authorizer says.
pub struct SelfSubjectAccessReview {
    pub authorizer: Arc<dyn Authorizer>,
}

fn string_at(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

impl UserReview for SelfSubjectAccessReview {
    fn review(&self, user: &UserInfo, _namespace: &str, mut obj: Value) -> Result<Value, ApiError> {
        let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
        let resource = spec.get("resourceAttributes").filter(|v| !v.is_null());
        let non_resource = spec.get("nonResourceAttributes").filter(|v| !v.is_null());
        let spec_path = FieldPath::new("spec");
        let invalid = |field: &str, value: Option<&Value>, detail: &str| {
            ApiError::invalid(
                "authorization.k8s.io",
                "SelfSubjectAccessReview",
                "",
                vec![FieldError::invalid(
                    &spec_path.child(field),
                    value.cloned().unwrap_or(Value::Null),
                    detail,
                )],
            )
        };
        let info =
            match (resource, non_resource) {
                (Some(_), Some(n)) => {
                    return Err(invalid(
                        "nonResourceAttributes",
                        Some(n),
                        "cannot be specified in combination with resourceAttributes",
                    ))
                }
                (None, None) => return Err(invalid(
                    "resourceAttributes",
                    None,
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                )),
                (Some(r), None) => RequestInfo {
                    is_resource_request: true,
                    verb: string_at(r, "verb"),
                    api_group: string_at(r, "group"),
                    api_version: string_at(r, "version"),
                    namespace: string_at(r, "namespace"),
                    resource: string_at(r, "resource"),
                    subresource: string_at(r, "subresource"),
                    name: string_at(r, "name"),
                    ..RequestInfo::default()
                },
                (None, Some(n)) => RequestInfo {
                    is_resource_request: false,
                    path: string_at(n, "path"),
                    verb: string_at(n, "verb"),
                    ..RequestInfo::default()
                },
            };
        let mut status = Map::new();
        match self.authorizer.authorize(user, &info) {
            Decision::Allow => {
                status.insert("allowed".into(), json!(true));
            }
            Decision::Deny(reason) => {
                status.insert("allowed".into(), json!(false));
                status.insert("denied".into(), json!(true));
                if !reason.is_empty() {
                    status.insert("reason".into(), json!(reason));
                }
            }
            Decision::NoOpinion => {
                status.insert("allowed".into(), json!(false));
            }
        }
        obj["status"] = Value::Object(status);
        Ok(obj)
    }
}

/// `SelfSubjectRulesReview`: the rules the authorizer can list for the caller.
pub struct SelfSubjectRulesReview {
    pub authorizer: Arc<dyn Authorizer>,
}

impl UserReview for SelfSubjectRulesReview {
    fn review(&self, user: &UserInfo, _namespace: &str, mut obj: Value) -> Result<Value, ApiError> {
        let namespace = obj
            .get("spec")
            .map(|s| string_at(s, "namespace"))
            .unwrap_or_default();
        let rules = self.authorizer.rules(user, &namespace);
        let resource: Vec<Value> = rules
            .resource
            .iter()
            .map(|r| {
                let mut rule = Map::new();
                rule.insert("verbs".into(), json!(r.verbs));
                if !r.api_groups.is_empty() {
                    rule.insert("apiGroups".into(), json!(r.api_groups));
                }
                if !r.resources.is_empty() {
                    rule.insert("resources".into(), json!(r.resources));
                }
                Value::Object(rule)
            })
            .collect();
        let non_resource: Vec<Value> = rules
            .non_resource
            .iter()
            .map(|r| json!({"verbs": r.verbs, "nonResourceURLs": r.urls}))
            .collect();
        obj["status"] = json!({
            "resourceRules": resource,
            "nonResourceRules": non_resource,
            "incomplete": rules.incomplete,
        });
        Ok(obj)
    }
}

/// The cluster-scoped review `kind` of `group`/v1 (its plural is the lower-cased kind with
/// an `s`, as for every review).
fn review_decl(group: &str, kind: &str, review: Arc<dyn Review>) -> ResourceDecl {
    let plural = format!("{}s", kind.to_ascii_lowercase());
    ResourceDecl::new(
        group,
        "v1",
        kind,
        &plural,
        Scope::Cluster,
        Arc::new(DefaultStrategy),
    )
    .typed()
    .with_review(review)
}

/// The review resources, answered with `authorizer`.
pub fn decls(authorizer: Arc<dyn Authorizer>) -> Vec<ResourceDecl> {
    vec![
        review_decl(
            "authentication.k8s.io",
            "SelfSubjectReview",
            Arc::new(ByUser(SelfSubjectReview)),
        ),
        review_decl(
            "authorization.k8s.io",
            "SelfSubjectAccessReview",
            Arc::new(ByUser(SelfSubjectAccessReview {
                authorizer: authorizer.clone(),
            })),
        ),
        review_decl(
            "authorization.k8s.io",
            "SelfSubjectRulesReview",
            Arc::new(ByUser(SelfSubjectRulesReview { authorizer })),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiserver::auth::DefaultAuthorizer;

    fn user(groups: &[&str]) -> UserInfo {
        UserInfo {
            name: "jane".into(),
            uid: String::new(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            extra: Default::default(),
        }
    }

    #[test]
    fn declarations() {
        let names: Vec<(String, String, String)> = decls(Arc::new(DefaultAuthorizer))
            .into_iter()
            .map(|d| (d.group, d.kind, d.plural))
            .collect();
        let want = [
            (
                "authentication.k8s.io",
                "SelfSubjectReview",
                "selfsubjectreviews",
            ),
            (
                "authorization.k8s.io",
                "SelfSubjectAccessReview",
                "selfsubjectaccessreviews",
            ),
            (
                "authorization.k8s.io",
                "SelfSubjectRulesReview",
                "selfsubjectrulesreviews",
            ),
        ]
        .map(|(g, k, p)| (g.to_string(), k.to_string(), p.to_string()));
        assert_eq!(names, want);
    }

    #[test]
    fn whoami() {
        let out = SelfSubjectReview
            .review(
                &user(&["system:authenticated"]),
                "",
                json!({"metadata": {}}),
            )
            .expect("review");
        assert_eq!(
            out["status"],
            json!({"userInfo": {"username": "jane", "groups": ["system:authenticated"]}})
        );
        assert!(out["metadata"]["creationTimestamp"].is_string());
    }

    #[test]
    fn can_i_list() {
        let ssrr = SelfSubjectRulesReview {
            authorizer: Arc::new(DefaultAuthorizer),
        };
        let rules = |groups: &[&str]| {
            ssrr.review(&user(groups), "", json!({"spec": {"namespace": "default"}}))
                .map(|v| v["status"].clone())
                .expect("review")
        };
        let admin = rules(&["system:masters", "system:authenticated"]);
        assert_eq!(
            admin["resourceRules"],
            json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}])
        );
        assert_eq!(admin["incomplete"], json!(false));
        let other = rules(&["system:authenticated"]);
        let created: Vec<&str> = other["resourceRules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["resources"][0].as_str())
            .collect();
        assert_eq!(
            created,
            [
                "selfsubjectreviews",
                "selfsubjectaccessreviews",
                "selfsubjectrulesreviews"
            ]
        );
        assert!(other["nonResourceRules"].to_string().contains("/healthz"));
    }

    #[test]
    fn can_i() {
        let ssar = SelfSubjectAccessReview {
            authorizer: Arc::new(DefaultAuthorizer),
        };
        let ask = |u: &UserInfo, spec: Value| {
            ssar.review(u, "", json!({"spec": spec}))
                .map(|v| v["status"].clone())
        };
        let pods = json!({"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}});
        assert_eq!(
            ask(&user(&["system:masters"]), pods.clone()).expect("masters"),
            json!({"allowed": true})
        );
        assert_eq!(
            ask(&user(&["system:authenticated"]), pods).expect("others"),
            json!({"allowed": false})
        );
        let healthz = json!({"nonResourceAttributes": {"path": "/healthz", "verb": "get"}});
        assert_eq!(
            ask(&user(&[]), healthz).expect("public path"),
            json!({"allowed": true})
        );
        let err = ask(&user(&[]), json!({})).expect_err("no attributes");
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            r#"SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified"#
        );
    }
}
