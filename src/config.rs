//! Configuration: embedded defaults (`config.toml`), an optional file over them, then
//! environment variables over both.
//!
//! Environment overrides are derived from the defaults themselves: every `[section] key` can be
//! set as `CONVENE_<SECTION>_<KEY>`, parsed as the type its default has, so there is no list of
//! variables to keep in sync. The onepizza names `PORT`, `APP_URL` and `ALLOWED_ORIGINS` map onto
//! their `[server]` keys.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::{Table, Value};

/// The defaults, compiled in.
pub const DEFAULTS: &str = include_str!("../config.toml");

/// Seed environment variables and the keys they set.
const SEED_ALIASES: [(&str, &str, &str); 14] = [
    ("PORT", "server", "port"),
    ("APP_URL", "server", "app_url"),
    ("ALLOWED_ORIGINS", "server", "allowed_origins"),
    ("NODE_ENV", "auth", "environment"),
    ("SESSION_SECRET", "auth", "session_secret"),
    ("ADMIN_EMAIL", "auth", "admin_email"),
    ("ADMIN_PASSWORD", "auth", "admin_password"),
    ("TURN_URLS", "turn", "urls"),
    ("TURN_USERNAME", "turn", "username"),
    ("TURN_CREDENTIAL", "turn", "credential"),
    ("CONVENE_ENV", "auth", "environment"),
    ("STRIPE_SECRET_KEY", "billing", "stripe_secret_key"),
    ("STRIPE_PRICE_ID", "billing", "stripe_price_id"),
    ("STRIPE_WEBHOOK_SECRET", "billing", "stripe_webhook_secret"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub limits: LimitsConfig,
    pub meetings: MeetingsConfig,
    pub http: HttpConfig,
    pub auth: AuthConfig,
    pub email: EmailConfig,
    pub guest: GuestConfig,
    pub scheduler: SchedulerConfig,
    pub ice: IceConfig,
    pub turn: TurnConfig,
    pub rate_limits: RateLimitsConfig,
    pub realtime: RealtimeConfig,
    pub videosdk: VideoSdkConfig,
    pub metrics: MetricsConfig,
    pub log: LoggingConfig,
    pub billing: BillingConfig,
    pub audit: AuditConfig,
    pub webhooks: WebhooksConfig,
    pub plans: PlansConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlansConfig {
    /// The plan new accounts start on; a key of `catalog`.
    pub default: String,
    pub catalog: BTreeMap<String, PlanConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// Meetings a workspace may create per calendar month (UTC), through any API; 0: unlimited.
    pub monthly_meetings: u32,
    /// How long a meeting may run before it ends by itself; 0: no limit.
    pub max_meeting_minutes: u32,
    /// Creating a meeting needs a balance above zero.
    pub credits: bool,
}

impl PlanConfig {
    /// The monthly quota, if there is one.
    pub fn monthly_limit(&self) -> Option<u32> {
        (self.monthly_meetings > 0).then_some(self.monthly_meetings)
    }

    /// The longest a meeting may run, in ms, if there is a cap.
    pub fn max_duration_ms(&self) -> Option<i64> {
        (self.max_meeting_minutes > 0).then(|| i64::from(self.max_meeting_minutes) * 60_000)
    }
}

impl PlansConfig {
    /// The named plan, or the default one for `None` (an account from before plans) and for a
    /// name the catalog no longer has (an operator removed it).
    pub fn resolve<'a>(&'a self, name: Option<&'a str>) -> (&'a str, &'a PlanConfig) {
        name.and_then(|name| self.catalog.get_key_value(name))
            .or_else(|| self.catalog.get_key_value(self.default.as_str()))
            .map(|(name, plan)| (name.as_str(), plan))
            .expect("validation keeps the default plan in the catalog")
    }
}

/// Whether `name` can name a plan: 1 to 32 of a-z, 0-9, `_` and `-`.
pub fn is_plan_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Let endpoints point at private, loopback and link-local addresses.
    pub allow_private_targets: bool,
    /// How long an endpoint has to answer one delivery.
    pub timeout_ms: u64,
    /// Wait before the first attempt, then after each failure; the last step repeats.
    pub retry_schedule_ms: Vec<u64>,
    /// How long the previous secret keeps signing after a rotation.
    pub rotation_overlap_secs: u64,
    /// The most endpoints one workspace may register.
    pub max_per_workspace: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The key audit exports are signed with; empty: one kept in the data directory.
    pub key: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    /// What one participant-minute costs, in micro-dollars.
    pub rate_micros_per_participant_minute: i64,
    /// Credited to every new account (or company), in micro-dollars.
    pub signup_credit_micros: i64,
    /// Below this balance (micro-dollars) the owner is emailed, once per crossing.
    pub low_balance_micros: i64,
    /// Stripe: the API key, the one-dollar price checkout sessions sell, and the webhook
    /// signing secret. Empty: Stripe is off (checkout answers 503).
    pub stripe_secret_key: String,
    pub stripe_price_id: String,
    pub stripe_webhook_secret: String,
    /// Stripe's API (a test may point it elsewhere).
    pub stripe_api_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealtimeConfig {
    pub ping_interval_ms: u64,
    pub ping_timeout_ms: u64,
    pub connect_timeout_ms: u64,
    pub max_payload_bytes: usize,
    pub outbound_queue: usize,
    pub chat_max_chars: usize,
    pub name_max_chars: usize,
    pub events_per_second: u32,
    pub event_burst: u32,
    pub emoji_max_chars: usize,
    pub engine_send_queue: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub environment: Environment,
    pub session_secret: String,
    pub session_ttl_hours: u64,
    pub reset_token_ttl_minutes: u64,
    pub admin_email: String,
    pub admin_password: String,
    pub hash_concurrency: usize,
}

impl AuthConfig {
    /// `hash_concurrency`, with 0 resolved against the machine's cores.
    pub fn hash_permits(&self) -> usize {
        match self.hash_concurrency {
            0 => std::thread::available_parallelism()
                .map_or(1, |cores| cores.get().saturating_sub(1))
                .max(1),
            n => n,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub smtp_url: String,
    pub from: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestConfig {
    pub expire_after_minutes: u64,
    pub default_title: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    pub tick_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceConfig {
    pub stun_urls: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnConfig {
    pub urls: Vec<String>,
    pub username: String,
    pub credential: String,
    pub shared_secret: String,
    pub credential_ttl_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsConfig {
    pub enabled: bool,
    pub auth_requests: u32,
    pub auth_window_secs: u64,
    pub password_requests: u32,
    pub password_window_secs: u64,
    pub guest_requests: u32,
    pub guest_window_secs: u64,
    pub api_requests: u32,
    pub api_window_secs: u64,
}

/// Used to hash session tokens when no secret is configured outside production.
const DEVELOPMENT_SESSION_SECRET: &str = "convene-development-session-secret-do-not-deploy";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub host: IpAddr,
    pub port: u16,
    pub app_url: String,
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncSetting {
    Always,
    Interval,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub path: PathBuf,
    pub sync: SyncSetting,
    pub sync_interval_ms: u64,
    pub cache_capacity_mb: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub body_bytes: u64,
    pub title_chars: usize,
    pub default_max_participants: u32,
    pub max_participants: u32,
    pub password_min_chars: usize,
    pub password_max_chars: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingsConfig {
    pub idle_after_secs: u64,
    pub idle_sweep_secs: u64,
    pub command_timeout_ms: u64,
    pub max_restarts: u32,
    pub restart_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub token: String,
    pub address: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    pub format: LogFormat,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoSdkConfig {
    pub empty_session_grace_secs: u64,
    pub participant_id_max_chars: usize,
    pub custom_room_id_max_chars: usize,
    pub max_per_page: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub read_your_writes_timeout_ms: u64,
    pub cached_meeting_lists: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid value for {key} (from {origin}): {message}")]
    Env {
        key: String,
        origin: String,
        message: String,
    },
    #[error("invalid config: {key}: {message}")]
    Invalid { key: String, message: String },
}

impl Config {
    /// Defaults, then `file` (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with(file, |name| std::env::var(name).ok())
    }

    /// As [`Config::load`], reading variables through `env` (tests pass a map).
    pub fn load_with(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut table: Table = DEFAULTS.parse().expect("the embedded config.toml is valid");
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let overlay: Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Syntax {
                        path: path.to_owned(),
                        message: e.message().to_owned(),
                    })?;
            merge(&mut table, overlay);
        }
        apply_env(&mut table, &env)?;
        let config: Config =
            serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
                ConfigError::Invalid {
                    key: e.path().to_string(),
                    message: e.inner().message().to_owned(),
                }
            })?;
        config.validate()?;
        Ok(config)
    }

    /// The embedded defaults alone.
    pub fn defaults() -> Self {
        Self::load_with(None, |_| None).expect("the embedded defaults are valid")
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| {
            Err(ConfigError::Invalid {
                key: key.into(),
                message: message.into(),
            })
        };
        if !(self.server.app_url.starts_with("http://")
            || self.server.app_url.starts_with("https://"))
        {
            return invalid("server.app_url", "must start with http:// or https://");
        }
        if self.limits.body_bytes < 1024 {
            return invalid("limits.body_bytes", "must be at least 1024");
        }
        if self.limits.default_max_participants == 0
            || self.limits.default_max_participants > self.limits.max_participants
        {
            return invalid(
                "limits.default_max_participants",
                "must be between 1 and limits.max_participants",
            );
        }
        if self.limits.password_min_chars > self.limits.password_max_chars {
            return invalid(
                "limits.password_min_chars",
                "must not exceed limits.password_max_chars",
            );
        }
        if self.meetings.idle_sweep_secs == 0 {
            return invalid("meetings.idle_sweep_secs", "must be at least 1");
        }
        for (key, value) in [
            (
                "realtime.emoji_max_chars",
                self.realtime.emoji_max_chars as u64,
            ),
            (
                "realtime.engine_send_queue",
                self.realtime.engine_send_queue as u64,
            ),
            (
                "videosdk.participant_id_max_chars",
                self.videosdk.participant_id_max_chars as u64,
            ),
            (
                "videosdk.custom_room_id_max_chars",
                self.videosdk.custom_room_id_max_chars as u64,
            ),
            ("videosdk.max_per_page", self.videosdk.max_per_page),
        ] {
            if value == 0 {
                return invalid(key, "must be at least 1");
            }
        }
        if self.auth.environment == Environment::Production
            && self.auth.session_secret.chars().count() < 32
        {
            return invalid(
                "auth.session_secret",
                "SESSION_SECRET of at least 32 characters is required in production",
            );
        }
        if let Some(name) = self.plans.catalog.keys().find(|name| !is_plan_name(name)) {
            return Err(ConfigError::Invalid {
                key: format!("plans.catalog.{name}"),
                message: "plan names are 1 to 32 of a-z, 0-9, _ and -".into(),
            });
        }
        if !self.plans.catalog.contains_key(&self.plans.default) {
            return invalid("plans.default", "must name a plan of plans.catalog");
        }
        let rate_limits = &self.rate_limits;
        for (key, requests, window) in [
            (
                "rate_limits.auth_requests",
                rate_limits.auth_requests,
                rate_limits.auth_window_secs,
            ),
            (
                "rate_limits.password_requests",
                rate_limits.password_requests,
                rate_limits.password_window_secs,
            ),
            (
                "rate_limits.guest_requests",
                rate_limits.guest_requests,
                rate_limits.guest_window_secs,
            ),
            (
                "rate_limits.api_requests",
                rate_limits.api_requests,
                rate_limits.api_window_secs,
            ),
        ] {
            if requests == 0 || window == 0 {
                return invalid(key, "requests and window must both be at least 1");
            }
        }
        Ok(())
    }

    /// The key session tokens are hashed under.
    pub fn session_secret(&self) -> &str {
        if self.auth.session_secret.is_empty() {
            DEVELOPMENT_SESSION_SECRET
        } else {
            &self.auth.session_secret
        }
    }

    /// Whether cookies must carry `Secure` and responses HSTS.
    pub fn is_https(&self) -> bool {
        self.server.app_url.starts_with("https://")
    }

    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.server.host, self.server.port)
    }

    pub fn read_your_writes_timeout(&self) -> Duration {
        Duration::from_millis(self.http.read_your_writes_timeout_ms)
    }
}

/// Deep-merges `overlay` into `base`, table by table.
fn merge(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(base_table)), Value::Table(overlay_table)) => {
                merge(base_table, overlay_table)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Sets every key for which `CONVENE_<SECTION>_<KEY>` (or a seed alias) is set.
fn apply_env(table: &mut Table, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    let mut overrides = Vec::new();
    for (section, values) in table.iter() {
        let Value::Table(values) = values else {
            continue;
        };
        for (key, current) in values {
            let name = format!("CONVENE_{}_{}", section.to_uppercase(), key.to_uppercase());
            let alias = SEED_ALIASES
                .iter()
                .find(|(_, s, k)| s == section && k == key)
                .map(|(alias, _, _)| *alias);
            // The CONVENE_ name wins over the seed alias when both are set.
            let found = env(&name)
                .map(|raw| (name.clone(), raw))
                .or_else(|| alias.and_then(|a| env(a).map(|raw| (a.to_owned(), raw))));
            if let Some((origin, raw)) = found {
                let dotted = format!("{section}.{key}");
                let value = parse_like(current, &raw).map_err(|message| ConfigError::Env {
                    key: dotted,
                    origin,
                    message,
                })?;
                overrides.push((section.clone(), key.clone(), value));
            }
        }
    }
    for (section, key, value) in overrides {
        if let Some(Value::Table(values)) = table.get_mut(&section) {
            values.insert(key, value);
        }
    }
    Ok(())
}

/// Parses an environment string as the type of the key's default value.
fn parse_like(default: &Value, raw: &str) -> Result<Value, String> {
    let raw = raw.trim();
    match default {
        Value::Integer(_) => raw
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("expected an integer, got {raw:?}")),
        Value::Float(_) => raw
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("expected a number, got {raw:?}")),
        Value::Boolean(_) => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {raw:?}")),
        },
        Value::Array(_) => Ok(Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        )),
        _ => Ok(Value::String(raw.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with_env(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_with(None, |name| vars.get(name).cloned())
    }

    #[test]
    fn the_embedded_defaults_follow_the_seed() {
        let config = Config::defaults();
        assert_eq!(config.server.port, 3000);
        assert_eq!(config.storage.path, PathBuf::from("./data"));
        assert_eq!(config.storage.sync, SyncSetting::Always);
        assert_eq!(config.limits.default_max_participants, 50);
        assert_eq!(config.limits.password_min_chars, 8);
    }

    #[test]
    fn every_key_can_be_set_from_the_environment() {
        let config = with_env(&[
            ("CONVENE_SERVER_PORT", "8080"),
            ("CONVENE_STORAGE_SYNC", "interval"),
            (
                "CONVENE_SERVER_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("CONVENE_LIMITS_BODY_BYTES", "1048576"),
        ])
        .unwrap();
        assert_eq!(config.server.port, 8080);
        assert_eq!(config.storage.sync, SyncSetting::Interval);
        assert_eq!(
            config.server.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(config.limits.body_bytes, 1_048_576);
    }

    #[test]
    fn seed_variables_are_honoured_and_convene_names_win() {
        let config = with_env(&[("PORT", "4000"), ("APP_URL", "https://meet.example")]).unwrap();
        assert_eq!(config.server.port, 4000);
        assert_eq!(config.server.app_url, "https://meet.example");
        let config = with_env(&[("PORT", "4000"), ("CONVENE_SERVER_PORT", "5000")]).unwrap();
        assert_eq!(config.server.port, 5000);
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = with_env(&[("CONVENE_SERVER_PORT", "eighty")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("server.port") && err.contains("CONVENE_SERVER_PORT"),
            "{err}"
        );
        let err = with_env(&[("PORT", "99999")]).unwrap_err().to_string();
        assert!(err.contains("server.port"), "{err}");
        let err = with_env(&[("CONVENE_STORAGE_SYNC", "sometimes")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("storage.sync"), "{err}");
        let err = with_env(&[("CONVENE_SERVER_HOST", "not-an-ip")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.host"), "{err}");
    }

    #[test]
    fn plans_default_to_credits_and_the_default_must_exist() {
        let config = Config::defaults();
        assert_eq!(config.plans.default, "credits");
        let (name, free) = config.plans.resolve(Some("free"));
        assert_eq!(name, "free");
        assert_eq!(free.monthly_limit(), Some(10));
        assert_eq!(free.max_duration_ms(), Some(600_000));
        let (name, credits) = config.plans.resolve(None);
        assert_eq!(name, "credits");
        assert!(credits.credits && credits.monthly_limit().is_none());
        assert_eq!(config.plans.resolve(Some("retired")).0, "credits");
        let config = with_env(&[("CONVENE_PLANS_DEFAULT", "free")]).unwrap();
        assert_eq!(config.plans.default, "free");
        let err = with_env(&[("CONVENE_PLANS_DEFAULT", "gold")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("plans.default"), "{err}");
    }

    #[test]
    fn a_file_overrides_defaults_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nport = 1234\n").unwrap();
        let config = Config::load_with(Some(&path), |_| None).unwrap();
        assert_eq!(config.server.port, 1234);
        assert_eq!(config.server.host.to_string(), "127.0.0.1");
        std::fs::write(&path, "[server]\nprot = 1234\n").unwrap();
        let err = Config::load_with(Some(&path), |_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot"), "{err}");
    }
}
