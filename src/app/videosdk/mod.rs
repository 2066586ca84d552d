//! The VideoSDK dialect's application rules, shared by its REST API and the realtime join:
//! access tokens ([`token`]), a token's admission to a room's session ([`join`]), and the
//! room's ongoing session, opened on first use ([`open_or_current`]).

pub mod join;
pub mod token;

use convene_actors::stream;
use convene_actors::videosdk_room::{open_session, VideoSdkRoom};
use convene_events::catalog::meeting::{Dialect, MeetingSettings};
use convene_events::catalog::videosdk::room_stream;
use convene_events::{Actor, MeetingId, Workspace};
use convene_projections::videosdk::RoomRow;
use convene_projections::RowStatus;

use crate::app::meetings::{create_with_id, NewMeeting};
use crate::app::plans::admit_meeting;
use crate::app::{AppError, AppState};
use crate::domain::AdminToken;

/// The workspace's room named by its roomId or, failing that, its customRoomId.
pub fn find_room(
    state: &AppState,
    workspace: Workspace,
    id: &str,
) -> Result<Option<RoomRow>, AppError> {
    let rooms = state.projections.videosdk();
    if let Some(room) = rooms.room(id)?.filter(|r| r.workspace == workspace) {
        return Ok(Some(room));
    }
    Ok(rooms.room_by_custom_id(workspace, id)?)
}

/// The session meeting's id of a `sessionId` path parameter (404 when it cannot be one).
pub fn session_meeting_id(raw: &str) -> Result<MeetingId, AppError> {
    MeetingId::parse(raw).map_err(|_| AppError::NotFound("session not found"))
}

/// The room's ongoing session, opened now if there is none: its meeting id and admin token.
/// Refused for a deactivated room, and by the plan's rules when a session must be opened.
pub async fn open_or_current(
    state: &AppState,
    room: &RoomRow,
    actor: Actor,
) -> Result<(MeetingId, String), AppError> {
    if room.disabled {
        return Err(AppError::Forbidden("room is deactivated"));
    }
    let _turn = state.videosdk_turns.take(room.room_id.clone()).await;
    let rooms = state.projections.videosdk();
    let room = rooms
        .room(&room.room_id)?
        .ok_or(AppError::NotFound("room not found"))?;
    if room.disabled {
        return Err(AppError::Forbidden("room is deactivated"));
    }
    if let Some(ongoing) = &room.ongoing_session {
        let live = state
            .projections
            .meetings()
            .get(ongoing)?
            .is_some_and(|m| m.status == RowStatus::Active);
        if let (true, Some(session)) = (live, rooms.session(ongoing)?) {
            return Ok((session_meeting_id(ongoing)?, session.admin_token));
        }
    }
    // The plan is asked before the session is written to the room's stream, so that a refused
    // join leaves no session behind; the creation asks again under the workspace's turn.
    drop(admit_meeting(state, room.workspace).await?);
    let now = state.clock.now_ms();
    let auto_close = room
        .auto_close
        .map(|c| now + i64::from(c.duration_minutes) * 60_000);
    let new = NewMeeting {
        workspace: room.workspace,
        title: room
            .custom_room_id
            .clone()
            .unwrap_or_else(|| room.room_id.clone()),
        scheduled_at: None,
        settings: MeetingSettings::with_cap(state.config.limits.default_max_participants),
        actor: actor.clone(),
        via: Dialect::VideoSdk,
        requested_end: auto_close,
    };
    let admin_token = AdminToken::generate().expose().to_owned();
    for _ in 0..3 {
        let meeting_id = MeetingId::generate();
        // Decided on the room's stream: a room deactivated meanwhile opens nothing, and the
        // append carries the version it was decided on.
        stream::execute::<VideoSdkRoom, AppError>(
            &state.log,
            &room_stream(&room.room_id),
            actor.clone(),
            |current| Ok(open_session(current, &meeting_id, &admin_token)?),
        )
        .await?;
        if let Some(created) = create_with_id(state, &new, meeting_id.clone(), &admin_token).await?
        {
            tracing::info!(room_id = %room.room_id, session_id = %meeting_id, ends_at = ?created.meeting.ends_at, dialect = "videosdk", "session opened");
            return Ok((meeting_id, admin_token));
        }
    }
    Err(AppError::Unexpected(
        "three meeting id collisions in a row".into(),
    ))
}
