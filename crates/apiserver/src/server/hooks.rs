//! Health check lists, post-start hooks (each with its `poststarthook/<name>` check) and
//! pre-shutdown hooks.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::health::HealthCheck;

/// A hook: an async function run once.
pub type Hook =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// Makes a [`Hook`] from an async closure.
pub fn hook<F, Fut>(f: F) -> Hook
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move || Box::pin(f()))
}

/// The checks of `/healthz`, `/livez` and `/readyz`, and the hooks.
#[derive(Default)]
pub struct Lifecycle {
    healthz: RwLock<Vec<HealthCheck>>,
    livez: RwLock<Vec<HealthCheck>>,
    readyz: RwLock<Vec<HealthCheck>>,
    post_start: RwLock<Vec<(String, Hook, Arc<AtomicBool>)>>,
    pre_shutdown: RwLock<Vec<(String, Hook)>>,
}

fn push(list: &RwLock<Vec<HealthCheck>>, check: HealthCheck) {
    list.write().unwrap_or_else(|p| p.into_inner()).push(check);
}

fn snapshot(list: &RwLock<Vec<HealthCheck>>) -> Vec<HealthCheck> {
    list.read().unwrap_or_else(|p| p.into_inner()).clone()
}

impl Lifecycle {
    pub fn new() -> Arc<Self> {
        let l = Arc::new(Lifecycle::default());
        for name in ["ping", "log"] {
            l.add_health_check(HealthCheck::ping(name));
        }
        l
    }

    /// Adds a check to healthz, livez and readyz (upstream's AddHealthChecks).
    pub fn add_health_check(&self, check: HealthCheck) {
        push(&self.healthz, check.clone());
        push(&self.livez, check.clone());
        push(&self.readyz, check);
    }

    /// Adds a check to readyz only.
    pub fn add_readyz_check(&self, check: HealthCheck) {
        push(&self.readyz, check);
    }

    pub fn healthz(&self) -> Vec<HealthCheck> {
        snapshot(&self.healthz)
    }

    pub fn livez(&self) -> Vec<HealthCheck> {
        snapshot(&self.livez)
    }

    pub fn readyz(&self) -> Vec<HealthCheck> {
        snapshot(&self.readyz)
    }

    /// Registers a post-start hook; its health check fails until the hook has finished.
    pub fn add_post_start_hook(&self, name: &str, hook: Hook) {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        self.add_health_check(HealthCheck::new(
            &format!("poststarthook/{name}"),
            move || {
                let flag = flag.clone();
                async move {
                    if flag.load(Ordering::Acquire) {
                        Ok(())
                    } else {
                        Err("not finished".to_string())
                    }
                }
            },
        ));
        self.post_start
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((name.to_string(), hook, done));
    }

    /// Registers a pre-shutdown hook.
    pub fn add_pre_shutdown_hook(&self, name: &str, hook: Hook) {
        self.pre_shutdown
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((name.to_string(), hook));
    }

    /// Starts every post-start hook in the background (once serving has begun). A failing
    /// hook is fatal, as upstream's are.
    pub fn run_post_start_hooks(&self) {
        let hooks = self
            .post_start
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (name, hook, done) in hooks {
            tokio::spawn(async move {
                match hook().await {
                    Ok(()) => done.store(true, Ordering::Release),
                    Err(e) => {
                        tracing::error!("post-start hook {name} failed: {e}");
                        std::process::exit(1);
                    }
                }
            });
        }
    }

    /// Runs the pre-shutdown hooks in order, logging failures.
    pub async fn run_pre_shutdown_hooks(&self) {
        let hooks = self
            .pre_shutdown
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (name, hook) in hooks {
            if let Err(e) = hook().await {
                tracing::warn!("pre-shutdown hook {name} failed: {e}");
            }
        }
    }
}
