//! A meeting's state, folded from its events.

use std::collections::{BTreeMap, BTreeSet};

use convene_events::catalog::meeting::{Dialect, EndReason, MeetingEvent, MeetingSettings};
use convene_events::{Envelope, MeetingId, Workspace};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    Scheduled,
    Active,
    Ended,
}

impl MeetingStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            MeetingStatus::Scheduled => "scheduled",
            MeetingStatus::Active => "active",
            MeetingStatus::Ended => "ended",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meeting {
    pub id: MeetingId,
    pub workspace: Workspace,
    pub title: String,
    pub status: MeetingStatus,
    pub settings: MeetingSettings,
    pub created_at: i64,
    pub scheduled_at: Option<i64>,
    pub activated_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub end_reason: Option<EndReason>,
    pub via: Dialect,
    /// When it ends by itself, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
    /// Who is in the meeting now, by participant id.
    pub participants: BTreeMap<String, Participant>,
    /// Since when the active meeting has had nobody in it (guest meetings expire on this).
    pub empty_since: Option<i64>,
    /// The host announced a recording (onepizza §10 `recording:broadcast-started`); the
    /// protocol has no "stopped", so it stays announced until the meeting ends.
    pub recording_announced: bool,
    #[serde(skip)]
    pub(crate) admin_token_sha256: String,
    /// SHA-256 of invites issued and not yet redeemed.
    #[serde(skip)]
    pub(crate) open_invites: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub name: String,
    pub muted: bool,
    pub video_off: bool,
    pub screen_sharing: bool,
    pub hand_raised: bool,
    pub is_host: bool,
    pub joined_at: i64,
}

/// Folds one event into the state. `at` is the envelope's timestamp. Pure: no I/O, no clock.
pub fn apply(state: &mut Option<Meeting>, event: &MeetingEvent, at: i64) {
    match event {
        MeetingEvent::Created(created) => {
            *state = Some(Meeting {
                id: created.meeting_id.clone(),
                workspace: created.workspace,
                title: created.title.clone(),
                status: MeetingStatus::Scheduled,
                settings: created.settings.clone(),
                created_at: at,
                scheduled_at: created.scheduled_at,
                activated_at: None,
                ended_at: None,
                end_reason: None,
                via: created.via,
                ends_at: created.ends_at,
                participants: BTreeMap::new(),
                empty_since: None,
                recording_announced: false,
                admin_token_sha256: created.admin_token_sha256.clone(),
                open_invites: BTreeSet::new(),
            });
        }
        other => {
            if let Some(meeting) = state {
                apply_to_existing(meeting, other, at);
            }
        }
    }
}

fn apply_to_existing(meeting: &mut Meeting, event: &MeetingEvent, at: i64) {
    match event {
        MeetingEvent::Created(_) => {}
        MeetingEvent::Activated(_) => {
            meeting.status = MeetingStatus::Active;
            meeting.activated_at = Some(at);
            meeting.empty_since = Some(at);
        }
        MeetingEvent::Ended(ended) => {
            meeting.status = MeetingStatus::Ended;
            meeting.ended_at = Some(at);
            meeting.end_reason = Some(ended.reason);
            meeting.participants.clear();
            meeting.open_invites.clear();
            meeting.empty_since = None;
            meeting.recording_announced = false;
        }
        MeetingEvent::SettingsChanged(change) => {
            if let Some(title) = &change.title {
                meeting.title = title.clone();
            }
            meeting.settings = meeting.settings.patched(change);
        }
        MeetingEvent::InviteIssued(invite) => {
            meeting.open_invites.insert(invite.token_sha256.clone());
        }
        MeetingEvent::ParticipantJoined(joined) => {
            if let Some(invite) = &joined.invite_sha256 {
                meeting.open_invites.remove(invite);
            }
            meeting.participants.insert(
                joined.participant_id.clone(),
                Participant {
                    name: joined.name.clone(),
                    muted: joined.muted,
                    video_off: joined.video_off,
                    screen_sharing: false,
                    hand_raised: false,
                    is_host: joined.is_host,
                    joined_at: at,
                },
            );
            meeting.empty_since = None;
        }
        MeetingEvent::ParticipantLeft(left) => meeting.remove_participant(&left.participant_id, at),
        MeetingEvent::ParticipantKicked(kicked) => {
            meeting.remove_participant(&kicked.participant_id, at)
        }
        MeetingEvent::ParticipantMuted(muted) => {
            if let Some(participant) = meeting.participants.get_mut(&muted.participant_id) {
                participant.muted = true;
            }
        }
        // A request only: the participant unmutes themselves, if they choose to.
        MeetingEvent::UnmuteRequested(_) => {}
        MeetingEvent::AllMuted(all) => {
            for id in &all.participant_ids {
                if let Some(participant) = meeting.participants.get_mut(id) {
                    participant.muted = true;
                }
            }
        }
        MeetingEvent::MediaChanged(change) => {
            if let Some(participant) = meeting.participants.get_mut(&change.participant_id) {
                participant.muted = change.muted.unwrap_or(participant.muted);
                participant.video_off = change.video_off.unwrap_or(participant.video_off);
                participant.screen_sharing =
                    change.screen_sharing.unwrap_or(participant.screen_sharing);
            }
        }
        MeetingEvent::HandChanged(hand) => {
            if let Some(participant) = meeting.participants.get_mut(&hand.participant_id) {
                participant.hand_raised = hand.raised;
            }
        }
        MeetingEvent::RecordingAnnounced(_) => meeting.recording_announced = true,
        // Said to everyone, or counted for analytics; the meeting's state does not change.
        MeetingEvent::ChatMessageSent(_)
        | MeetingEvent::WaitingRoomDecided(_)
        | MeetingEvent::ReactionsCounted(_) => {}
    }
}

impl Meeting {
    fn remove_participant(&mut self, participant_id: &str, at: i64) {
        self.participants.remove(participant_id);
        if self.participants.is_empty() && self.status == MeetingStatus::Active {
            self.empty_since = Some(at);
        }
    }
}

/// Rebuilds a meeting from its stream's envelopes (skipping kinds it does not know).
pub fn fold<'a>(
    envelopes: impl IntoIterator<Item = &'a Envelope>,
) -> Result<Option<Meeting>, convene_events::CodecError> {
    let mut state = None;
    for envelope in envelopes {
        if let Some(event) = MeetingEvent::from_envelope(envelope)? {
            apply(&mut state, &event, envelope.at);
        }
    }
    Ok(state)
}
