//! The `secretbox` provider's cipher: NaCl's secretbox (XSalsa20-Poly1305) with a 32-byte
//! key; a random 24-byte nonce, then the box (its 16-byte tag first).

use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, XSalsa20Poly1305};

use super::{random, Cipher, CipherError};

const NONCE: usize = 24;
const TAG: usize = 16;

/// A secretbox key.
pub struct Secretbox {
    cipher: XSalsa20Poly1305,
}

impl Secretbox {
    pub fn new(key: &[u8; 32]) -> Self {
        Secretbox {
            cipher: XSalsa20Poly1305::new(Key::from_slice(key)),
        }
    }

    fn seal_with_nonce(&self, plain: &[u8], nonce: [u8; NONCE]) -> Result<Vec<u8>, CipherError> {
        let sealed = self
            .cipher
            .encrypt(&nonce.into(), plain)
            .map_err(|_| CipherError::Library("secretbox encryption failed"))?;
        Ok([&nonce[..], &sealed].concat())
    }
}

impl Cipher for Secretbox {
    fn seal(&self, plain: &[u8], _aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        let mut nonce = [0u8; NONCE];
        random(&mut nonce)?;
        self.seal_with_nonce(plain, nonce)
    }

    fn open(&self, sealed: &[u8], _aad: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < NONCE + TAG {
            return Err(CipherError::TooShort);
        }
        let (nonce, data) = sealed.split_at(NONCE);
        let mut n = [0u8; NONCE];
        n.copy_from_slice(nonce);
        self.cipher
            .decrypt(&n.into(), data)
            .map_err(|_| CipherError::SecretboxOpen)
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
    fn opens_nacls_test_vector_laid_out_as_upstream_stores_it() {
        // NaCl's tests/secretbox.c: key, nonce, message and the box it gives.
        let key: [u8; 32] = hex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")
            .try_into()
            .unwrap();
        let nonce: [u8; 24] = hex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
            .try_into()
            .unwrap();
        let plain = hex(concat!(
            "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a",
            "1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057",
            "e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040",
            "e082f937763848645e0705"
        ));
        let boxed = hex(concat!(
            "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4",
            "476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738",
            "b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de",
            "56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5"
        ));
        let stored = [&nonce[..], &boxed].concat();
        let sb = Secretbox::new(&key);
        assert_eq!(sb.seal_with_nonce(&plain, nonce).unwrap(), stored);
        assert_eq!(sb.open(&stored, b"").unwrap(), plain);
        let mut tampered = stored.clone();
        tampered[30] ^= 1;
        assert_eq!(
            sb.open(&tampered, b"").unwrap_err(),
            CipherError::SecretboxOpen
        );
        assert_eq!(sb.open(&[0; 39], b"").unwrap_err(), CipherError::TooShort);
        let round = sb.seal(b"v", b"").unwrap();
        assert_eq!(round.len(), 24 + 16 + 1);
        assert_eq!(sb.open(&round, b"").unwrap(), b"v");
    }
}
