//! The billing ledger (onepizza §15), one stream per workspace (`ledger/<workspace>`): every
//! change of a balance is an entry, in integer micro-dollars (DESIGN §7).

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;

/// One change of a workspace's balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Credits are positive, charges negative.
    pub amount_micros: i64,
    /// `signup_credit`, `admin_topup`, `stripe_topup`, `meeting_charge`, `company_merge_in`,
    /// `company_merge_out`.
    pub kind: String,
    /// For people: "Meeting abc-defg-hij (30m, 4 participants)".
    pub description: String,
    /// What the entry is for, unique in the workspace's ledger (`meeting:<id>`, `signup`, a
    /// Stripe event id…): an entry whose reference is already there changes nothing.
    pub reference: String,
}

impl DomainEvent for LedgerEntry {
    const KIND: &'static str = "ledger.entry";
}

event_family! {
    /// Every event of a workspace's ledger stream.
    LedgerEvent {
        Entry(LedgerEntry),
    }
}
