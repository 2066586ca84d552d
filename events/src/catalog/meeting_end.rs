//! A meeting's end time as older logs hold it, in stream `meeting_end/<meeting id>`.
//!
//! Before the end time was part of `meeting.created` (`MeetingCreated::ends_at`), a meeting that
//! had to end by itself got one `meeting_end.scheduled`, appended just before its
//! `meeting.created`. Nothing writes it any more; the time index still folds it, so such
//! meetings in an existing log still end on time.

use serde::{Deserialize, Serialize};

use crate::codec::DomainEvent;
use crate::ids::MeetingId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingEndScheduled {
    pub meeting_id: MeetingId,
    /// When the meeting ends by itself (ms since epoch).
    pub ends_at: i64,
}

impl DomainEvent for MeetingEndScheduled {
    const KIND: &'static str = "meeting_end.scheduled";
}

/// The stream that holds a meeting's end time.
pub fn meeting_end_stream(meeting_id: &MeetingId) -> String {
    format!("meeting_end/{meeting_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_payload, encode_payload};

    #[test]
    fn an_end_time_round_trips() {
        let event = MeetingEndScheduled {
            meeting_id: MeetingId::parse("abc-defg-hij").unwrap(),
            ends_at: 1_772_367_000_000,
        };
        let read: MeetingEndScheduled = decode_payload(&encode_payload(&event)).unwrap();
        assert_eq!(read, event);
        assert_eq!(
            meeting_end_stream(&event.meeting_id),
            "meeting_end/abc-defg-hij"
        );
    }
}
