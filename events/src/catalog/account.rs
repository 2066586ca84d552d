//! Account events, in stream `account/<id>`, and the email reservation in `email/<address>`.

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Personal,
    Company,
}

impl AccountType {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountType::Personal => "personal",
            AccountType::Company => "company",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRegistered {
    pub account_id: u64,
    /// Normalized (trimmed, lowercase).
    pub email: String,
    /// argon2id PHC string; the password itself is never stored.
    pub password_hash: String,
    pub account_type: AccountType,
    pub company_name: Option<String>,
}

impl DomainEvent for AccountRegistered {
    const KIND: &'static str = "account.registered";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyIssued {
    pub account_id: u64,
    pub key_id: u64,
    /// SHA-256 (hex) of the full key; the key itself is shown once and never stored.
    pub key_sha256: String,
    /// The first characters of the key, for people to tell keys apart (`mk_AbC123…`).
    pub preview: String,
    pub label: Option<String>,
}

impl DomainEvent for ApiKeyIssued {
    const KIND: &'static str = "account.api_key_issued";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRevoked {
    pub account_id: u64,
    pub key_id: u64,
}

impl DomainEvent for ApiKeyRevoked {
    const KIND: &'static str = "account.api_key_revoked";
}

event_family! {
    /// Every event of an account's stream.
    AccountEvent {
        Registered(AccountRegistered),
        ApiKeyIssued(ApiKeyIssued),
        ApiKeyRevoked(ApiKeyRevoked),
    }
}

/// Reserves an email address for one account. Appended with "no stream yet" as the expected
/// version, in the same atomic append as the registration, so two racing registrations of one
/// address cannot both succeed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailClaimed {
    pub account_id: u64,
}

impl DomainEvent for EmailClaimed {
    const KIND: &'static str = "email.claimed";
}
