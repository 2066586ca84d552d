//! Meetings as every dialect creates and controls them: [`create`] admits the meeting under
//! the workspace's plan ([`crate::app::plans`]), gives it its end time, and hands the command
//! to the meeting's actor, where it is decided and logged; [`host_command`] runs a host action with the admin token;
//! [`visible_row`] is the one tenancy check of a read.

use convene_actors::{
    CommandOutcome, CreateMeeting, HostAction, Meeting, MeetingCommand, MeetingError,
};
use convene_events::catalog::meeting::{Dialect, MeetingSettings};
use convene_events::{Actor, MeetingId, Workspace};
use convene_projections::{
    AccountsDirectory, EventFeed, MeetingDirectory, MeetingRow, Projection, TimeIndex, VideoSdk,
    Visibility,
};

use crate::app::plans::admit_meeting;
use crate::app::principal::Principal;
use crate::app::{AppError, AppState};
use crate::domain::AdminToken;

/// The read models a new meeting must be visible in when its creation answers: the lists and
/// the meeting itself, the month's count under a quota, the event feed, the scheduler's index,
/// VideoSDK's sessions. History, webhooks, the ledger and analytics see a meeting only when it
/// ends or on their own schedule, so a creation does not wait for them.
const CREATION_READS: &[&str] = &[
    MeetingDirectory::TREE,
    AccountsDirectory::TREE,
    EventFeed::TREE,
    TimeIndex::TREE,
    VideoSdk::TREE,
];

/// What a dialect asks for when it creates a meeting.
pub struct NewMeeting {
    pub workspace: Workspace,
    pub title: String,
    pub scheduled_at: Option<i64>,
    pub settings: MeetingSettings,
    pub actor: Actor,
    pub via: Dialect,
    /// When the dialect asks the meeting to end by itself (an EdCast `end_date`, a VideoSDK
    /// `autoCloseConfig`); the plan's duration cap may end it sooner.
    pub requested_end: Option<i64>,
}

pub struct Created {
    pub meeting: Meeting,
    pub admin_token: String,
    /// The log sequence of its `meeting.created`: EdCast's numeric meeting id.
    pub created_seq: u64,
}

/// Creates a meeting through its actor and waits until the read models show it.
pub async fn create(state: &AppState, new: NewMeeting) -> Result<Created, AppError> {
    let admin_token = AdminToken::generate();
    // Ids are random; a collision with an existing meeting is astronomically rare but possible,
    // and the actor refuses it, so draw again.
    for _ in 0..3 {
        if let Some(created) =
            create_with_id(state, &new, MeetingId::generate(), admin_token.expose()).await?
        {
            return Ok(created);
        }
    }
    Err(AppError::Unexpected(
        "three meeting id collisions in a row".into(),
    ))
}

/// Creates a meeting with the id and admin token given (a dialect that must name the meeting
/// before it exists: VideoSDK's session); `None` when the id is taken already.
///
/// The workspace's plan admits it first (monthly quota, credits; guest meetings have no plan),
/// and its duration cap, with the dialect's requested end, becomes the meeting's end time,
/// which the meeting itself then holds and decides on.
pub async fn create_with_id(
    state: &AppState,
    new: &NewMeeting,
    meeting_id: MeetingId,
    admin_token: &str,
) -> Result<Option<Created>, AppError> {
    let admission = match new.workspace {
        Workspace::Guest => None,
        workspace => Some(admit_meeting(state, workspace).await?),
    };
    let starts = new.scheduled_at.unwrap_or_else(|| state.clock.now_ms());
    let capped = admission.as_ref().and_then(|a| a.capped_end(starts));
    let ends_at = match (new.requested_end, capped) {
        (Some(requested), Some(cap)) => Some(requested.min(cap)),
        (requested, cap) => requested.or(cap),
    };
    let command = MeetingCommand::Create(CreateMeeting {
        meeting_id: meeting_id.clone(),
        workspace: new.workspace,
        title: new.title.clone(),
        scheduled_at: new.scheduled_at,
        settings: new.settings.clone(),
        admin_token_sha256: convene_actors::sha256_hex(admin_token),
        via: new.via,
        ends_at,
    });
    match state
        .registry
        .execute(&meeting_id, command, new.actor.clone())
        .await
    {
        Ok(outcome) => {
            state
                .visible(outcome.last_seq, Visibility::Only(CREATION_READS))
                .await?;
            let created_seq = state
                .log
                .seq_of(&meeting_id.stream(), 1)
                .map_err(|e| AppError::Unexpected(e.to_string()))?
                .ok_or_else(|| {
                    AppError::Unexpected(format!("meeting {meeting_id} has no first event"))
                })?;
            Ok(Some(Created {
                meeting: outcome.meeting,
                admin_token: admin_token.to_owned(),
                created_seq,
            }))
        }
        Err(MeetingError::AlreadyExists) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Runs a host action on the meeting `raw_id` with its admin token, as `principal`.
///
/// The principal must be of the meeting's workspace. A guest meeting, which has no workspace,
/// is controlled by its admin token alone — also when the browser happens to send a session
/// cookie, as it does for a signed-in user who started a guest meeting.
pub async fn host_command(
    state: &AppState,
    principal: Option<Principal>,
    admin_token: Option<&str>,
    raw_id: &str,
    action: HostAction,
) -> Result<CommandOutcome, AppError> {
    let guest_row = visible_row(state, Workspace::Guest, raw_id).ok();
    let (row, actor) = match (guest_row, &principal) {
        (Some(row), Some(principal)) => (row, principal.actor()),
        (Some(row), None) => {
            let actor = Actor::MeetingHost {
                meeting_id: row.meeting_id.clone(),
            };
            (row, actor)
        }
        (None, Some(principal)) => (
            visible_row(state, principal.workspace(), raw_id)?,
            principal.actor(),
        ),
        // Not a guest meeting and no credentials: the same 401 whether or not it exists.
        (None, None) => {
            return Err(AppError::Unauthorized(
                "missing x-api-key header or session cookie",
            ))
        }
    };
    let admin_token = admin_token
        .ok_or(AppError::Forbidden("missing x-admin-token header"))?
        .to_owned();
    let meeting_id =
        MeetingId::parse(&row.meeting_id).map_err(|e| AppError::Unexpected(e.to_string()))?;
    let command = MeetingCommand::host(row.workspace, admin_token, action);
    let outcome = state.registry.execute(&meeting_id, command, actor).await?;
    state.caught_up(outcome.last_seq).await?;
    Ok(outcome)
}

/// Ends a meeting as the workspace that owns it, without its admin token: EdCast's DELETE,
/// VideoSDK's session end, an administrator deactivating an account. The refusal stays a
/// [`MeetingError`], which each dialect words its own way (an ended EdCast meeting is "not
/// found", an ended VideoSDK session a 409).
pub async fn end_by_owner(
    state: &AppState,
    meeting_id: &MeetingId,
    workspace: Workspace,
    actor: Actor,
) -> Result<CommandOutcome, MeetingError> {
    state
        .registry
        .execute(meeting_id, MeetingCommand::EndByOwner { workspace }, actor)
        .await
}

/// The meeting if `workspace` may see it, or 404 — for malformed ids, unknown ids and other
/// tenants' meetings alike.
pub fn visible_row(
    state: &AppState,
    workspace: Workspace,
    raw_id: &str,
) -> Result<MeetingRow, AppError> {
    let not_found = AppError::NotFound("meeting not found");
    let Ok(id) = MeetingId::parse(raw_id) else {
        return Err(not_found);
    };
    match state.projections.meetings().get(id.as_str())? {
        Some(row) if row.workspace == workspace => Ok(row),
        _ => Err(not_found),
    }
}
