//! Health: upstream's etcd check is a `get` of `/<prefix>/health` within a short timeout, at
//! most one every half timeout (callers in between get the last result); the start-up
//! preflight retries it until it passes or a deadline.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::errors::timed;
use super::Inner;
use crate::StorageError;

/// The last health check: when it was sent and what it found.
#[derive(Debug, Default)]
pub(crate) struct HealthCache {
    last: Mutex<Option<(Instant, Result<(), StorageError>)>>,
}

impl HealthCache {
    fn recent(&self, within: Duration) -> Option<Result<(), StorageError>> {
        let last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*last {
            Some((at, result)) if at.elapsed() < within => Some(result.clone()),
            _ => None,
        }
    }

    fn store(&self, at: Instant, result: Result<(), StorageError>) {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Keep the newest check when two overlap.
        if last.as_ref().is_none_or(|(previous, _)| *previous <= at) {
            *last = Some((at, result));
        }
    }
}

impl Inner {
    /// One health probe within `timeout`, not rate limited.
    pub(crate) async fn probe(&self, timeout: Duration) -> Result<(), StorageError> {
        let cx = self.error_context(0, 0);
        let mut kv = self.kv.clone();
        let key = self.config.health_key.as_str();
        timed("health check", timeout, &cx, kv.get(key, None))
            .await
            .map(drop)
    }

    /// The rate-limited health check.
    pub(crate) async fn check_health(&self) -> Result<(), StorageError> {
        let timeout = self.config.health_timeout;
        if let Some(result) = self.health.recent(timeout / 2) {
            return result;
        }
        let sent = Instant::now();
        let result = self.probe(timeout).await;
        self.health.store(sent, result.clone());
        result
    }

    /// Probes until one passes or `timeout` has elapsed; then fails with the last error.
    pub(crate) async fn wait_ready(&self, timeout: Duration) -> Result<(), StorageError> {
        let deadline = Instant::now() + timeout;
        let mut delay = Duration::from_millis(50);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let result = self.probe(self.config.health_timeout.min(left)).await;
            let Err(err) = result else {
                return Ok(());
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StorageError::Unavailable(format!(
                    "etcd at {} not ready within {timeout:?}: {err}",
                    self.config.endpoints.join(",")
                )));
            }
            tracing::debug!(%err, "etcd not ready yet");
            tokio::time::sleep(delay.min(left)).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }
}
