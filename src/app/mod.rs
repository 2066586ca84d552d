//! The application layer: the services every adapter shares and the use cases every dialect
//! calls. HTTP dialects (`crate::http`) and realtime wires (`crate::realtime`) depend on this
//! module and never on each other.
//!
//! Layout:
//! - [`AppState`] / [`Services`]: the log, the meeting registry, the read models, the mailer,
//!   the clock and the configuration, shared by every request and connection.
//! - [`error`]: [`AppError`], the refusals every use case returns; each adapter words them.
//! - [`principal`]: who acts — an account and the credential it used.
//! - [`meetings`]: create (admitted under the plan), host commands, the tenancy check of reads.
//! - [`videosdk`]: VideoSDK tokens, and a token's join of a room's session.
//! - [`settings`]: a meeting's settings as every dialect and wire changes and shows them.
//! - [`plans`]: which plan governs a workspace and whether it may create a meeting.
//! - [`rate_limits`], [`hashing`], [`turns`], [`cache`]: the services behind them — per-IP
//!   limits, argon2 on the blocking pool, per-key turns for check-then-act, answers cached by
//!   read-model position.

pub mod cache;
pub mod error;
pub mod hashing;
pub mod meetings;
pub mod plans;
pub mod principal;
pub mod rate_limits;
pub mod settings;
pub mod turns;
pub mod videosdk;

use std::sync::Arc;

use convene_actors::{AccountService, LoginSessionService, MeetingRegistry, WebhookService};
use convene_events::{Clock, EventLog, Workspace};
use convene_projections::{Projections, Visibility};

pub use error::AppError;

use crate::config::Config;
use crate::email::Mailer;
use rate_limits::RateLimits;
use turns::Turns;

/// Everything a handler may use; cloned per request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub log: EventLog,
    pub registry: MeetingRegistry,
    pub accounts: AccountService,
    /// Webhook endpoints' commands (rotate, disable, delete), decided against their streams.
    pub webhook_endpoints: WebhookService,
    pub sessions: LoginSessionService,
    pub projections: Projections,
    pub mailer: Mailer,
    pub rate_limits: RateLimits,
    pub hashing: hashing::PasswordHashing,
    /// The JSON of each workspace's meeting list, as of a meeting-directory position.
    pub meeting_lists: cache::VersionedCache<Workspace, bytes::Bytes>,
    /// Per-workspace turns at creating a meeting under a monthly quota.
    pub creation_turns: Turns<Workspace>,
    /// Per-room turns at opening a VideoSDK session.
    pub videosdk_turns: Turns<String>,
    /// Webhook delivery: attempts for the API, redelivery; its engine runs beside the server.
    pub webhooks: crate::webhooks::dispatcher::WebhookDispatcher,
    /// The long-lived realtime connections, closed and waited for when the server stops.
    pub connections: crate::net::connections::Connections,
    /// When the server started (for uptime).
    pub started: std::time::Instant,
}

impl AppState {
    /// Waits until every read model the API answers from shows the log up to `seq`
    /// (read-your-writes; the administrators' analytics are not waited for).
    pub async fn caught_up(&self, seq: u64) -> Result<(), AppError> {
        self.visible(seq, Visibility::Api).await
    }

    /// Waits until the read models `visibility` names show the log up to `seq`.
    pub async fn visible(&self, seq: u64, visibility: Visibility<'_>) -> Result<(), AppError> {
        self.projections
            .wait_visible(seq, visibility, self.config.read_your_writes_timeout())
            .await
            .map_err(AppError::from)
    }

    /// A fresh id for an account, key, company or session (unique across the server's life).
    pub fn next_id(&self) -> Result<u64, AppError> {
        self.log
            .next_id()
            .map_err(|e| AppError::Unexpected(e.to_string()))
    }
}
