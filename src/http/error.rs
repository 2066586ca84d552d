//! The one place where the native API turns the application's refusals ([`AppError`]) into
//! status codes and `{"error": "..."}` bodies (onepizza §16): an `Unexpected` error is logged
//! with its detail and answered with a generic 500.

use std::convert::Infallible;

use serde::Serialize;

use crate::app::rate_limits::Group;
use crate::app::AppError;
use crate::http::router::Dialect;
use crate::net::body::BodyRefused;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Rejection, Reply};

/// Every error answer's body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Lowercase and specific: what was wrong, naming the field where there is one.
    pub error: String,
}

impl warp::reject::Reject for AppError {}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::AccountInactive | AppError::QuotaReached { .. } => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn status_code(&self) -> StatusCode {
        self.status()
    }

    pub fn into_response(self) -> Response {
        if let AppError::Unexpected(detail) = &self {
            tracing::error!(error = %detail, "unexpected error while handling a request");
        }
        let status = self.status();
        let mut response = warp::reply::with_status(
            warp::reply::json(&ErrorBody {
                error: self.message(),
            }),
            status,
        )
        .into_response();
        if let AppError::TooManyRequests {
            retry_after_secs,
            limit,
            window_secs,
        } = self
        {
            let headers = response.headers_mut();
            headers.insert("retry-after", retry_after_secs.into());
            headers.insert("ratelimit-limit", limit.into());
            headers.insert("ratelimit-remaining", 0.into());
            headers.insert("ratelimit-reset", retry_after_secs.into());
            if let Ok(policy) = format!("{limit};w={window_secs}").parse() {
                headers.insert("ratelimit-policy", policy);
            }
        }
        response
    }
}

/// The native dialect: `{"error": ...}` bodies, every route in the API rate-limit group unless it
/// says otherwise.
pub const NATIVE: Dialect = Dialect {
    respond: AppError::into_response,
    group: Some(Group::Api),
};

/// The 404 of a path that no route serves (distinct from "meeting not found" and the like).
pub const NO_SUCH_ENDPOINT: &str = "no such endpoint";

impl From<BodyRefused> for AppError {
    fn from(refused: BodyRefused) -> Self {
        match refused {
            BodyRefused::TooLarge { limit } => AppError::PayloadTooLarge { limit },
            BodyRefused::Unreadable => AppError::BadRequest(refused.to_string()),
        }
    }
}

/// Rejections that reach the top: no route matched, a body filter refused, or warp itself
/// refused the request.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    let error = if let Some(refused) = rejection.find::<BodyRefused>() {
        AppError::from(*refused)
    } else if let Some(api) = rejection.find::<AppError>() {
        match api {
            AppError::TooManyRequests {
                retry_after_secs,
                limit,
                window_secs,
            } => AppError::TooManyRequests {
                retry_after_secs: *retry_after_secs,
                limit: *limit,
                window_secs: *window_secs,
            },
            other => AppError::Unexpected(format!("unhandled rejection {other:?}")),
        }
    } else if rejection.is_not_found() {
        AppError::NotFound(NO_SUCH_ENDPOINT)
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        // The Allow header is added on the way out, where the route table is known.
        return Ok(warp::reply::with_status(
            warp::reply::json(&ErrorBody {
                error: "method not allowed".into(),
            }),
            StatusCode::METHOD_NOT_ALLOWED,
        )
        .into_response());
    } else if let Some(missing) = rejection.find::<warp::reject::MissingHeader>() {
        AppError::BadRequest(format!("missing {} header", missing.name()))
    } else if let Some(invalid) = rejection.find::<warp::reject::InvalidHeader>() {
        AppError::BadRequest(format!("invalid {} header", invalid.name()))
    } else if rejection.find::<warp::reject::InvalidQuery>().is_some() {
        AppError::BadRequest("invalid query string".into())
    } else {
        AppError::Unexpected(format!("unhandled rejection {rejection:?}"))
    };
    Ok(error.into_response())
}
