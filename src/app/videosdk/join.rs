//! Joining a VideoSDK room over the realtime endpoint: `join-meeting` with `token` (a VideoSDK
//! JWT) and `meetingId` set to the roomId or customRoomId. The room's ongoing session is
//! joined, or opened first when there is none.
//!
//! - `allow_mod`: joins as the session's host (moderates: mutes, removes, lets people in).
//! - `allow_join`: joins directly, whatever the waiting-room setting.
//! - `ask_join` alone: waits in the waiting room until a moderator lets them in.
//!
//! A token with `roles` must include `rtc`; one with `roomId` or `participantId` works only for
//! that room and that participant id.

use convene_actors::WaitingRule;
use convene_events::MeetingId;

use super::open_or_current;
use super::{find_room, token};
use crate::app::AppError;
use crate::app::AppState;

/// How a token lets its holder in.
pub struct TokenJoin {
    pub meeting_id: MeetingId,
    pub participant_id: String,
    /// The session's admin token, for a moderator.
    pub host_token: Option<String>,
    pub waiting: WaitingRule,
}

/// A participant id a client may choose: 1 to `max` letters, digits, `-` or `_`.
fn participant_id(raw: &str, max: usize) -> Result<String, AppError> {
    let valid = (1..=max).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(AppError::BadRequest(format!(
            "participantId must be 1 to {max} letters, digits, - or _"
        )))
    }
}

/// Checks the token for joining `room_ref` and finds (or opens) the session to join.
pub async fn admit(
    state: &AppState,
    raw_token: &str,
    room_ref: &str,
    requested_participant: Option<&str>,
) -> Result<TokenJoin, AppError> {
    let token = token::verify(state, token::from_header(raw_token))?;
    if !token.roles.rtc {
        return Err(AppError::Forbidden(
            "this token has the crawler role only: it cannot join meetings",
        ));
    }
    let permissions = token.permissions;
    if !(permissions.allow_join || permissions.ask_join || permissions.allow_mod) {
        return Err(AppError::Forbidden(
            "this token's permissions do not allow joining",
        ));
    }
    let room = find_room(state, token.workspace(), room_ref)?
        .ok_or(AppError::NotFound("room not found"))?;
    if let Some(only) = &token.room_id {
        if *only != room.room_id && room.custom_room_id.as_ref() != Some(only) {
            return Err(AppError::Forbidden(
                "this token is restricted to another room",
            ));
        }
    }
    let max_id = state.config.videosdk.participant_id_max_chars;
    let participant = match (&token.participant_id, requested_participant) {
        (Some(only), Some(asked)) if only != asked => {
            return Err(AppError::Forbidden(
                "this token is restricted to another participantId",
            ))
        }
        (Some(only), _) => participant_id(only, max_id)?,
        (None, Some(asked)) => participant_id(asked, max_id)?,
        (None, None) => crate::domain::SecretToken::generate().expose()[..12].to_owned(),
    };
    let (meeting_id, admin_token) = open_or_current(state, &room, token.actor()).await?;
    let waiting = if permissions.allow_mod || permissions.allow_join {
        WaitingRule::Skip
    } else {
        WaitingRule::Always
    };
    tracing::info!(
        room_id = %room.room_id,
        session_id = %meeting_id,
        participant_id = %participant,
        api_key = %token.api_key,
        moderator = permissions.allow_mod,
        dialect = "videosdk",
        "token admitted to a session"
    );
    Ok(TokenJoin {
        meeting_id,
        participant_id: participant,
        host_token: permissions.allow_mod.then_some(admin_token),
        waiting,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_ids_are_short_and_plain() {
        assert!(participant_id("lxvdplwt", 64).is_ok());
        assert!(participant_id("a_b-9", 64).is_ok());
        assert!(participant_id("", 64).is_err());
        assert!(participant_id("a b", 64).is_err());
        assert!(participant_id(&"x".repeat(65), 64).is_err());
    }
}
