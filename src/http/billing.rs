//! Billing (onepizza §15): the workspace's balance and transactions, and an administrator's
//! top-up. Charges and merges are appended by [`crate::billing`]; the signup credit by the
//! registration itself. Stripe and USDC top-ups are not built yet.

use convene_events::catalog::ledger::LedgerEntry;
use convene_events::ids::ledger_stream;
use convene_events::{DomainEvent, ExpectedVersion, Workspace};
use convene_projections::TransactionRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{authenticate, caller, Caller};
use super::body::{limited, parse_json};
use super::error::{respond, ApiError};
use super::router::Router;
use super::{with_state, AppState};
use crate::domain::{format_iso_seconds, Micros};

/// Transactions shown, newest first.
const TRANSACTIONS_SHOWN: usize = 500;
/// The largest single top-up an administrator may give, in dollars.
const MAX_TOPUP_USD: f64 = 100_000.0;

pub fn routes(state: &AppState, router: &mut Router) {
    let body_limit = state.config.limits.body_bytes;
    router.route(
        Method::GET,
        "/api/billing/history",
        warp::path!("api" / "billing" / "history")
            .and(warp::get())
            .and(with_state(state.clone()))
            .and(caller())
            .map(|state, caller| respond(billing_history(state, caller))),
    );
    router.route(
        Method::POST,
        "/admin/api/accounts/{accountId}/credits",
        warp::path!("admin" / "api" / "accounts" / String / "credits")
            .and(warp::post())
            .and(with_state(state.clone()))
            .and(caller())
            .and(limited(body_limit))
            .then(|id: String, state, caller, body: bytes::Bytes| async move {
                respond(add_credits(state, caller, &id, &body).await)
            }),
    );
}

/// One ledger entry (the seed's snake_case shape).
#[derive(Serialize, ToSchema)]
pub struct Transaction {
    /// Its log sequence.
    id: u64,
    #[schema(example = "-0.0120")]
    amount_usd: String,
    /// signup_credit, admin_topup, stripe_topup, meeting_charge, company_merge_in,
    /// company_merge_out
    #[serde(rename = "type")]
    #[schema(example = "meeting_charge")]
    kind: String,
    description: String,
    created_at: String,
}

impl From<&TransactionRow> for Transaction {
    fn from(row: &TransactionRow) -> Self {
        Self {
            id: row.seq,
            amount_usd: Micros(row.amount_micros).render(),
            kind: row.kind.clone(),
            description: row.description.clone(),
            created_at: format_iso_seconds(row.at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BillingHistory {
    #[schema(example = "25.0000")]
    balance: String,
    /// Newest first.
    transactions: Vec<Transaction>,
}

/// The balance and transactions of the caller's workspace (its company's, for a member).
#[utoipa::path(
    get, path = "/api/billing/history", tag = "billing",
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "balance and transactions, newest first", body = BillingHistory),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
    )
)]
pub(super) fn billing_history(state: AppState, caller: Caller) -> Result<Response, ApiError> {
    let workspace = authenticate(&caller, &state)?.workspace();
    let ledger = state.projections.ledger();
    let body = BillingHistory {
        balance: Micros(ledger.balance(workspace)?).render(),
        transactions: ledger
            .transactions(workspace, TRANSACTIONS_SHOWN)?
            .iter()
            .map(Transaction::from)
            .collect(),
    };
    Ok(warp::reply::json(&body).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CreditsRequest {
    /// Dollars to add, above 0 and at most 100,000 (four decimals are kept).
    #[schema(example = 20.0, exclusive_minimum = 0.0, maximum = 100000.0)]
    amount_usd: f64,
    /// Shown in the account's transactions.
    description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Balance {
    #[schema(example = "25.0000")]
    balance: String,
}

/// Adds credits to an account's workspace (its company's, for a member); administrators only.
#[utoipa::path(
    post, path = "/admin/api/accounts/{accountId}/credits", tag = "billing",
    security(("api_key" = []), ("session" = [])),
    params(("accountId" = u64, Path, description = "the account")),
    request_body = CreditsRequest,
    responses(
        (status = 200, description = "the new balance", body = Balance),
        (status = 400, description = "a bad amount", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 403, description = "not an administrator", body = super::error::ErrorBody),
        (status = 404, description = "no such account", body = super::error::ErrorBody),
    )
)]
pub(super) async fn add_credits(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let principal = authenticate(&caller, &state)?;
    if !principal.account.is_admin {
        return Err(ApiError::Forbidden("administrators only"));
    }
    let request: CreditsRequest = parse_json(body)?;
    if !(request.amount_usd > 0.0 && request.amount_usd <= MAX_TOPUP_USD) {
        return Err(ApiError::BadRequest(format!(
            "amountUsd must be above 0 and at most {MAX_TOPUP_USD}"
        )));
    }
    let not_found = || ApiError::NotFound("account not found");
    let account_id: u64 = raw_id.parse().map_err(|_| not_found())?;
    let account = state
        .projections
        .accounts()
        .account(account_id)?
        .ok_or_else(not_found)?;
    let workspace = match account.company {
        Some((company_id, _)) => Workspace::Company(company_id),
        None => Workspace::Account(account_id),
    };
    // Rounded to the micro-dollar; f64 holds every amount up to the cap exactly enough.
    let amount_micros = (request.amount_usd * 1_000_000.0).round() as i64;
    let entry = LedgerEntry {
        amount_micros,
        kind: "admin_topup".into(),
        description: request
            .description
            .unwrap_or_else(|| format!("Credit ${:.2} by an administrator", request.amount_usd)),
        reference: format!("topup:{}", state.next_id()?),
    };
    let outcome = state
        .log
        .append_to(
            ledger_stream(workspace),
            ExpectedVersion::Any,
            vec![entry.to_new_event(principal.actor())],
        )
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    state.caught_up(outcome.last_seq).await?;
    let balance = Micros(state.projections.ledger().balance(workspace)?).render();
    Ok(warp::reply::json(&Balance { balance }).into_response())
}
