//! The EdCast developer API v1 dialect (`/api/developer/v1`, `../shared/seeds/
//! edcast-developer-api-v1.txt`): create, list and delete meetings with an `X-API-Key`.
//!
//! A thin translator: requests become the same meeting commands the native API sends (through
//! [`super::meetings::create`] and the meeting's actor), admitted by the same plan rules
//! ([`crate::app::plans::admit_meeting`]); reads come from the same read models. The dialect owns only
//! its request parsing, its response shapes (`{success, data}`) and its error body
//! (`{success: false, error, message}`, [`error`]).
//!
//! - The numeric `id` of a meeting is the log sequence of its `meeting.created`: unique, fixed
//!   once written, and the same after any rebuild of the read models.
//! - EdCast has no admin tokens: DELETE ends a meeting as its owning workspace
//!   (`MeetingCommand::EndByOwner`), and the scheduler ends it at its end time
//!   (`EndOnTimeLimit`, reason `time_limit`).

pub mod error;
pub mod meetings;

use utoipa::OpenApi;

use super::router::Router;

/// The dialect's operations and schemas, merged into the served OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    components(schemas(error::EdCastError)),
    tags((name = "edcast", description = "EdCast developer API v1: meetings with shareable join links, under the workspace's plan"))
)]
pub struct EdCastApi;

pub fn routes(router: &mut Router) {
    meetings::routes(router);
}
