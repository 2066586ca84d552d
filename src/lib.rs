//! # convene
//!
//! The server: configuration, the HTTP API, the CLI's audit commands, and start-up wiring.
//! The core it wires together lives in three crates: `convene-events` (the durable log),
//! `convene-actors` (where commands are decided) and `convene-projections` (read models).
//!
//! Layout, with every arrow pointing down this list and none back up:
//! - [`startup`]: [`run`] — open the log, start projections and the meeting registry, mount the
//!   realtime endpoints and the REST dialects on one server, serve until the shutdown future
//!   resolves, then close everything in order.
//! - [`http`]: the REST dialects (native, EdCast, VideoSDK), one module per API area;
//!   [`http::error`] maps the application's errors to statuses.
//! - [`realtime`]: the Socket.IO and `/ws` wires and the protocol-neutral meeting session.
//! - [`app`]: the application layer both of them call — the shared services ([`app::AppState`])
//!   and the use cases every dialect shares (meetings, plans, VideoSDK joins), with
//!   [`app::AppError`], the refusals each adapter words in its own protocol.
//! - [`net`]: the accept loop, WebSocket handshakes and request bodies, knowing neither HTTP
//!   dialects nor meetings.
//! - [`billing`], [`webhooks`], [`scheduler`]: followers and timers acting on the log.
//! - [`config`], [`domain`], [`email`], [`audit`]: configuration, validated newtypes, outgoing
//!   mail, the auditor's CLI.
//!
//! A meeting command is decided in `actors/src/meeting/decide.rs`, logged by
//! `actors/src/meeting/actor.rs` through `events/src/log/writer.rs`, and read back by
//! `projections/src/meeting_directory.rs`.

pub mod app;
pub mod audit;
pub mod billing;
pub mod config;
pub mod domain;
pub mod email;
pub mod http;
pub mod net;
pub mod realtime;
pub mod scheduler;
pub mod startup;
pub mod telemetry;
pub mod webhooks;

pub use startup::{run, run_with_clock, StartupError};
