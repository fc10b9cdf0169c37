//! The workload kinds: apps/v1 Deployments, ReplicaSets, StatefulSets and DaemonSets, and
//! batch/v1 Jobs and CronJobs.

mod common;
pub mod cron;
pub mod cronjobs;
pub mod daemonsets;
pub mod deployments;
pub mod jobs;
pub mod replicasets;
mod scale;
pub mod statefulsets;
mod template;

use apiserver::registry::ResourceDecl;

/// The workload resources, in discovery order.
pub fn decls() -> Vec<ResourceDecl> {
    vec![
        deployments::decl(),
        replicasets::decl(),
        statefulsets::decl(),
        daemonsets::decl(),
        jobs::decl(),
        cronjobs::decl(),
    ]
}
