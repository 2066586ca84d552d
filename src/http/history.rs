//! Meeting history (onepizza §8): the caller's workspace's meetings that took place, newest
//! end first, with their duration, peak participants and cost.
//!
//! Read from the history projection; cost is priced here with the configured rate
//! (`billing.rate_micros_per_participant_minute`), so the numbers always follow the config the
//! server runs with. Meetings cancelled before they started, and guest meetings, are not listed.

use convene_projections::HistoryRow;
use serde::Serialize;
use utoipa::ToSchema;
use warp::reply::Response;
use warp::Reply;

use super::auth::{authenticate, Caller};
use super::query::number;
use super::router::Router;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::{format_iso_seconds, render_minutes, Micros};
use crate::http::error::NATIVE;

/// Entries answered when the request names no `limit`, and the most it may name.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_history>(NATIVE)
        .serve(|r| async move { history(r.state, r.caller, &r.query) });
}

#[derive(Serialize, ToSchema)]
pub struct MeetingHistory {
    /// Newest end first.
    meetings: Vec<HistoryEntry>,
}

/// One meeting that took place (the seed's snake_case shape).
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Its place in the workspace's history, from 1, in the order meetings ended.
    #[schema(example = 1)]
    id: u64,
    #[schema(example = "abc-defg-hij")]
    meeting_id: String,
    #[schema(example = "Team Standup")]
    title: String,
    #[schema(example = "2026-03-19T10:00:00Z")]
    started_at: Option<String>,
    #[schema(example = "2026-03-19T10:30:00Z")]
    ended_at: Option<String>,
    /// Minutes with two decimals.
    #[schema(example = "30.00")]
    duration_minutes: String,
    /// The most participants present at once.
    #[schema(example = 4)]
    peak_participants: u32,
    /// duration × peak participants × the configured rate, in dollars with four decimals.
    #[schema(example = "0.4800")]
    cost_usd: String,
}

impl HistoryEntry {
    fn new(row: &HistoryRow, rate: Micros) -> Self {
        let duration_ms = row.duration_ms();
        Self {
            id: row.number,
            meeting_id: row.meeting_id.clone(),
            title: row.title.clone(),
            started_at: row.started_at.map(format_iso_seconds),
            ended_at: row.ended_at.map(format_iso_seconds),
            duration_minutes: render_minutes(duration_ms),
            peak_participants: row.peak,
            cost_usd: Micros::for_usage(duration_ms, row.peak, rate).render(),
        }
    }
}

/// The meetings of the caller's workspace (its company's, for a member) that took place.
#[utoipa::path(
    get, path = "/api/meetings/history", tag = "meetings",
    security(("api_key" = []), ("session" = [])),
    params(("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "at most this many, 1 to 1000 (default 100)")),
    responses(
        (status = 200, description = "newest end first", body = MeetingHistory),
        (status = 400, description = "a bad limit", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
    )
)]
pub(super) fn history(state: AppState, caller: Caller, query: &str) -> Result<Response, AppError> {
    let workspace = authenticate(&caller, &state)?.workspace();
    let limit = number(query, "limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT) as usize;
    let rate = Micros(state.config.billing.rate_micros_per_participant_minute);
    let meetings = state
        .projections
        .history()
        .ended(workspace, limit)?
        .iter()
        .map(|row| HistoryEntry::new(row, rate))
        .collect();
    Ok(warp::reply::json(&MeetingHistory { meetings }).into_response())
}
