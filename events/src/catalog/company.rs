//! Company events, in stream `company/<id>`. Membership itself is recorded on each member's
//! account stream (`account.joined_company` / `account.left_company`), where the "one company per
//! account" rule is checked.

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyCreated {
    pub company_id: u64,
    pub name: String,
    pub owner_account_id: u64,
    /// SHA-256 of the invite code members join with; the code is shown once, at registration.
    pub invite_code_sha256: String,
}

impl DomainEvent for CompanyCreated {
    const KIND: &'static str = "company.created";
}

event_family! {
    /// Every event of a company's stream.
    CompanyEvent {
        Created(CompanyCreated),
    }
}
