//! The envelope every event travels in, and its on-disk form.
//!
//! A stored record is `body ‖ hash`: `body` is the envelope without its own hash, encoded as
//! MessagePack with field names, and `hash = SHA-256(prev_hash ‖ body)`. Because the hash covers
//! the exact stored bytes, verifying the chain never depends on re-encoding an envelope the same
//! way twice, and a new envelope field can be added without breaking old hashes.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codec_error::CodecError;

/// A SHA-256 chain link.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Hash(#[serde(with = "serde_bytes")] pub [u8; 32]);

impl Hash {
    /// The `prev_hash` of the very first event.
    pub const GENESIS: Hash = Hash([0; 32]);

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", &self.to_hex()[..12])
    }
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// Convene itself: the scheduler, expiry, start-up.
    System,
    /// A signed-in account (session or registration).
    Account { account_id: u64 },
    /// A REST call authenticated by one of an account's API keys.
    ApiKey { account_id: u64, key_id: u64 },
    /// Whoever presented a meeting's admin token.
    MeetingHost { meeting_id: String },
    /// A participant connected over the realtime channel, acting for themselves (joining,
    /// chat, media state, a raised hand).
    Participant {
        meeting_id: String,
        participant_id: String,
    },
}

/// An event as it is stored in and read from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Global position, contiguous from 1.
    pub seq: u64,
    /// The aggregate stream, e.g. `meeting/abc-defg-hij`.
    pub stream: String,
    /// Position within the stream, contiguous from 1.
    pub version: u64,
    /// Milliseconds since the Unix epoch (UTC) at which the log accepted the event; never
    /// decreases along `seq`.
    pub at: i64,
    /// Dotted event name, e.g. `meeting.created`.
    pub kind: String,
    /// Payload schema number of `kind`.
    pub schema: u16,
    pub actor: Actor,
    /// MessagePack with field names.
    #[serde(with = "serde_bytes")]
    pub payload: Vec<u8>,
    pub prev_hash: Hash,
    /// Not part of the encoded body; filled in from the record's trailer.
    #[serde(skip)]
    pub hash: Hash,
}

/// What a caller hands to the log: an event not yet positioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: Cow<'static, str>,
    pub schema: u16,
    pub actor: Actor,
    pub payload: Vec<u8>,
}

/// The body as written, borrowed from the caller's event to avoid copies on the hot path.
#[derive(Serialize)]
struct BodyRef<'a> {
    seq: u64,
    stream: &'a str,
    version: u64,
    at: i64,
    kind: &'a str,
    schema: u16,
    actor: &'a Actor,
    #[serde(with = "serde_bytes")]
    payload: &'a [u8],
    prev_hash: Hash,
}

/// The position the writer assigned to an event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Position<'a> {
    pub seq: u64,
    pub stream: &'a str,
    pub version: u64,
    pub at: i64,
    pub prev_hash: Hash,
}

/// Encodes a positioned event into its stored record; returns the record and its hash.
pub(crate) fn encode_record(pos: Position<'_>, event: &NewEvent) -> (Vec<u8>, Hash) {
    let body = BodyRef {
        seq: pos.seq,
        stream: pos.stream,
        version: pos.version,
        at: pos.at,
        kind: &event.kind,
        schema: event.schema,
        actor: &event.actor,
        payload: &event.payload,
        prev_hash: pos.prev_hash,
    };
    let mut record =
        rmp_serde::to_vec_named(&body).expect("an envelope body always encodes to msgpack");
    let hash = chain_hash(&pos.prev_hash, &record);
    record.extend_from_slice(&hash.0);
    (record, hash)
}

/// Decodes a stored record.
pub fn decode_record(record: &[u8]) -> Result<Envelope, CodecError> {
    let (body, hash) = split_record(record)?;
    let mut envelope: Envelope = rmp_serde::from_slice(body).map_err(CodecError::decode)?;
    envelope.hash = hash;
    Ok(envelope)
}

/// Splits a stored record into its body and the hash stored after it.
pub(crate) fn split_record(record: &[u8]) -> Result<(&[u8], Hash), CodecError> {
    if record.len() < 32 {
        return Err(CodecError::Truncated);
    }
    let (body, trailer) = record.split_at(record.len() - 32);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(trailer);
    Ok((body, Hash(hash)))
}

/// `SHA-256(prev_hash ‖ body)`.
pub(crate) fn chain_hash(prev: &Hash, body: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(prev.0);
    hasher.update(body);
    Hash(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_event() -> NewEvent {
        NewEvent {
            kind: "meeting.created".into(),
            schema: 1,
            actor: Actor::ApiKey {
                account_id: 7,
                key_id: 9,
            },
            payload: vec![1, 2, 3],
        }
    }

    #[test]
    fn record_round_trips() {
        let prev = Hash([7; 32]);
        let pos = Position {
            seq: 42,
            stream: "meeting/abc-defg-hij",
            version: 3,
            at: 1_710_000_000_000,
            prev_hash: prev,
        };
        let (record, hash) = encode_record(pos, &sample_event());
        let envelope = decode_record(&record).unwrap();
        assert_eq!(envelope.seq, 42);
        assert_eq!(envelope.stream, "meeting/abc-defg-hij");
        assert_eq!(envelope.version, 3);
        assert_eq!(envelope.kind, "meeting.created");
        assert_eq!(envelope.payload, vec![1, 2, 3]);
        assert_eq!(envelope.prev_hash, prev);
        assert_eq!(envelope.hash, hash);
        let (body, _) = split_record(&record).unwrap();
        assert_eq!(chain_hash(&prev, body), hash);
    }

    #[test]
    fn a_truncated_record_is_an_error_not_a_panic() {
        assert!(matches!(decode_record(&[1, 2]), Err(CodecError::Truncated)));
        assert!(decode_record(&[0xc1; 40]).is_err());
    }
}
