//! Layers named by a prefix of the stored bytes (upstream's prefix transformers): the first
//! layer writes, and a value is read by the layers whose prefix it starts with, in order.

use std::sync::Arc;

use super::{Cipher, CipherError};

/// One layer: values it seals start with `prefix`.
pub struct Prefixed {
    pub prefix: Vec<u8>,
    pub cipher: Arc<dyn Cipher>,
}

impl Prefixed {
    pub fn new(prefix: impl Into<Vec<u8>>, cipher: Arc<dyn Cipher>) -> Self {
        Prefixed {
            prefix: prefix.into(),
            cipher,
        }
    }
}

/// Layers tried in order; the first one writes.
pub struct PrefixedCiphers {
    layers: Vec<Prefixed>,
    /// What a value no layer's prefix matches is told.
    no_match: &'static str,
}

impl PrefixedCiphers {
    /// Layers in order of preference; `layers` must not be empty.
    pub fn new(layers: Vec<Prefixed>, no_match: &'static str) -> Self {
        PrefixedCiphers { layers, no_match }
    }
}

impl Cipher for PrefixedCiphers {
    fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        let Some(first) = self.layers.first() else {
            return Err(CipherError::NoMatch(self.no_match));
        };
        let sealed = first.cipher.seal(plain, aad)?;
        let mut out = Vec::with_capacity(first.prefix.len() + sealed.len());
        out.extend_from_slice(&first.prefix);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        let mut errs = Vec::new();
        for layer in &self.layers {
            let Some(rest) = sealed.strip_prefix(layer.prefix.as_slice()) else {
                continue;
            };
            match layer.cipher.open(rest, aad) {
                Ok(plain) => return Ok(plain),
                // An identity layer placed first (to migrate away from encryption) lets
                // encrypted values pass on to the layers after it, silently.
                Err(_) if layer.prefix.is_empty() => continue,
                // Several layers may share a prefix (one provider listed twice, its keys
                // rotating): a failure lets the next one try.
                Err(e) => errs.push(e),
            }
        }
        if errs.is_empty() {
            Err(CipherError::NoMatch(self.no_match))
        } else {
            Err(CipherError::All(errs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Identity;
    use super::*;

    /// Seals by appending a marker; opens only what carries it.
    struct Marker(&'static [u8]);

    impl Cipher for Marker {
        fn seal(&self, plain: &[u8], _aad: &[u8]) -> Result<Vec<u8>, CipherError> {
            Ok([plain, self.0].concat())
        }
        fn open(&self, sealed: &[u8], _aad: &[u8]) -> Result<Vec<u8>, CipherError> {
            sealed
                .strip_suffix(self.0)
                .map(<[u8]>::to_vec)
                .ok_or(CipherError::Authentication)
        }
    }

    #[test]
    fn first_writes_and_every_layer_reads() {
        let layers = PrefixedCiphers::new(
            vec![
                Prefixed::new("p:new:", Arc::new(Marker(b"#2"))),
                Prefixed::new("p:old:", Arc::new(Marker(b"#1"))),
            ],
            "no matching prefix found",
        );
        assert_eq!(layers.seal(b"v", b"").unwrap(), b"p:new:v#2");
        assert_eq!(layers.open(b"p:new:v#2", b"").unwrap(), b"v");
        assert_eq!(layers.open(b"p:old:v#1", b"").unwrap(), b"v");
        assert_eq!(
            layers.open(b"other", b"").unwrap_err().to_string(),
            "no matching prefix found"
        );
        assert_eq!(
            layers.open(b"p:old:v#2", b"").unwrap_err(),
            CipherError::All(vec![CipherError::Authentication])
        );
    }

    #[test]
    fn shared_prefixes_are_all_tried_and_identity_first_passes_encrypted_data_on() {
        let layers = PrefixedCiphers::new(
            vec![
                Prefixed::new("", Arc::new(Identity)),
                Prefixed::new("k8s:enc:x:", Arc::new(Marker(b"#2"))),
                Prefixed::new("k8s:enc:x:", Arc::new(Marker(b"#1"))),
            ],
            "none",
        );
        assert_eq!(layers.seal(b"plain", b"").unwrap(), b"plain");
        assert_eq!(layers.open(b"plain", b"").unwrap(), b"plain");
        assert_eq!(layers.open(b"k8s:enc:x:v#1", b"").unwrap(), b"v");
        assert_eq!(
            layers.open(b"k8s:enc:x:v#3", b"").unwrap_err().to_string(),
            "cipher: message authentication failed"
        );
    }
}
