//! The OpenAPI document against the route table and the running server: the same operations
//! on both sides, every `$ref` resolvable, every documented operation answered at its path.

use std::collections::BTreeSet;
use std::sync::Arc;

use convene::http::error::NO_SUCH_ENDPOINT;
use convene_events::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, test_config, T0};

async fn served_document(app: &crate::helpers::TestApp) -> Value {
    let response = app.get("/api/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// `(METHOD, /path/{template})` for every operation of the document.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

#[tokio::test]
async fn the_document_describes_exactly_the_routes_the_router_serves() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path());
    let state = convene::startup::build_state(config, Arc::new(ManualClock::new(T0)))
        .await
        .expect("state");
    let served: BTreeSet<(String, String)> = convene::http::route_table()
        .endpoints()
        .iter()
        .map(|e| (e.method.clone(), e.path.to_owned()))
        .collect();
    let documented = operations(&convene::http::openapi::document(&state.config));
    convene::startup::stop(&state.registry, &state.projections, &state.log).await;

    let undocumented: Vec<_> = served.difference(&documented).collect();
    let not_served: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        not_served.is_empty(),
        "documented but not served: {not_served:?}"
    );
    assert!(served.len() >= 30, "the whole native API is in the table");
}

#[tokio::test]
async fn every_documented_operation_answers_at_its_path() {
    let app = spawn_app().await;
    let document = served_document(&app).await;
    for (method, template) in operations(&document) {
        let path = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {body}"
        );
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains(NO_SUCH_ENDPOINT)),
            "{method} {path} is documented but no route serves it"
        );
        assert!(status.as_u16() < 500, "{method} {path}: {status} {body}");
    }
}

#[tokio::test]
async fn every_ref_resolves_and_every_operation_documents_its_success() {
    let app = spawn_app().await;
    let document = served_document(&app).await;
    assert_eq!(document["openapi"], "3.1.0");
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(refs.len() > 50, "the document uses shared components");
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} points outside the document"));
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            // An operation Convene cannot perform (VideoSDK's recordings, RTMP and HLS, which
            // need a media server) documents its 501 instead of a success.
            assert!(
                responses
                    .keys()
                    .any(|status| status.starts_with('2') || status == "501"),
                "{method} {path} documents no success"
            );
        }
    }
}

/// Client generators name a method after each operation: two operations with one id (the
/// native and EdCast "create meeting", say) cannot both be generated.
#[tokio::test]
async fn every_operation_id_is_unique() {
    let app = spawn_app().await;
    let document = served_document(&app).await;
    let mut seen = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(seen.insert(id.to_owned()), "operationId {id} is used twice");
        }
    }
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => refs.push(reference.clone()),
                    _ => collect_refs(value, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_carries_the_configured_limits() {
    let app = spawn_app().await;
    let document = served_document(&app).await;
    let config = test_config(app.data_dir());
    let create = &document["components"]["schemas"]["CreateMeetingRequest"]["properties"];
    assert_eq!(create["title"]["maxLength"], config.limits.title_chars);
    assert_eq!(
        create["maxParticipants"]["maximum"],
        config.limits.max_participants
    );
    let register = &document["components"]["schemas"]["RegisterRequest"];
    assert_eq!(
        register["properties"]["password"]["minLength"],
        config.limits.password_min_chars
    );
    assert_eq!(
        register["required"],
        serde_json::json!(["email", "password"])
    );
}
