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

use std::time::Duration;

use convene_actors::{mailbox, Delivery, Outbound};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use warp::filters::ws::{Message, WebSocket, Ws};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::meeting::{MeetingSession, Refused};
use crate::http::AppState;

/// The slots of an Outbound's encoding cache (Socket.IO uses 0).
const JSON_FORMAT: usize = 1;
const MSGPACK_FORMAT: usize = 2;

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

    fn message(self, bytes: Vec<u8>) -> Message {
        match self {
            Format::Json => Message::text(String::from_utf8(bytes).expect("JSON is UTF-8")),
            Format::MessagePack => Message::binary(bytes),
        }
    }

    fn outbound(self, outbound: &Outbound) -> Message {
        let slot = match self {
            Format::Json => JSON_FORMAT,
            Format::MessagePack => MSGPACK_FORMAT,
        };
        let bytes = outbound.encoded(slot, |o| {
            self.encode(&json!({ "event": o.event, "data": o.data }))
        });
        self.message(bytes.to_vec())
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
    match format {
        Format::Json if message.is_text() => {
            serde_json::from_str(message.to_str().unwrap_or_default())
                .map_err(|_| "expected a JSON object {event, data, ack}")
        }
        Format::MessagePack if message.is_binary() => rmp_serde::from_slice(message.as_bytes())
            .map_err(|_| "expected a MessagePack map {event, data, ack}"),
        Format::Json => Err("expected a text frame"),
        Format::MessagePack => Err("expected a binary frame"),
    }
}

pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path("ws")
        .and(warp::path::end())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::ws())
        .map(move |query: String, ws: Ws| {
            let Some(format) = Format::parse(&query) else {
                return warp::reply::with_status(
                    warp::reply::json(&json!({ "error": "format must be json or msgpack" })),
                    StatusCode::BAD_REQUEST,
                )
                .into_response();
            };
            let state = state.clone();
            let max = state.config.realtime.max_payload_bytes;
            ws.max_message_size(max)
                .max_frame_size(max)
                .on_upgrade(move |socket| run(socket, state, format))
                .into_response()
        })
}

/// Writes one delivery; false when the connection is over.
async fn deliver(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    format: Format,
    delivery: Option<Delivery>,
) -> bool {
    match delivery {
        Some(Delivery::Event(outbound)) => sink.send(format.outbound(&outbound)).await.is_ok(),
        Some(Delivery::Close(reason)) => {
            let _ = sink.send(Message::close_with(1000u16, reason)).await;
            false
        }
        None => false,
    }
}

async fn run(socket: WebSocket, state: AppState, format: Format) {
    let config = state.config.realtime.clone();
    let (outbox, mut inbox) = mailbox(config.outbound_queue);
    let client_id = crate::domain::SecretToken::generate().expose()[..20].to_owned();
    let mut session = MeetingSession::new(state, client_id, outbox);
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(Duration::from_millis(config.ping_interval_ms));
    ping.tick().await;
    let silence_limit = Duration::from_millis(config.ping_interval_ms + config.ping_timeout_ms);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            biased;
            delivery = inbox.recv() => {
                if !deliver(&mut sink, format, delivery).await {
                    break;
                }
            }
            incoming = stream.next() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(_)) | None => break,
                };
                last_heard = tokio::time::Instant::now();
                if message.is_close() {
                    break;
                }
                if message.is_ping() || message.is_pong() {
                    continue;
                }
                let frame = match decode(format, &message) {
                    Ok(frame) => frame,
                    Err(why) => {
                        let _ = sink.send(Message::close_with(1007u16, why)).await;
                        break;
                    }
                };
                let data = frame.data.unwrap_or_else(|| json!({}));
                let result = session.handle(&frame.event, data).await;
                // What the frame caused for this client (its `error`, its `joined`) goes out
                // before the ack.
                let mut open = true;
                while let Some(delivery) = inbox.try_recv() {
                    open = deliver(&mut sink, format, Some(delivery)).await;
                    if !open {
                        break;
                    }
                }
                if !open {
                    break;
                }
                if let Some(ack) = frame.ack {
                    let answer = match result {
                        Ok(()) => json!({ "ok": true }),
                        Err(Refused(message)) => json!({ "ok": false, "error": message }),
                    };
                    let reply = format.encode(&json!({ "ack": ack, "data": answer }));
                    if sink.send(format.message(reply)).await.is_err() {
                        break;
                    }
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > silence_limit {
                    let _ = sink.send(Message::close_with(1001u16, "ping timeout")).await;
                    break;
                }
                if sink.send(Message::ping(Vec::new())).await.is_err() {
                    break;
                }
            }
        }
    }
    session.end().await;
}
