//! Login sessions, one stream each (`session/<id>`). The cookie's token is never logged, only
//! its keyed hash, so neither the log nor a backup of it lets anyone sign in.

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub session_id: u64,
    pub account_id: u64,
    /// HMAC-SHA256 of the cookie token under the server's session secret, hex.
    pub token_hash: String,
    pub expires_at: i64,
}

impl DomainEvent for SessionStarted {
    const KIND: &'static str = "session.started";
}

/// Logout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub session_id: u64,
    pub account_id: u64,
    pub token_hash: String,
}

impl DomainEvent for SessionEnded {
    const KIND: &'static str = "session.ended";
}

event_family! {
    SessionEvent {
        Started(SessionStarted),
        Ended(SessionEnded),
    }
}
