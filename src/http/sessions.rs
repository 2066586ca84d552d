//! Login sessions and the signed-in account (onepizza §1): login, logout, me, change-password.
//!
//! A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure when app_url is
//! https); the log keeps only its HMAC under the session secret, with its expiry.

use convene_actors::AccountCommand;
use convene_events::catalog::session::{SessionEnded, SessionStarted};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;
use warp::Reply;

use super::accounts::AccountTypeName;
use super::auth::{require_session, session_hash, Caller, SESSION_COOKIE};
use super::body::parse_json;
use super::error::ErrorBody;
use super::reply::{self, Message};
use super::router::Router;
use crate::app::principal::{ensure_active, Credential};
use crate::app::rate_limits::Group;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{format_iso_seconds, Email, Password, SecretToken, DECOY_HASH};
use crate::http::error::NATIVE;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_login>(NATIVE)
        .group(Group::Auth)
        .serve(|r| async move { login(r.state, &r.body?).await });
    router
        .add::<__path_logout>(NATIVE)
        .serve(|r| async move { logout(r.state, r.caller).await });
    router
        .add::<__path_me>(NATIVE)
        .serve(|r| async move { me(r.state, r.caller) });
    router
        .add::<__path_change_password>(NATIVE)
        .serve(|r| async move { change_password(r.state, r.caller, &r.body?).await });
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginRequest {
    #[schema(value_type = String, required = true)]
    email: Option<String>,
    #[schema(value_type = String, required = true)]
    password: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedIn {
    message: &'static str,
    email: String,
    account_type: AccountTypeName,
}

/// Starts a session: the `convene_session` cookie (HttpOnly, SameSite=Lax, Secure on https).
#[utoipa::path(
    post, path = "/api/auth/login", tag = "accounts",
    request_body = LoginRequest,
    security(()),
    responses(
        (status = 200, description = "logged in; the session cookie is set",
         headers(("set-cookie" = String, description = "convene_session=<token>; HttpOnly; SameSite=Lax")),
         body = LoggedIn),
        (status = 401, description = "wrong email or password (the same answer for both)", body = ErrorBody),
        (status = 403, description = "the account (or its company's owner) is deactivated", body = ErrorBody),
    )
)]
pub(super) async fn login(state: AppState, body: &[u8]) -> Result<Response, AppError> {
    let request: LoginRequest = parse_json(body)?;
    let (Some(email), Some(password)) = (request.email, request.password) else {
        return Err(AppError::BadRequest(
            "email and password are required".into(),
        ));
    };
    let invalid = || AppError::Unauthorized("invalid email or password");
    let account = match Email::parse(&email) {
        Ok(email) => state.projections.accounts().by_email(email.as_str())?,
        Err(_) => None,
    };
    // Unknown emails are checked against a decoy hash so both answers take the same time.
    let hash = account
        .as_ref()
        .map_or(DECOY_HASH.to_owned(), |a| a.password_hash.clone());
    let matches = state.hashing.verify(password, hash).await?;
    let account = account.filter(|_| matches).ok_or_else(invalid)?;
    // Said only to whoever knows the password: a deactivated account gets no session.
    match ensure_active(&state, &account) {
        Ok(()) => {}
        Err(AppError::AccountInactive) => return Err(AppError::Forbidden("account deactivated")),
        Err(other) => return Err(other),
    }

    let token = SecretToken::generate();
    let ttl_ms = state.config.auth.session_ttl_hours as i64 * 3_600_000;
    let started = SessionStarted {
        session_id: state.next_id()?,
        account_id: account.account_id,
        token_hash: session_hash(&state, token.expose()),
        expires_at: state.clock.now_ms() + ttl_ms,
    };
    let seq = state
        .sessions
        .start(started)
        .await
        .map_err(session_failure)?;
    state.caught_up(seq).await?;
    tracing::info!(account_id = account.account_id, "logged in");
    let body = warp::reply::json(&LoggedIn {
        message: "Logged in",
        email: account.email,
        account_type: account.account_type.into(),
    });
    let cookie = session_cookie(&state, token.expose(), ttl_ms / 1000);
    Ok(warp::reply::with_header(body, "set-cookie", cookie).into_response())
}

/// Ends the caller's session (if any) and clears the cookie; always 200.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "accounts",
    security((), ("session" = [])),
    responses((status = 200, description = "logged out; the cookie is cleared", body = Message))
)]
pub(super) async fn logout(state: AppState, caller: Caller) -> Result<Response, AppError> {
    // Logging out of an expired or unknown session still clears the cookie.
    if let Ok(principal) = require_session(&caller, &state) {
        if let (Credential::Session { session_id }, Some(token)) =
            (principal.credential, caller.session_token())
        {
            let ended = SessionEnded {
                session_id,
                account_id: principal.account_id(),
                token_hash: session_hash(&state, token),
            };
            match state.sessions.end(ended).await {
                Ok(seq) => state.caught_up(seq).await?,
                Err(convene_actors::LoginSessionError::AlreadyEnded) => {}
                Err(err) => return Err(session_failure(err)),
            }
        }
    }
    let body = warp::reply::json(&Message {
        message: "Logged out".into(),
    });
    let cookie = session_cookie(&state, "", 0);
    Ok(warp::reply::with_header(body, "set-cookie", cookie).into_response())
}

/// The signed-in account (onepizza §1 `GET /api/auth/me`, field names as the seed has them).
#[derive(Serialize, ToSchema)]
pub struct Me {
    id: u64,
    email: String,
    #[serde(rename = "accountType")]
    account_type: AccountTypeName,
    /// The workspace's balance (its company's, for a member), US dollars with four decimals.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{4}$")]
    balance: String,
    company_id: Option<u64>,
    is_admin: bool,
    #[schema(format = DateTime)]
    created_at: String,
}

/// The account behind the session cookie.
#[utoipa::path(
    get, path = "/api/auth/me", tag = "accounts",
    security(("session" = [])),
    responses((status = 200, description = "the account", body = Me))
)]
pub(super) fn me(state: AppState, caller: Caller) -> Result<Response, AppError> {
    let principal = require_session(&caller, &state)?;
    let account = &principal.account;
    Ok(reply::ok(&Me {
        id: account.account_id,
        email: account.email.clone(),
        account_type: account.account_type.into(),
        balance: crate::domain::Micros(state.projections.ledger().balance(principal.workspace())?)
            .render(),
        company_id: account.company.map(|(id, _)| id),
        is_admin: account.is_admin,
        created_at: format_iso_seconds(account.created_at),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ChangePasswordRequest {
    #[schema(value_type = String, required = true)]
    current_password: Option<String>,
    #[schema(value_type = String, required = true)]
    new_password: Option<String>,
}

/// Changes the password (the current one is required) and mails the account about it.
#[utoipa::path(
    post, path = "/api/auth/change-password", tag = "accounts",
    request_body = ChangePasswordRequest,
    security(("session" = [])),
    responses(
        (status = 200, description = "changed", body = Message),
        (status = 403, description = "the current password is wrong", body = ErrorBody),
    )
)]
pub(super) async fn change_password(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = require_session(&caller, &state)?;
    let request: ChangePasswordRequest = parse_json(body)?;
    let current = request
        .current_password
        .ok_or_else(|| AppError::BadRequest("currentPassword is required".into()))?;
    let limits = &state.config.limits;
    let new_password = Password::parse(
        request.new_password.as_deref().unwrap_or_default(),
        limits.password_min_chars,
        limits.password_max_chars,
    )
    .map_err(|e| AppError::BadRequest(format!("newPassword: {e}")))?;
    let hash = principal.account.password_hash.clone();
    let matches = state.hashing.verify(current, hash).await?;
    if !matches {
        return Err(AppError::Forbidden("current password is incorrect"));
    }
    let password_hash = state.hashing.hash(new_password).await?;
    let (_, seq) = state
        .accounts
        .execute(
            principal.account_id(),
            AccountCommand::ChangePassword { password_hash },
            principal.actor(),
        )
        .await?;
    state.caught_up(seq).await?;
    state.mailer.send_later(
        &principal.account.email,
        "Your Convene password was changed",
        format!(
            "The password of your Convene account {} was just changed.\n\n\
             If this was not you, reset your password at once: {}/ (\"Forgot password?\").\n",
            principal.account.email,
            state.config.server.app_url.trim_end_matches('/'),
        ),
    );
    Ok(reply::message("Password changed"))
}

fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> String {
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    )
}

pub fn session_failure(err: convene_actors::LoginSessionError) -> AppError {
    match err {
        convene_actors::LoginSessionError::Unavailable => {
            AppError::Unavailable("server is shutting down".into())
        }
        other => AppError::Unexpected(other.to_string()),
    }
}
