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

/// Nobody is connected to a server that has just started: participants the log still lists
/// (the last run stopped without their leaves) are logged as disconnected.
#[tokio::test]
async fn participants_do_not_outlive_a_restart() {
    let app = spawn_app().await;
    let key = app.register("stale@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "crashy"})).await;
    let id = meeting["meetingId"].as_str().unwrap().to_owned();
    let meeting_id = convene_events::MeetingId::parse(&id).unwrap();
    let join = convene_actors::MeetingCommand::Join {
        participant_id: "p-ghost".into(),
        name: "Ghost".into(),
        invite_token: None,
        host_token: None,
        waiting: convene_actors::WaitingRule::AsSet,
    };
    let outcome = app
        .state()
        .registry
        .execute(&meeting_id, join, convene_events::Actor::System)
        .await
        .unwrap();
    app.state().caught_up(outcome.last_seq).await.unwrap();

    let app = app.restart().await;
    let detail: Value = app
        .get(&format!("/api/meetings/{id}"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["participants"], json!([]));
    assert_eq!(detail["participantCount"], 0);
    let last = app
        .state()
        .log
        .read_stream(&meeting_id.stream(), 1)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.kind, "meeting.participant_left");
}
