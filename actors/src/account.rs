//! The account aggregate, in stream `account/<id>`.
//!
//! Accounts change rarely and never need a live connection, so instead of an actor per account,
//! [`AccountService`] reads the stream, decides, and appends with the version it read as the
//! expected version; the log's writer makes that check atomic, so there is still exactly one
//! successful writer per version. Registration also appends `email.claimed` to
//! `email/<address>` expecting no stream, in the same atomic append: an address can only be
//! registered once, even by two requests racing each other.

use std::collections::BTreeMap;

use convene_events::catalog::account::{
    AccountEvent, AccountRegistered, AccountType, ApiKeyIssued, ApiKeyRevoked, EmailClaimed,
};
use convene_events::ids::{account_stream, email_stream};
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
    pub keys: BTreeMap<u64, ApiKeyInfo>,
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

#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    Register {
        account_id: u64,
        email: String,
        password_hash: String,
        account_type: AccountType,
        company_name: Option<String>,
        first_key: NewApiKey,
    },
    IssueKey(NewApiKey),
    RevokeKey {
        key_id: u64,
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
    #[error("account is busy, try again")]
    Unavailable,
    #[error("unexpected: {0}")]
    Unexpected(String),
}

pub fn decide(
    state: &Option<Account>,
    command: &AccountCommand,
) -> Result<Vec<AccountEvent>, AccountError> {
    match (state, command) {
        (Some(_), AccountCommand::Register { .. }) => Err(AccountError::AlreadyExists),
        (
            None,
            AccountCommand::Register {
                account_id,
                email,
                password_hash,
                account_type,
                company_name,
                first_key,
            },
        ) => Ok(vec![
            AccountRegistered {
                account_id: *account_id,
                email: email.clone(),
                password_hash: password_hash.clone(),
                account_type: *account_type,
                company_name: company_name.clone(),
            }
            .into(),
            issued(*account_id, first_key).into(),
        ]),
        (None, _) => Err(AccountError::NotFound),
        (Some(account), AccountCommand::IssueKey(key)) => Ok(vec![issued(account.id, key).into()]),
        (Some(account), AccountCommand::RevokeKey { key_id }) => {
            if !account.keys.contains_key(key_id) {
                return Err(AccountError::KeyNotFound);
            }
            Ok(vec![ApiKeyRevoked {
                account_id: account.id,
                key_id: *key_id,
            }
            .into()])
        }
    }
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
    match event {
        AccountEvent::Registered(registered) => {
            *state = Some(Account {
                id: registered.account_id,
                email: registered.email.clone(),
                account_type: registered.account_type,
                company_name: registered.company_name.clone(),
                password_hash: registered.password_hash.clone(),
                created_at: at,
                keys: BTreeMap::new(),
            })
        }
        AccountEvent::ApiKeyIssued(key) => {
            if let Some(account) = state {
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
        }
        AccountEvent::ApiKeyRevoked(revoked) => {
            if let Some(account) = state {
                account.keys.remove(&revoked.key_id);
            }
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

    /// Registers a new account and claims its (normalized) email, atomically.
    pub async fn register(
        &self,
        command: AccountCommand,
        actor: Actor,
    ) -> Result<AccountOutcome, AccountError> {
        let AccountCommand::Register {
            account_id, email, ..
        } = &command
        else {
            return Err(AccountError::Unexpected(
                "register expects a Register command".into(),
            ));
        };
        let events = decide(&None, &command)?;
        let claim = EmailClaimed {
            account_id: *account_id,
        };
        let writes = vec![
            StreamWrite::new(
                email_stream(email),
                ExpectedVersion::NoStream,
                vec![claim.to_new_event(actor.clone())],
            ),
            StreamWrite::new(
                account_stream(*account_id),
                ExpectedVersion::NoStream,
                events
                    .iter()
                    .map(|e| e.to_new_event(actor.clone()))
                    .collect(),
            ),
        ];
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

    fn register() -> AccountCommand {
        AccountCommand::Register {
            account_id: 1,
            email: "you@example.com".into(),
            password_hash: "$argon2id$...".into(),
            account_type: AccountType::Personal,
            company_name: None,
            first_key: key(10),
        }
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
                        AccountCommand::Register {
                            account_id: 100 + n,
                            email: "same@example.com".into(),
                            password_hash: "h".into(),
                            account_type: AccountType::Personal,
                            company_name: None,
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
