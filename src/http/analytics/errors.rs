//! Client errors: the web client reports them (`POST /api/telemetry/error`, signed in or not)
//! as logged events (`telemetry.error_reported`), and administrators read them grouped by
//! type, route and message (`GET /admin/api/analytics/errors?days=`) from the
//! `analytics_errors` read model.

use convene_events::catalog::telemetry::{ErrorReported, ERRORS_STREAM};
use convene_events::{Actor, DomainEvent, ExpectedVersion};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

use super::window_days;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::format_iso_seconds;
use crate::http::auth::{authenticate_admin, authenticate_optional, Caller};
use crate::http::body::parse_json;

const MAX_ROUTE: usize = 200;
const MAX_MESSAGE: usize = 500;
const MAX_TYPE: usize = 64;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ErrorReport {
    /// `error.<area>`: lowercase letters, digits, `.`, `_` and `-`, at most 64 characters.
    #[schema(example = "error.webrtc", pattern = r"^error\.[a-z0-9._-]{0,58}$")]
    event_type: String,
    /// The client route, starting with `/`, at most 200 characters.
    #[schema(example = "/join", pattern = r"^/[^\x00-\x1f\x7f]*$", max_length = 200)]
    route: String,
    /// 1 to 500 characters, not only spaces.
    #[schema(
        example = "ICE connection failed",
        pattern = r"\S",
        min_length = 1,
        max_length = 500
    )]
    message: String,
}

fn check_report(report: &ErrorReport) -> Result<(), AppError> {
    let bad = |m: &str| Err(AppError::BadRequest(m.to_owned()));
    let type_ok = report.event_type.starts_with("error.")
        && report.event_type.len() <= MAX_TYPE
        && report
            .event_type
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !type_ok {
        return bad("eventType must look like error.<area>: lowercase letters, digits, '.', '_' or '-', at most 64 characters");
    }
    if !report.route.starts_with('/')
        || report.route.chars().count() > MAX_ROUTE
        || report.route.chars().any(char::is_control)
    {
        return bad(
            "route must start with / and be at most 200 characters, without control characters",
        );
    }
    if report.message.trim().is_empty() || report.message.chars().count() > MAX_MESSAGE {
        return bad("message must be 1 to 500 characters");
    }
    Ok(())
}

/// Records an error the web client ran into.
#[utoipa::path(
    post, path = "/api/telemetry/error", tag = "analytics",
    request_body = ErrorReport,
    responses(
        (status = 202, description = "recorded", body = crate::http::reply::Message),
        (status = 400, description = "a bad field", body = crate::http::error::ErrorBody),
    )
)]
pub(crate) async fn report_error(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = authenticate_optional(&caller, &state)?;
    let report: ErrorReport = parse_json(body)?;
    check_report(&report)?;
    let event = ErrorReported {
        event_type: report.event_type,
        route: report.route,
        message: report.message.trim().to_owned(),
        account_id: principal.as_ref().map(|p| p.account_id()),
    };
    let actor = principal.map_or(Actor::System, |p| p.actor());
    state
        .log
        .append_to(
            ERRORS_STREAM,
            ExpectedVersion::Any,
            vec![event.to_new_event(actor)],
        )
        .await?;
    Ok(warp::reply::with_status(
        warp::reply::json(&crate::http::reply::Message {
            message: "recorded".into(),
        }),
        StatusCode::ACCEPTED,
    )
    .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ErrorGroup {
    #[schema(example = "error.webrtc")]
    event_type: String,
    #[schema(example = "/join")]
    route: String,
    message: String,
    count: u64,
    #[schema(example = "2026-03-20T14:30:00Z")]
    last_seen: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorAnalytics {
    /// Most frequent first.
    errors: Vec<ErrorGroup>,
    days: u64,
}

/// Client errors of the last `days` days, grouped by type, route and message (administrators).
#[utoipa::path(
    get, path = "/admin/api/analytics/errors", tag = "analytics",
    security(("api_key" = []), ("session" = [])),
    params(("days" = Option<u64>, Query, minimum = 1, maximum = 366, description = "lookback window in days (default 30)")),
    responses(
        (status = 200, description = "grouped errors", body = ErrorAnalytics),
        (status = 400, description = "a bad days", body = crate::http::error::ErrorBody),
        (status = 401, description = "no credentials", body = crate::http::error::ErrorBody),
        (status = 403, description = "not an administrator", body = crate::http::error::ErrorBody),
    )
)]
pub(crate) fn errors(state: AppState, caller: Caller, query: &str) -> Result<Response, AppError> {
    authenticate_admin(&caller, &state)?;
    let days = window_days(query, 30)?;
    let rows = state
        .projections
        .analytics_errors()
        .recent(state.clock.now_ms(), days as u32)?;
    let body = ErrorAnalytics {
        errors: rows
            .into_iter()
            .map(|row| ErrorGroup {
                event_type: row.event_type,
                route: row.route,
                message: row.message,
                count: row.count,
                last_seen: format_iso_seconds(row.last_seen),
            })
            .collect(),
        days,
    };
    Ok(warp::reply::json(&body).into_response())
}
