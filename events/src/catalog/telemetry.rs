//! Telemetry the web client reports (onepizza §18's tracked errors), in stream
//! `telemetry/errors`. Logged like everything else, so the analytics are a read model that can be
//! rebuilt, and an administrator can audit what was reported.

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReported {
    /// `error.<area>`, e.g. `error.webrtc`.
    pub event_type: String,
    /// The client route it happened on, e.g. `/join`.
    pub route: String,
    pub message: String,
    /// The signed-in account that reported it, if any.
    pub account_id: Option<u64>,
}

impl DomainEvent for ErrorReported {
    const KIND: &'static str = "telemetry.error_reported";
}

event_family! {
    /// Every event of the telemetry stream.
    TelemetryEvent {
        ErrorReported(ErrorReported),
    }
}

/// The stream client error reports go to.
pub const ERRORS_STREAM: &str = "telemetry/errors";
