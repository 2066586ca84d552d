//! Billing (onepizza §15): what the log says happened, turned into ledger entries.
//!
//! A follower reads the log from its cursor (kept in sled beside the log) and appends:
//! - at each meeting's end, a `meeting_charge` of duration × peak participants × the rate to
//!   the meeting's workspace (a company's meetings charge the company);
//! - when an account joins a company, its personal balance moved to the company
//!   (`company_merge_out` and `company_merge_in`, in one atomic append).
//!
//! Each entry carries a reference (`meeting:<id>`, `merge:<seq>`) that the ledger counts once,
//! so re-reading after a crash (the cursor is saved after the append) charges nothing twice.
//! A charge that takes the balance below `billing.low_balance_micros` emails the workspace's
//! owner, once per crossing (the charge that crosses is appended once).
//! The signup credit is part of the registration's own append (see `AccountService::register`).

use std::sync::Arc;
use std::time::Duration;

use convene_events::catalog::account::AccountEvent;
use convene_events::catalog::ledger::LedgerEntry;
use convene_events::catalog::meeting::MeetingEvent;
use convene_events::ids::ledger_stream;
use convene_events::log::StreamWrite;
use convene_events::{Actor, DomainEvent, Envelope, EventLog, ExpectedVersion, Workspace};
use convene_projections::Projections;

use crate::domain::{render_minutes, Micros};
use crate::email::Mailer;

/// How long the follower waits for the read models it prices from.
const CATCH_UP: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Billing {
    log: EventLog,
    projections: Projections,
    rate: Micros,
    low_balance: Micros,
    mailer: Mailer,
    /// `cursor` → the last seq handled (u64 BE).
    state: sled::Tree,
}

impl Billing {
    pub fn new(
        log: EventLog,
        projections: Projections,
        config: &crate::config::BillingConfig,
        mailer: Mailer,
    ) -> Result<Self, String> {
        let state = log
            .db()
            .open_tree("billing/state")
            .map_err(|e| e.to_string())?;
        Ok(Self {
            log,
            projections,
            rate: Micros(config.rate_micros_per_participant_minute),
            low_balance: Micros(config.low_balance_micros),
            mailer,
            state,
        })
    }

    fn cursor(&self) -> u64 {
        self.state
            .get("cursor")
            .ok()
            .flatten()
            .and_then(|b| b.as_ref().try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(0)
    }

    /// Follows the log until `shutdown` resolves (or the log closes).
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let mut events = self.log.subscribe(self.cursor() + 1);
        tokio::pin!(shutdown);
        loop {
            let batch = tokio::select! {
                batch = events.next_batch() => batch,
                () = &mut shutdown => return,
            };
            let batch = match batch {
                Ok(Some(batch)) => batch,
                Ok(None) => return,
                Err(err) => {
                    tracing::error!(error = %err, "billing cannot read the log");
                    return;
                }
            };
            for envelope in batch {
                if let Err(err) = self.handle(&envelope).await {
                    // Stop rather than skip: the next start resumes at this event.
                    tracing::error!(seq = envelope.seq, error = %err, "billing stopped");
                    return;
                }
                if let Err(err) = self.state.insert("cursor", &envelope.seq.to_be_bytes()) {
                    tracing::error!(error = %err, "billing cannot save its cursor");
                    return;
                }
            }
        }
    }

    async fn handle(&self, envelope: &Arc<Envelope>) -> Result<(), String> {
        if envelope.stream.starts_with("meeting/") {
            if let Ok(Some(MeetingEvent::Ended(_))) = MeetingEvent::from_envelope(envelope) {
                return self.charge(envelope).await;
            }
        } else if let Some(account) = envelope.stream.strip_prefix("account/") {
            if let Ok(Some(AccountEvent::JoinedCompany(joined))) =
                AccountEvent::from_envelope(envelope)
            {
                let account_id: u64 = account.parse().map_err(|_| "bad account stream")?;
                return self
                    .merge(account_id, joined.company_id, envelope.seq)
                    .await;
            }
        }
        Ok(())
    }

    /// The ended meeting's charge, priced from its history row.
    async fn charge(&self, ended: &Envelope) -> Result<(), String> {
        self.projections
            .wait_for(ended.seq, CATCH_UP)
            .await
            .map_err(|e| e.to_string())?;
        let meeting_id = ended.stream.trim_start_matches("meeting/");
        let Some(row) = self
            .projections
            .history()
            .row(meeting_id)
            .map_err(|e| e.to_string())?
        else {
            return Ok(()); // a guest meeting: nobody's to bill
        };
        let amount = Micros::for_usage(row.duration_ms(), row.peak, self.rate);
        let reference = format!("meeting:{meeting_id}");
        if amount.0 <= 0 || self.already(row.workspace, &reference)? {
            return Ok(());
        }
        let minutes = render_minutes(row.duration_ms());
        let entry = LedgerEntry {
            amount_micros: -amount.0,
            kind: "meeting_charge".into(),
            description: format!(
                "Meeting {meeting_id} ({minutes}m, {} participants)",
                row.peak
            ),
            reference,
        };
        let before = self
            .projections
            .ledger()
            .balance(row.workspace)
            .map_err(|e| e.to_string())?;
        self.append(vec![(row.workspace, entry)]).await?;
        let after = before - amount.0;
        if before >= self.low_balance.0 && after < self.low_balance.0 {
            self.warn_low_balance(row.workspace, Micros(after));
        }
        Ok(())
    }

    /// Emails the workspace's owner that its balance fell below the threshold.
    fn warn_low_balance(&self, workspace: Workspace, balance: Micros) {
        let accounts = self.projections.accounts();
        let owner = match workspace {
            Workspace::Account(id) => Some(id),
            Workspace::Company(id) => accounts
                .company(id)
                .ok()
                .flatten()
                .map(|c| c.owner_account_id),
            Workspace::Guest => None,
        };
        let Some(email) = owner
            .and_then(|id| accounts.account(id).ok().flatten())
            .map(|account| account.email)
        else {
            return;
        };
        let body = format!(
            "Your Convene balance is now ${}, below ${}.\n\nMeetings can be created while the \
             balance is above zero; top up from the dashboard to keep meeting.\n",
            balance.render(),
            self.low_balance.render()
        );
        tracing::info!(
            ?workspace,
            balance = balance.0,
            "low balance: emailing the owner"
        );
        self.mailer
            .send_later(&email, "Your Convene balance is running low", body);
    }

    /// Moves a new member's personal balance into its company's.
    async fn merge(&self, account_id: u64, company_id: u64, seq: u64) -> Result<(), String> {
        self.projections
            .wait_for(seq, CATCH_UP)
            .await
            .map_err(|e| e.to_string())?;
        let personal = Workspace::Account(account_id);
        let balance = self
            .projections
            .ledger()
            .balance(personal)
            .map_err(|e| e.to_string())?;
        let reference = format!("merge:{seq}");
        if balance <= 0 || self.already(personal, &reference)? {
            return Ok(());
        }
        let out = LedgerEntry {
            amount_micros: -balance,
            kind: "company_merge_out".into(),
            description: format!("Balance moved to company {company_id}"),
            reference: reference.clone(),
        };
        let into = LedgerEntry {
            amount_micros: balance,
            kind: "company_merge_in".into(),
            description: format!("Balance of member {account_id}"),
            reference,
        };
        self.append(vec![
            (personal, out),
            (Workspace::Company(company_id), into),
        ])
        .await
    }

    fn already(&self, workspace: Workspace, reference: &str) -> Result<bool, String> {
        self.projections
            .ledger()
            .has_reference(workspace, reference)
            .map_err(|e| e.to_string())
    }

    /// Appends entries to their workspaces' ledgers in one atomic append.
    async fn append(&self, entries: Vec<(Workspace, LedgerEntry)>) -> Result<(), String> {
        let writes = entries
            .into_iter()
            .map(|(workspace, entry)| {
                StreamWrite::new(
                    ledger_stream(workspace),
                    ExpectedVersion::Any,
                    vec![entry.to_new_event(Actor::System)],
                )
            })
            .collect();
        let outcome = self.log.append(writes).await.map_err(|e| e.to_string())?;
        // The next decision reads balances: they must include this entry.
        self.projections
            .wait_for(outcome.last_seq, CATCH_UP)
            .await
            .map_err(|e| e.to_string())
    }
}
