//! HTTP: one module per API area, all routes assembled in [`routes`].
//!
//! Handlers are plain async functions returning `Result<Response, AppError>`; once a route's
//! path and method match, its handler's answer is final, and [`error::respond`] is the single
//! place that maps errors to statuses. A write answers only after the read models that the API
//! reads have caught up with it (read-your-writes).
//!
//! Every endpoint is an entry of the route table ([`route_table`], [`router`]) with its
//! handler's `#[utoipa::path]` beside it; [`openapi`] assembles the document served at
//! `/api/openapi.json`, and a test holds the table and the document to each other.
//!
//! Around every route ([`routes`]): the rate limit of the request's group first, then the
//! handler, then security headers, CORS and compression on the way out
//! ([`protection`], [`compression`]).

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod body;
pub mod companies;
pub mod compression;
pub mod controls;
pub mod edcast;
pub mod error;
pub mod events;
pub mod health;
pub mod history;
pub mod ice;
pub mod keys;
pub mod meetings;
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

use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::Filter;

use crate::app::AppState;
use crate::config::Config;
use router::{Endpoint, Router};

pub fn with_state(
    state: AppState,
) -> impl Filter<Extract = (AppState,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// Every endpoint the server answers.
pub fn route_table(state: &AppState) -> Router {
    let mut router = Router::new();
    health::routes(&mut router);
    web::routes(&mut router);
    openapi::routes(state, &mut router);
    accounts::routes(state, &mut router);
    sessions::routes(state, &mut router);
    passwords::routes(state, &mut router);
    keys::routes(state, &mut router);
    companies::routes(state, &mut router);
    // Before meetings: `/api/meetings/history` would otherwise be taken for a meeting id.
    history::routes(state, &mut router);
    meetings::routes(state, &mut router);
    audit::routes(state, &mut router);
    events::routes(state, &mut router);
    webhooks::routes(state, &mut router);
    billing::routes(state, &mut router);
    analytics::routes(state, &mut router);
    plans::routes(state, &mut router);
    edcast::routes(state, &mut router);
    videosdk::routes(state, &mut router);
    controls::routes(state, &mut router);
    ice::routes(state, &mut router);
    router
}

/// The REST dialects, with their protection: every route of the [`route_table`], the rate limit
/// of the request's group first, then the handler, then security headers, CORS and compression
/// on the way out; CORS preflights; a 405 that names the allowed methods.
pub fn api(state: &AppState) -> BoxedFilter<(Response,)> {
    let (endpoints, api) = route_table(state).finish();
    let limited = rate_limited(state.clone())
        .and(api)
        .recover(error::recover)
        .unify();
    let config = state.config.clone();
    let preflight = warp::options()
        .and(warp::header::headers_cloned())
        .map(move |headers: HeaderMap| protection::preflight(&config, origin(&headers)));
    let config = state.config.clone();
    warp::header::headers_cloned()
        .and(warp::path::full())
        .and(preflight.or(limited).unify())
        .then(
            move |headers: HeaderMap, path: FullPath, mut response: Response| {
                let config = config.clone();
                let endpoints = endpoints.clone();
                async move {
                    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                        add_allow_header(&endpoints, path.as_str(), &mut response);
                    }
                    finish(&config, &headers, response).await
                }
            },
        )
        .boxed()
}

/// Rejects the request with 429 when its group's limit for its address is spent.
fn rate_limited(state: AppState) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(crate::net::server::peer_addr())
        .and_then(
            move |method: Method,
                  path: warp::path::FullPath,
                  remote: Option<std::net::SocketAddr>| {
                let state = state.clone();
                async move {
                    match protection::group_of(&method, path.as_str()) {
                        Some(group) => state
                            .rate_limits
                            .check(group, remote.map(|a| a.ip()))
                            .map_err(warp::reject::custom),
                        None => Ok(()),
                    }
                }
            },
        )
        .untuple_one()
}

/// A 405 names the methods the path does answer (RFC 9110 §15.5.6).
fn add_allow_header(endpoints: &[Endpoint], path: &str, response: &mut Response) {
    let mut methods = router::allowed_methods(endpoints, path);
    methods.push("OPTIONS".into());
    if let Ok(value) = HeaderValue::from_str(&methods.join(", ")) {
        response.headers_mut().insert("allow", value);
    }
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
