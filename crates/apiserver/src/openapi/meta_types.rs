//! The `meta.k8s.io` types the published paths refer to besides the resources' own: the
//! PATCH body (`Patch`), the discovery documents (`APIResourceList`, `APIVersions`,
//! `APIGroupList`, `APIGroup`) and `version.Info`, all from the generated type model
//! (`apimachinery::types`); and the descriptions of `apiVersion` and `kind`, which the
//! generator adds to every kind (the model does not declare them: they travel in the protobuf
//! envelope).

use apimachinery::schema::decl::Message;
pub use apimachinery::types::meta_v1::{
    API_GROUP, API_GROUP_LIST, API_RESOURCE, API_RESOURCE_LIST, API_VERSIONS, PATCH,
};
pub use apimachinery::types::version::INFO as VERSION_INFO;

/// Description of `apiVersion`, which the generator adds to every kind's schema.
pub const API_VERSION_DOC: &str = "APIVersion is the versioned schema of this representation of an object (`group/version`, or `version` for the core group). Servers convert recognized schemas to their latest internal value and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";

/// Description of `kind`, which the generator adds to every kind's schema.
pub const KIND_DOC: &str = "Kind is the REST resource type this object represents, in CamelCase. Servers may infer it from the endpoint the client submits a request to. Cannot be updated. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

/// The declarations above (their references come with them).
pub static ALL: [&Message; 7] = [
    &PATCH,
    &API_RESOURCE,
    &API_RESOURCE_LIST,
    &API_VERSIONS,
    &API_GROUP,
    &API_GROUP_LIST,
    &VERSION_INFO,
];
