//! `/ws` with a real WebSocket client (tokio-tungstenite): JSON text frames and MessagePack
//! binary frames in one meeting, acks, and a malformed frame closing only its own connection.

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_app, TestApp};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) struct Client {
    socket: Socket,
    msgpack: bool,
}

impl Client {
    pub(crate) async fn connect(app: &TestApp, msgpack: bool) -> Client {
        let url = app.address.replace("http://", "ws://")
            + if msgpack { "/ws?format=msgpack" } else { "/ws" };
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        Client { socket, msgpack }
    }

    pub(crate) async fn send(&mut self, frame: Value) {
        let message = if self.msgpack {
            Message::binary(rmp_serde::to_vec_named(&frame).unwrap())
        } else {
            Message::text(frame.to_string())
        };
        self.socket.send(message).await.unwrap();
    }

    /// The next event or ack, as JSON; `None` when the server closed the connection.
    pub(crate) async fn next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(crate::helpers::DEADLINE, self.socket.next())
                .await
                .expect("a frame within the deadline")?
                .ok()?;
            match message {
                Message::Text(text) => {
                    assert!(!self.msgpack, "a msgpack client gets binary frames");
                    return Some(serde_json::from_str(&text).unwrap());
                }
                Message::Binary(bytes) => {
                    assert!(self.msgpack, "a JSON client gets text frames");
                    return Some(rmp_serde::from_slice(&bytes).unwrap());
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Skips frames until the event `name`; returns its data.
    pub(crate) async fn expect(&mut self, name: &str) -> Value {
        loop {
            let frame = self
                .next()
                .await
                .unwrap_or_else(|| panic!("closed before {name}"));
            if frame["event"] == name {
                return frame["data"].clone();
            }
        }
    }
}

#[tokio::test]
async fn json_and_msgpack_clients_share_a_meeting() {
    let app = spawn_app().await;
    let key = app.register("ws-host@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Frames"})).await;
    let (id, token) = (meeting["meetingId"].clone(), meeting["adminToken"].clone());

    let mut host = Client::connect(&app, false).await;
    host.send(json!({"event": "join-meeting", "data": {"meetingId": id, "name": "Ada", "isAdmin": true, "adminToken": token}}))
        .await;
    let joined = host.expect("joined").await;
    assert_eq!(joined["isAdmin"], true);

    let mut guest = Client::connect(&app, true).await;
    guest
        .send(json!({"event": "join-meeting", "data": {"meetingId": id, "name": "Bob"}, "ack": 1}))
        .await;
    let joined = guest.expect("joined").await;
    assert_eq!(joined["participants"][0]["name"], "Ada");
    let ack = guest.next().await.unwrap();
    assert_eq!(ack, json!({"ack": 1, "data": {"ok": true}}));
    let bob = host.expect("participant:joined").await;
    assert_eq!(bob["name"], "Bob");

    guest
        .send(json!({"event": "chat:message", "data": {"text": "binary hello"}, "ack": 2}))
        .await;
    let chat = host.expect("chat:message").await;
    assert_eq!(
        (chat["name"].as_str(), chat["text"].as_str()),
        (Some("Bob"), Some("binary hello"))
    );
    assert_eq!(guest.expect("chat:message").await["text"], "binary hello");

    // A refusal is an error event and a negative ack.
    guest
        .send(json!({"event": "host:mute-all", "ack": 3}))
        .await;
    assert_eq!(
        guest.expect("error").await["message"],
        "only the host can do that"
    );
    assert_eq!(guest.next().await.unwrap()["data"]["ok"], false);

    // A malformed frame closes that connection only.
    let mut broken = Client::connect(&app, false).await;
    broken
        .socket
        .send(Message::text("{not json"))
        .await
        .unwrap();
    assert_eq!(broken.next().await, None);
    host.send(json!({"event": "host:mute-all"})).await;
    assert_eq!(guest.expect("meeting:all-muted").await, json!({}));
}

#[tokio::test]
async fn an_unknown_format_is_a_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/ws?format=xml"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_request_without_a_proper_handshake_is_refused() {
    let app = spawn_app().await;
    let plain = app.client.get(app.url("/ws")).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::UPGRADE_REQUIRED);
    let old_version = app
        .client
        .get(app.url("/ws"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "8")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(old_version.status(), StatusCode::BAD_REQUEST);
    let body: Value = old_version.json().await.unwrap();
    assert_eq!(
        body["error"],
        "bad websocket handshake: sec-websocket-version must be 13"
    );
}
