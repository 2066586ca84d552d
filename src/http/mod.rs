//! HTTP: one module per API area, all routes assembled in [`routes`].
//!
//! Handlers are plain async functions returning `Result<Response, ApiError>`; once a route's
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
pub mod cache;
pub mod companies;
pub mod compression;
pub mod controls;
pub mod edcast;
pub mod error;
pub mod events;
pub mod hashing;
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
pub mod server;
pub mod sessions;
pub mod videosdk;
pub mod web;
pub mod webhooks;

use std::sync::Arc;

use convene_actors::{AccountService, MeetingRegistry, SessionService};
use convene_events::{Clock, EventLog, Workspace};
use convene_projections::Projections;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::config::Config;
use crate::email::Mailer;
use error::ApiError;
use protection::RateLimits;
use router::{Endpoint, Router};

/// Everything a handler may use; cloned per request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub log: EventLog,
    pub registry: MeetingRegistry,
    pub accounts: AccountService,
    pub sessions: SessionService,
    pub projections: Projections,
    pub mailer: Mailer,
    pub rate_limits: RateLimits,
    pub hashing: hashing::PasswordHashing,
    /// The JSON of each workspace's meeting list, as of a meeting-directory position.
    pub meeting_lists: cache::VersionedCache<Workspace, bytes::Bytes>,
    /// Per-workspace turns at creating a meeting under a monthly quota.
    pub creation_turns: plans::CreationTurns,
    /// Per-room turns at opening a VideoSDK session.
    pub videosdk_turns: videosdk::SessionTurns,
    /// Webhook delivery: attempts for the API, redelivery; its engine runs beside the server.
    pub webhooks: crate::webhooks::delivery::Delivery,
    /// When the server started (for uptime).
    pub started: std::time::Instant,
}

impl AppState {
    /// Waits until every read model shows the log up to `seq`.
    pub async fn caught_up(&self, seq: u64) -> Result<(), ApiError> {
        self.projections
            .wait_for(seq, self.config.read_your_writes_timeout())
            .await
            .map_err(ApiError::from)
    }

    /// A fresh id for an account, key, company or session (unique across the server's life).
    pub fn next_id(&self) -> Result<u64, ApiError> {
        self.log
            .next_id()
            .map_err(|e| ApiError::Unexpected(e.to_string()))
    }
}

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

/// The whole server: the warp routes, and the realtime endpoints' WebSocket handshakes.
pub fn server(state: AppState) -> server::Server {
    let engine = crate::realtime::socketio_meetings::engine(state.clone());
    server::Server::new(routes(state.clone(), &engine))
        .websocket("/socket.io/", engine.websocket_endpoint())
        .websocket("/ws", crate::realtime::ws::websocket_endpoint(state))
}

fn routes(state: AppState, engine: &crate::realtime::engineio::Engine) -> BoxedFilter<(Response,)> {
    let (endpoints, api) = route_table(&state).finish();
    let limited = rate_limited(state.clone())
        .and(api)
        .recover(error::recover)
        .unify();
    let config = state.config.clone();
    let preflight = warp::options()
        .and(warp::header::headers_cloned())
        .map(move |headers: HeaderMap| protection::preflight(&config, origin(&headers)));
    let config = state.config.clone();
    // The realtime endpoint answers for itself (its own protocol, errors and limits).
    let realtime = engine.routes().or(crate::realtime::ws::routes()).unify();
    let rest = warp::header::headers_cloned()
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
        );
    realtime
        .or(rest)
        .unify()
        .with(warp::trace::request())
        .map(Reply::into_response)
        .boxed()
}

/// Rejects the request with 429 when its group's limit for its address is spent.
fn rate_limited(state: AppState) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(server::peer_addr())
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
