//! Who acts: an authenticated account and the credential it used, as every adapter hands it to
//! the use cases (the HTTP dialects find it from a key, a session cookie or a VideoSDK token).

use convene_events::catalog::account::CompanyRole;
use convene_events::{Actor, Workspace};
use convene_projections::AccountRow;

use crate::app::{AppError, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    ApiKey { key_id: u64 },
    Session { session_id: u64 },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: AccountRow,
    pub credential: Credential,
}

impl Principal {
    pub fn account_id(&self) -> u64 {
        self.account.account_id
    }

    /// The tenant whose data this caller may see: its company's when it belongs to one.
    pub fn workspace(&self) -> Workspace {
        match self.account.company {
            Some((company_id, _)) => Workspace::Company(company_id),
            None => Workspace::Account(self.account.account_id),
        }
    }

    /// How this caller appears in the events it causes.
    pub fn actor(&self) -> Actor {
        match self.credential {
            Credential::ApiKey { key_id } => Actor::ApiKey {
                account_id: self.account.account_id,
                key_id,
            },
            Credential::Session { .. } => Actor::Account {
                account_id: self.account.account_id,
            },
        }
    }
}

/// 403 for a deactivated account, and for a member of a company whose owner is deactivated
/// (the organization is).
pub fn ensure_active(state: &AppState, account: &AccountRow) -> Result<(), AppError> {
    if !account.active {
        return Err(AppError::AccountInactive);
    }
    if let Some((company_id, CompanyRole::Member)) = account.company {
        let accounts = state.projections.accounts();
        let owner = match accounts.company(company_id)? {
            Some(company) => accounts.account(company.owner_account_id)?,
            None => None,
        };
        if owner.is_some_and(|owner| !owner.active) {
            return Err(AppError::AccountInactive);
        }
    }
    Ok(())
}
