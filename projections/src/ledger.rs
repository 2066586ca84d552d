//! The billing ledger's read model: each workspace's balance and its transactions.
//!
//! Keys in tree `proj/ledger`:
//! - `b ‖ workspace key` → balance in micro-dollars (i64 BE)
//! - `t ‖ workspace key ‖ seq (u64 BE)` → [`TransactionRow`]
//! - `r ‖ workspace key ‖ reference` → empty: references already entered (an entry repeating
//!   one changes nothing, so a charge or a credit can never count twice)

use convene_events::catalog::ledger::LedgerEvent;
use convene_events::{Envelope, Workspace};
use serde::{Deserialize, Serialize};

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;
use crate::{decode_row, encode_row};

#[derive(Clone)]
pub struct Ledger {
    tree: sled::Tree,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRow {
    pub seq: u64,
    pub at: i64,
    pub amount_micros: i64,
    pub kind: String,
    pub description: String,
    pub reference: String,
}

fn workspace_of(stream: &str) -> Option<Workspace> {
    stream
        .strip_prefix("ledger/")
        .and_then(Workspace::from_slug)
}

fn tagged(tag: u8, workspace: Workspace) -> Vec<u8> {
    let mut key = vec![tag];
    key.extend_from_slice(&workspace.key());
    key
}

fn transaction_key(workspace: Workspace, seq: u64) -> Vec<u8> {
    let mut key = tagged(b't', workspace);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn reference_key(workspace: Workspace, reference: &str) -> Vec<u8> {
    let mut key = tagged(b'r', workspace);
    key.extend_from_slice(reference.as_bytes());
    key
}

fn read_balance(bytes: Option<&[u8]>) -> Result<i64, ProjectionError> {
    match bytes {
        None => Ok(0),
        Some(bytes) => bytes
            .try_into()
            .map(i64::from_be_bytes)
            .map_err(|_| ProjectionError::Corrupt("ledger balance".into())),
    }
}

impl Ledger {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The workspace's balance in micro-dollars (0 when it never had an entry).
    pub fn balance(&self, workspace: Workspace) -> Result<i64, ProjectionError> {
        read_balance(self.tree.get(tagged(b'b', workspace))?.as_deref())
    }

    /// Whether an entry with `reference` is already in the workspace's ledger.
    pub fn has_reference(
        &self,
        workspace: Workspace,
        reference: &str,
    ) -> Result<bool, ProjectionError> {
        Ok(self
            .tree
            .contains_key(reference_key(workspace, reference))?)
    }

    /// The workspace's transactions, newest first, at most `limit`.
    pub fn transactions(
        &self,
        workspace: Workspace,
        limit: usize,
    ) -> Result<Vec<TransactionRow>, ProjectionError> {
        self.tree
            .scan_prefix(tagged(b't', workspace))
            .rev()
            .take(limit)
            .map(|entry| decode_row(&entry?.1))
            .collect()
    }

    /// Every workspace with a ledger and its balance (for audits and tests).
    pub fn balances(&self) -> Result<Vec<(Vec<u8>, i64)>, ProjectionError> {
        self.tree
            .scan_prefix([b'b'])
            .map(|entry| {
                let (key, value) = entry?;
                Ok((key[1..].to_vec(), read_balance(Some(&value))?))
            })
            .collect()
    }
}

impl Projection for Ledger {
    const TREE: &'static str = "proj/ledger";

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let Some(workspace) = workspace_of(&envelope.stream) else {
            return Ok(());
        };
        let Some(LedgerEvent::Entry(entry)) =
            LedgerEvent::from_envelope(envelope).map_err(|e| ProjectionError::BadEvent {
                seq: envelope.seq,
                reason: e.to_string(),
            })?
        else {
            return Ok(());
        };
        let reference = reference_key(workspace, &entry.reference);
        if staged.get(&reference)?.is_some() {
            return Ok(());
        }
        staged.insert(reference, Vec::new());
        let balance_key = tagged(b'b', workspace);
        let balance = read_balance(staged.get(&balance_key)?.as_deref())?;
        let balance = balance.saturating_add(entry.amount_micros);
        staged.insert(balance_key, balance.to_be_bytes().to_vec());
        let row = TransactionRow {
            seq: envelope.seq,
            at: envelope.at,
            amount_micros: entry.amount_micros,
            kind: entry.kind,
            description: entry.description,
            reference: entry.reference,
        };
        staged.insert(transaction_key(workspace, envelope.seq), encode_row(&row));
        Ok(())
    }
}
