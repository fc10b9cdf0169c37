//! Value transformers between a resource's store and its backend (upstream's
//! `storage/value` transformers): every value written passes [`ValueTransformer::to_storage`]
//! and every value read — by get, list, delete or watch — passes
//! [`ValueTransformer::read_stored`]. Codecs (objects upstream wrote as protobuf) and,
//! later, encryption at rest are transformers; keys, revisions and semantics are untouched.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::{
    KeyValue, ListOptions, ListResult, Revision, Storage, StorageError, WatchItem, WatchStream,
};

/// Turns values into their stored form and back.
pub trait ValueTransformer: Send + Sync + 'static {
    /// The stored form of a value written to `key`.
    fn to_storage(&self, key: &str, value: Bytes) -> Result<Bytes, StorageError>;

    /// The value of the stored form read from `key`.
    fn read_stored(&self, key: &str, stored: Bytes) -> Result<Bytes, StorageError>;
}

/// A backend whose values pass through a transformer.
pub struct TransformedStorage {
    inner: Arc<dyn Storage>,
    transformer: Arc<dyn ValueTransformer>,
}

impl TransformedStorage {
    pub fn new(inner: Arc<dyn Storage>, transformer: Arc<dyn ValueTransformer>) -> Self {
        TransformedStorage { inner, transformer }
    }

    fn read(&self, mut kv: KeyValue) -> Result<KeyValue, StorageError> {
        kv.value = self.transformer.read_stored(&kv.key, kv.value)?;
        Ok(kv)
    }
}

#[async_trait::async_trait]
impl Storage for TransformedStorage {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        self.inner
            .get(key)
            .await?
            .map(|kv| self.read(kv))
            .transpose()
    }

    async fn create_with_ttl(
        &self,
        key: &str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError> {
        let stored = self.transformer.to_storage(key, value)?;
        self.inner.create_with_ttl(key, stored, ttl).await
    }

    async fn update_with_ttl(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError> {
        let stored = self.transformer.to_storage(key, value)?;
        self.inner.update_with_ttl(key, expected, stored, ttl).await
    }

    async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<(KeyValue, Revision), StorageError> {
        let (kv, rev) = self.inner.delete(key, expected).await?;
        Ok((self.read(kv)?, rev))
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        let mut res = self.inner.list(prefix, opts).await?;
        res.items = std::mem::take(&mut res.items)
            .into_iter()
            .map(|kv| self.read(kv))
            .collect::<Result<_, _>>()?;
        Ok(res)
    }

    async fn count(&self, prefix: &str) -> Result<usize, StorageError> {
        self.inner.count(prefix).await
    }

    async fn watch(
        &self,
        prefix: &str,
        after: Revision,
        progress: bool,
    ) -> Result<WatchStream, StorageError> {
        let transformer = self.transformer.clone();
        let stream = self.inner.watch(prefix, after, progress).await?;
        Ok(Box::pin(stream.map(move |item| match item? {
            WatchItem::Event(mut ev) => {
                ev.kv.value = transformer.read_stored(&ev.kv.key, ev.kv.value)?;
                ev.prev_value = ev
                    .prev_value
                    .map(|p| transformer.read_stored(&ev.kv.key, p))
                    .transpose()?;
                Ok(WatchItem::Event(ev))
            }
            progress => Ok(progress),
        })))
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        self.inner.current_revision().await
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.inner.compact(revision).await
    }

    async fn compacted_revision(&self) -> Result<Revision, StorageError> {
        self.inner.compacted_revision().await
    }

    async fn check_health(&self) -> Result<(), StorageError> {
        self.inner.check_health().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::EmbeddedStore;

    /// Stores values reversed: every read must undo it.
    struct Reverse;

    impl ValueTransformer for Reverse {
        fn to_storage(&self, _key: &str, value: Bytes) -> Result<Bytes, StorageError> {
            Ok(value.iter().rev().copied().collect::<Vec<u8>>().into())
        }
        fn read_stored(&self, key: &str, stored: Bytes) -> Result<Bytes, StorageError> {
            if stored.as_ref() == b"bad" {
                return Err(StorageError::Internal(format!("{key}: undecodable")));
            }
            self.to_storage(key, stored)
        }
    }

    #[tokio::test]
    async fn every_read_and_write_passes_the_transformer() {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn Storage> =
            Arc::new(EmbeddedStore::open(&dir.path().join("db")).unwrap());
        let s = TransformedStorage::new(inner.clone(), Arc::new(Reverse));
        let mut watch = s.watch("/r/", 0, false).await.unwrap();
        let rev = s.create("/r/a", Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(inner.get("/r/a").await.unwrap().unwrap().value, "cba");
        assert_eq!(s.get("/r/a").await.unwrap().unwrap().value, "abc");
        s.update("/r/a", rev, Bytes::from_static(b"xyz"))
            .await
            .unwrap();
        let list = s.list("/r/", ListOptions::default()).await.unwrap();
        assert_eq!(list.items[0].value, "xyz");
        let (deleted, _) = s.delete("/r/a", None).await.unwrap();
        assert_eq!(deleted.value, "xyz");
        let mut seen = Vec::new();
        while seen.len() < 3 {
            if let Some(Ok(WatchItem::Event(ev))) = watch.next().await {
                seen.push((ev.kv.value, ev.prev_value));
            }
        }
        assert_eq!(seen[0].0, "abc");
        assert_eq!(seen[1], (Bytes::from("xyz"), Some(Bytes::from("abc"))));
        // A value the transformer cannot read is an error, not a wrong value.
        inner
            .create("/r/b", Bytes::from_static(b"bad"))
            .await
            .unwrap();
        assert!(s.get("/r/b").await.is_err());
        assert!(s.list("/r/", ListOptions::default()).await.is_err());
    }
}
