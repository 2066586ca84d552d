//! Webhook endpoint events, in stream `webhook/<id>` (onepizza §9). Deliveries themselves are
//! not events: they are the delivery engine's own state (cursor and attempts), beside the log.

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;
use crate::ids::Workspace;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookCreated {
    pub webhook_id: u64,
    pub workspace: Workspace,
    pub url: String,
    /// The event names it subscribes to (`meeting.ended`, `participant.joined`, …).
    pub events: Vec<String>,
    /// The signing secret (`whsec_…`). Kept, not hashed: every delivery is signed with it.
    pub secret: String,
    /// Set for a VideoSDK room's webhook: only that room's sessions are delivered, under
    /// VideoSDK's event names and payload shape. Absent in events written before the dialect.
    #[serde(default)]
    pub videosdk_room: Option<String>,
}

impl DomainEvent for WebhookCreated {
    const KIND: &'static str = "webhook.created";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookSecretRotated {
    pub secret: String,
    /// Until then (ms since epoch) deliveries are signed with the previous secret too.
    pub previous_valid_until: i64,
}

impl DomainEvent for WebhookSecretRotated {
    const KIND: &'static str = "webhook.secret_rotated";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDisabled {
    /// Why, e.g. "the endpoint answered 410 Gone".
    pub reason: String,
}

impl DomainEvent for WebhookDisabled {
    const KIND: &'static str = "webhook.disabled";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDeleted {}

impl DomainEvent for WebhookDeleted {
    const KIND: &'static str = "webhook.deleted";
}

event_family! {
    /// Every event of a webhook endpoint's stream.
    WebhookEvent {
        Created(WebhookCreated),
        SecretRotated(WebhookSecretRotated),
        Disabled(WebhookDisabled),
        Deleted(WebhookDeleted),
    }
}
