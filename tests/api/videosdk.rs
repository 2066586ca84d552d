//! The VideoSDK v2 dialect against the real server: credentials, JWT claims, rooms, sessions
//! with a realtime join by token, per-room webhooks, and the 501s of the media plane.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use convene::webhooks::signing;
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp, T0};
use crate::receiver::Receiver;
use crate::ws::Client;

/// An account's VideoSDK credential.
struct Credential {
    /// The account's native API key.
    key: String,
    api_key: String,
    secret: String,
}

impl Credential {
    async fn create(app: &TestApp, email: &str) -> Credential {
        let key = app.register(email).await;
        let response = app
            .post_json("/api/user/videosdk-credentials", Some(&key), &json!({}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["apiKey", "message", "secret"]);
        Credential {
            key,
            api_key: body["apiKey"].as_str().unwrap().to_owned(),
            secret: body["secret"].as_str().unwrap().to_owned(),
        }
    }

    /// A token with these extra claims, valid for two hours of the test clock.
    fn token(&self, extra: Value) -> String {
        let mut claims = json!({
            "apikey": self.api_key,
            "permissions": ["allow_join"],
            "exp": T0 / 1000 + 7200,
        });
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        sign(&claims, &self.secret)
    }

    fn crawler(&self) -> String {
        self.token(json!({"version": 2, "roles": ["crawler"]}))
    }
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn json_of(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// An error answer: the status, and a message containing `needle`.
async fn error_of(response: Response, status: StatusCode, needle: &str) {
    let body = json_of(response, status).await;
    assert_eq!(body["httpStatus"], status.as_u16(), "{body}");
    assert_eq!(body["code"], u32::from(status.as_u16()) * 10, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
}

async fn create_room(app: &TestApp, token: &str, body: Value) -> Value {
    json_of(
        call(app, "POST", "/v2/rooms", Some(token), Some(body)).await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn rooms_are_created_listed_validated_and_deactivated() {
    let app = spawn_app().await;
    let credential = Credential::create(&app, "vsdk-rooms@example.com").await;
    let token = credential.crawler();

    let room = create_room(&app, &token, json!({})).await;
    let mut keys: Vec<&str> = room
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "autoCloseConfig",
            "createdAt",
            "customRoomId",
            "disabled",
            "id",
            "links",
            "roomId",
            "updatedAt",
            "userId",
            "webhook"
        ]
    );
    let room_id = room["roomId"].as_str().unwrap();
    assert_eq!(room_id.len(), 14);
    assert_eq!(room["disabled"], false);
    assert_eq!(room["customRoomId"], Value::Null);
    assert!(room["userId"].as_str().unwrap().starts_with("account-"));
    assert_eq!(room["createdAt"], "2026-03-01T12:00:00.000Z");
    assert!(room["links"]["get_room"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/v2/rooms/{room_id}")));

    // customRoomId makes creation idempotent; the second answer is the same room.
    let custom = create_room(
        &app,
        &token,
        json!({"customRoomId": "standup", "autoCloseConfig": {"type": "session-ends"}}),
    )
    .await;
    assert_eq!(
        custom["autoCloseConfig"],
        json!({"type": "session-ends", "duration": 480})
    );
    let again = create_room(
        &app,
        &format!("Bearer {token}"),
        json!({"customRoomId": "standup"}),
    )
    .await;
    assert_eq!(again["roomId"], custom["roomId"]);

    // Bad bodies name their field.
    for (body, needle) in [
        (json!({"customRoomId": ""}), "customRoomId"),
        // An existing customRoomId does not excuse the rest of the body.
        (
            json!({"customRoomId": "standup", "autoCloseConfig": {"type": "session-ends", "duration": 0}}),
            "duration",
        ),
        (json!({"autoStartConfig": {}}), "autoStartConfig"),
        (json!({"autoCloseConfig": {"type": "never"}}), "type"),
        (
            json!({"autoCloseConfig": {"type": "session-ends", "duration": 0}}),
            "duration",
        ),
        (
            json!({"webhook": {"endPoint": "ftp://x", "events": ["session-started"]}}),
            "webhook.endPoint",
        ),
        (
            json!({"webhook": {"endPoint": "http://127.0.0.1:9/h", "events": ["recording-started"]}}),
            "webhook.events",
        ),
        (
            json!({"webhook": {"endPoint": "http://127.0.0.1:9/h", "events": []}}),
            "webhook.events",
        ),
    ] {
        error_of(
            call(&app, "POST", "/v2/rooms", Some(&token), Some(body)).await,
            StatusCode::BAD_REQUEST,
            needle,
        )
        .await;
    }

    // Newest first, with pageInfo; page 0 and perPage 0 are 400, a huge perPage is clamped.
    let list = json_of(
        call(&app, "GET", "/v2/rooms?perPage=1", Some(&token), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        list["pageInfo"],
        json!({"currentPage": 1, "perPage": 1, "lastPage": 2, "total": 2})
    );
    assert_eq!(list["data"][0]["roomId"], custom["roomId"]);
    let second = json_of(
        call(
            &app,
            "GET",
            "/v2/rooms?page=2&perPage=1",
            Some(&token),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["data"][0]["roomId"], room_id);
    let past = json_of(
        call(
            &app,
            "GET",
            "/v2/rooms?page=3&perPage=1",
            Some(&token),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(past["data"], json!([]));
    let clamped = json_of(
        call(&app, "GET", "/v2/rooms?perPage=10000", Some(&token), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(clamped["pageInfo"]["perPage"], 100);
    assert_eq!(clamped["data"].as_array().unwrap().len(), 2);
    for query in ["page=0", "perPage=0", "page=-1", "perPage=abc"] {
        error_of(
            call(
                &app,
                "GET",
                &format!("/v2/rooms?{query}"),
                Some(&token),
                None,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "at least 1",
        )
        .await;
    }

    // Get and validate by roomId or customRoomId; unknown is 404.
    let got = json_of(
        call(&app, "GET", "/v2/rooms/standup", Some(&token), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["roomId"], custom["roomId"]);
    for method in ["GET", "POST"] {
        let valid = json_of(
            call(
                &app,
                method,
                &format!("/v2/rooms/validate/{room_id}"),
                Some(&token),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(valid["roomId"], room_id);
        error_of(
            call(
                &app,
                method,
                "/v2/rooms/validate/zzzz-zzzz-zzzz",
                Some(&token),
                None,
            )
            .await,
            StatusCode::NOT_FOUND,
            "room not found",
        )
        .await;
    }
    error_of(
        call(&app, "GET", "/v2/rooms/nope", Some(&token), None).await,
        StatusCode::NOT_FOUND,
        "room not found",
    )
    .await;

    // Deactivate: disabled, validation refuses it, a second deactivation changes nothing.
    let off = json_of(
        call(
            &app,
            "POST",
            "/v2/rooms/deactivate",
            Some(&token),
            Some(json!({"roomId": room_id})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(off["disabled"], true);
    error_of(
        call(
            &app,
            "GET",
            &format!("/v2/rooms/validate/{room_id}"),
            Some(&token),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "deactivated",
    )
    .await;
    let again = json_of(
        call(
            &app,
            "POST",
            "/v2/rooms/deactivate",
            Some(&token),
            Some(json!({"roomId": room_id})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["updatedAt"], off["updatedAt"]);
    error_of(
        call(
            &app,
            "POST",
            "/v2/rooms/deactivate",
            Some(&token),
            Some(json!({})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "roomId",
    )
    .await;
    error_of(
        call(
            &app,
            "POST",
            "/v2/rooms/deactivate",
            Some(&token),
            Some(json!({"roomId": "zzzz-zzzz-zzzz"})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "room not found",
    )
    .await;
}

#[tokio::test]
async fn tokens_are_checked_claim_by_claim() {
    let app = spawn_app().await;
    let credential = Credential::create(&app, "vsdk-jwt@example.com").await;
    let room = create_room(&app, &credential.crawler(), json!({})).await;
    let other = create_room(
        &app,
        &credential.crawler(),
        json!({"customRoomId": "other"}),
    )
    .await;
    let room_id = room["roomId"].as_str().unwrap();

    error_of(
        call(&app, "GET", "/v2/rooms", None, None).await,
        StatusCode::UNAUTHORIZED,
        "authorization",
    )
    .await;
    error_of(
        call(&app, "GET", "/v2/rooms", Some("not-a-jwt"), None).await,
        StatusCode::UNAUTHORIZED,
        "invalid token",
    )
    .await;
    let expired = credential.token(json!({"exp": T0 / 1000 - 1}));
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&expired), None).await,
        StatusCode::UNAUTHORIZED,
        "expired",
    )
    .await;
    // Still valid now; the clock moves past its expiry.
    let short = credential.token(json!({"exp": T0 / 1000 + 60}));
    json_of(
        call(&app, "GET", "/v2/rooms", Some(&short), None).await,
        StatusCode::OK,
    )
    .await;
    app.clock.advance(61_000);
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&short), None).await,
        StatusCode::UNAUTHORIZED,
        "expired",
    )
    .await;

    let claims = json!({"apikey": credential.api_key, "permissions": ["allow_join"], "exp": T0 / 1000 + 7200});
    let forged = sign(&claims, "not-the-secret");
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&forged), None).await,
        StatusCode::UNAUTHORIZED,
        "wrong signature",
    )
    .await;
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&unsigned), None).await,
        StatusCode::UNAUTHORIZED,
        "invalid token",
    )
    .await;
    let hs512 = encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(credential.secret.as_bytes()),
    )
    .unwrap();
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&hs512), None).await,
        StatusCode::UNAUTHORIZED,
        "HS256",
    )
    .await;
    let unknown = sign(
        &json!({"apikey": "nobody", "permissions": [], "exp": T0 / 1000 + 60}),
        "x",
    );
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&unknown), None).await,
        StatusCode::UNAUTHORIZED,
        "unknown apikey",
    )
    .await;
    let no_exp = sign(
        &json!({"apikey": credential.api_key, "permissions": []}),
        &credential.secret,
    );
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&no_exp), None).await,
        StatusCode::UNAUTHORIZED,
        "exp",
    )
    .await;
    let no_version = credential.token(json!({"roomId": room_id}));
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&no_version), None).await,
        StatusCode::UNAUTHORIZED,
        "version 2",
    )
    .await;
    let bad_permission = credential.token(json!({"permissions": ["be_admin"]}));
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&bad_permission), None).await,
        StatusCode::UNAUTHORIZED,
        "permissions",
    )
    .await;

    // rtc tokens are for joining only.
    let rtc = credential.token(json!({"version": 2, "roles": ["rtc"]}));
    error_of(
        call(&app, "GET", "/v2/rooms", Some(&rtc), None).await,
        StatusCode::FORBIDDEN,
        "rtc role",
    )
    .await;

    // A token for one room sees that room only.
    let scoped = credential.token(json!({"version": 2, "roomId": room_id, "roles": ["crawler"]}));
    json_of(
        call(
            &app,
            "GET",
            &format!("/v2/rooms/{room_id}"),
            Some(&scoped),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let other_id = other["roomId"].as_str().unwrap();
    error_of(
        call(
            &app,
            "GET",
            &format!("/v2/rooms/{other_id}"),
            Some(&scoped),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "another room",
    )
    .await;
    error_of(
        call(
            &app,
            "GET",
            "/v2/sessions?customRoomId=other",
            Some(&scoped),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "another room",
    )
    .await;
    let list = json_of(
        call(&app, "GET", "/v2/rooms", Some(&scoped), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["pageInfo"]["total"], 1);
    assert_eq!(list["data"][0]["roomId"], room_id);
    error_of(
        call(&app, "POST", "/v2/rooms", Some(&scoped), Some(json!({}))).await,
        StatusCode::FORBIDDEN,
        "restricted",
    )
    .await;

    // Another organization's rooms are unknown to it.
    let stranger = Credential::create(&app, "vsdk-stranger@example.com").await;
    error_of(
        call(
            &app,
            "GET",
            &format!("/v2/rooms/{room_id}"),
            Some(&stranger.crawler()),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "room not found",
    )
    .await;
    error_of(
        call(
            &app,
            "GET",
            "/v2/rooms/other",
            Some(&stranger.crawler()),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "room not found",
    )
    .await;
    let theirs = json_of(
        call(&app, "GET", "/v2/rooms", Some(&stranger.crawler()), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["pageInfo"]["total"], 0);
    // The same customRoomId is free in another organization.
    let own = create_room(&app, &stranger.crawler(), json!({"customRoomId": "other"})).await;
    assert_ne!(own["roomId"], other["roomId"]);

    // Credentials need the account's key or session.
    let response = app
        .post_json("/api/user/videosdk-credentials", None, &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn join(app: &TestApp, token: &str, room: &str, name: &str, extra: Value) -> (Client, Value) {
    let mut client = Client::connect(app, false).await;
    let mut data = json!({"meetingId": room, "name": name, "token": token});
    for (key, value) in extra.as_object().unwrap() {
        data[key] = value.clone();
    }
    client
        .send(json!({"event": "join-meeting", "data": data, "ack": 1}))
        .await;
    let first = client.next().await.expect("an answer to the join");
    (client, first)
}

#[tokio::test]
async fn a_token_joins_a_room_and_the_session_records_it() {
    let app = spawn_app().await;
    let credential = Credential::create(&app, "vsdk-live@example.com").await;
    let api = credential.crawler();
    let room = create_room(&app, &api, json!({"customRoomId": "daily"})).await;
    let room_id = room["roomId"].as_str().unwrap().to_owned();

    // No session before anyone joins.
    let sessions = json_of(
        call(
            &app,
            "GET",
            &format!("/v2/sessions?roomId={room_id}"),
            Some(&api),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sessions["pageInfo"]["total"], 0);
    error_of(
        call(&app, "GET", "/v2/sessions", Some(&api), None).await,
        StatusCode::BAD_REQUEST,
        "roomId or customRoomId",
    )
    .await;

    // A crawler-only token, a token for another room and another participant cannot join.
    for (token, extra, needle) in [
        (credential.crawler(), json!({}), "crawler role"),
        (
            credential.token(json!({"version": 2, "roomId": "zzzz-zzzz-zzzz"})),
            json!({}),
            "another room",
        ),
        (
            credential.token(json!({"version": 2, "participantId": "ada"})),
            json!({"participantId": "bob"}),
            "another participantId",
        ),
        (
            credential.token(json!({"permissions": []})),
            json!({}),
            "do not allow joining",
        ),
        (
            sign(
                &json!({"apikey": credential.api_key, "permissions": ["allow_join"], "exp": T0 / 1000 + 60}),
                "wrong",
            ),
            json!({}),
            "wrong signature",
        ),
    ] {
        let (_, answer) = join(&app, &token, &room_id, "Eve", extra).await;
        assert_eq!(answer["event"], "error", "{answer}");
        assert!(
            answer["data"]["message"].as_str().unwrap().contains(needle),
            "{answer}"
        );
    }

    // A moderator (allow_mod) opens the session by joining, as its host.
    let moderator = credential
        .token(json!({"permissions": ["allow_mod"], "version": 2, "participantId": "mod-1"}));
    let (mut host, joined) = join(&app, &moderator, "daily", "Ada", json!({})).await;
    assert_eq!(joined["event"], "joined", "{joined}");
    assert_eq!(joined["data"]["isAdmin"], true);
    assert_eq!(joined["data"]["participantId"], "mod-1");

    // allow_join joins directly, with the participant id it asks for.
    let (mut guest, joined) = join(
        &app,
        &credential.token(json!({})),
        &room_id,
        "Bob",
        json!({"participantId": "bob-7"}),
    )
    .await;
    assert_eq!(joined["event"], "joined", "{joined}");
    assert_eq!(joined["data"]["isAdmin"], false);
    host.expect("participant:joined").await;

    // ask_join waits for the moderator.
    let (mut asker, waiting) = join(
        &app,
        &credential.token(json!({"permissions": ["ask_join"]})),
        &room_id,
        "Cy",
        json!({}),
    )
    .await;
    assert_eq!(waiting["event"], "waiting-room:waiting", "{waiting}");
    let waiter = host.expect("waiting-room:participant-waiting").await;
    assert_eq!(waiter["name"], "Cy");

    // Media toggles are logged and become the active participants' timelogs.
    app.clock.advance(5_000);
    guest
        .send(json!({"event": "media:toggle-audio", "data": {"isMuted": true}, "ack": 2}))
        .await;
    guest.expect("participant:updated").await;
    guest
        .send(json!({"event": "media:screen-share", "data": {"isScreenSharing": true}, "ack": 3}))
        .await;
    guest.expect("participant:updated").await;

    let sessions = json_of(
        call(
            &app,
            "GET",
            "/v2/sessions?customRoomId=daily",
            Some(&api),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sessions["pageInfo"]["total"], 1);
    let session = &sessions["data"][0];
    let session_id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(session["status"], "ongoing");
    assert_eq!(session["roomId"], room_id.as_str());
    assert_eq!(session["customRoomId"], "daily");
    assert_eq!(session["end"], Value::Null);
    assert_eq!(session["activeDuration"], 5);
    assert_eq!(session["participants"][0]["participantId"], "mod-1");
    assert_eq!(session["participants"][1]["name"], "Bob");
    assert_eq!(
        session["participants"][1]["timelog"],
        json!([{"start": "2026-03-01T12:00:00.000Z", "end": null}])
    );

    let active = json_of(
        call(
            &app,
            "GET",
            &format!("/v2/sessions/{session_id}/participants/active"),
            Some(&api),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let bob = active["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["participantId"] == "bob-7")
        .unwrap()
        .clone();
    assert_eq!(
        bob["events"],
        json!({
            "mic": [{"start": "2026-03-01T12:00:00.000Z", "end": "2026-03-01T12:00:05.000Z"}],
            "webcam": [{"start": "2026-03-01T12:00:00.000Z", "end": null}],
            "screenShare": [{"start": "2026-03-01T12:00:05.000Z", "end": null}],
        })
    );
    let page = json_of(
        call(
            &app,
            "GET",
            &format!("/v2/sessions/{session_id}/participants?perPage=1&page=2"),
            Some(&api),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        page["pageInfo"],
        json!({"currentPage": 2, "perPage": 1, "lastPage": 2, "total": 2})
    );
    assert_eq!(page["data"][0]["participantId"], "bob-7");

    // The moderator lets the asker in; the asker's next join passes.
    host.send(json!({"event": "waiting-room:admit", "data": {"socketId": waiter["socketId"]}}))
        .await;
    asker.expect("waiting-room:admitted").await;

    // The moderator may mute others (a host action).
    host.send(json!({"event": "host:mute", "data": {"participantId": "bob-7"}, "ack": 9}))
        .await;
    guest.expect("admin:mute").await;

    // The organization removes Bob over REST.
    let removed = json_of(
        call(
            &app,
            "POST",
            "/v2/sessions/participants/remove",
            Some(&api),
            Some(json!({"participantId": "bob-7", "roomId": room_id})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        removed,
        json!({"message": "participant removed", "participantId": "bob-7", "sessionId": session_id})
    );
    guest.expect("admin:kick").await;
    error_of(
        call(
            &app,
            "POST",
            "/v2/sessions/participants/remove",
            Some(&api),
            Some(json!({"participantId": "bob-7", "roomId": room_id})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not in the session",
    )
    .await;

    // Another organization cannot see or end it.
    let stranger = Credential::create(&app, "vsdk-live-stranger@example.com").await;
    error_of(
        call(
            &app,
            "GET",
            &format!("/v2/sessions/{session_id}"),
            Some(&stranger.crawler()),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "session not found",
    )
    .await;
    error_of(
        call(
            &app,
            "POST",
            "/v2/sessions/end",
            Some(&stranger.crawler()),
            Some(json!({"roomId": room_id})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "room not found",
    )
    .await;

    // Ending it disconnects everyone; a second end is a 409; a new join opens a new session.
    app.clock.advance(10_000);
    let ended = json_of(
        call(
            &app,
            "POST",
            "/v2/sessions/end",
            Some(&api),
            Some(json!({"roomId": "daily"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["end"], "2026-03-01T12:00:15.000Z");
    assert_eq!(ended["activeDuration"], 15);
    host.expect("meeting:ended").await;
    error_of(
        call(
            &app,
            "POST",
            "/v2/sessions/end",
            Some(&api),
            Some(json!({"roomId": room_id, "sessionId": session_id})),
        )
        .await,
        StatusCode::CONFLICT,
        "already ended",
    )
    .await;
    error_of(
        call(
            &app,
            "POST",
            "/v2/sessions/end",
            Some(&api),
            Some(json!({"roomId": room_id})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "no ongoing session",
    )
    .await;
    let got = json_of(
        call(
            &app,
            "GET",
            &format!("/v2/sessions/{session_id}"),
            Some(&api),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        got["participants"][0]["timelog"][0]["end"].is_string(),
        "{got}"
    );

    let (_again, joined) = join(
        &app,
        &credential.token(json!({})),
        &room_id,
        "Dee",
        json!({}),
    )
    .await;
    assert_eq!(joined["event"], "joined", "{joined}");
    let sessions = json_of(
        call(
            &app,
            "GET",
            &format!("/v2/sessions?roomId={room_id}"),
            Some(&api),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sessions["pageInfo"]["total"], 2);
    assert_ne!(sessions["data"][0]["id"], session_id.as_str());
    assert_eq!(sessions["data"][0]["status"], "ongoing");

    // A deactivated room cannot be joined.
    json_of(
        call(
            &app,
            "POST",
            "/v2/rooms/deactivate",
            Some(&api),
            Some(json!({"roomId": room_id})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (_, refused) = join(
        &app,
        &credential.token(json!({})),
        &room_id,
        "Eve",
        json!({}),
    )
    .await;
    assert_eq!(refused["event"], "error");
    assert!(refused["data"]["message"]
        .as_str()
        .unwrap()
        .contains("deactivated"));
}

#[tokio::test]
async fn recordings_livestreams_and_hls_answer_501() {
    let app = spawn_app().await;
    let credential = Credential::create(&app, "vsdk-media@example.com").await;
    let token = credential.crawler();
    for (method, path, needle) in [
        ("POST", "/v2/recordings/start", "recordings"),
        ("GET", "/v2/recordings/abc", "recordings"),
        (
            "POST",
            "/v2/recordings/participant/track/start",
            "recordings",
        ),
        ("POST", "/v2/livestreams/start", "RTMP"),
        ("GET", "/v2/hls/abcd-efgh-ijkl/active", "HLS"),
        ("DELETE", "/v2/hls/abc", "HLS"),
    ] {
        error_of(
            call(
                &app,
                method,
                path,
                Some(&token),
                Some(json!({"roomId": "x"})),
            )
            .await,
            StatusCode::NOT_IMPLEMENTED,
            needle,
        )
        .await;
        error_of(
            call(&app, method, path, None, None).await,
            StatusCode::UNAUTHORIZED,
            "authorization",
        )
        .await;
    }
    let body = json_of(
        call(&app, "POST", "/v2/hls/start", Some(&token), None).await,
        StatusCode::NOT_IMPLEMENTED,
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("media server"),
        "{body}"
    );
}

#[tokio::test]
async fn a_rooms_webhook_gets_its_sessions_in_videosdk_shape() {
    let app = spawn_app().await;
    let credential = Credential::create(&app, "vsdk-hooks@example.com").await;
    let api = credential.crawler();
    let receiver = Receiver::start(vec![]).await;
    let url = receiver.url.clone();
    let room = create_room(
        &app,
        &api,
        json!({"webhook": {"endPoint": url, "events": ["session-started", "participant-joined", "participant-left", "session-ended"]}}),
    )
    .await;
    assert_eq!(room["webhook"]["endPoint"], url.as_str());
    let room_id = room["roomId"].as_str().unwrap().to_owned();
    // A room without the webhook, whose sessions must not be delivered.
    let quiet = create_room(&app, &api, json!({})).await;
    let (_quiet_client, joined) = join(
        &app,
        &credential.token(json!({})),
        quiet["roomId"].as_str().unwrap(),
        "Zed",
        json!({}),
    )
    .await;
    assert_eq!(joined["event"], "joined");

    let (mut client, joined) = join(
        &app,
        &credential.token(json!({})),
        &room_id,
        "Ada",
        json!({"participantId": "ada"}),
    )
    .await;
    assert_eq!(joined["event"], "joined");
    client.send(json!({"event": "leave-meeting"})).await;
    json_of(
        call(
            &app,
            "POST",
            "/v2/sessions/end",
            Some(&api),
            Some(json!({"roomId": room_id})),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let got = receiver.wait_for_requests(4).await;
    let bodies: Vec<Value> = got.iter().map(|request| request.json()).collect();
    let kinds: Vec<&str> = bodies
        .iter()
        .map(|b| b["webhookType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "session-started",
            "participant-joined",
            "participant-left",
            "session-ended"
        ],
        "{bodies:?}"
    );
    let session_id = bodies[0]["data"]["sessionId"].as_str().unwrap();
    assert_eq!(bodies[0]["data"]["meetingId"], room_id.as_str());
    assert_eq!(
        bodies[1]["data"],
        json!({"meetingId": room_id, "sessionId": session_id, "participantId": "ada", "participantName": "Ada", "timestamp": "2026-03-01T12:00:00.000Z"})
    );
    assert_eq!(bodies[3]["data"]["end"], "2026-03-01T12:00:00.000Z");
    // Signed with the secret of the credential that created the room.
    for request in &got {
        assert!(signing::verify(
            &credential.secret,
            &request.id,
            request.timestamp,
            &request.body,
            &request.signature
        ));
    }
    // The native webhook list does not show a room's webhook.
    let list: Value = app
        .get("/api/webhooks", Some(&credential.key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["webhooks"], json!([]), "{list}");
}

/// An account's VideoSDK credentials are listed without their secrets and can be revoked; a
/// revoked key's tokens are refused at once, on the REST API and for realtime joins.
#[tokio::test]
async fn credentials_are_listed_without_secrets_and_revoked_at_once() {
    let app = spawn_app().await;
    let first = Credential::create(&app, "vsdk-keys@example.com").await;
    let response = app
        .post_json(
            "/api/user/videosdk-credentials",
            Some(&first.key),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let second: Value = response.json().await.unwrap();
    let api = first.crawler();
    let room = create_room(&app, &api, json!({})).await;
    let room_id = room["roomId"].as_str().unwrap().to_owned();

    let list: Value = app
        .get("/api/user/videosdk-credentials", Some(&first.key))
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = list["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["apiKey"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [first.api_key.as_str(), second["apiKey"].as_str().unwrap()]
    );
    assert!(
        !list.to_string().contains(&first.secret),
        "no secret in {list}"
    );
    assert!(list["credentials"][0]["createdAt"].is_string());

    // Another account cannot revoke it, and an unknown key is not found.
    let other = app.register("vsdk-other@example.com").await;
    let revoke = format!("/api/user/videosdk-credentials/{}", first.api_key);
    let response = app.delete(&revoke, &other, None).await;
    assert_error(
        response,
        StatusCode::NOT_FOUND,
        "videosdk credential not found",
    )
    .await;
    let response = app
        .delete("/api/user/videosdk-credentials/unknown", &first.key, None)
        .await;
    assert_error(
        response,
        StatusCode::NOT_FOUND,
        "videosdk credential not found",
    )
    .await;

    let response = app.delete(&revoke, &first.key, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Its tokens are refused from the next request on: REST and realtime.
    let rooms = call(&app, "GET", "/v2/rooms", Some(&api), None).await;
    assert_eq!(rooms.status(), StatusCode::UNAUTHORIZED);
    let (_, answer) = join(&app, &first.token(json!({})), &room_id, "Eve", json!({})).await;
    assert!(answer.to_string().contains("error"), "{answer}");
    // The other key still works, and the list shows only it.
    let list: Value = app
        .get("/api/user/videosdk-credentials", Some(&first.key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["credentials"].as_array().unwrap().len(), 1);
    let response = app.delete(&revoke, &first.key, None).await;
    assert_error(
        response,
        StatusCode::NOT_FOUND,
        "videosdk credential not found",
    )
    .await;
}

/// A session ends by itself once its last participant has been gone for
/// `videosdk.empty_session_grace_secs` (60 s): not before, and someone back within it finds
/// the same session.
#[tokio::test]
async fn a_session_ends_a_grace_period_after_its_last_participant_left() {
    let app = spawn_app().await;
    let credential = Credential::create(&app, "vsdk-empty@example.com").await;
    let api = credential.crawler();
    let room = create_room(&app, &api, json!({})).await;
    let room_id = room["roomId"].as_str().unwrap().to_owned();
    let sessions = || async {
        json_of(
            call(
                &app,
                "GET",
                &format!("/v2/sessions?roomId={room_id}"),
                Some(&api),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await
    };

    let token = credential.token(json!({}));
    let (mut ada, joined) = join(&app, &token, &room_id, "Ada", json!({})).await;
    assert_eq!(joined["event"], "joined", "{joined}");
    let first = sessions().await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ada.send(json!({"event": "leave-meeting"})).await;
    drop(ada);
    app.eventually(&format!("/api/meetings/{first}"), &credential.key, |m| {
        m["participants"].as_array().is_some_and(Vec::is_empty)
    })
    .await;

    // Back within the grace period: the same session.
    app.clock.advance(30_000);
    app.run_scheduler().await;
    let (mut bob, joined) = join(&app, &token, &room_id, "Bob", json!({})).await;
    assert_eq!(joined["event"], "joined", "{joined}");
    assert_eq!(sessions().await["pageInfo"]["total"], 1);
    bob.send(json!({"event": "leave-meeting"})).await;
    drop(bob);
    app.eventually(&format!("/api/meetings/{first}"), &credential.key, |m| {
        m["participants"].as_array().is_some_and(Vec::is_empty)
    })
    .await;

    app.clock.advance(59_000);
    app.run_scheduler().await;
    assert_eq!(sessions().await["data"][0]["status"], "ongoing");
    app.clock.advance(1_000);
    app.run_scheduler().await;
    let ended = sessions().await;
    assert_eq!(ended["data"][0]["id"], first.as_str());
    assert_eq!(ended["data"][0]["status"], "ended", "{ended}");
}
