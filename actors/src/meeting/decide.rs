//! Meeting commands and the rules that turn them into events.
//!
//! `decide` is a pure function of the current state, the command and the time: it never touches
//! the log. The tests at the bottom read given (events) / when (command) / then (events or error).

use convene_events::catalog::meeting::{
    ActivationTrigger, Dialect, EndReason, MeetingActivated, MeetingCreated, MeetingEnded,
    MeetingEvent, MeetingSettings,
};
use convene_events::{MeetingId, Workspace};

use super::aggregate::{Meeting, MeetingStatus};
use crate::secret_matches;

#[derive(Debug, Clone, PartialEq)]
pub struct CreateMeeting {
    pub meeting_id: MeetingId,
    pub workspace: Workspace,
    pub title: String,
    pub scheduled_at: Option<i64>,
    pub settings: MeetingSettings,
    pub admin_token_sha256: String,
    pub via: Dialect,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MeetingCommand {
    Create(CreateMeeting),
    /// Ends an active meeting or cancels a scheduled one. The caller must belong to the
    /// meeting's workspace and present its admin token.
    End {
        workspace: Workspace,
        admin_token: String,
    },
}

/// What a successful command leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    pub meeting: Meeting,
    /// Log position of the last event written (0 when the command wrote nothing).
    pub last_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingError {
    /// Unknown, or owned by another workspace: the two are indistinguishable on purpose.
    #[error("meeting not found")]
    NotFound,
    #[error("a meeting with this id already exists")]
    AlreadyExists,
    #[error("invalid admin token")]
    WrongAdminToken,
    #[error("meeting has already ended")]
    AlreadyEnded,
    #[error("scheduledAt must be in the future")]
    ScheduleInPast,
    #[error("meeting is busy, try again")]
    Unavailable,
    #[error("unexpected: {0}")]
    Unexpected(String),
}

pub fn decide(
    state: &Option<Meeting>,
    command: &MeetingCommand,
    now: i64,
) -> Result<Vec<MeetingEvent>, MeetingError> {
    match command {
        MeetingCommand::Create(create) => create_meeting(state, create, now),
        MeetingCommand::End {
            workspace,
            admin_token,
        } => end_meeting(state, *workspace, admin_token),
    }
}

fn create_meeting(
    state: &Option<Meeting>,
    create: &CreateMeeting,
    now: i64,
) -> Result<Vec<MeetingEvent>, MeetingError> {
    if state.is_some() {
        return Err(MeetingError::AlreadyExists);
    }
    if matches!(create.scheduled_at, Some(at) if at <= now) {
        return Err(MeetingError::ScheduleInPast);
    }
    let created = MeetingEvent::Created(MeetingCreated {
        meeting_id: create.meeting_id.clone(),
        workspace: create.workspace,
        title: create.title.clone(),
        scheduled_at: create.scheduled_at,
        settings: create.settings.clone(),
        admin_token_sha256: create.admin_token_sha256.clone(),
        via: create.via,
    });
    Ok(match create.scheduled_at {
        Some(_) => vec![created],
        None => vec![
            created,
            MeetingEvent::Activated(MeetingActivated {
                trigger: ActivationTrigger::Instant,
            }),
        ],
    })
}

fn end_meeting(
    state: &Option<Meeting>,
    workspace: Workspace,
    admin_token: &str,
) -> Result<Vec<MeetingEvent>, MeetingError> {
    let meeting = owned_meeting(state, workspace)?;
    if !secret_matches(admin_token, &meeting.admin_token_sha256) {
        return Err(MeetingError::WrongAdminToken);
    }
    let reason = match meeting.status {
        MeetingStatus::Ended => return Err(MeetingError::AlreadyEnded),
        MeetingStatus::Scheduled => EndReason::Cancelled,
        MeetingStatus::Active => EndReason::EndedByHost,
    };
    Ok(vec![MeetingEvent::Ended(MeetingEnded { reason })])
}

/// The meeting, if it exists and belongs to `workspace`; otherwise `NotFound` either way.
fn owned_meeting(state: &Option<Meeting>, workspace: Workspace) -> Result<&Meeting, MeetingError> {
    match state {
        Some(meeting) if meeting.workspace == workspace => Ok(meeting),
        _ => Err(MeetingError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::aggregate::apply;
    use crate::sha256_hex;

    const NOW: i64 = 1_710_000_000_000;
    const OWNER: Workspace = Workspace::Account(1);

    fn create(scheduled_at: Option<i64>) -> MeetingCommand {
        MeetingCommand::Create(CreateMeeting {
            meeting_id: MeetingId::parse("abc-defg-hij").unwrap(),
            workspace: OWNER,
            title: "Team Standup".into(),
            scheduled_at,
            settings: MeetingSettings {
                mute_on_join: false,
                video_off_on_join: false,
                max_participants: 50,
                locked: false,
                waiting_room: false,
            },
            admin_token_sha256: sha256_hex("secret-admin-token"),
            via: Dialect::Native,
        })
    }

    fn end(workspace: Workspace, token: &str) -> MeetingCommand {
        MeetingCommand::End {
            workspace,
            admin_token: token.into(),
        }
    }

    /// Given the events produced by `history`, returns the folded state.
    fn given(history: &[MeetingCommand]) -> Option<Meeting> {
        let mut state = None;
        for command in history {
            for event in decide(&state, command, NOW).expect("history is valid") {
                apply(&mut state, &event, NOW);
            }
        }
        state
    }

    #[test]
    fn an_instant_meeting_is_created_and_activated() {
        let events = decide(&None, &create(None), NOW).unwrap();
        assert_eq!(
            events.iter().map(MeetingEvent::kind).collect::<Vec<_>>(),
            ["meeting.created", "meeting.activated"]
        );
        let state = given(&[create(None)]).unwrap();
        assert_eq!(state.status, MeetingStatus::Active);
        assert_eq!(state.activated_at, Some(NOW));
    }

    #[test]
    fn a_scheduled_meeting_waits() {
        let events = decide(&None, &create(Some(NOW + 60_000)), NOW).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            given(&[create(Some(NOW + 60_000))]).unwrap().status,
            MeetingStatus::Scheduled
        );
    }

    #[test]
    fn a_schedule_in_the_past_or_now_is_refused() {
        for at in [NOW - 1, NOW] {
            assert_eq!(
                decide(&None, &create(Some(at)), NOW),
                Err(MeetingError::ScheduleInPast)
            );
        }
    }

    #[test]
    fn an_id_cannot_be_created_twice() {
        let state = given(&[create(None)]);
        assert_eq!(
            decide(&state, &create(None), NOW),
            Err(MeetingError::AlreadyExists)
        );
    }

    #[test]
    fn ending_an_active_meeting_with_its_token() {
        let state = given(&[create(None)]);
        let events = decide(&state, &end(OWNER, "secret-admin-token"), NOW).unwrap();
        assert_eq!(
            events,
            vec![MeetingEvent::Ended(MeetingEnded {
                reason: EndReason::EndedByHost
            })]
        );
    }

    #[test]
    fn ending_a_scheduled_meeting_cancels_it() {
        let state = given(&[create(Some(NOW + 1))]);
        let events = decide(&state, &end(OWNER, "secret-admin-token"), NOW).unwrap();
        assert_eq!(
            events,
            vec![MeetingEvent::Ended(MeetingEnded {
                reason: EndReason::Cancelled
            })]
        );
    }

    #[test]
    fn a_wrong_token_is_forbidden() {
        let state = given(&[create(None)]);
        assert_eq!(
            decide(&state, &end(OWNER, "guess"), NOW),
            Err(MeetingError::WrongAdminToken)
        );
    }

    #[test]
    fn another_workspace_sees_not_found_even_with_the_right_token() {
        let state = given(&[create(None)]);
        assert_eq!(
            decide(
                &state,
                &end(Workspace::Account(2), "secret-admin-token"),
                NOW
            ),
            Err(MeetingError::NotFound)
        );
        assert_eq!(
            decide(&None, &end(OWNER, "secret-admin-token"), NOW),
            Err(MeetingError::NotFound)
        );
    }

    #[test]
    fn an_ended_meeting_cannot_end_again() {
        let state = given(&[create(None), end(OWNER, "secret-admin-token")]);
        assert_eq!(state.as_ref().unwrap().status, MeetingStatus::Ended);
        assert_eq!(
            decide(&state, &end(OWNER, "secret-admin-token"), NOW),
            Err(MeetingError::AlreadyEnded)
        );
    }
}
