//! The web client: the dashboard at `/`, the meeting room at `/join/{meetingId}`, the password
//! reset page at `/reset-password`, and their assets under `/assets/`.
//!
//! The files in `web/` are plain HTML, CSS and JavaScript with no build step; they are compiled
//! into the binary (`include_bytes!`), so `cargo run --release` serves them with nothing else
//! installed. Each answer carries a strong ETag (SHA-256 of the file) and is revalidated with
//! `If-None-Match` (304); HTML is never cached without revalidation, assets for an hour.
//! Compression is the server's usual negotiation (`compression.rs`).

use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use super::router::Router;
use crate::domain::to_hex;
use crate::http::error::NATIVE;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../../web/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/app.js"),
    },
    Asset {
        name: "join.html",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../../web/join.html"),
    },
    Asset {
        name: "join.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/join.js"),
    },
    Asset {
        name: "reset.html",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../../web/reset.html"),
    },
    Asset {
        name: "reset.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/reset.js"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../web/style.css"),
    },
];

/// Each asset's ETag, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| format!("\"{}\"", &to_hex(&Sha256::digest(asset.bytes))[..32]))
        .collect()
});

fn find(name: &str) -> Option<(&'static Asset, &'static str)> {
    let at = ASSETS.iter().position(|a| a.name == name)?;
    Some((&ASSETS[at], ETAGS[at].as_str()))
}

/// The asset, or 304 when the client holds this version already.
fn serve(name: &str, if_none_match: Option<&str>) -> Response {
    let Some((asset, etag)) = find(name) else {
        return crate::app::AppError::NotFound("asset not found").into_response();
    };
    let cache = if asset.content_type.starts_with("text/html") {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    let fresh = if_none_match.is_some_and(|tags| {
        tags.split(',')
            .any(|tag| tag.trim().trim_start_matches("W/") == etag)
    });
    let mut response = if fresh {
        let mut response = Response::new(Default::default());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(asset.bytes.into());
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        response
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(ETAG, value);
    }
    response
}

pub fn routes(router: &mut Router) {
    router
        .add::<__path_dashboard>(NATIVE)
        .unlimited()
        .serve(|r| async move { Ok(dashboard(r.caller.header("if-none-match"))) });
    router
        .add::<__path_join_page>(NATIVE)
        .unlimited()
        .serve(|r| async move { Ok(join_page(r.caller.header("if-none-match"))) });
    router
        .add::<__path_reset_page>(NATIVE)
        .unlimited()
        .serve(|r| async move { Ok(reset_page(r.caller.header("if-none-match"))) });
    router
        .add::<__path_asset>(NATIVE)
        .unlimited()
        .serve(|r| async move { Ok(asset(&r.params[0], r.caller.header("if-none-match"))) });
}

/// The dashboard: sign up or log in, then API keys, meetings (create, list, end, copy the join
/// link, start as host), history, billing, webhooks and company members; administrators also
/// see the analytics as charts. It uses the native API with its session cookie.
#[utoipa::path(
    get, path = "/", tag = "web",
    security(()),
    responses(
        (status = 200, description = "the dashboard page", content_type = "text/html"),
        (status = 304, description = "the client's copy is current (If-None-Match)"),
    )
)]
pub(super) fn dashboard(if_none_match: Option<&str>) -> Response {
    serve("index.html", if_none_match)
}

/// The meeting room: a name prompt with a camera and microphone preview, then the meeting
/// (WebRTC full mesh over the `/ws` realtime endpoint). The page reads the meeting id from its
/// path, an invite from `?invite=&name=`, and the host's admin token from the fragment
/// (`#admin=<token>`), which browsers never send to servers.
#[utoipa::path(
    get, path = "/join/{meetingId}", tag = "web",
    security(()),
    params(("meetingId" = String, Path)),
    responses(
        (status = 200, description = "the meeting room page", content_type = "text/html"),
        (status = 304, description = "the client's copy is current (If-None-Match)"),
    )
)]
pub(super) fn join_page(if_none_match: Option<&str>) -> Response {
    serve("join.html", if_none_match)
}

/// The password reset page the reset email links to (`?token=…`): it checks the token, asks for
/// a new password and sets it, with clear screens for a link that cannot be used.
#[utoipa::path(
    get, path = "/reset-password", tag = "web",
    security(()),
    params(("token" = Option<String>, Query, description = "the token from the reset email")),
    responses(
        (status = 200, description = "the reset page", content_type = "text/html"),
        (status = 304, description = "the client's copy is current (If-None-Match)"),
    )
)]
pub(super) fn reset_page(if_none_match: Option<&str>) -> Response {
    serve("reset.html", if_none_match)
}

/// The web client's scripts and styles.
#[utoipa::path(
    get, path = "/assets/{file}", tag = "web",
    security(()),
    params(("file" = String, Path, description = "join.js, style.css …")),
    responses(
        (status = 200, description = "the file", content_type = "text/javascript"),
        (status = 304, description = "the client's copy is current (If-None-Match)"),
        (status = 404, description = "no such file", body = super::error::ErrorBody),
    )
)]
pub(super) fn asset(file: &str, if_none_match: Option<&str>) -> Response {
    serve(file, if_none_match)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_asset_is_served_once_then_revalidated() {
        let first = serve("join.js", None);
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
        assert_eq!(first.headers()[CACHE_CONTROL], "public, max-age=3600");
        assert_eq!(serve("join.js", Some(&etag)).status(), 304);
        assert_eq!(serve("join.js", Some("\"other\"")).status(), 200);
        assert_eq!(
            serve("join.html", None).headers()[CACHE_CONTROL],
            "no-cache"
        );
        assert_eq!(serve("../Cargo.toml", None).status(), 404);
    }
}
