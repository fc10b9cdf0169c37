//! The review kinds: authentication.k8s.io/v1 `SelfSubjectReview` and
//! authorization.k8s.io/v1 `SelfSubjectAccessReview` (`k8s.io/api/authentication/v1`,
//! `k8s.io/api/authorization/v1`). kubectl sends and reads them as protobuf.

use apimachinery::schema::{Field, Message, Type};
use apimachinery::types::OBJECT_META;

const METADATA: Field =
    Field::new("metadata", 1, Type::Message(&OBJECT_META)).doc("Standard object metadata.");

/// `UserInfo` (authentication/v1). `extra` is not declared: this server sets none.
pub static USER_INFO: Message = Message {
    name: "io.k8s.api.authentication.v1.UserInfo",
    description: "What the authenticator knows about a user.",
    gvk: None,
    fields: &[
        Field::new("username", 1, Type::String).doc("The name that identifies the user."),
        Field::new("uid", 2, Type::String).doc("A unique value that identifies the user."),
        Field::new("groups", 3, Type::List(&Type::String)).doc("The groups the user belongs to."),
    ],
};

/// `SelfSubjectReviewStatus`.
pub static SELF_SUBJECT_REVIEW_STATUS: Message = Message {
    name: "io.k8s.api.authentication.v1.SelfSubjectReviewStatus",
    description: "What the server knows about the user who made the request.",
    gvk: None,
    fields: &[
        Field::new("userInfo", 1, Type::Message(&USER_INFO)).doc("The user who made the request.")
    ],
};

/// `SelfSubjectReview`: who the server takes the caller to be.
pub static SELF_SUBJECT_REVIEW: Message = Message {
    name: "io.k8s.api.authentication.v1.SelfSubjectReview",
    description: "Returns the user attributes the server holds for the user who made the request.",
    gvk: Some(("authentication.k8s.io", "v1", "SelfSubjectReview")),
    fields: &[
        METADATA,
        Field::new("status", 2, Type::Message(&SELF_SUBJECT_REVIEW_STATUS))
            .doc("Filled in by the server with the user attributes."),
    ],
};

/// `ResourceAttributes` (authorization/v1). The selector attributes are not declared.
pub static RESOURCE_ATTRIBUTES: Message = Message {
    name: "io.k8s.api.authorization.v1.ResourceAttributes",
    description: "The attributes of a resource request, as the authorizer sees them.",
    gvk: None,
    fields: &[
        Field::new("namespace", 1, Type::String).doc(
            "The namespace of the action (none for cluster-scoped resources or all namespaces).",
        ),
        Field::new("verb", 2, Type::String).doc("A Kubernetes resource API verb, or `*` for all."),
        Field::new("group", 3, Type::String).doc("The API group of the resource, or `*` for all."),
        Field::new("version", 4, Type::String)
            .doc("The API version of the resource, or `*` for all."),
        Field::new("resource", 5, Type::String).doc("A resource type, or `*` for all."),
        Field::new("subresource", 6, Type::String).doc("A subresource, or empty for none."),
        Field::new("name", 7, Type::String).doc("The name of the resource, or empty for all."),
    ],
};

/// `NonResourceAttributes`.
pub static NON_RESOURCE_ATTRIBUTES: Message = Message {
    name: "io.k8s.api.authorization.v1.NonResourceAttributes",
    description: "The attributes of a request for a path that is not a resource.",
    gvk: None,
    fields: &[
        Field::new("path", 1, Type::String).doc("The URL path of the request."),
        Field::new("verb", 2, Type::String).doc("The standard HTTP verb."),
    ],
};

/// `SelfSubjectAccessReviewSpec`: exactly one of the two attribute sets.
pub static SELF_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    name: "io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec",
    description:
        "The action to check: exactly one of resourceAttributes and nonResourceAttributes.",
    gvk: None,
    fields: &[
        Field::new("resourceAttributes", 1, Type::Message(&RESOURCE_ATTRIBUTES))
            .doc("A resource request."),
        Field::new(
            "nonResourceAttributes",
            2,
            Type::Message(&NON_RESOURCE_ATTRIBUTES),
        )
        .doc("A request for a path that is not a resource."),
    ],
};

/// `SubjectAccessReviewStatus`.
pub static SUBJECT_ACCESS_REVIEW_STATUS: Message = Message {
    name: "io.k8s.api.authorization.v1.SubjectAccessReviewStatus",
    description: "Whether the action is allowed.",
    gvk: None,
    fields: &[
        Field::new("allowed", 1, Type::Bool)
            .doc("Whether the action would be allowed.")
            .required(),
        Field::new("denied", 4, Type::Bool)
            .doc("Whether the action would be denied outright (not only not allowed)."),
        Field::new("reason", 2, Type::String).doc("Why the action is allowed or denied."),
        Field::new("evaluationError", 3, Type::String)
            .doc("An error the authorizer met while checking (the answer may still stand)."),
    ],
};

/// `SelfSubjectAccessReview`: whether the caller may do something.
pub static SELF_SUBJECT_ACCESS_REVIEW: Message = Message {
    name: "io.k8s.api.authorization.v1.SelfSubjectAccessReview",
    description: "Checks whether the current user can perform an action.",
    gvk: Some(("authorization.k8s.io", "v1", "SelfSubjectAccessReview")),
    fields: &[
        METADATA,
        Field::new("spec", 2, Type::Message(&SELF_SUBJECT_ACCESS_REVIEW_SPEC))
            .doc("The action being checked.")
            .required(),
        Field::new("status", 3, Type::Message(&SUBJECT_ACCESS_REVIEW_STATUS))
            .doc("Filled in by the server: whether the action is allowed."),
    ],
};

/// `SelfSubjectRulesReviewSpec`.
pub static SELF_SUBJECT_RULES_REVIEW_SPEC: Message = Message {
    name: "io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec",
    description: "The namespace to list the rules for.",
    gvk: None,
    fields: &[Field::new("namespace", 1, Type::String).doc("The namespace to evaluate rules for.")],
};

/// `ResourceRule`.
pub static RESOURCE_RULE: Message = Message {
    name: "io.k8s.api.authorization.v1.ResourceRule",
    description: "Actions allowed on resources; `*` means all.",
    gvk: None,
    fields: &[
        Field::new("verbs", 1, Type::List(&Type::String))
            .doc("Allowed verbs; `*` means all.")
            .required(),
        Field::new("apiGroups", 2, Type::List(&Type::String))
            .doc("API groups of the resources; `*` means all."),
        Field::new("resources", 3, Type::List(&Type::String))
            .doc("Resources; `*` means all, `*/foo` a subresource of all."),
        Field::new("resourceNames", 4, Type::List(&Type::String))
            .doc("Names the rule is limited to; empty means all."),
    ],
};

/// `NonResourceRule`.
pub static NON_RESOURCE_RULE: Message = Message {
    name: "io.k8s.api.authorization.v1.NonResourceRule",
    description: "Actions allowed on paths that are not resources.",
    gvk: None,
    fields: &[
        Field::new("verbs", 1, Type::List(&Type::String))
            .doc("Allowed HTTP verbs (lower case); `*` means all.")
            .required(),
        Field::new("nonResourceURLs", 2, Type::List(&Type::String))
            .doc("Paths; a final `*` matches any suffix, `*` alone everything."),
    ],
};

/// `SubjectRulesReviewStatus`.
pub static SUBJECT_RULES_REVIEW_STATUS: Message = Message {
    name: "io.k8s.api.authorization.v1.SubjectRulesReviewStatus",
    description: "The actions a user may take in a namespace, as far as the authorizer can tell.",
    gvk: None,
    fields: &[
        Field::new(
            "resourceRules",
            1,
            Type::List(&Type::Message(&RESOURCE_RULE)),
        )
        .doc("Actions allowed on resources.")
        .required(),
        Field::new(
            "nonResourceRules",
            2,
            Type::List(&Type::Message(&NON_RESOURCE_RULE)),
        )
        .doc("Actions allowed on other paths.")
        .required(),
        Field::new("incomplete", 3, Type::Bool)
            .doc("True when the authorizer cannot list every rule it applies.")
            .required(),
        Field::new("evaluationError", 4, Type::String)
            .doc("Why the rules could not be evaluated in full, if they could not."),
    ],
};

/// `SelfSubjectRulesReview`: everything the caller may do in a namespace.
pub static SELF_SUBJECT_RULES_REVIEW: Message = Message {
    name: "io.k8s.api.authorization.v1.SelfSubjectRulesReview",
    description: "Lists the actions the current user may perform in a namespace.",
    gvk: Some(("authorization.k8s.io", "v1", "SelfSubjectRulesReview")),
    fields: &[
        METADATA,
        Field::new("spec", 2, Type::Message(&SELF_SUBJECT_RULES_REVIEW_SPEC))
            .doc("The namespace to list the rules for.")
            .required(),
        Field::new("status", 3, Type::Message(&SUBJECT_RULES_REVIEW_STATUS))
            .doc("Filled in by the server: the rules."),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::protobuf;
    use serde_json::json;

    #[test]
    fn access_review_round_trip() {
        let v = json!({
            "metadata": {},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}},
            "status": {"allowed": false},
        });
        let bytes = protobuf::encode_message(&SELF_SUBJECT_ACCESS_REVIEW, &v).expect("encode");
        assert_eq!(
            protobuf::decode_message(&SELF_SUBJECT_ACCESS_REVIEW, &bytes).expect("decode"),
            v
        );
    }
}
