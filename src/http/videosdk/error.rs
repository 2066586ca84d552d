//! VideoSDK's error body. Its API documents no envelope; its SDK reads `message`, `code` and
//! `httpStatus`, so errors are `{"message": "...", "code": <status × 10>, "httpStatus": <status>}`
//! (`code` 4010 for a 401, 5010 for a 501, …).

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

use crate::app::rate_limits::Group;
use crate::app::AppError;
use crate::http::router::Dialect;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VsdkError {
    /// What went wrong, naming the field where there is one.
    #[schema(example = "roomId: no room with this id")]
    pub message: String,
    /// The HTTP status times ten (4040 for a 404).
    #[schema(example = 4040)]
    pub code: u32,
    #[schema(example = 404)]
    pub http_status: u16,
}

/// The dialect's routes: VideoSDK's error shape, the API rate-limit group.
pub const DIALECT: Dialect = Dialect {
    respond: into_response,
    group: Some(Group::Api),
};

pub fn into_response(err: AppError) -> Response {
    if let AppError::Unexpected(detail) = &err {
        tracing::error!(error = %detail, dialect = "videosdk", "unexpected error while handling a request");
    }
    reply(err.status_code(), err.message())
}

/// An error answer with this status and message.
pub fn reply(status: StatusCode, message: String) -> Response {
    let body = VsdkError {
        message,
        code: u32::from(status.as_u16()) * 10,
        http_status: status.as_u16(),
    };
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_body_carries_the_status_twice() {
        let response = into_response(AppError::NotFound("room not found"));
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"message": "room not found", "code": 4040, "httpStatus": 404})
        );
    }
}
