//! Walking the hash chain: what `convene audit verify` runs.

use super::keys;
use crate::envelope::{chain_hash, split_record, Hash};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// How many records were checked.
    pub checked: u64,
    /// The first broken link, if any; checking stops there.
    pub violation: Option<ChainViolation>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainViolation {
    #[error("seq {expected} is missing (found seq {found} after seq {previous})")]
    Gap {
        previous: u64,
        expected: u64,
        found: u64,
    },
    #[error("seq {seq}: record cannot be read")]
    Unreadable { seq: u64 },
    #[error("seq {seq}: hash does not match its contents")]
    HashMismatch { seq: u64 },
    #[error("seq {seq}: prev_hash does not match the hash of seq {}", seq - 1)]
    BrokenLink { seq: u64 },
    #[error("seq {seq}: the record says it is seq {claimed}")]
    WrongSeq { seq: u64, claimed: u64 },
}

impl ChainViolation {
    /// The first sequence at which the chain is broken.
    pub fn seq(&self) -> u64 {
        match self {
            ChainViolation::Gap { expected, .. } => *expected,
            ChainViolation::Unreadable { seq }
            | ChainViolation::HashMismatch { seq }
            | ChainViolation::BrokenLink { seq }
            | ChainViolation::WrongSeq { seq, .. } => *seq,
        }
    }
}

/// Checks every record of the `log` tree of `db`: sequences contiguous from 1, each hash equal to
/// SHA-256 of the previous hash and the record's body, each `prev_hash` equal to the previous
/// record's hash.
pub fn verify_chain(db: &sled::Db) -> Result<ChainReport, sled::Error> {
    let log = db.open_tree(keys::LOG_TREE)?;
    let mut previous_seq = 0u64;
    let mut previous_hash = Hash::GENESIS;
    let mut checked = 0u64;
    for entry in log.iter() {
        let (key, record) = entry?;
        let seq = keys::seq_of(&key);
        let fail = |violation| {
            Ok(ChainReport {
                checked,
                violation: Some(violation),
            })
        };
        if seq != previous_seq + 1 {
            return fail(ChainViolation::Gap {
                previous: previous_seq,
                expected: previous_seq + 1,
                found: seq,
            });
        }
        let Ok((body, stored_hash)) = split_record(&record) else {
            return fail(ChainViolation::Unreadable { seq });
        };
        let Ok(envelope) = crate::envelope::decode_record(&record) else {
            return fail(ChainViolation::Unreadable { seq });
        };
        if envelope.seq != seq {
            return fail(ChainViolation::WrongSeq {
                seq,
                claimed: envelope.seq,
            });
        }
        if envelope.prev_hash != previous_hash {
            return fail(ChainViolation::BrokenLink { seq });
        }
        if chain_hash(&previous_hash, body) != stored_hash {
            return fail(ChainViolation::HashMismatch { seq });
        }
        previous_seq = seq;
        previous_hash = stored_hash;
        checked += 1;
    }
    Ok(ChainReport {
        checked,
        violation: None,
    })
}
