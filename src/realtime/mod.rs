//! Realtime transports (DESIGN §6). Today: the Engine.IO v4 / Socket.IO v5 protocol layer,
//! independent of meetings, with a small handler interface ([`socketio::Handler`]);
//! `examples/socketio_conformance.rs` serves it alone for the reference conformance suite.
//! The protocol-neutral meeting session and the `/ws` adapters build on it.

pub mod engineio;
pub mod meeting;
pub mod socketio;
pub mod socketio_meetings;
