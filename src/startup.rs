//! Wiring: open the log, start projections and the meeting registry, serve HTTP, shut down in
//! order (stop accepting, stop actors, stop projections, flush and close the log).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use convene_actors::{
    AccountService, LoginSessionService, MeetingRegistry, RegistryConfig, WebhookService,
};
use convene_events::{Clock, EventLog, LogConfig, LogError, SyncMode, SystemClock};
use convene_projections::Projections;
use tokio::net::TcpListener;

use warp::{Filter, Reply};

use crate::app::rate_limits::RateLimits;
use crate::app::{AppState, Services};
use crate::config::{Config, SyncSetting};
use crate::email::Mailer;
use crate::net::server::Server;
use crate::scheduler::Scheduler;
use crate::{http, realtime};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Log(#[from] LogError),
    #[error("cannot start read models: {0}")]
    Projections(String),
    #[error("cannot start the meeting registry: {0}")]
    Registry(String),
    #[error("{0}")]
    Email(#[from] crate::email::MailerError),
    #[error("{0}")]
    Admin(String),
    #[error("cannot start webhook delivery: {0}")]
    Webhooks(String),
}

/// Serves on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    run_with_clock(listener, config, Arc::new(SystemClock), shutdown).await
}

/// As [`run`], with an injected clock (tests move time by hand).
pub async fn run_with_clock(
    listener: TcpListener,
    config: Config,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let state = build_state(config, clock).await?;
    serve(state, listener, shutdown).await;
    Ok(())
}

/// The whole server: the realtime endpoints (each answers for itself: its own protocol, errors
/// and limits) before the REST dialects, with every request traced.
pub fn server(state: AppState) -> Server {
    let realtime = realtime::endpoints(state.clone());
    let routes = realtime
        .routes
        .or(http::api(&state))
        .unify()
        .with(warp::trace(|info| {
            tracing::info_span!(
                "request",
                id = %request_id(),
                method = %info.method(),
                path = %info.path(),
            )
        }))
        .map(Reply::into_response)
        .boxed();
    realtime.websockets.into_iter().fold(
        Server::new(routes, state.connections.clone()),
        |server, (path, endpoint)| server.websocket(path, endpoint),
    )
}

/// A request's id for its log lines: unique within the process's life.
fn request_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!(
        "{:x}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// `metrics.address`: `/metrics` without a token on a listener of its own, off the public port.
/// A bad or taken address is reported and the server goes on without it.
async fn serve_metrics(
    state: &AppState,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    let address = state.config.metrics.address.clone();
    if address.is_empty() {
        return None;
    }
    let listener = match TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(%address, error = %err, "cannot serve metrics");
            return None;
        }
    };
    tracing::info!(%address, "metrics are served");
    let answering = state.clone();
    let route = warp::path("metrics")
        .and(warp::path::end())
        .and(warp::get())
        .map(move || http::metrics::text(&answering))
        .boxed();
    let server = Server::new(route, Default::default());
    Some(tokio::spawn(server.serve(listener, stop)))
}

/// Serves a built state on `listener` until `shutdown` resolves, then stops everything in order.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (log, registry, projections) = (
        state.log.clone(),
        state.registry.clone(),
        state.projections.clone(),
    );
    let rate_limits = state.rate_limits.clone();
    let guest_expiry_ms = state.config.guest.expire_after_minutes as i64 * 60_000;
    let scheduler = Scheduler::new(
        registry.clone(),
        projections.clone(),
        state.clock.clone(),
        guest_expiry_ms,
        state.config.videosdk.empty_session_grace_secs as i64 * 1000,
    );
    // What came due while the server was down is handled before anyone can ask.
    let caused = scheduler.run_due().await;
    if let Err(err) = state.caught_up(caused).await {
        tracing::warn!(error = %err.message(), "read models lag behind the start-up scheduler run");
    }
    let scheduler = match state.config.scheduler.tick_ms {
        0 => None,
        tick => Some(scheduler.spawn(Duration::from_millis(tick))),
    };
    let forget_idle_clients = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            rate_limits.retain_recent();
        }
    });
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, data = %log.path().display(), events = log.durable_head(), "convene is listening");
    }
    let billing = crate::billing::Billing::new(
        state.log.clone(),
        state.projections.clone(),
        &state.config.billing,
        state.mailer.clone(),
    );
    let (stop_billing, billing_stopped) = tokio::sync::oneshot::channel::<()>();
    let billing = match billing {
        Ok(billing) => Some(tokio::spawn(billing.run(async {
            let _ = billing_stopped.await;
        }))),
        Err(err) => {
            tracing::error!(error = %err, "billing cannot start; meetings are not charged");
            None
        }
    };
    let (stop_webhooks, webhooks_stopped) = tokio::sync::oneshot::channel::<()>();
    let webhooks = tokio::spawn(state.webhooks.clone().run(async {
        let _ = webhooks_stopped.await;
    }));
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = serve_metrics(&state, async {
        let _ = metrics_stopped.await;
    })
    .await;
    server(state).serve(listener, shutdown).await;
    let _ = stop_metrics.send(());
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    // Delivery stops before the log closes (its tasks hold the database).
    let _ = stop_webhooks.send(());
    let _ = webhooks.await;
    let _ = stop_billing.send(());
    if let Some(billing) = billing {
        let _ = billing.await;
    }
    tracing::info!("shutting down");
    if let Some(scheduler) = scheduler {
        scheduler.abort();
    }
    forget_idle_clients.abort();
    stop(&registry, &projections, &log).await;
}

/// Stops the actors, then the read models, then flushes and closes the log.
pub async fn stop(registry: &MeetingRegistry, projections: &Projections, log: &EventLog) {
    registry.shutdown().await;
    projections.stop();
    log.close().await;
}

/// Opens the log, starts the read models and the meeting registry, and seeds the administrator:
/// everything a handler needs, without serving yet.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartupError> {
    // Recording starts before anything is recorded.
    crate::telemetry::recorder();
    let log = EventLog::open(log_config(&config), clock.clone())?;
    let projections =
        Projections::start(&log).map_err(|e| StartupError::Projections(e.to_string()))?;
    let registry = MeetingRegistry::start(log.clone(), clock.clone(), registry_config(&config))
        .await
        .map_err(|e| StartupError::Registry(e.to_string()))?;
    let mailer = Mailer::from_config(&config)?;
    let rate_limits = RateLimits::from_config(&config, clock.clone());
    let webhooks = crate::webhooks::dispatcher::WebhookDispatcher::new(
        log.clone(),
        projections.clone(),
        clock.clone(),
        config.webhooks.clone(),
        config.billing.rate_micros_per_participant_minute,
    )
    .map_err(StartupError::Webhooks)?;
    let state = AppState::new(Services {
        meeting_lists: crate::app::cache::VersionedCache::new(config.http.cached_meeting_lists),
        creation_turns: Default::default(),
        videosdk_turns: Default::default(),
        hashing: crate::app::hashing::PasswordHashing::new(config.auth.hash_permits()),
        config: Arc::new(config),
        clock,
        accounts: AccountService::new(log.clone()),
        webhook_endpoints: WebhookService::new(log.clone()),
        sessions: LoginSessionService::new(log.clone()),
        log,
        registry,
        projections,
        mailer,
        rate_limits,
        webhooks,
        connections: Default::default(),
        started: std::time::Instant::now(),
    });
    http::accounts::seed_admin(&state)
        .await
        .map_err(StartupError::Admin)?;
    clear_stale_participants(&state).await?;
    Ok(state)
}

/// Participants are people connected to this server; after a start nobody is, whatever the log
/// says (the previous run may have stopped without logging their leaves). Each one still
/// listed is logged as disconnected, so caps, the REST view and audits tell the truth.
async fn clear_stale_participants(state: &AppState) -> Result<(), StartupError> {
    let rows = state
        .projections
        .meetings()
        .occupied()
        .map_err(|e| StartupError::Projections(e.to_string()))?;
    let mut last_seq = 0;
    for row in rows {
        let Ok(meeting_id) = convene_events::MeetingId::parse(&row.meeting_id) else {
            continue;
        };
        for participant in &row.participants {
            let leave = convene_actors::MeetingCommand::Leave {
                participant_id: participant.participant_id.clone(),
                reason: convene_events::catalog::meeting::LeaveReason::Disconnected,
            };
            match state
                .registry
                .execute(&meeting_id, leave, convene_events::Actor::System)
                .await
            {
                Ok(outcome) => last_seq = last_seq.max(outcome.last_seq),
                Err(err) => {
                    tracing::warn!(meeting_id = %meeting_id, error = %err, "cannot clear a stale participant")
                }
            }
        }
    }
    if last_seq > 0 {
        state
            .caught_up(last_seq)
            .await
            .map_err(|e| StartupError::Projections(format!("{e:?}")))?;
    }
    Ok(())
}

pub fn log_config(config: &Config) -> LogConfig {
    let mut log = LogConfig::new(&config.storage.path);
    log.sync = match config.storage.sync {
        SyncSetting::Always => SyncMode::Always,
        SyncSetting::Interval => SyncMode::Interval(config.storage.sync_interval_ms),
    };
    log.cache_capacity_bytes = config.storage.cache_capacity_mb * 1024 * 1024;
    log
}

fn registry_config(config: &Config) -> RegistryConfig {
    RegistryConfig {
        idle_after_ms: (config.meetings.idle_after_secs * 1000) as i64,
        sweep_every: Duration::from_secs(config.meetings.idle_sweep_secs),
        call_timeout: Duration::from_millis(config.meetings.command_timeout_ms),
        max_restarts: config.meetings.max_restarts,
        restart_window: Duration::from_secs(config.meetings.restart_window_secs),
    }
}
