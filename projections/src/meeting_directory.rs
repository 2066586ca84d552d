//! Meetings by id, and each workspace's live (active or scheduled) meetings, newest first.
//!
//! Keys in tree `proj/meeting_directory`:
//! - `m ‖ meeting id` → [`MeetingRow`]
//! - `w ‖ workspace (9 bytes) ‖ created_at (u64 BE) ‖ meeting id` → empty, for live meetings
//!   only, so listing a workspace walks its live meetings and never its history.

use convene_events::catalog::meeting::{MeetingEvent, MeetingSettings};
use convene_events::{Envelope, Workspace};
use serde::{Deserialize, Serialize};

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;
use crate::{decode_row, encode_row};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowStatus {
    Scheduled,
    Active,
    Ended,
}

impl RowStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            RowStatus::Scheduled => "scheduled",
            RowStatus::Active => "active",
            RowStatus::Ended => "ended",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingRow {
    pub meeting_id: String,
    pub workspace: Workspace,
    pub title: String,
    pub status: RowStatus,
    pub settings: MeetingSettings,
    pub created_at: i64,
    pub scheduled_at: Option<i64>,
    pub activated_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub participant_count: u32,
    /// Who is in the meeting now, in order of arrival.
    pub participants: Vec<ParticipantRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantRow {
    pub participant_id: String,
    pub name: String,
    pub muted: bool,
    pub video_off: bool,
    pub screen_sharing: bool,
    pub hand_raised: bool,
    pub joined_at: i64,
}

#[derive(Clone)]
pub struct MeetingDirectory {
    tree: sled::Tree,
}

fn row_key(meeting_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + meeting_id.len());
    key.push(b'm');
    key.extend_from_slice(meeting_id.as_bytes());
    key
}

fn workspace_prefix(workspace: Workspace) -> Vec<u8> {
    let mut key = Vec::with_capacity(32);
    key.push(b'w');
    key.extend_from_slice(&workspace.key());
    key
}

fn live_key(row: &MeetingRow) -> Vec<u8> {
    let mut key = workspace_prefix(row.workspace);
    key.extend_from_slice(&(row.created_at.max(0) as u64).to_be_bytes());
    key.extend_from_slice(row.meeting_id.as_bytes());
    key
}

impl MeetingDirectory {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    pub fn get(&self, meeting_id: &str) -> Result<Option<MeetingRow>, ProjectionError> {
        self.tree
            .get(row_key(meeting_id))?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }

    /// Every active meeting that has participants in it (for start-up: after a restart nobody
    /// is connected, whatever the log says).
    pub fn occupied(&self) -> Result<Vec<MeetingRow>, ProjectionError> {
        let mut rows = Vec::new();
        for entry in self.tree.scan_prefix([b'w']) {
            let (key, _) = entry?;
            let meeting_id = std::str::from_utf8(&key[1 + 9 + 8..])
                .map_err(|e| ProjectionError::Corrupt(e.to_string()))?;
            if let Some(row) = self.get(meeting_id)? {
                if !row.participants.is_empty() {
                    rows.push(row);
                }
            }
        }
        Ok(rows)
    }

    /// How many meetings are active and how many are scheduled, across every workspace.
    pub fn live_counts(&self) -> Result<(u64, u64), ProjectionError> {
        let (mut active, mut scheduled) = (0, 0);
        for entry in self.tree.scan_prefix([b'w']) {
            let (key, _) = entry?;
            let meeting_id = std::str::from_utf8(&key[1 + 9 + 8..])
                .map_err(|e| ProjectionError::Corrupt(e.to_string()))?;
            match self.get(meeting_id)?.map(|row| row.status) {
                Some(RowStatus::Active) => active += 1,
                Some(RowStatus::Scheduled) => scheduled += 1,
                _ => {}
            }
        }
        Ok((active, scheduled))
    }

    /// A workspace's active and scheduled meetings, newest first.
    pub fn live(&self, workspace: Workspace) -> Result<Vec<MeetingRow>, ProjectionError> {
        let mut rows = Vec::new();
        for entry in self.tree.scan_prefix(workspace_prefix(workspace)).rev() {
            let (key, _) = entry?;
            let meeting_id = std::str::from_utf8(&key[1 + 9 + 8..])
                .map_err(|e| ProjectionError::Corrupt(e.to_string()))?;
            if let Some(row) = self.get(meeting_id)? {
                rows.push(row);
            }
        }
        Ok(rows)
    }
}

impl Projection for MeetingDirectory {
    const TREE: &'static str = "proj/meeting_directory";
    /// 2: participants carry screen sharing and a raised hand.
    const VERSION: u32 = 2;

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let Some(event) =
            MeetingEvent::from_envelope(envelope).map_err(|e| ProjectionError::BadEvent {
                seq: envelope.seq,
                reason: e.to_string(),
            })?
        else {
            return Ok(());
        };
        match event {
            MeetingEvent::Created(created) => {
                let row = MeetingRow {
                    meeting_id: created.meeting_id.to_string(),
                    workspace: created.workspace,
                    title: created.title,
                    status: RowStatus::Scheduled,
                    settings: created.settings,
                    created_at: envelope.at,
                    scheduled_at: created.scheduled_at,
                    activated_at: None,
                    ended_at: None,
                    participant_count: 0,
                    participants: Vec::new(),
                };
                staged.insert(live_key(&row), Vec::new());
                staged.insert(row_key(&row.meeting_id), encode_row(&row));
            }
            MeetingEvent::Activated(_) => {
                update(staged, envelope, |row| {
                    row.status = RowStatus::Active;
                    row.activated_at = Some(envelope.at);
                })?;
            }
            MeetingEvent::Ended(_) => {
                let row = update(staged, envelope, |row| {
                    row.status = RowStatus::Ended;
                    row.ended_at = Some(envelope.at);
                    row.participants.clear();
                    row.participant_count = 0;
                })?;
                staged.remove(live_key(&row));
            }
            MeetingEvent::SettingsChanged(change) => {
                update(staged, envelope, |row| {
                    if let Some(title) = &change.title {
                        row.title = title.clone();
                    }
                    row.settings = row.settings.patched(&change);
                })?;
            }
            MeetingEvent::ParticipantJoined(joined) => {
                update(staged, envelope, |row| {
                    row.participants.push(ParticipantRow {
                        participant_id: joined.participant_id,
                        name: joined.name,
                        muted: joined.muted,
                        video_off: joined.video_off,
                        screen_sharing: false,
                        hand_raised: false,
                        joined_at: envelope.at,
                    });
                    row.participant_count = row.participants.len() as u32;
                })?;
            }
            MeetingEvent::ParticipantLeft(left) => {
                update(staged, envelope, |row| {
                    row.remove_participant(&left.participant_id)
                })?;
            }
            MeetingEvent::ParticipantKicked(kicked) => {
                update(staged, envelope, |row| {
                    row.remove_participant(&kicked.participant_id)
                })?;
            }
            MeetingEvent::ParticipantMuted(muted) => {
                update(staged, envelope, |row| {
                    row.mute(|p| p.participant_id == muted.participant_id)
                })?;
            }
            MeetingEvent::AllMuted(all) => {
                update(staged, envelope, |row| {
                    row.mute(|p| all.participant_ids.contains(&p.participant_id))
                })?;
            }
            MeetingEvent::MediaChanged(change) => {
                update(staged, envelope, |row| {
                    if let Some(p) = row.participant_mut(&change.participant_id) {
                        p.muted = change.muted.unwrap_or(p.muted);
                        p.video_off = change.video_off.unwrap_or(p.video_off);
                        p.screen_sharing = change.screen_sharing.unwrap_or(p.screen_sharing);
                    }
                })?;
            }
            MeetingEvent::HandChanged(hand) => {
                update(staged, envelope, |row| {
                    if let Some(p) = row.participant_mut(&hand.participant_id) {
                        p.hand_raised = hand.raised;
                    }
                })?;
            }
            MeetingEvent::InviteIssued(_)
            | MeetingEvent::UnmuteRequested(_)
            | MeetingEvent::ChatMessageSent(_)
            | MeetingEvent::RecordingAnnounced(_)
            | MeetingEvent::WaitingRoomDecided(_)
            | MeetingEvent::ReactionsCounted(_) => {}
        }
        Ok(())
    }
}

impl MeetingRow {
    fn remove_participant(&mut self, participant_id: &str) {
        self.participants
            .retain(|p| p.participant_id != participant_id);
        self.participant_count = self.participants.len() as u32;
    }

    fn participant_mut(&mut self, participant_id: &str) -> Option<&mut ParticipantRow> {
        self.participants
            .iter_mut()
            .find(|p| p.participant_id == participant_id)
    }

    fn mute(&mut self, which: impl Fn(&ParticipantRow) -> bool) {
        for participant in self.participants.iter_mut().filter(|p| which(p)) {
            participant.muted = true;
        }
    }
}

/// Changes the row of the envelope's meeting; returns it as changed.
fn update(
    staged: &mut Staged<'_>,
    envelope: &Envelope,
    change: impl FnOnce(&mut MeetingRow),
) -> Result<MeetingRow, ProjectionError> {
    let meeting_id = envelope.stream.trim_start_matches("meeting/");
    let key = row_key(meeting_id);
    let Some(bytes) = staged.get(&key)? else {
        return Err(ProjectionError::BadEvent {
            seq: envelope.seq,
            reason: format!("{} before meeting.created", envelope.kind),
        });
    };
    let mut row: MeetingRow = decode_row(&bytes)?;
    change(&mut row);
    staged.insert(key, encode_row(&row));
    Ok(row)
}
