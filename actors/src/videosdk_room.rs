//! A VideoSDK room as an aggregate, stream `vsdk_room/<id>`: a deactivated room opens no more
//! sessions and is deactivated once, and a session is opened against the room's version, so
//! two first joins cannot both open one (see [`crate::stream`]).

use convene_events::catalog::videosdk::{RoomDeactivated, RoomEvent, SessionOpened};
use convene_events::{MeetingId, Workspace};

use crate::stream::StreamAggregate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoSdkRoom {
    pub room_id: String,
    pub workspace: Workspace,
    pub disabled: bool,
    /// The last session opened (its meeting may have ended since), and its admin token.
    pub last_session: Option<(MeetingId, String)>,
}

impl StreamAggregate for VideoSdkRoom {
    type Event = RoomEvent;

    fn apply(state: &mut Option<Self>, event: &RoomEvent) {
        match (event, state.as_mut()) {
            (RoomEvent::Created(created), _) => {
                *state = Some(VideoSdkRoom {
                    room_id: created.room_id.clone(),
                    workspace: created.workspace,
                    disabled: false,
                    last_session: None,
                });
            }
            (RoomEvent::Deactivated(_), Some(room)) => room.disabled = true,
            (RoomEvent::SessionOpened(opened), Some(room)) => {
                room.last_session = Some((opened.meeting_id.clone(), opened.admin_token.clone()));
            }
            (_, None) => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomRefusal {
    #[error("room not found")]
    NotFound,
    #[error("room is deactivated")]
    Deactivated,
}

/// Deactivates the room; a second deactivation changes nothing.
pub fn deactivate(state: &Option<VideoSdkRoom>) -> Result<Vec<RoomEvent>, RoomRefusal> {
    match state {
        None => Err(RoomRefusal::NotFound),
        Some(room) if room.disabled => Ok(Vec::new()),
        Some(_) => Ok(vec![RoomDeactivated {}.into()]),
    }
}

/// Opens a session held by meeting `meeting_id`, unless the room is deactivated.
pub fn open_session(
    state: &Option<VideoSdkRoom>,
    meeting_id: &MeetingId,
    admin_token: &str,
) -> Result<Vec<RoomEvent>, RoomRefusal> {
    match state {
        None => Err(RoomRefusal::NotFound),
        Some(room) if room.disabled => Err(RoomRefusal::Deactivated),
        Some(_) => Ok(vec![SessionOpened {
            meeting_id: meeting_id.clone(),
            admin_token: admin_token.to_owned(),
        }
        .into()]),
    }
}
