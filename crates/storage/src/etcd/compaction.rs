//! Compaction: direct (the [`Storage::compact`](crate::Storage::compact) of the trait) and
//! coordinated among API servers sharing one etcd, in upstream's protocol.
//!
//! **Coordination.** Every server runs the same loop: each interval, a txn compares the
//! *version* of the compaction key (upstream's `compact_rev_key`) with the version it last
//! saw. Equal means no other server acted since: it puts the revision it saw one interval ago
//! into the key (bumping the version) and compacts at that revision. Different means another
//! server won this interval: it adopts the key's version and the revision recorded there, and
//! compacts nothing. So one compaction happens per interval whichever number of servers run;
//! when the winner dies, another takes over within two intervals. The first win on a fresh key
//! compacts nothing (there is no revision from an interval ago yet).
//!
//! **Compacted revision.** The store remembers the newest compacted revision it has seen: its
//! own compactions, etcd's answers to watches below the compacted revision, and the revision
//! recorded in the compaction key (read by
//! [`Storage::compacted_revision`](crate::Storage::compacted_revision)).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use etcd_client::proto::PbTxnOpResponse;
use etcd_client::{Compare, CompareOp, Txn, TxnOp};
use tokio::task::JoinHandle;

use super::convert::header_revision;
use super::errors::timed;
use super::{EtcdStore, Inner};
use crate::{Revision, StorageError};

/// What one server knows of the coordination protocol between rounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactionState {
    /// The compaction key's version last seen: how many rounds any server has won.
    pub version: i64,
    /// The store revision seen at the last round: the next win compacts here.
    pub revision: Revision,
}

/// The outcome of one [`EtcdStore::compaction_round`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactionRound {
    /// This server won the round on a fresh key; nothing to compact yet.
    Bootstrapped,
    /// This server won the round and compacted at this revision.
    Compacted(Revision),
    /// Another server won this interval; the revision it recorded, when readable.
    Lost { recorded: Option<Revision> },
}

/// The running coordinated compactor of [`EtcdStore::compact_coordinated`]; dropping it stops
/// the loop.
#[derive(Debug)]
pub struct CompactorHandle {
    task: Option<JoinHandle<()>>,
    compactions: Arc<AtomicU64>,
}

impl CompactorHandle {
    /// How many compactions this compactor has done (rounds it won, bootstrap excluded).
    pub fn compactions(&self) -> u64 {
        self.compactions.load(Ordering::Relaxed)
    }

    /// Stops the loop (also done on drop).
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for CompactorHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

impl EtcdStore {
    /// Runs one round of upstream's coordination protocol and updates `state`: a txn compares
    /// the compaction key's version with `state.version`; if equal, it records
    /// `state.revision` there and compacts at it ([`CompactionRound::Compacted`], or
    /// [`CompactionRound::Bootstrapped`] on the first win, with nothing to compact yet);
    /// otherwise another server won this interval and `state` adopts the key's version
    /// ([`CompactionRound::Lost`]). Either way `state.revision` becomes the current revision,
    /// the target of the next win. A failed request leaves `state` as it was.
    pub async fn compaction_round(
        &self,
        state: &mut CompactionState,
    ) -> Result<CompactionRound, StorageError> {
        let inner = &self.inner;
        let key = inner.config.compaction_key.as_str();
        let txn = Txn::new()
            .when([Compare::version(key, CompareOp::Equal, state.version)])
            .and_then([TxnOp::put(key, state.revision.to_string(), None)])
            .or_else([TxnOp::get(key, None)]);
        let cx = inner.error_context(0, 0);
        let mut kv = inner.kv.clone();
        let timeout = inner.config.request_timeout;
        let response = timed("compaction txn", timeout, &cx, kv.txn(txn)).await?.0;
        let current = header_revision(response.header.as_ref())?;
        if !response.succeeded {
            let record = response
                .responses
                .into_iter()
                .next()
                .and_then(|op| op.response)
                .and_then(|op| match op {
                    PbTxnOpResponse::ResponseRange(range) => range.kvs.into_iter().next(),
                    _ => None,
                });
            // A missing key (someone deleted it) restarts the protocol at version 0.
            state.version = record.as_ref().map_or(0, |kv| kv.version);
            state.revision = current;
            let recorded = record.and_then(|kv| parse_revision(&kv.value));
            if let Some(rev) = recorded {
                inner.note_compacted(rev);
            }
            return Ok(CompactionRound::Lost { recorded });
        }
        state.version += 1;
        let target = std::mem::replace(&mut state.revision, current);
        if target == 0 {
            return Ok(CompactionRound::Bootstrapped);
        }
        inner.compact(target).await?;
        Ok(CompactionRound::Compacted(target))
    }

    /// Starts upstream's coordinated compaction loop (`--etcd-compaction-interval`): a round
    /// every `interval`, the first after one interval. A zero interval starts nothing, as
    /// upstream. Needs a tokio runtime.
    pub fn compact_coordinated(&self, interval: Duration) -> Result<CompactorHandle, StorageError> {
        let compactions = Arc::new(AtomicU64::new(0));
        if interval.is_zero() {
            return Ok(CompactorHandle {
                task: None,
                compactions,
            });
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|err| {
            StorageError::Internal(format!("etcd compactor needs a tokio runtime: {err}"))
        })?;
        let store = self.clone();
        let counter = Arc::clone(&compactions);
        let task = runtime.spawn(async move {
            let mut state = CompactionState::default();
            loop {
                tokio::time::sleep(interval).await;
                match store.compaction_round(&mut state).await {
                    Ok(CompactionRound::Compacted(revision)) => {
                        counter.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(revision, "etcd: compacted");
                    }
                    Ok(round) => tracing::trace!(?round, "etcd: compaction round"),
                    Err(err) => tracing::warn!(%err, "etcd: compaction failed"),
                }
            }
        });
        Ok(CompactorHandle {
            task: Some(task),
            compactions,
        })
    }
}

impl Inner {
    /// Compacts at `revision` (logical compaction: etcd frees the space in the background).
    pub(crate) async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let cx = self.error_context(revision, 0);
        let mut kv = self.kv.clone();
        let request = kv.compact(revision, None);
        match timed("compact", self.config.request_timeout, &cx, request).await {
            Ok(_) => {
                self.note_compacted(revision);
                Ok(())
            }
            Err(err) => Err(self.with_current(err).await),
        }
    }

    /// The newest compacted revision known, after reading the compaction key.
    pub(crate) async fn compacted_revision(&self) -> Result<Revision, StorageError> {
        let cx = self.error_context(0, 0);
        let mut kv = self.kv.clone();
        let key = self.config.compaction_key.as_str();
        let timeout = self.config.request_timeout;
        let response = timed("get", timeout, &cx, kv.get(key, None)).await?;
        let recorded = response
            .0
            .kvs
            .first()
            .and_then(|kv| parse_revision(&kv.value));
        if let Some(rev) = recorded {
            self.note_compacted(rev);
        }
        Ok(self.compacted())
    }
}

/// The revision recorded in the compaction key (a decimal string).
fn parse_revision(value: &[u8]) -> Option<Revision> {
    std::str::from_utf8(value)
        .ok()?
        .trim()
        .parse::<Revision>()
        .ok()
        .filter(|&rev| rev > 0)
}

#[cfg(test)]
mod tests {
    use super::parse_revision;

    #[test]
    fn recorded_revisions() {
        assert_eq!(parse_revision(b"42"), Some(42));
        assert_eq!(parse_revision(b"0"), None);
        assert_eq!(parse_revision(b"x"), None);
        assert_eq!(parse_revision(&[0xFF]), None);
    }
}
