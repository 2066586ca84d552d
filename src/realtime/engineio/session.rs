//! One Engine.IO session (one `sid`): the queue of packets for the client, whichever transport
//! currently carries them, the heartbeat, and the end.
//!
//! Outgoing packets go into one channel. Its receiver is borrowed by the transport that
//! delivers: a long-polling GET holds it for the length of the poll (so a second concurrent GET
//! finds it taken and is refused), a WebSocket holds it for the life of the connection. An
//! upgrade therefore needs no hand-over protocol of its own: the poll answers the `noop` it is
//! sent and lets go, and the WebSocket picks the receiver up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::net::connections::{ConnectionGuard, Connections, Stopping};
use tokio::sync::{mpsc, watch, Mutex, Notify};

use super::packet::Packet;

/// Packets from the client waiting for the layer above.
const INBOUND_QUEUE: usize = 64;

/// What the session hands to the layer above (Socket.IO).
#[derive(Debug)]
pub enum Inbound {
    Message(String),
    Binary(bytes::Bytes),
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent `close`, or its WebSocket ended.
    ClientClosed,
    PingTimeout,
    /// The client broke the protocol; the text says how.
    ProtocolError(String),
    /// The layer above (or the server shutting down) closed it.
    ServerClosed(String),
}

impl CloseReason {
    pub fn as_str(&self) -> &str {
        match self {
            CloseReason::ClientClosed => "transport close",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ProtocolError(why) | CloseReason::ServerClosed(why) => why,
        }
    }
}

pub struct EngineSession {
    pub sid: String,
    outgoing: mpsc::Sender<Packet>,
    /// Held while queuing, so that a packet and its binary attachments stay together when
    /// several tasks send at once.
    queuing: std::sync::Mutex<()>,
    /// Borrowed by the delivering transport.
    pub(super) deliver: Mutex<mpsc::Receiver<Packet>>,
    inbound: mpsc::Sender<Inbound>,
    pong: Notify,
    upgraded: AtomicBool,
    closed: watch::Sender<Option<CloseReason>>,
    /// How long the client may take to answer: the ping interval plus the ping timeout.
    patience: Duration,
    /// The server's long-lived connections, which this session counts among while the layer
    /// above works on it ([`EngineSession::register_connection`]).
    connections: Connections,
}

impl EngineSession {
    /// `send_queue`: how many packets may wait for the client; see [`EngineSession::send`].
    pub(super) fn new(
        sid: String,
        send_queue: usize,
        patience: Duration,
        connections: Connections,
    ) -> (Arc<Self>, mpsc::Receiver<Inbound>) {
        let (outgoing, deliver) = mpsc::channel(send_queue.max(1));
        // Bounded: a client sending faster than its packets are handled waits (its WebSocket
        // is not read, its POST not answered) instead of queuing without limit.
        let (inbound, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
        let (closed, _) = watch::channel(None);
        let session = Arc::new(Self {
            sid,
            outgoing,
            queuing: std::sync::Mutex::new(()),
            deliver: Mutex::new(deliver),
            inbound,
            pong: Notify::new(),
            upgraded: AtomicBool::new(false),
            closed,
            patience,
            connections,
        });
        (session, inbound_rx)
    }

    /// Queues a packet for the client; false once the session has ended. A client whose queue
    /// is full is not keeping up: its session ends rather than the server's memory growing.
    pub fn send(&self, packet: Packet) -> bool {
        self.send_together(std::iter::once(packet))
    }

    /// Queues packets one after the other, with nothing from another sender in between (a
    /// message and its binary attachments); false if any could not be queued.
    pub fn send_together(&self, packets: impl IntoIterator<Item = Packet>) -> bool {
        let _together = self.queuing.lock().unwrap_or_else(|e| e.into_inner());
        for packet in packets {
            if self.is_closed() {
                return false;
            }
            match self.outgoing.try_send(packet) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.close(CloseReason::ServerClosed("send queue full".into()));
                    return false;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        true
    }

    /// Queues a packet, waiting while the queue is full (the caller holds the backlog, and
    /// decides what to do about a client that is too slow); false once the session has ended.
    pub async fn send_waiting(&self, packet: Packet) -> bool {
        let permit = tokio::select! {
            permit = self.outgoing.reserve() => permit,
            _ = self.closed() => return false,
        };
        let Ok(permit) = permit else { return false };
        let _together = self.queuing.lock().unwrap_or_else(|e| e.into_inner());
        permit.send(packet);
        !self.is_closed()
    }

    /// Counts the session among the server's connections until the guard is dropped: the
    /// layer above holds it while it handles the session, so a stopping server waits for it.
    pub fn register_connection(&self) -> ConnectionGuard {
        self.connections.register()
    }

    /// Resolves when the server stops.
    pub fn stopping(&self) -> Stopping {
        self.connections.stopping()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.borrow().is_some()
    }

    /// Ends the session (the first reason wins).
    pub fn close(&self, reason: CloseReason) {
        self.closed.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// Resolves with the reason once the session has ended.
    pub async fn closed(&self) -> CloseReason {
        let mut watch = self.closed.subscribe();
        let reason = match watch.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            Err(_) => None,
        };
        reason.unwrap_or_else(|| CloseReason::ServerClosed("server stopped".into()))
    }

    /// How long the client may take to answer or to take what is written to it.
    pub fn patience(&self) -> Duration {
        self.patience
    }

    pub fn is_upgraded(&self) -> bool {
        self.upgraded.load(Ordering::Acquire)
    }

    pub(super) fn mark_upgraded(&self) {
        self.upgraded.store(true, Ordering::Release);
    }

    /// Handles one packet from the client, whatever transport brought it.
    pub(super) async fn receive(&self, packet: Packet) {
        let inbound = match packet {
            Packet::Message(text) => Inbound::Message(text),
            Packet::BinaryMessage(bytes) => Inbound::Binary(bytes),
            other => return self.receive_control(other),
        };
        tokio::select! {
            _ = self.inbound.send(inbound) => {}
            _ = self.closed() => {}
        }
    }

    fn receive_control(&self, packet: Packet) {
        match packet {
            Packet::Message(_)
            | Packet::EncodedMessage(_)
            | Packet::BinaryMessage(_)
            | Packet::Written(_) => {}
            Packet::Pong(_) => self.pong.notify_one(),
            Packet::Close => self.close(CloseReason::ClientClosed),
            // A client's ping is answered (some clients probe liveness this way).
            Packet::Ping(data) => {
                self.send(Packet::Pong(data));
            }
            Packet::Noop => {}
            Packet::Upgrade | Packet::Open(_) => self.close(CloseReason::ProtocolError(
                "unexpected packet on this transport".into(),
            )),
        }
    }

    /// Pings every `interval`; a pong must come back within `timeout`.
    pub(super) async fn heartbeat(self: Arc<Self>, interval: Duration, timeout: Duration) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = self.closed() => return,
            }
            if !self.send(Packet::Ping(String::new())) {
                return;
            }
            tokio::select! {
                _ = self.pong.notified() => {}
                _ = tokio::time::sleep(timeout) => {
                    self.close(CloseReason::PingTimeout);
                    return;
                }
                _ = self.closed() => return,
            }
        }
    }
}
