//! Realtime (DESIGN §6): one protocol-neutral meeting session and one adapter per wire.
//!
//! - [`meeting`]: a client's presence in a meeting — the events of onepizza §10–§11 and the
//!   host actions, as commands to the meeting's actor or relays through its room.
//! - [`engineio`], [`socketio`]: the Engine.IO v4 / Socket.IO v5 protocol layer, independent of
//!   meetings, behind a small [`socketio::Handler`]; `examples/socketio_conformance.rs` serves
//!   it alone.
//! - [`socketio_meetings`]: meetings at `/socket.io/`.
//! - [`ws`]: meetings at `/ws` as JSON text frames or MessagePack binary frames.
//! - [`websocket`]: the WebSocket handshake and the connection's buffer sizes, shared by both.

pub mod engineio;
pub mod meeting;
pub mod socketio;
pub mod socketio_meetings;
pub mod websocket;
pub mod ws;
