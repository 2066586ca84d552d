//! Engine.IO v4: the transport under Socket.IO — a session per `sid`, carried by HTTP
//! long-polling, a WebSocket, or polling then upgraded to a WebSocket.
//!
//! - [`packet`]: the packet and polling-payload codec.
//! - [`session`]: one session's outgoing queue, heartbeat and end.
//! - [`server`]: the `/socket.io/` endpoint and the upgrade.

pub mod packet;
pub mod server;
pub mod session;

pub use server::{Engine, EngineConfig};
