//! The Engine.IO endpoint: handshakes, long-polling GET and POST, WebSocket, and the upgrade
//! from one to the other.
//!
//! Requests that break the protocol get the status and `{"code", "message"}` body the
//! reference server gives (400 for an unknown transport, an unknown sid, a bad method or a
//! missing or unsupported `EIO`), and a broken session is closed.
//!
//! Long-polling requests are warp routes ([`Engine::routes`]); WebSocket handshakes come through
//! [`Engine::websocket_endpoint`] (see [`crate::net::server`] for why they bypass warp).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::mpsc;
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::packet::{decode_payload, encode_payload, Packet};
use super::session::{CloseReason, EngineSession, Inbound};
use crate::net::body::BodyRefused;
use crate::net::connections::Connections;
use crate::net::server::WebSocketEndpoint;
use crate::net::websocket::{self, CloseCode, CloseFrame, Message, Upgrade, WebSocket};

/// How long a client has to finish an upgrade (the reference server's `upgradeTimeout`).
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);
/// The most packets written to a WebSocket before it is flushed.
const WRITE_BATCH: usize = 64;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Largest payload (a polling POST body, a WebSocket message) in bytes.
    pub max_payload: usize,
    /// How many packets may wait for a client; a client that lets more pile up is disconnected
    /// ("send queue full").
    pub send_queue: usize,
}

/// Called once per new session with its inbound packets; the layer above runs from there.
pub type OnOpen = Arc<dyn Fn(Arc<EngineSession>, mpsc::Receiver<Inbound>) + Send + Sync>;

#[derive(Clone)]
pub struct Engine {
    config: EngineConfig,
    sessions: Arc<Mutex<HashMap<String, Arc<EngineSession>>>>,
    on_open: OnOpen,
    connections: Connections,
}

/// The transports of the `transport` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Polling,
    WebSocket,
}

struct Query {
    transport: Transport,
    sid: Option<String>,
}

/// A refusal in the reference server's shape.
fn refuse(status: StatusCode, code: u8, message: &str) -> Response {
    warp::reply::with_status(
        warp::reply::json(&json!({ "code": code, "message": message })),
        status,
    )
    .into_response()
}

/// An Engine.IO error code and message, answered with 400.
struct Refusal(u8, &'static str);

fn parse_query(raw: &str) -> Result<Query, Refusal> {
    let mut eio = None;
    let mut transport = None;
    let mut sid = None;
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        match name.as_ref() {
            "EIO" => eio = Some(value.into_owned()),
            "transport" => transport = Some(value.into_owned()),
            "sid" => sid = Some(value.into_owned()),
            _ => {}
        }
    }
    if eio.as_deref() != Some("4") {
        return Err(Refusal(5, "Unsupported protocol version"));
    }
    let transport = match transport.as_deref() {
        Some("polling") => Transport::Polling,
        Some("websocket") => Transport::WebSocket,
        _ => return Err(Refusal(0, "Transport unknown")),
    };
    Ok(Query { transport, sid })
}

/// A polling body the engine would not read: 413 past `max_payload` (as the reference server
/// answers), 400 when it could not be read at all.
async fn refused_body(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<BodyRefused>() {
        Some(refused) => {
            let status = match refused {
                BodyRefused::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                BodyRefused::Unreadable => StatusCode::BAD_REQUEST,
            };
            Ok(warp::reply::with_status(refused.to_string(), status).into_response())
        }
        None => Err(rejection),
    }
}

impl Engine {
    pub fn new(config: EngineConfig, on_open: OnOpen) -> Self {
        Self {
            config,
            sessions: Arc::new(Mutex::new(HashMap::new())),
            on_open,
            connections: Connections::default(),
        }
    }

    /// Counts this endpoint's sessions among `connections`, the server's (see
    /// [`crate::net::connections`]), so that they close when that server stops.
    pub fn with_connections(mut self, connections: Connections) -> Self {
        self.connections = connections;
        self
    }

    /// `/socket.io/` for every method but a WebSocket handshake; the answer is always final.
    pub fn routes(&self) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
        let engine = self.clone();
        let max_payload = self.config.max_payload as u64;
        let request = warp::method()
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(crate::net::body::limited(max_payload))
            .then(move |method, query: String, body: Bytes| {
                let engine = engine.clone();
                async move { engine.handle(method, &query, body).await }
            })
            // Only the body limit can refuse here (413); the path above stays a plain filter
            // so that other routes are still tried for other paths.
            .recover(refused_body)
            .unify();
        warp::path("socket.io").and(warp::path::end()).and(request)
    }

    /// A server answering only this endpoint (the conformance example, the protocol tests).
    pub fn server(&self) -> crate::net::server::Server {
        crate::net::server::Server::new(self.routes().boxed(), self.connections.clone())
            .websocket("/socket.io/", self.websocket_endpoint())
    }

    /// The WebSocket handshakes of `/socket.io/` (a new session, or an upgrade of a polling one).
    pub fn websocket_endpoint(&self) -> WebSocketEndpoint {
        let engine = self.clone();
        std::sync::Arc::new(
            move |raw_query: &str, upgrade: Upgrade| match parse_query(raw_query) {
                Ok(Query {
                    transport: Transport::WebSocket,
                    sid,
                }) => engine.upgrade_to_websocket(upgrade, sid),
                Ok(_) => refuse(StatusCode::BAD_REQUEST, 3, "Bad request"),
                Err(Refusal(code, message)) => refuse(StatusCode::BAD_REQUEST, code, message),
            },
        )
    }

    async fn handle(&self, method: Method, raw_query: &str, body: Bytes) -> Response {
        let query = match parse_query(raw_query) {
            Ok(query) => query,
            Err(Refusal(code, message)) => return refuse(StatusCode::BAD_REQUEST, code, message),
        };
        match (query.transport, query.sid) {
            // A WebSocket handshake never gets here (see `websocket_endpoint`).
            (Transport::WebSocket, _) => refuse(StatusCode::BAD_REQUEST, 3, "Bad request"),
            (Transport::Polling, None) if method == Method::GET => self.open_polling(),
            (Transport::Polling, None) => {
                refuse(StatusCode::BAD_REQUEST, 2, "Bad handshake method")
            }
            (Transport::Polling, Some(sid)) => {
                let Some(session) = self.session(&sid) else {
                    return refuse(StatusCode::BAD_REQUEST, 1, "Session ID unknown");
                };
                if session.is_upgraded() || (method == Method::POST && session.is_closed()) {
                    return refuse(StatusCode::BAD_REQUEST, 3, "Bad request");
                }
                match method {
                    Method::GET => self.poll(&session).await,
                    Method::POST => self.post(&session, &body).await,
                    _ => refuse(StatusCode::BAD_REQUEST, 2, "Bad handshake method"),
                }
            }
        }
    }

    fn session(&self, sid: &str) -> Option<Arc<EngineSession>> {
        self.lock().get(sid).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<EngineSession>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a session, starts its heartbeat and the layer above, and forgets it when it ends.
    fn open(&self, upgrades: &[&str]) -> (Arc<EngineSession>, Packet) {
        let sid = crate::domain::SecretToken::generate().expose()[..20].to_owned();
        let (session, inbound) = EngineSession::new(
            sid.clone(),
            self.config.send_queue,
            self.config.ping_interval + self.config.ping_timeout,
            self.connections.clone(),
        );
        self.lock().insert(sid.clone(), session.clone());
        let handshake = json!({
            "sid": sid,
            "upgrades": upgrades,
            "pingInterval": self.config.ping_interval.as_millis() as u64,
            "pingTimeout": self.config.ping_timeout.as_millis() as u64,
            "maxPayload": self.config.max_payload,
        });
        let engine = self.clone();
        let ending = session.clone();
        let (interval, timeout) = (self.config.ping_interval, self.config.ping_timeout);
        // A polling client learns of a server-side close (a kick, the meeting's end) only by
        // polling once more: its session stays findable until that poll takes the last packets
        // (see `poll`) or until a poll is overdue.
        let grace = interval + timeout;
        // One task per session for its heartbeat and its end (a task per connection is memory
        // per connection).
        tokio::spawn(async move {
            ending.clone().heartbeat(interval, timeout).await;
            let reason = ending.closed().await;
            tracing::debug!(sid = %ending.sid, reason = reason.as_str(), "engine.io session closed");
            // Only for what the server ended: a client that closed, broke the protocol or
            // stopped answering gets 400 for its next request, as from the reference server.
            // A stopping server waits for nobody's next poll.
            if !ending.is_upgraded() && matches!(reason, CloseReason::ServerClosed(_)) {
                let mut stopping = engine.connections.stopping();
                tokio::select! {
                    () = tokio::time::sleep(grace) => {}
                    () = stopping.wait() => {}
                }
            }
            engine.forget(&ending.sid);
        });
        (self.on_open)(session.clone(), inbound);
        (session, Packet::Open(handshake.to_string()))
    }

    fn open_polling(&self) -> Response {
        let (_, open) = self.open(&["websocket"]);
        text_response(open.encode_text())
    }

    /// A long-polling GET: waits for at least one packet, then answers with all queued ones.
    async fn poll(&self, session: &Arc<EngineSession>) -> Response {
        let Ok(mut deliver) = session.deliver.try_lock() else {
            session.close(CloseReason::ProtocolError("overlapping poll".into()));
            return refuse(StatusCode::BAD_REQUEST, 3, "Bad request");
        };
        let first = tokio::select! {
            biased;
            packet = deliver.recv() => packet,
            _ = session.closed() => None,
        };
        let mut packets: Vec<Packet> = first.into_iter().collect();
        while let Ok(packet) = deliver.try_recv() {
            packets.push(packet);
        }
        // What was queued before the end is still delivered, then the close; a poll waiting
        // when the client itself closed (by a POST) is released with a noop.
        if session.is_closed() {
            let client_closed = session.closed().await == CloseReason::ClientClosed;
            packets.push(if client_closed && packets.is_empty() {
                Packet::Noop
            } else {
                Packet::Close
            });
            self.forget(&session.sid);
        }
        text_response(encode_payload(&packets))
    }

    fn forget(&self, sid: &str) {
        self.lock().remove(sid);
    }

    async fn post(&self, session: &Arc<EngineSession>, body: &[u8]) -> Response {
        let packets = std::str::from_utf8(body)
            .map_err(|_| "payload is not utf-8".to_owned())
            .and_then(|text| decode_payload(text).map_err(|e| e.to_string()));
        match packets {
            Ok(packets) => {
                for packet in packets {
                    session.receive(packet).await;
                }
                text_response("ok".into())
            }
            Err(why) => {
                session.close(CloseReason::ProtocolError(why));
                refuse(StatusCode::BAD_REQUEST, 3, "Bad request")
            }
        }
    }

    fn upgrade_to_websocket(&self, upgrade: Upgrade, sid: Option<String>) -> Response {
        let existing = match &sid {
            Some(sid) => match self.session(sid) {
                Some(session) if session.is_closed() => {
                    return refuse(StatusCode::BAD_REQUEST, 1, "Session ID unknown")
                }
                Some(session) => Some(session),
                None => return refuse(StatusCode::BAD_REQUEST, 1, "Session ID unknown"),
            },
            None => None,
        };
        let engine = self.clone();
        let limits = websocket::Limits {
            max_message: self.config.max_payload,
        };
        upgrade.accept(limits, move |mut socket, _stopping| async move {
            match existing {
                // A second WebSocket for a session that has upgraded already: accepted, then
                // closed at once, as the reference server does; the session keeps its own.
                Some(session) if session.is_upgraded() => {
                    let _ = socket.close(None).await;
                }
                Some(session) => engine.run_upgrade(socket, session).await,
                None => {
                    let (session, open) = engine.open(&[]);
                    run_websocket(socket, session, Some(open)).await;
                }
            }
        })
    }

    /// The upgrade dance: `2probe` → `3probe`, a `noop` to release the pending poll, then
    /// `5` switches the session to this WebSocket. A client that does not finish within
    /// [`UPGRADE_TIMEOUT`], or whose session ends meanwhile, stays on polling.
    async fn run_upgrade(&self, mut socket: WebSocket, session: Arc<EngineSession>) {
        let dance = async {
            let probe = socket.next().await;
            if !matches!(&probe, Some(Ok(m)) if text_of(m) == Some("2probe")) {
                return false;
            }
            if socket.send(Message::text("3probe")).await.is_err() {
                return false;
            }
            session.send(Packet::Noop);
            matches!(socket.next().await, Some(Ok(m)) if text_of(&m) == Some("5"))
        };
        let upgraded = tokio::select! {
            done = tokio::time::timeout(UPGRADE_TIMEOUT, dance) => done.unwrap_or(false),
            _ = session.closed() => false,
        };
        if !upgraded {
            let _ = socket.close(None).await;
            return;
        }
        session.mark_upgraded();
        run_websocket(socket, session, None).await;
    }
}

fn text_of(message: &Message) -> Option<&str> {
    match message {
        Message::Text(text) => Some(text.as_str()),
        _ => None,
    }
}

/// Carries a session over a WebSocket until either ends.
///
/// Packets waiting for the client are written in batches of up to [`WRITE_BATCH`] with one
/// flush, so a busy connection costs a write call per batch rather than per packet. A write
/// that the client does not take within the heartbeat's patience (ping interval + timeout)
/// ends the session: the client is not reading.
async fn run_websocket(socket: WebSocket, session: Arc<EngineSession>, first: Option<Packet>) {
    let patience = session.patience();
    let (mut sink, mut stream) = socket.split();
    if let Some(open) = first {
        if sink.send(Message::text(open.encode_text())).await.is_err() {
            session.close(CloseReason::ClientClosed);
            return;
        }
    }
    let mut deliver = session.deliver.lock().await;
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    loop {
        tokio::select! {
            biased;
            received = deliver.recv_many(&mut batch, WRITE_BATCH) => {
                if received == 0 {
                    break;
                }
                let written = tokio::time::timeout(patience, write_all(&mut sink, batch.drain(..))).await;
                if !matches!(written, Ok(Ok(()))) {
                    session.close(CloseReason::ClientClosed);
                    break;
                }
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    match Packet::decode_from_client(text.as_str()) {
                        Ok(packet) => session.receive(packet).await,
                        Err(e) => session.close(CloseReason::ProtocolError(e.to_string())),
                    }
                }
                Some(Ok(Message::Binary(bytes))) => session.receive(Packet::BinaryMessage(bytes)).await,
                Some(Ok(Message::Close(_))) => {
                    session.close(CloseReason::ClientClosed);
                    break;
                }
                Some(Ok(_)) => {}
                // The client is gone (or broke the framing): nothing more can be read or written.
                Some(Err(_)) | None => {
                    session.close(CloseReason::ClientClosed);
                    break;
                }
            },
            reason = session.closed() => {
                if !matches!(reason, CloseReason::ClientClosed) {
                    // What was queued before the end is still delivered, then the close.
                    let mut last = Vec::new();
                    while let Ok(packet) = deliver.try_recv() {
                        last.push(packet);
                    }
                    last.push(Packet::Close);
                    let _ = tokio::time::timeout(patience, write_all(&mut sink, last.into_iter())).await;
                }
                // A server-side end says why in the WebSocket's close frame too.
                let frame = match &reason {
                    CloseReason::ServerClosed(why) => Some(CloseFrame {
                        code: CloseCode::Away,
                        reason: why.as_str().into(),
                    }),
                    _ => None,
                };
                let _ = tokio::time::timeout(patience, sink.send(Message::Close(frame))).await;
                let _ = tokio::time::timeout(patience, sink.close()).await;
                break;
            }
        }
    }
}

/// Writes packets and flushes once.
async fn write_all(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    packets: impl Iterator<Item = Packet>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    for packet in packets {
        if let Packet::Written(marker) = packet {
            // What came before is out on the wire before the layer above goes on.
            sink.flush().await?;
            marker.reached();
            continue;
        }
        sink.feed(ws_message(packet)).await?;
    }
    sink.flush().await
}

fn ws_message(packet: Packet) -> Message {
    match packet {
        Packet::BinaryMessage(bytes) => Message::binary(bytes),
        Packet::EncodedMessage(text) => Message::Text(text),
        other => Message::text(other.encode_text()),
    }
}

fn text_response(body: String) -> Response {
    let mut response = Response::new(body.into());
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    response
}
