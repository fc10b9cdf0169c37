//! The types of the built-in kinds, from the generated model of the `api` crate.

use apimachinery::schema::{Message, MessageRef};
use apiserver::registry::ResourceDecl;

/// The generated type of a built-in kind. A kind missing from the model gets an empty type
/// (no declared fields); the tests rule that out for every kind served.
pub fn of(group: &str, version: &str, kind: &str) -> MessageRef {
    api::kind(group, version, kind).unwrap_or_else(|| MessageRef::new(Message::default()))
}

/// Gives a declaration the generated type of its own group, version and kind.
pub trait Typed {
    fn typed(self) -> Self;
}

impl Typed for ResourceDecl {
    fn typed(self) -> Self {
        let schema = of(&self.group, &self.version, &self.kind);
        self.with_schema(schema)
    }
}

#[cfg(test)]
mod tests {
    use crate::resources;

    #[test]
    fn every_served_kind_has_its_generated_type() {
        let mut decls = vec![
            resources::configmaps::decl(),
            resources::secrets::decl(),
            resources::namespaces::decl(),
            resources::nodes::decl(),
            resources::pods::decl(),
            resources::events::decl(),
            resources::priorityclasses::decl(),
            resources::leases::decl(false),
            resources::serviceaccounts::decl(),
            resources::endpoints::decl(),
            resources::endpointslices::decl(),
            resources::poddisruptionbudgets::decl(),
            resources::limitranges::decl(),
            resources::resourcequotas::decl(),
        ];
        decls.extend(resources::reviews::decls(std::sync::Arc::new(
            apiserver::auth::DefaultAuthorizer,
        )));
        for d in decls {
            let schema = d.schema.as_ref().expect("declared");
            assert!(
                schema
                    .gvks
                    .iter()
                    .any(|g| g.kind == d.kind && g.group == d.group),
                "{}: {}",
                d.kind,
                schema.name
            );
            assert!(schema.field("metadata").is_some(), "{}", d.kind);
        }
    }
}
