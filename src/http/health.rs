//! `GET /healthz`.

use serde_json::json;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

pub fn routes() -> BoxedFilter<(Response,)> {
    warp::path!("healthz")
        .and(warp::get())
        .map(|| warp::reply::json(&json!({ "status": "ok" })).into_response())
        .boxed()
}
