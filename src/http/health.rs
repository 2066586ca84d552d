//! Liveness for load balancers and orchestrators.

use serde::Serialize;
use utoipa::ToSchema;

use super::reply;
use super::router::Router;
use crate::http::error::NATIVE;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_healthz>(NATIVE)
        .unlimited()
        .serve(|_| async { Ok(healthz()) });
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
