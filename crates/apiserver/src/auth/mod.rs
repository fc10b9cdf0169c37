//! Who is asking (authentication) and whether they may (authorization).

pub mod authenticator;
pub mod authorizer;

pub use authenticator::{
    Authenticator, ClientCertAuthenticator, RequestHeaderAuthenticator, RequestHeaderConfig,
    TokenFileAuthenticator, UnionAuthenticator,
};
pub use authorizer::{
    AlwaysAllow, AlwaysDeny, Authorizer, Decision, DefaultAuthorizer, NodeAuthorizer,
    UnionAuthorizer,
};

/// The authenticated user, as upstream's `user.Info`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    /// Extra attributes (keys lower case), e.g. from a front proxy's `X-Remote-Extra-*`.
    pub extra: std::collections::BTreeMap<String, Vec<String>>,
}

/// Group every authenticated user belongs to.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// Group of anonymous requests.
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// Name of anonymous requests.
pub const ANONYMOUS_USER: &str = "system:anonymous";
/// Members of this group may do anything (as upstream's RBAC bootstrap binds them).
pub const MASTERS_GROUP: &str = "system:masters";

impl UserInfo {
    /// The anonymous user.
    pub fn anonymous() -> Self {
        UserInfo {
            name: ANONYMOUS_USER.to_string(),
            uid: String::new(),
            groups: vec![UNAUTHENTICATED_GROUP.to_string()],
            extra: Default::default(),
        }
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}
