//! Identifiers that every layer shares.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A meeting id: ten random lowercase letters grouped 3-4-3, e.g. `abc-defg-hij`.
///
/// 26^10 ≈ 1.4 × 10^14 possibilities: unguessable enough to share in a link, short enough to
/// read aloud. Creation still guards against the (tiny) chance of a collision with an
/// expected-version check on the meeting's stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MeetingId(String);

impl MeetingId {
    /// Accepts exactly the 3-4-3 lowercase form.
    pub fn parse(raw: &str) -> Result<Self, InvalidMeetingId> {
        let groups: Vec<&str> = raw.split('-').collect();
        let well_formed = groups.len() == 3
            && groups.iter().zip([3, 4, 3]).all(|(group, len)| {
                group.len() == len && group.bytes().all(|b| b.is_ascii_lowercase())
            });
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidMeetingId)
        }
    }

    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let mut letters = |n: usize| -> String {
            (0..n)
                .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
                .collect()
        };
        Self(format!("{}-{}-{}", letters(3), letters(4), letters(3)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The log stream that holds this meeting's events.
    pub fn stream(&self) -> String {
        format!("meeting/{}", self.0)
    }
}

impl fmt::Display for MeetingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MeetingId {
    type Error = InvalidMeetingId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MeetingId> for String {
    fn from(id: MeetingId) -> Self {
        id.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("meeting id must look like abc-defg-hij")]
pub struct InvalidMeetingId;

/// The tenant that owns meetings, balances and history. Every query is scoped to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Workspace {
    /// A personal account's own workspace.
    Account(u64),
    /// A company's shared workspace: every member's keys see and create its meetings.
    Company(u64),
    /// Meetings created without an account (onepizza §4): nobody lists them, nobody is billed.
    Guest,
}

impl Workspace {
    /// A readable name, used in stream names and references: `account-7`, `company-3`, `guest`.
    pub fn slug(&self) -> String {
        match self {
            Workspace::Account(id) => format!("account-{id}"),
            Workspace::Company(id) => format!("company-{id}"),
            Workspace::Guest => "guest".to_owned(),
        }
    }

    /// The workspace a [`slug`](Self::slug) names.
    pub fn from_slug(slug: &str) -> Option<Workspace> {
        if let Some(id) = slug.strip_prefix("account-") {
            return id.parse().ok().map(Workspace::Account);
        }
        if let Some(id) = slug.strip_prefix("company-") {
            return id.parse().ok().map(Workspace::Company);
        }
        (slug == "guest").then_some(Workspace::Guest)
    }

    /// A fixed-width, order-preserving key for indexes.
    pub fn key(&self) -> [u8; 9] {
        let (tag, id) = match self {
            Workspace::Account(id) => (b'a', *id),
            Workspace::Company(id) => (b'c', *id),
            Workspace::Guest => (b'g', 0),
        };
        let mut key = [0u8; 9];
        key[0] = tag;
        key[1..].copy_from_slice(&id.to_be_bytes());
        key
    }
}

/// The stream of an account aggregate.
pub fn account_stream(account_id: u64) -> String {
    format!("account/{account_id}")
}

/// The stream of a company aggregate.
pub fn company_stream(company_id: u64) -> String {
    format!("company/{company_id}")
}

/// The stream of one login session.
pub fn session_stream(session_id: u64) -> String {
    format!("session/{session_id}")
}

/// The billing ledger of a workspace (onepizza §15).
pub fn ledger_stream(workspace: Workspace) -> String {
    format!("ledger/{}", workspace.slug())
}

/// The stream of one webhook endpoint.
pub fn webhook_stream(webhook_id: u64) -> String {
    format!("webhook/{webhook_id}")
}

/// The stream that reserves an email address for exactly one account.
pub fn email_stream(normalized_email: &str) -> String {
    format!("email/{normalized_email}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse() {
        for _ in 0..1000 {
            let id = MeetingId::generate();
            assert_eq!(MeetingId::parse(id.as_str()), Ok(id));
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "abc-defg-hi",
            "abcd-efg-hij",
            "ABC-DEFG-HIJ",
            "abc-defg-hij-",
            "abc_defg_hij",
            "abc-de1g-hij",
            "ábc-defg-hij",
        ] {
            assert!(MeetingId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn workspace_keys_sort_by_id() {
        assert!(Workspace::Account(1).key() < Workspace::Account(256).key());
    }
}
