//! EdCast's error body, `{"success": false, "error": "...", "message": "..."}`, with the seed's
//! titles and statuses. `error` is the seed's title ("Invalid API Key", "Monthly limit
//! reached"); `message` is a sentence a developer can act on, naming the field for a 400.

use serde::Serialize;
use utoipa::ToSchema;
use warp::reply::Response;
use warp::Reply;

use crate::app::rate_limits::Group;
use crate::app::AppError;
use crate::http::router::Dialect;

#[derive(Serialize, ToSchema)]
pub struct EdCastError {
    /// Always false.
    success: bool,
    /// The seed's title: "Invalid API Key", "Account inactive", "Monthly limit reached",
    /// "Validation error", "Meeting not found", "Internal server error", ….
    #[schema(example = "Monthly limit reached")]
    error: &'static str,
    #[schema(
        example = "Free tier organizations can only create 10 meetings per month via the API."
    )]
    message: String,
}

/// The dialect's routes: EdCast's error shape, the API rate-limit group.
pub const DIALECT: Dialect = Dialect {
    respond: into_response,
    group: Some(Group::Api),
};

pub fn into_response(err: AppError) -> Response {
    if let AppError::Unexpected(detail) = &err {
        tracing::error!(error = %detail, dialect = "edcast", "unexpected error while handling a request");
    }
    let status = err.status_code();
    let (error, message) = describe(&err);
    warp::reply::with_status(
        warp::reply::json(&EdCastError {
            success: false,
            error,
            message,
        }),
        status,
    )
    .into_response()
}

fn describe(err: &AppError) -> (&'static str, String) {
    match err {
        AppError::Unauthorized(reason) if reason.starts_with("missing") => (
            "Invalid API Key",
            "The X-API-Key header is missing.".into(),
        ),
        AppError::Unauthorized(_) => (
            "Invalid API Key",
            "The API key is invalid or has been revoked.".into(),
        ),
        AppError::AccountInactive => (
            "Account inactive",
            "Your organization has been deactivated.".into(),
        ),
        AppError::QuotaReached {
            plan,
            monthly_meetings,
        } => (
            "Monthly limit reached",
            format!(
                "{} tier organizations can only create {monthly_meetings} meetings per month via the API.",
                capitalized(plan)
            ),
        ),
        // Verbatim: it starts with the field's name, which must keep its spelling.
        AppError::BadRequest(detail) => ("Validation error", detail.clone()),
        AppError::NotFound(_) => (
            "Meeting not found",
            "No meeting with this ID exists in your organization.".into(),
        ),
        AppError::PaymentRequired(_) => (
            "Insufficient credits",
            "Your organization's balance must be above zero to create meetings.".into(),
        ),
        AppError::Forbidden(detail) => ("Forbidden", sentence(detail)),
        AppError::Conflict(detail) => ("Conflict", sentence(detail)),
        AppError::PayloadTooLarge { limit } => (
            "Payload too large",
            format!("The request body is larger than the limit of {limit} bytes."),
        ),
        AppError::TooManyRequests { .. } => ("Too many requests", sentence(&err.message())),
        AppError::Unavailable(_) => (
            "Service unavailable",
            "The server is busy or shutting down; try again shortly.".into(),
        ),
        AppError::Unexpected(_) => (
            "Internal server error",
            "Something went wrong on our end.".into(),
        ),
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A lowercase detail from the core as a sentence: capitalized, with a full stop.
fn sentence(detail: &str) -> String {
    let mut text = capitalized(detail);
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_titles_and_the_quota_sentence() {
        let quota = AppError::QuotaReached {
            plan: "free".into(),
            monthly_meetings: 10,
        };
        assert_eq!(
            describe(&quota),
            (
                "Monthly limit reached",
                "Free tier organizations can only create 10 meetings per month via the API.".into()
            )
        );
        assert_eq!(describe(&AppError::AccountInactive).0, "Account inactive");
        assert_eq!(
            describe(&AppError::BadRequest(
                "end_date must be in the future".into()
            )),
            ("Validation error", "end_date must be in the future".into())
        );
        assert_eq!(
            describe(&AppError::Unexpected("disk on fire".into())),
            (
                "Internal server error",
                "Something went wrong on our end.".into()
            )
        );
    }
}
