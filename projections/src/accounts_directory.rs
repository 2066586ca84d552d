//! Accounts by id and email, API keys and sessions by hash (what authentication reads), reset
//! tokens, and companies with their members.
//!
//! Keys in tree `proj/accounts_directory`:
//! - `a ‖ account id (u64 BE)` → [`AccountRow`]
//! - `e ‖ email` → account id (u64 BE)
//! - `k ‖ key sha256 (hex)` → [`KeyRow`]
//! - `i ‖ account id ‖ key id` → [`KeyRow`], to list and revoke an account's keys
//! - `s ‖ session token hash` → [`LoginSessionRow`]; `S ‖ account id ‖ session id` → token hash, to end
//!   every session of an account when its password is reset
//! - `r ‖ reset token sha256` → account id (the account aggregate decides whether the token is
//!   still good, so entries never need removing)
//! - `c ‖ company id` → [`CompanyRow`]; `v ‖ invite code sha256` → company id;
//!   `m ‖ company id ‖ account id` → [`MemberRow`]
//! - `u ‖ workspace (9 bytes) ‖ calendar month (u32 BE, yyyymm, UTC)` → meetings created in the
//!   workspace that month (u32 BE), through any dialect: what plan quotas count

use convene_events::catalog::account::{
    AccountEvent, AccountType, CompanyRole, PasswordChangeCause,
};
use convene_events::catalog::company::CompanyEvent;
use convene_events::catalog::meeting::MeetingCreated;
use convene_events::catalog::session::SessionEvent;
use convene_events::{DomainEvent, Envelope, Workspace};
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
    pub is_admin: bool,
    /// The company the account belongs to, and its role there.
    pub company: Option<(u64, CompanyRole)>,
    /// The plan assigned last; `None` when none was ever logged (accounts older than plans),
    /// which readers take as `plans.default`.
    pub plan: Option<String>,
    /// False while an administrator has the account deactivated.
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSessionRow {
    pub session_id: u64,
    pub account_id: u64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyRow {
    pub company_id: u64,
    pub name: String,
    pub owner_account_id: u64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub account_id: u64,
    pub email: String,
    pub role: CompanyRole,
    pub joined_at: i64,
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

fn tagged(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut key = vec![tag];
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

fn session_key(token_hash: &str) -> Vec<u8> {
    tagged(b's', &[token_hash.as_bytes()])
}

fn account_sessions_prefix(account_id: u64) -> Vec<u8> {
    tagged(b'S', &[&account_id.to_be_bytes()])
}

fn account_session_key(account_id: u64, session_id: u64) -> Vec<u8> {
    tagged(
        b'S',
        &[&account_id.to_be_bytes(), &session_id.to_be_bytes()],
    )
}

fn reset_key(token_sha256: &str) -> Vec<u8> {
    tagged(b'r', &[token_sha256.as_bytes()])
}

fn company_key(company_id: u64) -> Vec<u8> {
    tagged(b'c', &[&company_id.to_be_bytes()])
}

fn invite_code_key(sha256: &str) -> Vec<u8> {
    tagged(b'v', &[sha256.as_bytes()])
}

fn members_prefix(company_id: u64) -> Vec<u8> {
    tagged(b'm', &[&company_id.to_be_bytes()])
}

fn member_key(company_id: u64, account_id: u64) -> Vec<u8> {
    tagged(
        b'm',
        &[&company_id.to_be_bytes(), &account_id.to_be_bytes()],
    )
}

fn usage_key(workspace: Workspace, month: u32) -> Vec<u8> {
    tagged(b'u', &[&workspace.key(), &month.to_be_bytes()])
}

/// The calendar month (UTC) of a time in ms since the epoch, as `yyyymm` (202603 for March
/// 2026): the period plan quotas count in.
pub fn calendar_month(at_ms: i64) -> u32 {
    // Howard Hinnant's days-to-civil, for the proleptic Gregorian calendar.
    let days = at_ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year.clamp(0, 9_999) * 100 + month) as u32
}

fn read_u64(bytes: &[u8], what: &str) -> Result<u64, ProjectionError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| ProjectionError::Corrupt(format!("{what} is not a u64")))
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
            Some(id) => self.account(read_u64(&id, "email index value")?),
            None => Ok(None),
        }
    }

    /// The session with this token hash, expired or not (the caller compares with its clock).
    pub fn session(&self, token_hash: &str) -> Result<Option<LoginSessionRow>, ProjectionError> {
        self.tree
            .get(session_key(token_hash))?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }

    /// The account a reset token was issued to (whether it is still good is the account's
    /// decision).
    pub fn reset_token_owner(&self, token_sha256: &str) -> Result<Option<u64>, ProjectionError> {
        self.tree
            .get(reset_key(token_sha256))?
            .map(|id| read_u64(&id, "reset index value"))
            .transpose()
    }

    pub fn company(&self, company_id: u64) -> Result<Option<CompanyRow>, ProjectionError> {
        self.tree
            .get(company_key(company_id))?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }

    pub fn company_by_invite(&self, sha256: &str) -> Result<Option<CompanyRow>, ProjectionError> {
        match self.tree.get(invite_code_key(sha256))? {
            Some(id) => self.company(read_u64(&id, "invite index value")?),
            None => Ok(None),
        }
    }

    /// A company's members, by account id.
    pub fn members(&self, company_id: u64) -> Result<Vec<MemberRow>, ProjectionError> {
        self.tree
            .scan_prefix(members_prefix(company_id))
            .map(|entry| decode_row(&entry?.1))
            .collect()
    }

    /// The live key with this SHA-256, if any (revoked keys are gone).
    pub fn key_by_hash(&self, sha256: &str) -> Result<Option<KeyRow>, ProjectionError> {
        self.tree
            .get(key_hash_key(sha256))?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }

    /// Meetings created in `workspace` during the calendar month `month` (see
    /// [`calendar_month`]), through any dialect.
    pub fn meetings_created(
        &self,
        workspace: Workspace,
        month: u32,
    ) -> Result<u32, ProjectionError> {
        self.tree
            .get(usage_key(workspace, month))?
            .map(|bytes| read_u32(&bytes, "usage count"))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// An account's live keys, oldest first.
    pub fn keys_of(&self, account_id: u64) -> Result<Vec<KeyRow>, ProjectionError> {
        self.tree
            .scan_prefix(account_keys_prefix(account_id))
            .map(|entry| decode_row(&entry?.1))
            .collect()
    }
}

fn read_u32(bytes: &[u8], what: &str) -> Result<u32, ProjectionError> {
    bytes
        .try_into()
        .map(u32::from_be_bytes)
        .map_err(|_| ProjectionError::Corrupt(format!("{what} is not a u32")))
}

impl Projection for AccountsDirectory {
    const TREE: &'static str = "proj/accounts_directory";
    /// 2: accounts carry their plan and whether they are active; monthly meeting counts.
    const VERSION: u32 = 2;

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let bad = |reason: String| ProjectionError::BadEvent {
            seq: envelope.seq,
            reason,
        };
        if let Some(event) =
            AccountEvent::from_envelope(envelope).map_err(|e| bad(e.to_string()))?
        {
            return apply_account(staged, envelope, event);
        }
        if let Some(event) =
            SessionEvent::from_envelope(envelope).map_err(|e| bad(e.to_string()))?
        {
            match event {
                SessionEvent::Started(started) => {
                    let row = LoginSessionRow {
                        session_id: started.session_id,
                        account_id: started.account_id,
                        expires_at: started.expires_at,
                    };
                    staged.insert(session_key(&started.token_hash), encode_row(&row));
                    staged.insert(
                        account_session_key(row.account_id, row.session_id),
                        started.token_hash.into_bytes(),
                    );
                }
                SessionEvent::Ended(ended) => {
                    staged.remove(session_key(&ended.token_hash));
                    staged.remove(account_session_key(ended.account_id, ended.session_id));
                }
            }
            return Ok(());
        }
        // Only `meeting.created` is decoded: the kind is compared first, so the many other
        // meeting events cost nothing here.
        if envelope.kind == MeetingCreated::KIND {
            let created =
                MeetingCreated::from_envelope(envelope).map_err(|e| bad(e.to_string()))?;
            if created.workspace != Workspace::Guest {
                let key = usage_key(created.workspace, calendar_month(envelope.at));
                let count = staged
                    .get(&key)?
                    .map(|bytes| read_u32(&bytes, "usage count"))
                    .transpose()?
                    .unwrap_or_default();
                staged.insert(key, count.saturating_add(1).to_be_bytes().to_vec());
            }
            return Ok(());
        }
        if let Some(CompanyEvent::Created(created)) =
            CompanyEvent::from_envelope(envelope).map_err(|e| bad(e.to_string()))?
        {
            let row = CompanyRow {
                company_id: created.company_id,
                name: created.name,
                owner_account_id: created.owner_account_id,
                created_at: envelope.at,
            };
            staged.insert(
                invite_code_key(&created.invite_code_sha256),
                row.company_id.to_be_bytes().to_vec(),
            );
            staged.insert(company_key(row.company_id), encode_row(&row));
        }
        Ok(())
    }
}

fn apply_account(
    staged: &mut Staged<'_>,
    envelope: &Envelope,
    event: AccountEvent,
) -> Result<(), ProjectionError> {
    let bad = |reason: String| ProjectionError::BadEvent {
        seq: envelope.seq,
        reason,
    };
    let account_id = envelope
        .stream
        .strip_prefix("account/")
        .and_then(|id| id.parse::<u64>().ok())
        .ok_or_else(|| bad(format!("account event in stream {}", envelope.stream)))?;
    match event {
        AccountEvent::Registered(registered) => {
            let row = AccountRow {
                account_id: registered.account_id,
                email: registered.email,
                account_type: registered.account_type,
                company_name: registered.company_name,
                password_hash: registered.password_hash,
                created_at: envelope.at,
                is_admin: registered.is_admin,
                company: None,
                plan: None,
                active: true,
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
        AccountEvent::PasswordChanged(changed) => {
            update_account(staged, account_id, envelope.seq, |row| {
                row.password_hash = changed.password_hash.clone()
            })?;
            // A reset means someone may have had the old password: sign out every session.
            if let PasswordChangeCause::Reset { .. } = changed.cause {
                end_all_sessions(staged, account_id)?;
            }
        }
        AccountEvent::PasswordResetRequested(requested) => {
            staged.insert(
                reset_key(&requested.token_sha256),
                account_id.to_be_bytes().to_vec(),
            );
        }
        AccountEvent::JoinedCompany(joined) => {
            let row = update_account(staged, account_id, envelope.seq, |row| {
                row.company = Some((joined.company_id, joined.role))
            })?;
            let member = MemberRow {
                account_id,
                email: row.email,
                role: joined.role,
                joined_at: envelope.at,
            };
            staged.insert(
                member_key(joined.company_id, account_id),
                encode_row(&member),
            );
        }
        AccountEvent::LeftCompany(left) => {
            update_account(staged, account_id, envelope.seq, |row| row.company = None)?;
            staged.remove(member_key(left.company_id, account_id));
        }
        AccountEvent::PlanAssigned(assigned) => {
            update_account(staged, account_id, envelope.seq, |row| {
                row.plan = Some(assigned.plan)
            })?;
        }
        AccountEvent::Deactivated(_) => {
            update_account(staged, account_id, envelope.seq, |row| row.active = false)?;
        }
        // The VideoSDK read model keeps credentials.
        AccountEvent::VideoSdkCredentialCreated(_) | AccountEvent::VideoSdkCredentialRevoked(_) => {
        }
        AccountEvent::Reactivated(_) => {
            update_account(staged, account_id, envelope.seq, |row| row.active = true)?;
        }
    }
    Ok(())
}

fn update_account(
    staged: &mut Staged<'_>,
    account_id: u64,
    seq: u64,
    change: impl FnOnce(&mut AccountRow),
) -> Result<AccountRow, ProjectionError> {
    let key = account_key(account_id);
    let Some(bytes) = staged.get(&key)? else {
        return Err(ProjectionError::BadEvent {
            seq,
            reason: format!("event for account {account_id} before its registration"),
        });
    };
    let mut row: AccountRow = decode_row(&bytes)?;
    change(&mut row);
    staged.insert(key, encode_row(&row));
    Ok(row)
}

fn end_all_sessions(staged: &mut Staged<'_>, account_id: u64) -> Result<(), ProjectionError> {
    for (index, token_hash) in staged.scan_prefix(&account_sessions_prefix(account_id))? {
        staged.remove(session_key(&String::from_utf8_lossy(&token_hash)));
        staged.remove(index);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::calendar_month;

    #[test]
    fn calendar_months_turn_at_midnight_utc() {
        // 2026-03-01T00:00:00Z and the millisecond before it.
        assert_eq!(calendar_month(1_772_323_200_000), 202_603);
        assert_eq!(calendar_month(1_772_323_199_999), 202_602);
        // 2024-02-29 (a leap day) and 2000-01-01.
        assert_eq!(calendar_month(1_709_164_800_000), 202_402);
        assert_eq!(calendar_month(946_684_800_000), 200_001);
        assert_eq!(calendar_month(0), 197_001);
        assert_eq!(calendar_month(-1), 196_912);
    }
}
