//! Telemetry and analytics (onepizza §18): the web client reports its errors
//! (`POST /api/telemetry/error`, signed in or not), and administrators read them aggregated
//! (`GET /admin/api/analytics/errors?days=`). Reports are logged events
//! (`telemetry.error_reported`); the aggregate is the `analytics_errors` read model.
//! The other analytics of §18 (features, realtime, retention, health, peak hours) are not
//! built yet.

use convene_events::catalog::telemetry::{ErrorReported, ERRORS_STREAM};
use convene_events::{Actor, DomainEvent, ExpectedVersion};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{authenticate_admin, authenticate_optional, caller, Caller};
use super::body::{limited, parse_json};
use super::error::{respond, ApiError};
use super::query::number;
use super::router::Router;
use super::{with_state, AppState};
use crate::domain::format_iso_seconds;

const MAX_ROUTE: usize = 200;
const MAX_MESSAGE: usize = 500;
const MAX_TYPE: usize = 64;
const MAX_DAYS: u64 = 366;

pub fn routes(state: &AppState, router: &mut Router) {
    router.route(
        Method::POST,
        "/api/telemetry/error",
        warp::path!("api" / "telemetry" / "error")
            .and(warp::post())
            .and(with_state(state.clone()))
            .and(caller())
            .and(limited(8 * 1024))
            .then(|state, caller, body: bytes::Bytes| async move {
                respond(report_error(state, caller, &body).await)
            }),
    );
    router.route(
        Method::GET,
        "/admin/api/analytics/errors",
        warp::path!("admin" / "api" / "analytics" / "errors")
            .and(warp::get())
            .and(with_state(state.clone()))
            .and(caller())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .map(|state, caller, query: String| respond(errors(state, caller, &query))),
    );
}

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

fn check_report(report: &ErrorReport) -> Result<(), ApiError> {
    let bad = |m: &str| Err(ApiError::BadRequest(m.to_owned()));
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
        (status = 202, description = "recorded", body = super::reply::Message),
        (status = 400, description = "a bad field", body = super::error::ErrorBody),
    )
)]
pub(super) async fn report_error(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, ApiError> {
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
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    Ok(warp::reply::with_status(
        warp::reply::json(&super::reply::Message {
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
        (status = 400, description = "a bad days", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 403, description = "not an administrator", body = super::error::ErrorBody),
    )
)]
pub(super) fn errors(state: AppState, caller: Caller, query: &str) -> Result<Response, ApiError> {
    authenticate_admin(&caller, &state)?;
    let days = number(query, "days", 1..=MAX_DAYS)?.unwrap_or(30);
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
