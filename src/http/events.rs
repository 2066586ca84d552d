//! The event feed (issue 5 §4, beyond every peer): the caller's workspace's meeting events in
//! log order, each with its sequence — paged (`GET /api/events?after=&limit=`) or live as
//! Server-Sent Events (`GET /api/events/stream`, resuming from `Last-Event-ID`).
//!
//! Gap-free: the feed's index is folded in log order and read only up to its checkpoint, so a
//! client that always passes the last `seq` it saw as `after` sees every event exactly once.
//! After a write through the API has answered, its events are in the feed (read-your-writes).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use convene_events::{Envelope, Workspace};
use convene_projections::{EventFeed, Position, Projection};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use utoipa::ToSchema;
use warp::http::HeaderMap;
use warp::reply::Response;
use warp::Reply;

use super::auth::{authenticate, Caller};
use super::query::{number, MAX_SEQ};
use super::router::Router;
use crate::app::AppError;
use crate::app::AppState;
use crate::audit::event_json;
use crate::http::error::NATIVE;

const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;
/// Events read from the index at a time by a live stream.
const STREAM_PAGE: usize = 256;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_list_events>(NATIVE)
        .serve(|r| async move { list_events(r.state, r.caller, &r.query) });
    router
        .add::<__path_stream_events>(NATIVE)
        .serve(|r| async move { stream_events(r.state, r.caller, &r.query) });
}

/// The envelopes of `seqs`, read from the log.
fn envelopes(state: &AppState, seqs: &[u64]) -> Result<Vec<Envelope>, AppError> {
    seqs.iter()
        .map(|&seq| {
            state
                .log
                .read_all(seq, 1)
                .map_err(|e| AppError::Unexpected(e.to_string()))?
                .into_iter()
                .next()
                .filter(|envelope| envelope.seq == seq)
                .ok_or_else(|| {
                    AppError::Unexpected(format!("event {seq} is indexed but not in the log"))
                })
        })
        .collect()
}

/// An event as the feed shows it: the audit view plus the meeting's id.
fn feed_json(envelope: &Envelope) -> Value {
    let mut event = event_json(envelope);
    event["meetingId"] = Value::String(envelope.stream.trim_start_matches("meeting/").to_owned());
    event
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// In log order: each with `seq`, `meetingId`, `kind`, `at`, `actor`, `data` and hashes.
    #[schema(value_type = Vec<Object>)]
    events: Vec<Value>,
    /// The last `seq` of this page (or the `after` asked for, when the page is empty): pass it
    /// as `after` next time.
    next_after: u64,
}

/// The caller's workspace's meeting events after `after`, in log order.
#[utoipa::path(
    get, path = "/api/events", tag = "events",
    security(("api_key" = []), ("session" = [])),
    params(
        ("after" = Option<u64>, Query, minimum = 0, description = "only events with a greater seq (default 0)"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "at most this many, 1 to 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "in log order, gap-free", body = EventPage),
        (status = 400, description = "a bad after or limit", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
    )
)]
pub(super) fn list_events(
    state: AppState,
    caller: Caller,
    query: &str,
) -> Result<Response, AppError> {
    let workspace = authenticate(&caller, &state)?.workspace();
    let after = number(query, "after", 0..=MAX_SEQ)?.unwrap_or(0);
    let limit = number(query, "limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let seqs = state
        .projections
        .event_feed()
        .after(workspace, after, limit as usize)?;
    let events = envelopes(&state, &seqs)?;
    let page = EventPage {
        next_after: seqs.last().copied().unwrap_or(after),
        events: events.iter().map(feed_json).collect(),
    };
    Ok(warp::reply::json(&page).into_response())
}

/// Where a live stream starts: `Last-Event-ID` (a reconnecting EventSource), else `?after=`,
/// else the feed's current position (only what happens from now on).
fn stream_start(headers: &HeaderMap, query: &str, position: &Position) -> Result<u64, AppError> {
    if let Some(last) = headers.get("last-event-id") {
        return last
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| AppError::BadRequest("last-event-id must be a seq".into()));
    }
    if let Some(after) = number(query, "after", 0..=MAX_SEQ)? {
        return Ok(after);
    }
    position
        .clone()
        .map_err(|reason| AppError::Unavailable(format!("the event feed stopped: {reason}")))
}

/// The caller's workspace's meeting events as Server-Sent Events, live: `id` is the seq,
/// `event` the kind, `data` the event as `GET /api/events` shows it.
#[utoipa::path(
    get, path = "/api/events/stream", tag = "events",
    security(("api_key" = []), ("session" = [])),
    params(
        ("after" = Option<u64>, Query, minimum = 0, description = "start after this seq (default: now); the Last-Event-ID header takes precedence"),
    ),
    responses(
        (status = 200, description = "text/event-stream, until the client leaves", content_type = "text/event-stream", body = String),
        (status = 400, description = "a bad after or Last-Event-ID", body = super::error::ErrorBody),
        (status = 401, description = "no credentials", body = super::error::ErrorBody),
    )
)]
pub(super) fn stream_events(
    state: AppState,
    caller: Caller,
    query: &str,
) -> Result<Response, AppError> {
    let workspace = authenticate(&caller, &state)?.workspace();
    let position = state
        .projections
        .position_of(<EventFeed as Projection>::TREE)
        .ok_or_else(|| AppError::Unexpected("the event feed is not running".into()))?;
    let after = stream_start(&caller.headers, query, &position.borrow())?;
    let cursor = Cursor {
        state,
        workspace,
        after,
        pending: VecDeque::new(),
        position,
    };
    let events = warp::sse::keep_alive()
        .interval(Duration::from_secs(15))
        .stream(follow(cursor));
    Ok(warp::sse::reply(events).into_response())
}

/// A live stream's place in the feed.
struct Cursor {
    state: AppState,
    workspace: Workspace,
    /// The last seq sent.
    after: u64,
    pending: VecDeque<Envelope>,
    position: watch::Receiver<Position>,
}

/// Sends what the index holds after the cursor, then waits for the feed to move on; ends when
/// the feed stops (the server is shutting down) or cannot be read.
fn follow(cursor: Cursor) -> impl Stream<Item = Result<warp::sse::Event, Infallible>> {
    stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(envelope) = cursor.pending.pop_front() {
                cursor.after = envelope.seq;
                let event = warp::sse::Event::default()
                    .id(envelope.seq.to_string())
                    .event(envelope.kind.clone())
                    .data(feed_json(&envelope).to_string());
                return Some((Ok(event), cursor));
            }
            // Seen before reading, so a fold that lands after the read wakes the wait below.
            cursor.position.borrow_and_update();
            let seqs = cursor
                .state
                .projections
                .event_feed()
                .after(cursor.workspace, cursor.after, STREAM_PAGE)
                .ok()?;
            if seqs.is_empty() {
                cursor.position.changed().await.ok()?;
                continue;
            }
            cursor.pending = envelopes(&cursor.state, &seqs).ok()?.into();
        }
    })
}
