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
    /// Platform administrator (seeded from ADMIN_EMAIL / ADMIN_PASSWORD).
    #[serde(default)]
    pub is_admin: bool,
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

/// Why a password changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordChangeCause {
    /// The signed-in user gave the current password.
    ChangedByUser,
    /// A reset token was redeemed (which also ends every session of the account).
    Reset { token_sha256: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordChanged {
    pub password_hash: String,
    pub cause: PasswordChangeCause,
}

impl DomainEvent for PasswordChanged {
    const KIND: &'static str = "account.password_changed";
}

/// A single-use reset token was mailed; only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub token_sha256: String,
    pub expires_at: i64,
}

impl DomainEvent for PasswordResetRequested {
    const KIND: &'static str = "account.password_reset_requested";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanyRole {
    Owner,
    Member,
}

impl CompanyRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            CompanyRole::Owner => "owner",
            CompanyRole::Member => "member",
        }
    }
}

/// The account became part of a company workspace (its owner at registration, or a member
/// through an invite code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinedCompany {
    pub company_id: u64,
    pub role: CompanyRole,
}

impl DomainEvent for JoinedCompany {
    const KIND: &'static str = "account.joined_company";
}

/// The company's owner removed the account from the company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftCompany {
    pub company_id: u64,
}

impl DomainEvent for LeftCompany {
    const KIND: &'static str = "account.left_company";
}

/// The account's plan (`config.toml` `[plans.catalog]`): at registration (`plans.default`), or
/// by an administrator. The plan governs its workspace's quotas when the account owns one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanAssigned {
    pub plan: String,
}

impl DomainEvent for PlanAssigned {
    const KIND: &'static str = "account.plan_assigned";
}

/// An administrator deactivated the account: its keys and sessions are refused (403) until it
/// is reactivated; nothing else about it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountDeactivated {
    /// Why, as the administrator put it.
    pub reason: Option<String>,
}

impl DomainEvent for AccountDeactivated {
    const KIND: &'static str = "account.deactivated";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountReactivated {}

impl DomainEvent for AccountReactivated {
    const KIND: &'static str = "account.reactivated";
}

event_family! {
    /// Every event of an account's stream.
    AccountEvent {
        Registered(AccountRegistered),
        ApiKeyIssued(ApiKeyIssued),
        ApiKeyRevoked(ApiKeyRevoked),
        PasswordChanged(PasswordChanged),
        PasswordResetRequested(PasswordResetRequested),
        JoinedCompany(JoinedCompany),
        LeftCompany(LeftCompany),
        PlanAssigned(PlanAssigned),
        Deactivated(AccountDeactivated),
        Reactivated(AccountReactivated),
        // VideoSDK's key and secret pairs belong to the account that created them.
        VideoSdkCredentialCreated(super::videosdk::CredentialCreated),
        VideoSdkCredentialRevoked(super::videosdk::CredentialRevoked),
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
