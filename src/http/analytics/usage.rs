//! Feature use, peak hours and retention, from the `analytics_usage` read model.
//!
//! A "user" of a feature is a participant of a meeting (most participants are guests without
//! an account); a user in retention is an account that acted that week (signed in, or did
//! anything as itself or with one of its API keys). Days, hours and weeks are UTC; weeks start
//! on Monday.

use convene_projections::{FeatureUse, PeakHour, RetentionWeek};
use serde::Serialize;
use utoipa::ToSchema;
use warp::reply::Response;
use warp::Reply;

use super::window_days;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::format_iso_seconds;
use crate::http::auth::{authenticate_admin, Caller};
use crate::http::query::number;

#[derive(Serialize, ToSchema)]
pub struct FeatureRow {
    /// screen_share, recording, chat, reaction, hand_raise or waiting_room.
    #[schema(example = "screen_share")]
    feature: &'static str,
    #[schema(example = 142)]
    total_uses: u64,
    #[schema(example = 38)]
    unique_users: u64,
    #[schema(example = 22)]
    active_days: u64,
}

impl From<FeatureUse> for FeatureRow {
    fn from(used: FeatureUse) -> Self {
        Self {
            feature: used.feature.name(),
            total_uses: used.total_uses,
            unique_users: used.unique_users,
            active_days: used.active_days,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FeatureAnalytics {
    /// Every feature, most used first.
    features: Vec<FeatureRow>,
    days: u64,
}

/// How much each feature was used in the last `days` days (administrators).
///
/// A use is a screen share started, a recording announced, a chat message, an emoji reaction,
/// a hand raised, or a waiting-room admission or denial.
#[utoipa::path(
    get, path = "/admin/api/analytics/features", tag = "analytics",
    security(("api_key" = []), ("session" = [])),
    params(("days" = Option<u64>, Query, minimum = 1, maximum = 366, description = "lookback window in days (default 30)")),
    responses(
        (status = 200, description = "feature use", body = FeatureAnalytics),
        (status = 400, description = "a bad days", body = crate::http::error::ErrorBody),
        (status = 401, description = "no credentials", body = crate::http::error::ErrorBody),
        (status = 403, description = "not an administrator", body = crate::http::error::ErrorBody),
    )
)]
pub(crate) fn features(state: AppState, caller: Caller, query: &str) -> Result<Response, AppError> {
    authenticate_admin(&caller, &state)?;
    let days = window_days(query, 30)?;
    let rows = state
        .projections
        .analytics_usage()
        .features(state.clock.now_ms(), days as u32)?;
    let body = FeatureAnalytics {
        features: rows.into_iter().map(FeatureRow::from).collect(),
        days,
    };
    Ok(warp::reply::json(&body).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct PeakHourRow {
    /// Day of the week, 0 = Sunday … 6 = Saturday (UTC).
    #[schema(example = 1, minimum = 0, maximum = 6)]
    dow: u8,
    /// Hour of the day, 0–23 (UTC).
    #[schema(example = 10, minimum = 0, maximum = 23)]
    hour: u8,
    /// Meetings that started in that hour.
    #[schema(example = 45)]
    count: u64,
}

impl From<PeakHour> for PeakHourRow {
    fn from(cell: PeakHour) -> Self {
        Self {
            dow: cell.dow,
            hour: cell.hour,
            count: cell.count,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeakHours {
    /// Busiest first; hours in which no meeting started are left out.
    peak_hours: Vec<PeakHourRow>,
    days: u64,
}

/// When meetings start, by day of the week and hour, over the last `days` days (administrators).
#[utoipa::path(
    get, path = "/admin/api/analytics/peak-hours", tag = "analytics",
    security(("api_key" = []), ("session" = [])),
    params(("days" = Option<u64>, Query, minimum = 1, maximum = 366, description = "lookback window in days (default 90)")),
    responses(
        (status = 200, description = "meetings started per day of week and hour", body = PeakHours),
        (status = 400, description = "a bad days", body = crate::http::error::ErrorBody),
        (status = 401, description = "no credentials", body = crate::http::error::ErrorBody),
        (status = 403, description = "not an administrator", body = crate::http::error::ErrorBody),
    )
)]
pub(crate) fn peak_hours(
    state: AppState,
    caller: Caller,
    query: &str,
) -> Result<Response, AppError> {
    authenticate_admin(&caller, &state)?;
    let days = window_days(query, 90)?;
    let cells = state
        .projections
        .analytics_usage()
        .peak_hours(state.clock.now_ms(), days as u32)?;
    let body = PeakHours {
        peak_hours: cells.into_iter().map(PeakHourRow::from).collect(),
        days,
    };
    Ok(warp::reply::json(&body).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct RetentionRow {
    /// The week's Monday (UTC).
    #[schema(example = "2026-03-09", format = Date)]
    week: String,
    /// Accounts active that week.
    #[schema(example = 120)]
    users: u64,
    /// Of those, the accounts also active the week before.
    #[schema(example = 84)]
    retained: u64,
}

impl From<RetentionWeek> for RetentionRow {
    fn from(week: RetentionWeek) -> Self {
        let mut date = format_iso_seconds(week.week_start);
        date.truncate(10);
        Self {
            week: date,
            users: week.users,
            retained: week.retained,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Retention {
    /// Newest week first, the current (unfinished) week included.
    retention: Vec<RetentionRow>,
}

/// Week-over-week retention of accounts (administrators): for each of the last `weeks` weeks,
/// the accounts active in it and how many of them were active the week before.
#[utoipa::path(
    get, path = "/admin/api/analytics/retention", tag = "analytics",
    security(("api_key" = []), ("session" = [])),
    params(("weeks" = Option<u64>, Query, minimum = 1, maximum = 104, description = "how many weeks (default 12)")),
    responses(
        (status = 200, description = "weekly active accounts and returning ones", body = Retention),
        (status = 400, description = "a bad weeks", body = crate::http::error::ErrorBody),
        (status = 401, description = "no credentials", body = crate::http::error::ErrorBody),
        (status = 403, description = "not an administrator", body = crate::http::error::ErrorBody),
    )
)]
pub(crate) fn retention(
    state: AppState,
    caller: Caller,
    query: &str,
) -> Result<Response, AppError> {
    authenticate_admin(&caller, &state)?;
    let weeks = number(query, "weeks", 1..=104)?.unwrap_or(12);
    let rows = state
        .projections
        .analytics_usage()
        .retention(state.clock.now_ms(), weeks as u32)?;
    let body = Retention {
        retention: rows.into_iter().map(RetentionRow::from).collect(),
    };
    Ok(warp::reply::json(&body).into_response())
}
