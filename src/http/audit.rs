//! Audit over HTTP (issue 5 §6): a meeting's events as the log holds them (with sequence, hash
//! and actor), the meeting as it was at a time or a sequence, and the chain check for
//! administrators. The same answers as `convene audit …`, without stopping the server.
//!
//! A meeting's events are its owner's: another workspace's meeting answers 404 like a missing
//! one. Everything here reads the log directly, not a read model, so it is exact up to the
//! durable head.

use convene_events::log::verify_chain;
use convene_events::MeetingId;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use warp::reply::Response;
use warp::Reply;

use super::auth::{authenticate, authenticate_admin, Caller};
use super::query::{number, param, MAX_SEQ};
use super::router::Router;
use crate::app::meetings::visible_row;
use crate::app::AppError;
use crate::app::AppState;
use crate::audit::{event_json, replay, Until};
use crate::domain::parse_iso8601;
use crate::http::error::NATIVE;

/// Events answered when the request names no `limit`, and the most it may name.
const MAX_EVENTS: usize = 1000;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_meeting_events>(NATIVE)
        .serve(|r| async move { meeting_events(r.state, r.caller, &r.params[0], &r.query) });
    router
        .add::<__path_meeting_state>(NATIVE)
        .serve(|r| async move { meeting_state(r.state, r.caller, &r.params[0], &r.query) });
    router
        .add::<__path_verify>(NATIVE)
        .serve(|r| async move { verify(r.state, r.caller).await });
}

/// The meeting `raw_id` if the caller's workspace owns it.
fn owned_meeting(state: &AppState, caller: &Caller, raw_id: &str) -> Result<MeetingId, AppError> {
    let workspace = authenticate(caller, state)?.workspace();
    let row = visible_row(state, workspace, raw_id)?;
    MeetingId::parse(&row.meeting_id).map_err(|e| AppError::Unexpected(e.to_string()))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingEvents {
    meeting_id: String,
    /// In stream order: each with `seq` (its place in the whole log), `version` (its place in
    /// the meeting's stream), `at`, `kind`, `actor`, `data`, `prevHash` and `hash`.
    #[schema(value_type = Vec<Object>)]
    events: Vec<Value>,
    /// Pass as `after` for the next page; absent on the last one.
    next_after: Option<u64>,
}

/// A meeting's events as the log holds them.
#[utoipa::path(
    get, path = "/api/meetings/{meetingId}/events", tag = "audit",
    security(("api_key" = []), ("session" = [])),
    params(
        ("meetingId" = String, Path, description = "the meeting id"),
        ("after" = Option<u64>, Query, minimum = 0, description = "only events after this stream version (default 0)"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "at most this many, 1 to 1000 (default 1000)"),
    ),
    responses(
        (status = 200, description = "in stream order", body = MeetingEvents),
        (status = 400, description = "a bad after or limit", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 404, description = "no such meeting in the caller's workspace", body = super::error::ErrorBody),
    )
)]
pub(super) fn meeting_events(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    query: &str,
) -> Result<Response, AppError> {
    let id = owned_meeting(&state, &caller, raw_id)?;
    let after = number(query, "after", 0..=MAX_SEQ)?.unwrap_or(0);
    let limit =
        number(query, "limit", 1..=MAX_EVENTS as u64)?.unwrap_or(MAX_EVENTS as u64) as usize;
    let mut envelopes = state
        .log
        .read_stream(&id.stream(), after + 1)
        .map_err(|e| AppError::Unexpected(e.to_string()))?;
    let more = envelopes.len() > limit;
    envelopes.truncate(limit);
    let next_after = more.then(|| envelopes.last().map(|e| e.version)).flatten();
    let body = MeetingEvents {
        meeting_id: id.to_string(),
        events: envelopes.iter().map(event_json).collect(),
        next_after,
    };
    Ok(warp::reply::json(&body).into_response())
}

/// Where `?at=` or `?seq=` says to stop (neither: now).
fn until(query: &str) -> Result<Until, AppError> {
    let at = param(query, "at");
    let seq = number(query, "seq", 1..=MAX_SEQ)?;
    match (at, seq) {
        (Some(_), Some(_)) => Err(AppError::BadRequest("give at or seq, not both".into())),
        (Some(at), None) => parse_iso8601(&at)
            .map(Until::At)
            .map_err(|e| AppError::BadRequest(format!("at: {e}"))),
        (None, Some(seq)) => Ok(Until::Seq(seq)),
        (None, None) => Ok(Until::End),
    }
}

/// The meeting as it was: its events up to `at` or `seq` folded again, as an auditor would.
#[utoipa::path(
    get, path = "/api/meetings/{meetingId}/state", tag = "audit",
    security(("api_key" = []), ("session" = [])),
    params(
        ("meetingId" = String, Path, description = "the meeting id"),
        ("at" = Option<String>, Query, format = DateTime, description = "RFC 3339: fold the events accepted at or before this time (not with seq)"),
        ("seq" = Option<u64>, Query, minimum = 1, description = "fold the events with a log sequence at or below this (not with at)"),
    ),
    responses(
        (status = 200, description = "the state (null before the meeting existed) and how far it was folded", body = Object),
        (status = 400, description = "a bad at or seq, or both", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 404, description = "no such meeting in the caller's workspace", body = super::error::ErrorBody),
    )
)]
pub(super) fn meeting_state(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    query: &str,
) -> Result<Response, AppError> {
    let id = owned_meeting(&state, &caller, raw_id)?;
    let until = until(query)?;
    let envelopes = state
        .log
        .read_stream(&id.stream(), 1)
        .map_err(|e| AppError::Unexpected(e.to_string()))?;
    let mut replayed =
        replay(&id, envelopes, until).map_err(|e| AppError::Unexpected(e.to_string()))?;
    // The events themselves are at /events; here, only how far the fold went.
    let events = replayed
        .as_object_mut()
        .and_then(|o| o.remove("events"))
        .unwrap_or_default();
    let folded = events.as_array().map_or(0, Vec::len);
    let last_seq = events
        .as_array()
        .and_then(|e| e.last())
        .and_then(|e| e.get("seq").cloned())
        .unwrap_or(Value::Null);
    replayed["eventsFolded"] = json!(folded);
    replayed["lastSeq"] = last_seq;
    Ok(warp::reply::json(&replayed).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainCheck {
    /// True when every record's hash and link verified.
    intact: bool,
    /// Records checked (up to the first broken one).
    checked: u64,
    /// The first broken record's sequence and what is wrong with it.
    #[schema(value_type = Option<Object>)]
    violation: Option<Value>,
}

/// Walks the whole SHA-256 chain of the log (administrators only).
#[utoipa::path(
    get, path = "/admin/api/audit/verify", tag = "audit",
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "the chain check", body = ChainCheck),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 403, description = "not an administrator", body = super::error::ErrorBody),
    )
)]
pub(super) async fn verify(state: AppState, caller: Caller) -> Result<Response, AppError> {
    authenticate_admin(&caller, &state)?;
    let db = state.log.db().clone();
    // A walk over every record: not on the request threads.
    let report = tokio::task::spawn_blocking(move || verify_chain(&db))
        .await
        .map_err(|e| AppError::Unexpected(e.to_string()))?
        .map_err(|e| AppError::Unexpected(e.to_string()))?;
    let body = ChainCheck {
        intact: report.violation.is_none(),
        checked: report.checked,
        violation: report
            .violation
            .map(|v| json!({ "seq": v.seq(), "detail": v.to_string() })),
    };
    Ok(warp::reply::json(&body).into_response())
}
