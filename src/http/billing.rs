//! Billing (onepizza §15): the workspace's balance and transactions, an administrator's top-up,
//! and Stripe: a Checkout Session to buy credit, and the webhook that credits it once Stripe
//! says the payment went through. Charges and merges are appended by [`crate::billing`]; the
//! signup credit by the registration itself. USDC deposits are not built.

use convene_events::catalog::ledger::LedgerEntry;
use convene_events::ids::ledger_stream;
use convene_events::{DomainEvent, ExpectedVersion, Workspace};
use convene_projections::TransactionRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;
use warp::Reply;

use super::auth::{account_in_path, authenticate, authenticate_admin, Caller};
use super::body::parse_json;
use super::router::Router;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{format_iso_seconds, Micros};
use crate::http::error::NATIVE;

/// Transactions shown, newest first.
const TRANSACTIONS_SHOWN: usize = 500;
/// The largest single top-up an administrator may give, in dollars.
const MAX_TOPUP_USD: f64 = 100_000.0;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_billing_history>(NATIVE)
        .serve(|r| async move { billing_history(r.state, r.caller) });
    router
        .add::<__path_stripe_checkout>(NATIVE)
        .serve(|r| async move { stripe_checkout(r.state, r.caller, &r.body?).await });
    router
        .add::<__path_stripe_webhook>(NATIVE)
        .serve(|r| async move {
            stripe_webhook(r.state, r.caller.header("stripe-signature"), &r.body?).await
        });
    router
        .add::<__path_add_credits>(NATIVE)
        .serve(|r| async move { add_credits(r.state, r.caller, &r.params[0], &r.body?).await });
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
pub(super) fn billing_history(state: AppState, caller: Caller) -> Result<Response, AppError> {
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
) -> Result<Response, AppError> {
    let principal = authenticate_admin(&caller, &state)?;
    let request: CreditsRequest = parse_json(body)?;
    if !(request.amount_usd > 0.0 && request.amount_usd <= MAX_TOPUP_USD) {
        return Err(AppError::BadRequest(format!(
            "amountUsd must be above 0 and at most {MAX_TOPUP_USD}"
        )));
    }
    let account = account_in_path(&state, raw_id)?;
    let account_id = account.account_id;
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
        .await?;
    state.caught_up(outcome.last_seq).await?;
    let balance = Micros(state.projections.ledger().balance(workspace)?).render();
    Ok(warp::reply::json(&Balance { balance }).into_response())
}

/// Stripe's `Stripe-Signature` tolerance (its libraries' default).
const STRIPE_TOLERANCE_SECS: i64 = 300;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CheckoutRequest {
    /// Dollars of credit to buy: 5 to 1,000, whole dollars.
    #[schema(example = 20, minimum = 5, maximum = 1000)]
    #[serde(deserialize_with = "crate::domain::whole_number_required")]
    amount_usd: u32,
}

#[derive(Serialize, ToSchema)]
pub struct CheckoutSession {
    /// Stripe's hosted checkout page.
    #[schema(example = "https://checkout.stripe.com/c/pay/...")]
    url: String,
}

/// Opens a Stripe Checkout Session for `amountUsd` dollars of credit (onepizza §15).
#[utoipa::path(
    post, path = "/api/billing/stripe/checkout", tag = "billing",
    security(("api_key" = []), ("session" = [])),
    request_body = CheckoutRequest,
    responses(
        (status = 200, description = "where to send the buyer", body = CheckoutSession),
        (status = 400, description = "an amount outside $5 to $1,000", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 503, description = "Stripe is not configured, or did not answer", body = super::error::ErrorBody),
    )
)]
pub(super) async fn stripe_checkout(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = authenticate(&caller, &state)?;
    let request: CheckoutRequest = parse_json(body)?;
    if !(5..=1000).contains(&request.amount_usd) {
        return Err(AppError::BadRequest(
            "amountUsd must be between 5 and 1000".into(),
        ));
    }
    let config = &state.config.billing;
    if config.stripe_secret_key.is_empty() || config.stripe_price_id.is_empty() {
        return Err(AppError::Unavailable(
            "stripe is not configured: set STRIPE_SECRET_KEY and STRIPE_PRICE_ID".into(),
        ));
    }
    let workspace = principal.workspace();
    let app_url = state.config.server.app_url.trim_end_matches('/');
    let form = [
        ("mode", "payment".to_owned()),
        ("line_items[0][price]", config.stripe_price_id.clone()),
        ("line_items[0][quantity]", request.amount_usd.to_string()),
        ("client_reference_id", workspace.slug()),
        ("success_url", format!("{app_url}/dashboard?topup=success")),
        ("cancel_url", format!("{app_url}/dashboard?topup=cancelled")),
    ];
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/v1/checkout/sessions",
            config.stripe_api_url.trim_end_matches('/')
        ))
        .basic_auth(&config.stripe_secret_key, None::<&str>)
        .form(&form)
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| AppError::Unavailable(format!("stripe did not answer: {e}")))?;
    if !answer.status().is_success() {
        tracing::warn!(status = %answer.status(), "stripe refused a checkout session");
        return Err(AppError::Unavailable(format!(
            "stripe refused the checkout session ({})",
            answer.status()
        )));
    }
    let session: serde_json::Value = answer
        .json()
        .await
        .map_err(|e| AppError::Unavailable(format!("stripe answered something unreadable: {e}")))?;
    let url = session["url"]
        .as_str()
        .ok_or_else(|| AppError::Unavailable("stripe answered without a url".into()))?;
    Ok(warp::reply::json(&CheckoutSession {
        url: url.to_owned(),
    })
    .into_response())
}

/// Checks `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">` (any `v1` may
/// match; constant-time), within the tolerance of `now`.
pub fn verify_stripe_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), &'static str> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", hex)) => signatures.push(hex.to_owned()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("stripe-signature has no timestamp")?;
    if (now_secs - timestamp).abs() > STRIPE_TOLERANCE_SECS {
        return Err("stripe-signature is too old or from the future");
    }
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let verified = signatures.iter().any(|hex| {
        crate::domain::decode_hex(hex)
            .is_some_and(|signature| mac.clone().verify_slice(&signature).is_ok())
    });
    verified
        .then_some(())
        .ok_or("stripe-signature does not verify")
}

/// Stripe's events: `checkout.session.completed` with `payment_status: paid` credits the
/// workspace named in `client_reference_id` with `amount_total` cents, once per Stripe event id.
#[utoipa::path(
    post, path = "/api/billing/stripe/webhook", tag = "billing",
    params(("stripe-signature" = String, Header, description = "Stripe's signature of the body")),
    request_body = Object,
    responses(
        (status = 200, description = "taken (credited, already credited, or not a payment)", body = super::reply::Message),
        (status = 400, description = "a missing or bad signature, or an unreadable event", body = super::error::ErrorBody),
        (status = 503, description = "Stripe webhooks are not configured", body = super::error::ErrorBody),
    )
)]
pub(super) async fn stripe_webhook(
    state: AppState,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Response, AppError> {
    let signature =
        signature.ok_or_else(|| AppError::BadRequest("missing stripe-signature".into()))?;
    let secret = &state.config.billing.stripe_webhook_secret;
    if secret.is_empty() {
        return Err(AppError::Unavailable(
            "stripe webhooks are not configured: set STRIPE_WEBHOOK_SECRET".into(),
        ));
    }
    verify_stripe_signature(secret, signature, body, state.clock.now_ms() / 1000)
        .map_err(|why| AppError::BadRequest(why.into()))?;
    let event: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| AppError::BadRequest("the event is not json".into()))?;
    let event_id = event["id"]
        .as_str()
        .ok_or_else(|| AppError::BadRequest("the event has no id".into()))?;
    let session = &event["data"]["object"];
    let paid = event["type"] == "checkout.session.completed" && session["payment_status"] == "paid";
    if !paid {
        return Ok(super::reply::message("ignored: not a completed payment"));
    }
    let workspace = session["client_reference_id"]
        .as_str()
        .and_then(Workspace::from_slug)
        .filter(|workspace| *workspace != Workspace::Guest)
        .ok_or_else(|| AppError::BadRequest("the session names no workspace".into()))?;
    let cents = session["amount_total"]
        .as_i64()
        .filter(|cents| *cents > 0)
        .ok_or_else(|| AppError::BadRequest("the session has no amount_total".into()))?;
    let reference = format!("stripe:{event_id}");
    if state
        .projections
        .ledger()
        .has_reference(workspace, &reference)?
    {
        return Ok(super::reply::message("already credited"));
    }
    let entry = LedgerEntry {
        amount_micros: cents * 10_000,
        kind: "stripe_topup".into(),
        description: format!("Stripe top-up ${}.{:02}", cents / 100, cents % 100),
        reference,
    };
    let outcome = state
        .log
        .append_to(
            ledger_stream(workspace),
            ExpectedVersion::Any,
            vec![entry.to_new_event(convene_events::Actor::System)],
        )
        .await?;
    state.caught_up(outcome.last_seq).await?;
    tracing::info!(event_id, cents, "stripe top-up credited");
    Ok(super::reply::message("credited"))
}
