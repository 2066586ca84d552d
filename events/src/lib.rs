//! # convene-events
//!
//! The bottom layer of Convene: what happened, how it is written down, and where it is kept.
//! Nothing in here knows about HTTP, actors or read models.
//!
//! Layout:
//! - [`envelope`]: the [`Envelope`] every event travels in (global `seq`, `stream`, stream
//!   `version`, `at`, `kind`, `schema`, [`Actor`], payload, and the SHA-256 chain links), and how
//!   an envelope is encoded on disk.
//! - [`codec`]: the [`DomainEvent`] trait and MessagePack-with-field-names payload encoding, so a
//!   field added with `#[serde(default)]` still reads every old event; [`codec_error`] is why
//!   bytes did not decode.
//! - [`catalog`]: every domain event Convene logs, grouped by aggregate (meetings, accounts,
//!   companies, login sessions).
//! - [`ids`]: identifiers shared by every layer (meeting ids, workspaces, stream names).
//! - [`log`]: the durable append-only [`EventLog`]: one writer thread with group commit,
//!   expected-version checks, `read_stream`, `read_all`, gap-free `subscribe`, and
//!   [`log::verify_chain`] for auditors.
//! - [`clock`]: the [`Clock`] that stamps events; tests inject a [`ManualClock`].

pub mod catalog;
pub mod clock;
pub mod codec;
pub mod codec_error;
pub mod envelope;
pub mod ids;
pub mod log;

pub use clock::{Clock, ManualClock, SystemClock};
pub use codec::{DomainEvent, EventFamily};
pub use codec_error::CodecError;
pub use envelope::{Actor, Envelope, Hash, NewEvent};
pub use ids::{MeetingId, Workspace};
pub use log::{
    AppendError, AppendOutcome, EventLog, ExpectedVersion, LogConfig, LogError, StreamWrite,
    Subscription, SyncMode,
};
