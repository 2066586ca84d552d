//! Liveness for load balancers and orchestrators.

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::Method;
use warp::Filter;

use super::reply;
use super::router::Router;

pub fn routes(router: &mut Router) {
    router.route(
        Method::GET,
        "/healthz",
        warp::path!("healthz").and(warp::get()).map(healthz),
    );
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(pattern = "^ok$")]
    status: &'static str,
}

/// The server is up and answering.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    security(()),
    responses((status = 200, description = "up", body = Health))
)]
pub(super) fn healthz() -> warp::reply::Response {
    reply::ok(&Health { status: "ok" })
}
