//! The `aescbc` and `aesgcm` providers' ciphers (AES with 16-, 24- or 32-byte keys).

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;

use super::{random, Cipher, CipherError};

/// AES's block size, and the CBC IV's.
const BLOCK: usize = 16;

/// The GCM nonce's size (all data written by upstream depends on it being 12).
const GCM_NONCE: usize = 12;

/// The GCM tag's size.
const GCM_TAG: usize = 16;

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Go's `crypto/aes` wording.
    #[error("crypto/aes: invalid key size {0}")]
    Size(usize),
    #[error("the cipher library refused the key")]
    Refused,
}

fn check_size(key: &[u8]) -> Result<(), KeyError> {
    match key.len() {
        16 | 24 | 32 => Ok(()),
        n => Err(KeyError::Size(n)),
    }
}

/// AES-CBC with PKCS#7 padding: a random IV, then the ciphertext. No authentication.
pub struct AesCbc {
    encrypt: EncryptingKey,
    decrypt: DecryptingKey,
}

impl AesCbc {
    pub fn new(key: &[u8]) -> Result<Self, KeyError> {
        check_size(key)?;
        let algorithm = match key.len() {
            16 => &aws_lc_rs::cipher::AES_128,
            24 => &aws_lc_rs::cipher::AES_192,
            _ => &aws_lc_rs::cipher::AES_256,
        };
        let unbound = || UnboundCipherKey::new(algorithm, key).map_err(|_| KeyError::Refused);
        Ok(AesCbc {
            encrypt: EncryptingKey::cbc(unbound()?).map_err(|_| KeyError::Refused)?,
            decrypt: DecryptingKey::cbc(unbound()?).map_err(|_| KeyError::Refused)?,
        })
    }

    /// Seals with a given IV (tests use known vectors; writes draw a random one).
    fn seal_with_iv(&self, plain: &[u8], iv: [u8; BLOCK]) -> Result<Vec<u8>, CipherError> {
        let padding = BLOCK - plain.len() % BLOCK;
        let mut out = Vec::with_capacity(BLOCK + plain.len() + padding);
        out.extend_from_slice(&iv);
        out.extend_from_slice(plain);
        out.resize(BLOCK + plain.len() + padding, padding as u8);
        self.encrypt
            .less_safe_encrypt(
                &mut out[BLOCK..],
                EncryptionContext::Iv128(FixedLength::from(iv)),
            )
            .map_err(|_| CipherError::Library("AES-CBC encryption failed"))?;
        Ok(out)
    }
}

impl Cipher for AesCbc {
    fn seal(&self, plain: &[u8], _aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        let mut iv = [0u8; BLOCK];
        random(&mut iv)?;
        self.seal_with_iv(plain, iv)
    }

    fn open(&self, sealed: &[u8], _aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < BLOCK {
            return Err(CipherError::TooShort);
        }
        let (iv, data) = sealed.split_at(BLOCK);
        if data.len() % BLOCK != 0 {
            return Err(CipherError::NotBlockMultiple);
        }
        let mut iv_block = [0u8; BLOCK];
        iv_block.copy_from_slice(iv);
        let mut out = data.to_vec();
        if !out.is_empty() {
            self.decrypt
                .decrypt(
                    &mut out,
                    DecryptionContext::Iv128(FixedLength::from(iv_block)),
                )
                .map_err(|_| CipherError::Library("AES-CBC decryption failed"))?;
        }
        let padding = out.last().copied().unwrap_or(0) as usize;
        if padding == 0 || padding > out.len() {
            return Err(CipherError::InvalidPkcs7Data);
        }
        let size = out.len() - padding;
        if out[size..].iter().any(|&b| b as usize != padding) {
            return Err(CipherError::InvalidPadding);
        }
        out.truncate(size);
        Ok(out)
    }
}

/// AES-GCM: a random 12-byte nonce, then the ciphertext and its tag; the storage key is
/// authenticated, so a value copied to another key does not open.
pub struct AesGcm {
    key: LessSafeKey,
}

impl AesGcm {
    pub fn new(key: &[u8]) -> Result<Self, KeyError> {
        check_size(key)?;
        let algorithm = match key.len() {
            16 => &aead::AES_128_GCM,
            24 => &aead::AES_192_GCM,
            _ => &aead::AES_256_GCM,
        };
        let unbound = UnboundKey::new(algorithm, key).map_err(|_| KeyError::Refused)?;
        Ok(AesGcm {
            key: LessSafeKey::new(unbound),
        })
    }

    fn seal_with_nonce(
        &self,
        plain: &[u8],
        aad: &[u8],
        nonce: [u8; GCM_NONCE],
    ) -> Result<Vec<u8>, CipherError> {
        let mut out = Vec::with_capacity(GCM_NONCE + plain.len() + GCM_TAG);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[GCM_NONCE..],
            )
            .map_err(|_| CipherError::Library("AES-GCM encryption failed"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }
}

impl Cipher for AesGcm {
    fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        let mut nonce = [0u8; GCM_NONCE];
        random(&mut nonce)?;
        self.seal_with_nonce(plain, aad, nonce)
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < GCM_NONCE {
            return Err(CipherError::TooShort);
        }
        let (nonce, data) = sealed.split_at(GCM_NONCE);
        let mut n = [0u8; GCM_NONCE];
        n.copy_from_slice(nonce);
        let mut out = data.to_vec();
        let len = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(n), Aad::from(aad), &mut out)
            .map_err(|_| CipherError::Authentication)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn cbc_matches_the_standard_vectors_with_pkcs7_padding() {
        // NIST SP 800-38A F.2.1 (CBC-AES128), one block: the padding block follows.
        let cbc = AesCbc::new(&hex("2b7e151628aed2a6abf7158809cf4f3c")).unwrap();
        let iv: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
        let plain = hex("6bc1bee22e409f96e93d7e117393172a");
        let sealed = cbc.seal_with_iv(&plain, iv).unwrap();
        let expected = [
            iv.to_vec(),
            hex("7649abac8119b246cee98e9b12e9197d8964e0b149c10b7b682e6e39aaeb731c"),
        ]
        .concat();
        assert_eq!(sealed, expected);
        assert_eq!(cbc.open(&expected, b"").unwrap(), plain);
        // AES-256 on a value shorter than a block (as `openssl enc -aes-256-cbc` pads it).
        let cbc = AesCbc::new(&hex(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        ))
        .unwrap();
        let stored = [
            hex("0f0e0d0c0b0a09080706050403020100"),
            hex("61805b082d1aa1d9fb60416f6885c620"),
        ]
        .concat();
        assert_eq!(cbc.open(&stored, b"").unwrap(), b"hello, secret");
        let round = cbc.seal(b"any value at all", b"/k").unwrap();
        assert_eq!(round.len(), 16 + 32);
        assert_eq!(cbc.open(&round, b"/other").unwrap(), b"any value at all");
    }

    #[test]
    fn cbc_errors_are_upstreams() {
        let cbc = AesCbc::new(&[7u8; 32]).unwrap();
        assert_eq!(cbc.open(&[0; 15], b"").unwrap_err(), CipherError::TooShort);
        assert_eq!(
            cbc.open(&[0; 20], b"").unwrap_err(),
            CipherError::NotBlockMultiple
        );
        assert_eq!(
            cbc.open(&[0; 16], b"").unwrap_err(),
            CipherError::InvalidPkcs7Data
        );
        // Another key never gives the value back: mostly a bad padding, but garbage that
        // happens to end in valid padding (1 in 256 with a random IV) opens as garbage.
        let other = AesCbc::new(&[8u8; 32]).unwrap();
        let sealed = cbc.seal(b"secret", b"").unwrap();
        assert_ne!(
            other.open(&sealed, b"").ok().as_deref(),
            Some(&b"secret"[..])
        );
        assert_eq!(AesCbc::new(&[0; 8]).err(), Some(KeyError::Size(8)));
    }

    #[test]
    fn gcm_matches_the_standard_vector_and_authenticates_the_key() {
        // The GCM specification's test case 2: zero key, zero nonce, one zero block.
        let gcm = AesGcm::new(&[0u8; 16]).unwrap();
        let stored = [
            vec![0u8; 12],
            hex("0388dace60b6a392f328c2b971b2fe78"),
            hex("ab6e47d42cec13bdf53a67b21257bddf"),
        ]
        .concat();
        assert_eq!(
            gcm.seal_with_nonce(&[0u8; 16], b"", [0; 12]).unwrap(),
            stored
        );
        assert_eq!(gcm.open(&stored, b"").unwrap(), vec![0u8; 16]);
        for size in [16, 24, 32] {
            let gcm = AesGcm::new(&vec![3u8; size]).unwrap();
            let sealed = gcm.seal(b"value", b"/registry/secrets/a/b").unwrap();
            assert_eq!(sealed.len(), 12 + 5 + 16);
            assert_eq!(
                gcm.open(&sealed, b"/registry/secrets/a/b").unwrap(),
                b"value"
            );
            assert_eq!(
                gcm.open(&sealed, b"/registry/secrets/a/c").unwrap_err(),
                CipherError::Authentication
            );
        }
        assert_eq!(gcm.open(&[0; 11], b"").unwrap_err(), CipherError::TooShort);
    }
}
