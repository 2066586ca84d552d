//! `/ws`: the meeting events of onepizza §10–§11 as plain WebSocket frames, for clients that do
//! not speak Socket.IO (bots, other languages).
//!
//! - client → server: `{"event": "...", "data": {...}, "ack": n}` (`data` and `ack` optional)
//! - server → client: `{"event": "...", "data": {...}}`, and `{"ack": n, "data": {...}}`
//!   answering a frame that asked for one (`{"ok": true}` or `{"ok": false, "error": "..."}`)
//!
//! JSON text frames by default; `/ws?format=msgpack` carries the same objects as MessagePack
//! binary frames. A frame that is not such an object closes that connection (1007), and so does
//! a frame over `realtime.max_payload_bytes`; a client that stops answering pings is closed
//! after `ping_interval_ms + ping_timeout_ms`.

use std::sync::Arc;
use std::time::Duration;

use convene_actors::{mailbox, Delivery, Inbox, Outbound};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::meeting::ParticipantConnection;
use super::wire::{self, Encoded, WireFormat};
use crate::app::AppState;
use crate::net::connections::Stopping;
use crate::net::server::WebSocketEndpoint;
use crate::net::websocket::{self, CloseCode, CloseFrame, Message, Upgrade, Utf8Bytes, WebSocket};

/// The most deliveries written before a flush.
const WRITE_BATCH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    MessagePack,
}

impl Format {
    fn parse(query: &str) -> Option<Format> {
        let format = form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "format")
            .map(|(_, value)| value.into_owned());
        match format.as_deref() {
            None | Some("json") => Some(Format::Json),
            Some("msgpack") => Some(Format::MessagePack),
            Some(_) => None,
        }
    }

    fn encode(self, value: &Value) -> Vec<u8> {
        match self {
            Format::Json => value.to_string().into_bytes(),
            Format::MessagePack => {
                rmp_serde::to_vec_named(value).expect("a JSON value always encodes")
            }
        }
    }

    fn message(self, bytes: bytes::Bytes) -> Message {
        match self {
            // Checked again (the bytes are shared, not copied): JSON text is always UTF-8.
            Format::Json => match Utf8Bytes::try_from(bytes) {
                Ok(text) => Message::Text(text),
                Err(_) => Message::Close(None),
            },
            Format::MessagePack => Message::binary(bytes),
        }
    }

    fn outbound(self, outbound: &Outbound) -> Message {
        let format = match self {
            Format::Json => WireFormat::Json,
            Format::MessagePack => WireFormat::MessagePack,
        };
        match wire::encoded(outbound, format) {
            Encoded::Text(text) => Message::Text(text),
            Encoded::Binary(bytes) => Message::Binary(bytes),
        }
    }
}

/// One frame from a client.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFrame {
    event: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    ack: Option<u64>,
}

fn decode(format: Format, message: &Message) -> Result<ClientFrame, &'static str> {
    match (format, message) {
        (Format::Json, Message::Text(text)) => serde_json::from_str(text.as_str())
            .map_err(|_| "expected a JSON object {event, data, ack}"),
        (Format::MessagePack, Message::Binary(bytes)) => rmp_serde::from_slice(bytes)
            .map_err(|_| "expected a MessagePack map {event, data, ack}"),
        (Format::Json, _) => Err("expected a text frame"),
        (Format::MessagePack, _) => Err("expected a binary frame"),
    }
}

fn bad_format() -> Response {
    warp::reply::with_status(
        warp::reply::json(&json!({ "error": "format must be json or msgpack" })),
        StatusCode::BAD_REQUEST,
    )
    .into_response()
}

/// `/ws` handshakes (see [`crate::net::server`] for why they bypass warp).
pub fn websocket_endpoint(state: AppState) -> WebSocketEndpoint {
    Arc::new(move |query: &str, upgrade: Upgrade| {
        let Some(format) = Format::parse(query) else {
            return bad_format();
        };
        let state = state.clone();
        let limits = websocket::Limits {
            max_message: state.config.realtime.max_payload_bytes,
        };
        upgrade.accept(limits, move |socket, stopping| {
            run(socket, state, format, stopping)
        })
    })
}

/// `/ws` without a WebSocket handshake.
pub fn routes() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path("ws").and(warp::path::end()).map(|| {
        warp::reply::with_status(
            warp::reply::json(&json!({ "error": "/ws takes a websocket handshake" })),
            StatusCode::UPGRADE_REQUIRED,
        )
        .into_response()
    })
}

type Sink = SplitSink<WebSocket, Message>;

fn close(code: CloseCode, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Feeds one delivery to the sink (unflushed); false when the connection is over.
async fn feed(sink: &mut Sink, format: Format, delivery: Delivery) -> bool {
    match delivery {
        Delivery::Event(outbound) => sink.feed(format.outbound(&outbound)).await.is_ok(),
        Delivery::Ack { id, data } => {
            let reply = format.encode(&json!({ "ack": id, "data": data }));
            sink.feed(format.message(reply.into())).await.is_ok()
        }
        Delivery::Close(reason) => {
            let _ = sink.send(close(CloseCode::Normal, &reason)).await;
            false
        }
    }
}

/// Writes `first` and whatever else is waiting (up to a batch) with one flush; false when the
/// connection is over.
async fn deliver(sink: &mut Sink, inbox: &mut Inbox, format: Format, first: Delivery) -> bool {
    if !feed(sink, format, first).await {
        return false;
    }
    for _ in 1..WRITE_BATCH {
        let Some(next) = inbox.try_recv() else { break };
        if !feed(sink, format, next).await {
            return false;
        }
    }
    sink.flush().await.is_ok()
}

async fn run(socket: WebSocket, state: AppState, format: Format, mut stopping: Stopping) {
    let _counted = crate::telemetry::ConnectionGauge::open("ws");
    let config = state.config.realtime.clone();
    let (outbox, mut inbox) = mailbox(config.outbound_queue);
    let client_id = crate::domain::SecretToken::generate().expose()[..20].to_owned();
    let mut session = ParticipantConnection::new(state, client_id, outbox);
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(Duration::from_millis(config.ping_interval_ms));
    ping.tick().await;
    // The client must answer pings, and take what is written to it, within this long.
    let patience = Duration::from_millis(config.ping_interval_ms + config.ping_timeout_ms);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            biased;
            delivery = inbox.recv() => {
                let Some(delivery) = delivery else { break };
                let written = tokio::time::timeout(patience, deliver(&mut sink, &mut inbox, format, delivery)).await;
                if written != Ok(true) {
                    break;
                }
            }
            incoming = stream.next() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(_)) | None => break,
                };
                last_heard = tokio::time::Instant::now();
                match message {
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                    Message::Text(_) | Message::Binary(_) => {}
                }
                let frame = match decode(format, &message) {
                    Ok(frame) => frame,
                    Err(why) => {
                        let _ = tokio::time::timeout(patience, sink.send(close(CloseCode::Invalid, why))).await;
                        break;
                    }
                };
                let data = frame.data.unwrap_or_else(|| json!({}));
                // Boxed: handling an event is a large future that lives only while it runs;
                // inline, every idle connection's task would be as large.
                let result = Box::pin(session.handle(&frame.event, data)).await;
                if let Some(ack) = frame.ack {
                    session.acknowledge(ack, &result);
                }
            }
            // The server stops: the client hears why in the close frame.
            () = stopping.wait() => {
                let _ = tokio::time::timeout(patience, sink.send(close(CloseCode::Away, "server shutting down"))).await;
                break;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > patience {
                    let _ = tokio::time::timeout(patience, sink.send(close(CloseCode::Away, "ping timeout"))).await;
                    break;
                }
                let pinged = tokio::time::timeout(patience, sink.send(Message::Ping(Default::default()))).await;
                if !matches!(pinged, Ok(Ok(()))) {
                    break;
                }
            }
        }
    }
    Box::pin(session.end()).await;
}
