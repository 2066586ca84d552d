//! `/metrics` on a listener of its own (`metrics.address`): served there without a token, and
//! off the public port. The counters themselves are checked by an outside parser in
//! tests/metrics/ (run by .ci/run).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with};
use crate::ws::Client;

#[tokio::test]
async fn metrics_on_their_own_address_and_not_on_the_public_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let app = spawn_app_with(|config| config.metrics.address = address.clone()).await;
    let response = app.get("/metrics", None).await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        "metrics are off on this port",
    )
    .await;

    let key = app.register("gauged@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Gauged"})).await;
    let mut client = Client::connect(&app, false).await;
    client
        .send(json!({"event": "join-meeting", "data": {"meetingId": meeting["meetingId"], "name": "Ada"}}))
        .await;
    client.expect("joined").await;

    let text = app
        .client
        .get(format!("http://{address}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sample = |name: &str| {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse::<f64>().ok())
    };
    assert!(
        sample("convene_realtime_connections{wire=\"ws\"}").is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(sample("convene_meetings_live").is_some_and(|n| n >= 1.0));
    assert!(sample("convene_log_head_seq").is_some_and(|n| n >= 1.0));
}
