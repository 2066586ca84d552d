//! Host controls (onepizza §6, §7): settings, lock, unlock, invite, and participant mute,
//! unmute, kick and mute-all. Every one needs the meeting's `x-admin-token` (and, except for
//! guest meetings, an API key or session of the meeting's workspace); every one is decided by
//! the meeting's actor and logged as an event naming who did it.

use convene_actors::HostAction;
use convene_events::catalog::meeting::SettingsChanged;
use serde::Deserialize;
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{caller, Caller};
use super::body::{limited, parse_json};
use super::error::{respond, ApiError};
use super::meetings::{check_max_participants, execute_host, settings_json};
use super::{with_state, AppState};
use crate::domain::{SecretToken, Title};

const NAME_CHARS: usize = 100;
const REASON_CHARS: usize = 500;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let body_limit = state.config.limits.body_bytes;
    let settings = warp::path!("api" / "meetings" / String / "settings")
        .and(warp::patch())
        .and(with_state(state.clone()))
        .and(caller())
        .and(limited(body_limit))
        .then(|id: String, state, caller, body: bytes::Bytes| async move {
            respond(update_settings(state, caller, &id, &body).await)
        });
    let lock = warp::path!("api" / "meetings" / String / "lock")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(caller())
        .then(|id: String, state, caller| async move {
            respond(set_locked(state, caller, &id, true).await)
        });
    let unlock = warp::path!("api" / "meetings" / String / "unlock")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(caller())
        .then(|id: String, state, caller| async move {
            respond(set_locked(state, caller, &id, false).await)
        });
    let invite = warp::path!("api" / "meetings" / String / "invite")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(caller())
        .and(limited(body_limit))
        .then(|id: String, state, caller, body: bytes::Bytes| async move {
            respond(invite(state, caller, &id, &body).await)
        });
    let participant =
        warp::path!("api" / "meetings" / String / "participants" / String / String)
            .and(warp::post())
            .and(with_state(state.clone()))
            .and(caller())
            .and(limited(body_limit))
            .then(
                |id: String,
                 participant: String,
                 verb: String,
                 state,
                 caller,
                 body: bytes::Bytes| async move {
                    respond(
                        participant_action(state, caller, &id, &participant, &verb, &body).await,
                    )
                },
            );
    let mute_all = warp::path!("api" / "meetings" / String / "mute-all")
        .and(warp::post())
        .and(with_state(state))
        .and(caller())
        .then(
            |id: String, state, caller| async move { respond(mute_all(state, caller, &id).await) },
        );
    settings
        .or(lock)
        .unify()
        .or(unlock)
        .unify()
        .or(invite)
        .unify()
        .or(participant)
        .unify()
        .or(mute_all)
        .unify()
        .boxed()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SettingsRequest {
    title: Option<String>,
    mute_on_join: Option<bool>,
    video_off_on_join: Option<bool>,
    max_participants: Option<u32>,
    locked: Option<bool>,
    waiting_room: Option<bool>,
}

async fn update_settings(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let request: SettingsRequest = parse_json(body)?;
    let title = match request.title.as_deref() {
        Some(raw) => Some(
            Title::parse(Some(raw), "", state.config.limits.title_chars)
                .map_err(ApiError::BadRequest)?
                .into_inner(),
        )
        .filter(|t| !t.is_empty()),
        None => None,
    };
    if request.title.is_some() && title.is_none() {
        return Err(ApiError::BadRequest("title must not be empty".into()));
    }
    if let Some(max) = request.max_participants {
        check_max_participants(&state, max)?;
    }
    let change = SettingsChanged {
        title,
        mute_on_join: request.mute_on_join,
        video_off_on_join: request.video_off_on_join,
        max_participants: request.max_participants,
        locked: request.locked,
        waiting_room: request.waiting_room,
    };
    let outcome = execute_host(&state, &caller, raw_id, HostAction::UpdateSettings(change)).await?;
    let meeting = outcome.meeting;
    Ok(warp::reply::json(&json!({
        "message": "Settings updated",
        "meetingId": meeting.id.as_str(),
        "title": meeting.title,
        "settings": settings_json(&meeting.settings),
    }))
    .into_response())
}

async fn set_locked(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    locked: bool,
) -> Result<Response, ApiError> {
    let change = SettingsChanged {
        locked: Some(locked),
        ..SettingsChanged::default()
    };
    let outcome = execute_host(&state, &caller, raw_id, HostAction::UpdateSettings(change)).await?;
    Ok(warp::reply::json(&json!({
        "message": if locked { "Meeting locked" } else { "Meeting unlocked" },
        "meetingId": outcome.meeting.id.as_str(),
        "locked": outcome.meeting.settings.locked,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteRequest {
    name: Option<String>,
}

async fn invite(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let request: InviteRequest = parse_json(body)?;
    let name = bounded_text("name", request.name, NAME_CHARS)?;
    let token = SecretToken::generate();
    let action = HostAction::Invite {
        token_sha256: token.sha256(),
        name: name.clone(),
    };
    let outcome = execute_host(&state, &caller, raw_id, action).await?;
    let mut join_url = format!("/join/{}?invite={}", outcome.meeting.id, token.expose());
    if let Some(name) = &name {
        join_url.push_str("&name=");
        join_url.extend(form_urlencoded::byte_serialize(name.as_bytes()));
    }
    Ok(warp::reply::json(&json!({
        "joinUrl": join_url,
        "inviteToken": token.expose(),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KickRequest {
    reason: Option<String>,
}

async fn participant_action(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    participant_id: &str,
    verb: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let participant_id = participant_id.to_owned();
    let (action, message) = match verb {
        "mute" => (
            HostAction::Mute {
                participant_id: participant_id.clone(),
            },
            "Participant muted",
        ),
        "unmute" => (
            HostAction::RequestUnmute {
                participant_id: participant_id.clone(),
            },
            "Unmute requested",
        ),
        "kick" => {
            let request: KickRequest = parse_json(body)?;
            let reason = bounded_text("reason", request.reason, REASON_CHARS)?;
            (
                HostAction::Kick {
                    participant_id: participant_id.clone(),
                    reason,
                },
                "Participant removed",
            )
        }
        _ => return Err(ApiError::NotFound("not found")),
    };
    execute_host(&state, &caller, raw_id, action).await?;
    Ok(warp::reply::json(&json!({
        "message": message,
        "participantId": participant_id,
    }))
    .into_response())
}

async fn mute_all(state: AppState, caller: Caller, raw_id: &str) -> Result<Response, ApiError> {
    let outcome = execute_host(&state, &caller, raw_id, HostAction::MuteAll).await?;
    Ok(warp::reply::json(&json!({
        "message": "All participants muted",
        "count": outcome.meeting.participants.len(),
    }))
    .into_response())
}

/// Optional free text: trimmed, empty as absent, bounded, no control characters.
fn bounded_text(
    field: &str,
    raw: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    let Some(text) = raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(ApiError::BadRequest(format!(
            "{field} must be at most {max_chars} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(Some(text))
}
