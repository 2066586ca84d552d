//! Key layout in sled.
//!
//! - tree `log`: `seq` (u64 big-endian) → stored record. Big-endian keeps sled's byte order
//!   equal to numeric order, so range scans walk the log in sequence.
//! - tree `streams`: `stream ‖ 0x00 ‖ version` (u64 BE) → `seq` (u64 BE). Stream names never
//!   contain NUL, so one stream's keys never interleave with another's.

pub(crate) const LOG_TREE: &str = "log";
pub(crate) const STREAMS_TREE: &str = "streams";

pub(crate) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub(crate) fn seq_of(bytes: &[u8]) -> u64 {
    let mut be = [0u8; 8];
    be.copy_from_slice(&bytes[bytes.len() - 8..]);
    u64::from_be_bytes(be)
}

pub(crate) fn stream_prefix(stream: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.len() + 9);
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key
}

pub(crate) fn stream_key(stream: &str, version: u64) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}
