//! Meeting history (onepizza §8): each workspace's meetings that took place — when they started
//! and ended by the log's clock, and the most participants present at once.
//!
//! Keys in tree `proj/history`:
//! - `m ‖ meeting id` → [`HistoryRow`]: every meeting of a workspace with an owner, from its
//!   creation, so its start, presence and peak can be followed
//! - `w ‖ workspace key ‖ !ended_at (u64 BE) ‖ meeting id` → empty: meetings that started and
//!   ended, newest end first
//! - `n ‖ workspace key` → the last history number handed out in the workspace (u64 BE); a
//!   meeting gets the next one when it ends (the seed's numeric `id`)
//!
//! Cost is not stored: it depends on the billing rate, which is configuration; the HTTP layer
//! prices `duration × peak` with it (and the billing ledger records what was charged).

use convene_events::catalog::meeting::MeetingEvent;
use convene_events::{Envelope, Workspace};
use serde::{Deserialize, Serialize};

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;
use crate::{decode_row, encode_row};

#[derive(Clone)]
pub struct History {
    tree: sled::Tree,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub meeting_id: String,
    pub workspace: Workspace,
    pub title: String,
    /// When it became active (ms since epoch), by the log's clock.
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Participants in the meeting now (while it runs).
    pub present: u32,
    /// The most participants present at once.
    pub peak: u32,
    /// Its place in the workspace's history, from 1, given when it ends.
    pub number: u64,
}

impl HistoryRow {
    /// How long it ran, in milliseconds (0 if it never started).
    pub fn duration_ms(&self) -> i64 {
        match (self.started_at, self.ended_at) {
            (Some(start), Some(end)) => (end - start).max(0),
            _ => 0,
        }
    }
}

fn row_key(meeting_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + meeting_id.len());
    key.push(b'm');
    key.extend_from_slice(meeting_id.as_bytes());
    key
}

fn ended_prefix(workspace: Workspace) -> Vec<u8> {
    let mut key = Vec::with_capacity(32);
    key.push(b'w');
    key.extend_from_slice(&workspace.key());
    key
}

fn ended_key(row: &HistoryRow, ended_at: i64) -> Vec<u8> {
    let mut key = ended_prefix(row.workspace);
    // Inverted, so that a forward scan meets the newest end first.
    key.extend_from_slice(&(!(ended_at.max(0) as u64)).to_be_bytes());
    key.extend_from_slice(row.meeting_id.as_bytes());
    key
}

fn counter_key(workspace: Workspace) -> Vec<u8> {
    let mut key = vec![b'n'];
    key.extend_from_slice(&workspace.key());
    key
}

impl History {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The workspace's ended meetings, newest end first, at most `limit`.
    pub fn ended(
        &self,
        workspace: Workspace,
        limit: usize,
    ) -> Result<Vec<HistoryRow>, ProjectionError> {
        self.tree
            .scan_prefix(ended_prefix(workspace))
            .take(limit)
            .map(|entry| {
                let (key, _) = entry?;
                let meeting_id = std::str::from_utf8(&key[1 + 9 + 8..])
                    .map_err(|_| ProjectionError::Corrupt("history key".into()))?;
                self.row(meeting_id)?
                    .ok_or_else(|| ProjectionError::Corrupt("history index without a row".into()))
            })
            .collect()
    }

    pub fn row(&self, meeting_id: &str) -> Result<Option<HistoryRow>, ProjectionError> {
        self.tree
            .get(row_key(meeting_id))?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }
}

fn staged_row(
    staged: &Staged<'_>,
    meeting_id: &str,
) -> Result<Option<HistoryRow>, ProjectionError> {
    staged
        .get(&row_key(meeting_id))?
        .map(|bytes| decode_row(&bytes))
        .transpose()
}

impl Projection for History {
    const TREE: &'static str = "proj/history";

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let Some(event) =
            MeetingEvent::from_envelope(envelope).map_err(|e| ProjectionError::BadEvent {
                seq: envelope.seq,
                reason: e.to_string(),
            })?
        else {
            return Ok(());
        };
        let meeting_id = envelope.stream.trim_start_matches("meeting/");
        if let MeetingEvent::Created(created) = &event {
            // Guest meetings belong to nobody's history (onepizza §4: nobody is billed).
            if created.workspace != Workspace::Guest {
                let row = HistoryRow {
                    meeting_id: meeting_id.to_owned(),
                    workspace: created.workspace,
                    title: created.title.clone(),
                    started_at: None,
                    ended_at: None,
                    present: 0,
                    peak: 0,
                    number: 0,
                };
                staged.insert(row_key(meeting_id), encode_row(&row));
            }
            return Ok(());
        }
        let Some(mut row) = staged_row(staged, meeting_id)? else {
            return Ok(());
        };
        match event {
            MeetingEvent::Activated(_) => row.started_at = Some(envelope.at),
            MeetingEvent::SettingsChanged(change) => {
                if let Some(title) = change.title {
                    row.title = title;
                }
            }
            MeetingEvent::ParticipantJoined(_) => {
                row.present += 1;
                row.peak = row.peak.max(row.present);
            }
            MeetingEvent::ParticipantLeft(_) | MeetingEvent::ParticipantKicked(_) => {
                row.present = row.present.saturating_sub(1);
            }
            MeetingEvent::Ended(_) => {
                row.ended_at = Some(envelope.at);
                row.present = 0;
                // A meeting cancelled before it started took no place in anyone's history.
                if row.started_at.is_some() {
                    let counter = counter_key(row.workspace);
                    let last = match staged.get(&counter)? {
                        Some(bytes) => u64::from_be_bytes(
                            bytes
                                .as_slice()
                                .try_into()
                                .map_err(|_| ProjectionError::Corrupt("history counter".into()))?,
                        ),
                        None => 0,
                    };
                    row.number = last + 1;
                    staged.insert(counter, row.number.to_be_bytes().to_vec());
                    staged.insert(ended_key(&row, envelope.at), Vec::new());
                }
            }
            _ => return Ok(()),
        }
        staged.insert(row_key(meeting_id), encode_row(&row));
        Ok(())
    }
}
