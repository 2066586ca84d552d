//! What an operator watches: Prometheus metrics (`GET /metrics`) and structured logs.
//!
//! Metrics go through the `metrics` facade (the event log's writer, the HTTP dispatch, the
//! realtime wires, webhook delivery and the rate limits record as they work) into one
//! process-wide Prometheus recorder; [`render`] adds what is read at scrape time (live meetings,
//! the log's head, each read model's lag) and writes the text format. Labels name routes,
//! methods, statuses, wires, outcomes and read models — never a tenant, an email or a URL.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;

/// Seconds: from a tenth of a millisecond to ten seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Events per log commit.
const GROUP_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0, 8192.0,
];

/// The process's recorder, installed on first use (every server of a process shares it).
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("convene_log_group_events".into()),
                    GROUP_BUCKETS,
                )
            })
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (a test harness): keep ours readable then.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "convene_http_requests_total",
        "HTTP requests answered, by route template, method and status"
    );
    describe_histogram!(
        "convene_http_request_duration_seconds",
        Unit::Seconds,
        "time to answer an HTTP request, by route template and method"
    );
    describe_counter!(
        "convene_rate_limit_refusals_total",
        "requests refused with 429, by rate-limit group"
    );
    describe_gauge!(
        "convene_realtime_connections",
        "open realtime connections, by wire"
    );
    describe_gauge!("convene_meetings_live", "meetings with a live actor");
    describe_counter!(
        "convene_log_appended_events_total",
        "events made durable in the log"
    );
    describe_histogram!(
        "convene_log_group_events",
        "events per log commit (group commit size)"
    );
    describe_histogram!(
        "convene_log_commit_seconds",
        Unit::Seconds,
        "time to write and flush one log commit"
    );
    describe_gauge!("convene_log_head_seq", "the log's durable head sequence");
    describe_gauge!(
        "convene_read_model_lag_events",
        "events a read model has yet to fold, by read model"
    );
    describe_counter!(
        "convene_webhook_deliveries_total",
        "webhook delivery attempts, by outcome"
    );
}

/// The Prometheus text of everything recorded, with what is read at scrape time.
pub fn render(state: &AppState) -> String {
    let head = state.log.durable_head();
    metrics::gauge!("convene_log_head_seq").set(head as f64);
    metrics::gauge!("convene_meetings_live").set(state.registry.live_count() as f64);
    for (name, position) in state.projections.positions() {
        let lag = position.map_or(f64::NAN, |at| head.saturating_sub(at) as f64);
        metrics::gauge!("convene_read_model_lag_events", "read_model" => name.trim_start_matches("proj/"))
            .set(lag);
    }
    recorder().render()
}

/// Counts a realtime connection on `wire` while the guard lives.
pub struct ConnectionGauge(&'static str);

impl ConnectionGauge {
    pub fn open(wire: &'static str) -> Self {
        metrics::gauge!("convene_realtime_connections", "wire" => wire).increment(1.0);
        Self(wire)
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        metrics::gauge!("convene_realtime_connections", "wire" => self.0).decrement(1.0);
    }
}
