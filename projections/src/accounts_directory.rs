//! Accounts by id and email, and API keys by hash (what authentication reads).
//!
//! Keys in tree `proj/accounts_directory`:
//! - `a ‖ account id (u64 BE)` → [`AccountRow`]
//! - `e ‖ email` → account id (u64 BE)
//! - `k ‖ key sha256 (hex)` → [`KeyRow`]
//! - `i ‖ account id ‖ key id` → [`KeyRow`], to list and revoke an account's keys

use convene_events::catalog::account::{AccountEvent, AccountType};
use convene_events::Envelope;
use serde::{Deserialize, Serialize};

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;
use crate::{decode_row, encode_row};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub account_id: u64,
    pub email: String,
    pub account_type: AccountType,
    pub company_name: Option<String>,
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub account_id: u64,
    pub key_id: u64,
    pub key_sha256: String,
    pub preview: String,
    pub label: Option<String>,
    pub created_at: i64,
}

#[derive(Clone)]
pub struct AccountsDirectory {
    tree: sled::Tree,
}

fn account_key(account_id: u64) -> Vec<u8> {
    let mut key = vec![b'a'];
    key.extend_from_slice(&account_id.to_be_bytes());
    key
}

fn email_key(email: &str) -> Vec<u8> {
    let mut key = vec![b'e'];
    key.extend_from_slice(email.as_bytes());
    key
}

fn key_hash_key(sha256: &str) -> Vec<u8> {
    let mut key = vec![b'k'];
    key.extend_from_slice(sha256.as_bytes());
    key
}

fn account_keys_prefix(account_id: u64) -> Vec<u8> {
    let mut key = vec![b'i'];
    key.extend_from_slice(&account_id.to_be_bytes());
    key
}

fn account_key_key(account_id: u64, key_id: u64) -> Vec<u8> {
    let mut key = account_keys_prefix(account_id);
    key.extend_from_slice(&key_id.to_be_bytes());
    key
}

impl AccountsDirectory {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    pub fn account(&self, account_id: u64) -> Result<Option<AccountRow>, ProjectionError> {
        self.tree
            .get(account_key(account_id))?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }

    pub fn by_email(&self, email: &str) -> Result<Option<AccountRow>, ProjectionError> {
        match self.tree.get(email_key(email))? {
            Some(id) => self.account(u64::from_be_bytes(id.as_ref().try_into().map_err(
                |_| ProjectionError::Corrupt("email index value is not a u64".into()),
            )?)),
            None => Ok(None),
        }
    }

    /// The live key with this SHA-256, if any (revoked keys are gone).
    pub fn key_by_hash(&self, sha256: &str) -> Result<Option<KeyRow>, ProjectionError> {
        self.tree
            .get(key_hash_key(sha256))?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }

    /// An account's live keys, oldest first.
    pub fn keys_of(&self, account_id: u64) -> Result<Vec<KeyRow>, ProjectionError> {
        self.tree
            .scan_prefix(account_keys_prefix(account_id))
            .map(|entry| decode_row(&entry?.1))
            .collect()
    }
}

impl Projection for AccountsDirectory {
    const TREE: &'static str = "proj/accounts_directory";

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let bad = |reason: String| ProjectionError::BadEvent {
            seq: envelope.seq,
            reason,
        };
        let Some(event) = AccountEvent::from_envelope(envelope).map_err(|e| bad(e.to_string()))?
        else {
            return Ok(());
        };
        match event {
            AccountEvent::Registered(registered) => {
                let row = AccountRow {
                    account_id: registered.account_id,
                    email: registered.email,
                    account_type: registered.account_type,
                    company_name: registered.company_name,
                    password_hash: registered.password_hash,
                    created_at: envelope.at,
                };
                staged.insert(email_key(&row.email), row.account_id.to_be_bytes().to_vec());
                staged.insert(account_key(row.account_id), encode_row(&row));
            }
            AccountEvent::ApiKeyIssued(issued) => {
                let row = KeyRow {
                    account_id: issued.account_id,
                    key_id: issued.key_id,
                    key_sha256: issued.key_sha256,
                    preview: issued.preview,
                    label: issued.label,
                    created_at: envelope.at,
                };
                let encoded = encode_row(&row);
                staged.insert(key_hash_key(&row.key_sha256), encoded.clone());
                staged.insert(account_key_key(row.account_id, row.key_id), encoded);
            }
            AccountEvent::ApiKeyRevoked(revoked) => {
                let index = account_key_key(revoked.account_id, revoked.key_id);
                let Some(bytes) = staged.get(&index)? else {
                    return Err(bad("revocation of a key that was never issued".into()));
                };
                let row: KeyRow = decode_row(&bytes)?;
                staged.remove(key_hash_key(&row.key_sha256));
                staged.remove(index);
            }
        }
        Ok(())
    }
}
