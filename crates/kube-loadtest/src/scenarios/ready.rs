//! `wait-ready`: polls `/readyz` until it answers 200, and tells how long that took from a
//! given moment (the server's spawn, taken by the caller), or from this command's start.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::Method;

use crate::bail;
use crate::client::{status_message, Client, Target};
use crate::error::Result;

/// Whether process `pid` has ended (gone, or a zombie not yet reaped by its parent).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
        Err(_) => true,
    }
}

/// Returns the time from `since` (nanoseconds since the Unix epoch) to the first 200. Gives
/// up early when process `pid` (the server) has ended.
pub async fn wait(
    target: &Arc<Target>,
    since: Option<u128>,
    pid: Option<u32>,
    poll: Duration,
    limit: Duration,
) -> Result<Duration> {
    let started = Instant::now();
    let mut client = Client::new(target.clone());
    let mut last: String;
    loop {
        match client.request(Method::GET, "/readyz", None).await {
            Ok(r) if r.status.as_u16() == 200 => {
                if let Some(pid) = pid.filter(|&p| ended(p)) {
                    bail!(
                        "{} answered, but the server (process {pid}) has exited: another \
                         process serves this port",
                        target.server
                    );
                }
                let took = match since {
                    Some(ns) => {
                        let now = SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .map(|d| d.as_nanos())
                            .unwrap_or(0);
                        let nanos = now.saturating_sub(ns);
                        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
                    }
                    None => started.elapsed(),
                };
                return Ok(took);
            }
            Ok(r) => last = format!("HTTP {}: {}", r.status, status_message(&r.body)),
            Err(e) => last = e.0,
        }
        if let Some(pid) = pid.filter(|&p| ended(p)) {
            bail!("the server (process {pid}) has exited; last answer: {last}");
        }
        if started.elapsed() >= limit {
            bail!(
                "{} was not ready within {} s; last answer: {last}",
                target.server,
                limit.as_secs()
            );
        }
        tokio::time::sleep(poll).await;
    }
}
