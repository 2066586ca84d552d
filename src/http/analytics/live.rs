//! What is happening now: the live meetings, asked of their actors (`realtime`), and the
//! server's own state (`health`).

use serde::Serialize;
use utoipa::ToSchema;
use warp::reply::Response;
use warp::Reply;

use crate::app::AppError;
use crate::app::AppState;
use crate::http::auth::{authenticate_admin, Caller};
use convene_actors::{Meeting, MeetingStatus};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LiveMeeting {
    #[schema(example = "abc-defg-hij")]
    id: String,
    #[schema(example = "Team Standup")]
    title: String,
    #[schema(example = 5)]
    participant_count: usize,
    /// Seconds since it became active.
    #[schema(example = 1200)]
    duration: i64,
    /// The host announced a recording (Convene relays the notice; it does not record).
    is_recording: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Realtime {
    active_meetings: usize,
    total_participants: usize,
    active_recordings: usize,
    active_screen_shares: usize,
    /// Longest running first.
    meeting_list: Vec<LiveMeeting>,
}

impl Realtime {
    fn of(mut meetings: Vec<Meeting>, now_ms: i64) -> Self {
        meetings.retain(|m| m.status == MeetingStatus::Active);
        meetings
            .sort_by(|a, b| (a.activated_at, a.id.as_str()).cmp(&(b.activated_at, b.id.as_str())));
        let sharing = |m: &Meeting| m.participants.values().filter(|p| p.screen_sharing).count();
        Self {
            active_meetings: meetings.len(),
            total_participants: meetings.iter().map(|m| m.participants.len()).sum(),
            active_recordings: meetings.iter().filter(|m| m.recording_announced).count(),
            active_screen_shares: meetings.iter().map(sharing).sum(),
            meeting_list: meetings
                .into_iter()
                .map(|m| LiveMeeting {
                    id: m.id.to_string(),
                    duration: (now_ms - m.activated_at.unwrap_or(now_ms)).max(0) / 1000,
                    participant_count: m.participants.len(),
                    is_recording: m.recording_announced,
                    title: m.title,
                })
                .collect(),
        }
    }
}

/// The meetings running now, from the meeting actors' memory (administrators). A meeting
/// that is active but has no live actor (idle and passivated, so nobody is in it) is not
/// listed.
#[utoipa::path(
    get, path = "/admin/api/analytics/realtime", tag = "analytics",
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "live meetings", body = Realtime),
        (status = 401, description = "no credentials", body = crate::http::error::ErrorBody),
        (status = 403, description = "not an administrator", body = crate::http::error::ErrorBody),
    )
)]
pub(crate) async fn realtime(state: AppState, caller: Caller) -> Result<Response, AppError> {
    authenticate_admin(&caller, &state)?;
    let meetings = state.registry.live_meetings().await;
    let body = Realtime::of(meetings, state.clock.now_ms());
    Ok(warp::reply::json(&body).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectionHealth {
    #[schema(example = "proj/history")]
    name: &'static str,
    /// The last log sequence it folded (absent if it stopped).
    position: Option<u64>,
    /// How many durable events it has yet to fold.
    behind: u64,
    /// Why it stopped, if it did (it then serves what it had).
    error: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerHealth {
    #[schema(example = 86400)]
    uptime_seconds: u64,
    /// Resident memory of the process (absent where /proc is not available).
    #[schema(example = 128.5)]
    #[serde(rename = "memoryMB")]
    memory_mb: Option<f64>,
    /// Meetings active now, by the meeting directory.
    active_meetings: u64,
    scheduled_meetings: u64,
    /// Meeting actors in memory (active meetings with activity, and recently used ones).
    live_meeting_actors: usize,
    /// Durable events in the log (its last sequence).
    log_events: u64,
    /// The store's size on disk (log and read models).
    #[serde(rename = "storageMB")]
    storage_mb: f64,
    projections: Vec<ProjectionHealth>,
}

const MIB: f64 = 1024.0 * 1024.0;

/// Resident set size from /proc/self/status (Linux), in MiB.
fn resident_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib * 1024.0 / MIB * 10.0).round() / 10.0)
}

/// The server's health (administrators): the process, the meetings, the log and every read
/// model's position. Node's heap figures and Postgres pool counts of the seed have no
/// counterpart in Convene (one Rust process, an embedded store) and are not invented.
#[utoipa::path(
    get, path = "/admin/api/analytics/health", tag = "analytics",
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "health", body = ServerHealth),
        (status = 401, description = "no credentials", body = crate::http::error::ErrorBody),
        (status = 403, description = "not an administrator", body = crate::http::error::ErrorBody),
    )
)]
pub(crate) fn health(state: AppState, caller: Caller) -> Result<Response, AppError> {
    authenticate_admin(&caller, &state)?;
    let (active_meetings, scheduled_meetings) = state.projections.meetings().live_counts()?;
    let head = state.log.durable_head();
    let storage = state
        .log
        .db()
        .size_on_disk()
        .map_err(|e| AppError::Unexpected(e.to_string()))?;
    let body = ServerHealth {
        uptime_seconds: state.started.elapsed().as_secs(),
        memory_mb: resident_mb(),
        active_meetings,
        scheduled_meetings,
        live_meeting_actors: state.registry.live_count(),
        log_events: head,
        storage_mb: (storage as f64 / MIB * 10.0).round() / 10.0,
        projections: state
            .projections
            .positions()
            .into_iter()
            .map(|(name, position)| ProjectionHealth {
                name,
                behind: head.saturating_sub(*position.as_ref().unwrap_or(&0)),
                position: position.as_ref().ok().copied(),
                error: position.err(),
            })
            .collect(),
    };
    Ok(warp::reply::json(&body).into_response())
}
