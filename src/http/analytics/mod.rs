//! Analytics (onepizza §18), for administrators, plus the web client's error telemetry.
//!
//! - [`errors`]: `POST /api/telemetry/error` and `GET /admin/api/analytics/errors`.
//! - [`usage`]: `features`, `peak-hours` and `retention`, read from the `analytics_usage`
//!   read model (folded from the log).
//! - [`live`]: `realtime` (asked of the live meeting actors, nothing read from disk) and
//!   `health` (the process, the log and the read models).

pub mod errors;
pub mod live;
pub mod usage;

use warp::http::Method;
use warp::Filter;

use super::auth::caller;
use super::body::limited;
use super::error::respond;
use super::query::number;
use super::router::Router;
use super::with_state;
use crate::app::AppError;
use crate::app::AppState;

/// The longest lookback window a `days` parameter accepts.
const MAX_DAYS: u64 = 366;

/// The `days` query parameter: 1 to 366, `default` when absent.
fn window_days(query: &str, default: u64) -> Result<u64, AppError> {
    Ok(number(query, "days", 1..=MAX_DAYS)?.unwrap_or(default))
}

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
                respond(errors::report_error(state, caller, &body).await)
            }),
    );
    let query = || warp::query::raw().or(warp::any().map(String::new)).unify();
    router.route(
        Method::GET,
        "/admin/api/analytics/errors",
        warp::path!("admin" / "api" / "analytics" / "errors")
            .and(warp::get())
            .and(with_state(state.clone()))
            .and(caller())
            .and(query())
            .map(|state, caller, query: String| respond(errors::errors(state, caller, &query))),
    );
    router.route(
        Method::GET,
        "/admin/api/analytics/features",
        warp::path!("admin" / "api" / "analytics" / "features")
            .and(warp::get())
            .and(with_state(state.clone()))
            .and(caller())
            .and(query())
            .map(|state, caller, query: String| respond(usage::features(state, caller, &query))),
    );
    router.route(
        Method::GET,
        "/admin/api/analytics/peak-hours",
        warp::path!("admin" / "api" / "analytics" / "peak-hours")
            .and(warp::get())
            .and(with_state(state.clone()))
            .and(caller())
            .and(query())
            .map(|state, caller, query: String| respond(usage::peak_hours(state, caller, &query))),
    );
    router.route(
        Method::GET,
        "/admin/api/analytics/retention",
        warp::path!("admin" / "api" / "analytics" / "retention")
            .and(warp::get())
            .and(with_state(state.clone()))
            .and(caller())
            .and(query())
            .map(|state, caller, query: String| respond(usage::retention(state, caller, &query))),
    );
    router.route(
        Method::GET,
        "/admin/api/analytics/realtime",
        warp::path!("admin" / "api" / "analytics" / "realtime")
            .and(warp::get())
            .and(with_state(state.clone()))
            .and(caller())
            .then(|state, caller| async move { respond(live::realtime(state, caller).await) }),
    );
    router.route(
        Method::GET,
        "/admin/api/analytics/health",
        warp::path!("admin" / "api" / "analytics" / "health")
            .and(warp::get())
            .and(with_state(state.clone()))
            .and(caller())
            .map(|state, caller| respond(live::health(state, caller))),
    );
}
