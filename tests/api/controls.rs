//! Host controls: settings, lock, unlock, invite, participant controls (onepizza §6, §7).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

/// Sends a host request with an API key and (optionally) an admin token.
async fn host(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    admin_token: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("x-api-key", key)
        .json(&body);
    if let Some(token) = admin_token {
        request = request.header("x-admin-token", token);
    }
    request.send().await.unwrap()
}

async fn meeting(app: &TestApp, key: &str) -> (String, String) {
    let body = app.create_meeting(key, &json!({"title": "Standup"})).await;
    (
        body["meetingId"].as_str().unwrap().to_owned(),
        body["adminToken"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn settings_change_live_and_show_in_the_detail() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let (id, token) = meeting(&app, &key).await;
    let response = host(
        &app,
        Method::PATCH,
        &format!("/api/meetings/{id}/settings"),
        &key,
        Some(&token),
        json!({"title": "Retro", "muteOnJoin": true, "maxParticipants": 8, "waitingRoom": true}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["title"], "Retro");
    assert_eq!(
        body["settings"],
        json!({"muteOnJoin": true, "videoOffOnJoin": false, "maxParticipants": 8,
               "locked": false, "waitingRoom": true})
    );
    let detail: Value = app
        .get(&format!("/api/meetings/{id}"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["title"], "Retro");
    assert_eq!(detail["settings"], body["settings"]);
}

#[tokio::test]
async fn bad_settings_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let (id, token) = meeting(&app, &key).await;
    let path = format!("/api/meetings/{id}/settings");
    for (body, needle) in [
        (json!({"locked": "yes"}), "invalid value for locked"),
        (
            json!({"maxParticipants": 0}),
            "maxParticipants must be between 1 and 500",
        ),
        (
            json!({"maxParticipants": -3}),
            "invalid value for maxParticipants",
        ),
        (json!({"colour": "red"}), "unknown field `colour`"),
        (json!({"title": "   "}), "title must not be empty"),
    ] {
        let response = host(&app, Method::PATCH, &path, &key, Some(&token), body).await;
        assert_error(response, StatusCode::BAD_REQUEST, needle).await;
    }
    let response = host(
        &app,
        Method::PATCH,
        &path,
        &key,
        None,
        json!({"locked": true}),
    )
    .await;
    assert_error(response, StatusCode::FORBIDDEN, "missing x-admin-token").await;
    let response = host(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some("nope"),
        json!({"locked": true}),
    )
    .await;
    assert_error(response, StatusCode::FORBIDDEN, "invalid x-admin-token").await;
    let detail: Value = app
        .get(&format!("/api/meetings/{id}"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["title"], "Standup");
    assert_eq!(detail["settings"]["locked"], false);
}

#[tokio::test]
async fn lock_and_unlock() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let (id, token) = meeting(&app, &key).await;
    for (verb, locked) in [("lock", true), ("unlock", false), ("lock", true)] {
        let response = host(
            &app,
            Method::POST,
            &format!("/api/meetings/{id}/{verb}"),
            &key,
            Some(&token),
            json!({}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["locked"], locked);
    }
}

#[tokio::test]
async fn invites_are_one_use_links_with_the_name_encoded() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let (id, token) = meeting(&app, &key).await;
    let response = host(
        &app,
        Method::POST,
        &format!("/api/meetings/{id}/invite"),
        &key,
        Some(&token),
        json!({"name": "Bob & Co"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let invite = body["inviteToken"].as_str().unwrap();
    assert_eq!(invite.len(), 64);
    assert_eq!(
        body["joinUrl"],
        format!("/join/{id}?invite={invite}&name=Bob+%26+Co")
    );
    let response = host(
        &app,
        Method::POST,
        &format!("/api/meetings/{id}/invite"),
        &key,
        Some(&token),
        json!({"name": "x".repeat(101)}),
    )
    .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "name must be at most 100 characters",
    )
    .await;
}

#[tokio::test]
async fn participant_controls_answer_404_for_someone_not_in_the_meeting() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let (id, token) = meeting(&app, &key).await;
    for verb in ["mute", "unmute", "kick"] {
        let response = host(
            &app,
            Method::POST,
            &format!("/api/meetings/{id}/participants/a1b2c3/{verb}"),
            &key,
            Some(&token),
            json!({}),
        )
        .await;
        assert_error(response, StatusCode::NOT_FOUND, "participant not found").await;
    }
    let response = host(
        &app,
        Method::POST,
        &format!("/api/meetings/{id}/mute-all"),
        &key,
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["count"], 0);
}

#[tokio::test]
async fn another_tenant_cannot_control_a_meeting_even_with_its_token() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com").await;
    let intruder = app.register("intruder@example.com").await;
    let (id, token) = meeting(&app, &owner).await;
    for (method, path) in [
        (Method::PATCH, format!("/api/meetings/{id}/settings")),
        (Method::POST, format!("/api/meetings/{id}/lock")),
        (Method::POST, format!("/api/meetings/{id}/invite")),
        (Method::POST, format!("/api/meetings/{id}/mute-all")),
        (
            Method::POST,
            format!("/api/meetings/{id}/participants/p1/kick"),
        ),
        (Method::DELETE, format!("/api/meetings/{id}")),
    ] {
        let response = host(&app, method, &path, &intruder, Some(&token), json!({})).await;
        assert_error(response, StatusCode::NOT_FOUND, "meeting not found").await;
    }
    // And without any credentials: 401, not a hint.
    let response = app
        .client
        .post(app.url(&format!("/api/meetings/{id}/lock")))
        .header("x-admin-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_ended_meeting_takes_no_more_controls() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let (id, token) = meeting(&app, &key).await;
    app.delete(&format!("/api/meetings/{id}"), &key, Some(&token))
        .await;
    let response = host(
        &app,
        Method::POST,
        &format!("/api/meetings/{id}/lock"),
        &key,
        Some(&token),
        json!({}),
    )
    .await;
    assert_error(response, StatusCode::CONFLICT, "already ended").await;
}

#[tokio::test]
async fn a_session_can_control_its_meetings() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let session = app.login("host@example.com", "secret123").await;
    let (id, token) = meeting(&app, &key).await;
    let response = app
        .with_session(Method::POST, &format!("/api/meetings/{id}/lock"), &session)
        .header("x-admin-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
