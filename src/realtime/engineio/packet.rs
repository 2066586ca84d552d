//! Engine.IO v4 packets: `<type digit><data>` in text, raw bytes for a binary message, and the
//! long-polling payload that joins packets with the record separator `\x1e` (a binary message
//! rides in it as `b<base64>`).

use base64::Engine as _;
use bytes::Bytes;

use crate::net::websocket::Utf8Bytes;

/// The record separator between packets of a long-polling payload.
pub const SEPARATOR: char = '\x1e';

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// The server's handshake, a JSON object.
    Open(String),
    Close,
    Ping(String),
    Pong(String),
    Message(String),
    /// A message packet already in its text form (`4…`, valid UTF-8), shared with the other
    /// sessions it is sent to: a WebSocket frame carries these bytes without a copy.
    EncodedMessage(Utf8Bytes),
    BinaryMessage(Bytes),
    Upgrade,
    Noop,
    /// Not sent: the transport signals it once everything queued before it has been written
    /// out (a WebSocket write flushed, a poll answered), so the layer above can wait for that.
    Written(WriteMarker),
}

/// A place in a session's outgoing queue that the transport signals when it gets there.
#[derive(Debug, Clone, Default)]
pub struct WriteMarker(std::sync::Arc<tokio::sync::Notify>);

impl WriteMarker {
    /// Called by the transport once what came before the marker is written.
    pub fn reached(&self) {
        self.0.notify_one();
    }

    /// Returns once the transport has reached the marker.
    pub async fn wait(&self) {
        self.0.notified().await;
    }
}

impl PartialEq for WriteMarker {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for WriteMarker {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    #[error("a client may not send packet type {0}")]
    NotFromClient(&'static str),
    #[error("binary message is not valid base64")]
    BadBase64,
}

impl Packet {
    /// The text form (`4hello`); a binary message in a polling payload is `b<base64>`.
    pub fn encode_text(&self) -> String {
        match self {
            Packet::Open(handshake) => format!("0{handshake}"),
            Packet::Close => "1".into(),
            Packet::Ping(data) => format!("2{data}"),
            Packet::Pong(data) => format!("3{data}"),
            Packet::Message(data) => format!("4{data}"),
            Packet::EncodedMessage(text) => text.as_str().to_owned(),
            Packet::BinaryMessage(bytes) => {
                format!(
                    "b{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )
            }
            Packet::Upgrade => "5".into(),
            Packet::Noop => "6".into(),
            Packet::Written(_) => String::new(),
        }
    }

    /// A packet a client sent as text (a WebSocket text frame or one record of a polling
    /// payload). A client may send every type but `open`.
    pub fn decode_from_client(text: &str) -> Result<Packet, PacketError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(PacketError::Empty)?;
        let data = chars.as_str();
        Ok(match kind {
            '0' => return Err(PacketError::NotFromClient("open")),
            '1' => Packet::Close,
            '2' => Packet::Ping(data.to_owned()),
            '3' => Packet::Pong(data.to_owned()),
            '4' => Packet::Message(data.to_owned()),
            '5' => Packet::Upgrade,
            '6' => Packet::Noop,
            'b' => Packet::BinaryMessage(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|_| PacketError::BadBase64)?
                    .into(),
            ),
            other => return Err(PacketError::UnknownType(other)),
        })
    }
}

/// Joins packets into one long-polling payload.
pub fn encode_payload(packets: &[Packet]) -> String {
    let mut payload = String::new();
    for packet in packets {
        if let Packet::Written(marker) = packet {
            marker.reached();
            continue;
        }
        if !payload.is_empty() {
            payload.push(SEPARATOR);
        }
        payload.push_str(&packet.encode_text());
    }
    payload
}

/// Splits a long-polling payload a client POSTed.
pub fn decode_payload(payload: &str) -> Result<Vec<Packet>, PacketError> {
    payload
        .split(SEPARATOR)
        .map(Packet::decode_from_client)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip_through_a_polling_payload() {
        let packets = vec![
            Packet::Message("hello".into()),
            Packet::BinaryMessage(Bytes::from_static(&[1, 2, 3])),
            Packet::Ping(String::new()),
            Packet::Close,
        ];
        let payload = encode_payload(&packets);
        assert_eq!(payload, "4hello\x1ebAQID\x1e2\x1e1");
        assert_eq!(decode_payload(&payload).unwrap(), packets);
    }

    #[test]
    fn the_probe_and_the_open_packet_have_their_wire_form() {
        assert_eq!(Packet::Ping("probe".into()).encode_text(), "2probe");
        assert_eq!(
            Packet::decode_from_client("3probe").unwrap(),
            Packet::Pong("probe".into())
        );
        assert_eq!(Packet::Open("{}".into()).encode_text(), "0{}");
    }

    #[test]
    fn bad_packets_are_errors() {
        assert_eq!(Packet::decode_from_client(""), Err(PacketError::Empty));
        assert_eq!(
            Packet::decode_from_client("7"),
            Err(PacketError::UnknownType('7'))
        );
        assert_eq!(
            Packet::decode_from_client("0{}"),
            Err(PacketError::NotFromClient("open"))
        );
        assert_eq!(
            Packet::decode_from_client("b!!"),
            Err(PacketError::BadBase64)
        );
        assert!(decode_payload("4a\x1e\x1e4b").is_err(), "an empty record");
    }
}
