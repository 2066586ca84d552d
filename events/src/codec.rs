//! Payload encoding: MessagePack with field names.
//!
//! Field names make payloads self-describing, so adding a field with `#[serde(default)]` keeps
//! every old event readable. A change that cannot be expressed that way bumps the event's
//! `SCHEMA` and teaches [`DomainEvent::upcast`] to turn the old shape into the new one.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec_error::CodecError;
use crate::envelope::{Actor, Envelope, NewEvent};

/// A fact that can be logged.
pub trait DomainEvent: Serialize + DeserializeOwned {
    /// Dotted name, e.g. `meeting.created`.
    const KIND: &'static str;
    /// Current payload schema number.
    const SCHEMA: u16 = 1;

    /// Reads a payload written under an older schema. The default knows only the current one.
    fn upcast(schema: u16, payload: &[u8]) -> Result<Self, CodecError> {
        if schema == Self::SCHEMA {
            decode_payload(payload)
        } else {
            Err(CodecError::UnknownSchema {
                kind: Self::KIND,
                schema,
            })
        }
    }

    /// Wraps this event for appending.
    fn to_new_event(&self, actor: Actor) -> NewEvent {
        NewEvent {
            kind: Cow::Borrowed(Self::KIND),
            schema: Self::SCHEMA,
            actor,
            payload: encode_payload(self),
        }
    }

    /// Reads this event back out of an envelope of the same kind.
    fn from_envelope(envelope: &Envelope) -> Result<Self, CodecError> {
        if envelope.kind != Self::KIND {
            return Err(CodecError::WrongKind {
                expected: Self::KIND,
                found: envelope.kind.clone(),
            });
        }
        Self::upcast(envelope.schema, &envelope.payload)
    }
}

pub fn encode_payload<T: Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(value).expect("domain events always encode to msgpack")
}

pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T, CodecError> {
    rmp_serde::from_slice(payload).map_err(CodecError::decode)
}

/// The events of one aggregate's stream, as one type (made by the catalog's `event_family!`):
/// what code that folds or writes any aggregate's stream needs of it.
pub trait EventFamily: Sized {
    /// `Ok(None)` for a kind outside this family.
    fn from_envelope(envelope: &Envelope) -> Result<Option<Self>, CodecError>;
    fn to_new_event(&self, actor: Actor) -> NewEvent;
}
