//! Billing over the real server: the signup credit, a meeting's charge at its end, 402 once the
//! balance is spent, an administrator's top-up, and a member's balance moving to its company.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, TestApp};
use crate::history::join;

async fn billing(app: &TestApp, key: &str) -> Value {
    app.get("/api/billing/history", Some(key))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn meetings_are_charged_at_their_end_and_a_spent_balance_is_402() {
    let app = spawn_app_with(|config| {
        config.auth.admin_email = "admin@example.com".into();
        config.auth.admin_password = "admin-password".into();
        // $0.20: less than the meeting below costs.
        config.billing.signup_credit_micros = 200_000;
    })
    .await;
    let key = app.register("payer@example.com").await;
    let start = billing(&app, &key).await;
    assert_eq!(start["balance"], "0.2000");
    assert_eq!(start["transactions"][0]["type"], "signup_credit");

    let meeting = app.create_meeting(&key, &json!({"title": "Paid"})).await;
    let id = meeting["meetingId"].as_str().unwrap();
    let _ada = join(&app, id, "Ada").await;
    let _bob = join(&app, id, "Bob").await;
    app.clock.advance(30 * 60_000);
    app.delete(
        &format!("/api/meetings/{id}"),
        &key,
        meeting["adminToken"].as_str(),
    )
    .await;

    // 30 minutes × 2 participants × $0.004 = $0.24, charged once.
    let charged = app
        .eventually("/api/billing/history", &key, |body| {
            body["transactions"].as_array().map(Vec::len) == Some(2)
        })
        .await;
    assert_eq!(charged["balance"], "-0.0400");
    let charge = &charged["transactions"][0];
    assert_eq!(charge["type"], "meeting_charge");
    assert_eq!(charge["amount_usd"], "-0.2400");
    assert_eq!(
        charge["description"],
        format!("Meeting {id} (30.00m, 2 participants)")
    );

    let response = app
        .post_json("/api/meetings", Some(&key), &json!({"title": "Broke"}))
        .await;
    assert_error(
        response,
        StatusCode::PAYMENT_REQUIRED,
        "insufficient credits",
    )
    .await;

    // An administrator tops the account up; it can meet again.
    let session = app.login("payer@example.com", "secret123").await;
    let me = app.session_json("/api/auth/me", &session).await;
    assert_eq!(me["balance"], "-0.0400");
    let account_id = me["id"].as_u64().unwrap();
    let path = format!("/admin/api/accounts/{account_id}/credits");
    let response = app
        .post_json(&path, Some(&key), &json!({"amountUsd": 20}))
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "administrators only").await;
    let admin = app.login("admin@example.com", "admin-password").await;
    let topped: Value = app
        .with_session(Method::POST, &path, &admin)
        .json(&json!({"amountUsd": 20}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(topped["balance"], "19.9600");
    let response = app
        .with_session(Method::POST, &path, &admin)
        .json(&json!({"amountUsd": -5}))
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "amountUsd must be above 0",
    )
    .await;
    let response = app
        .post_json("/api/meetings", Some(&key), &json!({"title": "Paid again"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_members_balance_moves_to_its_company() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": "owner@bill.co", "password": "secret123",
                    "accountType": "company", "companyName": "Bill Co"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let owner_key = owner["apiKey"].as_str().unwrap();
    let code = owner["inviteCode"].as_str().unwrap();
    assert_eq!(billing(&app, owner_key).await["balance"], "5.0000");

    let member_key = app.register("member@bill.co").await;
    let session = app.login("member@bill.co", "secret123").await;
    let joined = app
        .with_session(Method::POST, "/api/company/join", &session)
        .json(&json!({"inviteCode": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), StatusCode::OK);

    // The member now sees the company's ledger: its own $5 moved in.
    let merged = app
        .eventually("/api/billing/history", owner_key, |body| {
            body["balance"] == "10.0000"
        })
        .await;
    assert_eq!(merged["transactions"][0]["type"], "company_merge_in");
    assert_eq!(billing(&app, &member_key).await["balance"], "10.0000");
}

/// `Stripe-Signature` for `body` at `timestamp`, as Stripe computes it.
fn stripe_signature(secret: &str, timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

#[tokio::test]
async fn a_signed_stripe_payment_credits_once_and_checkout_needs_stripe() {
    let app = spawn_app_with(|config| {
        config.billing.stripe_webhook_secret = "whsec_stripe_test".into();
    })
    .await;
    let key = app.register("stripe@example.com").await;
    let session = app.login("stripe@example.com", "secret123").await;
    let account_id = app.session_json("/api/auth/me", &session).await["id"]
        .as_u64()
        .unwrap();

    let response = app
        .post_json(
            "/api/billing/stripe/checkout",
            Some(&key),
            &json!({"amountUsd": 4}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "between 5 and 1000").await;
    let response = app
        .post_json(
            "/api/billing/stripe/checkout",
            Some(&key),
            &json!({"amountUsd": 20}),
        )
        .await;
    assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "stripe is not configured",
    )
    .await;

    let event = json!({
        "id": "evt_1",
        "type": "checkout.session.completed",
        "data": {"object": {
            "payment_status": "paid",
            "amount_total": 2000,
            "client_reference_id": format!("account-{account_id}"),
        }},
    })
    .to_string();
    let now = crate::helpers::T0 / 1000;
    let send = |signature: String| {
        app.client
            .post(app.url("/api/billing/stripe/webhook"))
            .header("stripe-signature", signature)
            .body(event.clone())
            .send()
    };
    for _ in 0..2 {
        let response = send(stripe_signature("whsec_stripe_test", now, &event))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let after = billing(&app, &key).await;
    assert_eq!(
        after["balance"], "25.0000",
        "credited once for one Stripe event"
    );
    assert_eq!(after["transactions"][0]["type"], "stripe_topup");
    assert_eq!(after["transactions"][0]["amount_usd"], "20.0000");

    for (signature, needle) in [
        (
            stripe_signature("another-secret", now, &event),
            "does not verify",
        ),
        (
            stripe_signature("whsec_stripe_test", now - 3600, &event),
            "too old",
        ),
        ("v1=abcd".to_owned(), "no timestamp"),
    ] {
        let response = send(signature).await.unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, needle).await;
    }
}

#[tokio::test]
async fn falling_below_the_low_balance_mark_emails_the_owner_once() {
    let app = spawn_app_with(|config| {
        // $2.10, and each meeting below costs $0.24: the first crosses $2.00, the second not.
        config.billing.signup_credit_micros = 2_100_000;
    })
    .await;
    let key = app.register("low@example.com").await;
    for title in ["First", "Second"] {
        let meeting = app.create_meeting(&key, &json!({"title": title})).await;
        let id = meeting["meetingId"].as_str().unwrap();
        let ada = join(&app, id, "Ada").await;
        let bob = join(&app, id, "Bob").await;
        app.clock.advance(30 * 60_000);
        app.delete(
            &format!("/api/meetings/{id}"),
            &key,
            meeting["adminToken"].as_str(),
        )
        .await;
        drop((ada, bob));
    }
    app.eventually("/api/billing/history", &key, |body| {
        body["balance"] == "1.6200"
    })
    .await;
    // The email goes out after the charge that crossed; the second charge sends none.
    let mails = app.outbox(1).await;
    let low: Vec<&String> = mails.iter().filter(|m| m.contains("running low")).collect();
    assert_eq!(low.len(), 1, "one email for one crossing: {mails:?}");
    assert!(low[0].contains("low@example.com"));
    assert!(low[0].contains("$1.8600"), "{}", low[0]);
}
