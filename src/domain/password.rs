use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;

/// A password within the configured length bounds. Never logged, never stored: only its
/// argon2id hash is.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str, min_chars: usize, max_chars: usize) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < min_chars {
            return Err(format!("password must be at least {min_chars} characters"));
        }
        if chars > max_chars {
            return Err(format!("password must be at most {max_chars} characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// argon2id with the crate's recommended parameters, as a PHC string. Slow on purpose: call
    /// it on the blocking pool.
    pub fn hash(&self) -> Result<String, String> {
        let salt =
            SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| e.to_string())
    }
}

/// Whether `plain` matches an argon2 PHC `hash`. Slow on purpose: call it on the blocking pool.
pub fn verify_password(plain: &str, hash: &str) -> bool {
    use argon2::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(plain.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A real argon2id hash of a password nobody has: verifying an unknown account's login against
/// it costs the same time as a known one's, so timing does not reveal which emails exist.
pub const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0Pz4yQoGwDDnDAbr1Hk9wwx5Vdq0M2Z4qvQIhVeBrJU";

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHash, PasswordVerifier};

    #[test]
    fn length_bounds_are_enforced_in_characters() {
        assert!(Password::parse("1234567", 8, 64).is_err());
        assert!(Password::parse("ééééééé", 8, 64).is_err());
        assert!(Password::parse("12345678", 8, 64).is_ok());
        assert!(Password::parse(&"x".repeat(65), 8, 64).is_err());
    }

    #[test]
    fn the_decoy_hash_parses_and_matches_nothing_typed() {
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
        assert!(!verify_password("secret123", DECOY_HASH));
    }

    #[test]
    fn the_hash_verifies_and_is_argon2id() {
        let hash = Password::parse("secret123", 8, 64).unwrap().hash().unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(b"secret123", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"secret124", &parsed)
            .is_err());
    }
}
