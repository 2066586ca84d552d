//! Login sessions, API keys managed by session, password change and reset (onepizza §1, §2).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn login_sets_a_hardened_cookie_and_me_describes_the_account() {
    let app = spawn_app().await;
    app.register("you@example.com").await;
    let response = app
        .post_json(
            "/api/auth/login",
            None,
            &json!({"email": "you@example.com", "password": "secret123"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "convene_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    // http://localhost app_url: no Secure attribute (browsers would drop the cookie).
    assert!(!cookie.contains("Secure"), "{cookie}");
    let session = cookie.split(';').next().unwrap();

    let me: Value = app.session_json("/api/auth/me", session).await;
    assert_eq!(me["email"], "you@example.com");
    assert_eq!(me["accountType"], "personal");
    assert_eq!(me["is_admin"], false);
    assert_eq!(me["company_id"], Value::Null);
    assert_eq!(me["balance"], "5.0000");
    assert_eq!(me["created_at"], "2026-03-01T12:00:00Z");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("you@example.com").await;
    for body in [
        json!({"email": "you@example.com", "password": "wrong-password"}),
        json!({"email": "nobody@example.com", "password": "secret123"}),
    ] {
        let response = app.post_json("/api/auth/login", None, &body).await;
        assert_error(
            response,
            StatusCode::UNAUTHORIZED,
            "invalid email or password",
        )
        .await;
    }
    let response = app
        .post_json("/api/auth/login", None, &json!({"email": "x@y.z"}))
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "email and password are required",
    )
    .await;
}

#[tokio::test]
async fn logout_ends_the_session_for_good() {
    let app = spawn_app().await;
    app.register("you@example.com").await;
    let session = app.login("you@example.com", "secret123").await;
    let response = app
        .session_send(Method::POST, "/api/auth/logout", &session)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let response = app
        .session_send(Method::GET, "/api/auth/me", &session)
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "log in again").await;
}

#[tokio::test]
async fn sessions_expire_with_the_clock() {
    let app = spawn_app().await;
    app.register("you@example.com").await;
    let session = app.login("you@example.com", "secret123").await;
    app.clock.advance(168 * 3_600_000);
    let response = app
        .session_send(Method::GET, "/api/auth/me", &session)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_works_wherever_a_key_does_but_cross_site_writes_are_refused() {
    let app = spawn_app().await;
    app.register("you@example.com").await;
    let session = app.login("you@example.com", "secret123").await;
    let response = app
        .with_session(Method::POST, "/api/meetings", &session)
        .json(&json!({"title": "From the dashboard"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // A page this server served under another name than app_url (the dashboard opened at
    // 127.0.0.1:<port>) is this site too: its Origin is the request's Host.
    let own = app.address.clone();
    let response = app
        .client
        .post(app.url("/api/meetings"))
        .header("cookie", &session)
        .header("origin", &own)
        .json(&json!({"title": "From 127.0.0.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    // Another port on the same address is another origin.
    let response = app
        .client
        .post(app.url("/api/meetings"))
        .header("cookie", &session)
        .header("origin", "http://127.0.0.1:1")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The same request from another site, or with no origin at all, is refused.
    let response = app
        .client
        .post(app.url("/api/meetings"))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::FORBIDDEN,
        "cross-site request refused",
    )
    .await;
    let response = app
        .client
        .post(app.url("/api/meetings"))
        .header("cookie", &session)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A Referer from our own origin is accepted when Origin is absent.
    let response = app
        .client
        .post(app.url("/api/meetings"))
        .header("cookie", &session)
        .header("referer", "http://localhost:3000/dashboard")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    // Reads need no origin.
    let list: Value = app
        .client
        .get(app.url("/api/meetings"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["meetings"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn keys_are_listed_created_and_revoked_by_session_only() {
    let app = spawn_app().await;
    let first_key = app.register("you@example.com").await;
    let session = app.login("you@example.com", "secret123").await;

    let response = app
        .with_session(Method::POST, "/api/user/keys", &session)
        .json(&json!({"label": "Production"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let new_key = created["key"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with("mk_") && new_key.len() == 43);
    assert_eq!(created["label"], "Production");

    let listed: Value = app.session_json("/api/user/keys", &session).await;
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k["is_active"] == true));
    // Listings never show a whole key.
    assert!(keys
        .iter()
        .all(|k| k["key"].as_str().unwrap().ends_with("...")));

    // Both keys work; an API key cannot manage keys.
    assert_eq!(
        app.get("/api/meetings", Some(&new_key)).await.status(),
        StatusCode::OK
    );
    let response = app.get("/api/user/keys", Some(&first_key)).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "not logged in").await;

    let id = created["id"].as_u64().unwrap();
    let response = app
        .session_send(Method::DELETE, &format!("/api/user/keys/{id}"), &session)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // The deleted key fails on its very next use; the other still works.
    let response = app.get("/api/meetings", Some(&new_key)).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid api key").await;
    assert_eq!(
        app.get("/api/meetings", Some(&first_key)).await.status(),
        StatusCode::OK
    );
    let response = app
        .session_send(Method::DELETE, &format!("/api/user/keys/{id}"), &session)
        .await;
    assert_error(response, StatusCode::NOT_FOUND, "api key not found").await;
}

#[tokio::test]
async fn another_accounts_key_cannot_be_revoked() {
    let app = spawn_app().await;
    app.register("a@example.com").await;
    let b_key = app.register("b@example.com").await;
    let b_session = app.login("b@example.com", "secret123").await;
    let a_session = app.login("a@example.com", "secret123").await;
    let b_keys: Value = app.session_json("/api/user/keys", &b_session).await;
    let b_key_id = b_keys["keys"][0]["id"].as_u64().unwrap();
    let response = app
        .session_send(
            Method::DELETE,
            &format!("/api/user/keys/{b_key_id}"),
            &a_session,
        )
        .await;
    assert_error(response, StatusCode::NOT_FOUND, "api key not found").await;
    assert_eq!(
        app.get("/api/meetings", Some(&b_key)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_sends_an_email() {
    let app = spawn_app().await;
    app.register("you@example.com").await;
    let session = app.login("you@example.com", "secret123").await;
    let change = |current: &str, new: &str| {
        app.with_session(Method::POST, "/api/auth/change-password", &session)
            .json(&json!({"currentPassword": current, "newPassword": new}))
            .send()
    };
    let response = change("not-it-at-all", "new-password-1").await.unwrap();
    assert_error(
        response,
        StatusCode::FORBIDDEN,
        "current password is incorrect",
    )
    .await;
    let response = change("secret123", "short").await.unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "newPassword").await;
    let response = change("secret123", "new-password-1").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let mail = app.outbox(1).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: you@example.com"), "{}", mail[0]);
    assert!(mail[0].contains("password was changed"), "{}", mail[0]);
    app.login("you@example.com", "new-password-1").await;
    let response = app
        .post_json(
            "/api/auth/login",
            None,
            &json!({"email": "you@example.com", "password": "secret123"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// Pulls the reset token out of a reset email.
fn reset_token(mail: &str) -> String {
    let start = mail.find("token=").expect("a reset link") + "token=".len();
    mail[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

#[tokio::test]
async fn a_password_reset_works_once_through_the_outbox() {
    let app = spawn_app().await;
    app.register("you@example.com").await;
    let old_session = app.login("you@example.com", "secret123").await;

    // Unknown emails get the same answer and no mail.
    let response = app
        .post_json(
            "/api/auth/forgot-password",
            None,
            &json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let known: Value = app
        .post_json(
            "/api/auth/forgot-password",
            None,
            &json!({"email": "you@example.com"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(known["message"]
        .as_str()
        .unwrap()
        .starts_with("If an account exists"));
    let mail = app.outbox(1).await;
    assert_eq!(mail.len(), 1, "only the registered address gets mail");
    assert!(mail[0].contains("To: you@example.com"));
    assert!(mail[0].contains("http://localhost:3000/reset-password?token="));
    let token = reset_token(&mail[0]);
    assert_eq!(token.len(), 64);

    let check = app
        .get(&format!("/api/auth/reset-password?token={token}"), None)
        .await;
    assert_eq!(check.status(), StatusCode::OK);
    let response = app
        .post_json(
            "/api/auth/reset-password",
            None,
            &json!({"token": token, "password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.login("you@example.com", "brand-new-pass").await;

    // Single use, and every old session is signed out.
    let again = app
        .post_json(
            "/api/auth/reset-password",
            None,
            &json!({"token": token, "password": "another-pass-1"}),
        )
        .await;
    assert_error(again, StatusCode::BAD_REQUEST, "invalid or has expired").await;
    let check = app
        .get(&format!("/api/auth/reset-password?token={token}"), None)
        .await;
    assert_eq!(check.status(), StatusCode::BAD_REQUEST);
    let response = app
        .session_send(Method::GET, "/api/auth/me", &old_session)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let app = spawn_app().await;
    app.register("you@example.com").await;
    app.post_json(
        "/api/auth/forgot-password",
        None,
        &json!({"email": "you@example.com"}),
    )
    .await;
    let token = reset_token(&app.outbox(1).await[0]);
    assert_eq!(token.len(), 64);
    app.clock.advance(60 * 60_000);
    let response = app
        .post_json(
            "/api/auth/reset-password",
            None,
            &json!({"token": token, "password": "brand-new-pass"}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid or has expired").await;
    let response = app
        .post_json(
            "/api/auth/reset-password",
            None,
            &json!({"token": "f".repeat(64), "password": "brand-new-pass"}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid or has expired").await;
    let response = app.get("/api/auth/reset-password", None).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "token query parameter is required",
    )
    .await;
}
