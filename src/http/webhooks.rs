//! Webhook endpoints (onepizza §9): list, register (the secret is shown once), delete, rotate the
//! secret, see each delivery attempt, redeliver one event. Deliveries themselves are
//! [`crate::webhooks::dispatcher`]'s.
//!
//! An endpoint is its workspace's: another workspace's id answers 404 like a missing one.

use convene_events::catalog::webhook::WebhookCreated;
use convene_events::ids::webhook_stream;
use convene_events::{DomainEvent, ExpectedVersion, Workspace};
use convene_projections::WebhookRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

use super::auth::{authenticate, Caller};
use super::body::parse_json;
use super::reply::Message;
use super::router::Router;
use crate::app::principal::Principal;
use crate::app::AppError;
use crate::app::AppState;
use crate::domain::format_iso_seconds;
use crate::http::error::NATIVE;
use crate::webhooks::dispatcher::Attempt;
use crate::webhooks::{parse_events, signing, target};
use convene_actors::WebhookCommand;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_list_webhooks>(NATIVE)
        .serve(|r| async move { list_webhooks(r.state, r.caller) });
    router
        .add::<__path_create_webhook>(NATIVE)
        .serve(|r| async move { create_webhook(r.state, r.caller, &r.body?).await });
    router
        .add::<__path_delete_webhook>(NATIVE)
        .serve(|r| async move { delete_webhook(r.state, r.caller, &r.params[0]).await });
    router
        .add::<__path_rotate_secret>(NATIVE)
        .serve(|r| async move { rotate_secret(r.state, r.caller, &r.params[0]).await });
    router
        .add::<__path_deliveries>(NATIVE)
        .serve(|r| async move { deliveries(r.state, r.caller, &r.params[0]) });
    router
        .add::<__path_redeliver>(NATIVE)
        .serve(|r| async move { redeliver(r.state, r.caller, &r.params[0], &r.params[1]).await });
}

/// An endpoint as its owner sees it (the seed's snake_case shape).
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    #[schema(example = 1)]
    id: u64,
    #[schema(example = "https://your-app.com/webhook")]
    url: String,
    #[schema(example = json!(["meeting.ended", "participant.left"]))]
    events: Vec<String>,
    #[schema(example = "2026-03-01T12:00:00Z")]
    created_at: String,
    /// Why deliveries stopped (the endpoint answered 410), if they did.
    disabled: Option<String>,
}

impl From<&WebhookRow> for WebhookView {
    fn from(row: &WebhookRow) -> Self {
        Self {
            id: row.webhook_id,
            url: row.url.clone(),
            events: row.events.clone(),
            created_at: format_iso_seconds(row.created_at),
            disabled: row.disabled.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    webhooks: Vec<WebhookView>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    webhook: WebhookView,
    /// The signing secret (`whsec_…`), shown this once: verify `webhook-signature` with it.
    secret: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateWebhookRequest {
    /// Where deliveries are posted (https; private addresses are refused).
    url: String,
    /// meeting.created, meeting.started, meeting.ended, participant.joined, participant.left,
    /// chat.message (opt-in).
    events: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedSecret {
    /// The new secret, shown this once.
    secret: String,
    /// Until then the previous secret signs deliveries too.
    previous_valid_until: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first (the last 1,000 are kept).
    #[schema(value_type = Vec<Object>)]
    deliveries: Vec<Attempt>,
}

/// The endpoint `raw_id` if the caller's workspace owns it.
fn owned(state: &AppState, workspace: Workspace, raw_id: &str) -> Result<WebhookRow, AppError> {
    let not_found = AppError::NotFound("webhook not found");
    let Ok(id) = raw_id.parse::<u64>() else {
        return Err(not_found);
    };
    match state.projections.webhooks().get(id)? {
        Some(row) if row.workspace == workspace => Ok(row),
        _ => Err(not_found),
    }
}

/// The caller's workspace's endpoints.
#[utoipa::path(
    get, path = "/api/webhooks", tag = "webhooks",
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "oldest first", body = WebhookList),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
    )
)]
pub(super) fn list_webhooks(state: AppState, caller: Caller) -> Result<Response, AppError> {
    let workspace = authenticate(&caller, &state)?.workspace();
    let webhooks = state.projections.webhooks().list(workspace)?;
    let body = WebhookList {
        webhooks: webhooks.iter().map(WebhookView::from).collect(),
    };
    Ok(warp::reply::json(&body).into_response())
}

/// Registers an endpoint; the answer carries its secret, once.
#[utoipa::path(
    post, path = "/api/webhooks", tag = "webhooks",
    security(("api_key" = []), ("session" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "registered", body = CreatedWebhook),
        (status = 400, description = "a bad url or event list, a private target, or too many endpoints", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
    )
)]
pub(super) async fn create_webhook(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal: Principal = authenticate(&caller, &state)?;
    let workspace = principal.workspace();
    let request: CreateWebhookRequest = parse_json(body)?;
    let events = parse_events(&request.events).map_err(AppError::BadRequest)?;
    let config = &state.config.webhooks;
    target::check(&request.url, config.allow_private_targets)
        .await
        .map_err(AppError::BadRequest)?;
    if state.projections.webhooks().list(workspace)?.len() >= config.max_per_workspace {
        return Err(AppError::BadRequest(format!(
            "a workspace may register at most {} webhooks",
            config.max_per_workspace
        )));
    }
    let webhook_id = state.next_id()?;
    let secret = signing::new_secret();
    let created = WebhookCreated {
        webhook_id,
        workspace,
        url: request.url,
        events,
        secret: secret.clone(),
        videosdk_room: None,
    };
    let outcome = state
        .log
        .append_to(
            webhook_stream(webhook_id),
            ExpectedVersion::NoStream,
            vec![created.to_new_event(principal.actor())],
        )
        .await?;
    state.caught_up(outcome.last_seq).await?;
    let row = state
        .projections
        .webhooks()
        .get(webhook_id)?
        .ok_or_else(|| AppError::Unexpected("a registered webhook has no row".into()))?;
    tracing::info!(webhook_id, "webhook registered");
    let body = CreatedWebhook {
        webhook: WebhookView::from(&row),
        secret,
    };
    Ok(warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED).into_response())
}

/// Runs a command on one of the caller's endpoints, decided against its stream (the read model
/// only answers the quick 404), and waits until the read models show it.
async fn command(
    state: &AppState,
    principal: &Principal,
    webhook_id: u64,
    command: WebhookCommand,
) -> Result<(), AppError> {
    let (_, seq) = state
        .webhook_endpoints
        .execute(
            webhook_id,
            Some(principal.workspace()),
            command,
            principal.actor(),
        )
        .await?;
    state.caught_up(seq).await
}

/// Removes an endpoint: nothing more is sent to it.
#[utoipa::path(
    delete, path = "/api/webhooks/{webhookId}", tag = "webhooks",
    security(("api_key" = []), ("session" = [])),
    params(("webhookId" = u64, Path, description = "the endpoint's id")),
    responses(
        (status = 200, description = "removed", body = Message),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 404, description = "no such endpoint in the caller's workspace", body = super::error::ErrorBody),
    )
)]
pub(super) async fn delete_webhook(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let principal = authenticate(&caller, &state)?;
    let row = owned(&state, principal.workspace(), raw_id)?;
    command(&state, &principal, row.webhook_id, WebhookCommand::Delete).await?;
    Ok(super::reply::message("webhook deleted"))
}

/// Replaces the secret; the previous one keeps signing for `webhooks.rotation_overlap_secs`.
#[utoipa::path(
    post, path = "/api/webhooks/{webhookId}/rotate-secret", tag = "webhooks",
    security(("api_key" = []), ("session" = [])),
    params(("webhookId" = u64, Path, description = "the endpoint's id")),
    responses(
        (status = 200, description = "the new secret, shown once", body = RotatedSecret),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 404, description = "no such endpoint in the caller's workspace", body = super::error::ErrorBody),
    )
)]
pub(super) async fn rotate_secret(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let principal = authenticate(&caller, &state)?;
    let row = owned(&state, principal.workspace(), raw_id)?;
    let secret = signing::new_secret();
    let overlap_ms = state.config.webhooks.rotation_overlap_secs as i64 * 1000;
    let previous_valid_until = state.clock.now_ms() + overlap_ms;
    let rotate = WebhookCommand::RotateSecret {
        secret: secret.clone(),
        previous_valid_until,
    };
    command(&state, &principal, row.webhook_id, rotate).await?;
    let body = RotatedSecret {
        secret,
        previous_valid_until: format_iso_seconds(previous_valid_until),
    };
    Ok(warp::reply::json(&body).into_response())
}

/// Every attempt at delivering to the endpoint, newest first.
#[utoipa::path(
    get, path = "/api/webhooks/{webhookId}/deliveries", tag = "webhooks",
    security(("api_key" = []), ("session" = [])),
    params(("webhookId" = u64, Path, description = "the endpoint's id")),
    responses(
        (status = 200, description = "number, seq, event, at, status, latency_ms, error, manual", body = DeliveryList),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 404, description = "no such endpoint in the caller's workspace", body = super::error::ErrorBody),
    )
)]
pub(super) fn deliveries(
    state: AppState,
    caller: Caller,
    raw_id: &str,
) -> Result<Response, AppError> {
    let workspace = authenticate(&caller, &state)?.workspace();
    let row = owned(&state, workspace, raw_id)?;
    let deliveries = state
        .webhooks
        .attempts(row.webhook_id, 1000)
        .map_err(AppError::Unexpected)?;
    Ok(warp::reply::json(&DeliveryList { deliveries }).into_response())
}

/// Sends one event to the endpoint again, now (outside the in-order delivery).
#[utoipa::path(
    post, path = "/api/webhooks/{webhookId}/deliveries/{seq}/redeliver", tag = "webhooks",
    security(("api_key" = []), ("session" = [])),
    params(
        ("webhookId" = u64, Path, description = "the endpoint's id"),
        ("seq" = u64, Path, description = "the event's log sequence"),
    ),
    responses(
        (status = 200, description = "the attempt", body = Object),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
        (status = 404, description = "no such endpoint, or no such event of its workspace", body = super::error::ErrorBody),
    )
)]
pub(super) async fn redeliver(
    state: AppState,
    caller: Caller,
    raw_id: &str,
    raw_seq: &str,
) -> Result<Response, AppError> {
    let workspace = authenticate(&caller, &state)?.workspace();
    let row = owned(&state, workspace, raw_id)?;
    let no_event = || AppError::NotFound("no such event for this webhook");
    let seq: u64 = raw_seq
        .parse()
        .ok()
        .filter(|seq| (1..=i64::MAX as u64).contains(seq))
        .ok_or_else(no_event)?;
    let attempt = state
        .webhooks
        .redeliver(&row, seq)
        .await
        .map_err(AppError::Unexpected)?
        .ok_or_else(no_event)?;
    Ok(warp::reply::json(&attempt).into_response())
}
