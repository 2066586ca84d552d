//! ICE servers for WebRTC (onepizza §13): the configured STUN servers, and TURN either with the
//! static credentials of TURN_USERNAME / TURN_CREDENTIAL or, when `turn.shared_secret` is set,
//! with short-lived credentials in the TURN REST API scheme that coturn's `use-auth-secret`
//! checks: username `<expiry unix seconds>:<id>`, credential
//! `base64(HMAC-SHA1(shared_secret, username))`.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use utoipa::ToSchema;
use warp::reply::Response;

use super::auth::{authenticate_optional, Caller};
use super::reply;
use super::router::Router;
use crate::app::AppError;
use crate::app::AppState;
use crate::config::Config;
use crate::http::error::NATIVE;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_ice_servers>(NATIVE)
        .serve(|r| async move { ice_servers(r.state, r.caller) });
}

/// An `RTCIceServer` as the browser's `RTCPeerConnection` takes it.
#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub struct IceServer {
    urls: Urls,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<String>,
}

#[derive(Serialize, ToSchema, Debug, PartialEq)]
#[serde(untagged)]
pub enum Urls {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IceServers {
    ice_servers: Vec<IceServer>,
}

/// STUN and TURN servers for WebRTC; no credentials needed (anyone may join a meeting).
#[utoipa::path(
    get, path = "/api/config/ice-servers", tag = "realtime",
    security((), ("api_key" = []), ("session" = [])),
    responses((status = 200, description = "the servers, STUN first", body = IceServers))
)]
pub(super) fn ice_servers(state: AppState, caller: Caller) -> Result<Response, AppError> {
    // Anyone may join a meeting, so anyone may ask; a signed-in caller's id goes into the
    // TURN username so the TURN server's logs can say whose relay it was.
    let who = match authenticate_optional(&caller, &state) {
        Ok(Some(principal)) => format!("account-{}", principal.account_id()),
        _ => "guest".to_owned(),
    };
    let now_secs = state.clock.now_ms() / 1000;
    Ok(reply::ok(&IceServers {
        ice_servers: servers(&state.config, now_secs, &who),
    }))
}

pub fn servers(config: &Config, now_secs: i64, who: &str) -> Vec<IceServer> {
    let mut servers: Vec<IceServer> = config
        .ice
        .stun_urls
        .iter()
        .map(|url| IceServer {
            urls: Urls::One(url.clone()),
            username: None,
            credential: None,
        })
        .collect();
    let turn = &config.turn;
    if turn.urls.is_empty() {
        return servers;
    }
    let urls = match turn.urls.as_slice() {
        [one] => Urls::One(one.clone()),
        many => Urls::Many(many.to_vec()),
    };
    let (username, credential) = if !turn.shared_secret.is_empty() {
        let expiry = now_secs + turn.credential_ttl_secs as i64;
        let username = format!("{expiry}:{who}");
        let credential = turn_credential(&turn.shared_secret, &username);
        (Some(username), Some(credential))
    } else if !turn.username.is_empty() {
        (Some(turn.username.clone()), Some(turn.credential.clone()))
    } else {
        (None, None)
    };
    servers.push(IceServer {
        urls,
        username,
        credential,
    });
    servers
}

/// base64(HMAC-SHA1(secret, username)), as coturn computes it.
pub fn turn_credential(secret: &str, username: &str) -> String {
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("hmac accepts any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_credentials_follow_the_turn_rest_scheme() {
        // Computed independently: printf '1700000000:alice' | openssl dgst -sha1 -hmac secret -binary | base64
        assert_eq!(
            turn_credential("secret", "1700000000:alice"),
            "d8soP47RbdIKLDUOpnJPVQyq5Ts="
        );
    }

    #[test]
    fn stun_only_by_default_and_time_limited_turn_with_a_secret() {
        let mut config = Config::defaults();
        assert_eq!(servers(&config, 0, "guest").len(), 2);
        config.turn.urls = vec!["turn:turn.example.com:3478".into()];
        config.turn.shared_secret = "s3cret".into();
        config.turn.credential_ttl_secs = 600;
        let all = servers(&config, 1_000, "guest");
        assert_eq!(all[2].username.as_deref(), Some("1600:guest"));
        assert_eq!(
            all[2].credential,
            Some(turn_credential("s3cret", "1600:guest"))
        );
    }
}
