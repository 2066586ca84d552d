//! Client error telemetry and its aggregate for administrators (onepizza §18).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, TestApp};

async fn report(app: &TestApp, key: Option<&str>, body: Value) -> reqwest::Response {
    app.post_json("/api/telemetry/error", key, &body).await
}

/// The admin's view, once it shows `total` reports.
async fn errors_when(app: &TestApp, admin: &str, query: &str, total: u64) -> Value {
    for _ in 0..250 {
        let body = app
            .session_json(&format!("/admin/api/analytics/errors{query}"), admin)
            .await;
        let seen: u64 = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|e| e["count"].as_u64().unwrap())
            .sum();
        if seen == total {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the analytics never showed {total} reports");
}

#[tokio::test]
async fn reported_errors_are_grouped_for_administrators() {
    let app = spawn_app_with(|config| {
        config.auth.admin_email = "admin@example.com".into();
        config.auth.admin_password = "admin-password".into();
    })
    .await;
    let key = app.register("reporter@example.com").await;
    let ice =
        json!({"eventType": "error.webrtc", "route": "/join", "message": "ICE connection failed"});
    for who in [None, Some(key.as_str())] {
        assert_eq!(
            report(&app, who, ice.clone()).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let other = json!({"eventType": "error.media", "route": "/m/abc", "message": "camera denied"});
    assert_eq!(
        report(&app, None, other).await.status(),
        StatusCode::ACCEPTED
    );
    for (body, needle) in [
        (
            json!({"eventType": "webrtc", "route": "/join", "message": "x"}),
            "eventType must look like",
        ),
        (
            json!({"eventType": "error.webrtc", "route": "join", "message": "x"}),
            "route must start with /",
        ),
        (
            json!({"eventType": "error.webrtc", "route": "/join", "message": " "}),
            "message must be",
        ),
    ] {
        assert_error(
            report(&app, None, body).await,
            StatusCode::BAD_REQUEST,
            needle,
        )
        .await;
    }

    let admin = app.login("admin@example.com", "admin-password").await;
    let body = errors_when(&app, &admin, "", 3).await;
    assert_eq!(body["days"], 30);
    assert_eq!(body["errors"][0]["event_type"], "error.webrtc");
    assert_eq!(body["errors"][0]["route"], "/join");
    assert_eq!(body["errors"][0]["count"], 2);
    assert_eq!(body["errors"][1]["count"], 1);

    // Forty days later they are outside the default window, not outside a longer one.
    app.clock.advance(40 * 86_400_000);
    // (The session expired meanwhile.)
    let admin = app.login("admin@example.com", "admin-password").await;
    errors_when(&app, &admin, "", 0).await;
    errors_when(&app, &admin, "?days=60", 3).await;

    let key = app.register("not-admin@example.com").await;
    let response = app.get("/admin/api/analytics/errors", Some(&key)).await;
    assert_error(response, StatusCode::FORBIDDEN, "administrators only").await;
    let response = app
        .session_send(
            reqwest::Method::GET,
            "/admin/api/analytics/errors?days=0",
            &admin,
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "days must be").await;
}
