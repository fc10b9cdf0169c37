//! Between etcd's protobuf messages and the storage types: key values, key ranges, headers.

use bytes::Bytes;
use etcd_client::proto::{PbKeyValue, PbResponseHeader};

use crate::{KeyValue, Revision, StorageError};

/// A key value from etcd. Keys are written as UTF-8 by this store; a foreign key that is not
/// is decoded lossily (and logged) rather than failing a whole list.
pub(crate) fn key_value(kv: PbKeyValue) -> KeyValue {
    KeyValue {
        key: key_string(kv.key),
        value: Bytes::from(kv.value),
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
    }
}

/// A key from etcd as a string (see [`key_value`]).
pub(crate) fn key_string(key: Vec<u8>) -> String {
    String::from_utf8(key).unwrap_or_else(|err| {
        let key = String::from_utf8_lossy(err.as_bytes()).into_owned();
        tracing::warn!(%key, "etcd returned a key that is not UTF-8");
        key
    })
}

/// The store revision in a response header; every etcd response carries one.
pub(crate) fn header_revision(header: Option<&PbResponseHeader>) -> Result<Revision, StorageError> {
    header
        .map(|header| header.revision)
        .ok_or_else(|| StorageError::Internal("etcd response without a header".to_owned()))
}

/// The `[key, range_end)` of everything under `prefix`, as etcd's `WithPrefix`: the end is
/// the prefix with its last byte below 0xFF incremented; `"\0"` (to the end of the keyspace)
/// when there is none. The empty prefix becomes `"\0"`, etcd's smallest key.
pub(crate) fn prefix_range(prefix: &str) -> (Vec<u8>, Vec<u8>) {
    let key = if prefix.is_empty() {
        vec![0]
    } else {
        prefix.as_bytes().to_vec()
    };
    (key, prefix_end(prefix.as_bytes()))
}

fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    match prefix.iter().rposition(|&byte| byte < 0xFF) {
        Some(i) => {
            let mut end = prefix[..=i].to_vec();
            end[i] += 1;
            end
        }
        None => vec![0],
    }
}

/// A count or size from etcd as `usize` (etcd uses `int64`; negative values are bogus).
pub(crate) fn to_usize(value: i64, what: &str) -> Result<usize, StorageError> {
    usize::try_from(value)
        .map_err(|_| StorageError::Internal(format!("etcd returned a negative {what}: {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges() {
        assert_eq!(prefix_range("/a/"), (b"/a/".to_vec(), b"/a0".to_vec()));
        assert_eq!(prefix_range(""), (vec![0], vec![0]));
        assert_eq!(prefix_end(&[b'a', 0xFF]), b"b".to_vec());
        assert_eq!(prefix_end(&[0xFF, 0xFF]), vec![0]);
    }

    #[test]
    fn lossy_keys() {
        assert_eq!(key_string(b"/a".to_vec()), "/a");
        assert_eq!(key_string(vec![b'/', 0xFF]), "/\u{FFFD}");
    }

    #[test]
    fn counts() {
        assert_eq!(to_usize(3, "count"), Ok(3));
        assert!(matches!(
            to_usize(-1, "count"),
            Err(StorageError::Internal(_))
        ));
    }
}
