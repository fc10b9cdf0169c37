//! Node ports from `--service-node-port-range`, kept as upstream keeps them: the bitmap
//! of a `RangeAllocation` object (`range: "30000-32767"`, `data`: the allocated offsets as
//! the big-endian bytes of a big integer, bit `i` for port `base + i`), changed by
//! compare-and-swap so that several API servers share it safely.

use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};
use storage::{Revision, Storage, StorageError};

use super::{random_below, AllocError};

/// Compare-and-swap attempts before an allocation gives up.
const MAX_CAS_ATTEMPTS: usize = 32;

/// A range of ports: `base` and the `size` ports after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub base: u16,
    pub size: u32,
}

impl PortRange {
    /// Parses `low-high` as a stored `RangeAllocation` writes it.
    pub fn parse(s: &str) -> Option<PortRange> {
        let (low, high) = s.split_once('-')?;
        let low: u16 = low.trim().parse().ok()?;
        let high: u16 = high.trim().parse().ok()?;
        (high >= low).then(|| PortRange {
            base: low,
            size: u32::from(high - low) + 1,
        })
    }

    pub fn contains(&self, port: u32) -> bool {
        port >= u32::from(self.base) && port < u32::from(self.base) + self.size
    }

    /// Ports at the bottom of the range kept for static requests (KEP-3668):
    /// `min(max(16, size/32), 128)`, none for ranges of 16 ports or fewer.
    pub fn static_band(&self) -> u32 {
        if self.size <= 16 {
            return 0;
        }
        (self.size / 32).clamp(16, 128)
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.base, u32::from(self.base) + self.size - 1)
    }
}

/// The set of allocated offsets of a range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bitmap {
    words: Vec<u64>,
}

impl Bitmap {
    pub fn has(&self, offset: u32) -> bool {
        let (w, b) = (offset as usize / 64, offset % 64);
        self.words.get(w).is_some_and(|word| word >> b & 1 == 1)
    }

    pub fn set(&mut self, offset: u32, on: bool) {
        let (w, b) = (offset as usize / 64, offset % 64);
        if self.words.len() <= w {
            if !on {
                return;
            }
            self.words.resize(w + 1, 0);
        }
        if on {
            self.words[w] |= 1 << b;
        } else {
            self.words[w] &= !(1 << b);
        }
    }

    /// The offsets set, in order.
    pub fn offsets(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, word)| {
            (0..64u32)
                .filter(move |b| word >> b & 1 == 1)
                .map(move |b| w as u32 * 64 + b)
        })
    }

    /// Reads Go's `big.Int.Bytes()`: big-endian, no leading zero bytes.
    pub fn from_be_bytes(bytes: &[u8]) -> Bitmap {
        let mut map = Bitmap::default();
        for (i, byte) in bytes.iter().rev().enumerate() {
            for b in 0..8u32 {
                if byte >> b & 1 == 1 {
                    map.set(i as u32 * 8 + b, true);
                }
            }
        }
        map
    }

    /// Writes Go's `big.Int.Bytes()`.
    pub fn to_be_bytes(&self) -> Vec<u8> {
        let Some(max) = self.offsets().last() else {
            return Vec::new();
        };
        let len = max as usize / 8 + 1;
        let mut out = vec![0u8; len];
        for offset in self.offsets() {
            out[len - 1 - offset as usize / 8] |= 1 << (offset % 8);
        }
        out
    }
}

/// The node port allocator over one storage key.
pub struct PortAllocator {
    pub range: PortRange,
    storage: Arc<dyn Storage>,
    key: String,
}

/// The stored `RangeAllocation` for `range` holding `map`.
pub fn range_allocation(range: PortRange, map: &Bitmap) -> Value {
    json!({
        "kind": "RangeAllocation",
        "apiVersion": "v1",
        "metadata": {"creationTimestamp": null},
        "range": range.to_string(),
        "data": base64::engine::general_purpose::STANDARD.encode(map.to_be_bytes()),
    })
}

/// Reads a stored `RangeAllocation` as allocated ports of `range` (a range stored by a
/// differently configured server is translated port by port).
pub fn read_range_allocation(value: &[u8], range: PortRange) -> Result<Bitmap, AllocError> {
    let obj: Value = serde_json::from_slice(value)
        .map_err(|e| AllocError::Storage(format!("decoding the node port allocation: {e}")))?;
    let data = obj.get("data").and_then(Value::as_str).unwrap_or("");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| AllocError::Storage(format!("decoding the node port bitmap: {e}")))?;
    let stored = Bitmap::from_be_bytes(&bytes);
    let stored_range = obj
        .get("range")
        .and_then(Value::as_str)
        .and_then(PortRange::parse)
        .unwrap_or(range);
    if stored_range == range {
        return Ok(stored);
    }
    let mut map = Bitmap::default();
    for offset in stored.offsets() {
        let port = u32::from(stored_range.base) + offset;
        if range.contains(port) {
            map.set(port - u32::from(range.base), true);
        }
    }
    Ok(map)
}

fn storage_err(e: StorageError) -> AllocError {
    AllocError::Storage(e.to_string())
}

impl PortAllocator {
    /// `storage` reads stored `RangeAllocation`s (through their codec); `key` is the full
    /// key (`/registry/ranges/servicenodeports`).
    pub fn new(range: PortRange, storage: Arc<dyn Storage>, key: String) -> Self {
        PortAllocator {
            range,
            storage,
            key,
        }
    }

    /// The stored bitmap and its revision (`None` before the first write).
    pub async fn snapshot(&self) -> Result<(Bitmap, Option<Revision>), AllocError> {
        match self.storage.get(&self.key).await.map_err(storage_err)? {
            Some(kv) => Ok((
                read_range_allocation(&kv.value, self.range)?,
                Some(kv.mod_revision),
            )),
            None => Ok((Bitmap::default(), None)),
        }
    }

    /// Writes `map` if the stored bitmap is still at `rev`; `false` on a lost race.
    pub async fn store(&self, map: &Bitmap, rev: Option<Revision>) -> Result<bool, AllocError> {
        let value =
            apiserver::registry::encoding::encode_canonical(&range_allocation(self.range, map));
        let result = match rev {
            Some(rev) => self.storage.update(&self.key, rev, value).await,
            None => self.storage.create(&self.key, value).await,
        };
        match result {
            Ok(_) => Ok(true),
            Err(
                StorageError::Conflict { .. }
                | StorageError::AlreadyExists { .. }
                | StorageError::NotFound { .. },
            ) => Ok(false),
            Err(e) => Err(storage_err(e)),
        }
    }

    /// Changes the bitmap with `change` (which may refuse), retrying lost races.
    async fn modify<T>(
        &self,
        mut change: impl FnMut(&mut Bitmap) -> Result<T, AllocError>,
    ) -> Result<T, AllocError> {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let (mut map, rev) = self.snapshot().await?;
            let before = map.clone();
            let out = change(&mut map)?;
            if map == before || self.store(&map, rev).await? {
                return Ok(out);
            }
        }
        Err(AllocError::Storage(
            "too many concurrent changes to the node port allocation".into(),
        ))
    }

    /// Whether `port` is allocated.
    pub async fn has(&self, port: u32) -> Result<bool, AllocError> {
        if !self.range.contains(port) {
            return Ok(false);
        }
        let (map, _) = self.snapshot().await?;
        Ok(map.has(port - u32::from(self.range.base)))
    }

    fn check_range(&self, port: u32) -> Result<u32, AllocError> {
        if !self.range.contains(port) {
            return Err(AllocError::PortNotInRange(self.range.to_string()));
        }
        Ok(port - u32::from(self.range.base))
    }

    /// Reserves `port`.
    pub async fn allocate(&self, port: u32) -> Result<(), AllocError> {
        let offset = self.check_range(port)?;
        self.modify(|map| {
            if map.has(offset) {
                return Err(AllocError::PortAllocated);
            }
            map.set(offset, true);
            Ok(())
        })
        .await
    }

    /// Reserves a free port: from a random place above the static band first, then in it.
    pub async fn allocate_next(&self) -> Result<u32, AllocError> {
        let range = self.range;
        let band = range.static_band();
        let starts = [
            random_below(u64::from(range.size - band)) as u32,
            random_below(u64::from(band)) as u32,
        ];
        self.modify(|map| {
            for ((low, high), start) in [(band, range.size), (0, band)].into_iter().zip(starts) {
                let size = high - low;
                for probe in 0..size {
                    let offset = low + (start + probe) % size;
                    if !map.has(offset) {
                        map.set(offset, true);
                        return Ok(u32::from(range.base) + offset);
                    }
                }
            }
            Err(AllocError::Full)
        })
        .await
    }

    /// Gives ports back.
    pub async fn release(&self, ports: &[u32]) -> Result<(), AllocError> {
        let range = self.range;
        self.modify(|map| {
            for &port in ports {
                if range.contains(port) {
                    map.set(port - u32::from(range.base), false);
                }
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_bytes_are_go_big_int_bytes() {
        let mut map = Bitmap::default();
        assert!(map.to_be_bytes().is_empty());
        map.set(0, true);
        assert_eq!(map.to_be_bytes(), vec![0x01]);
        map.set(9, true);
        // bit 9 is bit 1 of the second byte from the end.
        assert_eq!(map.to_be_bytes(), vec![0x02, 0x01]);
        assert_eq!(Bitmap::from_be_bytes(&[0x02, 0x01]), map);
        map.set(0, false);
        assert_eq!(map.to_be_bytes(), vec![0x02, 0x00]);
        assert_eq!(map.offsets().collect::<Vec<_>>(), vec![9]);
    }

    #[test]
    fn ranges_print_and_parse_as_upstream() {
        let r = PortRange::parse("30000-32767").unwrap();
        assert_eq!(
            r,
            PortRange {
                base: 30000,
                size: 2768
            }
        );
        assert_eq!(r.to_string(), "30000-32767");
        assert_eq!(r.static_band(), 86);
        assert_eq!(PortRange { base: 1, size: 10 }.static_band(), 0);
        assert_eq!(
            PortRange {
                base: 1,
                size: 64000
            }
            .static_band(),
            128
        );
    }

    #[test]
    fn a_stored_bitmap_of_another_range_is_translated() {
        let old = PortRange {
            base: 30000,
            size: 100,
        };
        let mut map = Bitmap::default();
        map.set(5, true); // 30005
        map.set(99, true); // 30099
        let stored = serde_json::to_vec(&range_allocation(old, &map)).unwrap();
        let new = PortRange {
            base: 30050,
            size: 100,
        };
        let read = read_range_allocation(&stored, new).unwrap();
        assert_eq!(read.offsets().collect::<Vec<_>>(), vec![49]);
    }

    #[tokio::test]
    async fn allocations_are_kept_in_storage_and_refuse_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Storage> =
            Arc::new(storage::embedded::EmbeddedStore::open(&dir.path().join("s.db")).unwrap());
        let range = PortRange {
            base: 30000,
            size: 20,
        };
        let a = PortAllocator::new(
            range,
            store.clone(),
            "/registry/ranges/servicenodeports".into(),
        );
        let b = PortAllocator::new(range, store, "/registry/ranges/servicenodeports".into());
        a.allocate(30003).await.unwrap();
        assert_eq!(b.allocate(30003).await, Err(AllocError::PortAllocated));
        assert_eq!(
            b.allocate(40000).await,
            Err(AllocError::PortNotInRange("30000-30019".into()))
        );
        let mut seen = vec![30003];
        for _ in 0..19 {
            let p = if seen.len() % 2 == 0 {
                a.allocate_next().await
            } else {
                b.allocate_next().await
            }
            .unwrap();
            assert!(range.contains(p) && !seen.contains(&p), "{p} {seen:?}");
            seen.push(p);
        }
        assert_eq!(a.allocate_next().await, Err(AllocError::Full));
        b.release(&[30003]).await.unwrap();
        assert!(!a.has(30003).await.unwrap());
        assert_eq!(a.allocate_next().await, Ok(30003));
    }
}
