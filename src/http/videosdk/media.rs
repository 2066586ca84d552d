//! Recordings, RTMP out and HLS: they need a media plane that receives the participants'
//! streams, and Convene has none (participants exchange media peer to peer; the server relays
//! only signaling). Every such route is served, authenticated like the rest of the dialect, and
//! answers `501 {"message": ...}` saying so: nothing pretends to record.

use warp::http::StatusCode;
use warp::reply::Response;

use super::api_caller;
use super::error::{reply, DIALECT};
use crate::app::AppError;
use crate::app::AppState;
use crate::http::auth::Caller;
use crate::http::router::Router;

const RECORDING: &str = "recordings";
const LIVESTREAM: &str = "RTMP livestreams";
const HLS: &str = "HLS streams";

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

/// Declares each media-plane operation once: its documentation (501 after authentication)
/// and its route. Each operation is a type of its own (`impl_for`), since these operations
/// share one handler.
macro_rules! media_routes {
    ($($name:ident: $method:ident $path:literal, $what:ident, $summary:literal $(, $param:literal)?;)*) => {
        $(
            #[allow(non_camel_case_types)]
            pub(super) struct $name {}

            #[doc = $summary]
            #[utoipa::path(
                $method, path = $path, tag = "videosdk", impl_for = $name,
                $(params(($param = String, Path)),)?
                security(("videosdk_token" = [])),
                responses(
                    (status = 403, description = "an rtc-only token, or an inactive account", body = super::error::VsdkError),
                    (status = 501, description = "not available: Convene has no media server", body = super::error::VsdkError),
                )
            )]
            #[allow(dead_code)]
            fn $name() {}
        )*

        pub fn routes(router: &mut Router) {
            $(
                router
                    .add::<$name>(DIALECT)
                    .serve(|r| async move { not_built(&r.state, &r.caller, $what) });
            )*
        }
    };
}

media_routes! {
    recording_start: post "/v2/recordings/start", RECORDING, "Starts a meeting recording: 501.";
    recording_end: post "/v2/recordings/end", RECORDING, "Ends a meeting recording: 501.";
    recording_stop: post "/v2/recordings/stop", RECORDING, "Stops a meeting recording: 501.";
    recordings: get "/v2/recordings", RECORDING, "Lists recordings: 501.";
    participant_recording_start: post "/v2/recordings/participant/start", RECORDING, "Starts a participant recording: 501.";
    participant_recording_stop: post "/v2/recordings/participant/stop", RECORDING, "Stops a participant recording: 501.";
    participant_recordings: get "/v2/recordings/participant", RECORDING, "Lists participant recordings: 501.";
    track_recording_start: post "/v2/recordings/participant/track/start", RECORDING, "Starts a track recording: 501.";
    track_recording_stop: post "/v2/recordings/participant/track/stop", RECORDING, "Stops a track recording: 501.";
    participant_recording: get "/v2/recordings/participant/{recordingId}", RECORDING, "One participant recording: 501.", "recordingId";
    delete_participant_recording: delete "/v2/recordings/participant/{recordingId}", RECORDING, "Deletes a participant recording: 501.", "recordingId";
    recording: get "/v2/recordings/{recordingId}", RECORDING, "One recording: 501.", "recordingId";
    delete_recording: delete "/v2/recordings/{recordingId}", RECORDING, "Deletes a recording: 501.", "recordingId";
    livestream_start: post "/v2/livestreams/start", LIVESTREAM, "Starts an RTMP livestream: 501.";
    livestream_end: post "/v2/livestreams/end", LIVESTREAM, "Ends an RTMP livestream: 501.";
    livestream_stop: post "/v2/livestreams/stop", LIVESTREAM, "Stops an RTMP livestream: 501.";
    livestreams: get "/v2/livestreams", LIVESTREAM, "Lists RTMP livestreams: 501.";
    livestream: get "/v2/livestreams/{livestreamId}", LIVESTREAM, "One RTMP livestream: 501.", "livestreamId";
    hls_start: post "/v2/hls/start", HLS, "Starts HLS: 501.";
    hls_end: post "/v2/hls/end", HLS, "Ends HLS: 501.";
    hls_stop: post "/v2/hls/stop", HLS, "Stops HLS: 501.";
    hls_list: get "/v2/hls", HLS, "Lists HLS streams: 501.";
    hls_active: get "/v2/hls/{roomId}/active", HLS, "A room's active HLS stream: 501.", "roomId";
    hls_one: get "/v2/hls/{hlsId}", HLS, "One HLS stream: 501.", "hlsId";
    delete_hls: delete "/v2/hls/{hlsId}", HLS, "Deletes an HLS stream: 501.", "hlsId";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_media_route_is_documented_once_with_its_501() {
        let mut router = Router::new();
        routes(&mut router);
        let (paths, _) = router.document();
        let paths = serde_json::to_value(paths).unwrap();
        assert_eq!(router.endpoints().len(), 25);
        for endpoint in router.endpoints() {
            let operation = &paths[&endpoint.path][endpoint.method.to_lowercase()];
            assert!(operation.is_object(), "{endpoint:?} is not documented");
            assert!(operation["responses"]["501"].is_object(), "{endpoint:?}");
        }
    }
}
