//! The Engine.IO / Socket.IO layer at the protocol level, over raw HTTP long-polling: what a
//! library client never sends (bad handshakes, overlapping polls, malformed packets, silence).
//! The npm client's view is in tests/socketio/ (run by .ci/run).

use std::sync::Arc;
use std::time::Duration;

use convene::realtime::engineio::EngineConfig;
use convene::realtime::socketio::{self, Event, Handler, Socket, SocketIoConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

struct Echo;

impl Handler for Echo {
    async fn connect(&self, _socket: &Socket, _auth: &Value) -> Result<(), String> {
        Ok(())
    }

    async fn connected(&self, _socket: &Socket, _auth: &Value) {}

    /// `ask` is put to the client as `question`, with an ack request; its answer comes back as
    /// `answered`. Anything else is echoed as `echo`.
    async fn event(&self, socket: &Socket, event: Event) {
        if event.name == "ask" {
            let answered = socket.emit_with_ack("question", event.payload);
            let socket = socket.clone();
            tokio::spawn(async move {
                if let Ok(answer) = answered.await {
                    socket.emit("answered", answer);
                }
            });
        } else {
            socket.emit("echo", event.payload);
        }
    }

    async fn disconnect(&self, _socket: &Socket, _reason: &str) {}
}

/// The layer with the echo handler, a 100 ms ping timeout and the given heartbeat.
fn echo_engine(
    ping_interval_ms: u64,
    connect_timeout_ms: u64,
) -> convene::realtime::engineio::Engine {
    socketio::engine(
        EngineConfig {
            ping_interval: Duration::from_millis(ping_interval_ms),
            ping_timeout: Duration::from_millis(100),
            max_payload: 10_000,
            send_queue: 64,
        },
        SocketIoConfig {
            connect_timeout: Duration::from_millis(connect_timeout_ms),
        },
        Arc::new(Echo),
    )
}

/// Serves the layer on 127.0.0.1:0; returns its `/socket.io/` URL.
async fn serve(ping_interval_ms: u64, connect_timeout_ms: u64) -> String {
    let engine = echo_engine(ping_interval_ms, connect_timeout_ms);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/socket.io/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        engine
            .server()
            .serve(listener, std::future::pending())
            .await
    });
    url
}

/// The layer in-process, through warp's test client: for the tests on tokio's paused clock,
/// where heartbeats and timeouts fire in virtual time and nothing waits on a socket.
struct Local {
    routes: warp::filters::BoxedFilter<(warp::reply::Response,)>,
}

impl Local {
    fn new(ping_interval_ms: u64, connect_timeout_ms: u64) -> Local {
        let engine = echo_engine(ping_interval_ms, connect_timeout_ms);
        Local {
            routes: warp::Filter::boxed(engine.routes()),
        }
    }

    async fn request(&self, method: &str, query: &str, body: &str) -> (StatusCode, String) {
        let response = warp::test::request()
            .method(method)
            .path(&format!("/socket.io/?{query}"))
            .body(body)
            .reply(&self.routes)
            .await;
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, String::from_utf8(response.body().to_vec()).unwrap())
    }

    async fn handshake(&self) -> String {
        let (_, open) = self.request("GET", "EIO=4&transport=polling", "").await;
        let handshake: Value = serde_json::from_str(open.strip_prefix('0').expect("open")).unwrap();
        handshake["sid"].as_str().unwrap().to_owned()
    }

    async fn joined(&self) -> String {
        let sid = self.handshake().await;
        assert_eq!(self.post(&sid, "40").await, StatusCode::OK);
        let (_, accepted) = self.poll(&sid).await;
        assert!(accepted.starts_with("40{"), "{accepted}");
        sid
    }

    async fn post(&self, sid: &str, body: &str) -> StatusCode {
        let query = format!("EIO=4&transport=polling&sid={sid}");
        self.request("POST", &query, body).await.0
    }

    async fn poll(&self, sid: &str) -> (StatusCode, String) {
        let query = format!("EIO=4&transport=polling&sid={sid}");
        self.request("GET", &query, "").await
    }
}

/// Opens a polling session; returns its sid.
async fn handshake(client: &Client, url: &str) -> String {
    let open = client
        .get(format!("{url}?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let handshake: Value = serde_json::from_str(open.strip_prefix('0').expect("open")).unwrap();
    handshake["sid"].as_str().unwrap().to_owned()
}

/// Opens a session and joins the main namespace; returns its sid.
async fn joined(client: &Client, url: &str) -> String {
    let sid = handshake(client, url).await;
    assert_eq!(post(client, url, &sid, "40").await, StatusCode::OK);
    let (_, accepted) = poll(client, url, &sid).await;
    assert!(accepted.starts_with("40{"), "{accepted}");
    sid
}

async fn post(client: &Client, url: &str, sid: &str, body: &str) -> StatusCode {
    client
        .post(format!("{url}?EIO=4&transport=polling&sid={sid}"))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

async fn poll(client: &Client, url: &str, sid: &str) -> (StatusCode, String) {
    let response = client
        .get(format!("{url}?EIO=4&transport=polling&sid={sid}"))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_handshake_announces_the_session_and_bad_ones_are_400() {
    let url = serve(60_000, 60_000).await;
    let client = Client::new();
    let open = client
        .get(format!("{url}?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let handshake: Value = serde_json::from_str(&open[1..]).unwrap();
    assert_eq!(&open[..1], "0");
    assert_eq!(handshake["upgrades"], json!(["websocket"]));
    assert_eq!(handshake["pingInterval"], 60_000);
    assert_eq!(handshake["pingTimeout"], 100);
    assert_eq!(handshake["maxPayload"], 10_000);

    for (query, method, code) in [
        ("transport=polling", "GET", 5),
        ("EIO=3&transport=polling", "GET", 5),
        ("EIO=4&transport=carrier-pigeon", "GET", 0),
        ("EIO=4&transport=polling", "PUT", 2),
        ("EIO=4&transport=polling&sid=nope", "GET", 1),
        ("EIO=4&transport=websocket", "GET", 3),
    ] {
        let response = client
            .request(method.parse().unwrap(), format!("{url}?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{method} {query}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{method} {query}");
    }
}

#[tokio::test]
async fn connect_emit_and_echo_over_long_polling() {
    let url = serve(60_000, 60_000).await;
    let client = Client::new();
    let sid = handshake(&client, &url).await;
    assert_eq!(post(&client, &url, &sid, "40").await, StatusCode::OK);
    let (_, connected) = poll(&client, &url, &sid).await;
    let accepted: Value = serde_json::from_str(connected.strip_prefix("40").unwrap()).unwrap();
    assert!(accepted["sid"].is_string());

    let status = post(
        &client,
        &url,
        &sid,
        "42[\"hi\",1]\x1e42[\"there\",{\"a\":2}]",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, echoes) = poll(&client, &url, &sid).await;
    assert_eq!(echoes, "42[\"echo\",1]\x1e42[\"echo\",{\"a\":2}]");
}

#[tokio::test(start_paused = true)]
async fn an_overlapping_poll_is_refused_and_ends_the_session() {
    let local = Arc::new(Local::new(60_000, 60_000));
    let sid = local.handshake().await;
    let first = tokio::spawn({
        let (local, sid) = (local.clone(), sid.clone());
        async move { local.poll(&sid).await }
    });
    // On the paused clock this returns once every task is idle: the first poll is waiting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _) = local.poll(&sid).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, ended) = first.await.unwrap();
    assert_eq!(ended, "1", "the pending poll learns the session is closed");
}

#[tokio::test]
async fn malformed_packets_end_only_that_connection() {
    let url = serve(60_000, 60_000).await;
    let client = Client::new();
    let healthy = joined(&client, &url).await;

    for bad in [
        "49",
        "42{\"not\":\"an array\"}",
        "43[\"an ack nobody asked for\"]",
        "8",
        "b!!",
    ] {
        let sid = joined(&client, &url).await;
        post(&client, &url, &sid, bad).await;
        let (status, body) = poll(&client, &url, &sid).await;
        assert!(
            body == "1" || status == StatusCode::BAD_REQUEST,
            "{bad:?}: the connection is closed ({status} {body:?})"
        );
    }

    post(&client, &url, &healthy, "42[\"still\",\"here\"]").await;
    let (_, echo) = poll(&client, &url, &healthy).await;
    assert_eq!(
        echo, "42[\"echo\",\"here\"]",
        "the event's arguments, under a new name"
    );
}

#[tokio::test(start_paused = true)]
async fn silence_is_closed_by_the_connect_timeout_and_the_ping_timeout() {
    // Joins no namespace: closed after the connect timeout.
    let local = Local::new(60_000, 200);
    let sid = local.handshake().await;
    let (_, body) = local.poll(&sid).await;
    assert_eq!(body, "1");

    // Joins, then never answers a ping: closed after pingInterval + pingTimeout.
    let local = Local::new(150, 60_000);
    let sid = local.joined().await;
    let (_, ping) = local.poll(&sid).await;
    assert_eq!(ping, "2");
    let (_, body) = local.poll(&sid).await;
    assert_eq!(body, "1");
    let (status, _) = local.poll(&sid).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the sid is forgotten");

    // Answers its pings: stays.
    let sid = local.joined().await;
    for _ in 0..3 {
        let (_, ping) = local.poll(&sid).await;
        assert_eq!(ping, "2");
        local.post(&sid, "3").await;
    }
    local.post(&sid, "42[\"alive\"]").await;
    let (_, echo) = local.poll(&sid).await;
    assert_eq!(echo, "42[\"echo\"]");
}

/// The binary attachment of an event is echoed as a binary attachment.
#[tokio::test]
async fn binary_attachments_travel_as_base64_over_polling() {
    let url = serve(60_000, 60_000).await;
    let client = Client::new();
    let sid = joined(&client, &url).await;
    let event = "451-[\"bin\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID";
    assert_eq!(post(&client, &url, &sid, event).await, StatusCode::OK);
    let (_, echo) = poll(&client, &url, &sid).await;
    assert_eq!(
        echo,
        "451-[\"echo\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID"
    );
}

/// Polls until the payloads so far contain `needle`; returns everything received.
async fn poll_for(client: &Client, url: &str, sid: &str, needle: &str) -> String {
    let mut received = String::new();
    for _ in 0..20 {
        let (status, body) = poll(client, url, sid).await;
        assert_eq!(status, StatusCode::OK, "{received}");
        received.push_str(&body);
        received.push('\u{1e}');
        if received.contains(needle) {
            return received;
        }
    }
    panic!("no {needle} in {received}");
}

#[tokio::test]
async fn a_kicked_polling_client_gets_the_kick_a_disconnect_and_the_close() {
    let app = crate::helpers::spawn_app().await;
    let key = app.register("poll-host@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Polls"})).await;
    let (id, token) = (
        meeting["meetingId"].as_str().unwrap(),
        meeting["adminToken"].as_str().unwrap(),
    );
    let url = app.url("/socket.io/");
    let client = &app.client;
    let sid = joined(client, &url).await;
    let join = json!(["join-meeting", {"meetingId": id, "name": "Ada"}]);
    assert_eq!(
        post(client, &url, &sid, &format!("42{join}")).await,
        StatusCode::OK
    );
    let received = poll_for(client, &url, &sid, "\"joined\"").await;
    let joined_at = received.find("42[\"joined\",").unwrap();
    let joined: Value =
        serde_json::from_str(received[joined_at + 2..].split('\u{1e}').next().unwrap()).unwrap();
    let participant = joined[1]["participantId"].as_str().unwrap();

    // The kick happens while no poll is pending: the session keeps what it was sent.
    let kick = client
        .post(app.url(&format!(
            "/api/meetings/{id}/participants/{participant}/kick"
        )))
        .header("x-api-key", &key)
        .header("x-admin-token", token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(kick.status(), StatusCode::OK);
    let received = poll_for(client, &url, &sid, "\u{1e}1\u{1e}").await;
    let kick_at = received.find("admin:kick").expect("the kick is delivered");
    let disconnect_at = received
        .find("\u{1e}41\u{1e}")
        .expect("a namespace disconnect, so the client does not reconnect");
    assert!(kick_at < disconnect_at, "{received}");
    // The close has been taken: the session is gone.
    let (status, _) = poll(client, &url, &sid).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_second_connect_to_the_namespace_replaces_the_first_membership() {
    let app = crate::helpers::spawn_app().await;
    let key = app.register("reconnect@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Twice"})).await;
    let id = meeting["meetingId"].as_str().unwrap();
    let url = app.url("/socket.io/");
    let client = &app.client;
    let sid = joined(client, &url).await;
    let join = json!(["join-meeting", {"meetingId": id, "name": "Ada"}]);
    assert_eq!(
        post(client, &url, &sid, &format!("42{join}")).await,
        StatusCode::OK
    );
    poll_for(client, &url, &sid, "\"joined\"").await;
    let present = |detail: &Value| detail["participants"].as_array().map(Vec::len) == Some(1);
    app.eventually(&format!("/api/meetings/{id}"), &key, present)
        .await;

    // The same connection joins the namespace again: the old membership leaves the meeting
    // rather than staying behind as a participant nobody can reach.
    assert_eq!(post(client, &url, &sid, "40").await, StatusCode::OK);
    poll_for(client, &url, &sid, "40{").await;
    let left = |detail: &Value| detail["participants"].as_array().map(Vec::len) == Some(0);
    app.eventually(&format!("/api/meetings/{id}"), &key, left)
        .await;
}

#[tokio::test]
async fn the_server_asks_for_an_ack_and_an_unknown_ack_id_ends_the_session() {
    let url = serve(60_000, 60_000).await;
    let client = Client::new();
    let sid = joined(&client, &url).await;
    post(&client, &url, &sid, "42[\"ask\",1]").await;
    let (_, question) = poll(&client, &url, &sid).await;
    assert_eq!(question, "421[\"question\",1]", "ack ids count from 1");
    post(&client, &url, &sid, "431[\"yes\"]").await;
    let (_, answered) = poll(&client, &url, &sid).await;
    assert_eq!(answered, "42[\"answered\",\"yes\"]");

    // The same id twice: nobody is waiting for it any more, and the session is over.
    post(&client, &url, &sid, "431[\"again\"]").await;
    let (status, _) = poll(&client, &url, &sid).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(start_paused = true)]
async fn a_client_close_releases_the_waiting_poll_with_a_noop() {
    let local = Arc::new(Local::new(60_000, 60_000));
    let sid = local.joined().await;
    let waiting = tokio::spawn({
        let (local, sid) = (local.clone(), sid.clone());
        async move { local.poll(&sid).await }
    });
    // On the paused clock this returns once every task is idle: the poll is waiting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(local.post(&sid, "1").await, StatusCode::OK);
    assert_eq!(waiting.await.unwrap(), (StatusCode::OK, "6".to_owned()));
    let (status, _) = local.poll(&sid).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the sid is forgotten");
}

#[tokio::test(start_paused = true)]
async fn a_polling_client_that_missed_its_ping_timeout_gets_400() {
    let local = Local::new(100, 60_000);
    let sid = local.joined().await;
    let (_, ping) = local.poll(&sid).await;
    assert_eq!(ping, "2");
    // No pong, and no poll while the timeout (100 ms, in virtual time) passes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, _) = local.poll(&sid).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Greets each socket that joins a namespace with `welcome`, from its `connected` handler.
struct Greeter;

impl Handler for Greeter {
    async fn connect(&self, _socket: &Socket, _auth: &Value) -> Result<(), String> {
        Ok(())
    }

    async fn connected(&self, socket: &Socket, _auth: &Value) {
        socket.emit(
            "welcome",
            socketio::Payload::json(vec![json!(socket.namespace())]),
        );
    }

    async fn event(&self, socket: &Socket, event: Event) {
        socket.emit("echo", event.payload);
    }

    async fn disconnect(&self, _socket: &Socket, _reason: &str) {}
}

/// The reference server writes a namespace's CONNECT answer before its connection handler
/// runs: the answer is a payload of its own, and what the handler emits comes after it.
#[tokio::test(start_paused = true)]
async fn the_connect_answer_is_written_before_the_handler_emits() {
    let engine = socketio::engine(
        EngineConfig {
            ping_interval: Duration::from_secs(60),
            ping_timeout: Duration::from_millis(100),
            max_payload: 10_000,
            send_queue: 64,
        },
        SocketIoConfig {
            connect_timeout: Duration::from_secs(60),
        },
        Arc::new(Greeter),
    );
    let local = Local {
        routes: warp::Filter::boxed(engine.routes()),
    };
    let sid = local.handshake().await;
    assert_eq!(local.post(&sid, "40").await, StatusCode::OK);
    let (_, first) = local.poll(&sid).await;
    assert!(
        first.starts_with("40{") && !first.contains('\u{1e}'),
        "the CONNECT answer alone: {first:?}"
    );
    let (_, second) = local.poll(&sid).await;
    assert_eq!(second, "42[\"welcome\",\"/\"]");
}

/// Leaving a namespace ends that namespace's socket only: the Engine.IO connection stays (it
/// is still pinged), and the main namespace still answers after a custom one is left.
#[tokio::test(start_paused = true)]
async fn leaving_a_namespace_keeps_the_connection_open() {
    let local = Local::new(300, 60_000);
    let sid = local.joined().await;
    assert_eq!(local.post(&sid, "40/custom").await, StatusCode::OK);
    let (_, custom) = local.poll(&sid).await;
    assert!(custom.starts_with("40/custom,{"), "{custom}");
    local
        .post(&sid, "41/custom\u{1e}42[\"still\",\"main\"]")
        .await;
    let (_, echo) = local.poll(&sid).await;
    assert_eq!(echo, "42[\"echo\",\"main\"]");

    assert_eq!(local.post(&sid, "41").await, StatusCode::OK);
    let (status, ping) = local.poll(&sid).await;
    assert_eq!(
        (status, ping.as_str()),
        (StatusCode::OK, "2"),
        "still pinged"
    );
    local.post(&sid, "3").await;
    assert_eq!(local.post(&sid, "40").await, StatusCode::OK);
    let (_, again) = local.poll(&sid).await;
    assert!(
        again.starts_with("40{"),
        "the main namespace can be joined again: {again}"
    );
}

/// A second WebSocket for a session that has upgraded already is accepted and then closed, as
/// the reference server does (it was refused with a 400); the session keeps its WebSocket.
#[tokio::test]
async fn a_second_websocket_for_an_upgraded_session_is_accepted_then_closed() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let url = serve(60_000, 60_000).await;
    let client = Client::new();
    let sid = handshake(&client, &url).await;
    let ws_url = format!(
        "{}?EIO=4&transport=websocket&sid={sid}",
        url.replace("http://", "ws://")
    );
    let (mut first, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    first.send(Message::text("2probe")).await.unwrap();
    let probe = first.next().await.unwrap().unwrap();
    assert_eq!(probe.to_text().unwrap(), "3probe");
    first.send(Message::text("5")).await.unwrap();
    first.send(Message::text("40")).await.unwrap();
    let connected = tokio::time::timeout(crate::helpers::DEADLINE, async {
        loop {
            let text = first.next().await.unwrap().unwrap().into_text().unwrap();
            if text.starts_with("40") {
                return text;
            }
        }
    })
    .await
    .expect("the upgraded session answers");
    assert!(connected.starts_with("40{"), "{connected}");

    let (mut second, response) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("the handshake is accepted");
    assert_eq!(response.status(), 101);
    let closed = tokio::time::timeout(crate::helpers::DEADLINE, second.next())
        .await
        .expect("closed at once");
    assert!(
        matches!(closed, None | Some(Ok(Message::Close(_)))),
        "{closed:?}"
    );
    // The first one still works.
    first.send(Message::text("42[\"ping\",1]")).await.unwrap();
    let echo = tokio::time::timeout(crate::helpers::DEADLINE, async {
        loop {
            let text = first.next().await.unwrap().unwrap().into_text().unwrap();
            if text.starts_with("42") {
                return text;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(echo.as_str(), "42[\"echo\",1]");
}

/// A stopping server answers a long-poll that is waiting: the namespace's DISCONNECT, then the
/// close (the real binary's stop is in tests/api/stop.rs).
#[tokio::test(start_paused = true)]
async fn a_waiting_poll_hears_the_stop() {
    let connections = convene::net::connections::Connections::default();
    let engine = echo_engine(60_000, 60_000).with_connections(connections.clone());
    let local = Arc::new(Local {
        routes: warp::Filter::boxed(engine.routes()),
    });
    let sid = local.joined().await;
    let waiting = tokio::spawn({
        let (local, sid) = (local.clone(), sid.clone());
        async move { local.poll(&sid).await }
    });
    // On the paused clock this returns once every task is idle: the poll is waiting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    connections.stop();
    assert_eq!(
        waiting.await.unwrap(),
        (StatusCode::OK, "41\u{1e}1".to_owned())
    );
    assert!(
        connections.drained(Duration::from_secs(1)).await,
        "the session's handler has heard the end"
    );
}
