//! The OpenAPI 3.1 document of the native API, served at `GET /api/openapi.json`.
//!
//! Operations and schemas come from the route table ([`super::router`]): each route is its
//! handler's `#[utoipa::path]` with its request and response types (`ToSchema`), so the
//! document cannot drift from what the code serves, parses and writes. Three things are added here because they are the same for every
//! operation or depend on the running configuration: the security schemes, the shared error
//! answers (400, 401, 413, 429, 503 — each operation lists only its own 403/404/409), and the
//! limits that `config.toml` sets (title length, participant cap, password length).

use std::sync::{Arc, OnceLock};

use serde_json::{json, Map, Value};
use utoipa::OpenApi;
use warp::Reply;

use super::router::Router;
use super::{error::ErrorBody, reply::Message};
use crate::config::Config;
use crate::http::error::NATIVE;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Convene native API",
        description = "The onepizza v3 dialect of Convene, a self-hostable video-meeting backend. \
                       Every state change is an event in an append-only log.",
        license(name = "Apache-2.0"),
    ),
    components(schemas(ErrorBody, Message)),
    tags(
        (name = "accounts", description = "registration, sessions and passwords (onepizza §1)"),
        (name = "keys", description = "API keys (onepizza §2)"),
        (name = "meetings", description = "meetings, guest meetings and scheduling (onepizza §3–§5)"),
        (name = "events", description = "the workspace's events in log order, paged or live (SSE)"),
        (name = "webhooks", description = "signed webhook deliveries of the workspace's meeting events (onepizza §9)"),
        (name = "billing", description = "balances and transactions in micro-dollars (onepizza §15)"),
        (name = "web", description = "the web client's pages and assets"),
        (name = "analytics", description = "client error telemetry and administrators' analytics (onepizza §18)"),
        (name = "audit", description = "a meeting's events, its state at a point in time, the chain check"),
        (name = "controls", description = "settings and participant controls (onepizza §6, §7)"),
        (name = "companies", description = "company workspaces (onepizza §14)"),
        (name = "plans", description = "plans, monthly quotas and account standing (administrators)"),
        (name = "realtime", description = "WebRTC configuration (onepizza §13)"),
        (name = "operations", description = "the server itself"),
    )
)]
struct NativeApi;

pub fn routes(router: &mut Router) {
    // Built on the first request, from the route table and the server's configuration.
    let served: Arc<OnceLock<Arc<str>>> = Arc::default();
    router.add::<__path_openapi_json>(NATIVE).serve(move |r| {
        let served = served.clone();
        async move {
            let document = served.get_or_init(|| document(&r.state.config).to_string().into());
            Ok(openapi_json(document))
        }
    });
}

/// This document.
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "operations",
    security(()),
    responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub(super) fn openapi_json(document: &str) -> warp::reply::Response {
    warp::reply::with_header(document.to_owned(), "content-type", "application/json")
        .into_response()
}

/// The document for a server running with `config`.
pub fn document(config: &Config) -> Value {
    let mut api = NativeApi::openapi();
    // The EdCast dialect's operations, with their own schemas and error body.
    api.merge(super::edcast::EdCastApi::openapi());
    // The VideoSDK dialect's, with its JWT scheme and `{message, code, httpStatus}` errors.
    api.merge(super::videosdk::VideoSdkApi::openapi());
    // Every operation the route table serves, with the schemas they use.
    let (paths, schemas) = super::route_table().document();
    api.paths = paths;
    api.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    let mut document = serde_json::to_value(api).expect("a document serializes");
    add_components(&mut document);
    add_shared_responses(&mut document);
    apply_limits(&mut document, config);
    add_company_rule(&mut document);
    document
}

/// A company account needs a company name: a rule across two fields, which derive macros
/// cannot state, so it is written here as JSON Schema's `if`/`then`.
fn add_company_rule(document: &mut Value) {
    if let Some(register) = document["components"]["schemas"]["RegisterRequest"].as_object_mut() {
        register.insert(
            "if".into(),
            json!({"properties": {"accountType": {"const": "company"}}, "required": ["accountType"]}),
        );
        register.insert(
            "then".into(),
            json!({
                "properties": {"companyName": {"type": "string", "pattern": VISIBLE_TEXT}},
                "required": ["companyName"]
            }),
        );
    }
}

fn add_components(document: &mut Value) {
    let components = document["components"]
        .as_object_mut()
        .expect("utoipa writes components");
    components.insert(
        "securitySchemes".into(),
        json!({
            "api_key": {
                "type": "apiKey", "in": "header", "name": "x-api-key",
                "description": "an API key of the account (POST /api/auth/register returns the first)"
            },
            "session": {
                "type": "apiKey", "in": "cookie", "name": "convene_session",
                "description": "the login session (POST /api/auth/login); writes must come from an allowed origin"
            },
            "admin_token": {
                "type": "apiKey", "in": "header", "name": "x-admin-token",
                "description": "the meeting's admin token, returned when the meeting was created"
            },
            "metrics_token": {
                "type": "http", "scheme": "bearer",
                "description": "metrics.token, for GET /metrics on the public port"
            },
            "videosdk_token": {
                "type": "apiKey", "in": "header", "name": "authorization",
                "description": "a VideoSDK JWT (HS256, signed with the secret of POST /api/user/videosdk-credentials), with or without `Bearer `"
            }
        }),
    );
    let error_in = |schema: &str, description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
        })
    };
    let error = |description: &str| error_in("ErrorBody", description);
    let mut too_many =
        error("over the rate limit of the request's group; retry after Retry-After seconds");
    too_many["headers"] = json!({
        "retry-after": {"description": "seconds until a request is allowed", "schema": {"type": "integer"}},
        "ratelimit-limit": {"description": "requests per window", "schema": {"type": "integer"}},
        "ratelimit-remaining": {"description": "requests left in the window", "schema": {"type": "integer"}},
        "ratelimit-reset": {"description": "seconds until the window frees up", "schema": {"type": "integer"}},
        "ratelimit-policy": {"description": "`<limit>;w=<window seconds>`", "schema": {"type": "string"}}
    });
    components.insert(
        "responses".into(),
        json!({
            "BadRequest": error("the request is malformed; the message names the field and the problem"),
            "Unauthorized": error("missing or invalid credentials"),
            "PayloadTooLarge": error("the body is larger than limits.body_bytes"),
            "TooManyRequests": too_many,
            "Unavailable": error("the server is shutting down or the meeting is busy; try again"),
            // VideoSDK's dialect answers in its own error body.
            "VsdkBadRequest": error_in("VsdkError", "the request is malformed; the message names the field"),
            "VsdkUnauthorized": error_in("VsdkError", "missing, malformed, expired or wrongly signed token"),
            "VsdkPayloadTooLarge": error_in("VsdkError", "the body is larger than limits.body_bytes"),
        }),
    );
}

/// Adds the answers that depend only on the shape of an operation.
fn add_shared_responses(document: &mut Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let videosdk = path.starts_with("/v2/");
        let rate_limited = path.starts_with("/api/") || videosdk;
        // The dialect's own error body for the answers every operation of it shares.
        let dialect = |name: &'static str| -> String {
            if videosdk {
                format!("Vsdk{name}")
            } else {
                name.to_owned()
            }
        };
        for operation in item.values_mut().filter_map(Value::as_object_mut) {
            let has_body = operation.contains_key("requestBody");
            let has_query = operation
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let security = operation.get("security").and_then(Value::as_array);
            let needs_credentials = security.is_some_and(|alternatives| {
                !alternatives
                    .iter()
                    .any(|a| a.as_object().is_some_and(Map::is_empty))
            });
            let responses = operation
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("responses is an object");
            let mut shared = |status: &str, name: &str| {
                responses
                    .entry(status)
                    .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
            };
            if has_body || has_query {
                shared("400", &dialect("BadRequest"));
            }
            if has_body {
                shared("413", &dialect("PayloadTooLarge"));
            }
            if needs_credentials {
                shared("401", &dialect("Unauthorized"));
            }
            if rate_limited {
                shared("429", "TooManyRequests");
                shared("503", "Unavailable");
            }
        }
    }
}

/// Titles may not hold control characters (Unicode category Cc).
const NO_CONTROL_CHARACTERS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// A changed title must also have something besides white space.
const VISIBLE_TEXT: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// Writes the configured limits and the domain types' text rules into the request schemas.
fn apply_limits(document: &mut Value, config: &Config) {
    let limits = &config.limits;
    let schemas = &mut document["components"]["schemas"];
    let mut set = |schema: &str, property: &str, key: &str, value: Value| {
        if let Some(property) = schemas[schema]["properties"][property].as_object_mut() {
            property.insert(key.into(), value);
        }
    };
    for schema in [
        "CreateMeetingRequest",
        "SettingsRequest",
        "GuestMeetingRequest",
    ] {
        set(schema, "title", "maxLength", limits.title_chars.into());
    }
    for schema in ["CreateMeetingRequest", "GuestMeetingRequest"] {
        set(schema, "title", "pattern", NO_CONTROL_CHARACTERS.into());
    }
    set("SettingsRequest", "title", "pattern", VISIBLE_TEXT.into());
    for schema in ["CreateMeetingRequest", "SettingsRequest"] {
        set(
            schema,
            "maxParticipants",
            "maximum",
            limits.max_participants.into(),
        );
    }
    for (schema, property) in [
        ("RegisterRequest", "password"),
        ("ResetRequest", "password"),
        ("ChangePasswordRequest", "newPassword"),
    ] {
        set(
            schema,
            property,
            "minLength",
            limits.password_min_chars.into(),
        );
        set(
            schema,
            property,
            "maxLength",
            limits.password_max_chars.into(),
        );
    }
}
