//! Meetings (onepizza §3, §5): create, list, get, end or cancel, list scheduled.
//!
//! Writes go to the meeting's actor (where they are decided and logged); reads come from the
//! meeting directory. Another workspace's meeting answers 404 exactly like a missing one.

use convene_actors::{CreateMeeting, Meeting, MeetingCommand, MeetingError};
use convene_events::catalog::meeting::{Dialect, EndReason, MeetingSettings};
use convene_events::MeetingId;
use convene_projections::{MeetingRow, RowStatus};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{authenticate, Principal};
use super::body::{limited, parse_json};
use super::error::{respond, ApiError};
use super::{with_state, AppState};
use crate::domain::{format_iso_millis, parse_iso8601, AdminToken, Title};

const DEFAULT_TITLE: &str = "Untitled Meeting";

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let body_limit = state.config.limits.body_bytes;
    let headers = warp::header::headers_cloned();
    let create = warp::path!("api" / "meetings")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(headers)
        .and(limited(body_limit))
        .then(|state, headers, body: bytes::Bytes| async move {
            respond(create_meeting(state, headers, &body).await)
        });
    let list = warp::path!("api" / "meetings")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(headers)
        .map(|state, headers| respond(list_meetings(state, headers, false)));
    let scheduled = warp::path!("api" / "meetings" / "scheduled" / "list")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(headers)
        .map(|state, headers| respond(list_meetings(state, headers, true)));
    let get = warp::path!("api" / "meetings" / String)
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(headers)
        .map(|id: String, state, headers| respond(get_meeting(state, headers, &id)));
    let end = warp::path!("api" / "meetings" / String)
        .and(warp::delete())
        .and(with_state(state))
        .and(headers)
        .then(|id: String, state, headers| async move {
            respond(end_meeting(state, headers, &id).await)
        });
    create
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
    headers: HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let principal = authenticate(&headers, &state.projections)?;
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
    if !(1..=limits.max_participants).contains(&max_participants) {
        return Err(ApiError::BadRequest(format!(
            "maxParticipants must be between 1 and {}",
            limits.max_participants
        )));
    }
    let settings = MeetingSettings {
        mute_on_join: request.mute_on_join.unwrap_or(false),
        video_off_on_join: request.video_off_on_join.unwrap_or(false),
        max_participants,
        locked: false,
        waiting_room: false,
    };
    let admin_token = AdminToken::generate();
    let title = title.into_inner();
    // Ids are random; a collision with an existing meeting is astronomically rare but possible,
    // and the actor refuses it, so draw again.
    for _ in 0..3 {
        let meeting_id = MeetingId::generate();
        let command = MeetingCommand::Create(CreateMeeting {
            meeting_id: meeting_id.clone(),
            workspace: principal.workspace(),
            title: title.clone(),
            scheduled_at,
            settings: settings.clone(),
            admin_token_sha256: admin_token.sha256(),
            via: Dialect::Native,
        });
        match state
            .registry
            .execute(&meeting_id, command, principal.actor())
            .await
        {
            Ok(outcome) => {
                state.caught_up(outcome.last_seq).await?;
                tracing::info!(meeting_id = %meeting_id, account_id = principal.account_id, "meeting created");
                let mut body = created_body(&outcome.meeting);
                body.insert("adminToken".into(), admin_token.expose().into());
                return Ok(
                    warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED)
                        .into_response(),
                );
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
    headers: HeaderMap,
    scheduled_only: bool,
) -> Result<Response, ApiError> {
    let principal = authenticate(&headers, &state.projections)?;
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

fn get_meeting(state: AppState, headers: HeaderMap, raw_id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(&headers, &state.projections)?;
    let row = owned_row(&state, &principal, raw_id)?;
    let mut body = summary(&row);
    body.insert("participants".into(), json!([]));
    body.insert("settings".into(), settings_json(&row.settings));
    Ok(warp::reply::json(&body).into_response())
}

async fn end_meeting(
    state: AppState,
    headers: HeaderMap,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let principal = authenticate(&headers, &state.projections)?;
    // Checking the directory first keeps unknown ids from spawning actors.
    let row = owned_row(&state, &principal, raw_id)?;
    let admin_token = headers
        .get("x-admin-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Forbidden("missing x-admin-token header"))?
        .to_owned();
    let meeting_id =
        MeetingId::parse(&row.meeting_id).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let outcome = state
        .registry
        .execute(
            &meeting_id,
            MeetingCommand::End {
                workspace: principal.workspace(),
                admin_token,
            },
            principal.actor(),
        )
        .await?;
    state.caught_up(outcome.last_seq).await?;
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

/// The caller's meeting, or 404 — for malformed ids, unknown ids and other tenants' meetings
/// alike.
fn owned_row(
    state: &AppState,
    principal: &Principal,
    raw_id: &str,
) -> Result<MeetingRow, ApiError> {
    let not_found = ApiError::NotFound("meeting not found");
    let Ok(id) = MeetingId::parse(raw_id) else {
        return Err(not_found);
    };
    match state.projections.meetings().get(id.as_str())? {
        Some(row) if row.workspace == principal.workspace() => Ok(row),
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

fn settings_json(settings: &MeetingSettings) -> Value {
    json!({
        "muteOnJoin": settings.mute_on_join,
        "videoOffOnJoin": settings.video_off_on_join,
        "maxParticipants": settings.max_participants,
        "locked": settings.locked,
        "waitingRoom": settings.waiting_room,
    })
}
