//! The VideoSDK REST API v2 dialect (`/v2`, `../shared/seeds/videosdk-rest-api-v2.txt`): rooms
//! and sessions, with VideoSDK's JWTs; recordings, RTMP and HLS answer 501 (they need a media
//! plane, which Convene does not have).
//!
//! A thin translator like the EdCast dialect: a room is a small aggregate of its own
//! (`vsdk_room/<roomId>`, [`convene_events::catalog::videosdk`]); each session of a room is a
//! Convene meeting (`Dialect::VideoSdk`) created when the room is first joined after its last
//! session ended, so joins, leaves, media state and host actions are the meeting's own events,
//! decided by its actor. The read model [`convene_projections::VideoSdk`] folds rooms, sessions
//! and participants' timelogs from the log. Errors are `{message, code, httpStatus}` ([`error`]).
//!
//! - [`token`]: verifying `Authorization: <JWT>`.
//! - [`credentials`]: `POST /api/user/videosdk-credentials` (native API).
//! - [`rooms`], [`sessions`]: the REST endpoints; [`media`]: the 501s.

pub mod credentials;
pub mod error;
pub mod media;
pub mod rooms;
pub mod sessions;

use convene_events::Workspace;
use convene_projections::videosdk::RoomRow;
use rand::Rng;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::auth::Caller;
use super::router::Router;
use crate::app::videosdk::token::{self, VerifiedToken};
use crate::app::AppError;
use crate::app::AppState;

/// The dialect's operations and schemas, merged into the served OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    components(schemas(error::VsdkError, PageInfo)),
    tags((name = "videosdk", description = "VideoSDK REST API v2: rooms and sessions with HS256 JWTs; recordings, RTMP and HLS answer 501"))
)]
pub struct VideoSdkApi;

pub fn routes(router: &mut Router) {
    credentials::routes(router);
    rooms::routes(router);
    sessions::routes(router);
    media::routes(router);
}

/// A VideoSDK room id: twelve random lowercase letters and digits grouped 4-4-4
/// (`2kyv-gzay-64pg`), as VideoSDK writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomId(String);

impl RoomId {
    const ALPHABET: &'static [u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let mut group = || -> String {
            (0..4)
                .map(|_| Self::ALPHABET[rng.random_range(0..Self::ALPHABET.len())] as char)
                .collect()
        };
        Self(format!("{}-{}-{}", group(), group(), group()))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let groups: Vec<&str> = raw.split('-').collect();
        let well_formed = groups.len() == 3
            && groups
                .iter()
                .all(|g| g.len() == 4 && g.bytes().all(|b| Self::ALPHABET.contains(&b)));
        well_formed.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A `customRoomId`: 1 to 100 characters, none of them a control character or `/`.
pub fn parse_custom_room_id(raw: &str, max: usize) -> Result<String, AppError> {
    let chars = raw.chars().count();
    if chars == 0 || chars > max || raw.chars().any(|c| c.is_control() || c == '/') {
        return Err(AppError::BadRequest(format!(
            "customRoomId must be 1 to {max} characters, without control characters or /"
        )));
    }
    Ok(raw.to_owned())
}

/// A caller of the server API: a verified token whose roles include `crawler`.
pub struct ApiCaller {
    pub token: VerifiedToken,
}

impl ApiCaller {
    pub fn workspace(&self) -> Workspace {
        self.token.workspace()
    }

    /// 403 when the token is restricted to another room than `room`.
    pub fn check_room(&self, room: &RoomRow) -> Result<(), AppError> {
        match &self.token.room_id {
            Some(only) if *only != room.room_id && room.custom_room_id.as_ref() != Some(only) => {
                Err(AppError::Forbidden(
                    "this token is restricted to another room",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Authenticates a server-API request by its `Authorization` header.
pub fn api_caller(caller: &Caller, state: &AppState) -> Result<ApiCaller, AppError> {
    let header = caller
        .header("authorization")
        .ok_or(AppError::Unauthorized(
            "missing authorization header: send a VideoSDK token",
        ))?;
    let token = token::verify(state, token::from_header(header))?;
    if !token.roles.crawler {
        return Err(AppError::Forbidden(
            "this token has the rtc role only: it cannot call the server API",
        ));
    }
    tracing::debug!(api_key = %token.api_key, account_id = token.account.account_id, "videosdk token verified");
    Ok(ApiCaller { token })
}

/// `page` and `perPage` of a list request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl Paging {
    /// `page` (default 1) and `perPage` (default 20): whole numbers from 1 to the document's
    /// int64 maximum; anything else is a 400; `perPage` above `max_per_page` is clamped.
    pub fn parse(query: &str, max_per_page: u64) -> Result<Self, AppError> {
        let number = |name: &str, default: u64| -> Result<u64, AppError> {
            let Some(raw) = super::query::param(query, name) else {
                return Ok(default);
            };
            raw.parse::<u64>()
                .ok()
                .filter(|n| (1..=super::query::MAX_SEQ).contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "{name} must be a whole number of at least 1 (and at most {})",
                        super::query::MAX_SEQ
                    ))
                })
        };
        Ok(Self {
            page: number("page", 1)?,
            per_page: number("perPage", 20)?.min(max_per_page),
        })
    }

    pub fn skip(&self) -> usize {
        usize::try_from((self.page - 1).saturating_mul(self.per_page)).unwrap_or(usize::MAX)
    }

    pub fn take(&self) -> usize {
        self.per_page as usize
    }

    pub fn info(&self, total: usize) -> PageInfo {
        let total = total as u64;
        PageInfo {
            current_page: self.page,
            per_page: self.per_page,
            last_page: total.div_ceil(self.per_page).max(1),
            total,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkPageInfo)]
pub struct PageInfo {
    #[schema(example = 1)]
    current_page: u64,
    /// At most 100: a larger `perPage` is clamped.
    #[schema(example = 20)]
    per_page: u64,
    /// At least 1, also for an empty list.
    #[schema(example = 1)]
    last_page: u64,
    #[schema(example = 3)]
    total: u64,
}

/// `<app_url><path>`.
pub fn link(state: &AppState, path: &str) -> String {
    format!(
        "{}{path}",
        state.config.server.app_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_are_4_4_4() {
        for _ in 0..200 {
            let id = RoomId::generate();
            assert_eq!(RoomId::parse(id.as_str()), Some(id));
        }
        for bad in [
            "",
            "abcd-efgh",
            "abcd-efgh-ijk",
            "ABCD-efgh-ijkl",
            "abcd_efgh_ijkl",
        ] {
            assert!(RoomId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn paging_defaults_rejects_zero_and_clamps() {
        assert_eq!(
            Paging::parse("", 100).unwrap(),
            Paging {
                page: 1,
                per_page: 20
            }
        );
        assert!(Paging::parse("page=0", 100).is_err());
        assert!(Paging::parse("perPage=0", 100).is_err());
        assert!(Paging::parse("perPage=-1", 100).is_err());
        assert!(Paging::parse("page=abc", 100).is_err());
        assert_eq!(Paging::parse("perPage=10000", 100).unwrap().per_page, 100);
        assert!(Paging::parse("page=9223372036854775808", 100).is_err());
        let far = Paging::parse("page=9223372036854775807", 100).unwrap();
        assert_eq!(far.skip(), usize::MAX);
        let paging = Paging::parse("page=2&perPage=2", 100).unwrap();
        assert_eq!((paging.skip(), paging.take()), (2, 2));
        let info = paging.info(5);
        assert_eq!((info.last_page, info.total), (3, 5));
        assert_eq!(paging.info(0).last_page, 1);
    }

    #[test]
    fn custom_room_ids_are_visible_text() {
        assert!(parse_custom_room_id("team standup", 100).is_ok());
        assert!(parse_custom_room_id("", 100).is_err());
        assert!(parse_custom_room_id("a/b", 100).is_err());
        assert!(parse_custom_room_id("a\u{0}b", 100).is_err());
        assert!(parse_custom_room_id(&"x".repeat(101), 100).is_err());
    }
}
