//! Plans and account standing (issue 7): which plan governs a workspace, what it admits, and the
//! administrators' endpoints that assign a plan and deactivate or reactivate an account.
//!
//! A workspace's plan is its owner's: the account itself, or a company's owning account. Plans
//! are configured in `[plans]`; an account's plan is logged on its stream
//! (`account.plan_assigned`, at registration and by an administrator), and the accounts
//! directory counts each workspace's meetings per calendar month (UTC), whatever API created
//! them. Every dialect admits a new meeting through [`crate::app::plans::admit_meeting`].

use convene_actors::{AccountCommand, MeetingError};
use convene_events::catalog::account::CompanyRole;
use convene_events::Workspace;
use convene_projections::AccountRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::auth::{account_in_path, authenticate_admin, Caller};
use super::body::parse_json;
use super::error::ErrorBody;
use super::reply;
use super::router::Router;
use crate::app::meetings::end_by_owner;
use crate::app::AppError;
use crate::app::AppState;
use crate::http::error::NATIVE;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_assign_plan>(NATIVE)
        .serve(|r| async move { assign_plan(r.state, r.caller, &r.params[0], &r.body?).await });
    router
        .add::<__path_deactivate>(NATIVE)
        .serve(|r| async move { deactivate(r.state, r.caller, &r.params[0], &r.body?).await });
    router
        .add::<__path_reactivate>(NATIVE)
        .serve(|r| async move { reactivate(r.state, r.caller, &r.params[0]).await });
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanRequest {
    /// A plan of `[plans.catalog]` (by default `credits`, `free` or `pro`).
    #[schema(example = "free")]
    plan: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DeactivateRequest {
    /// Why, for the account's log.
    reason: Option<String>,
}

/// An account's plan and standing.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountStanding {
    account_id: u64,
    /// The plan in effect (`plans.default` for an account that predates plans).
    plan: String,
    active: bool,
}

/// Assigns a plan to an account (for a company: assign it to the owner); administrators only.
#[utoipa::path(
    post, path = "/admin/api/accounts/{accountId}/plan", tag = "plans",
    security(("api_key" = []), ("session" = [])),
    params(("accountId" = u64, Path, description = "the account")),
    request_body = PlanRequest,
    responses(
        (status = 200, description = "the account's plan and standing", body = AccountStanding),
        (status = 400, description = "no such plan", body = ErrorBody),
        (status = 403, description = "not an administrator", body = ErrorBody),
        (status = 404, description = "no such account", body = ErrorBody),
    )
)]
pub(super) async fn assign_plan(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = authenticate_admin(&caller, &state)?;
    let request: PlanRequest = parse_json(body)?;
    if !state.config.plans.catalog.contains_key(&request.plan) {
        let known: Vec<&str> = state
            .config
            .plans
            .catalog
            .keys()
            .map(String::as_str)
            .collect();
        return Err(AppError::BadRequest(format!(
            "plan must be one of {}",
            known.join(", ")
        )));
    }
    let account_id = account_in_path(&state, raw_id)?.account_id;
    let plan = request.plan;
    let command = AccountCommand::AssignPlan { plan: plan.clone() };
    let standing = run(&state, account_id, command, principal.actor()).await?;
    tracing::info!(account_id, plan = %plan, admin_id = principal.account_id(), "plan assigned");
    Ok(reply::ok(&standing))
}

/// Deactivates an account: its keys and sessions are refused with 403 (and so are those of its
/// company's members, when it owns one) until it is reactivated, and its running and scheduled
/// meetings end (its company's too, when it owns one); administrators only.
#[utoipa::path(
    post, path = "/admin/api/accounts/{accountId}/deactivate", tag = "plans",
    security(("api_key" = []), ("session" = [])),
    params(("accountId" = u64, Path, description = "the account")),
    request_body = Option<DeactivateRequest>,
    responses(
        (status = 200, description = "the account's plan and standing", body = AccountStanding),
        (status = 403, description = "not an administrator", body = ErrorBody),
        (status = 404, description = "no such account", body = ErrorBody),
        (status = 409, description = "administrators cannot deactivate themselves", body = ErrorBody),
    )
)]
pub(super) async fn deactivate(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = authenticate_admin(&caller, &state)?;
    let request: DeactivateRequest = parse_json(body)?;
    let account = account_in_path(&state, raw_id)?;
    let account_id = account.account_id;
    if account_id == principal.account_id() {
        return Err(AppError::Conflict(
            "administrators cannot deactivate themselves".into(),
        ));
    }
    let command = AccountCommand::Deactivate {
        reason: request.reason,
    };
    let standing = run(&state, account_id, command, principal.actor()).await?;
    let ended = end_running_meetings(&state, &account, principal.actor()).await?;
    tracing::info!(
        account_id,
        admin_id = principal.account_id(),
        meetings_ended = ended,
        "account deactivated"
    );
    Ok(reply::ok(&standing))
}

/// A deactivated account's meetings stop with it: those of its own workspace and, if it owns a
/// company (whose members it blocks too), the company's. Each is ended by its owning workspace
/// (as EdCast's DELETE does), logged under the administrator; scheduled ones are cancelled.
/// A member's deactivation leaves the company's meetings alone. Returns how many ended.
async fn end_running_meetings(
    state: &AppState,
    account: &AccountRow,
    admin: convene_events::Actor,
) -> Result<usize, AppError> {
    let mut workspaces = vec![Workspace::Account(account.account_id)];
    if let Some((company_id, CompanyRole::Owner)) = account.company {
        workspaces.push(Workspace::Company(company_id));
    }
    let mut ended = 0;
    let mut last_seq = 0;
    for workspace in workspaces {
        for row in state.projections.meetings().live(workspace)? {
            let Ok(meeting_id) = convene_events::MeetingId::parse(&row.meeting_id) else {
                continue;
            };
            match end_by_owner(state, &meeting_id, workspace, admin.clone()).await {
                Ok(outcome) => {
                    ended += 1;
                    last_seq = last_seq.max(outcome.last_seq);
                }
                // Ended meanwhile (by its host, its time limit): nothing left to stop.
                Err(MeetingError::AlreadyEnded | MeetingError::NotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    state.caught_up(last_seq).await?;
    Ok(ended)
}

/// Reactivates a deactivated account; administrators only.
#[utoipa::path(
    post, path = "/admin/api/accounts/{accountId}/reactivate", tag = "plans",
    security(("api_key" = []), ("session" = [])),
    params(("accountId" = u64, Path, description = "the account")),
    responses(
        (status = 200, description = "the account's plan and standing", body = AccountStanding),
        (status = 403, description = "not an administrator", body = ErrorBody),
        (status = 404, description = "no such account", body = ErrorBody),
    )
)]
pub(super) async fn reactivate(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let principal = authenticate_admin(&caller, &state)?;
    let account_id = account_in_path(&state, raw_id)?.account_id;
    let standing = run(
        &state,
        account_id,
        AccountCommand::Reactivate,
        principal.actor(),
    )
    .await?;
    tracing::info!(
        account_id,
        admin_id = principal.account_id(),
        "account reactivated"
    );
    Ok(reply::ok(&standing))
}

async fn run(
    state: &AppState,
    account_id: u64,
    command: AccountCommand,
    actor: convene_events::Actor,
) -> Result<AccountStanding, AppError> {
    let (account, seq) = state.accounts.execute(account_id, command, actor).await?;
    state.caught_up(seq).await?;
    let (plan, _) = state.config.plans.resolve(account.plan.as_deref());
    Ok(AccountStanding {
        account_id,
        plan: plan.to_owned(),
        active: account.active,
    })
}
