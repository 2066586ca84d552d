//! Company workspaces (onepizza §14).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

async fn register_company(app: &TestApp) -> (String, String) {
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
    let code = body["inviteCode"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 12);
    (body["apiKey"].as_str().unwrap().to_owned(), code)
}

async fn join(app: &TestApp, session: &str, code: &str) -> reqwest::Response {
    app.with_session(Method::POST, "/api/company/join", session)
        .json(&json!({"inviteCode": code}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn members_join_share_meetings_and_can_be_removed() {
    let app = spawn_app().await;
    let (owner_key, code) = register_company(&app).await;
    let dev_key = app.register("dev@acme.com").await;
    let dev_session = app.login("dev@acme.com", "secret123").await;

    let response = join(&app, &dev_session, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Joined Acme Corp");
    assert_eq!(body["companyName"], "Acme Corp");
    let response = join(&app, &dev_session, &code).await;
    assert_error(
        response,
        StatusCode::CONFLICT,
        "already a member of a company",
    )
    .await;

    // A member's meeting is the company's: the owner's key sees it.
    let created = app
        .create_meeting(&dev_key, &json!({"title": "Dev sync"}))
        .await;
    let listed: Value = app
        .get("/api/meetings", Some(&owner_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["meetings"][0]["meetingId"], created["meetingId"]);

    let owner_session = app.login("owner@acme.com", "secret123").await;
    let members: Value = app
        .session_json("/api/company/members", &owner_session)
        .await;
    let members = members["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["role"], "owner");
    assert_eq!(members[1]["email"], "dev@acme.com");
    assert_eq!(members[1]["role"], "member");
    let dev_id = members[1]["id"].as_u64().unwrap();
    let owner_id = members[0]["id"].as_u64().unwrap();

    // Members cannot manage members.
    let response = app
        .session_send(Method::GET, "/api/company/members", &dev_session)
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "only the company owner").await;
    let response = app
        .session_send(
            Method::DELETE,
            &format!("/api/company/members/{owner_id}"),
            &owner_session,
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "owner cannot be removed").await;

    let response = app
        .session_send(
            Method::DELETE,
            &format!("/api/company/members/{dev_id}"),
            &owner_session,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // Removed: the member's key no longer sees the company's meetings.
    let listed: Value = app
        .get("/api/meetings", Some(&dev_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["meetings"], json!([]));
    let response = app
        .session_send(
            Method::DELETE,
            &format!("/api/company/members/{dev_id}"),
            &owner_session,
        )
        .await;
    assert_error(response, StatusCode::NOT_FOUND, "member not found").await;
}

#[tokio::test]
async fn bad_codes_and_strangers_are_refused() {
    let app = spawn_app().await;
    register_company(&app).await;
    app.register("stranger@example.com").await;
    let session = app.login("stranger@example.com", "secret123").await;
    let response = join(&app, &session, "notACode1234").await;
    assert_error(response, StatusCode::NOT_FOUND, "invite code not found").await;
    let response = app
        .with_session(Method::POST, "/api/company/join", &session)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "inviteCode is required").await;
    // A personal account owns no company, so it manages no members.
    let response = app
        .session_send(Method::DELETE, "/api/company/members/1", &session)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": "x@acme.com", "password": "secret123", "accountType": "company"}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "companyName is required").await;
}
