//! The account aggregate, in stream `account/<id>`.
//!
//! Accounts change rarely and never need a live connection, so instead of an actor per account,
//! [`AccountService`] reads the stream, decides, and appends with the version it read as the
//! expected version; the log's writer makes that check atomic, so there is still exactly one
//! successful writer per version. Registration also appends `email.claimed` to
//! `email/<address>` expecting no stream, in the same atomic append: an address can only be
//! registered once, even by two requests racing each other.

use std::collections::{BTreeMap, BTreeSet};

use convene_events::catalog::account::{
    AccountDeactivated, AccountEvent, AccountReactivated, AccountRegistered, AccountType,
    ApiKeyIssued, ApiKeyRevoked, CompanyRole, EmailClaimed, JoinedCompany, LeftCompany,
    PasswordChangeCause, PasswordChanged, PasswordResetRequested, PlanAssigned,
};
use convene_events::catalog::company::CompanyCreated;
use convene_events::ids::{account_stream, company_stream, email_stream};
use convene_events::{
    Actor, AppendError, DomainEvent, Envelope, EventLog, ExpectedVersion, StreamWrite,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: u64,
    pub email: String,
    pub account_type: AccountType,
    pub company_name: Option<String>,
    pub password_hash: String,
    pub created_at: i64,
    pub is_admin: bool,
    pub keys: BTreeMap<u64, ApiKeyInfo>,
    /// The company this account belongs to, and its role there.
    pub company: Option<(u64, CompanyRole)>,
    /// Reset tokens mailed and not yet used, by SHA-256, with their expiry.
    pub pending_resets: BTreeMap<String, i64>,
    /// The plan assigned last; `None` for accounts registered before plans existed.
    pub plan: Option<String>,
    /// False while an administrator has the account deactivated.
    pub active: bool,
    /// The VideoSDK API keys the account holds (revoked ones are gone).
    pub videosdk_keys: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyInfo {
    pub key_id: u64,
    pub sha256: String,
    pub preview: String,
    pub label: Option<String>,
    pub issued_at: i64,
}

/// A key minted by the caller (who shows the plain key once); only its hash is logged.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    pub key_id: u64,
    pub sha256: String,
    pub preview: String,
    pub label: Option<String>,
}

/// The company a company account creates as it registers.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCompany {
    pub company_id: u64,
    pub name: String,
    pub invite_code_sha256: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub account_id: u64,
    pub email: String,
    pub password_hash: String,
    pub account_type: AccountType,
    pub company: Option<NewCompany>,
    pub is_admin: bool,
    pub first_key: NewApiKey,
    /// Credited to the new workspace's ledger in the same append (0: none).
    pub signup_credit_micros: i64,
    /// The plan the account starts on (`plans.default`), logged with the registration.
    pub plan: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    Register(Registration),
    IssueKey(NewApiKey),
    RevokeKey {
        key_id: u64,
    },
    /// The caller has already checked the current password.
    ChangePassword {
        password_hash: String,
    },
    RequestPasswordReset {
        token_sha256: String,
        expires_at: i64,
    },
    ResetPassword {
        token_sha256: String,
        password_hash: String,
        now: i64,
    },
    JoinCompany {
        company_id: u64,
    },
    LeaveCompany {
        company_id: u64,
    },
    /// An administrator's choice; the caller has checked that the plan exists.
    AssignPlan {
        plan: String,
    },
    Deactivate {
        reason: Option<String>,
    },
    Reactivate,
    /// A VideoSDK API key and secret for the account's tokens.
    CreateVideoSdkCredential(convene_events::catalog::videosdk::CredentialCreated),
    /// Withdraws one of the account's VideoSDK API keys.
    RevokeVideoSdkCredential {
        api_key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("email already in use")]
    EmailTaken,
    #[error("account not found")]
    NotFound,
    #[error("account already exists")]
    AlreadyExists,
    #[error("api key not found")]
    KeyNotFound,
    #[error("videosdk credential not found")]
    CredentialNotFound,
    #[error("reset token is invalid or has expired")]
    InvalidResetToken,
    #[error("already a member of a company")]
    AlreadyInCompany,
    #[error("not a member of this company")]
    NotInCompany,
    #[error("the company owner cannot be removed")]
    OwnerCannotLeave,
    #[error("account is busy, try again")]
    Unavailable,
    #[error("unexpected: {0}")]
    Unexpected(String),
}

pub fn decide(
    state: &Option<Account>,
    command: &AccountCommand,
) -> Result<Vec<AccountEvent>, AccountError> {
    let account = match (state, command) {
        (Some(_), AccountCommand::Register(_)) => return Err(AccountError::AlreadyExists),
        (None, AccountCommand::Register(registration)) => return Ok(registered(registration)),
        (None, _) => return Err(AccountError::NotFound),
        (Some(account), _) => account,
    };
    let event: AccountEvent = match command {
        AccountCommand::Register(_) => unreachable!("handled above"),
        // Repeating the current plan or state logs nothing.
        AccountCommand::AssignPlan { plan } if account.plan.as_ref() == Some(plan) => {
            return Ok(vec![])
        }
        AccountCommand::AssignPlan { plan } => PlanAssigned { plan: plan.clone() }.into(),
        AccountCommand::Deactivate { .. } if !account.active => return Ok(vec![]),
        AccountCommand::Deactivate { reason } => AccountDeactivated {
            reason: reason.clone(),
        }
        .into(),
        AccountCommand::Reactivate if account.active => return Ok(vec![]),
        AccountCommand::Reactivate => AccountReactivated {}.into(),
        AccountCommand::CreateVideoSdkCredential(created) => {
            AccountEvent::VideoSdkCredentialCreated(created.clone())
        }
        AccountCommand::RevokeVideoSdkCredential { api_key } => {
            if !account.videosdk_keys.contains(api_key) {
                return Err(AccountError::CredentialNotFound);
            }
            AccountEvent::VideoSdkCredentialRevoked(
                convene_events::catalog::videosdk::CredentialRevoked {
                    api_key: api_key.clone(),
                },
            )
        }
        AccountCommand::IssueKey(key) => issued(account.id, key).into(),
        AccountCommand::RevokeKey { key_id } => {
            if !account.keys.contains_key(key_id) {
                return Err(AccountError::KeyNotFound);
            }
            ApiKeyRevoked {
                account_id: account.id,
                key_id: *key_id,
            }
            .into()
        }
        AccountCommand::ChangePassword { password_hash } => PasswordChanged {
            password_hash: password_hash.clone(),
            cause: PasswordChangeCause::ChangedByUser,
        }
        .into(),
        AccountCommand::RequestPasswordReset {
            token_sha256,
            expires_at,
        } => PasswordResetRequested {
            token_sha256: token_sha256.clone(),
            expires_at: *expires_at,
        }
        .into(),
        AccountCommand::ResetPassword {
            token_sha256,
            password_hash,
            now,
        } => {
            match account.pending_resets.get(token_sha256) {
                Some(expires_at) if *expires_at > *now => {}
                _ => return Err(AccountError::InvalidResetToken),
            }
            PasswordChanged {
                password_hash: password_hash.clone(),
                cause: PasswordChangeCause::Reset {
                    token_sha256: token_sha256.clone(),
                },
            }
            .into()
        }
        AccountCommand::JoinCompany { company_id } => {
            if account.company.is_some() {
                return Err(AccountError::AlreadyInCompany);
            }
            JoinedCompany {
                company_id: *company_id,
                role: CompanyRole::Member,
            }
            .into()
        }
        AccountCommand::LeaveCompany { company_id } => match account.company {
            Some((id, CompanyRole::Owner)) if id == *company_id => {
                return Err(AccountError::OwnerCannotLeave)
            }
            Some((id, CompanyRole::Member)) if id == *company_id => LeftCompany {
                company_id: *company_id,
            }
            .into(),
            _ => return Err(AccountError::NotInCompany),
        },
    };
    Ok(vec![event])
}

fn registered(registration: &Registration) -> Vec<AccountEvent> {
    let mut events = vec![
        AccountRegistered {
            account_id: registration.account_id,
            email: registration.email.clone(),
            password_hash: registration.password_hash.clone(),
            account_type: registration.account_type,
            company_name: registration.company.as_ref().map(|c| c.name.clone()),
            is_admin: registration.is_admin,
        }
        .into(),
        issued(registration.account_id, &registration.first_key).into(),
    ];
    if let Some(company) = &registration.company {
        events.push(
            JoinedCompany {
                company_id: company.company_id,
                role: CompanyRole::Owner,
            }
            .into(),
        );
    }
    if let Some(plan) = &registration.plan {
        events.push(PlanAssigned { plan: plan.clone() }.into());
    }
    events
}

fn issued(account_id: u64, key: &NewApiKey) -> ApiKeyIssued {
    ApiKeyIssued {
        account_id,
        key_id: key.key_id,
        key_sha256: key.sha256.clone(),
        preview: key.preview.clone(),
        label: key.label.clone(),
    }
}

pub fn apply(state: &mut Option<Account>, event: &AccountEvent, at: i64) {
    if let AccountEvent::Registered(registered) = event {
        *state = Some(Account {
            id: registered.account_id,
            email: registered.email.clone(),
            account_type: registered.account_type,
            company_name: registered.company_name.clone(),
            password_hash: registered.password_hash.clone(),
            created_at: at,
            is_admin: registered.is_admin,
            keys: BTreeMap::new(),
            company: None,
            pending_resets: BTreeMap::new(),
            plan: None,
            active: true,
            videosdk_keys: BTreeSet::new(),
        });
        return;
    }
    let Some(account) = state else { return };
    match event {
        AccountEvent::Registered(_) => {}
        AccountEvent::ApiKeyIssued(key) => {
            account.keys.insert(
                key.key_id,
                ApiKeyInfo {
                    key_id: key.key_id,
                    sha256: key.key_sha256.clone(),
                    preview: key.preview.clone(),
                    label: key.label.clone(),
                    issued_at: at,
                },
            );
        }
        AccountEvent::ApiKeyRevoked(revoked) => {
            account.keys.remove(&revoked.key_id);
        }
        AccountEvent::PasswordChanged(changed) => {
            account.password_hash = changed.password_hash.clone();
            // Any password change voids every reset link still in someone's mailbox.
            account.pending_resets.clear();
        }
        AccountEvent::PasswordResetRequested(requested) => {
            account
                .pending_resets
                .insert(requested.token_sha256.clone(), requested.expires_at);
        }
        AccountEvent::JoinedCompany(joined) => {
            account.company = Some((joined.company_id, joined.role));
        }
        AccountEvent::LeftCompany(_) => account.company = None,
        AccountEvent::PlanAssigned(assigned) => account.plan = Some(assigned.plan.clone()),
        AccountEvent::Deactivated(_) => account.active = false,
        AccountEvent::Reactivated(_) => account.active = true,
        AccountEvent::VideoSdkCredentialCreated(created) => {
            account.videosdk_keys.insert(created.api_key.clone());
        }
        AccountEvent::VideoSdkCredentialRevoked(revoked) => {
            account.videosdk_keys.remove(&revoked.api_key);
        }
    }
}

pub fn fold(envelopes: &[Envelope]) -> Result<Option<Account>, convene_events::CodecError> {
    let mut state = None;
    for envelope in envelopes {
        if let Some(event) = AccountEvent::from_envelope(envelope)? {
            apply(&mut state, &event, envelope.at);
        }
    }
    Ok(state)
}

/// Runs account commands against the log.
#[derive(Clone)]
pub struct AccountService {
    log: EventLog,
}

/// An account after a command, and the log position of the command's last event.
pub type AccountOutcome = (Account, u64);

impl AccountService {
    pub fn new(log: EventLog) -> Self {
        Self { log }
    }

    /// Registers a new account, claims its (normalized) email and creates its company (for a
    /// company account), atomically.
    pub async fn register(
        &self,
        registration: Registration,
        actor: Actor,
    ) -> Result<AccountOutcome, AccountError> {
        let events = registered(&registration);
        let claim = EmailClaimed {
            account_id: registration.account_id,
        };
        let mut writes = vec![
            StreamWrite::new(
                email_stream(&registration.email),
                ExpectedVersion::NoStream,
                vec![claim.to_new_event(actor.clone())],
            ),
            StreamWrite::new(
                account_stream(registration.account_id),
                ExpectedVersion::NoStream,
                events
                    .iter()
                    .map(|e| e.to_new_event(actor.clone()))
                    .collect(),
            ),
        ];
        if registration.signup_credit_micros > 0 {
            let workspace = match &registration.company {
                Some(company) => convene_events::Workspace::Company(company.company_id),
                None => convene_events::Workspace::Account(registration.account_id),
            };
            let credit = convene_events::catalog::ledger::LedgerEntry {
                amount_micros: registration.signup_credit_micros,
                kind: "signup_credit".into(),
                description: "Signup credit".into(),
                reference: format!("signup:{}", registration.account_id),
            };
            writes.push(StreamWrite::new(
                convene_events::ids::ledger_stream(workspace),
                ExpectedVersion::Any,
                vec![credit.to_new_event(actor.clone())],
            ));
        }
        if let Some(company) = &registration.company {
            let created = CompanyCreated {
                company_id: company.company_id,
                name: company.name.clone(),
                owner_account_id: registration.account_id,
                invite_code_sha256: company.invite_code_sha256.clone(),
            };
            writes.push(StreamWrite::new(
                company_stream(company.company_id),
                ExpectedVersion::NoStream,
                vec![created.to_new_event(actor.clone())],
            ));
        }
        match self.log.append(writes).await {
            Ok(outcome) => {
                let mut state = None;
                for event in &events {
                    apply(&mut state, event, outcome.at);
                }
                let account = state.ok_or_else(|| AccountError::Unexpected("no account".into()))?;
                Ok((account, outcome.last_seq))
            }
            Err(AppendError::Conflict { stream, .. }) if stream.starts_with("email/") => {
                Err(AccountError::EmailTaken)
            }
            Err(AppendError::Conflict { .. }) => Err(AccountError::AlreadyExists),
            Err(err) => Err(append_failure(err)),
        }
    }

    /// The account as its stream says now.
    pub fn load(&self, account_id: u64) -> Result<Option<Account>, AccountError> {
        let envelopes = self
            .log
            .read_stream(&account_stream(account_id), 1)
            .map_err(|e| AccountError::Unexpected(e.to_string()))?;
        fold(&envelopes).map_err(|e| AccountError::Unexpected(e.to_string()))
    }

    /// Runs a command on an existing account; retries when another writer got there first.
    pub async fn execute(
        &self,
        account_id: u64,
        command: AccountCommand,
        actor: Actor,
    ) -> Result<AccountOutcome, AccountError> {
        let stream = account_stream(account_id);
        for _ in 0..5 {
            let envelopes = self
                .log
                .read_stream(&stream, 1)
                .map_err(|e| AccountError::Unexpected(e.to_string()))?;
            let version = envelopes.last().map_or(0, |e| e.version);
            let mut state =
                fold(&envelopes).map_err(|e| AccountError::Unexpected(e.to_string()))?;
            let events = decide(&state, &command)?;
            if events.is_empty() {
                // Nothing changes: nothing to log, and nothing new for readers to wait for.
                let account = state.ok_or(AccountError::NotFound)?;
                return Ok((account, 0));
            }
            let new_events = events
                .iter()
                .map(|e| e.to_new_event(actor.clone()))
                .collect();
            match self
                .log
                .append_to(&stream, ExpectedVersion::Exact(version), new_events)
                .await
            {
                Ok(outcome) => {
                    for event in &events {
                        apply(&mut state, event, outcome.at);
                    }
                    let account = state.ok_or(AccountError::NotFound)?;
                    return Ok((account, outcome.last_seq));
                }
                Err(AppendError::Conflict { .. }) => continue,
                Err(err) => return Err(append_failure(err)),
            }
        }
        Err(AccountError::Unavailable)
    }
}

fn append_failure(err: AppendError) -> AccountError {
    match err {
        AppendError::Closed => AccountError::Unavailable,
        other => AccountError::Unexpected(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u64) -> NewApiKey {
        NewApiKey {
            key_id: id,
            sha256: format!("{id:064}"),
            preview: "mk_abcdef".into(),
            label: None,
        }
    }

    fn registration(company: Option<NewCompany>) -> Registration {
        Registration {
            account_id: 1,
            email: "you@example.com".into(),
            password_hash: "$argon2id$...".into(),
            account_type: AccountType::Personal,
            company,
            is_admin: false,
            first_key: key(10),
            signup_credit_micros: 0,
            plan: Some("credits".into()),
        }
    }

    fn register() -> AccountCommand {
        AccountCommand::Register(registration(None))
    }

    fn given(commands: &[AccountCommand]) -> Option<Account> {
        let mut state = None;
        for command in commands {
            for event in decide(&state, command).unwrap() {
                apply(&mut state, &event, 0);
            }
        }
        state
    }

    #[test]
    fn registering_issues_the_first_key() {
        let account = given(&[register()]).unwrap();
        assert_eq!(account.email, "you@example.com");
        assert_eq!(account.keys.keys().copied().collect::<Vec<_>>(), vec![10]);
    }

    #[test]
    fn an_account_registers_once() {
        let state = given(&[register()]);
        assert_eq!(
            decide(&state, &register()),
            Err(AccountError::AlreadyExists)
        );
    }

    #[test]
    fn keys_are_issued_and_revoked() {
        let state = given(&[
            register(),
            AccountCommand::IssueKey(key(11)),
            AccountCommand::RevokeKey { key_id: 10 },
        ]);
        assert_eq!(
            state
                .as_ref()
                .unwrap()
                .keys
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            vec![11]
        );
        assert_eq!(
            decide(&state, &AccountCommand::RevokeKey { key_id: 10 }),
            Err(AccountError::KeyNotFound)
        );
    }

    #[test]
    fn a_reset_token_works_once_and_not_after_expiry() {
        let request = AccountCommand::RequestPasswordReset {
            token_sha256: "t1".into(),
            expires_at: 1_000,
        };
        let reset = |now| AccountCommand::ResetPassword {
            token_sha256: "t1".into(),
            password_hash: "new".into(),
            now,
        };
        let state = given(&[register(), request.clone()]);
        assert_eq!(
            decide(&state, &reset(1_000)),
            Err(AccountError::InvalidResetToken)
        );
        let state = given(&[register(), request, reset(999)]);
        assert_eq!(state.as_ref().unwrap().password_hash, "new");
        assert_eq!(
            decide(&state, &reset(999)),
            Err(AccountError::InvalidResetToken)
        );
    }

    #[test]
    fn a_password_change_voids_outstanding_reset_links() {
        let state = given(&[
            register(),
            AccountCommand::RequestPasswordReset {
                token_sha256: "t1".into(),
                expires_at: 1_000,
            },
            AccountCommand::ChangePassword {
                password_hash: "changed".into(),
            },
        ]);
        assert!(state.unwrap().pending_resets.is_empty());
    }

    #[test]
    fn one_company_per_account_and_the_owner_stays() {
        let owner = given(&[AccountCommand::Register(registration(Some(NewCompany {
            company_id: 7,
            name: "Acme".into(),
            invite_code_sha256: "c".into(),
        })))]);
        assert_eq!(
            owner.as_ref().unwrap().company,
            Some((7, CompanyRole::Owner))
        );
        assert_eq!(
            decide(&owner, &AccountCommand::JoinCompany { company_id: 8 }),
            Err(AccountError::AlreadyInCompany)
        );
        assert_eq!(
            decide(&owner, &AccountCommand::LeaveCompany { company_id: 7 }),
            Err(AccountError::OwnerCannotLeave)
        );
        let member = given(&[register(), AccountCommand::JoinCompany { company_id: 7 }]);
        assert_eq!(
            decide(&member, &AccountCommand::LeaveCompany { company_id: 9 }),
            Err(AccountError::NotInCompany)
        );
        let left = given(&[
            register(),
            AccountCommand::JoinCompany { company_id: 7 },
            AccountCommand::LeaveCompany { company_id: 7 },
        ]);
        assert_eq!(left.unwrap().company, None);
    }

    #[test]
    fn the_registration_logs_the_plan_and_an_administrator_changes_it() {
        let account = given(&[register()]).unwrap();
        assert_eq!(account.plan.as_deref(), Some("credits"));
        assert!(account.active);
        let state = given(&[
            register(),
            AccountCommand::AssignPlan {
                plan: "free".into(),
            },
        ]);
        assert_eq!(state.as_ref().unwrap().plan.as_deref(), Some("free"));
        let again = AccountCommand::AssignPlan {
            plan: "free".into(),
        };
        assert_eq!(decide(&state, &again), Ok(vec![]));
    }

    #[test]
    fn deactivation_and_reactivation_log_only_changes() {
        let deactivate = AccountCommand::Deactivate {
            reason: Some("unpaid".into()),
        };
        let state = given(&[register(), deactivate.clone()]);
        assert!(!state.as_ref().unwrap().active);
        assert_eq!(decide(&state, &deactivate), Ok(vec![]));
        let state = given(&[register(), deactivate, AccountCommand::Reactivate]);
        assert!(state.as_ref().unwrap().active);
        assert_eq!(decide(&state, &AccountCommand::Reactivate), Ok(vec![]));
    }

    #[test]
    fn commands_on_a_missing_account_are_not_found() {
        assert_eq!(
            decide(&None, &AccountCommand::IssueKey(key(1))),
            Err(AccountError::NotFound)
        );
    }
}

#[cfg(test)]
mod service_tests {
    use super::*;
    use convene_events::{LogConfig, ManualClock};
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_registrations_of_one_email_let_exactly_one_win() {
        let dir = tempfile::tempdir().unwrap();
        let log =
            EventLog::open(LogConfig::new(dir.path()), Arc::new(ManualClock::new(0))).unwrap();
        let service = AccountService::new(log.clone());
        let mut tasks = Vec::new();
        for n in 0..8u64 {
            let service = service.clone();
            tasks.push(tokio::spawn(async move {
                service
                    .register(
                        Registration {
                            account_id: 100 + n,
                            email: "same@example.com".into(),
                            password_hash: "h".into(),
                            account_type: AccountType::Personal,
                            company: None,
                            is_admin: false,
                            signup_credit_micros: 0,
                            plan: None,
                            first_key: NewApiKey {
                                key_id: 200 + n,
                                sha256: "00".repeat(32),
                                preview: "mk_x".into(),
                                label: None,
                            },
                        },
                        Actor::System,
                    )
                    .await
            }));
        }
        let mut winners = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => winners += 1,
                Err(AccountError::EmailTaken) => {}
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(winners, 1);
        // Losers wrote nothing: one claim, and one registration with its key.
        assert_eq!(log.durable_head(), 3);
        log.close().await;
    }
}
