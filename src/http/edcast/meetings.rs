//! EdCast meetings: `POST`, `GET /api/developer/v1/meetings` and
//! `DELETE /api/developer/v1/meetings/{id}`.
//!
//! Every EdCast meeting starts at once (the seed has no start field): `instant` runs until the
//! plan's duration cap (or without end on an unlimited plan), `normal` until its `end_date`,
//! capped by the plan. The list holds the organization's meetings created through this API that
//! have not ended, newest first; DELETE ends one for good (its join link stops working) and it
//! leaves the list.

use bytes::Bytes;
use convene_actors::MeetingError;
use convene_events::catalog::meeting::{Dialect, MeetingCreated, MeetingSettings};
use convene_events::{DomainEvent, MeetingId};
use convene_projections::RowStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::error::EdCastError;
use super::error::DIALECT;
use crate::app::meetings::{create, end_by_owner, Created, NewMeeting};
use crate::app::principal::Principal;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{format_iso_seconds, parse_iso8601, Title};
use crate::http::auth::{authenticate, Caller};
use crate::http::body::parse_json;
use crate::http::reply;
use crate::http::router::Router;
use crate::net::body::BodyRefused;

const DEFAULT_TITLE: &str = "Instant Meeting";
const DELETED: &str = "Meeting and associated join link deleted successfully";

pub fn routes(router: &mut Router) {
    router
        .add::<__path_create_meeting>(DIALECT)
        .serve(|r| async move { create_meeting(r.state, r.caller, r.body).await });
    router
        .add::<__path_list_meetings>(DIALECT)
        .serve(|r| async move { list_meetings(r.state, r.caller) });
    router
        .add::<__path_delete_meeting>(DIALECT)
        .serve(|r| async move { delete_meeting(r.state, r.caller, &r.params[0]).await });
}

/// `instant` (the default) or `normal`.
#[derive(Deserialize, ToSchema, Clone, Copy, Default, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
#[schema(as = EdCastMeetingType)]
pub(super) enum MeetingType {
    #[default]
    Instant,
    Normal,
}

/// A new meeting; every field is optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EdCastCreateMeetingRequest)]
pub(super) struct CreateRequest {
    #[serde(rename = "type")]
    kind: Option<MeetingType>,
    /// "Instant Meeting" when absent or blank; at most `limits.title_chars` characters, no
    /// control characters.
    #[schema(example = "Weekly Team Sync")]
    title: Option<String>,
    /// Only for `normal` meetings: ISO 8601 with a time zone, in the future. The meeting ends by
    /// itself then, or earlier when the plan caps durations (free: 10 minutes).
    #[schema(format = DateTime, example = "2026-05-01T15:00:00Z")]
    end_date: Option<String>,
}

/// A meeting as EdCast shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = EdCastMeeting)]
pub struct MeetingView {
    /// The log sequence of the meeting's creation: stable, and what DELETE takes.
    #[schema(example = 1245)]
    id: u64,
    title: String,
    /// The meeting's id in the native API (`abc-defg-hij`).
    #[schema(example = "abc-defg-hij")]
    meeting_code: String,
    /// `<server.app_url>/join/<meeting_code>`.
    join_link: String,
    #[schema(value_type = String, pattern = "^public$")]
    visibility: &'static str,
    #[schema(format = DateTime)]
    start_time: String,
    /// When it ends by itself; null for a meeting without end (an unlimited plan).
    #[schema(format = DateTime)]
    end_time: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

/// `201` of `POST /api/developer/v1/meetings`.
#[derive(Serialize, ToSchema)]
#[schema(as = EdCastCreatedMeeting)]
pub struct CreatedView {
    /// Always true.
    success: bool,
    data: MeetingView,
}

/// `200` of `GET /api/developer/v1/meetings`.
#[derive(Serialize, ToSchema)]
#[schema(as = EdCastMeetingList)]
pub struct ListView {
    /// Always true.
    success: bool,
    count: usize,
    /// Newest first.
    data: Vec<MeetingView>,
}

/// `200` of `DELETE /api/developer/v1/meetings/{id}`.
#[derive(Serialize, ToSchema)]
#[schema(as = EdCastDeleted)]
pub struct DeletedView {
    /// Always true.
    success: bool,
    #[schema(value_type = String, example = "Meeting and associated join link deleted successfully")]
    message: &'static str,
}

/// EdCast authenticates with `X-API-Key` only (no session cookie).
fn authenticate_key(caller: &Caller, state: &AppState) -> Result<Principal, AppError> {
    if caller.header("x-api-key").is_none() {
        return Err(AppError::Unauthorized("missing x-api-key header"));
    }
    authenticate(caller, state)
}

/// Creates a meeting for the organization; it is public and starts at once.
#[utoipa::path(
    post, path = "/api/developer/v1/meetings", tag = "edcast", operation_id = "edcast_create_meeting",
    request_body = Option<CreateRequest>,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "created", body = CreatedView),
        (status = 400, description = "Validation error: the message names the field", body = EdCastError),
        (status = 401, description = "Invalid API Key: missing, invalid or revoked", body = EdCastError),
        (status = 402, description = "Insufficient credits: a plan paid by credits needs a balance above zero", body = EdCastError),
        (status = 403, description = "Account inactive, or Monthly limit reached", body = EdCastError),
        (status = 413, description = "the body is larger than limits.body_bytes", body = EdCastError),
        (status = 500, description = "Internal server error", body = EdCastError),
        (status = 503, description = "the server is busy or shutting down", body = EdCastError),
    )
)]
pub(super) async fn create_meeting(
    state: AppState,
    caller: Caller,
    body: Result<Bytes, BodyRefused>,
) -> Result<Response, AppError> {
    let principal = authenticate_key(&caller, &state)?;
    let request: CreateRequest = parse_json(&body?)?;
    let now = state.clock.now_ms();
    let title = Title::parse(
        request.title.as_deref(),
        DEFAULT_TITLE,
        state.config.limits.title_chars,
    )
    .map_err(AppError::BadRequest)?;
    let requested_end = match (
        request.kind.unwrap_or_default(),
        request.end_date.as_deref(),
    ) {
        (_, None) => None,
        (MeetingType::Instant, Some(_)) => {
            return Err(AppError::BadRequest(
                "end_date is only for meetings of type normal".into(),
            ))
        }
        (MeetingType::Normal, Some(raw)) => {
            let at =
                parse_iso8601(raw).map_err(|e| AppError::BadRequest(format!("end_date {e}")))?;
            if at <= now {
                return Err(AppError::BadRequest(
                    "end_date must be in the future".into(),
                ));
            }
            Some(at)
        }
    };
    let workspace = principal.workspace();
    // Admitted under the plan, whose duration cap may end it before end_date.
    let created = create(
        &state,
        NewMeeting {
            workspace,
            title: title.into_inner(),
            scheduled_at: None,
            settings: MeetingSettings::with_cap(state.config.limits.default_max_participants),
            actor: principal.actor(),
            via: Dialect::EdCast,
            requested_end,
        },
    )
    .await?;
    let ends_at = created.meeting.ends_at;
    tracing::info!(
        meeting_id = %created.meeting.id,
        seq = created.created_seq,
        account_id = principal.account_id(),
        ends_at,
        dialect = "edcast",
        "meeting created"
    );
    Ok(reply::created(&CreatedView {
        success: true,
        data: view_of_created(&state, &created, ends_at),
    }))
}

fn view_of_created(state: &AppState, created: &Created, ends_at: Option<i64>) -> MeetingView {
    let meeting = &created.meeting;
    MeetingView {
        id: created.created_seq,
        title: meeting.title.clone(),
        meeting_code: meeting.id.to_string(),
        join_link: join_link(state, meeting.id.as_str()),
        visibility: "public",
        start_time: format_iso_seconds(meeting.activated_at.unwrap_or(meeting.created_at)),
        end_time: ends_at.map(format_iso_seconds),
        created_at: format_iso_seconds(meeting.created_at),
    }
}

fn join_link(state: &AppState, meeting_id: &str) -> String {
    format!(
        "{}/join/{meeting_id}",
        state.config.server.app_url.trim_end_matches('/')
    )
}

/// The organization's meetings created through this API that have not ended, newest first.
#[utoipa::path(
    get, path = "/api/developer/v1/meetings", tag = "edcast", operation_id = "edcast_list_meetings",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "newest first, with join links", body = ListView),
        (status = 401, description = "Invalid API Key: missing, invalid or revoked", body = EdCastError),
        (status = 403, description = "Account inactive", body = EdCastError),
        (status = 500, description = "Internal server error", body = EdCastError),
        (status = 503, description = "the server is busy or shutting down", body = EdCastError),
    )
)]
pub(super) fn list_meetings(state: AppState, caller: Caller) -> Result<Response, AppError> {
    let workspace = authenticate_key(&caller, &state)?.workspace();
    let mut data = Vec::new();
    for row in state.projections.meetings().live(workspace)? {
        let Ok(meeting_id) = MeetingId::parse(&row.meeting_id) else {
            continue;
        };
        let Some(seq) = creation_seq(&state, &meeting_id)? else {
            continue;
        };
        match created_event(&state, seq)? {
            Some(created) if created.via == Dialect::EdCast => {}
            _ => continue,
        }
        let ends_at = state.projections.time_index().ends_at(&row.meeting_id)?;
        data.push(MeetingView {
            id: seq,
            title: row.title.clone(),
            join_link: join_link(&state, &row.meeting_id),
            meeting_code: row.meeting_id,
            visibility: "public",
            start_time: format_iso_seconds(row.activated_at.unwrap_or(row.created_at)),
            end_time: ends_at.map(format_iso_seconds),
            created_at: format_iso_seconds(row.created_at),
        });
    }
    Ok(reply::ok(&ListView {
        success: true,
        count: data.len(),
        data,
    }))
}

/// Ends the meeting for good: its join link stops working and it leaves the list. Another
/// organization's meeting, one created through another API, and one that has ended are all
/// "Meeting not found".
#[utoipa::path(
    delete, path = "/api/developer/v1/meetings/{id}", tag = "edcast", operation_id = "edcast_delete_meeting",
    params(("id" = u64, Path, description = "the meeting ID returned at creation")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "deleted", body = DeletedView),
        (status = 400, description = "Validation error: the id is not a whole number", body = EdCastError),
        (status = 401, description = "Invalid API Key: missing, invalid or revoked", body = EdCastError),
        (status = 403, description = "Account inactive", body = EdCastError),
        (status = 404, description = "Meeting not found, or another organization's", body = EdCastError),
        (status = 500, description = "Internal server error", body = EdCastError),
        (status = 503, description = "the server is busy or shutting down", body = EdCastError),
    )
)]
pub(super) async fn delete_meeting(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let principal = authenticate_key(&caller, &state)?;
    let seq: u64 = raw_id
        .parse()
        .map_err(|_| AppError::BadRequest("id must be a whole number".into()))?;
    let not_found = || AppError::NotFound("meeting not found");
    let created = created_event(&state, seq)?
        .filter(|created| {
            created.via == Dialect::EdCast && created.workspace == principal.workspace()
        })
        .ok_or_else(not_found)?;
    let meeting_id = created.meeting_id;
    match state.projections.meetings().get(meeting_id.as_str())? {
        Some(row) if row.status != RowStatus::Ended => {}
        _ => return Err(not_found()),
    }
    let outcome =
        match end_by_owner(&state, &meeting_id, created.workspace, principal.actor()).await {
            Ok(outcome) => outcome,
            // Ended in the meantime (its end time, another DELETE): gone all the same.
            Err(MeetingError::AlreadyEnded | MeetingError::NotFound) => return Err(not_found()),
            Err(err) => return Err(err.into()),
        };
    state.caught_up(outcome.last_seq).await?;
    tracing::info!(meeting_id = %meeting_id, seq, account_id = principal.account_id(), dialect = "edcast", "meeting deleted");
    Ok(reply::ok(&DeletedView {
        success: true,
        message: DELETED,
    }))
}

/// The sequence of the meeting's `meeting.created` (its stream's first event).
fn creation_seq(state: &AppState, meeting_id: &MeetingId) -> Result<Option<u64>, AppError> {
    state
        .log
        .seq_of(&meeting_id.stream(), 1)
        .map_err(|e| AppError::Unexpected(e.to_string()))
}

/// The `meeting.created` at log position `seq`, if that is what is there.
fn created_event(state: &AppState, seq: u64) -> Result<Option<MeetingCreated>, AppError> {
    if seq == 0 {
        return Ok(None);
    }
    let unexpected = |e: String| AppError::Unexpected(e);
    let Some(envelope) = state
        .log
        .read_all(seq, 1)
        .map_err(|e| unexpected(e.to_string()))?
        .into_iter()
        .find(|envelope| envelope.seq == seq)
    else {
        return Ok(None);
    };
    if envelope.kind != MeetingCreated::KIND {
        return Ok(None);
    }
    MeetingCreated::from_envelope(&envelope)
        .map(Some)
        .map_err(|e| unexpected(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_defaults_to_instant_and_fields_are_strict() {
        let request: CreateRequest = parse_json(b"").unwrap();
        assert_eq!(request.kind.unwrap_or_default(), MeetingType::Instant);
        let request: CreateRequest =
            parse_json(br#"{"type":"normal","end_date":"2026-05-01T15:00:00Z"}"#).unwrap();
        assert_eq!(request.kind, Some(MeetingType::Normal));
        let Err(AppError::BadRequest(message)) =
            parse_json::<CreateRequest>(br#"{"type":"webinar"}"#)
        else {
            panic!("an unknown type was accepted");
        };
        assert!(message.contains("type"), "{message}");
        let Err(AppError::BadRequest(message)) =
            parse_json::<CreateRequest>(br#"{"end_time":"2026-05-01T15:00:00Z"}"#)
        else {
            panic!("an unknown field was accepted");
        };
        assert!(message.contains("end_time"), "{message}");
    }
}
