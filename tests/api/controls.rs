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

/// Puts `name` into the meeting through its actor, as the realtime channel's join will (the
/// join is decided and logged like any other command; only the transport is skipped).
async fn join(app: &TestApp, meeting_id: &str, participant_id: &str, name: &str) {
    let id = convene_events::MeetingId::parse(meeting_id).unwrap();
    let command = convene_actors::MeetingCommand::Join {
        participant_id: participant_id.into(),
        name: name.into(),
        invite_token: None,
        host_token: None,
        waiting: convene_actors::WaitingRule::AsSet,
    };
    let outcome = app
        .state()
        .registry
        .execute(&id, command, convene_events::Actor::System)
        .await
        .expect("join");
    app.state().caught_up(outcome.last_seq).await.unwrap();
}

/// `(kind, actor)` of the meeting's events, in log order.
fn logged(app: &TestApp, meeting_id: &str) -> Vec<(String, convene_events::Actor)> {
    let id = convene_events::MeetingId::parse(meeting_id).unwrap();
    app.state()
        .log
        .read_stream(&id.stream(), 1)
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.actor))
        .collect()
}

#[tokio::test]
async fn mute_unmute_kick_and_mute_all_act_on_participants_and_log_who_did_it() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    let (id, token) = meeting(&app, &key).await;
    join(&app, &id, "p-ada", "Ada").await;
    join(&app, &id, "p-bob", "Bob").await;
    join(&app, &id, "p-cy", "Cy").await;
    let control = |verb: &str, participant: &str, body: Value| {
        let path = format!("/api/meetings/{id}/participants/{participant}/{verb}");
        let (app, key, token) = (&app, &key, &token);
        async move { host(app, Method::POST, &path, key, Some(token), body).await }
    };

    let muted = control("mute", "p-ada", json!({})).await;
    assert_eq!(muted.status(), StatusCode::OK);
    let muted: Value = muted.json().await.unwrap();
    assert_eq!(
        muted,
        json!({"message": "Participant muted", "participantId": "p-ada"})
    );

    let asked = control("unmute", "p-ada", json!({})).await;
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(
        asked,
        json!({"message": "Unmute requested", "participantId": "p-ada"})
    );

    let kicked = control("kick", "p-bob", json!({"reason": "off topic"})).await;
    let kicked: Value = kicked.json().await.unwrap();
    assert_eq!(
        kicked,
        json!({"message": "Participant removed", "participantId": "p-bob"})
    );
    let again = control("kick", "p-bob", json!({})).await;
    assert_error(again, StatusCode::NOT_FOUND, "participant not found").await;

    let all = host(
        &app,
        Method::POST,
        &format!("/api/meetings/{id}/mute-all"),
        &key,
        Some(&token),
        json!({}),
    )
    .await;
    let all: Value = all.json().await.unwrap();
    assert_eq!(
        all,
        json!({"message": "All participants muted", "count": 2})
    );

    let detail: Value = app
        .get(&format!("/api/meetings/{id}"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    let participants: Vec<(String, bool)> = detail["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["isMuted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        participants,
        [("Ada".to_owned(), true), ("Cy".to_owned(), true)]
    );
    assert_eq!(detail["participantCount"], 2);

    // Each control is an event, attributed to the API key that sent it.
    let by_key: Vec<String> = logged(&app, &id)
        .into_iter()
        .filter(|(_, actor)| matches!(actor, convene_events::Actor::ApiKey { .. }))
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(
        by_key,
        [
            "meeting.created",
            "meeting.activated",
            "meeting.participant_muted",
            "meeting.unmute_requested",
            "meeting.participant_kicked",
            "meeting.all_muted",
        ]
    );
}
