//! Webhooks against a real local receiver that misbehaves on purpose: 500, a hang past the
//! timeout, 429 with Retry-After, a reset connection, 503 — every event still arrives, at least
//! once, in log order, signed, also across a restart and across a SIGKILL of the real binary in
//! the middle of a backlog; 410 disables the endpoint.

use std::time::Duration;

use convene::webhooks::signing;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, poll_until, spawn_app, spawn_app_with, spawn_binary, TestApp};
use crate::receiver::{Behaviour, Receiver};

async fn register_webhook(app: &TestApp, key: &str, url: &str, events: Value) -> Value {
    let response = app
        .post_json(
            "/api/webhooks",
            Some(key),
            &json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_event_arrives_in_order_through_failures_and_a_restart() {
    let receiver = Receiver::start(vec![
        Behaviour::Answer(500, None),
        Behaviour::Hang(Duration::from_secs(2)),
        Behaviour::Answer(429, Some("0")),
        Behaviour::Reset,
        Behaviour::Answer(503, None),
    ])
    .await;
    let app = spawn_app_with(|config| {
        config.webhooks.timeout_ms = 300;
        config.webhooks.retry_schedule_ms = vec![0, 20, 50];
    })
    .await;
    let key = app.register("hooks@example.com").await;
    let webhook = register_webhook(
        &app,
        &key,
        &receiver.url,
        json!(["meeting.created", "meeting.started", "meeting.ended"]),
    )
    .await;
    let secret = webhook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let webhook_id = webhook["id"].as_u64().unwrap();

    // Two meetings (created, started), one of them ended: 5 events before the restart.
    let first = app.create_meeting(&key, &json!({"title": "One"})).await;
    app.create_meeting(&key, &json!({"title": "Two"})).await;
    let id = first["meetingId"].as_str().unwrap();
    app.clock.advance(60_000);
    app.delete(
        &format!("/api/meetings/{id}"),
        &key,
        first["adminToken"].as_str(),
    )
    .await;
    receiver.wait_for_accepted(2).await;
    let deliveries = app
        .get(
            &format!("/api/webhooks/{webhook_id}/deliveries"),
            Some(&key),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let errors: Vec<&str> = deliveries["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["error"].as_str())
        .collect();
    assert!(
        errors.contains(&"answered 500 Internal Server Error"),
        "{errors:?}"
    );
    assert!(errors.contains(&"timed out"), "{errors:?}");

    // Restarted in the middle: delivery resumes from its cursor.
    let app = app.restart().await;
    app.create_meeting(&key, &json!({"title": "Three"})).await;
    let accepted = receiver.wait_for_accepted(7).await;

    // At least once and in log order: the first acceptance of each event comes in seq order,
    // and nothing the endpoint subscribed to is missing.
    let mut firsts = Vec::new();
    for seq in &accepted {
        if !firsts.contains(seq) {
            firsts.push(*seq);
        }
    }
    assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{firsts:?}");
    let feed: Value = app
        .get("/api/events?limit=1000", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    let subscribed: Vec<u64> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            ["meeting.created", "meeting.activated", "meeting.ended"]
                .contains(&e["kind"].as_str().unwrap())
        })
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(firsts, subscribed);

    // Every request was signed with the endpoint's secret and identified by its seq.
    for request in receiver.received() {
        assert!(
            signing::verify(
                &secret,
                &request.id,
                request.timestamp,
                &request.body,
                &request.signature
            ),
            "{request:?}"
        );
        assert_eq!(request.id, format!("msg_{}", request.json()["seq"]));
    }
    let ended = receiver
        .received()
        .into_iter()
        .map(|r| r.json())
        .find(|b| b["event"] == "meeting.ended")
        .unwrap();
    assert_eq!(ended["meetingId"], id);
    assert_eq!(ended["data"]["title"], "One");
    assert_eq!(ended["data"]["durationMinutes"], 1.0);
    assert!(ended["timestamp"].is_i64());
}

#[tokio::test]
async fn a_410_disables_the_endpoint() {
    let receiver = Receiver::start(vec![Behaviour::Answer(410, None)]).await;
    let app = spawn_app().await;
    let key = app.register("gone@example.com").await;
    register_webhook(&app, &key, &receiver.url, json!(["meeting.created"])).await;
    app.create_meeting(&key, &json!({"title": "Gone"})).await;
    let disabled = app
        .eventually("/api/webhooks", &key, |body| {
            body["webhooks"][0]["disabled"].is_string()
        })
        .await;
    assert_eq!(
        disabled["webhooks"][0]["disabled"],
        "the endpoint answered 410 Gone"
    );
    // A witness endpoint registered now hears the next meeting; the disabled endpoint was
    // disabled before that meeting existed, so by then it has had its chance to send it too.
    let witness = Receiver::start(vec![]).await;
    register_webhook(&app, &key, &witness.url, json!(["meeting.created"])).await;
    app.create_meeting(&key, &json!({"title": "Not sent"}))
        .await;
    assert_eq!(witness.wait_for_accepted(1).await.len(), 1);
    assert_eq!(receiver.received().len(), 1, "nothing after the 410");
}

#[tokio::test]
async fn endpoints_are_checked_owned_and_rotated() {
    let receiver = Receiver::start(vec![]).await;
    let app = spawn_app().await;
    let key = app.register("owner-hooks@example.com").await;
    for (body, needle) in [
        (
            json!({"url": "ftp://x/", "events": ["meeting.ended"]}),
            "url must be http or https",
        ),
        (
            json!({"url": receiver.url, "events": []}),
            "at least one event",
        ),
        (
            json!({"url": receiver.url, "events": ["meeting.exploded"]}),
            "unknown event",
        ),
    ] {
        let response = app.post_json("/api/webhooks", Some(&key), &body).await;
        assert_error(response, StatusCode::BAD_REQUEST, needle).await;
    }
    let webhook = register_webhook(&app, &key, &receiver.url, json!(["meeting.created"])).await;
    let id = webhook["id"].as_u64().unwrap();
    let old_secret = webhook["secret"].as_str().unwrap().to_owned();
    let listed: Value = app
        .get("/api/webhooks", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["webhooks"][0]["url"], receiver.url.as_str());
    assert!(
        listed["webhooks"][0].get("secret").is_none(),
        "shown once only"
    );

    // Rotation: deliveries carry both signatures during the overlap.
    let rotated: Value = app
        .post_json(
            &format!("/api/webhooks/{id}/rotate-secret"),
            Some(&key),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    app.create_meeting(&key, &json!({"title": "Rotated"})).await;
    receiver.wait_for_accepted(1).await;
    let request = &receiver.received()[0];
    for secret in [&old_secret, &new_secret] {
        assert!(signing::verify(
            secret,
            &request.id,
            request.timestamp,
            &request.body,
            &request.signature
        ));
    }

    // A manual redelivery of that event is recorded as such.
    let seq = request.json()["seq"].as_u64().unwrap();
    let again: Value = app
        .post_json(
            &format!("/api/webhooks/{id}/deliveries/{seq}/redeliver"),
            Some(&key),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["manual"].as_bool(), again["status"].as_u64()),
        (Some(true), Some(200))
    );

    // Another workspace sees none of it.
    let stranger = app.register("stranger-hooks@example.com").await;
    let response = app
        .delete(&format!("/api/webhooks/{id}"), &stranger, None)
        .await;
    assert_error(response, StatusCode::NOT_FOUND, "webhook not found").await;
    let response = app.delete(&format!("/api/webhooks/{id}"), &key, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let listed: Value = app
        .get("/api/webhooks", Some(&key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!({"webhooks": []}));

    // Private targets are refused unless the operator allows them.
    let strict = spawn_app_with(|config| config.webhooks.allow_private_targets = false).await;
    let key = strict.register("strict@example.com").await;
    let response = strict
        .post_json(
            "/api/webhooks",
            Some(&key),
            &json!({"url": receiver.url, "events": ["meeting.ended"]}),
        )
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "private, loopback or link-local",
    )
    .await;
}

/// The real binary, which may post to the test receivers on 127.0.0.1.
fn spawn_server(data: &std::path::Path, port: u16) -> std::process::Child {
    spawn_binary(
        data,
        port,
        &[("CONVENE_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")],
    )
}

async fn wait_until_serving(client: &reqwest::Client, base: &str) {
    poll_until(&format!("the server at {base}"), || async {
        client.get(format!("{base}/healthz")).send().await.ok()
    })
    .await;
}

#[tokio::test]
async fn delivery_resumes_in_order_after_the_server_is_killed() {
    // Each delivery takes 30 ms to be answered: a backlog builds, and the kill lands in it.
    let receiver = Receiver::start(vec![Behaviour::Slow(Duration::from_millis(30)); 1000]).await;
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = spawn_server(data.path(), port);
    wait_until_serving(&client, &base).await;

    let registered: Value = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": "killed@example.com", "password": "secret123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = registered["apiKey"].as_str().unwrap().to_owned();
    let webhook: Value = client
        .post(format!("{base}/api/webhooks"))
        .header("x-api-key", &key)
        .json(&json!({"url": receiver.url, "events": ["meeting.created", "meeting.started"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = webhook["secret"].as_str().unwrap().to_owned();
    // 25 meetings: 50 events to deliver, ~1.5 s of answers.
    for n in 0..25 {
        let created = client
            .post(format!("{base}/api/meetings"))
            .header("x-api-key", &key)
            .json(&json!({"title": format!("Meeting {n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    // Killed in the middle of the backlog: no shutdown, no flush, no goodbye.
    receiver.wait_for_accepted(5).await;
    server.kill().unwrap();
    server.wait().unwrap();
    // The request in flight at the kill is recorded when its (slow) answer is due.
    receiver.settled().await;
    let before_kill = receiver.accepted();
    assert!(
        before_kill.len() < 50,
        "the backlog drained before the kill"
    );

    let mut server = spawn_server(data.path(), port);
    wait_until_serving(&client, &base).await;
    // Redeliveries count in `accepted`: wait for 50 different events.
    receiver.wait_for_accepted(50).await;
    let accepted = poll_until("50 distinct events accepted", || async {
        let accepted = receiver.accepted();
        let mut distinct = accepted.clone();
        distinct.sort_unstable();
        distinct.dedup();
        (distinct.len() >= 50).then_some(accepted)
    })
    .await;
    let feed: Value = client
        .get(format!("{base}/api/events?limit=1000"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();

    // Every event, at least once, first acceptances in log order; redeliveries only of what
    // was in flight around the kill.
    let mut firsts = Vec::new();
    for seq in &accepted {
        if !firsts.contains(seq) {
            firsts.push(*seq);
        }
    }
    let subscribed: Vec<u64> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| ["meeting.created", "meeting.activated"].contains(&e["kind"].as_str().unwrap()))
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(subscribed.len(), 50);
    assert_eq!(firsts, subscribed);
    // Only what was accepted before the kill comes again (its cursor had not reached the disk
    // yet); from the restart on, each event is delivered once.
    let after_kill = &accepted[before_kill.len()..];
    for (i, seq) in after_kill.iter().enumerate() {
        assert!(
            before_kill.contains(seq) || !after_kill[..i].contains(seq),
            "{seq} delivered twice after the restart: {accepted:?}"
        );
    }
    for request in receiver.received() {
        assert!(signing::verify(
            &secret,
            &request.id,
            request.timestamp,
            &request.body,
            &request.signature
        ));
    }
}

/// Rotations racing a deletion are decided one after the other on the endpoint's stream: no
/// rotation is logged after the deletion, and every rotation that answered 200 is in the log.
#[tokio::test]
async fn racing_rotations_and_a_deletion_are_decided_one_after_the_other() {
    let receiver = Receiver::start(vec![]).await;
    let app = spawn_app().await;
    let key = app.register("racing-hooks@example.com").await;
    let created = register_webhook(&app, &key, &receiver.url, json!(["meeting.ended"])).await;
    let id = created["id"].as_u64().unwrap();
    let mut racers = Vec::new();
    for n in 0..9 {
        let (client, key) = (app.client.clone(), key.clone());
        let url = if n == 4 {
            app.url(&format!("/api/webhooks/{id}"))
        } else {
            app.url(&format!("/api/webhooks/{id}/rotate-secret"))
        };
        racers.push(tokio::spawn(async move {
            let request = if n == 4 {
                client.delete(url)
            } else {
                client.post(url)
            };
            let status = request
                .header("x-api-key", key)
                .send()
                .await
                .unwrap()
                .status();
            (n == 4, status)
        }));
    }
    let mut rotated = 0;
    for racer in racers {
        let (deletion, status) = racer.await.unwrap();
        match (deletion, status) {
            (true, status) => assert_eq!(status, StatusCode::OK, "the deletion"),
            (false, StatusCode::OK) => rotated += 1,
            (false, status) => assert_eq!(status, StatusCode::NOT_FOUND, "a rotation"),
        }
    }
    let stream = convene_events::ids::webhook_stream(id);
    let kinds: Vec<String> = app
        .state()
        .log
        .read_stream(&stream, 1)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("webhook.created"));
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("webhook.deleted"),
        "{kinds:?}"
    );
    let logged = kinds
        .iter()
        .filter(|k| *k == "webhook.secret_rotated")
        .count();
    assert_eq!(logged, rotated, "{kinds:?}");
}
