//! The EdCast developer API v1 (`/api/developer/v1`) and plans (issue 7): the seed's shapes and
//! errors, tenancy, the free plan's quota across a month boundary and its duration cap, meetings
//! ending by themselves, deactivation, and plan assignment by an administrator.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp};

const BASE: &str = "/api/developer/v1/meetings";
const MINUTE: i64 = 60_000;
/// 2026-03-31T23:50:00Z: ten minutes before April.
const MARCH_31_2350: i64 = 1_775_001_000_000;

async fn edcast(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(key) = key {
        request = request.header("X-API-Key", key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

async fn create(app: &TestApp, key: &str, body: Value) -> Value {
    let response = edcast(app, Method::POST, BASE, Some(key), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], true);
    body["data"].clone()
}

async fn list(app: &TestApp, key: &str) -> Value {
    let response = edcast(app, Method::GET, BASE, Some(key), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Asserts EdCast's error body exactly: `{success: false, error, message}`.
async fn assert_edcast_error(response: Response, status: StatusCode, error: &str) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(keys_of(&body), ["error", "message", "success"], "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["error"], error, "{body}");
    body["message"].as_str().unwrap().to_owned()
}

/// The object's keys, sorted.
fn keys_of(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

async fn spawn_with_admin() -> (TestApp, String) {
    let app = spawn_app_with(|config| {
        config.auth.admin_email = "admin@example.com".into();
        config.auth.admin_password = "admin-password".into();
    })
    .await;
    let admin = app.login("admin@example.com", "admin-password").await;
    (app, admin)
}

async fn account_id(app: &TestApp, email: &str) -> u64 {
    let session = app.login(email, "secret123").await;
    app.session_json("/api/auth/me", &session).await["id"]
        .as_u64()
        .unwrap()
}

async fn admin_post(app: &TestApp, admin: &str, path: &str, body: Value) -> Response {
    app.with_session(Method::POST, path, admin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn meetings_are_created_listed_and_deleted_in_the_seeds_shapes() {
    let app = spawn_app().await;
    let key = app.register("org@example.com").await;

    let instant = create(&app, &key, json!({})).await;
    assert_eq!(
        keys_of(&instant),
        [
            "created_at",
            "end_time",
            "id",
            "join_link",
            "meeting_code",
            "start_time",
            "title",
            "visibility"
        ]
    );
    let code = instant["meeting_code"].as_str().unwrap();
    assert!(instant["id"].is_u64());
    assert_eq!(instant["title"], "Instant Meeting");
    assert_eq!(
        instant["join_link"],
        format!("http://localhost:3000/join/{code}")
    );
    assert_eq!(instant["visibility"], "public");
    assert_eq!(instant["start_time"], "2026-03-01T12:00:00Z");
    assert_eq!(instant["created_at"], "2026-03-01T12:00:00Z");
    // The default plan (credits) has no duration cap: an instant meeting has no end.
    assert_eq!(instant["end_time"], Value::Null);
    // It is a meeting like any other: the native API shows it, active.
    let native: Value = app
        .get(&format!("/api/meetings/{code}"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(native["status"], "active");

    app.clock.advance(MINUTE);
    let normal = create(
        &app,
        &key,
        json!({"type": "normal", "title": "Weekly Team Sync", "end_date": "2026-03-01T15:00:00+01:00"}),
    )
    .await;
    assert_eq!(normal["title"], "Weekly Team Sync");
    assert_eq!(normal["start_time"], "2026-03-01T12:01:00Z");
    assert_eq!(normal["end_time"], "2026-03-01T14:00:00Z");
    assert!(normal["id"].as_u64() > instant["id"].as_u64());
    // A meeting created through the native API is not one of the developer API's.
    app.create_meeting(&key, &json!({"title": "Native"})).await;

    let listed = list(&app, &key).await;
    assert_eq!(keys_of(&listed), ["count", "data", "success"]);
    assert_eq!(listed["success"], true);
    assert_eq!(listed["count"], 2);
    assert_eq!(
        listed["data"],
        json!([normal, instant]),
        "newest first, as created"
    );

    let path = format!("{BASE}/{}", instant["id"]);
    let response = edcast(&app, Method::DELETE, &path, Some(&key), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"success": true, "message": "Meeting and associated join link deleted successfully"})
    );
    let listed = list(&app, &key).await;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["data"][0]["id"], normal["id"]);
    // Gone for good: its link no longer works, and a second delete finds nothing.
    let native: Value = app
        .get(&format!("/api/meetings/{code}"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(native["status"], "ended");
    let response = edcast(&app, Method::DELETE, &path, Some(&key), None).await;
    assert_edcast_error(response, StatusCode::NOT_FOUND, "Meeting not found").await;
}

#[tokio::test]
async fn every_documented_error_has_the_seeds_body() {
    let app = spawn_app().await;
    let key = app.register("org@example.com").await;
    let other = app.register("other@example.com").await;

    // 401: no key, an unknown key.
    let response = edcast(&app, Method::POST, BASE, None, Some(json!({}))).await;
    let message = assert_edcast_error(response, StatusCode::UNAUTHORIZED, "Invalid API Key").await;
    assert!(message.contains("X-API-Key"), "{message}");
    let response = edcast(&app, Method::GET, BASE, Some("sk_live_nope"), None).await;
    assert_edcast_error(response, StatusCode::UNAUTHORIZED, "Invalid API Key").await;
    let response = edcast(&app, Method::DELETE, &format!("{BASE}/1"), None, None).await;
    assert_edcast_error(response, StatusCode::UNAUTHORIZED, "Invalid API Key").await;

    // 400: each names its field.
    for (body, field) in [
        (json!({"type": "webinar"}), "type"),
        (
            json!({"type": "normal", "end_date": "tomorrow"}),
            "end_date",
        ),
        (
            json!({"type": "normal", "end_date": "2026-03-01T11:59:59Z"}),
            "end_date",
        ),
        (json!({"end_date": "2026-03-01T15:00:00Z"}), "end_date"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": 5}), "title"),
        (json!({"end_time": "2026-03-01T15:00:00Z"}), "end_time"),
    ] {
        let response = edcast(&app, Method::POST, BASE, Some(&key), Some(body.clone())).await;
        let message =
            assert_edcast_error(response, StatusCode::BAD_REQUEST, "Validation error").await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let response = app.post_raw(BASE, None, "{").await;
    assert_edcast_error(response, StatusCode::UNAUTHORIZED, "Invalid API Key").await;
    let response = app
        .client
        .post(app.url(BASE))
        .header("X-API-Key", &key)
        .body("[1]")
        .send()
        .await
        .unwrap();
    assert_edcast_error(response, StatusCode::BAD_REQUEST, "Validation error").await;
    let response = edcast(
        &app,
        Method::DELETE,
        &format!("{BASE}/abc"),
        Some(&key),
        None,
    )
    .await;
    let message = assert_edcast_error(response, StatusCode::BAD_REQUEST, "Validation error").await;
    assert!(message.contains("id"), "{message}");
    // 413, in EdCast's shape too.
    let huge = json!({"title": "x".repeat(2 * 1024 * 1024)});
    let response = edcast(&app, Method::POST, BASE, Some(&key), Some(huge)).await;
    assert_edcast_error(response, StatusCode::PAYLOAD_TOO_LARGE, "Payload too large").await;

    // 404: unknown ids, another organization's meeting, and a native meeting's position.
    let mine = create(&app, &key, json!({"title": "Mine"})).await;
    for id in ["0", "999999", "18446744073709551615"] {
        let response = edcast(
            &app,
            Method::DELETE,
            &format!("{BASE}/{id}"),
            Some(&key),
            None,
        )
        .await;
        assert_edcast_error(response, StatusCode::NOT_FOUND, "Meeting not found").await;
    }
    let path = format!("{BASE}/{}", mine["id"]);
    let response = edcast(&app, Method::DELETE, &path, Some(&other), None).await;
    let message = assert_edcast_error(response, StatusCode::NOT_FOUND, "Meeting not found").await;
    assert!(
        !message.contains("another"),
        "does not say it exists: {message}"
    );
    assert_eq!(list(&app, &other).await["count"], 0);
    assert_eq!(list(&app, &key).await["count"], 1, "still there");
    let native = app.create_meeting(&key, &json!({})).await;
    let events: Value = app
        .get(
            &format!(
                "/api/meetings/{}/events",
                native["meetingId"].as_str().unwrap()
            ),
            Some(&key),
        )
        .await
        .json()
        .await
        .unwrap();
    let native_seq = events["events"][0]["seq"].as_u64().unwrap();
    assert_eq!(events["events"][0]["kind"], "meeting.created");
    let response = edcast(
        &app,
        Method::DELETE,
        &format!("{BASE}/{native_seq}"),
        Some(&key),
        None,
    )
    .await;
    assert_edcast_error(response, StatusCode::NOT_FOUND, "Meeting not found").await;

    // 402 (not in the seed): the default plan is paid by credits, and this balance is spent.
    let broke = spawn_app_with(|config| config.billing.signup_credit_micros = 0).await;
    let key = broke.register("broke@example.com").await;
    let response = edcast(&broke, Method::POST, BASE, Some(&key), Some(json!({}))).await;
    assert_edcast_error(
        response,
        StatusCode::PAYMENT_REQUIRED,
        "Insufficient credits",
    )
    .await;
}

#[tokio::test]
async fn the_free_plan_counts_meetings_per_calendar_month_through_every_api() {
    let (app, admin) = spawn_with_admin().await;
    let key = app.register("org@example.com").await;
    let id = account_id(&app, "org@example.com").await;
    let response = admin_post(
        &app,
        &admin,
        &format!("/admin/api/accounts/{id}/plan"),
        json!({"plan": "free"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"accountId": id, "plan": "free", "active": true})
    );

    app.clock.set(MARCH_31_2350);
    // The free plan caps every meeting at 10 minutes, an instant one and an end_date alike.
    let first = create(
        &app,
        &key,
        json!({"type": "normal", "end_date": "2026-04-01T02:00:00Z"}),
    )
    .await;
    assert_eq!(first["start_time"], "2026-03-31T23:50:00Z");
    assert_eq!(first["end_time"], "2026-04-01T00:00:00Z");
    let second = create(
        &app,
        &key,
        json!({"type": "normal", "end_date": "2026-03-31T23:55:00Z"}),
    )
    .await;
    assert_eq!(
        second["end_time"], "2026-03-31T23:55:00Z",
        "an earlier end_date stands"
    );
    // Native meetings count too (and are capped as well: their token is the server's).
    let native = app.create_meeting(&key, &json!({"title": "Native"})).await;
    for _ in 0..7 {
        let meeting = create(&app, &key, json!({})).await;
        assert_eq!(meeting["end_time"], "2026-04-01T00:00:00Z");
    }
    // Ten this month: the eleventh is refused by either API.
    let response = edcast(&app, Method::POST, BASE, Some(&key), Some(json!({}))).await;
    let message =
        assert_edcast_error(response, StatusCode::FORBIDDEN, "Monthly limit reached").await;
    assert_eq!(
        message,
        "Free tier organizations can only create 10 meetings per month via the API."
    );
    let response = app.post_json("/api/meetings", Some(&key), &json!({})).await;
    assert_error(
        response,
        StatusCode::FORBIDDEN,
        "monthly meeting limit reached",
    )
    .await;
    assert_eq!(list(&app, &key).await["count"], 9);

    // The ones whose time has come end by themselves.
    app.clock.set(MARCH_31_2350 + 5 * MINUTE);
    app.run_scheduler().await;
    let second_code = second["meeting_code"].as_str().unwrap();
    let ended = app
        .get_json(&format!("/api/meetings/{second_code}"), &key)
        .await;
    assert_eq!(ended["status"], "ended");
    // The audit trail says why: its time limit, decided by the system.
    let events: Value = app
        .get(&format!("/api/meetings/{second_code}/events"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    let ended = events["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(ended["kind"], "meeting.ended");
    assert_eq!(ended["data"]["reason"], "time_limit");
    assert_eq!(ended["actor"]["type"], "system");
    let first_code = first["meeting_code"].as_str().unwrap();
    let still: Value = app
        .get(&format!("/api/meetings/{first_code}"), Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "active");
    assert_eq!(list(&app, &key).await["count"], 8);

    // April: a new month, a new quota; March's meetings all ended at midnight.
    app.clock.set(MARCH_31_2350 + 10 * MINUTE + 1_000);
    let april = create(&app, &key, json!({"title": "April"})).await;
    assert_eq!(april["created_at"], "2026-04-01T00:00:01Z");
    app.run_scheduler().await;
    let native_code = native["meetingId"].as_str().unwrap();
    for code in [first_code, native_code] {
        let detail = app.get_json(&format!("/api/meetings/{code}"), &key).await;
        assert_eq!(detail["status"], "ended", "{code}");
    }
    assert_eq!(list(&app, &key).await["count"], 1);

    // Pro: unlimited again, and no cap. (A month on, the administrator's session has expired.)
    let admin = app.login("admin@example.com", "admin-password").await;
    let response = admin_post(
        &app,
        &admin,
        &format!("/admin/api/accounts/{id}/plan"),
        json!({"plan": "pro"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let pro = create(
        &app,
        &key,
        json!({"type": "normal", "end_date": "2026-04-02T00:00:00Z"}),
    )
    .await;
    assert_eq!(pro["end_time"], "2026-04-02T00:00:00Z");
}

#[tokio::test]
async fn a_deactivated_account_is_refused_everywhere_until_reactivated() {
    let (app, admin) = spawn_with_admin().await;
    let key = app.register("org@example.com").await;
    let id = account_id(&app, "org@example.com").await;
    let deactivate = format!("/admin/api/accounts/{id}/deactivate");
    // A session from before the deactivation.
    let session = app.login("org@example.com", "secret123").await;
    // A meeting running and one scheduled: they stop with the account.
    let running = app.create_meeting(&key, &json!({"title": "Running"})).await;
    let later = app
        .create_meeting(
            &key,
            &json!({"title": "Later", "scheduledAt": "2026-05-01T10:00:00Z"}),
        )
        .await;

    let response = app.post_json(&deactivate, Some(&key), &json!({})).await;
    assert_error(response, StatusCode::FORBIDDEN, "administrators only").await;
    let response = admin_post(&app, &admin, &deactivate, json!({"reason": "unpaid"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"accountId": id, "plan": "credits", "active": false})
    );
    for (meeting, status) in [(&running, "ended"), (&later, "ended")] {
        let row = app
            .state()
            .projections
            .meetings()
            .get(meeting["meetingId"].as_str().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(row.status.as_str(), status, "{}", meeting["title"]);
    }
    let events: Value = app
        .get(
            &format!(
                "/api/meetings/{}/events",
                later["meetingId"].as_str().unwrap()
            ),
            Some(&key),
        )
        .await
        .json()
        .await
        .unwrap();
    // (An inactive account reads nothing either; the log says what happened, to auditors.)
    assert_eq!(events["error"], "account is inactive");

    let response = edcast(&app, Method::POST, BASE, Some(&key), Some(json!({}))).await;
    let message = assert_edcast_error(response, StatusCode::FORBIDDEN, "Account inactive").await;
    assert_eq!(message, "Your organization has been deactivated.");
    let response = edcast(&app, Method::GET, BASE, Some(&key), None).await;
    assert_edcast_error(response, StatusCode::FORBIDDEN, "Account inactive").await;
    // The native API says so in its own shape.
    let response = app.get("/api/meetings", Some(&key)).await;
    assert_error(response, StatusCode::FORBIDDEN, "account is inactive").await;
    let response = app
        .session_send(Method::GET, "/api/auth/me", &session)
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "account is inactive").await;

    // Administrators cannot lock themselves out; unknown accounts are 404.
    let admin_id = app.session_json("/api/auth/me", &admin).await["id"]
        .as_u64()
        .unwrap();
    let response = admin_post(
        &app,
        &admin,
        &format!("/admin/api/accounts/{admin_id}/deactivate"),
        json!({}),
    )
    .await;
    assert_error(
        response,
        StatusCode::CONFLICT,
        "cannot deactivate themselves",
    )
    .await;
    let response = admin_post(
        &app,
        &admin,
        "/admin/api/accounts/424242/deactivate",
        json!({}),
    )
    .await;
    assert_error(response, StatusCode::NOT_FOUND, "account not found").await;

    let response = app
        .with_session(
            Method::POST,
            &format!("/admin/api/accounts/{id}/reactivate"),
            &admin,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    create(&app, &key, json!({})).await;
    assert_eq!(
        app.get("/api/meetings", Some(&key)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_administrators_assign_plans_and_only_known_ones() {
    let (app, admin) = spawn_with_admin().await;
    let key = app.register("org@example.com").await;
    let id = account_id(&app, "org@example.com").await;
    let path = format!("/admin/api/accounts/{id}/plan");
    let response = app
        .post_json(&path, Some(&key), &json!({"plan": "pro"}))
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "administrators only").await;
    let response = admin_post(&app, &admin, &path, json!({"plan": "gold"})).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "plan must be one of credits, free, pro",
    )
    .await;
    let response = admin_post(&app, &admin, &path, json!({})).await;
    assert_error(response, StatusCode::BAD_REQUEST, "plan").await;
    // Assigned once, logged once: repeating it changes nothing.
    for _ in 0..2 {
        let response = admin_post(&app, &admin, &path, json!({"plan": "free"})).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let events = app
        .state()
        .log
        .read_stream(&format!("account/{id}"), 1)
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "account.registered",
            "account.api_key_issued",
            "account.plan_assigned",
            "account.plan_assigned"
        ],
        "the registration's plan (credits), then the administrator's (free)"
    );
}

/// A deactivated account is refused at login too, after its password is checked (a wrong
/// password still answers the same 401 as for any account).
#[tokio::test]
async fn a_deactivated_account_cannot_log_in() {
    let (app, admin) = spawn_with_admin().await;
    app.register("gone@example.com").await;
    let id = account_id(&app, "gone@example.com").await;
    let deactivate = format!("/admin/api/accounts/{id}/deactivate");
    let response = admin_post(&app, &admin, &deactivate, json!({"reason": "unpaid"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let login = |password: &'static str| {
        let body = json!({"email": "gone@example.com", "password": password});
        let app = &app;
        async move { app.post_json("/api/auth/login", None, &body).await }
    };
    assert_error(
        login("secret123").await,
        StatusCode::FORBIDDEN,
        "account deactivated",
    )
    .await;
    assert_error(
        login("wrong-password").await,
        StatusCode::UNAUTHORIZED,
        "invalid email or password",
    )
    .await;
    let reactivate = format!("/admin/api/accounts/{id}/reactivate");
    let response = admin_post(&app, &admin, &reactivate, json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(login("secret123").await.status(), StatusCode::OK);
}
