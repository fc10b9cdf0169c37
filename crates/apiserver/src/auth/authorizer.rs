//! Authorizers: may this user do this verb on this resource or path?

use crate::request_info::RequestInfo;

use super::{UserInfo, AUTHENTICATED_GROUP, MASTERS_GROUP};

/// An authorizer's answer, as upstream's `authorizer.Decision`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Denied, with a reason appended to the Forbidden message (may be empty).
    Deny(String),
    /// No opinion: the next authorizer decides.
    NoOpinion,
}

/// What a user may do to resources, as one rule of upstream's `SubjectRulesReviewStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
}

/// What a user may do to non-resource paths (`*` at the end of a path matches any suffix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonResourceRule {
    pub verbs: Vec<String>,
    pub urls: Vec<String>,
}

/// The rules an authorizer can list for a user in a namespace (`incomplete` when it
/// cannot list all it would allow).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub resource: Vec<ResourceRule>,
    pub non_resource: Vec<NonResourceRule>,
    pub incomplete: bool,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Decides whether a request may proceed.
pub trait Authorizer: Send + Sync + 'static {
    fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Decision;

    /// The rules that hold for `user` in `namespace` (upstream's `RuleResolver`, for
    /// `SelfSubjectRulesReview`). By default none are known: the answer is incomplete.
    fn rules(&self, _user: &UserInfo, _namespace: &str) -> Rules {
        Rules {
            incomplete: true,
            ..Rules::default()
        }
    }
}

/// Everything, as rules.
fn everything() -> Rules {
    Rules {
        resource: vec![ResourceRule {
            verbs: strings(&["*"]),
            api_groups: strings(&["*"]),
            resources: strings(&["*"]),
        }],
        non_resource: vec![NonResourceRule {
            verbs: strings(&["*"]),
            urls: strings(&["*"]),
        }],
        incomplete: false,
    }
}

/// Paths anyone may GET, as upstream's `system:public-info-viewer` role grants.
const PUBLIC_PATHS: [&str; 5] = ["/healthz", "/livez", "/readyz", "/version", "/version/"];

/// Path globs any authenticated user may GET, as `system:discovery` grants.
const DISCOVERY_PATHS: [&str; 4] = [
    "/api",
    "/apis",
    "/openapi",
    "/.well-known/openid-configuration",
];

/// What any authenticated user may create, as upstream's `system:basic-user` role grants:
/// the reviews that tell them who they are and what they may do.
const BASIC_USER_REVIEWS: [(&str, &str); 3] = [
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
];

/// The bootstrap policy upstream's RBAC starts with, for what this server serves today:
/// `system:masters` may do everything; health and version are public; discovery and OpenAPI
/// are open to authenticated users, and so are the self reviews. Everything else gets no
/// opinion (and so is denied).
pub struct DefaultAuthorizer;

impl Authorizer for DefaultAuthorizer {
    fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Decision {
        if user.in_group(MASTERS_GROUP) {
            return Decision::Allow;
        }
        if info.is_resource_request
            && info.verb == "create"
            && user.in_group(AUTHENTICATED_GROUP)
            && BASIC_USER_REVIEWS
                .iter()
                .any(|(g, r)| info.api_group == *g && info.resource == *r)
        {
            return Decision::Allow;
        }
        if !info.is_resource_request && info.verb == "get" {
            let path = info.path.as_str();
            let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
            if PUBLIC_PATHS.iter().any(|p| under(p)) {
                return Decision::Allow;
            }
            if user.in_group(AUTHENTICATED_GROUP) && DISCOVERY_PATHS.iter().any(|p| under(p)) {
                return Decision::Allow;
            }
        }
        Decision::NoOpinion
    }

    fn rules(&self, user: &UserInfo, _namespace: &str) -> Rules {
        if user.in_group(MASTERS_GROUP) {
            return everything();
        }
        let mut rules = Rules::default();
        if user.in_group(AUTHENTICATED_GROUP) {
            for (group, resource) in BASIC_USER_REVIEWS {
                rules.resource.push(ResourceRule {
                    verbs: strings(&["create"]),
                    api_groups: strings(&[group]),
                    resources: strings(&[resource]),
                });
            }
            let urls = DISCOVERY_PATHS
                .iter()
                .flat_map(|p| [p.to_string(), format!("{p}/*")])
                .collect();
            rules.non_resource.push(NonResourceRule {
                verbs: strings(&["get"]),
                urls,
            });
        }
        rules.non_resource.push(NonResourceRule {
            verbs: strings(&["get"]),
            urls: strings(&PUBLIC_PATHS),
        });
        rules
    }
}

/// Allows every request (`--authorization-mode=AlwaysAllow`).
pub struct AlwaysAllow;

impl Authorizer for AlwaysAllow {
    fn authorize(&self, _user: &UserInfo, _info: &RequestInfo) -> Decision {
        Decision::Allow
    }

    fn rules(&self, _user: &UserInfo, _namespace: &str) -> Rules {
        everything()
    }
}

/// Denies every request (`--authorization-mode=AlwaysDeny`).
pub struct AlwaysDeny;

impl Authorizer for AlwaysDeny {
    fn authorize(&self, _user: &UserInfo, _info: &RequestInfo) -> Decision {
        Decision::Deny(String::new())
    }

    fn rules(&self, _user: &UserInfo, _namespace: &str) -> Rules {
        Rules::default()
    }
}

/// Group of node identities.
pub const NODES_GROUP: &str = "system:nodes";

/// Upstream's node authorizer for what this server serves: requests of node identities
/// (`system:node:<name>` in `system:nodes`) may write events, as the node rules allow.
/// Secrets and config maps are readable by a node only through its pods; no pods are
/// served, so those get no opinion, as does everything else and every other user.
pub struct NodeAuthorizer;

impl NodeAuthorizer {
    fn is_node(user: &UserInfo) -> bool {
        user.in_group(NODES_GROUP)
            && user
                .name
                .strip_prefix("system:node:")
                .is_some_and(|n| !n.is_empty())
    }
}

/// What the node rules allow on events.
const NODE_EVENT_VERBS: [&str; 3] = ["create", "update", "patch"];

impl Authorizer for NodeAuthorizer {
    fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Decision {
        if !Self::is_node(user) || !info.is_resource_request {
            return Decision::NoOpinion;
        }
        let events = info.resource == "events"
            && (info.api_group.is_empty() || info.api_group == "events.k8s.io")
            && info.subresource.is_empty();
        if events && NODE_EVENT_VERBS.contains(&info.verb.as_str()) {
            Decision::Allow
        } else {
            Decision::NoOpinion
        }
    }

    fn rules(&self, user: &UserInfo, _namespace: &str) -> Rules {
        let mut rules = Rules::default();
        if Self::is_node(user) {
            rules.resource.push(ResourceRule {
                verbs: strings(&NODE_EVENT_VERBS),
                api_groups: strings(&["", "events.k8s.io"]),
                resources: strings(&["events"]),
            });
        }
        rules
    }
}

/// The authorizers of `--authorization-mode`, asked in order: the first that allows or
/// denies decides (upstream's union authorizer).
pub struct UnionAuthorizer {
    pub authorizers: Vec<Box<dyn Authorizer>>,
}

impl Authorizer for UnionAuthorizer {
    fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Decision {
        for a in &self.authorizers {
            match a.authorize(user, info) {
                Decision::NoOpinion => {}
                decided => return decided,
            }
        }
        Decision::NoOpinion
    }

    fn rules(&self, user: &UserInfo, namespace: &str) -> Rules {
        let mut all = Rules::default();
        for a in &self.authorizers {
            let r = a.rules(user, namespace);
            all.resource.extend(r.resource);
            all.non_resource.extend(r.non_resource);
            all.incomplete |= r.incomplete;
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn default_policy() {
        let anon = UserInfo::anonymous();
        let get = |p: &str| RequestInfo::resolve(&Method::GET, p, None);
        assert_eq!(
            DefaultAuthorizer.authorize(&anon, &get("/healthz")),
            Decision::Allow
        );
        assert_eq!(
            DefaultAuthorizer.authorize(&anon, &get("/readyz/etcd")),
            Decision::Allow
        );
        assert_eq!(
            DefaultAuthorizer.authorize(&anon, &get("/api")),
            Decision::NoOpinion
        );
        assert_eq!(
            DefaultAuthorizer.authorize(&anon, &get("/api/v1/namespaces")),
            Decision::NoOpinion
        );
        let admin = UserInfo {
            name: "admin".into(),
            uid: String::new(),
            groups: vec![MASTERS_GROUP.into(), AUTHENTICATED_GROUP.into()],
            extra: Default::default(),
        };
        assert_eq!(
            DefaultAuthorizer.authorize(&admin, &get("/api/v1/namespaces")),
            Decision::Allow
        );
        let bob = UserInfo {
            name: "bob".into(),
            uid: String::new(),
            groups: vec![AUTHENTICATED_GROUP.into()],
            extra: Default::default(),
        };
        assert_eq!(
            DefaultAuthorizer.authorize(&bob, &get("/apis/apps")),
            Decision::Allow
        );
        assert_eq!(
            DefaultAuthorizer.authorize(&bob, &get("/healthzfoo")),
            Decision::NoOpinion
        );
    }

    #[test]
    fn modes_in_order() {
        let node = UserInfo {
            name: "system:node:n1".into(),
            uid: String::new(),
            groups: vec![NODES_GROUP.into(), AUTHENTICATED_GROUP.into()],
            extra: Default::default(),
        };
        let create_event =
            RequestInfo::resolve(&Method::POST, "/api/v1/namespaces/default/events", None);
        let get_secret =
            RequestInfo::resolve(&Method::GET, "/api/v1/namespaces/default/secrets/s", None);
        assert_eq!(
            NodeAuthorizer.authorize(&node, &create_event),
            Decision::Allow
        );
        assert_eq!(
            NodeAuthorizer.authorize(&node, &get_secret),
            Decision::NoOpinion
        );
        let node_rbac = UnionAuthorizer {
            authorizers: vec![Box::new(NodeAuthorizer), Box::new(DefaultAuthorizer)],
        };
        assert_eq!(node_rbac.authorize(&node, &create_event), Decision::Allow);
        assert_eq!(node_rbac.authorize(&node, &get_secret), Decision::NoOpinion);
        let deny_first = UnionAuthorizer {
            authorizers: vec![Box::new(AlwaysDeny), Box::new(AlwaysAllow)],
        };
        assert!(matches!(
            deny_first.authorize(&node, &create_event),
            Decision::Deny(_)
        ));
        let allow_first = UnionAuthorizer {
            authorizers: vec![Box::new(AlwaysAllow), Box::new(AlwaysDeny)],
        };
        assert_eq!(allow_first.authorize(&node, &get_secret), Decision::Allow);
    }
}
