//! The network room: accepting connections, WebSocket handshakes and request bodies, shared by
//! the HTTP dialects and the realtime wires and knowing neither.
//!
//! - [`server`]: the accept loop (HTTP/1.1 and HTTP/2 on one port), graceful shutdown, the
//!   peer's address, and WebSocket upgrades handed to the endpoints that size them.
//! - [`websocket`]: the RFC 6455 handshake and the connection's buffer sizes.
//! - [`body`]: a request body read whole under a size limit.
//! - [`connections`]: the long-lived connections, told when the server stops and waited for.

pub mod body;
pub mod connections;
pub mod server;
pub mod websocket;
