//! The event feed's index: which log sequences belong to which workspace, so that a workspace
//! can read its own events in log order (`GET /api/events`) without scanning everyone's.
//!
//! Keys in tree `proj/event_feed`:
//! - `m ‖ meeting id` → workspace key: the owner of each meeting with one
//! - `w ‖ workspace key ‖ seq (u64 BE)` → empty: every event of the workspace's meetings
//!
//! The index is folded in log order and read only up to its checkpoint, so a reader that pages
//! with `after` never misses an event: nothing below the checkpoint can be added later.
//! Guest meetings have no owner and are not indexed.

use convene_events::catalog::meeting::MeetingEvent;
use convene_events::{Envelope, Workspace};

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;

#[derive(Clone)]
pub struct EventFeed {
    tree: sled::Tree,
}

fn owner_key(meeting_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + meeting_id.len());
    key.push(b'm');
    key.extend_from_slice(meeting_id.as_bytes());
    key
}

fn feed_prefix(workspace_key: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + workspace_key.len() + 8);
    key.push(b'w');
    key.extend_from_slice(workspace_key);
    key
}

fn feed_key(workspace_key: &[u8], seq: u64) -> Vec<u8> {
    let mut key = feed_prefix(workspace_key);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

impl EventFeed {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The workspace's event sequences after `after`, in log order, at most `limit`.
    pub fn after(
        &self,
        workspace: Workspace,
        after: u64,
        limit: usize,
    ) -> Result<Vec<u64>, ProjectionError> {
        let workspace_key = workspace.key();
        let start = feed_key(&workspace_key, after.saturating_add(1));
        let end = feed_key(&workspace_key, u64::MAX);
        let prefix_len = 1 + workspace_key.len();
        self.tree
            .range(start..=end)
            .take(limit)
            .map(|entry| {
                let (key, _) = entry?;
                key.get(prefix_len..)
                    .and_then(|bytes| bytes.try_into().ok())
                    .map(u64::from_be_bytes)
                    .ok_or_else(|| ProjectionError::Corrupt("event feed key".into()))
            })
            .collect()
    }
}

impl Projection for EventFeed {
    const TREE: &'static str = "proj/event_feed";

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let Some(meeting_id) = envelope.stream.strip_prefix("meeting/") else {
            return Ok(());
        };
        if envelope.version == 1 {
            let event =
                MeetingEvent::from_envelope(envelope).map_err(|e| ProjectionError::BadEvent {
                    seq: envelope.seq,
                    reason: e.to_string(),
                })?;
            if let Some(MeetingEvent::Created(created)) = event {
                if created.workspace != Workspace::Guest {
                    staged.insert(owner_key(meeting_id), created.workspace.key().to_vec());
                }
            }
        }
        if let Some(workspace_key) = staged.get(&owner_key(meeting_id))? {
            staged.insert(feed_key(&workspace_key, envelope.seq), Vec::new());
        }
        Ok(())
    }
}
