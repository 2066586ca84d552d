//! Meetings (onepizza §3, §4, §5): create, create as a guest, list, get, end or cancel, list
//! scheduled.
//!
//! Writes go to the meeting's actor (where they are decided and logged); reads come from the
//! meeting directory. Another workspace's meeting answers 404 exactly like a missing one.

use convene_actors::{CreateMeeting, HostAction, Meeting, MeetingCommand, MeetingError};
use convene_events::catalog::meeting::{Dialect, EndReason, MeetingSettings};
use convene_events::{Actor, MeetingId, Workspace};
use convene_projections::{MeetingRow, RowStatus};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{authenticate, authenticate_optional, caller, Caller};
use super::body::{limited, parse_json};
use super::error::{respond, ApiError};
use super::{with_state, AppState};
use crate::domain::{format_iso_millis, parse_iso8601, AdminToken, Title};

const DEFAULT_TITLE: &str = "Untitled Meeting";

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let body_limit = state.config.limits.body_bytes;
    let create = warp::path!("api" / "meetings")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(caller())
        .and(limited(body_limit))
        .then(|state, caller, body: bytes::Bytes| async move {
            respond(create_meeting(state, caller, &body).await)
        });
    let guest = warp::path!("api" / "meetings" / "guest")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(limited(body_limit))
        .then(|state, body: bytes::Bytes| async move {
            respond(create_guest_meeting(state, &body).await)
        });
    let list = warp::path!("api" / "meetings")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(caller())
        .map(|state, caller| respond(list_meetings(state, caller, false)));
    let scheduled = warp::path!("api" / "meetings" / "scheduled" / "list")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(caller())
        .map(|state, caller| respond(list_meetings(state, caller, true)));
    let get = warp::path!("api" / "meetings" / String)
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(caller())
        .map(|id: String, state, caller| respond(get_meeting(state, caller, &id)));
    let end =
        warp::path!("api" / "meetings" / String)
            .and(warp::delete())
            .and(with_state(state))
            .and(caller())
            .then(|id: String, state, caller| async move {
                respond(end_meeting(state, caller, &id).await)
            });
    create
        .or(guest)
        .unify()
        .or(list)
        .unify()
        .or(scheduled)
        .unify()
        .or(get)
        .unify()
        .or(end)
        .unify()
        .boxed()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateRequest {
    title: Option<String>,
    scheduled_at: Option<String>,
    mute_on_join: Option<bool>,
    video_off_on_join: Option<bool>,
    max_participants: Option<u32>,
}

async fn create_meeting(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, ApiError> {
    let principal = authenticate(&caller, &state)?;
    let request: CreateRequest = parse_json(body)?;
    let limits = &state.config.limits;
    let title = Title::parse(request.title.as_deref(), DEFAULT_TITLE, limits.title_chars)
        .map_err(ApiError::BadRequest)?;
    let scheduled_at = request
        .scheduled_at
        .as_deref()
        .map(|raw| parse_iso8601(raw).map_err(|e| ApiError::BadRequest(format!("scheduledAt {e}"))))
        .transpose()?;
    let max_participants = request
        .max_participants
        .unwrap_or(limits.default_max_participants);
    check_max_participants(&state, max_participants)?;
    let settings = MeetingSettings {
        mute_on_join: request.mute_on_join.unwrap_or(false),
        video_off_on_join: request.video_off_on_join.unwrap_or(false),
        ..MeetingSettings::with_cap(max_participants)
    };
    let (meeting, admin_token) = create(
        &state,
        principal.workspace(),
        title.into_inner(),
        scheduled_at,
        settings,
        principal.actor(),
    )
    .await?;
    tracing::info!(meeting_id = %meeting.id, account_id = principal.account_id(), "meeting created");
    let mut body = created_body(&meeting);
    body.insert("adminToken".into(), admin_token.expose().into());
    Ok(warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED).into_response())
}

pub fn check_max_participants(state: &AppState, max_participants: u32) -> Result<(), ApiError> {
    let cap = state.config.limits.max_participants;
    if (1..=cap).contains(&max_participants) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "maxParticipants must be between 1 and {cap}"
        )))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuestRequest {
    title: Option<String>,
}

/// onepizza §4, except that guest meetings are logged like any other (they survive restarts
/// and appear in audits); they belong to no workspace, are never billed, and end by themselves
/// after `guest.expire_after_minutes` without participants.
async fn create_guest_meeting(state: AppState, body: &[u8]) -> Result<Response, ApiError> {
    let request: GuestRequest = parse_json(body)?;
    let config = &state.config;
    let title = Title::parse(
        request.title.as_deref(),
        &config.guest.default_title,
        config.limits.title_chars,
    )
    .map_err(ApiError::BadRequest)?;
    let settings = MeetingSettings::with_cap(config.limits.default_max_participants);
    let (meeting, admin_token) = create(
        &state,
        Workspace::Guest,
        title.into_inner(),
        None,
        settings,
        Actor::System,
    )
    .await?;
    tracing::info!(meeting_id = %meeting.id, "guest meeting created");
    Ok(warp::reply::with_status(
        warp::reply::json(&json!({
            "meetingId": meeting.id.as_str(),
            "adminToken": admin_token.expose(),
            "joinUrl": format!("/join/{}", meeting.id),
            "title": meeting.title,
        })),
        StatusCode::CREATED,
    )
    .into_response())
}

/// Creates a meeting through its actor and waits until the read models show it.
async fn create(
    state: &AppState,
    workspace: Workspace,
    title: String,
    scheduled_at: Option<i64>,
    settings: MeetingSettings,
    actor: Actor,
) -> Result<(Meeting, AdminToken), ApiError> {
    let admin_token = AdminToken::generate();
    // Ids are random; a collision with an existing meeting is astronomically rare but possible,
    // and the actor refuses it, so draw again.
    for _ in 0..3 {
        let meeting_id = MeetingId::generate();
        let command = MeetingCommand::Create(CreateMeeting {
            meeting_id: meeting_id.clone(),
            workspace,
            title: title.clone(),
            scheduled_at,
            settings: settings.clone(),
            admin_token_sha256: admin_token.sha256(),
            via: Dialect::Native,
        });
        match state
            .registry
            .execute(&meeting_id, command, actor.clone())
            .await
        {
            Ok(outcome) => {
                state.caught_up(outcome.last_seq).await?;
                return Ok((outcome.meeting, admin_token));
            }
            Err(MeetingError::AlreadyExists) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::Unexpected(
        "three meeting id collisions in a row".into(),
    ))
}

fn list_meetings(
    state: AppState,
    caller: Caller,
    scheduled_only: bool,
) -> Result<Response, ApiError> {
    let principal = authenticate(&caller, &state)?;
    let meetings: Vec<Value> = state
        .projections
        .meetings()
        .live(principal.workspace())?
        .iter()
        .filter(|row| !scheduled_only || row.status == RowStatus::Scheduled)
        .map(|row| Value::Object(summary(row)))
        .collect();
    Ok(warp::reply::json(&json!({ "meetings": meetings })).into_response())
}

fn get_meeting(state: AppState, caller: Caller, raw_id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(&caller, &state)?;
    let row = visible_row(&state, principal.workspace(), raw_id)?;
    let mut body = summary(&row);
    let participants: Vec<Value> = row
        .participants
        .iter()
        .map(|p| {
            json!({
                "participantId": p.participant_id,
                "name": p.name,
                "isMuted": p.muted,
                "isVideoOff": p.video_off,
                // Screen sharing is reported by clients over the realtime channel, which
                // does not log it; the REST view shows what the log knows.
                "isScreenSharing": false,
                "joinedAt": p.joined_at,
            })
        })
        .collect();
    body.insert("participants".into(), participants.into());
    body.insert("settings".into(), settings_json(&row.settings));
    Ok(warp::reply::json(&body).into_response())
}

async fn end_meeting(state: AppState, caller: Caller, raw_id: &str) -> Result<Response, ApiError> {
    let outcome = execute_host(&state, &caller, raw_id, HostAction::End).await?;
    let meeting_id = &outcome.meeting.id;
    let (message, reason) = match outcome.meeting.end_reason {
        Some(EndReason::Cancelled) => ("Meeting cancelled", EndReason::Cancelled),
        _ => ("Meeting ended", EndReason::EndedByHost),
    };
    tracing::info!(meeting_id = %meeting_id, reason = reason.as_str(), "meeting ended");
    Ok(warp::reply::json(&json!({
        "message": message,
        "meetingId": meeting_id.as_str(),
        "status": "ended",
        "reason": reason.as_str(),
    }))
    .into_response())
}

/// Runs a host action (needs `x-admin-token`) on the meeting `raw_id`, as the caller.
///
/// The caller must be of the meeting's workspace (API key or session). A guest meeting, which
/// has no workspace, is controlled by its admin token alone — also when the browser happens to
/// send a session cookie, as it does for a signed-in user who started a guest meeting.
pub async fn execute_host(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    action: HostAction,
) -> Result<convene_actors::CommandOutcome, ApiError> {
    let principal = authenticate_optional(caller, state)?;
    let guest_row = visible_row(state, Workspace::Guest, raw_id).ok();
    let (row, actor) = match (guest_row, &principal) {
        (Some(row), Some(principal)) => (row, principal.actor()),
        (Some(row), None) => {
            let actor = Actor::MeetingHost {
                meeting_id: row.meeting_id.clone(),
            };
            (row, actor)
        }
        (None, Some(principal)) => (
            visible_row(state, principal.workspace(), raw_id)?,
            principal.actor(),
        ),
        // Not a guest meeting and no credentials: the same 401 whether or not it exists.
        (None, None) => {
            return Err(ApiError::Unauthorized(
                "missing x-api-key header or session cookie",
            ))
        }
    };
    let admin_token = caller
        .header("x-admin-token")
        .ok_or(ApiError::Forbidden("missing x-admin-token header"))?
        .to_owned();
    let meeting_id =
        MeetingId::parse(&row.meeting_id).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let command = MeetingCommand::host(row.workspace, admin_token, action);
    let outcome = state.registry.execute(&meeting_id, command, actor).await?;
    state.caught_up(outcome.last_seq).await?;
    Ok(outcome)
}

/// The meeting if `workspace` may see it, or 404 — for malformed ids, unknown ids and other
/// tenants' meetings alike.
fn visible_row(
    state: &AppState,
    workspace: Workspace,
    raw_id: &str,
) -> Result<MeetingRow, ApiError> {
    let not_found = ApiError::NotFound("meeting not found");
    let Ok(id) = MeetingId::parse(raw_id) else {
        return Err(not_found);
    };
    match state.projections.meetings().get(id.as_str())? {
        Some(row) if row.workspace == workspace => Ok(row),
        _ => Err(not_found),
    }
}

/// A list entry (seed §3 `GET /api/meetings`).
fn summary(row: &MeetingRow) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("meetingId".into(), row.meeting_id.clone().into());
    body.insert("title".into(), row.title.clone().into());
    body.insert("status".into(), row.status.as_str().into());
    if let Some(at) = row.scheduled_at {
        body.insert("scheduledAt".into(), format_iso_millis(at).into());
    }
    body.insert("participantCount".into(), row.participant_count.into());
    body.insert("createdAt".into(), row.created_at.into());
    body
}

/// The creation response (seed §3 `POST /api/meetings`), without the admin token.
fn created_body(meeting: &Meeting) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("meetingId".into(), meeting.id.as_str().into());
    body.insert("joinUrl".into(), format!("/join/{}", meeting.id).into());
    body.insert("title".into(), meeting.title.clone().into());
    if let Some(at) = meeting.scheduled_at {
        body.insert("scheduledAt".into(), format_iso_millis(at).into());
    }
    body.insert("status".into(), meeting.status.as_str().into());
    body.insert("settings".into(), settings_json(&meeting.settings));
    body
}

pub fn settings_json(settings: &MeetingSettings) -> Value {
    json!({
        "muteOnJoin": settings.mute_on_join,
        "videoOffOnJoin": settings.video_off_on_join,
        "maxParticipants": settings.max_participants,
        "locked": settings.locked,
        "waitingRoom": settings.waiting_room,
    })
}
