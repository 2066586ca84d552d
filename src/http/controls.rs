//! Host controls (onepizza §6, §7): settings, lock, unlock, invite, and participant mute,
//! unmute, kick and mute-all. Every one needs the meeting's `x-admin-token` (and, except for
//! guest meetings, an API key or session of the meeting's workspace); every one is decided by
//! the meeting's actor and logged as an event naming who did it.

use convene_actors::HostAction;
use convene_events::catalog::meeting::SettingsChanged;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::auth::Caller;
use super::body::parse_json;
use super::error::ErrorBody;
use super::meetings::host_request;
use super::reply;
use super::router::Router;
use crate::app::settings::{SettingsPatch, SettingsView};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::SecretToken;
use crate::http::error::NATIVE;

const NAME_CHARS: usize = 100;
const REASON_CHARS: usize = 500;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_update_settings>(NATIVE)
        .serve(|r| async move { update_settings(r.state, r.caller, &r.params[0], &r.body?).await });
    router
        .add::<__path_lock>(NATIVE)
        .serve(|r| async move { lock(r.state, r.caller, &r.params[0]).await });
    router
        .add::<__path_unlock>(NATIVE)
        .serve(|r| async move { unlock(r.state, r.caller, &r.params[0]).await });
    router
        .add::<__path_invite>(NATIVE)
        .serve(|r| async move { invite(r.state, r.caller, &r.params[0], &r.body?).await });
    router
        .add::<__path_mute>(NATIVE)
        .serve(|r| async move { mute(r.state, r.caller, &r.params[0], r.params[1].clone()).await });
    router.add::<__path_unmute>(NATIVE).serve(|r| async move {
        unmute(r.state, r.caller, &r.params[0], r.params[1].clone()).await
    });
    router.add::<__path_kick>(NATIVE).serve(|r| async move {
        kick(
            r.state,
            r.caller,
            &r.params[0],
            r.params[1].clone(),
            &r.body?,
        )
        .await
    });
    router
        .add::<__path_mute_all>(NATIVE)
        .serve(|r| async move { mute_all(r.state, r.caller, &r.params[0]).await });
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsUpdated {
    message: &'static str,
    meeting_id: String,
    title: String,
    settings: SettingsView,
}

/// Changes a meeting's title and settings (onepizza §6).
#[utoipa::path(
    patch, path = "/api/meetings/{meetingId}/settings", tag = "controls",
    params(("meetingId" = String, Path)),
    request_body = Option<SettingsPatch>,
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "the settings after the change", body = SettingsUpdated),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting in the caller's workspace", body = ErrorBody),
        (status = 409, description = "the meeting has ended", body = ErrorBody),
    )
)]
pub(super) async fn update_settings(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    body: &[u8],
) -> Result<Response, AppError> {
    let patch: SettingsPatch = parse_json(body)?;
    let change = patch.parse(&state.config.limits)?;
    let outcome = host_request(&state, &caller, raw_id, HostAction::UpdateSettings(change)).await?;
    let meeting = outcome.meeting;
    Ok(reply::ok(&SettingsUpdated {
        message: "Settings updated",
        meeting_id: meeting.id.to_string(),
        title: meeting.title,
        settings: SettingsView::from(&meeting.settings),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LockChanged {
    message: &'static str,
    meeting_id: String,
    locked: bool,
}

/// Refuses new joiners until unlocked.
#[utoipa::path(
    post, path = "/api/meetings/{meetingId}/lock", tag = "controls",
    params(("meetingId" = String, Path)),
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "locked", body = LockChanged),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting in the caller's workspace", body = ErrorBody),
        (status = 409, description = "the meeting has ended", body = ErrorBody),
    )
)]
pub(super) async fn lock(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    set_locked(state, caller, raw_id, true).await
}

/// Lets joiners in again.
#[utoipa::path(
    post, path = "/api/meetings/{meetingId}/unlock", tag = "controls",
    params(("meetingId" = String, Path)),
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "unlocked", body = LockChanged),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting in the caller's workspace", body = ErrorBody),
        (status = 409, description = "the meeting has ended", body = ErrorBody),
    )
)]
pub(super) async fn unlock(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    set_locked(state, caller, raw_id, false).await
}

async fn set_locked(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    locked: bool,
) -> Result<Response, AppError> {
    let change = SettingsChanged {
        locked: Some(locked),
        ..SettingsChanged::default()
    };
    let outcome = host_request(&state, &caller, raw_id, HostAction::UpdateSettings(change)).await?;
    Ok(reply::ok(&LockChanged {
        message: if locked {
            "Meeting locked"
        } else {
            "Meeting unlocked"
        },
        meeting_id: outcome.meeting.id.to_string(),
        locked: outcome.meeting.settings.locked,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct InviteRequest {
    /// The invitee's display name, put into the join link; at most 100 characters.
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// `/join/<meetingId>?invite=<token>&name=<name>`
    join_url: String,
    /// Works once; stored hashed.
    invite_token: String,
}

/// A one-use invitation that lets its holder in even when the meeting is locked.
#[utoipa::path(
    post, path = "/api/meetings/{meetingId}/invite", tag = "controls",
    params(("meetingId" = String, Path)),
    request_body = Option<InviteRequest>,
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "the invitation", body = Invitation),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting in the caller's workspace", body = ErrorBody),
        (status = 409, description = "the meeting has ended", body = ErrorBody),
    )
)]
pub(super) async fn invite(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    body: &[u8],
) -> Result<Response, AppError> {
    let request: InviteRequest = parse_json(body)?;
    let name = bounded_text("name", request.name, NAME_CHARS)?;
    let token = SecretToken::generate();
    let action = HostAction::Invite {
        token_sha256: token.sha256(),
        name: name.clone(),
    };
    let outcome = host_request(&state, &caller, raw_id, action).await?;
    let mut join_url = format!("/join/{}?invite={}", outcome.meeting.id, token.expose());
    if let Some(name) = &name {
        join_url.push_str("&name=");
        join_url.extend(form_urlencoded::byte_serialize(name.as_bytes()));
    }
    Ok(reply::ok(&Invitation {
        join_url,
        invite_token: token.expose().to_owned(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct KickRequest {
    /// Shown to the removed participant; at most 500 characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantActionDone {
    message: &'static str,
    participant_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct AllMuted {
    message: &'static str,
    /// How many participants were in the meeting.
    count: usize,
}

/// Mutes a participant (onepizza §7).
#[utoipa::path(
    post, path = "/api/meetings/{meetingId}/participants/{participantId}/mute", tag = "controls",
    params(("meetingId" = String, Path), ("participantId" = String, Path)),
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "muted", body = ParticipantActionDone),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting, or the participant is not in it", body = ErrorBody),
        (status = 409, description = "the meeting has ended", body = ErrorBody),
    )
)]
pub(super) async fn mute(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    participant_id: String,
) -> Result<Response, AppError> {
    let action = HostAction::Mute {
        participant_id: participant_id.clone(),
    };
    host_request(&state, &caller, raw_id, action).await?;
    Ok(participant_done("Participant muted", participant_id))
}

/// Asks a participant to unmute (they decide; nobody is unmuted remotely).
#[utoipa::path(
    post, path = "/api/meetings/{meetingId}/participants/{participantId}/unmute", tag = "controls",
    params(("meetingId" = String, Path), ("participantId" = String, Path)),
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "asked", body = ParticipantActionDone),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting, or the participant is not in it", body = ErrorBody),
        (status = 409, description = "the meeting has ended", body = ErrorBody),
    )
)]
pub(super) async fn unmute(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    participant_id: String,
) -> Result<Response, AppError> {
    let action = HostAction::RequestUnmute {
        participant_id: participant_id.clone(),
    };
    host_request(&state, &caller, raw_id, action).await?;
    Ok(participant_done("Unmute requested", participant_id))
}

/// Removes a participant, with an optional reason.
#[utoipa::path(
    post, path = "/api/meetings/{meetingId}/participants/{participantId}/kick", tag = "controls",
    params(("meetingId" = String, Path), ("participantId" = String, Path)),
    request_body = Option<KickRequest>,
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "removed", body = ParticipantActionDone),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting, or the participant is not in it", body = ErrorBody),
        (status = 409, description = "the meeting has ended", body = ErrorBody),
    )
)]
pub(super) async fn kick(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    participant_id: String,
    body: &[u8],
) -> Result<Response, AppError> {
    let request: KickRequest = parse_json(body)?;
    let reason = bounded_text("reason", request.reason, REASON_CHARS)?;
    let action = HostAction::Kick {
        participant_id: participant_id.clone(),
        reason,
    };
    host_request(&state, &caller, raw_id, action).await?;
    Ok(participant_done("Participant removed", participant_id))
}

fn participant_done(message: &'static str, participant_id: String) -> Response {
    reply::ok(&ParticipantActionDone {
        message,
        participant_id,
    })
}

/// Mutes everyone in the meeting.
#[utoipa::path(
    post, path = "/api/meetings/{meetingId}/mute-all", tag = "controls",
    params(("meetingId" = String, Path)),
    security(("api_key" = [], "admin_token" = []), ("session" = [], "admin_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "muted", body = AllMuted),
        (status = 403, description = "missing or wrong x-admin-token", body = ErrorBody),
        (status = 404, description = "no such meeting in the caller's workspace", body = ErrorBody),
        (status = 409, description = "the meeting has ended", body = ErrorBody),
    )
)]
pub(super) async fn mute_all(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let outcome = host_request(&state, &caller, raw_id, HostAction::MuteAll).await?;
    Ok(reply::ok(&AllMuted {
        message: "All participants muted",
        count: outcome.meeting.participants.len(),
    }))
}

fn bounded_text(
    field: &str,
    raw: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, AppError> {
    // The limit applies to the text as sent, as the OpenAPI document's maxLength says.
    if raw.as_ref().is_some_and(|t| t.chars().count() > max_chars) {
        return Err(AppError::BadRequest(format!(
            "{field} must be at most {max_chars} characters"
        )));
    }
    let Some(text) = raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().any(char::is_control) {
        return Err(AppError::BadRequest(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(Some(text))
}
