use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn an_instant_meeting_has_the_seed_shape() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let body = app
        .create_meeting(&key, &json!({"title": "Team Standup", "muteOnJoin": true}))
        .await;
    let id = body["meetingId"].as_str().unwrap();
    assert!(convene_events::MeetingId::parse(id).is_ok(), "{id}");
    assert_eq!(body["joinUrl"], format!("/join/{id}"));
    assert_eq!(body["title"], "Team Standup");
    assert_eq!(body["status"], "active");
    assert_eq!(body["adminToken"].as_str().unwrap().len(), 64);
    assert_eq!(
        body["settings"],
        json!({"muteOnJoin": true, "videoOffOnJoin": false, "maxParticipants": 50,
               "locked": false, "waitingRoom": false})
    );
    assert!(body.get("scheduledAt").is_none());

    let detail: Value = app
        .get(&format!("/api/meetings/{id}"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["meetingId"], id);
    assert_eq!(detail["status"], "active");
    assert_eq!(detail["participantCount"], 0);
    assert_eq!(detail["participants"], json!([]));
    assert_eq!(detail["createdAt"], crate::helpers::T0);
    assert_eq!(detail["settings"]["muteOnJoin"], true);
}

#[tokio::test]
async fn defaults_apply_to_an_empty_body() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let response = app.post_raw("/api/meetings", Some(&key), "").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["title"], "Untitled Meeting");
    assert_eq!(body["settings"]["maxParticipants"], 50);
}

#[tokio::test]
async fn scheduled_meetings_are_listed_newest_first_with_their_time() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let first = app.create_meeting(&key, &json!({"title": "first"})).await;
    app.clock.advance(1_000);
    let scheduled = app
        .create_meeting(
            &key,
            &json!({"title": "Weekly Sync", "scheduledAt": "2026-04-01T14:00:00Z"}),
        )
        .await;
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(scheduled["scheduledAt"], "2026-04-01T14:00:00.000Z");
    app.clock.advance(1_000);
    let third = app.create_meeting(&key, &json!({"title": "third"})).await;

    let list: Value = app
        .get("/api/meetings", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["meetingId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            &third["meetingId"],
            &scheduled["meetingId"],
            &first["meetingId"]
        ]
        .map(|v| v.as_str().unwrap())
    );
    let entry = &list["meetings"][1];
    assert_eq!(entry["status"], "scheduled");
    assert_eq!(entry["scheduledAt"], "2026-04-01T14:00:00.000Z");
    assert_eq!(entry["participantCount"], 0);

    let only: Value = app
        .get("/api/meetings/scheduled/list", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    let only = only["meetings"].as_array().unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["meetingId"], scheduled["meetingId"]);
    assert_eq!(only[0]["title"], "Weekly Sync");
}

#[tokio::test]
async fn ending_needs_the_admin_token_and_cancels_scheduled_meetings() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let active = app.create_meeting(&key, &json!({})).await;
    let id = active["meetingId"].as_str().unwrap();
    let token = active["adminToken"].as_str().unwrap();
    let path = format!("/api/meetings/{id}");

    assert_error(
        app.delete(&path, &key, None).await,
        StatusCode::FORBIDDEN,
        "x-admin-token",
    )
    .await;
    assert_error(
        app.delete(&path, &key, Some("wrong")).await,
        StatusCode::FORBIDDEN,
        "invalid x-admin-token",
    )
    .await;
    let response = app.delete(&path, &key, Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Meeting ended");
    assert_eq!(body["reason"], "ended_by_host");
    assert_error(
        app.delete(&path, &key, Some(token)).await,
        StatusCode::CONFLICT,
        "already ended",
    )
    .await;

    // Gone from the list, still readable as ended.
    let list: Value = app
        .get("/api/meetings", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meetings"], json!([]));
    let detail: Value = app.get(&path, Some(&key)).await.json().await.unwrap();
    assert_eq!(detail["status"], "ended");

    let scheduled = app
        .create_meeting(&key, &json!({"scheduledAt": "2026-03-02T09:00:00+01:00"}))
        .await;
    let path = format!("/api/meetings/{}", scheduled["meetingId"].as_str().unwrap());
    let response = app
        .delete(&path, &key, scheduled["adminToken"].as_str())
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Meeting cancelled");
    assert_eq!(body["reason"], "cancelled");
    let only: Value = app
        .get("/api/meetings/scheduled/list", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only["meetings"], json!([]));
}

#[tokio::test]
async fn another_account_sees_404_for_my_meeting() {
    let app = spawn_app().await;
    let mine = app.register("me@example.com").await;
    let theirs = app.register("them@example.com").await;
    let meeting = app
        .create_meeting(&mine, &json!({"title": "private"}))
        .await;
    let id = meeting["meetingId"].as_str().unwrap();
    let path = format!("/api/meetings/{id}");
    let token = meeting["adminToken"].as_str().unwrap();

    // Exactly the answer an unknown meeting gets, even with the right admin token.
    let unknown = app.get("/api/meetings/zzz-zzzz-zzz", Some(&theirs)).await;
    let unknown_body = assert_error(unknown, StatusCode::NOT_FOUND, "meeting not found").await;
    let response = app.get(&path, Some(&theirs)).await;
    assert_eq!(
        assert_error(response, StatusCode::NOT_FOUND, "").await,
        unknown_body
    );
    let response = app.delete(&path, &theirs, Some(token)).await;
    assert_error(response, StatusCode::NOT_FOUND, "meeting not found").await;
    let list: Value = app
        .get("/api/meetings", Some(&theirs))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meetings"], json!([]));

    // And it is untouched.
    let detail: Value = app.get(&path, Some(&mine)).await.json().await.unwrap();
    assert_eq!(detail["status"], "active");
}

/// The list is served from a cache keyed by the meeting directory's position; every write that
/// changes a listed field must show in the very next list.
#[tokio::test]
async fn the_cached_list_follows_every_write() {
    let app = spawn_app().await;
    let key = app.register("lists@example.com").await;
    let titles = |list: Value| -> Vec<String> {
        list["meetings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = || async {
        app.get("/api/meetings", Some(&key))
            .await
            .json::<Value>()
            .await
            .unwrap()
    };

    let first = app.create_meeting(&key, &json!({"title": "First"})).await;
    assert_eq!(titles(list().await), ["First"]);
    assert_eq!(
        titles(list().await),
        ["First"],
        "a repeated read is the same"
    );

    // Newest first: the second meeting is a second younger (the test clock stands still).
    app.clock.advance(1_000);
    let second = app.create_meeting(&key, &json!({"title": "Second"})).await;
    assert_eq!(titles(list().await), ["Second", "First"]);

    let renamed = app
        .client
        .patch(app.url(&format!(
            "/api/meetings/{}/settings",
            second["meetingId"].as_str().unwrap()
        )))
        .header("x-api-key", &key)
        .header("x-admin-token", second["adminToken"].as_str().unwrap())
        .json(&json!({"title": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(titles(list().await), ["Renamed", "First"]);

    let path = format!("/api/meetings/{}", first["meetingId"].as_str().unwrap());
    let ended = app.delete(&path, &key, first["adminToken"].as_str()).await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(titles(list().await), ["Renamed"]);

    let other = app.register("other-lists@example.com").await;
    let theirs: Value = app
        .get("/api/meetings", Some(&other))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs["meetings"],
        json!([]),
        "another workspace's cache is its own"
    );
}
