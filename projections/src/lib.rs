//! # convene-projections
//!
//! Read models folded from the event log. Each projection owns one sled tree beside the log and
//! keeps its checkpoint (the last sequence it folded) in that tree, written in the same atomic
//! batch as the rows it changed; so after a crash it resumes exactly where its rows say.
//!
//! Layout:
//! - [`staged`]: [`Staged`], a write overlay over a tree that commits rows and checkpoint at once.
//! - [`runner`]: [`Projection`] (the trait a read model implements), [`Projections`] (the one
//!   list of read models: starts each on its own task from `subscribe(checkpoint + 1)`,
//!   publishes its position, and lets a write wait until it is visible in the read models its
//!   later reads come from, [`Visibility`]), and [`rebuild`].
//! - [`meeting_directory`]: meetings by id and each workspace's live meetings, newest first.
//! - [`accounts_directory`]: accounts by id and email (with plan and active flag), API keys and
//!   sessions by hash, reset tokens, companies and their members, meetings created per month.
//! - [`time_index`]: scheduled activations, empty guest meetings and end times by time, for the
//!   scheduler.
//! - [`history`]: each workspace's meetings that took place: start, end, peak participants.
//! - [`event_feed`]: each workspace's event sequences, for the event feed.
//! - [`webhooks`]: webhook endpoints: target, events, secrets, state.
//! - [`ledger`]: each workspace's balance and transactions (onepizza §15).
//! - [`analytics_errors`]: client error reports by day (onepizza §18).
//! - [`analytics_usage`]: feature use by day, meetings started by hour, weekly active accounts
//!   (onepizza §18).
//! - [`videosdk`]: VideoSDK v2 credentials, rooms, sessions and participant timelogs.
//!
//! Every projection can be dropped and rebuilt from sequence 1 and ends up equal to the live one.

pub mod accounts_directory;
pub mod analytics_errors;
pub mod analytics_usage;
pub mod event_feed;
pub mod history;
pub mod ledger;
pub mod meeting_directory;
pub mod runner;
pub mod staged;
pub mod time_index;
pub mod videosdk;
pub mod webhooks;

pub use accounts_directory::{
    calendar_month, AccountRow, AccountsDirectory, CompanyRow, KeyRow, LoginSessionRow, MemberRow,
};
pub use analytics_errors::{AnalyticsErrors, ErrorRow};
pub use analytics_usage::{AnalyticsUsage, Feature, FeatureUse, PeakHour, RetentionWeek};
pub use event_feed::EventFeed;
pub use history::{History, HistoryRow};
pub use ledger::{Ledger, TransactionRow};
pub use meeting_directory::{MeetingDirectory, MeetingRow, ParticipantRow, RowStatus};
pub use runner::{
    all_folds, catch_up, rebuild, rebuild_all, Fold, Position, Projection, ProjectionError,
    Projections, Visibility,
};
pub use staged::Staged;
pub use time_index::TimeIndex;
pub use videosdk::VideoSdk;
pub use webhooks::{WebhookRow, Webhooks};

/// bincode for rows: fixed internal records that can always be rebuilt from the log.
pub(crate) fn encode_row<T: serde::Serialize>(row: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(row, bincode::config::standard()).expect("rows always encode")
}

pub(crate) fn decode_row<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, ProjectionError> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(row, _)| row)
        .map_err(|e| ProjectionError::Corrupt(e.to_string()))
}
