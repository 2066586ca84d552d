//! Socket.IO v5 on top of Engine.IO v4: namespaces, events, acks and binary attachments,
//! behind a small [`Handler`] interface.
//!
//! Each Engine.IO session gets one task ([`drive`]) that reads its packets in order, keeps the
//! namespaces it has joined, assembles binary packets from their attachments and calls the
//! handler — one call at a time, so a client's events are handled in the order it sent them.
//! A client that breaks the protocol (an unknown packet type, a bad payload, an ack nobody
//! asked for, a binary message nobody announced) loses its connection, and only its own.

pub mod packet;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::engineio::packet::Packet as EnginePacket;
use super::engineio::packet::WriteMarker;
use super::engineio::session::{CloseReason, EngineSession, Inbound};
use super::engineio::{Engine, EngineConfig};
use crate::net::websocket::Utf8Bytes;
use packet::{Packet, PacketType};

#[derive(Debug, Clone)]
pub struct SocketIoConfig {
    /// A connection that joins no namespace within this long is closed.
    pub connect_timeout: Duration,
}

/// Arguments as they travel: JSON in which binary parts are `{"_placeholder":true,"num":n}`,
/// and the parts themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload {
    pub args: Vec<Value>,
    pub attachments: Vec<Bytes>,
}

impl Payload {
    pub fn json(args: Vec<Value>) -> Self {
        Self {
            args,
            attachments: Vec::new(),
        }
    }
}

pub struct Event {
    pub name: String,
    pub payload: Payload,
    /// Present when the client asked for an acknowledgement.
    pub ack: Option<Ack>,
}

/// What the application does with connections; see the module docs for the guarantees.
pub trait Handler: Send + Sync + 'static {
    /// A client asks to join `socket.namespace()` with its `auth` payload (`{}` when none).
    /// `Err(message)` refuses it with that message. Only decide here: the client is told it
    /// is in after this returns, so what it should receive first belongs in [`connected`].
    ///
    /// [`connected`]: Handler::connected
    fn connect(
        &self,
        socket: &Socket,
        auth: &Value,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// The client has been told it joined.
    fn connected(&self, socket: &Socket, auth: &Value) -> impl Future<Output = ()> + Send;

    fn event(&self, socket: &Socket, event: Event) -> impl Future<Output = ()> + Send;

    /// The socket has left its namespace (the client left, or the connection ended).
    fn disconnect(&self, socket: &Socket, reason: &str) -> impl Future<Output = ()> + Send;
}

/// A client's membership of one namespace.
#[derive(Clone)]
pub struct Socket {
    id: String,
    namespace: String,
    session: Arc<EngineSession>,
    acks: Arc<std::sync::Mutex<PendingAcks>>,
}

/// Acknowledgements this socket asked the client for ([`Socket::emit_with_ack`]).
#[derive(Default)]
struct PendingAcks {
    last_id: u64,
    waiting: HashMap<u64, oneshot::Sender<Payload>>,
}

impl Socket {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Sends an event; false once the connection has ended.
    pub fn emit(&self, event: &str, payload: Payload) -> bool {
        let mut data = vec![Value::String(event.to_owned())];
        data.extend(payload.args);
        self.send(
            PacketType::Event,
            None,
            Value::Array(data),
            payload.attachments,
        )
    }

    /// Sends an event and asks the client to acknowledge it; the receiver gets the client's
    /// answer (and an error if the connection ends first). Ack ids count from 1 per socket.
    pub fn emit_with_ack(&self, event: &str, payload: Payload) -> oneshot::Receiver<Payload> {
        let (answer, answered) = oneshot::channel();
        let id = {
            let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
            // Nobody waits for these any more: forget them.
            acks.waiting.retain(|_, waiting| !waiting.is_closed());
            acks.last_id += 1;
            let id = acks.last_id;
            acks.waiting.insert(id, answer);
            id
        };
        let mut data = vec![Value::String(event.to_owned())];
        data.extend(payload.args);
        self.send(
            PacketType::Event,
            Some(id),
            Value::Array(data),
            payload.attachments,
        );
        answered
    }

    /// Hands the client's acknowledgement `id` to whoever asked for it; false for an id
    /// nobody is waiting for.
    fn acknowledged(&self, id: u64, payload: Payload) -> bool {
        let waiting = self
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .waiting
            .remove(&id);
        match waiting {
            Some(waiting) => {
                let _ = waiting.send(payload);
                true
            }
            None => false,
        }
    }

    /// Sends a packet already encoded by [`encode_event`] or [`encode_ack`] for this socket's
    /// namespace (a broadcast encodes once and sends the same text to every socket), waiting
    /// while the connection's send queue is full; false once the connection has ended.
    pub async fn emit_encoded_waiting(&self, packet: String) -> bool {
        self.session
            .send_waiting(EnginePacket::Message(packet))
            .await
    }

    /// Sends an Engine.IO message packet already encoded whole (`42[…]` in the main namespace),
    /// shared with the other sockets it goes to, waiting like [`Socket::emit_encoded_waiting`].
    pub async fn emit_frame_waiting(&self, frame: Utf8Bytes) -> bool {
        self.session
            .send_waiting(EnginePacket::EncodedMessage(frame))
            .await
    }

    /// Ends the whole connection. The client is first told it was disconnected from the
    /// namespace (`41`), which a Socket.IO client takes as final: it does not reconnect.
    pub fn close(&self, why: &str) {
        self.disconnect_namespace();
        self.session
            .close(CloseReason::ServerClosed(why.to_owned()));
    }

    /// Tells the client it is disconnected from this socket's namespace (`41`).
    fn disconnect_namespace(&self) {
        let disconnect = Packet::new(PacketType::Disconnect, &self.namespace, None);
        self.session
            .send(EnginePacket::Message(disconnect.encode()));
    }

    fn send(
        &self,
        kind: PacketType,
        ack_id: Option<u64>,
        data: Value,
        attachments: Vec<Bytes>,
    ) -> bool {
        let binary = !attachments.is_empty();
        let kind = match (kind, binary) {
            (PacketType::Event, true) => PacketType::BinaryEvent,
            (PacketType::Ack, true) => PacketType::BinaryAck,
            (kind, _) => kind,
        };
        let packet = Packet {
            kind,
            namespace: self.namespace.clone(),
            ack_id,
            data: Some(data),
            attachments: attachments.len(),
        };
        let message = EnginePacket::Message(packet.encode());
        let binaries = attachments.into_iter().map(EnginePacket::BinaryMessage);
        self.session
            .send_together(std::iter::once(message).chain(binaries))
    }
}

/// The Socket.IO text of a JSON-only event in `namespace`.
pub fn encode_event(namespace: &str, event: &str, data: &Value) -> String {
    Packet::new(
        PacketType::Event,
        namespace,
        Some(Value::Array(vec![
            Value::String(event.to_owned()),
            data.clone(),
        ])),
    )
    .encode()
}

/// The Socket.IO text acknowledging request `id` in `namespace` with JSON-only `args`.
pub fn encode_ack(namespace: &str, id: u64, args: Vec<Value>) -> String {
    let mut packet = Packet::new(PacketType::Ack, namespace, Some(Value::Array(args)));
    packet.ack_id = Some(id);
    packet.encode()
}

/// The acknowledgement a client asked for; answer it once.
pub struct Ack {
    socket: Socket,
    id: u64,
}

impl Ack {
    /// The client's ack id, for an application that answers through its own queue
    /// ([`encode_ack`], [`Socket::emit_encoded_waiting`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn send(self, payload: Payload) -> bool {
        self.socket.send(
            PacketType::Ack,
            Some(self.id),
            Value::Array(payload.args),
            payload.attachments,
        )
    }
}

/// An Engine.IO endpoint whose sessions speak Socket.IO to `handler`.
pub fn engine<H: Handler>(
    engine_config: EngineConfig,
    config: SocketIoConfig,
    handler: Arc<H>,
) -> Engine {
    Engine::new(
        engine_config,
        Arc::new(move |session, inbound| {
            tokio::spawn(drive(session, inbound, handler.clone(), config.clone()));
        }),
    )
}

/// Why connections end when the server stops.
const SERVER_STOPPING: &str = "server shutting down";

/// How long the handler's first events wait after a namespace's CONNECT answer is written:
/// one timer tick. A Node server's own event loop leaves that much between the two writes; a
/// client that reads frame by frame (the `ws` package emits every frame of one read at once)
/// then sees them apart. Only a connect pays it, once per namespace.
const CONNECT_SETTLE: Duration = Duration::from_millis(1);

/// A binary packet waiting for its attachments.
struct Assembling {
    packet: Packet,
    attachments: Vec<Bytes>,
}

async fn drive<H: Handler>(
    session: Arc<EngineSession>,
    mut inbound: mpsc::Receiver<Inbound>,
    handler: Arc<H>,
    config: SocketIoConfig,
) {
    // Counted among the server's connections until its sockets' handlers have heard the end.
    let _connection = session.register_connection();
    let _counted = crate::telemetry::ConnectionGauge::open("socketio");
    let mut stopping = session.stopping();
    let mut sockets: HashMap<String, Socket> = HashMap::new();
    let mut assembling: Option<Assembling> = None;
    let connect_deadline = tokio::time::sleep(config.connect_timeout);
    tokio::pin!(connect_deadline);
    let mut ever_connected = false;
    loop {
        let complete = tokio::select! {
            // The server stops: every namespace hears its DISCONNECT, then the connection ends.
            () = stopping.wait() => {
                for socket in sockets.values() {
                    socket.disconnect_namespace();
                }
                session.close(CloseReason::ServerClosed(SERVER_STOPPING.into()));
                break;
            }
            message = inbound.recv() => match message {
                None => break,
                Some(Inbound::Message(text)) => {
                    if assembling.is_some() {
                        Err("a text packet arrived while binary attachments were expected".into())
                    } else {
                        match Packet::decode(&text) {
                            Ok(packet) if packet.attachments > 0 => {
                                assembling = Some(Assembling { packet, attachments: Vec::new() });
                                Ok(None)
                            }
                            Ok(packet) => Ok(Some((packet, Vec::new()))),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                }
                Some(Inbound::Binary(bytes)) => match assembling.as_mut() {
                    None => Err("a binary message nobody announced".into()),
                    Some(pending) => {
                        pending.attachments.push(bytes);
                        if pending.attachments.len() == pending.packet.attachments {
                            let done = assembling.take().expect("checked above");
                            Ok(Some((done.packet, done.attachments)))
                        } else {
                            Ok(None)
                        }
                    }
                },
            },
            _ = &mut connect_deadline, if !ever_connected => {
                session.close(CloseReason::ServerClosed("connect timeout".into()));
                break;
            }
            _ = session.closed() => break,
        };
        match complete {
            Ok(Some((packet, attachments))) => {
                // Boxed: the handler's futures are large and live only while a packet is
                // handled; inline, every idle connection's task would be as large as they are.
                let result = Box::pin(dispatch(
                    &session,
                    &*handler,
                    &mut sockets,
                    packet,
                    attachments,
                ))
                .await;
                ever_connected |= !sockets.is_empty();
                if let Err(why) = result {
                    session.close(CloseReason::ProtocolError(why));
                    break;
                }
            }
            Ok(None) => {}
            Err(why) => {
                session.close(CloseReason::ProtocolError(why));
                break;
            }
        }
    }
    let reason = session.closed().await;
    for socket in sockets.values() {
        Box::pin(handler.disconnect(socket, reason.as_str())).await;
    }
}

async fn dispatch<H: Handler>(
    session: &Arc<EngineSession>,
    handler: &H,
    sockets: &mut HashMap<String, Socket>,
    packet: Packet,
    attachments: Vec<Bytes>,
) -> Result<(), String> {
    let namespace = packet.namespace.clone();
    match packet.kind {
        PacketType::Connect => {
            // A second CONNECT to a namespace replaces the first membership: the old socket
            // leaves (as the reference client does when it reconnects), so nothing is orphaned.
            if let Some(previous) = sockets.remove(&namespace) {
                handler
                    .disconnect(&previous, "client namespace reconnect")
                    .await;
            }
            let socket = Socket {
                id: crate::domain::SecretToken::generate().expose()[..20].to_owned(),
                namespace: namespace.clone(),
                session: session.clone(),
                acks: Arc::default(),
            };
            let auth = packet.data.unwrap_or_else(|| json!({}));
            match handler.connect(&socket, &auth).await {
                Ok(()) => {
                    let accepted = json!({ "sid": socket.id });
                    let answer = Packet::new(PacketType::Connect, &namespace, Some(accepted));
                    // The answer is written before the handler runs, as the reference server
                    // does, and the handler's first events follow it apart: a client reading
                    // packet by packet sees the CONNECT, then what the handler emits (two
                    // frames in one read reach the reference suite's client at once, and it
                    // misses the second).
                    let written = WriteMarker::default();
                    session.send_together([
                        EnginePacket::Message(answer.encode()),
                        EnginePacket::Written(written.clone()),
                    ]);
                    tokio::select! {
                        () = written.wait() => {}
                        _ = session.closed() => {}
                    }
                    tokio::time::sleep(CONNECT_SETTLE).await;
                    handler.connected(&socket, &auth).await;
                    sockets.insert(namespace, socket);
                }
                Err(message) => {
                    let refusal = json!({ "message": message });
                    let answer = Packet::new(PacketType::ConnectError, &namespace, Some(refusal));
                    session.send(EnginePacket::Message(answer.encode()));
                }
            }
            Ok(())
        }
        PacketType::Disconnect => {
            if let Some(socket) = sockets.remove(&namespace) {
                handler
                    .disconnect(&socket, "client namespace disconnect")
                    .await;
            }
            Ok(())
        }
        PacketType::Event | PacketType::BinaryEvent => {
            // Events for a namespace the client has not joined are ignored, as the reference
            // server does.
            let Some(socket) = sockets.get(&namespace) else {
                return Ok(());
            };
            let Some(Value::Array(mut data)) = packet.data else {
                return Err("event without arguments".into());
            };
            let name = match data.remove(0) {
                Value::String(name) => name,
                _ => return Err("event name is not a string".into()),
            };
            let ack = packet.ack_id.map(|id| Ack {
                socket: socket.clone(),
                id,
            });
            let event = Event {
                name,
                payload: Payload {
                    args: data,
                    attachments,
                },
                ack,
            };
            handler.event(socket, event).await;
            Ok(())
        }
        // An answer to `emit_with_ack`; any other ack id breaks the protocol.
        PacketType::Ack | PacketType::BinaryAck => {
            let (Some(socket), Some(id), Some(Value::Array(args))) =
                (sockets.get(&namespace), packet.ack_id, packet.data)
            else {
                return Err("bad ack id".into());
            };
            let payload = Payload { args, attachments };
            if socket.acknowledged(id, payload) {
                Ok(())
            } else {
                Err("bad ack id".into())
            }
        }
        PacketType::ConnectError => Err("connect_error from a client".into()),
    }
}
