//! Meetings with a Socket.IO client crate nobody here wrote (rust_socketio): it connects with
//! its defaults (long-polling, then WebSocket), joins, chats and hears the REST kick.

use futures_util::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::helpers::{spawn_app, TestApp};

/// A connected client and the events it receives, as `(name, first argument)`.
async fn connect(app: &TestApp) -> (Client, mpsc::UnboundedReceiver<(String, Value)>) {
    let (heard, events) = mpsc::unbounded_channel();
    let client = ClientBuilder::new(app.address.clone())
        .on_any(move |event: Event, payload: Payload, _client: Client| {
            let heard = heard.clone();
            async move {
                let name = match event {
                    Event::Custom(name) => name,
                    other => String::from(other.as_str()),
                };
                let data = match payload {
                    Payload::Text(mut args) if !args.is_empty() => args.remove(0),
                    _ => Value::Null,
                };
                let _ = heard.send((name, data));
            }
            .boxed()
        })
        .connect()
        .await
        .expect("connect");
    (client, events)
}

async fn expect(events: &mut mpsc::UnboundedReceiver<(String, Value)>, name: &str) -> Value {
    loop {
        let (event, data) = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv())
            .await
            .unwrap_or_else(|_| panic!("no {name} within 5 s"))
            .expect("the client is gone");
        if event == name {
            return data;
        }
    }
}

#[tokio::test]
async fn a_rust_socketio_client_joins_chats_and_is_kicked() {
    let app = spawn_app().await;
    let key = app.register("rust-client@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Crates"})).await;
    let (id, token) = (
        meeting["meetingId"].as_str().unwrap().to_owned(),
        meeting["adminToken"].as_str().unwrap().to_owned(),
    );

    let (host, mut host_events) = connect(&app).await;
    host.emit(
        "join-meeting",
        json!({"meetingId": id, "name": "Ada", "isAdmin": true, "adminToken": token}),
    )
    .await
    .unwrap();
    assert_eq!(expect(&mut host_events, "joined").await["isAdmin"], true);

    let (guest, mut guest_events) = connect(&app).await;
    guest
        .emit("join-meeting", json!({"meetingId": id, "name": "Bob"}))
        .await
        .unwrap();
    let joined = expect(&mut guest_events, "joined").await;
    let bob = joined["participantId"].as_str().unwrap().to_owned();
    assert_eq!(
        expect(&mut host_events, "participant:joined").await["name"],
        "Bob"
    );

    guest
        .emit("chat:message", json!({"text": "from a crate"}))
        .await
        .unwrap();
    let chat = expect(&mut host_events, "chat:message").await;
    assert_eq!(chat["text"], "from a crate");

    let kicked = app
        .client
        .post(app.url(&format!("/api/meetings/{id}/participants/{bob}/kick")))
        .header("x-api-key", &key)
        .header("x-admin-token", &token)
        .json(&json!({"reason": "done"}))
        .send()
        .await
        .unwrap();
    assert!(kicked.status().is_success());
    assert_eq!(
        expect(&mut guest_events, "admin:kick").await,
        json!({"reason": "done"})
    );
    assert_eq!(
        expect(&mut host_events, "participant:left").await["name"],
        "Bob"
    );
    let _ = host.disconnect().await;
}
