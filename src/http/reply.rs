//! JSON answers: every handler's success body is a typed, `ToSchema`-described struct, so the
//! OpenAPI document and the wire agree by construction.

use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

/// `200` with `body` as JSON.
pub fn ok<T: Serialize>(body: &T) -> Response {
    warp::reply::json(body).into_response()
}

/// `201` with `body` as JSON.
pub fn created<T: Serialize>(body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), StatusCode::CREATED).into_response()
}

/// `200` with a body that is already JSON.
pub fn json_bytes(body: bytes::Bytes) -> Response {
    let mut response = Response::new(body.into());
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The `{"message": "..."}` answer of actions that have nothing else to say.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Message {
    pub message: String,
}

pub fn message(text: impl Into<String>) -> Response {
    ok(&Message {
        message: text.into(),
    })
}
