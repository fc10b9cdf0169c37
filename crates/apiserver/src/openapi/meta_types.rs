//! Declarations of the types the published paths refer to that the shared type model
//! (`apimachinery::types`) does not declare: the PATCH body (`Patch`), the discovery
//! documents (`APIResourceList`, `APIVersions`, `APIGroupList`, `APIGroup`) and
//! `version.Info`. `Status`, `DeleteOptions`, `WatchEvent` and `ListMeta` come from
//! `apimachinery::types`.
//!
//! They are written in the type model so that the OpenAPI generator treats them like any
//! kind's declaration; a declaration reachable from a resource's own schema under the same
//! name takes precedence. Protobuf field numbers are upstream's; as in `apimachinery::types`,
//! `apiVersion` and `kind` are not declared (the generator adds them to every kind).

use apimachinery::schema::{Field, ListMerge, Message, Type};

const ATOMIC: ListMerge = ListMerge {
    list_type: Some("atomic"),
    map_keys: &[],
    patch_strategy: None,
    patch_merge_key: None,
};

/// Description of `apiVersion`, which the generator adds to every kind's schema.
pub const API_VERSION_DOC: &str = "APIVersion is the versioned schema of this representation of an object (`group/version`, or `version` for the core group). Servers convert recognized schemas to their latest internal value and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";

/// Description of `kind`, which the generator adds to every kind's schema.
pub const KIND_DOC: &str = "Kind is the REST resource type this object represents, in CamelCase. Servers may infer it from the endpoint the client submits a request to. Cannot be updated. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

/// `io.k8s.apimachinery.pkg.apis.meta.v1.Patch`.
pub static PATCH: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    description: "Patch names the body of a PATCH request; its format is given by the request's Content-Type.",
    gvk: None,
    fields: &[],
};

/// `io.k8s.apimachinery.pkg.apis.meta.v1.APIResource`.
pub static API_RESOURCE: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource",
    description: "APIResource describes one resource of a group-version: its name, kind, scope and verbs.",
    gvk: None,
    fields: &[
        Field::new("categories", 7, Type::List(&Type::String)).doc("The groupings the resource belongs to (e.g. 'all').").merge(ATOMIC),
        Field::new("group", 8, Type::String).doc("The group of the resource's kind, when it differs from the containing group-version (as for a subresource)."),
        Field::new("kind", 3, Type::String).doc("The kind of the resource (e.g. 'Foo' for the 'foo' resource).").required(),
        Field::new("name", 1, Type::String).doc("The plural name of the resource.").required(),
        Field::new("namespaced", 2, Type::Bool).doc("Whether the resource is namespaced.").required(),
        Field::new("shortNames", 5, Type::List(&Type::String)).doc("Suggested short names of the resource.").merge(ATOMIC),
        Field::new("singularName", 6, Type::String).doc("The singular name of the resource, used by clients such as kubectl; the lower-cased kind may be used when empty.").required(),
        Field::new("storageVersionHash", 10, Type::String).doc("An opaque hash of the version objects are written to storage in, changing when that version changes. Only for clients' comparisons; unset when the resource has no storage."),
        Field::new("verbs", 4, Type::List(&Type::String)).doc("The verbs the resource supports (get, list, watch, create, update, patch, delete, deletecollection, proxy).").required(),
        Field::new("version", 9, Type::String).doc("The version of the resource's kind, when it differs from the containing group-version (as for a subresource)."),
    ],
};

static API_RESOURCE_T: Type = Type::Message(&API_RESOURCE);

/// `io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList`.
pub static API_RESOURCE_LIST: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    description:
        "APIResourceList lists the resources of one group-version, with their scope and verbs.",
    gvk: Some(("", "v1", "APIResourceList")),
    fields: &[
        Field::new("groupVersion", 1, Type::String)
            .doc("The group-version the resources belong to.")
            .required(),
        Field::new("resources", 2, Type::List(&API_RESOURCE_T))
            .doc("The resources of the group-version.")
            .required()
            .merge(ATOMIC),
    ],
};

/// `io.k8s.apimachinery.pkg.apis.meta.v1.ServerAddressByClientCIDR`.
pub static SERVER_ADDRESS_BY_CLIENT_CIDR: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ServerAddressByClientCIDR",
    description: "ServerAddressByClientCIDR tells clients in a network which server address to use.",
    gvk: None,
    fields: &[
        Field::new("clientCIDR", 1, Type::String).doc("The client network this address is for.").required(),
        Field::new("serverAddress", 2, Type::String).doc("The address (host or IP, with an optional port) clients in that network should use.").required(),
    ],
};

static SERVER_ADDRESS_T: Type = Type::Message(&SERVER_ADDRESS_BY_CLIENT_CIDR);

/// `io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions`.
pub static API_VERSIONS: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
    description: "APIVersions lists the versions of the legacy core API served at /api.",
    gvk: Some(("", "v1", "APIVersions")),
    fields: &[
        Field::new("serverAddressByClientCIDRs", 2, Type::List(&SERVER_ADDRESS_T)).doc("Which server address clients should use, by client network; clients use the first matching entry.").required().merge(ATOMIC),
        Field::new("versions", 1, Type::List(&Type::String)).doc("The versions served.").required().merge(ATOMIC),
    ],
};

/// `io.k8s.apimachinery.pkg.apis.meta.v1.GroupVersionForDiscovery`.
pub static GROUP_VERSION_FOR_DISCOVERY: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.GroupVersionForDiscovery",
    description: "GroupVersionForDiscovery names one version of a group.",
    gvk: None,
    fields: &[
        Field::new("groupVersion", 1, Type::String)
            .doc("The `group/version` string.")
            .required(),
        Field::new("version", 2, Type::String)
            .doc("The version alone, so that clients need not split groupVersion.")
            .required(),
    ],
};

static GROUP_VERSION_T: Type = Type::Message(&GROUP_VERSION_FOR_DISCOVERY);

/// `io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup`.
pub static API_GROUP: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup",
    description: "APIGroup describes a group: its name, its versions and the preferred one.",
    gvk: Some(("", "v1", "APIGroup")),
    fields: &[
        Field::new("name", 1, Type::String).doc("The name of the group.").required(),
        Field::new("preferredVersion", 3, GROUP_VERSION_T).doc("The version clients should use when they have no preference."),
        Field::new("serverAddressByClientCIDRs", 4, Type::List(&SERVER_ADDRESS_T)).doc("Which server address clients should use, by client network; clients use the first matching entry.").merge(ATOMIC),
        Field::new("versions", 2, Type::List(&GROUP_VERSION_T)).doc("The versions served.").required().merge(ATOMIC),
    ],
};

static API_GROUP_T: Type = Type::Message(&API_GROUP);

/// `io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList`.
pub static API_GROUP_LIST: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
    description: "APIGroupList lists the named groups served at /apis.",
    gvk: Some(("", "v1", "APIGroupList")),
    fields: &[Field::new("groups", 1, Type::List(&API_GROUP_T))
        .doc("The groups served.")
        .required()
        .merge(ATOMIC)],
};

/// `io.k8s.apimachinery.pkg.version.Info` (JSON only; numbers are in field order).
pub static VERSION_INFO: Message = Message {
    name: "io.k8s.apimachinery.pkg.version.Info",
    description: "Info describes the version of the server.",
    gvk: None,
    fields: &[
        Field::new("major", 1, Type::String)
            .doc("The major version of the API served.")
            .required(),
        Field::new("minor", 2, Type::String)
            .doc("The minor version of the API served.")
            .required(),
        Field::new("emulationMajor", 3, Type::String).doc("The major version the server emulates."),
        Field::new("emulationMinor", 4, Type::String).doc("The minor version the server emulates."),
        Field::new("minCompatibilityMajor", 5, Type::String)
            .doc("The major version of the oldest release the server is compatible with."),
        Field::new("minCompatibilityMinor", 6, Type::String)
            .doc("The minor version of the oldest release the server is compatible with."),
        Field::new("gitVersion", 7, Type::String)
            .doc("The full version string.")
            .required(),
        Field::new("gitCommit", 8, Type::String)
            .doc("The commit the server was built from.")
            .required(),
        Field::new("gitTreeState", 9, Type::String)
            .doc("Whether the build tree was clean.")
            .required(),
        Field::new("buildDate", 10, Type::String)
            .doc("When the server was built.")
            .required(),
        Field::new("goVersion", 11, Type::String)
            .doc("The toolchain the server was built with.")
            .required(),
        Field::new("compiler", 12, Type::String)
            .doc("The compiler used.")
            .required(),
        Field::new("platform", 13, Type::String)
            .doc("The operating system and architecture.")
            .required(),
    ],
};

/// Every declaration here, for the generator's type universe.
pub static ALL: [&Message; 9] = [
    &PATCH,
    &API_RESOURCE,
    &API_RESOURCE_LIST,
    &SERVER_ADDRESS_BY_CLIENT_CIDR,
    &API_VERSIONS,
    &GROUP_VERSION_FOR_DISCOVERY,
    &API_GROUP,
    &API_GROUP_LIST,
    &VERSION_INFO,
];
