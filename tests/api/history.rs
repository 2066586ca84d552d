//! Meeting history (onepizza §8) over the real server: a meeting's duration comes from the
//! log's clock (moved by hand here), its peak from the participants who joined over `/ws`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};
use crate::ws::Client;

/// A `/ws` client (JSON frames) that has joined `meeting_id` as `name`.
pub(crate) async fn join(app: &TestApp, meeting_id: &str, name: &str) -> Client {
    let mut client = Client::connect(app, false).await;
    client
        .send(json!({"event": "join-meeting", "data": {"meetingId": meeting_id, "name": name}}))
        .await;
    client.expect("joined").await;
    client
}

#[tokio::test]
async fn an_ended_meeting_shows_its_duration_peak_and_cost() {
    let app = spawn_app().await;
    let key = app.register("history@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Retro"})).await;
    let id = meeting["meetingId"].as_str().unwrap();
    let token = meeting["adminToken"].as_str().unwrap();

    let ada = join(&app, id, "Ada").await;
    let bob = join(&app, id, "Bob").await;
    app.clock.advance(30 * 60_000);
    let ended = app
        .delete(&format!("/api/meetings/{id}"), &key, Some(token))
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    drop((ada, bob));

    let history = app
        .eventually("/api/meetings/history", &key, |body| {
            body["meetings"].as_array().is_some_and(|m| !m.is_empty())
        })
        .await;
    let entry = &history["meetings"][0];
    assert_eq!(entry["id"], 1);
    assert_eq!(entry["meeting_id"], id);
    assert_eq!(entry["title"], "Retro");
    assert_eq!(entry["duration_minutes"], "30.00");
    assert_eq!(entry["peak_participants"], 2);
    // 30 minutes × 2 participants × $0.004.
    assert_eq!(entry["cost_usd"], "0.2400");
    assert!(entry["started_at"].as_str().unwrap().ends_with('Z'));

    // Another account's history is its own, and empty.
    let other = app.register("someone-else@example.com").await;
    let body: Value = app
        .get("/api/meetings/history", Some(&other))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({"meetings": []}));

    let bad = app.get("/api/meetings/history?limit=0", Some(&key)).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "limit must be a whole number").await;
    let anonymous = app.get("/api/meetings/history", None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
