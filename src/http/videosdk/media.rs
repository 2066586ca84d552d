//! Recordings, RTMP out and HLS: they need a media plane that receives the participants'
//! streams, and Convene has none (participants exchange media peer to peer; the server relays
//! only signaling). Every such route is served, authenticated like the rest of the dialect, and
//! answers `501 {"message": ...}` saying so: nothing pretends to record.

use warp::http::{Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::Filter;

use super::api_caller;
use super::error::{reply, respond};
use crate::app::AppError;
use crate::app::AppState;
use crate::http::auth::{caller, Caller};
use crate::http::router::{Endpoint, Router};
use crate::http::with_state;

const RECORDING: &str = "recordings";
const LIVESTREAM: &str = "RTMP livestreams";
const HLS: &str = "HLS streams";

/// Every media-plane route: method, path, what it is about.
const ROUTES: [(Method, &str, &str); 25] = [
    (Method::POST, "/v2/recordings/start", RECORDING),
    (Method::POST, "/v2/recordings/end", RECORDING),
    (Method::POST, "/v2/recordings/stop", RECORDING),
    (Method::GET, "/v2/recordings", RECORDING),
    (Method::POST, "/v2/recordings/participant/start", RECORDING),
    (Method::POST, "/v2/recordings/participant/stop", RECORDING),
    (Method::GET, "/v2/recordings/participant", RECORDING),
    (
        Method::POST,
        "/v2/recordings/participant/track/start",
        RECORDING,
    ),
    (
        Method::POST,
        "/v2/recordings/participant/track/stop",
        RECORDING,
    ),
    (
        Method::GET,
        "/v2/recordings/participant/{recordingId}",
        RECORDING,
    ),
    (
        Method::DELETE,
        "/v2/recordings/participant/{recordingId}",
        RECORDING,
    ),
    (Method::GET, "/v2/recordings/{recordingId}", RECORDING),
    (Method::DELETE, "/v2/recordings/{recordingId}", RECORDING),
    (Method::POST, "/v2/livestreams/start", LIVESTREAM),
    (Method::POST, "/v2/livestreams/end", LIVESTREAM),
    (Method::POST, "/v2/livestreams/stop", LIVESTREAM),
    (Method::GET, "/v2/livestreams", LIVESTREAM),
    (Method::GET, "/v2/livestreams/{livestreamId}", LIVESTREAM),
    (Method::POST, "/v2/hls/start", HLS),
    (Method::POST, "/v2/hls/end", HLS),
    (Method::POST, "/v2/hls/stop", HLS),
    (Method::GET, "/v2/hls", HLS),
    (Method::GET, "/v2/hls/{roomId}/active", HLS),
    (Method::GET, "/v2/hls/{hlsId}", HLS),
    (Method::DELETE, "/v2/hls/{hlsId}", HLS),
];

pub fn routes(state: &AppState, router: &mut Router) {
    for (method, path, what) in ROUTES {
        let endpoint = Endpoint {
            method: method.as_str().to_owned(),
            path,
        };
        let on_path = warp::path::full()
            .and_then(move |full: FullPath| {
                let matches = endpoint.matches_path(full.as_str());
                async move {
                    if matches {
                        Ok(())
                    } else {
                        Err(warp::reject::not_found())
                    }
                }
            })
            .untuple_one();
        let on_method = match method {
            Method::GET => warp::get().boxed(),
            Method::DELETE => warp::delete().boxed(),
            _ => warp::post().boxed(),
        };
        router.route(
            method,
            path,
            on_path
                .and(on_method)
                .and(with_state(state.clone()))
                .and(caller())
                .map(move |state: AppState, caller: Caller| {
                    respond(not_built(&state, &caller, what))
                }),
        );
    }
}

/// 401/403 like every VideoSDK route, then 501.
fn not_built(state: &AppState, caller: &Caller, what: &str) -> Result<Response, AppError> {
    api_caller(caller, state)?;
    Ok(reply(
        StatusCode::NOT_IMPLEMENTED,
        format!(
            "{what} are not available: they need a media server that receives the streams, and \
             Convene has none (media flows peer to peer; the server relays signaling only)"
        ),
    ))
}

/// Documents one media-plane operation: 501 after authentication.
macro_rules! documented {
    ($name:ident, $method:ident, $path:literal, $summary:literal $(, $param:literal)?) => {
        #[doc = $summary]
        #[utoipa::path(
            $method, path = $path, tag = "videosdk",
            $(params(($param = String, Path)),)?
            security(("videosdk_token" = [])),
            responses(
                (status = 403, description = "an rtc-only token, or an inactive account", body = super::error::VsdkError),
                (status = 501, description = "not available: Convene has no media server", body = super::error::VsdkError),
            )
        )]
        #[allow(dead_code)]
        pub(super) fn $name() {}
    };
}

documented!(
    recording_start,
    post,
    "/v2/recordings/start",
    "Starts a meeting recording: 501."
);
documented!(
    recording_end,
    post,
    "/v2/recordings/end",
    "Ends a meeting recording: 501."
);
documented!(
    recording_stop,
    post,
    "/v2/recordings/stop",
    "Stops a meeting recording: 501."
);
documented!(recordings, get, "/v2/recordings", "Lists recordings: 501.");
documented!(
    participant_recording_start,
    post,
    "/v2/recordings/participant/start",
    "Starts a participant recording: 501."
);
documented!(
    participant_recording_stop,
    post,
    "/v2/recordings/participant/stop",
    "Stops a participant recording: 501."
);
documented!(
    participant_recordings,
    get,
    "/v2/recordings/participant",
    "Lists participant recordings: 501."
);
documented!(
    track_recording_start,
    post,
    "/v2/recordings/participant/track/start",
    "Starts a track recording: 501."
);
documented!(
    track_recording_stop,
    post,
    "/v2/recordings/participant/track/stop",
    "Stops a track recording: 501."
);
documented!(
    participant_recording,
    get,
    "/v2/recordings/participant/{recordingId}",
    "One participant recording: 501.",
    "recordingId"
);
documented!(
    delete_participant_recording,
    delete,
    "/v2/recordings/participant/{recordingId}",
    "Deletes a participant recording: 501.",
    "recordingId"
);
documented!(
    recording,
    get,
    "/v2/recordings/{recordingId}",
    "One recording: 501.",
    "recordingId"
);
documented!(
    delete_recording,
    delete,
    "/v2/recordings/{recordingId}",
    "Deletes a recording: 501.",
    "recordingId"
);
documented!(
    livestream_start,
    post,
    "/v2/livestreams/start",
    "Starts an RTMP livestream: 501."
);
documented!(
    livestream_end,
    post,
    "/v2/livestreams/end",
    "Ends an RTMP livestream: 501."
);
documented!(
    livestream_stop,
    post,
    "/v2/livestreams/stop",
    "Stops an RTMP livestream: 501."
);
documented!(
    livestreams,
    get,
    "/v2/livestreams",
    "Lists RTMP livestreams: 501."
);
documented!(
    livestream,
    get,
    "/v2/livestreams/{livestreamId}",
    "One RTMP livestream: 501.",
    "livestreamId"
);
documented!(hls_start, post, "/v2/hls/start", "Starts HLS: 501.");
documented!(hls_end, post, "/v2/hls/end", "Ends HLS: 501.");
documented!(hls_stop, post, "/v2/hls/stop", "Stops HLS: 501.");
documented!(hls_list, get, "/v2/hls", "Lists HLS streams: 501.");
documented!(
    hls_active,
    get,
    "/v2/hls/{roomId}/active",
    "A room's active HLS stream: 501.",
    "roomId"
);
documented!(
    hls_one,
    get,
    "/v2/hls/{hlsId}",
    "One HLS stream: 501.",
    "hlsId"
);
documented!(
    delete_hls,
    delete,
    "/v2/hls/{hlsId}",
    "Deletes an HLS stream: 501.",
    "hlsId"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_media_route_is_documented_once() {
        let document =
            serde_json::to_value(<super::super::VideoSdkApi as utoipa::OpenApi>::openapi())
                .unwrap();
        for (method, path, _) in ROUTES {
            let operation = &document["paths"][path][method.as_str().to_lowercase()];
            assert!(operation.is_object(), "{method} {path} is not documented");
            assert!(operation["responses"]["501"].is_object(), "{method} {path}");
        }
    }
}
