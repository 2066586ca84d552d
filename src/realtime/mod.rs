//! Realtime (DESIGN §6): one protocol-neutral meeting session and one adapter per wire.
//!
//! - [`meeting`]: a client's presence in a meeting — the events of onepizza §10–§11 and the
//!   host actions, as commands to the meeting's actor or relays through its room.
//! - [`engineio`], [`socketio`]: the Engine.IO v4 / Socket.IO v5 protocol layer, independent of
//!   meetings, behind a small [`socketio::Handler`]; `examples/socketio_conformance.rs` serves
//!   it alone.
//! - [`socketio_meetings`]: meetings at `/socket.io/`.
//! - [`ws`]: meetings at `/ws` as JSON text frames or MessagePack binary frames.
//! - [`wire`]: the one place that names the meeting's announcements and encodes them per wire
//!   format, once per broadcast.
//!
//! [`endpoints`] is what the server mounts; the WebSocket handshake itself is
//! [`crate::net::websocket`], shared with nothing else.

pub mod engineio;
pub mod meeting;
pub mod socketio;
pub mod socketio_meetings;
pub mod wire;
pub mod ws;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::app::AppState;
use crate::net::server::WebSocketEndpoint;

/// The realtime endpoints of the server: warp routes for what is not a WebSocket handshake
/// (Engine.IO long-polling, `/ws` refusals), and the handshakes' endpoints by path.
pub struct Endpoints {
    pub routes: BoxedFilter<(Response,)>,
    pub websockets: Vec<(&'static str, WebSocketEndpoint)>,
}

/// Meetings at `/socket.io/` and `/ws`.
pub fn endpoints(state: AppState) -> Endpoints {
    let engine =
        socketio_meetings::engine(state.clone()).with_connections(state.connections.clone());
    Endpoints {
        routes: engine.routes().or(ws::routes()).unify().boxed(),
        websockets: vec![
            ("/socket.io/", engine.websocket_endpoint()),
            ("/ws", ws::websocket_endpoint(state)),
        ],
    }
}
