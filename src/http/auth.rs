//! Authentication by API key (`x-api-key`): the key's SHA-256 is looked up in the accounts
//! directory. A revoked key is gone from it, so it fails on its very next use.

use convene_events::{Actor, Workspace};
use convene_projections::Projections;
use warp::http::HeaderMap;

use super::error::ApiError;
use convene_actors::sha256_hex;

/// Who is calling.
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    pub account_id: u64,
    pub key_id: u64,
}

impl Principal {
    /// The tenant whose data this caller may see.
    pub fn workspace(&self) -> Workspace {
        Workspace::Account(self.account_id)
    }

    /// How this caller appears in the events it causes.
    pub fn actor(&self) -> Actor {
        Actor::ApiKey {
            account_id: self.account_id,
            key_id: self.key_id,
        }
    }
}

pub fn authenticate(headers: &HeaderMap, projections: &Projections) -> Result<Principal, ApiError> {
    let key = headers
        .get("x-api-key")
        .ok_or(ApiError::Unauthorized("missing x-api-key header"))?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("invalid api key"))?
        .trim();
    if key.is_empty() {
        return Err(ApiError::Unauthorized("missing x-api-key header"));
    }
    let row = projections
        .accounts()
        .key_by_hash(&sha256_hex(key))?
        .ok_or(ApiError::Unauthorized("invalid api key"))?;
    Ok(Principal {
        account_id: row.account_id,
        key_id: row.key_id,
    })
}
