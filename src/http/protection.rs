//! Protection that wraps every route (onepizza §16): which rate-limit group a request is in
//! (the limits themselves are [`crate::app::rate_limits`]), security headers, CORS.

use warp::http::header::{HeaderName, HeaderValue};
use warp::http::HeaderMap;
use warp::reply::Response;

use crate::config::Config;

/// Headers every response carries.
pub fn add_security_headers(config: &Config, response: &mut Response) {
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(
        headers,
        "referrer-policy",
        "strict-origin-when-cross-origin",
    );
    set(headers, "cross-origin-opener-policy", "same-origin");
    if config.is_https() {
        set(
            headers,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
}

/// CORS for the allowed origins: the browser may send credentials from them, nothing else.
pub fn add_cors_headers(config: &Config, origin: Option<&str>, response: &mut Response) {
    let Some(origin) = origin.filter(|o| is_allowed_origin(config, o)) else {
        return;
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert("access-control-allow-origin", value);
        headers.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );
        headers.append("vary", HeaderValue::from_static("Origin"));
    }
}

/// The answer to a CORS preflight from an allowed origin (403 for any other).
pub fn preflight(config: &Config, origin: Option<&str>) -> Response {
    use warp::http::StatusCode;
    use warp::Reply;
    if !origin.is_some_and(|o| is_allowed_origin(config, o)) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST, PATCH, DELETE, OPTIONS"),
    );
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("content-type, x-api-key, x-admin-token, authorization"),
    );
    headers.insert("access-control-max-age", HeaderValue::from_static("600"));
    add_cors_headers(config, origin, &mut response);
    response
}

pub fn is_allowed_origin(config: &Config, origin: &str) -> bool {
    let app = config.server.app_url.trim_end_matches('/');
    origin == app
        || config
            .server
            .allowed_origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/') == origin)
}
