//! The server's host key: how the server acts as the host of meetings it must end by itself.
//!
//! A meeting's host commands need its admin token, and only the token's SHA-256 is logged. A
//! meeting that ends at a set time (an EdCast `end_date`, a plan's duration cap), or that the
//! EdCast dialect must delete without the caller holding any token, therefore gets an admin
//! token the server can compute again: HMAC-SHA256(host key, meeting id). The key is 32 random
//! bytes in `<storage.path>/host.key` (owner-only), created on first start; it never enters
//! the log, so neither the log nor an audit export can end a meeting. Losing the file only
//! means such meetings can no longer be ended by the server (they still end by the host, who
//! holds nothing here, or never): keep it with the data directory's backups.

use std::path::Path;

use convene_events::MeetingId;

use crate::domain::{hmac_sha256_hex, SecretToken};

#[derive(Clone)]
pub struct HostKey(String);

impl HostKey {
    /// The key in `dir/host.key`, created the first time.
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let path = dir.join("host.key");
        match std::fs::read_to_string(&path) {
            Ok(key) if !key.trim().is_empty() => return Ok(Self(key.trim().to_owned())),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the data directory: {e}"))?;
        let key = SecretToken::generate().expose().to_owned();
        crate::audit::write_private(&path, &key)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Self(key))
    }

    /// The admin token of a meeting created with a server-derived token.
    pub fn admin_token(&self, meeting_id: &MeetingId) -> String {
        hmac_sha256_hex(&self.0, &format!("meeting-host:{meeting_id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_kept_and_tokens_differ_per_meeting() {
        let dir = tempfile::tempdir().unwrap();
        let key = HostKey::load_or_create(dir.path()).unwrap();
        let again = HostKey::load_or_create(dir.path()).unwrap();
        let a = MeetingId::parse("abc-defg-hij").unwrap();
        let b = MeetingId::parse("abc-defg-hik").unwrap();
        assert_eq!(key.admin_token(&a), again.admin_token(&a));
        assert_ne!(key.admin_token(&a), key.admin_token(&b));
        assert_eq!(key.admin_token(&a).len(), 64);
        let other = tempfile::tempdir().unwrap();
        let elsewhere = HostKey::load_or_create(other.path()).unwrap();
        assert_ne!(key.admin_token(&a), elsewhere.admin_token(&a));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("host.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
