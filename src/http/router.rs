//! The route table: every endpoint the server answers, as a method and an OpenAPI path template
//! beside the warp filter that serves it.
//!
//! The server's filter is assembled from this table and nothing else, so the table is the
//! complete list of what is served. Tests hold it against the OpenAPI document (the same
//! operations on both sides) and against the running server (each entry answers at its
//! template), and a 405 names the methods the table has for the path in its `Allow` header.

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

/// One served operation: `GET /api/meetings/{meetingId}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub method: String,
    pub path: &'static str,
}

impl Endpoint {
    /// Whether a concrete request path fits this template (`{name}` matches one segment).
    pub fn matches_path(&self, path: &str) -> bool {
        let mut concrete = path.trim_end_matches('/').split('/');
        // The root's template is "/": as a concrete path it trims to "".
        let mut template = self.path.trim_end_matches('/').split('/');
        loop {
            match (template.next(), concrete.next()) {
                (None, None) => return true,
                (Some(t), Some(c)) if t.starts_with('{') && t.ends_with('}') => {
                    if c.is_empty() {
                        return false;
                    }
                }
                (Some(t), Some(c)) if t == c => {}
                _ => return false,
            }
        }
    }
}

#[derive(Default)]
pub struct Router {
    endpoints: Vec<Endpoint>,
    filter: Option<BoxedFilter<(Response,)>>,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an endpoint. `filter` matches the template's path and the method itself (warp's
    /// path and method filters, in that order, so that a known path with another method is a
    /// 405 and an unknown path a 404).
    pub fn route<F>(&mut self, method: Method, path: &'static str, filter: F)
    where
        F: Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
    {
        self.endpoints.push(Endpoint {
            method: method.as_str().to_owned(),
            path,
        });
        let filter = match self.filter.take() {
            Some(previous) => previous.or(filter).unify().boxed(),
            None => filter.boxed(),
        };
        self.filter = Some(filter);
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The table and the filter that serves it.
    pub fn finish(self) -> (Arc<[Endpoint]>, BoxedFilter<(Response,)>) {
        let filter = self.filter.expect("the router has at least one route");
        (self.endpoints.into(), filter)
    }
}

/// The methods the table serves for a concrete path, for a 405's `Allow` header.
pub fn allowed_methods(endpoints: &[Endpoint], path: &str) -> Vec<String> {
    let mut methods: Vec<String> = endpoints
        .iter()
        .filter(|e| e.matches_path(path))
        .map(|e| e.method.clone())
        .collect();
    methods.sort();
    methods.dedup();
    methods
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(path: &'static str) -> Endpoint {
        Endpoint {
            method: "GET".into(),
            path,
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
    }
}
