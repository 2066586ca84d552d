//! Login sessions: each one its own stream (`session/<id>`), started at login and ended at
//! logout. There is nothing to decide beyond "a session starts once and ends once", which the
//! log's expected-version check enforces, so this is a thin service rather than an aggregate
//! with an actor. Expiry needs no event: readers compare `expires_at` with their clock.

use convene_events::catalog::session::{SessionEnded, SessionStarted};
use convene_events::ids::session_stream;
use convene_events::{Actor, AppendError, DomainEvent, EventLog, ExpectedVersion};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginSessionError {
    #[error("session already ended")]
    AlreadyEnded,
    #[error("session log is unavailable")]
    Unavailable,
    #[error("unexpected: {0}")]
    Unexpected(String),
}

#[derive(Clone)]
pub struct LoginSessionService {
    log: EventLog,
}

impl LoginSessionService {
    pub fn new(log: EventLog) -> Self {
        Self { log }
    }

    /// Logs a new session; returns the log position of its event.
    pub async fn start(&self, started: SessionStarted) -> Result<u64, LoginSessionError> {
        let actor = Actor::Account {
            account_id: started.account_id,
        };
        let outcome = self
            .log
            .append_to(
                &session_stream(started.session_id),
                ExpectedVersion::NoStream,
                vec![started.to_new_event(actor)],
            )
            .await
            .map_err(failure)?;
        Ok(outcome.last_seq)
    }

    /// Logs the end of a session (version 1 is its start, so a second logout conflicts).
    pub async fn end(&self, ended: SessionEnded) -> Result<u64, LoginSessionError> {
        let actor = Actor::Account {
            account_id: ended.account_id,
        };
        let outcome = self
            .log
            .append_to(
                &session_stream(ended.session_id),
                ExpectedVersion::Exact(1),
                vec![ended.to_new_event(actor)],
            )
            .await
            .map_err(failure)?;
        Ok(outcome.last_seq)
    }
}

fn failure(err: AppendError) -> LoginSessionError {
    match err {
        AppendError::Conflict { .. } => LoginSessionError::AlreadyEnded,
        AppendError::Closed => LoginSessionError::Unavailable,
        other => LoginSessionError::Unexpected(other.to_string()),
    }
}
