//! A meeting's state, folded from its events.

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
    #[serde(skip)]
    pub(crate) admin_token_sha256: String,
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
                admin_token_sha256: created.admin_token_sha256.clone(),
            });
        }
        MeetingEvent::Activated(_) => {
            if let Some(meeting) = state {
                meeting.status = MeetingStatus::Active;
                meeting.activated_at = Some(at);
            }
        }
        MeetingEvent::Ended(ended) => {
            if let Some(meeting) = state {
                meeting.status = MeetingStatus::Ended;
                meeting.ended_at = Some(at);
                meeting.end_reason = Some(ended.reason);
            }
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
