//! Delivering events to webhook endpoints: per endpoint, in log order, at least once.
//!
//! Each enabled endpoint has one task. It reads its workspace's events from the event feed
//! after its cursor, skips those it did not subscribe to, and posts each other one until the
//! endpoint takes it (any 2xx) — then moves the cursor, which is kept in sled beside the log,
//! so a restart resumes where delivery stopped and nothing is dropped (an event may be posted
//! again after a crash: receivers deduplicate on `webhook-id`). A failure waits per
//! `webhooks.retry_schedule_ms` (the last step repeats for as long as it takes), or as long as
//! a 429 or 5xx's `Retry-After` asks; a 410 disables the endpoint. Every attempt is recorded for
//! `GET /api/webhooks/{id}/deliveries`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use convene_actors::{WebhookCommand, WebhookService};
use convene_events::{Actor, Clock, Envelope, EventLog};
use convene_projections::{EventFeed, Projection, Projections, WebhookRow, Webhooks};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{event_name, signing, target};
use crate::config::WebhooksConfig;
use crate::domain::{render_minutes, Micros};

/// Attempts kept per endpoint (older ones are forgotten).
const ATTEMPTS_KEPT: u64 = 1000;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// One try at delivering one event to one endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attempt {
    /// Counts from 1 per endpoint.
    pub number: u64,
    pub seq: u64,
    pub event: String,
    /// When it was sent (ms since epoch).
    pub at: i64,
    /// The endpoint's HTTP status, when it answered.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// What went wrong, when something did.
    pub error: Option<String>,
    /// Asked for by the owner (a redelivery), not part of the in-order delivery.
    pub manual: bool,
}

/// How an attempt ended.
enum Outcome {
    Accepted,
    Gone,
    Retry(Option<Duration>),
}

/// Everything delivery needs; cloned into every endpoint's task.
#[derive(Clone)]
pub struct WebhookDispatcher {
    pub(super) log: EventLog,
    pub(super) projections: Projections,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) config: WebhooksConfig,
    pub(super) rate_micros: i64,
    /// `c ‖ id` → cursor (u64 BE); `n ‖ id` → last attempt number; `a ‖ id ‖ number` → attempt.
    state: sled::Tree,
    client: reqwest::Client,
}

fn key(tag: u8, webhook_id: u64) -> Vec<u8> {
    let mut key = vec![tag];
    key.extend_from_slice(&webhook_id.to_be_bytes());
    key
}

fn attempt_key(webhook_id: u64, number: u64) -> Vec<u8> {
    let mut key = key(b'a', webhook_id);
    key.extend_from_slice(&number.to_be_bytes());
    key
}

fn read_u64(bytes: Option<sled::IVec>) -> Option<u64> {
    bytes.and_then(|b| b.as_ref().try_into().ok().map(u64::from_be_bytes))
}

impl WebhookDispatcher {
    pub fn new(
        log: EventLog,
        projections: Projections,
        clock: Arc<dyn Clock>,
        config: WebhooksConfig,
        rate_micros: i64,
    ) -> Result<Self, String> {
        let state = log
            .db()
            .open_tree("webhooks/delivery")
            .map_err(|e| e.to_string())?;
        let client = reqwest::Client::builder()
            // A redirect is a failure (Standard Webhooks), and must not lead anywhere private.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(config.timeout_ms))
            .user_agent(concat!("Convene-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            log,
            projections,
            clock,
            config,
            rate_micros,
            state,
            client,
        })
    }

    /// The endpoint's attempts, newest first, at most `limit`.
    pub fn attempts(&self, webhook_id: u64, limit: usize) -> Result<Vec<Attempt>, String> {
        self.state
            .scan_prefix(key(b'a', webhook_id))
            .rev()
            .take(limit)
            .map(|entry| {
                let (_, bytes) = entry.map_err(|e| e.to_string())?;
                serde_json::from_slice(&bytes).map_err(|e| e.to_string())
            })
            .collect()
    }

    fn cursor(&self, row: &WebhookRow) -> u64 {
        read_u64(self.state.get(key(b'c', row.webhook_id)).ok().flatten())
            .unwrap_or(row.created_seq)
    }

    fn set_cursor(&self, webhook_id: u64, seq: u64) -> Result<(), sled::Error> {
        self.state
            .insert(key(b'c', webhook_id), &seq.to_be_bytes())
            .map(|_| ())
    }

    fn record(&self, webhook_id: u64, mut attempt: Attempt) -> Result<Attempt, sled::Error> {
        let counter = key(b'n', webhook_id);
        let number = self
            .state
            .update_and_fetch(&counter, |old| {
                let next = read_u64(old.map(sled::IVec::from)).unwrap_or(0) + 1;
                Some(next.to_be_bytes().to_vec())
            })?
            .and_then(|bytes| bytes.as_ref().try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(1);
        attempt.number = number;
        let bytes = serde_json::to_vec(&attempt).expect("attempts serialize");
        self.state.insert(attempt_key(webhook_id, number), bytes)?;
        if number > ATTEMPTS_KEPT {
            self.state
                .remove(attempt_key(webhook_id, number - ATTEMPTS_KEPT))?;
        }
        Ok(attempt)
    }

    /// Keeps one task per enabled endpoint until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let Some(mut position) = self.projections.position_of(<Webhooks as Projection>::TREE)
        else {
            return;
        };
        let mut running: HashMap<u64, tokio::task::JoinHandle<()>> = HashMap::new();
        tokio::pin!(shutdown);
        loop {
            position.borrow_and_update();
            match self.projections.webhooks().all() {
                Ok(rows) => {
                    let enabled: Vec<u64> = rows
                        .iter()
                        .filter(|row| row.disabled.is_none())
                        .map(|row| row.webhook_id)
                        .collect();
                    running.retain(|id, task| {
                        let keep = enabled.contains(id) && !task.is_finished();
                        if !keep {
                            task.abort();
                        }
                        keep
                    });
                    for id in enabled {
                        running
                            .entry(id)
                            .or_insert_with(|| tokio::spawn(self.clone().deliver_endpoint(id)));
                    }
                }
                Err(err) => tracing::error!(error = %err, "cannot read webhook endpoints"),
            }
            tokio::select! {
                changed = position.changed() => if changed.is_err() { break },
                () = &mut shutdown => break,
            }
        }
        for task in running.values() {
            task.abort();
        }
        for (_, task) in running {
            let _ = task.await;
        }
    }

    /// Delivers the endpoint's events in order until it is deleted or disabled.
    async fn deliver_endpoint(self, webhook_id: u64) {
        let Some(mut feed) = self
            .projections
            .position_of(<EventFeed as Projection>::TREE)
        else {
            return;
        };
        loop {
            let row = match self.projections.webhooks().get(webhook_id) {
                Ok(Some(row)) if row.disabled.is_none() => row,
                _ => return,
            };
            feed.borrow_and_update();
            let seqs =
                match self
                    .projections
                    .event_feed()
                    .after(row.workspace, self.cursor(&row), 100)
                {
                    Ok(seqs) => seqs,
                    Err(err) => {
                        tracing::error!(webhook_id, error = %err, "cannot read the event feed");
                        return;
                    }
                };
            if seqs.is_empty() {
                if feed.changed().await.is_err() {
                    return;
                }
                continue;
            }
            for seq in seqs {
                let Some(envelope) = self.read(seq) else {
                    return;
                };
                if let Some(name) = self.subscribed(&row, &envelope).await {
                    if !self
                        .deliver_until_accepted(webhook_id, &envelope, name)
                        .await
                    {
                        return;
                    }
                }
                if let Err(err) = self.set_cursor(webhook_id, seq) {
                    tracing::error!(webhook_id, error = %err, "cannot save the delivery cursor");
                    return;
                }
            }
        }
    }

    /// The name `envelope` is delivered under to this endpoint, if it subscribed to it.
    async fn subscribed(&self, row: &WebhookRow, envelope: &Envelope) -> Option<&'static str> {
        match &row.videosdk_room {
            Some(room) => {
                super::videosdk::subscribed(&self.projections, room, &row.events, envelope).await
            }
            None => event_name(&envelope.kind).filter(|name| row.events.iter().any(|e| e == name)),
        }
    }

    fn read(&self, seq: u64) -> Option<Envelope> {
        self.log
            .read_all(seq, 1)
            .ok()?
            .into_iter()
            .next()
            .filter(|e| e.seq == seq)
    }

    /// Posts one event until the endpoint takes it; false when the endpoint went away (deleted,
    /// disabled, or it answered 410).
    async fn deliver_until_accepted(
        &self,
        webhook_id: u64,
        envelope: &Envelope,
        name: &str,
    ) -> bool {
        let schedule = &self.config.retry_schedule_ms;
        let step = |n: usize| {
            Duration::from_millis(schedule.get(n).or(schedule.last()).copied().unwrap_or(1000))
        };
        // A zero wait is no wait (a timer would still round it up to the next millisecond).
        if !step(0).is_zero() {
            tokio::time::sleep(step(0)).await;
        }
        for failures in 1.. {
            let row = match self.projections.webhooks().get(webhook_id) {
                Ok(Some(row)) if row.disabled.is_none() => row,
                _ => return false,
            };
            match self.attempt(&row, envelope, name, false).await.1 {
                Outcome::Accepted => return true,
                Outcome::Gone => {
                    self.disable(webhook_id, "the endpoint answered 410 Gone")
                        .await;
                    return false;
                }
                Outcome::Retry(asked) => {
                    let wait = asked.map_or_else(|| step(failures), |a| a.min(MAX_RETRY_AFTER));
                    tokio::time::sleep(wait).await;
                }
            }
        }
        false
    }

    async fn disable(&self, webhook_id: u64, reason: &str) {
        let disable = WebhookCommand::Disable {
            reason: reason.to_owned(),
        };
        let disabled = WebhookService::new(self.log.clone())
            .execute(webhook_id, None, disable, Actor::System)
            .await;
        match disabled {
            Ok((_, seq)) if seq > 0 => tracing::warn!(webhook_id, reason, "webhook disabled"),
            // Disabled already, or deleted meanwhile: nothing to do.
            Ok(_) | Err(convene_actors::WebhookError::NotFound) => {}
            Err(err) => tracing::error!(webhook_id, error = %err, "cannot disable the webhook"),
        }
    }

    /// Redelivers one event of the endpoint's workspace now, whatever the in-order delivery is
    /// doing; the attempt is recorded as manual.
    pub async fn redeliver(&self, row: &WebhookRow, seq: u64) -> Result<Option<Attempt>, String> {
        let Some(envelope) = self.read(seq) else {
            return Ok(None);
        };
        let in_workspace = self
            .projections
            .event_feed()
            .after(row.workspace, seq - 1, 1)
            .map_err(|e| e.to_string())?
            .first()
            == Some(&seq);
        let name = match &row.videosdk_room {
            Some(room) => {
                super::videosdk::subscribed(&self.projections, room, &row.events, &envelope).await
            }
            None => event_name(&envelope.kind),
        };
        let Some(name) = name.filter(|_| in_workspace) else {
            return Ok(None);
        };
        Ok(Some(self.attempt(row, &envelope, name, true).await.0))
    }

    /// One POST, recorded.
    async fn attempt(
        &self,
        row: &WebhookRow,
        envelope: &Envelope,
        name: &str,
        manual: bool,
    ) -> (Attempt, Outcome) {
        let started = Instant::now();
        let now_ms = self.clock.now_ms();
        let (status, error, outcome) = match self.post(row, envelope, name, now_ms).await {
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let outcome = if status.is_success() {
                    Outcome::Accepted
                } else if status == reqwest::StatusCode::GONE {
                    Outcome::Gone
                } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status.is_server_error()
                {
                    Outcome::Retry(retry_after)
                } else {
                    Outcome::Retry(None)
                };
                let error = (!status.is_success()).then(|| format!("answered {status}"));
                (Some(status.as_u16()), error, outcome)
            }
            Err(error) => (None, Some(error), Outcome::Retry(None)),
        };
        let outcome_label = match &outcome {
            Outcome::Accepted => "accepted",
            Outcome::Gone => "gone",
            Outcome::Retry(_) => "failed",
        };
        metrics::counter!("convene_webhook_deliveries_total", "outcome" => outcome_label)
            .increment(1);
        let attempt = Attempt {
            number: 0,
            seq: envelope.seq,
            event: name.to_owned(),
            at: now_ms,
            status,
            latency_ms: started.elapsed().as_millis() as u64,
            error,
            manual,
        };
        let attempt = match self.record(row.webhook_id, attempt.clone()) {
            Ok(recorded) => recorded,
            Err(err) => {
                tracing::error!(webhook_id = row.webhook_id, error = %err, "cannot record a delivery attempt");
                attempt
            }
        };
        (attempt, outcome)
    }

    async fn post(
        &self,
        row: &WebhookRow,
        envelope: &Envelope,
        name: &str,
        now_ms: i64,
    ) -> Result<reqwest::Response, String> {
        let url = target::check(&row.url, self.config.allow_private_targets).await?;
        let body = match &row.videosdk_room {
            Some(room) => super::videosdk::body(&self.projections, room, envelope, name),
            None => self.body(envelope, name).await,
        };
        let body = serde_json::to_vec(&body).expect("json");
        let id = format!("msg_{}", envelope.seq);
        let timestamp = now_ms / 1000;
        let mut secrets = vec![row.secret.as_str()];
        if let Some((previous, until)) = &row.previous_secret {
            if now_ms < *until {
                secrets.push(previous);
            }
        }
        self.client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signing::signature_header(&secrets, &id, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| describe(&e))
    }

    /// The seed's payload `{event, meetingId, timestamp, data}`, with `id` and `seq` so that
    /// receivers can deduplicate and order.
    async fn body(&self, envelope: &Envelope, name: &str) -> Value {
        let meeting_id = envelope.stream.trim_start_matches("meeting/");
        let data = if name == "meeting.ended" {
            self.ended_data(meeting_id, envelope.seq).await
        } else {
            event_data(envelope)
        };
        json!({
            "id": format!("msg_{}", envelope.seq),
            "seq": envelope.seq,
            "event": name,
            "meetingId": meeting_id,
            "timestamp": envelope.at,
            "data": data,
        })
    }

    /// `meeting.ended`'s data as the seed shows it: title, duration, peak and cost.
    async fn ended_data(&self, meeting_id: &str, seq: u64) -> Value {
        // The history row is final once its projection has folded the end.
        let _ = self.projections.wait_for(seq, Duration::from_secs(5)).await;
        match self.projections.history().row(meeting_id) {
            Ok(Some(row)) => {
                let duration_ms = row.duration_ms();
                json!({
                    "title": row.title,
                    "durationMinutes": render_minutes(duration_ms).parse::<f64>().unwrap_or(0.0),
                    "peakParticipants": row.peak,
                    "costUsd": Micros::for_usage(duration_ms, row.peak, Micros(self.rate_micros)).render(),
                })
            }
            _ => json!({}),
        }
    }
}

/// An event's own payload, without the hashes of secrets it carries.
fn event_data(envelope: &Envelope) -> Value {
    let mut data: Value = rmp_serde::from_slice(&envelope.payload).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut data {
        fields.retain(|name, _| !name.ends_with("_sha256"));
    }
    data
}

/// A transport error in words for the deliveries list.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        message
    }
}
