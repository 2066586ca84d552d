//! Meeting events, in stream `meeting/<id>`.

use serde::{Deserialize, Serialize};

use super::event_family;
use crate::codec::DomainEvent;
use crate::ids::{MeetingId, Workspace};

/// A meeting's settings as its host controls them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingSettings {
    pub mute_on_join: bool,
    pub video_off_on_join: bool,
    pub max_participants: u32,
    pub locked: bool,
    pub waiting_room: bool,
}

/// Which API created a meeting (quotas and dialect-specific views need it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    #[default]
    Native,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingCreated {
    pub meeting_id: MeetingId,
    pub workspace: Workspace,
    pub title: String,
    /// When set, the meeting stays scheduled until then (ms since epoch).
    pub scheduled_at: Option<i64>,
    pub settings: MeetingSettings,
    /// SHA-256 (hex) of the admin token handed to the creator once.
    pub admin_token_sha256: String,
    #[serde(default)]
    pub via: Dialect,
}

impl DomainEvent for MeetingCreated {
    const KIND: &'static str = "meeting.created";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationTrigger {
    /// Created without a schedule: active at once.
    Instant,
    /// Its scheduled time arrived.
    Schedule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingActivated {
    pub trigger: ActivationTrigger,
}

impl DomainEvent for MeetingActivated {
    const KIND: &'static str = "meeting.activated";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Ended through the API or by the host.
    EndedByHost,
    /// A scheduled meeting was called off before it started.
    Cancelled,
}

impl EndReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            EndReason::EndedByHost => "ended_by_host",
            EndReason::Cancelled => "cancelled",
        }
    }
}

/// The meeting is over; who ended it is the envelope's actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingEnded {
    pub reason: EndReason,
}

impl DomainEvent for MeetingEnded {
    const KIND: &'static str = "meeting.ended";
}

event_family! {
    /// Every event of a meeting's stream.
    MeetingEvent {
        Created(MeetingCreated),
        Activated(MeetingActivated),
        Ended(MeetingEnded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_payload, encode_payload};
    use crate::envelope::{Actor, Envelope, Hash};

    fn created() -> MeetingCreated {
        MeetingCreated {
            meeting_id: MeetingId::parse("abc-defg-hij").unwrap(),
            workspace: Workspace::Account(3),
            title: "Team Standup".into(),
            scheduled_at: None,
            settings: MeetingSettings {
                mute_on_join: true,
                video_off_on_join: false,
                max_participants: 50,
                locked: false,
                waiting_room: false,
            },
            admin_token_sha256: "ab".repeat(32),
            via: Dialect::Native,
        }
    }

    fn envelope_of(event: &MeetingEvent) -> Envelope {
        let new = event.to_new_event(Actor::System);
        Envelope {
            seq: 1,
            stream: "meeting/abc-defg-hij".into(),
            version: 1,
            at: 0,
            kind: new.kind.into_owned(),
            schema: new.schema,
            actor: new.actor,
            payload: new.payload,
            prev_hash: Hash::GENESIS,
            hash: Hash::GENESIS,
        }
    }

    #[test]
    fn every_meeting_event_round_trips_through_an_envelope() {
        let events: Vec<MeetingEvent> = vec![
            created().into(),
            MeetingActivated {
                trigger: ActivationTrigger::Schedule,
            }
            .into(),
            MeetingEnded {
                reason: EndReason::Cancelled,
            }
            .into(),
        ];
        for event in events {
            let decoded = MeetingEvent::from_envelope(&envelope_of(&event)).unwrap();
            assert_eq!(decoded, Some(event));
        }
    }

    #[test]
    fn a_payload_written_before_a_field_was_added_still_reads() {
        // `via` was added with #[serde(default)]; this is the shape events had before it.
        #[derive(Serialize)]
        struct MeetingCreatedBeforeVia {
            meeting_id: String,
            workspace: Workspace,
            title: String,
            scheduled_at: Option<i64>,
            settings: MeetingSettings,
            admin_token_sha256: String,
        }
        let current = created();
        let old = MeetingCreatedBeforeVia {
            meeting_id: current.meeting_id.to_string(),
            workspace: current.workspace,
            title: current.title.clone(),
            scheduled_at: current.scheduled_at,
            settings: current.settings.clone(),
            admin_token_sha256: current.admin_token_sha256.clone(),
        };
        let read: MeetingCreated = decode_payload(&encode_payload(&old)).unwrap();
        assert_eq!(read, current);
    }

    #[test]
    fn payloads_carry_field_names() {
        let payload = encode_payload(&created());
        let text = String::from_utf8_lossy(&payload);
        assert!(text.contains("admin_token_sha256"));
    }

    #[test]
    fn other_families_kinds_are_not_mine() {
        let mut envelope = envelope_of(&created().into());
        envelope.kind = "account.registered".into();
        assert_eq!(MeetingEvent::from_envelope(&envelope).unwrap(), None);
    }

    #[test]
    fn a_corrupt_payload_is_an_error() {
        let mut envelope = envelope_of(&created().into());
        envelope.payload = vec![0x92, 0x01];
        assert!(MeetingEvent::from_envelope(&envelope).is_err());
    }
}
