//! # convene-actors
//!
//! Where commands are decided. Every aggregate is a pure pair — `decide(state, command) ->
//! events` and `apply(state, event)` — and the runtime around it only loads, appends and replies.
//!
//! Layout:
//! - [`meeting::aggregate`]: the meeting's state and `apply` (a pure fold of its events).
//! - [`meeting::decide`]: meeting commands, `decide`, and [`MeetingError`].
//! - [`meeting::actor`]: [`MeetingActor`], one ractor actor per live meeting: rehydrates from the
//!   meeting's stream, decides, appends with an expected version, applies, replies.
//! - [`registry`]: [`MeetingRegistry`], the supervisor: get-or-spawn, restart after a panic by
//!   rehydrating from the log, passivation of ended and idle meetings.
//! - [`account`]: the account aggregate and [`AccountService`], which serializes writes per
//!   account through the log's expected-version check instead of an actor.
//! - [`stream`]: the same for any aggregate without an actor: read, fold, decide, append with
//!   the version read, decide again after a lost race — used by [`webhook`] (endpoints) and
//!   [`videosdk_room`] (VideoSDK rooms).
//!
//! This crate depends on `convene-events` only; read models reach it, when needed, through small
//! traits handed over at spawn time.

pub mod account;
pub mod login_session;
pub mod meeting;
pub mod registry;
pub mod stream;
pub mod videosdk_room;
pub mod webhook;

pub use account::{Account, AccountCommand, AccountError, AccountService, Registration};
pub use login_session::{LoginSessionError, LoginSessionService};
pub use meeting::actor::{MeetingActor, MeetingMsg};
pub use meeting::aggregate::{Meeting, MeetingStatus, Participant};
pub use meeting::decide::{
    decide, CommandOutcome, CreateMeeting, HostAction, MeetingCommand, MeetingError,
    ParticipantAction, WaitingRule,
};
pub use meeting::room::{
    mailbox, Announcement, Audience, Delivery, Inbox, Mailbox, Outbound, ParticipantChange,
    ParticipantSnapshot,
};
pub use registry::{MeetingRegistry, RegistryConfig};
pub use webhook::{WebhookCommand, WebhookError, WebhookService};

use sha2::{Digest, Sha256};

/// SHA-256 of a secret, as lowercase hex: how tokens and keys are stored.
pub fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares a presented secret with a stored SHA-256 in constant time.
pub fn secret_matches(presented: &str, stored_sha256_hex: &str) -> bool {
    use subtle::ConstantTimeEq;
    sha256_hex(presented)
        .as_bytes()
        .ct_eq(stored_sha256_hex.as_bytes())
        .into()
}
