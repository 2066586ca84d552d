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

use super::query::number;
use super::router::Router;
use crate::app::AppError;
use crate::http::error::NATIVE;

/// The longest lookback window a `days` parameter accepts.
const MAX_DAYS: u64 = 366;

/// The `days` query parameter: 1 to 366, `default` when absent.
fn window_days(query: &str, default: u64) -> Result<u64, AppError> {
    Ok(number(query, "days", 1..=MAX_DAYS)?.unwrap_or(default))
}

pub fn routes(router: &mut Router) {
    router
        .add::<errors::__path_report_error>(NATIVE)
        .body_limit(8 * 1024)
        .serve(|r| async move { errors::report_error(r.state, r.caller, &r.body?).await });
    router
        .add::<errors::__path_errors>(NATIVE)
        .serve(|r| async move { errors::errors(r.state, r.caller, &r.query) });
    router
        .add::<usage::__path_features>(NATIVE)
        .serve(|r| async move { usage::features(r.state, r.caller, &r.query) });
    router
        .add::<usage::__path_peak_hours>(NATIVE)
        .serve(|r| async move { usage::peak_hours(r.state, r.caller, &r.query) });
    router
        .add::<usage::__path_retention>(NATIVE)
        .serve(|r| async move { usage::retention(r.state, r.caller, &r.query) });
    router
        .add::<live::__path_realtime>(NATIVE)
        .serve(|r| async move { live::realtime(r.state, r.caller).await });
    router
        .add::<live::__path_health>(NATIVE)
        .serve(|r| async move { live::health(r.state, r.caller) });
}
