//! API keys (onepizza §2): list, create, revoke — with a login session only, so a leaked key
//! cannot mint more keys. Keys are shown in full once, when created; listings show a preview.

use convene_actors::account::NewApiKey;
use convene_actors::AccountCommand;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::auth::{require_session, Caller};
use super::body::parse_json;
use super::error::ErrorBody;
use super::reply;
use super::router::Router;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{format_iso_seconds, ApiKey};
use crate::http::error::NATIVE;

const LABEL_CHARS: usize = 100;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_list_keys>(NATIVE)
        .serve(|r| async move { list_keys(r.state, r.caller) });
    router
        .add::<__path_create_key>(NATIVE)
        .serve(|r| async move { create_key(r.state, r.caller, &r.body?).await });
    router
        .add::<__path_revoke_key>(NATIVE)
        .serve(|r| async move { revoke_key(r.state, r.caller, &r.params[0]).await });
}

/// An API key as its account sees it: the full key only at creation, a preview afterwards.
#[derive(Serialize, ToSchema)]
pub struct KeyView {
    id: u64,
    /// The whole key when just created; afterwards a preview such as `cv_live_ab12…`.
    key: String,
    label: Option<String>,
    is_active: bool,
    #[schema(format = DateTime)]
    created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    keys: Vec<KeyView>,
}

/// The account's active keys (session only: a key cannot list keys).
#[utoipa::path(
    get, path = "/api/user/keys", tag = "keys",
    security(("session" = [])),
    responses((status = 200, description = "active keys", body = KeyList))
)]
pub(super) fn list_keys(state: AppState, caller: Caller) -> Result<Response, AppError> {
    let principal = require_session(&caller, &state)?;
    let keys = state
        .projections
        .accounts()
        .keys_of(principal.account_id())?
        .into_iter()
        .map(|key| KeyView {
            id: key.key_id,
            key: key.preview,
            label: key.label,
            is_active: true,
            created_at: format_iso_seconds(key.created_at),
        })
        .collect();
    Ok(reply::ok(&KeyList { keys }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateKeyRequest {
    /// At most 100 characters.
    #[schema(max_length = 100)]
    label: Option<String>,
}

/// Issues another key (session only, so a leaked key cannot mint more).
#[utoipa::path(
    post, path = "/api/user/keys", tag = "keys",
    request_body = Option<CreateKeyRequest>,
    security(("session" = [])),
    responses((status = 201, description = "the new key, shown in full only here", body = KeyView))
)]
pub(super) async fn create_key(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = require_session(&caller, &state)?;
    let request: CreateKeyRequest = parse_json(body)?;
    let label = request
        .label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    if let Some(label) = &label {
        if label.chars().count() > LABEL_CHARS {
            return Err(AppError::BadRequest(format!(
                "label must be at most {LABEL_CHARS} characters"
            )));
        }
        if label.chars().any(char::is_control) {
            return Err(AppError::BadRequest(
                "label must not contain control characters".into(),
            ));
        }
    }
    let key = ApiKey::generate();
    let key_id = state.next_id()?;
    let command = AccountCommand::IssueKey(NewApiKey {
        key_id,
        sha256: key.sha256(),
        preview: key.preview(),
        label: label.clone(),
    });
    let (_, seq) = state
        .accounts
        .execute(principal.account_id(), command, principal.actor())
        .await?;
    state.caught_up(seq).await?;
    Ok(reply::created(&KeyView {
        id: key_id,
        key: key.expose().to_owned(),
        label,
        is_active: true,
        created_at: format_iso_seconds(state.clock.now_ms()),
    }))
}

/// The answer of a removal.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    message: &'static str,
    id: u64,
}

impl Deleted {
    pub fn new(message: &'static str, id: u64) -> Self {
        Self { message, id }
    }
}

/// Revokes a key: its very next use answers 401.
#[utoipa::path(
    delete, path = "/api/user/keys/{keyId}", tag = "keys",
    params(("keyId" = String, Path)),
    security(("session" = [])),
    responses(
        (status = 200, description = "revoked", body = Deleted),
        (status = 404, description = "no such key of this account", body = ErrorBody),
    )
)]
pub(super) async fn revoke_key(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let principal = require_session(&caller, &state)?;
    // Ids are per server, not per account: another account's key id is simply not one of
    // this account's keys, and answers the same 404 as a key that never existed.
    let key_id: u64 = raw_id
        .parse()
        .map_err(|_| AppError::NotFound("api key not found"))?;
    let (_, seq) = state
        .accounts
        .execute(
            principal.account_id(),
            AccountCommand::RevokeKey { key_id },
            principal.actor(),
        )
        .await?;
    state.caught_up(seq).await?;
    Ok(reply::ok(&Deleted::new("API key deleted", key_id)))
}
