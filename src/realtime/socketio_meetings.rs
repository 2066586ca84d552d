//! Meetings over Socket.IO (onepizza §10–§12) at `/socket.io/`: each connection to the main
//! namespace gets a [`ParticipantConnection`]; its events are handled in order, and what the meeting
//! delivers is written to the socket as it comes, each broadcast encoded once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use convene_actors::{mailbox, Delivery, Inbox};
use serde_json::{json, Value};

use super::engineio::{Engine, EngineConfig};
use super::meeting::ParticipantConnection;
use super::socketio::{self, encode_ack, Event, Handler, Socket, SocketIoConfig};
use super::wire::{self, Encoded, WireFormat};
use crate::app::AppState;

pub struct MeetingSockets {
    state: AppState,
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<ParticipantConnection>>>>,
}

/// The `/socket.io/` endpoint of the main server.
pub fn engine(state: AppState) -> Engine {
    let config = &state.config.realtime;
    let engine_config = EngineConfig {
        ping_interval: Duration::from_millis(config.ping_interval_ms),
        ping_timeout: Duration::from_millis(config.ping_timeout_ms),
        max_payload: config.max_payload_bytes,
        // The meeting's own queue (the mailbox) holds the backlog; this one only has to cover
        // the packets the engine adds itself (pings, the handshake's answers).
        send_queue: config.engine_send_queue,
    };
    let socketio_config = SocketIoConfig {
        connect_timeout: Duration::from_millis(config.connect_timeout_ms),
    };
    let handler = Arc::new(MeetingSockets {
        state,
        sessions: Mutex::new(HashMap::new()),
    });
    socketio::engine(engine_config, socketio_config, handler)
}

impl MeetingSockets {
    fn session(&self, socket: &Socket) -> Option<Arc<tokio::sync::Mutex<ParticipantConnection>>> {
        self.lock().get(socket.id()).cloned()
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<ParticipantConnection>>>>
    {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Handler for MeetingSockets {
    async fn connect(&self, socket: &Socket, _auth: &Value) -> Result<(), String> {
        match socket.namespace() {
            "/" => Ok(()),
            _ => Err("Invalid namespace".into()),
        }
    }

    async fn connected(&self, socket: &Socket, _auth: &Value) {
        let (outbox, inbox) = mailbox(self.state.config.realtime.outbound_queue);
        let session =
            ParticipantConnection::new(self.state.clone(), socket.id().to_owned(), outbox);
        self.lock().insert(
            socket.id().to_owned(),
            Arc::new(tokio::sync::Mutex::new(session)),
        );
        tokio::spawn(pump(inbox, socket.clone()));
    }

    async fn event(&self, socket: &Socket, event: Event) {
        let Some(session) = self.session(socket) else {
            return;
        };
        let data = event.payload.args.into_iter().next().unwrap_or(json!({}));
        let mut session = session.lock().await;
        let result = session.handle(&event.name, data).await;
        if let Some(ack) = event.ack {
            session.acknowledge(ack.id(), &result);
        }
    }

    async fn disconnect(&self, socket: &Socket, _reason: &str) {
        let session = self.lock().remove(socket.id());
        if let Some(session) = session {
            session.lock().await.end().await;
        }
    }
}

/// Writes what the meeting delivers to the socket until the meeting closes it or the
/// connection ends. While the connection's send queue is full this waits, and the backlog
/// stays in the mailbox, whose bound the room enforces.
async fn pump(mut inbox: Inbox, socket: Socket) {
    while let Some(delivery) = inbox.recv().await {
        let sent = match delivery {
            Delivery::Event(outbound) => match wire::encoded(&outbound, WireFormat::SocketIo) {
                Encoded::Text(frame) => socket.emit_frame_waiting(frame).await,
                Encoded::Binary(_) => unreachable!("Socket.IO's encoding is text"),
            },
            Delivery::Ack { id, data } => {
                socket
                    .emit_encoded_waiting(encode_ack("/", id, vec![data]))
                    .await
            }
            Delivery::Close(reason) => {
                socket.close(&reason);
                return;
            }
        };
        if !sent {
            return;
        }
    }
}
