//! Meetings (onepizza §3, §4, §5): create, create as a guest, list, get, end or cancel, list
//! scheduled.
//!
//! Writes go to the meeting's actor (where they are decided and logged); reads come from the
//! meeting directory. Another workspace's meeting answers 404 exactly like a missing one.

use convene_actors::{CommandOutcome, HostAction, MeetingStatus};
use convene_events::catalog::meeting::{Dialect, EndReason, MeetingSettings};
use convene_events::{Actor, Workspace};
use convene_projections::{MeetingRow, RowStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::auth::{authenticate, authenticate_optional, Caller};
use super::body::parse_json;
use super::error::ErrorBody;
use super::reply;
use super::router::Router;
use crate::app::meetings::{create, host_command, visible_row, Created, NewMeeting};
use crate::app::rate_limits::Group;
use crate::app::settings::{check_max_participants, SettingsView};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{format_iso_millis, parse_iso8601, Title};
use crate::http::error::NATIVE;

const DEFAULT_TITLE: &str = "Untitled Meeting";

pub fn routes(router: &mut Router) {
    router
        .add::<__path_create_meeting>(NATIVE)
        .serve(|r| async move { create_meeting(r.state, r.caller, &r.body?).await });
    router
        .add::<__path_create_guest_meeting>(NATIVE)
        .group(Group::Guest)
        .serve(|r| async move { create_guest_meeting(r.state, &r.body?).await });
    router
        .add::<__path_list_meetings>(NATIVE)
        .serve(|r| async move { list_meetings(r.state, r.caller) });
    router
        .add::<__path_list_scheduled_meetings>(NATIVE)
        .serve(|r| async move { list_scheduled_meetings(r.state, r.caller) });
    router
        .add::<__path_get_meeting>(NATIVE)
        .serve(|r| async move { get_meeting(r.state, r.caller, &r.params[0]) });
    router
        .add::<__path_end_meeting>(NATIVE)
        .serve(|r| async move { end_meeting(r.state, r.caller, &r.params[0]).await });
}

/// A new meeting; every field is optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CreateMeetingRequest {
    /// "Untitled Meeting" when absent or blank; at most `limits.title_chars` characters, no
    /// control characters.
    title: Option<String>,
    /// ISO 8601 with a time zone, in the future: the meeting activates by itself then.
    #[schema(format = DateTime)]
    scheduled_at: Option<String>,
    mute_on_join: Option<bool>,
    video_off_on_join: Option<bool>,
    /// 1 to `limits.max_participants`; `limits.default_max_participants` when absent.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::domain::whole_number")]
    max_participants: Option<u32>,
}

/// A meeting's status as the native API writes it.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
#[schema(as = MeetingStatus)]
pub enum StatusView {
    Scheduled,
    Active,
    Ended,
}

impl From<MeetingStatus> for StatusView {
    fn from(status: MeetingStatus) -> Self {
        match status {
            MeetingStatus::Scheduled => StatusView::Scheduled,
            MeetingStatus::Active => StatusView::Active,
            MeetingStatus::Ended => StatusView::Ended,
        }
    }
}

impl From<RowStatus> for StatusView {
    fn from(status: RowStatus) -> Self {
        match status {
            RowStatus::Scheduled => StatusView::Scheduled,
            RowStatus::Active => StatusView::Active,
            RowStatus::Ended => StatusView::Ended,
        }
    }
}

/// `201` of `POST /api/meetings`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedMeeting {
    meeting_id: String,
    /// The meeting room page, `/join/<meetingId>`.
    join_url: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    scheduled_at: Option<String>,
    status: StatusView,
    settings: SettingsView,
    /// Shown once: the host's credential for this meeting (`x-admin-token`).
    admin_token: String,
}

/// Creates a meeting in the caller's workspace (their company's, for a member).
#[utoipa::path(
    post, path = "/api/meetings", tag = "meetings",
    request_body = Option<CreateMeetingRequest>,
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 201, description = "created; `adminToken` is shown only here", body = CreatedMeeting),
        (status = 402, description = "insufficient credits: the workspace's balance is not above zero", body = ErrorBody),
    )
)]
pub(super) async fn create_meeting(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = authenticate(&caller, &state)?;
    let request: CreateMeetingRequest = parse_json(body)?;
    let limits = &state.config.limits;
    let title = Title::parse(request.title.as_deref(), DEFAULT_TITLE, limits.title_chars)
        .map_err(AppError::BadRequest)?;
    let scheduled_at = request
        .scheduled_at
        .as_deref()
        .map(|raw| parse_iso8601(raw).map_err(|e| AppError::BadRequest(format!("scheduledAt {e}"))))
        .transpose()?;
    let max_participants = request
        .max_participants
        .unwrap_or(limits.default_max_participants);
    check_max_participants(&state.config.limits, max_participants)?;
    let settings = MeetingSettings {
        mute_on_join: request.mute_on_join.unwrap_or(false),
        video_off_on_join: request.video_off_on_join.unwrap_or(false),
        ..MeetingSettings::with_cap(max_participants)
    };
    // Admitted under the plan (quota, credits), whose duration cap ends the meeting by itself.
    let created = create(
        &state,
        NewMeeting {
            workspace: principal.workspace(),
            title: title.into_inner(),
            scheduled_at,
            settings,
            actor: principal.actor(),
            via: Dialect::Native,
            requested_end: None,
        },
    )
    .await?;
    let (meeting, admin_token) = (created.meeting, created.admin_token);
    tracing::info!(meeting_id = %meeting.id, account_id = principal.account_id(), ends_at = ?meeting.ends_at, "meeting created");
    Ok(reply::created(&CreatedMeeting {
        meeting_id: meeting.id.to_string(),
        join_url: format!("/join/{}", meeting.id),
        title: meeting.title.clone(),
        scheduled_at: meeting.scheduled_at.map(format_iso_millis),
        status: meeting.status.into(),
        settings: (&meeting.settings).into(),
        admin_token,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GuestMeetingRequest {
    /// `guest.default_title` when absent or blank; at most `limits.title_chars` characters.
    title: Option<String>,
}

/// `201` of `POST /api/meetings/guest`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedGuestMeeting {
    meeting_id: String,
    /// The host's credential for this meeting (`x-admin-token`).
    admin_token: String,
    join_url: String,
    title: String,
}

/// onepizza §4, except that guest meetings are logged like any other (they survive restarts
/// and appear in audits); they belong to no workspace, are never billed, and end by themselves
/// after `guest.expire_after_minutes` without participants.
#[utoipa::path(
    post, path = "/api/meetings/guest", tag = "meetings",
    request_body = Option<GuestMeetingRequest>,
    security(()),
    responses(
        (status = 201, description = "created; 5 per hour per address by default", body = CreatedGuestMeeting),
    )
)]
pub(super) async fn create_guest_meeting(
    state: AppState,
    body: &[u8],
) -> Result<Response, AppError> {
    let request: GuestMeetingRequest = parse_json(body)?;
    let config = &state.config;
    let title = Title::parse(
        request.title.as_deref(),
        &config.guest.default_title,
        config.limits.title_chars,
    )
    .map_err(AppError::BadRequest)?;
    let settings = MeetingSettings::with_cap(config.limits.default_max_participants);
    let Created {
        meeting,
        admin_token,
        ..
    } = create(
        &state,
        NewMeeting {
            workspace: Workspace::Guest,
            title: title.into_inner(),
            scheduled_at: None,
            settings,
            actor: Actor::System,
            via: Dialect::Native,
            requested_end: None,
        },
    )
    .await?;
    tracing::info!(meeting_id = %meeting.id, "guest meeting created");
    Ok(reply::created(&CreatedGuestMeeting {
        meeting_id: meeting.id.to_string(),
        admin_token,
        join_url: format!("/join/{}", meeting.id),
        title: meeting.title,
    }))
}

/// A list entry (onepizza §3 `GET /api/meetings`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingSummary {
    meeting_id: String,
    title: String,
    status: StatusView,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    scheduled_at: Option<String>,
    participant_count: u32,
    /// Unix milliseconds.
    created_at: i64,
}

impl From<&MeetingRow> for MeetingSummary {
    fn from(row: &MeetingRow) -> Self {
        Self {
            meeting_id: row.meeting_id.clone(),
            title: row.title.clone(),
            status: row.status.into(),
            scheduled_at: row.scheduled_at.map(format_iso_millis),
            participant_count: row.participant_count,
            created_at: row.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeetingList {
    /// Active and scheduled meetings, newest first.
    meetings: Vec<MeetingSummary>,
}

/// The caller's workspace's active and scheduled meetings.
#[utoipa::path(
    get, path = "/api/meetings", tag = "meetings",
    security(("api_key" = []), ("session" = [])),
    responses((status = 200, description = "newest first", body = MeetingList))
)]
pub(super) fn list_meetings(state: AppState, caller: Caller) -> Result<Response, AppError> {
    live_meetings(&state, &caller, false)
}

/// The caller's workspace's scheduled meetings that have not started yet.
#[utoipa::path(
    get, path = "/api/meetings/scheduled/list", tag = "meetings",
    security(("api_key" = []), ("session" = [])),
    responses((status = 200, description = "newest first", body = MeetingList))
)]
pub(super) fn list_scheduled_meetings(
    state: AppState,
    caller: Caller,
) -> Result<Response, AppError> {
    live_meetings(&state, &caller, true)
}

fn live_meetings(
    state: &AppState,
    caller: &Caller,
    scheduled_only: bool,
) -> Result<Response, AppError> {
    let workspace = authenticate(caller, state)?.workspace();
    let build = || -> Result<bytes::Bytes, AppError> {
        let meetings = state
            .projections
            .meetings()
            .live(workspace)?
            .iter()
            .filter(|row| !scheduled_only || row.status == RowStatus::Scheduled)
            .map(MeetingSummary::from)
            .collect();
        serde_json::to_vec(&MeetingList { meetings })
            .map(bytes::Bytes::from)
            .map_err(|e| AppError::Unexpected(e.to_string()))
    };
    // The full list is what dashboards poll; it is cached until the directory moves on.
    let body = match state.projections.meetings_position() {
        Some(position) if !scheduled_only => state
            .meeting_lists
            .get_or_build(workspace, position, build)?,
        _ => build()?,
    };
    Ok(reply::json_bytes(body))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantView {
    participant_id: String,
    name: String,
    is_muted: bool,
    is_video_off: bool,
    /// As the participant last reported it over the realtime channel.
    is_screen_sharing: bool,
    /// Unix milliseconds.
    joined_at: i64,
}

/// `GET /api/meetings/{meetingId}`: the list entry with participants and settings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingDetail {
    #[serde(flatten)]
    summary: MeetingSummary,
    participants: Vec<ParticipantView>,
    settings: SettingsView,
}

/// One meeting of the caller's workspace, with who is in it.
#[utoipa::path(
    get, path = "/api/meetings/{meetingId}", tag = "meetings",
    params(("meetingId" = String, Path)),
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "the meeting", body = MeetingDetail),
        (status = 404, description = "no such meeting in the caller's workspace", body = ErrorBody),
    )
)]
pub(super) fn get_meeting(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let principal = authenticate(&caller, &state)?;
    let row = visible_row(&state, principal.workspace(), raw_id)?;
    let participants = row
        .participants
        .iter()
        .map(|p| ParticipantView {
            participant_id: p.participant_id.clone(),
            name: p.name.clone(),
            is_muted: p.muted,
            is_video_off: p.video_off,
            is_screen_sharing: p.screen_sharing,
            joined_at: p.joined_at,
        })
        .collect();
    Ok(reply::ok(&MeetingDetail {
        summary: MeetingSummary::from(&row),
        participants,
        settings: (&row.settings).into(),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndedMeeting {
    /// "Meeting ended", or "Meeting cancelled" for a scheduled meeting that never started.
    message: &'static str,
    meeting_id: String,
    #[schema(value_type = String, pattern = "^ended$")]
    status: &'static str,
    #[schema(value_type = String, pattern = "^(ended_by_host|cancelled)$")]
    reason: &'static str,
}

/// Ends an active meeting or cancels a scheduled one (needs the meeting's admin token).
#[utoipa::path(
    delete, path = "/api/meetings/{meetingId}", tag = "meetings",
    params(("meetingId" = String, Path)),
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "ended or cancelled", body = EndedMeeting),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting in the caller's workspace", body = ErrorBody),
        (status = 409, description = "the meeting has already ended", body = ErrorBody),
    )
)]
pub(super) async fn end_meeting(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let outcome = host_request(&state, &caller, raw_id, HostAction::End).await?;
    let meeting_id = &outcome.meeting.id;
    let (message, reason) = match outcome.meeting.end_reason {
        Some(EndReason::Cancelled) => ("Meeting cancelled", EndReason::Cancelled),
        _ => ("Meeting ended", EndReason::EndedByHost),
    };
    tracing::info!(meeting_id = %meeting_id, reason = reason.as_str(), "meeting ended");
    Ok(reply::ok(&EndedMeeting {
        message,
        meeting_id: meeting_id.to_string(),
        status: "ended",
        reason: reason.as_str(),
    }))
}

/// A host action as an HTTP request asks for it: with its credentials, if any, and its
/// `x-admin-token`.
pub(super) async fn host_request(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    action: HostAction,
) -> Result<CommandOutcome, AppError> {
    let principal = authenticate_optional(caller, state)?;
    host_command(
        state,
        principal,
        caller.header("x-admin-token"),
        raw_id,
        action,
    )
    .await
}
