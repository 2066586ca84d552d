//! The route table: every endpoint the server answers, each declared once.
//!
//! A route is its handler's `#[utoipa::path]` (method, path template, OpenAPI operation, the
//! schemas it uses) plus what the table adds beside it: the dialect that words its errors, the
//! rate-limit group it counts against and its body limit. [`Router::add`] and
//! [`Declaration::serve`] take the two together, so nothing is spelled twice: the server dispatches on the table ([`dispatch`]),
//! the OpenAPI document is built from it ([`Router::document`]), a 405 names the methods it has
//! for a path, and the rate limits read each route's group.
//!
//! Dispatching matches the request's path against every template in table order (a
//! `{name}` takes one non-empty segment; a trailing `/` is ignored), so a literal route declared
//! first (`/api/meetings/history`) wins over a template that would also take it
//! (`/api/meetings/{meetingId}`). A path no template takes is a 404; a path some template takes,
//! with another method, a 405.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use metrics::SharedString;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use warp::http::{Method, StatusCode};
use warp::reply::Response;

use super::auth::Caller;
use crate::app::rate_limits::Group;
use crate::app::{AppError, AppState};
use crate::net::body::BodyRefused;

/// A request as a handler sees it.
pub struct Request {
    pub state: AppState,
    pub caller: Caller,
    /// The path's parameters in the template's order, as they appear in the path.
    pub params: Vec<String>,
    /// The raw query string ("" when there is none).
    pub query: String,
    /// The whole body, read under the route's limit, or why it was not: a native handler
    /// refuses it before anything else (`&r.body?`), a dialect that authenticates first
    /// (EdCast, VideoSDK) after the credentials.
    pub body: Result<Bytes, BodyRefused>,
}

/// How a dialect words a refusal: its status mapping and error body.
pub type Responder = fn(AppError) -> Response;

/// The dialect a route belongs to: how its errors are worded and which rate-limit group its
/// routes count against unless a route says otherwise.
#[derive(Clone, Copy)]
pub struct Dialect {
    pub respond: Responder,
    pub group: Option<Group>,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, AppError>> + Send>>;
type Handler = Arc<dyn Fn(Request) -> Answer + Send + Sync>;

/// One served operation: `GET /api/meetings/{meetingId}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
}

impl Endpoint {
    /// Whether a concrete request path fits this template (`{name}` matches one segment).
    pub fn matches_path(&self, path: &str) -> bool {
        self.params_of(path).is_some()
    }

    /// The template's parameters in `path`, or `None` when the path does not fit it.
    fn params_of(&self, path: &str) -> Option<Vec<String>> {
        let mut concrete = path.trim_end_matches('/').split('/');
        // The root's template is "/": as a concrete path it trims to "".
        let mut template = self.path.trim_end_matches('/').split('/');
        let mut params = Vec::new();
        loop {
            match (template.next(), concrete.next()) {
                (None, None) => return Some(params),
                (Some(t), Some(c)) if t.starts_with('{') && t.ends_with('}') => {
                    if c.is_empty() {
                        return None;
                    }
                    params.push(c.to_owned());
                }
                (Some(t), Some(c)) if t == c => {}
                _ => return None,
            }
        }
    }
}

/// An endpoint's OpenAPI operation and the schemas it refers to.
struct Documentation {
    operation: Operation,
    schemas: Vec<(String, RefOr<Schema>)>,
}

/// Everything the table knows of a route but its handler.
struct Spec {
    endpoint: Endpoint,
    method: Method,
    group: Option<Group>,
    body_limit: Option<u64>,
    respond: Responder,
    documentation: Documentation,
}

pub struct Route {
    spec: Spec,
    handler: Handler,
    /// The route's template as a metrics label, shared (no copy per request).
    metric_route: SharedString,
    /// Its latency histogram, looked up once (the recorder is installed before the table is
    /// built for serving).
    latency: OnceLock<metrics::Histogram>,
}

/// A route being declared: [`Router::add`] names the operation, the modifiers adjust it,
/// [`Declaration::serve`] gives the handler and puts it in the table.
pub struct Declaration<'a> {
    router: &'a mut Router,
    spec: Spec,
}

impl Declaration<'_> {
    /// Counts this route against `group` instead of its dialect's.
    pub fn group(mut self, group: Group) -> Self {
        self.spec.group = Some(group);
        self
    }

    /// Counts this route against no rate limit (pages and probes, not the API).
    pub fn unlimited(mut self) -> Self {
        self.spec.group = None;
        self
    }

    /// Refuses bodies over `limit` bytes instead of `limits.body_bytes`.
    pub fn body_limit(mut self, limit: u64) -> Self {
        self.spec.body_limit = Some(limit);
        self
    }

    /// Serves the route with `handler`.
    pub fn serve<F, Fut>(self, handler: F)
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
    {
        let metric_route = SharedString::from(Arc::<str>::from(self.spec.endpoint.path.as_str()));
        self.router.routes.push(Route {
            spec: self.spec,
            handler: Arc::new(move |request| Box::pin(handler(request))),
            metric_route,
            latency: OnceLock::new(),
        });
    }
}

#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares the operation `P` documents (the handler's `#[utoipa::path]`, whose type is
    /// `__path_<handler>`) in `dialect`; [`Declaration::serve`] completes it.
    pub fn add<P>(&mut self, dialect: Dialect) -> Declaration<'_>
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>,
    {
        let methods = P::methods();
        let [http_method] = methods.as_slice() else {
            panic!(
                "{} documents {} methods; a route has one",
                P::path(),
                methods.len()
            );
        };
        let method = method_of(http_method);
        let mut operation = P::operation();
        let tags = <P as utoipa::__dev::Tags<'static>>::tags();
        if !tags.is_empty() {
            operation.tags = Some(tags.into_iter().map(str::to_owned).collect());
        }
        let mut schemas = Vec::new();
        <P as utoipa::__dev::SchemaReferences>::schemas(&mut schemas);
        Declaration {
            router: self,
            spec: Spec {
                endpoint: Endpoint {
                    method: method.as_str().to_owned(),
                    path: P::path(),
                },
                method,
                group: dialect.group,
                body_limit: None,
                respond: dialect.respond,
                documentation: Documentation { operation, schemas },
            },
        }
    }

    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.routes
            .iter()
            .map(|r| r.spec.endpoint.clone())
            .collect()
    }

    /// Every route's operation, in table order, and the schemas they use.
    pub fn document(&self) -> (utoipa::openapi::Paths, Vec<(String, RefOr<Schema>)>) {
        let mut paths = utoipa::openapi::Paths::new();
        let mut schemas = Vec::new();
        for route in &self.routes {
            paths.add_path_operation(
                &route.spec.endpoint.path,
                vec![http_method_of(&route.spec.method)],
                route.spec.documentation.operation.clone(),
            );
            schemas.extend(route.spec.documentation.schemas.iter().cloned());
        }
        (paths, schemas)
    }

    /// Finds the route for a request: the route and its path parameters, or why none serves it.
    pub fn find(&self, method: &Method, path: &str) -> Result<(&Route, Vec<String>), NoRoute> {
        let mut path_known = false;
        for route in &self.routes {
            if let Some(params) = route.spec.endpoint.params_of(path) {
                if route.spec.method == method {
                    return Ok((route, params));
                }
                path_known = true;
            }
        }
        Err(if path_known {
            NoRoute::MethodNotAllowed
        } else {
            NoRoute::NotFound
        })
    }

    /// The methods the table serves for a concrete path, for a 405's `Allow` header.
    pub fn allowed_methods(&self, path: &str) -> Vec<String> {
        let mut methods: Vec<String> = self
            .routes
            .iter()
            .filter(|r| r.spec.endpoint.matches_path(path))
            .map(|r| r.spec.endpoint.method.clone())
            .collect();
        methods.sort();
        methods.dedup();
        methods
    }
}

/// Why no route serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoute {
    NotFound,
    MethodNotAllowed,
}

impl Route {
    /// Counts one answer of this route: its latency, and the answer under its route template,
    /// method and status.
    pub fn record(&self, status: StatusCode, started: Instant) {
        let method = method_label(&self.spec.method);
        self.latency
            .get_or_init(|| {
                metrics::histogram!(
                    "convene_http_request_duration_seconds",
                    "route" => self.metric_route.clone(),
                    "method" => method
                )
            })
            .record(started.elapsed().as_secs_f64());
        record_answer(self.metric_route.clone(), method, status);
    }

    /// The rate-limit group this route counts against.
    pub fn rate_limit_group(&self) -> Option<Group> {
        self.spec.group
    }

    /// The body limit of this route, given the server's default.
    pub fn body_limit_or(&self, default: u64) -> u64 {
        self.spec.body_limit.unwrap_or(default)
    }

    /// Runs the handler and words its refusal in the route's dialect.
    pub async fn answer(&self, request: Request) -> Response {
        (self.handler)(request)
            .await
            .unwrap_or_else(|error| (self.spec.respond)(error))
    }
}

/// The route label of a request no route took (its path is not a label: it is unbounded).
const UNROUTED: &str = "unrouted";

/// Counts a request no route took (a 404, a 405, or refused by the rate limit before routing).
pub fn record_unrouted(method: &Method, status: StatusCode, started: Instant) {
    let method = method_label(method);
    metrics::histogram!(
        "convene_http_request_duration_seconds",
        "route" => UNROUTED,
        "method" => method
    )
    .record(started.elapsed().as_secs_f64());
    record_answer(SharedString::const_str(UNROUTED), method, status);
}

fn record_answer(route: SharedString, method: &'static str, status: StatusCode) {
    metrics::counter!(
        "convene_http_requests_total",
        "route" => route,
        "method" => method,
        "status" => status_label(status)
    )
    .increment(1);
}

/// A method as a label, without a copy for the standard ones.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A status as a label, without a copy for the ones Convene answers most.
fn status_label(status: StatusCode) -> SharedString {
    let known = match status.as_u16() {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        304 => "304",
        400 => "400",
        401 => "401",
        402 => "402",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        429 => "429",
        500 => "500",
        501 => "501",
        503 => "503",
        _ => return SharedString::from(status.as_str().to_owned()),
    };
    SharedString::const_str(known)
}

fn method_of(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Post => Method::POST,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

fn http_method_of(method: &Method) -> HttpMethod {
    match *method {
        Method::PUT => HttpMethod::Put,
        Method::POST => HttpMethod::Post,
        Method::DELETE => HttpMethod::Delete,
        Method::OPTIONS => HttpMethod::Options,
        Method::HEAD => HttpMethod::Head,
        Method::PATCH => HttpMethod::Patch,
        Method::TRACE => HttpMethod::Trace,
        _ => HttpMethod::Get,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(path: &str) -> Endpoint {
        Endpoint {
            method: "GET".into(),
            path: path.into(),
        }
    }

    #[test]
    fn templates_match_one_segment_per_parameter() {
        let e = endpoint("/api/meetings/{meetingId}/lock");
        assert!(e.matches_path("/api/meetings/abc/lock"));
        assert!(!e.matches_path("/api/meetings//lock"));
        assert!(!e.matches_path("/api/meetings/abc/def/lock"));
        assert!(!e.matches_path("/api/meetings/abc"));
        assert!(endpoint("/api/meetings").matches_path("/api/meetings/"));
        assert_eq!(
            endpoint("/a/{x}/b/{y}").params_of("/a/1/b/2"),
            Some(vec!["1".to_owned(), "2".to_owned()])
        );
    }
}
