//! API keys (onepizza §2): list, create, revoke — with a login session only, so a leaked key
//! cannot mint more keys. Keys are shown in full once, when created; listings show a preview.

use convene_actors::account::NewApiKey;
use convene_actors::AccountCommand;
use serde::Deserialize;
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{caller, require_session, Caller};
use super::body::{limited, parse_json};
use super::error::{respond, ApiError};
use super::{with_state, AppState};
use crate::domain::{format_iso_seconds, ApiKey};

const LABEL_CHARS: usize = 100;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let body_limit = state.config.limits.body_bytes;
    let list = warp::path!("api" / "user" / "keys")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(caller())
        .map(|state, caller| respond(list_keys(state, caller)));
    let create = warp::path!("api" / "user" / "keys")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(caller())
        .and(limited(body_limit))
        .then(|state, caller, body: bytes::Bytes| async move {
            respond(create_key(state, caller, &body).await)
        });
    let revoke =
        warp::path!("api" / "user" / "keys" / String)
            .and(warp::delete())
            .and(with_state(state))
            .and(caller())
            .then(|id: String, state, caller| async move {
                respond(revoke_key(state, caller, &id).await)
            });
    list.or(create).unify().or(revoke).unify().boxed()
}

fn list_keys(state: AppState, caller: Caller) -> Result<Response, ApiError> {
    let principal = require_session(&caller, &state)?;
    let keys: Vec<_> = state
        .projections
        .accounts()
        .keys_of(principal.account_id())?
        .into_iter()
        .map(|key| {
            json!({
                "id": key.key_id,
                "key": key.preview,
                "label": key.label,
                "is_active": true,
                "created_at": format_iso_seconds(key.created_at),
            })
        })
        .collect();
    Ok(warp::reply::json(&json!({ "keys": keys })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyRequest {
    label: Option<String>,
}

async fn create_key(state: AppState, caller: Caller, body: &[u8]) -> Result<Response, ApiError> {
    let principal = require_session(&caller, &state)?;
    let request: CreateKeyRequest = parse_json(body)?;
    let label = request
        .label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    if let Some(label) = &label {
        if label.chars().count() > LABEL_CHARS {
            return Err(ApiError::BadRequest(format!(
                "label must be at most {LABEL_CHARS} characters"
            )));
        }
        if label.chars().any(char::is_control) {
            return Err(ApiError::BadRequest(
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
    Ok(warp::reply::with_status(
        warp::reply::json(&json!({
            "id": key_id,
            "key": key.expose(),
            "label": label,
            "is_active": true,
            "created_at": format_iso_seconds(state.clock.now_ms()),
        })),
        StatusCode::CREATED,
    )
    .into_response())
}

async fn revoke_key(state: AppState, caller: Caller, raw_id: &str) -> Result<Response, ApiError> {
    let principal = require_session(&caller, &state)?;
    // Ids are per server, not per account: another account's key id is simply not one of
    // this account's keys, and answers the same 404 as a key that never existed.
    let key_id: u64 = raw_id
        .parse()
        .map_err(|_| ApiError::NotFound("api key not found"))?;
    let (_, seq) = state
        .accounts
        .execute(
            principal.account_id(),
            AccountCommand::RevokeKey { key_id },
            principal.actor(),
        )
        .await?;
    state.caught_up(seq).await?;
    Ok(warp::reply::json(&json!({ "message": "API key deleted", "id": key_id })).into_response())
}
