//! # convene
//!
//! The server: configuration, the HTTP API, the CLI's audit commands, and start-up wiring.
//! The core it wires together lives in three crates: `convene-events` (the durable log),
//! `convene-actors` (where commands are decided) and `convene-projections` (read models).
//!
//! Layout:
//! - [`config`]: embedded defaults, file and environment overrides.
//! - [`domain`]: validated newtypes (email, password, title, API key, admin token, timestamps).
//! - [`http`]: one module per API area; [`http::error`] maps every error to a status;
//!   [`http::protection`] holds rate limits, security headers and CORS.
//! - [`email`]: outgoing mail through SMTP, or `.eml` files in the outbox.
//! - [`scheduler`]: activates scheduled meetings, expires empty guest meetings and ends meetings
//!   at their end time.
//! - [`startup`]: [`run`] — open the log, start projections and the meeting registry, serve
//!   until the shutdown future resolves, then close everything in order.
//! - [`audit`]: `convene audit verify` and `convene audit meeting`.
//!
//! A meeting command is decided in `actors/src/meeting/decide.rs`, logged by
//! `actors/src/meeting/actor.rs` through `events/src/log/writer.rs`, and read back by
//! `projections/src/meeting_directory.rs`.

pub mod audit;
pub mod billing;
pub mod config;
pub mod domain;
pub mod email;
pub mod http;
pub mod realtime;
pub mod scheduler;
pub mod startup;
pub mod webhooks;

pub use startup::{run, run_with_clock, StartupError};
