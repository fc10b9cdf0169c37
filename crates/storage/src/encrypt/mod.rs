//! Encryption at rest (upstream's `storage/value/encrypt`): ciphers that seal a value for
//! one storage key, and the prefix layers that name, in the stored bytes, which provider and
//! which key sealed it, so that every configured key can still read what it wrote.
//!
//! Stored values are laid out byte for byte as upstream's kube-apiserver lays them out, so
//! encrypted data moves between its etcd and ours:
//!
//! - `k8s:enc:aescbc:v1:<key name>:` then a random 16-byte IV and the AES-CBC ciphertext of
//!   the PKCS#7-padded value;
//! - `k8s:enc:aesgcm:v1:<key name>:` then a random 12-byte nonce and the AES-GCM ciphertext
//!   with its 16-byte tag, the storage key as additional authenticated data;
//! - `k8s:enc:secretbox:v1:<key name>:` then a random 24-byte nonce and NaCl's secretbox
//!   (XSalsa20-Poly1305, tag first);
//! - identity: the value as it is (reading refuses values that start with `k8s:enc:`).

pub mod aes;
mod prefix;
pub mod secretbox;

use std::sync::Arc;

use bytes::Bytes;

pub use prefix::{Prefixed, PrefixedCiphers};

use crate::transform::ValueTransformer;
use crate::StorageError;

/// Why a value could not be sealed or opened; the texts are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("the stored data was shorter than the required size")]
    TooShort,
    #[error("the stored data is not a multiple of the block size")]
    NotBlockMultiple,
    #[error("invalid PKCS7 data (empty or not padded)")]
    InvalidPkcs7Data,
    #[error("invalid padding on input")]
    InvalidPadding,
    /// AES-GCM's tag did not match (wrong key, tampered data, or another storage key).
    #[error("cipher: message authentication failed")]
    Authentication,
    /// Secretbox could not open the box (upstream's wording for any failure there).
    #[error("output array was not large enough for encryption")]
    SecretboxOpen,
    #[error("identity transformer tried to read encrypted data")]
    EncryptedData,
    #[error("unable to read sufficient random bytes")]
    Random,
    /// The cipher library refused an operation.
    #[error("{0}")]
    Library(&'static str),
    /// No layer's prefix matched the stored value.
    #[error("{0}")]
    NoMatch(&'static str),
    /// Every matching layer failed: their errors, as Go's aggregate prints them.
    #[error("{}", aggregate(.0))]
    All(Vec<CipherError>),
}

/// Go's aggregate error text: duplicates dropped, one message as itself, several in brackets.
fn aggregate(errs: &[CipherError]) -> String {
    let mut texts: Vec<String> = Vec::new();
    for text in errs.iter().map(ToString::to_string) {
        if !texts.contains(&text) {
            texts.push(text);
        }
    }
    match texts.len() {
        1 => texts.remove(0),
        _ => format!("[{}]", texts.join(", ")),
    }
}

/// Seals values for storage and opens them again; `aad` is the storage key the value is
/// written under (authenticated by the ciphers that authenticate additional data).
pub trait Cipher: Send + Sync + 'static {
    fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, CipherError>;
    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CipherError>;
}

/// The prefix every encrypted value starts with; identity refuses to read such values.
pub const ENCRYPTED_PREFIX: &[u8] = b"k8s:enc:";

/// The identity provider: values are stored as they are.
pub struct Identity;

impl Cipher for Identity {
    fn seal(&self, plain: &[u8], _aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        Ok(plain.to_vec())
    }

    fn open(&self, sealed: &[u8], _aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.starts_with(ENCRYPTED_PREFIX) {
            return Err(CipherError::EncryptedData);
        }
        Ok(sealed.to_vec())
    }
}

/// Fills `buf` from the system's secure random source.
fn random(buf: &mut [u8]) -> Result<(), CipherError> {
    aws_lc_rs::rand::fill(buf).map_err(|_| CipherError::Random)
}

/// A resource's encryption as a value transformer: the storage key is the authenticated
/// data, as upstream's etcd3 store passes it.
pub struct Encryption {
    cipher: Arc<dyn Cipher>,
}

impl Encryption {
    pub fn new(cipher: Arc<dyn Cipher>) -> Self {
        Encryption { cipher }
    }
}

impl ValueTransformer for Encryption {
    fn to_storage(&self, key: &str, value: Bytes) -> Result<Bytes, StorageError> {
        self.cipher
            .seal(&value, key.as_bytes())
            .map(Bytes::from)
            .map_err(|e| StorageError::Internal(e.to_string()))
    }

    fn read_stored(&self, key: &str, stored: Bytes) -> Result<Bytes, StorageError> {
        self.cipher
            .open(&stored, key.as_bytes())
            .map(Bytes::from)
            .map_err(|e| StorageError::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_stores_as_is_and_refuses_encrypted_data() {
        assert_eq!(Identity.seal(b"{}", b"/k").unwrap(), b"{}");
        assert_eq!(Identity.open(b"k8s\0x", b"/k").unwrap(), b"k8s\0x");
        assert_eq!(
            Identity.open(b"k8s:enc:aescbc:v1:k:xx", b"/k").unwrap_err(),
            CipherError::EncryptedData
        );
    }

    #[test]
    fn errors_aggregate_as_go_prints_them() {
        let one = CipherError::All(vec![CipherError::TooShort]);
        assert_eq!(
            one.to_string(),
            "the stored data was shorter than the required size"
        );
        let same = CipherError::All(vec![
            CipherError::Authentication,
            CipherError::Authentication,
        ]);
        assert_eq!(same.to_string(), "cipher: message authentication failed");
        let two = CipherError::All(vec![CipherError::TooShort, CipherError::Authentication]);
        assert_eq!(
            two.to_string(),
            "[the stored data was shorter than the required size, cipher: message \
             authentication failed]"
        );
    }
}
