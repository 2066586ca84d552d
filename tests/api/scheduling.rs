//! Guest meetings and the scheduler (onepizza §4, §5): activation at scheduledAt, across a
//! restart, and expiry of empty guest meetings. Time is the test's clock: a test moves it and
//! runs the scheduler ([`TestApp::run_scheduler`]), as its timer would, then looks.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, T0};

const MINUTE: i64 = 60_000;

#[tokio::test]
async fn a_scheduled_meeting_activates_by_itself_at_its_time() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let body = app
        .create_meeting(
            &key,
            &json!({"title": "Weekly Sync", "scheduledAt": "2026-03-01T12:30:00Z"}),
        )
        .await;
    let id = body["meetingId"].as_str().unwrap();
    let path = format!("/api/meetings/{id}");
    // A witness due a minute earlier: it is active once the scheduler has run at 12:29.
    let witness = app
        .create_meeting(&key, &json!({"scheduledAt": "2026-03-01T12:29:00Z"}))
        .await;
    app.clock.advance(29 * MINUTE);
    app.run_scheduler().await;
    let witness_path = format!("/api/meetings/{}", witness["meetingId"].as_str().unwrap());
    assert_eq!(app.get_json(&witness_path, &key).await["status"], "active");
    let detail: Value = app.get(&path, Some(&key)).await.json().await.unwrap();
    assert_eq!(detail["status"], "scheduled", "its time has not come");

    app.clock.advance(MINUTE);
    app.run_scheduler().await;
    assert_eq!(app.get_json(&path, &key).await["status"], "active");
    let scheduled: Value = app
        .get("/api/meetings/scheduled/list", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(scheduled["meetings"], json!([]));
}

#[tokio::test]
async fn a_meeting_due_while_the_server_was_down_activates_at_start_up() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let body = app
        .create_meeting(&key, &json!({"scheduledAt": "2026-03-01T13:00:00Z"}))
        .await;
    let id = body["meetingId"].as_str().unwrap().to_owned();
    let clock = app.clock.clone();
    let mut app = app;
    app.shutdown().await;
    clock.set(T0 + 3 * 60 * MINUTE);
    // The server runs the scheduler before it accepts connections: no run of the test's own.
    let app = app.restart().await;
    let detail = app.get_json(&format!("/api/meetings/{id}"), &key).await;
    assert_eq!(detail["status"], "active");
}

#[tokio::test]
async fn a_cancelled_scheduled_meeting_never_activates() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let body = app
        .create_meeting(&key, &json!({"scheduledAt": "2026-03-01T12:10:00Z"}))
        .await;
    let id = body["meetingId"].as_str().unwrap();
    let token = body["adminToken"].as_str().unwrap();
    let response = app
        .delete(&format!("/api/meetings/{id}"), &key, Some(token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let witness = app
        .create_meeting(&key, &json!({"scheduledAt": "2026-03-01T12:10:00Z"}))
        .await;
    app.clock.advance(20 * MINUTE);
    app.run_scheduler().await;
    let witness_path = format!("/api/meetings/{}", witness["meetingId"].as_str().unwrap());
    assert_eq!(app.get_json(&witness_path, &key).await["status"], "active");
    let response = app.get(&format!("/api/meetings/{id}"), Some(&key)).await;
    let detail: Value = response.json().await.unwrap();
    assert_eq!(detail["status"], "ended");
    // Cancelled, not activated then ended: ending it again is refused as already ended.
    let response = app
        .delete(&format!("/api/meetings/{id}"), &key, Some(token))
        .await;
    assert_error(response, StatusCode::CONFLICT, "already ended").await;
}

#[tokio::test]
async fn guest_meetings_need_no_account_and_survive_a_restart() {
    let app = spawn_app().await;
    let response = app
        .post_json("/api/meetings/guest", None, &json!({"title": "Quick Sync"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let id = body["meetingId"].as_str().unwrap().to_owned();
    assert_eq!(body["title"], "Quick Sync");
    assert_eq!(body["joinUrl"], format!("/join/{id}"));
    let token = body["adminToken"].as_str().unwrap().to_owned();

    let untitled: Value = app
        .post_json("/api/meetings/guest", None, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(untitled["title"], "Quick Meeting");

    // No account lists it; its admin token alone controls it, also after a restart.
    let key = app.register("someone@example.com").await;
    let listed: Value = app
        .get("/api/meetings", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["meetings"], json!([]));
    let app = app.restart().await;
    let response = app
        .client
        .post(app.url(&format!("/api/meetings/{id}/lock")))
        .header("x-admin-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .client
        .post(app.url(&format!("/api/meetings/{id}/lock")))
        .header("x-admin-token", "wrong")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::FORBIDDEN, "invalid x-admin-token").await;
    // A signed-in browser sends its cookie along; the admin token still decides.
    let session = app.login("someone@example.com", "secret123").await;
    let response = app
        .with_session(
            reqwest::Method::POST,
            &format!("/api/meetings/{id}/unlock"),
            &session,
        )
        .header("x-admin-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_empty_guest_meeting_expires() {
    let app = spawn_app().await;
    let body: Value = app
        .post_json("/api/meetings/guest", None, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let id = body["meetingId"].as_str().unwrap().to_owned();
    let token = body["adminToken"].as_str().unwrap().to_owned();
    app.clock.advance(30 * MINUTE);
    app.run_scheduler().await;
    // Expired: host actions meet an ended meeting.
    let response = app
        .client
        .post(app.url(&format!("/api/meetings/{id}/lock")))
        .header("x-admin-token", &token)
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::CONFLICT, "already ended").await;
}

#[tokio::test]
async fn guest_titles_are_validated() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/meetings/guest",
            None,
            &json!({"title": "x".repeat(201)}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "title").await;
    let response = app
        .post_json(
            "/api/meetings/guest",
            None,
            &json!({"scheduledAt": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "unknown field `scheduledAt`",
    )
    .await;
}
