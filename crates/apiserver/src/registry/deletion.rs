//! What a DELETE asks for ([`DeleteOptions`]) and the parts of it the registry acts on:
//! preconditions, and the garbage collector's finalizers. As upstream's generic store,
//! `propagationPolicy` (or the older `orphanDependents`) adds or removes the `orphan` and
//! `foregroundDeletion` finalizers when deletion starts; the garbage collector (in
//! kube-controller-manager) acts on them and removes them.

use apimachinery::errors::ApiError;
use serde_json::Value;

use super::meta;
use super::resource::ResourceDecl;

/// The finalizer asking the garbage collector to orphan the object's dependents.
pub const FINALIZER_ORPHAN: &str = "orphan";
/// The finalizer asking the garbage collector to delete the dependents first.
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

/// `DeleteOptions.propagationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

impl Propagation {
    /// The accepted spellings, in upstream's order (its error lists them so, plus `nil`).
    pub const NAMES: [&'static str; 3] = ["Foreground", "Background", "Orphan"];

    pub fn parse(value: &str) -> Option<Propagation> {
        match value {
            "Orphan" => Some(Propagation::Orphan),
            "Background" => Some(Propagation::Background),
            "Foreground" => Some(Propagation::Foreground),
            _ => None,
        }
    }
}

/// What happens to a kind's dependents when a delete does not say (upstream's
/// `rest.GarbageCollectionPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcPolicy {
    /// Dependents are deleted in the background (almost every kind).
    DeleteDependents,
    /// Dependents are orphaned unless the delete asks otherwise.
    OrphanDependents,
    /// The kind takes no part in garbage collection: propagation options are ignored.
    Unsupported,
}

/// Delete preconditions (`DeleteOptions.preconditions`).
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

impl Preconditions {
    /// Checks the preconditions against the current object: 409 Conflict as upstream's
    /// `BeforeDelete` words it (qualified by kind).
    pub fn check(&self, decl: &ResourceDecl, name: &str, obj: &Value) -> Result<(), ApiError> {
        if let Some(uid) = &self.uid {
            if uid != meta::uid(obj) {
                return Err(ApiError::precondition_uid_mismatch(
                    &decl.group,
                    &decl.kind,
                    name,
                    uid,
                    meta::uid(obj),
                ));
            }
        }
        if let Some(rv) = &self.resource_version {
            if rv != meta::resource_version(obj) {
                return Err(ApiError::precondition_resource_version_mismatch(
                    &decl.group,
                    &decl.kind,
                    name,
                    rv,
                    meta::resource_version(obj),
                ));
            }
        }
        Ok(())
    }
}

/// A validated `DeleteOptions` (see `endpoints::options` for how one is read).
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub preconditions: Preconditions,
    /// `dryRun: ["All"]`.
    pub dry_run: bool,
    pub propagation_policy: Option<Propagation>,
    /// The deprecated form of `propagationPolicy` (never set together with it).
    pub orphan_dependents: Option<bool>,
    /// Read and checked as upstream does. Only kinds with graceful deletion
    /// ([`Strategy::graceful_delete_period`](super::Strategy::graceful_delete_period)) use
    /// it; upstream ignores it for the others.
    pub grace_period_seconds: Option<i64>,
}

impl DeleteOptions {
    /// The options as a `DeleteOptions` object, as admission sees them.
    pub fn to_object(&self) -> serde_json::Value {
        let mut o = serde_json::json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"});
        if let Some(g) = self.grace_period_seconds {
            o["gracePeriodSeconds"] = g.into();
        }
        if self.dry_run {
            o["dryRun"] = serde_json::json!(["All"]);
        }
        if let Some(p) = &self.propagation_policy {
            let name = match p {
                Propagation::Orphan => "Orphan",
                Propagation::Background => "Background",
                Propagation::Foreground => "Foreground",
            };
            o["propagationPolicy"] = serde_json::Value::from(name);
        }
        if let Some(orphan) = self.orphan_dependents {
            o["orphanDependents"] = orphan.into();
        }
        o
    }

    /// Whether dependents are to be orphaned: the options, else the object's own finalizers,
    /// else the kind's policy (upstream's `shouldOrphanDependents`).
    fn orphans(&self, policy: GcPolicy, finalizers: &[String]) -> bool {
        if let Some(orphan) = self.orphan_dependents {
            return orphan;
        }
        if let Some(p) = self.propagation_policy {
            return p == Propagation::Orphan;
        }
        for f in finalizers {
            match f.as_str() {
                FINALIZER_ORPHAN => return true,
                FINALIZER_FOREGROUND => return false,
                _ => {}
            }
        }
        policy == GcPolicy::OrphanDependents
    }

    /// Whether dependents are to be deleted before the object (`shouldDeleteDependents`).
    fn deletes_in_foreground(&self, finalizers: &[String]) -> bool {
        if self.orphan_dependents.is_some() {
            return false;
        }
        if let Some(p) = self.propagation_policy {
            return p == Propagation::Foreground;
        }
        finalizers.iter().any(|f| f == FINALIZER_FOREGROUND)
    }

    /// The finalizers an object should carry for the garbage collector once its deletion
    /// starts, or `None` when they are what it has (upstream's
    /// `deletionFinalizersForGarbageCollection`). Other finalizers keep their order.
    pub fn gc_finalizers(&self, policy: GcPolicy, finalizers: &[String]) -> Option<Vec<String>> {
        if policy == GcPolicy::Unsupported {
            return None;
        }
        let mut wanted: Vec<String> = finalizers
            .iter()
            .filter(|f| *f != FINALIZER_ORPHAN && *f != FINALIZER_FOREGROUND)
            .cloned()
            .collect();
        if self.orphans(policy, finalizers) {
            wanted.push(FINALIZER_ORPHAN.to_string());
        }
        if self.deletes_in_foreground(finalizers) {
            wanted.push(FINALIZER_FOREGROUND.to_string());
        }
        let as_set = |v: &[String]| v.iter().cloned().collect::<std::collections::BTreeSet<_>>();
        (as_set(&wanted) != as_set(finalizers)).then_some(wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn with_policy(p: Propagation) -> DeleteOptions {
        DeleteOptions {
            propagation_policy: Some(p),
            ..Default::default()
        }
    }

    #[test]
    fn background_or_no_options_leave_an_object_without_finalizers_alone() {
        let none = DeleteOptions::default();
        assert_eq!(none.gc_finalizers(GcPolicy::DeleteDependents, &[]), None);
        let bg = with_policy(Propagation::Background);
        assert_eq!(bg.gc_finalizers(GcPolicy::DeleteDependents, &[]), None);
    }

    #[test]
    fn orphan_and_foreground_add_their_finalizer_after_the_others() {
        let own = strings(&["example.com/keep"]);
        assert_eq!(
            with_policy(Propagation::Orphan).gc_finalizers(GcPolicy::DeleteDependents, &own),
            Some(strings(&["example.com/keep", "orphan"]))
        );
        assert_eq!(
            with_policy(Propagation::Foreground).gc_finalizers(GcPolicy::DeleteDependents, &own),
            Some(strings(&["example.com/keep", "foregroundDeletion"]))
        );
        let legacy = DeleteOptions {
            orphan_dependents: Some(true),
            ..Default::default()
        };
        assert_eq!(
            legacy.gc_finalizers(GcPolicy::DeleteDependents, &[]),
            Some(strings(&["orphan"]))
        );
    }

    #[test]
    fn an_explicit_policy_replaces_the_other_gc_finalizer() {
        let orphaning = strings(&["orphan", "a"]);
        assert_eq!(
            with_policy(Propagation::Foreground)
                .gc_finalizers(GcPolicy::DeleteDependents, &orphaning),
            Some(strings(&["a", "foregroundDeletion"]))
        );
        assert_eq!(
            with_policy(Propagation::Background)
                .gc_finalizers(GcPolicy::DeleteDependents, &orphaning),
            Some(strings(&["a"]))
        );
        // Without options the object's own finalizer stands.
        assert_eq!(
            DeleteOptions::default().gc_finalizers(GcPolicy::DeleteDependents, &orphaning),
            None
        );
    }

    #[test]
    fn kind_policies() {
        assert_eq!(
            DeleteOptions::default().gc_finalizers(GcPolicy::OrphanDependents, &[]),
            Some(strings(&["orphan"]))
        );
        assert_eq!(
            with_policy(Propagation::Orphan).gc_finalizers(GcPolicy::Unsupported, &[]),
            None
        );
    }
}
