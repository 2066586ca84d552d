//! `spawn_app`: a real Convene server on an ephemeral port, and a client for it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use convene::app::AppState;
use convene::config::Config;
use convene_events::ManualClock;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A fixed "now" for tests: 2026-03-01T12:00:00Z.
pub const T0: i64 = 1_772_366_400_000;

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub clock: ManualClock,
    /// The running server's services, for what the HTTP API cannot do yet (participants join
    /// over the realtime channel).
    state: Option<AppState>,
    data_dir: PathBuf,
    _owned_dir: Option<Arc<tempfile::TempDir>>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose test configuration is changed by `tweak` first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let path = dir.path().to_owned();
    let mut config = test_config(&path);
    tweak(&mut config);
    start(config, Some(dir), ManualClock::new(T0)).await
}

pub async fn spawn_app_at(
    data_dir: &Path,
    owned_dir: Option<Arc<tempfile::TempDir>>,
    clock: ManualClock,
) -> TestApp {
    start(test_config(data_dir), owned_dir, clock).await
}

/// The defaults, with rate limits off (tests register many accounts from one address; the
/// rate-limit tests switch them back on) and no scheduler timer: a test that moves the clock
/// runs the scheduler itself ([`TestApp::run_scheduler`]).
pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config::defaults();
    config.storage.path = data_dir.to_owned();
    config.storage.cache_capacity_mb = 16;
    config.rate_limits.enabled = false;
    config.scheduler.tick_ms = 0;
    // Test receivers listen on 127.0.0.1.
    config.webhooks.allow_private_targets = true;
    config
}

async fn start(
    config: Config,
    owned_dir: Option<Arc<tempfile::TempDir>>,
    clock: ManualClock,
) -> TestApp {
    let data_dir = config.storage.path.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let state = convene::startup::build_state(config, Arc::new(clock.clone()))
        .await
        .expect("server failed to start");
    let server = tokio::spawn(convene::startup::serve(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: Client::new(),
        clock,
        state: Some(state),
        data_dir,
        _owned_dir: owned_dir,
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    /// Stops the server gracefully (its log is flushed and closed) and starts a new one on the
    /// same data directory.
    pub async fn restart(mut self) -> TestApp {
        self.shutdown().await;
        let owned = self._owned_dir.take();
        spawn_app_at(&self.data_dir, owned, self.clock.clone()).await
    }

    pub async fn shutdown(&mut self) {
        // The store stays locked while any handle to it lives.
        self.state = None;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
    }

    pub fn state(&self) -> &AppState {
        self.state.as_ref().expect("the server is running")
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn register(&self, email: &str) -> String {
        let response = self
            .post_json(
                "/api/auth/register",
                None,
                &json!({"email": email, "password": "secret123"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["apiKey"].as_str().unwrap().to_owned()
    }

    pub async fn post_json(&self, path: &str, key: Option<&str>, body: &Value) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request.send().await.expect("request")
    }

    pub async fn post_raw(
        &self,
        path: &str,
        key: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request.send().await.expect("request")
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request.send().await.expect("request")
    }

    pub async fn delete(&self, path: &str, key: &str, admin_token: Option<&str>) -> Response {
        let mut request = self.client.delete(self.url(path)).header("x-api-key", key);
        if let Some(token) = admin_token {
            request = request.header("x-admin-token", token);
        }
        request.send().await.expect("request")
    }

    /// Logs in and returns the session cookie (`convene_session=…`).
    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self
            .post_json(
                "/api/auth/login",
                None,
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let set_cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        set_cookie.split(';').next().unwrap().to_owned()
    }

    /// A request carrying a session cookie and this server's own Origin, as a browser sends it.
    pub fn with_session(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("cookie", cookie)
            .header("origin", "http://localhost:3000")
    }

    /// Sends a bodiless request as a signed-in browser would.
    pub async fn session_send(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
    ) -> Response {
        self.with_session(method, path, cookie)
            .send()
            .await
            .expect("request")
    }

    /// GETs `path` as a signed-in browser and returns the JSON body.
    pub async fn session_json(&self, path: &str, cookie: &str) -> Value {
        self.session_send(reqwest::Method::GET, path, cookie)
            .await
            .json()
            .await
            .expect("json body")
    }

    /// The .eml files in the outbox, oldest first, once there are at least `count` (mail goes
    /// out in the background).
    pub async fn outbox(&self, count: usize) -> Vec<String> {
        let dir = self.data_dir.join("outbox");
        poll_until(&format!("{count} messages in the outbox"), || async {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
            // Names start with the time they were written.
            files.sort();
            (files.len() >= count).then(|| {
                files
                    .iter()
                    .map(|p| decode_quoted_printable(&std::fs::read_to_string(p).unwrap()))
                    .collect()
            })
        })
        .await
    }

    /// Polls `path` until `done` holds for its JSON body: for the effects of the followers that
    /// act on the log in the background (billing, webhook delivery) and of realtime clients.
    pub async fn eventually(&self, path: &str, key: &str, done: impl Fn(&Value) -> bool) -> Value {
        poll_until(&format!("GET {path}"), || async {
            let body: Value = self.get(path, Some(key)).await.json().await.unwrap();
            done(&body).then_some(body)
        })
        .await
    }

    /// Runs the scheduler once at the clock's current time, as its timer would, and returns
    /// when the read models show what it did.
    pub async fn run_scheduler(&self) {
        let state = self.state();
        let scheduler = convene::scheduler::Scheduler::new(
            state.registry.clone(),
            state.projections.clone(),
            state.clock.clone(),
            state.config.guest.expire_after_minutes as i64 * 60_000,
            state.config.videosdk.empty_session_grace_secs as i64 * 1000,
        );
        // The scheduler reads the time index: it must show everything logged so far.
        state
            .projections
            .wait_for(state.log.durable_head(), DEADLINE)
            .await
            .expect("read models catch up");
        let caused = scheduler.run_due().await;
        state.caught_up(caused).await.expect("read models catch up");
    }

    /// GETs `path` with the API key and returns its JSON body.
    pub async fn get_json(&self, path: &str, key: &str) -> Value {
        let response = self.get(path, Some(key)).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    /// Creates a meeting and returns the creation response body.
    pub async fn create_meeting(&self, key: &str, body: &Value) -> Value {
        let response = self.post_json("/api/meetings", Some(key), body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }
}

/// The real binary as a child process on `port`, storing under `data`, with `env` set too: a
/// server that can be stopped by a signal (SIGTERM, SIGKILL), which an in-process one cannot.
pub fn spawn_binary(data: &Path, port: u16, env: &[(&str, &str)]) -> std::process::Child {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_convene"));
    command
        .current_dir(data)
        .env_remove("CONVENE_CONFIG")
        .env("CONVENE_STORAGE_PATH", data.join("store"))
        .env("CONVENE_SERVER_PORT", port.to_string())
        .env("CONVENE_RATE_LIMITS_ENABLED", "false")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null());
    command.spawn().expect("the convene binary starts")
}

/// How long any test waits for anything that happens in the background.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Tries `probe` until it yields a value, every 10 ms, for at most [`DEADLINE`]; panics naming
/// `what` otherwise. The one way tests wait for background work they cannot drive themselves.
pub async fn poll_until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Undoes quoted-printable (soft line breaks and `=XX` escapes), as a mail client does, so
/// links in a message can be read whole.
fn decode_quoted_printable(message: &str) -> String {
    let joined = message.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Asserts a status and a JSON `{"error": ...}` body containing `needle`; returns the message.
pub async fn assert_error(response: Response, status: StatusCode, needle: &str) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("json error body");
    let message = body["error"].as_str().expect("error field").to_owned();
    assert!(
        message.contains(needle),
        "{message:?} does not mention {needle:?}"
    );
    message
}
