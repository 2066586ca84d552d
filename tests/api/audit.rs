//! Audit over HTTP: a meeting's events with sequence, hash and actor, paged; the meeting as it
//! was at a sequence or a time; the chain check for administrators only.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, TestApp};

async fn get_json(app: &TestApp, path: &str, key: &str) -> Value {
    let response = app.get(path, Some(key)).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_owner_reads_the_events_and_replays_the_meeting_to_any_point() {
    let app = spawn_app_with(|config| {
        config.auth.admin_email = "admin@example.com".into();
        config.auth.admin_password = "admin-password".into();
    })
    .await;
    let key = app.register("auditor@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Board"})).await;
    let id = meeting["meetingId"].as_str().unwrap();
    let token = meeting["adminToken"].as_str().unwrap();
    app.clock.advance(60_000);
    let locked = app
        .client
        .post(app.url(&format!("/api/meetings/{id}/lock")))
        .header("x-api-key", &key)
        .header("x-admin-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), StatusCode::OK);
    app.clock.advance(60_000);
    let ended = app
        .delete(&format!("/api/meetings/{id}"), &key, Some(token))
        .await;
    assert_eq!(ended.status(), StatusCode::OK);

    let all = get_json(&app, &format!("/api/meetings/{id}/events"), &key).await;
    let events = all["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "meeting.created",
            "meeting.activated",
            "meeting.settings_changed",
            "meeting.ended"
        ]
    );
    assert_eq!(all["nextAfter"], Value::Null);
    for event in events {
        assert_eq!(event["hash"].as_str().unwrap().len(), 64, "{event}");
        assert!(event["seq"].as_u64().unwrap() > 0);
    }
    assert_ne!(events[0]["actor"], Value::Null, "who did it is recorded");

    // Paged by stream version.
    let first = get_json(&app, &format!("/api/meetings/{id}/events?limit=2"), &key).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    assert_eq!(first["nextAfter"], 2);
    let rest = get_json(&app, &format!("/api/meetings/{id}/events?after=2"), &key).await;
    assert_eq!(rest["events"][0]["kind"], "meeting.settings_changed");

    // Just before the lock, the meeting was active and open; after everything, locked and ended.
    let lock_seq = events[2]["seq"].as_u64().unwrap();
    let before = get_json(
        &app,
        &format!("/api/meetings/{id}/state?seq={}", lock_seq - 1),
        &key,
    )
    .await;
    assert_eq!(before["eventsFolded"], 2);
    assert_eq!(before["state"]["settings"]["locked"], false);
    assert_eq!(before["state"]["status"], "active");
    let now = get_json(&app, &format!("/api/meetings/{id}/state"), &key).await;
    assert_eq!(now["state"]["settings"]["locked"], true);
    assert_eq!(now["state"]["status"], "ended");
    assert_eq!(now["lastSeq"], events[3]["seq"]);
    // By time: the lock was accepted one minute after creation.
    let created_at = events[0]["at"].as_str().unwrap();
    let at_creation = get_json(
        &app,
        &format!("/api/meetings/{id}/state?at={created_at}"),
        &key,
    )
    .await;
    assert_eq!(at_creation["state"]["settings"]["locked"], false);
    let long_ago = get_json(
        &app,
        &format!("/api/meetings/{id}/state?at=2000-01-01T00:00:00Z"),
        &key,
    )
    .await;
    assert_eq!(long_ago["state"], Value::Null, "it did not exist yet");

    // Bad input is a 400 naming the parameter; another workspace gets 404.
    for (query, needle) in [
        ("seq=0", "seq must be a whole number"),
        ("at=yesterday", "at:"),
        ("seq=3&at=2000-01-01T00:00:00Z", "not both"),
    ] {
        let response = app
            .get(&format!("/api/meetings/{id}/state?{query}"), Some(&key))
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, needle).await;
    }
    let response = app
        .get(&format!("/api/meetings/{id}/events?limit=0"), Some(&key))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "limit must be").await;
    let stranger = app.register("stranger@example.com").await;
    for path in ["events", "state"] {
        let response = app
            .get(&format!("/api/meetings/{id}/{path}"), Some(&stranger))
            .await;
        assert_error(response, StatusCode::NOT_FOUND, "meeting not found").await;
    }

    // The chain check is for administrators.
    let response = app.get("/admin/api/audit/verify", Some(&key)).await;
    assert_error(response, StatusCode::FORBIDDEN, "administrators only").await;
    let admin = app.login("admin@example.com", "admin-password").await;
    let check = app.session_json("/admin/api/audit/verify", &admin).await;
    assert_eq!(check["intact"], true);
    assert_eq!(check["violation"], Value::Null);
    assert!(check["checked"].as_u64().unwrap() >= events[3]["seq"].as_u64().unwrap());
}
