//! Company workspaces (onepizza §14): join with an invite code, list and remove members (the
//! owner only). A member's keys create and see the company's meetings.

use convene_actors::{AccountCommand, AccountError};
use convene_events::catalog::account::CompanyRole;
use serde::Deserialize;
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{caller, require_session, Caller, Principal};
use super::body::{limited, parse_json};
use super::error::{respond, ApiError};
use super::{with_state, AppState};
use crate::domain::format_iso_seconds;
use convene_actors::sha256_hex;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let body_limit = state.config.limits.body_bytes;
    let join = warp::path!("api" / "company" / "join")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(caller())
        .and(limited(body_limit))
        .then(|state, caller, body: bytes::Bytes| async move {
            respond(join(state, caller, &body).await)
        });
    let members = warp::path!("api" / "company" / "members")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(caller())
        .map(|state, caller| respond(members(state, caller)));
    let remove = warp::path!("api" / "company" / "members" / String)
        .and(warp::delete())
        .and(with_state(state))
        .and(caller())
        .then(|id: String, state, caller| async move {
            respond(remove_member(state, caller, &id).await)
        });
    join.or(members).unify().or(remove).unify().boxed()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JoinRequest {
    invite_code: Option<String>,
}

async fn join(state: AppState, caller: Caller, body: &[u8]) -> Result<Response, ApiError> {
    let principal = require_session(&caller, &state)?;
    let request: JoinRequest = parse_json(body)?;
    let code = request
        .invite_code
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::BadRequest("inviteCode is required".into()))?;
    if principal.account.company.is_some() {
        return Err(ApiError::Conflict("already a member of a company".into()));
    }
    let company = state
        .projections
        .accounts()
        .company_by_invite(&sha256_hex(&code))?
        .ok_or(ApiError::NotFound("invite code not found"))?;
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
    Ok(warp::reply::json(&json!({
        "message": format!("Joined {}", company.name),
        "companyId": company.company_id,
        "companyName": company.name,
    }))
    .into_response())
}

/// The caller's company, if the caller owns it; 403 otherwise.
fn owned_company(principal: &Principal) -> Result<u64, ApiError> {
    match principal.account.company {
        Some((company_id, CompanyRole::Owner)) => Ok(company_id),
        _ => Err(ApiError::Forbidden(
            "only the company owner can manage members",
        )),
    }
}

fn members(state: AppState, caller: Caller) -> Result<Response, ApiError> {
    let principal = require_session(&caller, &state)?;
    let company_id = owned_company(&principal)?;
    let members: Vec<_> = state
        .projections
        .accounts()
        .members(company_id)?
        .into_iter()
        .map(|member| {
            json!({
                "id": member.account_id,
                "email": member.email,
                "role": member.role.as_str(),
                "joined_at": format_iso_seconds(member.joined_at),
            })
        })
        .collect();
    Ok(warp::reply::json(&json!({ "members": members })).into_response())
}

async fn remove_member(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let principal = require_session(&caller, &state)?;
    let company_id = owned_company(&principal)?;
    let not_found = || ApiError::NotFound("member not found");
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
            return Err(ApiError::BadRequest(
                "the company owner cannot be removed".into(),
            ))
        }
        Err(err) => return Err(err.into()),
    };
    state.caught_up(seq).await?;
    Ok(warp::reply::json(&json!({ "message": "Member removed", "id": member_id })).into_response())
}
