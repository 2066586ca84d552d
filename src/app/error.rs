//! The application's refusals: one enum that every use case returns and every adapter words
//! in its own protocol. [`crate::http::error`] maps it to a status and a `{"error": ...}` body;
//! the realtime wires send [`AppError::message`] as an `error` event. Messages are lowercase,
//! specific, and never carry internals: an `Unexpected` error is logged with its detail and
//! shown as "internal server error".

use convene_actors::stream::StreamError;
use convene_actors::videosdk_room::RoomRefusal;
use convene_actors::{AccountError, MeetingError, WebhookError};
use convene_events::AppendError;
use convene_projections::ProjectionError;

#[derive(Debug)]
pub enum AppError {
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

impl AppError {
    /// The message the client sees (the realtime channel's `error` uses it too).
    pub fn message(&self) -> String {
        match self {
            AppError::BadRequest(m) | AppError::Conflict(m) | AppError::Unavailable(m) => m.clone(),
            AppError::Unauthorized(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::PaymentRequired(m) => {
                (*m).to_owned()
            }
            AppError::PayloadTooLarge { limit } => {
                format!("request body is larger than the limit of {limit} bytes")
            }
            AppError::AccountInactive => "account is inactive".to_owned(),
            AppError::QuotaReached {
                plan,
                monthly_meetings,
            } => format!(
                "monthly meeting limit reached: the {plan} plan allows {monthly_meetings} meetings per calendar month"
            ),
            AppError::TooManyRequests {
                retry_after_secs,
                limit,
                window_secs,
            } => format!(
                "too many requests: the limit is {limit} per {window_secs} seconds, retry in {retry_after_secs} seconds"
            ),
            AppError::Unexpected(_) => "internal server error".to_owned(),
        }
    }
}

impl From<MeetingError> for AppError {
    fn from(err: MeetingError) -> Self {
        match err {
            MeetingError::NotFound => AppError::NotFound("meeting not found"),
            MeetingError::WrongAdminToken => AppError::Forbidden("invalid x-admin-token"),
            MeetingError::AlreadyEnded => AppError::Conflict("meeting has already ended".into()),
            MeetingError::ScheduleInPast => {
                AppError::BadRequest("scheduledAt must be in the future".into())
            }
            MeetingError::EndsBeforeStart => {
                AppError::BadRequest("the meeting would end before it starts".into())
            }
            MeetingError::AlreadyExists => {
                AppError::Unexpected("meeting id collision was not retried".into())
            }
            MeetingError::ParticipantNotFound => AppError::NotFound("participant not found"),
            MeetingError::NotStarted { scheduled_at } => AppError::Conflict(match scheduled_at {
                Some(at) => format!(
                    "meeting has not started yet, it is scheduled for {}",
                    crate::domain::format_iso_millis(at)
                ),
                None => "meeting has not started yet".into(),
            }),
            MeetingError::Locked => AppError::Forbidden("meeting is locked"),
            MeetingError::Full { max_participants } => {
                AppError::Conflict(format!("meeting is full ({max_participants} participants)"))
            }
            MeetingError::InvalidInvite => {
                AppError::Forbidden("invite is invalid or has already been used")
            }
            MeetingError::AlreadyJoined => {
                AppError::Conflict("participant is already in the meeting".into())
            }
            MeetingError::NotHost => AppError::Forbidden("only the host can do that"),
            MeetingError::InWaitingRoom => {
                AppError::Conflict("waiting for the host to let you in".into())
            }
            MeetingError::NotWaiting => AppError::NotFound("nobody with that id is waiting"),
            MeetingError::Unavailable => AppError::Unavailable("meeting is busy, try again".into()),
            MeetingError::Unexpected(detail) => AppError::Unexpected(detail),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::EmailTaken => AppError::Conflict("email already in use".into()),
            AccountError::NotFound => AppError::NotFound("account not found"),
            AccountError::KeyNotFound => AppError::NotFound("api key not found"),
            AccountError::CredentialNotFound => AppError::NotFound("videosdk credential not found"),
            AccountError::InvalidResetToken => {
                AppError::BadRequest("reset token is invalid or has expired".into())
            }
            AccountError::AlreadyInCompany => {
                AppError::Conflict("already a member of a company".into())
            }
            AccountError::NotInCompany => AppError::NotFound("member not found"),
            AccountError::OwnerCannotLeave => {
                AppError::Conflict("the company owner cannot be removed".into())
            }
            AccountError::Unavailable => AppError::Unavailable("account is busy, try again".into()),
            AccountError::AlreadyExists | AccountError::Unexpected(_) => {
                AppError::Unexpected(err.to_string())
            }
        }
    }
}

impl From<ProjectionError> for AppError {
    fn from(err: ProjectionError) -> Self {
        AppError::Unexpected(err.to_string())
    }
}

impl From<WebhookError> for AppError {
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::NotFound => AppError::NotFound("webhook not found"),
            WebhookError::Unavailable => AppError::Unavailable("webhook is busy, try again".into()),
            WebhookError::Unexpected(detail) => AppError::Unexpected(detail),
        }
    }
}

impl From<StreamError> for AppError {
    fn from(err: StreamError) -> Self {
        match err {
            StreamError::Unavailable => AppError::Unavailable("busy, try again".into()),
            StreamError::Unexpected(detail) => AppError::Unexpected(detail),
        }
    }
}

impl From<RoomRefusal> for AppError {
    fn from(refusal: RoomRefusal) -> Self {
        match refusal {
            RoomRefusal::NotFound => AppError::NotFound("room not found"),
            RoomRefusal::Deactivated => AppError::Forbidden("room is deactivated"),
        }
    }
}

impl From<AppendError> for AppError {
    /// The one wording of a failed append, for every use case that writes.
    fn from(err: AppendError) -> Self {
        match err {
            AppendError::Closed => AppError::Unavailable("the server is shutting down".into()),
            other => AppError::Unexpected(other.to_string()),
        }
    }
}
