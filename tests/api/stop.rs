//! A clean stop of the real binary (issue 15 §4): with 200 realtime clients connected —
//! Socket.IO over WebSocket and `/ws` — SIGTERM makes every client hear that the server is
//! going (Socket.IO's namespace DISCONNECT and close, a WebSocket close frame with its reason),
//! the process exits within its grace, and the data directory is free for the auditor's CLI at
//! once.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::convene;
use crate::helpers::{poll_until, spawn_binary, DEADLINE};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The real binary, room for 500 in a meeting.
fn spawn_server(data: &std::path::Path, port: u16) -> std::process::Child {
    let caps = [
        ("CONVENE_LIMITS_MAX_PARTICIPANTS", "500"),
        ("CONVENE_LIMITS_DEFAULT_MAX_PARTICIPANTS", "500"),
    ];
    spawn_binary(data, port, &caps)
}

/// Reads text frames until one starts with `prefix`; returns it.
async fn text_starting(socket: &mut Socket, prefix: &str) -> String {
    tokio::time::timeout(DEADLINE, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) if text.starts_with(prefix) => {
                    return text.as_str().to_owned()
                }
                Some(Ok(_)) => {}
                other => panic!("closed before {prefix}: {other:?}"),
            }
        }
    })
    .await
    .expect("in time")
}

/// Waits for a `/ws` client's `joined`.
async fn joined(socket: &mut Socket) {
    tokio::time::timeout(DEADLINE, async {
        loop {
            if let Some(Ok(Message::Text(text))) = socket.next().await {
                let frame: Value = serde_json::from_str(&text).unwrap();
                assert_ne!(frame["event"], "error", "{frame}");
                if frame["event"] == "joined" {
                    return;
                }
            }
        }
    })
    .await
    .expect("joined in time")
}

/// The child server, killed if the test ends before it does.
struct Child(Option<std::process::Child>);

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Everything the server sends until the connection ends: the texts, and the close frame's
/// reason if there was one.
async fn until_closed(mut socket: Socket) -> (Vec<String>, Option<String>) {
    tokio::time::timeout(DEADLINE, async {
        let mut texts = Vec::new();
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => texts.push(text.as_str().to_owned()),
                Some(Ok(Message::Close(frame))) => {
                    return (texts, frame.map(|f| f.reason.as_str().to_owned()))
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (texts, None),
            }
        }
    })
    .await
    .expect("every client hears the end in time")
}

#[tokio::test]
async fn sigterm_closes_every_realtime_client_and_frees_the_store() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let ws_base = format!("ws://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = Child(Some(spawn_server(data.path(), port)));
    poll_until("the server to answer", || async {
        client.get(format!("{base}/healthz")).send().await.ok()
    })
    .await;
    let registered: Value = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": "stopper@example.com", "password": "secret123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = registered["apiKey"].as_str().unwrap();
    let meeting: Value = client
        .post(format!("{base}/api/meetings"))
        .header("x-api-key", key)
        .json(&json!({"title": "Until the stop"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let meeting_id = meeting["meetingId"].as_str().unwrap().to_owned();

    // 100 `/ws` clients in the meeting, 100 Socket.IO clients over WebSocket in the main
    // namespace. (A long-poll waiting at the stop is answered too: tests/api/socketio.rs shows
    // it in-process, where the poll is known to be waiting when the stop comes.)
    let mut ws_clients = Vec::new();
    for n in 0..100 {
        let (mut socket, _) = tokio_tungstenite::connect_async(format!("{ws_base}/ws"))
            .await
            .unwrap();
        let join = json!({"event": "join-meeting", "data": {"meetingId": meeting_id, "name": format!("ws {n}")}});
        socket.send(Message::text(join.to_string())).await.unwrap();
        joined(&mut socket).await;
        ws_clients.push(socket);
    }
    let mut sio_clients = Vec::new();
    for _ in 0..100 {
        let url = format!("{ws_base}/socket.io/?EIO=4&transport=websocket");
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        text_starting(&mut socket, "0{").await;
        socket.send(Message::text("40")).await.unwrap();
        text_starting(&mut socket, "40{").await;
        sio_clients.push(socket);
    }
    let asked = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.0.as_ref().unwrap().id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    for socket in ws_clients {
        let (_, reason) = until_closed(socket).await;
        assert_eq!(reason.as_deref(), Some("server shutting down"));
    }
    for socket in sio_clients {
        let (texts, reason) = until_closed(socket).await;
        let tail: Vec<&str> = texts
            .iter()
            .map(String::as_str)
            .filter(|t| *t != "2")
            .collect();
        assert_eq!(tail, ["41", "1"], "namespace DISCONNECT, then close");
        assert_eq!(reason.as_deref(), Some("server shutting down"));
    }
    let mut child = server.0.take().unwrap();
    let exited = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        (status, asked.elapsed())
    })
    .await
    .unwrap();
    assert!(exited.0.success(), "{:?}", exited.0);
    assert!(
        exited.1 < Duration::from_secs(2),
        "exited {:?} after SIGTERM, past the 2 s bound",
        exited.1
    );

    // The store is released: the auditor's CLI runs at once, and the chain holds, with every
    // /ws participant's leave logged before the stop.
    let verified = convene(&[
        "audit",
        "verify",
        "--data",
        data.path().join("store").to_str().unwrap(),
    ]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let replay = convene(&[
        "audit",
        "meeting",
        &meeting_id,
        "--data",
        data.path().join("store").to_str().unwrap(),
    ]);
    assert!(replay.status.success());
    let state: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(state["state"]["participants"], json!({}), "{state}");
}
