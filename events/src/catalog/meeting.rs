//! Meeting events, in stream `meeting/<id>`.

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;
use crate::ids::{MeetingId, Workspace};

/// A meeting's settings as its host controls them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingSettings {
    pub mute_on_join: bool,
    pub video_off_on_join: bool,
    pub max_participants: u32,
    pub locked: bool,
    pub waiting_room: bool,
}

impl MeetingSettings {
    /// Everything off, with this participant cap.
    pub fn with_cap(max_participants: u32) -> Self {
        Self {
            mute_on_join: false,
            video_off_on_join: false,
            max_participants,
            locked: false,
            waiting_room: false,
        }
    }

    /// These settings with a change applied.
    pub fn patched(&self, change: &SettingsChanged) -> Self {
        Self {
            mute_on_join: change.mute_on_join.unwrap_or(self.mute_on_join),
            video_off_on_join: change.video_off_on_join.unwrap_or(self.video_off_on_join),
            max_participants: change.max_participants.unwrap_or(self.max_participants),
            locked: change.locked.unwrap_or(self.locked),
            waiting_room: change.waiting_room.unwrap_or(self.waiting_room),
        }
    }
}

/// Which API created a meeting (quotas and dialect-specific views need it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    #[default]
    Native,
    /// EdCast developer v1 (`/api/developer/v1`).
    EdCast,
    /// VideoSDK v2 (`/v2`).
    VideoSdk,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingCreated {
    pub meeting_id: MeetingId,
    pub workspace: Workspace,
    pub title: String,
    /// When set, the meeting stays scheduled until then (ms since epoch).
    pub scheduled_at: Option<i64>,
    pub settings: MeetingSettings,
    /// SHA-256 (hex) of the admin token handed to the creator once.
    pub admin_token_sha256: String,
    #[serde(default)]
    pub via: Dialect,
    /// When the meeting ends by itself (ms since epoch): an EdCast `end_date`, a VideoSDK
    /// `autoCloseConfig`, a plan's duration cap. Meetings created before this field had their
    /// end in a `meeting_end.scheduled` event of their own stream (see `meeting_end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
}

impl DomainEvent for MeetingCreated {
    const KIND: &'static str = "meeting.created";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationTrigger {
    /// Created without a schedule: active at once.
    Instant,
    /// Its scheduled time arrived.
    Schedule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingActivated {
    pub trigger: ActivationTrigger,
}

impl DomainEvent for MeetingActivated {
    const KIND: &'static str = "meeting.activated";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Ended through the API or by the host.
    EndedByHost,
    /// A scheduled meeting was called off before it started.
    Cancelled,
    /// A guest meeting that stayed without participants for `guest.expire_after_minutes`.
    Expired,
    /// Its end time came: an EdCast `end_date`, or the plan's longest meeting.
    TimeLimit,
}

impl EndReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            EndReason::EndedByHost => "ended_by_host",
            EndReason::Cancelled => "cancelled",
            EndReason::Expired => "expired",
            EndReason::TimeLimit => "time_limit",
        }
    }
}

/// The meeting is over; who ended it is the envelope's actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingEnded {
    pub reason: EndReason,
}

impl DomainEvent for MeetingEnded {
    const KIND: &'static str = "meeting.ended";
}

/// The host changed settings; only the fields that changed are present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettingsChanged {
    pub title: Option<String>,
    pub mute_on_join: Option<bool>,
    pub video_off_on_join: Option<bool>,
    pub max_participants: Option<u32>,
    pub locked: Option<bool>,
    pub waiting_room: Option<bool>,
}

impl DomainEvent for SettingsChanged {
    const KIND: &'static str = "meeting.settings_changed";
}

/// A one-use invite; only the token's SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteIssued {
    pub token_sha256: String,
    pub name: Option<String>,
}

impl DomainEvent for InviteIssued {
    const KIND: &'static str = "meeting.invite_issued";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantJoined {
    pub participant_id: String,
    pub name: String,
    pub muted: bool,
    pub video_off: bool,
    /// The invite redeemed to get in, which can never be redeemed again.
    pub invite_sha256: Option<String>,
    /// Joined as the meeting's host (with its admin token). Absent in events written before
    /// hosts could join over the realtime channel: they read as `false`.
    #[serde(default)]
    pub is_host: bool,
}

impl DomainEvent for ParticipantJoined {
    const KIND: &'static str = "meeting.participant_joined";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Disconnected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantLeft {
    pub participant_id: String,
    pub reason: LeaveReason,
}

impl DomainEvent for ParticipantLeft {
    const KIND: &'static str = "meeting.participant_left";
}

/// The host force-muted a participant (onepizza §7 `admin:mute`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantMuted {
    pub participant_id: String,
}

impl DomainEvent for ParticipantMuted {
    const KIND: &'static str = "meeting.participant_muted";
}

/// The host asked a participant to unmute; the participant decides (onepizza §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnmuteRequested {
    pub participant_id: String,
}

impl DomainEvent for UnmuteRequested {
    const KIND: &'static str = "meeting.unmute_requested";
}

/// The host removed a participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantKicked {
    pub participant_id: String,
    pub reason: Option<String>,
}

impl DomainEvent for ParticipantKicked {
    const KIND: &'static str = "meeting.participant_kicked";
}

/// The host muted everyone present; the ids are who was present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllMuted {
    pub participant_ids: Vec<String>,
}

impl DomainEvent for AllMuted {
    const KIND: &'static str = "meeting.all_muted";
}

/// A participant's own media state changed (onepizza §10 `media:toggle-*`); only the fields
/// that changed are present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaChanged {
    pub participant_id: String,
    pub muted: Option<bool>,
    pub video_off: Option<bool>,
    pub screen_sharing: Option<bool>,
}

impl DomainEvent for MediaChanged {
    const KIND: &'static str = "meeting.media_changed";
}

/// A participant raised or lowered their hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandChanged {
    pub participant_id: String,
    pub raised: bool,
}

impl DomainEvent for HandChanged {
    const KIND: &'static str = "meeting.hand_changed";
}

/// A chat message, as sent to everyone in the meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessageSent {
    pub participant_id: String,
    /// The sender's display name at the time.
    pub name: String,
    pub text: String,
}

impl DomainEvent for ChatMessageSent {
    const KIND: &'static str = "meeting.chat_message";
}

/// The host told everyone that recording has started (the consent notice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingAnnounced {
    pub participant_id: String,
    pub host_name: String,
}

impl DomainEvent for RecordingAnnounced {
    const KIND: &'static str = "meeting.recording_announced";
}

/// A host let a client in from the waiting room, or turned it away (onepizza §11). The client
/// was never a participant, so it is named by its connection's id and the name it gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitingRoomDecided {
    pub client_id: String,
    pub name: String,
    pub admitted: bool,
}

impl DomainEvent for WaitingRoomDecided {
    const KIND: &'static str = "meeting.waiting_room_decided";
}

/// How many floating emoji reactions a participant sent. Reactions themselves are relayed, not
/// logged (DESIGN §2); the meeting's actor counts them and logs the count when the participant
/// leaves (or the meeting ends), so usage analytics see them without a log entry per emoji.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReactionsCounted {
    pub participant_id: String,
    pub reactions: u32,
}

impl DomainEvent for ReactionsCounted {
    const KIND: &'static str = "meeting.reactions_counted";
}

event_family! {
    /// Every event of a meeting's stream.
    MeetingEvent {
        Created(MeetingCreated),
        Activated(MeetingActivated),
        Ended(MeetingEnded),
        SettingsChanged(SettingsChanged),
        InviteIssued(InviteIssued),
        ParticipantJoined(ParticipantJoined),
        ParticipantLeft(ParticipantLeft),
        ParticipantMuted(ParticipantMuted),
        UnmuteRequested(UnmuteRequested),
        ParticipantKicked(ParticipantKicked),
        AllMuted(AllMuted),
        MediaChanged(MediaChanged),
        HandChanged(HandChanged),
        ChatMessageSent(ChatMessageSent),
        RecordingAnnounced(RecordingAnnounced),
        WaitingRoomDecided(WaitingRoomDecided),
        ReactionsCounted(ReactionsCounted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_payload, encode_payload};
    use crate::envelope::{Actor, Envelope, Hash};

    fn created() -> MeetingCreated {
        MeetingCreated {
            meeting_id: MeetingId::parse("abc-defg-hij").unwrap(),
            workspace: Workspace::Account(3),
            title: "Team Standup".into(),
            scheduled_at: None,
            settings: MeetingSettings {
                mute_on_join: true,
                ..MeetingSettings::with_cap(50)
            },
            admin_token_sha256: "ab".repeat(32),
            via: Dialect::Native,
            ends_at: None,
        }
    }

    fn envelope_of(event: &MeetingEvent) -> Envelope {
        let new = event.to_new_event(Actor::System);
        Envelope {
            seq: 1,
            stream: "meeting/abc-defg-hij".into(),
            version: 1,
            at: 0,
            kind: new.kind.into_owned(),
            schema: new.schema,
            actor: new.actor,
            payload: new.payload,
            prev_hash: Hash::GENESIS,
            hash: Hash::GENESIS,
        }
    }

    #[test]
    fn every_meeting_event_round_trips_through_an_envelope() {
        let events: Vec<MeetingEvent> = vec![
            created().into(),
            MeetingActivated {
                trigger: ActivationTrigger::Schedule,
            }
            .into(),
            MeetingEnded {
                reason: EndReason::Cancelled,
            }
            .into(),
            SettingsChanged {
                locked: Some(true),
                ..SettingsChanged::default()
            }
            .into(),
            InviteIssued {
                token_sha256: "cd".repeat(32),
                name: Some("Bob".into()),
            }
            .into(),
            ParticipantJoined {
                participant_id: "p1".into(),
                name: "Alice".into(),
                muted: false,
                video_off: true,
                invite_sha256: None,
                is_host: true,
            }
            .into(),
            ParticipantLeft {
                participant_id: "p1".into(),
                reason: LeaveReason::Disconnected,
            }
            .into(),
            ParticipantMuted {
                participant_id: "p1".into(),
            }
            .into(),
            UnmuteRequested {
                participant_id: "p1".into(),
            }
            .into(),
            ParticipantKicked {
                participant_id: "p1".into(),
                reason: None,
            }
            .into(),
            AllMuted {
                participant_ids: vec!["p1".into()],
            }
            .into(),
            MediaChanged {
                participant_id: "p1".into(),
                screen_sharing: Some(true),
                ..MediaChanged::default()
            }
            .into(),
            HandChanged {
                participant_id: "p1".into(),
                raised: true,
            }
            .into(),
            ChatMessageSent {
                participant_id: "p1".into(),
                name: "Alice".into(),
                text: "hello".into(),
            }
            .into(),
            RecordingAnnounced {
                participant_id: "p1".into(),
                host_name: "Alice".into(),
            }
            .into(),
            WaitingRoomDecided {
                client_id: "c1".into(),
                name: "Bob".into(),
                admitted: false,
            }
            .into(),
            ReactionsCounted {
                participant_id: "p1".into(),
                reactions: 7,
            }
            .into(),
        ];
        for event in events {
            let decoded = MeetingEvent::from_envelope(&envelope_of(&event)).unwrap();
            assert_eq!(decoded, Some(event));
        }
    }

    #[test]
    fn a_payload_written_before_a_field_was_added_still_reads() {
        // `via` was added with #[serde(default)]; this is the shape events had before it.
        #[derive(Serialize)]
        struct MeetingCreatedBeforeVia {
            meeting_id: String,
            workspace: Workspace,
            title: String,
            scheduled_at: Option<i64>,
            settings: MeetingSettings,
            admin_token_sha256: String,
        }
        let current = created();
        let old = MeetingCreatedBeforeVia {
            meeting_id: current.meeting_id.to_string(),
            workspace: current.workspace,
            title: current.title.clone(),
            scheduled_at: current.scheduled_at,
            settings: current.settings.clone(),
            admin_token_sha256: current.admin_token_sha256.clone(),
        };
        let read: MeetingCreated = decode_payload(&encode_payload(&old)).unwrap();
        assert_eq!(read, current);
    }

    #[test]
    fn payloads_carry_field_names() {
        let payload = encode_payload(&created());
        let text = String::from_utf8_lossy(&payload);
        assert!(text.contains("admin_token_sha256"));
    }

    #[test]
    fn other_families_kinds_are_not_mine() {
        let mut envelope = envelope_of(&created().into());
        envelope.kind = "account.registered".into();
        assert_eq!(MeetingEvent::from_envelope(&envelope).unwrap(), None);
    }

    #[test]
    fn a_corrupt_payload_is_an_error() {
        let mut envelope = envelope_of(&created().into());
        envelope.payload = vec![0x92, 0x01];
        assert!(MeetingEvent::from_envelope(&envelope).is_err());
    }
}
