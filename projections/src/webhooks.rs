//! Webhook endpoints (onepizza §9) as their streams leave them: each one's target, subscribed
//! events, secrets and state, and each workspace's list.
//!
//! Keys in tree `proj/webhooks`:
//! - `h ‖ id (u64 BE)` → [`WebhookRow`]
//! - `w ‖ workspace key ‖ id (u64 BE)` → empty: a workspace's endpoints, oldest first
//!
//! A deleted endpoint leaves no row.

use convene_events::catalog::webhook::WebhookEvent;
use convene_events::{Envelope, Workspace};
use serde::{Deserialize, Serialize};

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;
use crate::{decode_row, encode_row};

#[derive(Clone)]
pub struct Webhooks {
    tree: sled::Tree,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub webhook_id: u64,
    pub workspace: Workspace,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    /// The secret before the last rotation, and until when (ms) it still signs.
    pub previous_secret: Option<(String, i64)>,
    pub created_at: i64,
    /// The log position of its creation: deliveries start after it.
    pub created_seq: u64,
    /// Why it no longer receives deliveries, if it does not.
    pub disabled: Option<String>,
    /// A VideoSDK room's webhook: only that room's sessions, in VideoSDK's shape. Such an
    /// endpoint is not in its workspace's list (the native API does not show it).
    pub videosdk_room: Option<String>,
}

fn row_key(webhook_id: u64) -> Vec<u8> {
    let mut key = vec![b'h'];
    key.extend_from_slice(&webhook_id.to_be_bytes());
    key
}

fn list_prefix(workspace: Workspace) -> Vec<u8> {
    let mut key = vec![b'w'];
    key.extend_from_slice(&workspace.key());
    key
}

fn list_key(workspace: Workspace, webhook_id: u64) -> Vec<u8> {
    let mut key = list_prefix(workspace);
    key.extend_from_slice(&webhook_id.to_be_bytes());
    key
}

fn webhook_id_of(stream: &str) -> Option<u64> {
    stream.strip_prefix("webhook/")?.parse().ok()
}

impl Webhooks {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    pub fn get(&self, webhook_id: u64) -> Result<Option<WebhookRow>, ProjectionError> {
        self.tree
            .get(row_key(webhook_id))?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }

    /// The workspace's endpoints, oldest first.
    pub fn list(&self, workspace: Workspace) -> Result<Vec<WebhookRow>, ProjectionError> {
        let prefix = list_prefix(workspace);
        self.tree
            .scan_prefix(&prefix)
            .map(|entry| {
                let (key, _) = entry?;
                let id = key[prefix.len()..]
                    .try_into()
                    .map(u64::from_be_bytes)
                    .map_err(|_| ProjectionError::Corrupt("webhook list key".into()))?;
                self.get(id)?
                    .ok_or_else(|| ProjectionError::Corrupt("webhook listed without a row".into()))
            })
            .collect()
    }

    /// Every endpoint of every workspace.
    pub fn all(&self) -> Result<Vec<WebhookRow>, ProjectionError> {
        self.tree
            .scan_prefix([b'h'])
            .map(|entry| decode_row(&entry?.1))
            .collect()
    }
}

impl Projection for Webhooks {
    const TREE: &'static str = "proj/webhooks";
    /// 2: rows name the VideoSDK room of a room's webhook.
    const VERSION: u32 = 2;

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let Some(webhook_id) = webhook_id_of(&envelope.stream) else {
            return Ok(());
        };
        let Some(event) =
            WebhookEvent::from_envelope(envelope).map_err(|e| ProjectionError::BadEvent {
                seq: envelope.seq,
                reason: e.to_string(),
            })?
        else {
            return Ok(());
        };
        let current: Option<WebhookRow> = staged
            .get(&row_key(webhook_id))?
            .map(|bytes| decode_row(&bytes))
            .transpose()?;
        let row = match (event, current) {
            (WebhookEvent::Created(created), _) => {
                if created.videosdk_room.is_none() {
                    staged.insert(list_key(created.workspace, webhook_id), Vec::new());
                }
                WebhookRow {
                    webhook_id,
                    workspace: created.workspace,
                    url: created.url,
                    events: created.events,
                    secret: created.secret,
                    previous_secret: None,
                    created_at: envelope.at,
                    created_seq: envelope.seq,
                    disabled: None,
                    videosdk_room: created.videosdk_room,
                }
            }
            (WebhookEvent::SecretRotated(rotated), Some(mut row)) => {
                let previous = std::mem::replace(&mut row.secret, rotated.secret);
                row.previous_secret = Some((previous, rotated.previous_valid_until));
                row
            }
            (WebhookEvent::Disabled(disabled), Some(mut row)) => {
                row.disabled = Some(disabled.reason);
                row
            }
            (WebhookEvent::Deleted(_), Some(row)) => {
                staged.remove(list_key(row.workspace, webhook_id));
                staged.remove(row_key(webhook_id));
                return Ok(());
            }
            (_, None) => return Ok(()),
        };
        staged.insert(row_key(webhook_id), encode_row(&row));
        Ok(())
    }
}
