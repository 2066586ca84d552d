//! The native API's error type and the one place that turns errors into status codes and
//! `{"error": "..."}` bodies (onepizza §16). Messages are lowercase, specific, and never carry
//! internals: an `Unexpected` error is logged with its detail and answered with a generic 500.

use std::convert::Infallible;

use convene_actors::{AccountError, MeetingError};
use convene_projections::ProjectionError;
use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Rejection, Reply};

/// Every error answer's body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Lowercase and specific: what was wrong, naming the field where there is one.
    pub error: String,
}

#[derive(Debug)]
pub enum ApiError {
    /// 400: names the bad field and what is wrong with it.
    BadRequest(String),
    /// 401: missing or invalid credentials.
    Unauthorized(&'static str),
    /// 403: authenticated, but not allowed (wrong admin token).
    Forbidden(&'static str),
    /// 404: unknown — or another tenant's, which must look the same.
    NotFound(&'static str),
    /// 402: the workspace's balance does not cover it.
    PaymentRequired(&'static str),
    /// 403: an administrator deactivated the account (or its company's owner).
    AccountInactive,
    /// 403: the workspace's plan allows no more meetings this calendar month.
    QuotaReached { plan: String, monthly_meetings: u32 },
    /// 409
    Conflict(String),
    /// 413: the body is larger than `limits.body_bytes`.
    PayloadTooLarge { limit: u64 },
    /// 429: over a rate limit; says which limit and when to retry.
    TooManyRequests {
        retry_after_secs: u64,
        limit: u32,
        window_secs: u64,
    },
    /// 503: the server is shutting down or a component is overloaded.
    Unavailable(String),
    /// 500: a bug or a storage failure; the detail is logged, not shown.
    Unexpected(String),
}

impl warp::reject::Reject for ApiError {}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::AccountInactive | ApiError::QuotaReached { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message the client sees (the realtime channel's `error` uses it too).
    pub fn message(&self) -> String {
        match self {
            ApiError::BadRequest(m) | ApiError::Conflict(m) | ApiError::Unavailable(m) => m.clone(),
            ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::PaymentRequired(m) => {
                (*m).to_owned()
            }
            ApiError::PayloadTooLarge { limit } => {
                format!("request body is larger than the limit of {limit} bytes")
            }
            ApiError::AccountInactive => "account is inactive".to_owned(),
            ApiError::QuotaReached {
                plan,
                monthly_meetings,
            } => format!(
                "monthly meeting limit reached: the {plan} plan allows {monthly_meetings} meetings per calendar month"
            ),
            ApiError::TooManyRequests {
                retry_after_secs,
                limit,
                window_secs,
            } => format!(
                "too many requests: the limit is {limit} per {window_secs} seconds, retry in {retry_after_secs} seconds"
            ),
            ApiError::Unexpected(_) => "internal server error".to_owned(),
        }
    }

    pub(crate) fn status_code(&self) -> StatusCode {
        self.status()
    }

    pub fn into_response(self) -> Response {
        if let ApiError::Unexpected(detail) = &self {
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
        if let ApiError::TooManyRequests {
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

/// The 404 of a path that no route serves (distinct from "meeting not found" and the like).
pub const NO_SUCH_ENDPOINT: &str = "no such endpoint";

/// Turns a handler's result into the response.
pub fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(ApiError::into_response)
}

impl From<MeetingError> for ApiError {
    fn from(err: MeetingError) -> Self {
        match err {
            MeetingError::NotFound => ApiError::NotFound("meeting not found"),
            MeetingError::WrongAdminToken => ApiError::Forbidden("invalid x-admin-token"),
            MeetingError::AlreadyEnded => ApiError::Conflict("meeting has already ended".into()),
            MeetingError::ScheduleInPast => {
                ApiError::BadRequest("scheduledAt must be in the future".into())
            }
            MeetingError::AlreadyExists => {
                ApiError::Unexpected("meeting id collision was not retried".into())
            }
            MeetingError::ParticipantNotFound => ApiError::NotFound("participant not found"),
            MeetingError::NotStarted { scheduled_at } => ApiError::Conflict(match scheduled_at {
                Some(at) => format!(
                    "meeting has not started yet, it is scheduled for {}",
                    crate::domain::format_iso_millis(at)
                ),
                None => "meeting has not started yet".into(),
            }),
            MeetingError::Locked => ApiError::Forbidden("meeting is locked"),
            MeetingError::Full { max_participants } => {
                ApiError::Conflict(format!("meeting is full ({max_participants} participants)"))
            }
            MeetingError::InvalidInvite => {
                ApiError::Forbidden("invite is invalid or has already been used")
            }
            MeetingError::AlreadyJoined => {
                ApiError::Conflict("participant is already in the meeting".into())
            }
            MeetingError::NotHost => ApiError::Forbidden("only the host can do that"),
            MeetingError::InWaitingRoom => {
                ApiError::Conflict("waiting for the host to let you in".into())
            }
            MeetingError::NotWaiting => ApiError::NotFound("nobody with that id is waiting"),
            MeetingError::Unavailable => ApiError::Unavailable("meeting is busy, try again".into()),
            MeetingError::Unexpected(detail) => ApiError::Unexpected(detail),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::EmailTaken => ApiError::Conflict("email already in use".into()),
            AccountError::NotFound => ApiError::NotFound("account not found"),
            AccountError::KeyNotFound => ApiError::NotFound("api key not found"),
            AccountError::InvalidResetToken => {
                ApiError::BadRequest("reset token is invalid or has expired".into())
            }
            AccountError::AlreadyInCompany => {
                ApiError::Conflict("already a member of a company".into())
            }
            AccountError::NotInCompany => ApiError::NotFound("member not found"),
            AccountError::OwnerCannotLeave => {
                ApiError::Conflict("the company owner cannot be removed".into())
            }
            AccountError::Unavailable => ApiError::Unavailable("account is busy, try again".into()),
            AccountError::AlreadyExists | AccountError::Unexpected(_) => {
                ApiError::Unexpected(err.to_string())
            }
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(err: ProjectionError) -> Self {
        ApiError::Unexpected(err.to_string())
    }
}

/// Rejections that reach the top: no route matched, a body filter refused, or warp itself
/// refused the request.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    let error = if let Some(api) = rejection.find::<ApiError>() {
        match api {
            ApiError::PayloadTooLarge { limit } => ApiError::PayloadTooLarge { limit: *limit },
            ApiError::BadRequest(m) => ApiError::BadRequest(m.clone()),
            ApiError::TooManyRequests {
                retry_after_secs,
                limit,
                window_secs,
            } => ApiError::TooManyRequests {
                retry_after_secs: *retry_after_secs,
                limit: *limit,
                window_secs: *window_secs,
            },
            other => ApiError::Unexpected(format!("unhandled rejection {other:?}")),
        }
    } else if rejection.is_not_found() {
        ApiError::NotFound(NO_SUCH_ENDPOINT)
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
        ApiError::BadRequest(format!("missing {} header", missing.name()))
    } else if let Some(invalid) = rejection.find::<warp::reject::InvalidHeader>() {
        ApiError::BadRequest(format!("invalid {} header", invalid.name()))
    } else if rejection.find::<warp::reject::InvalidQuery>().is_some() {
        ApiError::BadRequest("invalid query string".into())
    } else {
        ApiError::Unexpected(format!("unhandled rejection {rejection:?}"))
    };
    Ok(error.into_response())
}
