//! Every documented 4xx, and that bad input changes nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn api_key_problems_are_401() {
    let app = spawn_app().await;
    assert_error(
        app.get("/api/meetings", None).await,
        StatusCode::UNAUTHORIZED,
        "missing x-api-key",
    )
    .await;
    assert_error(
        app.get("/api/meetings", Some("mk_not_a_real_key")).await,
        StatusCode::UNAUTHORIZED,
        "invalid api key",
    )
    .await;
    let response = app.post_json("/api/meetings", None, &json!({})).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "missing x-api-key").await;
}

#[tokio::test]
async fn bad_meeting_requests_are_400_and_create_nothing() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    for (body, needle) in [
        (r#"{"title": "#, "malformed json"),
        ("not json at all", "malformed json"),
        ("[1, 2]", "request body must be a json object"),
        ("42", "request body must be a json object"),
        (
            r#"{"maxParticipants": "ten"}"#,
            "invalid value for maxParticipants",
        ),
        (
            r#"{"maxParticipants": -1}"#,
            "invalid value for maxParticipants",
        ),
        (
            r#"{"maxParticipants": 0}"#,
            "maxParticipants must be between 1 and 500",
        ),
        (
            r#"{"maxParticipants": 100000}"#,
            "maxParticipants must be between 1 and 500",
        ),
        (r#"{"muteOnJoin": "yes"}"#, "invalid value for muteOnJoin"),
        (r#"{"title": 5}"#, "invalid value for title"),
        (
            r#"{"scheduledAt": "next tuesday"}"#,
            "scheduledAt must be an ISO 8601",
        ),
        (
            r#"{"scheduledAt": "2026-02-28T12:00:00Z"}"#,
            "scheduledAt must be in the future",
        ),
        (
            r#"{"scheduledAt": "2026-03-01T12:00:00Z"}"#,
            "scheduledAt must be in the future",
        ),
        (
            r#"{"schedule": "2026-04-01T12:00:00Z"}"#,
            "unknown field `schedule`",
        ),
    ] {
        let response = app.post_raw("/api/meetings", Some(&key), body).await;
        assert_error(response, StatusCode::BAD_REQUEST, needle).await;
    }
    let long_title = json!({"title": "x".repeat(201)}).to_string();
    let response = app.post_raw("/api/meetings", Some(&key), long_title).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "title must be at most 200",
    )
    .await;

    let list: Value = app
        .get("/api/meetings", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meetings"], json!([]));
}

#[tokio::test]
async fn oversize_bodies_are_413_with_or_without_a_length() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let big = format!(r#"{{"title": "{}"}}"#, "a".repeat(70_000));
    let response = app.post_raw("/api/meetings", Some(&key), big.clone()).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "65536 bytes").await;
    // A streamed body has no Content-Length; the limit still holds.
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(8192)
        .map(|c| Ok(String::from_utf8(c.to_vec()).unwrap()))
        .collect();
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let response = app.post_raw("/api/meetings", Some(&key), stream).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "65536 bytes").await;
    let response = app.post_raw("/api/auth/register", None, big).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "65536 bytes").await;
}

#[tokio::test]
async fn unknown_meetings_routes_and_methods() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    for path in [
        "/api/meetings/abc-defg-hij",
        "/api/meetings/not-an-id",
        "/api/meetings/%00",
    ] {
        assert_error(
            app.get(path, Some(&key)).await,
            StatusCode::NOT_FOUND,
            "meeting not found",
        )
        .await;
    }
    let response = app
        .delete("/api/meetings/abc-defg-hij", &key, Some("token"))
        .await;
    assert_error(response, StatusCode::NOT_FOUND, "meeting not found").await;
    assert_error(
        app.get("/api/nothing-here", None).await,
        StatusCode::NOT_FOUND,
        "no such endpoint",
    )
    .await;
    let response = app
        .client
        .put(app.url("/api/meetings"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["allow"],
        "GET, POST, OPTIONS",
        "a 405 names the methods the path answers"
    );
    assert_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
    )
    .await;
    let health: Value = app.get("/healthz", None).await.json().await.unwrap();
    assert_eq!(health, json!({"status": "ok"}));
}
