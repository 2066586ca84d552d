//! VideoSDK rooms: create (idempotent on `customRoomId`), list, get, validate, deactivate.
//!
//! A room is the stream `vsdk_room/<roomId>`. Its creation is one atomic append: the room, the
//! claim of its `customRoomId` in the workspace (`vsdk_custom/…`, expected: no stream), and the
//! room's webhook endpoint (`webhook/<id>`, delivered by the webhook dispatcher under VideoSDK's
//! event names and signed with the creating credential's secret).

use bytes::Bytes;
use convene_events::catalog::videosdk::{
    custom_room_stream, room_stream, AutoClose, AutoCloseConfig, CustomRoomIdClaimed, RoomCreated,
    RoomWebhook,
};
use convene_events::catalog::webhook::WebhookCreated;
use convene_events::ids::webhook_stream;
use convene_events::{AppendError, DomainEvent, ExpectedVersion, StreamWrite};
use convene_projections::videosdk::RoomRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::reply::Response;

use super::error::VsdkError;
use super::error::DIALECT;
use super::{api_caller, link, parse_custom_room_id, ApiCaller, PageInfo, Paging, RoomId};
use crate::app::videosdk::find_room;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::format_iso_millis;
use crate::http::auth::Caller;
use crate::http::body::parse_json;
use crate::http::reply;
use crate::http::router::Router;
use crate::net::body::BodyRefused;
use convene_actors::stream;
use convene_actors::videosdk_room::{self, VideoSdkRoom};

/// The webhook events a room can subscribe to.
pub const WEBHOOK_EVENTS: [&str; 4] = [
    "participant-joined",
    "participant-left",
    "session-started",
    "session-ended",
];

/// `autoCloseConfig.duration` when absent, in minutes (VideoSDK's default).
const DEFAULT_AUTO_CLOSE_MINUTES: u32 = 480;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_create_room>(DIALECT)
        .serve(|r| async move { create_room(r.state, r.caller, r.body).await });
    router
        .add::<__path_list_rooms>(DIALECT)
        .serve(|r| async move { list_rooms(r.state, r.caller, &r.query) });
    router
        .add::<__path_validate_room>(DIALECT)
        .serve(|r| async move { validate_room(r.state, r.caller, &r.params[0]) });
    router
        .add::<__path_validate_room_post>(DIALECT)
        .serve(|r| async move { validate_room_post(r.state, r.caller, &r.params[0]) });
    router
        .add::<__path_deactivate_room>(DIALECT)
        .serve(|r| async move { deactivate_room(r.state, r.caller, r.body).await });
    router
        .add::<__path_get_room>(DIALECT)
        .serve(|r| async move { get_room(r.state, r.caller, &r.params[0]) });
}

/// The room's webhook: where, and which of [`WEBHOOK_EVENTS`].
#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = VsdkRoomWebhook)]
pub struct WebhookConfig {
    /// An http(s) URL; private addresses only when `webhooks.allow_private_targets` is on.
    #[schema(example = "https://example.com/videosdk-hook")]
    end_point: String,
    /// At least one of `participant-joined`, `participant-left`, `session-started`,
    /// `session-ended`.
    #[schema(example = json!(["session-started", "session-ended"]))]
    events: Vec<String>,
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
#[schema(as = VsdkAutoCloseType)]
pub enum AutoCloseType {
    /// The session ends `duration` minutes after it started.
    SessionEnds,
    /// The session ends then and the room is deactivated.
    SessionEndAndDeactivate,
}

#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
#[schema(as = VsdkAutoCloseConfig)]
pub struct AutoCloseRequest {
    #[serde(rename = "type")]
    kind: AutoCloseType,
    /// Minutes, 1 to 10,080 (a week); 480 when absent.
    #[schema(minimum = 1, maximum = 10080)]
    #[serde(default, deserialize_with = "crate::domain::whole_number")]
    duration: Option<u32>,
}

/// A new room; every field is optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = VsdkCreateRoomRequest)]
pub(super) struct CreateRoomRequest {
    /// Your own name for the room, unique in your organization: creating a room with a
    /// customRoomId that exists answers that room. 1 to 100 characters, no control characters,
    /// no `/`.
    #[schema(
        example = "weekly-standup",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F/]+$"
    )]
    custom_room_id: Option<String>,
    webhook: Option<WebhookConfig>,
    auto_close_config: Option<AutoCloseRequest>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = VsdkRoomLinks)]
pub struct RoomLinks {
    get_room: String,
    get_session: String,
}

/// A room as VideoSDK shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkRoom)]
pub struct RoomView {
    #[schema(example = "2kyv-gzay-64pg")]
    room_id: String,
    custom_room_id: Option<String>,
    /// The organization that owns it (`account-7`, `company-3`).
    #[schema(example = "account-7")]
    user_id: String,
    /// Deactivated: it can no longer be joined.
    disabled: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// The log position of its creation.
    #[schema(example = "42")]
    id: String,
    links: RoomLinks,
    webhook: Option<WebhookConfig>,
    auto_close_config: Option<AutoCloseRequest>,
}

pub fn view(state: &AppState, room: &RoomRow) -> RoomView {
    RoomView {
        room_id: room.room_id.clone(),
        custom_room_id: room.custom_room_id.clone(),
        user_id: room.workspace.slug(),
        disabled: room.disabled,
        created_at: format_iso_millis(room.created_at),
        updated_at: format_iso_millis(room.updated_at),
        id: room.created_seq.to_string(),
        links: RoomLinks {
            get_room: link(state, &format!("/v2/rooms/{}", room.room_id)),
            get_session: link(state, &format!("/v2/sessions/?roomId={}", room.room_id)),
        },
        webhook: room.webhook.as_ref().map(|w| WebhookConfig {
            end_point: w.end_point.clone(),
            events: w.events.clone(),
        }),
        auto_close_config: room.auto_close.map(|c| AutoCloseRequest {
            kind: match c.kind {
                AutoClose::SessionEnds => AutoCloseType::SessionEnds,
                AutoClose::SessionEndAndDeactivate => AutoCloseType::SessionEndAndDeactivate,
            },
            duration: Some(c.duration_minutes),
        }),
    }
}

/// `200` of the list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkRoomList)]
pub struct RoomList {
    page_info: PageInfo,
    /// Newest first.
    data: Vec<RoomView>,
}

async fn webhook_of(
    state: &AppState,
    caller: &ApiCaller,
    config: WebhookConfig,
) -> Result<(WebhookConfig, String), AppError> {
    crate::webhooks::target::check(
        &config.end_point,
        state.config.webhooks.allow_private_targets,
    )
    .await
    .map_err(|e| AppError::BadRequest(format!("webhook.endPoint: {e}")))?;
    if config.events.is_empty() {
        return Err(AppError::BadRequest(
            "webhook.events must name at least one event".into(),
        ));
    }
    let mut events: Vec<String> = Vec::new();
    for event in config.events {
        if !WEBHOOK_EVENTS.contains(&event.as_str()) {
            return Err(AppError::BadRequest(format!(
                "webhook.events: unknown or unsupported event {event:?}; known: {} (recording, livestream and hls events need a media plane)",
                WEBHOOK_EVENTS.join(", ")
            )));
        }
        if !events.contains(&event) {
            events.push(event);
        }
    }
    // Deliveries are signed with the secret of the credential that created the room.
    let secret = state
        .projections
        .videosdk()
        .credential(&caller.token.api_key)?
        .map(|c| c.secret)
        .ok_or(AppError::Unauthorized("invalid token: unknown apikey"))?;
    Ok((
        WebhookConfig {
            end_point: config.end_point,
            events,
        },
        secret,
    ))
}

/// Creates a room, or answers the organization's room with this `customRoomId` when there is one.
#[utoipa::path(
    post, path = "/v2/rooms", tag = "videosdk",
    request_body = Option<CreateRoomRequest>,
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "the new room, or the existing one with this customRoomId", body = RoomView),
        (status = 400, description = "a field is invalid; the message names it", body = VsdkError),
        (status = 403, description = "an rtc-only token, a token restricted to a room, or an inactive account", body = VsdkError),
    )
)]
pub(super) async fn create_room(
    state: AppState,
    caller: Caller,
    body: Result<Bytes, BodyRefused>,
) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    if caller.token.room_id.is_some() {
        return Err(AppError::Forbidden(
            "a token restricted to a room cannot create rooms",
        ));
    }
    let request: CreateRoomRequest = parse_json(&body?)?;
    let workspace = caller.workspace();
    let custom_room_id = request
        .custom_room_id
        .as_deref()
        .map(|raw| parse_custom_room_id(raw, state.config.videosdk.custom_room_id_max_chars))
        .transpose()?;
    let auto_close = request
        .auto_close_config
        .map(|config| {
            let minutes = config.duration.unwrap_or(DEFAULT_AUTO_CLOSE_MINUTES);
            if !(1..=10_080).contains(&minutes) {
                return Err(AppError::BadRequest(
                    "autoCloseConfig.duration must be 1 to 10080 minutes".into(),
                ));
            }
            Ok(AutoCloseConfig {
                kind: match config.kind {
                    AutoCloseType::SessionEnds => AutoClose::SessionEnds,
                    AutoCloseType::SessionEndAndDeactivate => AutoClose::SessionEndAndDeactivate,
                },
                duration_minutes: minutes,
            })
        })
        .transpose()?;
    let webhook = match request.webhook {
        Some(config) => Some(webhook_of(&state, &caller, config).await?),
        None => None,
    };
    // The whole request is checked first: an existing customRoomId does not excuse a bad body.
    if let Some(custom) = &custom_room_id {
        if let Some(room) = state
            .projections
            .videosdk()
            .room_by_custom_id(workspace, custom)?
        {
            return Ok(reply::ok(&view(&state, &room)));
        }
    }
    let actor = caller.token.actor();
    for _ in 0..3 {
        let room_id = RoomId::generate();
        let mut writes = Vec::new();
        if let Some(custom) = &custom_room_id {
            let claimed = CustomRoomIdClaimed {
                room_id: room_id.as_str().to_owned(),
            };
            writes.push(StreamWrite::new(
                custom_room_stream(workspace, custom),
                ExpectedVersion::NoStream,
                vec![claimed.to_new_event(actor.clone())],
            ));
        }
        let mut room_webhook = None;
        if let Some((config, secret)) = &webhook {
            let webhook_id = state.next_id()?;
            let created = WebhookCreated {
                webhook_id,
                workspace,
                url: config.end_point.clone(),
                events: config.events.clone(),
                secret: secret.clone(),
                videosdk_room: Some(room_id.as_str().to_owned()),
            };
            writes.push(StreamWrite::new(
                webhook_stream(webhook_id),
                ExpectedVersion::NoStream,
                vec![created.to_new_event(actor.clone())],
            ));
            room_webhook = Some(RoomWebhook {
                end_point: config.end_point.clone(),
                events: config.events.clone(),
                webhook_id,
            });
        }
        let created = RoomCreated {
            room_id: room_id.as_str().to_owned(),
            workspace,
            custom_room_id: custom_room_id.clone(),
            webhook: room_webhook,
            auto_close,
        };
        writes.push(StreamWrite::new(
            room_stream(room_id.as_str()),
            ExpectedVersion::NoStream,
            vec![created.to_new_event(actor.clone())],
        ));
        match state.log.append(writes).await {
            Ok(outcome) => {
                state.caught_up(outcome.last_seq).await?;
                let room = state
                    .projections
                    .videosdk()
                    .room(room_id.as_str())?
                    .ok_or_else(|| AppError::Unexpected("a created room has no row".into()))?;
                tracing::info!(
                    room_id = room_id.as_str(),
                    custom_room_id = custom_room_id.as_deref(),
                    account_id = caller.token.account.account_id,
                    dialect = "videosdk",
                    "room created"
                );
                return Ok(reply::ok(&view(&state, &room)));
            }
            Err(AppendError::Conflict { stream, .. }) if stream.starts_with("vsdk_custom/") => {
                // Created meanwhile by another request: that room is the answer.
                state.caught_up(state.log.durable_head()).await?;
                let custom = custom_room_id.as_deref().unwrap_or_default();
                let room = state
                    .projections
                    .videosdk()
                    .room_by_custom_id(workspace, custom)?
                    .ok_or_else(|| {
                        AppError::Unexpected("a claimed customRoomId has no room".into())
                    })?;
                return Ok(reply::ok(&view(&state, &room)));
            }
            Err(AppendError::Conflict { .. }) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(AppError::Unexpected(
        "three room id collisions in a row".into(),
    ))
}

/// The organization's rooms, newest first. A token restricted to a room sees only that room.
#[utoipa::path(
    get, path = "/v2/rooms", tag = "videosdk",
    params(
        ("page" = Option<i64>, Query, minimum = 1, description = "from 1 (default 1); a page past the last is empty"),
        ("perPage" = Option<i64>, Query, minimum = 1, description = "default 20; more than 100 is clamped to 100"),
    ),
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "a page of rooms", body = RoomList),
        (status = 400, description = "page or perPage is not a whole number of at least 1", body = VsdkError),
        (status = 403, description = "an rtc-only token, or an inactive account", body = VsdkError),
    )
)]
pub(super) fn list_rooms(
    state: AppState,
    caller: Caller,
    query: &str,
) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let paging = Paging::parse(query, state.config.videosdk.max_per_page)?;
    let page = match &caller.token.room_id {
        Some(only) => {
            let rooms: Vec<RoomRow> = find_room(&state, caller.workspace(), only)?
                .into_iter()
                .collect();
            let total = rooms.len();
            convene_projections::videosdk::Page {
                total,
                rows: rooms
                    .into_iter()
                    .skip(paging.skip())
                    .take(paging.take())
                    .collect(),
            }
        }
        None => {
            state
                .projections
                .videosdk()
                .rooms(caller.workspace(), paging.skip(), paging.take())?
        }
    };
    Ok(reply::ok(&RoomList {
        page_info: paging.info(page.total),
        data: page.rows.iter().map(|room| view(&state, room)).collect(),
    }))
}

/// The caller's room by roomId or customRoomId: 404 for an unknown one or another
/// organization's, 403 for a token restricted to another room.
fn room_for(state: &AppState, caller: &ApiCaller, id: &str) -> Result<RoomRow, AppError> {
    let room =
        find_room(state, caller.workspace(), id)?.ok_or(AppError::NotFound("room not found"))?;
    caller.check_room(&room)?;
    Ok(room)
}

/// One room, by roomId or customRoomId.
#[utoipa::path(
    get, path = "/v2/rooms/{roomId}", tag = "videosdk",
    params(("roomId" = String, Path, description = "the roomId or the customRoomId")),
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "the room", body = RoomView),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such room in the organization", body = VsdkError),
    )
)]
pub(super) fn get_room(state: AppState, caller: Caller, id: &str) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let room = room_for(&state, &caller, id)?;
    Ok(reply::ok(&view(&state, &room)))
}

fn validate(state: AppState, caller: Caller, id: &str) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let room = room_for(&state, &caller, id)?;
    if room.disabled {
        return Err(AppError::BadRequest("room is deactivated".into()));
    }
    Ok(reply::ok(&view(&state, &room)))
}

/// Whether a room can be joined: the room when it can.
#[utoipa::path(
    get, path = "/v2/rooms/validate/{roomId}", tag = "videosdk",
    params(("roomId" = String, Path, description = "the roomId or the customRoomId")),
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "the room, which can be joined", body = RoomView),
        (status = 400, description = "the room is deactivated", body = VsdkError),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such room in the organization", body = VsdkError),
    )
)]
pub(super) fn validate_room(
    state: AppState,
    caller: Caller,
    id: &str,
) -> Result<Response, AppError> {
    validate(state, caller, id)
}

/// The same as `GET /v2/rooms/validate/{roomId}` (VideoSDK's docs show both).
#[utoipa::path(
    post, path = "/v2/rooms/validate/{roomId}", tag = "videosdk",
    params(("roomId" = String, Path, description = "the roomId or the customRoomId")),
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "the room, which can be joined", body = RoomView),
        (status = 400, description = "the room is deactivated", body = VsdkError),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such room in the organization", body = VsdkError),
    )
)]
pub(super) fn validate_room_post(
    state: AppState,
    caller: Caller,
    id: &str,
) -> Result<Response, AppError> {
    validate(state, caller, id)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = VsdkDeactivateRequest)]
pub(super) struct DeactivateRequest {
    /// The roomId or the customRoomId.
    #[schema(example = "2kyv-gzay-64pg")]
    room_id: String,
}

/// Deactivates a room: it can no longer be joined (a session in progress goes on until it is
/// ended). Deactivating it again changes nothing.
#[utoipa::path(
    post, path = "/v2/rooms/deactivate", tag = "videosdk",
    request_body = DeactivateRequest,
    security(("videosdk_token" = [])),
    responses(
        (status = 200, description = "the room, disabled", body = RoomView),
        (status = 400, description = "roomId is missing", body = VsdkError),
        (status = 403, description = "an rtc-only token, a token for another room, or an inactive account", body = VsdkError),
        (status = 404, description = "no such room in the organization", body = VsdkError),
    )
)]
pub(super) async fn deactivate_room(
    state: AppState,
    caller: Caller,
    body: Result<Bytes, BodyRefused>,
) -> Result<Response, AppError> {
    let caller = api_caller(&caller, &state)?;
    let request: DeactivateRequest = parse_json(&body?)?;
    let room = room_for(&state, &caller, &request.room_id)?;
    if room.disabled {
        return Ok(reply::ok(&view(&state, &room)));
    }
    let (_, seq) = stream::execute::<VideoSdkRoom, AppError>(
        &state.log,
        &room_stream(&room.room_id),
        caller.token.actor(),
        |current| Ok(videosdk_room::deactivate(current)?),
    )
    .await?;
    state.caught_up(seq).await?;
    tracing::info!(room_id = %room.room_id, dialect = "videosdk", "room deactivated");
    let room = state
        .projections
        .videosdk()
        .room(&room.room_id)?
        .ok_or(AppError::NotFound("room not found"))?;
    Ok(reply::ok(&view(&state, &room)))
}
