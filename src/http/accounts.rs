//! Accounts (onepizza §1): `POST /api/auth/register`.

use convene_actors::account::NewApiKey;
use convene_actors::AccountCommand;
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
use crate::domain::{ApiKey, Email, Password};

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

    // Cheap early answer; the email claim in the log is what actually guarantees uniqueness.
    if state
        .projections
        .accounts()
        .by_email(email.as_str())?
        .is_some()
    {
        return Err(ApiError::Conflict("email already in use".into()));
    }
    let password_hash = tokio::task::spawn_blocking(move || password.hash())
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))?
        .map_err(ApiError::Unexpected)?;

    let next_id = || {
        state
            .log
            .next_id()
            .map_err(|e| ApiError::Unexpected(e.to_string()))
    };
    let account_id = next_id()?;
    let key = ApiKey::generate();
    let command = AccountCommand::Register {
        account_id,
        email: email.as_str().to_owned(),
        password_hash,
        account_type,
        company_name,
        first_key: NewApiKey {
            key_id: next_id()?,
            sha256: key.sha256(),
            preview: key.preview(),
            label: Some("Default".into()),
        },
    };
    let (account, seq) = state
        .accounts
        .register(command, Actor::Account { account_id })
        .await?;
    state.caught_up(seq).await?;
    tracing::info!(account_id, "account registered");
    Ok(warp::reply::with_status(
        warp::reply::json(&json!({
            "message": "Account created",
            "email": account.email,
            "apiKey": key.expose(),
            "accountType": account.account_type.as_str(),
        })),
        StatusCode::CREATED,
    )
    .into_response())
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
