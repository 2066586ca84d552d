//! A webhook endpoint as an aggregate, stream `webhook/<id>`: the rules that its owner's
//! requests and the delivery engine must both respect — another workspace's endpoint does not
//! exist for a caller, a deleted endpoint takes no more changes, an endpoint is disabled once —
//! decided against the stream itself and appended with the stream's version as the expected
//! version. Two requests that race (a rotation and a deletion, two rotations) are decided one
//! after the other: the second one reads what the first one wrote.
//!
//! Creation is not a command here: the HTTP layer appends `webhook.created` with "no stream" as
//! the expected version, which is already race-free.

use convene_events::catalog::webhook::{
    WebhookDeleted, WebhookDisabled, WebhookEvent, WebhookSecretRotated,
};
use convene_events::ids::webhook_stream;
use convene_events::{Actor, EventLog, Workspace};

use crate::stream::{self, StreamAggregate, StreamError};

/// What the rules need to know of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub webhook_id: u64,
    pub workspace: Workspace,
    pub disabled: bool,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookCommand {
    /// A new signing secret; the previous one keeps signing until `previous_valid_until`.
    RotateSecret {
        secret: String,
        previous_valid_until: i64,
    },
    /// No more deliveries (the endpoint answered 410, say). Disabling twice logs nothing.
    Disable {
        reason: String,
    },
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Unknown, deleted, or another workspace's: the same answer for all three.
    #[error("webhook not found")]
    NotFound,
    #[error("the webhook is busy, try again")]
    Unavailable,
    #[error("{0}")]
    Unexpected(String),
}

impl StreamAggregate for WebhookEndpoint {
    type Event = WebhookEvent;

    fn apply(state: &mut Option<Self>, event: &WebhookEvent) {
        apply(state, event)
    }
}

pub fn apply(state: &mut Option<WebhookEndpoint>, event: &WebhookEvent) {
    match (event, state.as_mut()) {
        (WebhookEvent::Created(created), _) => {
            *state = Some(WebhookEndpoint {
                webhook_id: created.webhook_id,
                workspace: created.workspace,
                disabled: false,
                deleted: false,
            });
        }
        (WebhookEvent::Disabled(_), Some(endpoint)) => endpoint.disabled = true,
        (WebhookEvent::Deleted(_), Some(endpoint)) => endpoint.deleted = true,
        (WebhookEvent::SecretRotated(_), _) | (_, None) => {}
    }
}

/// The events `command` causes, for a caller of `workspace` (`None`: the system, which sees
/// every workspace's endpoints).
pub fn decide(
    state: &Option<WebhookEndpoint>,
    workspace: Option<Workspace>,
    command: &WebhookCommand,
) -> Result<Vec<WebhookEvent>, WebhookError> {
    let endpoint = match state {
        Some(endpoint) if !endpoint.deleted => endpoint,
        _ => return Err(WebhookError::NotFound),
    };
    if workspace.is_some_and(|w| w != endpoint.workspace) {
        return Err(WebhookError::NotFound);
    }
    Ok(match command {
        WebhookCommand::RotateSecret {
            secret,
            previous_valid_until,
        } => vec![WebhookSecretRotated {
            secret: secret.clone(),
            previous_valid_until: *previous_valid_until,
        }
        .into()],
        WebhookCommand::Disable { .. } if endpoint.disabled => Vec::new(),
        WebhookCommand::Disable { reason } => vec![WebhookDisabled {
            reason: reason.clone(),
        }
        .into()],
        WebhookCommand::Delete => vec![WebhookDeleted {}.into()],
    })
}

/// Runs webhook commands against the log.
#[derive(Clone)]
pub struct WebhookService {
    log: EventLog,
}

impl WebhookService {
    pub fn new(log: EventLog) -> Self {
        Self { log }
    }

    /// Decides `command` against the endpoint's stream, for a caller of `workspace` (`None`:
    /// the system), and appends what it causes. Returns the endpoint and the sequence of the
    /// last event written (0 when the command changed nothing).
    pub async fn execute(
        &self,
        webhook_id: u64,
        workspace: Option<Workspace>,
        command: WebhookCommand,
        actor: Actor,
    ) -> Result<(WebhookEndpoint, u64), WebhookError> {
        let stream = webhook_stream(webhook_id);
        let (state, seq) = stream::execute(&self.log, &stream, actor, |state| {
            decide(state, workspace, &command)
        })
        .await?;
        Ok((state.ok_or(WebhookError::NotFound)?, seq))
    }
}

impl From<StreamError> for WebhookError {
    fn from(err: StreamError) -> Self {
        match err {
            StreamError::Unavailable => WebhookError::Unavailable,
            StreamError::Unexpected(detail) => WebhookError::Unexpected(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use convene_events::catalog::webhook::WebhookCreated;

    use super::*;

    fn created(workspace: Workspace) -> Option<WebhookEndpoint> {
        let mut state = None;
        apply(
            &mut state,
            &WebhookCreated {
                webhook_id: 7,
                workspace,
                url: "https://example.com/hook".into(),
                events: vec!["meeting.ended".into()],
                secret: "whsec_x".into(),
                videosdk_room: None,
            }
            .into(),
        );
        state
    }

    #[test]
    fn a_deleted_or_foreign_endpoint_takes_no_command() {
        let owner = Workspace::Account(1);
        let mut state = created(owner);
        let rotate = WebhookCommand::RotateSecret {
            secret: "whsec_y".into(),
            previous_valid_until: 0,
        };
        assert_eq!(
            decide(&state, Some(Workspace::Account(2)), &rotate),
            Err(WebhookError::NotFound)
        );
        assert_eq!(decide(&state, Some(owner), &rotate).unwrap().len(), 1);
        for event in decide(&state, Some(owner), &WebhookCommand::Delete).unwrap() {
            apply(&mut state, &event);
        }
        assert_eq!(
            decide(&state, Some(owner), &rotate),
            Err(WebhookError::NotFound)
        );
        assert_eq!(
            decide(&state, None, &WebhookCommand::Delete),
            Err(WebhookError::NotFound)
        );
    }

    #[test]
    fn an_endpoint_is_disabled_once() {
        let mut state = created(Workspace::Account(1));
        let disable = WebhookCommand::Disable {
            reason: "410".into(),
        };
        for event in decide(&state, None, &disable).unwrap() {
            apply(&mut state, &event);
        }
        assert_eq!(decide(&state, None, &disable), Ok(Vec::new()));
    }
}
