//! Credentials at rest: API keys (and later integration and MCP secrets)
//! are encrypted with AES-256-GCM under a random 256-bit key kept in the
//! encrypted database, and stored as base64(nonce || ciphertext || tag).
//! A fresh random 96-bit nonce is used for every encryption.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::secret::Secret;
use crate::store::Database;
use tftsr_core::{StoreError, Timestamp};

/// The setting that holds the credentials key (hex).
pub const CREDENTIALS_KEY_SETTING: &str = "credentials_key";

/// Why a stored credential could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("A stored credential could not be decrypted; enter it again.")]
    Unreadable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Encrypts and decrypts credentials.
#[derive(Clone)]
pub struct Credentials {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<key>)")
    }
}

impl Credentials {
    pub fn from_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// The installation's credentials, creating the key on first use.
    pub fn load_or_create(db: &Database, now: Timestamp) -> Result<Self, CredentialError> {
        let hex_key = match db.setting(CREDENTIALS_KEY_SETTING)? {
            Some(text) => Zeroizing::new(text),
            None => {
                let key: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
                let text = Zeroizing::new(hex::encode(key.as_slice()));
                db.set_setting(CREDENTIALS_KEY_SETTING, &text, now)?;
                text
            }
        };
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_key.as_bytes(), key.as_mut_slice())
            .map_err(|_| CredentialError::Unreadable)?;
        Ok(Self::from_key(&key))
    }

    pub fn encrypt(&self, secret: &str) -> String {
        let nonce_bytes: [u8; 12] = rand::random();
        let nonce = Nonce::from_slice(&nonce_bytes);
        // Encryption with a valid key and nonce cannot fail for inputs of
        // this size; an empty ciphertext would fail to decrypt, not leak.
        let sealed = self
            .cipher
            .encrypt(nonce, secret.as_bytes())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn decrypt(&self, stored: &str) -> Result<Secret, CredentialError> {
        let bytes = STANDARD
            .decode(stored.trim())
            .map_err(|_| CredentialError::Unreadable)?;
        if bytes.len() < 12 + 16 {
            return Err(CredentialError::Unreadable);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(Nonce::from_slice(nonce), sealed)
                .map_err(|_| CredentialError::Unreadable)?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| CredentialError::Unreadable)?;
        Ok(Secret::new(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces_and_tamper_detection() {
        let c = Credentials::from_key(&[7u8; 32]);
        let a = c.encrypt("sk-test-1234");
        let b = c.encrypt("sk-test-1234");
        assert_ne!(a, b, "each encryption uses a fresh nonce");
        assert!(!a.contains("sk-test"));
        assert_eq!(c.decrypt(&a).expect("decrypts").expose(), "sk-test-1234");
        let mut raw = STANDARD.decode(&a).expect("base64");
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(c.decrypt(&STANDARD.encode(raw)).is_err());
        let other = Credentials::from_key(&[8u8; 32]);
        assert!(other.decrypt(&a).is_err());
        assert!(c.decrypt("not base64!").is_err());
    }
}
