//! Accounts (onepizza §1, §14): `POST /api/auth/register` (personal or company), and the
//! administrator seed.

use convene_actors::account::{NewApiKey, NewCompany};
use convene_actors::Registration;
use convene_events::catalog::account::AccountType;
use convene_events::Actor;
use serde::Deserialize;
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::body::{limited, parse_json};
use super::error::{respond, ApiError};
use super::{with_state, AppState};
use crate::domain::{ApiKey, Email, InviteCode, Password};

const COMPANY_NAME_CHARS: usize = 100;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let body_limit = state.config.limits.body_bytes;
    warp::path!("api" / "auth" / "register")
        .and(warp::post())
        .and(with_state(state))
        .and(limited(body_limit))
        .then(|state, body: bytes::Bytes| async move { respond(register(state, &body).await) })
        .boxed()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RegisterRequest {
    email: Option<String>,
    password: Option<String>,
    account_type: Option<String>,
    company_name: Option<String>,
}

async fn register(state: AppState, body: &[u8]) -> Result<Response, ApiError> {
    let request: RegisterRequest = parse_json(body)?;
    let limits = &state.config.limits;
    let email =
        Email::parse(request.email.as_deref().unwrap_or_default()).map_err(ApiError::BadRequest)?;
    let password = Password::parse(
        request.password.as_deref().unwrap_or_default(),
        limits.password_min_chars,
        limits.password_max_chars,
    )
    .map_err(ApiError::BadRequest)?;
    let account_type = match request.account_type.as_deref() {
        None | Some("personal") => AccountType::Personal,
        Some("company") => AccountType::Company,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "accountType must be \"personal\" or \"company\"".into(),
            ))
        }
    };
    let company_name = company_name(account_type, request.company_name.as_deref())?;
    let registered = register_account(&state, email, password, company_name, false).await?;
    let mut body = json!({
        "message": "Account created",
        "email": registered.email,
        "apiKey": registered.api_key.expose(),
        "accountType": account_type.as_str(),
    });
    if let Some(code) = &registered.invite_code {
        body["inviteCode"] = code.as_str().into();
    }
    Ok(warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED).into_response())
}

/// A new account as its owner sees it, once.
pub struct Registered {
    pub account_id: u64,
    pub email: String,
    pub api_key: ApiKey,
    pub invite_code: Option<String>,
}

/// Registers an account (and its company, for a company account); shared by the register
/// endpoint and the administrator seed.
pub async fn register_account(
    state: &AppState,
    email: Email,
    password: Password,
    company_name: Option<String>,
    is_admin: bool,
) -> Result<Registered, ApiError> {
    // Cheap early answer; the email claim in the log is what actually guarantees uniqueness.
    if state
        .projections
        .accounts()
        .by_email(email.as_str())?
        .is_some()
    {
        return Err(ApiError::Conflict("email already in use".into()));
    }
    let password_hash = hash_on_blocking_pool(password).await?;
    let account_id = state.next_id()?;
    let key = ApiKey::generate();
    let (company, invite_code) = match company_name {
        Some(name) => {
            let code = InviteCode::generate();
            let company = NewCompany {
                company_id: state.next_id()?,
                name,
                invite_code_sha256: code.sha256(),
            };
            (Some(company), Some(code.expose().to_owned()))
        }
        None => (None, None),
    };
    let registration = Registration {
        account_id,
        email: email.as_str().to_owned(),
        password_hash,
        account_type: if company.is_some() {
            AccountType::Company
        } else {
            AccountType::Personal
        },
        company,
        is_admin,
        first_key: NewApiKey {
            key_id: state.next_id()?,
            sha256: key.sha256(),
            preview: key.preview(),
            label: Some("Default".into()),
        },
    };
    let (account, seq) = state
        .accounts
        .register(registration, Actor::Account { account_id })
        .await?;
    state.caught_up(seq).await?;
    tracing::info!(account_id, is_admin, "account registered");
    Ok(Registered {
        account_id,
        email: account.email,
        api_key: key,
        invite_code,
    })
}

/// argon2 takes tens of milliseconds of CPU: never on the async workers.
pub async fn hash_on_blocking_pool(password: Password) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password.hash())
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))?
        .map_err(ApiError::Unexpected)
}

/// Seeds the administrator from `auth.admin_email` / `auth.admin_password` (ADMIN_EMAIL /
/// ADMIN_PASSWORD) when both are set. Idempotent: an existing account with that email is left
/// as it is.
pub async fn seed_admin(state: &AppState) -> Result<(), String> {
    let auth = &state.config.auth;
    if auth.admin_email.is_empty() || auth.admin_password.is_empty() {
        return Ok(());
    }
    let email = Email::parse(&auth.admin_email).map_err(|e| format!("ADMIN_EMAIL: {e}"))?;
    let limits = &state.config.limits;
    let password = Password::parse(
        &auth.admin_password,
        limits.password_min_chars,
        limits.password_max_chars,
    )
    .map_err(|e| format!("ADMIN_PASSWORD: {e}"))?;
    match register_account(state, email, password, None, true).await {
        Ok(registered) => {
            tracing::info!(account_id = registered.account_id, "administrator seeded");
            Ok(())
        }
        Err(ApiError::Conflict(_)) => Ok(()),
        Err(err) => Err(format!("cannot seed the administrator: {err:?}")),
    }
}

fn company_name(account_type: AccountType, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let name = raw.map(str::trim).filter(|n| !n.is_empty());
    match (account_type, name) {
        (AccountType::Company, None) => Err(ApiError::BadRequest(
            "companyName is required when accountType is \"company\"".into(),
        )),
        (_, Some(name)) if name.chars().count() > COMPANY_NAME_CHARS => Err(ApiError::BadRequest(
            format!("companyName must be at most {COMPANY_NAME_CHARS} characters"),
        )),
        (_, Some(name)) if name.chars().any(char::is_control) => Err(ApiError::BadRequest(
            "companyName must not contain control characters".into(),
        )),
        (AccountType::Company, Some(name)) => Ok(Some(name.to_owned())),
        (AccountType::Personal, _) => Ok(None),
    }
}
