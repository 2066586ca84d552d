//! Serves only Convene's Engine.IO / Socket.IO layer, configured as the reference conformance
//! suite (socket.io-protocol's `test-suite/`, EIO=4) expects, on 127.0.0.1:3000:
//! pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000, connectTimeout 1,000 ms,
//! namespaces `/` and `/custom`. On connect it emits `auth` with the client's auth payload;
//! `message` is echoed as `message-back`; `message-with-ack` is acknowledged with its
//! arguments; `emit-with-ack` is emitted back with an ack request, and the client's answer
//! emitted as `emit-with-ack`. (The engine.io-protocol suite, which wants a bare echo server at
//! `/engine.io/`, is not served.)
//!
//! Run: `cargo run --example socketio_conformance`

use std::sync::Arc;
use std::time::Duration;

use convene::realtime::engineio::EngineConfig;
use convene::realtime::socketio::{self, Event, Handler, Payload, Socket, SocketIoConfig};
use serde_json::Value;

struct Conformance;

impl Handler for Conformance {
    async fn connect(&self, socket: &Socket, _auth: &Value) -> Result<(), String> {
        match socket.namespace() {
            "/" | "/custom" => Ok(()),
            _ => Err("Invalid namespace".into()),
        }
    }

    async fn connected(&self, socket: &Socket, auth: &Value) {
        socket.emit("auth", Payload::json(vec![auth.clone()]));
    }

    async fn event(&self, socket: &Socket, event: Event) {
        match (event.name.as_str(), event.ack) {
            ("message", _) => {
                socket.emit("message-back", event.payload);
            }
            ("message-with-ack", Some(ack)) => {
                ack.send(event.payload);
            }
            // The server asks the client to acknowledge the same arguments, then emits what the
            // client answered. Awaited in a task of its own: the answer arrives through the
            // connection this handler is called from.
            ("emit-with-ack", _) => {
                let answered = socket.emit_with_ack("emit-with-ack", event.payload);
                let socket = socket.clone();
                tokio::spawn(async move {
                    if let Ok(answer) = answered.await {
                        socket.emit("emit-with-ack", answer);
                    }
                });
            }
            _ => {}
        }
    }

    async fn disconnect(&self, _socket: &Socket, _reason: &str) {}
}

#[tokio::main]
async fn main() {
    let engine = socketio::engine(
        EngineConfig {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            max_payload: 1_000_000,
            send_queue: 1024,
        },
        SocketIoConfig {
            connect_timeout: Duration::from_millis(1_000),
        },
        Arc::new(Conformance),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 3000))
        .await
        .expect("port 3000 is free");
    println!("socket.io conformance server on http://127.0.0.1:3000/socket.io/");
    engine
        .server()
        .serve(listener, std::future::pending())
        .await;
}
