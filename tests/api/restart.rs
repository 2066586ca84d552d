use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn everything_survives_a_restart_on_the_same_data_dir() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let active = app.create_meeting(&key, &json!({"title": "kept"})).await;
    app.clock.advance(1_000);
    let scheduled = app
        .create_meeting(
            &key,
            &json!({"title": "later", "scheduledAt": "2026-05-01T10:00:00Z"}),
        )
        .await;
    let before: Value = app
        .get("/api/meetings", Some(&key))
        .await
        .json()
        .await
        .unwrap();

    let app = app.restart().await;

    // The key, the list and each meeting are as they were.
    let after: Value = app
        .get("/api/meetings", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(after["meetings"].as_array().unwrap().len(), 2);
    let detail: Value = app
        .get(
            &format!("/api/meetings/{}", scheduled["meetingId"].as_str().unwrap()),
            Some(&key),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["status"], "scheduled");
    // The admin token still works: the rehydrated actor knows its hash.
    let response = app
        .delete(
            &format!("/api/meetings/{}", active["meetingId"].as_str().unwrap()),
            &key,
            active["adminToken"].as_str(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // And the email is still taken.
    let response = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": "host@example.com", "password": "secret123"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}
