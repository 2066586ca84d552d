//! Plans as the application applies them: which plan governs a workspace, and whether a new
//! meeting may be created in it (monthly quota, credits). Every dialect creates meetings
//! through [`crate::app::meetings`], which admits them here.
//!
//! A workspace's plan is its owner's: the account itself, or a company's owning account.

use convene_events::Workspace;
use convene_projections::calendar_month;
use tokio::sync::OwnedMutexGuard;

use crate::app::{AppError, AppState};
use crate::config::PlanConfig;

/// The plan that governs a workspace now.
#[derive(Debug, Clone)]
pub struct PlanInEffect {
    pub name: String,
    pub config: PlanConfig,
}

/// The plan of the workspace's owner (`plans.default` for an account that predates plans).
pub fn plan_of(state: &AppState, workspace: Workspace) -> Result<PlanInEffect, AppError> {
    let accounts = state.projections.accounts();
    let owner = match workspace {
        Workspace::Account(account_id) => accounts.account(account_id)?,
        Workspace::Company(company_id) => match accounts.company(company_id)? {
            Some(company) => accounts.account(company.owner_account_id)?,
            None => None,
        },
        Workspace::Guest => None,
    };
    let (name, config) = state
        .config
        .plans
        .resolve(owner.as_ref().and_then(|o| o.plan.as_deref()));
    Ok(PlanInEffect {
        name: name.to_owned(),
        config: config.clone(),
    })
}

/// A new meeting may be created in the workspace: its plan, and the workspace's turn (hold it
/// until the meeting is created).
pub struct Admission {
    pub plan: PlanInEffect,
    _turn: Option<OwnedMutexGuard<()>>,
}

/// Admits a new meeting in `workspace`, or says why not: the plan's monthly quota is used up
/// (403), or the plan is paid by credits and the balance is not above zero (402).
pub async fn admit_meeting(state: &AppState, workspace: Workspace) -> Result<Admission, AppError> {
    let plan = plan_of(state, workspace)?;
    let mut turn = None;
    if let Some(limit) = plan.config.monthly_limit() {
        turn = Some(state.creation_turns.take(workspace).await);
        let month = calendar_month(state.clock.now_ms());
        let used = state
            .projections
            .accounts()
            .meetings_created(workspace, month)?;
        if used >= limit {
            tracing::info!(workspace = %workspace.slug(), plan = %plan.name, used, limit, "monthly meeting quota reached");
            return Err(AppError::QuotaReached {
                plan: plan.name,
                monthly_meetings: limit,
            });
        }
    }
    // onepizza §15: a meeting needs credit in the workspace that will pay for it.
    if plan.config.credits && state.projections.ledger().balance(workspace)? <= 0 {
        return Err(AppError::PaymentRequired("insufficient credits"));
    }
    Ok(Admission { plan, _turn: turn })
}

impl Admission {
    /// When a meeting that starts at `start` must end under this plan, if its plan caps it.
    pub fn capped_end(&self, start: i64) -> Option<i64> {
        self.plan
            .config
            .max_duration_ms()
            .map(|cap| start.saturating_add(cap))
    }
}
