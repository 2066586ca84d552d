//! Why bytes from the log did not decode: the one error of the record and payload codecs, kept
//! apart so that the envelope (records) and the codec (payloads) both use it without importing
//! each other.

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("record is shorter than its hash trailer")]
    Truncated,
    #[error("cannot decode: {0}")]
    Decode(String),
    #[error("{kind} has no reader for schema {schema}")]
    UnknownSchema { kind: &'static str, schema: u16 },
    #[error("expected a {expected} event, found {found}")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
}

impl CodecError {
    pub(crate) fn decode(err: rmp_serde::decode::Error) -> Self {
        CodecError::Decode(err.to_string())
    }
}
