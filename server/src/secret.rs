//! A string that must not leak: the database key, the access token, later API
//! keys. It is not `Serialize`, prints `*****` in `Debug`, is zeroed when
//! dropped, and gives its value only through [`Secret::expose`], so every
//! place that reads it is easy to find.

use std::fmt;

use zeroize::Zeroizing;

#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The raw value. Call sites should be few and obvious.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in constant time, so response timing reveals nothing.
    pub fn matches(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        let a = self.0.as_bytes();
        let b = candidate.as_bytes();
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }

    /// 32 random bytes from the OS generator, hex-encoded.
    pub fn random_hex() -> Self {
        let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
        Self::new(hex::encode(*bytes))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(*****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_the_value() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "Secret(*****)");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn matches_only_the_same_value() {
        let s = Secret::new("abc".into());
        assert!(s.matches("abc"));
        assert!(!s.matches("abd"));
        assert!(!s.matches("ab"));
        assert!(!s.matches(""));
    }

    #[test]
    fn random_values_differ() {
        let a = Secret::random_hex();
        let b = Secret::random_hex();
        assert_eq!(a.expose().len(), 64);
        assert!(!a.matches(b.expose()));
    }
}
