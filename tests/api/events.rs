//! The event feed: the workspace's meeting events in log order, paged without gaps under
//! concurrent writers, and live as Server-Sent Events resuming from Last-Event-ID.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

async fn page(app: &TestApp, key: &str, after: u64, limit: u64) -> Value {
    let response = app
        .get(
            &format!("/api/events?after={after}&limit={limit}"),
            Some(key),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Every event of the feed after `after`, paging with `limit`.
async fn all_after(app: &TestApp, key: &str, mut after: u64, limit: u64) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let body = page(app, key, after, limit).await;
        let batch = body["events"].as_array().unwrap().clone();
        if batch.is_empty() {
            return events;
        }
        after = body["nextAfter"].as_u64().unwrap();
        events.extend(batch);
    }
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn the_feed_is_the_workspaces_events_in_order_without_gaps() {
    let app = spawn_app().await;
    let key = app.register("feed@example.com").await;
    let other = app.register("other-feed@example.com").await;
    app.create_meeting(&other, &json!({"title": "Not yours"}))
        .await;

    // Writers in two workspaces at once, while a reader follows the feed with `after`.
    let mut writers = Vec::new();
    for i in 0..6 {
        let (client, url) = (app.client.clone(), app.address.clone());
        let key = if i % 3 == 2 {
            other.clone()
        } else {
            key.clone()
        };
        writers.push(tokio::spawn(async move {
            for _ in 0..5 {
                let response = client
                    .post(format!("{url}/api/meetings"))
                    .header("x-api-key", &key)
                    .json(&json!({"title": "Feed"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
            }
        }));
    }
    let mut followed = Vec::new();
    let mut after = 0;
    while !writers.iter().all(|w| w.is_finished()) {
        let body = page(&app, &key, after, 7).await;
        after = body["nextAfter"].as_u64().unwrap();
        followed.extend(body["events"].as_array().unwrap().clone());
    }
    for writer in writers {
        writer.await.unwrap();
    }
    followed.extend(all_after(&app, &key, after, 7).await);

    let everything = all_after(&app, &key, 0, 1000).await;
    assert_eq!(
        seqs(&followed),
        seqs(&everything),
        "following saw every event once"
    );
    let mut sorted = seqs(&everything);
    sorted.dedup();
    assert!(sorted.windows(2).all(|w| w[0] < w[1]), "log order");
    // 4 writers × 5 meetings, each created and activated: only this workspace's.
    assert_eq!(everything.len(), 40);
    assert!(everything.iter().all(|e| e["meetingId"].is_string()));
    let kinds: Vec<&str> = everything[..2]
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["meeting.created", "meeting.activated"]);

    let response = app.get("/api/events?limit=0", Some(&key)).await;
    assert_error(response, StatusCode::BAD_REQUEST, "limit must be").await;
    let response = app.get("/api/events?after=-1", Some(&key)).await;
    assert_error(response, StatusCode::BAD_REQUEST, "after must be").await;
}

/// Reads SSE frames (`id`, `event`, `data`) from a response body until `count` events came.
async fn sse_events(response: reqwest::Response, count: usize) -> Vec<(u64, String, Value)> {
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("an event within 5 s")
            .expect("the stream is open")
            .unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}:")))
                    .map(|v| v.trim().to_owned())
            };
            if let (Some(id), Some(event), Some(data)) =
                (field("id"), field("event"), field("data"))
            {
                events.push((
                    id.parse().unwrap(),
                    event,
                    serde_json::from_str(&data).unwrap(),
                ));
            }
        }
    }
    events
}

#[tokio::test]
async fn the_live_stream_sends_new_events_and_resumes_after_the_last_id() {
    let app = spawn_app().await;
    let key = app.register("live@example.com").await;
    let open = |last_event_id: Option<u64>| {
        let mut request = app
            .client
            .get(app.url("/api/events/stream"))
            .header("x-api-key", &key);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        request.send()
    };
    let live = open(None).await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert!(live.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));

    let meeting = app.create_meeting(&key, &json!({"title": "Live"})).await;
    let id = meeting["meetingId"].as_str().unwrap();
    let events = sse_events(live, 2).await;
    assert_eq!(events[0].1, "meeting.created");
    assert_eq!(events[1].1, "meeting.activated");
    assert_eq!(events[0].2["meetingId"], id);
    assert_eq!(events[0].0, events[0].2["seq"].as_u64().unwrap());

    // A reconnecting client passes the last id it saw and gets only what came after.
    let token = meeting["adminToken"].as_str().unwrap();
    app.delete(&format!("/api/meetings/{id}"), &key, Some(token))
        .await;
    let resumed = open(Some(events[0].0)).await.unwrap();
    let after = sse_events(resumed, 2).await;
    assert_eq!(
        after.iter().map(|e| e.1.as_str()).collect::<Vec<_>>(),
        ["meeting.activated", "meeting.ended"]
    );
}
