//! HTTP: the REST dialects (native, EdCast, VideoSDK), one module per API area, every route
//! in one table ([`route_table`]).
//!
//! Handlers are plain functions returning `Result<Response, AppError>`; each route is declared
//! once, from its handler's `#[utoipa::path]` ([`router`]), and belongs to a dialect whose
//! responder words its errors ([`error::NATIVE`], `edcast::error::DIALECT`,
//! `videosdk::error::DIALECT`). A write answers only after the read models that the API reads
//! have caught up with it (read-your-writes). [`openapi`] builds the document served at
//! `/api/openapi.json` from the same table.
//!
//! Around every route ([`api`]): CORS preflights, then [`dispatch`] (the rate limit of the
//! route's group, the body under its limit, the handler), then security headers, CORS and
//! compression on the way out ([`protection`], [`compression`]).

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod body;
pub mod companies;
pub mod compression;
pub mod controls;
pub mod dispatch;
pub mod edcast;
pub mod error;
pub mod events;
pub mod health;
pub mod history;
pub mod ice;
pub mod keys;
pub mod meetings;
pub mod metrics;
pub mod openapi;
pub mod passwords;
pub mod plans;
pub mod protection;
pub mod query;
pub mod reply;
pub mod router;
pub mod sessions;
pub mod videosdk;
pub mod web;
pub mod webhooks;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::HeaderMap;
use warp::reply::Response;
use warp::Filter;

use crate::app::AppState;
use crate::config::Config;
use router::Router;

/// Every endpoint the server answers, in matching order.
pub fn route_table() -> Router {
    let mut router = Router::new();
    health::routes(&mut router);
    metrics::routes(&mut router);
    web::routes(&mut router);
    openapi::routes(&mut router);
    accounts::routes(&mut router);
    sessions::routes(&mut router);
    passwords::routes(&mut router);
    keys::routes(&mut router);
    companies::routes(&mut router);
    // Before meetings: `/api/meetings/history` would otherwise be taken for a meeting id.
    history::routes(&mut router);
    meetings::routes(&mut router);
    audit::routes(&mut router);
    events::routes(&mut router);
    webhooks::routes(&mut router);
    billing::routes(&mut router);
    analytics::routes(&mut router);
    plans::routes(&mut router);
    edcast::routes(&mut router);
    videosdk::routes(&mut router);
    controls::routes(&mut router);
    ice::routes(&mut router);
    router
}

/// The REST dialects, with their protection: CORS preflights, then every route of the
/// [`route_table`] through [`dispatch`] (rate limit, body, handler), then security headers,
/// CORS and compression on the way out.
pub fn api(state: &AppState) -> BoxedFilter<(Response,)> {
    let table = Arc::new(route_table());
    let routed = dispatch::filter(state.clone(), table)
        .recover(error::recover)
        .unify();
    let config = state.config.clone();
    let preflight = warp::options()
        .and(warp::header::headers_cloned())
        .map(move |headers: HeaderMap| protection::preflight(&config, origin(&headers)));
    let config = state.config.clone();
    warp::header::headers_cloned()
        .and(preflight.or(routed).unify())
        .then(move |headers: HeaderMap, response: Response| {
            let config = config.clone();
            async move { finish(&config, &headers, response).await }
        })
        .boxed()
}

fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get("origin").and_then(|v| v.to_str().ok())
}

/// Headers every response carries, then compression when the client accepts it.
async fn finish(config: &Config, request: &HeaderMap, mut response: Response) -> Response {
    protection::add_security_headers(config, &mut response);
    protection::add_cors_headers(config, origin(request), &mut response);
    let accept = request
        .get("accept-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    compression::negotiate(accept, response).await
}
