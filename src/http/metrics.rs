//! `GET /metrics`: the Prometheus text format ([`crate::telemetry`]) on the public port, for a
//! scraper that sends `Authorization: Bearer <metrics.token>`. Without a token configured the
//! route answers 401 saying metrics are off here (they may still be served on `metrics.address`, a listener
//! of their own).

use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

use super::router::Router;
use crate::app::{AppError, AppState};
use crate::http::auth::Caller;
use crate::http::error::NATIVE;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_metrics>(NATIVE)
        .unlimited()
        .serve(|r| async move { metrics(&r.state, &r.caller) });
}

/// The server's metrics in the Prometheus text format.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "the Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "no or a wrong bearer token, or no metrics.token configured", body = super::error::ErrorBody),
    )
)]
pub(super) fn metrics(state: &AppState, caller: &Caller) -> Result<Response, AppError> {
    let token = &state.config.metrics.token;
    // Without a token configured no bearer is right: the same 401, saying why.
    if token.is_empty() {
        return Err(AppError::Unauthorized(
            "metrics are off on this port: set metrics.token (or metrics.address)",
        ));
    }
    let presented = caller
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Both hashed, then compared in constant time: the comparison says nothing of the token.
    if !convene_actors::secret_matches(presented, &convene_actors::sha256_hex(token)) {
        return Err(AppError::Unauthorized(
            "a bearer token is required for /metrics",
        ));
    }
    Ok(text(state))
}

/// The metrics answer itself (also what `metrics.address` serves).
pub fn text(state: &AppState) -> Response {
    warp::reply::with_status(
        warp::reply::with_header(
            crate::telemetry::render(state),
            "content-type",
            "text/plain; version=0.0.4",
        ),
        StatusCode::OK,
    )
    .into_response()
}
