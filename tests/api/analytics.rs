//! Client error telemetry and its aggregate for administrators (onepizza §18).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cli::convene;
use crate::helpers::{assert_error, poll_until, spawn_app_with, TestApp};
use crate::ws::Client;

async fn report(app: &TestApp, key: Option<&str>, body: Value) -> reqwest::Response {
    app.post_json("/api/telemetry/error", key, &body).await
}

/// The admin's view, once it shows `total` reports.
async fn errors_when(app: &TestApp, admin: &str, query: &str, total: u64) -> Value {
    let path = format!("/admin/api/analytics/errors{query}");
    analytics_when(app, admin, &path, |body| {
        body["errors"].as_array().is_some_and(|errors| {
            errors
                .iter()
                .filter_map(|e| e["count"].as_u64())
                .sum::<u64>()
                == total
        })
    })
    .await
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
    assert_rebuilds_equal(app, "analytics_errors").await;
}

/// Stops the server and folds `projection` again from its log: it must equal the live one.
async fn assert_rebuilds_equal(mut app: TestApp, projection: &str) {
    app.shutdown().await;
    let data = app.data_dir().to_str().unwrap().to_owned();
    let rebuild = || {
        convene(&[
            "projections",
            "rebuild",
            "--name",
            projection,
            "--data",
            &data,
        ])
    };
    // The server's stop closed its realtime connections and waited for them: the store is
    // free at once.
    let rebuilt = rebuild();
    let stdout = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(
        rebuilt.status.success() && stdout.contains("equal to the live read model"),
        "{stdout}{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
}

/// Polls an admin analytics endpoint until `done` holds for its body.
async fn analytics_when(
    app: &TestApp,
    admin: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    poll_until(path, || async {
        let body = app.session_json(path, admin).await;
        done(&body).then_some(body)
    })
    .await
}

fn feature<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["features"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|f| f["feature"] == name)
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[tokio::test]
async fn a_meeting_shows_in_realtime_features_peak_hours_and_retention() {
    let app = spawn_app_with(|config| {
        config.auth.admin_email = "admin@example.com".into();
        config.auth.admin_password = "admin-password".into();
    })
    .await;
    let admin = app.login("admin@example.com", "admin-password").await;
    let key = app.register("usage@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Usage"})).await;
    let (id, token) = (meeting["meetingId"].clone(), meeting["adminToken"].clone());

    let mut host = Client::connect(&app, false).await;
    host.send(json!({"event": "join-meeting", "data": {"meetingId": id, "name": "Ada", "isAdmin": true, "adminToken": token}}))
        .await;
    host.expect("joined").await;
    host.send(json!({"event": "host:settings", "data": {"waitingRoom": true}, "ack": 1}))
        .await;
    while host.next().await.expect("an ack") != json!({"ack": 1, "data": {"ok": true}}) {}
    // A guest waits, is admitted, and joins.
    let mut guest = Client::connect(&app, false).await;
    guest
        .send(json!({"event": "join-meeting", "data": {"meetingId": id, "name": "Bob"}}))
        .await;
    guest.expect("waiting-room:waiting").await;
    let waiting = host.expect("waiting-room:participant-waiting").await;
    host.send(json!({"event": "waiting-room:admit", "data": {"meetingId": id, "socketId": waiting["socketId"]}}))
        .await;
    guest.expect("waiting-room:admitted").await;
    guest
        .send(json!({"event": "join-meeting", "data": {"meetingId": id, "name": "Bob"}}))
        .await;
    guest.expect("joined").await;

    guest
        .send(json!({"event": "chat:message", "data": {"text": "hi"}}))
        .await;
    guest.expect("chat:message").await;
    for emoji in ["👍", "🎉", "👏"] {
        guest
            .send(json!({"event": "react", "data": {"emoji": emoji}}))
            .await;
        guest.expect("react").await;
    }
    guest
        .send(json!({"event": "raise-hand", "data": {"isHandRaised": true}}))
        .await;
    guest
        .send(json!({"event": "media:screen-share", "data": {"isScreenSharing": true}}))
        .await;
    host.send(json!({"event": "recording:broadcast-started", "data": {"hostName": "Ada"}}))
        .await;
    guest.expect("recording:started").await;

    // Realtime comes from the live actor: two people, one sharing, a recording announced.
    let live = analytics_when(&app, &admin, "/admin/api/analytics/realtime", |b| {
        b["activeScreenShares"] == 1
    })
    .await;
    assert_eq!(live["activeMeetings"], 1);
    assert_eq!(live["totalParticipants"], 2);
    assert_eq!(live["activeRecordings"], 1);
    assert_eq!(live["meetingList"][0]["id"], id);
    assert_eq!(live["meetingList"][0]["title"], "Usage");
    assert_eq!(live["meetingList"][0]["participantCount"], 2);
    assert_eq!(live["meetingList"][0]["isRecording"], true);

    // Reactions are counted when the guest leaves.
    guest.send(json!({"event": "leave-meeting"})).await;
    let features = analytics_when(&app, &admin, "/admin/api/analytics/features", |b| {
        feature(b, "reaction")["total_uses"] == 3
    })
    .await;
    assert_eq!(features["days"], 30);
    for (name, uses) in [
        ("reaction", 3),
        ("chat", 1),
        ("hand_raise", 1),
        ("screen_share", 1),
        ("recording", 1),
        ("waiting_room", 1),
    ] {
        let row = feature(&features, name);
        assert_eq!(row["total_uses"], uses, "{name}: {row}");
        assert_eq!(row["unique_users"], 1, "{name}: {row}");
        assert_eq!(row["active_days"], 1, "{name}: {row}");
    }
    // The busiest feature comes first.
    assert_eq!(features["features"][0]["feature"], "reaction");

    // T0 is Sunday 2026-03-01, 12:00 UTC: the meeting started then.
    let peaks = app
        .session_json("/admin/api/analytics/peak-hours", &admin)
        .await;
    assert_eq!(
        peaks,
        json!({"peakHours": [{"dow": 0, "hour": 12, "count": 1}], "days": 90})
    );

    // The account acted this week; the week before nobody did.
    let retention = app
        .session_json("/admin/api/analytics/retention?weeks=2", &admin)
        .await;
    assert_eq!(
        retention["retention"][0],
        json!({"week": "2026-02-23", "users": 2, "retained": 0})
    );
    assert_eq!(retention["retention"][1]["users"], 0);

    // A week later the same account returns (retained), the administrator logs in again (its
    // session expired; retained too) and a new account arrives (not retained).
    app.clock.advance(7 * 86_400_000);
    app.create_meeting(&key, &json!({"title": "Next week"}))
        .await;
    app.register("newcomer@example.com").await;
    let admin = app.login("admin@example.com", "admin-password").await;
    let retention = analytics_when(
        &app,
        &admin,
        "/admin/api/analytics/retention?weeks=2",
        |b| b["retention"][0]["users"] == 3,
    )
    .await;
    assert_eq!(
        retention["retention"][0],
        json!({"week": "2026-03-02", "users": 3, "retained": 2})
    );
    // The window moved: the first meeting's feature use is still inside 30 days, not inside 1.
    let today = app
        .session_json("/admin/api/analytics/features?days=1", &admin)
        .await;
    assert_eq!(feature(&today, "chat")["total_uses"], 0);

    let health = app
        .session_json("/admin/api/analytics/health", &admin)
        .await;
    assert_eq!(health["activeMeetings"], 2);
    assert!(health["logEvents"].as_u64().unwrap() > 10, "{health}");
    assert!(health["memoryMB"].as_f64().unwrap() > 0.0, "{health}");
    assert!(health["storageMB"].as_f64().is_some(), "{health}");
    let projections = health["projections"].as_array().unwrap();
    assert!(projections
        .iter()
        .any(|p| p["name"] == "proj/analytics_usage"));
    assert!(projections.iter().all(|p| p["error"].is_null()), "{health}");

    drop((host, guest));
    assert_rebuilds_equal(app, "analytics_usage").await;
}

#[tokio::test]
async fn usage_analytics_are_for_administrators_and_check_their_parameters() {
    let app = spawn_app_with(|config| {
        config.auth.admin_email = "admin@example.com".into();
        config.auth.admin_password = "admin-password".into();
    })
    .await;
    let key = app.register("not-admin@example.com").await;
    for path in ["features", "peak-hours", "retention", "realtime", "health"] {
        let path = format!("/admin/api/analytics/{path}");
        assert_error(app.get(&path, None).await, StatusCode::UNAUTHORIZED, "").await;
        assert_error(app.get(&path, Some(&key)).await, StatusCode::FORBIDDEN, "").await;
    }
    let admin = app.login("admin@example.com", "admin-password").await;
    for (path, needle) in [
        ("/admin/api/analytics/features?days=0", "days"),
        ("/admin/api/analytics/peak-hours?days=367", "days"),
        ("/admin/api/analytics/retention?weeks=0", "weeks"),
        ("/admin/api/analytics/retention?weeks=lots", "weeks"),
    ] {
        let response = app.session_send(reqwest::Method::GET, path, &admin).await;
        assert_error(response, StatusCode::BAD_REQUEST, needle).await;
    }
    // Nothing happened yet: every feature is listed, unused.
    let features = app
        .session_json("/admin/api/analytics/features", &admin)
        .await;
    assert_eq!(features["features"].as_array().unwrap().len(), 6);
    assert!(features["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["total_uses"] == 0 && f["unique_users"] == 0));
    let retention = app
        .session_json("/admin/api/analytics/retention", &admin)
        .await;
    assert_eq!(retention["retention"].as_array().unwrap().len(), 12);
}
