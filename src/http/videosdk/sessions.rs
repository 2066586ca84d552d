//! VideoSDK sessions: one continuous activation of a room, held by one Convene meeting
//! (`Dialect::VideoSdk`) whose id is the `sessionId`. A session opens when the room is joined
//! with no session in progress ([`crate::app::videosdk::open_or_current`]) and ends through `POST /v2/sessions/end`,
//! the room's `autoCloseConfig`, or the plan's duration cap.

use bytes::Bytes;
use convene_actors::{HostAction, MeetingCommand, MeetingError};
use convene_projections::videosdk::{ParticipantLog, RoomRow, SessionRow, Span};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::error::VsdkError;
use super::error::DIALECT;
use super::{api_caller, link, ApiCaller, PageInfo, Paging};
use crate::app::meetings::end_by_owner;
use crate::app::videosdk::{find_room, session_meeting_id};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::format_iso_millis;
use crate::http::auth::Caller;
use crate::http::body::parse_json;
use crate::http::reply;
use crate::http::router::Router;
use crate::net::body::BodyRefused;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_list_sessions>(DIALECT)
        .serve(|r| async move { list_sessions(r.state, r.caller, &r.query) });
    router
        .add::<__path_end_session>(DIALECT)
        .serve(|r| async move { end_session(r.state, r.caller, r.body).await });
    router
        .add::<__path_remove_participant>(DIALECT)
        .serve(|r| async move { remove_participant(r.state, r.caller, r.body).await });
    router
        .add::<__path_get_session>(DIALECT)
        .serve(|r| async move { get_session(r.state, r.caller, &r.params[0]) });
    router
        .add::<__path_session_participants>(DIALECT)
        .serve(|r| async move { session_participants(r.state, r.caller, &r.params[0], &r.query) });
    router
        .add::<__path_active_participants>(DIALECT)
        .serve(|r| async move { active_participants(r.state, r.caller, &r.params[0]) });
}

/// From `start` to `end` (null while it lasts).
#[derive(Serialize, ToSchema)]
#[schema(as = VsdkTimelog)]
pub struct Timelog {
    #[schema(format = DateTime)]
    start: String,
    #[schema(format = DateTime)]
    end: Option<String>,
}

fn timelog(spans: &[Span]) -> Vec<Timelog> {
    spans
        .iter()
        .map(|span| Timelog {
            start: format_iso_millis(span.start),
            end: span.end.map(format_iso_millis),
        })
        .collect()
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkParticipant)]
pub struct SessionParticipantView {
    participant_id: String,
    name: String,
    /// Each stretch the participant was in the session.
    timelog: Vec<Timelog>,
}

impl From<&ParticipantLog> for SessionParticipantView {
    fn from(log: &ParticipantLog) -> Self {
        Self {
            participant_id: log.participant_id.clone(),
            name: log.name.clone(),
            timelog: timelog(&log.timelog),
        }
    }
}

/// When each medium was on.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkMediaEvents)]
pub struct MediaEvents {
    /// Unmuted.
    mic: Vec<Timelog>,
    /// Video on.
    webcam: Vec<Timelog>,
    screen_share: Vec<Timelog>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkActiveParticipant)]
pub struct ActiveParticipantView {
    participant_id: String,
    name: String,
    timelog: Vec<Timelog>,
    events: MediaEvents,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
#[schema(as = VsdkSessionStatus)]
pub enum SessionStatus {
    Ongoing,
    Ended,
}

#[derive(Serialize, ToSchema)]
#[schema(as = VsdkSessionLinks)]
pub struct SessionLinks {
    get_room: String,
    get_session: String,
}

/// A session as VideoSDK shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkSession)]
pub struct SessionView {
    /// The sessionId (the Convene meeting that holds the session).
    #[schema(example = "abc-defg-hij")]
    id: String,
    room_id: String,
    custom_room_id: Option<String>,
    #[schema(format = DateTime)]
    start: String,
    /// Null while the session goes on.
    #[schema(format = DateTime)]
    end: Option<String>,
    status: SessionStatus,
    /// Seconds from start to end (to now, while it goes on).
    active_duration: i64,
    /// Everyone who was in it, in order of first arrival.
    participants: Vec<SessionParticipantView>,
    links: SessionLinks,
}

fn session_view(state: &AppState, room: &RoomRow, session: &SessionRow) -> SessionView {
    let until = session.end.unwrap_or_else(|| state.clock.now_ms());
    SessionView {
        id: session.session_id.clone(),
        room_id: room.room_id.clone(),
        custom_room_id: room.custom_room_id.clone(),
        start: format_iso_millis(session.start),
        end: session.end.map(format_iso_millis),
        status: if session.end.is_some() {
            SessionStatus::Ended
        } else {
            SessionStatus::Ongoing
        },
        active_duration: (until - session.start).max(0) / 1000,
        participants: session.participants.iter().map(Into::into).collect(),
        links: SessionLinks {
            get_room: link(state, &format!("/v2/rooms/{}", room.room_id)),
            get_session: link(state, &format!("/v2/sessions/{}", session.session_id)),
        },
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkSessionList)]
pub struct SessionList {
    page_info: PageInfo,
    /// Newest first.
    data: Vec<SessionView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkParticipantList)]
pub struct ParticipantList {
    page_info: PageInfo,
    /// In order of first arrival.
    data: Vec<SessionParticipantView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkActiveParticipantList)]
pub struct ActiveParticipantList {
    /// Who is in the session now, with when their mic, webcam and screen share were on.
    data: Vec<ActiveParticipantView>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = VsdkRemoved)]
pub struct RemovedView {
    #[schema(example = "participant removed")]
    message: String,
    #[serde(rename = "participantId")]
    participant_id: String,
    #[serde(rename = "sessionId")]
    session_id: String,
}

/// A session of the caller's organization, and its room: 404 for an unknown session or
/// another organization's, 403 for a token restricted to another room.
fn session_for(
    state: &AppState,
    caller: &ApiCaller,
    raw_id: &str,
) -> Result<(RoomRow, SessionRow), AppError> {
    let not_found = || AppError::NotFound("session not found");
    let id = session_meeting_id(raw_id)?;
    let rooms = state.projections.videosdk();
    let session = rooms
        .session(id.as_str())?
        .filter(|s| s.workspace == caller.workspace())
        .ok_or_else(not_found)?;
    let room = rooms.room(&session.room_id)?.ok_or_else(not_found)?;
    caller.check_room(&room)?;
    Ok((room, session))
}

/// A room's sessions, newest first, by `roomId` or `customRoomId` (one of them is required).
#[utoipa::path(
    get, path = "/v2/sessions", tag = "videosdk",
    params(
        ("roomId" = Option<String>, Query, description = "the room (this or customRoomId is required)"),
        ("customRoomId" = Option<String>, Query, description = "the room by its customRoomId"),
        ("page" = Option<i64>, Query, minimum = 1, description = "from 1 (default 1)"),
        ("perPage" = Option<i64>, Query, minimum = 1, description = "default 20; more than 100 is clamped to 100"),
    ),
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "a page of sessions", body = SessionList),
        (status = 400, description = "neither roomId nor customRoomId, or a bad page or perPage", body = VsdkError),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such room in the organization", body = VsdkError),
    )
)]
pub(super) fn list_sessions(
    state: AppState,
    caller: Caller,
    query: &str,
) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let paging = Paging::parse(query, state.config.videosdk.max_per_page)?;
    let param = |name| crate::http::query::param(query, name);
    let rooms = state.projections.videosdk();
    let room = match (param("roomId"), param("customRoomId")) {
        (Some(id), _) => rooms
            .room(&id)?
            .filter(|r| r.workspace == caller.workspace()),
        (None, Some(custom)) => rooms.room_by_custom_id(caller.workspace(), &custom)?,
        (None, None) => {
            return Err(AppError::BadRequest(
                "roomId or customRoomId is required".into(),
            ))
        }
    }
    .ok_or(AppError::NotFound("room not found"))?;
    caller.check_room(&room)?;
    let page = rooms.sessions(&room.room_id, paging.skip(), paging.take())?;
    Ok(reply::ok(&SessionList {
        page_info: paging.info(page.total),
        data: page
            .rows
            .iter()
            .map(|session| session_view(&state, &room, session))
            .collect(),
    }))
}

/// One session, with everyone who was in it and their timelogs.
#[utoipa::path(
    get, path = "/v2/sessions/{sessionId}", tag = "videosdk",
    params(("sessionId" = String, Path)),
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "the session", body = SessionView),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such session in the organization", body = VsdkError),
    )
)]
pub(super) fn get_session(state: AppState, caller: Caller, id: &str) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let (room, session) = session_for(&state, &caller, id)?;
    Ok(reply::ok(&session_view(&state, &room, &session)))
}

/// Everyone who was in the session, paged, in order of first arrival.
#[utoipa::path(
    get, path = "/v2/sessions/{sessionId}/participants", tag = "videosdk",
    params(
        ("sessionId" = String, Path),
        ("page" = Option<i64>, Query, minimum = 1, description = "from 1 (default 1)"),
        ("perPage" = Option<i64>, Query, minimum = 1, description = "default 20; more than 100 is clamped to 100"),
    ),
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "a page of participants", body = ParticipantList),
        (status = 400, description = "a bad page or perPage", body = VsdkError),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such session in the organization", body = VsdkError),
    )
)]
pub(super) fn session_participants(
    state: AppState,
    caller: Caller,
    id: &str,
    query: &str,
) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let paging = Paging::parse(query, state.config.videosdk.max_per_page)?;
    let (_, session) = session_for(&state, &caller, id)?;
    Ok(reply::ok(&ParticipantList {
        page_info: paging.info(session.participants.len()),
        data: session
            .participants
            .iter()
            .skip(paging.skip())
            .take(paging.take())
            .map(Into::into)
            .collect(),
    }))
}

/// Who is in the session now, with their mic, webcam and screen-share timelogs (from the
/// logged media events).
#[utoipa::path(
    get, path = "/v2/sessions/{sessionId}/participants/active", tag = "videosdk",
    params(("sessionId" = String, Path)),
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "the participants present", body = ActiveParticipantList),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such session in the organization", body = VsdkError),
    )
)]
pub(super) fn active_participants(
    state: AppState,
    caller: Caller,
    id: &str,
) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let (_, session) = session_for(&state, &caller, id)?;
    let data = session
        .participants
        .iter()
        .filter(|p| p.present)
        .map(|p| ActiveParticipantView {
            participant_id: p.participant_id.clone(),
            name: p.name.clone(),
            timelog: timelog(&p.timelog),
            events: MediaEvents {
                mic: timelog(&p.mic),
                webcam: timelog(&p.webcam),
                screen_share: timelog(&p.screen_share),
            },
        })
        .collect();
    Ok(reply::ok(&ActiveParticipantList { data }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = VsdkEndSessionRequest)]
pub(super) struct EndSessionRequest {
    /// The roomId or customRoomId.
    room_id: String,
    /// The session; the room's ongoing one when absent.
    session_id: Option<String>,
}

/// The session to act on: the one named (it must belong to the room), or the room's ongoing one.
fn target_session(
    state: &AppState,
    caller: &ApiCaller,
    room_id: &str,
    session_id: Option<&str>,
) -> Result<(RoomRow, SessionRow), AppError> {
    let room = find_room(state, caller.workspace(), room_id)?
        .ok_or(AppError::NotFound("room not found"))?;
    caller.check_room(&room)?;
    let session = match session_id {
        Some(id) => session_for(state, caller, id)?.1,
        None => {
            let ongoing = room
                .ongoing_session
                .as_deref()
                .ok_or(AppError::NotFound("the room has no ongoing session"))?;
            state
                .projections
                .videosdk()
                .session(ongoing)?
                .ok_or(AppError::NotFound("the room has no ongoing session"))?
        }
    };
    if session.room_id != room.room_id {
        return Err(AppError::NotFound("session not found in this room"));
    }
    Ok((room, session))
}

/// Ends a session: everyone in it is disconnected. Ending an ended session is a 409.
#[utoipa::path(
    post, path = "/v2/sessions/end", tag = "videosdk",
    request_body = EndSessionRequest,
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "the ended session", body = SessionView),
        (status = 400, description = "roomId is missing, or a field is malformed", body = VsdkError),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such room or session, or the room has no ongoing session", body = VsdkError),
        (status = 409, description = "the session has already ended", body = VsdkError),
    )
)]
pub(super) async fn end_session(
    state: AppState,
    caller: Caller,
    body: Result<Bytes, BodyRefused>,
) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let request: EndSessionRequest = parse_json(&body?)?;
    let (room, session) = target_session(
        &state,
        &caller,
        &request.room_id,
        request.session_id.as_deref(),
    )?;
    if session.end.is_some() {
        return Err(AppError::Conflict("session has already ended".into()));
    }
    let meeting_id = session_meeting_id(&session.session_id)?;
    let outcome = end_by_owner(&state, &meeting_id, session.workspace, caller.token.actor())
        .await
        .map_err(|err| match err {
            MeetingError::AlreadyEnded => AppError::Conflict("session has already ended".into()),
            MeetingError::NotFound => AppError::NotFound("session not found"),
            other => other.into(),
        })?;
    state.caught_up(outcome.last_seq).await?;
    tracing::info!(room_id = %room.room_id, session_id = %meeting_id, dialect = "videosdk", "session ended");
    let session = state
        .projections
        .videosdk()
        .session(meeting_id.as_str())?
        .ok_or(AppError::NotFound("session not found"))?;
    Ok(reply::ok(&session_view(&state, &room, &session)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = VsdkRemoveParticipantRequest)]
pub(super) struct RemoveParticipantRequest {
    participant_id: String,
    /// The roomId or customRoomId.
    room_id: String,
    /// The session; the room's ongoing one when absent.
    session_id: Option<String>,
}

/// Removes a participant from a session (they hear `admin:kick` and are disconnected).
#[utoipa::path(
    post, path = "/v2/sessions/participants/remove", tag = "videosdk",
    request_body = RemoveParticipantRequest,
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "removed", body = RemovedView),
        (status = 400, description = "a field is missing or malformed", body = VsdkError),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such room, session or participant in it", body = VsdkError),
        (status = 409, description = "the session has already ended", body = VsdkError),
    )
)]
pub(super) async fn remove_participant(
    state: AppState,
    caller: Caller,
    body: Result<Bytes, BodyRefused>,
) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let request: RemoveParticipantRequest = parse_json(&body?)?;
    let (room, session) = target_session(
        &state,
        &caller,
        &request.room_id,
        request.session_id.as_deref(),
    )?;
    if session.end.is_some() {
        return Err(AppError::Conflict("session has already ended".into()));
    }
    let meeting_id = session_meeting_id(&session.session_id)?;
    let command = MeetingCommand::host(
        session.workspace,
        session.admin_token.clone(),
        HostAction::Kick {
            participant_id: request.participant_id.clone(),
            reason: Some("removed by the organization".into()),
        },
    );
    let outcome = state
        .registry
        .execute(&meeting_id, command, caller.token.actor())
        .await
        .map_err(|err| match err {
            MeetingError::AlreadyEnded => AppError::Conflict("session has already ended".into()),
            MeetingError::ParticipantNotFound => {
                AppError::NotFound("participant is not in the session")
            }
            other => other.into(),
        })?;
    state.caught_up(outcome.last_seq).await?;
    tracing::info!(room_id = %room.room_id, session_id = %meeting_id, participant_id = %request.participant_id, dialect = "videosdk", "participant removed");
    Ok(reply::ok(&RemovedView {
        message: "participant removed".into(),
        participant_id: request.participant_id,
        session_id: session.session_id,
    }))
}
