use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn registering_returns_a_key_that_works_at_once() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": " You@Example.com ", "password": "secret123"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Account created");
    assert_eq!(body["email"], "you@example.com");
    assert_eq!(body["accountType"], "personal");
    let key = body["apiKey"].as_str().unwrap();
    assert!(key.starts_with("mk_") && key.len() >= 35);
    // Read-your-writes: the key authenticates on the very next request.
    let response = app.get("/api/meetings", Some(key)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case() {
    let app = spawn_app().await;
    app.register("taken@example.com").await;
    let response = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": "TAKEN@example.com", "password": "another123"}),
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "email already in use").await;
}

#[tokio::test]
async fn company_accounts_need_a_name() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": "owner@acme.com", "password": "secret123", "accountType": "company"}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "companyName").await;
    let response = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": "owner@acme.com", "password": "secret123",
                    "accountType": "company", "companyName": "Acme Corp"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["accountType"], "company");
}

#[tokio::test]
async fn bad_registrations_name_the_field() {
    let app = spawn_app().await;
    for (body, needle) in [
        (json!({"password": "secret123"}), "email is required"),
        (json!({"email": "nope", "password": "secret123"}), "email"),
        (
            json!({"email": "a@b.co", "password": "short"}),
            "at least 8 characters",
        ),
        (json!({"email": "a@b.co"}), "password"),
        (
            json!({"email": 42, "password": "secret123"}),
            "invalid value for email",
        ),
        (
            json!({"email": "a@b.co", "password": "secret123", "accountType": "team"}),
            "accountType",
        ),
        (
            json!({"email": "a@b.co", "password": "secret123", "role": "admin"}),
            "unknown field `role`",
        ),
    ] {
        let response = app.post_json("/api/auth/register", None, &body).await;
        assert_error(response, StatusCode::BAD_REQUEST, needle).await;
    }
}
