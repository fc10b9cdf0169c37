//! Leases for keys written with a time to live, shared as upstream's lease manager shares
//! them: granting one lease per write would cost etcd a lease per event, so a lease is
//! granted with a little extra time (5 % of the TTL, at most a minute) and reused by the
//! writes that come while it still outlives their TTL. A key therefore lives at least its
//! TTL and at most that plus the extra.

use std::time::{Duration, Instant};

use etcd_client::LeaseClient;
use tokio::sync::Mutex;

use super::errors::{timed, ErrorContext};
use crate::StorageError;

/// Share of the TTL a lease is granted beyond it, so that later writes can reuse it.
const REUSE_SHARE: f64 = 0.05;
/// The most a lease is granted beyond the TTL.
const MAX_REUSE_SECONDS: i64 = 60;

/// The lease last granted, per TTL: `(ttl seconds, lease id, when it expires)`.
#[derive(Default)]
struct Granted {
    last: Option<(i64, i64, Instant)>,
}

/// Grants and reuses leases (see the module docs).
pub(crate) struct LeaseManager {
    client: Mutex<LeaseClient>,
    granted: Mutex<Granted>,
}

impl LeaseManager {
    pub(crate) fn new(client: LeaseClient) -> Self {
        LeaseManager {
            client: Mutex::new(client),
            granted: Mutex::new(Granted::default()),
        }
    }

    /// A lease that keeps a key written now alive for at least `ttl` (whole seconds, at
    /// least one).
    pub(crate) async fn lease_for(
        &self,
        ttl: Duration,
        timeout: Duration,
        cx: &ErrorContext,
    ) -> Result<i64, StorageError> {
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(1)
            + i64::from(ttl.subsec_nanos() > 0);
        let mut granted = self.granted.lock().await;
        let now = Instant::now();
        let extra = ((ttl_secs as f64 * REUSE_SHARE) as i64).min(MAX_REUSE_SECONDS);
        if let Some((secs, id, expires)) = granted.last {
            let needed = now + Duration::from_secs(ttl_secs.unsigned_abs());
            if secs == ttl_secs && expires > needed {
                return Ok(id);
            }
        }
        let total = ttl_secs.saturating_add(extra);
        let mut client = self.client.lock().await;
        let response = timed("lease grant", timeout, cx, client.grant(total, None)).await?;
        let id = response.id();
        // etcd may grant more than asked (its minimum TTL), never less.
        let lives = total.max(response.ttl());
        granted.last = Some((
            ttl_secs,
            id,
            now + Duration::from_secs(lives.unsigned_abs()),
        ));
        Ok(id)
    }
}
