//! WebSocket connections for the realtime endpoints: the RFC 6455 handshake on a hyper
//! request, and the connection's buffers sized for thousands of mostly idle clients.
//!
//! tungstenite's defaults suit a few busy connections: a 128 KiB read buffer allocated up
//! front and a 128 KiB write buffer. A meeting server holds thousands of connections that each
//! receive a few small events a second, so reads start at [`READ_BUFFER`] (a larger message
//! grows the buffer, up to the message limit) and writes go out once [`WRITE_BUFFER`] bytes are
//! pending or the writer flushes. A client that stops reading cannot make the server buffer
//! more than the limit plus one message: the write fails and the connection is dropped.

use std::future::Future;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;
use warp::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use warp::reply::Response;

use super::connections::{Connections, Stopping};

pub use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
pub use tokio_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
pub use tokio_tungstenite::tungstenite::protocol::CloseFrame;
pub use tokio_tungstenite::tungstenite::Message;

/// An accepted WebSocket connection.
pub type WebSocket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// What a connection's read buffer starts at.
pub const READ_BUFFER: usize = 1024;
/// Pending output at which a write goes to the socket without waiting for a flush.
pub const WRITE_BUFFER: usize = 4 * 1024;

/// The size limits of one endpoint's connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest message (and frame) a client may send, in bytes.
    pub max_message: usize,
}

impl Limits {
    fn config(self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(WRITE_BUFFER)
            // A client that stops reading: what is pending may grow by one more message, then
            // writing fails.
            .max_write_buffer_size(WRITE_BUFFER + self.max_message.max(64 * 1024))
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message))
    }
}

/// A WebSocket handshake taken from its request, to be accepted or refused.
pub struct Upgrade {
    accept_key: String,
    on_upgrade: OnUpgrade,
    connections: Connections,
}

impl Upgrade {
    /// Whether the request asks for a WebSocket (`GET` with `Upgrade: websocket`); such a
    /// request is answered by the endpoint's WebSocket handler, well formed or not.
    pub fn is_requested<B>(request: &Request<B>) -> bool {
        request.method() == Method::GET
            && header_has(request.headers(), header::UPGRADE, "websocket")
    }

    /// Checks the handshake (RFC 6455 §4.2.1) and takes the connection's upgrade out of the
    /// request; a bad handshake says what is wrong (answer it with [`bad_handshake`]).
    pub fn take<B>(
        request: &mut Request<B>,
        connections: &Connections,
    ) -> Result<Upgrade, &'static str> {
        let headers = request.headers();
        if !header_has(headers, header::CONNECTION, "upgrade") {
            return Err("connection: upgrade is required");
        }
        if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
            return Err("sec-websocket-version must be 13");
        }
        let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
            return Err("sec-websocket-key is required");
        };
        let accept_key = derive_accept_key(key.as_bytes());
        let Some(on_upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
            return Err("this connection cannot be upgraded");
        };
        Ok(Upgrade {
            accept_key,
            on_upgrade,
            connections: connections.clone(),
        })
    }

    /// Answers `101 Switching Protocols` and runs `serve` on the connection once it is switched.
    /// The connection counts among the server's [`Connections`] while `serve` runs; `serve`
    /// watches [`Stopping`] and says goodbye when the server stops.
    pub fn accept<F, Fut>(self, limits: Limits, serve: F) -> Response
    where
        F: FnOnce(WebSocket, Stopping) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let config = limits.config();
        let guard = self.connections.register();
        let stopping = self.connections.stopping();
        tokio::spawn(async move {
            let _guard = guard;
            match self.on_upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    serve(socket, stopping).await;
                }
                Err(err) => tracing::debug!(error = %err, "websocket upgrade failed"),
            }
        });
        let mut response = Response::new(warp::hyper::body::Bytes::new().into());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(value) = HeaderValue::from_str(&self.accept_key) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, value);
        }
        response
    }
}

/// Whether a comma-separated header lists `token` (case-insensitively).
fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// The 400 answer to a handshake [`Upgrade::take`] refused.
pub fn bad_handshake(message: &str) -> Response {
    let body = serde_json::json!({ "error": format!("bad websocket handshake: {message}") });
    let mut response = Response::new(body.to_string().into());
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
