//! Socket.IO v5 packets, carried in Engine.IO messages:
//! `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`, the namespace omitted when `/`.
//!
//! A binary event or ack keeps `{"_placeholder":true,"num":n}` in its JSON and is followed by
//! one binary Engine.IO message per attachment; the packet is complete when all have arrived.
//! Placeholders stay in the JSON on the way through, so a handler that echoes arguments echoes
//! their binary parts too.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

impl PacketType {
    fn digit(self) -> char {
        match self {
            PacketType::Connect => '0',
            PacketType::Disconnect => '1',
            PacketType::Event => '2',
            PacketType::Ack => '3',
            PacketType::ConnectError => '4',
            PacketType::BinaryEvent => '5',
            PacketType::BinaryAck => '6',
        }
    }

    fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    pub kind: PacketType,
    pub namespace: String,
    pub ack_id: Option<u64>,
    pub data: Option<Value>,
    /// How many binary messages follow (binary events and acks only).
    pub attachments: usize,
}

/// The most binary attachments one packet may announce. Each is one Engine.IO message, so
/// bounded by maxPayload; this bounds what one packet can make the server hold.
pub const MAX_ATTACHMENTS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    #[error("a client may not send connect_error")]
    NotFromClient,
    #[error("bad attachment count")]
    BadAttachments,
    #[error("more than {MAX_ATTACHMENTS} binary attachments")]
    TooManyAttachments,
    #[error("bad ack id")]
    BadAckId,
    #[error("payload is not valid json")]
    BadJson,
    #[error("bad payload for this packet type")]
    BadPayload,
}

impl Packet {
    pub fn new(kind: PacketType, namespace: &str, data: Option<Value>) -> Self {
        Self {
            kind,
            namespace: namespace.to_owned(),
            ack_id: None,
            data,
            attachments: 0,
        }
    }

    /// The event's name, for an event packet.
    pub fn event_name(&self) -> Option<&str> {
        match (&self.kind, &self.data) {
            (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(items))) => {
                items.first().and_then(Value::as_str)
            }
            _ => None,
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        out.push(self.kind.digit());
        if self.kind.is_binary() {
            out.push_str(&self.attachments.to_string());
            out.push('-');
        }
        if self.namespace != "/" {
            out.push_str(&self.namespace);
            out.push(',');
        }
        if let Some(id) = self.ack_id {
            out.push_str(&id.to_string());
        }
        if let Some(data) = &self.data {
            out.push_str(&data.to_string());
        }
        out
    }

    /// A packet from a client, checked against its type's rules.
    pub fn decode(text: &str) -> Result<Packet, DecodeError> {
        let mut rest = text;
        let kind = match rest.chars().next().ok_or(DecodeError::Empty)? {
            '0' => PacketType::Connect,
            '1' => PacketType::Disconnect,
            '2' => PacketType::Event,
            '3' => PacketType::Ack,
            '4' => return Err(DecodeError::NotFromClient),
            '5' => PacketType::BinaryEvent,
            '6' => PacketType::BinaryAck,
            other => return Err(DecodeError::UnknownType(other)),
        };
        rest = &rest[1..];
        let mut attachments = 0;
        if kind.is_binary() {
            let (count, after) = rest.split_once('-').ok_or(DecodeError::BadAttachments)?;
            if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DecodeError::BadAttachments);
            }
            attachments = count.parse().map_err(|_| DecodeError::BadAttachments)?;
            if attachments > MAX_ATTACHMENTS {
                return Err(DecodeError::TooManyAttachments);
            }
            rest = after;
        }
        let mut namespace = "/".to_owned();
        if rest.starts_with('/') {
            let end = rest.find(',').unwrap_or(rest.len());
            namespace = rest[..end].to_owned();
            rest = rest.get(end + 1..).unwrap_or("");
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let ack_id = if digits > 0 {
            Some(rest[..digits].parse().map_err(|_| DecodeError::BadAckId)?)
        } else {
            None
        };
        rest = &rest[digits..];
        let data = if rest.is_empty() {
            None
        } else {
            Some(serde_json::from_str::<Value>(rest).map_err(|_| DecodeError::BadJson)?)
        };
        let packet = Packet {
            kind,
            namespace,
            ack_id,
            data,
            attachments,
        };
        packet.check()?;
        Ok(packet)
    }

    fn check(&self) -> Result<(), DecodeError> {
        let ok = match (self.kind, &self.data) {
            (PacketType::Connect, None | Some(Value::Object(_))) => self.ack_id.is_none(),
            (PacketType::Disconnect, None) => self.ack_id.is_none(),
            (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(items))) => {
                items.first().is_some_and(Value::is_string)
            }
            (PacketType::Ack | PacketType::BinaryAck, Some(Value::Array(_))) => {
                if self.ack_id.is_none() {
                    return Err(DecodeError::BadAckId);
                }
                true
            }
            _ => false,
        };
        if !ok {
            return Err(DecodeError::BadPayload);
        }
        if self.kind.is_binary() && placeholders(self.data.as_ref()).any(|n| n >= self.attachments)
        {
            return Err(DecodeError::BadAttachments);
        }
        Ok(())
    }
}

/// The `num` of every binary placeholder in `data`.
fn placeholders(data: Option<&Value>) -> impl Iterator<Item = usize> + '_ {
    let mut stack: Vec<&Value> = data.into_iter().collect();
    std::iter::from_fn(move || {
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => {
                    return Some(
                        map.get("num")
                            .and_then(Value::as_u64)
                            .map_or(usize::MAX, |n| n as usize),
                    );
                }
                Value::Object(map) => stack.extend(map.values()),
                Value::Array(items) => stack.extend(items.iter()),
                _ => {}
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_protocol_examples_decode_and_encode() {
        let connect = Packet::decode("0").unwrap();
        assert_eq!(
            (connect.kind, connect.namespace.as_str()),
            (PacketType::Connect, "/")
        );
        let with_auth = Packet::decode("0/admin,{\"token\":\"123\"}").unwrap();
        assert_eq!(with_auth.namespace, "/admin");
        assert_eq!(with_auth.data, Some(json!({"token": "123"})));

        let event = Packet::decode("2[\"hello\",1]").unwrap();
        assert_eq!(event.event_name(), Some("hello"));
        let acked = Packet::decode("2/admin,456[\"project:delete\",123]").unwrap();
        assert_eq!(
            (acked.ack_id, acked.namespace.as_str()),
            (Some(456), "/admin")
        );
        assert_eq!(acked.encode(), "2/admin,456[\"project:delete\",123]");

        let ack = Packet::decode("3/admin,456[]").unwrap();
        assert_eq!((ack.kind, ack.ack_id), (PacketType::Ack, Some(456)));

        let binary = Packet::decode("51-[\"hello\",{\"_placeholder\":true,\"num\":0}]").unwrap();
        assert_eq!(
            (binary.kind, binary.attachments),
            (PacketType::BinaryEvent, 1)
        );
        assert_eq!(
            binary.encode(),
            "51-[\"hello\",{\"_placeholder\":true,\"num\":0}]"
        );

        let refused = Packet::new(
            PacketType::ConnectError,
            "/x",
            Some(json!({"message": "Invalid namespace"})),
        );
        assert_eq!(refused.encode(), "4/x,{\"message\":\"Invalid namespace\"}");
    }

    #[test]
    fn malformed_packets_are_refused() {
        for (text, error) in [
            ("", DecodeError::Empty),
            ("9", DecodeError::UnknownType('9')),
            ("4{}", DecodeError::NotFromClient),
            ("2", DecodeError::BadPayload),
            ("2{}", DecodeError::BadPayload),
            ("2[]", DecodeError::BadPayload),
            ("2[1]", DecodeError::BadPayload),
            ("2[\"a\"", DecodeError::BadJson),
            ("0[1]", DecodeError::BadPayload),
            ("1{}", DecodeError::BadPayload),
            ("3[]", DecodeError::BadAckId),
            ("299999999999999999999999[\"a\"]", DecodeError::BadAckId),
            ("5[\"a\"]", DecodeError::BadAttachments),
            ("5x-[\"a\"]", DecodeError::BadAttachments),
            ("511-[\"a\"]", DecodeError::TooManyAttachments),
            (
                "599999999999999999999999-[\"a\"]",
                DecodeError::BadAttachments,
            ),
            (
                "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",
                DecodeError::BadAttachments,
            ),
        ] {
            assert_eq!(Packet::decode(text), Err(error), "{text:?}");
        }
    }
}
