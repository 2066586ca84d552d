//! The VideoSDK v2 dialect's own facts (`/v2`, `../shared/seeds/videosdk-rest-api-v2.txt`).
//!
//! - A credential (an API key and the secret its JWTs are signed with) is an event in the
//!   account's stream `account/<id>`, `videosdk.credential_created`. The secret is kept, not
//!   hashed: every request's HS256 signature is checked with it. The account aggregate does not
//!   fold it; the VideoSDK read model does.
//! - A room is an aggregate of its own, stream `vsdk_room/<roomId>`: created, deactivated, and
//!   one `vsdk_room.session_opened` per session, appended just before the session's meeting is
//!   created (the meeting, `Dialect::VideoSdk`, carries the session's participants and media).
//! - A `customRoomId` is claimed per workspace in stream `vsdk_custom/<workspace>/<customRoomId>`
//!   in the same atomic append as the room's creation, so two creations with one customRoomId
//!   make one room.

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;
use crate::ids::{MeetingId, Workspace};

/// An API key and its secret, in the account's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialCreated {
    /// The public half, the JWT's `apikey` claim.
    pub api_key: String,
    /// The HS256 signing secret. Kept, not hashed: signatures are checked with it.
    pub secret: String,
}

impl DomainEvent for CredentialCreated {
    const KIND: &'static str = "videosdk.credential_created";
}

/// An API key withdrawn: tokens it signed are refused from the next request on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRevoked {
    pub api_key: String,
}

impl DomainEvent for CredentialRevoked {
    const KIND: &'static str = "videosdk.credential_revoked";
}

/// A room's per-room webhook (`webhook: {endPoint, events}` at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomWebhook {
    pub end_point: String,
    /// VideoSDK event names (`participant-joined`, `session-ended`, …).
    pub events: Vec<String>,
    /// The webhook endpoint (`webhook/<id>`) created with the room to deliver them.
    pub webhook_id: u64,
}

/// `autoCloseConfig`: what happens to a session after `duration_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoClose {
    /// The session ends.
    SessionEnds,
    /// The session ends and the room is deactivated.
    SessionEndAndDeactivate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoCloseConfig {
    pub kind: AutoClose,
    pub duration_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomCreated {
    pub room_id: String,
    pub workspace: Workspace,
    pub custom_room_id: Option<String>,
    pub webhook: Option<RoomWebhook>,
    pub auto_close: Option<AutoCloseConfig>,
}

impl DomainEvent for RoomCreated {
    const KIND: &'static str = "vsdk_room.created";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomDeactivated {}

impl DomainEvent for RoomDeactivated {
    const KIND: &'static str = "vsdk_room.deactivated";
}

/// A session begins: the meeting that holds it is created right after this event. The
/// session's admin token is kept here (not hashed) so that the server can act as the session's
/// host for moderators (`allow_mod`) and for `POST /v2/sessions/participants/remove`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionOpened {
    pub meeting_id: MeetingId,
    pub admin_token: String,
}

impl DomainEvent for SessionOpened {
    const KIND: &'static str = "vsdk_room.session_opened";
}

/// A `customRoomId` taken in a workspace, by the room named here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomRoomIdClaimed {
    pub room_id: String,
}

impl DomainEvent for CustomRoomIdClaimed {
    const KIND: &'static str = "vsdk_custom.claimed";
}

event_family! {
    /// Every event of a VideoSDK room's stream.
    RoomEvent {
        Created(RoomCreated),
        Deactivated(RoomDeactivated),
        SessionOpened(SessionOpened),
    }
}

/// The stream of a VideoSDK room.
pub fn room_stream(room_id: &str) -> String {
    format!("vsdk_room/{room_id}")
}

/// The stream that reserves a `customRoomId` in a workspace.
pub fn custom_room_stream(workspace: Workspace, custom_room_id: &str) -> String {
    format!("vsdk_custom/{}/{custom_room_id}", workspace.slug())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_payload, encode_payload};

    #[test]
    fn room_events_round_trip() {
        let created = RoomCreated {
            room_id: "abcd-efgh-ijkl".into(),
            workspace: Workspace::Account(7),
            custom_room_id: Some("standup".into()),
            webhook: Some(RoomWebhook {
                end_point: "https://example.com/hook".into(),
                events: vec!["session-started".into()],
                webhook_id: 3,
            }),
            auto_close: Some(AutoCloseConfig {
                kind: AutoClose::SessionEndAndDeactivate,
                duration_minutes: 480,
            }),
        };
        let read: RoomCreated = decode_payload(&encode_payload(&created)).unwrap();
        assert_eq!(read, created);
        let opened = SessionOpened {
            meeting_id: MeetingId::parse("abc-defg-hij").unwrap(),
            admin_token: "ff".repeat(32),
        };
        let read: SessionOpened = decode_payload(&encode_payload(&opened)).unwrap();
        assert_eq!(read, opened);
        assert_eq!(room_stream("abcd-efgh-ijkl"), "vsdk_room/abcd-efgh-ijkl");
        assert_eq!(
            custom_room_stream(Workspace::Company(2), "standup"),
            "vsdk_custom/company-2/standup"
        );
    }
}
