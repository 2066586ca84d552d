use rand::distr::Alphanumeric;
use rand::Rng;

use convene_actors::sha256_hex;

/// An API key: `mk_` and 40 random base62 characters (≈ 238 bits). Shown once at creation;
/// only its SHA-256 is stored. A fast hash is right here (unlike passwords): the key is
/// high-entropy, so there is nothing to brute-force, and it is checked on every request.
pub struct ApiKey(String);

impl ApiKey {
    pub const PREFIX: &'static str = "mk_";
    const RANDOM_CHARS: usize = 40;

    pub fn generate() -> Self {
        let random: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(Self::RANDOM_CHARS)
            .map(char::from)
            .collect();
        Self(format!("{}{random}", Self::PREFIX))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn sha256(&self) -> String {
        sha256_hex(&self.0)
    }

    /// What listings show: the prefix and a few characters, enough to tell keys apart.
    pub fn preview(&self) -> String {
        format!("{}...", &self.0[..Self::PREFIX.len() + 6])
    }
}

/// A company's invite code: 12 random base62 characters (seed: "aBcDeFgHiJkL"), about 71
/// bits, stored as SHA-256.
pub struct InviteCode(String);

impl InviteCode {
    pub fn generate() -> Self {
        Self(
            rand::rng()
                .sample_iter(Alphanumeric)
                .take(12)
                .map(char::from)
                .collect(),
        )
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn sha256(&self) -> String {
        sha256_hex(&self.0)
    }
}

/// A bearer secret: 32 random bytes as hex. Shown once (a meeting's admin token, an invite, a
/// password-reset link, a session cookie); only a hash of it is ever stored.
pub struct SecretToken(String);

/// The token that lets its holder act as a meeting's host.
pub type AdminToken = SecretToken;

impl SecretToken {
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::rng().random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn sha256(&self) -> String {
        sha256_hex(&self.0)
    }
}

/// HMAC-SHA256 of `value` under `key`, as hex: how session tokens are stored, so the stored
/// form is useless without the server's session secret.
pub fn hmac_sha256_hex(key: &str, value: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("hmac accepts any key length");
    mac.update(value.as_bytes());
    to_hex(&mac.finalize().into_bytes())
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string; `None` for odd lengths or non-hex characters.
pub fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_have_the_documented_shape_and_differ() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert!(a.expose().starts_with("mk_"));
        assert_eq!(a.expose().len(), 43);
        assert!(a.expose()[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.sha256().len(), 64);
        assert!(a.preview().starts_with("mk_") && a.preview().ends_with("..."));
    }

    #[test]
    fn session_hashes_depend_on_the_key() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(hmac_sha256_hex("a", "x"), hmac_sha256_hex("b", "x"));
    }

    #[test]
    fn admin_tokens_are_64_hex_characters() {
        let token = AdminToken::generate();
        assert_eq!(token.expose().len(), 64);
        assert!(token.expose().chars().all(|c| c.is_ascii_hexdigit()));
    }
}
