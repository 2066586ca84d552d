//! Rate limits, security headers, CORS, compression (onepizza §16), ICE servers (§13) and the
//! administrator seed.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn logins_over_the_limit_get_429_then_recover_as_time_passes() {
    let app = spawn_app_with(|config| {
        config.rate_limits.enabled = true;
        config.rate_limits.auth_requests = 3;
        config.rate_limits.auth_window_secs = 900;
    })
    .await;
    let credentials = json!({"email": "nobody@example.com", "password": "secret123"});
    let login = || app.post_json("/api/auth/login", None, &credentials);
    for _ in 0..3 {
        assert_eq!(login().await.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = login().await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = refused.headers().clone();
    // 3 per 900 s: one more allowed every 300 s.
    assert_eq!(headers["retry-after"], "300");
    assert_eq!(headers["ratelimit-limit"], "3");
    assert_eq!(headers["ratelimit-remaining"], "0");
    assert_eq!(headers["ratelimit-policy"], "3;w=900");
    assert_error(
        refused,
        StatusCode::TOO_MANY_REQUESTS,
        "the limit is 3 per 900 seconds",
    )
    .await;
    // Registration shares the group.
    let response = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": "a@b.co", "password": "secret123"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);

    app.clock.advance(300_000);
    assert_eq!(login().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login().await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn each_group_has_its_own_budget() {
    let app = spawn_app_with(|config| {
        config.rate_limits.enabled = true;
        config.rate_limits.guest_requests = 1;
        config.rate_limits.password_requests = 1;
    })
    .await;
    let empty = json!({});
    let guest = || app.post_json("/api/meetings/guest", None, &empty);
    assert_eq!(guest().await.status(), StatusCode::CREATED);
    assert_eq!(guest().await.status(), StatusCode::TOO_MANY_REQUESTS);
    let email = json!({"email": "x@example.com"});
    let forgot = || app.post_json("/api/auth/forgot-password", None, &email);
    assert_eq!(forgot().await.status(), StatusCode::OK);
    assert_eq!(forgot().await.status(), StatusCode::TOO_MANY_REQUESTS);
    // The API group is untouched by the others.
    assert_eq!(
        app.get("/api/meetings", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for response in [
        app.get("/healthz", None).await,
        app.get("/api/meetings", None).await,
        app.get("/no/such/route", None).await,
    ] {
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        // http app_url: no HSTS.
        assert!(headers.get("strict-transport-security").is_none());
    }
    let https =
        spawn_app_with(|config| config.server.app_url = "https://meet.example.com".into()).await;
    let response = https.get("/healthz", None).await;
    assert!(response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

#[tokio::test]
async fn cors_answers_allowed_origins_only() {
    let app = spawn_app_with(|config| {
        config.server.allowed_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/meetings"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    assert!(allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("x-api-key"));
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn json_is_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let key = app.register("host@example.com").await;
    for n in 0..20 {
        app.create_meeting(&key, &json!({"title": format!("Meeting number {n}")}))
            .await;
    }
    // reqwest here has no decompression features: it shows the wire as it is.
    for (accept, expected) in [
        ("br", Some("br")),
        ("gzip", Some("gzip")),
        ("identity", None),
    ] {
        let response = app
            .client
            .get(app.url("/api/meetings"))
            .header("x-api-key", &key)
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let encoding = response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(encoding.as_deref(), expected, "for {accept}");
        let bytes = response.bytes().await.unwrap();
        let json: Vec<u8> = match expected {
            Some("gzip") => {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
                    .unwrap();
                out
            }
            Some("br") => {
                let mut out = Vec::new();
                brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
                out
            }
            _ => bytes.to_vec(),
        };
        let body: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(body["meetings"].as_array().unwrap().len(), 20);
    }
}

#[tokio::test]
async fn ice_servers_follow_the_configuration() {
    let app = spawn_app().await;
    let body: Value = app
        .get("/api/config/ice-servers", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"iceServers": [
            {"urls": "stun:stun.l.google.com:19302"},
            {"urls": "stun:stun1.l.google.com:19302"}
        ]})
    );
    let app = spawn_app_with(|config| {
        config.turn.urls = vec!["turn:turn.example.com:3478".into()];
        config.turn.shared_secret = "coturn-secret".into();
        config.turn.credential_ttl_secs = 3600;
    })
    .await;
    let body: Value = app
        .get("/api/config/ice-servers", None)
        .await
        .json()
        .await
        .unwrap();
    let turn = &body["iceServers"][2];
    let expiry = crate::helpers::T0 / 1000 + 3600;
    assert_eq!(turn["urls"], "turn:turn.example.com:3478");
    assert_eq!(turn["username"], format!("{expiry}:guest"));
    assert_eq!(
        turn["credential"],
        convene::http::ice::turn_credential("coturn-secret", &format!("{expiry}:guest"))
    );
}

#[tokio::test]
async fn the_administrator_is_seeded_once() {
    let app = spawn_app_with(|config| {
        config.auth.admin_email = "admin@example.com".into();
        config.auth.admin_password = "admin-password".into();
    })
    .await;
    let session = app.login("admin@example.com", "admin-password").await;
    let me: Value = app.session_json("/api/auth/me", &session).await;
    assert_eq!(me["is_admin"], true);
    let response = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({"email": "admin@example.com", "password": "whatever-1"}),
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "email already in use").await;
}
