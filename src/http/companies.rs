//! Company workspaces (onepizza §14): join with an invite code, list and remove members (the
//! owner only). A member's keys create and see the company's meetings.

use convene_actors::{AccountCommand, AccountError};
use convene_events::catalog::account::CompanyRole;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::auth::{require_session, Caller};
use super::body::parse_json;
use super::error::ErrorBody;
use super::keys::Deleted;
use super::reply;
use super::router::Router;
use crate::app::principal::Principal;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::format_iso_seconds;
use crate::http::error::NATIVE;
use convene_actors::sha256_hex;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_join>(NATIVE)
        .serve(|r| async move { join(r.state, r.caller, &r.body?).await });
    router
        .add::<__path_members>(NATIVE)
        .serve(|r| async move { members(r.state, r.caller) });
    router
        .add::<__path_remove_member>(NATIVE)
        .serve(|r| async move { remove_member(r.state, r.caller, &r.params[0]).await });
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct JoinRequest {
    #[schema(value_type = String, required = true, min_length = 1)]
    invite_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Joined {
    message: String,
    company_id: u64,
    company_name: String,
}

/// Joins a company with its invite code; the account's meetings are the company's from then.
#[utoipa::path(
    post, path = "/api/company/join", tag = "companies",
    request_body = JoinRequest,
    security(("session" = [])),
    responses(
        (status = 200, description = "joined", body = Joined),
        (status = 404, description = "no company has this invite code", body = ErrorBody),
        (status = 409, description = "already a member of a company", body = ErrorBody),
    )
)]
pub(super) async fn join(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = require_session(&caller, &state)?;
    let request: JoinRequest = parse_json(body)?;
    let code = request
        .invite_code
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::BadRequest("inviteCode is required".into()))?;
    if principal.account.company.is_some() {
        return Err(AppError::Conflict("already a member of a company".into()));
    }
    let company = state
        .projections
        .accounts()
        .company_by_invite(&sha256_hex(&code))?
        .ok_or(AppError::NotFound("invite code not found"))?;
    let (_, seq) = state
        .accounts
        .execute(
            principal.account_id(),
            AccountCommand::JoinCompany {
                company_id: company.company_id,
            },
            principal.actor(),
        )
        .await?;
    state.caught_up(seq).await?;
    tracing::info!(
        account_id = principal.account_id(),
        company_id = company.company_id,
        "joined company"
    );
    Ok(reply::ok(&Joined {
        message: format!("Joined {}", company.name),
        company_id: company.company_id,
        company_name: company.name,
    }))
}

/// The caller's company, if the caller owns it; 403 otherwise.
fn owned_company(principal: &Principal) -> Result<u64, AppError> {
    match principal.account.company {
        Some((company_id, CompanyRole::Owner)) => Ok(company_id),
        _ => Err(AppError::Forbidden(
            "only the company owner can manage members",
        )),
    }
}

#[derive(Serialize, ToSchema)]
pub struct Member {
    id: u64,
    email: String,
    /// "owner" or "member".
    #[schema(pattern = "^(owner|member)$")]
    role: &'static str,
    #[schema(format = DateTime)]
    joined_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    members: Vec<Member>,
}

/// The company's members (owner only).
#[utoipa::path(
    get, path = "/api/company/members", tag = "companies",
    security(("session" = [])),
    responses(
        (status = 200, description = "members, the owner included", body = MemberList),
        (status = 403, description = "not the owner of a company", body = ErrorBody),
    )
)]
pub(super) fn members(state: AppState, caller: Caller) -> Result<Response, AppError> {
    let principal = require_session(&caller, &state)?;
    let company_id = owned_company(&principal)?;
    let members = state
        .projections
        .accounts()
        .members(company_id)?
        .into_iter()
        .map(|member| Member {
            id: member.account_id,
            email: member.email,
            role: member.role.as_str(),
            joined_at: format_iso_seconds(member.joined_at),
        })
        .collect();
    Ok(reply::ok(&MemberList { members }))
}

/// Removes a member from the company (owner only).
#[utoipa::path(
    delete, path = "/api/company/members/{memberId}", tag = "companies",
    params(("memberId" = String, Path)),
    security(("session" = [])),
    responses(
        (status = 200, description = "removed", body = Deleted),
        (status = 409, description = "the owner cannot be removed", body = ErrorBody),
        (status = 403, description = "not the owner of a company", body = ErrorBody),
        (status = 404, description = "not a member of this company", body = ErrorBody),
    )
)]
pub(super) async fn remove_member(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let principal = require_session(&caller, &state)?;
    let company_id = owned_company(&principal)?;
    let not_found = || AppError::NotFound("member not found");
    let member_id: u64 = raw_id.parse().map_err(|_| not_found())?;
    let outcome = state
        .accounts
        .execute(
            member_id,
            AccountCommand::LeaveCompany { company_id },
            principal.actor(),
        )
        .await;
    let (_, seq) = match outcome {
        Ok(outcome) => outcome,
        // Someone else's account, or no account at all: the same answer.
        Err(AccountError::NotInCompany | AccountError::NotFound) => return Err(not_found()),
        Err(AccountError::OwnerCannotLeave) => {
            return Err(AppError::Conflict(
                "the company owner cannot be removed".into(),
            ))
        }
        Err(err) => return Err(err.into()),
    };
    state.caught_up(seq).await?;
    Ok(reply::ok(&Deleted::new("Member removed", member_id)))
}
