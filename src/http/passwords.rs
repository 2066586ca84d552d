//! Password reset (onepizza §1): forgot-password mails a single-use link valid for
//! `auth.reset_token_ttl_minutes`; GET reset-password checks a token, POST redeems it.
//!
//! forgot-password answers the same 200 whether or not the email has an account, and does the
//! work after answering, so neither the body nor the timing tells an attacker which addresses
//! are registered.

use convene_actors::AccountCommand;
use convene_events::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::body::parse_json;
use super::error::ErrorBody;
use super::reply::{self, Message};
use super::router::Router;
use crate::app::rate_limits::Group;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{Email, Password, SecretToken};
use crate::http::error::NATIVE;
use convene_actors::{sha256_hex, AccountError};

pub fn routes(router: &mut Router) {
    router
        .add::<__path_forgot>(NATIVE)
        .group(Group::Password)
        .serve(|r| async move { forgot(r.state, &r.body?) });
    router
        .add::<__path_check_token>(NATIVE)
        .group(Group::Password)
        .serve(|r| async move { check_token(r.state, &r.query) });
    router
        .add::<__path_reset>(NATIVE)
        .group(Group::Password)
        .serve(|r| async move { reset(r.state, &r.body?).await });
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ForgotRequest {
    #[schema(value_type = String, required = true, format = Email)]
    email: Option<String>,
}

/// Mails a single-use reset link (valid `auth.reset_token_ttl_minutes`) if the account exists;
/// the answer is the same either way, so emails cannot be enumerated.
#[utoipa::path(
    post, path = "/api/auth/forgot-password", tag = "accounts",
    request_body = ForgotRequest,
    security(()),
    responses((status = 200, description = "always, for a well-formed email", body = Message))
)]
pub(super) fn forgot(state: AppState, body: &[u8]) -> Result<Response, AppError> {
    let request: ForgotRequest = parse_json(body)?;
    let email =
        Email::parse(request.email.as_deref().unwrap_or_default()).map_err(AppError::BadRequest)?;
    tokio::spawn(async move {
        if let Err(err) = send_reset_link(&state, &email).await {
            tracing::error!(error = ?err, "password reset request failed");
        }
    });
    Ok(reply::message(
        "If an account exists for this email, a reset link has been sent",
    ))
}

async fn send_reset_link(state: &AppState, email: &Email) -> Result<(), AppError> {
    let Some(account) = state.projections.accounts().by_email(email.as_str())? else {
        return Ok(());
    };
    let token = SecretToken::generate();
    let ttl_minutes = state.config.auth.reset_token_ttl_minutes;
    let command = AccountCommand::RequestPasswordReset {
        token_sha256: token.sha256(),
        expires_at: state.clock.now_ms() + ttl_minutes as i64 * 60_000,
    };
    let account_id = account.account_id;
    let (_, seq) = state
        .accounts
        .execute(account_id, command, Actor::Account { account_id })
        .await?;
    state.caught_up(seq).await?;
    let link = format!(
        "{}/reset-password?token={}",
        state.config.server.app_url.trim_end_matches('/'),
        token.expose()
    );
    state
        .mailer
        .send(
            &account.email,
            "Reset your Convene password",
            format!(
                "Someone asked to reset the password of your Convene account.\n\n\
                 Set a new password here (the link works once, for {ttl_minutes} minutes):\n\
                 {link}\n\nIf this was not you, ignore this message.\n"
            ),
        )
        .await
        .map_err(AppError::Unexpected)
}

/// GET reset-password?token=…: whether the token can still be redeemed.
#[derive(Serialize, ToSchema)]
pub struct TokenValid {
    valid: bool,
}

/// Whether a reset token can still be used (the reset page asks before showing its form).
#[utoipa::path(
    get, path = "/api/auth/reset-password", tag = "accounts",
    params(("token" = String, Query, description = "the token from the reset link")),
    security(()),
    responses(
        (status = 200, description = "the token is valid", body = TokenValid),
        (status = 400, description = "missing, used, unknown or expired token", body = ErrorBody),
    )
)]
pub(super) fn check_token(state: AppState, query: &str) -> Result<Response, AppError> {
    let token = token_from_query(query)
        .ok_or_else(|| AppError::BadRequest("token query parameter is required".into()))?;
    let hash = sha256_hex(&token);
    let valid = match state.projections.accounts().reset_token_owner(&hash)? {
        Some(account_id) => state
            .accounts
            .load(account_id)?
            .and_then(|account| account.pending_resets.get(&hash).copied())
            .is_some_and(|expires_at| expires_at > state.clock.now_ms()),
        None => false,
    };
    if !valid {
        return Err(AppError::BadRequest(
            "reset token is invalid or has expired".into(),
        ));
    }
    Ok(reply::ok(&TokenValid { valid: true }))
}

fn token_from_query(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ResetRequest {
    #[schema(value_type = String, required = true)]
    token: Option<String>,
    /// The new password.
    #[schema(value_type = String, required = true)]
    password: Option<String>,
}

/// Sets a new password with a reset token (once) and signs out every session.
#[utoipa::path(
    post, path = "/api/auth/reset-password", tag = "accounts",
    request_body = ResetRequest,
    security(()),
    responses(
        (status = 200, description = "the password is reset", body = Message),
        (status = 400, description = "bad password, or a used, unknown or expired token", body = ErrorBody),
    )
)]
pub(super) async fn reset(state: AppState, body: &[u8]) -> Result<Response, AppError> {
    let request: ResetRequest = parse_json(body)?;
    let token = request
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::BadRequest("token is required".into()))?;
    let limits = &state.config.limits;
    let password = Password::parse(
        request.password.as_deref().unwrap_or_default(),
        limits.password_min_chars,
        limits.password_max_chars,
    )
    .map_err(AppError::BadRequest)?;
    let invalid = || AppError::BadRequest("reset token is invalid or has expired".into());
    let token_sha256 = sha256_hex(&token);
    let account_id = state
        .projections
        .accounts()
        .reset_token_owner(&token_sha256)?
        .ok_or_else(invalid)?;
    let password_hash = state.hashing.hash(password).await?;
    let command = AccountCommand::ResetPassword {
        token_sha256,
        password_hash,
        now: state.clock.now_ms(),
    };
    let (account, seq) = match state
        .accounts
        .execute(account_id, command, Actor::Account { account_id })
        .await
    {
        Ok(outcome) => outcome,
        Err(AccountError::InvalidResetToken) => return Err(invalid()),
        Err(err) => return Err(err.into()),
    };
    state.caught_up(seq).await?;
    tracing::info!(account_id, "password reset");
    state.mailer.send_later(
        &account.email,
        "Your Convene password was changed",
        "Your Convene password was just reset, and every session was signed out.\n".into(),
    );
    Ok(reply::message("Password has been reset"))
}
