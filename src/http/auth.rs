//! Who is calling: an API key (`x-api-key`) or a login session (the `convene_session` cookie).
//!
//! Wherever an API key is accepted a session is accepted too (the dashboard relies on it), but
//! a request authenticated by cookie that changes state must come from one of our own origins:
//! browsers attach cookies to cross-site form posts, so without this check any web page could
//! act for a signed-in user. Session-only endpoints (keys, password, company) refuse API keys:
//! a leaked key must not be able to mint more keys.
//!
//! Keys and sessions are looked up by hash in the accounts directory; a revoked key or an ended
//! session is gone from it, so it fails on its very next use.

use std::net::IpAddr;

use convene_actors::sha256_hex;
use convene_projections::AccountRow;
use warp::http::{HeaderMap, Method};

use super::protection::is_allowed_origin;
use crate::app::principal::{ensure_active, Credential, Principal};
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::hmac_sha256_hex;

pub const SESSION_COOKIE: &str = "convene_session";

/// The parts of a request that authentication and rate limiting look at.
#[derive(Debug, Clone)]
pub struct Caller {
    pub method: Method,
    pub headers: HeaderMap,
    pub ip: Option<IpAddr>,
}

impl Caller {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// The session token from the Cookie header(s), if any.
    pub fn session_token(&self) -> Option<&str> {
        self.headers
            .get_all("cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|header| header.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }
}

/// An API key or, failing that, a session.
pub fn authenticate(caller: &Caller, state: &AppState) -> Result<Principal, AppError> {
    if caller.headers.contains_key("x-api-key") {
        return by_api_key(caller, state);
    }
    if caller.session_token().is_some() {
        return by_session(caller, state);
    }
    Err(AppError::Unauthorized(
        "missing x-api-key header or session cookie",
    ))
}

/// A session only (the dashboard's account endpoints).
pub fn require_session(caller: &Caller, state: &AppState) -> Result<Principal, AppError> {
    if caller.session_token().is_none() {
        return Err(AppError::Unauthorized("not logged in"));
    }
    by_session(caller, state)
}

/// The caller, who must be a platform administrator (403 otherwise).
pub fn authenticate_admin(caller: &Caller, state: &AppState) -> Result<Principal, AppError> {
    let principal = authenticate(caller, state)?;
    if !principal.account.is_admin {
        return Err(AppError::Forbidden("administrators only"));
    }
    Ok(principal)
}

/// The account an administrator's path names (`/admin/api/accounts/{accountId}/…`); 404 for
/// an id that is not a number or names nobody.
pub fn account_in_path(state: &AppState, raw_id: &str) -> Result<AccountRow, AppError> {
    let not_found = || AppError::NotFound("account not found");
    let account_id: u64 = raw_id.parse().map_err(|_| not_found())?;
    state
        .projections
        .accounts()
        .account(account_id)?
        .ok_or_else(not_found)
}

/// An API key or session, if the request carries one; `None` if it carries neither.
pub fn authenticate_optional(
    caller: &Caller,
    state: &AppState,
) -> Result<Option<Principal>, AppError> {
    if caller.headers.contains_key("x-api-key") || caller.session_token().is_some() {
        authenticate(caller, state).map(Some)
    } else {
        Ok(None)
    }
}

fn by_api_key(caller: &Caller, state: &AppState) -> Result<Principal, AppError> {
    let key = caller
        .header("x-api-key")
        .ok_or(AppError::Unauthorized("missing x-api-key header"))?;
    let accounts = state.projections.accounts();
    let row = accounts
        .key_by_hash(&sha256_hex(key))?
        .ok_or(AppError::Unauthorized("invalid api key"))?;
    let account = accounts
        .account(row.account_id)?
        .ok_or(AppError::Unauthorized("invalid api key"))?;
    ensure_active(state, &account)?;
    Ok(Principal {
        account,
        credential: Credential::ApiKey { key_id: row.key_id },
    })
}

fn by_session(caller: &Caller, state: &AppState) -> Result<Principal, AppError> {
    let token = caller
        .session_token()
        .ok_or(AppError::Unauthorized("not logged in"))?;
    let accounts = state.projections.accounts();
    let session = accounts
        .session(&session_hash(state, token))?
        .filter(|s| s.expires_at > state.clock.now_ms())
        .ok_or(AppError::Unauthorized(
            "session expired or invalid, log in again",
        ))?;
    let account = accounts
        .account(session.account_id)?
        .ok_or(AppError::Unauthorized(
            "session expired or invalid, log in again",
        ))?;
    if !is_safe(&caller.method) {
        check_same_origin(caller, state)?;
    }
    ensure_active(state, &account)?;
    Ok(Principal {
        account,
        credential: Credential::Session {
            session_id: session.session_id,
        },
    })
}

/// How a session token is stored and looked up.
pub fn session_hash(state: &AppState, token: &str) -> String {
    hmac_sha256_hex(state.config.session_secret(), token)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Origin (or, failing that, Referer) must be app_url, one of allowed_origins, or this very
/// server as the request names it (an Origin whose host and port are the request's Host: the
/// page was served from here, e.g. the dashboard opened at 127.0.0.1 while app_url says
/// localhost). A request with neither header is refused too: every browser sends Origin on
/// cross-origin and same-origin POSTs, so only non-browser clients omit both, and those should
/// use an API key. (A DNS-rebound attacker page would match its own Host, but the browser sends
/// it no cookie of this site's, so it has no session to ride.)
fn check_same_origin(caller: &Caller, state: &AppState) -> Result<(), AppError> {
    let origin = caller
        .header("origin")
        .map(str::to_owned)
        .or_else(|| caller.header("referer").and_then(origin_of));
    let config = &state.config;
    let host = caller.header("host");
    let allowed = |origin: &str| {
        origin_of(&config.server.app_url).as_deref() == Some(origin)
            || is_allowed_origin(config, origin)
            || origin
                .split_once("://")
                .is_some_and(|(_, authority)| Some(authority) == host)
    };
    match origin {
        Some(origin) if allowed(&origin) => Ok(()),
        _ => Err(AppError::Forbidden(
            "cross-site request refused: send an Origin header of this site, or use an api key",
        )),
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_authority() {
        assert_eq!(
            origin_of("http://localhost:3000/dashboard?x=1").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(
            origin_of("https://meet.example.com").as_deref(),
            Some("https://meet.example.com")
        );
        assert_eq!(origin_of("not a url"), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            "theme=dark; convene_session=abc123 ; x=y".parse().unwrap(),
        );
        let caller = Caller {
            method: Method::GET,
            headers,
            ip: None,
        };
        assert_eq!(caller.session_token(), Some("abc123"));
    }
}
