//! One request through the route table: find its route, count it against the route's rate
//! limit, read its body under the route's limit, run the handler, word a refusal in the route's
//! dialect. A path no route takes is a 404 (`no such endpoint`); a path some route takes with
//! another method, a 405 whose `Allow` header names the methods it has (RFC 9110 §15.5.6).
//!
//! A request no route takes still counts against the API group when it is under `/api/` or
//! `/v2/`, so probing for endpoints is limited like using them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use warp::http::{HeaderValue, Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::auth::Caller;
use super::error::{ErrorBody, NO_SUCH_ENDPOINT};
use super::router::{record_unrouted, NoRoute, Request, Router};
use crate::app::rate_limits::Group;
use crate::app::{AppError, AppState};
use crate::net::body;

/// Every request the REST dialects answer; it rejects only on a malformed header.
pub fn filter(
    state: AppState,
    table: Arc<Router>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(crate::net::server::peer_addr())
        .and(warp::header::optional::<u64>("content-length"))
        .and(warp::body::stream())
        .then(
            move |method: Method,
                  path: FullPath,
                  query: String,
                  headers,
                  peer: Option<SocketAddr>,
                  declared: Option<u64>,
                  stream| {
                let state = state.clone();
                let table = table.clone();
                async move {
                    let started = Instant::now();
                    let caller = Caller {
                        method,
                        headers,
                        ip: peer.map(|addr| addr.ip()),
                    };
                    let found = table.find(&caller.method, path.as_str());
                    let group = match &found {
                        Ok((route, _)) => route.rate_limit_group(),
                        Err(_) => unrouted_group(path.as_str()),
                    };
                    if let Some(group) = group {
                        if let Err(refused) = state.rate_limits.check(group, caller.ip) {
                            metrics::counter!("convene_rate_limit_refusals_total", "group" => group.as_str())
                                .increment(1);
                            let response = refused.into_response();
                            match &found {
                                Ok((route, _)) => route.record(response.status(), started),
                                Err(_) => record_unrouted(&caller.method, response.status(), started),
                            }
                            return response;
                        }
                    }
                    let (route, params) = match found {
                        Ok(found) => found,
                        Err(NoRoute::NotFound) => {
                            let response = AppError::NotFound(NO_SUCH_ENDPOINT).into_response();
                            record_unrouted(&caller.method, response.status(), started);
                            return response;
                        }
                        Err(NoRoute::MethodNotAllowed) => {
                            let response = method_not_allowed(&table, path.as_str());
                            record_unrouted(&caller.method, response.status(), started);
                            return response;
                        }
                    };
                    let limit = route.body_limit_or(state.config.limits.body_bytes);
                    let body: Result<Bytes, _> = body::read(declared, stream, limit).await;
                    let request = Request {
                        state,
                        caller,
                        params,
                        query,
                        body,
                    };
                    let response = route.answer(request).await;
                    route.record(response.status(), started);
                    response
                }
            },
        )
}

fn unrouted_group(path: &str) -> Option<Group> {
    (path.starts_with("/api/") || path.starts_with("/v2/")).then_some(Group::Api)
}

fn method_not_allowed(table: &Router, path: &str) -> Response {
    let mut response = warp::reply::with_status(
        warp::reply::json(&ErrorBody {
            error: "method not allowed".into(),
        }),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .into_response();
    let mut methods = table.allowed_methods(path);
    methods.push("OPTIONS".into());
    if let Ok(value) = HeaderValue::from_str(&methods.join(", ")) {
        response.headers_mut().insert("allow", value);
    }
    response
}
