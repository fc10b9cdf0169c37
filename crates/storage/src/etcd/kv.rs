//! Reads and writes, each one etcd request, as upstream's etcd3 store issues them:
//!
//! - create: `txn(create_revision(key) == 0) { put }`, else [`StorageError::AlreadyExists`];
//! - update: `txn(mod_revision(key) == expected && create_revision(key) > 0) { put } else { get }`,
//!   the `get` telling [`StorageError::NotFound`] from [`StorageError::Conflict`];
//! - delete: with a precondition the same shape with `delete(prev_kv)`; without one a plain
//!   `delete(prev_kv)`; the deleted state comes back in `prev_kv`, the deletion's revision in
//!   the header;
//! - list: one `range` at a revision, `limit` and start key; `count` of that response minus the
//!   items returned is the `remaining` (upstream's remainingItemCount);
//! - count: a `count_only` range; current revision: the header of a `count_only` get;
//! - a write with a time to live puts with a lease (see `lease`).

use bytes::Bytes;
use etcd_client::proto::{PbDeleteResponse, PbRangeResponse, PbResponseOp, PbTxnOpResponse};
use std::time::Duration;

use etcd_client::{Compare, CompareOp, DeleteOptions, GetOptions, PutOptions, Txn, TxnOp};

use super::convert::{self, header_revision, prefix_range, to_usize};
use super::errors::{timed, ErrorContext};
use super::Inner;
use crate::{KeyValue, ListOptions, ListResult, Revision, StorageError};

impl Inner {
    /// The context for errors of a request about `requested` writing `size` bytes.
    pub(crate) fn error_context(&self, requested: Revision, size: usize) -> ErrorContext {
        ErrorContext {
            requested,
            size,
            limit: self.config.max_request_bytes,
            compacted: self.compacted(),
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        let mut kv = self.kv.clone();
        let cx = self.error_context(0, 0);
        let response = timed("get", self.config.request_timeout, &cx, kv.get(key, None)).await?;
        Ok(response.0.kvs.into_iter().next().map(convert::key_value))
    }

    /// The put options of a write with `ttl`: a (shared) lease, or none.
    async fn put_options(
        &self,
        ttl: Option<Duration>,
        cx: &ErrorContext,
    ) -> Result<Option<PutOptions>, StorageError> {
        let Some(ttl) = ttl else {
            return Ok(None);
        };
        let lease = self
            .leases
            .lease_for(ttl, self.config.request_timeout, cx)
            .await?;
        Ok(Some(PutOptions::new().with_lease(lease)))
    }

    pub(crate) async fn create(
        &self,
        key: &str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError> {
        let cx = self.error_context(0, value.len());
        let options = self.put_options(ttl, &cx).await?;
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, Vec::from(value), options)]);
        let mut kv = self.kv.clone();
        let response = timed("create", self.config.request_timeout, &cx, kv.txn(txn)).await?;
        if !response.0.succeeded {
            return Err(StorageError::AlreadyExists {
                key: key.to_owned(),
            });
        }
        header_revision(response.0.header.as_ref())
    }

    pub(crate) async fn update(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError> {
        let cx = self.error_context(0, value.len());
        let options = self.put_options(ttl, &cx).await?;
        let txn = Txn::new()
            .when(unchanged_since(key, expected))
            .and_then([TxnOp::put(key, Vec::from(value), options)])
            .or_else([TxnOp::get(key, None)]);
        let mut kv = self.kv.clone();
        let response = timed("update", self.config.request_timeout, &cx, kv.txn(txn)).await?;
        if !response.0.succeeded {
            let current = range_response(response.0.responses)?;
            return Err(refused(key, expected, current));
        }
        header_revision(response.0.header.as_ref())
    }

    pub(crate) async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<(KeyValue, Revision), StorageError> {
        let cx = self.error_context(0, 0);
        let mut kv = self.kv.clone();
        let timeout = self.config.request_timeout;
        let with_prev = || Some(DeleteOptions::new().with_prev_key());
        let deleted = match expected {
            None => {
                timed("delete", timeout, &cx, kv.delete(key, with_prev()))
                    .await?
                    .0
            }
            Some(expected) => {
                let txn = Txn::new()
                    .when(unchanged_since(key, expected))
                    .and_then([TxnOp::delete(key, with_prev())])
                    .or_else([TxnOp::get(key, None)]);
                let response = timed("delete", timeout, &cx, kv.txn(txn)).await?;
                if !response.0.succeeded {
                    let current = range_response(response.0.responses)?;
                    return Err(refused(key, expected, current));
                }
                delete_response(response.0.header, response.0.responses)?
            }
        };
        let revision = header_revision(deleted.header.as_ref())?;
        match deleted.prev_kvs.into_iter().next() {
            Some(prev) => Ok((convert::key_value(prev), revision)),
            None => Err(StorageError::NotFound {
                key: key.to_owned(),
            }),
        }
    }

    pub(crate) async fn list(
        &self,
        prefix: &str,
        opts: ListOptions,
    ) -> Result<ListResult, StorageError> {
        let (prefix_key, end) = prefix_range(prefix);
        let start = match &opts.start_key {
            Some(start) if start.as_str() > prefix => start.as_bytes().to_vec(),
            _ => prefix_key,
        };
        let revision = opts.revision.filter(|&rev| rev > 0);
        let mut options = GetOptions::new().with_range(end);
        if let Some(rev) = revision {
            options = options.with_revision(rev);
        }
        if opts.limit > 0 {
            options = options.with_limit(i64::try_from(opts.limit).unwrap_or(i64::MAX));
        }
        let cx = self.error_context(revision.unwrap_or(0), 0);
        let mut kv = self.kv.clone();
        let request = kv.get(start, Some(options));
        let response = match timed("list", self.config.request_timeout, &cx, request).await {
            Ok(response) => response.0,
            Err(err) => return Err(self.with_current(err).await),
        };
        let header = header_revision(response.header.as_ref())?;
        let count = to_usize(response.count, "count")?;
        let items: Vec<KeyValue> = response.kvs.into_iter().map(convert::key_value).collect();
        let remaining = if response.more {
            count.saturating_sub(items.len())
        } else {
            0
        };
        Ok(ListResult {
            items,
            revision: revision.unwrap_or(header),
            more: response.more,
            remaining,
        })
    }

    pub(crate) async fn count(&self, prefix: &str) -> Result<usize, StorageError> {
        let (key, end) = prefix_range(prefix);
        let options = GetOptions::new().with_range(end).with_count_only();
        let cx = self.error_context(0, 0);
        let mut kv = self.kv.clone();
        let request = kv.get(key, Some(options));
        let response = timed("count", self.config.request_timeout, &cx, request).await?;
        to_usize(response.0.count, "count")
    }

    pub(crate) async fn current_revision(&self) -> Result<Revision, StorageError> {
        let options = GetOptions::new().with_count_only();
        let cx = self.error_context(0, 0);
        let mut kv = self.kv.clone();
        let request = kv.get(self.config.health_key.as_str(), Some(options));
        let response = timed("get", self.config.request_timeout, &cx, request).await?;
        header_revision(response.0.header.as_ref())
    }

    /// Fills in the current revision of a [`StorageError::FutureRevision`] (etcd's message does
    /// not say it); other errors pass through.
    pub(crate) async fn with_current(&self, err: StorageError) -> StorageError {
        match err {
            StorageError::FutureRevision { requested, .. } => StorageError::FutureRevision {
                requested,
                current: self.current_revision().await.unwrap_or(0),
            },
            other => other,
        }
    }
}

/// The compare of a compare-and-swap: the key exists and was last written at `expected`.
fn unchanged_since(key: &str, expected: Revision) -> [Compare; 2] {
    [
        Compare::mod_revision(key, CompareOp::Equal, expected),
        Compare::create_revision(key, CompareOp::Greater, 0),
    ]
}

/// Why a compare-and-swap was refused, from the key's current state.
fn refused(key: &str, expected: Revision, current: PbRangeResponse) -> StorageError {
    match current.kvs.first() {
        Some(kv) => StorageError::Conflict {
            key: key.to_owned(),
            expected,
            actual: kv.mod_revision,
        },
        None => StorageError::NotFound {
            key: key.to_owned(),
        },
    }
}

/// The only operation response of a txn branch.
fn only_op(responses: Vec<PbResponseOp>) -> Result<PbTxnOpResponse, StorageError> {
    responses
        .into_iter()
        .next()
        .and_then(|op| op.response)
        .ok_or_else(|| StorageError::Internal("etcd txn response without its operation".into()))
}

fn range_response(responses: Vec<PbResponseOp>) -> Result<PbRangeResponse, StorageError> {
    match only_op(responses)? {
        PbTxnOpResponse::ResponseRange(range) => Ok(range),
        other => Err(unexpected(&other)),
    }
}

/// A txn's delete response, with the txn's header (the revision of the whole txn).
fn delete_response(
    header: Option<etcd_client::proto::PbResponseHeader>,
    responses: Vec<PbResponseOp>,
) -> Result<PbDeleteResponse, StorageError> {
    match only_op(responses)? {
        PbTxnOpResponse::ResponseDeleteRange(mut deleted) => {
            deleted.header = header;
            Ok(deleted)
        }
        other => Err(unexpected(&other)),
    }
}

fn unexpected(op: &PbTxnOpResponse) -> StorageError {
    let kind = match op {
        PbTxnOpResponse::ResponseRange(_) => "range",
        PbTxnOpResponse::ResponsePut(_) => "put",
        PbTxnOpResponse::ResponseDeleteRange(_) => "delete",
        PbTxnOpResponse::ResponseTxn(_) => "txn",
    };
    StorageError::Internal(format!(
        "etcd txn answered with an unexpected {kind} response"
    ))
}
