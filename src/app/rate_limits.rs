//! Per-IP rate limits (onepizza §16), by group.
//!
//! Rate limits use governor's keyed GCRA limiters: a group allows `requests` at once and then
//! one more every `window / requests`, which is the seed's "N per window" without the burst at
//! each window boundary that fixed windows allow. Time comes from the server's [`Clock`], so
//! tests move it instead of sleeping. The client address is the TCP peer's: behind a reverse
//! proxy every request would share the proxy's address, so run the limits at the proxy there
//! or switch them off (`rate_limits.enabled = false`).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::app::AppError;
use crate::config::Config;
use convene_events::Clock;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// The rate-limit groups of onepizza §16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Login and register.
    Auth,
    /// Forgot and reset password.
    Password,
    /// Guest meeting creation.
    Guest,
    /// Everything else under /api, and the VideoSDK dialect's /v2.
    Api,
}

impl Group {
    /// Its label in the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Auth => "auth",
            Group::Password => "password",
            Group::Guest => "guest",
            Group::Api => "api",
        }
    }
}

/// Adapts Convene's clock to governor's.
#[derive(Clone)]
struct ServerClock(Arc<dyn Clock>);

impl GovernorClock for ServerClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.0.now_ms().max(0) as u64 * 1_000_000)
    }
}

type Limiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, ServerClock, NoOpMiddleware<Nanos>>;

struct Limit {
    limiter: Limiter,
    requests: u32,
    window: Duration,
}

/// Every group's limiter; `None` when limits are switched off.
#[derive(Clone)]
pub struct RateLimits {
    groups: Option<Arc<[(Group, Limit); 4]>>,
    clock: Arc<dyn Clock>,
}

impl RateLimits {
    pub fn from_config(config: &Config, clock: Arc<dyn Clock>) -> Self {
        let limits = &config.rate_limits;
        let make = |requests: u32, window_secs: u64| {
            let requests = requests.max(1);
            let window = Duration::from_secs(window_secs.max(1));
            let burst = NonZeroU32::new(requests).expect("at least 1");
            let quota = Quota::with_period(window / requests)
                .expect("a window of at least one second")
                .allow_burst(burst);
            Limit {
                limiter: RateLimiter::new(
                    quota,
                    DefaultKeyedStateStore::default(),
                    ServerClock(clock.clone()),
                ),
                requests,
                window,
            }
        };
        let groups = limits.enabled.then(|| {
            Arc::new([
                (
                    Group::Auth,
                    make(limits.auth_requests, limits.auth_window_secs),
                ),
                (
                    Group::Password,
                    make(limits.password_requests, limits.password_window_secs),
                ),
                (
                    Group::Guest,
                    make(limits.guest_requests, limits.guest_window_secs),
                ),
                (
                    Group::Api,
                    make(limits.api_requests, limits.api_window_secs),
                ),
            ])
        });
        Self { groups, clock }
    }

    /// Counts one request of `group` from `ip`; refuses it with 429 when over the limit.
    pub fn check(&self, group: Group, ip: Option<IpAddr>) -> Result<(), AppError> {
        let (Some(groups), Some(ip)) = (&self.groups, ip) else {
            return Ok(());
        };
        let Some((_, limit)) = groups.iter().find(|(g, _)| *g == group) else {
            return Ok(());
        };
        match limit.limiter.check_key(&ip) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let now = ServerClock(self.clock.clone()).now();
                let wait = not_until.wait_time_from(now);
                Err(AppError::TooManyRequests {
                    retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    limit: limit.requests,
                    window_secs: limit.window.as_secs(),
                })
            }
        }
    }

    /// Forgets idle clients so memory follows active clients, not every address ever seen.
    pub fn retain_recent(&self) {
        if let Some(groups) = &self.groups {
            for (_, limit) in groups.iter() {
                limit.limiter.retain_recent();
            }
        }
    }
}
