//! Accounts (onepizza §1, §14): `POST /api/auth/register` (personal or company), and the
//! administrator seed.

use convene_actors::account::{NewApiKey, NewCompany};
use convene_actors::Registration;
use convene_events::catalog::account::AccountType;
use convene_events::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::body::parse_json;
use super::error::ErrorBody;
use super::reply;
use super::router::Router;
use crate::app::rate_limits::Group;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{ApiKey, Email, InviteCode, Password};
use crate::http::error::NATIVE;

const COMPANY_NAME_CHARS: usize = 100;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_register>(NATIVE)
        .group(Group::Auth)
        .serve(|r| async move { register(r.state, &r.body?).await });
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RegisterRequest {
    #[schema(value_type = String, required = true, format = Email)]
    email: Option<String>,
    /// `limits.password_min_chars` to `limits.password_max_chars` characters.
    #[schema(value_type = String, required = true)]
    password: Option<String>,
    /// "personal" (the default) or "company".
    #[schema(value_type = Option<AccountTypeName>)]
    account_type: Option<String>,
    /// Required (not blank) for a company account, ignored for a personal one; at most 100
    /// characters, no control characters.
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    company_name: Option<String>,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum AccountTypeName {
    Personal,
    Company,
}

impl From<AccountType> for AccountTypeName {
    fn from(account_type: AccountType) -> Self {
        match account_type {
            AccountType::Personal => AccountTypeName::Personal,
            AccountType::Company => AccountTypeName::Company,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    message: &'static str,
    email: String,
    /// The account's first API key, labelled "Default"; shown only here.
    api_key: String,
    account_type: AccountTypeName,
    /// For a company account: the code members join with (shown only here).
    #[serde(skip_serializing_if = "Option::is_none")]
    invite_code: Option<String>,
}

/// Creates an account and its first API key (onepizza §1, §14).
#[utoipa::path(
    post, path = "/api/auth/register", tag = "accounts",
    request_body = RegisterRequest,
    security(()),
    responses(
        (status = 201, description = "created", body = Registered),
        (status = 409, description = "the email is already in use", body = ErrorBody),
    )
)]
pub(super) async fn register(state: AppState, body: &[u8]) -> Result<Response, AppError> {
    let request: RegisterRequest = parse_json(body)?;
    let limits = &state.config.limits;
    let email =
        Email::parse(request.email.as_deref().unwrap_or_default()).map_err(AppError::BadRequest)?;
    let password = Password::parse(
        request.password.as_deref().unwrap_or_default(),
        limits.password_min_chars,
        limits.password_max_chars,
    )
    .map_err(AppError::BadRequest)?;
    let account_type = match request.account_type.as_deref() {
        None | Some("personal") => AccountType::Personal,
        Some("company") => AccountType::Company,
        Some(_) => {
            return Err(AppError::BadRequest(
                "accountType must be \"personal\" or \"company\"".into(),
            ))
        }
    };
    let company_name = company_name(account_type, request.company_name.as_deref())?;
    let registered = register_account(&state, email, password, company_name, false).await?;
    Ok(reply::created(&Registered {
        message: "Account created",
        email: registered.email,
        api_key: registered.api_key.expose().to_owned(),
        account_type: account_type.into(),
        invite_code: registered.invite_code,
    }))
}

/// A new account as its owner sees it, once.
pub struct NewAccount {
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
) -> Result<NewAccount, AppError> {
    // Cheap early answer; the email claim in the log is what actually guarantees uniqueness.
    if state
        .projections
        .accounts()
        .by_email(email.as_str())?
        .is_some()
    {
        return Err(AppError::Conflict("email already in use".into()));
    }
    let password_hash = state.hashing.hash(password).await?;
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
        signup_credit_micros: state.config.billing.signup_credit_micros,
        plan: Some(state.config.plans.default.clone()),
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
    Ok(NewAccount {
        account_id,
        email: account.email,
        api_key: key,
        invite_code,
    })
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
        Err(AppError::Conflict(_)) => Ok(()),
        Err(err) => Err(format!("cannot seed the administrator: {err:?}")),
    }
}

fn company_name(account_type: AccountType, raw: Option<&str>) -> Result<Option<String>, AppError> {
    let name = raw.map(str::trim).filter(|n| !n.is_empty());
    match (account_type, name) {
        (AccountType::Company, None) => Err(AppError::BadRequest(
            "companyName is required when accountType is \"company\"".into(),
        )),
        (_, Some(name)) if name.chars().count() > COMPANY_NAME_CHARS => Err(AppError::BadRequest(
            format!("companyName must be at most {COMPANY_NAME_CHARS} characters"),
        )),
        (_, Some(name)) if name.chars().any(char::is_control) => Err(AppError::BadRequest(
            "companyName must not contain control characters".into(),
        )),
        (AccountType::Company, Some(name)) => Ok(Some(name.to_owned())),
        (AccountType::Personal, _) => Ok(None),
    }
}
