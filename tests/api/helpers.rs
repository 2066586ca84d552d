//! `spawn_app`: a real Convene server on an ephemeral port, and a client for it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    data_dir: PathBuf,
    _owned_dir: Option<Arc<tempfile::TempDir>>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

pub async fn spawn_app() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let path = dir.path().to_owned();
    spawn_app_at(&path, Some(dir), ManualClock::new(T0)).await
}

pub async fn spawn_app_at(
    data_dir: &Path,
    owned_dir: Option<Arc<tempfile::TempDir>>,
    clock: ManualClock,
) -> TestApp {
    let mut config = Config::defaults();
    config.storage.path = data_dir.to_owned();
    config.storage.cache_capacity_mb = 16;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server_clock = Arc::new(clock.clone());
    let server = tokio::spawn(async move {
        convene::run_with_clock(listener, config, server_clock, async {
            let _ = stopped.await;
        })
        .await
        .expect("server failed");
    });
    TestApp {
        address,
        client: Client::new(),
        clock,
        data_dir: data_dir.to_owned(),
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
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

    /// Creates a meeting and returns the creation response body.
    pub async fn create_meeting(&self, key: &str, body: &Value) -> Value {
        let response = self.post_json("/api/meetings", Some(key), body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }
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
